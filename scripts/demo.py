#!/usr/bin/env python3
"""`make demo`: the small-images experiment on the examples, in about 20 minutes.

Runs `pare bench --demo` on examples/go-hello and examples/node-express with both machine profiles
(laptop: no limits; micro: 0.2 CPU, 600 MB, 20 Mbit/s), writes results/bench-results.json and
results/report.html, and prints the playbook table with fat/small ratios, and known vulnerabilities
from pare's embedded OSV snapshot (or whatever the default index holds) plus Debian's pending
fixes. The bench owns its temp dir, registries, cgroups and tc classes and removes them on exit
(also on Ctrl-C), so the demo can run again and again. On a machine without cached bases the
builds make them first (slower, once).
The old registry round trip is scripts/transfer_demo.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("go-hello", "node-express")
RESULTS = ROOT / "results"


def wait_for(proc: subprocess.Popen[bytes]) -> int:
    """Wait for the bench, also through Ctrl-C: the bench got the same SIGINT and is tearing its
    limits and registries down; killing it now (as subprocess.run would) would leave them behind."""
    while True:
        try:
            return proc.wait()
        except KeyboardInterrupt:
            continue


def main() -> int:
    if os.geteuid() != 0:
        print("demo: needs root (cgroups and tc apply the machine profiles' limits)", file=sys.stderr)
        return 1
    RESULTS.mkdir(exist_ok=True)
    # --debian-pending: Debian's archive is reachable, so the vulnerabilities table also says which
    # fixes wait in -security/-updates for the fat images' packages
    argv = [sys.executable, "-m", "pare", "bench", "--demo", "--debian-pending",
            "--profile", "laptop", "--profile", "micro",
            *(str(ROOT / "examples" / app) for app in APPS),
            "-o", str(RESULTS / "bench-results.json"), "--html", str(RESULTS / "report.html")]
    print("demo: " + " ".join(["pare", *argv[3:]]), flush=True)
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=ROOT)
    signal.signal(signal.SIGTERM, lambda signum, frame: proc.send_signal(signal.SIGTERM))  # bench tears down
    code = wait_for(proc)
    if code == 130:
        print("demo: interrupted; the bench removed its registries, cgroups and tc classes", flush=True)
        return code
    minutes = (time.monotonic() - started) / 60
    print(f"demo: {'done' if code == 0 else 'FAILED'} in {minutes:.1f} min wall time; "
          f"open {RESULTS / 'report.html'}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
