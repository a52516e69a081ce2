"""pare.recipes.node_project on the corpus's Node apps and on small hand-made cases for each branch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import write_tree as app
from pare.errors import UsageError
from pare.recipes.node_project import (
    NODE,
    native_addons,
    node_request,
    package_bins,
    package_manager,
    pick_node_version,
    read_package_json,
    start_command,
)
from pare.recipes.settings import AppSettings

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def start(path: Path, settings: AppSettings | None = None, **kw: object) -> tuple[tuple[str, ...], object]:
    found = start_command(path, read_package_json(path), settings or AppSettings(), port="8080",
                          **kw)  # type: ignore[arg-type]
    return found.argv, found.env


# --- the corpus ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "manager", "spec", "node_range", "argv"), [
    ("node-todo-sqlite", "yarn", "yarn@1.x", None, None),
    ("node-pnpm-express", "pnpm", "pnpm@>=8 8.x", ">=18", (NODE, "index.js")),
    ("node-tsc-postinstall", "npm", "npm@>=7", "16.18.1", (NODE, "dist/web.js")),
    ("node-nest-starter", "npm", "npm@>=10.0.0 >=7", ">=20.0.0", None),
])
def test_corpus_node_apps(name: str, manager: str, spec: str, node_range: str | None,
                          argv: tuple[str, ...] | None) -> None:
    root = CORPUS / name
    package = read_package_json(root)
    found = package_manager(root, package)
    assert (found.name, found.spec) == (manager, spec) and found.lockfile
    assert node_request(root, package).range == node_range
    if argv is None:  # both need --cmd (apps.toml says so): pare must say which flag
        with pytest.raises(UsageError, match="--cmd"):
            start(root)
    else:
        assert start(root)[0] == argv


def test_corpus_yarn_plug_n_play() -> None:
    root = CORPUS / "node-yarn4-pnp"
    package = read_package_json(root)
    found = package_manager(root, package)
    assert (found.spec, found.berry, found.pnp, found.lockfile) == ("yarn@4.0.0", True, True, "yarn.lock")
    argv = start_command(root, package, AppSettings(), port="8080", pnp=found.pnp).argv
    assert argv == (NODE, "-r", "./.pnp.cjs", "server.js")


def test_corpus_start_with_the_flags_apps_toml_gives() -> None:
    todo = start(CORPUS / "node-todo-sqlite", AppSettings(cmd="node src/index.js"))
    assert todo[0] == (NODE, "src/index.js")
    assert start(CORPUS / "node-nest-starter", AppSettings(cmd="node dist/main"))[0] == (NODE, "dist/main")


def test_nest_start_resolves_through_the_installed_cli(tmp_path: Path) -> None:
    """`nest start` works when node_modules has @nestjs/cli (before pruning): its "bin" is followed."""
    modules = app(tmp_path / "node_modules", {
        "@nestjs/cli/package.json": {"name": "@nestjs/cli", "bin": {"nest": "bin/nest.js"}},
        "@nestjs/cli/bin/nest.js": "#!/usr/bin/env node\n"})
    argv, _ = start(CORPUS / "node-nest-starter", node_modules=modules)
    assert argv == (NODE, "node_modules/@nestjs/cli/bin/nest.js", "start")


# --- package.json ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "message"), [
    ('{"name": "x",}', r"line 1 column 14: Expecting property name"),
    ("[]", r"must be a JSON object"),
    ('{"scripts": {"start": 1}}', r"'scripts' must be an object of strings"),
])
def test_package_json_is_read_strictly(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "package.json").write_text(text)
    with pytest.raises(UsageError, match=message):
        read_package_json(tmp_path)


def test_missing_package_json(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"package\.json: not found"):
        read_package_json(tmp_path)


# --- package manager -------------------------------------------------------------------------------

def test_package_manager_field_wins_as_corepack_reads_it(tmp_path: Path) -> None:
    root = app(tmp_path, {"package.json": {"packageManager": "pnpm@9.12.3+sha512.abc"}, "yarn.lock": ""})
    found = package_manager(root, read_package_json(root))
    assert (found.name, found.version, found.lockfile, found.spec) == ("pnpm", "9.12.3", None, "pnpm@9.12.3")


@pytest.mark.parametrize("field", ["pnpm", "bun@1.0.0", "yarn@latest", 7])
def test_bad_package_manager_field(tmp_path: Path, field: object) -> None:
    root = app(tmp_path, {"package.json": {"packageManager": field}})
    with pytest.raises(UsageError, match=r"packageManager must be NAME@X\.Y\.Z"):
        package_manager(root, read_package_json(root))


def test_yarn_berry_from_lockfile_and_yarnrc(tmp_path: Path) -> None:
    root = app(tmp_path, {"package.json": {}, "yarn.lock": "__metadata:\n  version: 6\n",
                          ".yarnrc.yml": "yarnPath: .yarn/releases/yarn-3.6.1.cjs\n"})
    found = package_manager(root, {})
    assert (found.name, found.berry, found.version, found.pnp) == ("yarn", True, "3.6.1", True)
    (root / ".yarnrc.yml").write_text("nodeLinker: node-modules\n")
    assert not package_manager(root, {}).pnp
    (root / ".yarnrc.yml").unlink()
    found = package_manager(root, {})
    assert (found.berry, found.version, found.range) == (True, None, ">=2")


def test_yarn_classic_and_engines(tmp_path: Path) -> None:
    root = app(tmp_path, {"yarn.lock": "# yarn lockfile v1\n"})
    assert package_manager(root, {}).spec == "yarn@1.x"
    assert package_manager(root, {"engines": {"yarn": "1.22.19"}}).spec == "yarn@1.22.19 1.x"


@pytest.mark.parametrize(("version", "expected"), [("'9.0'", ">=9 <11"), ("'6.0'", "8.x"), ("5.4", "7.x")])
def test_pnpm_major_from_lockfile_version(tmp_path: Path, version: str, expected: str) -> None:
    root = app(tmp_path, {"pnpm-lock.yaml": f"lockfileVersion: {version}\n"})
    assert package_manager(root, {}).range == expected


def test_npm_lockfiles(tmp_path: Path) -> None:
    root = app(tmp_path, {"npm-shrinkwrap.json": {"lockfileVersion": 1}})
    found = package_manager(root, {})
    assert (found.name, found.lockfile, found.range) == ("npm", "npm-shrinkwrap.json", "<7")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert package_manager(empty, {}).spec == "npm"


# --- node version ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("files", "expected", "source"), [
    ({".nvmrc": "v20.11.1\n"}, "20.11.1", ".nvmrc"),
    ({".nvmrc": "lts/iron # comment\n"}, "20.x", ".nvmrc"),
    ({".nvmrc": "lts/*\n"}, "24.x", ".nvmrc"),
    ({".nvmrc": "node\n"}, "*", ".nvmrc"),
    ({".node-version": "22\n"}, "22", ".node-version"),
    ({".nvmrc": "18", ".node-version": "22"}, "18", ".nvmrc"),
    ({}, None, "default"),
])
def test_node_version_files(tmp_path: Path, files: dict[str, object], expected: str | None,
                            source: str) -> None:
    request = node_request(app(tmp_path, files), {})
    assert (request.range, request.source) == (expected, source)


def test_engines_wins_over_nvmrc_and_bad_values_are_errors(tmp_path: Path) -> None:
    root = app(tmp_path, {".nvmrc": "18"})
    assert node_request(root, {"engines": {"node": "^22"}}).range == "^22"
    with pytest.raises(UsageError, match=r"engines\.node: 'twenty' is not"):
        node_request(root, {"engines": {"node": "twenty"}})
    (root / ".nvmrc").write_text("lts/unknown\n")
    with pytest.raises(UsageError, match="unknown LTS line"):
        node_request(root, {})


REGISTRY = ["16.18.1", "18.20.4", "20.19.0", "20.19.5", "22.11.0", "22.12.0", "24.1.0", "26.0.0-rc.1", "junk"]


@pytest.mark.parametrize(("request_", "picked"), [
    (">=18", "24.1.0"), ("^20", "20.19.5"), ("20.x", "20.19.5"), ("~22.11", "22.11.0"),
    ("16.18.1", "16.18.1"), ("22", "22.12.0"), (None, "24.1.0"), (">=20 <22", "20.19.5"),
    ("^14", None), ("18 || 22", "22.12.0"),
])
def test_pick_node_version_uses_npm_range_rules(request_: str | None, picked: str | None) -> None:
    assert pick_node_version(REGISTRY, request_) == picked


# --- start command ---------------------------------------------------------------------------------

def test_start_order_cmd_procfile_script_main_files(tmp_path: Path) -> None:
    root = app(tmp_path, {"package.json": {"main": "lib/app.js", "scripts": {"start": "node start.js"}},
                          "lib/app.js": "", "server.js": "", "Procfile": "web: node web.js\n"})
    assert start(root, AppSettings(cmd=("node", "x.js")))[0] == ("node", "x.js")
    assert start(root)[0] == (NODE, "web.js")
    (root / "Procfile").unlink()
    assert start(root)[0] == (NODE, "start.js")
    (root / "package.json").write_text(json.dumps({"main": "lib/app.js"}))
    assert start(root)[0] == (NODE, "lib/app.js")
    (root / "package.json").write_text(json.dumps({"main": "missing.js"}))
    assert start(root)[0] == (NODE, "server.js")


def test_scripts_are_followed_and_env_assignments_become_env(tmp_path: Path) -> None:
    root = app(tmp_path, {"package.json": {"scripts": {
        "start": "npm run serve -- --verbose", "serve": "cross-env NODE_ENV=production TZ=UTC node app.js",
    }}, "Procfile": "web: NODE_OPTIONS=--max-old-space-size=256 npm start\n"})
    argv, env = start(root)
    assert argv == (NODE, "app.js", "--verbose")
    assert env == (("NODE_OPTIONS", "--max-old-space-size=256"), ("NODE_ENV", "production"), ("TZ", "UTC"))


def test_npm_start_without_script_runs_server_js(tmp_path: Path) -> None:
    root = app(tmp_path, {"package.json": {}, "server.js": "", "Procfile": "web: npm start\n"})
    assert start(root)[0] == (NODE, "server.js")


def test_package_bins_resolve_to_node_files(tmp_path: Path) -> None:
    root = app(tmp_path, {
        "package.json": {"scripts": {"start": "next start -p $PORT"}},
        "node_modules/next/package.json": {"name": "next", "bin": {"next": "./dist/bin/next"}},
        "node_modules/next/dist/bin/next": "#!/usr/bin/env node\n",
        "node_modules/ts-node/package.json": {"name": "ts-node", "bin": "dist/bin.js"},
        "node_modules/ts-node/dist/bin.js": "",
        "node_modules/@esbuild/linux-x64/package.json": {"name": "@esbuild/linux-x64",
                                                         "bin": {"esbuild": "bin/esbuild"}},
        "node_modules/@esbuild/linux-x64/bin/esbuild": "\x7fELF",
    })
    assert start(root)[0] == (NODE, "node_modules/next/dist/bin/next", "start", "-p", "${PORT}")
    assert start(root, AppSettings(cmd="ts-node src/index.ts"))[0] == (
        NODE, "node_modules/ts-node/dist/bin.js", "src/index.ts")
    assert start(root, AppSettings(cmd="esbuild --version"))[0] == (
        "node_modules/@esbuild/linux-x64/bin/esbuild", "--version")
    assert package_bins(root / "node_modules") == {
        "esbuild": "@esbuild/linux-x64/bin/esbuild", "next": "next/dist/bin/next",
        "ts-node": "ts-node/dist/bin.js"}


@pytest.mark.parametrize(("script", "message"), [
    ("npm run build && node dist/main.js", r"scripts.start: .*needs a shell.*--cmd"),
    ("serve -s build", r"starts 'serve', which is neither node nor a bin.*--cmd"),
    ("npm run missing", r"runs the script 'missing'"),
    ("npm run a", r"too deeply"),
])
def test_start_scripts_pare_cannot_run_name_cmd(tmp_path: Path, script: str, message: str) -> None:
    root = app(tmp_path, {"package.json": {"scripts": {"start": script, "a": "npm run b", "b": "npm run a"}}})
    with pytest.raises(UsageError, match=message):
        start(root)


def test_native_addons_in_node_modules(tmp_path: Path) -> None:
    modules = app(tmp_path, {"sqlite3/binding.gyp": "", "sqlite3/build/Release/node_sqlite3.node": "",
                             "@scope/pkg/prebuilds/linux-x64/x.node": "", "express/index.js": "",
                             "a/node_modules/bcrypt/lib/binding/bcrypt.node": ""})
    assert native_addons(modules) == ["@scope/pkg", "bcrypt", "sqlite3"]
