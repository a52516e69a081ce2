"""A static front end built by Node (Vite, Create React App, Vue CLI, Parcel...): the build's
output served by a small, pinned static file server, since the app has no server of its own.

What counts as one: a `build` script, a bundler among the dependencies, no start command declared
anywhere (pare.recipes.start) and a `start` script that is absent or runs the bundler's
development server (`vite`, `react-scripts start`...), which platforms never run in production.
The build's output is the first of dist/, build/, out/ holding an index.html.

Native images ship no Node at all: Debian's lighttpd (a 400 kB C server; its library closure
is libc, pcre2, nettle and xxhash) serves the output with the configuration SERVER_CONFIG writes.
It reads PORT when the container starts (`server.port = env.PORT`: its own config language, no
shell), answers a path that is no file with index.html and a 200 (client-side routing), exits on
SIGTERM, and runs as the image's non-root user. The MIME table is pare's (WEB_TYPES), not the
build host's, so the same lock gives the same image anywhere.

Engine builds (whose final stage is a node base) serve the output with sirv-cli (MIT, by the
author of polka; about 100 kB with its 12 dependencies, no native code) run by the locked node: it
reads PORT (and HOST) at start and serves index.html for unknown paths (`--single`). Its packages
are resolved from the npm registry once, pinned in pare.lock like every artifact, and installed
at those versions. Why not busybox httpd (the plain static recipe's): reading PORT at start needs
its shell, and it has no fallback to index.html.
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

SERVER = ("sirv-cli", "3.0.1")  # the engine path's server, run by node
SERVER_DIR = "/usr/lib/pare/static-server"
SERVER_BIN = f"{SERVER_DIR}/node_modules/sirv-cli/bin.js"
OUTPUT_DIRS = ("dist", "build", "out")
# bundler package -> the start-script words that run its development server
BUNDLERS: Mapping[str, tuple[str, ...]] = {
    "vite": ("vite",), "react-scripts": ("react-scripts start",),
    "@vue/cli-service": ("vue-cli-service serve",), "parcel": ("parcel",), "@angular/cli": ("ng serve",),
    "webpack-dev-server": ("webpack serve", "webpack-dev-server"),
}
# the native image's server: Debian's lighttpd, with pare's configuration
NATIVE_SERVER_PACKAGES = ("lighttpd",)
LIGHTTPD = "/usr/sbin/lighttpd"
SERVER_CONFIG = "/etc/pare/static-server.conf"
# What browsers need typed right (module scripts, styles, wasm, fonts, images, media, manifests);
# anything else is application/octet-stream.
WEB_TYPES: Mapping[str, str] = {
    ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
    ".cjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".json": "application/json", ".map": "application/json", ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
    ".xml": "application/xml", ".csv": "text/csv; charset=utf-8", ".wasm": "application/wasm",
    ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon",
    ".bmp": "image/bmp", ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf",
    ".otf": "font/otf", ".eot": "application/vnd.ms-fontobject", ".mp4": "video/mp4",
    ".webm": "video/webm", ".ogg": "audio/ogg", ".mp3": "audio/mpeg", ".wav": "audio/wav",
    ".pdf": "application/pdf", ".zip": "application/zip", ".gz": "application/gzip",
}
# what pare.lock's request records of the servers (a change resolves the lock again)
SERVER_PINS = f"native: {NATIVE_SERVER_PACKAGES[0]} from the suite; engines: {'@'.join(SERVER)}"
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


def native_server_config(site: str) -> bytes:
    """lighttpd's configuration: `site` as the document root, PORT read from the environment at
    start, every path that is no file answered by /index.html (a 200), directory indexes off."""
    if '"' in site or "\\" in site:
        raise UsageError(f"the static site's directory {site!r} has a quote or backslash")
    types = ",\n".join(f'  "{ext}" => "{kind}"' for ext, kind in sorted(WEB_TYPES.items()))
    return (f'server.document-root = "{site}"\n'
            "server.port = env.PORT\n"
            'server.modules = ("mod_rewrite")\n'
            'index-file.names = ("index.html")\n'
            'url.rewrite-if-not-file = ("" => "/index.html")\n'
            'server.tag = ""\n'
            f"mimetype.assign = (\n{types}\n)\n").encode()


def native_server_layer(site: str) -> LayerPlan:
    """The configuration lighttpd reads (its program and libraries are in the runtime layer)."""
    fs = FileSet("static-server")
    fs.add_dir(SERVER_CONFIG.strip("/").rpartition("/")[0])
    fs.add_bytes(SERVER_CONFIG.strip("/"), native_server_config(site))
    return fs.freeze()


def native_server_command() -> tuple[str, ...]:
    """lighttpd in the foreground (-D) with pare's configuration."""
    return (LIGHTTPD, "-D", "-f", SERVER_CONFIG)


def server_command(site: str) -> tuple[str, ...]:
    """node SERVER_BIN SITE: the SPA fallback on, every interface, no screen clearing."""
    return ("node", SERVER_BIN, site, "--single", "--host", "0.0.0.0", "--no-clear")
