"""buildah on overlay storage (the default where the kernel mounts it) and on vfs build the same
image, and pare's clean-up leaves no mount and no directory behind.

Real parts: the kernel's overlay, buildah with chroot isolation, a busybox-static RUN step (no base
image needed: FROM scratch plus the busybox binary).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import need
from pare.engines.base import BuildRequest
from pare.engines.buildah import BuildahEngine
from pare.engines.storage import PIN_FILE, mounts_under, overlay_mountable, remove_storage

pytestmark = pytest.mark.integration

DOCKERFILE = """FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "echo built > /out && /bin/busybox rm /bin/busybox"]
COPY app.txt /app.txt
"""


def context(tmp: Path) -> Path:
    ctx = tmp / "ctx"
    ctx.mkdir()
    shutil.copy(need("busybox"), ctx / "busybox")
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "app.txt").write_text("one line of app\n")
    return ctx


def build_with(driver: str, state: Path, ctx: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str]]:
    monkeypatch.setenv("PARE_STORAGE_DRIVER", driver)
    engine = BuildahEngine(state)
    result = engine.build(BuildRequest(ctx, "localhost/pare-test/drivers:latest", timestamp=0),
                          state / "export")
    assert (state / PIN_FILE).read_text().strip() == driver
    return result.image.digest, [str(d.digest) for d in result.image.manifest.layers]


def test_overlay_probe_leaves_nothing_behind(tmp_path: Path) -> None:
    overlay_mountable(tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert mounts_under(tmp_path) == []


def test_overlay_and_vfs_build_the_same_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    need("buildah")
    if not overlay_mountable(tmp_path):  # root on this kind of machine: it mounts; elsewhere pare uses vfs
        pytest.skip("the kernel will not mount an overlay here, so pare's engines use vfs only")
    ctx = context(tmp_path)
    overlay = build_with("overlay", tmp_path / "overlay", ctx, monkeypatch)
    vfs = build_with("vfs", tmp_path / "vfs", ctx, monkeypatch)
    assert overlay == vfs
    assert len(overlay[1]) == 3  # COPY, RUN, COPY
    assert (tmp_path / "overlay" / "root" / "overlay-images").is_dir()
    assert (tmp_path / "vfs" / "root" / "vfs-images").is_dir()
    for state in (tmp_path / "overlay", tmp_path / "vfs"):
        assert mounts_under(state) == []  # buildah unmounted every step's container
        remove_storage(state)
        assert not state.exists()


def test_remove_storage_unmounts_what_an_interrupted_build_left(tmp_path: Path) -> None:
    state = tmp_path / "state"
    merged = state / "root" / "overlay" / "abc" / "merged"
    merged.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(merged)], check=True)
    (merged / "file").write_text("inside a live mount\n")
    assert mounts_under(state) == [str(merged)]
    remove_storage(state)
    assert mounts_under(state) == []
    assert not state.exists()
