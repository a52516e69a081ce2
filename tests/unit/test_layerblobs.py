"""The blob cache behind engine exports: uncompressed layers become Go-gzipped blobs once per
diff_id, compressed ones are kept, and a builder's private cache can be seeded from the shared one
without gzipping again. Real parts: the Go gzip filter (host `go`), pare's own layers and images."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import need
from pare.engines.layerblobs import BlobCache, gzip_like_docker
from pare.oci import mediatypes as mt


@pytest.fixture
def no_compress_in(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records the cache root of every compression (the real one still runs)."""
    need("go")
    roots: list[Path] = []
    real = BlobCache.compress

    def counted(self: BlobCache, layer: object) -> object:
        roots.append(self.root)
        return real(self, layer)  # type: ignore[arg-type]

    monkeypatch.setattr(BlobCache, "compress", counted)
    return roots


def test_each_diff_id_is_gzipped_once(make_image, tmp_path: Path, no_compress_in: list[Path]) -> None:  # type: ignore[no-untyped-def]
    image = make_image({"etc/a": b"a" * 50_000}, {"app/b": b"hello\n"}, compression="none")
    cache = BlobCache(tmp_path / "blobs")
    first = gzip_like_docker(image, cache)
    again = gzip_like_docker(image, cache)
    assert (first.compressed, first.reused, again.compressed, again.reused) == (2, 0, 0, 2)
    assert [layer.digest for layer in again.image.layers] == [layer.digest for layer in first.image.layers]
    assert first.image.config.digest == image.config.digest, "same tars: same image ID"
    assert all(layer.media_type == mt.OCI_LAYER_GZIP for layer in first.image.layers)
    assert [layer.diff_id for layer in first.image.layers] == list(image.config.diff_ids)
    zstd = make_image({"etc/a": b"a" * 50_000}, compression="zstd")
    kept = gzip_like_docker(zstd, cache)
    assert (kept.compressed, kept.reused) == (0, 0) and kept.image.layers[0].digest == zstd.layers[0].digest
    assert len(no_compress_in) == 2


@pytest.mark.parametrize("damage", ["truncated", "edited in place"])
def test_a_damaged_blob_is_made_again(damage: str, make_image, tmp_path: Path,  # type: ignore[no-untyped-def]
                                      no_compress_in: list[Path]) -> None:
    """Another size counts as absent; the same size with other bytes moved the blob's change time,
    so it is hashed, found wrong and made again (never shipped under the old digest)."""
    image = make_image({"etc/a": b"a" * 50_000}, compression="none")
    cache = BlobCache(tmp_path / "blobs")
    layer = gzip_like_docker(image, cache).image.layers[0]
    path, *_ = cache.lookup(layer.diff_id) or (None,)
    assert path is not None
    good = path.read_bytes()
    path.write_bytes(good[:-3] if damage == "truncated" else good[:-1] + bytes([good[-1] ^ 0xFF]))
    assert cache.lookup(layer.diff_id) is None
    assert gzip_like_docker(image, cache).compressed == 1 and path.read_bytes() == good
    assert len(no_compress_in) == 2


def test_seeding_links_the_shared_blobs(make_image, tmp_path: Path, no_compress_in: list[Path]) -> None:  # type: ignore[no-untyped-def]
    base = make_image({"etc/a": b"base " * 20_000}, compression="gzip")  # as bases are stored
    shared, mine = BlobCache(tmp_path / "shared"), BlobCache(tmp_path / "mine")
    mine.seed(shared, base.layers)
    assert no_compress_in == [tmp_path / "shared"], "gzipped once, in the shared cache"
    mine.seed(shared, base.layers)
    found_mine, found_shared = mine.lookup(base.layers[0].diff_id), shared.lookup(base.layers[0].diff_id)
    assert found_mine and found_shared and found_mine[1:] == found_shared[1:]
    assert found_mine[0].stat().st_ino == found_shared[0].stat().st_ino
    assert no_compress_in == [tmp_path / "shared"]
