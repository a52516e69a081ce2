"""Benchmark: the smallest Node runtime. The same app built natively three ways, same run:

    official        pare's default: the official node build from the npm registry, at the version
                    the app asks for (engines.node; none: the current LTS)
    official-same   the official build at exactly the version Debian's nodejs carries (so the
                    runtimes differ only in how node was built and packaged)
    debian          --node-runtime debian: Debian's nodejs from the suite whose version satisfies
                    engines.node, with its shared libraries (libnode, ICU, libuv, OpenSSL...) as
                    packages with their status.d entries

For each image: compressed size (config + layer blobs: what a pull moves), and the runtime layer
alone; the time from `podman start` to the first HTTP 200 on the `laptop` and `micro` profiles
(benchmarks/apps.py's start_to_200: own network namespace, micro's CPU and memory limits through
pare.experiment's cgroup), the median of --runs; and `pare scan` findings (the embedded OSV
snapshot, in a vulnerability index of this run's own) with `--debian-pending` (fixes waiting in the
suite's -security/-updates archives). Finally what ICU's data costs inside the official binary
(what a --without-intl or small-icu build would save, had the registry one).

Needs root (cgroups, ip netns) and podman, runc.

    .venv/bin/python benchmarks/node_runtime.py [--apps examples/node-express,node-render-fastify]
                                                [--runs 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps import APPS, CORPUS, Bench, environ, settings_of  # noqa: E402
from build import med  # noqa: E402
from pare import builder  # noqa: E402
from pare.engines.base import run as run_engine  # noqa: E402
from pare.engines.storage import remove_storage  # noqa: E402
from pare.native import lock as lockfile  # noqa: E402
from pare.native.platforms import host_arch  # noqa: E402
from pare.native.runtimes import node as node_runtime  # noqa: E402
from pare.oci.mediatypes import Compression  # noqa: E402

DEFAULT_APPS = "examples/node-express,node-render-express5-yarn,node-render-fastify"
EXAMPLE = {"get": "/", "port": 8080, "env": {}, "flags": []}


@dataclass
class Row:
    app: str
    variant: str
    node: str = ""
    suite: str = ""
    compressed: int = 0
    runtime_layer: int = 0
    start: dict[str, list[float]] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    pending: int = 0
    error: str = ""


def app_info(name: str) -> tuple[Path, dict[str, Any]]:
    if "/" in name:
        return ROOT / name, EXAMPLE
    return CORPUS / name, APPS[name]


def variants(app_dir: Path, settings: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """official, official at Debian's version, debian (the suite chosen from engines.node)."""
    from pare.recipes import detect
    from pare.recipes.settings import load_settings
    recipe = detect(app_dir, settings=load_settings(app_dir, {**settings, "node_runtime": "debian"}))
    suite = recipe.debian_suite  # type: ignore[attr-defined]
    same = node_runtime.debian_versions(host_arch())[suite]
    return [("official", settings), ("official-same", {**settings, "runtime": f"node@{same}"}),
            ("debian", {**settings, "node_runtime": "debian"})]


def build_variant(app_dir: Path, location: str, settings: dict[str, Any], compression: Compression,
                  level: int | None) -> Any:
    """builder.build with `runtime` (node@X.Y.Z) as its own argument: the builder's wins over settings."""
    rest = {k: v for k, v in settings.items() if k != "runtime"}
    return builder.build(app_dir, location, settings=rest, runtime=settings.get("runtime"),
                         compression=compression, level=level)


def scan(location: str, vulndb: Path) -> tuple[dict[str, int], int]:
    """Findings by severity, and CVEs fixed in Debian's archives but not in the image, from
    `pare scan --json --debian-pending`."""
    argv = [str(ROOT / ".venv" / "bin" / "pare"), "scan", "--json", "--debian-pending", location]
    done = subprocess.run(argv, capture_output=True, text=True, check=False,
                          env={**os.environ, "PARE_VULNDB": str(vulndb)})
    if done.returncode not in (0, 1):
        raise RuntimeError(f"pare scan {location}: {done.stderr.strip()[-300:]}")
    body = json.loads(done.stdout)
    counts: dict[str, int] = {}
    for finding in body.get("findings", []):
        severity = str(finding.get("severity") or "unknown").lower()
        counts[severity] = counts.get(severity, 0) + 1
    pending = body.get("debian_pending", {}).get("summary", {})
    return counts, int(pending.get("cves", 0))


def icu_share(node_binary: Path) -> tuple[int, int]:
    """(raw, gzip -6 bytes) of the ICU data blob (icudtNN_dat) linked into an official node binary."""
    syms = subprocess.run(["readelf", "-W", "--dyn-syms", str(node_binary)], capture_output=True, text=True,
                          check=True).stdout
    symbol = next(f for f in (line.split() for line in syms.splitlines())
                  if len(f) >= 8 and f[7].startswith("icudt") and f[7].endswith("_dat"))
    address, size = int(symbol[1], 16), int(symbol[2], 0)
    sections = subprocess.run(["readelf", "-W", "-S", str(node_binary)], capture_output=True, text=True,
                              check=True).stdout
    for line in sections.replace("[ ", "[").splitlines():
        f = line.split()
        if len(f) > 6 and f[0].startswith("[") and f[0] != "[Nr]":
            try:
                start, offset, length = int(f[3], 16), int(f[4], 16), int(f[5], 16)
            except ValueError:
                continue
            if start <= address < start + length:
                with node_binary.open("rb") as fh:
                    fh.seek(offset + address - start)
                    data = fh.read(size)
                packer = zlib.compressobj(6, zlib.DEFLATED, 31)
                return size, len(packer.compress(data) + packer.flush())
    raise RuntimeError(f"{node_binary}: {symbol[7]} is in no section")


