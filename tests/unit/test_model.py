"""The image model: digests, layers, images and mutations behave as immutable, verified values."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import tar_of as make_tar
from pare.errors import DigestMismatch, InvalidReference, ManifestError, UnsafeTarError
from pare.oci import mediatypes as mt
from pare.oci import mutate
from pare.oci.compression import compress_stream, detect, open_decompressed
from pare.oci.config import HistoryEntry, ImageConfig
from pare.oci.descriptor import Descriptor, Platform
from pare.oci.digest import Digest, VerifyingReader, digest_file, sha256
from pare.oci.image import Image
from pare.oci.layer import BlobLayer, layer_from_tar, recompress
from pare.oci.manifest import Index, Manifest


def test_digest_parse_and_verify() -> None:
    d = sha256(b"abc")
    assert Digest.parse(str(d)) == d
    assert d.short == d.hex[:12]
    with pytest.raises(InvalidReference):
        Digest.parse("sha256:XYZ")
    reader = VerifyingReader(io.BytesIO(b"abc"), d, 3)
    assert reader.read() == b"abc"
    assert reader.read() == b""
    bad = VerifyingReader(io.BytesIO(b"abd"), d, 3)
    bad.read()
    with pytest.raises(DigestMismatch):
        bad.read()
    with pytest.raises(DigestMismatch):
        VerifyingReader(io.BytesIO(b"abcd"), d, 3).read()


def test_digest_file_reads_past_one_chunk(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000  # ~2.3 MB: more than one read
    (tmp_path / "f").write_bytes(data)
    assert digest_file(tmp_path / "f") == sha256(data)


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_layer_from_tar_digests(tmp_path: Path, compression: mt.Compression) -> None:
    tar = make_tar({"a.txt": b"hello" * 1000, "b/c": b"x"})
    layer = layer_from_tar(io.BytesIO(tar), compression, workdir=tmp_path)
    assert layer.diff_id == sha256(tar)
    assert layer.uncompressed_size == len(tar)
    blob = layer.path.read_bytes()
    assert layer.digest == sha256(blob) and layer.size == len(blob)
    assert detect(blob[:4]) == compression
    assert layer.compression == compression
    with layer.open_uncompressed() as stream:
        assert stream.read() == tar
    # Same tar, same blob: gzip carries no name or time.
    again = layer_from_tar(io.BytesIO(tar), compression, workdir=tmp_path)
    assert again.digest == layer.digest


def test_recompress_keeps_diff_id(tmp_path: Path) -> None:
    tar = make_tar({"f": b"data" * 500})
    gz = layer_from_tar(io.BytesIO(tar), "gzip", workdir=tmp_path)
    zs = recompress(gz, "zstd", workdir=tmp_path)
    assert zs.diff_id == gz.diff_id and zs.digest != gz.digest
    assert zs.media_type == mt.OCI_LAYER_ZSTD
    assert recompress(gz, "gzip") is gz


@pytest.mark.parametrize("damage", ["header", "body"])
def test_corrupt_gzip_is_a_clear_error(damage: str) -> None:
    import gzip
    good = gzip.compress(make_tar({"f": bytes(range(256)) * 64}))
    corrupt = b"\x1f\x8b\x08\x00garbage" if damage == "header" else good[:20] + b"\xff" * 40 + good[60:]
    with pytest.raises(UnsafeTarError), open_decompressed(io.BytesIO(corrupt), "gzip") as stream:
        stream.read()


def test_image_assemble_and_mutate(tmp_path: Path) -> None:
    l1 = layer_from_tar(io.BytesIO(make_tar({"a": b"1"})), workdir=tmp_path)
    l2 = layer_from_tar(io.BytesIO(make_tar({"b": b"2"})), workdir=tmp_path)
    base = Image.assemble(ImageConfig.new(), [l1])
    assert base.config.diff_ids == (l1.diff_id,)
    assert Manifest.parse(base.manifest.raw).digest == base.digest
    grown = mutate.append_layers(base, [l2], [HistoryEntry(created_by="COPY b /")])
    assert grown.config.diff_ids == (l1.diff_id, l2.diff_id)
    assert [h.created_by for h in grown.config.history] == ["COPY b /"]
    assert base.config.diff_ids == (l1.diff_id,), "the original image is unchanged"
    run = mutate.with_runtime(grown, entrypoint=["/app"], env={"A": "1"}, user="65532",
                              exposed_ports=["8080"])
    runtime = run.config.runtime
    assert runtime["Entrypoint"] == ["/app"] and runtime["Env"] == ["A=1"]
    assert runtime["ExposedPorts"] == {"8080/tcp": {}} and runtime["User"] == "65532"
    assert run.digest != grown.digest
    assert mutate.with_runtime(run, entrypoint=None).config.runtime.get("Entrypoint") is None
    docker = mutate.with_media_family(run, docker=True)
    assert docker.media_type == mt.DOCKER_MANIFEST
    assert docker.manifest.config.media_type == mt.DOCKER_CONFIG
    assert [layer.digest for layer in docker.layers] == [layer.digest for layer in run.layers]
    assert all(layer.media_type == mt.DOCKER_LAYER_GZIP for layer in docker.layers)
    assert mutate.with_media_family(docker, docker=False).digest == run.digest


def test_image_refuses_inconsistent_parts(tmp_path: Path) -> None:
    layer = layer_from_tar(io.BytesIO(make_tar({"a": b"1"})), workdir=tmp_path)
    image = Image.assemble(ImageConfig.new(), [layer])
    with pytest.raises(ManifestError):
        Image(image.manifest, image.config, ())
    other = ImageConfig.new(architecture="arm64")
    with pytest.raises(ManifestError):
        Image(image.manifest, other, image.layers)


def test_blob_layer_of_uncompressed_tar_knows_its_size() -> None:
    tar = make_tar({"x": b"y"})
    desc = Descriptor(mt.DOCKER_LAYER, sha256(tar), len(tar))
    layer = BlobLayer(desc, sha256(tar), lambda: io.BytesIO(tar))
    assert layer.uncompressed_size == len(tar)
    with layer.open_uncompressed() as s:
        assert s.read() == tar


def test_index_platform_selection() -> None:
    amd = Descriptor(mt.OCI_MANIFEST, sha256(b"1"), 1, platform=Platform("linux", "amd64"))
    arm = Descriptor(mt.OCI_MANIFEST, sha256(b"2"), 1, platform=Platform("linux", "arm64"))
    att = Descriptor(mt.OCI_MANIFEST, sha256(b"3"), 1, platform=Platform("unknown", "unknown"))
    index = Index.parse(Index.build([att, amd, arm]).raw)
    assert index.select(Platform.parse("linux/amd64")).digest == amd.digest
    assert index.select(Platform.parse("linux/arm64/v8")).digest == arm.digest
    with pytest.raises(Exception, match="no image for platform linux/s390x"):
        index.select(Platform.parse("linux/s390x"))


@given(st.binary(max_size=200))
def test_manifest_parser_never_crashes_on_bytes(data: bytes) -> None:
    for parse in (Manifest.parse, Index.parse, ImageConfig.parse):
        try:
            parse(data)
        except ManifestError:
            pass


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=10)


@given(st.dictionaries(st.sampled_from(["schemaVersion", "mediaType", "config", "layers", "manifests",
                                        "annotations", "rootfs", "history"]), json_values, max_size=6))
def test_manifest_parser_never_crashes_on_json(body: dict[str, object]) -> None:
    import json
    data = json.dumps(body).encode()
    for parse in (Manifest.parse, Index.parse, ImageConfig.parse):
        try:
            parse(data)
        except ManifestError:
            pass


@pytest.mark.parametrize("media_type", [["x"], {"a": 1}, 3])
def test_non_string_media_type_is_a_manifest_error(media_type: object) -> None:
    import json
    body = {"schemaVersion": 2, "mediaType": media_type, "config": {}, "layers": [], "manifests": []}
    for parse in (Manifest.parse, Index.parse):
        with pytest.raises(ManifestError):
            parse(json.dumps(body).encode())


def test_tar_size_known_or_counted(tmp_path: Path) -> None:
    tar = make_tar({"f": b"z" * 3000})
    known = layer_from_tar(io.BytesIO(tar), workdir=tmp_path)
    assert known.tar_size() == len(tar)
    unknown = BlobLayer(known.descriptor, known.diff_id, known.open)
    assert unknown.uncompressed_size is None and unknown.tar_size() == len(tar)


def _sample_bytes() -> bytes:
    """Compressible but not trivial: text lines with varying numbers."""
    return b"".join(b"line %d of a layer %x\n" % (i, i * 7919) for i in range(40_000))


@pytest.mark.parametrize(("compression", "level", "magic"), [
    ("gzip", 1, b"\x1f\x8b"), ("gzip", 3, b"\x1f\x8b"), ("gzip", 6, b"\x1f\x8b"), ("gzip", 9, b"\x1f\x8b"),
    ("zstd", 3, b"\x28\xb5\x2f\xfd"), ("zstd", 19, b"\x28\xb5\x2f\xfd")])
def test_compress_stream_levels_round_trip(compression: mt.Compression, level: int, magic: bytes) -> None:
    data = _sample_bytes()
    out = io.BytesIO()
    compress_stream(io.BytesIO(data), out, compression, level)
    blob = out.getvalue()
    assert blob.startswith(magic)
    assert len(blob) < len(data) // 3
    assert open_decompressed(io.BytesIO(blob), compression).read() == data
    again = io.BytesIO()
    compress_stream(io.BytesIO(data), again, compression, level)
    assert again.getvalue() == blob  # same bytes in, same blob out (no name, no mtime, any thread count)


def test_gzip_high_levels_use_zlib_and_beat_isal() -> None:
    """Levels above 3 go to zlib: its level 9 is smaller than ISA-L's best (3)."""
    data = _sample_bytes()
    sizes = {}
    for level in (3, 9):
        out = io.BytesIO()
        compress_stream(io.BytesIO(data), out, "gzip", level)
        sizes[level] = len(out.getvalue())
        assert out.getvalue()[4:8] == b"\0\0\0\0"  # mtime 0 in the gzip header
    assert sizes[9] < sizes[3]


@pytest.mark.parametrize(("compression", "level"), [("gzip", 10), ("gzip", -1), ("zstd", 0), ("zstd", 23)])
def test_compress_stream_refuses_levels_out_of_range(compression: mt.Compression, level: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        compress_stream(io.BytesIO(b"x"), io.BytesIO(), compression, level)


def test_zstd_layer_round_trips_with_its_diff_id(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("usr/bin/app")
        payload = _sample_bytes()
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    layer = layer_from_tar(io.BytesIO(buf.getvalue()), "zstd", workdir=tmp_path, level=19)
    assert layer.media_type == mt.OCI_LAYER_ZSTD
    assert layer.diff_id == sha256(buf.getvalue())
    with layer.open_uncompressed() as stream:
        assert stream.read() == buf.getvalue()
    with layer.open() as blob:
        assert detect(blob.read(4)) == "zstd"
