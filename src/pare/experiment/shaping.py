"""Bandwidth to the registry: tc HTB classes on loopback, filtered strictly on one registry port.

Other programs use loopback at the same time, so a `Shaper` only ever touches what it created:
two HTB classes (to and from the registry) and u32 filters for IPv4 and IPv6 (a client may reach
the registry over ::1) at priorities of its own. When lo has no root qdisc it adds an HTB root whose
default class is effectively unlimited, and removes it when no pare run needs it any more, unless
someone else has since hung classes under it. Any other root qdisc: refuse clearly.

What a shaper adds is written to a ledger (pare.experiment.leftovers) before it is added, so the
next run removes what a killed one left on lo; whatever cannot be removed is one warning line.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from pare.experiment.cgroup import LimitNotApplied
from pare.experiment.leftovers import Entries, Ledger, state_dir, this_process, warn

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


def ledger(state: Path | None = None) -> Ledger:
    return Ledger((state or state_dir()) / "tc.json")


def sweep(state: Path | None = None) -> None:
    """Remove the classes and filters of runs that are gone, and HTB roots no live run needs."""
    if _tc_path() is None:
        return
    try:
        with ledger(state).edit() as entries:
            _sweep(entries)
    except OSError as exc:
        warn(f"cannot sweep tc classes left by killed runs: {exc.strerror or exc}")


@dataclass
class Shaper:
    """Limit traffic to and from `port` on `dev` to `mbit` megabits per second in each direction,
    over IPv4 and IPv6. state: the ledger's directory (None: the default)."""

    port: int
    mbit: float
    dev: str = "lo"
    handle: str = ""          # root qdisc major, e.g. "1:"
    owns_root: bool = False   # this shaper added the root (it goes when no pare run needs it)
    classes: list[str] = field(default_factory=list)
    prio: int | None = None   # the IPv4 filters' priority; the IPv6 filters use the next one
    state: Path | None = None

    def __enter__(self) -> Shaper:
        what = f"bandwidth limit {self.mbit:g} Mbit/s on port {self.port} not applied"
        if _tc_path() is None:
            raise LimitNotApplied(f"{what}: tc is not installed (apt-get install iproute2)")
        try:
            ledger(self.state).set_up(_sweep, self._setup, self._release)
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or exc.stdout or "").strip().splitlines()
            raise LimitNotApplied(f"{what}: tc {' '.join(exc.cmd[1:4])}...: "
                                  f"{detail[0] if detail else 'failed'} (needs CAP_NET_ADMIN)") from None
        except OSError as exc:
            raise LimitNotApplied(f"{what}: cannot record it in the tc ledger "
                                  f"({exc.strerror or exc})") from None
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

    def _setup(self, entries: Entries) -> None:
        root = self._root()
        kind = root.get("kind") if root else None
        if kind is None or kind in _REPLACEABLE:
            major = f"{random.randint(0x100, 0xfff):x}:"
            step = {"kind": "root", "dev": self.dev, "handle": major}
            entries.add("setup", step)
            done = _tc("qdisc", "add", "dev", self.dev, "root", "handle", major, "htb",
                       "default", f"{DEFAULT_MINOR:x}", check=False)
            if done.returncode == 0:
                self.handle, self.owns_root = major, True
                _tc("class", "add", "dev", self.dev, "parent", major, "classid", f"{major}{DEFAULT_MINOR:x}",
                    "htb", "rate", "100gbit")
            else:
                entries.put("setup", [e for e in entries.get("setup") if e != step])
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
        self.prio = next(p for p in range(100 + random.randint(0, 800), 60000, 2)
                         if p not in used_prios and p + 1 not in used_prios)
        wanted = []
        for _ in ("sport", "dport"):
            classid = f"{self.handle}{self._free_minor(used_minors)}"
            used_minors.add(classid)
            wanted.append(classid)
        entries.add("shapers", {"dev": self.dev, "handle": self.handle, "classes": wanted,
                                "prios": [self.prio, self.prio + 1], "port": self.port,
                                "owner": this_process()})
        rate = f"{self.mbit:g}mbit"
        # sport: registry -> client (pulls); dport: client -> registry (pushes); IPv4 and IPv6 (::1)
        for match, classid in zip(("sport", "dport"), wanted, strict=True):
            _tc("class", "add", "dev", self.dev, "parent", self.handle, "classid", classid, "htb",
                "rate", rate, "ceil", rate)
            self.classes.append(classid)
            for protocol, prio, selector in _selectors(match, self.port, self.prio):
                _tc("filter", "add", "dev", self.dev, "parent", self.handle, "protocol", protocol, "prio",
                    str(prio), "u32", *selector, "flowid", classid)

    def _free_minor(self, used: set[str]) -> str:
        while True:
            minor = f"{random.randint(0x100, 0xfffe):x}"
            if f"{self.handle}{minor}" not in used:
                return minor

    # --- teardown --------------------------------------------------------------------------
    def close(self) -> None:
        if self.prio is None and not self.classes and not self.owns_root:
            return
        ledger(self.state).tear_down(self._release)

    def _release(self, entries: Entries) -> None:
        mine = {"dev": self.dev, "handle": self.handle, "prios": [self.prio, (self.prio or 0) + 1]}
        kept = []
        for shaper in entries.get("shapers"):
            if all(shaper.get(k) == v for k, v in mine.items()) and shaper.get("owner") == this_process():
                leftover = _remove_shaper(shaper)
                if leftover:
                    warn(f"cannot remove {leftover} (the next run tries again)")
                    kept.append(shaper)
            else:
                kept.append(shaper)
        entries.put("shapers", kept)
        _teardown_unused(entries)
        self.prio, self.classes, self.owns_root = None, [], False

    def describe(self) -> dict[str, Any]:
        return {"dev": self.dev, "port": self.port, "mbit": self.mbit, "root": self.handle,
                "classes": list(self.classes), "prio": self.prio}