def icu_line(version: str) -> str:
    """What ICU's data is in the official build of `version` (the npm registry's package)."""
    from pare.native.runtimes import npm
    binary = npm.fetch_package(npm.artifact(node_runtime.node_package(host_arch()), version, role="runtime",
                                            platform=host_arch().name)) / "bin" / "node"
    raw, packed = icu_share(binary)
    whole = binary.stat().st_size
    return (f"official node {version}: binary {whole / 1e6:.1f} MB; ICU data {raw / 1e6:.1f} MB raw "
            f"({100 * raw / whole:.0f}%), {packed / 1e6:.1f} MB gzip -6")


def measure(bench: Bench, name: str, vulndb: Path, compression: Compression, level: int | None,
            only: set[str]) -> list[Row]:
    source, info = app_info(name)
    short = source.name
    rows = []
    for variant, settings in variants(source, settings_of(info)):
        if variant not in only:
            continue
        row = Row(short, variant)
        rows.append(row)
        app_dir = bench.work / "apps" / f"{short}-{variant}"
        shutil.copytree(source, app_dir, symlinks=True)
        (app_dir / "pare.lock").unlink(missing_ok=True)
        location = bench.layout(short, variant)
        try:
            result = build_variant(app_dir, location, settings, compression, level)
            row.compressed = result.compressed_size
            assert result.image is not None
            row.runtime_layer = result.image.layers[0].size
            lock = lockfile.loads((app_dir / "pare.lock").read_text())
            row.suite = str(dict(lock.request).get("suite", ""))
            shipped = (node_runtime.node_package(host_arch()), node_runtime.DEBIAN_PACKAGE)
            runtime = lock.select(role="runtime", platform=host_arch().name)
            row.node = next(f"{a.name} {a.version}" for a in runtime if a.name in shipped)
            row.findings, row.pending = scan(location, vulndb)
            ref = f"localhost/bench-node/{short}-{variant}:latest"
            pg, penv = bench.podman.global_args(), bench.podman.env()
            done = run_engine([*pg, "pull", "-q", location], env=penv, what="podman pull")
            run_engine([*pg, "tag", done.stdout.strip().splitlines()[-1], ref], env=penv, what="podman tag")
            for profile in ("laptop", "micro"):
                row.start[profile] = [bench.start_to_200(ref, int(info.get("port", 8080)), info["get"],
                                                         dict(info.get("env", {})), bench.profiles[profile])
                                      for _ in range(bench.runs)]
        except Exception as exc:  # one variant's failure is reported; the others still run
            row.error = f"{type(exc).__name__}: {str(exc)[:300]}"
        print(f"  {short} {variant}: {row.node} {row.compressed / 1e6:.2f} MB "
              f"{ {k: round(med(v) or 0, 3) for k, v in row.start.items()} } {row.findings} {row.error}",
              flush=True)
    return rows


def table(rows: list[Row]) -> str:
    lines = ["| app | runtime | node | compressed MB | runtime layer MB | start-to-200 laptop | micro | "
             "findings (by severity) | CVEs fixed in Debian's archive, not installed |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        found = ", ".join(f"{k} {v}" for k, v in sorted(r.findings.items())) or "0"
        laptop, micro = (med(r.start.get(p, [])) or 0 for p in ("laptop", "micro"))
        lines.append(f"| {r.app} | {r.variant} | {r.node} | {r.compressed / 1e6:.2f} "
                     f"| {r.runtime_layer / 1e6:.2f} | {laptop:.3f} s | {micro:.3f} s "
                     f"| {found} (total {sum(r.findings.values())}) | {r.pending} |"
                     + (f" error: {r.error}" if r.error else ""))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", default=DEFAULT_APPS,
                        help="corpus app names, or paths under the repository")
    parser.add_argument("--runs", type=int, default=3, help="start-to-200 runs per image and profile")
    parser.add_argument("--compression", choices=("zstd", "gzip"), default="zstd",
                        help="layer compression (pare's default zstd 19; gzip 6 is what docker push makes)")
    parser.add_argument("--level", type=int, default=None)
    parser.add_argument("--variants", default="official,official-same,debian")
    parser.add_argument("--json", type=Path, default=None, help="Also write the rows as JSON here.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pare-bench-node-"))
    rows: list[Row] = []
    started = time.perf_counter()
    try:
        with environ(PARE_STORE=str(work / "store")):
            bench = Bench(work, args.runs)
            for name in (a for a in args.apps.split(",") if a):
                compression = cast(Compression, args.compression)
                rows += measure(bench, name, work / "osv.sqlite", compression, args.level,
                                set(args.variants.split(",")))
    finally:
        remove_storage(work)
    print(f"\n{os.cpu_count()} cores, start runs per figure: {args.runs} (median), "
          f"{time.perf_counter() - started:.0f} s in all")
    print(table(rows))
    print()
    for version in dict.fromkeys(r.node.split()[-1] for r in rows if r.node.startswith("node-linux")):
        print(icu_line(version))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
