"""Per-blob progress: bars on a terminal, silence otherwise.

Stores call `progress.blob(label, total)` around each blob they move and feed it byte counts; the CLI
decides whether that shows anything. Thread-safe, since blobs move in parallel.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Protocol

Advance = Callable[[int], None]


class Progress(Protocol):
    def blob(self, label: str, total: int | None) -> contextlib.AbstractContextManager[Advance]: ...

    def close(self) -> None: ...


class NullProgress:
    """Reports nothing: the default for libraries and non-terminal output."""

    @contextlib.contextmanager
    def blob(self, label: str, total: int | None) -> Iterator[Advance]:
        yield lambda n: None

    def close(self) -> None:
        return None


class RichProgress:
    """One bar per blob in flight, on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                  TransferSpeedColumn(), TimeRemainingColumn(),
                                  console=Console(stderr=True), transient=True)
        self._lock = threading.Lock()
        self._started = False

    @contextlib.contextmanager
    def blob(self, label: str, total: int | None) -> Iterator[Advance]:
        with self._lock:
            if not self._started:
                self._progress.start()
                self._started = True
            task = self._progress.add_task(label, total=total)
        try:
            yield lambda n: self._progress.advance(task, n)
        finally:
            self._progress.remove_task(task)

    def close(self) -> None:
        with self._lock:
            if self._started:
                self._progress.stop()
                self._started = False


def for_terminal(quiet: bool = False) -> Progress:
    """Bars when stderr is a terminal and the user did not ask for quiet."""
    if quiet or not sys.stderr.isatty():
        return NullProgress()
    return RichProgress()
