"""What a Python app is: its dependencies as pip lines, the Python it asks for, what to start.

- Dependencies, in Heroku's order: `requirements.txt` (pip reads it itself), `Pipfile.lock`
  (the `default` section), `poetry.lock`, `uv.lock` (each walked from the project's main
  dependencies, dev groups left out, as `name==version ; marker` lines), else PEP 621
  `[project].dependencies` (ranges: pip resolves). The project itself is installed too when it is
  a package (a uv project with a build system, a PEP 621 project without a lock).
- The Python version: `.python-version`, `runtime.txt`, Pipfile's `python_version`,
  `requires-python`, Poetry's `python`; mapped onto the Debian suites that ship it
  (3.11 bookworm, 3.13 trixie, 3.14 and 3.15 forky), the oldest suite that satisfies it.
- The start command: `--cmd`, the Procfile's `web:`, a Django project (its settings module found
  from wsgi.py/asgi.py and settings.py in the tree -> WSGI_APPLICATION, under gunicorn), an ASGI
  app (FastAPI, Starlette...) under uvicorn, a WSGI app (Flask...) under gunicorn, else
  `python app.py` / main.py...; gunicorn reads $PORT itself, the other servers get `${PORT}`
  (pare.native.contract). A Django or web app whose dependencies name no server gets gunicorn
  (WSGI) or uvicorn (ASGI) at the version SERVERS pins, as App Service's and Google's builders add
  gunicorn (docs/detection.md). Console scripts (gunicorn, uvicorn...) run as `python -m MODULE`:
  images carry no bin/ wrappers.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from pare.errors import UsageError
from pare.native.contract import PORT_REF
from pare.recipes.command import NeedsShell, NothingToStart, StartCommand, split_command
from pare.recipes.settings import AppSettings
from pare.recipes.start import declared_start

PYTHON = "python"  # argv[0] standing for the image's interpreter; the recipe maps it to its path
# Debian suites and the Python each ships (python3.X packages), oldest suite first.
DEBIAN_PYTHONS = (("3.11", "bookworm"), ("3.13", "trixie"), ("3.14", "forky"), ("3.15", "forky"))
DEFAULT_PYTHON = "3.11"
MAIN_FILES = ("app.py", "main.py", "server.py", "wsgi.py", "application.py", "__main__.py")
# Entry modules and app object names, in the order App Service's builder looks for them
ENTRY_MODULES = ("app.py", "application.py", "main.py", "server.py", "wsgi.py", "asgi.py", "api.py")
APP_NAMES = ("app", "application", "api")
PACKAGE_ENTRIES = ("main.py", "app.py", "application.py", "asgi.py", "wsgi.py", "api.py", "__init__.py")
# The server added when the app declares none (pinned: the wheel's digest goes into pare.lock)
SERVERS = {"wsgi": ("gunicorn", "27.0.1"), "asgi": ("uvicorn", "0.55.0")}
# Imports that say what kind of app a module holds when its factory is not one pare knows
_IMPORTS = r"^\s*(?:from|import)\s+({})\b"
ASGI_IMPORTS = re.compile(_IMPORTS.format(r"fastapi|starlette|quart|litestar|sanic|django\.core\.asgi"), re.M)
WSGI_IMPORTS = re.compile(_IMPORTS.format(r"flask|bottle|falcon|pyramid|django\.core\.wsgi"), re.M)
# Directories never searched for a Django project
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "site-packages", "tests", "static",
              "templates", "migrations"}
# console scripts that have a `python -m` form, by script name
RUNNABLE_MODULES = {"gunicorn": "gunicorn", "uvicorn": "uvicorn", "hypercorn": "hypercorn",
                    "daphne": "daphne", "waitress-serve": "waitress", "flask": "flask",
                    "fastapi": "fastapi", "streamlit": "streamlit", "granian": "granian"}
ASGI_FACTORIES = ("FastAPI", "Starlette", "Quart", "Litestar", "Sanic")
WSGI_FACTORIES = ("Flask", "Bottle", "Falcon", "App")


# --- dependencies --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dependencies:
    """What pip must install: a requirements file as it is, or pinned lines made from a lockfile."""

    source: str  # requirements.txt, Pipfile.lock, poetry.lock, uv.lock, pyproject.toml, or "" (none)
    lines: tuple[str, ...]  # requirement lines (for requirements.txt: its own lines)
    pinned: bool  # every line is name==version (a lockfile, or a fully pinned requirements.txt)
    install_project: bool = False  # `pip install .` as well: the app is itself a package
    # per line, the file digests the lockfile allows ("sha256:..."); empty unless every line has some
    hashes: tuple[tuple[str, ...], ...] = ()

    @property
    def names(self) -> frozenset[str]:
        """Canonical names of the requirements pip will install directly."""
        return frozenset(n for n in (_requirement_name(line) for line in self.lines) if n)

    @property
    def hashed(self) -> bool:
        """Every line carries the lockfile's hashes: pip installs them with --require-hashes."""
        return bool(self.lines) and len(self.hashes) == len(self.lines) and all(self.hashes)

    def hashed_lines(self) -> tuple[str, ...]:
        """Requirement lines with their `--hash=` options, as a requirements file holds them."""
        if not self.hashed:
            return self.lines
        return tuple(line + "".join(f" --hash={h}" for h in hashes)
                     for line, hashes in zip(self.lines, self.hashes, strict=True))


