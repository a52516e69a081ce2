"""The results of an experiment as data: every raw run, where and how it ran, and the statistics
a report draws from them.

Honesty rules live here so that the terminal and HTML reports cannot differ on them:
- a figure is min / median / max over its repeats, with the repeat count;
- warm and cold builds are different metrics, never pooled;
- a fat/small ratio whose ranges overlap is "no clear difference";
- results from different machines or profile definitions are not merged without saying so.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pare.errors import InputError, NotFound, UsageError

SCHEMA = "pare-bench/1"

# metric name -> (unit, label); sizes are single measurements, times are repeated.
METRICS: dict[str, tuple[str, str]] = {
    "size_compressed": ("B", "size (compressed)"),
    "size_uncompressed": ("B", "size (uncompressed)"),
    "layers": ("", "layers"),
    "build_cold": ("s", "build, cold cache"),
    "build_warm": ("s", "build, warm cache"),
    "push": ("s", "push to empty registry"),
    "push_change": ("s", "push of a one-line change"),
    "pull": ("s", "pull into empty store"),
}
TIME_METRICS = ("build_cold", "build_warm", "push", "push_change", "pull")


@dataclass(frozen=True)
class Sample:
    """One raw measurement."""

    app: str
    variant: str
    profile: str
    metric: str
    value: float
    repeat: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"app": self.app, "variant": self.variant, "profile": self.profile, "metric": self.metric,
                "value": self.value, "repeat": self.repeat}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Sample:
        metric = str(d["metric"])
        if metric not in METRICS:
            raise InputError(f"unknown metric {metric!r} in results")
        return cls(str(d["app"]), str(d["variant"]), str(d["profile"]), metric, float(d["value"]),
                   int(d.get("repeat", 0)))


@dataclass(frozen=True)
class RecoverySample:
    """Node recovery: seconds until all images of `deployments` deployments were on a fresh node."""

    variant: str
    profile: str
    deployments: int
    parallel: int  # 1 = serial pulls (kubelet default), k = maxParallelImagePulls
    seconds: float
    repeat: int = 0
    app: str = ""
    bytes_pulled: int = 0

    @property
    def mode(self) -> str:
        return "serial" if self.parallel == 1 else f"parallel {self.parallel}"

    def to_dict(self) -> dict[str, Any]:
        return {"app": self.app, "variant": self.variant, "profile": self.profile,
                "deployments": self.deployments, "parallel": self.parallel, "seconds": self.seconds,
                "repeat": self.repeat, "bytes_pulled": self.bytes_pulled}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RecoverySample:
        return cls(str(d["variant"]), str(d["profile"]), int(d["deployments"]), int(d["parallel"]),
                   float(d["seconds"]), int(d.get("repeat", 0)), str(d.get("app", "")),
                   int(d.get("bytes_pulled", 0)))


@dataclass(frozen=True)
class Summary:
    n: int
    min: float
    median: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Summary:
        if not values:
            raise ValueError("no values to summarise")
        return cls(len(values), min(values), statistics.median(values), max(values))

    @property
    def spread(self) -> float:
        """(max - min) / median: 0 for one run or identical runs."""
        return (self.max - self.min) / self.median if self.median else 0.0

    @property
    def noisy(self) -> bool:
        return self.n > 1 and self.spread > 0.5


@dataclass(frozen=True)
class Comparison:
    """`a` against `b` (e.g. fat against small), same metric, profile and machine."""

    a: Summary
    b: Summary
    exact: bool = False  # sizes and layer counts: deterministic, no noise to judge

    @property
    def ratio(self) -> float:
        return self.a.median / self.b.median if self.b.median else float("inf")

    @property
    def clear(self) -> bool:
        """True when the repeats do not overlap: a's whole range is above or below b's."""
        if self.exact:
            return True
        if self.a.n < 2 or self.b.n < 2:
            # One run has no spread to judge against; demand a margin instead of calling noise a win.
            return self.ratio >= 1.5 or self.ratio <= 1 / 1.5
        return self.a.min > self.b.max or self.a.max < self.b.min

    def text(self) -> str:
        if not self.clear:
            return "no clear difference"
        return f"{self.ratio:.1f}x" if self.ratio < 100 else f"{self.ratio:.0f}x"


def machine_info() -> dict[str, Any]:
    """Where the runs happened; `fingerprint` is what must match for runs to be compared."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except (OSError, ValueError):
        pass
    info = {"hostname": socket.gethostname(), "cpu": cpu, "cores": os.cpu_count() or 0,
            "memory_gb": round(mem_kb / 1024 / 1024, 1), "kernel": platform.release(),
            "os": _os_release(), "python": platform.python_version()}
    key = json.dumps([info["hostname"], cpu, info["cores"], info["memory_gb"], info["kernel"]])
    info["fingerprint"] = hashlib.sha256(key.encode()).hexdigest()[:16]
    return info


