"""Node.js: the locked runtime (node from the npm registry, glibc and libstdc++ from Debian), the
app's node_modules, then the app.

Three layers so a code change re-pushes only the last: runtime (shared by every node app on the
same lock entries), deps (node_modules from `npm ci` against package-lock.json, run by the locked
npm and node, cached by the lockfile's hash), app.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pare.errors import UsageError
from pare.native.cache import cache_root, cached_dir, content_key
from pare.native.lock import Artifact, Lock
from pare.native.plan import BuildPlan, FileSet, RuntimeConfig
from pare.native.platforms import Arch
from pare.native.rootfs import runtime_layer
from pare.native.runtimes import node as node_runtime
from pare.native.runtimes.node import NODE_PATH, PATH_ENV, NodeRuntime
from pare.recipes.base import DEFAULT_PORT, DockerFacts, Recipe, app_layer


def main_script(app_dir: Path) -> str:
    """The script `npm start` would run: scripts.start `node X`, else `main`, else server.js/index.js."""
    try:
        package = json.loads((app_dir / "package.json").read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{app_dir / 'package.json'}: {exc}") from None
    if not isinstance(package, dict):
        raise UsageError(f"{app_dir / 'package.json'}: not a JSON object")
    start = (package.get("scripts") or {}).get("start")
    if isinstance(start, str):
        words = start.split()
        if len(words) == 2 and words[0] == "node":
            return words[1].removeprefix("./")
    main = package.get("main")
    if isinstance(main, str) and (app_dir / main).is_file():
        return main.removeprefix("./")
    for name in ("server.js", "index.js", "app.js", "main.js"):
        if (app_dir / name).is_file():
            return name
    raise UsageError(f"{app_dir}: no start script, main, server.js or index.js to run")


def requested_node(app_dir: Path) -> str | None:
    """The node version the app asks for: package.json engines.node, else .nvmrc, else .node-version."""
    try:
        engines = json.loads((app_dir / "package.json").read_text()).get("engines") or {}
    except (OSError, ValueError, AttributeError):
        engines = {}
    wanted = engines.get("node") if isinstance(engines, dict) else None
    if isinstance(wanted, str) and wanted.strip():
        return wanted.strip()
    for name in (".nvmrc", ".node-version"):
        path = app_dir / name
        if path.is_file():
            text = path.read_text(errors="replace").split("#", 1)[0].strip()
            if text:
                return text
    return None


class NodeRecipe(Recipe):
    name = "node"

    @classmethod
    def matches(cls, app_dir: Path) -> bool:
        return (app_dir / "package.json").is_file()

    def requested_version(self) -> str | None:
        return requested_node(self.app_dir)

    def resolve(self, arches: Sequence[Arch]) -> list[Artifact]:
        request = self.request()
        return node_runtime.resolve(request.version, request.suite, arches)

    def install_deps(self, rt: NodeRuntime, workdir: Path, cache: bool = True) -> Path | None:
        """node_modules for production, installed by the locked npm and node from the lockfile;
        cached by lockfile, node, npm and target platform."""
        lock = self.app_dir / "package-lock.json"
        package = self.app_dir / "package.json"
        if not lock.is_file():
            raise UsageError(f"{self.app_dir}: no package-lock.json (run `npm install --package-lock-only`); "
                             "builds without a lockfile are not reproducible")
        if not json.loads(lock.read_text()).get("packages", {}).keys() - {""}:
            return None  # no dependencies at all
        key = content_key(package.read_bytes(), lock.read_bytes(), rt.version, rt.npm_version, rt.arch.name)

        def populate(tmp: Path) -> None:
            shutil.copy2(package, tmp / "package.json")
            shutil.copy2(lock, tmp / "package-lock.json")
            with tempfile.TemporaryDirectory(prefix="pare-npm-") as scratch:
                npm_cache = cache_root() / "npm-cache" if cache else Path(scratch)
                args = ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
                rt.npm(args, tmp, npm_cache=npm_cache, what="npm ci")
            # npm leaves a lock copy inside node_modules that records install-time details
            (tmp / "node_modules" / ".package-lock.json").unlink(missing_ok=True)

        if not cache:  # made afresh in the build's scratch space (what --verify compares)
            fresh = workdir / "npm"
            fresh.mkdir(parents=True)
            populate(fresh)
            return fresh / "node_modules"
        return cached_dir("npm", key, populate) / "node_modules"

    def native_plan(self, workdir: Path, lock: Lock, arch: Arch, *, cache: bool = True) -> BuildPlan:
        script = main_script(self.app_dir)
        rt = NodeRuntime(lock, arch)
        layers = [runtime_layer(rt.sysroot, rt.layer_spec())]
        modules = self.install_deps(rt, workdir, cache)
        if modules is not None:
            deps = FileSet("deps")
            deps.add_tree("app/node_modules", modules)
            layers.append(deps.freeze())
        layers.append(app_layer(self.app_dir))
        config = RuntimeConfig(entrypoint=(NODE_PATH, f"/app/{script}"),
                               env=(("PATH", PATH_ENV), ("NODE_ENV", "production"), ("PORT", DEFAULT_PORT)),
                               workdir="/app", exposed_ports=(f"{DEFAULT_PORT}/tcp",))
        return BuildPlan(self.app_name, self.name, tuple(layers), config, platform=arch.platform)

    def docker_facts(self) -> DockerFacts:
        deps = tuple(n for n in ("package.json", "package-lock.json") if (self.app_dir / n).is_file())
        return DockerFacts("node", deps, main_script(self.app_dir))
