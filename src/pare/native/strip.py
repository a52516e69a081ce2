"""Stripped copies of the ELF files a native build copies from the host.

Debian ships node, python and their libraries with symbol tables (node 20: 99 MB, "not stripped");
none of that is needed to run them. binutils' `strip --strip-unneeded` writes a stripped copy next
to the cache (`-o`: the host file is only read, never changed); the copy is kept under the source's
content digest, so a rebuild, or another app using the same runtime, strips nothing again.
A file strip cannot handle, or that strip would not make smaller, is used as it is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pare.native.elf import ELF_MAGIC
from pare.oci.digest import digest_file

STRIP_ARGS = ("--strip-unneeded",)
STRIP_DESCRIPTION = "strip " + " ".join(STRIP_ARGS)
ET_EXEC, ET_DYN = 2, 3  # executables and shared objects; relocatable objects (.o) are left alone
TIMEOUT = 300


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


@dataclass(frozen=True)
class Stripped:
    """The file to put in the layer and how many bytes stripping saved (0: the original is used)."""

    path: Path
    saved: int


class StripCache:
    """Stripped copies by the original's sha256, in a directory shared by builds (safe to delete)."""

    def __init__(self, root: Path, tool: str | None = None) -> None:
        self.root = Path(root)
        self.tool = tool or shutil.which("strip")

    @property
    def available(self) -> bool:
        return self.tool is not None

    def strip(self, source: Path) -> Stripped:
        """A stripped copy of `source` when it is an ELF file that strip makes smaller, else source."""
        if self.tool is None or not strippable(source):
            return Stripped(source, 0)
        key = digest_file(source).hex
        done = self.root / key
        original = os.stat(source).st_size
        if done.is_file():
            return Stripped(done, original - done.stat().st_size)
        unchanged = self.root / f"{key}.unchanged"
        if unchanged.exists():
            return Stripped(source, 0)
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".strip-", dir=self.root)
        os.close(fd)
        try:
            result = subprocess.run([self.tool, *STRIP_ARGS, "-o", tmp, str(source)], capture_output=True,
                                    timeout=TIMEOUT, check=False)
            size = os.stat(tmp).st_size
            if result.returncode != 0 or size == 0 or size >= original or not strippable(Path(tmp)):
                unchanged.touch()
                return Stripped(source, 0)
            os.chmod(tmp, 0o755)
            os.replace(tmp, done)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return Stripped(done, original - size)
