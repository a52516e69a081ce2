"""The Go gzip filter is Go's compress/gzip at its default level, whatever the write pattern.

Real parts: the host's `go` (golang-go, installed by scripts/install-system.sh) builds the filter
and, for the comparison, a second program written here that compresses the same bytes through a
different call path (NewWriterLevel with DefaultCompression, odd-sized writes).
"""

from __future__ import annotations

import gzip
import io
import os
import random
import subprocess
from pathlib import Path

import pytest

from conftest import need
from pare.oci import gogzip

REFERENCE = """package main

import (
	"compress/gzip"
	"io"
	"os"
)

func main() {
	data, _ := io.ReadAll(os.Stdin)
	zw, _ := gzip.NewWriterLevel(os.Stdout, gzip.DefaultCompression)
	for len(data) > 0 {
		n := 7919
		if n > len(data) {
			n = len(data)
		}
		zw.Write(data[:n])
		data = data[n:]
	}
	zw.Close()
}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One private cache for the module: the filter is built once (Go's build cache keeps it quick)."""
    need("go")
    return tmp_path_factory.mktemp("blobs")


@pytest.fixture
def blob_cache(built: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(gogzip.CACHE_ENV, str(built))
    return built


def sample() -> bytes:
    """Text-like, repetitive and random stretches: every deflate block kind gets used."""
    rng = random.Random(21)
    words = [bytes(rng.choices(b"abcdefghij /\n", k=rng.randint(2, 12))) for _ in range(300)]
    text = b" ".join(rng.choices(words, k=60_000))
    return text + os.urandom(50_000) + b"\0" * 100_000 + Path("/bin/true").read_bytes()


def go_gzip(data: bytes) -> bytes:
    out = io.BytesIO()
    gogzip.compress(io.BytesIO(data), out)
    return out.getvalue()


def test_filter_output_is_gzip_of_the_input_with_a_fixed_header(blob_cache: Path) -> None:
    data = sample()
    blob = go_gzip(data)
    assert gzip.decompress(blob) == data
    # magic, deflate, no flags (no name), mtime 0, no extra flags (default level), OS unknown (Go)
    assert blob[:10] == bytes.fromhex("1f8b08000000000000ff")
    assert go_gzip(data) == blob, "same bytes in, same blob out"
    assert go_gzip(b"") and gzip.decompress(go_gzip(b"")) == b""


def test_filter_equals_go_compress_gzip_default_level(blob_cache: Path, tmp_path: Path) -> None:
    data = sample()
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "main.go").write_text(REFERENCE)
    env = {**os.environ, "GO111MODULE": "off", "GOFLAGS": ""}
    subprocess.run(["go", "build", "-o", "ref", "main.go"], cwd=tmp_path / "ref", env=env, check=True)
    reference = subprocess.run([str(tmp_path / "ref" / "ref")], input=data, capture_output=True,
                               check=True).stdout
    assert go_gzip(data) == reference
    assert len(reference) != len(gzip.compress(data, 6, mtime=0)), "zlib is another compressor"


def test_filter_is_built_once_per_source_and_go_version(blob_cache: Path) -> None:
    first = gogzip.filter_binary()
    assert first.is_file() and first.parent.parent == blob_cache / "bin"
    mtime = first.stat().st_mtime_ns
    assert gogzip.filter_binary() == first and first.stat().st_mtime_ns == mtime
    assert gogzip.compressor_id() == f"go-compress-gzip-default-{gogzip.go_version()}"


def test_a_failing_source_is_an_error_not_a_short_blob(blob_cache: Path) -> None:
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            raise OSError("disk went away")

    with pytest.raises(OSError, match="disk went away"):
        gogzip.compress(Broken(), io.BytesIO())  # type: ignore[arg-type]


def test_the_engines_own_compressor_can_be_chosen(blob_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pare.errors import UsageError
    from pare.experiment.builders import compressor_of

    assert gogzip.available() and "Go compress/gzip" in compressor_of("onbuild", "buildah")
    monkeypatch.setenv(gogzip.CHOICE_ENV, "engine")
    assert not gogzip.available()
    assert compressor_of("onbuild", "buildah") == ("gzip by buildah push "
                                                   "(containers/image pgzip, default level)")
    monkeypatch.setenv(gogzip.CHOICE_ENV, "zopfli")
    with pytest.raises(UsageError, match="choose go or engine"):
        gogzip.available()
