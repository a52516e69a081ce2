"""Generated builder-pattern Dockerfiles: right bases per strategy, small final stages, non-root, and
the recipe's steps and the user's settings in them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pare.engines.dockerfile import PROFILES, PYTHON_DEPS, STRATEGIES, generate
from pare.errors import UsageError
from pare.native.contract import INIT, LAUNCHER
from pare.recipes import detect
from pare.recipes.base import DockerFacts
from pare.recipes.node_static import server_command
from pare.recipes.settings import AppSettings, load_settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CORPUS = Path(__file__).resolve().parents[1] / "corpus"
GO = DockerFacts("go", ("go.mod",), "go-hello", command=("/app/go-hello",), env=(("PORT", "8080"),))
NODE = DockerFacts("node", ("package.json", "package-lock.json"), "node server.js",
                   command=("node", "server.js"), install=("npm ci --omit=dev",))
PY = DockerFacts("python", ("requirements.txt",), "python app.py", command=("python", "app.py"),
                 install=("-r requirements.txt",))


def froms(text: str) -> list[str]:
    return re.findall(r"^FROM (\S+)", text, re.M)


def last_stage(text: str) -> str:
    return text[text.rindex("\nFROM "):]


def entrypoint(text: str) -> list[str]:
    found: list[str] = json.loads(re.findall(r"^ENTRYPOINT (.*)$", text, re.M)[-1])
    return found


@pytest.mark.parametrize("facts", [GO, NODE, PY], ids=["go", "node", "python"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_bases_follow_the_profiles_and_the_mapping(facts: DockerFacts, strategy: str) -> None:
    profiles = PROFILES[facts.language][strategy]
    bases = {p: f"127.0.0.1:5000/pare/base/{p}:abc" for p in profiles}
    out = generate(facts, strategy, bases)
    assert out.profiles == profiles
    named = [f for f in froms(out.text) if f != "scratch"]
    assert named == [bases[p] for p in profiles]
    assert out.text.endswith("\n")
    assert entrypoint(out.text)[-1] in ("/app/go-hello", "server.js", "app.py")
    assert re.search(r"^USER 65532:65532$", out.text, re.M)


def test_go_multistage_ends_in_scratch_with_ca_nonroot_and_a_static_binary() -> None:
    text = generate(GO, "multistage").text
    assert froms(text)[-1] == "scratch"
    final = last_stage(text)
    assert "COPY --from=build /etc/ssl/certs/ca-certificates.crt" in final
    assert "USER 65532:65532" in final
    assert 'ENTRYPOINT ["/usr/bin/catatonit", "--", "/app/go-hello"]' in final  # the init is PID 1
    assert "cp /usr/bin/catatonit /rootfs/usr/bin/catatonit" in text and "status.d" in text
    assert "CGO_ENABLED=0 go build -trimpath" in text and "--mount=type=cache" in text
    assert "RUN" not in final  # nothing runs in a stage without a shell


def test_go_builds_the_main_package_and_ships_the_files_beside_the_binary() -> None:
    facts = detect(CORPUS / "go-httpbin", settings=AppSettings(runtime="go@1.19")).docker_facts()
    assert facts.main_package == "./cmd/go-httpbin" and facts.entry == "go-httpbin"
    text = generate(facts, "multistage").text
    assert "-o /out/go-httpbin ./cmd/go-httpbin" in text
    assert not any(f.endswith(".go") or f in ("go.mod", "vendor") for f in facts.files)
    for name in facts.files:
        assert f'COPY ["{name}", "/app/{name}"]' in last_stage(text)


def test_go_downloads_modules_only_when_nothing_is_vendored() -> None:
    assert "go mod download" not in generate(GO, "multistage").text
    facts = detect(CORPUS / "go-gorilla-mux").docker_facts()  # vendor/: the build needs no proxy
    assert "go mod download" not in generate(facts, "multistage").text


def test_onbuild_is_one_stage_on_the_fat_base() -> None:
    text = generate(NODE, "onbuild", {"fat-node": "fat:1"}).text
    assert froms(text) == ["fat:1"]
    assert "npm ci --omit=dev" in text
    assert "COPY --from" not in text


def test_node_multistage_copies_the_runtime_closure_into_distroless() -> None:
    text = generate(NODE, "multistage").text
    assert froms(text) == ["pare/base/fat-node", "pare/base/distroless-cc"]
    assert "ldd /usr/bin/node" in text
    assert "ENV npm_config_nodedir=/usr npm_config_build_from_source=true" in text  # addons: base's headers
    final = last_stage(text)
    assert "COPY --from=build /rootfs/ /" in final
    assert "COPY --from=build /app /app" in final
    assert entrypoint(text) == [INIT, "--", "/usr/bin/node", "server.js"]
    # dependency manifests are copied before the source so the install layer survives code changes
    assert text.index("COPY package.json package-lock.json ./") < text.index("npm ci")


@pytest.mark.parametrize(("app", "tool", "install"), [
    ("node-pnpm-express", "npm install -g --no-audit --no-fund 'pnpm@>=8 8.x'",
     "pnpm install --frozen-lockfile"),
    ("node-yarn4-pnp", None, "node .yarn/releases/yarn-4.0.0.cjs workspaces focus --all --production"),
])
def test_node_installs_with_the_projects_package_manager(app: str, tool: str | None, install: str) -> None:
    facts = detect(CORPUS / app).docker_facts()
    text = generate(facts, "multistage").text
    if tool:
        assert f"RUN {tool}" in text
    assert install in text and "npm ci" not in text
    if app == "node-yarn4-pnp":  # the committed release is copied before the install runs it
        assert text.index("COPY .yarn/releases/ ./.yarn/releases/") < text.index(install)
        assert entrypoint(text) == [INIT, "--", "/usr/bin/node", "-r", "./.pnp.cjs", "server.js"]


def test_node_build_step_runs_on_the_sources_then_prunes(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({
        "scripts": {"build": "tsc", "start": "node dist/main.js"},
        "dependencies": {"express": "4"}, "devDependencies": {"typescript": "5"}}))
    (tmp_path / "package-lock.json").write_text("{}")
    text = generate(detect(tmp_path).docker_facts(), "multistage").text
    build = text[:text.index("\nFROM pare/base/distroless-cc")]
    assert build.index("COPY . .") < build.index("npm ci --include=dev") < build.index("npm run build") \
        < build.index("npm prune --omit=dev")
    assert "COPY . ." not in last_stage(text)  # the built app comes from the build stage whole


def test_settings_shape_the_final_stage(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"main": "index.js"}))
    (tmp_path / "index.js").write_text("")
    settings = load_settings(tmp_path, {"env": ("GREETING=hi $USER",), "port": 3000, "user": "1000:1000",
                                        "labels": ("org.example=x",), "workdir": "/srv/web",
                                        "entrypoint": "/usr/bin/node", "cmd": "index.js --fast"})
    text = generate(detect(tmp_path, settings=settings).docker_facts(), "multistage").text
    final = last_stage(text)
    assert 'GREETING="hi \\$USER"' in final and 'PORT="3000"' in final and "EXPOSE 3000" in final
    assert "USER 1000:1000" in final and 'LABEL "org.example"="x"' in final
    assert "WORKDIR /srv/web" in final and "COPY --from=build /srv/web /srv/web" in final
    assert 'ENTRYPOINT ["/usr/bin/catatonit", "--", "/usr/bin/node"]' in final
    assert 'CMD ["index.js", "--fast"]' in final


def test_python_multistage_installs_on_slim_and_runs_on_distroless() -> None:
    text = generate(PY, "multistage").text
    assert froms(text) == ["pare/base/slim-python", "pare/base/distroless-python"]
    assert f"--target {PYTHON_DEPS}" in text
    final = last_stage(text)
    assert f'PYTHONPATH="{PYTHON_DEPS}"' in final and "USER 65532:65532" in final
    assert entrypoint(text) == [INIT, "--", "/usr/bin/python3", "app.py"]


def test_python_lockfile_lines_and_django_collectstatic() -> None:
    facts = detect(CORPUS / "py-flask-poetry").docker_facts()
    text = generate(facts, "multistage").text
    assert "flask==3.1.3" in text and "-r /tmp/pare-requirements.txt" in text
    assert entrypoint(text)[3:] == ["-m", "gunicorn", "server:app"]
    django = detect(CORPUS / "py-django-render",
                    settings=AppSettings(env=(("RENDER", "true"),))).docker_facts()
    text = generate(django, "multistage").text
    build = text[:text.index("\nFROM pare/base/distroless-python")]
    assert build.index("COPY . .") < build.index("collectstatic") and "RENDER=true" in build
    assert "COPY --from=build /app /app" in last_stage(text)


def test_what_an_app_or_user_gives_is_quoted_or_refused() -> None:
    facts = DockerFacts("go", ("go.mod",), "web", command=("/app/web",), files=("my notes.txt",),
                        env=(("GREETING", 'say "hi" $HOME'),), labels=(("a b", "c"),))
    final = last_stage(generate(facts, "multistage").text)
    assert 'COPY ["my notes.txt", "/app/my notes.txt"]' in final
    assert 'GREETING="say \\"hi\\" \\$HOME"' in final and 'LABEL "a b"="c"' in final
    with pytest.raises(UsageError, match="line break"):
        generate(DockerFacts("node", (), "x", command=("node", "a.js"), env=(("A", "1\nRUN evil"),)))
    with pytest.raises(UsageError, match="workdir"):
        generate(DockerFacts("node", (), "x", command=("node", "a.js"), workdir="/srv/a b"))


def test_unknown_strategy_and_language_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="strategy"):
        generate(GO, "tiny")
    with pytest.raises(UsageError, match="engine path"):
        generate(DockerFacts("static", (), "index.html"), "multistage")


@pytest.mark.parametrize("app", ["go-hello", "node-express", "python-flask"])
def test_examples_generate_for_every_strategy(app: str) -> None:
    facts = detect(EXAMPLES / app).docker_facts()
    for strategy in STRATEGIES:
        text = generate(facts, strategy).text
        assert "ENTRYPOINT" in text and "EXPOSE 8080" in text


def test_a_command_naming_the_port_runs_under_the_launcher_in_every_strategy(tmp_path: Path) -> None:
    """$PORT is read when the container starts: importas puts it in the argv, under the init; a
    Go image FROM scratch gets the launcher's libraries copied from the build stage."""
    go = tmp_path / "go"
    go.mkdir()
    (go / "go.mod").write_text("module example.com/web\n\ngo 1.19\n")
    (go / "main.go").write_text("package main\n")
    (go / "Procfile").write_text("web: web -port $PORT\n")
    facts = detect(go).docker_facts()
    for strategy in STRATEGIES:
        text = generate(facts, strategy).text
        assert entrypoint(text) == [INIT, "--", LAUNCHER, "-D", "8080", "PORT", "PORT", "/app/web", "-port",
                                    "${PORT}"]
    multistage = generate(facts, "multistage").text
    # the status.d step comes after every copy into /rootfs: the launcher's closure is claimed too
    steps = [multistage.rindex(f"ldd {LAUNCHER}"), multistage.index("var/lib/dpkg/status.d"),
             multistage.index("FROM scratch")]
    assert steps == sorted(steps)
    assert f"ldd {LAUNCHER}" not in generate(detect(go, settings=AppSettings(cmd="web")).docker_facts(),
                                             "multistage").text


