"""Medians and sandbox/--no-sandbox ratios of benchmarks/sandbox_cost.sh's TSV, as a Markdown table.

    python benchmarks/sandbox_cost_summary.py results.tsv

Pairs are adjacent builds of the same app and kind (sandbox first), so each pair ratio saw about the
same load; CPU seconds (user + system of pare and every step) are the column a loaded machine
stretches least."""

from __future__ import annotations

import csv
import statistics
import sys
from collections import defaultdict


def summary(rows: list[list[str]]) -> list[str]:
    elapsed: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    cpu: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for row in rows:
        app, mode, kind = row[:3]
        elapsed[(app, kind, mode)].append(float(row[3]))
        if len(row) > 4:
            cpu[(app, kind, mode)].append(float(row[4]))
    lines = ["| app | kind | pairs | sandbox s (median) | --no-sandbox s | ratio | pair ratios "
             "| CPU s sandbox / none |", "|---|---|---|---|---|---|---|---|"]
    for app in dict.fromkeys(row[0] for row in rows):
        for kind in ("warm", "cold"):
            boxed, bare = elapsed[(app, kind, "sandbox")], elapsed[(app, kind, "no-sandbox")]
            pairs = min(len(boxed), len(bare))
            if not pairs:
                continue
            ratios = ", ".join(f"{a / b:.2f}" for a, b in zip(boxed, bare, strict=False))
            work = [cpu[(app, kind, mode)][:pairs] for mode in ("sandbox", "no-sandbox")]
            cpus = " / ".join(f"{statistics.median(w):.2f}" for w in work) if all(work) else "-"
            a, b = statistics.median(boxed[:pairs]), statistics.median(bare[:pairs])
            lines.append(f"| {app} | {kind} | {pairs} | {a:.2f} | {b:.2f} | {a / b:.2f} | {ratios} "
                         f"| {cpus} |")
    return lines


if __name__ == "__main__":
    with open(sys.argv[1], newline="") as fh:
        print("\n".join(summary([row for row in csv.reader(fh, delimiter="\t") if row])))
