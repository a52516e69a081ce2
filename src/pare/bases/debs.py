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

import contextlib
import fcntl
import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from debian.debfile import DebFile
from debian.debian_support import Version

from pare.bases.mmdebstrap import BaseBuildError, RootfsLayer, collect_debs
from pare.bases.profiles import Profile
from pare.errors import ToolMissing, UnsafeTarError
from pare.oci import mediatypes as mt
from pare.oci.tarwriter import tree_layer

KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
LISTS_MAX_AGE = 24 * 3600  # refresh the private package index once a day
MERGED_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
DEFAULT_EXCLUDED_PACKAGES = ("debconf", "debconf-2.0", "cdebconf", "perl-base", "dpkg", "install-info",
                             "bash", "dash", "coreutils", "apt", "sensible-utils", "readline-common",
                             "libc-bin", "awk", "mawk", "gawk", "original-awk")

PASSWD = ("root:x:0:0:root:/root:/sbin/nologin\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
          "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")
GROUP = "root:x:0:\ntty:x:5:\nstaff:x:50:\nnobody:x:65534:\nnonroot:x:65532:\n"
NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\n" \
           "protocols: files\nservices: files\n"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    depends: tuple[tuple[str, ...], ...]  # each entry: alternatives
    provides: tuple[str, ...]
    filename: str


# --- the private apt ---------------------------------------------------------------------------
class PrivateApt:
    """apt-get with its own sources, lists, state and cache: never touches the host's apt state."""

    def __init__(self, root: Path, profile: Profile) -> None:
        key = hashlib.sha256("\n".join((profile.architecture, *profile.suite_mirrors)).encode()).hexdigest()
        self.root = root / f"{profile.suite}-{profile.architecture}-{key[:12]}"
        self.profile = profile

    def options(self) -> list[str]:
        r = self.root
        opts = {
            "Dir::Etc::SourceList": r / "sources.list", "Dir::Etc::SourceParts": r / "empty.d",
            "Dir::Etc::Preferences": r / "preferences", "Dir::Etc::PreferencesParts": r / "empty.d",
            "Dir::State": r / "state", "Dir::State::Lists": r / "lists", "Dir::State::status": r / "status",
            "Dir::Cache": r / "cache", "APT::Architecture": self.profile.architecture,
            "APT::Architectures": self.profile.architecture, "Acquire::Languages": "none",
            "Acquire::GzipIndexes": "false", "Acquire::Check-Valid-Until": "false",
            "APT::Sandbox::User": "root", "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled": "false",
        }
        return [arg for k, v in opts.items() for arg in ("-o", f"{k}={v}")]

    def _prepare(self) -> None:
        for sub in ("empty.d", "state", "lists/partial", "cache/archives/partial"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "status").touch()
        (self.root / "preferences").touch()
        lines = [f"deb [signed-by={KEYRING}] {line}\n" for line in self.profile.suite_mirrors]
        (self.root / "sources.list").write_text("".join(lines))

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _run(self, args: list[str], cwd: Path | None = None) -> None:
        apt = shutil.which("apt-get")
        if apt is None:
            raise ToolMissing("apt-get is not installed")
        proc = subprocess.run([apt, "-q", *self.options(), *args], cwd=cwd, capture_output=True,
                              text=True, check=False, env={**os.environ, "LC_ALL": "C"})
        if proc.returncode != 0:
            lines = [ln for ln in proc.stderr.splitlines() if ln.startswith(("E:", "W:"))] or \
                proc.stderr.splitlines()[-3:]
            raise BaseBuildError(f"apt-get {args[0]} failed: " + " | ".join(lines[-3:]))

    def update(self, force: bool = False) -> None:
        """Fetch the package index (signed; apt verifies it) unless a fresh one is there."""
        stamp = self.root / "updated"
        if not force and stamp.exists() and time.time() - stamp.stat().st_mtime < LISTS_MAX_AGE \
                and self.packages_files():
            return
        self._prepare()
        self._run(["update"])
        stamp.touch()

    def packages_files(self) -> list[Path]:
        return sorted((self.root / "lists").glob("*_Packages"))

    def download(self, packages: list[Package], deb_cache: Path) -> list[Path]:
        """The .deb of each package, from the shared cache or downloaded (hash-checked by apt)."""
        deb_cache.mkdir(parents=True, exist_ok=True)
        wanted = {pkg: deb_cache / deb_file_name(pkg) for pkg in packages}
        missing = [pkg for pkg, path in wanted.items() if not path.exists()]
        if missing:
            with tempfile.TemporaryDirectory(prefix="debs-", dir=deb_cache.parent) as tmp:
                self._run(["download", *(f"{p.name}={p.version}" for p in missing)], cwd=Path(tmp))
                collect_debs(Path(tmp), deb_cache)
        absent = [str(p) for p in wanted.values() if not p.exists()]
        if absent:
            raise BaseBuildError(f"apt-get download did not produce {', '.join(absent[:3])}")
        return list(wanted.values())