# --- node shapes: a generated lockfile, Next.js standalone, a static front end ---------------------

def test_next_start_builds_standalone_and_ships_only_the_traced_tree() -> None:
    """`next start` on the engine path: the build stage builds standalone output and completes it
    with .next/static and public/; the final stage holds that tree alone and runs its server.js."""
    facts = detect(CORPUS / "node-vercel-nextjs").docker_facts()
    assert facts.shape == "next-standalone"
    for strategy in STRATEGIES:
        text = generate(facts, strategy).text
        assert "NEXT_PRIVATE_STANDALONE=1 NEXT_TELEMETRY_DISABLED=1 pnpm run build" in text
        assert "pnpm prune" not in text
        assert "cp -a .next/static .next/standalone/.next/" in text
        assert entrypoint(text) == [INIT, "--", "/usr/bin/node", "server.js"]
        assert 'HOSTNAME="0.0.0.0"' in text
    final = last_stage(generate(facts, "multistage").text)
    assert "COPY --from=build /app/.next/standalone /app" in final
    assert "COPY --from=build /app /app" not in final and "COPY . ." not in final
    assert "WORKDIR /app/.next/standalone" in generate(facts, "onbuild").text


def test_a_custom_next_server_keeps_the_whole_app(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({
        "scripts": {"build": "next build", "start": "node server.js"}, "dependencies": {"next": "15"}}))
    (tmp_path / "package-lock.json").write_text("{}")
    (tmp_path / "server.js").write_text("")
    facts = detect(tmp_path).docker_facts()
    assert facts.shape == "app" and "COPY --from=build /app /app" in generate(facts, "multistage").text


