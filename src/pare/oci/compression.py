"""Streaming (de)compression for layer blobs: fast gzip (ISA-L) and zstd.

gzip output carries no file name and mtime 0, so the same tar always compresses to the same bytes.
"""

from __future__ import annotations

import gzip
import io
from typing import IO, Any, cast

import zstandard
from isal import igzip, igzip_lib

from pare.errors import UnsafeTarError
from pare.oci.digest import CHUNK
from pare.oci.mediatypes import Compression

GZIP_LEVEL = 1  # ISA-L level 1 compresses about as well as zlib level 6, much faster
ZSTD_LEVEL = 3
# isal's stub does not declare IsalError as an exception class; it is one (an Exception subclass).
_ISAL_ERROR = cast(type[Exception], igzip_lib.IsalError)


def open_decompressed(stream: IO[bytes], compression: Compression) -> IO[bytes]:
    """A readable stream of the decompressed bytes; never buffers the whole blob."""
    if compression == "none":
        return stream
    if compression == "gzip":
        return cast(IO[bytes], _GuardedReader(igzip.IGzipFile(fileobj=stream, mode="rb"), stream))
    if compression == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True, closefd=True)
        return cast(IO[bytes], _GuardedReader(reader, stream))
    raise ValueError(f"unknown compression {compression!r}")


def compress_stream(src: IO[bytes], dst: IO[bytes], compression: Compression,
                    level: int | None = None) -> None:
    """Copy src to dst, compressed; dst is left open."""
    if compression == "none":
        while chunk := src.read(CHUNK):
            dst.write(chunk)
        return
    writer: Any
    if compression == "gzip":
        writer = igzip.IGzipFile(fileobj=dst, mode="wb", mtime=0,
                                 compresslevel=GZIP_LEVEL if level is None else level)
    elif compression == "zstd":
        writer = zstandard.ZstdCompressor(level=ZSTD_LEVEL if level is None else level).stream_writer(
            dst, closefd=False)
    else:
        raise ValueError(f"unknown compression {compression!r}")
    try:
        while chunk := src.read(CHUNK):
            writer.write(chunk)
    finally:
        writer.close()


def detect(head: bytes) -> Compression:
    """Compression of a blob from its first bytes (gzip and zstd magic numbers)."""
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    return "none"


class _GuardedReader(io.RawIOBase):
    """Turns decompressor failures into UnsafeTarError, so a corrupt blob is one clear error."""

    def __init__(self, inner: Any, source: IO[bytes]) -> None:
        self._inner = inner
        self._source = source

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            data: bytes = self._inner.read(size)
        except (OSError, EOFError, gzip.BadGzipFile, _ISAL_ERROR, zstandard.ZstdError) as exc:
            raise UnsafeTarError(f"corrupt compressed layer: {exc}") from None
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._source.close()
            super().close()
