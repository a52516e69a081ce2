"""pare's build cache: directories made once per content key, shared by every build on the machine.

Everything here is safe to delete (`pare prune`): sysroots, unpacked runtimes, dependency installs,
compressed layers and stripped ELF files are all rebuilt from their pinned sources on demand.

Build steps see the cache read-only (pare.native.sandbox), and an entry is also checked before it
is used: each one has a manifest (every path, its kind, size, mode and sha256, plus the inode's
change time) written when it is made, beside it, never inside it. On first use in a process every
file is stat'ed; a file whose change time or size moved is hashed again, and an entry with a
changed, added or missing file is discarded and made again from its pinned sources, so what one
build's code did to the cache never runs in or ships with another's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

import platformdirs

MANIFEST_SUFFIX = ".manifest.json"
log = logging.getLogger(__name__)
_verified: set[Path] = set()  # entries checked by this process


def cache_root() -> Path:
    """Build caches (runtimes, dependency installs, layers): $PARE_BUILD_CACHE or the user cache dir."""
    env = os.environ.get("PARE_BUILD_CACHE")
    return Path(env) if env else Path(platformdirs.user_cache_dir("pare")) / "build"


def content_key(*parts: bytes | str) -> str:
    """A short digest of `parts`, each length-prefixed so no two sequences collide."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()[:24]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


Entry = dict[str, list[object]]  # relative path -> [kind, mode, size, sha256 | link target, ctime_ns]


def _walk(root: Path) -> dict[str, os.stat_result]:
    """Every entry under `root` (relative path -> lstat), with scandir: one syscall per entry."""
    found: dict[str, os.stat_result] = {}
    pending = [("", os.fspath(root))]
    while pending:
        rel, path = pending.pop()
        with os.scandir(path) as entries:
            for entry in entries:
                name = rel + entry.name
                st = entry.stat(follow_symlinks=False)
                found[name] = st
                if stat.S_ISDIR(st.st_mode):
                    pending.append((name + "/", entry.path))
    return found


def make_manifest(root: Path) -> Entry:
    """Every entry under `root` with what identifies its content."""
    entries: Entry = {}
    for rel, st in _walk(root).items():
        full = root / rel
        if stat.S_ISREG(st.st_mode):
            entries[rel] = ["f", stat.S_IMODE(st.st_mode), st.st_size, _sha256(full), st.st_ctime_ns]
        elif stat.S_ISLNK(st.st_mode):
            entries[rel] = ["l", 0, 0, os.readlink(full), st.st_ctime_ns]
        else:
            entries[rel] = ["d" if stat.S_ISDIR(st.st_mode) else "o", stat.S_IMODE(st.st_mode), 0, "", 0]
    return entries


def changed(root: Path, manifest: Entry) -> str | None:
    """The first path under `root` that differs from `manifest` (None: the entry is as it was made).
    Cheap when nothing changed: a file is hashed only when its change time or size moved (the
    kernel sets ctime on every write, chmod or rename, and no one can set it back)."""
    seen = _walk(root)
    if len(seen) != len(manifest):
        return next(iter(sorted(set(seen) ^ set(manifest))), "?")
    for rel, st in seen.items():
        want = manifest.get(rel)
        if want is None:
            return rel
        kind, mode, size, content, ctime = want
        full = os.path.join(root, rel)
        if kind == "f":
            if not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != mode or st.st_size != size:
                return rel
            if st.st_ctime_ns != ctime and _sha256(Path(full)) != content:
                return rel
        elif kind == "l":
            if not stat.S_ISLNK(st.st_mode) or os.readlink(full) != content:
                return rel
        elif kind == "d" and (not stat.S_ISDIR(st.st_mode) or stat.S_IMODE(st.st_mode) != mode):
            return rel
    return None


def _manifest_path(final: Path) -> Path:
    return final.with_name(final.name + MANIFEST_SUFFIX)


def _write_manifest(final: Path, entries: Entry) -> None:
    target = _manifest_path(final)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}-", suffix=".json", dir=final.parent)
    with os.fdopen(fd, "w") as fh:
        json.dump(entries, fh, sort_keys=True)
    os.replace(tmp, target)


def forget_checks() -> None:
    """Check every entry again on its next use (a long-lived process, a test)."""
    _verified.clear()


def _intact(final: Path) -> bool:
    """Whether an existing entry still matches its manifest (checked once per process)."""
    if final in _verified:
        return True
    try:
        manifest = json.loads(_manifest_path(final).read_text())
    except (OSError, ValueError):
        manifest = None
    bad = "its manifest is missing" if not isinstance(manifest, dict) else changed(final, manifest)
    if bad is not None:
        log.warning("pare: cache entry %s/%s changed since it was made (%s); making it again",
                    final.parent.name, final.name, bad)
        return False
    _verified.add(final)
    return True


def _discard(final: Path) -> None:
    """Move a bad entry aside (atomically, so no build sees it half-deleted), then delete it."""
    aside = Path(tempfile.mkdtemp(prefix=f".bad-{final.name}-", dir=final.parent))
    try:
        os.rename(final, aside / "entry")
    except OSError:
        pass
    _manifest_path(final).unlink(missing_ok=True)
    _make_writable(aside)
    shutil.rmtree(aside, ignore_errors=True)


def _make_writable(root: Path) -> None:
    for current, dirs, _files in os.walk(root):
        for name in dirs:
            with_write = os.lstat(os.path.join(current, name)).st_mode | stat.S_IWUSR | stat.S_IXUSR
            os.chmod(os.path.join(current, name), stat.S_IMODE(with_write))


def cached_dir(kind: str, key: str, populate: Callable[[Path], None]) -> Path:
    """A directory in the build cache, made once per key by `populate(tmpdir)` and renamed into
    place, so concurrent builds and interrupted ones never see a half-made tree. An entry that
    changed since it was made is made again."""
    final = cache_root() / kind / key
    if final.is_dir():
        if _intact(final):
            return final
        _discard(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=final.parent))
    try:
        populate(tmp)
        _write_manifest(final, make_manifest(tmp))  # before the entry appears: never one without
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another build won the race; same content
            return final if _intact(final) else cached_dir(kind, key, populate)
        _verified.add(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
