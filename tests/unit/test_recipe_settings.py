"""pare.recipes.settings: pare.toml / [tool.pare] / flags, merged, and one clear error per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from pare.errors import UsageError
from pare.recipes.settings import DEFAULT_USER, AppSettings, load_settings


def write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text)
    return tmp_path


def test_defaults_without_any_file(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings == AppSettings() and settings.user == DEFAULT_USER == "65532:65532"


def test_every_setting_from_pare_toml(tmp_path: Path) -> None:
    write(tmp_path, "pare.toml", """
cmd = "node dist/main"
entrypoint = ["/usr/bin/tini", "--"]
env = { NODE_ENV = "production", WORKERS = 2 }
port = 3000
user = "1000:1000"
label = { "org.opencontainers.image.source" = "https://example.org/app" }
workdir = "/srv/app/"
main = "cmd/server"
runtime = "node@22"
suite = "trixie"
ignore-scripts = true
""")
    settings = load_settings(tmp_path)
    assert settings == AppSettings(
        cmd="node dist/main", entrypoint=("/usr/bin/tini", "--"),
        env=(("NODE_ENV", "production"), ("WORKERS", "2")), port=3000, user="1000:1000",
        labels=(("org.opencontainers.image.source", "https://example.org/app"),), workdir="/srv/app",
        main="./cmd/server", runtime="node@22", suite="trixie", ignore_scripts=True)
    assert (settings.runtime_name, settings.runtime_version) == ("node", "22")


def test_tool_pare_table_in_pyproject(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml",
          '[project]\nname = "x"\n[tool.pare]\nport = 8000\nruntime = "python@3.13"\n')
    assert load_settings(tmp_path) == AppSettings(port=8000, runtime="python@3.13")


def test_flags_override_the_file_and_merge_env_and_labels(tmp_path: Path) -> None:
    write(tmp_path, "pare.toml", 'port = 3000\nenv = { A = "1", B = "2" }\nlabel = { x = "1" }\n')
    settings = load_settings(tmp_path, {"port": "9000", "env": ("B=3", "C=a=b"), "labels": ("y=2",),
                                        "cmd": None, "ignore_scripts": True, "main": None})
    assert settings.port == 9000
    assert settings.env == (("A", "1"), ("B", "3"), ("C", "a=b"))
    assert settings.labels == (("x", "1"), ("y", "2"))
    assert settings.ignore_scripts is True and settings.cmd is None


def test_both_files_with_settings_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "pare.toml", "port = 1\n")
    write(tmp_path, "pyproject.toml", "[tool.pare]\nport = 2\n")
    with pytest.raises(UsageError, match="keep one"):
        load_settings(tmp_path)


@pytest.mark.parametrize(("text", "message"), [
    ("port = 0\n", r"pare\.toml: port: must be a port number"),
    ("port = true\n", r"port: must be a port number"),
    ("prot = 80\n", r"unknown setting 'prot' \(did you mean 'port'\?\)"),
    ("labels = {}\n", r"unknown setting 'labels' \(did you mean 'label'\?\)"),
    ("cmd = []\n", r"cmd: must be a command line"),
    ("cmd = ['']\n", r"cmd: must be a command line"),
    ("env = { '1X' = 'a' }\n", r"env: '1X' is not a valid KEY"),
    ("env = { X = ['a'] }\n", r"env: X: the value must be a string"),
    ("env = 'X=1'\n", r"env: must be a table"),
    ("user = 'root user'\n", r"user: must be USER or USER:GROUP"),
    ("workdir = 'app'\n", r"workdir: must be an absolute path"),
    ("workdir = '/app/../etc'\n", r"workdir: must be an absolute path"),
    ("main = '../other'\n", r"main: must be a package directory inside the app"),
    ("runtime = 'ruby@3'\n", r"runtime: must be NAME@VERSION"),
    ("runtime = 'node'\n", r"runtime: must be NAME@VERSION"),
    ("suite = 'bullseye'\n", r"suite: must be one of bookworm, trixie, forky"),
    ("ignore-scripts = 'yes'\n", r"ignore-scripts: must be true or false"),
    ("node-runtime = 'nodesource'\n", r"node-runtime: must be one of official, debian"),
    ("port = \n", r"not valid TOML"),
])
def test_file_mistakes_name_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "pare.toml", text)
    with pytest.raises(UsageError, match=message) as caught:
        load_settings(tmp_path)
    assert str(caught.value).startswith(str(tmp_path / "pare.toml")) and "\n" not in str(caught.value)


@pytest.mark.parametrize(("cli", "message"), [
    ({"port": "http"}, r"^--port: must be a port number"),
    ({"env": ("NOEQUALS",)}, r"^--env: expected KEY=VALUE"),
    ({"env": ("BAD-NAME=1",)}, r"^--env: expected KEY=VALUE"),
    ({"labels": ("=x",)}, r"^--label: expected KEY=VALUE"),
    ({"runtime": "go1.24"}, r"^--runtime: must be NAME@VERSION"),
    ({"suite": "sid"}, r"^--suite: must be one of"),
    ({"node_runtime": "system"}, r"^--node-runtime: must be one of official, debian"),
])
def test_flag_mistakes_name_the_flag(tmp_path: Path, cli: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_settings(tmp_path, cli)


def test_tool_pare_must_be_a_table(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "[tool]\npare = 3\n")
    with pytest.raises(UsageError, match=r"\[tool.pare\] must be a table"):
        load_settings(tmp_path)


def test_allow_origins_from_the_file_and_the_flag(tmp_path: Path) -> None:
    """Mirrors pare.lock's artifacts may come from (pare.native.lockcheck): normalised to prefixes
    ending in '/', the flag replacing the file's list; anything but an http(s) URL is refused."""
    (tmp_path / "pare.toml").write_text('allow-origins = ["https://Mirror.example/debian"]\n')
    assert load_settings(tmp_path).allow_origins == ("https://mirror.example/debian/",)
    flagged = load_settings(tmp_path, {"allow_origins": ("http://10.0.0.1:8080/npm/",)})
    assert flagged.allow_origins == ("http://10.0.0.1:8080/npm/",)
    for bad in ('"https://mirror.example"', '["ftp://mirror.example/"]', '["mirror.example"]', "[1]"):
        (tmp_path / "pare.toml").write_text(f"allow-origins = {bad}\n")
        with pytest.raises(UsageError, match=r"pare.toml: allow-origins: "):
            load_settings(tmp_path)
    with pytest.raises(UsageError, match="--allow-origin: 'file:///x' is not an http"):
        load_settings(tmp_path / "none", {"allow_origins": ("file:///x",)})


def test_node_runtime_from_the_file_and_the_flag(tmp_path: Path) -> None:
    """Where node comes from (docs/runtimes.md): not given means pare's default; the flag wins."""
    assert load_settings(tmp_path).node_runtime is None
    write(tmp_path, "pare.toml", 'node-runtime = "debian"\n')
    assert load_settings(tmp_path).node_runtime == "debian"
    assert load_settings(tmp_path, {"node_runtime": "official"}).node_runtime == "official"
