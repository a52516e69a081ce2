"""Target platforms: parsing --platform, each ecosystem's name for an architecture, ELF machines."""

from __future__ import annotations

import pytest

from pare.errors import UsageError
from pare.native.assemble import elf_machine, plan_platform
from pare.native.plan import BuildPlan, FileEntry, LayerPlan, RuntimeConfig
from pare.native.platforms import AMD64, ARM64, arch_for, arch_of_elf_machine, parse_platforms
from pare.oci.descriptor import Platform


def test_parse_platforms_in_order_without_repeats() -> None:
    assert parse_platforms("linux/amd64,linux/arm64") == (AMD64, ARM64)
    assert parse_platforms("arm64, linux/arm64/v8,amd64") == (ARM64, AMD64)
    assert arch_for("linux/arm64").npm == "arm64" and arch_for("amd64").npm == "x64"
    assert (ARM64.debian, ARM64.go, ARM64.triplet) == ("arm64", "arm64", "aarch64-linux-gnu")
    assert str(ARM64.platform) == "linux/arm64/v8"


@pytest.mark.parametrize("text", ["windows/amd64", "linux/s390x", "linux/", "/amd64", "linux/amd64/v2/x"])
def test_unsupported_platforms_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_platforms(text)


def _elf(machine: int, e_type: int = 2) -> bytes:
    head = bytearray(64)
    head[:4] = b"\x7fELF"
    head[4], head[5] = 2, 1  # 64-bit, little endian
    head[16:18] = e_type.to_bytes(2, "little")
    head[18:20] = machine.to_bytes(2, "little")
    return bytes(head)


def test_config_platform_comes_from_the_elf_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    arm = tmp_path / "arm"
    arm.write_bytes(_elf(183))
    x86 = tmp_path / "x86"
    x86.write_bytes(_elf(62))
    relocatable = tmp_path / "obj.so"
    relocatable.write_bytes(_elf(62, e_type=1))
    assert (elf_machine(arm), elf_machine(x86), elf_machine(relocatable)) == ("EM_AARCH64", "EM_X86_64", None)
    assert arch_of_elf_machine("EM_AARCH64") == ARM64

    def plan(*files: tuple[str, object]) -> BuildPlan:
        entries = tuple(FileEntry(name, "file", 0o755, source=src) for name, src in files)  # type: ignore[arg-type]
        return BuildPlan("a", "go", (LayerPlan("app", entries),), RuntimeConfig(),
                         platform=Platform("linux", "amd64"))

    assert plan_platform(plan(("app/bin", arm))) == ARM64.platform  # the file wins over the target
    assert plan_platform(plan()) == Platform("linux", "amd64")
    from pare.native.elf import ElfError
    with pytest.raises(ElfError, match="mixes"):
        plan_platform(plan(("a", arm), ("b", x86)))
