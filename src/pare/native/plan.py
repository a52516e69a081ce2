"""The build plan: which base, which layers (as sets of files), which runtime config.

A recipe turns an app directory into a plan; the native assembler (pare.native.assemble) turns a plan
into an Image. The plan is plain data, so it can be printed, compared and tested without writing
a single tar. Paths in the plan are image paths without a leading slash.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from pare.native.elf import resolve_path
from pare.oci.descriptor import Platform
from pare.oci.tarwriter import TarBuilder, normalize_name

Kind = Literal["file", "dir", "symlink"]

NONROOT_UID = 65532  # distroless's nonroot user, so images behave alike whichever path built them


@dataclass(frozen=True)
class FileEntry:
    """One entry of a layer: a file from disk or literal bytes, a directory, or a symlink."""

    path: str
    kind: Kind
    mode: int = 0o644
    source: Path | None = None
    data: bytes | None = None
    target: str = ""
    uid: int = 0
    gid: int = 0
    owner: str = ""  # the Debian package it comes from, if any: shipped exactly as packaged

    @property
    def size(self) -> int:
        if self.kind != "file":
            return 0
        if self.data is not None:
            return len(self.data)
        assert self.source is not None
        return os.stat(self.source).st_size


@dataclass(frozen=True)
class LayerPlan:
    """A layer's files; `name` says what it holds (runtime, deps, app) and ends up in its history."""

    name: str
    entries: tuple[FileEntry, ...]

    @property
    def content_bytes(self) -> int:
        return sum(e.size for e in self.entries)

    def to_builder(self, epoch: int | None = None) -> TarBuilder:
        """A TarBuilder holding exactly these entries (owners kept as planned, mtimes = epoch)."""
        builder = TarBuilder(epoch=epoch, uid=None, gid=None)
        for entry in self.entries:
            if entry.kind == "dir":
                builder.add_dir(entry.path, entry.mode, entry.uid, entry.gid)
            elif entry.kind == "symlink":
                builder.add_symlink(entry.path, entry.target, entry.uid, entry.gid)
            elif entry.data is not None:
                builder.add_bytes(entry.path, entry.data, entry.mode, entry.uid, entry.gid)
            else:
                assert entry.source is not None
                # the plan decides owners itself; the file's owner on disk never leaks in
                builder.add_file(entry.path, entry.source, entry.mode, entry.uid, entry.gid)
        return builder


@dataclass(frozen=True)
class RuntimeConfig:
    """The parts of the OCI config a recipe decides."""

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    user: str = f"{NONROOT_UID}:{NONROOT_UID}"
    workdir: str = "/"
    exposed_ports: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BuildPlan:
    """Everything the native assembler needs; base None means an empty (scratch) base."""

    app: str
    recipe: str
    layers: tuple[LayerPlan, ...]
    runtime: RuntimeConfig
    base: str | None = None
    notes: tuple[str, ...] = field(default=())
    platform: Platform = field(default=Platform("linux", "amd64"))  # the target, when no ELF file says


def _mode(st: os.stat_result) -> int:
    """Executables and directories 0755, other files 0644: host umask and owners never leak in."""
    if stat.S_ISDIR(st.st_mode) or st.st_mode & 0o111:
        return 0o755
    return 0o644


