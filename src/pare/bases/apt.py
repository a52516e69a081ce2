"""A private apt: Debian's signed package index for one suite and architecture, dependency
resolution, and .deb downloads checked against the index's sha256.

apt-get fetches the index (InRelease signature checked against Debian's keyring, then each
Packages file against the hashes InRelease lists) into lists and state of its own under pare's cache,
never the host's. Everything after that is pare's: it reads the Packages files, resolves Depends
itself (so a profile or a runtime can cut branches it does not want: debconf, perl, dpkg...), and
downloads each .deb straight from the pool, refusing any whose sha256 differs from the index's.
A lock file records those same URLs and digests; before a lock is honoured, each of its .debs is
looked up in the index again (`PrivateApt.signed_entries`), the InRelease signature and the
Packages hashes checked anew rather than trusted from the cache.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from debian.debian_support import Version

from pare.download import download
from pare.errors import PareError, ToolMissing
from pare.oci.digest import Digest

KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
LISTS_MAX_AGE = 24 * 3600  # refresh a private package index once a day
DEBIAN_MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
SUITES = ("bookworm", "trixie", "forky")
# Never pulled in as a dependency of an image's packages: they only serve package management,
# maintainer scripts or interactive shells, none of which an image without dpkg runs.
DEFAULT_EXCLUDED_PACKAGES = ("debconf", "debconf-2.0", "cdebconf", "perl-base", "dpkg", "install-info",
                             "bash", "dash", "coreutils", "apt", "sensible-utils", "readline-common",
                             "libc-bin", "awk", "mawk", "gawk", "original-awk")


class AptError(PareError):
    """The package index could not be fetched, a package is unknown, or a download failed."""


@dataclass(frozen=True)
class AptSource:
    """Where one suite's packages come from: apt source lines (without the leading 'deb')."""

    suite: str
    architecture: str
    lines: tuple[str, ...]

    @classmethod
    def debian(cls, suite: str, architecture: str, components: Sequence[str] = ("main",)) -> AptSource:
        """The suite, its -updates and its -security archives on deb.debian.org (as Debian's
        images list them; forky, the testing suite, has no security archive of its own yet)."""
        comps = " ".join(components)
        lines = [f"{DEBIAN_MIRROR} {suite} {comps}", f"{DEBIAN_MIRROR} {suite}-updates {comps}"]
        if suite != "forky":
            lines.append(f"{SECURITY_MIRROR} {suite}-security {comps}")
        return cls(suite, architecture, tuple(lines))

    def key(self) -> str:
        return hashlib.sha256("\n".join((self.architecture, *self.lines)).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Package:
    """One binary package as the index describes it."""

    name: str
    version: str
    depends: tuple[tuple[str, ...], ...]  # each entry: alternatives
    provides: tuple[str, ...]
    filename: str  # pool path, relative to `mirror`
    architecture: str = ""
    sha256: str = ""
    size: int = 0
    mirror: str = ""
    source: str = ""  # source package name (the binary's own name when the index omits it)
    recommends: tuple[tuple[str, ...], ...] = ()
    installed_size: int = 0  # bytes unpacked (the index's Installed-Size, in KiB, times 1024)
    priority: str = ""  # "required": in every Debian system, minbase and Docker's images included

    @property
    def url(self) -> str:
        return f"{self.mirror.rstrip('/')}/{self.filename}"


# --- the private apt ---------------------------------------------------------------------------
class PrivateApt:
    """apt-get with its own sources, lists, state and cache: never touches the host's apt state."""

    def __init__(self, root: Path, source: AptSource) -> None:
        self.root = root / f"{source.suite}-{source.architecture}-{source.key()}"
        self.source = source

    def options(self) -> list[str]:
        r = self.root
        opts = {
            "Dir::Etc::SourceList": r / "sources.list", "Dir::Etc::SourceParts": r / "empty.d",
            "Dir::Etc::Preferences": r / "preferences", "Dir::Etc::PreferencesParts": r / "empty.d",
            "Dir::State": r / "state", "Dir::State::Lists": r / "lists", "Dir::State::status": r / "status",
            "Dir::Cache": r / "cache", "APT::Architecture": self.source.architecture,
            "APT::Architectures": self.source.architecture, "Acquire::Languages": "none",
            "Acquire::GzipIndexes": "false", "Acquire::Check-Valid-Until": "false",
            "APT::Sandbox::User": "root", "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled": "false",
        }
        return [arg for k, v in opts.items() for arg in ("-o", f"{k}={v}")]

    def _prepare(self) -> None:
        for sub in ("empty.d", "state", "lists/partial", "cache/archives/partial"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "status").touch()
        (self.root / "preferences").touch()
        lines = [f"deb [signed-by={KEYRING}] {line}\n" for line in self.source.lines]
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
        if proc.returncode != 0 or "W: GPG error" in proc.stderr or "W: Failed to fetch" in proc.stderr:
            lines = [ln for ln in proc.stderr.splitlines() if ln.startswith(("E:", "W:"))] or \
                proc.stderr.splitlines()[-3:]
            raise AptError(f"apt-get {args[0]} ({self.source.suite}/{self.source.architecture}) failed: "
                           + " | ".join(lines[-3:]))

    def update(self, force: bool = False) -> None:
        """Fetch the signed package index unless a fresh one is there."""
        stamp = self.root / "updated"
        if not force and stamp.exists() and time.time() - stamp.stat().st_mtime < LISTS_MAX_AGE \
                and self.packages_files():
            return
        self._prepare()
        self._run(["update"])
        stamp.touch()

    def packages_files(self) -> list[tuple[Path, str]]:
        """Each Packages file apt fetched, with the mirror URL its Filename fields are relative to."""
        return [(packages, mirror) for _release, packages, _path, mirror in self.release_files()]

    def release_files(self) -> list[tuple[Path, Path, str, str]]:
        """(InRelease, Packages, its path in the release, mirror) for each Packages file apt fetched."""
        found = []
        for line in self.source.lines:
            url, suite, *components = line.split()
            stem = re.sub(r"^[a-z]+://", "", url.rstrip("/")).replace("/", "_")
            for comp in components:
                relative = f"{comp}/binary-{self.source.architecture}/Packages"
                packages = self.root / "lists" / f"{stem}_dists_{suite}_{relative.replace('/', '_')}"
                release = self.root / "lists" / f"{stem}_dists_{suite}_InRelease"
                if packages.is_file():
                    found.append((release, packages, relative, url))
        return found

    def signed_entries(self, names: Iterable[str]) -> list[IndexEntry]:
        """Every entry (any version) for `names` in the suite's Packages files, each file first
        checked against the sha256 its InRelease gives, that InRelease's signature checked by gpgv
        against Debian's keyring. The lists are read as they are (no fetch): `update` first."""
        wanted = sorted(set(names))
        entries: list[IndexEntry] = []
        with self.locked():
            files = self.release_files()
            if not files:
                raise AptError(f"no package index for {self.source.suite}/{self.source.architecture}")
            for release, packages, relative, mirror in files:
                expected = release_sha256(verified_release(release), relative)
                data = packages.read_bytes()
                if expected is None or hashlib.sha256(data).hexdigest() != expected:
                    raise AptError(f"{packages.name} does not match the sha256 its signed InRelease gives; "
                                   f"remove {self.root} to fetch the index again")
                entries += find_entries(data, wanted, mirror)
        return entries

    def index(self, refresh: bool = False) -> dict[str, Package]:
        """The suite's packages (newest version of each), from a fresh enough index."""
        with self.locked():
            self.update(force=refresh)
            files = self.packages_files()
        if not files:
            raise AptError(f"no package index for {self.source.suite}/{self.source.architecture}")
        return read_index(files, self.source.architecture)


def deb_file_name(pkg: Package) -> str:
    """The name apt gives a downloaded .deb: name_version_arch.deb, the epoch's ':' as '%3a'."""
    arch = PurePosixPath(pkg.filename).stem.rsplit("_", 1)[-1]
    return f"{pkg.name}_{pkg.version.replace(':', '%3a')}_{arch}.deb"


# --- the signed index, checked again ------------------------------------------------------------
@dataclass(frozen=True)
class IndexEntry:
    """One Packages paragraph, as much of it as says which file a package version is."""

    name: str
    version: str
    architecture: str
    sha256: str
    filename: str
    mirror: str

    @property
    def url(self) -> str:
        return f"{self.mirror.rstrip('/')}/{self.filename}"


def verified_release(path: Path) -> str:
    """The text of an InRelease file as gpgv verified it against Debian's archive keyring (only the
    signed part: text outside the signature never counts)."""
    gpgv = shutil.which("gpgv")
    if gpgv is None:
        raise ToolMissing("gpgv is not installed (Debian package gpgv)")
    try:
        done = subprocess.run([gpgv, "--quiet", "--keyring", KEYRING, "--output", "-", str(path)],
                              capture_output=True, check=False, timeout=60)
    except subprocess.TimeoutExpired:
        raise AptError(f"gpgv did not finish checking {path.name}") from None
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise AptError(f"{path.name}: the signature does not verify with {KEYRING}: {tail[0]}")
    return done.stdout.decode(errors="replace")


def release_sha256(release: str, relative: str) -> str | None:
    """The sha256 a Release file's SHA256 section gives for `relative` (main/binary-amd64/Packages)."""
    in_section = False
    for line in release.splitlines():
        if not line.startswith(" "):
            in_section = line.rstrip() == "SHA256:"
            continue
        if in_section:
            parts = line.split()
            if len(parts) == 3 and parts[2] == relative:
                return parts[0].lower()
    return None


def find_entries(data: bytes, names: Sequence[str], mirror: str) -> list[IndexEntry]:
    """Every paragraph of a Packages file whose Package is one of `names` (paragraphs are split
    and only their first line read: a 50 MB index is not parsed whole to check thirty packages)."""
    wanted = {name.encode() for name in names}
    found = []
    for chunk in (b"\n" + data).split(b"\nPackage: ")[1:]:  # no other field is spelled so
        name = chunk[:chunk.find(b"\n")]
        if name not in wanted:
            continue
        end = chunk.find(b"\n\n")
        fields = _paragraph(b"Package: " + (chunk if end < 0 else chunk[:end]))
        if {"Version", "Architecture", "SHA256", "Filename"} <= fields.keys():
            found.append(IndexEntry(name.decode(), fields["Version"], fields["Architecture"],
                                    fields["SHA256"].lower(), fields["Filename"], mirror))
    return found


def _paragraph(raw: bytes) -> dict[str, str]:
    fields = {}
    for line in raw.decode("utf-8", errors="replace").splitlines():
        if line and not line[0].isspace():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


# --- index and resolution ----------------------------------------------------------------------
_DEP_RE = re.compile(r"^\s*([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9]+)?")
_FIELDS = ("Package", "Version", "Architecture", "Depends", "Pre-Depends", "Provides", "Filename", "SHA256",
           "Size", "Source", "Recommends", "Installed-Size", "Priority")
_CONTINUED = ("Depends", "Pre-Depends", "Provides", "Recommends")


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


def read_index(files: Iterable[Path | tuple[Path, str]], architecture: str) -> dict[str, Package]:
    """Newest version of every package across the given Packages files (each optionally paired with
    the mirror URL its Filename fields are relative to)."""
    index: dict[str, Package] = {}
    wanted_arch = {architecture, "all"}
    for item in files:
        path, mirror = item if isinstance(item, tuple) else (item, "")
        with open(path, encoding="utf-8", errors="replace") as fh:
            fields: dict[str, str] = {}
            last = ""
            for line in [*fh, "\n"]:
                if line == "\n":
                    if "Package" in fields and fields.get("Architecture") in wanted_arch:
                        _add(index, fields, mirror)
                    fields, last = {}, ""
                elif line[0] in " \t":
                    if last in _CONTINUED:
                        fields[last] += " " + line.strip()
                else:
                    key, _, value = line.partition(":")
                    if key in _FIELDS:
                        fields[key] = value.strip()
                        last = key
                    else:
                        last = ""
    return index


def _add(index: dict[str, Package], fields: dict[str, str], mirror: str) -> None:
    name = fields["Package"]
    current = index.get(name)
    version = fields.get("Version", "0")
    try:
        if current is not None and Version(current.version) >= Version(version):
            return
    except ValueError:
        raise AptError(f"package {name}: invalid version {version!r} in the package index") from None
    depends = parse_depends(", ".join(filter(None, (fields.get("Pre-Depends"), fields.get("Depends")))))
    provides = tuple(alt[0] for alt in parse_depends(fields.get("Provides", "")))
    size = fields.get("Size", "0")
    installed = fields.get("Installed-Size", "0")
    source = (fields.get("Source", "").split() or [name])[0]
    index[name] = Package(name, version, depends, provides, fields.get("Filename", ""),
                          fields.get("Architecture", ""), fields.get("SHA256", ""),
                          int(size) if size.isdigit() else 0, mirror, source,
                          parse_depends(fields.get("Recommends", "")),
                          int(installed) * 1024 if installed.isdigit() else 0, fields.get("Priority", ""))


def resolve(index: dict[str, Package], roots: Sequence[str], excluded: Sequence[str],
            follow: bool = True, recommends: bool = False) -> list[Package]:
    """The packages to unpack: roots plus (if `follow`) their dependency closure, minus `excluded`;
    with `recommends`, what each package recommends too (as apt-get install does by default)."""
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
            raise AptError(f"package {root!r} is not in the {len(index)}-package index")
    while queue:
        name = queue.pop(0)
        target = real(name)
        if target is None or target in chosen or target in skip or name in skip:
            continue
        pkg = index[target]
        chosen[target] = pkg
        if not follow:
            continue
        for alts in (*pkg.depends, *(pkg.recommends if recommends else ())):
            if any(a in skip or a in chosen or real(a) in chosen for a in alts):
                continue
            pick = next((a for a in alts if real(a) is not None), None)
            if pick is not None:
                queue.append(pick)
    return sorted(chosen.values(), key=lambda p: p.name)


# --- downloads ---------------------------------------------------------------------------------
def fetch_deb(url: str, sha256: str, dest: Path) -> Path:
    """`dest`, downloaded from `url` unless a copy with that sha256 is already there (a cached
    file that does not match, truncated or corrupted, is fetched again)."""
    return download(url, dest, Digest("sha256", sha256))


def fetch_debs(packages: Sequence[Package], deb_cache: Path, parallel: int = 4) -> list[Path]:
    """The .deb of each package in the shared cache, downloaded where missing; every one checked."""
    for pkg in packages:
        if not pkg.sha256 or not pkg.mirror:
            raise AptError(f"package {pkg.name} {pkg.version}: the index gave no sha256 or mirror")
    jobs = [(pkg.url, pkg.sha256, deb_cache / deb_file_name(pkg)) for pkg in packages]
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(lambda job: fetch_deb(*job), jobs))
