"""CPU and memory limits through a cgroup of pare's own (v1 here, v2 where the host has it).

A `Cgroup` is a context manager: entering creates `pare-<id>` inside pare's subtree of the cpu and
memory hierarchies (`<root>/pare`, or the delegated subtree $PARE_CGROUP_PARENT names) and writes
the limits; leaving kills whatever the measured commands left in it (only processes pare started:
nothing else is ever put in the group) and removes it, also on Ctrl-C. Commands join it from inside
the child, before exec (`preexec`), so not one instruction of the measured command runs unlimited.

On cgroup v2 the controllers must be switched on in `cgroup.subtree_control` of every cgroup above
the group. pare switches on only what is missing, from the highest cgroup it did not create itself
(the root, or the delegated subtree), and switches it off again when its last group is gone.
Everything is written to a ledger (pare.experiment.leftovers) before it is changed, so the next
run sweeps what a killed one left; whatever cannot be removed is one warning line.
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
from pare.experiment.leftovers import Entries, Ledger, state_dir, this_process, warn

ROOT = Path("/sys/fs/cgroup")
PARENT = "pare"
PERIOD_US = 100_000
OPTIONAL = "?"  # an interface file written only where the kernel has it


class LimitNotApplied(PareError):
    """A profile limit could not be put in force; the run must not claim it was."""


def cgroup_version(root: Path = ROOT) -> int | None:
    """2 for a unified hierarchy, 1 when cpu and memory controllers are mounted v1, else None."""
    if (root / "cgroup.controllers").exists():
        return 2
    if (root / "cpu" / "cpu.cfs_quota_us").exists() and (root / "memory" / "memory.limit_in_bytes").exists():
        return 1
    return None


def default_parent() -> str:
    """$PARE_CGROUP_PARENT (a subtree delegated to pare, relative to the cgroup root), else `pare`."""
    return os.environ.get("PARE_CGROUP_PARENT", "").strip("/") or PARENT


def ledger(state: Path | None = None) -> Ledger:
    return Ledger((state or state_dir()) / "cgroups.json")


def sweep(state: Path | None = None) -> None:
    """Remove the groups of runs that are gone, and the set-up no live group needs any more."""
    try:
        with ledger(state).edit() as entries:
            _sweep(entries)
    except OSError as exc:
        warn(f"cannot sweep cgroups left by killed runs: {exc.strerror or exc}")


@dataclass
class Cgroup:
    """A private cgroup with a CPU quota (in CPUs) and/or a memory limit (in MB).

    settings: more interface files and their values (e.g. {"pids.max": "256"}); the controller is
    the part of the name before the first dot. state: the ledger's directory (None: the default).
    """

    cpus: float | None = None
    memory_mb: int | None = None
    root: Path = ROOT
    name: str = field(default_factory=lambda: f"pare-{uuid.uuid4().hex[:10]}")
    dirs: list[Path] = field(default_factory=list)
    version: int | None = None
    parent: str = field(default_factory=default_parent)
    settings: dict[str, str] = field(default_factory=dict)
    state: Path | None = None

    # --- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Cgroup:
        if self.cpus is None and self.memory_mb is None and not self.settings:
            return self
        self.version = cgroup_version(self.root)
        if self.version is None:
            raise LimitNotApplied(self._what() + ": no cgroup cpu/memory controllers under "
                                  f"{self.root} (mount cgroup v1 cpu+memory or cgroup v2)")
        try:
            ledger(self.state).set_up(_sweep, self._setup, self._release)
        except OSError as exc:
            raise LimitNotApplied(f"{self._what()}: cannot configure a cgroup ({exc.strerror or exc}"
                                  f"{': ' + str(exc.filename) if exc.filename else ''}); "
                                  "run as root or delegate a cgroup to this user") from None
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self.version is None:
            return
        ledger(self.state).tear_down(self._release)
        self.version = None

    def _what(self) -> str:
        parts = []
        if self.cpus is not None:
            parts.append(f"cpu limit {self.cpus:g} CPU")
        if self.memory_mb is not None:
            parts.append(f"memory limit {self.memory_mb} MB")
        parts.extend(f"{key} {value}" for key, value in self.settings.items())
        return " and ".join(parts) + " not applied"

    def _files(self) -> dict[str, dict[str, str]]:
        """controller -> {interface file: value}, in this hierarchy's names, in writing order."""
        v1 = self.version == 1
        out: dict[str, dict[str, str]] = {}
        if self.cpus is not None:
            quota = max(1000, int(self.cpus * PERIOD_US))
            out["cpu"] = ({"cpu.cfs_period_us": str(PERIOD_US), "cpu.cfs_quota_us": str(quota)} if v1
                          else {"cpu.max": f"{quota} {PERIOD_US}"})
        if self.memory_mb is not None:  # and no swapping around the limit either
            limit = str(self.memory_mb * 1024 * 1024)
            out["memory"] = ({"memory.limit_in_bytes": limit, "memory.memsw.limit_in_bytes" + OPTIONAL: limit}
                             if v1 else {"memory.max": limit, "memory.swap.max" + OPTIONAL: "0"})
        for key, value in self.settings.items():
            out.setdefault(key.split(".", 1)[0], {})[key] = value
        return out

    def _setup(self, entries: Entries) -> None:
        files = self._files()
        if self.version == 1:
            hierarchies = [(self.root / controller, [controller]) for controller in files]
        else:
            hierarchies = [(self.root, list(files))]
        for top, controllers in hierarchies:
            parent = _prepare(top, top / self.parent, controllers if self.version == 2 else [], entries,
                              self._what())
            group = parent / self.name
            entries.add("groups", {"path": str(group), "root": str(top), "owner": this_process()})
            group.mkdir()
            self.dirs.append(group)
            for controller in controllers:
                for key, value in files[controller].items():
                    target = group / key.removesuffix(OPTIONAL)
                    if key.endswith(OPTIONAL) and not target.exists():
                        continue
                    target.write_text(value)

    def _release(self, entries: Entries) -> None:
        """Kill what is left in the groups, remove them, and undo the set-up no group needs now."""
        for directory in self.dirs:
            _kill_all(directory)
        failed = {str(d): why for d in self.dirs if (why := _remove_dir(d))}
        kept = []
        for group in entries.get("groups"):
            path = str(group.get("path"))
            if Path(path).name == self.name and path not in failed:  # recorded, made or not
                continue
            if path in failed:
                warn(f"cannot remove cgroup {path}: {failed[path]} (the next run tries again)")
            kept.append(group)
        entries.put("groups", kept)
        _teardown_unused(entries)
        self.dirs = [d for d in self.dirs if str(d) in failed]

    # --- use -------------------------------------------------------------------------------
    @property
    def path(self) -> str:
        """The group's path from its hierarchy's root (`/pare/pare-1a2b...`): what an engine's
        `--cgroup-parent` takes to put a container inside these limits."""
        return f"/{self.parent}/{self.name}"

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



