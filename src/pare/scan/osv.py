"""OSV records (https://ossf.github.io/osv-schema/): whether a version is affected, which versions
fix it, and how severe it is.

Affected: a version listed in `versions`, or inside a SEMVER/ECOSYSTEM range, evaluated as the
schema says: events sorted by version, `introduced` opens, `fixed` and `limit` close before,
`last_affected` closes after. GIT ranges name commits, not releases, and are ignored.

Severity: the CVSS base score computed from the record's vector (the `cvss` library; v3 preferred,
then v4, then v2), else the rating the ecosystem's database gives (GitHub's database_specific
severity, Debian's urgency). A record with neither is "unknown": never guessed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pare.scan import versions

SEVERITIES = ("critical", "high", "medium", "low", "negligible", "unknown")
RANK = {name: i for i, name in enumerate(SEVERITIES)}
_RATINGS = {"CRITICAL": "critical", "HIGH": "high", "MODERATE": "medium", "MEDIUM": "medium", "LOW": "low",
            "NEGLIGIBLE": "negligible", "UNIMPORTANT": "negligible"}


@dataclass(frozen=True, slots=True)
class Severity:
    level: str  # one of SEVERITIES
    score: float | None = None
    vector: str = ""
    source: str = ""  # "CVSS_V3", "GitHub rating", "Debian urgency"...


UNKNOWN = Severity("unknown")


def _from_score(score: float) -> str:
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    if score > 0.0:
        return "low"
    return "negligible"


def cvss_severity(kind: str, vector: str) -> Severity | None:
    """Base score and rating of a CVSS vector; None if the vector does not parse."""
    from cvss import CVSS2, CVSS3, CVSS4
    from cvss.exceptions import CVSSError
    try:
        if kind == "CVSS_V3":
            v3 = CVSS3(vector)
            score = float(v3.scores()[0])
            return Severity(str(v3.severities()[0]).lower(), score, vector, kind)
        if kind == "CVSS_V4":
            v4 = CVSS4(vector)
            return Severity(str(v4.severity).lower(), float(v4.base_score), vector, kind)
        if kind == "CVSS_V2":
            score = float(CVSS2(vector).scores()[0])
            level = "high" if score >= 7.0 else "medium" if score >= 4.0 else "low"  # NVD's v2 bands
            return Severity(level, score, vector, kind)
    except (CVSSError, ValueError, KeyError, IndexError, TypeError):
        return None
    return None


def record_severity(record: dict[str, Any], affected: dict[str, Any] | None = None) -> Severity:
    entries = [s for s in record.get("severity") or [] if isinstance(s, dict)]
    if affected is not None:
        entries = [s for s in affected.get("severity") or [] if isinstance(s, dict)] + entries
    for kind in ("CVSS_V3", "CVSS_V4", "CVSS_V2"):
        for entry in entries:
            if entry.get("type") == kind and isinstance(entry.get("score"), str):
                found = cvss_severity(kind, entry["score"])
                if found is not None:
                    return found
    for where, label in (((affected or {}).get("ecosystem_specific"), "ecosystem rating"),
                         ((affected or {}).get("database_specific"), "database rating"),
                         (record.get("database_specific"), "database rating")):
        if isinstance(where, dict):
            for key in ("severity", "urgency"):
                value = where.get(key)
                if isinstance(value, str) and value.upper() in _RATINGS:
                    return Severity(_RATINGS[value.upper()], None, "", f"{label} ({key})")
    return UNKNOWN


def worst(levels: list[str]) -> str:
    return min(levels, key=lambda s: RANK.get(s, len(SEVERITIES))) if levels else "unknown"


@dataclass(frozen=True, slots=True)
class Verdict:
    affected: bool
    fixed: tuple[str, ...] = ()  # versions that fix the range the package is in
    error: str = ""  # set when the versions could not be compared


def evaluate(ecosystem: str, version: str, affected: dict[str, Any]) -> Verdict:
    """Is `version` affected by this `affected[]` entry of a record?"""
    listed = affected.get("versions") or []
    try:
        current = versions.parse(ecosystem, version)
    except versions.VersionError as exc:
        if version in listed:
            return Verdict(True)
        return Verdict(False, error=str(exc))
    hit = version in listed
    fixes: list[str] = []
    for rng in affected.get("ranges") or []:
        if not isinstance(rng, dict) or rng.get("type") not in ("SEMVER", "ECOSYSTEM"):
            continue
        inside, fixed = _in_range(ecosystem, current, rng.get("events") or [])
        if inside:
            hit = True
            fixes.extend(fixed)
    return Verdict(hit, tuple(dict.fromkeys(fixes)))


def _in_range(ecosystem: str, current: Any, events: list[Any]) -> tuple[bool, list[str]]:
    parsed: list[tuple[Any, int, str, str]] = []  # (version, order, kind, text)
    order = {"introduced": 0, "last_affected": 1, "fixed": 2, "limit": 3}
    for event in events:
        if not isinstance(event, dict) or len(event) != 1:
            continue
        kind, text = next(iter(event.items()))
        if kind not in order or not isinstance(text, str):
            continue
        if kind == "introduced" and text == "0":
            parsed.append((None, 0, kind, text))
            continue
        if kind == "limit" and text == "*":
            continue
        try:
            parsed.append((versions.parse(ecosystem, text), order[kind], kind, text))
        except versions.VersionError:
            continue
    parsed = _sorted(parsed)
    inside = False
    closing: list[str] = []
    for value, _, kind, text in parsed:
        if kind == "introduced":
            if value is None or current >= value:
                inside = True
                closing = []
            else:
                break
        elif kind == "fixed" or kind == "limit":
            if current >= value:
                inside = False
            else:
                if inside and kind == "fixed":
                    closing.append(text)
                break
        elif kind == "last_affected":
            if current > value:
                inside = False
            else:
                break
    return inside, closing if inside else []


def _sorted(events: list[tuple[Any, int, str, str]]) -> list[tuple[Any, int, str, str]]:
    """Events in version order ("introduced: 0" first); same version: introduced before the rest."""
    def cmp(a: tuple[Any, int, str, str], b: tuple[Any, int, str, str]) -> int:
        if a[0] is None or b[0] is None:
            return (a[0] is not None) - (b[0] is not None) or a[1] - b[1]
        if a[0] < b[0]:
            return -1
        if b[0] < a[0]:
            return 1
        return a[1] - b[1]

    return sorted(events, key=functools.cmp_to_key(cmp))