def dependencies(app_dir: Path) -> Dependencies:
    """The app's dependency source turned into requirement lines (see module docstring)."""
    app_dir = Path(app_dir)
    req = app_dir / "requirements.txt"
    if req.is_file():
        lines = tuple(_logical_lines(_read(req)))
        return Dependencies("requirements.txt", lines, all(_is_pin(line) for line in lines if
                                                           not line.startswith("-")))
    if (app_dir / "Pipfile.lock").is_file():
        path = app_dir / "Pipfile.lock"
        lines = tuple(pipfile_lock_lines(path))
        return Dependencies("Pipfile.lock", lines, True, hashes=_line_hashes(lines, lock_hashes(path)))
    pyproject = _pyproject(app_dir)
    if (app_dir / "poetry.lock").is_file():
        path = app_dir / "poetry.lock"
        poetry_lines = tuple(poetry_lock_lines(path, _poetry_roots(pyproject)))
        package_mode = (pyproject.get("tool", {}).get("poetry", {}) or {}).get("package-mode", True)
        return Dependencies("poetry.lock", poetry_lines, True, bool(package_mode) and _has_build(pyproject),
                            _line_hashes(poetry_lines, lock_hashes(path)))
    if (app_dir / "uv.lock").is_file():
        path = app_dir / "uv.lock"
        uv_lines, editable = uv_lock_lines(path)
        return Dependencies("uv.lock", tuple(uv_lines), True, editable and _has_build(pyproject),
                            _line_hashes(uv_lines, lock_hashes(path)))
    project = pyproject.get("project")
    if isinstance(project, dict):
        deps = project.get("dependencies", [])
        where = f"{app_dir / 'pyproject.toml'}: [project] dependencies"
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            raise UsageError(f"{where} must be a list of strings")
        for dep in deps:
            _parse_requirement(dep, where)
        return Dependencies("pyproject.toml", tuple(deps), all(_is_pin(d) for d in deps),
                            _has_build(pyproject))
    return Dependencies("", (), True)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: {exc}") from None


def _logical_lines(text: str) -> Iterable[str]:
    """requirements.txt lines without comments, blank lines and backslash continuations."""
    pending = ""
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*", "", raw).rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            yield line


_INPUT_SKIP = frozenset({".git", "__pycache__", "node_modules", ".venv", "build", "dist", ".tox"})
_OPTION_FILE = re.compile(r"^(?:-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)")
_OPTION_EDITABLE = re.compile(r"^(?:-e|--editable)(?:\s+|=)(\S+)")


def local_inputs(app_dir: Path, lines: Iterable[str], _seen: frozenset[Path] = frozenset()) -> list[bytes]:
    """What a requirements file names on disk, as bytes for a cache key: each `-r`/`-c` file (and
    what it names in turn), and each local path (`./pkg`, `-e .`, `file:` URLs, `name @ file://`) as
    the digests of every file under it. The same requirement lines over different local code then
    give different keys."""
    from pare.recipes.base import tree_digest_parts
    parts: list[bytes] = []
    for line in lines:
        included = _OPTION_FILE.match(line)
        if included:
            path = (app_dir / included.group(1)).resolve()
            if path.is_file() and path not in _seen:
                parts += [str(path).encode(), path.read_bytes(),
                          *local_inputs(path.parent, _logical_lines(_read(path)), _seen | {path})]
            continue
        target = _local_path(line)
        if target is None:
            continue
        root = (app_dir / target).resolve()
        if root.is_file():
            parts += [target.encode(), *(p if isinstance(p, bytes) else p.encode()
                                        for p in tree_digest_parts(root.parent, [root.name]))]
        elif root.is_dir():
            rels = []
            for current, dirs, files in os.walk(root):
                dirs[:] = sorted(d for d in dirs if d not in _INPUT_SKIP and not d.endswith(".egg-info"))
                rels += [os.path.relpath(os.path.join(current, f), root) for f in sorted(files)]
            parts += [target.encode(), *(p if isinstance(p, bytes) else p.encode()
                                        for p in tree_digest_parts(root, rels))]
    return parts


