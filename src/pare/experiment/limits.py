"""Applying a machine profile: a context manager that puts its limits in force and runs commands
under them.

    with Machine(profile, registry_port=reg.port) as machine:
        run = machine.run(["skopeo", "copy", ...])

Every limit the profile names is applied for real (cgroup for CPU and memory, tc for bandwidth) or
the `with` fails with LimitNotApplied naming it: a run never claims a limit it did not have.
Leaving the block (normally, on an error, or on Ctrl-C) removes everything it set up; entering it
first sweeps what runs that were killed (SIGKILL, OOM) left behind.
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from pare.errors import PareError
from pare.experiment.cgroup import Cgroup, LimitNotApplied
from pare.experiment.cgroup import sweep as sweep_cgroups
from pare.experiment.profiles import Profile
from pare.experiment.shaping import Shaper
from pare.experiment.shaping import sweep as sweep_tc

__all__ = ["CommandFailed", "LimitNotApplied", "Machine", "Run"]


class CommandFailed(PareError):
    """A measured command exited non-zero (or was killed by the memory limit)."""


@dataclass(frozen=True)
class Run:
    """One measured command: wall seconds, exit status, and what the limits saw."""

    seconds: float
    returncode: int
    cpu_seconds: float = 0.0  # user + system time of the command and the children it waited for
    peak_memory: int | None = None
    oom_killed: bool = False
    output_tail: str = ""


@dataclass
class Machine:
    profile: Profile
    registry_port: int | None = None
    extra_ports: tuple[int, ...] = ()  # more registries on the same link (e.g. where bases live)
    cgroup: Cgroup | None = None
    shaper: Shaper | None = None
    shapers: list[Shaper] = field(default_factory=list)
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def __enter__(self) -> Machine:
        p = self.profile
        sweep_cgroups()
        sweep_tc()
        try:
            if p.cpus is not None or p.memory_mb is not None:
                self.cgroup = self._stack.enter_context(Cgroup(p.cpus, p.memory_mb))
            if p.bandwidth_mbit is not None:
                if self.registry_port is None:
                    raise LimitNotApplied(f"bandwidth limit {p.bandwidth_mbit:g} Mbit/s not applied: "
                                          "no registry port to shape")
                self.shaper = self._stack.enter_context(Shaper(self.registry_port, p.bandwidth_mbit))
                self.shapers = [self.shaper] + [self._stack.enter_context(Shaper(port, p.bandwidth_mbit))
                                                for port in self.extra_ports]
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stack.close()

    def applied(self) -> dict[str, Any]:
        """What is in force right now, for the results file: only limits actually set."""
        out: dict[str, Any] = {}
        if self.cgroup is not None and self.cgroup.dirs:
            out["cgroup"] = {"version": self.cgroup.version, "name": self.cgroup.name,
                             "cpus": self.cgroup.cpus, "memory_mb": self.cgroup.memory_mb}
        if self.shaper is not None and self.shaper.classes:
            out["tc"] = self.shaper.describe()
            if len(self.shapers) > 1:
                out["tc_extra"] = [s.describe() for s in self.shapers[1:]]
        return out

    def run(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None,
            timeout: float | None = None, check: bool = True) -> Run:
        """Run one command inside the limits and time it (wall clock, fork to exit)."""
        preexec = self.cgroup.preexec if self.cgroup is not None and self.cgroup.dirs else None
        if self.cgroup is not None:
            self.cgroup.reset_peak()
        ooms_before = self.cgroup.oom_kills() if self.cgroup is not None else 0
        full_env = dict(os.environ if env is None else env)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(list(argv), env=full_env, cwd=cwd, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                              preexec_fn=preexec, check=False)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
        tail = proc.stdout.decode(errors="replace")[-2000:]
        peak = self.cgroup.peak_memory_bytes() if self.cgroup is not None else None
        oom = self.cgroup is not None and self.cgroup.oom_kills() > ooms_before
        result = Run(seconds, proc.returncode, cpu, peak, oom, tail)
        if check and proc.returncode != 0:
            why = "killed by the memory limit" if oom else f"exit status {proc.returncode}"
            last = tail.strip().splitlines()[-1:] or [""]
            raise CommandFailed(f"{Path(argv[0]).name} failed under profile {self.profile.name} ({why}): "
                                f"{last[0][:300]}")
        return result