def deb_file_name(pkg: Package) -> str:
    """The name apt gives a downloaded .deb: name_version_arch.deb, the epoch's ':' as '%3a'."""
    arch = PurePosixPath(pkg.filename).stem.rsplit("_", 1)[-1]
    return f"{pkg.name}_{pkg.version.replace(':', '%3a')}_{arch}.deb"


# --- index and resolution ----------------------------------------------------------------------
_DEP_RE = re.compile(r"^\s*([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9]+)?")


def parse_depends(text: str) -> tuple[tuple[str, ...], ...]:
    """'a (>= 1) | b, c:any' -> (('a', 'b'), ('c',)); versions are not checked (one suite)."""
    result = []
    for clause in text.split(","):
        alts = []
        for alt in clause.split("|"):
            match = _DEP_RE.match(alt)
            if match:
                alts.append(match.group(1))
        if alts:
            result.append(tuple(alts))
    return tuple(result)


def read_index(files: list[Path], architecture: str) -> dict[str, Package]:
    """Newest version of every package across the given Packages files."""
    index: dict[str, Package] = {}
    wanted_arch = {architecture, "all"}
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as fh:
            fields: dict[str, str] = {}
            last = ""
            for line in [*fh, "\n"]:
                if line == "\n":
                    if "Package" in fields and fields.get("Architecture") in wanted_arch:
                        _add(index, fields)
                    fields, last = {}, ""
                elif line[0] in " \t":
                    if last in ("Depends", "Pre-Depends", "Provides"):
                        fields[last] += " " + line.strip()
                else:
                    key, _, value = line.partition(":")
                    if key in ("Package", "Version", "Architecture", "Depends", "Pre-Depends", "Provides",
                               "Filename"):
                        fields[key] = value.strip()
                        last = key
                    else:
                        last = ""
    return index


def _add(index: dict[str, Package], fields: dict[str, str]) -> None:
    name = fields["Package"]
    current = index.get(name)
    version = fields.get("Version", "0")
    if current is not None and Version(current.version) >= Version(version):
        return
    depends = parse_depends(", ".join(filter(None, (fields.get("Pre-Depends"), fields.get("Depends")))))
    provides = tuple(alt[0] for alt in parse_depends(fields.get("Provides", "")))
    index[name] = Package(name, version, depends, provides, fields.get("Filename", ""))


def resolve(index: dict[str, Package], roots: tuple[str, ...], excluded: tuple[str, ...],
            follow: bool = True) -> list[Package]:
    """The packages to unpack: roots plus (if `follow`) their dependency closure, minus `excluded`."""
    providers: dict[str, list[str]] = {}
    for pkg in index.values():
        for virtual in pkg.provides:
            providers.setdefault(virtual, []).append(pkg.name)
    skip = set(excluded)

    def real(name: str) -> str | None:
        if name in index:
            return name
        candidates = sorted(providers.get(name, ()))
        return candidates[0] if candidates else None

    chosen: dict[str, Package] = {}
    queue = list(roots)
    for root in roots:
        if real(root) is None:
            raise BaseBuildError(f"package {root!r} is not in the {len(index)}-package index")
    while queue:
        name = queue.pop(0)
        target = real(name)
        if target is None or target in chosen or target in skip or name in skip:
            continue
        pkg = index[target]
        chosen[target] = pkg
        if not follow:
            continue
        for alts in pkg.depends:
            if any(a in skip or a in chosen or real(a) in chosen for a in alts):
                continue
            pick = next((a for a in alts if real(a) is not None), None)
            if pick is not None:
                queue.append(pick)
    return sorted(chosen.values(), key=lambda p: p.name)


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