def _local_path(line: str) -> str | None:
    """The local path a requirement line installs from, if it names one."""
    editable = _OPTION_EDITABLE.match(line)
    text = editable.group(1) if editable else line.split(" --", 1)[0].split(";", 1)[0].strip()
    if " @ " in text:
        text = text.split(" @ ", 1)[1].strip()
    if text.startswith("file:"):
        return re.sub(r"^file:(//)?", "", text).split("#", 1)[0] or None
    if text.startswith((".", "/")) or text == ".":
        return text.split("#", 1)[0]
    return None


def _is_pin(line: str) -> bool:
    req = _try_requirement(line)
    return req is not None and len(req.specifier) == 1 and next(iter(req.specifier)).operator in ("==", "===")


def _try_requirement(line: str) -> Requirement | None:
    try:
        return Requirement(line.split(" --hash", 1)[0].strip())
    except InvalidRequirement:
        return None


def _requirement_name(line: str) -> str | None:
    req = _try_requirement(line)
    return canonicalize_name(req.name) if req else None


def _parse_requirement(line: str, where: str) -> Requirement:
    try:
        return Requirement(line)
    except InvalidRequirement as exc:
        raise UsageError(f"{where}: {line!r}: {exc}") from None


def _pyproject(app_dir: Path) -> dict[str, Any]:
    path = app_dir / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None


def _has_build(pyproject: Mapping[str, Any]) -> bool:
    return isinstance(pyproject.get("build-system"), dict)


def _load_lock(path: Path) -> dict[str, Any]:
    text = _read(path)
    try:
        return json.loads(text) if path.name == "Pipfile.lock" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read: {exc}") from None


def pipfile_lock_lines(path: Path) -> list[str]:
    """Pinned lines from Pipfile.lock's `default` section (never `develop`)."""
    lock = _load_lock(path)
    default = lock.get("default") if isinstance(lock, dict) else None
    if not isinstance(default, dict):
        raise UsageError(f"{path}: no \"default\" section")
    lines = []
    for name, entry in sorted(default.items()):
        if not isinstance(entry, dict):
            raise UsageError(f"{path}: default.{name}: not an object")
        version = entry.get("version")
        if not isinstance(version, str) or not version.startswith("=="):
            source = next((k for k in ("git", "path", "file", "editable") if k in entry), "no version")
            raise UsageError(f"{path}: default.{name}: a {source} dependency, not a pinned release; "
                             "pare installs releases from PyPI only")
        extras = entry.get("extras") or []
        line = name + (f"[{','.join(extras)}]" if extras else "") + version
        lines.append(_with_marker(line, entry.get("markers")))
    return lines


_HASH = re.compile(r"(sha256|sha384|sha512):[0-9a-f]+\Z")


def lock_hashes(path: Path) -> dict[tuple[str, str], tuple[str, ...]]:
    """(canonical name, version) -> the file digests a lockfile records for that release: Pipfile.lock's
    `hashes`, poetry.lock's `files` (or its 1.x [metadata.files]), uv.lock's sdist and wheels.
    Digests pip cannot check (md5) and malformed ones are left out."""
    lock = _load_lock(path)
    found: dict[tuple[str, str], list[object]] = {}
    if path.name == "Pipfile.lock":
        for name, entry in (lock.get("default") or {}).items():
            if isinstance(entry, dict) and isinstance(entry.get("version"), str):
                found[(canonicalize_name(name), entry["version"].removeprefix("=="))] = \
                    list(entry.get("hashes") or [])
    else:
        legacy = (lock.get("metadata") or {}).get("files") or {}
        for entry in lock.get("package") or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            files = entry.get("files") or legacy.get(entry["name"]) or []
            if path.name == "uv.lock":
                files = [entry.get("sdist"), *(entry.get("wheels") or [])]
            found[(canonicalize_name(entry["name"]), str(entry.get("version", "")))] = \
                [f.get("hash") for f in files if isinstance(f, dict)]
    return {key: tuple(sorted({h for h in hashes if isinstance(h, str) and _HASH.match(h)}))
            for key, hashes in found.items()}


