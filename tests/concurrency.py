"""Workers for the multi-process store tests: each runs in its own process (multiprocessing, fork), so
the stores' file locks are exercised between processes, not only between threads."""

from __future__ import annotations

import hashlib
import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from helpers import make_image, noise


def images_for(worker: int, count: int, workdir: Path) -> list[Any]:
    """`count` distinct three-layer images for one worker; layers big enough that a write takes time."""
    return [make_image(workdir / f"w{worker}-{i}", {"big": noise(300_000, 1000 * worker + i)},
                       {"mid": noise(100_000, 2000 * worker + i)}, {f"id-{worker}-{i}": b"x"})
            for i in range(count)]


def write_layout(path: str, worker: int, count: int, workdir: str) -> None:
    from pare.stores.layout import LayoutStore
    for i, image in enumerate(images_for(worker, count, Path(workdir))):
        LayoutStore(path).write(image, f"w{worker}-{i}")


def gc_until(path: str, stop: Event) -> None:
    from pare.stores.layout import LayoutStore
    while not stop.is_set():
        if (Path(path) / "index.json").exists():
            LayoutStore(path).gc()
        time.sleep(0.001)


def write_archive(path: str, worker: int, count: int, workdir: str) -> None:
    from pare.stores.archive import ArchiveStore
    for i, image in enumerate(images_for(worker, count, Path(workdir))):
        ArchiveStore(path).write(image, f"w{worker}:{i}")


def run_all(jobs: list[tuple[Callable[..., None], tuple[Any, ...]]],
            background: Callable[..., None] | None = None,
            background_args: tuple[Any, ...] = ()) -> list[int]:
    """Start every job in its own process (and `background` until they end); their exit codes."""
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    side = context.Process(target=background, args=(*background_args, stop)) if background else None
    procs = [context.Process(target=target, args=args) for target, args in jobs]
    if side is not None:
        side.start()
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    stop.set()
    if side is not None:
        side.join(timeout=30)
    codes = [proc.exitcode if proc.exitcode is not None else -1 for proc in procs]
    if side is not None:
        codes.append(side.exitcode if side.exitcode is not None else -1)
    return codes


def blob_ok(path: Path, digest: str) -> bool:
    algorithm, hexpart = digest.split(":")
    blob = path / "blobs" / algorithm / hexpart
    return blob.is_file() and hashlib.new(algorithm, blob.read_bytes()).hexdigest() == hexpart
