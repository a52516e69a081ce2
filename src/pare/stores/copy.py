"""copy: read an image from one store and write it to another, so every pair of stores works.

Registries want compressed layers; archives hold uncompressed ones. When the destination is a
registry and the source has uncompressed layers, they are compressed on the way (gzip by default,
zstd on request), in parallel, into a temp dir that goes away with the copy. The config keeps its
exact bytes, so the image ID does not change.

With `all_platforms`, a multi-platform index moves whole, as `skopeo copy --all` and `crane copy` move
it: every image and the index, byte for byte (no layer is recompressed), so the index digest at the
destination is the source's. Without it, one platform is picked (default linux/amd64).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pare.errors import UsageError
from pare.oci import mediatypes as mt
from pare.oci.descriptor import Platform
from pare.oci.digest import Digest
from pare.oci.image import Image
from pare.oci.index import ImageIndex
from pare.oci.mutate import with_compression
from pare.oci.reference import Reference
from pare.progress import Progress
from pare.stores.transports import Location, parse_location, store_for


@dataclass(frozen=True)
class CopyResult:
    """What a copy moved and how long each step took (seconds); `to_dict()` is the --json output."""

    source: str
    destination: str
    digest: Digest
    media_type: str
    layers: int
    image_bytes: int  # config + layer blobs as stored at the destination
    bytes_moved: int  # bytes the destination actually received (existing blobs are skipped)
    blobs_moved: int
    blobs_skipped: int
    blobs_mounted: int
    compressed: str | None  # the compression applied on the way, if any
    phases: dict[str, float]  # read (manifest + config), compress, write (blobs + manifest)
    source_stats: dict[str, Any] = field(default_factory=dict)
    destination_stats: dict[str, Any] = field(default_factory=dict)
    wall_seconds: float = 0.0
    platforms: tuple[str, ...] = ()  # every platform moved, when a whole index moved

    @property
    def is_index(self) -> bool:
        return bool(self.platforms)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "destination": self.destination, "digest": str(self.digest),
                "media_type": self.media_type, "layers": self.layers, "image_bytes": self.image_bytes,
                "bytes_moved": self.bytes_moved, "blobs_moved": self.blobs_moved,
                "blobs_skipped": self.blobs_skipped, "blobs_mounted": self.blobs_mounted,
                "compressed": self.compressed,
                "phases": {k: round(v, 6) for k, v in self.phases.items()},
                "source_stats": self.source_stats, "destination_stats": self.destination_stats,
                "wall_seconds": round(self.wall_seconds, 6), "platforms": list(self.platforms)}


def copy(src: str, dst: str, *, platform: Platform | None = None, insecure: bool = False,
         progress: Progress | None = None, parallel: int = 4, compress: mt.Compression = "gzip",
         dest_name: str | None = None, all_platforms: bool = False) -> CopyResult:
    """Copy the image at `src` to `dst` (locations as in pare.stores.transports).

    `dest_name` overrides the name inside the destination (pull uses it to tag the embedded store).
    `all_platforms` moves a whole index (it excludes `platform`); a single image moves as usual."""
    if all_platforms and platform is not None:
        raise UsageError("--all moves every platform; --platform picks one: give one or the other")
    if compress == "none":
        raise UsageError("registries take compressed layers: --compress must be gzip or zstd")
    started = time.perf_counter()
    src_loc, dst_loc = parse_location(src), parse_location(dst)
    source = store_for(src_loc, insecure=insecure, parallel=parallel)
    try:
        dest = store_for(dst_loc, insecure=insecure, parallel=parallel)
    except BaseException:
        source.close()
        raise
    if progress is not None:
        dest.progress = progress
    phases: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        found: Image | ImageIndex = source.read_any(src_loc.name) if all_platforms else \
            source.read(src_loc.name, platform)
        phases["read"] = time.perf_counter() - t0
        name = dest_name or dst_loc.name or _inherit_name(src_loc, dst_loc)
        compressed: str | None = None
        with tempfile.TemporaryDirectory(prefix="pare-copy-") as workdir:
            if isinstance(found, Image) and dst_loc.transport == "docker" and any(
                    layer.compression == "none" for layer in found.layers):
                t0 = time.perf_counter()
                found = with_compression(found, compress, Path(workdir), only_uncompressed=True,
                                         parallel=parallel)
                phases["compress"] = time.perf_counter() - t0
                compressed = compress
            t0 = time.perf_counter()
            digest = dest.write_any(found, name)
            phases["write"] = time.perf_counter() - t0
        stats = dest.stats
        images = found.images if isinstance(found, ImageIndex) else (found,)
        return CopyResult(
            source=src, destination=str(Location(dst_loc.transport, dst_loc.path, name)),
            digest=digest, media_type=found.media_type,
            layers=len({layer.digest for image in images for layer in image.layers}),
            image_bytes=found.compressed_size, bytes_moved=stats.bytes_moved,
            blobs_moved=stats.blobs_moved, blobs_skipped=stats.blobs_skipped,
            blobs_mounted=stats.blobs_mounted, compressed=compressed, phases=phases,
            source_stats=source.stats.to_dict(), destination_stats=stats.to_dict(),
            wall_seconds=time.perf_counter() - started,
            platforms=tuple(str(p) for p in found.platforms) if isinstance(found, ImageIndex) else ())
    finally:
        if progress is not None:
            progress.close()
        source.close()
        dest.close()


def _inherit_name(src: Location, dst: Location) -> str | None:
    """A tagless layout or archive destination takes the source's reference, as skopeo users expect
    `pare copy REF docker-archive:x.tar` to keep the name."""
    if dst.transport in ("docker-archive", "local") and src.transport == "docker" and src.name:
        ref = Reference.parse(src.name)
        return str(ref) if ref.tag or not ref.digest else None
    if dst.transport == "docker-archive" and src.transport == "docker-archive" and src.name:
        return src.name if not src.name.startswith("@") else None
    return None
