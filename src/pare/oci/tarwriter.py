"""Deterministic tar writing: the same files always give the same bytes, hence the same diff_id.

Entries are written in one canonical order (depth first, names sorted bytewise inside each directory,
as GNU `tar --sort=name` does), so a directory always precedes its contents. Every mtime is the
build epoch (SOURCE_DATE_EPOCH, default 0), owners are numeric (uid/gid fixed or kept, user and
group names blank unless asked), the format is PAX, hard links stay hard links, and device files,
FIFOs and sockets are skipped: none of them belongs in an image layer.

`TarBuilder` collects entries (from disk, from bytes, symlinks, directories) and writes them sorted;
`write_tree` is the one-call form for a directory. `normalize_tar` rewrites an existing tar stream
(mmdebstrap's rootfs) with the same metadata rules, keeping its order. `layer_from_builder` pipes a
writer into `pare.oci.layer.layer_from_tar` so no tar is ever held in memory or on disk whole.
"""

from __future__ import annotations

import fnmatch
import io
import os
import stat
import tarfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from pare.errors import UnsafeTarError
from pare.oci import mediatypes as mt
from pare.oci.digest import CHUNK
from pare.oci.layer import FileLayer, layer_from_tar
from pare.oci.tarsafe import SafeTar

Kind = Literal["dir", "file", "symlink", "hardlink"]

_TAR_TYPES: dict[str, bytes] = {"dir": tarfile.DIRTYPE, "file": tarfile.REGTYPE, "symlink": tarfile.SYMTYPE,
                                "hardlink": tarfile.LNKTYPE}

# Extended attributes worth keeping from a rootfs tar: file capabilities (ping, newuidmap...).
KEEP_PAX_PREFIXES = ("SCHILY.xattr.security.capability",)


