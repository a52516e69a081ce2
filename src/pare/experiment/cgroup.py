"""CPU and memory limits through a cgroup of pare's own (v1 here, v2 where the host has it).

A `Cgroup` is a context manager: entering creates `pare-<id>` under the cpu and memory
hierarchies and writes the limits; leaving kills whatever the measured commands left in it (only
processes pare started: nothing else is ever put in the group) and removes it, also on Ctrl-C.
Commands join it from inside the child, before exec (`preexec`), so not one instruction of the
measured command runs unlimited.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from pare.errors import PareError

ROOT = Path("/sys/fs/cgroup")
PERIOD_US = 100_000


class LimitNotApplied(PareError):
    """A profile limit could not be put in force; the run must not claim it was."""


def cgroup_version(root: Path = ROOT) -> int | None:
    """2 for a unified hierarchy, 1 when cpu and memory controllers are mounted v1, else None."""
    if (root / "cgroup.controllers").exists():
        return 2
    if (root / "cpu" / "cpu.cfs_quota_us").exists() and (root / "memory" / "memory.limit_in_bytes").exists():
        return 1
    return None


@dataclass
class Cgroup:
    """A private cgroup with a CPU quota (in CPUs) and/or a memory limit (in MB)."""

    cpus: float | None = None
    memory_mb: int | None = None
    root: Path = ROOT
    name: str = field(default_factory=lambda: f"pare-{uuid.uuid4().hex[:10]}")
    dirs: list[Path] = field(default_factory=list)
    version: int | None = None

    # --- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Cgroup:
        if self.cpus is None and self.memory_mb is None:
            return self
        self.version = cgroup_version(self.root)
        if self.version is None:
            raise LimitNotApplied(self._what() + ": no cgroup cpu/memory controllers under "
                                  f"{self.root} (mount cgroup v1 cpu+memory or cgroup v2)")
        try:
            if self.version == 1:
                self._setup_v1()
            else:
                self._setup_v2()
        except OSError as exc:
            self._remove()
            raise LimitNotApplied(f"{self._what()}: cannot configure a cgroup ({exc.strerror or exc}"
                                  f"{': ' + str(exc.filename) if exc.filename else ''}); "
                                  "run as root or delegate a cgroup to this user") from None
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._kill_members()
        self._remove()

    def _what(self) -> str:
        parts = []
        if self.cpus is not None:
            parts.append(f"cpu limit {self.cpus:g} CPU")
        if self.memory_mb is not None:
            parts.append(f"memory limit {self.memory_mb} MB")
        return " and ".join(parts) + " not applied"

    def _setup_v1(self) -> None:
        if self.cpus is not None:
            cpu = self.root / "cpu" / self.name
            cpu.mkdir()
            self.dirs.append(cpu)
            (cpu / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (cpu / "cpu.cfs_quota_us").write_text(str(max(1000, int(self.cpus * PERIOD_US))))
        if self.memory_mb is not None:
            mem = self.root / "memory" / self.name
            mem.mkdir()
            self.dirs.append(mem)
            limit = str(self.memory_mb * 1024 * 1024)
            (mem / "memory.limit_in_bytes").write_text(limit)
            memsw = mem / "memory.memsw.limit_in_bytes"
            if memsw.exists():  # no swapping around the limit either
                memsw.write_text(limit)

    def _setup_v2(self) -> None:
        wanted = [c for c, v in (("cpu", self.cpus), ("memory", self.memory_mb)) if v is not None]
        available = (self.root / "cgroup.controllers").read_text().split()
        missing = [c for c in wanted if c not in available]
        if missing:
            raise LimitNotApplied(f"{self._what()}: cgroup v2 controller(s) {', '.join(missing)} "
                                  "not available")
        enabled = (self.root / "cgroup.subtree_control").read_text().split()
        for c in wanted:
            if c not in enabled:
                (self.root / "cgroup.subtree_control").write_text(f"+{c}")
        group = self.root / self.name
        group.mkdir()
        self.dirs.append(group)
        if self.cpus is not None:
            (group / "cpu.max").write_text(f"{max(1000, int(self.cpus * PERIOD_US))} {PERIOD_US}")
        if self.memory_mb is not None:
            (group / "memory.max").write_text(str(self.memory_mb * 1024 * 1024))
            swap = group / "memory.swap.max"
            if swap.exists():
                swap.write_text("0")

    # --- use -------------------------------------------------------------------------------
    def procs_files(self) -> list[Path]:
        return [d / "cgroup.procs" for d in self.dirs]

    def preexec(self) -> None:
        """Run in the child between fork and exec: move this process into the group."""
        for procs in self.procs_files():
            with open(procs, "w") as handle:
                handle.write("0")

    def members(self) -> set[int]:
        pids: set[int] = set()
        for procs in self.procs_files():
            with contextlib.suppress(OSError):
                pids.update(int(p) for p in procs.read_text().split())
        return pids

    def peak_memory_bytes(self) -> int | None:
        """Highest memory use since the group was created, where the kernel records it."""
        for d in self.dirs:
            for name in ("memory.max_usage_in_bytes", "memory.peak"):
                f = d / name
                if f.exists():
                    with contextlib.suppress(OSError, ValueError):
                        return int(f.read_text())
        return None

    def reset_peak(self) -> None:
        for d in self.dirs:
            f = d / "memory.max_usage_in_bytes"
            if f.exists():
                with contextlib.suppress(OSError):
                    f.write_text("0")

    def oom_kills(self) -> int:
        """How many processes the memory limit killed (0 when unknown)."""
        for d in self.dirs:
            for name in ("memory.oom_control", "memory.events"):
                f = d / name
                if f.exists():
                    with contextlib.suppress(OSError, ValueError):
                        for line in f.read_text().splitlines():
                            key, _, value = line.partition(" ")
                            if key == "oom_kill":
                                return int(value)
        return 0

    # --- teardown --------------------------------------------------------------------------
    def _kill_members(self) -> None:
        deadline = time.monotonic() + 5
        while (pids := self.members()) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)

    def _remove(self) -> None:
        for d in reversed(self.dirs):
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)
        self.dirs = [d for d in self.dirs if d.exists()]
