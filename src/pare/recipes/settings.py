"""What a user tells pare about an app: command, port, environment, user... (`docs/settings.md`).

The same names work as `pare build` flags, as top-level keys of a `pare.toml` beside the app, and as
a `[tool.pare]` table in its `pyproject.toml`. Flags win over the file, key by key (`env` and
`label` are merged, a flag's key winning). Every mistake is one UsageError that names the file (or
the flag) and the field, raised before any build work starts.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path, PurePosixPath
from typing import Any

from pare.errors import UsageError
from pare.native.syslibs import check_package_name, read_aptfile

DEFAULT_USER = "65532:65532"
SUITES = ("bookworm", "trixie", "forky")
RUNTIMES = ("node", "python", "go")
NODE_RUNTIMES = ("official", "debian")  # pare.native.runtimes.node: where node itself comes from
PARE_TOML = "pare.toml"
PYPROJECT = "pyproject.toml"

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?\Z")
_RUNTIME = re.compile(r"(node|python|go)@(\d+(?:\.\d+){0,2})\Z")


@dataclass(frozen=True)
class AppSettings:
    """Settings for one build. None means "not given": detection decides."""

    cmd: str | tuple[str, ...] | None = None  # a command line (str) or an exec-form argv (tuple)
    entrypoint: str | tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()
    port: int | None = None
    user: str = DEFAULT_USER
    labels: tuple[tuple[str, str], ...] = ()
    workdir: str | None = None
    main: str | None = None  # Go: the main package, e.g. ./cmd/server
    runtime: str | None = None  # node@22, python@3.13, go@1.24
    suite: str | None = None  # bookworm | trixie | forky
    ignore_scripts: bool = False
    include_secrets: tuple[str, ...] = ()  # secret files the user ships on purpose (.env.production)
    allow_origins: tuple[str, ...] = ()  # URL prefixes pare.lock's artifacts may also come from (mirrors)
    packages: tuple[str, ...] = ()  # extra Debian packages that ship in the image (and an Aptfile's)
    node_runtime: str | None = None  # official (the npm registry's node build) | debian (the suite's nodejs)

    @property
    def runtime_name(self) -> str | None:
        return self.runtime.split("@", 1)[0] if self.runtime else None

    @property
    def runtime_version(self) -> str | None:
        return self.runtime.split("@", 1)[1] if self.runtime else None


# setting name as written in files and flags -> AppSettings field
FILE_KEYS = {
    "cmd": "cmd", "entrypoint": "entrypoint", "env": "env", "port": "port", "user": "user",
    "label": "labels", "workdir": "workdir", "main": "main", "runtime": "runtime", "suite": "suite",
    "ignore-scripts": "ignore_scripts", "include-secrets": "include_secrets",
    "allow-origins": "allow_origins",
    "packages": "packages", "node-runtime": "node_runtime",
}
# flags whose names differ from the field
CLI_FLAGS = {"labels": "label", "ignore_scripts": "ignore-scripts", "packages": "package",
             "allow_origins": "allow-origin", "node_runtime": "node-runtime"}
APTFILE = "Aptfile"  # Heroku's apt buildpack: one Debian package per line


def load_settings(app_dir: Path | str, cli: Mapping[str, Any] | None = None) -> AppSettings:
    """Settings from the app's pare.toml or [tool.pare], with command-line values merged on top.

    `cli` holds what click parsed, keyed by AppSettings field (`env` and `labels` as KEY=VALUE strings,
    `cmd`/`entrypoint` as command-line strings); None values mean the flag was not given."""
    settings = read_file_settings(Path(app_dir))
    settings = with_aptfile(settings, Path(app_dir))
    return merge_cli(settings, cli or {})


def with_aptfile(settings: AppSettings, app_dir: Path) -> AppSettings:
    """The packages a Heroku `Aptfile` beside the app names, added to the `packages` setting."""
    path = app_dir / APTFILE
    if not path.is_file():
        return settings
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: {exc}") from None
    names = read_aptfile(text, str(path))
    return replace(settings, packages=tuple(dict.fromkeys((*settings.packages, *names))))


def read_file_settings(app_dir: Path) -> AppSettings:
    """The settings written beside the app (pare.toml, or pyproject.toml's [tool.pare]), or defaults."""
    table, source = _settings_table(app_dir)
    if table is None:
        return AppSettings()
    values: dict[str, Any] = {}
    for key, raw in table.items():
        field = FILE_KEYS.get(key)
        if field is None:
            close = difflib.get_close_matches(key, FILE_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(FILE_KEYS)})"
            raise UsageError(f"{source}: unknown setting {key!r}{hint}")
        values[field] = _FILE_PARSERS[field](raw, f"{source}: {key}")
    return AppSettings(**values)


