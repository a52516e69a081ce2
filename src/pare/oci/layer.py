"""Layers: lazy handles on a blob that know their digests and open streams on demand.

Three sizes matter (DESIGN.md): content bytes (regular files), tar bytes (the uncompressed blob,
whose digest is the diff_id) and compressed bytes (what crosses the network). A Layer knows the
last two; content bytes come from reading the tar (pare.analyze).
"""

from __future__ import annotations

import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import IO

from pare.oci import mediatypes as mt
from pare.oci.compression import compress_stream, open_decompressed
from pare.oci.descriptor import Descriptor
from pare.oci.digest import CHUNK, Digest, Hasher

Opener = Callable[[], IO[bytes]]


class Layer(ABC):
    """One layer blob. Implementations must be safe to open more than once, from several threads."""

    @property
    @abstractmethod
    def descriptor(self) -> Descriptor:
        """The manifest entry: media type, compressed digest and size, annotations."""

    @property
    @abstractmethod
    def diff_id(self) -> Digest:
        """Digest of the uncompressed tar."""

    @abstractmethod
    def open(self) -> IO[bytes]:
        """The blob's bytes exactly as stored (compressed, when the media type says so)."""

    @property
    def uncompressed_size(self) -> int | None:
        """Tar bytes, when known without reading the blob."""
        return None

    # --- derived ---------------------------------------------------------------------------
    @property
    def digest(self) -> Digest:
        return self.descriptor.digest

    @property
    def size(self) -> int:
        return self.descriptor.size

    @property
    def media_type(self) -> str:
        return self.descriptor.media_type

    @property
    def compression(self) -> mt.Compression:
        return mt.layer_compression(self.media_type)

    def open_uncompressed(self) -> IO[bytes]:
        """The layer's tar stream, decompressed on the fly."""
        return open_decompressed(self.open(), self.compression)

    def tar_size(self) -> int:
        """Tar bytes: known, or counted by streaming the layer once (exports often omit it)."""
        if self.uncompressed_size is not None:
            return self.uncompressed_size
        total = 0
        with self.open_uncompressed() as stream:
            while chunk := stream.read(CHUNK):
                total += len(chunk)
        return total

    def __repr__(self) -> str:
        kind = self.media_type.rsplit(".", 1)[-1]
        return f"<{type(self).__name__} {self.digest.short} {kind} {self.size}B>"


class BlobLayer(Layer):
    """A layer whose blob lives in a store; `opener` streams it (from a file, a registry...)."""

    def __init__(self, descriptor: Descriptor, diff_id: Digest, opener: Opener,
                 uncompressed_size: int | None = None) -> None:
        self._descriptor = descriptor
        self._diff_id = diff_id
        self._opener = opener
        self._uncompressed_size = uncompressed_size
        if mt.layer_compression(descriptor.media_type) == "none" and uncompressed_size is None:
            self._uncompressed_size = descriptor.size

    @property
    def descriptor(self) -> Descriptor:
        return self._descriptor

    @property
    def diff_id(self) -> Digest:
        return self._diff_id

    @property
    def uncompressed_size(self) -> int | None:
        return self._uncompressed_size

    def open(self) -> IO[bytes]:
        return self._opener()


class FileLayer(Layer):
    """A finished blob in a local file (a compressed tar pare wrote itself)."""

    def __init__(self, path: Path, descriptor: Descriptor, diff_id: Digest, uncompressed_size: int) -> None:
        self.path = path
        self._descriptor = descriptor
        self._diff_id = diff_id
        self._uncompressed_size = uncompressed_size

    @property
    def descriptor(self) -> Descriptor:
        return self._descriptor

    @property
    def diff_id(self) -> Digest:
        return self._diff_id

    @property
    def uncompressed_size(self) -> int:
        return self._uncompressed_size

    def open(self) -> IO[bytes]:
        return open(self.path, "rb")


class HashingReader:
    """Hashes what is read through it (a layer's tar on its way into a compressor)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.hasher = Hasher()

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.hasher.update(data)
        return data


class HashingWriter:
    """Hashes what is written through it (a compressed blob on its way to a file)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.hasher = Hasher()

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        return self.stream.write(data)

    def flush(self) -> None:
        self.stream.flush()


def layer_from_tar(tar: IO[bytes] | Path, compression: mt.Compression = "gzip", *,
                   workdir: Path | None = None, docker: bool = False, level: int | None = None,
                   annotations: dict[str, str] | None = None) -> FileLayer:
    """Compress an uncompressed tar into a blob file, hashing both sides in one streaming pass.

    The blob is kept in `workdir` (default: the system temp dir) under its digest; a caller that
    builds many layers should point workdir at a directory it cleans up.
    """
    directory = Path(workdir or tempfile.gettempdir())
    directory.mkdir(parents=True, exist_ok=True)
    source = open(tar, "rb") if isinstance(tar, Path) else tar  # noqa: SIM115 (closed below)
    fd, tmp_name = tempfile.mkstemp(prefix=".layer-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            reader = HashingReader(source)
            writer = HashingWriter(out)
            if compression == "none":
                while chunk := reader.read(CHUNK):
                    writer.write(chunk)
            else:
                compress_stream(reader, writer, compression, level)  # type: ignore[arg-type]
        digest = writer.hasher.digest()
        final = directory / f"{digest.algorithm}-{digest.hex}"
        os.replace(tmp_name, final)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    finally:
        if isinstance(tar, Path):
            source.close()
    descriptor = Descriptor(mt.layer_media_type(compression, docker), digest, writer.hasher.size,
                            annotations=dict(annotations or {}))
    return FileLayer(final, descriptor, reader.hasher.digest(), reader.hasher.size)


def recompress(layer: Layer, compression: mt.Compression, *, workdir: Path | None = None,
               docker: bool | None = None) -> Layer:
    """The same tar under another compression; a no-op when it already matches."""
    family_docker = mt.is_docker(layer.media_type) if docker is None else docker
    if layer.compression == compression and mt.is_docker(layer.media_type) == family_docker:
        return layer
    with layer.open_uncompressed() as tar:
        new = layer_from_tar(tar, compression, workdir=workdir, docker=family_docker)
    if new.diff_id != layer.diff_id:
        from pare.errors import DigestMismatch
        raise DigestMismatch(f"layer {layer.digest}: tar digest {new.diff_id} != diff_id {layer.diff_id}")
    return new
