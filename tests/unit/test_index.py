"""Platforms as users write them, and the multi-platform image value (pare.oci.index)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import two_platform_index
from pare.errors import ManifestError, UsageError
from pare.oci import mediatypes as mt
from pare.oci.descriptor import Descriptor, Platform
from pare.oci.digest import sha256
from pare.oci.index import ImageIndex
from pare.oci.manifest import Index


@pytest.mark.parametrize(("text", "expected"), [
    ("linux/amd64", Platform("linux", "amd64")),
    ("linux/arm64/v8", Platform("linux", "arm64", "v8")),
    ("windows/amd64", Platform("windows", "amd64")),
    ("arm64", Platform("linux", "arm64")),  # a bare word is an architecture, linux implied
    ("amd64", Platform("linux", "amd64")),
    ("x86_64", Platform("linux", "amd64")),  # uname -m spellings, as indexes spell them
    ("linux/aarch64", Platform("linux", "arm64")),
    ("armhf", Platform("linux", "arm", "v7")),
])
def test_platform_parse(text: str, expected: Platform) -> None:
    assert Platform.parse(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("linux", "linux is an OS; name an architecture too"),  # was linux/linux
    ("windows", "windows is an OS"),
    ("amd64/linux", "amd64 is an architecture; want os/arch"),
    ("", "want os/arch"),
    ("linux/", "want os/arch"),
    ("a/b/c/d", "want os/arch"),
    ("linux/arm\n64", "want os/arch"),  # a newline would split the one-line errors that name it
    ("linux/amd 64", "want os/arch"),
])
def test_platform_parse_refuses_what_names_no_image(text: str, message: str) -> None:
    """Guards `--platform linux`, which used to mean linux/linux and then matched nothing."""
    with pytest.raises(ManifestError, match=message) as info:
        Platform.parse(text)
    assert "\n" not in str(info.value)


# --- ImageIndex ----------------------------------------------------------------------------------------
def test_assemble_lists_each_image_with_its_platform(tmp_path: Path) -> None:
    index = two_platform_index(tmp_path)
    assert index.media_type == mt.OCI_INDEX
    assert [str(p) for p in index.platforms] == ["linux/amd64", "linux/arm64"]
    body = json.loads(index.raw)
    assert [m["digest"] for m in body["manifests"]] == [str(i.digest) for i in index.images]
    assert [m["platform"] for m in body["manifests"]] == [{"architecture": "amd64", "os": "linux"},
                                                          {"architecture": "arm64", "os": "linux"}]
    assert index.image(Platform("linux", "arm64")).config.architecture == "arm64"
    assert index.default_image(Platform("linux", "s390x")) is index.images[0]
    shared = index.images[0].layers[0].digest
    assert shared == index.images[1].layers[0].digest
    assert len(index.blobs()) == 5  # two configs, the shared layer once, two own layers
    assert two_platform_index(tmp_path / "again").digest == index.digest, "same images, same bytes"
    assert two_platform_index(tmp_path / "d", docker=True).media_type == mt.DOCKER_MANIFEST_LIST


def test_an_index_keeps_its_exact_bytes(tmp_path: Path) -> None:
    """An index parsed from someone else's bytes (spacing, key order, annotations) keeps them, so its
    digest does not drift when it moves."""
    built = two_platform_index(tmp_path)
    foreign = json.dumps({"manifests": [d.to_dict() for d in built.index.manifests], "schemaVersion": 2,
                          "mediaType": mt.OCI_INDEX, "annotations": {"org.example": "x"}}, indent=3).encode()
    index = ImageIndex(Index.parse(foreign), built.images)
    assert index.raw == foreign and index.digest == sha256(foreign) != built.digest


def test_an_index_and_its_images_must_agree(tmp_path: Path) -> None:
    index = two_platform_index(tmp_path)
    amd, arm = index.images
    with pytest.raises(ManifestError, match="no image given for entry"):
        ImageIndex(index.index, (amd,))
    with pytest.raises(ManifestError, match="does not list image"):
        ImageIndex(Index.build([amd.manifest.descriptor(Platform())]), (amd, arm))
    nested = Index.build([Descriptor(mt.OCI_INDEX, index.digest, index.size)])
    with pytest.raises(ManifestError, match="image manifests only"):
        ImageIndex(nested, ())
    with pytest.raises(UsageError, match="two images for platform linux/amd64"):
        ImageIndex.assemble([amd, amd])
    with pytest.raises(UsageError, match="at least one image"):
        ImageIndex.assemble([])


@given(st.text(max_size=40))
def test_any_platform_text_parses_or_is_one_clear_error(text: str) -> None:
    try:
        platform = Platform.parse(text)
    except ManifestError as exc:
        assert "\n" not in str(exc)
        return
    assert platform.os and platform.architecture
    assert Platform.parse(str(platform)) == platform, "what pare prints, pare reads back"
