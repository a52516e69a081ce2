"""A static front end built by Node (Vite, Create React App, Vue CLI, Parcel...): the build's
output served by a small, pinned static file server, since the app has no server of its own.

What counts as one: a `build` script, a bundler among the dependencies, no start command declared
anywhere (pare.recipes.start) and a `start` script that is absent or runs the bundler's
development server (`vite`, `react-scripts start`...), which platforms never run in production.
The build's output is the first of dist/, build/, out/ holding an index.html.

The server is sirv-cli (MIT, by the author of polka; about 100 kB with its 12 dependencies, no
native code), run by the locked node: it reads PORT (and HOST) when the container starts, serves
the SPA's index.html for unknown paths (`--single`) and precompressed files when asked. Its
packages are resolved from the npm registry once, pinned in pare.lock like every artifact, and
laid out as one flat node_modules in the image. Why not busybox httpd (the plain static recipe's):
reading PORT at start needs its shell, and pare's images have none.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nodesemver

from pare.errors import UsageError
from pare.native.lock import Artifact, Lock
from pare.native.plan import FileSet, LayerPlan
from pare.native.runtimes import npm as npm_registry

SERVER = ("sirv-cli", "3.0.1")
SERVER_DIR = "/usr/lib/pare/static-server"
SERVER_BIN = f"{SERVER_DIR}/node_modules/sirv-cli/bin.js"
OUTPUT_DIRS = ("dist", "build", "out")
# bundler package -> the start-script words that run its development server
BUNDLERS: Mapping[str, tuple[str, ...]] = {
    "vite": ("vite",), "react-scripts": ("react-scripts start",),
    "@vue/cli-service": ("vue-cli-service serve",), "parcel": ("parcel",), "@angular/cli": ("ng serve",),
    "webpack-dev-server": ("webpack serve", "webpack-dev-server"),
}
MAX_PACKAGES = 40  # the server's closure is 13 packages; more means the registry changed under it


def is_static_front_end(package: Mapping[str, Any], declared: bool) -> bool:
    """A bundler builds it and nothing serves it (see the module docstring)."""
    scripts = package.get("scripts") or {}
    if declared or not str(scripts.get("build", "")).strip():
        return False
    deps = {**(package.get("dependencies") or {}), **(package.get("devDependencies") or {})}
    bundlers = [b for b in BUNDLERS if b in deps]
    if not bundlers:
        return False
    start = " ".join(str(scripts.get("start", "")).split())
    dev_servers = [word for b in bundlers for word in BUNDLERS[b]]
    return not start or any(start == word or start.startswith(word + " ") for word in dev_servers)


def build_output(root: Path) -> str | None:
    """The build's output directory (relative to `root`), or None when it made none."""
    return next((d for d in OUTPUT_DIRS if (root / d / "index.html").is_file()), None)


def resolve_server() -> list[Artifact]:
    """sirv-cli at its pinned version and its dependencies' newest versions within their ranges,
    as runtime artifacts (one flat node_modules: every name once)."""
    chosen: dict[str, str] = {}
    queue = [SERVER]
    while queue:
        name, version = queue.pop(0)
        if name in chosen:
            if chosen[name] != version:
                raise UsageError(f"the static server needs {name} at {chosen[name]} and {version}")
            continue
        chosen[name] = version
        if len(chosen) > MAX_PACKAGES:
            raise UsageError(f"the static server {SERVER[0]} needs more than {MAX_PACKAGES} packages")
        manifest = npm_registry.packument(name)["versions"][version]
        for dep, spec in sorted((manifest.get("dependencies") or {}).items()):
            queue.append((dep, _newest(dep, spec)))
    return [npm_registry.artifact(n, v, role="runtime", platform="all") for n, v in sorted(chosen.items())]


def _newest(name: str, spec: str) -> str:
    versions = list(npm_registry.packument(name)["versions"])
    found = nodesemver.max_satisfying(versions, spec, loose=False)
    if found is None:
        raise UsageError(f"no {name} release on the npm registry satisfies {spec!r}")
    return str(found)


def server_layer(lock: Lock) -> LayerPlan:
    """The server's packages, unpacked (each checked against its pinned digest) under SERVER_DIR."""
    fs = FileSet("static-server")
    packages = lock.select(kind="npm", role="runtime", platform="all")  # node's own are per platform
    if SERVER[0] not in {a.name for a in packages}:
        raise UsageError(f"pare.lock has no {SERVER[0]}: run pare build --update-lock")
    for item in packages:
        fs.add_tree(f"{SERVER_DIR.strip('/')}/node_modules/{item.name}", npm_registry.fetch_package(item))
    return fs.freeze()


def server_command(site: str) -> tuple[str, ...]:
    """node SERVER_BIN SITE: the SPA fallback on, every interface, no screen clearing."""
    return ("node", SERVER_BIN, site, "--single", "--host", "0.0.0.0", "--no-clear")
