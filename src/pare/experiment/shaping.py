"""Bandwidth to the registry: tc HTB classes on loopback, filtered strictly on one registry port.

Other programs use loopback at the same time, so a `Shaper` only ever touches what it created:
two HTB classes (to and from the registry) and two u32 filters at a priority of its own. When lo
has no root qdisc it adds an HTB root whose default class is effectively unlimited, and removes it
on exit unless someone else has since hung classes under it. Any other root qdisc: refuse clearly.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from pare.experiment.cgroup import LimitNotApplied

_REPLACEABLE = {"noqueue", "pfifo_fast", "fq_codel", "noop", "pfifo", "fq"}
DEFAULT_MINOR = 0x1


def _tc_path() -> str | None:
    return shutil.which("tc") or shutil.which("tc", path="/usr/sbin:/sbin")


def _tc(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_tc_path() or "tc", *args], capture_output=True, text=True, check=check)


def _json(*args: str) -> list[dict[str, Any]]:
    out = _tc("-j", *args).stdout.strip()
    return json.loads(out) if out else []


def _class_ids(dev: str) -> set[str]:
    """Class ids on dev (`tc -j class` prints nothing for HTB in iproute2 6.1, so parse text)."""
    lines = _tc("class", "show", "dev", dev).stdout.splitlines()
    return {line.split()[2] for line in lines if line.startswith("class ") and len(line.split()) > 2}


def _filter_prios(dev: str, parent: str) -> set[int]:
    words = _tc("filter", "show", "dev", dev, "parent", parent).stdout.split()
    return {int(words[i + 1]) for i, w in enumerate(words[:-1]) if w == "pref" and words[i + 1].isdigit()}


@dataclass
class Shaper:
    """Limit traffic to and from `port` on `dev` to `mbit` megabits per second in each direction."""

    port: int
    mbit: float
    dev: str = "lo"
    handle: str = ""          # root qdisc major, e.g. "1:"
    owns_root: bool = False
    classes: list[str] = field(default_factory=list)
    prio: int | None = None

    def __enter__(self) -> Shaper:
        what = f"bandwidth limit {self.mbit:g} Mbit/s on port {self.port} not applied"
        if _tc_path() is None:
            raise LimitNotApplied(f"{what}: tc is not installed (apt-get install iproute2)")
        try:
            self._setup()
        except subprocess.CalledProcessError as exc:
            self.close()
            detail = (exc.stderr or exc.stdout or "").strip().splitlines()
            raise LimitNotApplied(f"{what}: tc {' '.join(exc.cmd[1:4])}...: "
                                  f"{detail[0] if detail else 'failed'} (needs CAP_NET_ADMIN)") from None
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- setup -----------------------------------------------------------------------------
    def _root(self) -> dict[str, Any] | None:
        for q in _json("qdisc", "show", "dev", self.dev):
            if q.get("root"):
                return q
        return None

    def _setup(self) -> None:
        root = self._root()
        kind = root.get("kind") if root else None
        if kind is None or kind in _REPLACEABLE:
            major = f"{random.randint(0x100, 0xfff):x}:"
            done = _tc("qdisc", "add", "dev", self.dev, "root", "handle", major, "htb",
                       "default", f"{DEFAULT_MINOR:x}", check=False)
            if done.returncode == 0:
                self.handle, self.owns_root = major, True
                _tc("class", "add", "dev", self.dev, "parent", major, "classid", f"{major}{DEFAULT_MINOR:x}",
                    "htb", "rate", "100gbit")
            root = self._root()  # someone else may have won the race: use theirs if it is HTB
            kind = root.get("kind") if root else None
        if not self.owns_root:
            if kind != "htb" or root is None:
                raise LimitNotApplied(
                    f"bandwidth limit {self.mbit:g} Mbit/s not applied: {self.dev} already has a root "
                    f"qdisc of kind {kind!r} that pare did not create; remove it or use an HTB root")
            self.handle = str(root["handle"])
        used_minors = _class_ids(self.dev)
        used_prios = _filter_prios(self.dev, self.handle)
        self.prio = next(p for p in range(100 + random.randint(0, 800), 60000) if p not in used_prios)
        rate = f"{self.mbit:g}mbit"
        for match in ("sport", "dport"):  # registry -> client (pulls), client -> registry (pushes)
            minor = self._free_minor(used_minors)
            classid = f"{self.handle}{minor}"
            used_minors.add(classid)
            _tc("class", "add", "dev", self.dev, "parent", self.handle, "classid", classid, "htb",
                "rate", rate, "ceil", rate)
            self.classes.append(classid)
            _tc("filter", "add", "dev", self.dev, "parent", self.handle, "protocol", "ip", "prio",
                str(self.prio), "u32", "match", "ip", match, str(self.port), "0xffff", "flowid", classid)

    def _free_minor(self, used: set[str]) -> str:
        while True:
            minor = f"{random.randint(0x100, 0xfffe):x}"
            if f"{self.handle}{minor}" not in used:
                return minor

    # --- teardown --------------------------------------------------------------------------
    def close(self) -> None:
        if self.prio is not None and self.handle:
            _tc("filter", "del", "dev", self.dev, "parent", self.handle, "prio", str(self.prio), check=False)
            self.prio = None
        for classid in self.classes:
            _tc("class", "del", "dev", self.dev, "classid", classid, check=False)
        self.classes = []
        if self.owns_root:
            default = f"{self.handle}{DEFAULT_MINOR:x}"
            others = [c for c in _class_ids(self.dev) if c != default and c.startswith(self.handle)]
            if not others:
                _tc("qdisc", "del", "dev", self.dev, "root", "handle", self.handle, check=False)
            self.owns_root = False

    def describe(self) -> dict[str, Any]:
        return {"dev": self.dev, "port": self.port, "mbit": self.mbit, "root": self.handle,
                "classes": list(self.classes), "prio": self.prio}

