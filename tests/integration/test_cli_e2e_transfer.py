"""pare pull / push / copy / inspect end to end, as a user runs them, against the real registry."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from helpers import two_platform_index
from pare.localregistry import LocalRegistry, free_port
from pare.stores.layout import LayoutStore

pytestmark = pytest.mark.integration

PARE = str(Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "pare")


def pare(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([PARE, *args], capture_output=True, text=True, timeout=120)
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pare: error:"), done.stderr
    return lines[0]


def test_push_pull_inspect(registry: LocalRegistry, tmp_path: Path, make_image: Any) -> None:
    image = make_image({"bin/": b"", "bin/app": b"A" * 50_000}, {"etc/": b"", "etc/c": b"c"},
                       compression="none", docker=True)
    LayoutStore(tmp_path / "src").write(image, "t")
    ref = f"{registry.address}/cli/app-{uuid.uuid4().hex[:8]}:1"
    pushed = json.loads(pare("push", "--json", "--parallel", "2", f"oci:{tmp_path / 'src'}:t", ref).stdout)
    assert pushed["compressed"] == "gzip" and pushed["layers"] == 2
    assert pushed["blobs_moved"] == 3  # config and two layers
    assert {"head", "upload", "manifest"} <= set(pushed["destination_stats"]["phases"])

    table = pare("pull", "--verbose", ref).stdout  # into the embedded store (PARE_STORE), tagged with the ref
    assert "seconds per phase" in table and "download" in table
    local = LayoutStore(os.environ["PARE_STORE"]).read(ref)
    assert str(local.digest) == pushed["digest"]
    assert local.config.raw == image.config.raw

    doc = json.loads(pare("inspect", "--json", ref).stdout)
    assert doc["digest"] == pushed["digest"]
    assert [layer["uncompressed_size"] for layer in doc["layers"]] == [
        layer.size for layer in image.layers]
    assert doc["layers"][1]["created_by"] == "COPY layer1 /"
    assert json.loads(pare("inspect", "--json", f"local:{ref}").stdout)["digest"] == doc["digest"]

    again = json.loads(pare("copy", "--json", f"local:{ref}", ref).stdout)
    assert again["blobs_moved"] == 0 and again["blobs_skipped"] == 3, "nothing re-uploaded"
    assert pare("pull", "-q", ref, f"oci:{tmp_path / 'q'}:t").stdout.strip() == pushed["digest"]


def test_bad_input_one_line_each(registry: LocalRegistry, tmp_path: Path, make_image: Any) -> None:
    LayoutStore(tmp_path / "src").write(make_image({"a": b"1"}), "t")
    ref = f"{registry.address}/cli/bad-{uuid.uuid4().hex[:8]}"
    pare("push", f"oci:{tmp_path / 'src'}:t", f"{ref}:1")
    assert "not found" in one_line_error(pare("pull", f"{ref}:nope", ok=False))
    assert "invalid reference" in one_line_error(pare("pull", "Bad//Ref", ok=False))
    closed = f"127.0.0.1:{free_port()}/x/y:1"
    assert "cannot reach" in one_line_error(pare("pull", closed, ok=False))
    one_line_error(pare("push", f"oci:{tmp_path / 'src'}:t", closed, ok=False))
    one_line_error(pare("pull", f"{ref}@sha256:{'0' * 64}", ok=False))
    debug = pare("--debug", "pull", f"{ref}:nope", ok=False)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_archive_to_registry_with_zstd(registry: LocalRegistry, tmp_path: Path, make_image: Any) -> None:
    image = make_image({"bin/": b"", "bin/app": b"Z" * 30_000}, compression="none", docker=True)
    LayoutStore(tmp_path / "src").write(image, "t")
    archive = tmp_path / "app.tar"
    pare("copy", f"oci:{tmp_path / 'src'}:t", f"docker-archive:{archive}:app:1")
    ref = f"{registry.address}/cli/zstd-{uuid.uuid4().hex[:8]}:1"
    result = json.loads(pare("copy", "--json", "--compress", "zstd", f"docker-archive:{archive}", ref).stdout)
    assert result["compressed"] == "zstd"
    doc = json.loads(pare("inspect", "--json", ref).stdout)
    assert [layer["media_type"] for layer in doc["layers"]] == ["application/vnd.oci.image.layer.v1.tar+zstd"]
    assert doc["layers"][0]["diff_id"] == str(image.layers[0].diff_id)
    assert doc["layers"][0]["uncompressed_size"] == image.layers[0].size


def test_multi_platform_push_pull_copy_inspect(registry: LocalRegistry, tmp_path: Path) -> None:
    """pare push and pull move a whole index (its digest kept) unless --platform picks one; pare copy
    picks one unless --all; pare inspect lists the platforms."""
    index = two_platform_index(tmp_path / "build")
    LayoutStore(tmp_path / "src").write_index(index, "m")
    ref = f"{registry.address}/cli/multi-{uuid.uuid4().hex[:8]}:1"
    pushed = json.loads(pare("push", "--json", f"oci:{tmp_path / 'src'}:m", ref).stdout)
    assert pushed["digest"] == str(index.digest) and pushed["platforms"] == ["linux/amd64", "linux/arm64"]
    assert pare("pull", "-q", ref).stdout.strip() == str(index.digest)
    local = LayoutStore(os.environ["PARE_STORE"]).read_index(ref)
    assert local is not None and local.raw == index.raw
    one = pare("pull", "-q", "--platform", "linux/arm64", ref, f"oci:{tmp_path / 'arm'}:t").stdout.strip()
    assert one == str(index.images[1].digest)
    copied = pare("copy", "-q", ref, f"oci:{tmp_path / 'one'}:t").stdout.strip()
    assert copied == str(index.images[0].digest), "copy without --all: linux/amd64"
    assert pare("copy", "-q", "--all", ref, f"oci:{tmp_path / 'all'}:t").stdout.strip() == str(index.digest)
    doc = json.loads(pare("inspect", "--json", "--no-sizes", ref).stdout)
    assert doc["index"]["digest"] == str(index.digest) and doc["digest"] == str(index.images[0].digest)
    assert [i["platform"] for i in doc["index"]["images"]] == ["linux/amd64", "linux/arm64"]
    table = pare("inspect", "--no-sizes", ref).stdout
    assert "platforms" in table and "linux/arm64" in table
    refused = pare("copy", "--all", "--platform", "arm64", ref, f"oci:{tmp_path / 'x'}", ok=False)
    assert "--platform" in one_line_error(refused)
