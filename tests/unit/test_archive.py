"""docker-save archives: legacy and Docker 25+ layouts read in place, written in the Docker 25+ form."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from concurrency import run_all, write_archive
from helpers import tar_of, two_platform_index
from pare.errors import DigestMismatch, ManifestError, NotFound, PareError, UsageError
from pare.oci import mediatypes as mt
from pare.oci.descriptor import Platform
from pare.oci.digest import digest_stream, sha256
from pare.stores.archive import ArchiveStore


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def legacy_archive(path: Path, image: Any, tags: list[str]) -> None:
    """What `docker save` wrote before Docker 25: <id>/layer.tar, <config>.json, manifest.json."""
    with tarfile.open(path, "w") as tar:
        layer_paths = []
        for i, layer in enumerate(image.layers):
            with layer.open_uncompressed() as fh:
                data = fh.read()
            layer_id = sha256(f"{i}".encode() + data).hex
            info = tarfile.TarInfo(layer_id)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
            _add(tar, f"{layer_id}/VERSION", b"1.0")
            _add(tar, f"{layer_id}/layer.tar", data)
            layer_paths.append(f"{layer_id}/layer.tar")
        _add(tar, f"{image.config.digest.hex}.json", image.config.raw)
        manifest = [{"Config": f"{image.config.digest.hex}.json", "RepoTags": tags, "Layers": layer_paths}]
        _add(tar, "manifest.json", json.dumps(manifest).encode())
        _add(tar, "repositories", b"{}")


def test_legacy_archive_is_read_in_place(tmp_path: Path, make_image: Any) -> None:
    image = make_image({"bin/app": b"A" * 3000}, {"etc/x": b"y"})
    archive = tmp_path / "legacy.tar"
    legacy_archive(archive, image, ["app:1", "localhost:5000/app:2"])
    store = ArchiveStore(archive)
    assert store.names() == ["app:1", "localhost:5000/app:2"]
    for name in (None, "app:1", "docker.io/library/app:1", "localhost:5000/app:2", "@0"):
        read = store.read(name)
        assert read.config.raw == image.config.raw, "the config keeps its exact bytes (image ID)"
        assert read.media_type == mt.DOCKER_MANIFEST
        assert [layer.digest for layer in read.layers] == [layer.diff_id for layer in image.layers]
        assert all(layer.media_type == mt.DOCKER_LAYER for layer in read.layers)
    with read.layers[0].open() as blob:
        assert digest_stream(blob)[0] == image.layers[0].diff_id
    with pytest.raises(NotFound, match="app:1, localhost:5000/app:2"):
        store.read("other:1")


def test_write_then_read_back_docker25_format(tmp_path: Path, make_image: Any) -> None:
    image = make_image({"bin/app": b"B" * 5000}, {"c": b"c"}, compression="zstd")
    archive = tmp_path / "out.tar"
    store = ArchiveStore(archive)
    digest = store.write(image, "127.0.0.1:5000/demo/app:v1")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest_json = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        index = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
    assert {"oci-layout", "index.json", "manifest.json", "repositories"} <= names
    assert manifest_json[0]["RepoTags"] == ["127.0.0.1:5000/demo/app:v1"]
    assert manifest_json[0]["Layers"] == [f"blobs/sha256/{layer.diff_id.hex}" for layer in image.layers]
    annotations = index["manifests"][0]["annotations"]
    assert annotations["io.containerd.image.name"] == "127.0.0.1:5000/demo/app:v1"
    assert annotations["org.opencontainers.image.ref.name"] == "v1"
    read = ArchiveStore(archive).read("127.0.0.1:5000/demo/app:v1")
    assert read.digest == digest
    assert read.config.raw == image.config.raw
    assert all(layer.media_type == mt.OCI_LAYER for layer in read.layers)
    assert [layer.digest for layer in read.layers] == [layer.diff_id for layer in image.layers]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temp files left"


def test_several_images_per_archive(tmp_path: Path, make_image: Any) -> None:
    archive = tmp_path / "multi.tar"
    one, two = make_image({"one": b"1"}), make_image({"two": b"2"})
    legacy_archive(archive, one, ["one:1"])
    store = ArchiveStore(archive)
    store.write(two, "two:1")
    assert sorted(store.names()) == ["one:1", "two:1"]
    assert store.read("one:1").config.raw == one.config.raw
    assert store.read("docker.io/library/two:1").config.raw == two.config.raw
    with pytest.raises(NotFound):
        store.read("two")  # two:latest
    store.write(one, "two:1")  # retag: two:1 now names image one
    assert store.read("two:1").config.raw == one.config.raw
    assert store.read().config.raw == one.config.raw, "two names, one image: no ambiguity"
    store.write(two, "three:1")
    with pytest.raises(UsageError, match="holds 2 images"):
        store.read()


def test_corrupt_layer_in_archive_is_refused(tmp_path: Path, make_image: Any) -> None:
    image = make_image({"a": b"a" * 100})
    archive = tmp_path / "legacy.tar"
    legacy_archive(archive, image, ["a:1"])
    data = bytearray(archive.read_bytes())
    spot = data.find(b"a" * 100)
    data[spot] = ord("b")
    archive.write_bytes(bytes(data))
    read = ArchiveStore(archive).read("a:1")
    with pytest.raises(DigestMismatch), read.layers[0].open() as blob:
        while blob.read(1 << 20):
            pass
    out = tmp_path / "copy.tar"
    with pytest.raises(DigestMismatch):
        ArchiveStore(out).write(read, "a:1")
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("content, error", [
    (b"not a tar at all" * 100, ManifestError),
    (gzip.compress(b"x" * 1000), UsageError),
    (None, ManifestError),  # a tar without manifest.json or index.json
])
def test_malformed_archives(tmp_path: Path, content: bytes | None, error: type) -> None:
    path = tmp_path / "bad.tar"
    if content is None:
        with tarfile.open(path, "w") as tar:
            _add(tar, "hello.txt", b"hi")
    else:
        path.write_bytes(content)
    with pytest.raises(error):
        ArchiveStore(path).read()


def test_missing_archive(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        ArchiveStore(tmp_path / "nope.tar").read()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(manifest=st.one_of(st.binary(max_size=200), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
        st.sampled_from(["Config", "Layers", "RepoTags", "x"]), kids, max_size=4),
    max_leaves=12).map(lambda v: json.dumps(v).encode())))
def test_manifest_json_junk_never_crashes(tmp_path: Path, manifest: bytes) -> None:
    path = tmp_path / "fuzz.tar"
    with tarfile.open(path, "w") as tar:
        _add(tar, "manifest.json", manifest)
    store = ArchiveStore(path)
    try:
        store.read()
    except PareError:
        pass


def test_write_over_empty_file_and_refuse_junk(tmp_path: Path, make_image: Any) -> None:
    image = make_image({"a": b"1"})
    empty = tmp_path / "empty.tar"
    empty.write_bytes(b"")
    ArchiveStore(empty).write(image, "a:1")
    assert ArchiveStore(empty).names() == ["a:1"]
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"precious user data" * 100)
    with pytest.raises(ManifestError):
        ArchiveStore(junk).write(image, "a:1")
    assert junk.read_bytes() == b"precious user data" * 100, "a file that is not an archive is left alone"


def _gzip_legacy_archive(path: Path, image: Any, layer_bytes: bytes | None = None) -> None:
    """A legacy archive whose one layer.tar is gzip-compressed (some tools write them)."""
    with image.layers[0].open_uncompressed() as fh:
        tar = fh.read()
    blob = gzip.compress(layer_bytes if layer_bytes is not None else tar, mtime=0)
    with tarfile.open(path, "w") as archive:
        _add(archive, "l1/layer.tar", blob)
        _add(archive, f"{image.config.digest.hex}.json", image.config.raw)
        entry = {"Config": f"{image.config.digest.hex}.json", "RepoTags": ["z:1"], "Layers": ["l1/layer.tar"]}
        _add(archive, "manifest.json", json.dumps([entry]).encode())


def test_compressed_legacy_layer_must_match_its_diff_id(tmp_path: Path, make_image: Any) -> None:
    """Guards compressed layer.tar members: their blob digest was computed from the member itself, so
    nothing ever checked that they decompress to the diff_id the config lists."""
    image = make_image({"bin/app": b"C" * 5000})
    good = tmp_path / "good.tar"
    _gzip_legacy_archive(good, image)
    read = ArchiveStore(good).read("z:1")
    assert read.layers[0].media_type == mt.DOCKER_LAYER_GZIP
    assert read.layers[0].diff_id == image.layers[0].diff_id
    bad = tmp_path / "bad.tar"
    _gzip_legacy_archive(bad, image, layer_bytes=tar_of({"bin/app": b"not what the config says"}))
    with pytest.raises(DigestMismatch, match=r"decompresses to .* not the diff_id"):
        ArchiveStore(bad).read("z:1")


def test_writer_processes_never_lose_each_others_images(tmp_path: Path) -> None:
    """Guards ArchiveStore.write, which had no lock: two processes writing one archive each read the
    old file and renamed their own over it, so one image was lost. Four processes, two images each."""
    archive = tmp_path / "shared.tar"
    workers, count = 4, 2
    jobs = [(write_archive, (str(archive), w, count, str(tmp_path / "work"))) for w in range(workers)]
    assert run_all(jobs) == [0] * workers
    store = ArchiveStore(archive)
    expected = sorted(f"w{w}:{i}" for w in range(workers) for i in range(count))
    assert sorted(store.names()) == expected
    for name in expected:
        with store.read(name).layers[0].open() as blob:
            while blob.read(1 << 20):  # verified against its digest at EOF
                pass
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no lock or temp file left"


def test_an_index_in_an_archive(tmp_path: Path) -> None:
    """write_index/read_index on docker-archive: every image and the index byte for byte (layers stay
    compressed), as Docker 25+ with the containerd store saves one; manifest.json, what older
    `docker load` reads, names the linux/amd64 image."""
    index = two_platform_index(tmp_path / "build")
    archive = tmp_path / "multi.tar"
    assert ArchiveStore(archive).write_index(index, "example.com/app:2") == index.digest
    with tarfile.open(archive) as tar:
        index_json = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
        manifest_json = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        blobs = {n.rsplit("/", 1)[1] for n in tar.getnames() if n.startswith("blobs/sha256/")}
    [entry] = index_json["manifests"]
    assert (entry["mediaType"], entry["digest"]) == (mt.OCI_INDEX, str(index.digest))
    assert entry["annotations"]["io.containerd.image.name"] == "example.com/app:2"
    amd = index.images[0]
    assert manifest_json == [{"Config": f"blobs/sha256/{amd.config.digest.hex}",
                              "RepoTags": ["example.com/app:2"],
                              "Layers": [f"blobs/sha256/{layer.digest.hex}" for layer in amd.layers]}]
    manifests = {i.digest.hex for i in index.images} | {index.digest.hex}
    assert {d.digest.hex for d in index.blobs()} | manifests == blobs
    store = ArchiveStore(archive)
    back = store.read_index("example.com/app:2")
    assert back is not None and back.raw == index.raw
    assert store.read("example.com/app:2", Platform("linux", "arm64")).digest == index.images[1].digest
    assert store.read().digest == amd.digest
    for image in back.images:
        for layer in image.layers:
            with layer.open() as blob:
                while blob.read(1 << 20):  # verified at EOF
                    pass


def test_writing_into_an_archive_keeps_what_it_holds_byte_for_byte(tmp_path: Path, make_image: Any) -> None:
    """Guards carry-over: images already in an archive were re-read and rebuilt (new manifests from
    uncompressed layers), so an index lost its digest, an image saved by another tool got a new one,
    and an untagged image was dropped."""
    index = two_platform_index(tmp_path / "build")
    archive = tmp_path / "a.tar"
    store = ArchiveStore(archive)
    store.write_index(index, "multi:1")
    untagged = make_image({"untagged": b"u"})
    store.write(untagged)
    single = make_image({"single": b"s"})
    store.write(single, "single:1")
    assert store.read_index("multi:1").digest == index.digest  # type: ignore[union-attr]
    assert sorted(store.names()) == ["multi:1", "single:1"]
    with tarfile.open(archive) as tar:
        entries = json.load(tar.extractfile("index.json"))["manifests"]  # type: ignore[arg-type]
    assert len(entries) == 3, "the untagged image is still there"
    store.write(make_image({"replacement": b"r"}), "multi:1")
    assert ArchiveStore(archive).read_index("multi:1") is None, "a name that is replaced is replaced"


def test_an_image_saved_by_another_tool_keeps_its_digest_when_another_is_added(tmp_path: Path,
                                                                               make_image: Any) -> None:
    """Guards carry-over of a Docker 25+ archive written by someone else: its image was rebuilt from
    uncompressed layers with pare's own manifest bytes, so its digest changed under the user."""
    image = make_image({"bin/app": b"D" * 3000}, compression="none")
    layer = image.layers[0]
    with layer.open() as fh:
        layer_bytes = fh.read()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST,
                           "config": {"mediaType": mt.OCI_CONFIG, "digest": str(image.config.digest),
                                      "size": image.config.size},
                           "layers": [layer.descriptor.to_dict()],
                           "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"}},
                          indent=3).encode()
    archive = tmp_path / "docker25.tar"
    with tarfile.open(archive, "w") as tar:
        for data in (layer_bytes, image.config.raw, manifest):
            _add(tar, f"blobs/sha256/{sha256(data).hex}", data)
        entry = {"mediaType": mt.OCI_MANIFEST, "digest": str(sha256(manifest)), "size": len(manifest),
                 "annotations": {"io.containerd.image.name": "docker.io/library/theirs:1",
                                 "org.opencontainers.image.ref.name": "1"}}
        _add(tar, "index.json", json.dumps({"schemaVersion": 2, "manifests": [entry]}).encode())
        _add(tar, "manifest.json", json.dumps([{"Config": f"blobs/sha256/{image.config.digest.hex}",
                                                "RepoTags": ["theirs:1"],
                                                "Layers": [f"blobs/sha256/{layer.digest.hex}"]}]).encode())
        _add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    assert ArchiveStore(archive).read("theirs:1").digest == sha256(manifest)
    ArchiveStore(archive).write(make_image({"ours": b"o"}), "ours:1")
    assert ArchiveStore(archive).read("theirs:1").digest == sha256(manifest)
    assert sorted(ArchiveStore(archive).names()) == ["ours:1", "theirs:1"]


@pytest.mark.parametrize("damage", ["garbage after the last member", "cut in the middle"])
def test_a_damaged_archive_is_refused_not_read_short(tmp_path: Path, make_image: Any, damage: str) -> None:
    """The member table used raw tarfile, which stops quietly at a bad header or a cut: the archive
    then looked like one with fewer members. Now it must end with an end-of-archive block."""
    image = make_image({"bin/app": b"x" * 5000}, {"etc/a": b"a" * 3000})
    path = tmp_path / "a.tar"
    ArchiveStore(path).write(image, "pare/demo:1")
    data = path.read_bytes()
    end = len(data.rstrip(b"\0"))  # where the end-of-archive zeros begin (rounded up to a block below)
    end += -end % 512
    if damage == "garbage after the last member":
        broken = data[:end] + b"\x01" * 512 + b"\0" * 1024
    else:
        broken = data[: end - 700]
    path.write_bytes(broken)
    with pytest.raises(ManifestError, match="tar"):
        ArchiveStore(path).read("pare/demo:1")