def _os_release() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Results:
    """Everything one `pare bench` produced; mutable while the experiment runs, then saved."""

    command: list[str]
    machine: dict[str, Any]
    pare_version: str
    started: str = field(default_factory=now)
    finished: str = ""
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> profile, applied, repeats
    client: str = ""
    samples: list[Sample] = field(default_factory=list)
    recovery: list[RecoverySample] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    methods: dict[str, str] = field(default_factory=dict)  # metric -> one exact command that measured it
    # app -> variant -> {"role": "fat" | "small", "description": ...}
    variants: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    # app -> variant -> what `pare scan` found in v1: packages, known vulnerabilities by severity,
    # pending Debian fixes, and the coverage (see pare.scan; measured once per image, not per profile)
    security: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    # --- persistence -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "pare_version": self.pare_version, "command": self.command,
                "machine": self.machine, "started": self.started, "finished": self.finished,
                "profiles": self.profiles, "client": self.client, "variants": self.variants,
                "runs": [s.to_dict() for s in self.samples],
                "node_recovery": [r.to_dict() for r in self.recovery],
                "errors": self.errors, "notes": self.notes, "methods": self.methods,
                "security": self.security}

    @classmethod
    def from_dict(cls, d: Any, origin: str = "results") -> Results:
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            raise InputError(f"{origin}: not a pare bench results file (schema {SCHEMA!r} expected)")
        try:
            return cls(command=[str(a) for a in d["command"]], machine=dict(d["machine"]),
                       pare_version=str(d["pare_version"]), started=str(d.get("started", "")),
                       finished=str(d.get("finished", "")), profiles=_tables(d.get("profiles", {})),
                       client=str(d.get("client", "")),
                       variants={str(k): _tables(v) for k, v in _tables(d.get("variants", {})).items()},
                       samples=[Sample.from_dict(s) for s in d.get("runs", [])],
                       recovery=[RecoverySample.from_dict(r) for r in d.get("node_recovery", [])],
                       errors=list(d.get("errors", [])), notes=[str(n) for n in d.get("notes", [])],
                       methods={str(k): str(v) for k, v in dict(d.get("methods", {})).items()},
                       security={str(a): {str(v): dict(body) for v, body in dict(vs).items()}
                                 for a, vs in dict(d.get("security", {})).items()})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"{origin}: malformed results file ({type(exc).__name__}: {exc})") from None

    def save(self, path: Path) -> None:
        """Write atomically: a crash leaves the previous file (or none), never half a file."""
        from pare.files import write_atomic
        write_atomic(path, json.dumps(self.to_dict(), indent=1, sort_keys=True))

    @classmethod
    def load(cls, path: Path) -> Results:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise NotFound(f"{path}: no such results file") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not JSON ({exc})") from None
        return cls.from_dict(data, str(path))

    # --- queries ---------------------------------------------------------------------------
    def apps(self) -> list[str]:
        return list(dict.fromkeys(s.app for s in self.samples))

    def variants_of(self, app: str) -> list[str]:
        return list(dict.fromkeys(s.variant for s in self.samples if s.app == app))

    def profile_names(self) -> list[str]:
        names = list(self.profiles)
        return names + [p for p in dict.fromkeys(s.profile for s in self.samples) if p not in names]

    def summary(self, app: str, variant: str, profile: str, metric: str) -> Summary | None:
        values = [s.value for s in self.samples
                  if (s.app, s.variant, s.profile, s.metric) == (app, variant, profile, metric)]
        return Summary.of(values) if values else None

    def recovery_summary(self, variant: str, profile: str, deployments: int, parallel: int,
                         app: str | None = None) -> Summary | None:
        key = (variant, profile, deployments, parallel)
        values = [r.seconds for r in self.recovery
                  if (r.variant, r.profile, r.deployments, r.parallel) == key
                  and (app is None or r.app == app)]
        return Summary.of(values) if values else None

    def role(self, app: str, variant: str) -> str:
        return str(self.variants.get(app, {}).get(variant, {}).get("role", "small"))

    def repeats(self, profile: str) -> int:
        return int(self.profiles.get(profile, {}).get("repeats", 0))


def _tables(value: Any) -> dict[str, Any]:
    """A JSON object of JSON objects (TypeError otherwise, which from_dict reports as malformed)."""
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise TypeError(f"expected an object of objects, got {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def merge(results: list[Results], *, allow_mixed: bool = False) -> tuple[Results, list[str]]:
    """One Results from several files; refuse (or, if allowed, warn) when machines or profile
    definitions differ, since their figures are not comparable."""
    if not results:
        raise UsageError("no results to merge")
    if len(results) == 1:
        return results[0], []
    warnings: list[str] = []
    base = results[0]
    for other in results[1:]:
        if other.machine.get("fingerprint") != base.machine.get("fingerprint"):
            msg = (f"runs come from different machines ({base.machine.get('hostname')} "
                   f"{base.machine.get('fingerprint')} vs {other.machine.get('hostname')} "
                   f"{other.machine.get('fingerprint')}): their figures are not comparable")
            if not allow_mixed:
                raise UsageError(msg + " (pass --allow-mixed to show them side by side anyway)")
            warnings.append(msg)
        for name, body in other.profiles.items():
            mine = base.profiles.get(name)
            if mine is not None and mine.get("profile") != body.get("profile"):
                msg = f"profile {name!r} has different limits in different files"
                if not allow_mixed:
                    raise UsageError(msg + " (pass --allow-mixed to show them anyway)")
                warnings.append(msg)
    merged = Results(command=base.command, machine=base.machine, pare_version=base.pare_version,
                     started=base.started, finished=results[-1].finished, client=base.client)
    for r in results:
        for name, body in r.profiles.items():
            merged.profiles.setdefault(name, body)
        merged.samples.extend(r.samples)
        merged.recovery.extend(r.recovery)
        merged.errors.extend(r.errors)
        merged.notes.extend(r.notes)
        for app, vs in r.variants.items():
            merged.variants.setdefault(app, {}).update(vs)
        for app, found in r.security.items():
            merged.security.setdefault(app, {}).update(found)
        for metric, command in r.methods.items():
            merged.methods.setdefault(metric, command)
    merged.notes.extend(warnings)
    return merged, warnings