def merge_cli(settings: AppSettings, cli: Mapping[str, Any]) -> AppSettings:
    known = {f.name for f in fields(AppSettings)}
    changes: dict[str, Any] = {}
    for field, raw in cli.items():
        if field not in known:
            raise TypeError(f"unknown setting field {field!r}")  # a programming error, not the user's
        if raw is None or raw == () or raw == []:
            continue
        flag = "--" + CLI_FLAGS.get(field, field)
        value = _CLI_PARSERS.get(field, _FILE_PARSERS[field])(raw, flag)
        if field in ("env", "labels"):
            value = _merge_pairs(getattr(settings, field), value)
        elif field == "packages":
            value = tuple(dict.fromkeys((*settings.packages, *value)))
        changes[field] = value
    return replace(settings, **changes)


def _settings_table(app_dir: Path) -> tuple[dict[str, Any] | None, str]:
    pare_toml = app_dir / PARE_TOML
    pyproject = app_dir / PYPROJECT
    table = None
    source = str(pare_toml)
    if pare_toml.is_file():
        table = _read_toml(pare_toml)
    if pyproject.is_file():
        tool = _read_toml(pyproject).get("tool", {})
        pare = tool.get("pare") if isinstance(tool, dict) else None
        if pare is not None:
            if table is not None:
                raise UsageError(f"{pare_toml}: settings are also in {pyproject} [tool.pare]; "
                                 "keep one of them")
            if not isinstance(pare, dict):
                raise UsageError(f"{pyproject}: [tool.pare] must be a table")
            table, source = pare, f"{pyproject} [tool.pare]"
    return table, source


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None


# --- value parsers: each takes the raw value and "where" (file: key, or --flag) for its error ---

def _command(raw: Any, where: str) -> str | tuple[str, ...]:
    if isinstance(raw, str) and raw.strip():
        return raw.strip()
    if isinstance(raw, list) and raw and all(isinstance(w, str) for w in raw) and raw[0]:
        return tuple(raw)
    raise UsageError(f"{where}: must be a command line or a non-empty list of strings, not {raw!r}")


def _port(raw: Any, where: str) -> int:
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and 1 <= raw <= 65535:
        return raw
    raise UsageError(f"{where}: must be a port number from 1 to 65535, not {raw!r}")


def _user(raw: Any, where: str) -> str:
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        raw = str(raw)
    if isinstance(raw, str) and _USER.match(raw):
        return raw
    raise UsageError(f"{where}: must be USER or USER:GROUP (names or numeric ids), not {raw!r}")


def _workdir(raw: Any, where: str) -> str:
    if isinstance(raw, str) and raw.startswith("/") and ".." not in PurePosixPath(raw).parts:
        return str(PurePosixPath(raw))
    raise UsageError(f"{where}: must be an absolute path inside the image, not {raw!r}")


def _main(raw: Any, where: str) -> str:
    if isinstance(raw, str) and raw.strip():
        path = PurePosixPath(raw.strip())
        if not path.is_absolute() and ".." not in path.parts:
            return "./" + str(path) if str(path) != "." else "."
    raise UsageError(f"{where}: must be a package directory inside the app, like ./cmd/server, not {raw!r}")


