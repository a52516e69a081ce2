"""Safe reading of untrusted tars, in one streaming pass: the one tar reader of pare.

Tars come from anywhere (a registry, a `docker save` file someone mailed you, a .deb, mmdebstrap's
output). Reading one must never trust a header's size, and never take a truncated or corrupt stream
for a short but valid one: Python's tarfile silently stops at a bad header after the first member,
so `SafeTar` checks that the archive really ends with an end-of-archive block.

Names are normalised to relative POSIX paths without `.` components ("./usr/bin/" -> "usr/bin");
`..` components, absolute names, NUL bytes, hard links outside the archive and whiteouts of
"", "." or ".." are refused. Every failure is an UnsafeTarError with the member name, never a
tarfile or OS traceback. pare never extracts a layer: it reads it as a stream.
"""

from __future__ import annotations

import lzma
import os
import posixpath
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Literal, cast

from isal.igzip_lib import IsalError

from pare.errors import UnsafeTarError
from pare.oci.digest import CHUNK, Digest, Hasher

Kind = Literal["file", "dir", "symlink", "hardlink", "char", "block", "fifo"]

MAX_MEMBER_SIZE = 64 << 30  # a single file above 64 GiB in a layer is an attack or a corruption
MAX_NAME_BYTES = 4096  # PATH_MAX
MAX_DEPTH = 256  # path components; real images stay under 40, recursion over a tree must stay bounded
MAX_READ = 16 << 20  # tarfile reads pax and GNU long-name headers whole: cap what one may claim
BLOCK = 512
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
XATTR_PREFIX = "SCHILY.xattr."

# ISA-L gzip and xz report a corrupt stream with their own exceptions, outside the OSError family
_STREAM_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    ValueError,
    lzma.LZMAError,  # a .deb's data.tar.xz
    cast(type[BaseException], IsalError),
)

_KINDS: dict[bytes, Kind] = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.GNUTYPE_SPARSE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
    tarfile.CHRTYPE: "char",
    tarfile.BLKTYPE: "block",
    tarfile.FIFOTYPE: "fifo",
}


@dataclass(frozen=True, slots=True)
class Member:
    """One tar entry, validated. `path` is normalised ('' is the root itself); for a hard link
    `linkname` is the normalised path it points to, for a symlink the raw target."""

    path: str
    kind: Kind
    size: int
    mode: int
    uid: int
    gid: int
    mtime: int
    linkname: str = ""
    xattrs: tuple[tuple[str, str], ...] = ()  # pax SCHILY.xattr.* records (file capabilities...)

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def parent(self) -> str:
        return posixpath.dirname(self.path)

    @property
    def is_whiteout(self) -> bool:
        return self.name.startswith(WHITEOUT_PREFIX)

    @property
    def is_opaque(self) -> bool:
        return self.name == OPAQUE_MARKER

    @property
    def whiteout_target(self) -> str:
        """The path a `.wh.NAME` entry deletes."""
        return posixpath.join(self.parent, self.name[len(WHITEOUT_PREFIX) :])


def normalize(name: str) -> str:
    """A member name as a relative POSIX path; raises UnsafeTarError for anything that could escape."""
    if "\x00" in name:
        raise UnsafeTarError(f"tar member name contains a NUL byte: {name!r}")
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        raise UnsafeTarError(f"tar member name longer than {MAX_NAME_BYTES} bytes: {name[:80]!r}...")
    if name.startswith("/"):
        raise UnsafeTarError(f"tar member has an absolute path: {name!r}")
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise UnsafeTarError(f"tar member path contains '..': {name!r}")
        parts.append(part)
    if len(parts) > MAX_DEPTH:
        raise UnsafeTarError(
            f"tar member path is {len(parts)} directories deep (at most {MAX_DEPTH}): {name[:80]!r}..."
        )
    return "/".join(parts)


def _bad_whiteout(path: str) -> bool:
    """A whiteout whose target is "", "." or "..": it would delete the directory itself or its parent."""
    name = path.rsplit("/", 1)[-1]
    return name.startswith(WHITEOUT_PREFIX) and name[len(WHITEOUT_PREFIX) :] in ("", ".", "..")


