"""Distroless rootfs layers assembled from .deb files: no shell, no apt, no dpkg, no maintainer scripts.

Like Google's distroless: a private apt (its own lists and state under the cache dir, never the
host's) fetches the package index and the .deb files; pare resolves Depends itself so a profile can
cut branches it does not want (debconf, perl-base...), unpacks each package's data tar into a
merged-/usr tree, records every package in /var/lib/dpkg/status.d/<pkg> (control + md5sums) so image
scanners still see them, builds the CA bundle the ca-certificates postinst would have made, writes
/etc/passwd and /etc/group (root, nobody, nonroot 65532), /tmp 1777, and writes one deterministic
layer from the tree.
"""

from __future__ import annotations

import bz2
import contextlib
import fnmatch
import lzma
import os
import re
import shutil
import stat
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, cast

from debian.arfile import ArError
from debian.debfile import DebError, DebFile

from pare.bases.apt import DEFAULT_EXCLUDED_PACKAGES, AptSource, PrivateApt, fetch_debs, resolve
from pare.bases.mmdebstrap import BaseBuildError, RootfsLayer
from pare.bases.profiles import Profile
from pare.errors import UnsafeTarError
from pare.oci import mediatypes as mt
from pare.oci.compression import open_decompressed
from pare.oci.tarsafe import Member, SafeTar
from pare.oci.tarwriter import tree_layer

PACKAGE_NAME = re.compile(r"[a-z0-9][a-z0-9+.-]+")  # Debian policy 5.6.1
MERGED_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")

PASSWD = ("root:x:0:0:root:/root:/sbin/nologin\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
          "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")
GROUP = "root:x:0:\ntty:x:5:\nstaff:x:50:\nnobody:x:65534:\nnonroot:x:65532:\n"
NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\n" \
           "protocols: files\nservices: files\n"


# --- unpacking ---------------------------------------------------------------------------------
def _merged(name: str) -> str:
    """Debian's merged /usr: bin/x -> usr/bin/x."""
    head, sep, tail = name.partition("/")
    return f"usr/{head}{sep}{tail}" if head in MERGED_DIRS else name


def _excluded(path: str, excludes: tuple[str, ...], keeps: tuple[str, ...]) -> bool:
    absolute = "/" + path
    if any(fnmatch.fnmatchcase(absolute, k) for k in keeps):
        return False
    return any(fnmatch.fnmatchcase(absolute, e) for e in excludes)


def resolve_in_root(root: Path, name: str) -> Path:
    """Where `name` lands inside `root`, following symlinks as a chroot would (absolute ones from
    root, `..` never above it), so no package can write outside the tree."""
    parts = list(PurePosixPath(name).parts)
    current = root
    hops = 0
    while parts:
        part = parts.pop(0)
        if part in ("/", ".", ""):
            continue
        if part == "..":
            current = current if current == root else current.parent
            continue
        candidate = current / part
        if candidate.is_symlink():
            hops += 1
            if hops > 40:
                raise UnsafeTarError(f"too many symlinks resolving {name!r}")
            link = PurePosixPath(os.readlink(candidate))
            if link.is_absolute():
                current = root
            parts = [*link.parts, *parts]
            continue
        current = candidate
    return current


def _safe(root: Path, name: str) -> Path:
    """The path to write `name` at: its parent resolved inside root, its last part never followed."""
    path = PurePosixPath(name)
    if not path.parts or ".." in path.parts or path.is_absolute():
        raise UnsafeTarError(f"unsafe path {name!r} in a .deb")
    return resolve_in_root(root, str(path.parent)) / path.name


_DATA_DECOMPRESSORS: dict[str, Callable[[IO[bytes]], IO[bytes]]] = {
    "data.tar": lambda member: member,
    "data.tar.xz": lambda member: cast(IO[bytes], lzma.LZMAFile(member)),  # noqa: SIM115  # open_data_tar closes it
    "data.tar.gz": lambda member: open_decompressed(member, "gzip"),
    "data.tar.zst": lambda member: open_decompressed(member, "zstd"),
    "data.tar.bz2": lambda member: cast(IO[bytes], bz2.BZ2File(member)),
}


@contextlib.contextmanager
def open_data_tar(deb: Path) -> Iterator[IO[bytes]]:
    """The decompressed data.tar of a .deb, as a stream (never read whole into memory)."""
    try:
        archive = DebFile(str(deb))
        names = [name for name in archive.getnames() if name in _DATA_DECOMPRESSORS]
        member = archive.getmember(names[0])
    except (DebError, ArError, OSError, ValueError, IndexError, KeyError) as exc:
        raise BaseBuildError(f"{deb.name}: not a valid .deb: {exc}") from None
    stream = _DATA_DECOMPRESSORS[names[0]](cast(IO[bytes], member))
    try:
        yield stream
    finally:
        stream.close()
        member.close()


