"""Where two images that should be equal differ: config fields, layer count, and inside each
differing layer the tar entries whose metadata or content differ (what `pare build --verify` prints).
"""

from __future__ import annotations

import hashlib
from typing import Any

from pare.oci.digest import CHUNK
from pare.oci.image import Image
from pare.oci.layer import Layer
from pare.oci.tarsafe import SafeTar

MAX_REPORTED = 20

Row = tuple[str, int, int, int, int, int, str, str]  # kind, size, mode, uid, gid, mtime, link, sha256


def tar_index(layer: Layer) -> dict[str, Row]:
    """name -> metadata and content hash, streaming the layer once with the strict reader (a cut or
    corrupt layer is an UnsafeTarError, not a shorter list of entries)."""
    index: dict[str, Row] = {}
    with layer.open_uncompressed() as stream:
        for member, reader in SafeTar(stream, hash_stream=False):
            digest = ""
            if reader is not None:
                h = hashlib.sha256()
                while chunk := reader.read(CHUNK):
                    h.update(chunk)
                digest = h.hexdigest()[:16]
            index[member.path] = (member.kind, member.size, member.mode, member.uid, member.gid,
                                  member.mtime, member.linkname, digest)
    return index


FIELDS = ("type", "size", "mode", "uid", "gid", "mtime", "link", "content")


def _describe(a: Row, b: Row) -> str:
    parts = []
    for name, x, y in zip(FIELDS, a, b, strict=True):
        if x != y:
            shown_x = oct(x) if name == "mode" and isinstance(x, int) else x
            shown_y = oct(y) if name == "mode" and isinstance(y, int) else y
            parts.append(f"{name} {shown_x} != {shown_y}")
    return ", ".join(parts)


def _config_fields(image: Image) -> dict[str, Any]:
    body = image.config.to_dict()
    body.pop("rootfs", None)
    return body


def diff_images(a: Image, b: Image) -> list[str]:
    """Human-readable differences, most useful first; empty when the manifests are equal."""
    out: list[str] = []
    if a.digest == b.digest:
        return out
    ca, cb = _config_fields(a), _config_fields(b)
    for key in sorted(set(ca) | set(cb)):
        if ca.get(key) != cb.get(key):
            out.append(f"config {key}: {ca.get(key)!r} != {cb.get(key)!r}"[:300])
    if len(a.layers) != len(b.layers):
        out.append(f"layer count {len(a.layers)} != {len(b.layers)}")
    for i, (la, lb) in enumerate(zip(a.layers, b.layers, strict=False)):
        if la.diff_id == lb.diff_id:
            if la.digest != lb.digest:
                out.append(f"layer {i}: same tar, different compressed blob ({la.digest.short} != "
                           f"{lb.digest.short}): the compressor is not deterministic")
            continue
        ia, ib = tar_index(la), tar_index(lb)
        names = sorted(set(ia) | set(ib))
        changed = [n for n in names if ia.get(n) != ib.get(n)]
        out.append(f"layer {i}: {len(changed)} of {len(names)} entries differ")
        for reported, name in enumerate(changed):
            if reported >= MAX_REPORTED:
                out.append(f"  ... and {len(changed) - reported} more")
                break
            if name not in ia:
                out.append(f"  {name}: only in the second build")
            elif name not in ib:
                out.append(f"  {name}: only in the first build")
            else:
                out.append(f"  {name}: {_describe(ia[name], ib[name])}")
        if not changed:
            out.append("  same entries and contents: entry order or tar headers differ")
    if a.manifest.annotations != b.manifest.annotations:
        out.append("manifest annotations differ")
    return out
