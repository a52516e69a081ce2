"""Detection wired into the recipes: settings shape the image config, the package manager and its
commands, install modes, Go's main package and files, Python's dependency sources; the engine
context keeps the app's own files. No network: nothing here resolves or installs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from helpers import run_cli, write_tree
from pare.builder import DOCKERFILE, prepare_context
from pare.errors import UsageError
from pare.native.contract import INIT, LAUNCHER
from pare.recipes import detect
from pare.recipes.base import check_user, loaded_directly
from pare.recipes.command import StartCommand
from pare.recipes.go import GoRecipe
from pare.recipes.node import (
    NodeRecipe,
    explain_build_failure,
    pm_commands,
    pm_prune,
    prune_addon_builds,
)
from pare.recipes.python import PythonRecipe, needs_pkg_resources
from pare.recipes.settings import AppSettings, load_settings

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def node_app(root: Path, package: dict[str, object], **files: str) -> Path:
    return write_tree(root, {"package.json": package, **files})


# --- settings -> image config --------------------------------------------------------------------

def test_settings_become_the_config_and_the_users_env_wins(tmp_path: Path) -> None:
    app = node_app(tmp_path, {"main": "index.js"}, **{"index.js": ""})
    settings = load_settings(app, {"env": ("NODE_ENV=development", "A=1"), "port": 3000,
                                   "user": "nonroot", "labels": ("team=web",), "workdir": "/srv"})
    recipe = detect(app, settings=settings)
    start = StartCommand(("node", "index.js"), (("FROM_START", "x"),), "main")
    config = recipe.runtime_config(recipe.launch(start, (("NODE_ENV", "production"),)), {"node": "/n"})
    env = dict(config.env)
    assert env == {"NODE_ENV": "development", "PORT": "3000", "FROM_START": "x", "A": "1"}
    assert config.entrypoint == (INIT, "--", "/n", "index.js") and config.cmd == ()  # the init is PID 1
    assert (config.user, config.workdir, config.exposed_ports) == ("nonroot", "/srv", ("3000/tcp",))
    assert config.labels == (("team", "web"),)


def test_entrypoint_replaces_the_start_command_and_cmd_becomes_its_arguments(tmp_path: Path) -> None:
    app = node_app(tmp_path, {})  # nothing to start: with --entrypoint, detection is never asked
    settings = AppSettings(entrypoint=("/usr/local/bin/node",), cmd="--enable-source-maps dist/main.js $PORT")
    recipe = detect(app, settings=settings)
    config = recipe.runtime_config(recipe.launch(recipe.start_or_none(lambda: recipe.start(None)), ()), {})
    # $PORT is read when the container starts: the launcher, under the init, puts it in the argv
    assert config.entrypoint == (INIT, "--", LAUNCHER, "-D", "8080", "PORT", "PORT", "/usr/local/bin/node")
    assert config.cmd == ("--enable-source-maps", "dist/main.js", "${PORT}")


def test_a_user_the_image_cannot_resolve_is_one_clear_error(tmp_path: Path) -> None:
    assert check_user("65532:65532") == "65532:65532" and check_user("nonroot") == "nonroot"
    with pytest.raises(UsageError, match=r"--user node: 'node' is not a user of pare's images"):
        detect(node_app(tmp_path, {}), settings=AppSettings(user="node"))


def test_pare_toml_settings_reach_the_recipe_when_none_are_given(tmp_path: Path) -> None:
    app = node_app(tmp_path, {}, **{"pare.toml": 'cmd = "node src/index.js"\nport = 3000\n'})
    recipe = detect(app)
    assert recipe.port == "3000" and recipe.start(None).argv == ("node", "src/index.js")


# --- node ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("app", "package", "builds"), [
    ("node-pnpm-express", "pnpm", False),
    ("node-todo-sqlite", "yarn", False),
    ("node-tsc-postinstall", None, True),  # postinstall: tsc --build needs the sources
    ("node-nest-starter", None, True),  # scripts.build
    ("node-yarn4-pnp", None, False),  # yarnPath: the project's own release runs
])
def test_corpus_package_managers_and_install_modes(app: str, package: str | None, builds: bool) -> None:
    recipe = NodeRecipe(CORPUS / app)
    assert recipe.tool.package == package
    assert recipe.builds is builds
    request = recipe.request().lock_request()
    assert request["package_manager"].startswith(recipe.pm.name + "@")


def test_ignore_scripts_keeps_a_postinstall_app_on_the_manifest_install() -> None:
    recipe = NodeRecipe(CORPUS / "node-tsc-postinstall", settings=AppSettings(ignore_scripts=True))
    assert not recipe.builds


def test_a_production_install_reads_only_the_manifests() -> None:
    recipe = NodeRecipe(CORPUS / "node-yarn4-pnp")
    assert recipe.manifest_files() == [".yarn", ".yarn/releases", ".yarn/releases/yarn-4.0.0.cjs",
                                       ".yarnrc.yml", "package.json", "yarn.lock"]
    assert ".yarn/releases/yarn-4.0.0.cjs" not in recipe.files  # tooling never ships


def test_package_manager_commands(tmp_path: Path) -> None:
    store = tmp_path / "store"
    npm = NodeRecipe(CORPUS / "node-nest-starter").pm
    assert pm_commands(npm, production=False, ignore_scripts=False, store=store)[0][:2] == \
        ["ci", "--include=dev"]
    assert (pm_prune(npm, store) or [])[:2] == ["prune", "--omit=dev"]
    pnpm = NodeRecipe(CORPUS / "node-pnpm-express").pm
    install = pm_commands(pnpm, production=True, ignore_scripts=True, store=store)[0]
    assert install[:3] == ["install", "--frozen-lockfile", "--prod"] and "--ignore-scripts" in install
    assert str(store) in install  # pnpm's store is pare's cache, never the user's
    yarn = NodeRecipe(CORPUS / "node-todo-sqlite").pm
    assert "--production=true" in pm_commands(yarn, production=True, ignore_scripts=False, store=store)[0]
    berry = NodeRecipe(CORPUS / "node-yarn4-pnp").pm
    assert pm_commands(berry, production=True, ignore_scripts=False, store=store) == \
        [["workspaces", "focus", "--all", "--production"]]


def test_npm_without_a_lockfile_records_the_one_pare_resolves(tmp_path: Path) -> None:
    """The request names the generated lockfile's digest and the dependencies it answers, so that
    pare.lock goes stale (and it is resolved again) when either changes; the engine path copies it
    into its context as package-lock.json, and needs it resolved first."""
    app = node_app(tmp_path, {"dependencies": {"express": "4"}, "main": "i.js"}, **{"i.js": ""})
    recipe = NodeRecipe(app)
    assert recipe.generates_lockfile
    first = dict(recipe.request().extra)["npm_lockfile"]
    assert first.startswith(".pare/package-lock.json none for package.json dependencies sha256:")
    (app / ".pare").mkdir()
    (app / ".pare" / "package-lock.json").write_text("{}")
    kept = dict(NodeRecipe(app).request().extra)["npm_lockfile"]
    assert kept != first and "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" in kept
    facts = NodeRecipe(app).docker_facts()
    assert facts.context_files == (("package-lock.json", ".pare/package-lock.json"),)
    assert facts.dep_files == ("package.json", "package-lock.json")
    assert facts.install[0].startswith("npm ci --omit=dev")
    context = prepare_context(NodeRecipe(app), "FROM pare\n", tmp_path / "work", facts.context_files)
    assert (context / "package-lock.json").read_text() == "{}" and not (context / ".pare").exists()
    (app / ".pare" / "package-lock.json").unlink()
    with pytest.raises(UsageError, match=r"no package-lock\.json and no \.pare/package-lock\.json yet"):
        NodeRecipe(app).docker_facts()
    with pytest.raises(UsageError, match=r"package-lock\.json is gone; run pare build --update-lock"):
        recipe.install(None, tmp_path / "w")  # type: ignore[arg-type]


def test_addon_builds_keep_only_what_loads(tmp_path: Path) -> None:
    pkg = write_tree(tmp_path / "node_modules" / "bcrypt", {
        "binding.gyp": "{}", "lib/bcrypt.js": "", "build/Makefile": "", "build/config.gypi": "/abs/path",
        "build/Release/obj.target/x.o": "", "build/Release/bcrypt.node": "ELF",
        "build/Release/obj.target/bcrypt.node": "ELF"})  # make's link output, copied to Release/
    # node-pre-gyp (sqlite3): builds in build-tmp-napi-v6, copies the addon to its module_path
    pre = write_tree(tmp_path / "node_modules" / "sqlite3", {
        "binding.gyp": "{}", "build-tmp-napi-v6/Release/node_sqlite3.node": "ELF",
        "build-tmp-napi-v6/Release/obj/gen/sqlite3.c": "",
        "lib/binding/napi-v6-linux-glibc-x64/node_sqlite3.node": ""})
    prune_addon_builds(tmp_path)
    kept = sorted(str(p.relative_to(pkg)) for p in pkg.rglob("*"))
    assert kept == ["binding.gyp", "build", "build/Release", "build/Release/bcrypt.node", "lib",
                    "lib/bcrypt.js"]
    assert sorted(str(p.relative_to(pre)) for p in pre.rglob("*.node")) == \
        ["lib/binding/napi-v6-linux-glibc-x64/node_sqlite3.node"]
    assert not (pre / "build-tmp-napi-v6").exists()


def test_next_font_download_failure_says_what_to_do() -> None:
    message = explain_build_failure("npm run build failed (exit 1): `next/font` error: | Failed to fetch "
                                    "`Inter` from Google Fonts.")
    assert "next/font/local" in message and "fonts.googleapis.com" in message
    assert explain_build_failure("tsc: error TS2304") == "tsc: error TS2304"
    missing = explain_build_failure("yarn install failed (exit 1): | gyp ERR! stack Error: not found: make")
    assert "apt-get install g++ make python3" in missing and "--ignore-scripts" in missing


def test_compiled_code_roots_leave_bundled_libraries_to_their_rpath() -> None:
    assert loaded_directly("/usr/local/lib/python3.11/dist-packages/psycopg2/_psycopg.cpython-311.so")
    assert loaded_directly("/app/node_modules/sqlite3/build/Release/node_sqlite3.node")
    assert not loaded_directly("/usr/local/lib/python3.11/dist-packages/psycopg2_binary.libs/libpq-e8a.so.5")


# --- go --------------------------------------------------------------------------------------------

def test_go_main_under_cmd_and_files_beside_the_binary() -> None:
    recipe = GoRecipe(CORPUS / "go-httpbin")
    assert (recipe.package, recipe.binary) == ("./cmd/go-httpbin", "go-httpbin")
    beside = recipe.beside()
    assert not any(r.endswith(".go") or r.startswith(("vendor", "cmd")) for r in beside)
    assert ".dockerignore" not in beside and "examples" not in beside  # its .dockerignore: `.*`, examples
    cloud = GoRecipe(CORPUS / "go-cloud-run-hello").beside()
    assert "index.html" in cloud and "assets" in cloud
    assert not any(r.startswith(("job", "worker-pool")) for r in cloud)  # other modules
    assert "Dockerfile" not in cloud and "go.mod" not in cloud


def test_go_start_command_runs_the_binary_from_a_procfile_or_cmd(tmp_path: Path) -> None:
    app = write_tree(tmp_path, {"go.mod": "module example.com/web\n\ngo 1.19\n", "main.go": "package main\n",
                                "Procfile": "web: bin/web -port $PORT\n"})
    recipe = GoRecipe(app)
    assert recipe.start().argv == ("/app/web", "-port", "${PORT}")
    assert GoRecipe(app, settings=AppSettings(cmd="./web --v")).start().argv == ("/app/web", "--v")
    library = GoRecipe(write_tree(tmp_path / "lib", {"go.mod": "module x\n", "x.go": "package x\n"}))
    with pytest.raises(UsageError, match="--main"):
        assert library.package


# --- python ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("app", "source", "argv"), [
    ("py-flask-poetry", "poetry.lock", ("python", "-m", "gunicorn", "server:app")),
    ("py-flask-pipenv", "Pipfile.lock", ("python", "-m", "gunicorn", "server:app")),
    ("py-fastapi-uv", "uv.lock", ("python", "-m", "uvicorn", "uv_docker_example:app", "--host", "0.0.0.0",
                                  "--port", "${PORT}")),
    ("py-django-render", "requirements.txt", ("python", "-m", "gunicorn", "mysite.asgi:application", "-k",
                                              "uvicorn.workers.UvicornWorker")),  # render.yaml startCommand
])
def test_python_dependency_sources_and_start(app: str, source: str, argv: tuple[str, ...],
                                            tmp_path: Path) -> None:
    recipe = PythonRecipe(CORPUS / app)
    assert recipe.deps.source == source
    assert recipe.start().argv == argv
    found = recipe.requirements(tmp_path)
    assert found is not None
    path, content = found
    if source != "requirements.txt":  # lockfiles become pinned lines for the locked pip
        lines = path.read_text().splitlines()
        assert lines and all("==" in line for line in lines)
        assert content.startswith(source.encode())


def test_fastapi_src_layout_goes_on_pythonpath() -> None:
    recipe = PythonRecipe(CORPUS / "py-fastapi-uv")
    assert recipe.start().pythonpath == ("src",)


def test_pkg_resources_is_added_only_for_code_that_imports_it_undeclared(tmp_path: Path) -> None:
    site = write_tree(tmp_path, {"gunicorn/util.py": "import os\nimport pkg_resources\n", "flask/app.py": ""})
    assert needs_pkg_resources(site)
    (site / "pkg_resources").mkdir()
    assert not needs_pkg_resources(site)
    assert not needs_pkg_resources(write_tree(tmp_path / "b", {"x.py": "# pkg_resources is old\n"}))


# --- the engine's build context --------------------------------------------------------------------

def test_context_holds_the_selected_files_and_the_apps_own_dockerignore(tmp_path: Path) -> None:
    app = write_tree(tmp_path / "app", {"package.json": {"main": "i.js"}, "i.js": "", "secret.env": "",
                                        "node_modules/x/i.js": "", "Dockerfile": "FROM scratch\n",
                                        ".dockerignore": "*.env\n"})
    context = prepare_context(detect(app), "FROM pare\n", tmp_path / "work")
    names = sorted(p.name for p in context.iterdir())
    assert names == [".dockerignore", "Dockerfile", "i.js", "package.json"]
    assert (context / ".dockerignore").read_text() == "*.env\n"  # never overwritten
    assert (context / "Dockerfile").read_text() == "FROM scratch\n"  # the app's own, kept
    assert (context / DOCKERFILE).resolve().read_text() == "FROM pare\n"
    assert json.loads((context / "package.json").read_text()) == {"main": "i.js"}


# --- errors: one line, before any work, nothing written ---------------------------------------------

@pytest.mark.parametrize(("files", "flag"), [
    ({"package.json": {"dependencies": {}}}, "--cmd"),
    ({"go.mod": "module example.com/lib\n", "lib.go": "package lib\n"}, "--main"),
    ({"requirements.txt": "flask\n"}, "--cmd"),
])
def test_an_app_pare_cannot_build_gets_one_line_naming_the_flag(files: dict[str, object], flag: str,
                                                                tmp_path: Path, capsys: Any) -> None:
    app = write_tree(tmp_path / "app", files)
    code, out, err = run_cli(["build", str(app), "-t", f"oci:{tmp_path}/out:x"], capsys)
    assert code == 2 and out == ""  # usage errors exit 2
    assert err.startswith("pare: error: ") and flag in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and not (app / "pare.lock").exists()


def test_bad_settings_flags_are_refused_by_name(tmp_path: Path, capsys: Any) -> None:
    app = write_tree(tmp_path / "app", {"package.json": {"main": "i.js"}, "i.js": ""})
    for args, message in ((["--port", "70000"], "--port: must be a port number"),
                          (["--env", "NOPE"], "--env: expected KEY=VALUE"),
                          (["--cmd", "node a.js && node b.js"], "needs a shell")):
        code, _out, err = run_cli(["build", str(app), "-t", f"oci:{tmp_path}/out:x", *args], capsys)
        assert code == 2 and message in err, err
    assert not (tmp_path / "out").exists()


def test_the_context_holds_what_the_build_reads_not_only_what_ships(tmp_path: Path) -> None:
    app = write_tree(tmp_path / "app", {"go.mod": "module example.com/web\n", "main.go": "package main\n",
                                        "index.html": "", "vendor/modules.txt": ""})
    recipe = detect(app)
    assert recipe.files == ["index.html"]  # what ships beside the binary
    context = prepare_context(recipe, "FROM pare\n", tmp_path / "work")
    assert sorted(p.name for p in context.iterdir()) == ["go.mod", "index.html", "main.go", "vendor"]


def test_tree_digest_parts_follow_content_mode_and_links_not_times(tmp_path: Path) -> None:
    """The dependency-install cache key of build-step apps: any change to what ships changes it, a
    touch does not, and each file enters as its digest (read in chunks), not as its bytes."""
    from pare.native.cache import content_key
    from pare.recipes.base import tree_digest_parts
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.ts").write_text("export const a = 1\n" + "// padding\n" * 1000)
    (tmp_path / "link").symlink_to("src/main.ts")
    rels = ["src", "src/main.ts", "link"]

    def key() -> str:
        return content_key(*tree_digest_parts(tmp_path, rels))

    first = key()
    assert all(len(p) < 100 for p in tree_digest_parts(tmp_path, rels))  # 11 kB of source: a digest
    os.utime(tmp_path / "src" / "main.ts", (1, 1))
    assert key() == first
    (tmp_path / "src" / "main.ts").write_text("export const a = 2\n")
    changed = key()
    assert changed != first
    (tmp_path / "src" / "main.ts").chmod(0o755)
    assert key() != changed
    (tmp_path / "link").unlink()
    (tmp_path / "link").symlink_to("src")
    assert key() not in (first, changed)