def unpack_deb(deb: Path, root: Path, excludes: tuple[str, ...], keeps: tuple[str, ...]) -> list[str]:
    """Extract a .deb's files into `root` (merged /usr, filters applied); returns the paths written.

    The data tar is read by SafeTar, so a cut or corrupt one fails the build instead of installing
    part of a package. Paths resolve inside `root` as a chroot would; a hard link may only name a
    regular file this package wrote, and is never made through a symlink."""
    written: list[str] = []
    own_files: set[str] = set()  # the only valid hard-link sources
    as_root = os.geteuid() == 0
    with open_data_tar(deb) as stream:
        for member, reader in SafeTar(stream, hash_stream=False):
            if member.kind == "symlink" and member.path in MERGED_DIRS:
                continue  # trixie's base-files ships /bin -> usr/bin itself: the root already has it
            name = _merged(member.path)
            if not name or _excluded(name, excludes, keeps):
                continue
            try:
                if _place(root, name, member, reader, own_files, as_root):
                    written.append("/" + name)
            except OSError as exc:
                raise BaseBuildError(f"{deb.name}: cannot unpack /{name}: {exc.strerror or exc}") from None
    return written


def _place(root: Path, name: str, member: Member, reader: IO[bytes] | None, own_files: set[str],
           as_root: bool) -> bool:
    """Write one member at `name` inside root; False when nothing was written (a directory, a device)."""
    target = _safe(root, name)
    own_files.discard(name)
    if member.kind == "dir":
        if not target.is_symlink():  # else e.g. usr/lib64 stays the symlink it already is
            target.mkdir(parents=True, exist_ok=True)
            if as_root:
                os.chown(target, member.uid, member.gid, follow_symlinks=False)
            os.chmod(target, member.mode, follow_symlinks=False)
        return False
    if member.kind not in ("file", "symlink", "hardlink"):
        return False  # device nodes and fifos: not in a distroless tree
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()  # a directory in the way raises IsADirectoryError, as dpkg refuses it too
    if member.kind == "symlink":
        os.symlink(member.linkname, target)
        if as_root:
            os.chown(target, member.uid, member.gid, follow_symlinks=False)
    elif member.kind == "hardlink":
        source_name = _merged(member.linkname)
        source = _safe(root, source_name)
        if source_name not in own_files or not stat.S_ISREG(os.lstat(source).st_mode):
            raise UnsafeTarError(f"hard link /{name} -> /{source_name}: not a regular file of this package")
        os.link(source, target, follow_symlinks=False)
    else:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as out:
            if reader is not None:
                shutil.copyfileobj(reader, out, 1 << 20)
            if as_root:  # owner first: Linux clears setuid and setgid on chown, even for root
                os.fchown(fd, member.uid, member.gid)
            os.fchmod(fd, member.mode)
        own_files.add(name)
    return True


@dataclass(frozen=True)
class PackageMeta:
    """What a package's status.d entry is made of: its control paragraph and its files' md5sums
    (paths as installed, merged /usr, without the leading slash)."""

    name: str
    control: str
    md5sums: tuple[tuple[str, str], ...]  # (path, md5), sorted by path


def read_package_meta(deb: Path) -> PackageMeta:
    """The package's name, control paragraph and md5sums; BaseBuildError for a broken .deb or a
    name that could not be a Debian package's (it becomes a status.d file name)."""
    try:
        debfile = DebFile(str(deb))
        control = (debfile.control.get_content("control", encoding="utf-8") or "").rstrip("\n")
        md5sums = debfile.md5sums(encoding="utf-8") or {}
    except (DebError, ArError, OSError, ValueError, EOFError, tarfile.TarError) as exc:
        raise BaseBuildError(f"{deb.name}: not a readable .deb ({exc})") from None
    name = re.search(r"^Package:\s*(\S+)", control, re.M)
    if not name:
        raise BaseBuildError(f"{deb.name}: no Package field in its control file")
    if not PACKAGE_NAME.fullmatch(name.group(1)):
        raise BaseBuildError(f"{deb.name}: {name.group(1)!r} is not a Debian package name")
    merged = sorted((_merged(str(path).lstrip("/")), str(digest)) for path, digest in md5sums.items())
    return PackageMeta(name.group(1), control, tuple(merged))


