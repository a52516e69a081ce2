#!/usr/bin/env python3
"""Start-up benchmark: `pare --help`, `pare --version` and `pare inspect` on a layout, next to skopeo
doing the same, same run, alternating, each as a fresh process (as a user or a script runs them).

Wall time is what a user waits; CPU time (user + system, from the child's rusage) is printed too,
since on a busy machine it moves far less than wall time. Also times the floors pare cannot go
below, so a gap can be read: the interpreter alone (`python -S -c pass`, and with site as the venv
runs it), `import click` (the CLI's parser) and `import httpx` (what every registry command needs).
Prints median, min-max and pare/skopeo.

    .venv/bin/python benchmarks/startup.py [--runs 15] [--json out.json]

Targets (issue 20): --help and --version under 0.08 s, inspect on a layout under 0.1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

PARE = str(Path(sys.executable).parent / "pare")
PY = sys.executable
# An installed CLI runs from cached bytecode; PYTHONDONTWRITEBYTECODE would measure recompiling.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
TARGETS = {"help": 0.08, "version": 0.08, "inspect": 0.1}


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of `cmd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed: {done.stderr.decode(errors='replace').strip()}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def sample_layout(where: Path) -> str:
    """A two-layer image in an OCI layout, the size of a small app."""
    from helpers import make_image, noise
    from pare.stores.layout import LayoutStore
    LayoutStore(where / "layout").write(make_image(where / "w", {"bin/app": noise(1_500_000, 1)},
                                                   {"etc/app.conf": b"port=8080\n"}), "app")
    return f"oci:{where / 'layout'}:app"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if shutil.which("skopeo") is None:
        sys.exit("bench: skopeo is missing (apt-get install skopeo, or `make setup`)")
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "src" / "pare")], env=ENV, check=True,
                   stdout=subprocess.DEVNULL)
    scratch = Path(tempfile.mkdtemp(prefix="pare-startup-"))
    try:
        image = sample_layout(scratch)
        pairs = {  # line -> (pare's command, skopeo's command or None)
            "help": ([PARE, "--help"], ["skopeo", "--help"]),
            "version": ([PARE, "--version"], ["skopeo", "--version"]),
            "inspect": ([PARE, "inspect", image], ["skopeo", "inspect", image]),
            "floor: python -S -c pass": ([os.path.realpath(PY), "-S", "-c", "pass"], None),
            "floor: venv python -c pass": ([PY, "-c", "pass"], None),
            "floor: import click": ([PY, "-c", "import click"], None),
            "floor: import httpx": ([PY, "-c", "import httpx"], None),
        }
        figures: dict[str, dict[str, list[float]]] = {
            name: {"pare": [], "skopeo": [], "pare-cpu": [], "skopeo-cpu": []} for name in pairs}
        for run in range(-1, args.runs):  # run -1 warms the page cache and is not counted
            for name, (ours, theirs) in pairs.items():
                order = [("pare", ours), ("skopeo", theirs)]
                for tool, cmd in order if run % 2 == 0 else order[::-1]:
                    if cmd is None:
                        continue
                    elapsed, cpu = timed(cmd)
                    if run >= 0:
                        figures[name][tool].append(elapsed)
                        figures[name][f"{tool}-cpu"].append(cpu)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"start-up, {args.runs} runs each, median seconds (min-max), alternating, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'command':<28} {'pare wall':>20} {'skopeo wall':>20} {'ratio':>6} {'target':>7}"
          f" {'pare cpu':>9} {'skopeo cpu':>10} {'ratio':>6}")
    for name, by_tool in figures.items():
        ours, theirs = by_tool["pare"], by_tool["skopeo"]
        cell = f"{statistics.median(ours):.3f} ({min(ours):.3f}-{max(ours):.3f})"
        other = f"{statistics.median(theirs):.3f} ({min(theirs):.3f}-{max(theirs):.3f})" if theirs else "-"
        ratio = f"{statistics.median(ours) / statistics.median(theirs):.1f}" if theirs else "-"
        target = TARGETS.get(name)
        verdict = "" if target is None else ("met" if statistics.median(ours) < target else "NOT met")
        cpu, cpu_theirs = statistics.median(by_tool["pare-cpu"]), by_tool["skopeo-cpu"]
        cpu_other = f"{statistics.median(cpu_theirs):.3f}" if cpu_theirs else "-"
        cpu_ratio = f"{cpu / statistics.median(cpu_theirs):.1f}" if cpu_theirs else "-"
        print(f"{name:<28} {cell:>20} {other:>20} {ratio:>6} {verdict:>7} {cpu:>9.3f} {cpu_other:>10} "
              f"{cpu_ratio:>6}")
    if args.json:
        args.json.write_text(json.dumps({"runs": args.runs, "figures": figures}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
