"""Locations as skopeo users write them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pare.errors import InvalidReference, UsageError
from pare.stores.archive import ArchiveStore
from pare.stores.layout import LayoutStore
from pare.stores.transports import Location, open_location, parse_location


@pytest.mark.parametrize("text, expected", [
    ("oci:/tmp/x", Location("oci", "/tmp/x", None)),
    ("oci:/tmp/x:v1", Location("oci", "/tmp/x", "v1")),
    ("docker-archive:/tmp/a.tar", Location("docker-archive", "/tmp/a.tar", None)),
    ("docker-archive:/tmp/a.tar:app:1", Location("docker-archive", "/tmp/a.tar", "app:1")),
    ("docker://127.0.0.1:5000/app:1", Location("docker", None, "127.0.0.1:5000/app:1")),
    ("127.0.0.1:5000/app:1", Location("docker", None, "127.0.0.1:5000/app:1")),
    ("docker://busybox", Location("docker", None, "busybox")),
    ("localhost/app", Location("docker", None, "localhost/app")),
    ("ghcr.io/o/app:1", Location("docker", None, "ghcr.io/o/app:1")),
])
def test_parse_location(text: str, expected: Location) -> None:
    assert parse_location(text) == expected


def test_archive_ref_with_registry_port(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar"
    archive.write_bytes(b"")
    loc = parse_location(f"docker-archive:{archive}:localhost:5000/app:1")
    assert (loc.path, loc.name) == (str(archive), "localhost:5000/app:1")


def test_local_uses_the_embedded_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARE_STORE", str(tmp_path / "store"))
    loc = parse_location("local:app:1")
    assert (loc.transport, loc.path, loc.name) == ("local", str(tmp_path / "store"), "app:1")
    store, _ = open_location("local:")
    assert isinstance(store, LayoutStore) and store.path == tmp_path / "store"


def test_open_store_kinds(tmp_path: Path) -> None:
    layout, _ = open_location(f"oci:{tmp_path}", parallel=7)
    assert isinstance(layout, LayoutStore) and layout.parallel == 7
    archive, name = open_location(f"docker-archive:{tmp_path / 'x.tar'}:app:1")
    assert isinstance(archive, ArchiveStore) and name == "app:1"
    with pytest.raises(UsageError):
        open_location(f"oci:{tmp_path}", parallel=0)


@pytest.mark.parametrize("text, error", [
    ("", UsageError), ("oci:", UsageError), ("dir:/tmp/x", UsageError),
    ("containers-storage:x", UsageError), ("Not A Ref", InvalidReference),
    ("docker://UPPER/Case:bad tag", InvalidReference),
])
def test_bad_locations(text: str, error: type) -> None:
    with pytest.raises(error):
        parse_location(text)