class _CountingReader:
    """Counts (and optionally hashes) every byte of the layer stream."""

    def __init__(self, stream: IO[bytes], hash_stream: bool) -> None:
        self.stream = stream
        self.offset = 0
        self.hasher = Hasher() if hash_stream else None

    def read(self, size: int = -1) -> bytes:
        try:
            data = self.stream.read(size)
        except UnsafeTarError:
            raise
        except _STREAM_ERRORS as exc:
            raise UnsafeTarError(f"corrupt or unreadable layer stream: {exc}") from None
        if data:
            self.offset += len(data)
            if self.hasher is not None:
                self.hasher.update(data)
        return data

    def drain(self) -> None:
        while self.read(CHUNK):
            pass


class _ForwardReader:
    """A file object that tarfile's seekable mode accepts over a one-way stream: `seek` may only go
    forward (skipped bytes are read and dropped). Small reads (headers) come out of a buffer by
    index, where tarfile's own stream mode re-copies its whole buffer on every read. The last read
    is remembered, so the block where tarfile stopped can be looked at again."""

    def __init__(self, raw: _CountingReader) -> None:
        self.raw = raw
        self.buf = b""
        self.index = 0
        self.offset = 0
        self.last: tuple[int, bytes] = (0, b"")  # (offset, bytes) of the last read

    def tell(self) -> int:
        return self.offset

    def seek(self, position: int, whence: int = 0) -> int:
        if whence != 0 or position < self.offset:
            raise UnsafeTarError(f"tar reader asked to seek back to byte {position} in a stream")
        while position > self.offset:
            if not self.read(min(position - self.offset, CHUNK)):
                break
        return self.offset

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > MAX_READ:
            raise UnsafeTarError(f"tar metadata header at byte {self.offset} claims an absurd size")
        available = len(self.buf) - self.index
        if size <= available:
            out = self.buf[self.index : self.index + size]
            self.index += size
            self.last = (self.offset, out)
            self.offset += size
            return out
        parts = [self.buf[self.index :]] if available else []
        wanted = size - available
        self.buf, self.index = b"", 0
        while wanted > 0:
            chunk = self.raw.read(max(wanted, CHUNK) if wanted >= CHUNK else CHUNK)
            if not chunk:
                break
            if len(chunk) > wanted:
                parts.append(chunk[:wanted])
                self.buf, self.index = chunk, wanted
                wanted = 0
            else:
                parts.append(chunk)
                wanted -= len(chunk)
        out = b"".join(parts)
        self.last = (self.offset, out)
        self.offset += len(out)
        return out


class SafeTar:
    """Iterate a tar stream once, yielding (Member, reader-or-None) pairs.

    The reader of a regular file must be consumed (or ignored) before the next iteration. After
    the loop, `tar_bytes` is the full stream length and `diff_id` its digest (if hashing was on).
    """

    def __init__(
        self, stream: IO[bytes], *, hash_stream: bool = True, max_member_size: int = MAX_MEMBER_SIZE
    ) -> None:
        self._reader = _CountingReader(stream, hash_stream)
        self.max_member_size = max_member_size
        self.members = 0
        self.finished = False

    @property
    def tar_bytes(self) -> int:
        return self._reader.offset

    @property
    def diff_id(self) -> Digest | None:
        if not self.finished or self._reader.hasher is None:
            return None
        return self._reader.hasher.digest()

    def __iter__(self) -> Iterator[tuple[Member, IO[bytes] | None]]:
        try:
            self._forward = _ForwardReader(self._reader)
            tar = tarfile.open(fileobj=self._forward, mode="r:")  # type: ignore[call-overload]  # noqa: SIM115
        except tarfile.ReadError as exc:
            if self._reader.offset == 0:  # a zero-byte stream: an empty layer
                self.finished = True
                return
            raise UnsafeTarError(f"not a valid tar stream: {exc}") from None
        except (tarfile.TarError, UnicodeError, ValueError, OverflowError) as exc:
            raise UnsafeTarError(f"not a valid tar stream: {exc}") from None
        while True:
            try:
                info = tar.next()
            except UnsafeTarError:
                raise
            except (tarfile.TarError, UnicodeError, ValueError, OverflowError) as exc:
                raise UnsafeTarError(f"invalid tar header after member {self.members}: {exc}") from None
            if info is None:
                break
            tar.members.clear()  # tarfile keeps every TarInfo otherwise: memory would grow per member
            member = self._member(info)
            self.members += 1
            if member.kind == "file":
                try:
                    reader = tar.extractfile(info)
                except tarfile.TarError as exc:
                    raise UnsafeTarError(f"{info.name}: {exc}") from None
                yield (
                    member,
                    cast(IO[bytes], _GuardedMember(reader, info.name)) if reader is not None else None,
                )
            else:
                yield member, None
        self._check_end(tar.offset)
        self._reader.drain()
        self.finished = True

    def _member(self, info: tarfile.TarInfo) -> Member:
        return member_of(info, self.max_member_size)

    def _check_end(self, offset: int) -> None:
        """tarfile also stops quietly at garbage or at a cut; only a zero block is a real end."""
        start, block = self._forward.last  # tarfile's last read was the header it gave up on
        if start != offset:
            block = b""
        if len(block) < BLOCK:
            raise UnsafeTarError(
                f"truncated tar stream: it ends at byte {self._reader.offset} without an end-of-archive block"
            )
        if block.count(0) != BLOCK:
            raise UnsafeTarError(f"invalid tar header at byte {offset} (after member {self.members})")


