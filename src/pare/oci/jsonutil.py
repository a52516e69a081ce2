"""JSON in and out: strict parsing of untrusted bytes, canonical output for stable digests."""

from __future__ import annotations

import json
from typing import Any

from pare.errors import ManifestError

MAX_JSON_BYTES = 8 << 20  # manifests and configs beyond this are refused, as registries do (4 MiB)


def loads_object(data: bytes, what: str) -> dict[str, Any]:
    """Parse bytes that must hold one JSON object; any failure is a ManifestError naming `what`."""
    if len(data) > MAX_JSON_BYTES:
        raise ManifestError(f"{what} is {len(data)} bytes, over the {MAX_JSON_BYTES} byte limit")
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ManifestError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ManifestError(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def canonical(value: Any) -> bytes:
    """Sorted keys, no insignificant whitespace: the same value always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
