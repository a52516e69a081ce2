"""`pare fix --verify`: build the Dockerfile and its rewrite, run both, and check they answer alike.

Both builds go through pare.lint.measure.build (buildah, FROMs mapped with --base); both images run
under podman in a private network namespace with PORT set, and GET PATH must give the same status and
body from each. The sizes are the images' compressed sizes, what a registry stores and a pull moves.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from pare.errors import PareError
from pare.lint.measure import BuildInputs, build_in, buildah_store, nameable, nameable_dir


class VerifyFailed(PareError):
    """The rewrite does not build, or answers differently, or is not smaller."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    size: int  # compressed bytes of the image (config and layers)
    layer_bytes: int  # compressed bytes of its layers alone: a USER or CMD edit grows only the config
    location: str  # where the image was built (gone after verify() unless it was given `work`)


def answer(location: str, port: int, path: str, state: Path, env: Mapping[str, str]) -> Answer:
    from pare.engines.netns import private_network
    from pare.engines.podman import PodmanEngine
    from pare.stores.transports import open_location

    store, name = open_location(location)
    image = store.read(name)
    engine = PodmanEngine(state)
    with nameable_dir() as links, private_network() as net, \
            engine.running(nameable(location, links / "image"), port=port, env=env, network=net,
                           ready_path=path) as url:  # podman names the image after the layout's path
        got = httpx.get(url + path, timeout=10.0)
        return Answer(got.status_code, got.content, image.compressed_size,
                      sum(layer.size for layer in image.layers), location)


def verify(before: Path, after_text: str, context: Path, port: int, path: str = "/",
           inputs: BuildInputs | None = None, env: Mapping[str, str] | None = None,
           work: Path | None = None) -> tuple[Answer, Answer]:
    """(original's answer, rewrite's answer); VerifyFailed when they differ or the rewrite is larger.
    env: set in both containers beside PORT. work: a directory to build in that keeps both images
    (OCI layouts work/before and work/after), for a caller that looks at them after."""
    with contextlib.ExitStack() as stack:
        if work is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pare-fix-verify-")))
        old, new = build_and_ask(before, after_text, context, port, path, inputs, env or {}, work)
    compare(old, new, path)
    return old, new


def compare(old: Answer, new: Answer, path: str) -> None:
    """VerifyFailed unless the rewrite answers as the original did and its layers are no larger (a
    rewrite that only adds USER or a JSON CMD grows the config by a few bytes, and ships the same)."""
    if (old.status, old.body) != (new.status, new.body):
        raise VerifyFailed(f"the rewrite answers GET {path} with {new.status} ({len(new.body)} bytes), the "
                           f"original with {old.status} ({len(old.body)} bytes)")
    if new.layer_bytes > old.layer_bytes:
        raise VerifyFailed(f"the rewrite's layers are larger: {new.layer_bytes} bytes compressed against "
                           f"{old.layer_bytes}")


def build_and_ask(before: Path, after_text: str, context: Path, port: int, path: str,
                  inputs: BuildInputs | None, env: Mapping[str, str], work: Path) -> tuple[Answer, Answer]:
    """Both images built into work/before and work/after, each run and asked GET path."""
    from pare.engines.storage import remove_storage

    rewritten = work / "Dockerfile.fixed"
    rewritten.write_text(after_text, encoding="utf-8")
    with buildah_store(inputs) as store:  # one store: the bases pulled once, unchanged layers reused
        old_image = build_in(store, before, context, work / "before")
        new_image = build_in(store, rewritten, context, work / "after")
    state = podman_state()
    try:
        return answer(old_image, port, path, state, env), answer(new_image, port, path, state, env)
    finally:
        remove_storage(state)


def podman_state() -> Path:
    """A podman state directory with a short path: podman refuses a runroot over 50 characters, which
    a caller's work directory can easily make."""
    return Path(tempfile.mkdtemp(prefix="pare-fv-"))
