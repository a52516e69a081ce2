"""Match a catalog against the local OSV index, and say how much of the image the match could see.

A finding is one vulnerability in one package name and version, as Trivy and Grype count them
(a Debian advisory against `openssl` shows once per installed binary package built from it).
Records that alias each other (a GHSA and a PYSEC for the same CVE) are one finding. Debian
packages are looked up by their source package, which is what Debian advisories name.

The coverage says what the count cannot include: ecosystems with packages but no records in the
index, packages whose version could not be compared, and ELF bytes no package claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pare.scan import versions
from pare.scan.model import BINARY, DEB, LABELS, Catalog, Package, osv_ecosystem, runtime_lookup
from pare.scan.osv import SEVERITIES, Severity, evaluate, record_severity, worst
from pare.scan.vulndb import SourceStatus, VulnDB, ecosystem_key


@dataclass(frozen=True)
class Finding:
    id: str
    aliases: tuple[str, ...]
    ecosystem: str  # OSV ecosystem
    package: Package  # the first place it was found
    fixed: tuple[str, ...]
    severity: Severity
    summary: str
    paths: tuple[str, ...] = ()  # every place this package version was found

    @property
    def cves(self) -> tuple[str, ...]:
        return tuple(a for a in (self.id, *self.aliases) if a.startswith("CVE-"))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "aliases": list(self.aliases), "ecosystem": self.ecosystem,
                "package": self.package.name, "version": self.package.version,
                "source": self.package.source or None, "purl": self.package.purl,
                "fixed": list(self.fixed), "severity": self.severity.level, "score": self.severity.score,
                "vector": self.severity.vector or None, "severity_source": self.severity.source or None,
                "summary": self.summary, "paths": list(self.paths), "layer": self.package.layer}


@dataclass(frozen=True)
class Coverage:
    packages: int
    by_ecosystem: dict[str, int]
    with_data: dict[str, int]  # ecosystem label -> packages the index has records for the ecosystem of
    without_data: dict[str, int]  # ecosystem label -> packages no record can name
    uncomparable: tuple[str, ...]  # "name version: why"
    runtimes: tuple[str, ...]  # "node 20.20.2 (/usr/bin/node)": seen in a binary, no OSV ecosystem
    elf_files: int
    elf_bytes: int
    unclaimed_files: int
    unclaimed_bytes: int
    data_age_days: float | None = None
    db_present: bool = True

    def line(self) -> str:
        """The one-line summary: what was seen, and what the figures cannot include."""
        parts = [f"{self.packages} packages seen"]
        if self.by_ecosystem:
            seen = ", ".join(f"{LABELS.get(e, e)} {n}" for e, n in self.by_ecosystem.items())
            parts[0] += f" ({seen})"
        parts.append(f"{_mb(self.unclaimed_bytes)} in {self.unclaimed_files} ELF files no package claims"
                     + (" (invisible to package-based scanners)" if self.unclaimed_files else ""))
        if not self.db_present:
            parts.append("no vulnerability data imported")
        elif self.without_data:
            missing = ", ".join(f"{k} ({n} packages)" for k, n in self.without_data.items())
            parts.append(f"no advisory data for {missing}")
        if self.runtimes:
            parts.append("runtimes known only by version string: " + ", ".join(self.runtimes))
        if self.uncomparable:
            parts.append(f"{len(self.uncomparable)} versions not comparable")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"packages": self.packages, "by_ecosystem": self.by_ecosystem, "with_data": self.with_data,
                "without_data": self.without_data, "uncomparable": list(self.uncomparable),
                "runtimes": list(self.runtimes), "elf_files": self.elf_files, "elf_bytes": self.elf_bytes,
                "unclaimed_elf_files": self.unclaimed_files, "unclaimed_elf_bytes": self.unclaimed_bytes,
                "data_age_days": self.data_age_days, "vulnerability_data": self.db_present,
                "line": self.line()}


@dataclass(frozen=True)
class ScanResult:
    catalog: Catalog
    findings: tuple[Finding, ...]
    coverage: Coverage
    sources: tuple[SourceStatus, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(SEVERITIES, 0)
        for f in self.findings:
            out[f.severity.level] += 1
        return out

    def distinct(self) -> int:
        return len({f.id for f in self.findings})

    def to_dict(self, limit: int | None = None) -> dict[str, Any]:
        return {"image": self.catalog.image, "digest": self.catalog.digest,
                "distro": self.catalog.distro.to_dict() if self.catalog.distro else None,
                "counts": self.counts(), "findings_total": len(self.findings),
                "vulnerabilities_distinct": self.distinct(),
                "findings": [f.to_dict() for f in self.findings],
                "coverage": self.coverage.to_dict(),
                "unclaimed_elf": self.catalog.to_dict(limit)["elf"]["unclaimed"],
                "data_sources": [{"name": s.name, "origin": s.origin, "records": s.records,
                                  "newest_record": s.newest, "ecosystems": s.ecosystems}
                                 for s in self.sources],
                "warnings": list(self.warnings)}


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n} B"


def scan(catalog: Catalog, db: VulnDB | None) -> ScanResult:
    """Findings for every package the index has records for, and the coverage."""
    by_eco: dict[str, int] = {}
    for p in catalog.packages:
        by_eco[p.ecosystem] = by_eco.get(p.ecosystem, 0) + 1
    runtimes = tuple(f"{p.name} {p.version} ({p.path})" for p in catalog.packages if p.ecosystem == BINARY)
    sources: list[SourceStatus] = []
    known: dict[str, int] = {}
    warnings: list[str] = []
    if db is not None and db.exists:
        sources = db.status()
        known = db.ecosystems()
        stale = [s for s in sources if s.stale]
        for s in stale:
            age = s.age_days
            how_old = "of unknown age" if age is None else f"{age:.0f} days old"
            warnings.append(f"vulnerability data {s.name!r} is {how_old}"
                            f" (newest record {s.newest or '?'}): findings miss what was published since; "
                            "run pare db update or import a fresh export")
    else:
        warnings.append("no vulnerability data imported: packages and coverage only "
                        "(pare db import PATH, or pare db update)")

    findings: dict[tuple[str, str, str, str], Finding] = {}
    uncomparable: list[str] = []
    with_data: dict[str, int] = {}
    without_data: dict[str, int] = {}
    cache: dict[tuple[str, str], list[Any]] = {}
    for package in catalog.packages:
        for key, name, version in _lookups(package, catalog.distro):
            label = key
            if not known.get(key):
                without_data[label] = without_data.get(label, 0) + 1
                continue
            with_data[label] = with_data.get(label, 0) + 1
            if not versions.supported(key):
                uncomparable.append(f"{package.name} {package.version}: no version rules for {key}")
                continue
            if version == "(devel)":
                uncomparable.append(f"{package.name} {version}: a development build has no release version")
                continue
            hits = cache.get((key, name))
            if hits is None:
                hits = db.lookup(key, name) if db is not None else []
                cache[(key, name)] = hits
            matched: list[tuple[dict[str, Any], dict[str, Any], tuple[str, ...]]] = []
            errors: set[str] = set()
            for hit in hits:
                verdict = evaluate(key, version, hit.entry)
                if verdict.error:
                    errors.add(verdict.error)
                if verdict.affected:
                    matched.append((hit.record, hit.entry, verdict.fixed))
            if errors and not matched:
                uncomparable.append(f"{package.name} {version}: {sorted(errors)[0]}")
            for finding in _merge_aliases(key, package, matched):
                fkey = (finding.id, key, package.name, package.version)
                if fkey in findings:
                    old = findings[fkey]
                    findings[fkey] = Finding(old.id, old.aliases, old.ecosystem, old.package, old.fixed,
                                             old.severity, old.summary, (*old.paths, package.path))
                else:
                    findings[fkey] = finding
    ordered = sorted(findings.values(), key=lambda f: (SEVERITIES.index(f.severity.level),
                                                       -(f.severity.score or 0), f.package.name, f.id))
    unclaimed = catalog.unclaimed_elf
    ages = [s.age_days for s in sources if s.age_days is not None]
    coverage = Coverage(len(catalog.packages), dict(sorted(by_eco.items())), with_data, without_data,
                        tuple(dict.fromkeys(uncomparable)), runtimes, catalog.elf_files, catalog.elf_bytes,
                        len(unclaimed), sum(f.size for f in unclaimed),
                        max(ages) if ages else None, bool(sources))
    return ScanResult(catalog, tuple(ordered), coverage, tuple(sources), tuple(warnings))


def _lookups(package: Package, distro: Any) -> list[tuple[str, str, str]]:
    """(OSV ecosystem, name, version) under which records can name this package: its own ecosystem
    (a Debian package by its source), and, for a runtime, the runtime's upstream advisories."""
    out = []
    osv = osv_ecosystem(package, distro)
    if osv is not None:
        deb = package.ecosystem == DEB
        out.append((ecosystem_key(osv), package.source if deb and package.source else package.name,
                    package.source_version if deb and package.source_version else package.version))
    runtime = runtime_lookup(package)
    if runtime is not None:
        out.append(runtime)
    return out