def status_d_files(meta: PackageMeta, kept: set[str]) -> dict[str, bytes]:
    """status.d/<pkg> (the control paragraph, marked installed) and <pkg>.md5sums listing only the
    files in `kept` (absolute image paths), as distroless writes them: scanners read both."""
    lines = meta.control.splitlines()
    lines.insert(1, "Status: install ok installed")
    body = "".join(f"{digest}  {path}\n" for path, digest in meta.md5sums if "/" + path in kept)
    base = f"var/lib/dpkg/status.d/{meta.name}"
    files = {base: ("\n".join(lines) + "\n").encode()}
    if meta.md5sums:
        files[f"{base}.md5sums"] = body.encode()
    return files


def record_package(deb: Path, root: Path, files: list[str]) -> None:
    """Write the package's status.d entry into `root`, listing the `files` unpacked there."""
    for rel, data in status_d_files(read_package_meta(deb), set(files)).items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def new_merged_root(root: Path) -> None:
    """An empty tree with Debian's merged /usr: bin, sbin and lib are symlinks into usr/."""
    root.mkdir(mode=0o755, parents=True, exist_ok=True)
    for sub in ("usr/bin", "usr/sbin", "usr/lib"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for link, target in (("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib")):
        (root / link).symlink_to(target)


def ca_bundle(root: Path) -> bytes | None:
    """The bundle update-ca-certificates would write, from Debian's certificates under `root`
    (never the host's), or None when ca-certificates is not there."""
    certs = sorted((root / "usr/share/ca-certificates").rglob("*.crt"))
    if not certs:
        return None
    parts = []
    for cert in certs:
        text = cert.read_text()
        parts.append(text if text.endswith("\n") else text + "\n")
    return "".join(parts).encode()


def finish_tree(root: Path, profile: Profile) -> None:
    """What the maintainer scripts and a user database would have provided."""
    links = (("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib"), ("lib64", "usr/lib64"))
    for link, target in links:
        if (root / target).is_dir() and not (root / link).exists():
            (root / link).symlink_to(target)
    etc = root / "etc"
    etc.mkdir(exist_ok=True)
    if profile.users:
        (etc / "passwd").write_text(PASSWD)
        (etc / "group").write_text(GROUP)
        if not (etc / "nsswitch.conf").exists():
            (etc / "nsswitch.conf").write_text(NSSWITCH)
        home = root / "home" / "nonroot"
        home.mkdir(parents=True, exist_ok=True)
        home.chmod(0o700)
        if os.geteuid() == 0:
            os.chown(home, 65532, 65532)
        (root / "root").mkdir(exist_ok=True)
        (root / "root").chmod(0o700)
    tmp = root / "tmp"
    tmp.mkdir(exist_ok=True)
    tmp.chmod(0o1777)
    bundle = ca_bundle(root)
    if bundle is not None:
        path = etc / "ssl" / "certs" / "ca-certificates.crt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bundle)


def build_distroless(profile: Profile, *, workdir: Path, deb_cache: Path, apt_root: Path, epoch: int = 0,
                     compression: mt.Compression = "gzip", log: IO[str] | None = None,
                     refresh: bool = False) -> RootfsLayer:
    """Resolve, fetch and unpack the profile's packages and write the tree as one layer."""
    if profile.builder != "debs":
        raise BaseBuildError(f"profile {profile.name} is not a debs profile")
    started = time.monotonic()
    apt = PrivateApt(apt_root, AptSource(profile.suite, profile.architecture, profile.suite_mirrors))
    index = apt.index(refresh=refresh)
    excluded = (*DEFAULT_EXCLUDED_PACKAGES, *profile.exclude_packages)
    packages = resolve(index, profile.packages, excluded, follow=profile.resolve)
    debs = fetch_debs(packages, deb_cache)
    if log is not None:
        log.write("packages: " + " ".join(f"{p.name}={p.version}" for p in packages) + "\n")
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="distroless-", dir=workdir) as tmp:
        root = Path(tmp) / "rootfs"
        new_merged_root(root)
        for deb in debs:
            files = unpack_deb(deb, root, profile.path_excludes, profile.path_keeps)
            record_package(deb, root, files)
        finish_tree(root, profile)
        layer = tree_layer(root, compression, workdir=workdir, epoch=epoch, uid=None, gid=None)
    listing = tuple(f"{p.name} {p.version}" for p in packages)
    return RootfsLayer(layer, listing, time.monotonic() - started)
