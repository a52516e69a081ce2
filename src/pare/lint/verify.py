"""`pare fix --verify`: build the Dockerfile and its rewrite, run both, and check they answer alike.

Both builds go through pare.lint.measure.build (buildah, FROMs mapped with --base); both images run
under podman in a private network namespace with PORT set, and GET PATH must give the same status and
body from each. The sizes are the images' compressed sizes, what a registry stores and a pull moves.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from pare.errors import PareError
from pare.lint.measure import build


class VerifyFailed(PareError):
    """The rewrite does not build, or answers differently, or is not smaller."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    size: int  # compressed bytes of the image


def _answer(location: str, port: int, path: str, state: Path) -> Answer:
    from pare.engines.netns import private_network
    from pare.engines.podman import PodmanEngine
    from pare.stores.transports import open_location

    store, name = open_location(location)
    size = store.read(name).compressed_size
    engine = PodmanEngine(state)
    with private_network() as net, engine.running(location, port=port, network=net, ready_path=path) as url:
        got = httpx.get(url + path, timeout=10.0)
        return Answer(got.status_code, got.content, size)


def verify(before: Path, after_text: str, context: Path, port: int, path: str = "/",
           bases: Mapping[str, str] | None = None) -> tuple[Answer, Answer]:
    """(original's answer, rewrite's answer); VerifyFailed when they differ or the rewrite is larger."""
    from pare.engines.storage import remove_storage

    with tempfile.TemporaryDirectory(prefix="pare-fix-verify-") as tmp:
        work = Path(tmp)
        rewritten = work / "Dockerfile.fixed"
        rewritten.write_text(after_text, encoding="utf-8")
        try:
            old = _answer(build(before, context, work / "before", bases), port, path, work / "podman")
            new = _answer(build(rewritten, context, work / "after", bases), port, path, work / "podman")
        finally:
            remove_storage(work / "podman")
    if (old.status, old.body) != (new.status, new.body):
        raise VerifyFailed(f"the rewrite answers GET {path} with {new.status} ({len(new.body)} bytes), the "
                           f"original with {old.status} ({len(old.body)} bytes)")
    if new.size > old.size:
        raise VerifyFailed(f"the rewrite is larger: {new.size} bytes compressed against {old.size}")
    return old, new
