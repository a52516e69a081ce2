"""Inputs for the fuzz targets: plain random bytes, valid samples mutated the way a corrupt or hostile
file is (bit flips, cuts, repeats, inserted tokens, tar header fields rewritten with a correct
checksum so that the reader gets past the header check), and JSON documents built from a valid one
with fields replaced by values of any type.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

INTERESTING_BYTES = [0, 1, 0x7F, 0x80, 0xFF, *b'/.079 "\\\n{[:,-']
TOKENS = [b"..", b"../", b"/", b".wh.", b".wh..wh..opq", b"\x00", b"\xff\xfe", b"\xed\xa0\x80",
          b"99999999999", b"-1", b"1e999", b"-0", b"NaN", b"Infinity", b"null", b"true", b"[]", b"{}", b'"',
          b"\\u0000", b"\\ud800", b"sha256:", b"sha512:", b"@", b"%00", b"\r\n", b"=", b",", b"[" * 64,
          b'{"a":' * 64, b"A" * 5000]
# (offset, size) of the ustar header fields: name, mode, uid, gid, size, mtime, type, linkname, magic,
# version, devmajor, devminor, prefix
TAR_FIELDS = [(0, 100), (100, 8), (108, 8), (116, 8), (124, 12), (136, 12), (156, 1), (157, 100), (257, 6),
              (263, 2), (329, 8), (337, 8), (345, 155)]


def _mutate(data: bytes, ops: list[tuple[Any, ...]]) -> bytes:
    buf = bytearray(data)
    for op in ops:
        kind, at = op[0], op[1] % (len(buf) + 1)
        if kind == "flip" and buf:
            buf[at % len(buf)] ^= 1 << op[2]
        elif kind == "set" and buf:
            buf[at % len(buf)] = op[2]
        elif kind == "cut":
            del buf[at:]
        elif kind == "delete":
            del buf[at : at + op[2]]
        elif kind == "insert":
            buf[at:at] = op[2]
        elif kind == "repeat":
            buf[at:at] = bytes(buf[at : at + op[2]]) * op[3]
        elif kind == "tarfield" and len(buf) >= 512:
            _rewrite_tar_field(buf, (at % len(buf)) // 512 * 512, op[2], op[3])
    return bytes(buf)


def _rewrite_tar_field(buf: bytearray, header: int, field: int, value: bytes) -> None:
    """Overwrite one field of the tar header at `header`, then give the header a valid checksum."""
    start, size = TAR_FIELDS[field % len(TAR_FIELDS)]
    if header + 512 > len(buf):
        return
    buf[header + start : header + start + size] = value[:size].ljust(size, b"\0")
    buf[header + 148 : header + 156] = b" " * 8
    checksum = sum(buf[header : header + 512])
    buf[header + 148 : header + 156] = b"%06o\0 " % checksum


_positions = st.integers(0, 1 << 20)
_field_values = st.one_of(
    st.sampled_from([b"0", b"7777777", b"77777777777", b"-1", b"\x80" + bytes(10) + b"\x01", b"../x", b"/abs",
                     b".wh...", b"", b"\xff" * 12, b"ustar\x00", b"ustar  ", b"x" * 100,
                     *(bytes([t]) for t in b"0123456789ALKSxgDMNV")]),
    st.binary(max_size=16))
_ops = st.one_of(
    st.tuples(st.just("flip"), _positions, st.integers(0, 7)),
    st.tuples(st.just("set"), _positions, st.sampled_from(INTERESTING_BYTES)),
    st.tuples(st.just("cut"), _positions),
    st.tuples(st.just("delete"), _positions, st.integers(1, 1024)),
    st.tuples(st.just("insert"), _positions, st.one_of(st.sampled_from(TOKENS), st.binary(max_size=32))),
    st.tuples(st.just("repeat"), _positions, st.integers(1, 600), st.integers(1, 4)),
    st.tuples(st.just("tarfield"), _positions, st.integers(0, 64), _field_values),
)


def mutated(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    """A seed changed by one to six mutations."""
    return st.builds(_mutate, st.sampled_from(seeds), st.lists(_ops, min_size=1, max_size=6))


def fuzz_bytes(seeds: list[bytes], max_size: int = 4096) -> st.SearchStrategy[bytes]:
    """Random bytes, the seeds themselves, and mutated seeds (most of the budget)."""
    return st.one_of(st.binary(max_size=max_size), st.sampled_from(seeds), mutated(seeds), mutated(seeds))


_json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(1 << 70), 1 << 70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["", "sha256:" + "0" * 64, "sha512:" + "a" * 128, "../x", "/x", "linux/amd64", "\x00",
                     "application/vnd.oci.image.manifest.v1+json", "\ud800"]))
json_values = st.recursive(_json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _replace(document: Any, choice: int, new: Any) -> Any:
    doc = json.loads(json.dumps(document))
    paths = list(_paths(doc))
    path = paths[choice % len(paths)]
    if not path:
        return new
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new
    return doc


def encode(value: Any) -> bytes:
    """JSON bytes, NaN, infinities and lone surrogates included (a hostile file may hold them)."""
    return json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")


def json_docs(seeds: list[Any]) -> st.SearchStrategy[bytes]:
    """Valid documents with one or two fields replaced by any JSON value, as bytes; and mutated bytes."""
    one = st.builds(_replace, st.sampled_from(seeds), st.integers(0, 1 << 16), json_values)
    two = st.builds(_replace, one, st.integers(0, 1 << 16), json_values)
    return st.one_of(one.map(encode), two.map(encode), json_values.map(encode),
                     mutated([encode(s) for s in seeds]))


