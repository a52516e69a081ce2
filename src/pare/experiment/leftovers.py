"""What machine profiles changed on this machine (cgroups, controllers switched on, tc qdiscs,
classes and filters), written down before it is changed, so what a killed run left behind (SIGKILL,
an OOM kill, a lost CI runner) is swept by the next run instead of piling up.

One JSON ledger per kind of change, under the state directory, read and written under an flock.
An entry names its owner by pid and start time (a reused pid is not mistaken for it): entries
whose owner is gone are leftovers. Shared set-up that several runs use at once (a parent cgroup,
a controller switched on, an HTB root) is undone when the last entry that needed it is gone.
Anything that cannot be undone is reported as one warning line and kept, to be tried again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import platformdirs

Owner = dict[str, int]


def state_dir() -> Path:
    """$PARE_STATE_DIR, else /run/pare as root (emptied at boot, like cgroups and qdiscs), else the
    user's runtime directory."""
    env = os.environ.get("PARE_STATE_DIR")
    if env:
        return Path(env)
    return Path("/run/pare") if os.geteuid() == 0 else Path(platformdirs.user_runtime_dir("pare"))


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # the command name may hold spaces and parentheses
    return int(fields[19]) if len(fields) > 19 else None


def this_process() -> Owner:
    return {"pid": os.getpid(), "start": _start_time(os.getpid()) or 0}


def is_alive(owner: Any) -> bool:
    """True while the process that wrote an entry still runs (same pid and same start time)."""
    try:
        pid, start = int(owner["pid"]), int(owner["start"])
    except (TypeError, KeyError, ValueError):
        return False
    return _start_time(pid) == start


def warn(message: str) -> None:
    """One line on stderr, as the CLI words its warnings."""
    print(f"pare: warning: {message}", file=sys.stderr, flush=True)


class Ledger:
    """A JSON file of entry lists, changed only under an exclusive lock and replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextlib.contextmanager
    def edit(self) -> Iterator[Entries]:
        """The ledger, locked for the block; written back when the block ends (also on errors)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data: dict[str, Any] = {}
            try:
                loaded = json.loads(self.path.read_text())
                data = loaded if isinstance(loaded, dict) else {}
            except FileNotFoundError:
                pass
            except (OSError, ValueError) as exc:
                warn(f"{self.path} unreadable ({exc}); starting a new one")
            entries = Entries(self.path, data)
            try:
                yield entries
            finally:
                entries.save()


    def set_up(self, sweep: Callable[[Entries], None], setup: Callable[[Entries], None],
               undo: Callable[[Entries], None]) -> None:
        """Under the lock: sweep what killed runs left, then set up; a set-up that fails is undone."""
        with self.edit() as entries:
            sweep(entries)
            try:
                setup(entries)
            except BaseException:
                undo(entries)
                raise

    def tear_down(self, undo: Callable[[Entries], None]) -> None:
        """Under the lock: undo a set-up; a ledger that cannot be written is one warning."""
        try:
            with self.edit() as entries:
                undo(entries)
        except OSError as exc:
            warn(f"cannot update {self.path}: {exc.strerror or exc}")


class Entries:
    """The content of a locked ledger: named lists of JSON objects."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    def get(self, key: str) -> list[dict[str, Any]]:
        found = self.data.get(key)
        return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []

    def put(self, key: str, entries: list[dict[str, Any]]) -> None:
        self.data[key] = entries

    def add(self, key: str, entry: dict[str, Any]) -> None:
        """Append an entry and write the ledger at once: call it before making the change, so a
        run killed half way through its set-up still leaves a record of it."""
        self.data[key] = [*self.get(key), entry]
        self.save()

    def sweep(self, key: str, remove: Callable[[dict[str, Any]], str]) -> None:
        """Undo and drop the entries under `key` whose owner is gone. `remove` undoes one and
        returns '' or what is left of it: that stays recorded, with one warning line."""
        kept = []
        for entry in self.get(key):
            if is_alive(entry.get("owner")):
                kept.append(entry)
                continue
            left = remove(entry)
            if left:
                warn(f"cannot remove {left}, left by a run that is gone (the next run tries again)")
                kept.append(entry)
        self.put(key, kept)

    def save(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        os.replace(tmp, self.path)
