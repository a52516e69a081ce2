"""Fixes Debian has published that the image does not carry yet: for each installed source package
with a newer version in the suite's `-security` or `-updates` archive, the CVE ids the newer
package's changelog names ("fixed upstream, not installed in this image"). This needs no
vulnerability database: the archive itself is the source.

Trust chain, as apt's: InRelease verified with gpgv against Debian's archive keyring; the Sources
index checked against the sha256 InRelease lists; the source package's debian.tar checked against
the sha256 its Sources entry lists. Downloads are cached by content digest under pare's cache dir,
so a second run fetches only the (small) InRelease files. The changelog is read from the tar as a
stream; nothing is unpacked. Kernel headers (source `linux`, shipped as linux-libc-dev in build
images) are counted apart: their CVEs are about a kernel the container never runs.
"""

from __future__ import annotations

import lzma
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import platformdirs
from debian.changelog import Changelog
from debian.deb822 import Packages, Sources
from debian.debian_support import Version
from rich.markup import escape

from pare.errors import DigestMismatch, PareError, ToolMissing
from pare.scan.fetch import FetchError, client, download
from pare.scan.model import DEB, Catalog

DEFAULT_MIRROR = "https://deb.debian.org"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
KERNEL_SOURCES = ("linux",)
MAX_INDEX = 256 << 20
MAX_SOURCE = 256 << 20
_CVE = re.compile(r"\bCVE-\d{4}-\d{4,}\b")


class PendingError(PareError):
    """The archive could not be read or did not verify."""


@dataclass(frozen=True)
class Pending:
    source: str
    installed: str
    candidate: str
    suite: str
    binaries: tuple[str, ...]
    cves: tuple[str, ...]
    note: str = ""

    @property
    def kernel(self) -> bool:
        return self.source in KERNEL_SOURCES

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "installed": self.installed, "candidate": self.candidate,
                "suite": self.suite, "binaries": list(self.binaries), "cves": list(self.cves),
                "kernel_headers": self.kernel, "note": self.note or None}


@dataclass(frozen=True)
class DebianPending:
    suites: tuple[str, ...]
    packages: tuple[Pending, ...]
    notes: tuple[str, ...] = field(default=())

    def split(self) -> tuple[list[Pending], list[Pending]]:
        return [p for p in self.packages if not p.kernel], [p for p in self.packages if p.kernel]

    def summary(self) -> dict[str, int]:
        user, kernel = self.split()
        return {"packages": len(user), "cves": len({c for p in user for c in p.cves}),
                "kernel_packages": len(kernel), "kernel_cves": len({c for p in kernel for c in p.cves})}

    def to_dict(self) -> dict[str, Any]:
        return {"suites": list(self.suites), "summary": self.summary(),
                "packages": [p.to_dict() for p in self.packages], "notes": list(self.notes)}

    def render(self, console: Any) -> None:
        user, kernel = self.split()
        s = self.summary()
        console.print(f"[bold]pending Debian fixes[/] ({', '.join(self.suites)}): {s['packages']} source "
                      f"packages, {s['cves']} CVEs fixed in the archive, not installed in this image")
        for p in user:
            cves = ", ".join(p.cves[:8]) + (f" +{len(p.cves) - 8}" if len(p.cves) > 8 else "")
            console.print(f"  {p.source} {p.installed} -> {p.candidate} ({p.suite}): {cves or 'no CVE named'}"
                          + (f"  ({escape(p.note)})" if p.note else ""), highlight=False)
        if kernel:
            console.print("  kernel headers, apart (the container never runs this kernel): "
                          f"{s['kernel_packages']} packages, {s['kernel_cves']} CVEs")
            for p in kernel:
                console.print(f"    {p.source} {p.installed} -> {p.candidate} ({p.suite}): "
                              f"{len(p.cves)} CVEs")
        for note in self.notes:
            console.print(f"  [yellow]note:[/] {note}")


# --- the archive -------------------------------------------------------------------------------------
def cache_dir() -> Path:
    env = os.environ.get("PARE_DEBIAN_CACHE")
    return Path(env) if env else Path(platformdirs.user_cache_dir("pare")) / "debian-archive"


