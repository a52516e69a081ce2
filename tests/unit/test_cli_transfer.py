"""The transfer and inspect commands on local stores: output, --json, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helpers import run_cli as run
from helpers import write_multiarch
from pare.stores.archive import ArchiveStore
from pare.stores.layout import LayoutStore


def test_copy_json_and_table(tmp_path: Path, make_image: Any, capsys: pytest.CaptureFixture[str]) -> None:
    image = make_image({"bin/app": b"x" * 2000})
    LayoutStore(tmp_path / "src").write(image, "t")
    code, out, _ = run(["copy", "--json", f"oci:{tmp_path / 'src'}:t",
                        f"docker-archive:{tmp_path / 'a.tar'}:app:1"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "pare.copy/v1" and doc["operation"] == "copy"
    assert doc["layers"] == 1 and doc["blobs_moved"] == 3 and "write" in doc["phases"]
    assert ArchiveStore(tmp_path / "a.tar").names() == ["app:1"]
    code, out, _ = run(["copy", f"docker-archive:{tmp_path / 'a.tar'}", f"oci:{tmp_path / 'back'}:t"],
                       capsys)
    [line] = out.splitlines()  # one summary line by default; the table is --verbose
    assert code == 0 and line.startswith("copy: docker-archive:") and " sha256:" in line
    assert "1 layers" in line and "moved in" in line
    code, out, _ = run(["copy", "-v", f"docker-archive:{tmp_path / 'a.tar'}", f"oci:{tmp_path / 'v'}:t"],
                       capsys)
    assert code == 0 and "seconds per phase" in out and "moved" in out
    code, out, _ = run(["copy", "-q", f"oci:{tmp_path / 'src'}:t", f"oci:{tmp_path / 'q'}"], capsys)
    assert code == 0 and out.strip() == str(image.digest)


def test_inspect(tmp_path: Path, make_image: Any, capsys: pytest.CaptureFixture[str]) -> None:
    image = make_image({"bin/app": b"x" * 2000}, {"etc/c": b"c"}, entrypoint=["/bin/app", "serve"])
    LayoutStore(tmp_path).write(image, "t")
    code, out, _ = run(["inspect", "--json", f"oci:{tmp_path}:t"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["digest"] == str(image.digest)
    assert doc["entrypoint"] == ["/bin/app", "serve"] and doc["env"] == ["PATH=/bin"]
    assert [layer["created_by"] for layer in doc["layers"]] == ["COPY layer0 /", "COPY layer1 /"]
    assert [layer["uncompressed_size"] for layer in doc["layers"]] == [
        layer.uncompressed_size for layer in image.layers]
    assert doc["uncompressed_size"] == sum(layer.uncompressed_size for layer in image.layers)
    code, out, _ = run(["inspect", "--json", "--no-sizes", f"oci:{tmp_path}:t"], capsys)
    assert json.loads(out)["layers"][0]["uncompressed_size"] is None
    code, out, _ = run(["inspect", "--raw", f"oci:{tmp_path}:t"], capsys)
    assert out.encode().strip() == image.manifest.raw
    code, out, _ = run(["inspect", "--config", f"oci:{tmp_path}:t"], capsys)
    assert out.encode().strip() == image.config.raw
    code, out, _ = run(["inspect", f"oci:{tmp_path}:t"], capsys)
    assert code == 0 and "COPY layer1 /" in out and "oci tar+gzip" in out


@pytest.mark.parametrize("args", [
    ["inspect", "oci:/definitely/not/here"],
    ["copy", "dir:/x", "oci:/tmp/y"],
    ["pull", "NOT A REF"],
    ["push", "oci:/tmp/x", "oci:/tmp/y"],
    ["pull", "oci:/tmp/x"],
    ["copy", "--platform", "linux", "oci:/x", "oci:/y"],
])
def test_bad_input_is_one_line(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(args, capsys)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pare: error:"), err
    assert "Traceback" not in err


def test_inspect_shows_the_index(tmp_path: Path, make_image: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from pare.oci import mediatypes as mt
    amd = make_image({"amd": b"1"})
    arm, index = write_multiarch(tmp_path, amd, "m")
    code, out, _ = run(["inspect", "--json", "--platform", "linux/arm64", f"oci:{tmp_path}:m"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["digest"] == str(arm.digest) and doc["platform"] == "linux/arm64"
    assert doc["index"]["digest"] == str(index.digest) and doc["index"]["media_type"] == mt.OCI_INDEX
    assert doc["index"]["platforms"] == ["linux/amd64", "linux/arm64"]
    assert [(i["platform"], i["digest"], i["layers"]) for i in doc["index"]["images"]] == [
        ("linux/amd64", str(amd.digest), 1), ("linux/arm64", str(arm.digest), 1)]
    code, out, _ = run(["inspect", f"oci:{tmp_path}:m"], capsys)
    assert code == 0 and "platforms" in out and "linux/arm64" in out and "linux/amd64 *" in out
    code, out, _ = run(["inspect", "--raw", f"oci:{tmp_path}:m"], capsys)
    assert out.encode().strip() == index.raw, "--raw on an index: the index's own bytes"
    code, out, _ = run(["inspect", "--raw", "--platform", "arm64", f"oci:{tmp_path}:m"], capsys)
    assert out.encode().strip() == arm.manifest.raw


def test_copy_all_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from helpers import two_platform_index
    index = two_platform_index(tmp_path / "build")
    LayoutStore(tmp_path / "src").write_index(index, "m")
    code, out, _ = run(["copy", "--all", "--verbose", f"oci:{tmp_path / 'src'}:m",
                        f"oci:{tmp_path / 'dst'}:m"], capsys)
    assert code == 0 and "index digest" in out and "linux/amd64, linux/arm64" in out
    code, out, _ = run(["copy", "--all", "-q", f"oci:{tmp_path / 'src'}:m", f"oci:{tmp_path / 'q'}"], capsys)
    assert code == 0 and out.strip() == str(index.digest)
    code, out, _ = run(["copy", "-q", f"oci:{tmp_path / 'src'}:m", f"oci:{tmp_path / 'one'}:m"], capsys)
    assert code == 0 and out.strip() == str(index.images[0].digest), "without --all: one platform"
    code, _, err = run(["copy", "--all", "--platform", "arm64", f"oci:{tmp_path / 'src'}:m",
                        f"oci:{tmp_path / 'x'}"], capsys)
    assert code == 2 and "--all moves every platform" in err
