"""pare's build cache: directories made once per content key, shared by every build on the machine.

Everything here is safe to delete (`pare prune`): sysroots, unpacked runtimes, dependency installs,
compressed layers and stripped ELF files are all rebuilt from their pinned sources on demand.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import platformdirs


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


def cached_dir(kind: str, key: str, populate: Callable[[Path], None]) -> Path:
    """A directory in the build cache, made once per key by `populate(tmpdir)` and renamed into
    place, so concurrent builds and interrupted ones never see a half-made tree."""
    final = cache_root() / kind / key
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=final.parent))
    try:
        populate(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another build won the race; same content
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