def _prepare(top: Path, parent: Path, controllers: list[str], entries: Entries, what: str) -> Path:
    """Make `parent` (and what is missing above it) and switch `controllers` on down to it (v2);
    from the highest cgroup pare did not create itself, recording each change before it is made."""
    made = {str(e.get("path")) for e in entries.get("setup") if e.get("kind") == "mkdir"}
    chain = [parent]
    while chain[0] != top and (not chain[0].exists() or str(chain[0]) in made):
        chain.insert(0, chain[0].parent)
    if controllers:
        available = (chain[0] / "cgroup.controllers").read_text().split()
        missing = [c for c in controllers if c not in available]
        if missing:
            raise LimitNotApplied(f"{what}: cgroup v2 controller(s) {', '.join(missing)} not available "
                                  f"in {chain[0]} (not enabled above it, or not delegated to pare)")
    for directory in chain:
        if not directory.exists():
            entries.add("setup", {"root": str(top), "kind": "mkdir", "path": str(directory)})
            directory.mkdir()
        switches = directory / "cgroup.subtree_control"
        for controller in controllers:
            if controller not in switches.read_text().split():
                entries.add("setup", {"root": str(top), "kind": "enable", "path": str(directory),
                                      "controller": controller})
                switches.write_text(f"+{controller}")
    return parent


def _sweep(entries: Entries) -> None:
    """Remove the groups whose run is gone (killing what is left in them), then unused set-up."""
    entries.sweep("groups", _remove_leftover)
    _teardown_unused(entries)


def _remove_leftover(group: dict[str, object]) -> str:
    path = Path(str(group.get("path")))
    _kill_all(path)
    why = _remove_dir(path)
    return f"cgroup {path}: {why}" if why else ""


def _teardown_unused(entries: Entries) -> None:
    """Undo, newest first, the set-up of every hierarchy in which no group is left."""
    busy = {str(g.get("root")) for g in entries.get("groups")}
    kept = []
    for step in reversed(entries.get("setup")):
        if str(step.get("root")) in busy:
            kept.append(step)
            continue
        path = Path(str(step.get("path")))
        try:
            if step.get("kind") == "mkdir":
                with contextlib.suppress(FileNotFoundError):
                    path.rmdir()
            elif path.exists():
                (path / "cgroup.subtree_control").write_text(f"-{step.get('controller')}")
        except OSError as exc:
            what = f"remove cgroup {path}" if step.get("kind") == "mkdir" else \
                f"switch {step.get('controller')} off again in {path / 'cgroup.subtree_control'}"
            warn(f"cannot {what}: {exc.strerror or exc} (the next run tries again)")
            kept.append(step)
    entries.put("setup", list(reversed(kept)))


def _subtree(group: Path) -> list[Path]:
    """`group` and the groups made inside it (an engine given it as a cgroup parent makes its
    own, as podman does for conmon), deepest first: the order rmdir needs."""
    try:
        inner = [p for p in group.rglob("*") if p.is_dir() and not p.is_symlink()]
    except OSError:
        inner = []
    return [*sorted(inner, key=lambda p: len(p.parts), reverse=True), group]


def _kill_all(group: Path) -> None:
    """SIGKILL every process in a group and the groups inside it (a killed run's measured commands,
    or a container, may still be running)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        pids: list[int] = []
        for member in _subtree(group):
            with contextlib.suppress(OSError, ValueError):
                pids += [int(p) for p in (member / "cgroup.procs").read_text().split()]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def _remove_dir(group: Path) -> str | None:
    """rmdir a cgroup and the groups inside it, waiting briefly for killed members to go; None when
    gone, else why not."""
    why = ""
    for _ in range(50):
        try:
            for member in _subtree(group):
                member.rmdir()
            return None
        except FileNotFoundError:
            if not group.exists():
                return None
        except OSError as exc:
            why = exc.strerror or str(exc)
        time.sleep(0.05)
    return why
