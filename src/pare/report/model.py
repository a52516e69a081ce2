"""What a report shows, computed once from Results so the terminal and HTML reports agree: the
playbook's table (per profile: each variant's size, build, push and pull, and the fat/small ratio)
and the node-recovery table."""

from __future__ import annotations

from dataclasses import dataclass

from pare.experiment.results import METRICS, TIME_METRICS, Comparison, Results, Summary

TABLE_METRICS = ("size_compressed", "size_uncompressed", "layers", *TIME_METRICS)


@dataclass(frozen=True)
class Row:
    app: str
    variant: str
    role: str
    cells: dict[str, Summary | None]


@dataclass(frozen=True)
class RatioRow:
    app: str
    fat: str
    small: str
    cells: dict[str, Comparison | None]


@dataclass(frozen=True)
class ProfileTable:
    profile: str
    description: str
    repeats: int
    rows: list[Row]
    ratios: list[RatioRow]
    metrics: tuple[str, ...]


@dataclass(frozen=True)
class RecoveryTable:
    profile: str
    columns: list[tuple[int, int]]  # (deployments, parallel)
    rows: list[tuple[str, str, dict[tuple[int, int], Summary | None]]]  # app, variant, cells
    ratios: list[tuple[str, str, str, dict[tuple[int, int], Comparison | None]]]  # app, fat, small, cells


def fat_and_small(results: Results, app: str, profile: str) -> tuple[str, str] | None:
    """The fattest 'fat' variant and the smallest 'small' one, by compressed size."""
    def size(v: str) -> float:
        s = results.summary(app, v, profile, "size_compressed")
        return s.median if s else 0.0
    variants = results.variants_of(app)
    fats = [v for v in variants if results.role(app, v) == "fat"]
    smalls = [v for v in variants if results.role(app, v) != "fat"]
    if not fats or not smalls:
        return None
    return max(fats, key=size), min(smalls, key=size)


def profile_tables(results: Results) -> list[ProfileTable]:
    present = {s.metric for s in results.samples}
    metrics = tuple(m for m in TABLE_METRICS if m in present)
    tables = []
    for profile in results.profile_names():
        rows: list[Row] = []
        ratios: list[RatioRow] = []
        for app in results.apps():
            for variant in results.variants_of(app):
                cells = {m: results.summary(app, variant, profile, m) for m in metrics}
                if any(cells.values()):
                    rows.append(Row(app, variant, results.role(app, variant), cells))
            pair = fat_and_small(results, app, profile)
            if pair is not None:
                fat, small = pair
                comp: dict[str, Comparison | None] = {}
                for m in metrics:
                    a, b = results.summary(app, fat, profile, m), results.summary(app, small, profile, m)
                    comp[m] = Comparison(a, b, exact=m not in TIME_METRICS) if a and b else None
                ratios.append(RatioRow(app, fat, small, comp))
        if rows:
            body = results.profiles.get(profile, {})
            tables.append(ProfileTable(profile, str(body.get("profile", {}).get("description", "")),
                                       results.repeats(profile), rows, ratios, metrics))
    return tables


def recovery_tables(results: Results) -> list[RecoveryTable]:
    tables = []
    for profile in results.profile_names():
        samples = [r for r in results.recovery if r.profile == profile]
        if not samples:
            continue
        columns = sorted({(r.deployments, r.parallel) for r in samples})
        rows = []
        keys = list(dict.fromkeys((r.app, r.variant) for r in samples))
        for app, variant in keys:
            rows.append((app, variant, {c: results.recovery_summary(variant, profile, c[0], c[1], app)
                                        for c in columns}))
        ratios = []
        for app in dict.fromkeys(a for a, _ in keys):
            pair = fat_and_small(results, app, profile)
            if pair is None:
                continue
            fat, small = pair
            cells: dict[tuple[int, int], Comparison | None] = {}
            for c in columns:
                a = results.recovery_summary(fat, profile, c[0], c[1], app)
                b = results.recovery_summary(small, profile, c[0], c[1], app)
                cells[c] = Comparison(a, b) if a and b else None
            ratios.append((app, fat, small, cells))
        tables.append(RecoveryTable(profile, columns, rows, ratios))
    return tables


SHORT = {"size_compressed": "compressed", "size_uncompressed": "uncompressed", "layers": "layers",
         "build_cold": "build cold", "build_warm": "build warm", "push": "push", "push_change": "push change",
         "pull": "pull"}


def label(metric: str, short: bool = False) -> str:
    return SHORT[metric] if short else METRICS[metric][1]


def fmt_value(metric: str, value: float) -> str:
    unit = METRICS[metric][0]
    if unit == "B":
        return fmt_bytes(value)
    if unit == "s":
        return fmt_seconds(value)
    return f"{value:g}"


def fmt_bytes(value: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.0f} B"


