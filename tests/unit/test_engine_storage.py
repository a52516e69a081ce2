"""Choosing the engines' storage driver: pinned per state directory, never changed under an existing
root, overridable; and finding the mounts an interrupted build left (mountinfo parsing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pare.engines import storage
from pare.engines.storage import PIN_FILE, mounts_under, storage_driver
from pare.errors import UsageError


@pytest.fixture(autouse=True)
def no_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(storage.ENV, raising=False)


def test_first_use_probes_and_pins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(storage, "overlay_mountable", lambda parent: calls.append(parent) or True)
    assert storage_driver(tmp_path / "state") == "overlay"
    assert (tmp_path / "state" / PIN_FILE).read_text() == "overlay\n"
    monkeypatch.setattr(storage, "overlay_mountable", lambda parent: False)
    assert storage_driver(tmp_path / "state") == "overlay"  # pinned: the probe is not asked again
    assert calls == [tmp_path / "state"]


def test_without_overlay_falls_back_to_vfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "overlay_mountable", lambda parent: False)
    assert storage_driver(tmp_path) == "vfs"


def test_an_existing_vfs_root_keeps_vfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A state directory made before overlay support must not be reopened with another driver."""
    (tmp_path / "root" / "vfs-images").mkdir(parents=True)
    monkeypatch.setattr(storage, "overlay_mountable", lambda parent: True)
    monkeypatch.setenv(storage.ENV, "overlay")
    assert storage_driver(tmp_path) == "vfs"


def test_environment_overrides_the_probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "overlay_mountable", lambda parent: True)
    monkeypatch.setenv(storage.ENV, "vfs")
    assert storage_driver(tmp_path) == "vfs"
    monkeypatch.setenv(storage.ENV, "btrfs")
    with pytest.raises(UsageError, match="btrfs"):
        storage_driver(tmp_path / "other")


def test_mounts_under_finds_nested_mounts_deepest_first() -> None:
    info = "\n".join([
        "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw",
        "90 22 0:50 / /tmp/st/root/overlay/abc/merged rw - overlay overlay rw",
        "91 22 0:51 / /tmp/st/root/overlay rw - tmpfs tmpfs rw",
        "92 22 0:52 / /tmp/st2 rw - tmpfs tmpfs rw",
        "93 22 0:53 / /tmp/st/with\\040space rw - tmpfs tmpfs rw",
        "garbage",
    ])
    assert mounts_under(Path("/tmp/st"), info) == [
        "/tmp/st/root/overlay/abc/merged", "/tmp/st/root/overlay", "/tmp/st/with space"]