def unpack_deb(deb: Path, root: Path, excludes: tuple[str, ...], keeps: tuple[str, ...]) -> list[str]:
    """Extract a .deb's files into `root` (merged /usr, filters applied); returns the paths written."""
    written: list[str] = []
    as_root = os.geteuid() == 0
    data: tarfile.TarFile = DebFile(str(deb)).data.tgz()
    for member in data:
        name = member.name
        while name.startswith("./"):
            name = name[2:]
        name = _merged(name.rstrip("/"))
        if not name or name == "." or _excluded(name, excludes, keeps):
            continue
        target = _safe(root, name)
        if member.isdir():
            if target.is_symlink():
                continue  # e.g. usr/lib64 kept as the symlink it already is
            target.mkdir(parents=True, exist_ok=True)
            os.chmod(target, member.mode)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.exists():
                target.unlink()
            if member.issym():
                os.symlink(member.linkname, target)
            elif member.islnk():
                os.link(_safe(root, _merged(member.linkname.removeprefix("./"))), target)
            elif member.isreg():
                source = data.extractfile(member)
                assert source is not None
                with source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
                os.chmod(target, member.mode)
            else:
                continue
            written.append("/" + name)
        if as_root and not member.issym():
            os.chown(target, member.uid, member.gid, follow_symlinks=False)
    return written


def record_package(deb: Path, root: Path, files: list[str]) -> None:
    """status.d/<pkg> (the control paragraph, marked installed) and <pkg>.md5sums, as distroless does."""
    debfile = DebFile(str(deb))
    control = (debfile.control.get_content("control", encoding="utf-8") or "").rstrip("\n")
    name = re.search(r"^Package:\s*(\S+)", control, re.M)
    if not name:
        raise BaseBuildError(f"{deb.name}: no Package field in its control file")
    status_d = root / "var/lib/dpkg/status.d"
    status_d.mkdir(parents=True, exist_ok=True)
    lines = control.splitlines()
    lines.insert(1, "Status: install ok installed")
    (status_d / name.group(1)).write_text("\n".join(lines) + "\n")
    md5sums = debfile.md5sums(encoding="utf-8")
    if md5sums:
        present = set(files)
        merged = sorted((_merged(str(path).lstrip("/")), str(digest)) for path, digest in md5sums.items())
        body = "".join(f"{digest}  {path}\n" for path, digest in merged if "/" + path in present)
        (status_d / f"{name.group(1)}.md5sums").write_text(body)


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
    certs = sorted((root / "usr/share/ca-certificates").rglob("*.crt"))
    if certs:  # update-ca-certificates' bundle, from Debian's certificates (never the host's)
        bundle = etc / "ssl" / "certs" / "ca-certificates.crt"
        bundle.parent.mkdir(parents=True, exist_ok=True)
        with open(bundle, "w") as out:
            for cert in certs:
                text = cert.read_text()
                out.write(text if text.endswith("\n") else text + "\n")


def build_distroless(profile: Profile, *, workdir: Path, deb_cache: Path, apt_root: Path, epoch: int = 0,
                     compression: mt.Compression = "gzip", log: IO[str] | None = None,
                     refresh: bool = False) -> RootfsLayer:
    """Resolve, fetch and unpack the profile's packages and write the tree as one layer."""
    if profile.builder != "debs":
        raise BaseBuildError(f"profile {profile.name} is not a debs profile")
    started = time.monotonic()
    apt = PrivateApt(apt_root, profile)
    with apt.locked():
        apt.update(force=refresh)
        index = read_index(apt.packages_files(), profile.architecture)
        excluded = (*DEFAULT_EXCLUDED_PACKAGES, *profile.exclude_packages)
        packages = resolve(index, profile.packages, excluded, follow=profile.resolve)
        debs = apt.download(packages, deb_cache)
    if log is not None:
        log.write("packages: " + " ".join(f"{p.name}={p.version}" for p in packages) + "\n")
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="distroless-", dir=workdir) as tmp:
        root = Path(tmp) / "rootfs"
        root.mkdir(mode=0o755)
        for sub in ("usr/bin", "usr/sbin", "usr/lib"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        for link, target in (("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib")):
            (root / link).symlink_to(target)
        for deb in debs:
            files = unpack_deb(deb, root, profile.path_excludes, profile.path_keeps)
            record_package(deb, root, files)
        finish_tree(root, profile)
        layer = tree_layer(root, compression, workdir=workdir, epoch=epoch, uid=None, gid=None)
    listing = tuple(f"{p.name} {p.version}" for p in packages)
    return RootfsLayer(layer, listing, time.monotonic() - started)
