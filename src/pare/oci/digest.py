"""Content digests: parse, compute (also while streaming), and verify."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from pare.errors import DigestMismatch, InvalidReference

_ALGORITHMS = {"sha256": 64, "sha512": 128}
_DIGEST_RE = re.compile(r"^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$")
CHUNK = 1 << 20


@dataclass(frozen=True, order=True)
class Digest:
    """`algorithm:hex`, e.g. sha256:9f86d0...; only sha256 and sha512 are accepted."""

    algorithm: str
    hex: str

    @classmethod
    def parse(cls, text: str) -> Digest:
        match = _DIGEST_RE.match(text)
        if not match:
            raise InvalidReference(f"invalid digest {text!r}: want algorithm:hex")
        algorithm, hexpart = match.groups()
        length = _ALGORITHMS.get(algorithm)
        if length is None:
            raise InvalidReference(f"invalid digest {text!r}: unsupported algorithm {algorithm!r}")
        if len(hexpart) != length or not re.fullmatch(r"[0-9a-f]+", hexpart):
            raise InvalidReference(f"invalid digest {text!r}: want {length} lowercase hex characters")
        return cls(algorithm, hexpart)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    @property
    def short(self) -> str:
        """The first 12 hex characters, as docker shows image IDs."""
        return self.hex[:12]

    def hasher(self) -> Hasher:
        return Hasher(self.algorithm)


class Hasher:
    """Incremental digest computation that also counts bytes."""

    def __init__(self, algorithm: str = "sha256") -> None:
        self.algorithm = algorithm
        self._hash = hashlib.new(algorithm)
        self.size = 0

    def update(self, data: bytes | memoryview) -> None:
        self._hash.update(data)
        self.size += len(data)

    def digest(self) -> Digest:
        return Digest(self.algorithm, self._hash.hexdigest())


def sha256(data: bytes) -> Digest:
    return Digest("sha256", hashlib.sha256(data).hexdigest())


def digest_stream(stream: IO[bytes], algorithm: str = "sha256") -> tuple[Digest, int]:
    """Digest and size of everything left in a stream, read in bounded chunks."""
    hasher = Hasher(algorithm)
    while chunk := stream.read(CHUNK):
        hasher.update(chunk)
    return hasher.digest(), hasher.size


def digest_file(path: str | os.PathLike[str], algorithm: str = "sha256") -> Digest:
    """Digest of a file's content, read in bounded chunks."""
    with open(path, "rb") as f:
        return digest_stream(f, algorithm)[0]


def digest_chunks(chunks: Iterable[bytes], algorithm: str = "sha256") -> tuple[Digest, int]:
    hasher = Hasher(algorithm)
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.digest(), hasher.size


def verify(expected: Digest, actual: Digest, what: str = "blob") -> None:
    if expected != actual:
        raise DigestMismatch(f"{what} digest mismatch: expected {expected}, got {actual}")


class VerifyingReader:
    """Wraps a stream; hashes what passes through and checks digest and size at EOF.

    Readers of untrusted blobs use it so corrupt bytes are refused before anything is made visible.
    """

    def __init__(self, stream: IO[bytes], expected: Digest, expected_size: int | None = None,
                 what: str = "blob") -> None:
        self._stream = stream
        self.expected = expected
        self.expected_size = expected_size
        self.what = what
        self._hasher = expected.hasher()
        self._checked = False

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if data:
            self._hasher.update(data)
            if self.expected_size is not None and self._hasher.size > self.expected_size:
                raise DigestMismatch(
                    f"{self.what} {self.expected}: more than the announced {self.expected_size} bytes")
        elif size != 0:
            self.check()
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        """For buffered readers (gzip, io.BufferedReader) that fill their own buffers."""
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def check(self) -> None:
        if self._checked:
            return
        self._checked = True
        if self.expected_size is not None and self._hasher.size != self.expected_size:
            raise DigestMismatch(f"{self.what} {self.expected}: got {self._hasher.size} bytes, "
                                 f"expected {self.expected_size}")
        verify(self.expected, self._hasher.digest(), self.what)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> VerifyingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
