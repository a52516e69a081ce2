"""A fresh Kubernetes node pulling the images of its pods, kubelet style; run as a child process
inside the machine profile's limits:

    python -m pare.experiment.nodepull --store DIR --parallel K --insecure REF...

kubelet pulls one image at a time by default (serializeImagePulls: true); with
serializeImagePulls: false and maxParallelImagePulls: K it runs up to K pulls at once. The
container runtime (containerd) fetches an image's layers concurrently, downloads a blob shared by
two images once (even when both pulls are in flight), verifies every digest, and unpacks each layer
(decompress + diff_id check) before the pod can start. This module does exactly those steps against
the real registry over HTTP, so the time it takes is a measured pull, not arithmetic. It prints
one JSON line: seconds until every image was ready, bytes downloaded, per-image ready times.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import httpx

from pare.oci import mediatypes as mt
from pare.oci.compression import open_decompressed
from pare.oci.config import ImageConfig
from pare.oci.descriptor import Descriptor
from pare.oci.digest import CHUNK, Digest, Hasher
from pare.oci.manifest import Manifest
from pare.oci.reference import Reference
from pare.stores.registry.client import is_loopback

LAYER_PARALLELISM = 3  # containerd's default max_concurrent_downloads


class Node:
    """One node's content store: blobs by digest, fetched once, shared by every image."""

    def __init__(self, store: Path, insecure: bool) -> None:
        self.store = store
        self.insecure = insecure
        self.client = httpx.Client(timeout=httpx.Timeout(60.0, read=300.0))
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.bytes = 0

    def _url(self, ref: Reference, kind: str, ident: str) -> str:
        scheme = "http" if self.insecure or is_loopback(ref.registry) else "https"
        return f"{scheme}://{ref.registry}/v2/{ref.repository}/{kind}/{ident}"

    def _lock(self, digest: Digest) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(str(digest), threading.Lock())

    def blob(self, ref: Reference, desc: Descriptor, diff_id: Digest | None = None) -> None:
        """Fetch (once per node) and, for layers, unpack-verify one blob."""
        with self._lock(desc.digest):
            path = self.store / desc.digest.hex
            if path.exists():
                return
            tmp = path.with_suffix(".part")
            hasher = Hasher(desc.digest.algorithm)
            with self.client.stream("GET", self._url(ref, "blobs", str(desc.digest))) as resp, \
                    open(tmp, "wb") as out:
                resp.raise_for_status()
                for chunk in resp.iter_bytes(CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
            if hasher.digest() != desc.digest:
                tmp.unlink(missing_ok=True)
                raise RuntimeError(f"{desc.digest}: downloaded bytes hash to {hasher.digest()}")
            with self._guard:
                self.bytes += hasher.size
            if diff_id is not None:
                with open(tmp, "rb") as raw:
                    unpacked = _digest_of(open_decompressed(raw, mt.layer_compression(desc.media_type)))
                if unpacked != diff_id:
                    tmp.unlink(missing_ok=True)
                    raise RuntimeError(f"{desc.digest}: unpacked tar is {unpacked}, config says {diff_id}")
            os.replace(tmp, path)

    def pull(self, text: str) -> float:
        """Pull one image; return the monotonic time at which it was ready."""
        ref = Reference.parse(text)
        resp = self.client.get(self._url(ref, "manifests", ref.identifier),
                               headers={"Accept": mt.MANIFEST_ACCEPT})
        resp.raise_for_status()
        manifest = Manifest.parse(resp.content, resp.headers.get("content-type"))
        self.blob(ref, manifest.config)
        config = ImageConfig.parse((self.store / manifest.config.digest.hex).read_bytes())
        with ThreadPoolExecutor(LAYER_PARALLELISM) as pool:
            futures = [pool.submit(self.blob, ref, layer, diff_id)
                       for layer, diff_id in zip(manifest.layers, config.diff_ids, strict=True)]
            for future in futures:
                future.result()
        return time.monotonic()


def _digest_of(stream: IO[bytes]) -> Digest:
    hasher = Hasher()
    with stream:
        while chunk := stream.read(CHUNK):
            hasher.update(chunk)
    return hasher.digest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pare.experiment.nodepull")
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--insecure", action="store_true")
    parser.add_argument("refs", nargs="+")
    args = parser.parse_args(argv)
    args.store.mkdir(parents=True, exist_ok=True)
    node = Node(args.store, args.insecure)
    start = time.monotonic()
    with ThreadPoolExecutor(max(1, args.parallel)) as pool:
        ready = [f.result() - start for f in [pool.submit(node.pull, r) for r in args.refs]]
    seconds = time.monotonic() - start
    print(json.dumps({"seconds": seconds, "bytes": node.bytes, "ready": ready}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
