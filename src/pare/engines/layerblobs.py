"""An engine's uncompressed export, gzipped the way `docker push` gzips it, each layer at most once.

Engines export layers uncompressed (`buildah push --disable-compression`, `docker save`); pare
then gzips every layer with Go's compress/gzip (pare.oci.gogzip), the compressor `docker push`
uses, so an engine image weighs what Docker would push. A layer's blob is cached by its diff_id
and the compressor's id: a rebuild on an unchanged base reuses the base layers' blobs by digest
and compresses only what changed, as docker and buildah do with their blob-info caches.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pare.errors import DigestMismatch
from pare.oci import gogzip
from pare.oci import mediatypes as mt
from pare.oci.descriptor import Descriptor
from pare.oci.digest import Digest, digest_file
from pare.oci.image import Image
from pare.oci.layer import FileLayer, HashingReader, HashingWriter, Layer
from pare.oci.mutate import with_layers

PARALLEL = 3  # layers compressed at once (docker push uploads 3 layers at a time)


@dataclass(frozen=True)
class Gzipped:
    """The gzipped image, and how many layer blobs were compressed now or reused by diff_id."""

    image: Image
    compressed: int
    reused: int


class BlobCache:
    """Go-gzipped layer blobs by digest, and an index from (compressor, diff_id) to them."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or gogzip.cache_dir()
        self.compressor = gogzip.compressor_id()

    def _index(self, diff_id: Digest) -> Path:
        return self.root / "index" / self.compressor / f"{diff_id.algorithm}-{diff_id.hex}.json"

    def _blob(self, digest: Digest) -> Path:
        return self.root / "blobs" / digest.algorithm / digest.hex

    def lookup(self, diff_id: Digest) -> tuple[Path, Digest, int, int] | None:
        """(blob path, digest, size, tar size) of the blob made from `diff_id`, when it is cached
        whole: a blob that is gone or of another size counts as absent, and one whose change time
        moved since it was indexed is hashed again (verified, never trusted, as pare.native.cache
        does), so a blob edited in place never ships under its old digest."""
        try:
            entry = json.loads(self._index(diff_id).read_text())
            digest = Digest.parse(entry["digest"])
            size, tar_size = int(entry["size"]), int(entry["tar_size"])
            seen = int(entry.get("ctime_ns", -1))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        blob = self._blob(digest)
        try:
            stat = blob.stat()
            if stat.st_size != size:
                return None
            if stat.st_ctime_ns != seen:
                if digest_file(blob) != digest:
                    return None
                self._write_index(diff_id, digest, size, tar_size)
        except OSError:
            return None
        return blob, digest, size, tar_size

    def seed(self, source: BlobCache, layers: Iterable[Layer]) -> None:
        """Hold the blobs of `layers` (uncompressed or not), taken from `source` (hard links, or
        copies across file systems), gzipping there first what it lacks."""
        for layer in layers:
            if self.lookup(layer.diff_id) is not None:
                continue
            path, digest, size, tar_size = source.lookup(layer.diff_id) or source.compress(layer)
            blob = self._blob(digest)
            blob.parent.mkdir(parents=True, exist_ok=True)
            tmp = blob.with_name(f".seed-{os.getpid()}-{digest.hex}")
            try:
                os.link(path, tmp)
            except OSError:
                shutil.copyfile(path, tmp)
            os.replace(tmp, blob)
            self._write_index(layer.diff_id, digest, size, tar_size)

    def _write_index(self, diff_id: Digest, digest: Digest, size: int, tar_size: int) -> None:
        index = self._index(diff_id)
        index.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".index-", dir=index.parent)
        with os.fdopen(fd, "w") as fh:
            json.dump({"digest": str(digest), "size": size, "tar_size": tar_size,
                       "ctime_ns": self._blob(digest).stat().st_ctime_ns}, fh)
        os.replace(tmp, index)

    def compress(self, layer: Layer) -> tuple[Path, Digest, int, int]:
        """Gzip the layer's tar into the cache (temp name, digests checked, rename), index it."""
        blobs = self.root / "blobs" / "sha256"
        blobs.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".gzip-", dir=blobs)
        try:
            with os.fdopen(fd, "wb") as out, layer.open_uncompressed() as tar:
                reader, writer = HashingReader(tar), HashingWriter(out)
                gogzip.compress(reader, writer)  # type: ignore[arg-type]
            if reader.hasher.digest() != layer.diff_id:
                raise DigestMismatch(f"layer {layer.digest}: tar digest {reader.hasher.digest()} != "
                                     f"diff_id {layer.diff_id}")
            digest, size, tar_size = writer.hasher.digest(), writer.hasher.size, reader.hasher.size
            blob = self._blob(digest)
            os.replace(tmp, blob)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._write_index(layer.diff_id, digest, size, tar_size)
        return blob, digest, size, tar_size


def gzip_like_docker(image: Image, cache: BlobCache | None = None) -> Gzipped:
    """Every uncompressed layer as a Go-gzipped blob, from the cache when its diff_id is there
    (layers already compressed are kept as they are)."""
    blobs = cache or BlobCache()
    docker = mt.is_docker(image.media_type)

    def one(layer: Layer) -> tuple[Layer, str]:
        if layer.compression != "none":
            return layer, "kept"
        found = blobs.lookup(layer.diff_id)
        how = "reused"
        if found is None:
            found, how = blobs.compress(layer), "compressed"
        path, digest, size, tar_size = found
        descriptor = Descriptor(mt.layer_media_type("gzip", docker), digest, size,
                                dict(layer.descriptor.annotations))
        return FileLayer(path, descriptor, layer.diff_id, tar_size), how

    with ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="pare-gogzip") as pool:
        done = list(pool.map(one, image.layers))
    hows = [how for _, how in done]
    return Gzipped(with_layers(image, [layer for layer, _ in done]), hows.count("compressed"),
                   hows.count("reused"))
