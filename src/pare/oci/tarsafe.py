"""Safe reading of untrusted layer tars, in one streaming pass, and a safe extractor built on it.

Layer tars come from anywhere (a registry, a `docker save` file someone mailed you). Reading one
must never write outside a chosen root, never trust a header's size, and never take a truncated or
corrupt stream for a short but valid one: Python's tarfile silently stops at a bad header after the
first member, so `SafeTar` checks that the archive really ends with an end-of-archive block.

Names are normalised to relative POSIX paths without `.` components ("./usr/bin/" -> "usr/bin");
`..` components, absolute names, NUL bytes and hard links outside the archive are refused.
Every failure is an UnsafeTarError with the member name, never a tarfile or OS traceback.
"""

from __future__ import annotations

import lzma
import os
import posixpath
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
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


def symlink_escapes(path: str, target: str) -> bool:
    """True when a symlink at `path` pointing to `target` leaves the root it is extracted into
    (judged lexically; an absolute target counts as outside, as it would be on the host)."""
    if target.startswith("/"):
        return True
    depth = path.count("/")  # directories above the link, inside the root
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


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
        kind = _KINDS.get(info.type)
        if kind is None:
            raise UnsafeTarError(f"tar member {info.name!r} has unsupported type {info.type!r}")
        path = normalize(info.name)
        if path == "" and kind != "dir":
            raise UnsafeTarError(f"tar member {info.name!r} names the root but is a {kind}, not a directory")
        if info.size < 0 or info.size > self.max_member_size:
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
        size = info.size if kind == "file" and path else 0
        return Member(
            path,
            kind,
            size,
            info.mode & 0o7777,
            max(info.uid, 0),
            max(info.gid, 0),
            int(info.mtime) if isinstance(info.mtime, int | float) else 0,
            linkname,
        )

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


# --- extraction ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractResult:
    files: int
    bytes: int
    skipped: tuple[str, ...]  # device nodes and the like, not created


def extract(tar_stream: IO[bytes], root: Path, *, apply_whiteouts: bool = True) -> ExtractResult:
    """Unpack a layer tar under `root`, never writing outside it.

    Symlinks are created but never followed while writing: a member whose parent path crosses a
    symlink is refused, as is a symlink that points outside the root. Whiteouts delete lower
    content already in `root` (so layers can be extracted in order to build a rootfs). Ownership
    and device nodes are not applied (they need privileges and are not needed to inspect content).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    root_fd_path = os.path.realpath(root)
    written: set[str] = set()
    skipped: list[str] = []
    files = 0
    total = 0
    dir_times: list[tuple[str, int]] = []
    for member, reader in SafeTar(tar_stream, hash_stream=False):
        if member.path == "":
            continue
        try:
            if member.is_whiteout:
                if apply_whiteouts:
                    _apply_whiteout(root_fd_path, member, written)
                continue
            target = _safe_target(root_fd_path, member.path)
            _make_parents(root_fd_path, member.path)
            if member.kind == "dir":
                if os.path.lexists(target) and not _is_real_dir(target):
                    _remove(target)
                if not os.path.lexists(target):
                    os.mkdir(target, 0o700)
                os.chmod(target, (member.mode & 0o777) | 0o700)
                dir_times.append((member.path, member.mtime))
            elif member.kind in ("char", "block", "fifo"):
                skipped.append(member.path)
                continue
            else:
                if os.path.lexists(target):
                    _remove(target)
                written_bytes = _write_member(root_fd_path, member, target, reader)
                total += written_bytes
                files += member.kind != "symlink"
        except OSError as exc:
            raise UnsafeTarError(
                f"cannot extract tar member {member.path!r}: {exc.strerror or exc}"
            ) from None
        _mark_written(written, member.path)
    for relpath, mtime in reversed(dir_times):  # last: writing into a directory changes its mtime
        try:
            target = _safe_target(root_fd_path, relpath, check_last=True)
        except UnsafeTarError:
            continue  # a later member put a symlink on the way: leave it alone
        if _is_real_dir(target):
            os.utime(target, (mtime, mtime), follow_symlinks=False)
    return ExtractResult(files, total, tuple(skipped))


def _write_member(root: str, member: Member, target: str, reader: IO[bytes] | None) -> int:
    """Create a file, symlink or hard link at `target` (already free); returns content bytes written."""
    if member.kind == "file":
        total = 0
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            while reader is not None and (chunk := reader.read(CHUNK)):
                out.write(chunk)
                total += len(chunk)
        os.chmod(target, member.mode & 0o777)
        os.utime(target, (member.mtime, member.mtime), follow_symlinks=False)
        return total
    if member.kind == "symlink":
        if symlink_escapes(member.path, member.linkname):
            raise UnsafeTarError(f"symlink {member.path!r} -> {member.linkname!r} leaves the root")
        os.symlink(member.linkname, target)
        return 0
    source = _safe_target(root, member.linkname, check_last=True)
    if not os.path.lexists(source) or os.path.islink(source) or _is_real_dir(source):
        raise UnsafeTarError(
            f"hard link {member.path!r} -> {member.linkname!r}: no such regular file in the archive"
        )
    os.link(source, target, follow_symlinks=False)
    return 0


def _mark_written(written: set[str], path: str) -> None:
    """Remember a path and its parents as coming from this layer (opaque markers keep them)."""
    while path and path not in written:
        written.add(path)
        path = posixpath.dirname(path)


def _is_real_dir(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False


def _safe_target(root: str, relpath: str, *, check_last: bool = False) -> str:
    """root/relpath, refusing any existing parent component that is a symlink."""
    current = root
    parts = relpath.split("/")
    for part in parts if check_last else parts[:-1]:
        current = os.path.join(current, part)
        try:
            st = os.lstat(current)
        except (FileNotFoundError, NotADirectoryError):
            continue  # created later by _make_parents, as a real directory
        if stat.S_ISLNK(st.st_mode):
            raise UnsafeTarError(
                f"tar member {relpath!r} would be written through the symlink "
                f"{os.path.relpath(current, root)!r}"
            )
        if not stat.S_ISDIR(st.st_mode):
            continue  # a file in the way: replaced by a directory in _make_parents
    return os.path.join(root, *parts)


def _make_parents(root: str, relpath: str) -> None:
    current = root
    for part in relpath.split("/")[:-1]:
        current = os.path.join(current, part)
        if os.path.lexists(current) and not _is_real_dir(current):
            _remove(current)
        if not os.path.lexists(current):
            os.mkdir(current, 0o755)


def _remove(path: str) -> None:
    if _is_real_dir(path):
        for entry in os.scandir(path):
            _remove(entry.path)
        os.rmdir(path)
    else:
        os.unlink(path)


def _apply_whiteout(root: str, member: Member, written: set[str]) -> None:
    directory = _safe_target(root, member.parent, check_last=True) if member.parent else root
    if not _is_real_dir(directory):
        return
    if member.is_opaque:
        prefix = f"{member.parent}/" if member.parent else ""
        for entry in os.scandir(directory):
            if f"{prefix}{entry.name}" not in written:
                _remove(entry.path)
        return
    if member.whiteout_target in written:
        return  # a whiteout never hides what its own layer wrote
    target = os.path.join(directory, member.whiteout_target.rsplit("/", 1)[-1])
    if os.path.lexists(target):
        _remove(target)
