"""Machine profiles: named sets of limits (CPU, memory, bandwidth to the registry) as data.

The built-in profiles live in machines.toml next to this module; users add or override profiles in
a TOML file of their own (PARE_MACHINES, ~/.config/pare/machines.toml, or `--machines FILE`).
Applying a profile is pare.experiment.limits' job; this module only parses and validates.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import platformdirs

from pare.errors import UsageError

_KEYS = {"description", "cpus", "memory_mb", "bandwidth_mbit"}


@dataclass(frozen=True)
class Profile:
    """Limits of a simulated machine; None means "not limited"."""

    name: str
    cpus: float | None = None
    memory_mb: int | None = None
    bandwidth_mbit: float | None = None
    description: str = ""

    @property
    def unlimited(self) -> bool:
        return self.cpus is None and self.memory_mb is None and self.bandwidth_mbit is None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "cpus": self.cpus, "memory_mb": self.memory_mb,
                "bandwidth_mbit": self.bandwidth_mbit, "description": self.description}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        return parse_profile(str(data.get("name", "")), {k: v for k, v in data.items() if k != "name"})

    def summary(self) -> str:
        parts = []
        if self.cpus is not None:
            parts.append(f"{self.cpus:g} CPU")
        if self.memory_mb is not None:
            parts.append(f"{self.memory_mb} MB")
        if self.bandwidth_mbit is not None:
            parts.append(f"{self.bandwidth_mbit:g} Mbit/s")
        return ", ".join(parts) or "no limits"


def _positive(name: str, key: str, value: Any, kind: type) -> Any:
    if value is None or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UsageError(f"machine profile {name!r}: {key} must be a number, got {value!r}")
    if value < 0:
        raise UsageError(f"machine profile {name!r}: {key} must be positive, got {value!r}")
    if kind is int:
        if value != int(value):
            raise UsageError(f"machine profile {name!r}: {key} must be a whole number, got {value!r}")
        return int(value)
    return float(value)


def parse_profile(name: str, data: Any) -> Profile:
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise UsageError(f"machine profile name {name!r}: use letters, digits, '-' and '_'")
    if not isinstance(data, dict):
        raise UsageError(f"machine profile {name!r}: expected a table of limits")
    unknown = set(data) - _KEYS
    if unknown:
        raise UsageError(f"machine profile {name!r}: unknown key(s) {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(sorted(_KEYS))})")
    cpus = _positive(name, "cpus", data.get("cpus"), float)
    if cpus is not None and cpus < 0.01:
        raise UsageError(f"machine profile {name!r}: cpus below 0.01 cannot be enforced")
    memory = _positive(name, "memory_mb", data.get("memory_mb"), int)
    if memory is not None and memory < 16:
        raise UsageError(f"machine profile {name!r}: memory_mb below 16 is not a machine")
    bandwidth = _positive(name, "bandwidth_mbit", data.get("bandwidth_mbit"), float)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise UsageError(f"machine profile {name!r}: description must be text")
    return Profile(name, cpus, memory, bandwidth, description)


def parse_profiles(text: str, origin: str) -> dict[str, Profile]:
    """Profiles from TOML text; `origin` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{origin}: not valid TOML: {exc}") from None
    return {name: parse_profile(name, body) for name, body in data.items()}


def user_file() -> Path:
    env = os.environ.get("PARE_MACHINES")
    return Path(env) if env else Path(platformdirs.user_config_dir("pare")) / "machines.toml"


def load_profiles(extra: Path | None = None) -> dict[str, Profile]:
    """Built-in profiles, overridden by the user's file, overridden by `extra`."""
    builtin = resources.files("pare.experiment").joinpath("machines.toml").read_text()
    profiles = parse_profiles(builtin, "built-in machines.toml")
    for path in (user_file(), extra):
        if path is None:
            continue
        if not path.exists():
            if path is extra:
                raise UsageError(f"{path}: no such machine profile file")
            continue
        profiles.update(parse_profiles(path.read_text(), str(path)))
    return profiles


def select(names: list[str], available: dict[str, Profile]) -> list[Profile]:
    missing = [n for n in names if n not in available]
    if missing:
        raise UsageError(f"unknown machine profile(s) {', '.join(missing)} "
                         f"(known: {', '.join(sorted(available))})")
    return [available[n] for n in names]