def _runtime(raw: Any, where: str) -> str:
    if isinstance(raw, str) and _RUNTIME.match(raw.strip()):
        return raw.strip()
    raise UsageError(f"{where}: must be NAME@VERSION with NAME one of {', '.join(RUNTIMES)} "
                     f"(node@22, python@3.13, go@1.24), not {raw!r}")


def _suite(raw: Any, where: str) -> str:
    if raw in SUITES:
        return str(raw)
    raise UsageError(f"{where}: must be one of {', '.join(SUITES)}, not {raw!r}")


def _node_runtime(raw: Any, where: str) -> str:
    if raw in NODE_RUNTIMES:
        return str(raw)
    raise UsageError(f"{where}: must be one of {', '.join(NODE_RUNTIMES)}, not {raw!r}")


def _packages(raw: Any, where: str) -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise UsageError(f"{where}: must be a list of Debian package names, not {raw!r}")
    return tuple(dict.fromkeys(check_package_name(i.strip(), where) for i in items))


def _bool(raw: Any, where: str) -> bool:
    if isinstance(raw, bool):
        return raw
    raise UsageError(f"{where}: must be true or false, not {raw!r}")


def _patterns(raw: Any, where: str) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if isinstance(raw, list) and all(isinstance(p, str) and p.strip() and not p.startswith("!") for p in raw):
        return tuple(p.strip() for p in raw)
    raise UsageError(f"{where}: must be a list of paths or patterns (like \".env.production\"), not {raw!r}")


def _origins(raw: Any, where: str) -> tuple[str, ...]:
    """A list of http(s) URL prefixes (a flag gives them one by one)."""
    from pare.native.lockcheck import check_allowed_origin
    items = raw
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise UsageError(f"{where}: must be a list of URLs, such as [\"https://mirror.example/debian\"]")
    try:
        return tuple(check_allowed_origin(i) for i in items)
    except UsageError as exc:
        raise UsageError(f"{where}: {str(exc).removeprefix('allow-origins: ')}") from None


Pairs = tuple[tuple[str, str], ...]


def _pairs(kind: str, key_check: Callable[[str], bool]) -> Callable[[Any, str], Pairs]:
    def parse(raw: Any, where: str) -> Pairs:
        if not isinstance(raw, dict):
            raise UsageError(f"{where}: must be a table of {kind} = \"value\"")
        pairs = []
        for key, value in raw.items():
            if not key_check(key):
                raise UsageError(f"{where}: {key!r} is not a valid {kind}")
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise UsageError(f"{where}: {key}: the value must be a string or a number, not {value!r}")
            pairs.append((key, str(value)))
        return tuple(pairs)
    return parse


def _cli_pairs(kind: str, key_check: Callable[[str], bool]) -> Callable[[Any, str], Pairs]:
    def parse(raw: Any, where: str) -> Pairs:
        items = [raw] if isinstance(raw, str) else list(raw)
        pairs = []
        for item in items:
            key, eq, value = str(item).partition("=")
            if not eq or not key_check(key):
                raise UsageError(f"{where}: expected {kind}=VALUE, got {item!r}")
            pairs.append((key, value))
        return tuple(pairs)
    return parse


def _merge_pairs(base: Pairs, top: Pairs) -> Pairs:
    merged = dict(base)
    merged.update(top)
    return tuple(merged.items())


def _env_name(key: str) -> bool:
    return bool(_ENV_NAME.match(key))


def _label_key(key: str) -> bool:
    return bool(key) and not any(c.isspace() for c in key) and "=" not in key


_FILE_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "cmd": _command, "entrypoint": _command, "env": _pairs("KEY", _env_name), "port": _port,
    "user": _user, "labels": _pairs("label", _label_key), "workdir": _workdir, "main": _main,
    "runtime": _runtime, "suite": _suite, "ignore_scripts": _bool, "include_secrets": _patterns,
    "allow_origins": _origins,
    "packages": _packages, "node_runtime": _node_runtime,
}
_CLI_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "env": _cli_pairs("KEY", _env_name), "labels": _cli_pairs("KEY", _label_key),
}
