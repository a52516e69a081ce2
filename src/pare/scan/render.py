"""How scan results leave pare: a terminal table grouped by severity and package, SARIF 2.1.0 for
code-scanning tools, and the comparison of two images (what the second no longer carries)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from pare import __version__
from pare.scan.match import Finding, ScanResult
from pare.scan.osv import RANK, SEVERITIES

STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "negligible": "dim",
         "unknown": "magenta"}
SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "negligible": "note",
               "unknown": "warning"}


def counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts.get(s, 0)} {s}" for s in SEVERITIES)


def render_table(result: ScanResult, console: Console, limit: int = 50) -> None:
    """The findings and the coverage line (result.warnings are the caller's to print, on stderr)."""
    cat = result.catalog
    distro = "no OS release file"
    if cat.distro:
        distro = cat.distro.pretty or f"{cat.distro.id} {cat.distro.version_id}"
    console.print(f"[bold]{cat.image}[/] {cat.digest[:19]} ({distro})")
    if result.findings:
        table = Table(title_justify="left", show_lines=False)
        for col in ("severity", "package", "installed", "vulnerability", "fixed in", "summary"):
            table.add_column(col, overflow="fold")
        previous = ("", "")
        shown = result.findings if not limit else result.findings[:limit]
        for f in shown:
            group = (f.severity.level, f.package.name)
            label = f.id + (f" (+{len(f.aliases)})" if f.aliases else "")
            score = f" {f.severity.score:.1f}" if f.severity.score is not None else ""
            level = f"[{STYLE[f.severity.level]}]{f.severity.level}{score}[/]"
            name = f.package.name if group != previous else ""
            table.add_row(level if group[0] != previous[0] else "", name, f.package.version, label,
                          ", ".join(f.fixed) or "-", f.summary[:70])
            previous = group
        console.print(table)
        if limit and len(result.findings) > limit:
            console.print(f"[dim]... {len(result.findings) - limit} more (--limit 0 shows all, --json lists "
                          "them)[/dim]")
    console.print(f"[bold]vulnerabilities:[/] {len(result.findings)} findings ({result.distinct()} "
                  f"distinct): {counts_text(result.counts())}")
    console.print(f"[bold]coverage:[/] {result.coverage.line()}")
    unclaimed = sorted(cat.unclaimed_elf, key=lambda e: (-e.size, e.path))
    if unclaimed:
        console.print("[bold]ELF files no package claims[/] (no scanner that reads package metadata sees "
                      "what they contain):")
        for elf in unclaimed[:10]:
            console.print(f"  {elf.size:>12,} B  {elf.path}  (layer {elf.layer})")
        if len(unclaimed) > 10:
            console.print(f"  ... {len(unclaimed) - 10} more")


def sarif(result: ScanResult) -> dict[str, Any]:
    """SARIF 2.1.0: one rule per vulnerability, one result per affected package location."""
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for f in result.findings:
        if f.id not in rules:
            props: dict[str, Any] = {"tags": ["security", "vulnerability", f.ecosystem]}
            if f.severity.score is not None:
                props["security-severity"] = f"{f.severity.score:.1f}"
            rules[f.id] = {"id": f.id, "name": f.id.replace("-", ""),
                           "shortDescription": {"text": f.summary or f.id},
                           "helpUri": f"https://osv.dev/vulnerability/{f.id}",
                           "properties": props}
        for path in f.paths:
            results.append({
                "ruleId": f.id, "level": SARIF_LEVEL[f.severity.level],
                "message": {"text": f"{f.package.name} {f.package.version} is affected by {f.id} "
                                    f"({f.severity.level}); fixed in: "
                                    f"{', '.join(f.fixed) or 'no fix listed'}"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": path.lstrip("/")}},
                               "logicalLocations": [{"name": f.package.purl or f.package.name,
                                                     "kind": "package"}]}],
                "properties": {"package": f.package.name, "version": f.package.version,
                               "purl": f.package.purl, "fixed": list(f.fixed), "aliases": list(f.aliases),
                               "layer": f.package.layer}})
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "pare", "version": __version__,
                                          "rules": list(rules.values())}},
                      "results": results,
                      "properties": {"image": result.catalog.image, "digest": result.catalog.digest,
                                     "coverage": result.coverage.to_dict()}}]}


