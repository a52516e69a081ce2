"""The native assembler: a BuildPlan straight to an Image, no engine, no daemon (like ko and Jib).

Each planned layer becomes a deterministic tar (pare.build.tarwriter: sorted entries, mtimes from
SOURCE_DATE_EPOCH, fixed owners) compressed in the same streaming pass; the config carries the same
epoch as its creation time, so the same plan always gives the same manifest digest.

Layers are cached by what goes into them (paths, modes, owners and each source file's size, mtime
and inode), as Jib does: after a one-line code change only the app layer is written again.
Gzip here is zlib at level 6 (not ISA-L's fastest level): the runtime layers are written once
and pulled many times, so the smaller blob wins; a cached layer costs nothing the second time.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from pare.build.plan import BuildPlan, LayerPlan
from pare.build.tarwriter import source_date_epoch
from pare.oci import mediatypes as mt
from pare.oci.config import HistoryEntry, ImageConfig
from pare.oci.descriptor import Descriptor
from pare.oci.digest import Digest, Hasher, sha256
from pare.oci.image import Image
from pare.oci.layer import FileLayer, Layer
from pare.oci.mutate import append_layers, with_runtime

GZIP_LEVEL = 6
CACHE_VERSION = "1"


class _HashingSink:
    """A write-only stream that hashes and counts what passes through to `inner`."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.hasher = Hasher()

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        self.inner.write(data)  # type: ignore[attr-defined]
        return len(data)

    def flush(self) -> None:
        pass


def epoch_timestamp(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def layer_key(layer: LayerPlan, epoch: int, compression: str, level: int) -> str:
    """A fingerprint of everything that decides the layer's bytes (file contents by stat)."""
    rows: list[object] = [CACHE_VERSION, epoch, compression, level]
    for e in layer.entries:
        row: list[object] = [e.path, e.kind, e.mode, e.uid, e.gid, e.target]
        if e.data is not None:
            row.append(sha256(e.data).hex)
        elif e.source is not None:
            st = os.stat(e.source)
            row += [str(e.source), st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev]
        rows.append(row)
    return sha256(json.dumps(rows, separators=(",", ":")).encode()).hex


def write_layer(layer: LayerPlan, workdir: Path, epoch: int, compression: mt.Compression = "gzip",
                level: int = GZIP_LEVEL) -> FileLayer:
    """The layer's tar, streamed through the compressor into a blob file named by its digest."""
    builder = layer.to_builder(epoch)
    if compression != "gzip":
        from pare.build.tarwriter import layer_from_builder
        return layer_from_builder(builder, compression, workdir=workdir)
    fd, tmp = tempfile.mkstemp(prefix=".layer-", dir=workdir)
    try:
        with os.fdopen(fd, "wb") as raw:
            blob = _HashingSink(raw)
            # no file name and mtime 0 in the gzip header: the blob depends on the tar only
            with gzip.GzipFile(filename="", mode="wb", fileobj=blob,
                               compresslevel=level, mtime=0) as gz:
                tar = _HashingSink(gz)
                builder.write(tar)  # type: ignore[arg-type]
        digest = blob.hasher.digest()
        final = workdir / f"{digest.algorithm}-{digest.hex}"
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    descriptor = Descriptor(mt.OCI_LAYER_GZIP, digest, blob.hasher.size)
    return FileLayer(final, descriptor, tar.hasher.digest(), tar.hasher.size)


class LayerCache:
    """Compressed layers by plan fingerprint, in a directory shared by builds (safe to delete)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def get(self, key: str) -> FileLayer | None:
        meta_path = self.root / f"{key}.json"
        try:
            meta = json.loads(meta_path.read_text())
            digest = Digest.parse(meta["digest"])
            blob = self.root / f"{digest.algorithm}-{digest.hex}"
            if blob.stat().st_size != meta["size"]:
                return None
            return FileLayer(blob, Descriptor(meta["media_type"], digest, meta["size"]),
                             Digest.parse(meta["diff_id"]), meta["uncompressed_size"])
        except (OSError, ValueError, KeyError):
            return None

    def put(self, key: str, layer: FileLayer) -> None:
        meta = {"digest": str(layer.digest), "size": layer.size, "media_type": layer.media_type,
                "diff_id": str(layer.diff_id), "uncompressed_size": layer.uncompressed_size}
        tmp = self.root / f".{key}.json.tmp{os.getpid()}"
        tmp.write_text(json.dumps(meta, sort_keys=True))
        os.replace(tmp, self.root / f"{key}.json")


def assemble(plan: BuildPlan, workdir: Path, *, base: Image | None = None, epoch: int | None = None,
             compression: mt.Compression = "gzip", level: int = GZIP_LEVEL,
             cache: LayerCache | None = None) -> Image:
    """The plan's layers on `base` (None: an empty base), with the plan's runtime config."""
    when = source_date_epoch() if epoch is None else epoch
    created = epoch_timestamp(when)
    blobs = cache.root if cache is not None else workdir
    blobs.mkdir(parents=True, exist_ok=True)
    start = base if base is not None else Image.assemble(ImageConfig.new(created=created), [])
    layers: list[Layer] = []
    for planned in plan.layers:
        key = layer_key(planned, when, compression, level) if cache is not None else ""
        found = cache.get(key) if cache is not None else None
        if found is None:
            found = write_layer(planned, blobs, when, compression, level)
            if cache is not None:
                cache.put(key, found)
        layers.append(found)
    history = [HistoryEntry(created_by=f"pare build ({plan.recipe}): {layer.name} layer", created=created,
                            comment=f"{len(layer.entries)} entries")
               for layer in plan.layers]
    image = append_layers(start, layers, history, created=created)
    rt = plan.runtime
    labels = {"org.opencontainers.image.title": plan.app, **dict(rt.labels)}
    return with_runtime(image, entrypoint=list(rt.entrypoint) or None, cmd=list(rt.cmd) or None,
                        env=dict(rt.env) or None, user=rt.user, workdir=rt.workdir,
                        exposed_ports=list(rt.exposed_ports) or None, labels=labels)

