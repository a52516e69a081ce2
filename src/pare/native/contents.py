"""Which Debian package ships a file: the suite's Contents index, cut down to what builds ask.

A compiled wheel or node addon that links `libpq.so.5`, or an sdist whose build stops at a missing
`libpq-fe.h` or `mysqlclient.pc`, names a file; Debian's `Contents-<arch>.gz` (one line per file
of every package of the architecture) names the package. The index is 11 MB compressed and about
10 times that unpacked, so it is streamed: its sha256 comes from the suite's InRelease (whose
signature apt checked when it fetched the package index), the bytes are hashed and gunzipped as
they arrive, and only the lines builds ask about are kept (shared libraries in the library
directories, headers, pkg-config files). The cut is cached under the digest InRelease pins, so
a new index is fetched only when the archive publishes one.
"""

from __future__ import annotations

import os
import re
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pare.bases.apt import DEBIAN_MIRROR, AptSource, PrivateApt
from pare.bases.cache import apt_dir
from pare.download import DownloadError, _client
from pare.errors import DigestMismatch, PareError
from pare.native.cache import cache_root
from pare.native.platforms import Arch
from pare.oci.digest import CHUNK, Digest, Hasher

FORMAT = "1"  # bump when what is kept from a Contents file changes
COMPONENT = "main"
MAX_LINE = 4096  # a Contents line longer than this is not one Debian writes


class ContentsError(PareError):
    """The Contents index could not be found in the signed release file, fetched or verified."""


def kept(path: str, triplet: str) -> bool:
    """Whether a Contents path is one a build may ask about: a shared library where the loader
    looks, a header, or a pkg-config file."""
    if path.startswith("usr/include/"):
        return True
    if path.endswith(".pc") and "/pkgconfig/" in path:
        return True
    parent, _, name = path.rpartition("/")
    if parent not in (f"usr/lib/{triplet}", f"lib/{triplet}", "usr/lib", "lib"):
        return False
    return ".so" in name and name.startswith("lib")


def parse_line(line: str) -> tuple[str, tuple[str, ...]] | None:
    """'usr/lib/x/libpq.so.5   libs/libpq5,misc/other' -> ('usr/lib/x/libpq.so.5', ('libpq5', 'other')).

    The package list is the last whitespace-separated field (paths may hold spaces); each entry is
    [area/]section/package. None for anything else (the free-text header of old indexes)."""
    text = line.rstrip("\n")
    if not text or len(text) > MAX_LINE:
        return None
    path, sep, owners = text.rstrip().rpartition(" ")
    path = path.rstrip(" \t")
    if not sep or not path or path.startswith("/") or "\x00" in path:
        return None
    names = []
    for entry in owners.split(","):
        name = entry.rsplit("/", 1)[-1]
        if not re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", name):
            return None
        names.append(name)
    return path, tuple(names)


def release_digest(inrelease: Path, name: str) -> tuple[Digest, int]:
    """The sha256 and size the (already verified) InRelease lists for `name` (main/Contents-amd64.gz)."""
    try:
        text = inrelease.read_text(errors="replace")
    except OSError as exc:
        raise ContentsError(f"cannot read {inrelease}: {exc.strerror or exc}") from None
    in_sha256 = False
    for line in text.splitlines():
        if not line.startswith(" "):
            in_sha256 = line.rstrip() == "SHA256:"
            continue
        parts = line.split()
        if in_sha256 and len(parts) == 3 and parts[2] == name and parts[1].isdigit():
            return Digest("sha256", parts[0].lower()), int(parts[1])
    raise ContentsError(f"{inrelease.name} lists no {name}")