def _selectors(match: str, port: int, prio: int) -> list[tuple[str, int, list[str]]]:
    """(protocol, priority, u32 matches) for one direction of TCP on `port`, IPv4 and IPv6.

    IPv6 needs two: loopback sends large GSO packets with an 8-byte hop-by-hop (jumbo payload)
    header before TCP, which moves the ports 8 bytes on; matching only the plain layout let half
    of a transfer over ::1 through unshaped."""
    at = 0 if match == "sport" else 2
    value = [str(port), "0xffff"]
    return [
        ("ip", prio, ["match", "ip", match, *value]),
        ("ipv6", prio + 1, ["match", "u8", "6", "0xff", "at", "6",  # next header: TCP
                            "match", "u16", *value, "at", str(40 + at)]),
        ("ipv6", prio + 1, ["match", "u8", "0", "0xff", "at", "6",  # next header: hop-by-hop,
                            "match", "u8", "6", "0xff", "at", "40",  # then TCP,
                            "match", "u8", "0", "0xff", "at", "41",  # the hop-by-hop header 8 bytes
                            "match", "u16", *value, "at", str(48 + at)]),
    ]


def _remove_shaper(shaper: dict[str, Any]) -> str:
    """Delete a shaper's filters and classes; '' when they are gone, else what is left."""
    dev, handle = str(shaper.get("dev")), str(shaper.get("handle"))
    prios = [int(p) for p in shaper.get("prios", []) if isinstance(p, int)]
    classes = [str(c) for c in shaper.get("classes", [])]
    for prio in prios:
        _tc("filter", "del", "dev", dev, "parent", handle, "prio", str(prio), check=False)
    for classid in classes:
        _tc("class", "del", "dev", dev, "classid", classid, check=False)
    try:
        left = sorted(set(classes) & _class_ids(dev)) + \
            [f"filter prio {p}" for p in sorted(set(prios) & _filter_prios(dev, handle))]
    except subprocess.CalledProcessError:
        return ""  # the device (or its root qdisc) is gone, and everything under it
    return f"tc {', '.join(left)} on {dev}" if left else ""


def _sweep(entries: Entries) -> None:
    entries.sweep("shapers", _remove_shaper)
    _teardown_unused(entries)


def _teardown_unused(entries: Entries) -> None:
    """Remove the HTB roots pare added where no pare shaper is left (unless others use them)."""
    busy = {(str(s.get("dev")), str(s.get("handle"))) for s in entries.get("shapers")}
    kept = []
    for step in entries.get("setup"):
        dev, handle = str(step.get("dev")), str(step.get("handle"))
        if (dev, handle) in busy:
            kept.append(step)
            continue
        try:
            default = f"{handle}{DEFAULT_MINOR:x}"
            others = [c for c in _class_ids(dev) if c != default and c.startswith(handle)]
        except subprocess.CalledProcessError:
            continue  # the device is gone
        if others:
            warn(f"left the HTB root {handle} that pare added on {dev} in place: classes pare did not "
                 f"create hang under it ({', '.join(sorted(others)[:3])})")
            continue
        done = _tc("qdisc", "del", "dev", dev, "root", "handle", handle, check=False)
        roots = [q for q in _json_or_empty("qdisc", "show", "dev", dev) if q.get("root")]
        still = any(q.get("handle") == handle for q in roots)
        if done.returncode != 0 and still:
            warn(f"cannot remove the HTB root {handle} on {dev}: {done.stderr.strip() or 'tc failed'} "
                 "(the next run tries again)")
            kept.append(step)
    entries.put("setup", kept)


def _json_or_empty(*args: str) -> list[dict[str, Any]]:
    try:
        return _json(*args)
    except (subprocess.CalledProcessError, ValueError):
        return []