def member_of(info: tarfile.TarInfo, max_member_size: int = MAX_MEMBER_SIZE) -> Member:
    """The validated Member for a header tarfile parsed (every reader checks names the same way)."""
    kind = _KINDS.get(info.type)
    if kind is None:
        raise UnsafeTarError(f"tar member {info.name!r} has unsupported type {info.type!r}")
    path = normalize(info.name)
    if path == "" and kind != "dir":
        raise UnsafeTarError(f"tar member {info.name!r} names the root but is a {kind}, not a directory")
    if info.size < 0 or info.size > max_member_size:
        raise UnsafeTarError(f"tar member {info.name!r} claims an absurd size ({info.size} bytes)")
    linkname = ""
    if kind == "hardlink":
        linkname = normalize(info.linkname)
        if not linkname:
            raise UnsafeTarError(f"hard link {info.name!r} points at the root")
    elif kind == "symlink":
        if "\x00" in info.linkname:
            raise UnsafeTarError(f"symlink {info.name!r} target contains a NUL byte")
        linkname = info.linkname
    if _bad_whiteout(path):
        raise UnsafeTarError(f"tar member {info.name!r} is a whiteout of {path.rsplit('/', 1)[-1][4:]!r}")
    size = info.size if kind == "file" and path else 0
    xattrs = tuple(sorted((k, v) for k, v in info.pax_headers.items() if k.startswith(XATTR_PREFIX)))
    return Member(
        path,
        kind,
        size,
        info.mode & 0o7777,
        max(info.uid, 0),
        max(info.gid, 0),
        int(info.mtime) if isinstance(info.mtime, int | float) else 0,
        linkname,
        xattrs,
    )


def index_tar_file(path: str | os.PathLike[str]) -> list[tuple[Member, int]]:
    """Every member of a tar *file* with the offset of its data, for readers that seek into it (a
    `docker save` archive read in place): names checked as SafeTar checks them, and the archive
    must end with an end-of-archive block, not stop quietly at a cut or at garbage."""
    found: list[tuple[Member, int]] = []
    try:
        with open(path, "rb") as fh, tarfile.open(fileobj=fh, mode="r:") as tar:
            for info in tar:
                found.append((member_of(info), info.offset_data))
            end = tar.offset
            fh.seek(end)
            block = fh.read(BLOCK)
    except (tarfile.TarError, EOFError, UnicodeError, ValueError, OverflowError) as exc:
        raise UnsafeTarError(f"not a valid tar archive: {exc}") from None
    if len(block) < BLOCK:
        raise UnsafeTarError(f"truncated tar archive: it ends at byte {end} without an end-of-archive block")
    if block.count(0) != BLOCK:
        raise UnsafeTarError(f"invalid tar header at byte {end} (after member {len(found)})")
    return found


class _GuardedMember:
    """A member's content reader whose failures (a cut stream) are UnsafeTarError."""

    def __init__(self, inner: IO[bytes], name: str) -> None:
        self._inner = inner
        self._name = name

    def read(self, size: int = -1) -> bytes:
        try:
            return self._inner.read(size)
        except UnsafeTarError:
            raise
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise UnsafeTarError(f"tar member {self._name!r}: {exc}") from None

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._inner.close()


def iter_members(
    stream: IO[bytes], *, hash_stream: bool = False
) -> Iterator[tuple[Member, IO[bytes] | None]]:
    """Shorthand for iterating `SafeTar(stream)`."""
    yield from SafeTar(stream, hash_stream=hash_stream)
