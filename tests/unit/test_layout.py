"""The OCI layout store: round trips, names, platforms, atomic and verified writes."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from concurrency import blob_ok, gc_until, run_all, write_layout
from helpers import corrupt_blobs, two_platform_index, write_multiarch
from pare.errors import DigestMismatch, ManifestError, NotFound, UsageError
from pare.oci import mediatypes as mt
from pare.oci.descriptor import Platform
from pare.oci.digest import sha256
from pare.oci.image import Image
from pare.oci.layer import BlobLayer
from pare.stores.layout import REF_NAME, LayoutStore


def test_round_trip_by_tag_digest_and_only(tmp_path: Path, make_image: Any) -> None:
    image = make_image({"bin/app": b"app" * 1000}, {"etc/conf": b"x"})
    store = LayoutStore(tmp_path / "oci")
    digest = store.write(image, "v1")
    assert digest == image.digest
    assert json.loads((tmp_path / "oci" / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((tmp_path / "oci" / "index.json").read_text())
    assert index["manifests"][0]["annotations"] == {REF_NAME: "v1"}
    for read in (store.read("v1"), store.read(str(digest)), store.read()):
        assert read.digest == image.digest
        assert read.config.raw == image.config.raw
        assert [layer.diff_id for layer in read.layers] == [layer.diff_id for layer in image.layers]
        with read.layers[0].open() as blob, image.layers[0].open() as original:
            assert blob.read() == original.read()
    assert store.stats.blobs_moved == 4  # config, two layers, manifest
    assert not list((tmp_path / "oci" / "blobs" / "sha256").glob(".tmp-*"))


def test_second_write_skips_existing_blobs_and_retags(tmp_path: Path, make_image: Any) -> None:
    store = LayoutStore(tmp_path)
    first = make_image({"a": b"1"})
    store.write(first, "latest")
    second = make_image({"a": b"1"}, {"b": b"2"})
    store.write(second, "latest")
    store.write(first, "old")
    assert store.stats.blobs_skipped >= 2
    assert store.read("latest").digest == second.digest
    assert store.read("old").digest == first.digest
    assert sorted(store.names()) == ["latest", "old"]
    with pytest.raises(UsageError, match="holds 2 images"):
        store.read()
    with pytest.raises(NotFound, match="no image named 'nope'"):
        store.read("nope")


def test_corrupt_layer_is_refused_and_leaves_nothing(tmp_path: Path, make_image: Any) -> None:
    good = make_image({"a": b"1"})
    layer = good.layers[0]
    bad = BlobLayer(layer.descriptor, layer.diff_id, lambda: _corrupt_copy(tmp_path, layer).open("rb"))
    image = Image(good.manifest, good.config, (bad,))
    store = LayoutStore(tmp_path / "oci")
    with pytest.raises(DigestMismatch):
        store.write(image, "x")
    blobs = tmp_path / "oci" / "blobs" / "sha256"
    assert not (blobs / layer.digest.hex).exists()
    assert not list(blobs.glob(".tmp-*"))
    assert not (tmp_path / "oci" / "index.json").exists()


def _corrupt_copy(tmp_path: Path, layer: Any) -> Path:
    with layer.open() as fh:
        data = bytearray(fh.read())
    data[-1] ^= 0xFF
    path = tmp_path / "corrupt.blob"
    path.write_bytes(bytes(data))
    return path


def test_index_entry_resolved_by_platform(tmp_path: Path, make_image: Any) -> None:
    store = LayoutStore(tmp_path)
    amd = make_image({"amd": b"1"})
    arm, _ = write_multiarch(tmp_path, amd, "multi")
    assert store.read("multi").digest == amd.digest
    assert store.read("multi", Platform("linux", "arm64")).digest == arm.digest
    with pytest.raises(NotFound, match="no image for platform linux/s390x"):
        store.read("multi", Platform("linux", "s390x"))


def test_concurrent_writers_keep_every_tag(tmp_path: Path, make_image: Any) -> None:
    images = [make_image({f"f{i}": bytes([i]) * 100}) for i in range(8)]
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            LayoutStore(tmp_path).write(images[i], f"t{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(LayoutStore(tmp_path).names()) == sorted(f"t{i}" for i in range(8))


def test_delete_and_gc(tmp_path: Path, make_image: Any) -> None:
    store = LayoutStore(tmp_path)
    keep = make_image({"keep": b"k"})
    drop = make_image({"drop": b"d" * 5000})
    store.write(keep, "keep")
    store.write(drop, "drop")
    store.delete("drop")
    assert store.names() == ["keep"]
    result = store.gc()
    assert result.removed == 3 and result.freed > 0  # drop's manifest, config and layer
    assert store.read("keep").digest == keep.digest
    assert not store.blob_path(drop.layers[0].digest).exists()


@pytest.mark.parametrize("setup, error", [
    (lambda p: None, NotFound),
    (lambda p: p.mkdir() or (p / "junk").write_text("x"), ManifestError),
    (lambda p: p.mkdir() or (p / "index.json").write_text("{not json"), ManifestError),
    (lambda p: p.mkdir() or (p / "index.json").write_text('{"schemaVersion": 2, "manifests": [{}]}'),
     ManifestError),
    (lambda p: p.mkdir() or (p / "oci-layout").write_text('{"imageLayoutVersion": "9"}')
     or (p / "index.json").write_text('{"schemaVersion": 2, "manifests": []}'), ManifestError),
])
def test_malformed_layouts_are_one_clear_error(tmp_path: Path, setup: Any, error: type) -> None:
    path = tmp_path / "layout"
    setup(path)
    with pytest.raises(error):
        LayoutStore(path).read()


def test_missing_or_tampered_blobs(tmp_path: Path, make_image: Any) -> None:
    store = LayoutStore(tmp_path)
    image = make_image({"a": b"1"})
    store.write(image, "t")
    config_path = store.blob_path(image.config.digest)
    config_path.write_bytes(config_path.read_bytes().replace(b"amd64", b"arm64"))
    with pytest.raises(DigestMismatch):
        store.read("t")
    config_path.unlink()
    with pytest.raises(NotFound, match="missing"):
        store.read("t")
    with pytest.raises(NotFound):
        store.read(str(sha256(b"nothing")))


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "zero the tail"])
def test_a_damaged_blob_already_there_is_replaced_not_trusted(tmp_path: Path, make_image: Any,
                                                             damage: str) -> None:
    """Guards the skip path of write(): a blob of the right size was trusted without its digest, so a
    corrupted one stayed, and was shipped by every copy after."""
    image = make_image({"bin/app": b"A" * 20_000}, {"etc/x": b"x"})
    store = LayoutStore(tmp_path)
    store.write(image, "v1")
    path = store.blob_path(image.layers[0].digest)
    data = bytearray(path.read_bytes())
    if damage == "flip a byte":
        data[len(data) // 2] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[-64:] = bytes(64)  # same size, e.g. a disk that lost a block
    path.write_bytes(bytes(data))
    again = LayoutStore(tmp_path)
    again.write(image, "v2")
    assert again.stats.blobs_moved == 1 and again.stats.blobs_skipped == 3  # only the layer rewritten
    assert corrupt_blobs(tmp_path / "blobs" / "sha256") == []


def test_a_blob_damaged_after_writing_is_refused_when_read(tmp_path: Path, make_image: Any) -> None:
    """Guards reads: layer streams from a layout are checked against their digest (a corrupted blob
    gave its bytes silently to analyze, copies into archives, pushes)."""
    image = make_image({"bin/app": b"B" * 20_000})
    store = LayoutStore(tmp_path)
    store.write(image, "v1")
    path = store.blob_path(image.layers[0].digest)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    layer = store.read("v1").layers[0]
    with pytest.raises(DigestMismatch), layer.open() as stream:
        while stream.read(1 << 16):
            pass
    with pytest.raises(DigestMismatch):
        LayoutStore(tmp_path / "copy").write(store.read("v1"), "v1")
    assert not (tmp_path / "copy" / "blobs" / "sha256" / layer.digest.hex).exists()


def test_many_writer_processes_and_a_gc_at_once(tmp_path: Path) -> None:
    """Guards the layout under real concurrency: gc() held the lock but write() took it only for the
    index.json update, so a gc in another process deleted temp files in flight and blobs not yet in
    the index. Four writer processes (three images each) and a process running gc in a loop: every
    writer succeeds, and every image in the index is complete and verifies."""
    layout = tmp_path / "layout"
    workers, count = 4, 3
    jobs = [(write_layout, (str(layout), w, count, str(tmp_path / "work"))) for w in range(workers)]
    codes = run_all(jobs, gc_until, (str(layout),))
    assert codes == [0] * (workers + 1)
    store = LayoutStore(layout)
    assert sorted(store.names()) == sorted(f"w{w}-{i}" for w in range(workers) for i in range(count))
    for name in store.names():
        image = store.read(name)
        digests = [image.digest, image.config.digest, *(layer.digest for layer in image.layers)]
        assert all(blob_ok(layout, str(d)) for d in digests), name
    assert store.gc().removed == 0, "nothing unreferenced left behind"
    assert not list((layout / "blobs" / "sha256").glob(".tmp-*"))


def test_gc_keeps_what_artifacts_and_referrers_point_at(tmp_path: Path, make_image: Any) -> None:
    """Guards gc's walk, which followed only image manifests and indexes: the blobs of an artifact
    manifest (a signature, an SBOM) that index.json lists were deleted."""
    from pare.oci.descriptor import Descriptor
    from pare.oci.digest import sha256
    store = LayoutStore(tmp_path)
    image = make_image({"a": b"1"})
    store.write(image, "app")
    payload = b'{"sbom": true}'
    (tmp_path / "blobs" / "sha256" / sha256(payload).hex).write_bytes(payload)
    artifact = json.dumps({"mediaType": "application/vnd.oci.artifact.manifest.v1+json",
                           "artifactType": "application/spdx+json",
                           "blobs": [{"mediaType": "application/spdx+json", "digest": str(sha256(payload)),
                                      "size": len(payload)}],
                           "subject": image.manifest.descriptor().to_dict()}).encode()
    (tmp_path / "blobs" / "sha256" / sha256(artifact).hex).write_bytes(artifact)
    entry = Descriptor("application/vnd.oci.artifact.manifest.v1+json", sha256(artifact), len(artifact))
    store._update_index(lambda entries: [*entries, entry])
    result = store.gc()
    assert (tmp_path / "blobs" / "sha256" / sha256(payload).hex).exists()
    assert result.removed == 0


def test_an_index_round_trips_whole(tmp_path: Path) -> None:
    """write_index/read_index: every platform's image and the index's exact bytes, under one name."""
    index = two_platform_index(tmp_path / "build")
    store = LayoutStore(tmp_path / "oci")
    assert store.write_index(index, "multi") == index.digest
    entry = json.loads((tmp_path / "oci" / "index.json").read_text())["manifests"]
    assert entry == [{"mediaType": mt.OCI_INDEX, "digest": str(index.digest), "size": index.size,
                      "annotations": {REF_NAME: "multi"}}]
    back = store.read_index("multi")
    assert back is not None and back.raw == index.raw
    assert [i.digest for i in back.images] == [i.digest for i in index.images]
    assert store.read("multi", Platform("linux", "arm64")).digest == index.images[1].digest
    assert store.read_index(str(index.digest)) is not None
    store.write(index.images[0], "single")
    assert store.read_index("single") is None
    assert store.gc().removed == 0, "the children are reachable through the index"
    assert corrupt_blobs(tmp_path / "oci" / "blobs" / "sha256") == []


def test_a_nested_index_is_refused_in_one_line(tmp_path: Path) -> None:
    """Indexes of indexes move as single platforms only (read), never half (read_index)."""
    inner = two_platform_index(tmp_path / "build")
    store = LayoutStore(tmp_path / "oci")
    store.write_index(inner, "inner")
    from pare.oci.descriptor import Descriptor
    from pare.oci.manifest import Index
    outer = Index.build([Descriptor(mt.OCI_INDEX, inner.digest, inner.size)])
    (tmp_path / "oci" / "blobs" / "sha256" / outer.digest.hex).write_bytes(outer.raw)
    entry = Descriptor(mt.OCI_INDEX, outer.digest, len(outer.raw), {REF_NAME: "outer"})
    store._update_index(lambda entries: [*entries, entry])
    with pytest.raises(ManifestError, match="pare moves indexes of image manifests only") as info:
        store.read_index("outer")
    assert "\n" not in str(info.value)
    assert store.read("outer", Platform("linux", "arm64")).digest == inner.images[1].digest