def _merge_aliases(ecosystem: str, package: Package,
                   matched: list[tuple[dict[str, Any], dict[str, Any], tuple[str, ...]]]) -> list[Finding]:
    """One finding per group of records that alias each other (share an id or alias)."""
    groups: list[tuple[set[str], list[tuple[dict[str, Any], dict[str, Any], tuple[str, ...]]]]] = []
    for item in matched:
        record = item[0]
        names = {record["id"], *(a for a in record.get("aliases") or [] if isinstance(a, str))}
        joined = [g for g in groups if g[0] & names]
        merged_names, merged_items = set(names), [item]
        for g in joined:
            merged_names |= g[0]
            merged_items += g[1]
            groups.remove(g)
        groups.append((merged_names, merged_items))
    out = []
    for names, items in groups:
        rated = [(record_severity(r, e), r, e, fixed) for r, e, fixed in items]
        # the representative: a record with a CVSS score first, then a rated one, then by id
        rated.sort(key=lambda t: (t[0].score is None, t[0].level == "unknown", t[1]["id"]))
        severity, record, _, _ = rated[0]
        levels = [s.level for s, _, _, _ in rated if s.score is not None] or [s.level for s, _, _, _ in rated]
        if severity.score is None:
            severity = Severity(worst(levels), None, "", severity.source)
        fixed = tuple(dict.fromkeys(v for _, _, _, fx in rated for v in fx))
        summary = str(record.get("summary") or record.get("details") or "").strip().splitlines()
        out.append(Finding(record["id"], tuple(sorted(names - {record["id"]})), ecosystem, package, fixed,
                           severity, summary[0][:200] if summary else "", (package.path,)))
    return out