def stream_lines(url: str, digest: Digest) -> Iterator[str]:
    """The gunzipped lines of `url`, hashed as they arrive; ContentsError (after the last line) when
    the bytes are not the ones the release pins. Callers keep nothing until the stream ends."""
    import httpx
    hasher = Hasher(digest.algorithm)
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    pending = b""
    try:
        with _client() as client, client.stream("GET", url) as response:
            if response.status_code != 200:
                raise ContentsError(f"download of {url} failed: HTTP {response.status_code}")
            for chunk in response.iter_bytes(CHUNK):
                hasher.update(chunk)
                pending += inflate.decompress(chunk)
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    yield raw.decode("utf-8", "replace")
    except httpx.HTTPError as exc:
        raise ContentsError(f"download of {url} failed: {exc}") from None
    except zlib.error as exc:
        raise ContentsError(f"{url}: not a gzip stream ({exc})") from None
    pending += inflate.flush()
    if pending:
        yield pending.decode("utf-8", "replace")
    if hasher.digest() != digest:
        raise DigestMismatch(f"{url}: got {hasher.digest()}, the signed release pins {digest}")


@dataclass(frozen=True)
class ContentsIndex:
    """Image path (absolute) -> the packages that ship it, for the kept paths of one suite."""

    owners: dict[str, tuple[str, ...]]

    def packages(self, path: str) -> tuple[str, ...]:
        return self.owners.get("/" + path.lstrip("/"), ())

    def by_name(self, name: str, dirs: Iterable[str]) -> tuple[str, ...]:
        """The packages shipping `name` in the first of `dirs` where one does."""
        for directory in dirs:
            found = self.packages(f"{directory.rstrip('/')}/{name}")
            if found:
                return found
        return ()

    def header(self, name: str) -> tuple[str, ...]:
        """Packages with a header `name` (as #include writes it) anywhere under /usr/include,
        the shortest path first (libpq-fe.h -> /usr/include/postgresql/libpq-fe.h -> libpq-dev)."""
        suffix = "/" + name.lstrip("/")
        hits = sorted((p for p in self.owners if p.startswith("/usr/include/") and p.endswith(suffix)),
                      key=lambda p: (p.count("/"), p))
        return self.owners[hits[0]] if hits else ()

    def pkgconfig(self, module: str) -> tuple[str, ...]:
        hits = sorted(p for p in self.owners if p.endswith(f"/pkgconfig/{module}.pc"))
        return self.owners[hits[0]] if hits else ()


def read_cut(path: Path) -> ContentsIndex:
    owners: dict[str, tuple[str, ...]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            name, _, packages = line.rstrip("\n").partition("\t")
            owners[name] = tuple(packages.split(","))
    return ContentsIndex(owners)


def write_cut(lines: Iterable[str], triplet: str, dest: Path) -> None:
    """Keep the wanted lines of a Contents stream as 'PATH<TAB>pkg,pkg' rows, written atomically
    once the whole stream (and so its digest) checked out."""
    rows = []
    for line in lines:
        parsed = parse_line(line)
        if parsed is not None and kept(parsed[0], triplet):
            rows.append(f"/{parsed[0]}\t{','.join(parsed[1])}\n")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}-", dir=dest.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.writelines(rows)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


def contents_index(suite: str, arch: Arch) -> ContentsIndex:
    """The suite's Contents index for `arch` (main component), cut and cached per its digest."""
    apt = PrivateApt(apt_dir(), AptSource.debian(suite, arch.debian))
    with apt.locked():
        apt.update()
    inrelease = apt.root / "lists" / f"deb.debian.org_debian_dists_{suite}_InRelease"
    name = f"{COMPONENT}/Contents-{arch.debian}.gz"
    digest, _size = release_digest(inrelease, name)
    cut = cache_root() / "contents" / f"{FORMAT}-{arch.debian}-{digest.hex[:32]}.tsv"
    if not cut.is_file():
        url = f"{DEBIAN_MIRROR}/dists/{suite}/{name}"
        try:
            write_cut(stream_lines(url, digest), arch.triplet, cut)
        except DownloadError as exc:
            raise ContentsError(str(exc)) from None
    return read_cut(cut)
