"""The long fuzz run: every target of tests/fuzz/targets.py for a time budget each, with hypothesis
generating and mutating inputs; prints per target the seconds spent, the examples tried and every
distinct failure (exception type and where it was raised, with the smallest input found).

    .venv/bin/python scripts/fuzz.py                      # 40 s per target
    .venv/bin/python scripts/fuzz.py --seconds 120 tar.safetar tar.normalize
    make fuzz FUZZ_SECONDS=60

Exit status 1 when any target failed. The short run of the same targets is tests/unit/test_fuzz.py.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis.errors import HypothesisWarning

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzz.targets import Target, check, targets

BATCH = 200  # examples per hypothesis run; runs repeat (each with fresh randomness) until time is up


def signature(exc: BaseException) -> str:
    """Exception type and the innermost frame inside pare (else the innermost frame at all)."""
    frames = traceback.extract_tb(exc.__traceback__)
    inside = [f for f in frames if "/pare/" in f.filename and "/tests/" not in f.filename] or frames[-1:]
    where = f"{Path(inside[-1].filename).name}:{inside[-1].lineno}" if inside else "?"
    return f"{type(exc).__name__} at {where}"


def fuzz(target: Target, seconds: float) -> tuple[int, float, dict[str, str]]:
    """(examples run, seconds spent, {signature: report}) for one target."""
    count = [0]
    failures: dict[str, str] = {}

    @settings(max_examples=BATCH, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=True)
    @given(target.strategy)
    def run(value: Any) -> None:
        count[0] += 1
        check(target, value)

    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            run()
        except Exception as exc:  # one or several distinct bugs (an ExceptionGroup)
            for error in getattr(exc, "exceptions", [exc]):
                key = signature(error)
                if key not in failures:
                    notes = "\n".join(getattr(error, "__notes__", []))
                    failures[key] = f"{type(error).__name__}: {str(error)[:300]}\n{notes[:1500]}"
    return count[0], time.monotonic() - start, failures


def main() -> int:
    warnings.filterwarnings("ignore", category=HypothesisWarning)  # big failing inputs: printed anyway
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="time budget per target")
    parser.add_argument("names", nargs="*", help="targets to run (default: all)")
    args = parser.parse_args()
    chosen = [t for t in targets() if not args.names or t.name in args.names]
    unknown = set(args.names) - {t.name for t in chosen}
    if unknown:
        parser.error(f"unknown target(s): {', '.join(sorted(unknown))}")
    total_examples, total_seconds, failed = 0, 0.0, 0
    print(f"{'target':<22} {'seconds':>8} {'examples':>9}  failures")
    for target in chosen:
        examples, spent, failures = fuzz(target, args.seconds)
        total_examples += examples
        total_seconds += spent
        failed += bool(failures)
        print(f"{target.name:<22} {spent:8.1f} {examples:9d}  {len(failures) or '-'}", flush=True)
        for key, report in failures.items():
            print(f"    {key}\n        " + report.replace("\n", "\n        "), flush=True)
    print(f"{'total':<22} {total_seconds:8.1f} {total_examples:9d}  {failed} target(s) failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
