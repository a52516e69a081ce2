"""A pare.lock is checked, not trusted: every artifact against the index that publishes it.

A lock is committed beside the app, so whoever edits the repository edits it, and its artifacts run
on the build machine (node runs npm, python runs pip) and ship in the image. Before a lock is
honoured, each artifact must:
- come from an origin pare knows for its kind (Debian's archive for .debs, the npm registry for
  node and npm, PyPI's files for wheels; PARE_NPM_REGISTRY / PARE_PYPI_INDEX name others) or one
  the user allows (`allow-origins` in pare.toml or [tool.pare], `--allow-origin`): a mirror;
- carry the digest that kind's own index gives for that name and version, whatever the origin:
  a .deb's sha256 as Debian's signed Packages file lists it (InRelease signature checked by gpgv
  against Debian's keyring, the Packages file against InRelease), a node or npm tarball's sha512
  as the registry's `integrity`, a wheel's sha256 as PyPI's JSON API gives it.
The first artifact that fails stops the build with one line naming it, before anything is
downloaded or run. A lock that passed is remembered (a stamp in the build cache keyed by the lock's
artifacts and the origins in force), so a warm build checks nothing again; a lock pare has just
resolved from those same indexes is stamped without a second look.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion

from pare.bases.apt import DEBIAN_MIRROR, SECURITY_MIRROR, SUITES, AptError, AptSource, IndexEntry, PrivateApt
from pare.bases.cache import apt_dir
from pare.errors import UsageError
from pare.native.cache import cache_root, content_key
from pare.native.lock import LOCK_NAME, Artifact, Lock, dumps
from pare.native.platforms import Arch, arch_for, host_arch
from pare.native.runtimes import npm, pypi

CHECK_FORMAT = "1"
PYPI_FILES = "https://files.pythonhosted.org/"


class LockRejected(UsageError):
    """An artifact in pare.lock that its registry's index does not vouch for."""


def _origin(url: str) -> str:
    """'https://host[:port]/path' -> 'https://host[:port]/path/' (a prefix that ends at a '/')."""
    return url if url.endswith("/") else url + "/"


def known_origins() -> dict[str, tuple[str, ...]]:
    """URL prefixes each kind of artifact may come from without the user's say-so."""
    index = urlsplit(pypi.index_url())
    return {"deb": (_origin(DEBIAN_MIRROR), _origin(SECURITY_MIRROR)),
            "npm": (_origin(npm.registry_url()),),
            "pypi": (PYPI_FILES, f"{index.scheme}://{index.netloc}/")}


def check_allowed_origin(text: str) -> str:
    """A user's allowed origin as a prefix ('https://mirror.example/debian/'); UsageError if it is no
    http(s) URL with a host."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise UsageError(f"allow-origins: {text!r} is not an http(s) URL such as https://mirror.example/debian")
    return _origin(f"{parts.scheme}://{parts.netloc.lower()}{parts.path}")


def _reject(item: Artifact, why: str) -> LockRejected:
    return LockRejected(f"{LOCK_NAME}: {item.kind} {item.name} {item.version} ({item.platform}): {why}; "
                        "restore the lock from git or run pare build --update-lock")


def check_origins(lock: Lock, allowed: Sequence[str] = ()) -> None:
    """Every downloaded artifact's URL under a known or allowed origin (no network)."""
    known = known_origins()
    for item in lock.artifacts:
        if item.kind == "host":
            continue
        prefixes = (*known.get(item.kind, ()), *allowed)
        if not item.url.startswith(prefixes):
            raise _reject(item, f"{item.url} is not on {' or '.join(known.get(item.kind, ()))}, nor on an "
                                "origin allowed in settings (allow-origins)")


def _stamp(lock: Lock, allowed: Sequence[str]) -> Path:
    origins = sorted({o for group in known_origins().values() for o in group} | set(allowed))
    artifacts = dumps(Lock((), lock.artifacts))
    return cache_root() / "checked-locks" / content_key(CHECK_FORMAT, artifacts, *origins)


def mark_checked(lock: Lock, allowed: Sequence[str] = ()) -> None:
    """Remember that this lock's artifacts came from their indexes (pare resolved them just now)."""
    stamp = _stamp(lock, allowed)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.touch()


def check_lock(lock: Lock, allowed: Sequence[str] = ()) -> None:
    """LockRejected for the first artifact that is not what its index says (see module docstring);
    at most one fetch of each suite's signed index, none when the lock was checked before."""
    stamp = _stamp(lock, allowed)
    if stamp.is_file():
        return
    check_origins(lock, allowed)
    check_debs(lock.select(kind="deb"), lock)
    for item in lock.select(kind="npm"):
        check_npm(item)
    for item in lock.select(kind="pypi"):
        check_wheel(item)
    mark_checked(lock, allowed)


