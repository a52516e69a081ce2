"""The platforms native builds target, and each one's name in every ecosystem pare fetches from.

One row per architecture: the OCI platform, Debian's architecture, the npm registry's node build
suffix, GOARCH, the multiarch triplet (library directories, binutils prefix), the ELF machine
pyelftools reports and the dynamic loader. An image's config says the platform its ELF files were
built for, never the build machine's.
"""

from __future__ import annotations

import platform as _platform
from dataclasses import dataclass

from pare.errors import UsageError
from pare.oci.descriptor import Platform


@dataclass(frozen=True)
class Arch:
    platform: Platform
    debian: str
    npm: str
    go: str
    triplet: str
    elf_machine: str
    loader: str  # PT_INTERP of the architecture's glibc programs
    python_platform: str  # the manylinux wheel tag suffix pip asks for

    @property
    def name(self) -> str:
        """'linux/amd64', 'linux/arm64': as users write it (the OCI platform adds arm64's 'v8')."""
        return f"{self.platform.os}/{self.platform.architecture}"


AMD64 = Arch(Platform("linux", "amd64"), "amd64", "x64", "amd64", "x86_64-linux-gnu", "EM_X86_64",
             "/lib64/ld-linux-x86-64.so.2", "x86_64")
ARM64 = Arch(Platform("linux", "arm64", "v8"), "arm64", "arm64", "arm64", "aarch64-linux-gnu", "EM_AARCH64",
             "/lib/ld-linux-aarch64.so.1", "aarch64")
ARCHES = (AMD64, ARM64)
_MACHINES = {"x86_64": AMD64, "amd64": AMD64, "aarch64": ARM64, "arm64": ARM64}


def arch_for(platform: Platform | str) -> Arch:
    """The Arch for 'linux/amd64', 'linux/arm64[/v8]', 'amd64', 'arm64' (or a Platform)."""
    wanted = platform if isinstance(platform, Platform) else _parse(platform)
    for arch in ARCHES:
        if arch.platform.matches(wanted):
            return arch
    raise UsageError(f"unsupported platform {wanted} (native builds target "
                     f"{', '.join(a.name for a in ARCHES)})")


def _parse(text: str) -> Platform:
    parts = text.strip().split("/")
    if len(parts) == 1:
        parts = ["linux", *parts]
    if parts[0] != "linux" or len(parts) not in (2, 3) or not all(parts):
        raise UsageError(f"invalid platform {text!r}: want linux/ARCH (linux/amd64, linux/arm64)")
    return Platform(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


def parse_platforms(text: str | None) -> tuple[Arch, ...]:
    """`--platform linux/amd64,linux/arm64` -> the Arches, in the order given, without repeats;
    None or empty: the build machine's architecture."""
    if not text:
        return (host_arch(),)
    found: list[Arch] = []
    for part in text.split(","):
        arch = arch_for(part)
        if arch not in found:
            found.append(arch)
    return tuple(found)


def host_arch() -> Arch:
    machine = _platform.machine().lower()
    if machine not in _MACHINES:
        raise UsageError(f"this machine's architecture {machine!r} is not one native builds run on")
    return _MACHINES[machine]


def arch_of_elf_machine(machine: str) -> Arch | None:
    """The Arch whose ELF files say `machine` (pyelftools' e_machine name), if any."""
    return next((a for a in ARCHES if a.elf_machine == machine), None)
