"""`pare report -o report.html`: one self-contained page (inline CSS and SVG, no scripts, nothing
fetched) with the machine, pare's version, the exact command, the tables and the charts."""

from __future__ import annotations

from html import escape
from pathlib import Path

from pare.experiment.results import METRICS, TIME_METRICS, Results, Summary
from pare.report import svg
from pare.report.model import (
    SEVERITY_COLUMNS,
    caveats,
    column_label,
    compressors,
    fmt_bytes,
    fmt_pending,
    fmt_seconds,
    fmt_summary,
    label,
    profile_tables,
    recovery_tables,
    security_notes,
    security_rows,
)

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;
color:#222;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:1em 0;font-size:.9em;display:block;overflow-x:auto;max-width:100%}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}tr.ratio td{font-weight:bold;background:#fafae8}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:bold}
code{background:#f4f4f4;padding:.1em .3em}.notes li{color:#8a5a00}
.chart{margin:1em 1em 1em 0;background:#fff;border:1px solid #eee}
.chart-wrap{overflow-x:auto;max-width:100%}
.chart-title{font-weight:bold;font-size:14px}.axis,.legend,.group,.value{font-size:11px;fill:#333}
.grid{stroke:#e5e5e5}.whisker{stroke:#111;stroke-width:1.5}
"""


METHODS_NOTE = ("One command per figure as it ran (paths are the run's scratch directory); each ran under "
                "the profile's cgroup and tc limits, timed wall-clock from fork to exit. Node recovery "
                "reports its own time from first request to last layer unpacked (the kubelet is already "
                "running on a node).")


def _fmt(metric: str) -> svg.Callable[[float], str]:
    unit = METRICS[metric][0]
    if unit == "B":
        return fmt_bytes
    if unit == "s":
        return fmt_seconds
    return lambda v: f"{v:g}"


def render(results: Results) -> str:
    m = results.machine
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<title>pare bench report</title>", f"<style>{CSS}</style></head><body>",
             "<h1>Small images: what they buy</h1>", "<dl>",
             f"<dt>machine</dt><dd>{escape(str(m.get('hostname')))}: {escape(str(m.get('cpu')))}, "
             f"{m.get('cores')} cores, {m.get('memory_gb')} GB, {escape(str(m.get('os')))}, "
             f"kernel {escape(str(m.get('kernel')))} (fingerprint {escape(str(m.get('fingerprint')))})</dd>",
             f"<dt>pare</dt><dd>{escape(results.pare_version)}</dd>",
             f"<dt>command</dt><dd><code>{escape(' '.join(results.command))}</code></dd>",
             f"<dt>transfer client</dt><dd>{escape(results.client)}</dd>",
             *(f"<dt>compression</dt><dd>{escape(', '.join(vs))}: {escape(who)}</dd>"
               for who, vs in compressors(results).items()),
             f"<dt>ran</dt><dd>{escape(results.started)} to {escape(results.finished)}</dd>"]
    for name, body in results.profiles.items():
        prof = body.get("profile", {})
        applied = body.get("applied", {})
        limits = ", ".join(f"{k}={prof[k]}" for k in ("cpus", "memory_mb", "bandwidth_mbit") if prof.get(k))
        how = []
        if "cgroup" in applied:
            how.append(f"cgroup v{applied['cgroup'].get('version')}")
        if "tc" in applied:
            how.append(f"tc HTB on {applied['tc'].get('dev')} port {applied['tc'].get('port')}")
        parts.append(f"<dt>profile {escape(name)}</dt><dd>{escape(limits or 'no limits')}"
                     f"{' applied with ' + escape(', '.join(how)) if how else ''}; "
                     f"{body.get('repeats')} run(s) per figure</dd>")
    parts.append("</dl>")
    notes = caveats(results)
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    parts.append('<p>Each figure is the median of its runs, with min and max. A fat/small ratio whose runs '
                 'overlap is shown as "no clear difference". Sizes: compressed = bytes a pull moves.</p>')

    tables = profile_tables(results)
    colors = _variant_colors(results)
    parts.append("<h2>Charts</h2>")
    metrics = list(dict.fromkeys(metric for t in tables for metric in t.metrics))
    for metric in metrics:
        # sizes do not depend on the profile: one chart; times: one chart per profile, so the
        # unlimited machine's bars are not flattened by the small machine's scale
        per_profile = [tables[:1]] if metric not in TIME_METRICS else [[t] for t in tables]
        for chosen in per_profile:
            groups: list[tuple[str, list[tuple[str, Summary | None]]]] = []
            for t in chosen:
                for app in dict.fromkeys(r.app for r in t.rows):
                    bars = [(r.variant, r.cells.get(metric)) for r in t.rows if r.app == app]
                    if any(s is not None for _, s in bars):
                        groups.append((app, bars))
            if groups:
                where = f" @ {chosen[0].profile}" if metric in TIME_METRICS else ""
                parts.append(_wrap(svg.bar_chart(label(metric) + where, groups, _fmt(metric), colors)))
    for rt in recovery_tables(results):
        for app in dict.fromkeys(a for a, _, _ in rt.rows):
            series = []
            for i, (a, variant, _cells) in enumerate(r for r in rt.rows if r[0] == app):
                for k in sorted({c[1] for c in rt.columns}):
                    pts = [(d, s) for (d, kk) in rt.columns if kk == k
                           if (s := results.recovery_summary(variant, rt.profile, d, kk, a)) is not None]
                    # serial at D=1 equals parallel at D=1: show it on both lines
                    if k != 1:
                        one = results.recovery_summary(variant, rt.profile, 1, 1, a)
                        if one is not None and all(d != 1 for d, _ in pts):
                            pts.append((1, one))
                    if pts:
                        mode = "serial" if k == 1 else f"parallel {k}"
                        color = colors.get(variant, svg.PALETTE[i % len(svg.PALETTE)])
                        series.append((f"{variant}, {mode}", color if k == 1 else _darker(color), pts))
            parts.append(_wrap(svg.line_chart(f"node recovery: {app} @ {rt.profile}", series, fmt_seconds,
                                              "deployments on the fresh node")))

    if results.methods:
        parts.append("<h2>How each figure was measured</h2><p>" + escape(METHODS_NOTE) + "</p><dl>")
        for metric, command in results.methods.items():
            name = label(metric) if metric in METRICS else metric.replace("_", " ")
            parts.append(f"<dt>{escape(name)}</dt><dd><code>{escape(command)}</code></dd>")
        parts.append("</dl>")
    parts.append("<h2>Tables</h2>")
    for t in tables:
        parts.append(f"<h3>profile {escape(t.profile)}: {t.repeats} run(s) per figure</h3><table><tr>"
                     "<th>app / variant</th>" + "".join(f"<th>{escape(label(x))}</th>" for x in t.metrics)
                     + "</tr>")
        for row in t.rows:
            parts.append(f"<tr><td>{escape(row.app)} / {escape(row.variant)} ({escape(row.role)})</td>" +
                         "".join(f"<td>{escape(fmt_summary(x, row.cells[x]))}</td>" for x in t.metrics)
                         + "</tr>")
        for ratio in t.ratios:
            parts.append(f'<tr class="ratio"><td>{escape(ratio.app)}: {escape(ratio.fat)} / '
                         f"{escape(ratio.small)}</td>" +
                         "".join(f"<td>{escape(c.text()) if (c := ratio.cells[x]) else '-'}</td>"
                                 for x in t.metrics) + "</tr>")
        parts.append("</table>")
    for rt in recovery_tables(results):
        parts.append(f"<h3>node recovery on {escape(rt.profile)}: seconds until every pod could start</h3>"
                     "<table><tr><th>app / variant</th>" +
                     "".join(f"<th>{escape(column_label(c))}</th>" for c in rt.columns) + "</tr>")
        for app, variant, cells in rt.rows:
            parts.append(f"<tr><td>{escape(app)} / {escape(variant)}</td>" +
                         "".join(f"<td>{escape(fmt_summary('pull', cells[c]))}</td>" for c in rt.columns) +
                         "</tr>")
        for app, fat, small, comps in rt.ratios:
            parts.append(f'<tr class="ratio"><td>{escape(app)}: {escape(fat)} / {escape(small)}</td>' +
                         "".join(f"<td>{escape(c.text()) if (c := comps[col]) else '-'}</td>"
                                 for col in rt.columns) + "</tr>")
        parts.append("</table>")
    security = security_rows(results)
    if security:
        parts.append("<h2>Known vulnerabilities</h2><p>What each variant carries, from offline OSV data "
                     "(<code>pare scan</code>); the coverage says what the counts cannot include.</p>"
                     "<table><tr><th>app / variant</th><th>packages</th>" +
                     "".join(f"<th>{s}</th>" for s in SEVERITY_COLUMNS) +
                     "<th>pending Debian fixes</th><th>ELF bytes no package claims</th>"
                     "<th>coverage</th></tr>")
        for sec in security:
            parts.append(f"<tr><td>{escape(sec.app)} / {escape(sec.variant)} ({escape(sec.role)})</td>"
                         f"<td>{sec.packages}</td>" +
                         "".join(f"<td>{sec.counts.get(s, 0)}</td>" for s in SEVERITY_COLUMNS) +
                         f"<td>{escape(fmt_pending(sec.pending))}</td>"
                         f"<td>{fmt_bytes(sec.unclaimed_bytes)}</td>"
                         f"<td>{escape(sec.coverage)}</td></tr>")
        parts.append("</table><ul class=\"notes\">" +
                     "".join(f"<li>{escape(n)}</li>" for n in security_notes(results)) + "</ul>")
    parts.append(f"<p>Raw runs: {len(results.samples)} measurements, {len(results.recovery)} node-recovery "
                 f"runs; time metrics: {', '.join(TIME_METRICS)}.</p></body></html>")
    return "\n".join(parts)


def _wrap(chart: str) -> str:
    """Charts keep their size and scroll sideways on a narrow screen, so text is never shrunk."""
    return f'<div class="chart-wrap">{chart}</div>'


def _variant_colors(results: Results) -> dict[str, str]:
    variants = list(dict.fromkeys(v for app in results.apps() for v in results.variants_of(app)))
    return {v: svg.PALETTE[i % len(svg.PALETTE)] for i, v in enumerate(variants)}


def _darker(color: str) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"#{r * 6 // 10:02x}{g * 6 // 10:02x}{b * 6 // 10:02x}"


def write(results: Results, path: Path) -> None:
    """Write the page atomically."""
    from pare.files import write_atomic
    write_atomic(path, render(results))