class FileSet:
    """A mutable collector recipes use to build one layer's entries; `freeze()` gives the LayerPlan."""

    def __init__(self, name: str, root: Path = Path("/")) -> None:
        self.name = name
        self.root = Path(root)
        self._entries: dict[str, FileEntry] = {}

    def __contains__(self, path: str) -> bool:
        return normalize_name(path) in self._entries

    def _put(self, entry: FileEntry) -> None:
        name = normalize_name(entry.path)
        if not name:
            return
        existing = self._entries.get(name)
        if existing is not None and existing.kind == "symlink" and entry.kind == "dir":
            return  # /lib as a symlink to usr/lib must stay a symlink
        self._entries[name] = FileEntry(name, entry.kind, entry.mode, entry.source, entry.data,
                                        entry.target, entry.uid, entry.gid, entry.owner)

    def add_bytes(self, path: str, data: bytes, mode: int = 0o644, uid: int = 0, gid: int = 0) -> None:
        self._put(FileEntry(path, "file", mode, data=data, uid=uid, gid=gid))

    def add_dir(self, path: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> None:
        self._put(FileEntry(path, "dir", mode, uid=uid, gid=gid))

    def add_symlink(self, path: str, target: str) -> None:
        self._put(FileEntry(path, "symlink", 0o777, target=target))

    def add_file(self, path: str, source: Path, mode: int | None = None) -> None:
        st = os.stat(source)
        self._put(FileEntry(path, "file", _mode(st) if mode is None else mode, source=Path(source)))

    def add_host_path(self, path: str) -> str:
        """Copy `path` from the sysroot so it resolves the same way in the image: every symlink met
        on the way, then the real file (or, for a directory, nothing more). Returns the real path."""
        links, real = resolve_path(path, self.root)
        for link, target in links:
            self.add_symlink(link, target)
        host = self.root / real.lstrip("/")
        if host.is_file():
            self.add_file(real, host)
        return real

    def add_tree(self, image_dir: str, host_dir: Path, *, exclude: Iterable[str] = (),
                 keep_symlinks: bool = True) -> None:
        """A directory tree; `exclude` holds globs matched against each entry's name and its path
        relative to host_dir (a matching directory is skipped whole). Symlinks stay symlinks;
        devices and sockets are skipped."""
        patterns = tuple(exclude)

        def excluded(name: str, rel: str) -> bool:
            return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(rel, p) for p in patterns)

        base = normalize_name(image_dir)
        host_dir = Path(host_dir)

        def regular(current: str, rel_dir: str, name: str) -> tuple[str, Path] | None:
            """(rel, host path) of an entry to add as itself; None when excluded or a symlink
            (kept as a symlink when keep_symlinks says so)."""
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if excluded(name, rel):
                return None
            full = Path(current) / name
            if full.is_symlink():
                if keep_symlinks:
                    self.add_symlink(f"{base}/{rel}", os.readlink(full))
                return None
            return rel, full

        for current, dirs, files in os.walk(host_dir):
            rel_dir = os.path.relpath(current, host_dir).replace(os.sep, "/")
            rel_dir = "" if rel_dir == "." else rel_dir
            keep_dirs = []
            for name in sorted(dirs):
                if (entry := regular(current, rel_dir, name)) is not None:
                    keep_dirs.append(name)
                    self.add_dir(f"{base}/{entry[0]}")
            dirs[:] = keep_dirs
            for name in sorted(files):
                if (entry := regular(current, rel_dir, name)) is not None and entry[1].is_file():
                    self.add_file(f"{base}/{entry[0]}", entry[1])
        if base:
            self.add_dir(base)

    def paths(self) -> list[str]:
        return sorted(self._entries)

    def set_owners(self, owners: Mapping[str, str]) -> None:
        """Mark entries (by absolute image path) as files of a Debian package."""
        for name, entry in self._entries.items():
            owner = owners.get("/" + name)
            if owner:
                self._entries[name] = replace(entry, owner=owner)

    def sources(self) -> list[tuple[str, Path]]:
        """(absolute image path, file on disk) of every entry copied from a file."""
        return [("/" + name, e.source) for name, e in sorted(self._entries.items()) if e.source is not None]

    def freeze(self) -> LayerPlan:
        return LayerPlan(self.name, tuple(self._entries[k] for k in sorted(self._entries)))


def passwd_files(fs: FileSet, uid: int = NONROOT_UID) -> None:
    """/etc/passwd and /etc/group with root and nonroot, as distroless ships them."""
    fs.add_bytes("etc/passwd", (f"root:x:0:0:root:/root:/sbin/nologin\n"
                                f"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
                                f"nonroot:x:{uid}:{uid}:nonroot:/home/nonroot:/sbin/nologin\n").encode())
    fs.add_bytes("etc/group", (f"root:x:0:\nnobody:x:65534:\nnonroot:x:{uid}:\n").encode())
    fs.add_dir("home/nonroot", 0o700, uid, uid)
    fs.add_dir("tmp", 0o1777)


CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def ca_certificates(fs: FileSet, bundle: Path = CA_BUNDLE) -> None:
    """The CA bundle at the path Go, OpenSSL and Node look for it."""
    if bundle.is_file():
        fs.add_file("etc/ssl/certs/ca-certificates.crt", bundle, 0o644)
