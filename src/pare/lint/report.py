"""Findings as text (for people), JSON (for scripts) and SARIF 2.1.0 (for code-scanning tools)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from pare import __version__
from pare.lint.engine import Result
from pare.lint.rules import RULES

SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
DOCS = "https://github.com/pare/pare/blob/main/"


def human(n: int | None) -> str:
    if n is None:
        return "?"
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.0f} {unit}" if n >= 10 * size else f"{n / size:.1f} {unit}"
    return f"{n} B"


def text(results: Sequence[Result]) -> str:
    lines: list[str] = []
    for result in results:
        for f in result.findings:
            where = f"{f.path}:{f.line}"
            size = human(f.bytes) + ("=" if f.measured else "~" if f.bytes is not None else " ")
            lines.append(f"{where} {f.rule.id} {f.rule.severity:<7} {size:>8}  {f.message}")
        if result.findings:
            measured = any(f.measured for f in result.findings)
            how = "= measured from the built layers, ~ estimated" if measured else \
                "estimates (~); --measure builds and measures"
            lines.append(f"{result.path}: {len(result.findings)} finding(s), about {human(result.bytes)} "
                         f"that need not ship ({how})")
        else:
            lines.append(f"{result.path}: no findings")
    return "\n".join(lines)


def as_json(results: Sequence[Result]) -> str:
    return json.dumps([{"path": r.path, "bytes": r.bytes, "findings": [f.as_dict() for f in r.findings]}
                       for r in results], indent=2)


def sarif(results: Sequence[Result]) -> str:
    rules = [{"id": r.id, "name": r.family, "shortDescription": {"text": r.title},
              "helpUri": DOCS + r.docs, "defaultConfiguration": {"level": SARIF_LEVEL[r.severity]},
              "properties": {"hadolint": list(r.hadolint)}} for r in RULES]
    index = {r.id: n for n, r in enumerate(RULES)}
    out = [{"ruleId": f.rule.id, "ruleIndex": index[f.rule.id], "level": SARIF_LEVEL[f.rule.severity],
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": f.path},
                                                "region": {"startLine": f.line}}}],
            "properties": {"bytes": f.bytes, "stage": f.stage}}
           for r in results for f in r.findings]
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "pare lint", "version": __version__,
                                         "informationUri": DOCS + "docs/lint/README.md", "rules": rules}},
                     "results": out}]}
    return json.dumps(doc, indent=2)
