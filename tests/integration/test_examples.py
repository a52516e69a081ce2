"""Every example builds natively into a small image that really runs and answers GET / with 200.

Real parts throughout: the host toolchains (go, npm against the npm registry, pip against PyPI),
pare's native assembler, an OCI layout, and podman (runc, private vfs storage) to run the image.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import need
from pare.builder import build
from pare.engines.podman import PodmanEngine
from pare.localregistry import free_port
from pare.native.assemble import STRIP_ANNOTATION
from pare.oci import mediatypes as mt
from pare.stores.layout import LayoutStore

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# The goals, compressed bytes (config + layer blobs)
GOALS = {"go-hello": 3_000_000, "node-express": 27_500_000, "python-flask": 30_000_000}
GREETING = {"go-hello": "hello from go-hello", "node-express": "hello from node-express",
            "python-flask": "hello from python-flask"}


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodmanEngine]:
    need("podman")
    need("runc")
    yield PodmanEngine(tmp_path_factory.mktemp("podman"))


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
    need("go" if app == "go-hello" else "npm" if app == "node-express" else "python3")
    layout = tmp_path / "layout"
    result = build(EXAMPLES / app, f"oci:{layout}:{app}")
    assert result.path == "native"
    assert result.compressed_size <= GOALS[app], f"{app}: {result.compressed_size} bytes compressed"
    image = LayoutStore(layout).read(app)
    assert image.digest == result.digest
    # the defaults podman must run: zstd layers, ELF files stripped (node 20 ships unstripped)
    assert {layer.media_type for layer in image.layers} == {mt.OCI_LAYER_ZSTD}
    if app == "node-express":
        assert STRIP_ANNOTATION in (image.layers[0].descriptor.annotations or {})
    runtime = image.config.runtime
    assert runtime["User"] == "65532:65532"
    # runtime, (deps,) app: the app's code sits alone in the top layer
    assert [layer.name for layer in result.layers][-1] == "app"
    assert result.layers[-1].compressed < 3_000_000
    port = free_port()
    with podman.running(f"oci:{layout}:{app}", port=port) as url:
        response = httpx.get(url + "/", timeout=5)
    assert response.status_code == 200
    assert GREETING[app] in response.text


def test_node_code_change_rewrites_only_the_app_layer(tmp_path: Path, build_cache: Path) -> None:
    need("npm")
    app = tmp_path / "node-express"
    shutil.copytree(EXAMPLES / "node-express", app)
    first = build(app, f"oci:{tmp_path}/l:one")
    server = app / "server.js"
    server.write_text(server.read_text().replace("hello from", "hi from"))
    second = build(app, f"oci:{tmp_path}/l:two")
    assert [layer.digest for layer in first.layers[:-1]] == [layer.digest for layer in second.layers[:-1]]
    assert first.layers[-1].digest != second.layers[-1].digest
    assert second.build_seconds < 5  # toolchain and lower layers all cached


def test_python_native_build_is_reproducible_without_cache(tmp_path: Path, build_cache: Path) -> None:
    from pare.builder import verify
    check = verify(EXAMPLES / "python-flask")
    assert check.reproducible, check.differences
    assert check.first.digest == check.second.digest
