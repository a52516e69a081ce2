"""The measured build command: `python -m pare.experiment.buildchild ...` runs pare's build library in a
process of its own, so the profile's cgroup and bandwidth limits apply to all of it (the toolchain,
the engine, the base pull)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pare.errors import PareError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pare.experiment.buildchild")
    parser.add_argument("--app", type=Path, required=True)
    parser.add_argument("--dest", required=True)
    parser.add_argument("--strategy", default="multistage")
    parser.add_argument("--engine", default="buildah")
    parser.add_argument("--native", action="store_true")
    parser.add_argument("--registry")
    parser.add_argument("--engine-state", type=Path)
    args = parser.parse_args(argv)
    from pare.builder import build
    try:
        result = build(args.app, args.dest, args.strategy, args.engine, args.native, registry=args.registry,
                       insecure=True, engine_state=args.engine_state)
    except PareError as exc:
        print(f"pare: error: {exc}", file=sys.stderr)
        return 1
    print(f"{result.digest} {result.compressed_size} {result.seconds:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
