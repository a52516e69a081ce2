"""Which Debian suite an engine build's bases come from, chosen the way native builds choose.

The engine path's runtimes are Debian's: golang-go, nodejs and python3 of a suite (bookworm: Go
1.19, Node.js 18, Python 3.11; trixie and forky newer). An app's request (go.mod's go line,
engines.node, .python-version / requires-python / runtime.txt, or --runtime) picks the oldest
suite whose runtime satisfies it, so an app that fits bookworm keeps bookworm's bases; --suite
names one suite and nothing else is looked at. A Node.js version no suite carries (16.18.1
exactly, 22.x) is the official build from the npm registry, pinned by version and integrity
(the same resolution the native path locks: pare.native.runtimes.npm), installed in the build
stage of the suite's bases. Go and Python requests no suite satisfies are one error line naming
--runtime.

Bookworm's versions are a table (a stable release: the test suite checks it against the signed
index), so an app that fits it is decided without the network; the newer suites' versions are read
from their signed Packages indexes (pare.bases.apt, refreshed daily).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import nodesemver

from pare.bases.apt import SUITES, Package
from pare.errors import UsageError
from pare.native.lock import Artifact

DEFAULT_SUITE = "bookworm"
# What bookworm's bases carry (golang-go, nodejs, python3); checked against the index in the tests.
BOOKWORM_RUNTIMES = {"go": "1.19.8", "node": "18.20.4", "python": "3.11.2"}
# The package that is each language's runtime in a suite: its default (golang-go and python3 are
# metapackages; the version is the golang-1.N-go / python3.N they depend on).
RUNTIME_PACKAGES = {"go": "golang-go", "node": "nodejs", "python": "python3"}
VERSIONED = {"go": r"golang-\d+\.\d+-go", "python": r"python3\.\d+"}


@dataclass(frozen=True)
class NodeBuild:
    """The official Node.js build and the npm release that serves it, pinned (registry tarballs,
    sha512 from the registry's integrity), for a request no suite's nodejs satisfies."""

    node: Artifact
    npm: Artifact

    @property
    def version(self) -> str:
        return self.node.version


@dataclass(frozen=True)
class EngineRuntime:
    """The suite whose bases build and run the app, the runtime version it carries, and (node
    only) the official build that replaces the suite's nodejs."""

    suite: str
    version: str
    official: NodeBuild | None = None


def upstream(version: str) -> str:
    """'2:1.19~1' -> '1.19', '18.20.4+dfsg-1~deb12u3' -> '18.20.4', '3.13.5-2+deb13u5' -> '3.13.5'."""
    match = re.match(r"(?:\d+:)?(\d+(?:\.\d+)*)", version)
    return match.group(1) if match else version


def index_runtime(index: Mapping[str, Package], language: str) -> str | None:
    """The upstream version of the suite's default runtime for `language` in a package index."""
    pkg = index.get(RUNTIME_PACKAGES[language])
    if pkg is None:
        return None
    pattern = VERSIONED.get(language)
    if pattern is None:
        return upstream(pkg.version)
    for alts in pkg.depends:  # the metapackage's golang-1.N-go / python3.N
        for name in alts:
            if re.fullmatch(pattern, name) and name in index:
                return upstream(index[name].version)
    return None


@cache
def suite_runtimes(suite: str) -> dict[str, str]:
    """The runtime versions a suite's bases carry, by language: bookworm's from the table, the
    others from the suite's signed index."""
    if suite == DEFAULT_SUITE:
        return dict(BOOKWORM_RUNTIMES)
    from pare.native.platforms import host_arch
    from pare.native.runtimes.debian import suite_index
    index = suite_index(suite, host_arch())
    found = {lang: index_runtime(index, lang) for lang in RUNTIME_PACKAGES}
    return {lang: version for lang, version in found.items() if version}


def satisfies(language: str, have: str, wanted: str) -> bool:
    """Whether runtime version `have` answers the app's request `wanted` (go.mod's go line: at
    least; a node range; a Python specifier)."""
    if language == "go":
        asked = [*wanted.split("."), "0"][:3]
        try:
            return tuple(int(p) for p in have.split(".")) >= tuple(int(p) for p in asked)
        except ValueError:
            raise UsageError(f"invalid Go version {wanted!r} (set go.mod's go line, or --runtime go@1.N)"
                             ) from None
    if language == "node":
        return wanted.startswith("lts") or bool(nodesemver.satisfies(have, wanted, True))
    from pare.native.runtimes.python import parse_request  # '3.11' means 3.11.*, as natively
    try:
        return parse_request(wanted).contains(have, prereleases=True)
    except UsageError:
        return True  # not a specifier pare reads: as before, the default runtime is tried


def official_node(wanted: str) -> NodeBuild:
    """The newest official Node.js build that satisfies `wanted`, and the newest npm for it,
    as the native path resolves them (for this machine's architecture: engine builds make images
    for it only)."""
    from pare.native.platforms import host_arch
    from pare.native.runtimes import npm
    from pare.native.runtimes.node import node_package
    arch = host_arch()
    version = npm.node_version(wanted, node_package(arch))
    node = npm.artifact(node_package(arch), version, role="runtime", platform=arch.name)
    cli = npm.artifact("npm", npm.npm_for_node(version), role="toolchain", platform="all")
    return NodeBuild(node, cli)


def choose(language: str, wanted: str | None, suite: str | None = None, *,
           runtimes: Callable[[str], Mapping[str, str]] | None = None,
           node_build: Callable[[str], NodeBuild] | None = None,
           also: Sequence[str] = ()) -> EngineRuntime:
    """The suite (and, for node, maybe the official build) an engine build of this app uses:
    the oldest suite (or the one named) whose runtime satisfies the request; no request keeps
    the suite's default. `also`: node ranges the app's direct dependencies name (their
    engines.node): the oldest suite that answers them too is preferred, and when none does the
    request alone decides, as npm only warns. `runtimes` and `node_build`: the index and registry
    look-ups (suite_runtimes and official_node unless given)."""
    runtimes = runtimes or suite_runtimes
    node_build = node_build or official_node
    if suite is not None and suite not in SUITES:
        raise UsageError(f"unknown suite {suite!r} (choose from {', '.join(SUITES)})")
    suites = (suite,) if suite else SUITES
    first = suites[0]
    needs = [r for r in also if language == "node" and nodesemver.valid_range(r, True) is not None]
    for with_needs in ((True, False) if needs else (False,)):
        for name in suites:
            have = runtimes(name).get(language)
            if have is None or (wanted and not satisfies(language, have, wanted)):
                continue
            if with_needs and not all(nodesemver.satisfies(have, r, True) for r in needs):
                continue
            return EngineRuntime(name, have)
    if not wanted:
        return EngineRuntime(first, runtimes(first).get(language, ""))
    offered = [f"{runtimes(n)[language]} ({n})" for n in suites if runtimes(n).get(language) is not None]
    if language == "node":
        build = node_build(wanted)
        return EngineRuntime(first, build.version, build)
    fix = {"go": "go.mod's go line or --runtime go@1.N", "python": "--runtime python@3.N"}[language]
    raise UsageError(f"no engine base has the {language} the app asks for ({wanted}): the bases carry "
                     f"{', '.join(offered) or 'none'}; set {fix} to one of them"
                     f"{' or drop --suite' if suite else ''}, or build natively (the default)")
