"""Stripped copies of the ELF files a native build puts in an image.

The node build on the npm registry and some Debian libraries ship with symbol tables (node 20:
99 MB, "not stripped"); none of that is needed to run them. binutils' `strip --strip-unneeded`
writes a stripped copy (`-o`: the source is only read). The strip program is part of the build's
lock (Debian's binutils-<triplet>, run from its sysroot), so its version, and so the bytes it
writes, never depend on the build machine; one binutils per target architecture.

Copies are kept under the source's digest and the tool's identity, with the copy's own sha256
beside it: a cached copy that no longer matches (truncated, corrupted) is made again, never used.
A file strip cannot handle, that strip would not make smaller, or whose stripped copy the loader
would refuse, is used as it is.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pare.native.cache import content_key
from pare.native.elf import ELF_MAGIC
from pare.oci.digest import digest_file

STRIP_ARGS = ("--strip-unneeded",)
STRIP_DESCRIPTION = "strip " + " ".join(STRIP_ARGS)
ET_EXEC, ET_DYN = 2, 3  # executables and shared objects; relocatable objects (.o) are left alone
TIMEOUT = 300
FORMAT = "2"  # 2: copies whose segments ld.so would refuse are no longer kept (see loadable)
PAGE = 4096


def strippable(path: Path) -> bool:
    """True for a regular ELF executable or shared object (read from its first 18 bytes)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(18)
    except OSError:
        return False
    if len(head) < 18 or head[:4] != ELF_MAGIC or head[5] not in (1, 2):
        return False
    e_type = int.from_bytes(head[16:18], "little" if head[5] == 1 else "big")
    return e_type in (ET_EXEC, ET_DYN)


def loadable(path: Path) -> bool:
    """Whether ld.so can map every PT_LOAD segment: its file offset and address must agree modulo
    the page size. strip rewrites files that patchelf changed (auditwheel's repaired wheels: numpy's
    bundled OpenBLAS) into copies that break this ("ELF load command address/offset not
    page-aligned"); those are shipped as they were."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    try:
        with open(path, "rb") as fh:
            for segment in ELFFile(fh).iter_segments():
                if segment["p_type"] == "PT_LOAD" and (segment["p_vaddr"] - segment["p_offset"]) % PAGE:
                    return False
    except (ELFError, OSError, ValueError, KeyError, AssertionError):
        return False
    return True


@dataclass(frozen=True)
class Stripped:
    """The file to put in the layer and how many bytes stripping saved (0: the original is used)."""

    path: Path
    saved: int


@dataclass(frozen=True)
class StripTool:
    """How to run strip (the argv prefix: loader, libraries, program) and what identifies it
    (package and version): part of every cache key, so another strip never reuses a copy."""

    command: tuple[str, ...]
    identity: str


class StripCache:
    """Stripped copies keyed by source digest and tool, in a directory shared by builds (safe to delete)."""

    def __init__(self, root: Path, tool: StripTool) -> None:
        self.root = Path(root)
        self.tool = tool

    def strip(self, source: Path) -> Stripped:
        """A stripped copy of `source` when it is an ELF file that strip makes smaller, else source."""
        if not strippable(source):
            return Stripped(source, 0)
        key = content_key(FORMAT, self.tool.identity, digest_file(source).hex)
        done = self.root / key
        original = os.stat(source).st_size
        if self._verified(done):
            return Stripped(done, original - done.stat().st_size)
        unchanged = self.root / f"{key}.unchanged"
        if unchanged.exists():
            return Stripped(source, 0)
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".strip-", dir=self.root)
        os.close(fd)
        try:
            result = subprocess.run([*self.tool.command, *STRIP_ARGS, "-o", tmp, str(source)],
                                    capture_output=True, timeout=TIMEOUT, check=False)
            size = os.stat(tmp).st_size
            if result.returncode != 0 or size == 0 or size >= original or not strippable(Path(tmp)) \
                    or not loadable(Path(tmp)):
                unchanged.touch()
                return Stripped(source, 0)
            os.chmod(tmp, 0o755)
            meta = self.root / f"{key}.json"
            meta.write_text(json.dumps({"sha256": digest_file(Path(tmp)).hex, "size": size}))
            os.replace(tmp, done)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return Stripped(done, original - size)

    def _verified(self, copy: Path) -> bool:
        """True when `copy` exists and still hashes to what was recorded when it was made."""
        try:
            meta = json.loads((copy.parent / f"{copy.name}.json").read_text())
            return copy.stat().st_size == meta["size"] and digest_file(copy).hex == meta["sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            return False


def strip_command(loader: Path, library_dirs: Sequence[Path], program: Path) -> tuple[str, ...]:
    """The argv prefix that runs a sysroot's strip through the sysroot's own loader."""
    return (str(loader), "--library-path", ":".join(map(str, library_dirs)), str(program))
