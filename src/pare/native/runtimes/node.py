"""Node.js from pinned packages: the official node build from the npm registry, glibc and libstdc++
from Debian, npm from the npm registry. The build machine's own node and npm are never used.

Resolution turns a request (a version range, or none: the current LTS) into lock artifacts: the
node build for every target platform (and for this machine, which runs npm), the newest npm that
supports that node, and the Debian packages of the runtime foundation plus node's libraries.

Two runtimes can ship (the `node-runtime` setting, docs/runtimes.md): the official build (one
static-ish binary with V8, OpenSSL and full ICU inside), or Debian's `nodejs` from the suite whose
version satisfies the request (a small /usr/bin/node linking the shared libnode, ICU, libuv,
OpenSSL, brotli, c-ares, nghttp2..., each a .deb with its status.d entry, so a scanner reads every
library by package). With Debian's, the official build of the same version still runs npm and
gives native addons their headers: it never ships.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import nodesemver

from pare.bases.apt import SUITES
from pare.errors import UsageError
from pare.native import sandbox
from pare.native.lock import Artifact, Lock
from pare.native.platforms import Arch, host_arch
from pare.native.process import run_tool
from pare.native.rootfs import RuntimeSpec
from pare.native.runtimes import npm
from pare.native.runtimes.debian import FOUNDATION, resolve_debs, suite_index
from pare.native.sysroot import Sysroot, ensure_sysroot

NODE_LIBS = ("libc6", "libstdc++6", "libgcc-s1", "libatomic1")  # node 24+ links libatomic
NODE_PATH = "/usr/local/bin/node"
NODE_LICENSE = "/usr/local/share/doc/node/LICENSE"
PATH_ENV = "/usr/local/bin:/usr/bin:/bin"
OFFICIAL, DEBIAN = "official", "debian"
DEFAULT_NODE_RUNTIME = OFFICIAL  # the measured choice: docs/runtimes.md, benchmarks/node_runtime.py
DEBIAN_NODE = "/usr/bin/node"
DEBIAN_PACKAGE = "nodejs"
# Debian's nodejs reads its unbundled dependencies (acorn, cjs-module-lexer, undici...) from here at
# start; TypeScript declarations and corepack (a package manager launcher) are never read by an app.
DEBIAN_NODE_TREE = ("/usr/share/nodejs", ("@types", "corepack", "*.d.ts", "*.md", "*.map"))


def node_package(arch: Arch) -> str:
    return f"node-linux-{arch.npm}"


def upstream_version(debian_version: str) -> str:
    """Node's own version in a Debian version: 18.20.4+dfsg-1~deb12u3 -> 18.20.4."""
    return debian_version.split(":", 1)[-1].split("+", 1)[0].split("~", 1)[0].split("-", 1)[0]


def debian_versions(arch: Arch) -> dict[str, str]:
    """Suite -> the node version its nodejs package carries (from the suite's signed index)."""
    found = {}
    for suite in SUITES:
        pkg = suite_index(suite, arch).get(DEBIAN_PACKAGE)
        if pkg is not None:
            found[suite] = upstream_version(pkg.version)
    return found


def pick_debian_suite(spec: str | None, versions: Mapping[str, str], suite: str | None = None) -> str:
    """The suite whose nodejs satisfies `spec` (an npm range; None or lts/*: any): the one given,
    else the one with the newest satisfying version. One UsageError naming what each suite has."""
    text = (spec or "*").strip().lstrip("v")
    wanted = "*" if text in ("", "lts", "node", "latest", "current") or text.startswith("lts/") else text
    fits = {s: v for s, v in versions.items() if (suite is None or s == suite)
            and nodesemver.satisfies(v, wanted, loose=False)}
    if not fits:
        have = ", ".join(f"{s} {v}" for s, v in versions.items())
        where = f"Debian {suite}'s nodejs does not satisfy" if suite else "no Debian suite's nodejs satisfies"
        raise UsageError(f"{where} node {spec!r} ({have}): use --node-runtime official, or "
                         f"ask for a version a suite carries")
    newest = npm.pick(fits.values(), "*")
    return next(s for s, v in fits.items() if v == newest)