def _line_hashes(lines: Iterable[str], table: Mapping[tuple[str, str], tuple[str, ...]]
                 ) -> tuple[tuple[str, ...], ...]:
    """Each pinned line's hashes from `table`; () when any line has none (then nothing is hashed)."""
    out = []
    for line in lines:
        req = _try_requirement(line)
        spec = next(iter(req.specifier), None) if req else None
        hashes = table.get((canonicalize_name(req.name), spec.version)) if req and spec else None
        if not hashes:
            return ()
        out.append(hashes)
    return tuple(out)


def _with_marker(line: str, marker: object) -> str:
    return f"{line} ; {marker}" if isinstance(marker, str) and marker.strip() else line


def _poetry_roots(pyproject: Mapping[str, Any]) -> dict[str, str | None]:
    """Main dependencies -> marker, from [project] (Poetry 2) and [tool.poetry.dependencies]."""
    roots: dict[str, str | None] = {}
    project = pyproject.get("project")
    if isinstance(project, dict):
        for dep in project.get("dependencies", []) or []:
            req = _try_requirement(dep)
            if req:
                roots[canonicalize_name(req.name)] = str(req.marker) if req.marker else None
    poetry_deps = ((pyproject.get("tool") or {}).get("poetry") or {}).get("dependencies") or {}
    for name, spec in poetry_deps.items():
        if name.lower() == "python":
            continue
        if isinstance(spec, dict) and spec.get("optional"):
            continue
        marker = spec.get("markers") if isinstance(spec, dict) else None
        roots[canonicalize_name(name)] = marker if isinstance(marker, str) else None
    return roots


def poetry_lock_lines(path: Path, roots: Mapping[str, str | None]) -> list[str]:
    """Pinned lines for the packages reachable from `roots` through poetry.lock's dependency tables."""
    lock = _load_lock(path)
    packages: dict[str, dict[str, Any]] = {}
    for entry in lock.get("package", []):
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            packages[canonicalize_name(entry["name"])] = entry

    def edges(entry: Mapping[str, Any]) -> Iterable[tuple[str, str | None]]:
        for dep, spec in (entry.get("dependencies") or {}).items():
            if isinstance(spec, dict) and spec.get("optional"):
                continue
            specs = spec if isinstance(spec, list) else [spec]
            markers = [s.get("markers") for s in specs if isinstance(s, dict)]
            marker = None if any(m is None for m in markers) or not markers else " or ".join(
                f"({m})" for m in markers)
            yield canonicalize_name(dep), marker

    reached = _walk_graph(roots.items(), lambda name: edges(packages[name]) if name in packages else ())
    lines = []
    for name, marker in sorted(reached.items()):
        entry = packages.get(name)
        if entry is None:
            raise UsageError(f"{path}: {name} is required but not locked; run `poetry lock`")
        source = entry.get("source")
        if isinstance(source, dict) and source.get("type") not in (None, "legacy"):
            raise UsageError(f"{path}: {name} comes from a {source.get('type')} source, not a release; "
                             "pare installs releases from PyPI only")
        lines.append(_with_marker(f"{entry['name']}=={entry['version']}", marker))
    return lines


def uv_lock_lines(path: Path) -> tuple[list[str], bool]:
    """Pinned lines for the project's runtime dependencies in uv.lock, and whether the project
    itself is an editable package (to be installed as well). Dev groups are never included."""
    lock = _load_lock(path)
    packages: dict[str, dict[str, Any]] = {}
    root = None
    for entry in lock.get("package", []):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        packages[canonicalize_name(entry["name"])] = entry
        source = entry.get("source") or {}
        if isinstance(source, dict) and "." in (source.get("editable"), source.get("virtual")):
            root = entry
    if root is None:
        raise UsageError(f"{path}: no package for the project itself (source editable or virtual \".\")")

    def deps(entry: Mapping[str, Any], extras: Iterable[str] = ()) -> Iterable[tuple[str, str | None]]:
        listed = list(entry.get("dependencies") or [])
        for extra in extras:
            listed += (entry.get("optional-dependencies") or {}).get(extra, [])
        for dep in listed:
            if isinstance(dep, dict) and isinstance(dep.get("name"), str):
                name = canonicalize_name(dep["name"])
                yield (name + "[" + ",".join(dep["extra"]) + "]" if dep.get("extra") else name,
                       dep.get("marker"))

    def edges(key: str) -> Iterable[tuple[str, str | None]]:
        name, _, extras = key.partition("[")
        entry = packages.get(name)
        return deps(entry, extras.rstrip("]").split(",") if extras else ()) if entry else ()

    reached = _walk_graph(deps(root), edges)
    merged: dict[str, str | None] = {}
    for key, marker in reached.items():
        name = key.partition("[")[0]
        merged[name] = _or_markers(merged[name], marker) if name in merged else marker
    lines = []
    root_name = canonicalize_name(root["name"])
    for name, marker in sorted(merged.items()):
        if name == root_name:
            continue
        entry = packages.get(name)
        if entry is None:
            raise UsageError(f"{path}: {name} is required but not locked; run `uv lock`")
        source = entry.get("source") or {}
        if not isinstance(source, dict) or "registry" not in source:
            raise UsageError(f"{path}: {name} comes from {source}, not a package index; "
                             "pare installs releases from PyPI only")
        lines.append(_with_marker(f"{entry['name']}=={entry['version']}", marker))
    source = root.get("source") or {}
    return lines, isinstance(source, dict) and source.get("editable") == "."


