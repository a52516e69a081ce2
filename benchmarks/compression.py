"""Benchmark: are the engine variants' blobs what `docker push` makes, and what does reusing the
base's blobs save per build? Same run, same images.

For each example app and engine variant (default: go-hello and node-express, onbuild and slim),
built by buildah in one private storage:

    compressed size of the same image under
      go-gzip      pare's path: Go compress/gzip, default level (pare.oci.gogzip)
      pgzip        the previous path: buildah push's own gzip (containers/image, klauspost/pgzip)
      zlib-6       Python's zlib at level 6 on the same layer tars
      docker push  a real dockerd: `docker load` of the uncompressed image, `docker push` to a local
                   registry, sizes read back from the pushed manifest (the truth; --no-docker skips)
    build time (whole `pare build` call, one-line change, engine layer cache warm) on the previous
    path (every layer gzipped by buildah push on every build) and on pare's path with the blob cache
    warm (the base's layers reused by diff_id; only the changed layers gzipped). The first
    build on pare's path, with an empty blob cache, is shown too.

    .venv/bin/python benchmarks/compression.py [--apps go-hello,node-express] [--variants onbuild,slim]
                                               [--no-docker] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest.mock import patch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pare import builder  # noqa: E402
from pare.engines.dockerd import private_dockerd  # noqa: E402
from pare.engines.storage import remove_storage  # noqa: E402
from pare.experiment.runner import change_app  # noqa: E402
from pare.localregistry import LocalRegistry, free_port  # noqa: E402
from pare.oci import gogzip  # noqa: E402
from pare.oci import mediatypes as mt  # noqa: E402
from pare.oci.compression import compress_stream  # noqa: E402
from pare.oci.image import Image  # noqa: E402
from pare.stores.archive import ArchiveStore  # noqa: E402
from pare.stores.layout import LayoutStore  # noqa: E402

MB = 1_000_000


class Counter:
    """A write-only sink that counts bytes."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        return None


def zlib6_size(image: Image) -> int:
    total = image.config.size
    for layer in image.layers:
        sink = Counter()
        with layer.open_uncompressed() as tar:
            compress_stream(tar, sink, "gzip", 6)  # type: ignore[arg-type]
        total += sink.size
    return total


def timed_build(app: Path, layout: Path, tag: str, variant: str, state: Path) -> tuple[float, Image]:
    start = time.perf_counter()
    builder.build(app, f"oci:{layout}:{tag}", strategy=variant, engine="buildah", native=False,
                  engine_state=state)
    return time.perf_counter() - start, LayoutStore(layout).read(tag)


def docker_push_size(image: Image, name: str, work: Path, host: str, registry: LocalRegistry) -> int:
    archive = work / f"{name}.tar"
    ArchiveStore(archive).write(image, f"localhost/bench/{name}:1")
    ref = f"{registry.address}/bench/{name}:1"
    denv = {**os.environ, "DOCKER_HOST": host}
    try:
        for args in (["load", "-i", str(archive)], ["tag", f"localhost/bench/{name}:1", ref], ["push", ref]):
            subprocess.run(["docker", *args], env=denv, check=True, capture_output=True)
    finally:
        archive.unlink(missing_ok=True)
    request = urllib.request.Request(f"http://{registry.address}/v2/bench/{name}/manifests/1",
                                     headers={"Accept": mt.DOCKER_MANIFEST})
    with urllib.request.urlopen(request) as response:
        manifest = json.load(response)
    return int(manifest["config"]["size"]) + sum(int(layer["size"]) for layer in manifest["layers"])


def measure(app: Path, variant: str, work: Path) -> dict[str, Any]:
    state = work / "engine"
    layout = work / "images"
    row: dict[str, Any] = {"app": app.name, "variant": variant}
    print(f"{app.name}/{variant}: priming the engine's layer cache (previous path)", flush=True)
    with patch.dict(os.environ, PARE_ENGINE_GZIP="engine"):
        timed_build(app, layout, "prime", variant, state)
        changed = change_app(app, work / "changed-1", "change 1")
        row["build_pgzip_s"], old = timed_build(changed, layout, "pgzip", variant, state)
    row["pgzip"] = old.compressed_size
    with patch.dict(os.environ, PARE_ENGINE_GZIP="go", PARE_BLOB_CACHE=str(work / "blobs")):
        changed = change_app(app, work / "changed-2", "change 2")
        row["build_go_first_s"], _ = timed_build(changed, layout, "go-first", variant, state)
        changed = change_app(app, work / "changed-3", "change 3")
        row["build_go_reuse_s"], new = timed_build(changed, layout, "go", variant, state)
    row["go_gzip"] = new.compressed_size
    row["zlib6"] = zlib6_size(new)
    row["image"] = new
    remove_storage(state)
    return row


HEADER = (f"{'image':24} {'docker push':>12} {'go-gzip':>16} {'pgzip (before)':>16} {'zlib-6':>16}"
          f" {'build before':>13} {'first':>7} {'reuse':>7} {'ratio':>6}")


def line(row: dict[str, Any]) -> str:
    truth = row.get("docker_push")

    def cell(size: int) -> str:
        vs = f" {100 * (size - truth) / truth:+.1f}%" if truth else ""
        return f"{size / MB:.1f}{vs}"

    return (f"{row['app'] + '/' + row['variant']:24} {(truth or 0) / MB:>12.1f} {cell(row['go_gzip']):>16}"
            f" {cell(row['pgzip']):>16} {cell(row['zlib6']):>16} {row['build_pgzip_s']:>12.1f}s"
            f" {row['build_go_first_s']:>6.1f}s {row['build_go_reuse_s']:>6.1f}s"
            f" {row['build_pgzip_s'] / row['build_go_reuse_s']:>5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", default="go-hello,node-express")
    parser.add_argument("--variants", default="onbuild,slim")
    parser.add_argument("--no-docker", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not gogzip.available():
        raise SystemExit("go is needed for pare's Go gzip path")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="pare-bench-gzip-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        host = registry = None
        if not args.no_docker:
            registry = LocalRegistry(work / "registry", port=free_port())
            stack.enter_context(registry.running())
            host = stack.enter_context(private_dockerd(work / "docker"))
        for name in args.apps.split(","):
            for variant in args.variants.split(","):
                row = measure(ROOT / "examples" / name, variant, work / f"{name}-{variant}")
                if host is not None and registry is not None:
                    print(f"{name}/{variant}: docker push", flush=True)
                    row["docker_push"] = docker_push_size(row.pop("image"), f"{name}-{variant}", work, host,
                                                          registry)
                row.pop("image", None)
                rows.append(row)
                print(HEADER + "\n" + line(row), flush=True)
                if args.json:
                    args.json.write_text(json.dumps(rows, indent=1))
    print("\n" + HEADER)
    for row in rows:
        print(line(row))


if __name__ == "__main__":
    main()
