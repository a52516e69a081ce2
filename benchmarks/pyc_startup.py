"""Benchmark: what the .pyc files in a native Python image buy at start-up, on a small machine.

pare compiles the standard library and site-packages of native Python images (unchecked-hash .pyc,
about +3 MB compressed for examples/python-flask). The peer is the same image without them, the
way distroless/python3 ships Debian's interpreter (the .debs hold no .pyc; dpkg's postinst would
make them, and the image's read-only /usr cannot take new ones at run time, so every start compiles
again). Both root filesystems are unpacked with umoci from one build, and the same command, the
app's imports, runs in each with chroot under a CPU limit (cgroup cfs quota, as `pare bench`'s
`micro` profile: 0.2 CPU), alternating A B A B, N times each.

    .venv/bin/python benchmarks/pyc_startup.py [--runs 5] [--cpus 0.2] [--app examples/python-flask]

Needs root (chroot, cgroups) and umoci.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pare.builder import build  # noqa: E402
from pare.experiment.limits import Machine  # noqa: E402
from pare.experiment.profiles import Profile  # noqa: E402

IMPORTS = "import sys; sys.path.insert(0, '/app'); import app"


def unpack(layout: Path, tag: str, into: Path) -> Path:
    subprocess.run(["umoci", "raw", "unpack", "--rootless", "--image", f"{layout}:{tag}", str(into)],
                   check=True, capture_output=True)
    return into


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cpus", type=float, default=0.2)
    parser.add_argument("--app", type=Path, default=ROOT / "examples" / "python-flask")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pare-pyc-"))
    try:
        app = work / "app"
        shutil.copytree(args.app, app)
        result = build(app, f"oci:{work}/layout:img", compression="gzip")  # umoci 0.4 reads no zstd
        with_pyc = unpack(work / "layout", "img", work / "with-pyc")
        without = work / "without-pyc"
        shutil.copytree(with_pyc, without, symlinks=True)
        removed = 0
        for cache in sorted(without.rglob("__pycache__")):
            removed += sum(f.stat().st_size for f in cache.iterdir())
            shutil.rmtree(cache)
        interpreter = next(e for e in result.image.config.runtime["Entrypoint"] if "python" in e) \
            if result.image else "/usr/bin/python3"
        command = ["chroot", "--userspec=65532:65532", "{root}", interpreter, "-c", IMPORTS]
        times: dict[str, list[float]] = {"with .pyc": [], "without .pyc": []}
        with Machine(Profile("startup", cpus=args.cpus)) as machine:
            for _ in range(args.runs):
                for label, root in (("with .pyc", with_pyc), ("without .pyc", without)):
                    argv = [str(root) if part == "{root}" else part for part in command]
                    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
                    times[label].append(machine.run(argv, env=env).seconds)
        print(f"{args.app.name}: .pyc files {removed / 1e6:.1f} MB uncompressed; `{IMPORTS}` at "
              f"{args.cpus:g} CPU, {args.runs} runs each (median, min-max):")
        for label, values in times.items():
            print(f"  {label:13} {statistics.median(values):6.2f} s ({min(values):.2f}-{max(values):.2f})")
        ratio = statistics.median(times["without .pyc"]) / statistics.median(times["with .pyc"])
        print(f"  without / with: {ratio:.1f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
