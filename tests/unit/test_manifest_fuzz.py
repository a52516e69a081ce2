"""Parsers fed untrusted bytes never crash: junk is a ManifestError, valid documents round-trip."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pare.errors import ManifestError, PareError
from pare.oci import mediatypes as mt
from pare.oci.config import ImageConfig
from pare.oci.descriptor import Descriptor, Platform
from pare.oci.digest import sha256
from pare.oci.manifest import Index, Manifest, sniff_media_type

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=4),
    max_leaves=20)
KEYS = st.sampled_from(["schemaVersion", "mediaType", "config", "layers", "manifests", "digest", "size",
                        "platform", "annotations", "rootfs", "diff_ids", "history", "os", "architecture"])
SHAPED = st.recursive(
    st.none() | st.integers(-1, 3) | st.sampled_from(["sha256:" + "a" * 64, mt.OCI_MANIFEST, mt.OCI_INDEX,
                                                      "layers", "x"]),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(KEYS, kids, max_size=6), max_leaves=25)


def _parse_all(data: bytes) -> None:
    for parse in (Manifest.parse, Index.parse, ImageConfig.parse, sniff_media_type):
        try:
            parse(data)
        except ManifestError:
            pass
        except PareError as exc:  # only ManifestError is acceptable for a document
            raise AssertionError(f"{parse.__qualname__} raised {type(exc).__name__}: {exc}") from exc


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_bytes_never_crash(data: bytes) -> None:
    _parse_all(data)


@settings(max_examples=300, deadline=None)
@given(st.one_of(JSON, SHAPED))
def test_json_shapes_never_crash(value: Any) -> None:
    _parse_all(json.dumps(value).encode())


@settings(max_examples=100, deadline=None)
@given(layers=st.lists(st.binary(max_size=16), max_size=4), arch=st.sampled_from(["amd64", "arm64"]))
def test_built_documents_round_trip(layers: list[bytes], arch: str) -> None:
    descs = [Descriptor(mt.OCI_LAYER_GZIP, sha256(b), len(b)) for b in layers]
    config = ImageConfig.from_dict({"architecture": arch, "os": "linux",
                                    "rootfs": {"type": "layers", "diff_ids": [str(d.digest) for d in descs]}})
    manifest = Manifest.build(Descriptor(mt.OCI_CONFIG, config.digest, config.size), descs)
    again = Manifest.parse(manifest.raw)
    assert again.digest == manifest.digest and again.layers == manifest.layers
    index = Index.build([manifest.descriptor(Platform("linux", arch))])
    assert Index.parse(index.raw).select(Platform("linux", arch)).digest == manifest.digest
    assert ImageConfig.parse(config.raw).diff_ids == tuple(d.digest for d in descs)