def fmt_seconds(value: float) -> str:
    if value >= 100:
        return f"{value:.0f} s"
    if value >= 10:
        return f"{value:.1f} s"
    return f"{value:.2f} s"


def fmt_summary(metric: str, s: Summary | None, spread: bool = True) -> str:
    if s is None:
        return "-"
    text = fmt_value(metric, s.median)
    if spread and s.n > 1 and METRICS[metric][0] == "s":
        text += f" ({fmt_value(metric, s.min)} to {fmt_value(metric, s.max)})"
    return text


def column_label(col: tuple[int, int]) -> str:
    d, k = col
    return f"D={d} {'serial' if k == 1 else f'parallel {k}'}"


def caveats(results: Results) -> list[str]:
    """What a reader must know before trusting the figures."""
    out = list(results.notes)
    for name, body in results.profiles.items():
        prof = body.get("profile", {})
        wanted = [k for k in ("cpus", "memory_mb", "bandwidth_mbit") if prof.get(k)]
        applied = body.get("applied", {})
        if wanted and not applied:
            out.append(f"profile {name}: limits {', '.join(wanted)} were NOT recorded as applied")
        if body.get("repeats", 0) == 1:
            out.append(f"profile {name}: 1 run per figure: no spread to judge noise; ratios under 1.5x "
                       "are reported as 'no clear difference'")
    for err in results.errors:
        out.append(f"failed: {err.get('app')}/{err.get('variant')} {err.get('metric')} on "
                   f"{err.get('profile')}: {err.get('message')}")
    return out


# --- known vulnerabilities per variant (pare scan) --------------------------------------------------
SEVERITY_COLUMNS = ("critical", "high", "medium", "low", "negligible", "unknown")


@dataclass(frozen=True)
class SecurityRow:
    app: str
    variant: str
    role: str
    packages: int
    counts: dict[str, int]
    findings: int
    pending: dict[str, int] | None  # source packages / CVEs fixed in -security/-updates, kernel apart
    unclaimed_bytes: int
    unclaimed_files: int
    without_data: dict[str, int]
    coverage: str


def security_rows(results: Results) -> list[SecurityRow]:
    rows = []
    for app, variants in results.security.items():
        order = results.variants_of(app) or list(variants)
        for variant in [v for v in order if v in variants] + [v for v in variants if v not in order]:
            body = variants[variant]
            rows.append(SecurityRow(app, variant, results.role(app, variant), int(body.get("packages", 0)),
                                    {k: int(v) for k, v in dict(body.get("counts", {})).items()},
                                    int(body.get("findings", 0)), body.get("debian_pending"),
                                    int(body.get("unclaimed_elf_bytes", 0)),
                                    int(body.get("unclaimed_elf_files", 0)),
                                    dict(body.get("without_data", {})), str(body.get("coverage", ""))))
    return rows


def fmt_pending(pending: dict[str, int] | None) -> str:
    if pending is None:
        return "-"
    text = f"{pending.get('packages', 0)} pkgs, {pending.get('cves', 0)} CVEs"
    if pending.get("kernel_packages"):
        text += f" (+ kernel headers: {pending.get('kernel_cves', 0)} CVEs)"
    return text


def security_notes(results: Results) -> list[str]:
    """What the known-vulnerabilities row cannot include, said once per report."""
    notes: list[str] = []
    sources: dict[str, str] = {}
    for variants in results.security.values():
        for body in variants.values():
            for s in body.get("data_sources", []):
                newest = s.get("newest_record") or "?"
                sources[str(s.get("name"))] = f"{s.get('records')} records, newest {newest}"
    if not results.security:
        return notes
    if sources:
        notes.append("known vulnerabilities: offline OSV data (" +
                     "; ".join(f"{k}: {v}" for k, v in sorted(sources.items())) +
                     "); a finding is one advisory in one package version, as Trivy and Grype count them")
    else:
        notes.append("known vulnerabilities: no vulnerability data was imported (pare db import): the row "
                     "shows packages and coverage only, not a clean bill of health")
    missing = sorted({eco for vs in results.security.values() for b in vs.values()
                      for eco in dict(b.get("without_data", {}))})
    if missing:
        notes.append("no advisory data for " + ", ".join(missing) +
                     ": those packages are counted, not matched")
    unseen = [f"{a}/{v}" for a, vs in results.security.items() for v, b in vs.items()
              if int(b.get("unclaimed_elf_bytes", 0))]
    if unseen:
        notes.append("ELF files no package claims (invisible to any package-based scanner) in: " +
                     ", ".join(unseen))
    return notes


def compressors(results: Results) -> dict[str, list[str]]:
    """Compressor -> the variants whose layers it made, as the builds recorded it (older result
    files have none: empty)."""
    out: dict[str, list[str]] = {}
    for variants in results.variants.values():
        for variant, info in variants.items():
            who = str(info.get("compressor") or "")
            if who and variant not in out.setdefault(who, []):
                out[who].append(variant)
    return out
