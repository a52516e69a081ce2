"""Debian package sets for native runtimes: resolved in a suite's signed index, pinned as artifacts.

The foundation every native image carries (as distroless does): os-release and debian_version
(base-files; scanners read the distribution from them), CA certificates, tzdata and netbase's
services/protocols, and the init and launcher every image runs under (pare.native.contract).
Languages add their own roots (libc6 and libstdc++ for node, python3.X...).
"""

from __future__ import annotations

from collections.abc import Sequence

from pare.bases.apt import DEFAULT_EXCLUDED_PACKAGES, SUITES, AptSource, Package, PrivateApt, resolve
from pare.bases.cache import apt_dir
from pare.errors import UsageError
from pare.native import contract
from pare.native.lock import Artifact
from pare.native.platforms import Arch

DEFAULT_SUITE = "bookworm"
# ...and the run-time contract's init and launcher (pare.native.contract: catatonit, execline)
FOUNDATION = ("base-files", "netbase", "tzdata", "ca-certificates", *contract.PACKAGES)
# Never in a runtime: package-management and shell plumbing, an init system (a daemon's package
# asks for one, e.g. lighttpd's "systemd-sysv | lsb-base"; catatonit is the image's init), and
# tools whose libraries are wanted but not their programs (openssl for libssl3's sake).
INIT_SYSTEM = ("systemd-sysv", "lsb-base", "sysvinit-utils", "init-system-helpers")
RUNTIME_EXCLUDES = (*DEFAULT_EXCLUDED_PACKAGES, *INIT_SYSTEM, "openssl", "media-types", "libc-l10n",
                    "locales")


def check_suite(suite: str) -> str:
    if suite not in SUITES:
        raise UsageError(f"unknown suite {suite!r} (native runtimes come from {', '.join(SUITES)})")
    return suite


def suite_index(suite: str, arch: Arch, refresh: bool = False) -> dict[str, Package]:
    """The suite's package index for `arch` (fetched into pare's private apt, checked by apt)."""
    apt = PrivateApt(apt_dir(), AptSource.debian(check_suite(suite), arch.debian))
    return apt.index(refresh=refresh)


def artifact_of(pkg: Package, arch: Arch, role: str) -> Artifact:
    platform = "all" if pkg.architecture == "all" else arch.name
    return Artifact("deb", role, platform, pkg.name, pkg.version, f"sha256:{pkg.sha256}", pkg.url)


def resolve_debs(suite: str, arch: Arch, roots: Sequence[str], *, role: str = "runtime",
                 exclude: Sequence[str] = ()) -> list[Artifact]:
    """`roots` and their dependencies (minus the runtime exclusions) in `suite` for `arch`."""
    index = suite_index(suite, arch)
    packages = resolve(index, roots, (*RUNTIME_EXCLUDES, *exclude))
    return [artifact_of(pkg, arch, role) for pkg in packages]
