"""CI gate: thresholds over an analysis, one human-readable reason per breach."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from pare.analyze.analysis import Analysis
from pare.analyze.bloat import NAMES
from pare.analyze.units import human, parse_size, percent
from pare.errors import UsageError

DEFAULT_MIN_EFFICIENCY = 0.9  # dive's default `lowestEfficiency`


@dataclass(frozen=True)
class Thresholds:
    min_efficiency: float | None = None
    max_waste: int | None = None  # bytes
    max_waste_ratio: float | None = None
    max_size: int | None = None  # tar bytes of all layers (the unpacked size `docker images` shows)
    max_compressed: int | None = None  # bytes a pull moves
    forbid: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [c for c in self.forbid if c not in NAMES]
        if unknown:
            raise UsageError(f"unknown category {', '.join(unknown)} (known: {', '.join(NAMES)})")
        for name in ("min_efficiency", "max_waste_ratio"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                raise UsageError(f"--{name.replace('_', '-')} must be between 0 and 1, not {value}")

    @property
    def empty(self) -> bool:
        return self == Thresholds()

    def with_defaults(self) -> Thresholds:
        """No threshold given: gate on dive's default (efficiency >= 0.9), like `dive --ci`."""
        return Thresholds(min_efficiency=DEFAULT_MIN_EFFICIENCY) if self.empty else self


def breaches(analysis: Analysis, limits: Thresholds) -> list[str]:
    """One line per failed threshold; empty means the image passes."""
    out = []
    if limits.min_efficiency is not None and analysis.efficiency < limits.min_efficiency:
        out.append(
            f"efficiency {analysis.efficiency:.4f} is below {limits.min_efficiency} "
            f"({human(analysis.waste_bytes)} of {human(analysis.content_bytes)} layer bytes wasted)"
        )
    if limits.max_waste is not None and analysis.waste_bytes > limits.max_waste:
        out.append(
            f"waste {human(analysis.waste_bytes)} ({analysis.waste_bytes} B) exceeds "
            f"{human(limits.max_waste)}"
        )
    if limits.max_waste_ratio is not None and analysis.waste_ratio > limits.max_waste_ratio:
        out.append(f"waste ratio {percent(analysis.waste_ratio)} exceeds {percent(limits.max_waste_ratio)}")
    if limits.max_size is not None and analysis.tar_bytes > limits.max_size:
        out.append(
            f"image size {human(analysis.tar_bytes)} (uncompressed layers) exceeds {human(limits.max_size)}"
        )
    if limits.max_compressed is not None and analysis.compressed_bytes > limits.max_compressed:
        out.append(
            f"compressed size {human(analysis.compressed_bytes)} exceeds {human(limits.max_compressed)}"
        )
    for name in limits.forbid:
        report = analysis.categories.get(name)
        if report is not None:
            example = ", ".join("/" + p for p, _ in report.paths[:3])
            out.append(
                f"forbidden category {name}: {report.files} files, {human(report.bytes)} (e.g. {example})"
            )
    return out


_SIZES = ("max_waste", "max_size", "max_compressed")
# dive's .dive-ci keys that mean the same thing here (lowestEfficiency is checked against pare's exact
# efficiency, highestWastedBytes against pare's exact waste)
_DIVE_KEYS = {"lowestEfficiency": "min_efficiency", "highestWastedBytes": "max_waste"}


def load_thresholds(path: Path) -> Thresholds:
    """Thresholds from a YAML file: the option names (min-efficiency: 0.9, max-waste: 10MB,
    forbid: [compilers]) at the top level or under `rules:`, or dive's .dive-ci keys."""
    import yaml

    try:
        body = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"{path}: cannot read CI thresholds: {exc}") from None
    if not isinstance(body, dict):
        raise UsageError(f"{path}: CI thresholds must be a mapping")
    rules: dict[str, Any] = dict(body.get("rules") or {}) if isinstance(body.get("rules"), dict) else {}
    rules.update({k: v for k, v in body.items() if k != "rules"})
    known = {f.name for f in fields(Thresholds)}
    values: dict[str, Any] = {}
    for key, value in rules.items():
        name = _DIVE_KEYS.get(key, str(key).replace("-", "_"))
        if name not in known:
            raise UsageError(f"{path}: unknown CI threshold {key!r} (known: {', '.join(sorted(known))})")
        if value is None or value == "disabled":
            continue
        try:
            if name in _SIZES:
                values[name] = parse_size(str(value))
            elif name == "forbid":
                items = value.split(",") if isinstance(value, str) else list(value)
                values[name] = tuple(str(v).strip() for v in items if str(v).strip())
            else:
                values[name] = float(value)
        except (TypeError, ValueError):
            raise UsageError(f"{path}: {key}: not a valid value: {value!r}") from None
    return Thresholds(**values)


def merge(base: Thresholds, override: Thresholds) -> Thresholds:
    """`override`'s thresholds (the command line) win over `base`'s (a file)."""
    changes = {f.name: getattr(override, f.name) for f in fields(Thresholds)}
    changes = {k: v for k, v in changes.items() if v is not None and v != ()}
    return replace(base, **changes)
