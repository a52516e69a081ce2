"""Benchmark: `pare sbom` (the scan's catalog, written as CycloneDX) next to syft writing CycloneDX for
the same image, same run; and the two SBOMs compared package by package.

Images: pare's Debian base profiles from its base cache (built on first use) and any OCI layouts
given on the command line (e.g. the bench variants: `pare bench` keeps them under --workdir, or
build them with `pare build`). Each tool runs as a child process, alternating, N runs each; wall
time from a monotonic clock, peak memory from the child's rusage. Parity: (name, version) pairs per
purl type; the one known difference (syft's version "UNKNOWN" for a package.json without a
version, which pare skips) is shown apart.

    .venv/bin/python benchmarks/scan.py [--runs 3] [--bases fat-go,fat-node,...] [oci:DIR:TAG ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from analyze import measure, syft_binary

DEFAULT_BASES = "fat-go,fat-node,slim-node,distroless-cc"


def single_image_layout(location: str, work: Path) -> tuple[str, Path]:
    """(pare location, layout dir holding only that image): syft reads one image per layout."""
    from pare.stores.layout import LayoutStore
    from pare.stores.transports import open_location
    store, name = open_location(location)
    image = store.read(name)
    layout = work / location.replace("/", "_").replace(":", "_")
    LayoutStore(layout).write(image, "v1")
    return f"oci:{layout}:v1", layout


def components(path: Path) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for c in json.loads(path.read_text()).get("components", []):
        if c.get("type") == "operating-system":  # syft describes the distro as a component: not a package
            continue
        purl = c.get("purl", "")
        kind = purl[4:].split("/", 1)[0] if purl.startswith("pkg:") else c.get("type", "?")
        out[kind].add((c.get("name", ""), c.get("version", "")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("locations", nargs="*", help="extra images (oci:DIR:TAG, docker-archive:..., ...)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bases", default=DEFAULT_BASES, help="base profiles to include ('' for none)")
    args = parser.parse_args()
    from pare.bases.cache import ensure_base
    from pare.stores.layout import LayoutStore

    work = Path(tempfile.mkdtemp(prefix="pare-bench-scan-"))
    images: list[tuple[str, str, Path]] = []  # (label, pare location, layout)
    for profile in [p for p in args.bases.split(",") if p]:
        layout = work / f"base-{profile}"
        LayoutStore(layout).write(ensure_base(profile), "v1")  # built on first use, cached afterwards
        images.append((profile, f"oci:{layout}:v1", layout))
    for location in args.locations:
        loc, layout = single_image_layout(location, work)
        images.append((location, loc, layout))

    env = dict(os.environ, SYFT_CHECK_FOR_APP_UPDATE="false", TMPDIR=str(work))
    syft = syft_binary()
    rows = []
    for label, loc, layout in images:
        ours, theirs = work / f"{layout.name}.pare.cdx.json", work / f"{layout.name}.syft.cdx.json"
        tools = {"pare": [sys.executable, "-m", "pare", "sbom", loc, "--format", "cyclonedx",
                          "-o", str(ours)],
                 "syft": [syft, "scan", f"oci-dir:{layout}", "-o", f"cyclonedx-json={theirs}", "-q"]}
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in tools}
        for run in range(args.runs):
            for name, cmd in tools.items():
                times[name].append(measure(cmd, env))
                wall, rss = times[name][-1]
                print(f"{label}: run {run + 1}/{args.runs} {name} {wall:6.2f} s, peak RSS {rss:6.1f} MB",
                      flush=True)
        a, b = components(ours), components(theirs)
        parity = []
        for kind in sorted(set(a) | set(b)):
            unknown = {x for x in b[kind] - a[kind] if x[1] == "UNKNOWN"}
            both = a[kind] & b[kind]
            union = (a[kind] | b[kind]) - unknown
            share = len(both) / len(union) if union else 1.0
            extra = f", syft 'UNKNOWN' versions apart: {len(unknown)}" if unknown else ""
            parity.append(f"{kind} {len(both)}/{len(union)} = {share:.2%}{extra}")
        rows.append((label, times, parity))

    print(f"\n{args.runs} runs per tool per image, alternating, same machine ({os.cpu_count()} cores); "
          "wall time median (min to max), peak RSS median")
    for label, times, parity in rows:
        med = {n: statistics.median(w for w, _ in t) for n, t in times.items()}
        parts = [f"{n} {med[n]:.2f} s ({min(w for w, _ in t):.2f} to {max(w for w, _ in t):.2f}), "
                 f"{statistics.median(r for _, r in t):.0f} MB" for n, t in times.items()]
        print(f"{label}: " + "; ".join(parts) + f"; syft / pare = {med['syft'] / med['pare']:.1f}x")
        print(f"  parity (name, version per purl type): {'; '.join(parity)}")


if __name__ == "__main__":
    main()
