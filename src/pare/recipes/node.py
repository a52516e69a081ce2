"""Node.js: the node binary's ELF closure (plus its data files), node_modules, then the app.

Three layers so a code change re-pushes only the last: runtime (node + libraries + CA + passwd),
deps (node_modules from `npm ci` against package-lock.json, cached by the lockfile's hash), app.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from pare.errors import UsageError
from pare.native.elf import closure
from pare.native.plan import BuildPlan, FileSet, RuntimeConfig
from pare.recipes.base import (
    DEFAULT_PORT,
    DockerFacts,
    Recipe,
    app_layer,
    cached_dir,
    content_key,
    require_tool,
    run_tool,
    runtime_files,
)

# Data a Debian-built node (libnode) reads at start-up; it aborts without them.
NODE_DATA_DIRS = ("/usr/share/nodejs",)
PATH_ENV = "/usr/local/bin:/usr/bin:/bin"
CA_ENV = "/etc/ssl/certs/ca-certificates.crt"


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


class NodeRecipe(Recipe):
    name = "node"

    @classmethod
    def matches(cls, app_dir: Path) -> bool:
        return (app_dir / "package.json").is_file()

    def node_binary(self) -> str:
        return os.path.realpath(require_tool("node"))

    def install_deps(self) -> Path | None:
        """node_modules for production, from the lockfile; cached by lockfile and node version."""
        lock = self.app_dir / "package-lock.json"
        package = self.app_dir / "package.json"
        if not lock.is_file():
            raise UsageError(f"{self.app_dir}: no package-lock.json (run `npm install --package-lock-only`); "
                             "builds without a lockfile are not reproducible")
        if not json.loads(lock.read_text()).get("packages", {}).keys() - {""}:
            return None  # no dependencies at all
        npm = require_tool("npm")
        node_version = run_tool([self.node_binary(), "--version"]).strip()
        key = content_key(package.read_bytes(), lock.read_bytes(), node_version)

        def populate(tmp: Path) -> None:
            shutil.copy2(package, tmp / "package.json")
            shutil.copy2(lock, tmp / "package-lock.json")
            run_tool([npm, "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund",
                      "--loglevel=error"], cwd=tmp, env={"NODE_EXTRA_CA_CERTS": CA_ENV},
                     what="npm ci")
            # npm leaves a lock copy inside node_modules that records install-time details
            (tmp / "node_modules" / ".package-lock.json").unlink(missing_ok=True)

        return cached_dir("npm", key, populate) / "node_modules"

    def native_plan(self, workdir: Path) -> BuildPlan:
        script = main_script(self.app_dir)
        node = self.node_binary()
        runtime = FileSet("runtime")
        runtime_files(runtime)
        found = closure([node])
        for path in found.files:
            runtime.add_host_path(path)
        if node != "/usr/bin/node":
            runtime.add_symlink("usr/bin/node", node)
        if any("libnode" in os.path.basename(f) for f in found.files):
            for data in NODE_DATA_DIRS:
                if os.path.isdir(data):
                    runtime.add_tree(data, Path(data))
        layers = [runtime.freeze()]
        modules = self.install_deps()
        if modules is not None:
            deps = FileSet("deps")
            deps.add_tree("app/node_modules", modules)
            layers.append(deps.freeze())
        layers.append(app_layer(self.app_dir))
        config = RuntimeConfig(entrypoint=("/usr/bin/node", f"/app/{script}"),
                               env=(("PATH", PATH_ENV), ("NODE_ENV", "production"), ("PORT", DEFAULT_PORT)),
                               workdir="/app", exposed_ports=(f"{DEFAULT_PORT}/tcp",))
        return BuildPlan(self.app_name, self.name, tuple(layers), config)

    def docker_facts(self) -> DockerFacts:
        deps = tuple(n for n in ("package.json", "package-lock.json") if (self.app_dir / n).is_file())
        return DockerFacts("node", deps, main_script(self.app_dir))