def fails(result: ScanResult, threshold: str) -> list[Finding]:
    """Findings at or above `threshold` (critical > high > medium > low > negligible; unknown counts
    only when asked for by name)."""
    if threshold == "unknown":
        return [f for f in result.findings if f.severity.level == "unknown"]
    limit = RANK[threshold]
    return [f for f in result.findings if f.severity.level != "unknown" and RANK[f.severity.level] <= limit]


@dataclass(frozen=True)
class Comparison:
    a: ScanResult
    b: ScanResult

    def _packages(self, r: ScanResult) -> set[tuple[str, str, str]]:
        return {p.key for p in r.catalog.packages}

    def _findings(self, r: ScanResult) -> dict[tuple[str, str, str], Finding]:
        return {(f.id, f.package.name, f.package.version): f for f in r.findings}

    def to_dict(self) -> dict[str, Any]:
        pa, pb = self._packages(self.a), self._packages(self.b)
        fa, fb = self._findings(self.a), self._findings(self.b)
        gone = [fa[k] for k in sorted(fa.keys() - fb.keys())]
        new = [fb[k] for k in sorted(fb.keys() - fa.keys())]
        return {
            "a": {"image": self.a.catalog.image, "packages": len(pa), "counts": self.a.counts(),
                  "coverage": self.a.coverage.line()},
            "b": {"image": self.b.catalog.image, "packages": len(pb), "counts": self.b.counts(),
                  "coverage": self.b.coverage.line()},
            "packages_no_longer_carried": _packages(pa - pb),
            "packages_added": _packages(pb - pa),
            "vulnerabilities_no_longer_carried": [f.to_dict() for f in gone],
            "vulnerabilities_added": [f.to_dict() for f in new],
            "unclaimed_elf_bytes": {"a": self.a.coverage.unclaimed_bytes,
                                    "b": self.b.coverage.unclaimed_bytes},
        }

    def render(self, console: Console, limit: int = 20) -> None:
        body = self.to_dict()
        a, b = self.a, self.b
        for tag, side in (("A", a), ("B", b)):
            console.print(f"[bold]{tag}[/] {side.catalog.image}: {len(side.catalog.packages)} packages, "
                          f"{len(side.findings)} findings ({counts_text(side.counts())})")
        gone = body["vulnerabilities_no_longer_carried"]
        dropped = len(body["packages_no_longer_carried"])
        console.print(f"[bold green]B no longer carries[/] {dropped} packages and {len(gone)} findings "
                      f"({counts_text(_count(gone))})")
        for item in gone[:limit]:
            console.print(f"  - {item['severity']:<10} {item['id']:<22} {item['package']} {item['version']}")
        if len(gone) > limit:
            console.print(f"  ... {len(gone) - limit} more")
        added = body["vulnerabilities_added"]
        if added or body["packages_added"]:
            console.print(f"[bold yellow]B adds[/] {len(body['packages_added'])} packages and {len(added)} "
                          f"findings ({counts_text(_count(added))})")
            for item in added[:limit]:
                console.print(f"  + {item['severity']:<10} {item['id']:<22} {item['package']} "
                              f"{item['version']}")
        console.print(f"coverage A: {a.coverage.line()}")
        console.print(f"coverage B: {b.coverage.line()}")


def _packages(keys: set[tuple[str, str, str]]) -> list[dict[str, str]]:
    return [{"ecosystem": e, "name": n, "version": v} for e, n, v in sorted(keys)]


def _count(items: list[dict[str, Any]]) -> dict[str, int]:
    out = dict.fromkeys(SEVERITIES, 0)
    for item in items:
        out[item["severity"]] += 1
    return out
