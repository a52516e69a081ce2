"""Advisory file locks (flock) that hold across processes, and across threads of one process.

Each `locked()` opens its own file description, so two threads of one process exclude each other
just as two processes do. `remove=True` deletes the lock file on release without a race: a waiter
that then wins the lock finds its file unlinked (or replaced), and tries again on the new one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class Busy(Exception):
    """A non-blocking lock attempt found the lock held by someone else."""


@contextlib.contextmanager
def locked(path: Path, *, shared: bool = False, blocking: bool = True,
           remove: bool = False) -> Iterator[None]:
    """Hold `path` locked (exclusive, or shared with other shared holders) for the `with` block.

    Raises Busy at once when `blocking` is False and another holder conflicts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if blocking else fcntl.LOCK_NB)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, mode)
        except BlockingIOError:
            os.close(fd)
            raise Busy(str(path)) from None
        except BaseException:
            os.close(fd)
            raise
        if _same_file(fd, path):
            break
        os.close(fd)  # the holder before us removed it: lock the file that is there now
    try:
        yield
    finally:
        try:
            if remove and not shared:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        finally:
            os.close(fd)  # closing the last descriptor releases the lock


def is_locked(path: Path) -> bool:
    """True when someone holds `path` (shared or exclusive); a missing file is not locked."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)  # flock needs no write access
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)