# --- npm and PyPI ------------------------------------------------------------------------------------
def check_npm(item: Artifact) -> None:
    """The tarball's digest must be the registry's `integrity` for that name and version."""
    try:
        key = npm.registry_version_key(item.name, item.version)
    except UsageError:
        raise _reject(item, "that version is not on the npm registry") from None
    dist = npm.packument(item.name)["versions"][key].get("dist") or {}
    try:
        published = npm.integrity_digest(str(dist.get("integrity") or ""))
    except UsageError:
        raise _reject(item, "the npm registry gives no sha512 integrity for it") from None
    if published != item.digest:
        raise _reject(item, f"digest {item.digest[:23]}... is not the registry's integrity "
                            f"({published[:23]}...)")


def check_wheel(item: Artifact) -> None:
    """The wheel or sdist file must be listed by the package index for that project and version,
    with the lock's sha256."""
    filename = urlsplit(item.url).path.rsplit("/", 1)[-1]
    if _file_version(filename) != item.version:
        raise _reject(item, f"{filename} is not a file of version {item.version}")
    listed = [f for f in pypi.project_files(item.name) if f.get("filename") == filename]
    if not listed:
        raise _reject(item, f"the package index lists no {filename}")
    sha256 = str((listed[0].get("hashes") or {}).get("sha256", ""))
    if f"sha256:{sha256}" != item.digest:
        raise _reject(item, f"digest {item.digest[:23]}... is not the index's ({'sha256:' + sha256[:16]}...)")


def _file_version(filename: str) -> str | None:
    """The version a wheel's or sdist's file name carries (None: neither)."""
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


# --- Debian ------------------------------------------------------------------------------------------
def _suite_order(lock: Lock) -> list[str]:
    """The runtime's suite first (read from base-files' version), then the others."""
    from pare.native.runtimes.tools import suite_of
    try:
        first = suite_of(lock.select(kind="deb", role="runtime"))
    except UsageError:
        return list(SUITES)
    return [first, *(s for s in SUITES if s != first)]


def _arch_of(item: Artifact) -> Arch:
    return host_arch() if item.platform == "all" else arch_for(item.platform)


def _judge(item: Artifact, entries: Iterable[IndexEntry]) -> str | None:
    """None when an index entry vouches for `item`; else why not (for the rejection)."""
    same_version = [e for e in entries if e.version == item.version]
    if not same_version:
        return "missing"
    digests = {f"sha256:{e.sha256}" for e in same_version}
    if item.digest not in digests:
        return (f"digest {item.digest[:23]}... is not the sha256 Debian's signed index gives "
                f"({sorted(digests)[0][:23]}...)")
    matching = [e for e in same_version if f"sha256:{e.sha256}" == item.digest]
    if not any(item.url.endswith("/" + e.filename) for e in matching):
        return f"{item.url} is not the archive's file for it ({same_version[0].filename})"
    return None


def check_debs(debs: Sequence[Artifact], lock: Lock) -> None:
    """Each .deb against the signed Packages files of the suites (runtime's first), by target
    architecture; a suite's index is fetched (once) only when an entry is found nowhere else."""
    pending: dict[Artifact, str] = {item: "missing" for item in debs}
    by_arch: dict[Arch, list[Artifact]] = defaultdict(list)
    for item in debs:
        by_arch[_arch_of(item)].append(item)
    fetched: set[tuple[str, Arch]] = set()  # each suite's index is fetched at most once
    for refresh in (False, True):
        for suite in _suite_order(lock):
            for arch, items in by_arch.items():
                open_items = [i for i in items if pending.get(i) == "missing"]
                if not open_items or (refresh and (suite, arch) in fetched):
                    continue
                apt = PrivateApt(apt_dir(), AptSource.debian(suite, arch.debian))
                try:
                    with apt.locked():
                        if refresh or not apt.release_files():
                            apt.update(force=True)
                            fetched.add((suite, arch))
                    entries = apt.signed_entries(i.name for i in open_items)
                except AptError as exc:
                    raise LockRejected(f"{LOCK_NAME}: cannot check its .debs against Debian's signed "
                                       f"index: {exc}") from None
                by_name: dict[str, list[IndexEntry]] = defaultdict(list)
                for entry in entries:
                    by_name[entry.name].append(entry)
                for item in open_items:
                    verdict = _judge(item, by_name.get(item.name, ()))
                    if verdict is None:
                        del pending[item]
                    elif verdict != "missing":
                        pending[item] = verdict
        if not pending or all(v != "missing" for v in pending.values()):
            break
    for item, verdict in sorted(pending.items(), key=lambda kv: kv[0]):
        raise _reject(item, "that version is not in Debian's signed index of "
                            f"{', '.join(SUITES)}" if verdict == "missing" else verdict)