def debian_suite(spec: str | None, suite: str | None) -> str:
    """The suite Debian's nodejs comes from for this request (see pick_debian_suite)."""
    return pick_debian_suite(spec, debian_versions(host_arch()), suite)


def resolve(spec: str | None, suite: str, arches: Sequence[Arch], *,
            npm_spec: str | None = None, runtime: str = OFFICIAL,
            packages: Sequence[str] = ()) -> list[Artifact]:
    """Every artifact a node app's image and its dependency install need, for `arches`.
    npm_spec: the npm versions the project accepts (engines.npm, a packageManager pin).
    runtime: official, or debian (`suite` is then the one debian_suite chose).
    packages: more Debian packages the image may ship (resolved with the runtime's, one closure)."""
    host = host_arch()
    roots: tuple[str, ...] = (*FOUNDATION, *NODE_LIBS, *packages)
    if runtime == DEBIAN:  # the official build of the same version runs npm and gives addon headers
        index = suite_index(suite, host)
        version = npm.node_version(upstream_version(index[DEBIAN_PACKAGE].version), node_package(host))
        roots = (*roots, DEBIAN_PACKAGE)
        shipped = "toolchain"
    else:
        version = npm.node_version(spec, node_package(host))
        shipped = "runtime"
    artifacts = [npm.artifact(node_package(a), version, role=shipped, platform=a.name) for a in arches]
    if host not in arches:
        artifacts.append(npm.artifact(node_package(host), version, role="toolchain", platform=host.name))
    npm_version = npm.npm_for_node(version, npm_spec)
    artifacts.append(npm.artifact("npm", npm_version, role="toolchain", platform="all"))
    for arch in arches:
        artifacts += resolve_debs(suite, arch, roots)
    return artifacts


