"""copy() between local stores (layouts and archives); registries are covered in tests/integration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpers import two_platform_index
from pare.errors import NotFound, UsageError
from pare.oci import mediatypes as mt
from pare.oci.descriptor import Platform
from pare.oci.mutate import with_compression
from pare.stores.copy import copy
from pare.stores.layout import LayoutStore


def test_layout_to_archive_to_layout_round_trip(tmp_path: Path, make_image: Any) -> None:
    image = make_image({"bin/app": b"x" * 10000}, {"etc/a": b"a"})
    LayoutStore(tmp_path / "src").write(image, "v1")
    result = copy(f"oci:{tmp_path / 'src'}:v1", f"docker-archive:{tmp_path / 'a.tar'}:app:1")
    assert result.destination == f"docker-archive:{tmp_path / 'a.tar'}:app:1"
    assert result.layers == 2 and result.blobs_moved == 4  # 2 layers, config, manifest
    assert set(result.phases) == {"read", "write"}
    back = copy(f"docker-archive:{tmp_path / 'a.tar'}:app:1", f"oci:{tmp_path / 'dst'}:v2")
    read = LayoutStore(tmp_path / "dst").read("v2")
    assert read.digest == back.digest
    assert read.config.raw == image.config.raw
    assert [layer.diff_id for layer in read.layers] == [layer.diff_id for layer in image.layers]
    assert all(layer.media_type == mt.OCI_LAYER for layer in read.layers)
    doc = back.to_dict()
    assert doc["digest"] == str(back.digest) and doc["wall_seconds"] >= doc["phases"]["write"]


def test_second_copy_skips_blobs(tmp_path: Path, make_image: Any) -> None:
    LayoutStore(tmp_path / "src").write(make_image({"a": b"1"}), "t")
    copy(f"oci:{tmp_path / 'src'}:t", f"oci:{tmp_path / 'dst'}:t")
    again = copy(f"oci:{tmp_path / 'src'}:t", f"oci:{tmp_path / 'dst'}:t2")
    assert again.blobs_moved == 0 and again.blobs_skipped == 3 and again.bytes_moved == 0
    assert sorted(LayoutStore(tmp_path / "dst").names()) == ["t", "t2"]


def test_with_compression_keeps_config_and_compressed_layers(tmp_path: Path, make_image: Any) -> None:
    plain = make_image({"a": b"a" * 5000}, {"b": b"b"}, compression="none", docker=True)
    gz = with_compression(plain, "gzip", tmp_path, only_uncompressed=True, parallel=2)
    assert gz.config.raw == plain.config.raw, "image ID unchanged"
    assert [layer.media_type for layer in gz.layers] == [mt.DOCKER_LAYER_GZIP] * 2
    assert [layer.diff_id for layer in gz.layers] == [layer.diff_id for layer in plain.layers]
    kept = with_compression(gz, "zstd", tmp_path, only_uncompressed=True)
    assert [layer.digest for layer in kept.layers] == [layer.digest for layer in gz.layers], \
        "compressed layers are kept"
    zst = with_compression(plain, "zstd", tmp_path, only_uncompressed=True)
    assert zst.media_type == mt.OCI_MANIFEST, "zstd has no Docker media type"
    assert all(layer.media_type == mt.OCI_LAYER_ZSTD for layer in zst.layers)


def test_local_store_default(tmp_path: Path, make_image: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARE_STORE", str(tmp_path / "embedded"))
    LayoutStore(tmp_path / "src").write(make_image({"a": b"1"}), "t")
    result = copy(f"oci:{tmp_path / 'src'}:t", "local:example.com/app:1")
    assert result.destination == "local:example.com/app:1"
    assert LayoutStore(tmp_path / "embedded").read("example.com/app:1").digest == result.digest


def test_errors_are_pare_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        copy(f"oci:{tmp_path / 'none'}", f"oci:{tmp_path / 'dst'}")
    with pytest.raises(UsageError):
        copy("dir:/x", f"oci:{tmp_path / 'dst'}")
    with pytest.raises(UsageError):
        copy(f"oci:{tmp_path}", f"oci:{tmp_path / 'dst'}", parallel=0)
    assert not (tmp_path / "dst").exists()


def test_copy_all_moves_every_platform_and_keeps_the_index_digest(tmp_path: Path) -> None:
    """layout -> archive -> layout with --all: the same index, byte for byte, at every stop."""
    index = two_platform_index(tmp_path / "build")
    LayoutStore(tmp_path / "src").write_index(index, "multi")
    to_archive = copy(f"oci:{tmp_path / 'src'}:multi", f"docker-archive:{tmp_path / 'm.tar'}:multi:1",
                      all_platforms=True)
    assert to_archive.digest == index.digest and to_archive.is_index
    assert to_archive.platforms == ("linux/amd64", "linux/arm64")
    assert to_archive.to_dict()["platforms"] == ["linux/amd64", "linux/arm64"]
    back = copy(f"docker-archive:{tmp_path / 'm.tar'}:multi:1", f"oci:{tmp_path / 'back'}:multi",
                all_platforms=True)
    assert back.digest == index.digest
    again = LayoutStore(tmp_path / "back").read_index("multi")
    assert again is not None and again.raw == index.raw
    assert [i.digest for i in again.images] == [i.digest for i in index.images]


def test_copy_without_all_picks_one_platform(tmp_path: Path) -> None:
    index = two_platform_index(tmp_path / "build")
    LayoutStore(tmp_path / "src").write_index(index, "multi")
    one = copy(f"oci:{tmp_path / 'src'}:multi", f"oci:{tmp_path / 'dst'}:one")
    assert one.digest == index.images[0].digest and not one.is_index
    arm = copy(f"oci:{tmp_path / 'src'}:multi", f"oci:{tmp_path / 'dst'}:arm",
               platform=Platform.parse("arm64"))
    assert arm.digest == index.images[1].digest
    assert LayoutStore(tmp_path / "dst").read_index("arm") is None
    with pytest.raises(UsageError, match="--all moves every platform"):
        copy(f"oci:{tmp_path / 'src'}:multi", f"oci:{tmp_path / 'x'}", all_platforms=True,
             platform=Platform.parse("arm64"))
    single = copy(f"oci:{tmp_path / 'dst'}:one", f"oci:{tmp_path / 'y'}:one", all_platforms=True)
    assert single.digest == index.images[0].digest and not single.is_index, "--all of one image: that image"
