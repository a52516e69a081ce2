"""The terminal summary: the playbook's table per machine profile, with fat/small ratios, and the
node-recovery table; rendered with rich."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from pare.experiment.results import Results
from pare.report.model import (
    SEVERITY_COLUMNS,
    caveats,
    column_label,
    compressors,
    fmt_bytes,
    fmt_pending,
    fmt_summary,
    label,
    profile_tables,
    recovery_tables,
    security_notes,
    security_rows,
)


def render(results: Results, console: Console | None = None) -> None:
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=180)
    m = results.machine
    console.print(f"[bold]pare bench[/] on {m.get('hostname')} ({m.get('cores')} cores, "
                  f"{m.get('memory_gb')} GB, {m.get('cpu')}), pare {results.pare_version}, "
                  f"client {results.client}")
    console.print(f"command: {' '.join(results.command)}")
    for who, variants in compressors(results).items():
        console.print(f"compression: {', '.join(variants)}: {who}", markup=False)
    for t in profile_tables(results):
        table = Table(title=f"profile {t.profile} ({t.description}; {t.repeats} run(s) per figure: "
                      "median (min to max))", title_justify="left")
        table.add_column("app / variant")
        for metric in t.metrics:
            table.add_column(label(metric, short=True), justify="right")
        for row in t.rows:
            name = f"{row.app} / {row.variant}" + (" (fat)" if row.role == "fat" else "")
            table.add_row(name, *(fmt_summary(metric, row.cells[metric]) for metric in t.metrics))
        for ratio in t.ratios:
            cells = []
            for metric in t.metrics:
                comp = ratio.cells[metric]
                cells.append("-" if comp is None else comp.text())
            table.add_row(f"[bold]{ratio.app}: {ratio.fat} / {ratio.small}[/]", *cells, style="bold")
        console.print(table)
    for rt in recovery_tables(results):
        table = Table(title=f"node recovery on {rt.profile}: seconds until every pod could start",
                      title_justify="left")
        table.add_column("app / variant")
        for col in rt.columns:
            table.add_column(column_label(col), justify="right")
        for app, variant, times in rt.rows:
            table.add_row(f"{app} / {variant}", *(fmt_summary("pull", times[c]) for c in rt.columns))
        for app, fat, small, comps in rt.ratios:
            texts = [comp.text() if (comp := comps[c]) is not None else "-" for c in rt.columns]
            table.add_row(f"[bold]{app}: {fat} / {small}[/]", *texts, style="bold")
        console.print(table)
    security = security_rows(results)
    if security:
        table = Table(title="known vulnerabilities per variant (pare scan, offline)", title_justify="left")
        table.add_column("app / variant")
        table.add_column("packages", justify="right")
        for severity in SEVERITY_COLUMNS:
            table.add_column(severity, justify="right")
        table.add_column("pending Debian fixes", justify="right")
        table.add_column("ELF no package claims", justify="right")
        for sec in security:
            name = f"{sec.app} / {sec.variant}" + (" (fat)" if sec.role == "fat" else "")
            table.add_row(name, str(sec.packages), *(str(sec.counts.get(s, 0)) for s in SEVERITY_COLUMNS),
                          fmt_pending(sec.pending),
                          f"{fmt_bytes(sec.unclaimed_bytes)} ({sec.unclaimed_files})"
                          if sec.unclaimed_files else "0")
        console.print(table)
        for note in security_notes(results):
            console.print(f"[cyan]security:[/] {note}", highlight=False)
    for note in caveats(results):
        console.print(f"[yellow]note:[/] {note}")
