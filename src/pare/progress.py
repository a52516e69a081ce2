"""Progress on stderr: a bar on a terminal, one plain line every few seconds otherwise.

Stores call `progress.blob(label, total)` around each blob they move and feed it byte counts; the CLI
decides whether that shows anything (`for_terminal`). Long commands with no byte counts (a cold
build, a scan's layers) use `heartbeat` and `steps`. Stdout stays for results: a script that reads
`pare pull -q` gets the digest and nothing else, a CI log still sees the job is alive.
Thread-safe, since blobs move in parallel.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol, TextIO

Advance = Callable[[int], None]
Step = Callable[[int, int, str], None]  # (index, total, message)


def interval() -> float:
    """Seconds between plain progress lines (PARE_PROGRESS_SECONDS; default 5)."""
    try:
        return max(0.0, float(os.environ.get("PARE_PROGRESS_SECONDS", "5")))
    except ValueError:
        return 5.0


class Progress(Protocol):
    def blob(self, label: str, total: int | None) -> contextlib.AbstractContextManager[Advance]: ...

    def close(self) -> None: ...


class NullProgress:
    """Reports nothing: the default for libraries, and for --quiet and --json."""

    @contextlib.contextmanager
    def blob(self, label: str, total: int | None) -> Iterator[Advance]:
        yield lambda n: None

    def close(self) -> None:
        return None


class LineProgress:
    """For a log, not a terminal: every `every` seconds one line of bytes moved so far."""

    def __init__(self, what: str = "moving", stream: TextIO | None = None,
                 every: float | None = None) -> None:
        self._what = what
        self._stream = stream or sys.stderr
        self._every = interval() if every is None else every
        self._lock = threading.Lock()
        self._done = 0
        self._total = 0
        self._in_flight = 0
        self._started = time.monotonic()
        self._last = self._started

    @contextlib.contextmanager
    def blob(self, label: str, total: int | None) -> Iterator[Advance]:
        with self._lock:
            self._total += total or 0
            self._in_flight += 1
        try:
            yield self._advance
        finally:
            with self._lock:
                self._in_flight -= 1

    def _advance(self, n: int) -> None:
        with self._lock:
            self._done += n
            now = time.monotonic()
            if now - self._last < self._every:
                return
            self._last = now
            line = (f"pare: {self._what}: {self._done / 1e6:.1f} of {self._total / 1e6:.1f} MB, "
                    f"{self._in_flight} blobs in flight, {now - self._started:.0f} s\n")
        self._stream.write(line)
        self._stream.flush()

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


def for_terminal(quiet: bool = False, what: str = "moving") -> Progress:
    """Bars when stderr is a terminal, a line every few seconds when it is a log, nothing when quiet."""
    if quiet:
        return NullProgress()
    if not sys.stderr.isatty():
        return LineProgress(what)
    return RichProgress()


@contextlib.contextmanager
def heartbeat(what: str, quiet: bool = False, stream: TextIO | None = None,
              every: float | None = None) -> Iterator[None]:
    """For work that reports no bytes (a cold build): a spinner on a terminal, else a line every few
    seconds ("pare: building: 10 s"), so a CI log shows the job is alive."""
    out = stream or sys.stderr
    if quiet:
        yield
        return
    if out.isatty():
        from rich.console import Console
        with Console(file=out).status(f"{what}..."):
            yield
        return
    period = interval() if every is None else every
    stop = threading.Event()
    started = time.monotonic()

    def beat() -> None:
        while not stop.wait(period):
            out.write(f"pare: {what}: {time.monotonic() - started:.0f} s\n")
            out.flush()

    thread = threading.Thread(target=beat, name="pare-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def steps(what: str, quiet: bool = False, stream: TextIO | None = None) -> Step | None:
    """A callback for numbered steps (a scan's layers): one rewritten line on a terminal, else a line
    every few seconds. None when quiet."""
    if quiet:
        return None
    out = stream or sys.stderr
    if out.isatty():
        def on_terminal(index: int, total: int, message: str) -> None:
            out.write(f"\r\x1b[2K{what} {message}" + ("\n" if index >= total else ""))
            out.flush()
        return on_terminal
    period = interval()
    last = [time.monotonic()]

    def in_log(index: int, total: int, message: str) -> None:
        now = time.monotonic()
        if now - last[0] >= period:
            last[0] = now
            out.write(f"pare: {what} {index}/{total}: {message}\n")
            out.flush()
    return in_log