def static_app(tmp_path: Path) -> Path:
    """The vite test app with a pare.lock pinning the static server (as `pare build` resolves it)."""
    import shutil

    from pare.native.lock import Artifact, Lock, write_lock
    app = tmp_path / "vite-spa"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "apps" / "vite-spa", app)
    pins = [("sirv-cli", "3.0.1"), ("sirv", "3.0.2"), ("@polka/url", "1.0.0-next.29")]
    write_lock(app, Lock.new({"language": "node"}, [
        Artifact("npm", "runtime", "all", name, version, "sha256:" + "0" * 64,
                 f"https://registry.npmjs.org/{name}/-/x-{version}.tgz") for name, version in pins]))
    return app


def test_a_static_front_end_ships_its_output_and_the_locked_server(tmp_path: Path) -> None:
    """The bundler's output alone in the app directory, served by sirv-cli at the versions pare.lock
    pins (every package named, so npm installs exactly those), the same command as native."""
    facts = detect(static_app(tmp_path)).docker_facts()
    assert facts.shape == "static-site"
    assert facts.server_packages == ("@polka/url@1.0.0-next.29", "sirv@3.0.2", "sirv-cli@3.0.1")
    text = generate(facts, "multistage").text
    build = text[:text.index("\nFROM pare/base/distroless-cc")]
    assert "npm run build" in build and "npm prune" not in build
    assert build.index("npm run build") < build.index('mv "$d" /tmp/pare-site')
    assert "--no-save --no-package-lock --omit=dev --ignore-scripts" in build
    assert "--no-fund @polka/url@1.0.0-next.29 sirv@3.0.2 sirv-cli@3.0.1\n" in build
    final = last_stage(text)
    assert "COPY --from=build /tmp/pare-site /app" in final and "COPY --from=build /app /app" not in final
    assert "COPY --from=build /usr/lib/pare/static-server /usr/lib/pare/static-server" in final
    assert entrypoint(text) == [INIT, "--", "/usr/bin/node", *server_command("/app")[1:]]
    onbuild = generate(facts, "onbuild").text
    assert "RUN rm -rf /app && mv /tmp/pare-site /app" in onbuild and len(froms(onbuild)) == 1