def _verified_release(path: Path) -> str:
    """The signed content of an InRelease file, checked with gpgv against Debian's archive keyring."""
    gpgv = shutil.which("gpgv")
    if gpgv is None or not Path(KEYRING).exists():
        raise ToolMissing("gpgv and debian-archive-keyring are needed to check the archive's signatures "
                          "(apt-get install gpgv debian-archive-keyring)")
    out = path.with_suffix(".verified")
    proc = subprocess.run([gpgv, "--keyring", KEYRING, "--output", str(out), str(path)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        why = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "gpgv failed"
        raise PendingError(f"{path.name}: signature does not verify against {KEYRING}: {why}")
    text = out.read_text(encoding="utf-8", errors="replace")
    out.unlink()
    return text


def _index_digest(release: str, name: str) -> tuple[str, int] | None:
    in_sha = False
    for line in release.splitlines():
        if not line.startswith(" "):
            in_sha = line.startswith("SHA256:")
            continue
        if in_sha:
            parts = line.split()
            if len(parts) == 3 and parts[2] == name:
                return parts[0], int(parts[1])
    return None


@dataclass(frozen=True)
class Binary:
    package: str
    filename: str
    sha256: str
    size: int


_SOURCE_FIELD = re.compile(r"^(\S+)(?:\s+\((\S+)\))?$")


@dataclass(frozen=True)
class SourceEntry:
    package: str
    version: str
    directory: str
    files: tuple[tuple[str, str, int], ...]  # (sha256, name, size)


def parse_sources(stream: IO[bytes], wanted: set[str]) -> Iterator[SourceEntry]:
    """Sources paragraphs for the wanted source packages."""
    for para in Sources.iter_paragraphs(stream, use_apt_pkg=False):
        name = para.get("Package", "")
        if name not in wanted:
            continue
        files = []
        for item in para.get("Checksums-Sha256") or []:  # python-debian splits it into dicts
            try:
                files.append((str(item["sha256"]), str(item["name"]), int(item["size"])))
            except (KeyError, TypeError, ValueError):
                continue
        yield SourceEntry(name, para.get("Version", ""), para.get("Directory", ""), tuple(files))


def cves_between(changelog: str, installed: str, candidate: str) -> tuple[str, ...]:
    """CVE ids named in the changelog entries newer than `installed`, up to `candidate`."""
    low, high = Version(installed), Version(candidate)
    found: list[str] = []
    for block in Changelog(changelog, strict=False):
        version = block.version
        if version is None or not (low < version <= high):
            continue
        found.extend(_CVE.findall("\n".join(block.changes())))
    return tuple(sorted(dict.fromkeys(found), key=_cve_key))


def _cve_key(cve: str) -> tuple[int, int]:
    _, year, number = cve.split("-")
    return int(year), int(number)


def deb_changelog(deb_path: Path) -> str | None:
    """/usr/share/doc/*/changelog.Debian.gz from a binary .deb (ar archive, then its data.tar.*),
    read as streams: the fallback when the archive no longer serves the source package."""
    import gzip

    try:
        with deb_path.open("rb") as deb:
            if deb.read(8) != b"!<arch>\n":
                raise PendingError(f"{deb_path.name}: not a .deb (ar) file")
            while header := deb.read(60):
                if len(header) < 60:
                    break
                name = header[:16].decode("ascii", "replace").strip().rstrip("/")
                size = int(header[48:58].decode("ascii").strip() or 0)
                if not name.startswith("data.tar"):
                    deb.seek(size + (size % 2), 1)
                    continue
                member_stream: Any = _Limited(deb, size)
                if name.endswith(".zst"):
                    import zstandard
                    member_stream = zstandard.ZstdDecompressor().stream_reader(member_stream)
                mode: Literal["r|", "r|*"] = "r|" if name.endswith(".zst") else "r|*"
                with tarfile.open(fileobj=member_stream, mode=mode) as tar:
                    for member in tar:
                        path = member.name.lstrip("./")
                        if member.isfile() and path.startswith("usr/share/doc/") \
                                and path.endswith("/changelog.Debian.gz"):
                            handle = tar.extractfile(member)
                            if handle is None:
                                return None
                            return gzip.decompress(handle.read(16 << 20)).decode("utf-8", "replace")
                return None
    except (tarfile.TarError, OSError, EOFError, ValueError, lzma.LZMAError) as exc:
        raise PendingError(f"{deb_path.name}: unreadable .deb ({exc})") from None
    return None


class _Limited:
    """A read-only view of the next `size` bytes of a file (one member of an ar archive)."""

    def __init__(self, stream: IO[bytes], size: int) -> None:
        self.stream, self.left = stream, size

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        data = self.stream.read(self.left if n < 0 else min(n, self.left))
        self.left -= len(data)
        return data


def changelog_of(tar_path: Path) -> str | None:
    """debian/changelog from a debian.tar.* (or a native package's tarball), read as a stream."""
    try:
        with tarfile.open(tar_path, mode="r|*") as tar:
            for member in tar:
                name = member.name.lstrip("./")
                if member.isfile() and (name == "debian/changelog" or name.endswith("/debian/changelog")) \
                        and name.count("/") <= 2:
                    handle = tar.extractfile(member)
                    if handle is None:
                        return None
                    return handle.read(16 << 20).decode("utf-8", "replace")
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError) as exc:
        raise PendingError(f"{tar_path.name}: unreadable source tarball ({exc})") from None
    return None


class Archive:
    """One Debian archive mirror, read through the verified chain and a content-addressed cache."""

    def __init__(self, mirror: str = DEFAULT_MIRROR, cache: Path | None = None) -> None:
        self.mirror = mirror.rstrip("/")
        self.cache = cache or cache_dir()
        self.http = client()

    def close(self) -> None:
        self.http.close()

    def _cached(self, url: str, sha256: str, size: int, limit: int) -> Path:
        path = self.cache / "by-sha256" / sha256
        if path.exists() and path.stat().st_size == size:
            return path
        if size > limit:
            raise PendingError(f"{url}: {size} bytes, more than pare reads ({limit})")
        download(url, path, max_bytes=limit, sha256=sha256, http=self.http)
        return path

    def sources(self, archive: str, suite: str, wanted: set[str]) -> list[SourceEntry]:
        base = f"{self.mirror}/{archive}/dists/{suite}"
        release_path = self.cache / "releases" / f"{archive}-{suite}.InRelease"
        download(f"{base}/InRelease", release_path, max_bytes=16 << 20, http=self.http)
        release = _verified_release(release_path)
        found = _index_digest(release, "main/source/Sources.xz")
        if found is None:
            raise PendingError(f"{base}/InRelease lists no main/source/Sources.xz")
        sha, size = found
        path = self._cached(f"{base}/main/source/Sources.xz", sha, size, MAX_INDEX)
        with lzma.open(path) as stream:
            return list(parse_sources(stream, wanted))

    def source_file(self, archive: str, entry: SourceEntry, name: str, sha: str, size: int) -> Path:
        return self._cached(f"{self.mirror}/{archive}/{entry.directory}/{name}", sha, size, MAX_SOURCE)

    def binaries(self, archive: str, suite: str, arch: str,
                 wanted: set[str]) -> dict[tuple[str, str], list[Binary]]:
        """The binary packages per (source, source version) in the suite's Packages index."""
        base = f"{self.mirror}/{archive}/dists/{suite}"
        release = _verified_release(self.cache / "releases" / f"{archive}-{suite}.InRelease")
        found = _index_digest(release, f"main/binary-{arch}/Packages.xz")
        if found is None:
            return {}
        sha, size = found
        path = self._cached(f"{base}/main/binary-{arch}/Packages.xz", sha, size, MAX_INDEX)
        out: dict[tuple[str, str], list[Binary]] = {}
        with lzma.open(path) as stream:
            for para in Packages.iter_paragraphs(stream, use_apt_pkg=False):
                source, version = para.get("Package", ""), para.get("Version", "")
                m = _SOURCE_FIELD.match(para.get("Source", "").strip())
                if m:
                    source, version = m.group(1), m.group(2) or version
                if source not in wanted:
                    continue
                try:
                    item = Binary(para["Package"], para["Filename"], para["SHA256"], int(para["Size"]))
                except (KeyError, ValueError):
                    continue
                out.setdefault((source, version), []).append(item)
        return out

    def binary_file(self, archive: str, item: Binary) -> Path:
        return self._cached(f"{self.mirror}/{archive}/{item.filename}", item.sha256, item.size, MAX_SOURCE)


def _installed_sources(catalog: Catalog) -> dict[str, tuple[str, list[str]]]:
    out: dict[str, tuple[str, list[str]]] = {}
    for p in catalog.packages:
        if p.ecosystem != DEB:
            continue
        source, version = p.source or p.name, p.source_version or p.version
        known = out.get(source)
        if known is None or Version(version) > Version(known[0]):
            out[source] = (version, known[1] if known else [])
        out[source][1].append(p.name)
    return out


def pending_fixes(catalog: Catalog, mirror: str = DEFAULT_MIRROR, cache: Path | None = None) -> DebianPending:
    """What the suite's security and updates archives fix that this image does not carry."""
    installed = _installed_sources(catalog)
    if not installed:
        return DebianPending((), (), ("no Debian packages recorded in this image: nothing to check",))
    distro = catalog.distro
    if distro is None or distro.id != "debian" or not distro.codename:
        raise PareError("--debian-pending needs a Debian image whose os-release names its suite "
                        f"(found {distro.pretty or distro.id if distro else 'no os-release'})")
    suites = (("debian-security", f"{distro.codename}-security"), ("debian", f"{distro.codename}-updates"))
    arch = _architecture(catalog)
    archive = Archive(mirror, cache)
    notes: list[str] = []
    try:
        newest: dict[str, tuple[SourceEntry, str, str]] = {}  # source -> (entry, archive, suite)
        for area, suite in suites:
            try:
                entries = archive.sources(area, suite, set(installed))
            except FetchError as exc:
                raise PendingError(f"{exc} (the Debian archive is not reachable)") from None
            for entry in entries:
                have = newest.get(entry.package)
                if have is None or Version(entry.version) > Version(have[0].version):
                    newest[entry.package] = (entry, area, suite)
        out = []
        debs: dict[str, dict[tuple[str, str], list[Binary]]] = {}
        for source, (version, binaries) in sorted(installed.items()):
            found = newest.get(source)
            if found is None or not Version(found[0].version) > Version(version):
                continue
            entry, area, suite = found
            cves: tuple[str, ...] = ()
            note = ""
            tarball = _changelog_tarball(entry)
            if tarball is None:
                note = "no source tarball listed"
            else:
                sha, name, size = tarball
                try:
                    text = changelog_of(archive.source_file(area, entry, name, sha, size))
                except (PendingError, FetchError, DigestMismatch) as exc:
                    text, note = None, f"changelog not read: {exc}"
                if text is None:  # the source is gone from the pool: read a binary package's changelog
                    if suite not in debs:
                        debs[suite] = archive.binaries(area, suite, arch, set(installed))
                    # the binaries this image installed first (their doc dir is their own), smallest first
                    mine = set(binaries)
                    items = sorted(debs[suite].get((source, entry.version), []),
                                   key=lambda b: (b.package not in mine, b.size))
                    for item in items[:3]:
                        try:
                            text = deb_changelog(archive.binary_file(area, item))
                        except (PendingError, FetchError, DigestMismatch) as exc:
                            note = f"{note}; {item.package}: {exc}"
                            continue
                        if text is not None:
                            note = ""
                            break
                if text is None:
                    note = note or f"{name}: no debian/changelog inside"
                else:
                    cves = cves_between(text, version, entry.version)
            out.append(Pending(source, version, entry.version, suite, tuple(sorted(set(binaries))), cves,
                               note))
    finally:
        archive.close()
    return DebianPending(tuple(s for _, s in suites), tuple(out), tuple(notes))


def _architecture(catalog: Catalog) -> str:
    for p in catalog.packages:
        if p.ecosystem == DEB and "arch=" in p.purl:
            arch = p.purl.split("arch=", 1)[1].split("&", 1)[0]
            if arch != "all":
                return arch
    return "amd64"


def _changelog_tarball(entry: SourceEntry) -> tuple[str, str, int] | None:
    """The file holding debian/changelog: the debian.tar.*, else (native package) the only tarball."""
    tars = [f for f in entry.files if ".tar." in f[1]]
    for f in tars:
        if ".debian.tar." in f[1]:
            return f
    native = [f for f in tars if ".orig" not in f[1]]
    return native[0] if len(native) == 1 else None
