"""pare's caches, as data: what each holds, where it lives, and whether it may go while pare runs.

`pare prune` reads this list; a part of pare that adds a cache registers it here (`register`), so
prune knows it without knowing the part. A cache's `path` is a function (the directories honour
environment overrides, read when asked), and `locks` names the lock files its users hold (flock)
while they use it: prune skips a cache whose lock is held, with a message, rather than pull files
from under a build.

A cache that is not `safe_while_running` is also skipped while any pare command that uses caches
runs: those commands hold `running()` shared for their whole life (cli/main.py takes it for the
commands in COMMANDS_USING_CACHES; a library caller can take it too), and prune probes it.

This module imports nothing heavy (no dataclasses, pathlib or shutil at load time): cli/main.py
loads it for every command, `pare --help` included.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from pathlib import Path

# the commands that read or fill build caches; every other command starts without touching a lock
COMMANDS_USING_CACHES = frozenset({"build", "base", "bench"})


def _no_locks() -> list[Path]:
    return []


class Cache(NamedTuple):
    """One cache directory pare can rebuild from scratch."""

    name: str
    path: Callable[[], Path]
    description: str
    safe_while_running: bool  # may it go while another pare command runs?
    locks: Callable[[], list[Path]] = _no_locks  # held (flock) by its users


_REGISTRY: dict[str, Cache] = {}


def register(cache: Cache) -> Cache:
    """Add (or replace) a cache by name; returns it."""
    _register_builtin()
    _REGISTRY[cache.name] = cache
    return cache


def registered() -> list[Cache]:
    """Every known cache: pare's own, then any others registered, in registration order."""
    _register_builtin()
    return list(_REGISTRY.values())


def lock_dir() -> Path:
    """Where pare keeps its process-wide lock files (under the user cache dir)."""
    from pathlib import Path  # here, as platformdirs: this module is imported at every start-up

    import platformdirs
    return Path(platformdirs.user_cache_dir("pare")) / "locks"


@contextlib.contextmanager
def running() -> Iterator[None]:
    """Say, for the `with` block, that a pare process that may use caches is running."""
    from pare.stores.locking import locked
    with locked(lock_dir() / "running.lock", shared=True):
        yield


@contextlib.contextmanager
def held_by_command(args: Sequence[str]) -> Iterator[None]:
    """`running()` for the commands that use caches (the first word of `args` that is not an option)."""
    command = next((a for a in args if not a.startswith("-")), None)
    if command not in COMMANDS_USING_CACHES:
        yield
        return
    with running():
        yield


def another_pare_running() -> bool:
    from pare.stores.locking import is_locked
    return is_locked(lock_dir() / "running.lock")


# --- sizes and pruning ------------------------------------------------------------------------------
def disk_usage(path: Path) -> int:
    """Bytes on disk under `path` (as du counts them: allocated blocks, each hard-linked file once)."""
    if not path.exists() and not path.is_symlink():
        return 0
    seen: set[tuple[int, int]] = set()
    total = 0
    for root, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            try:
                st = os.lstat(os.path.join(root, name))
            except FileNotFoundError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


class PruneResult(NamedTuple):
    """What prune did to one cache: removed, skipped (and why), or nothing there."""

    name: str
    path: Path
    description: str
    before: int  # bytes on disk
    after: int
    status: str  # "removed", "would remove" (dry run), "absent", "skipped"
    reason: str = ""

    @property
    def freed(self) -> int:
        """Bytes given back; for a dry run, the bytes it would give back."""
        return self.before if self.status == "would remove" else self.before - self.after

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "path": str(self.path), "description": self.description,
                "before": self.before, "after": self.after, "freed": self.freed,
                "status": self.status, "reason": self.reason}


def in_use(cache: Cache) -> str | None:
    """Why `cache` must not be removed now, or None."""
    from pare.stores.locking import is_locked
    for lock in cache.locks():
        if is_locked(lock):
            return f"in use (locked: {lock})"
    if not cache.safe_while_running and another_pare_running():
        return "in use (a pare build, base or bench command is running)"
    return None


def prune(caches: Sequence[Cache], *, dry_run: bool = False) -> list[PruneResult]:
    """Remove each cache's directory unless it is in use; sizes before and after."""
    results = []
    for cache in caches:
        path = cache.path()
        before = disk_usage(path)
        reason = ""
        if before == 0 and not path.exists():
            status, after = "absent", 0
        elif (busy := in_use(cache)) is not None:
            status, after, reason = "skipped", before, busy
        elif dry_run:
            status, after = "would remove", before
        else:
            _remove(path)
            status, after = "removed", disk_usage(path)
        results.append(PruneResult(cache.name, path, cache.description, before, after, status, reason))
    return results


def _remove(path: Path) -> None:
    """Remove a cache directory: renamed aside first, so no reader sees it half gone."""
    import shutil
    if path.is_symlink() or path.is_file():
        path.unlink()
        return
    doomed = path.with_name(f".{path.name}.pruning-{os.getpid()}")
    try:
        path.rename(doomed)
    except FileNotFoundError:
        return
    shutil.rmtree(doomed, ignore_errors=True)


# --- pare's own caches -----------------------------------------------------------------------------
def _build_cache(kind: str) -> Callable[[], Path]:
    def path() -> Path:
        from pare.native.cache import cache_root
        return cache_root() / kind
    return path


def _engines() -> Path:
    from pare.builder import engine_state_dir
    return engine_state_dir("any").parent


def _bases() -> Path:
    from pare.bases.cache import bases_dir
    return bases_dir()


def _debs() -> Path:
    from pare.bases.cache import deb_cache_dir
    return deb_cache_dir()


def _apt() -> Path:
    from pare.bases.cache import apt_dir
    return apt_dir()


def _gzip_blobs() -> Path:
    from pare.oci.gogzip import cache_dir
    return cache_dir()


def _base_locks() -> list[Path]:
    """Held while a base is built (one per profile), and while the private apt is used."""
    return sorted((_bases() / "locks").glob("*.lock")) + sorted(_apt().glob("*/.lock"))


def _register_builtin() -> None:
    if "layers" in _REGISTRY:
        return
    build = [  # kinds under pare.native.cache.cache_root(), as the build code names them
        ("layers", "native build layers (compressed blobs by content)"),
        ("stripped", "stripped copies of ELF files"),
        ("sysroots", "Debian package trees the runtimes come from"),
        ("npm-tarballs", "downloaded node release tarballs"),
        ("npm-packages", "unpacked node runtime packages"),
        ("python-stdlib", "compiled Python standard libraries"),
        ("wheels", "downloaded Python wheels"),
        ("npm", "node_modules installed per lockfile"),
        ("pip", "site-packages installed per requirements"),
        ("npm-cache", "npm's own download cache"),
        ("pip-cache", "pip's own download cache"),
        ("go-build", "Go's build cache"),
        ("base-registry", "scratch registries of engine builds"),
    ]
    for cache in (
        *(Cache(kind, _build_cache(kind), description, False) for kind, description in build),
        Cache("engines", _engines, "engine state: buildah/podman/docker storage and layer caches", False),
        Cache("bases", _bases, "built Debian base images (an OCI layout)", False, _base_locks),
        Cache("debs", _debs, "downloaded Debian packages", False, _base_locks),
        Cache("apt", _apt, "private apt state (package lists) for .deb assembly", False, _base_locks),
        Cache("gzip-blobs", _gzip_blobs, "engine layers gzipped as docker push does, by diff_id", False),
    ):
        _REGISTRY.setdefault(cache.name, cache)
