"""Files pare publishes follow the umask, as skopeo and umoci write theirs.

A file is written under a private temp name (mkstemp makes it 0600, so nobody reads half of it),
then given the mode a plain `open()` would have given it (0666 less the umask: 0644 under 022, 0640
under 027) and renamed into place. Blobs, index.json, archives, SBOMs, SARIF and reports all go
through `publish`, so a layout written by one user or CI step can be read by the next.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path


@functools.cache
def umask() -> int:
    """The process umask. Read from /proc (no change to the process); else set-and-restore, once."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def public_mode(base: int = 0o666) -> int:
    """The mode a new file gets from `open()` under the current umask."""
    return base & ~umask()


def publish(tmp: str | Path, final: str | Path) -> None:
    """Give the finished temp file its umask mode, then rename it over `final` (atomic)."""
    os.chmod(tmp, public_mode())
    os.replace(tmp, final)


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write `data` to `path` whole or not at all: a private temp file beside it, then `publish`.
    Text gets a final newline if it lacks one."""
    if isinstance(data, str):
        data = (data if data.endswith("\n") else data + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
