"""Byte sizes for humans: parse '10MB' / '1.5GiB' and print 12.3 MB (SI, like docker and dive)."""

from __future__ import annotations

import re

from pare.errors import UsageError

_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "kib": 1 << 10,
    "mib": 1 << 20,
    "gib": 1 << 30,
    "tib": 1 << 40,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """'10MB' -> 10_000_000; '1GiB' -> 1073741824; a bare number is bytes."""
    match = _SIZE_RE.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _UNITS:
        raise UsageError(f"not a size: {text!r} (try 500KB, 10MB, 1.5GiB)")
    return int(float(match.group(1)) * _UNITS[unit])


def human(n: int | float) -> str:
    """12345678 -> '12.3 MB' (SI units, 3 significant digits)."""
    value = float(n)
    sign = "-" if value < 0 else ""
    value = abs(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            if unit == "B":
                return f"{sign}{int(value)} B"
            return f"{sign}{value:.3g} {unit}" if value < 100 else f"{sign}{value:.0f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def percent(ratio: float) -> str:
    return f"{ratio * 100:.1f}%"
