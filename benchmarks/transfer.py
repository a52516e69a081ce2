#!/usr/bin/env python3
"""Registry transfer benchmark: pare vs skopeo, same run, same registry, same images.

Three images: 2 MB (one layer of incompressible bytes: issue 20's case, where start-up dominates),
~5 MB (busybox-static plus shared libraries, one layer) and ~120 MB (a Debian bookworm minbase rootfs
from mmdebstrap, cached under ~/.cache/pare-bench). Both are OCI layouts
with gzip layers, so neither tool compresses anything: the lines measure transfer.

    push  oci layout -> registry     fresh registry storage before every run
    pull  registry -> oci layout     an empty destination directory for every run

Each operation is timed end to end as the user runs it (the `pare` and `skopeo` commands, process
start-up included), --runs times (default 3), alternating tools. Prints medians, spread (min-max)
and the ratio pare/skopeo per line; --json writes the raw figures.

    .venv/bin/python benchmarks/transfer.py [--runs 3] [--json out.json] [--only 2mb|small|big]

Goal (issue 20): the pare CLI within 1.3x skopeo's time on every line.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from pare.localregistry import LocalRegistry, free_port
from pare.oci.config import HistoryEntry, ImageConfig
from pare.oci.image import Image
from pare.oci.layer import layer_from_tar
from pare.oci.mutate import append_layers
from pare.stores.copy import copy
from pare.stores.layout import LayoutStore

TOOLS = ["pare-cli", "pare-lib", "skopeo"]
GOAL = 1.3  # issue 20: the CLI within 1.3x skopeo's time
CACHE = Path(os.environ.get("PARE_BENCH_CACHE", Path.home() / ".cache" / "pare-bench"))
PARE = str(Path(sys.executable).parent / "pare")
SMALL_FILES = ["/bin/busybox", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6",
               "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"]


def small_tar(path: Path) -> Path:
    """~5 MB of real binaries in one deterministic tar."""
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in SMALL_FILES:
            real = Path(name).resolve()
            if not real.exists():
                continue
            data = real.read_bytes()
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    tmp.rename(path)
    return path


def noise_tar(path: Path, size: int = 2_000_000) -> Path:
    """One file of `size` incompressible bytes (the same every time), so the layer stays `size` gzipped."""
    if path.exists():
        return path
    import random
    data = random.Random(20).randbytes(size)
    tmp = path.with_suffix(".tmp")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("app/data.bin")
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    tmp.rename(path)
    return path


def minbase_tar(path: Path) -> Path:
    """Debian bookworm minbase rootfs (merged-usr), built once with mmdebstrap and cached."""
    if path.exists():
        return path
    tool = shutil.which("mmdebstrap")
    if tool is None:
        sys.exit("bench: mmdebstrap is missing (apt-get install mmdebstrap, or `make setup`)")
    tmp = path.with_suffix(".tmp.tar")
    print(f"building {path.name} with mmdebstrap (once; ~20 s)...", file=sys.stderr)
    subprocess.run([tool, "--quiet", "--variant=minbase", "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
                    "bookworm", str(tmp)], check=True)
    tmp.rename(path)
    return path


def layout_for(name: str, tar: Path) -> Path:
    """An OCI layout (gzip layer) holding the tar as a one-layer image, cached beside it."""
    layout = CACHE / f"transfer-{name}-oci"
    if (layout / "index.json").exists():
        return layout
    work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=CACHE))
    try:
        layer = layer_from_tar(tar, "gzip", workdir=work)
        base = Image.assemble(ImageConfig.new(created="1970-01-01T00:00:00Z"), [])
        image = append_layers(base, [layer], [HistoryEntry(created_by=f"bench {name} rootfs")])
        staging = CACHE / f".transfer-{name}-oci-staging"
        shutil.rmtree(staging, ignore_errors=True)
        LayoutStore(staging).write(image, "bench")
        staging.rename(layout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return layout


# An installed CLI runs from cached bytecode; a PYTHONDONTWRITEBYTECODE shell would make every pare run
# recompile pare's modules and measure that instead.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed_cpu(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds: the child's user + system time) of one run: on a busy machine the
    CPU figure moves far less than wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed = timed(cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed:\n{done.stderr}")
    return elapsed


def skopeo(*args: str) -> list[str]:
    return ["skopeo", "--insecure-policy", *args]


def bench_image(name: str, layout: Path, registry: LocalRegistry, runs: int, scratch: Path,
                parallel: int) -> dict[str, dict[str, list[float]]]:
    ref = f"{registry.address}/bench/{name}:1"
    src = f"oci:{layout}:bench"
    tools = {
        "push": {
            "pare-cli": lambda: ["pare", "push", "-q", "--parallel", str(parallel), src, ref],
            "skopeo": lambda: skopeo("copy", "--dest-tls-verify=false", src, f"docker://{ref}"),
        },
        "pull": {
            "pare-cli": lambda: ["pare", "pull", "-q", "--parallel", str(parallel), ref,
                             f"oci:{scratch / 'dst'}:t"],
            "skopeo": lambda: skopeo("copy", "--src-tls-verify=false", f"docker://{ref}",
                                     f"oci:{scratch / 'dst'}:t"),
        },
    }
    in_process = {
        "push": lambda: copy(src, ref, parallel=parallel),
        "pull": lambda: copy(ref, f"oci:{scratch / 'dst'}:t", parallel=parallel),
    }
    figures: dict[str, dict[str, list[float]]] = {
        op: {t: [] for t in (*TOOLS, "pare-cli-cpu", "skopeo-cpu")} for op in tools}
    for run in range(-1, runs):  # run -1 warms caches (bytecode, page cache) and is not counted
        order = TOOLS if run % 2 == 0 else TOOLS[::-1]
        for op in ("push", "pull"):
            for tool in order:
                if op == "push":
                    registry.reset_storage()  # fresh storage for every push
                else:
                    shutil.rmtree(scratch / "dst", ignore_errors=True)  # an empty store for every pull
                if tool == "pare-lib":
                    started = time.perf_counter()
                    in_process[op]()
                    elapsed = time.perf_counter() - started
                else:
                    cmd = tools[op][tool]()
                    cmd[0] = PARE if cmd[0] == "pare" else cmd[0]
                    elapsed, cpu = timed_cpu(cmd)
                    if run >= 0:
                        figures[op][f"{tool}-cpu"].append(cpu)
                if run >= 0:
                    figures[op][tool].append(elapsed)
        shutil.rmtree(scratch / "dst", ignore_errors=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--only", choices=["2mb", "small", "big"], default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if shutil.which("skopeo") is None:
        sys.exit("bench: skopeo is missing (apt-get install skopeo, or `make setup`)")
    CACHE.mkdir(parents=True, exist_ok=True)
    images = {}
    if args.only in (None, "2mb"):
        images["2mb"] = layout_for("2mb", noise_tar(CACHE / "transfer-2mb.tar"))
    if args.only in (None, "small"):
        images["small"] = layout_for("small", small_tar(CACHE / "transfer-small.tar"))
    if args.only in (None, "big"):
        images["big"] = layout_for("minbase", minbase_tar(CACHE / "minbase-merged-usr.tar"))
    results: dict[str, dict[str, dict[str, list[float]]]] = {}
    scratch = Path(tempfile.mkdtemp(prefix="pare-bench-"))
    try:
        registry = LocalRegistry(scratch / "registry", port=free_port())
        with registry.running():
            for name, layout in images.items():
                results[name] = bench_image(name, layout, registry, args.runs, scratch, args.parallel)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"pare vs skopeo, {args.runs} runs each, median seconds (min-max), same registry on loopback, "
          f"{os.cpu_count()} cores. pare-cli: the `pare` command (process start-up included, like "
          "skopeo's); pare-lib: pare.stores.copy.copy() in this process.")
    header = f"{'image':<6} {'size':>7} {'op':<5}" + "".join(f" {t:>17}" for t in TOOLS)
    print(header + f" {'cli/skopeo':>10} {'lib/skopeo':>10} {'cpu: cli':>8} {'skopeo':>6} {'ratio':>5}")
    worst = 0.0
    for name, layout in images.items():
        image = LayoutStore(layout).read("bench")
        size = f"{image.compressed_size / 1e6:.1f}MB"
        for op, by_tool in results[name].items():
            med = {tool: statistics.median(v) for tool, v in by_tool.items()}
            cells = "".join(f" {med[t]:>7.3f} ({min(by_tool[t]):.2f}-{max(by_tool[t]):.2f})" for t in TOOLS)
            cli, lib = med["pare-cli"] / med["skopeo"], med["pare-lib"] / med["skopeo"]
            worst = max(worst, cli)
            ours, theirs = med["pare-cli-cpu"], med["skopeo-cpu"]
            cpu = f" {ours:>8.3f} {theirs:>6.3f} {ours / theirs:>5.1f}"
            print(f"{name:<6} {size:>7} {op:<5}{cells} {cli:>10.2f} {lib:>10.2f}{cpu}")
    imports = "import pare.cli.main, pare.cli.transfer, pare.stores.registry.store"
    floor = {tool: statistics.median([timed(cmd) for _ in range(5)]) for tool, cmd in (
        ("pare", [sys.executable, "-c", imports]), ("httpx", [sys.executable, "-c", "import httpx"]),
        ("python", [sys.executable, "-c", "pass"]), ("skopeo", ["skopeo", "--help"]))}
    print(f"start-up alone (median of 5): python -c pass {floor['python']:.3f} s, import httpx "
          f"{floor['httpx']:.3f} s, pare's imports for a registry transfer {floor['pare']:.3f} s, "
          f"skopeo --help {floor['skopeo']:.3f} s")
    if args.json:
        args.json.write_text(json.dumps({"runs": args.runs, "results": results}, indent=2))
    print(f"worst pare-cli/skopeo ratio {worst:.2f} "
          f"({'goal met' if worst <= GOAL else 'goal NOT met'}: pare CLI <= {GOAL}x skopeo on every line)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
