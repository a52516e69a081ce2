"""Every example builds natively into a small image that really runs, answers GET / with 200 on a
PORT chosen when it starts, and stops within 2 s of `podman stop` (docs/runtime-contract.md).

Real parts throughout: runtimes from pinned packages (Debian's archive, the npm registry's node
builds, PyPI's pip), npm against the npm registry and pip against PyPI run by those runtimes,
pare's native assembler, an OCI layout, and podman (runc, private vfs storage) to run the image.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pare.builder import build
from pare.engines.podman import PodmanEngine
from pare.localregistry import free_port
from pare.native.assemble import STRIP_ANNOTATION
from pare.oci import mediatypes as mt
from pare.stores.layout import LayoutStore

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# The goals, compressed bytes (config + layer blobs). Node: issue 3 set 40 MB and issue 5 met 26.7 MB
# with node 20; node 20 is end of life, and the current LTS (26) binary alone is 30.3 MB at zstd 19
# (node 20: 24.3 MB), so the pinned default runtime sets the floor (issue 9's note measures it).
GOALS = {"go-hello": 3_000_000, "node-express": 34_000_000, "python-flask": 30_000_000}
GREETING = {"go-hello": "hello from go-hello", "node-express": "hello from node-express",
            "python-flask": "hello from python-flask"}


@pytest.fixture(scope="module")
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh build cache for this module: npm ci and pip install really run."""
    path = tmp_path_factory.mktemp("buildcache")
    old = os.environ.get("PARE_BUILD_CACHE")
    os.environ["PARE_BUILD_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("PARE_BUILD_CACHE", None)
    else:
        os.environ["PARE_BUILD_CACHE"] = old


@pytest.mark.parametrize("app", ["go-hello", "node-express", "python-flask"])
def test_native_image_is_small_and_answers(app: str, tmp_path: Path, podman: PodmanEngine,
                                           build_cache: Path) -> None:
    layout = tmp_path / "layout"
    source = tmp_path / app
    shutil.copytree(EXAMPLES / app, source)  # the build writes pare.lock beside the app
    result = build(source, f"oci:{layout}:{app}")
    assert result.path == "native"
    assert result.compressed_size <= GOALS[app], f"{app}: {result.compressed_size} bytes compressed"
    image = LayoutStore(layout).read(app)
    assert image.digest == result.digest
    # the defaults podman must run: zstd layers, ELF files stripped (the node build ships unstripped)
    assert {layer.media_type for layer in image.layers} == {mt.OCI_LAYER_ZSTD}
    if app == "node-express":
        assert STRIP_ANNOTATION in (image.layers[0].descriptor.annotations or {})
    runtime = image.config.runtime
    assert runtime["User"] == "65532:65532"
    # runtime, (deps,) app: the app's code sits alone in the top layer
    assert [layer.name for layer in result.layers][-1] == "app"
    assert result.layers[-1].compressed < 3_000_000
    # the run-time contract: a PORT picked at start (never the image's 8080), and a prompt stop
    port = free_port()
    with podman.serving(f"oci:{layout}:{app}", port=port) as container:
        response = httpx.get(container.url + "/", timeout=5)
        stopped = container.stop()
    assert response.status_code == 200
    assert GREETING[app] in response.text
    assert stopped.stopped_after < 2.0, f"{app}: stopped {stopped.stopped_after:.2f} s after podman stop"


def cache_files(cache: Path) -> dict[str, tuple[int, int]]:
    """Every file of the build cache with its inode and mtime: writing a file anew changes both."""
    return {str(path.relative_to(cache)): (path.lstat().st_ino, path.lstat().st_mtime_ns)
            for path in cache.rglob("*") if path.is_file()}


def test_node_code_change_rewrites_only_the_app_layer(tmp_path: Path, build_cache: Path) -> None:
    """The cache hit itself, not the seconds it saves (a timing bound is flaky on a shared machine):
    the lower layers' blobs are the very same files, and nothing but layer entries is added (npm
    did not install again, no ELF file was stripped again)."""
    app = tmp_path / "node-express"
    shutil.copytree(EXAMPLES / "node-express", app)
    first = build(app, f"oci:{tmp_path}/l:one")
    before = cache_files(build_cache)
    server = app / "server.js"
    server.write_text(server.read_text().replace("hello from", "hi from"))
    second = build(app, f"oci:{tmp_path}/l:two")
    after = cache_files(build_cache)
    assert [layer.digest for layer in first.layers[:-1]] == [layer.digest for layer in second.layers[:-1]]
    assert first.layers[-1].digest != second.layers[-1].digest
    for layer in first.layers[:-1]:
        blob = "layers/" + layer.digest.replace(":", "-")
        assert after[blob] == before[blob], f"{layer.name} layer was written again"
    added = set(after) - set(before)
    assert "layers/" + second.layers[-1].digest.replace(":", "-") in added
    assert all(path.startswith("layers/") for path in added), sorted(added)
    assert all(after[path] == before[path] for path in before if not path.startswith("layers/"))


def test_python_native_build_is_reproducible_without_cache(tmp_path: Path, build_cache: Path) -> None:
    from pare.builder import verify
    app = tmp_path / "python-flask"
    shutil.copytree(EXAMPLES / "python-flask", app)
    check = verify(app)
    assert check.reproducible, check.differences
    assert check.first.digest == check.second.digest
