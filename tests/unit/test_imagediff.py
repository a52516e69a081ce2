"""`pare build --verify`'s image diff reads layers with the strict tar reader: a broken layer is one
clear error, never a shorter list of entries that hides (or invents) a difference."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pare.analyze.imagediff import diff_images, tar_index
from pare.errors import PareError
from pare.oci.config import ImageConfig
from pare.oci.image import Image
from pare.oci.layer import layer_from_tar
from tarcases import BROKEN_KINDS, broken, tar_entries

GOOD = tar_entries([("./app/", "d", None), ("./app/a", "f", b"a" * 700), ("./app/b", "f", b"b" * 900)])


def image_of(tar: bytes, workdir: Path) -> Image:
    layer = layer_from_tar(io.BytesIO(tar), "gzip", workdir=workdir)
    return Image.assemble(ImageConfig.new(architecture="amd64"), [layer])


def test_index_names_kinds_and_contents(tmp_path: Path) -> None:
    index = tar_index(image_of(GOOD, tmp_path).layers[0])
    assert sorted(index) == ["app", "app/a", "app/b"]
    assert index["app"][0] == "dir" and index["app/a"][:2] == ("file", 700)
    assert index["app/a"][7] != index["app/b"][7]


@pytest.mark.parametrize("kind", BROKEN_KINDS)
def test_a_broken_layer_is_an_error_not_a_short_diff(tmp_path: Path, kind: str) -> None:
    """Guards against raw tarfile in tar_index: it stopped quietly at a bad header or a missing
    end-of-archive, so the diff compared a truncated entry list (or raised a tarfile traceback)."""
    good, bad = image_of(GOOD, tmp_path), image_of(broken(GOOD)[kind], tmp_path)
    with pytest.raises(PareError):
        diff_images(good, bad)
