"""What every store is: a source of Images and a sink for them.

A store is a place (a layout directory, an archive file, a registry host); a name picks one image in
it (a tag in a layout, a reference in an archive, a repository:tag in a registry). `copy` in
pare.stores.copy is read from one store, write to another, so every pair of stores works.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import IO, Any

from pare.oci.descriptor import Descriptor, Platform
from pare.oci.digest import Digest, VerifyingReader
from pare.oci.image import Image
from pare.oci.index import ImageIndex
from pare.progress import NullProgress, Progress


@dataclass
class TransferStats:
    """What a read or write moved and how long each phase took; JSON-ready via to_dict()."""

    bytes_moved: int = 0
    blobs_moved: int = 0
    blobs_skipped: int = 0
    blobs_mounted: int = 0
    retries: int = 0
    phases: dict[str, float] = field(default_factory=dict)  # phase name -> seconds (summed over blobs)
    wall_seconds: float = 0.0

    def add_phase(self, name: str, seconds: float) -> None:
        self.phases[name] = self.phases.get(name, 0.0) + seconds

    def to_dict(self) -> dict[str, Any]:
        return {"bytes": self.bytes_moved, "blobs_moved": self.blobs_moved,
                "blobs_skipped": self.blobs_skipped, "blobs_mounted": self.blobs_mounted,
                "retries": self.retries, "phases": {k: round(v, 6) for k, v in self.phases.items()},
                "wall_seconds": round(self.wall_seconds, 6)}


class Store(ABC):
    """A source and a sink of images. `name` is store-specific (see each implementation)."""

    transport: str = ""

    def __init__(self) -> None:
        # Everything this store instance moved, accumulated across reads and writes (thread-safe
        # updates are the implementation's job).
        self.stats = TransferStats()
        # Where per-blob progress goes; the CLI swaps in bars on a terminal.
        self.progress: Progress = NullProgress()

    @abstractmethod
    def read(self, name: str | None = None, platform: Platform | None = None) -> Image:
        """The image stored under `name`; for an index, the manifest for `platform`
        (default linux/amd64). Layers are lazy: nothing big is read until a layer is opened."""

    @abstractmethod
    def write(self, image: Image, name: str | None = None) -> Digest:
        """Store the image (blobs first, verified, then the manifest) and return its digest.
        A failed write leaves no partial blob or manifest visible."""

    @abstractmethod
    def read_index(self, name: str | None = None) -> ImageIndex | None:
        """The whole multi-platform index stored under `name` (every platform's image, lazy layers),
        or None when `name` holds a single image."""

    @abstractmethod
    def write_index(self, index: ImageIndex, name: str | None = None) -> Digest:
        """Store every image of the index and the index itself under `name`, byte for byte, so the
        index keeps its digest; returns it. A failed write leaves no index visible."""

    def write_any(self, artifact: Image | ImageIndex, name: str | None = None) -> Digest:
        """Write an Image or an ImageIndex, whichever it is."""
        if isinstance(artifact, ImageIndex):
            return self.write_index(artifact, name)
        return self.write(artifact, name)

    def read_any(self, name: str | None = None) -> Image | ImageIndex:
        """The index `name` holds, whole, else its single image."""
        return self.read_index(name) or self.read(name)

    def describe(self, name: str | None = None) -> str:
        return f"{self.transport}:{name or ''}"

    def close(self) -> None:
        """Release what the store holds open (connections, file handles); a no-op by default."""
        return None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def verifying(stream: IO[bytes], desc: Descriptor) -> IO[bytes]:
    """`stream`, checked against the descriptor's digest and size as it is read: as it is when it
    already checks them (a layout or archive layer, a registry BlobReader), else wrapped."""
    if isinstance(stream, VerifyingReader) and stream.expected == desc.digest \
            and stream.expected_size == desc.size:
        return stream
    blobs = sys.modules.get("pare.stores.registry.blobs")  # never imported here: it loads httpx
    if blobs is not None and isinstance(stream, blobs.BlobReader) \
            and stream.descriptor.digest == desc.digest and stream.descriptor.size == desc.size:
        return stream
    return VerifyingReader(stream, desc.digest, desc.size, what=f"blob {desc.digest}")  # type: ignore[return-value]