def _or_markers(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return None
    return a if a == b else f"({a}) or ({b})"


def _walk_graph(roots: Iterable[tuple[str, str | None]],
                edges: Callable[[str], Iterable[tuple[str, str | None]]]) -> dict[str, str | None]:
    """Every node reachable from `roots` with the marker under which it is needed (None: always).
    A node reached under two different conditions is taken as needed always: more is installed
    than strictly needed on some platform, never less, and cycles end."""
    reached: dict[str, str | None] = {}
    todo = list(roots)
    while todo:
        name, marker = todo.pop()
        if name in reached:
            if reached[name] is None or reached[name] == marker:
                continue
            marker = None
        reached[name] = marker
        for child, child_marker in edges(name):
            combined = child_marker if marker is None else (
                marker if child_marker is None else f"({marker}) and ({child_marker})")
            todo.append((child, combined))
    return reached


# --- Python version ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PythonRequest:
    spec: SpecifierSet | None  # None: nothing asked
    source: str


def python_request(app_dir: Path) -> PythonRequest:
    """The Python version the app asks for, from the first file that says (module docstring order)."""
    app_dir = Path(app_dir)
    path = app_dir / ".python-version"
    if path.is_file():
        value = next((ln.split("#", 1)[0].strip() for ln in _read(path).splitlines()
                      if ln.split("#", 1)[0].strip()), "")
        return PythonRequest(_version_spec(value, str(path)), ".python-version")
    path = app_dir / "runtime.txt"
    if path.is_file():
        value = _read(path).strip()
        found = re.fullmatch(r"python-(\d+\.\d+(?:\.\d+)?)", value)
        if not found:
            raise UsageError(f"{path}: expected python-X.Y or python-X.Y.Z, got {value!r}")
        return PythonRequest(_version_spec(found.group(1), str(path)), "runtime.txt")
    path = app_dir / "Pipfile"
    if path.is_file():
        parser = configparser.ConfigParser()
        try:
            parser.read_string(_read(path))
        except configparser.Error:
            parser = configparser.ConfigParser()
        for key in ("python_full_version", "python_version"):
            value = parser.get("requires", key, fallback="")
            if value:
                return PythonRequest(_version_spec(value.strip().strip("\"'"), str(path)), f"Pipfile {key}")
    pyproject = _pyproject(app_dir)
    project = pyproject.get("project")
    if isinstance(project, dict) and isinstance(project.get("requires-python"), str):
        return PythonRequest(_version_spec(project["requires-python"], "pyproject.toml requires-python"),
                             "requires-python")
    poetry_deps = ((pyproject.get("tool") or {}).get("poetry") or {}).get("dependencies") or {}
    poetry_python = poetry_deps.get("python")
    if isinstance(poetry_python, str):
        return PythonRequest(_version_spec(poetry_constraint(poetry_python), "pyproject.toml "
                                           "[tool.poetry.dependencies] python"), "poetry python")
    return PythonRequest(None, "default")


def _version_spec(value: str, where: str) -> SpecifierSet:
    """A bare version (`3.13`, `3.13.1`) means that minor line; anything else is a specifier."""
    value = value.strip()
    if re.fullmatch(r"\d+\.\d+(\.\d+)?", value):
        minor = ".".join(value.split(".")[:2])
        value = f"=={minor}.*"  # the suite ships its own patch release of that minor line
    try:
        return SpecifierSet(value.replace(" ", ""))
    except InvalidSpecifier:
        raise UsageError(f"{where}: {value!r} is not a Python version or version range") from None


def poetry_constraint(value: str) -> str:
    """Poetry's `^3.10`, `~3.10`, `3.10.*`, `>=3.8,<4` and `a || b` (first alternative) as PEP 440."""
    value = value.split("||")[0].strip()
    parts = []
    for part in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", value):
        if part.startswith("^"):
            version = Version(part[1:])
            upper = f"{version.major + 1}.0" if version.major else f"0.{version.minor + 1}"
            parts += [f">={part[1:]}", f"<{upper}"]
        elif part.startswith("~") and not part.startswith("~="):
            nums = part[1:].split(".")
            upper = f"{nums[0]}.{int(nums[1]) + 1}" if len(nums) > 1 else f"{int(nums[0]) + 1}"
            parts += [f">={part[1:]}", f"<{upper}"]
        elif re.fullmatch(r"\d+(\.\d+)*(\.\*)?", part):
            parts.append(f"=={part}")
        elif part and part != "*":
            parts.append(part)
    return ",".join(parts)


def pick_python(request: PythonRequest, settings: AppSettings | None = None) -> tuple[str, str]:
    """(X.Y, Debian suite) for the request: --runtime/--suite first, else the oldest suite whose
    Python satisfies the request, else the default (3.11, bookworm)."""
    if settings and settings.runtime_name == "python":
        wanted = ".".join((settings.runtime_version or "").split(".")[:2])
        for version, suite in DEBIAN_PYTHONS:
            if version == wanted and (settings.suite in (None, suite)):
                return version, suite
        raise UsageError(f"--runtime {settings.runtime}: no Debian suite pare uses ships it"
                         f"{' in ' + settings.suite if settings.suite else ''} ({_offer()})")
    choices = [(v, s) for v, s in DEBIAN_PYTHONS if not settings or settings.suite in (None, s)]
    if request.spec is None:
        default = [(v, s) for v, s in choices if v == DEFAULT_PYTHON]
        return (default or choices)[0]
    for version, suite in choices:
        if any(request.spec.contains(f"{version}.{patch}", prereleases=True) for patch in range(30)):
            return version, suite
    raise UsageError(f"{request.source} asks for Python {request.spec}, which no Debian suite pare uses "
                     f"ships ({_offer()}); set --runtime python@X.Y")


def _offer() -> str:
    return ", ".join(f"{v} {s}" for v, s in DEBIAN_PYTHONS)


# --- start command -------------------------------------------------------------------------------

@dataclass(frozen=True)
class DjangoProject:
    settings_module: str  # mysite.settings
    wsgi: str | None  # mysite.wsgi:application
    asgi: str | None
    static_root_assigned: bool  # STATIC_ROOT appears in the settings: collectstatic is wanted
    # (the settings may set it only under some environment: probe settings.STATIC_ROOT with the
    # app's env before running collectstatic)


_SETTINGS_DEFAULT = re.compile(r"DJANGO_SETTINGS_MODULE['\"]\s*,\s*['\"]([\w.]+)['\"]\s*\)")


def django_project(app_dir: Path) -> DjangoProject | None:
    """The Django project in the tree (manage.py, or a wsgi.py/asgi.py that sets up Django), or None.

    The settings module comes from the tree, never from manage.py's text (which may compute it):
    the literal default a wsgi.py/asgi.py gives DJANGO_SETTINGS_MODULE when that module is a file
    of the app, else the settings.py (or settings/ package) beside a wsgi.py or asgi.py."""
    app_dir = Path(app_dir)
    entries = _django_entries(app_dir)
    if not (app_dir / "manage.py").is_file() and not entries:
        return None
    module = _settings_module(app_dir, entries)
    if module is None:
        raise UsageError(f"{app_dir}: a Django project, but no settings module was found (no settings.py "
                         "beside a wsgi.py or asgi.py); give the command with --cmd")
    text = _module_text(app_dir, module) or ""

    def setting(name: str) -> str | None:
        hit = re.search(rf"^{name}\s*=\s*['\"]([\w.]+)['\"]", text, re.M)
        if not hit:
            return None
        path, _, attr = hit.group(1).rpartition(".")
        return f"{path}:{attr}" if _module_text(app_dir, path) is not None else None

    package = module.rpartition(".")[0]
    beside = {path.name for path in entries if _module_name(app_dir, path).rpartition(".")[0] == package}
    wsgi = setting("WSGI_APPLICATION") or (f"{package}.wsgi:application" if "wsgi.py" in beside else None)
    asgi = setting("ASGI_APPLICATION") or (f"{package}.asgi:application" if "asgi.py" in beside else None)
    static = re.search(r"^\s*STATIC_ROOT\s*=", text, re.M) is not None
    return DjangoProject(module, wsgi, asgi, static)


def _walk_python(app_dir: Path, depth: int = 3) -> list[Path]:
    """The app's .py files down to `depth` directories, skipping environments and data trees."""
    found: list[Path] = []

    def visit(directory: Path, level: int) -> None:
        for entry in sorted(directory.iterdir()):
            if entry.is_dir() and not entry.is_symlink() and level < depth and entry.name not in _SKIP_DIRS \
                    and not entry.name.startswith("."):
                visit(entry, level + 1)
            elif entry.suffix == ".py" and entry.is_file():
                found.append(entry)

    visit(app_dir, 0)
    return found


def _django_entries(app_dir: Path) -> list[Path]:
    """wsgi.py/asgi.py files in packages of the tree that set up Django."""
    return [path for path in _walk_python(app_dir) if path.name in ("wsgi.py", "asgi.py")
            and path.parent != app_dir and "DJANGO_SETTINGS_MODULE" in _read(path)]


def _module_name(app_dir: Path, path: Path) -> str:
    rel = path.relative_to(app_dir).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _settings_module(app_dir: Path, entries: list[Path]) -> str | None:
    for path in entries:  # a literal default naming a module of the app
        found = _SETTINGS_DEFAULT.search(_read(path))
        if found and _module_text(app_dir, found.group(1)) is not None:
            return found.group(1)
    for path in entries:  # the settings beside the project's wsgi.py/asgi.py
        for candidate in (path.parent / "settings.py", path.parent / "settings" / "__init__.py"):
            if candidate.is_file():
                return _module_name(app_dir, candidate)
    if (app_dir / "manage.py").is_file():  # a project without wsgi.py: one settings module in the tree
        files = [p for p in _walk_python(app_dir, 2) if p.parent != app_dir and (
            p.name == "settings.py" or (p.name == "__init__.py" and p.parent.name == "settings"))]
        if len(files) == 1:
            return _module_name(app_dir, files[0])
    return None


def _module_text(app_dir: Path, module: str) -> str | None:
    """A module's source, or a settings package's files joined."""
    base = app_dir.joinpath(*module.split("."))
    if base.with_suffix(".py").is_file():
        return _read(base.with_suffix(".py"))
    if (base / "__init__.py").is_file():
        return "\n".join(_read(p) for p in sorted(base.glob("*.py")))
    return None


@dataclass(frozen=True)
class WebApp:
    module: str  # importable module (src/ stripped)
    attr: str  # the app object's name
    kind: str  # asgi | wsgi
    pythonpath: tuple[str, ...]  # ("src",) for a src layout


_APP_ASSIGN = re.compile(r"^(\w+)\s*(?::\s*[\w.\[\]]+\s*)?=\s*(?:[\w.]+\.)?(\w+)\(", re.M)


def find_web_app(app_dir: Path) -> WebApp | None:
    """A module-level `app = FastAPI()` / `Flask(__name__)` / `create_app()` in the usual places,
    else an object named app, application or api in an entry module that imports a web framework."""
    app_dir = Path(app_dir)
    candidates: list[tuple[Path, str]] = [(app_dir / f, "") for f in ENTRY_MODULES]
    for layout in ("src", ""):
        base = app_dir / layout if layout else app_dir
        if not base.is_dir():
            continue
        for pkg in sorted(p for p in base.iterdir() if (p / "__init__.py").is_file()):
            candidates += [(pkg / name, layout) for name in PACKAGE_ENTRIES]
    found = [app for path, layout in candidates if path.is_file()
             for app in [_web_app_in(app_dir, path, layout)] if app is not None]
    return next((app for app in found if app.attr in APP_NAMES), found[0] if found else None)


def _web_app_in(app_dir: Path, path: Path, layout: str) -> WebApp | None:
    text = _read(path)
    root = app_dir / layout if layout else app_dir
    module = _module_name(root, path)
    assigned = _APP_ASSIGN.findall(text)
    for var, factory in sorted(assigned, key=lambda item: item[0] not in APP_NAMES):
        kind = ("asgi" if factory in ASGI_FACTORIES else "wsgi" if factory in WSGI_FACTORIES
                else "wsgi" if factory == "create_app" and "flask" in text.lower() else None)
        if kind:
            return WebApp(module, var, kind, (layout,) if layout else ())
    kind = "asgi" if ASGI_IMPORTS.search(text) else "wsgi" if WSGI_IMPORTS.search(text) else None
    names = {var for var, _factory in assigned} | set(re.findall(r"^(\w+)\s*=", text, re.M))
    for name in APP_NAMES:  # an app object under a usual name, made by a factory pare does not know
        if kind and name in names:
            return WebApp(module, name, kind, (layout,) if layout else ())
    return None


def start_command(app_dir: Path, deps: Dependencies, settings: AppSettings) -> StartCommand:
    """What the image runs (see module docstring); UsageError naming --cmd when nothing fits."""
    app_dir = Path(app_dir)
    if settings.cmd is not None:
        if isinstance(settings.cmd, tuple):
            return StartCommand(settings.cmd, (), "--cmd")
        return _from_line(settings.cmd, "--cmd")
    declared = declared_start(app_dir)
    if declared is not None:
        try:
            return _from_line(declared.line, declared.source)
        except UsageError:
            if declared.binding:
                raise
    django = django_project(app_dir)
    if django is not None:
        targets = [(k, t) for k, t in (("wsgi", django.wsgi), ("asgi", django.asgi)) if t]
        if not targets:
            raise UsageError(f"{app_dir}: a Django project, but its settings name no WSGI_APPLICATION or "
                             "ASGI_APPLICATION and it has no wsgi.py; give the command with --cmd")
        return _served(deps, targets, "Django")
    app = find_web_app(app_dir)
    if app is not None:
        return _served(deps, [(app.kind, f"{app.module}:{app.attr}")], "app", app.pythonpath)
    for name in MAIN_FILES:
        if (app_dir / name).is_file():
            return StartCommand((PYTHON, name), (), name)
    raise NothingToStart(f"{app_dir}: nothing to start: no Procfile web:, Django project, ASGI/WSGI app "
                         f"or {', '.join(MAIN_FILES)}; give the command with --cmd")


# How each server runs an app; gunicorn reads $PORT itself (0.0.0.0:$PORT is its default bind)
_SERVER_ARGS: dict[str, Callable[[str], tuple[str, ...]]] = {
    "gunicorn": lambda target: ("-m", "gunicorn", target),
    "uvicorn": lambda target: ("-m", "uvicorn", target, "--host", "0.0.0.0", "--port", PORT_REF),
    "hypercorn": lambda target: ("-m", "hypercorn", "--bind", f"0.0.0.0:{PORT_REF}", target),
    "waitress": lambda target: ("-m", "waitress", f"--listen=0.0.0.0:{PORT_REF}", target),
}
_KIND_SERVERS = {"wsgi": ("gunicorn", "waitress"), "asgi": ("uvicorn", "hypercorn")}


def _served(deps: Dependencies, targets: Sequence[tuple[str, str]], what: str,
            pythonpath: tuple[str, ...] = ()) -> StartCommand:
    """The first (kind, target) that a server among the dependencies runs (wsgi: gunicorn, waitress;
    asgi: uvicorn, hypercorn), else the first target under the server SERVERS pins for its kind
    (StartCommand.adds: the recipe installs it)."""
    for kind, target in targets:
        for server in _KIND_SERVERS[kind]:
            if server in deps.names or _provided_by_extra(deps, server):
                argv = (PYTHON, *_SERVER_ARGS[server](target))
                return StartCommand(argv, (), f"{what} {target}", pythonpath)
    kind, target = targets[0]
    server, version = SERVERS[kind]
    return StartCommand((PYTHON, *_SERVER_ARGS[server](target)), (), f"{what} {target} (no server declared)",
                        pythonpath, (f"{server}=={version}",))


def _provided_by_extra(deps: Dependencies, server: str) -> bool:
    """fastapi[standard] brings uvicorn."""
    return server == "uvicorn" and any(
        (r := _try_requirement(line)) is not None and canonicalize_name(r.name) == "fastapi"
        and "standard" in r.extras for line in deps.lines)


def _from_line(line: str, source: str) -> StartCommand:
    try:
        command = split_command(line)
    except NeedsShell as exc:
        raise UsageError(f"{source}: {exc}; give an exec command with --cmd") from None
    argv = list(command.argv)
    head = argv[0]
    if head in ("python", "python3") or re.fullmatch(r"python3\.\d+", head):
        argv[0] = PYTHON
    elif head in RUNNABLE_MODULES:
        argv[0:1] = [PYTHON, "-m", RUNNABLE_MODULES[head]]
    elif "/" not in head:
        raise UsageError(f"{source}: `{line}` starts {head!r}, which pare cannot run without its console "
                         "script; give the command with --cmd (e.g. --cmd \"python -m MODULE ...\")")
    return StartCommand(tuple(argv), command.env, source)


def console_script(site_packages: Path, name: str) -> tuple[str, str] | None:
    """(module, function) of an installed console script, from its dist-info entry_points.txt."""
    for entry_points in sorted(Path(site_packages).glob("*.dist-info/entry_points.txt")):
        parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            parser.read_string(entry_points.read_text(encoding="utf-8"))
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        value = parser.get("console_scripts", name, fallback=None)
        if value:
            module, _, func = value.split("[")[0].strip().partition(":")
            return module.strip(), func.strip()
    return None