def source_date_epoch(default: int = 0) -> int:
    """The build epoch: $SOURCE_DATE_EPOCH when set to an integer, else `default`."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        return default


def normalize_name(name: str) -> str:
    """'./usr/bin/' -> 'usr/bin'; '' for the archive root."""
    while name.startswith("./"):
        name = name[2:]
    name = name.strip("/")
    return "" if name == "." else name


def sort_key(name: str) -> tuple[bytes, ...]:
    """Depth-first order with bytewise-sorted names: a directory comes right before its contents."""
    return tuple(part.encode("utf-8", "surrogateescape") for part in name.split("/"))


def normalized_mode(mode: int, is_dir: bool) -> int:
    """App-file modes: directories and executables 0755, everything else 0644."""
    if is_dir or mode & 0o111:
        return 0o755
    return 0o644


def _matches(name: str, patterns: Iterable[str]) -> bool:
    """True when `name` or one of its parent directories matches a glob pattern."""
    parts = name.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatchcase(c, p) for p in patterns for c in candidates)


class _Sink:
    """Write-only stream that knows its position, so tarfile's plain "w" mode can write to a pipe.

    ("w|" would work too, but its stream buffer re-copies itself on every write: 3x slower.)
    """

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.pos = 0

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self.pos

    def flush(self) -> None:
        self.out.flush()


def open_writer(out: IO[bytes]) -> tarfile.TarFile:
    """A PAX tar writer on any writable stream (pipes included); closing it leaves `out` open."""
    tar = tarfile.TarFile(fileobj=_Sink(out), mode="w", format=tarfile.PAX_FORMAT)  # type: ignore[arg-type]
    tar.copybufsize = CHUNK  # type: ignore[attr-defined]  # missing from typeshed
    return tar


@dataclass
class Entry:
    """One archive member before it is written; `source` is a path on disk or the bytes themselves."""

    name: str
    kind: Kind
    mode: int
    uid: int = 0
    gid: int = 0
    source: Path | bytes | None = None
    size: int = 0
    linkname: str = ""
    inode: tuple[int, int] | None = None  # (st_dev, st_ino) of a multiply linked file on disk
    pax: dict[str, str] = field(default_factory=dict)


class TarBuilder:
    """Collect entries, then write them in canonical order with normalised metadata.

    uid/gid: a number forces every entry's owner to it; None keeps each entry's own (from disk or
    as given). Missing parent directories are added (0755, or the scanned directory's mode).
    """

    def __init__(self, *, epoch: int | None = None, uid: int | None = 0, gid: int | None = 0,
                 uname: str = "", gname: str = "", normalize_modes: bool = False,
                 parents: bool = True) -> None:
        self.epoch = source_date_epoch() if epoch is None else epoch
        self.uid = uid
        self.gid = gid
        self.uname = uname
        self.gname = gname
        self.normalize_modes = normalize_modes
        self.parents = parents
        self._entries: dict[str, Entry] = {}
        self._dir_meta: dict[str, Entry] = {}  # scanned but not included dirs, used for parents

    # --- adding -------------------------------------------------------------------------------
    def _put(self, entry: Entry) -> None:
        entry.name = normalize_name(entry.name)
        if not entry.name:
            return
        self._entries[entry.name] = entry

    def add_dir(self, name: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> None:
        self._put(Entry(name, "dir", mode, uid, gid))

    def add_bytes(self, name: str, data: bytes, mode: int = 0o644, uid: int = 0, gid: int = 0) -> None:
        self._put(Entry(name, "file", mode, uid, gid, source=bytes(data), size=len(data)))

    def add_symlink(self, name: str, target: str, uid: int = 0, gid: int = 0) -> None:
        self._put(Entry(name, "symlink", 0o777, uid, gid, linkname=target))

    def add_file(self, name: str, path: Path, mode: int | None = None, uid: int | None = None,
                 gid: int | None = None) -> None:
        """A file, symlink or (empty) directory from disk under archive path `name`.

        mode/uid/gid: None keeps the value from disk, a number replaces it.
        """
        st = os.lstat(path)
        entry = self._entry_from_stat(name, Path(path), st)
        if entry is None:
            return
        if mode is not None:
            entry.mode = mode
        if uid is not None:
            entry.uid = uid
        if gid is not None:
            entry.gid = gid
        entry.inode = None  # a single file added by hand is never a hard link
        self._put(entry)

    def add_tree(self, root: Path, prefix: str = "", *, include: Iterable[str] | None = None,
                 exclude: Iterable[str] | None = None) -> None:
        """Everything under `root` (not following symlinks) at `prefix` in the archive.

        include/exclude are globs on paths relative to root; a pattern matching a directory covers
        everything below it. Exclusion wins.
        """
        root = Path(root)
        prefix = normalize_name(prefix)
        inc = list(include) if include is not None else None
        exc = list(exclude or ())
        if prefix:
            st = os.lstat(root)
            top = self._entry_from_stat(prefix, root, st)
            if top is not None:
                if inc is None:
                    self._put(top)
                else:
                    self._dir_meta[prefix] = top
        stack = [root]
        while stack:
            directory = stack.pop()
            with os.scandir(directory) as it:
                children = sorted(it, key=lambda d: d.name)
            for child in children:
                rel = os.path.relpath(child.path, root).replace(os.sep, "/")
                if exc and _matches(rel, exc):
                    continue
                st = child.stat(follow_symlinks=False)
                arc = f"{prefix}/{rel}" if prefix else rel
                entry = self._entry_from_stat(arc, Path(child.path), st)
                if entry is None:
                    continue
                wanted = inc is None or _matches(rel, inc)
                if entry.kind == "dir":
                    stack.append(Path(child.path))
                    if wanted:
                        self._put(entry)
                    else:
                        self._dir_meta[arc] = entry
                elif wanted:
                    self._put(entry)

    @staticmethod
    def _entry_from_stat(name: str, path: Path, st: os.stat_result) -> Entry | None:
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISDIR(st.st_mode):
            return Entry(name, "dir", mode, st.st_uid, st.st_gid)
        if stat.S_ISLNK(st.st_mode):
            return Entry(name, "symlink", 0o777, st.st_uid, st.st_gid, linkname=os.readlink(path))
        if stat.S_ISREG(st.st_mode):
            inode = (st.st_dev, st.st_ino) if st.st_nlink > 1 else None
            return Entry(name, "file", mode, st.st_uid, st.st_gid, source=path, size=st.st_size,
                         inode=inode)
        return None  # devices, FIFOs, sockets: never part of a layer

    # --- writing ------------------------------------------------------------------------------
    def entries(self) -> list[Entry]:
        """The entries in write order, with parents filled in and hard links resolved."""
        entries = dict(self._entries)
        if self.parents:
            for name in list(entries):
                parts = name.split("/")
                for i in range(1, len(parts)):
                    parent = "/".join(parts[:i])
                    if parent not in entries:
                        meta = self._dir_meta.get(parent)
                        entries[parent] = meta if meta is not None else Entry(parent, "dir", 0o755)
        ordered = sorted(entries.values(), key=lambda e: sort_key(e.name))
        first_by_inode: dict[tuple[int, int], str] = {}
        result = []
        for entry in ordered:
            if entry.kind == "file" and entry.inode is not None:
                first = first_by_inode.get(entry.inode)
                if first is None:
                    first_by_inode[entry.inode] = entry.name
                else:
                    entry = Entry(entry.name, "hardlink", entry.mode, entry.uid, entry.gid, linkname=first)
            result.append(entry)
        return result

    def write(self, out: IO[bytes]) -> int:
        """Write the archive to `out` (left open); returns the number of entries."""
        count = 0
        with open_writer(out) as tar:
            for entry in self.entries():
                info = self._tarinfo(entry)
                if entry.kind == "file":
                    if isinstance(entry.source, bytes):
                        tar.addfile(info, io.BytesIO(entry.source))
                    else:
                        assert entry.source is not None
                        with open(entry.source, "rb") as fh:
                            tar.addfile(info, fh)
                else:
                    tar.addfile(info)
                count += 1
        return count

    def _tarinfo(self, entry: Entry) -> tarfile.TarInfo:
        info = tarfile.TarInfo(entry.name + ("/" if entry.kind == "dir" else ""))
        info.type = _TAR_TYPES[entry.kind]
        mode = entry.mode
        if self.normalize_modes and entry.kind in ("dir", "file", "hardlink"):
            mode = normalized_mode(mode, entry.kind == "dir")
        info.mode = mode
        info.uid = entry.uid if self.uid is None else self.uid
        info.gid = entry.gid if self.gid is None else self.gid
        info.uname = self.uname
        info.gname = self.gname
        info.mtime = self.epoch
        info.size = entry.size if entry.kind == "file" else 0
        info.linkname = entry.linkname
        info.pax_headers = dict(sorted(entry.pax.items()))
        return info


def write_tree(root: Path, out: IO[bytes], *, prefix: str = "", include: Iterable[str] | None = None,
               exclude: Iterable[str] | None = None, epoch: int | None = None, uid: int | None = 0,
               gid: int | None = 0, normalize_modes: bool = False) -> int:
    """Write the directory `root` as a deterministic tar to `out`; returns the entry count."""
    builder = TarBuilder(epoch=epoch, uid=uid, gid=gid, normalize_modes=normalize_modes)
    builder.add_tree(root, prefix, include=include, exclude=exclude)
    return builder.write(out)


def normalize_tar(src: IO[bytes], out: IO[bytes], *, epoch: int | None = None, uid: int | None = None,
                  gid: int | None = None, exclude: Iterable[str] | None = None) -> int:
    """Rewrite a tar stream with pare's metadata rules, keeping its (already deterministic) order.

    Names lose './', mtimes become the epoch, user/group names are dropped, only capability xattrs
    survive, devices/FIFOs are skipped. Streams both sides; returns the number of entries written.
    The source is read by SafeTar: a cut, corrupt or unterminated stream (mmdebstrap killed half
    way) is an UnsafeTarError, never a shorter tar, and so is a hard link to an entry not written.
    """
    when = source_date_epoch() if epoch is None else epoch
    exc = list(exclude or ())
    count = 0
    written: set[str] = set()
    with open_writer(out) as writer:
        for member, reader in SafeTar(src, hash_stream=False):
            if not member.path or (exc and _matches(member.path, exc)) or member.kind not in _TAR_TYPES:
                continue
            if member.kind == "hardlink" and member.linkname not in written:
                raise UnsafeTarError(f"hard link {member.path!r} -> {member.linkname!r}: no such file "
                                     "written before it (excluded, skipped or absent)")
            info = tarfile.TarInfo(member.path + ("/" if member.kind == "dir" else ""))
            info.type = _TAR_TYPES[member.kind]
            info.mode = member.mode
            info.uid = member.uid if uid is None else uid
            info.gid = member.gid if gid is None else gid
            info.mtime = when
            info.linkname = member.linkname
            info.pax_headers = {k: v for k, v in member.xattrs if k.startswith(KEEP_PAX_PREFIXES)}
            if member.kind == "file":
                info.size = member.size
            writer.addfile(info, reader)
            if member.kind == "file":
                written.add(member.path)
            else:
                written.discard(member.path)
            count += 1
    return count


def layer_from_writer(write: Callable[[IO[bytes]], object], compression: mt.Compression = "gzip", *,
                      workdir: Path | None = None, docker: bool = False, level: int | None = None,
                      annotations: dict[str, str] | None = None) -> FileLayer:
    """Run `write(stream)` in a thread, piping its tar straight into a compressed layer blob.

    level: the compressor's level (None: pare.oci.compression's default for `compression`).
    """
    read_fd, write_fd = os.pipe()
    error: list[BaseException] = []

    def produce() -> None:
        try:
            with os.fdopen(write_fd, "wb", buffering=CHUNK) as sink:
                write(sink)
        except BaseException as exc:  # reported in the caller's thread
            error.append(exc)

    thread = threading.Thread(target=produce, name="tar-writer", daemon=True)
    thread.start()
    try:
        with os.fdopen(read_fd, "rb", buffering=CHUNK) as source:
            layer = layer_from_tar(source, compression, workdir=workdir, docker=docker, level=level,
                                   annotations=annotations)
    finally:
        thread.join()
    if error:
        raise error[0]
    return layer


def layer_from_builder(builder: TarBuilder, compression: mt.Compression = "gzip", *,
                       workdir: Path | None = None, docker: bool = False, level: int | None = None,
                       annotations: dict[str, str] | None = None) -> FileLayer:
    """A compressed layer from a TarBuilder, streamed."""
    return layer_from_writer(builder.write, compression, workdir=workdir, docker=docker, level=level,
                             annotations=annotations)


def tree_layer(root: Path, compression: mt.Compression = "gzip", *, workdir: Path | None = None,
               prefix: str = "", include: Iterable[str] | None = None, exclude: Iterable[str] | None = None,
               epoch: int | None = None, uid: int | None = 0, gid: int | None = 0,
               normalize_modes: bool = False, level: int | None = None) -> FileLayer:
    """A compressed, deterministic layer from a directory."""
    builder = TarBuilder(epoch=epoch, uid=uid, gid=gid, normalize_modes=normalize_modes)
    builder.add_tree(root, prefix, include=include, exclude=exclude)
    return layer_from_builder(builder, compression, workdir=workdir, level=level)
