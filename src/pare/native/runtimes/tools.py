"""Build tools every native build uses, pinned like the runtime: binutils' strip, one per target
architecture (Debian's binutils-<triplet>, a package of this machine's architecture), from the same
suite as the runtime, so it understands the ELF files it is given."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pare.errors import UsageError
from pare.native.elf import resolve_path
from pare.native.lock import Artifact, Lock
from pare.native.platforms import Arch, host_arch
from pare.native.runtimes.debian import resolve_debs
from pare.native.strip import StripTool, strip_command
from pare.native.sysroot import ensure_sysroot

# base-files' major version is the Debian release: 12 bookworm, 13 trixie, 14 forky
RELEASES = {"12": "bookworm", "13": "trixie", "14": "forky"}


def binutils_package(arch: Arch) -> str:
    return f"binutils-{arch.triplet.replace('_', '-')}"


def suite_of(artifacts: Sequence[Artifact]) -> str:
    """The Debian suite the runtime was resolved in, read from its base-files version."""
    for item in artifacts:
        if item.kind == "deb" and item.name == "base-files":
            major = re.match(r"(\d+)", item.version)
            if major and major.group(1) in RELEASES:
                return RELEASES[major.group(1)]
    raise UsageError("the runtime has no base-files package to tell its Debian suite by")


def resolve(artifacts: Sequence[Artifact], arches: Sequence[Arch]) -> list[Artifact]:
    """strip for every target architecture, as toolchain artifacts of this machine."""
    suite = suite_of(artifacts)
    return resolve_debs(suite, host_arch(), [binutils_package(a) for a in arches], role="toolchain")


def strip_tool(lock: Lock, arch: Arch) -> StripTool:
    """The locked strip for `arch`'s ELF files, run through its sysroot's loader."""
    package = binutils_package(arch)
    found = [a for a in lock.select(kind="deb", role="toolchain") if a.name == package]
    if not found:
        raise UsageError(f"pare.lock has no {package} (strip): run pare build --update-lock")
    host = host_arch()
    sysroot = ensure_sysroot(lock.select(kind="deb", role="toolchain", platform=host.name), host)
    _links, real = resolve_path(f"/usr/bin/{arch.triplet}-strip", sysroot.root)
    program = sysroot.host(real)
    if not program.is_file():
        raise UsageError(f"{package} in pare.lock has no {arch.triplet}-strip")
    loader = sysroot.host(host.loader)
    libs = [sysroot.host(d) for d in sysroot.library_dirs()]
    return StripTool(strip_command(loader, libs, program), f"{package} {found[0].version}")
