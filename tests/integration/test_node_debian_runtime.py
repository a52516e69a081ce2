"""`--node-runtime debian`: the Express example built with Debian's nodejs instead of the official
build, run by podman, answering (docs/runtimes.md, "Which node").

Real parts: Debian's bookworm index and archive (nodejs 18, libnode, ICU, libuv... as .debs), the
npm registry (npm and the official node of the same version, which installs the dependencies and
never ships), pare's native assembler, an OCI layout, podman with runc. `--level 1`: contents matter
here, not the compressor.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from helpers import layer_files
from pare.builder import build
from pare.engines.podman import PodmanEngine
from pare.localregistry import free_port
from pare.native.lock import read_lock
from pare.native.runtimes.node import DEBIAN_NODE, NODE_PATH

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "node-express"


def test_debians_nodejs_ships_with_its_packages_and_the_app_answers(tmp_path: Path,
                                                                     podman: PodmanEngine) -> None:
    app = tmp_path / "node-express"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("pare.lock"))
    location = f"oci:{tmp_path}/layout:debian"
    result = build(app, location, level=1, suite="bookworm", settings={"node_runtime": "debian"})
    lock = read_lock(app)
    assert lock is not None and dict(lock.request)["node_runtime"] == "debian"
    shipped = {a.name: a.version for a in lock.select(kind="deb", role="runtime")}
    assert shipped["nodejs"].startswith("18.") and "libnode108" in shipped
    # the official build of the same version only runs npm: a toolchain entry, never the runtime
    official = [a for a in lock.select(kind="npm") if a.name.startswith("node-linux-")]
    assert official and {a.role for a in official} == {"toolchain"}
    assert {a.version for a in official} == {shipped["nodejs"].split("+")[0]}

    files = layer_files(tmp_path / "layout", "debian")
    assert files[NODE_PATH][0] == "symlink" and files[DEBIAN_NODE][0] == "file"
    assert files[DEBIAN_NODE][1] < 1_000_000  # the launcher; node itself is libnode
    libnode = [p for p in files if "/libnode.so." in p and files[p][0] == "file"]
    assert libnode and any("/libicudata.so." in p for p in files)
    for package in ("nodejs", "libnode108", "libuv1"):  # each library claimed by its package
        assert f"/var/lib/dpkg/status.d/{package}" in files, package
    assert not any(p.startswith("/usr/share/nodejs/@types/") for p in files)
    assert any(p.startswith("/usr/share/nodejs/undici/") for p in files)  # read at start
    assert result.image is not None and result.image.layers[0].size > 10_000_000

    port = free_port()
    with podman.serving(location, port=port, timeout=120) as container:
        answer = httpx.get(container.url + "/", timeout=5)
        stopped = container.stop(grace=10)
    assert answer.status_code == 200 and answer.text == "hello from node-express\n"
    assert stopped.stopped_after < 5.0