def test_npm_without_a_lockfile_installs_the_one_pare_resolved(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"express": "4"}, "main": "i.js"}))
    (tmp_path / "i.js").write_text("")
    (tmp_path / ".pare").mkdir()
    (tmp_path / ".pare" / "package-lock.json").write_text("{}")
    text = generate(detect(tmp_path).docker_facts(), "multistage").text
    assert "# package-lock.json: pare's resolved .pare/package-lock.json" in text
    assert text.index("COPY package.json package-lock.json ./") < text.index("RUN npm ci --omit=dev")


def test_python_ships_the_libraries_its_compiled_dependencies_link() -> None:
    """ldd over site-packages in the build stage, against the final base bind-mounted read-only:
    what it lacks goes into /rootfs with status.d entries, then into the final stage."""
    text = generate(PY, "multistage", {"distroless-python": "reg/dp:1"}).text
    build = text[:text.index("\nFROM reg/dp:1")]
    closure = build[build.index("RUN --mount=type=bind,from=reg/dp:1,target=/tmp/pare-final"):]
    assert f"find {PYTHON_DEPS} -type f -name '*.so*' -exec ldd {{}} +" in closure
    assert f'case "$lib" in {PYTHON_DEPS}/*) continue' in closure  # a wheel's bundled .libs stay
    assert "var/lib/dpkg/status.d" in closure
    final = last_stage(text)
    assert final.index("COPY --from=build /rootfs/ /") < final.index(f"COPY --from=build {PYTHON_DEPS}")
    assert "apt-get" not in text  # nothing to build: no toolchain step


def test_python_build_packages_are_installed_before_the_dependencies() -> None:
    from dataclasses import replace
    text = generate(replace(PY, build_packages=("libpq-dev",)), "multistage").text
    apt = "apt-get install -y --no-install-recommends gcc libc6-dev python3-dev libpq-dev"
    assert apt in text and text.index(apt) < text.index("pip install")
    assert "apt-get" not in last_stage(text)


def test_named_packages_ship_from_the_build_stage_with_what_they_link() -> None:
    """`packages` on the engine path: apt in the build stage, the package files (no docs) under
    their canonical directories in /rootfs, the libraries they link, status.d; multistage only."""
    from dataclasses import replace
    for facts in (replace(PY, packages=("libxml2",)), replace(NODE, packages=("libxml2",))):
        text = generate(facts, "multistage").text
        build, final = text[:text.rindex("\nFROM ")], last_stage(text)
        steps = [build.index(s) for s in ("apt-get install -y --no-install-recommends libxml2",
                                          "dpkg -L libxml2", "find /rootfs -type f -exec ldd", "status.d")]
        assert steps == sorted(steps), facts.language
        assert "COPY --from=build /rootfs/ /" in final and "apt-get" not in final
    with pytest.raises(UsageError, match="multistage only"):
        generate(replace(NODE, packages=("libxml2",)), "onbuild")
    with pytest.raises(UsageError, match="multistage only"):
        generate(replace(GO, packages=("libxml2",)), "multistage")


def test_a_hashed_lockfile_installs_without_resolving_again() -> None:
    """uv.lock's lines carry hashes and list every package: pip takes them with --no-deps (the
    bookworm base's pip 23.0 would otherwise re-resolve uvicorn[standard] and refuse it)."""
    text = generate(detect(CORPUS / "py-fastapi-uv").docker_facts(), "multistage").text
    assert "--hash=sha256:" in text and "--no-deps -r /tmp/pare-requirements.txt" in text
    assert "--no-deps" not in generate(PY, "multistage").text  # requirements.txt: pip resolves