@dataclass(frozen=True)
class NodeRuntime:
    """The locked node runtime for one target platform."""

    lock: Lock
    arch: Arch

    def _one(self, name: str) -> Artifact:
        found = [a for a in self.lock.select(kind="npm") if a.name == name]
        if len(found) != 1:
            raise UsageError(f"pare.lock has {len(found)} entries for {name}: run pare build --update-lock")
        return found[0]

    @property
    def version(self) -> str:
        return self._one(node_package(self.arch)).version

    @cached_property
    def debian(self) -> bool:
        """Debian's nodejs ships (it is among the lock's runtime packages), not the official build."""
        debs = self.lock.select(kind="deb", role="runtime", platform=self.arch.name)
        return any(a.name == DEBIAN_PACKAGE for a in debs)

    @cached_property
    def package(self) -> Path:
        """The target's node package (bin/node, LICENSE, include/node for native addons)."""
        return npm.fetch_package(self._one(node_package(self.arch)))

    @cached_property
    def host_node(self) -> Path:
        return npm.fetch_package(self._one(node_package(host_arch()))) / "bin" / "node"

    @cached_property
    def npm_cli(self) -> Path:
        return npm.fetch_package(self._one("npm")) / "bin" / "npm-cli.js"

    @property
    def npm_version(self) -> str:
        return self._one("npm").version

    @cached_property
    def sysroot(self) -> Sysroot:
        debs = self.lock.select(kind="deb", role="runtime", platform=self.arch.name)
        return ensure_sysroot(debs, self.arch)

    def layer_spec(self) -> RuntimeSpec:
        """Official: node and its licence beside the sysroot's libc. Debian: /usr/bin/node with its
        library closure and the JS it reads at start, from the packages (status.d for each), and
        NODE_PATH a link to it, so every image starts node by the same path."""
        if self.debian:
            return RuntimeSpec(elf=(DEBIAN_NODE,), trees=(DEBIAN_NODE_TREE,), links={NODE_PATH: DEBIAN_NODE})
        return RuntimeSpec(elf=(NODE_PATH,),
                           extra={NODE_PATH: (self.package / "bin" / "node", 0o755),
                                  NODE_LICENSE: (self.package / "LICENSE", 0o644)})

    def tool(self, name: str) -> Path:
        """A locked toolchain package (yarn, pnpm, @yarnpkg/cli-dist), unpacked."""
        return npm.fetch_package(self._one(name))

    @cached_property
    def node_gyp(self) -> Path:
        """npm's own node-gyp, which builds native addons for every package manager."""
        return self.npm_cli.parent.parent / "node_modules" / "node-gyp" / "bin" / "node-gyp.js"

    def shims(self, into: Path, tools: Mapping[str, Path]) -> Path:
        """A directory of `name -> node SCRIPT` launchers for the PATH of install and build scripts
        (npm, node-gyp and the project's package manager, all run by the locked node)."""
        into.mkdir(parents=True, exist_ok=True)
        for name, script in {"npm": self.npm_cli, "node-gyp": self.node_gyp, **tools}.items():
            shim = into / name
            shim.write_text(f'#!/bin/sh\nexec "{self.host_node}" "{script}" "$@"\n')
            shim.chmod(0o755)
        return into

    def install_env(self, npm_cache: Path, shims: Path | None = None) -> dict[str, str]:
        """What every package manager and install script runs with (nothing of the caller's own
        environment: no NPM_CONFIG_*, NODE_OPTIONS or tokens): the pinned node first on PATH,
        npm's config isolated from the user's (an empty userconfig and globalconfig, a cache of
        pare's own), native addons compiled from source against the target node's own headers
        (npm_config_nodedir: nothing downloaded, nothing of the host's node), with file paths made
        relative so the same sources give the same addon bytes."""
        npm_cache.mkdir(parents=True, exist_ok=True)
        for name in ("userconfig", "globalconfig"):  # npm refuses to load one file as both configs
            (npm_cache / f"empty-{name}").touch()
        path = f"{self.host_node.parent}:{sandbox.BASE_ENV['PATH']}"  # never the caller's PATH
        if shims is not None:
            path = f"{shims}:{path}"
        env = {"npm_config_cache": str(npm_cache),
               "npm_config_userconfig": str(npm_cache / "empty-userconfig"),
               "npm_config_globalconfig": str(npm_cache / "empty-globalconfig"),
               "npm_config_update_notifier": "false",
               "npm_config_fund": "false", "npm_config_audit": "false",
               "npm_config_nodedir": str(self.package), "npm_config_build_from_source": "true",
               "npm_config_node_gyp": str(self.node_gyp), "PATH": path}
        for bundle in ("/etc/ssl/certs/ca-certificates.crt",):  # proxies with their own CA
            if os.path.isfile(bundle):
                env.setdefault("NODE_EXTRA_CA_CERTS", bundle)
        return env

    def run_js(self, script: Path, args: Sequence[str], cwd: Path, *, env: Mapping[str, str],
               what: str, writable: Sequence[Path] = (), network: bool = False) -> str:
        """Run a JavaScript program (a package manager) with the pinned node in the build sandbox
        (`cwd` and `writable` are the trees it may write; network: it fetches); its failure is one
        BuildFailed line carrying the tail of its output."""
        return run_tool([str(self.host_node), str(script), *args], cwd=cwd, env=env, what=what,
                        writable=(cwd, *writable), network=network)

    def npm(self, args: Sequence[str], cwd: Path, *, npm_cache: Path, env: dict[str, str] | None = None,
            what: str = "npm") -> str:
        """Run the pinned npm with the pinned node (this machine's build of it): the user's npmrc
        and npm cache are never read; dependencies for another architecture are chosen with
        npm's --cpu/--os (pure-JS packages are the same everywhere)."""
        argv = list(args)
        if self.arch != host_arch():
            argv += [f"--cpu={self.arch.npm}", "--os=linux", "--libc=glibc"]
        return self.run_js(self.npm_cli, argv, cwd, env={**self.install_env(npm_cache), **(env or {})},
                           what=what, writable=(npm_cache,), network=True)
