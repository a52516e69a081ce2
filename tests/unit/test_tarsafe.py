"""Safe tar reading: hostile or broken layer tars give one clear UnsafeTarError, never a crash,
never a silent short read, never a path that could leave a root (the writers that resolve paths
in a root are tested in test_debs_unpack.py)."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pare.errors import UnsafeTarError
from pare.oci.compression import open_decompressed
from pare.oci.digest import sha256
from pare.oci.tarsafe import SafeTar, normalize
from tarcases import tar_entries as build


def read_all(data: bytes) -> list[tuple[str, str, bytes]]:
    out = []
    for member, reader in SafeTar(io.BytesIO(data)):
        out.append((member.path, member.kind, reader.read() if reader else b""))
    return out


SAMPLE = build(
    [
        ("./etc/", "d", None),
        ("./etc/hostname", "f", b"box\n"),
        ("usr//bin/./tool", "f", b"x" * 3000),
        ("bin", "s", "usr/bin"),
        ("etc/alias", "h", "./etc/hostname"),
    ]
)


def test_normalize_accepts_and_cleans() -> None:
    assert normalize("./usr/bin/") == "usr/bin"
    assert normalize("a//b/./c") == "a/b/c"
    assert normalize(".") == ""
    assert normalize("./") == ""


@pytest.mark.parametrize(
    "name", ["../etc/passwd", "a/../../x", "a/..", "/etc/passwd", "a\x00b", "x" * 5000, "a/" * 257 + "f"]
)
def test_normalize_refuses(name: str) -> None:
    with pytest.raises(UnsafeTarError):
        normalize(name)


def test_reads_members_sizes_and_digest() -> None:
    tar = SafeTar(io.BytesIO(SAMPLE))
    seen = [(m.path, m.kind, m.size, m.linkname, r.read() if r else b"") for m, r in tar]
    assert seen == [
        ("etc", "dir", 0, "", b""),
        ("etc/hostname", "file", 4, "", b"box\n"),
        ("usr/bin/tool", "file", 3000, "", b"x" * 3000),
        ("bin", "symlink", 0, "usr/bin", b""),
        ("etc/alias", "hardlink", 0, "etc/hostname", b""),
    ]
    assert tar.tar_bytes == len(SAMPLE)
    assert tar.diff_id == sha256(SAMPLE)


def test_unread_content_is_skipped_and_still_hashed() -> None:
    tar = SafeTar(io.BytesIO(SAMPLE))
    assert [m.path for m, _ in tar] == ["etc", "etc/hostname", "usr/bin/tool", "bin", "etc/alias"]
    assert tar.diff_id == sha256(SAMPLE)


def test_empty_stream_is_an_empty_layer() -> None:
    assert read_all(b"") == []
    assert read_all(b"\0" * 1024) == []


@pytest.mark.parametrize(
    "entries",
    [
        [("../../escape", "f", b"x")],
        [("ok", "f", b"x"), ("/etc/shadow", "f", b"x")],
        [("ok", "f", b"x"), ("link", "h", "../../etc/shadow")],
        [("a/../../b", "d", None)],
    ],
    ids=["dotdot", "absolute", "hardlink-escape", "dir-dotdot"],
)
def test_path_traversal_is_refused(entries: list[tuple[str, str, object]]) -> None:
    with pytest.raises(UnsafeTarError, match=r"'\.\.'|absolute"):
        read_all(build(entries))


def test_absurd_size_is_refused() -> None:
    info = tarfile.TarInfo("huge")
    info.size = 1 << 50  # a petabyte, announced by a header with no data behind it
    data = info.tobuf(tarfile.GNU_FORMAT) + b"\0" * 1024
    with pytest.raises(UnsafeTarError, match="absurd size"):
        read_all(data)


@pytest.mark.parametrize("kind", [tarfile.XHDTYPE, tarfile.GNUTYPE_LONGNAME])
def test_absurd_metadata_header_is_refused_without_reading_it(kind: bytes) -> None:
    info = tarfile.TarInfo("././@PaxHeader")
    info.type, info.size = kind, 1 << 40  # tarfile would read a terabyte of header into memory
    data = info.tobuf(tarfile.GNU_FORMAT) + b"\0" * 100_000
    with pytest.raises(UnsafeTarError, match="metadata header at byte 512 claims an absurd size"):
        read_all(data)


def test_every_truncation_is_an_error() -> None:
    data = build([("a", "f", b"A" * 700), ("dir/", "d", None), ("b", "f", b"B" * 100)], tarfile.GNU_FORMAT)
    end = data.index(b"B" * 100) + 512  # end of b's data block: the end-of-archive marker starts here
    for cut in range(1, end + 1, 37):
        with pytest.raises(UnsafeTarError):
            read_all(data[:cut])
    assert [p for p, _, _ in read_all(data[: end + 512])] == ["a", "dir", "b"]


def test_truncation_inside_content_is_an_error_even_when_read() -> None:
    data = build([("a", "f", b"A" * 5000)])
    with pytest.raises(UnsafeTarError):
        for _member, reader in SafeTar(io.BytesIO(data[:3000])):
            assert reader is not None
            reader.read()


def test_invalid_header_is_an_error_not_a_short_archive() -> None:
    data = bytearray(build([("a", "f", b"A" * 10), ("b", "f", b"B" * 10)], tarfile.GNU_FORMAT))
    second = 1024  # header of b: after a's header and one data block
    assert data[second : second + 1] == b"b"
    data[second + 148 : second + 156] = b"9999999\0"  # wrong checksum
    with pytest.raises(UnsafeTarError, match="invalid tar header"):
        read_all(bytes(data))
    first = bytearray(data)
    first[148:156] = b"1234567\0"
    with pytest.raises(UnsafeTarError):
        read_all(bytes(first))


def test_garbage_after_members_is_an_error() -> None:
    data = build([("a", "f", b"A")])
    with pytest.raises(UnsafeTarError):
        read_all(data[:1024] + b"not a tar header".ljust(512, b"!") + b"\0" * 1024)


def test_root_entry_must_be_a_directory() -> None:
    with pytest.raises(UnsafeTarError, match="names the root"):
        read_all(build([("./", "f", b"data")]))


def test_unsupported_member_type_is_refused() -> None:
    info = tarfile.TarInfo("vol")
    info.type = b"V"
    with pytest.raises(UnsafeTarError, match="unsupported type"):
        read_all(info.tobuf(tarfile.GNU_FORMAT) + b"\0" * 1024)


def test_corrupt_gzip_layer_is_an_error() -> None:
    blob = gzip.compress(SAMPLE)
    broken = blob[:40] + bytes(b ^ 0xFF for b in blob[40:80]) + blob[80:]
    with pytest.raises(UnsafeTarError):
        read_all_stream(open_decompressed(io.BytesIO(broken), "gzip"))
    with pytest.raises(UnsafeTarError):
        read_all_stream(open_decompressed(io.BytesIO(blob[: len(blob) // 2]), "gzip"))


def read_all_stream(stream: io.RawIOBase | object) -> None:
    for _member, reader in SafeTar(stream):  # type: ignore[arg-type]
        if reader:
            reader.read()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes_never_crash(data: bytes) -> None:
    try:
        read_all(data)
    except UnsafeTarError:
        pass


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(SAMPLE) - 1), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(0, len(SAMPLE)),
)
def test_mutated_tars_never_crash(flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(SAMPLE)
    for pos, value in flips:
        data[pos] = value
    try:
        read_all(bytes(data[: cut or None]))
    except UnsafeTarError:
        pass


@pytest.mark.parametrize("name", [".wh.", ".wh..", ".wh...", "a/.wh...", "a/b/.wh..", "./a/.wh."])
def test_whiteouts_of_nothing_dot_or_dotdot_are_refused(name: str) -> None:
    """Guards the reproduced escape: `.wh...` made the whiteout target `..`, and an extractor
    removed the files next to its root. Every reader now refuses these names."""
    with pytest.raises(UnsafeTarError, match="whiteout"):
        read_all(build([("a/", "d", None), ("a/b/", "d", None), (name, "f", b"")]))


def test_real_whiteouts_still_pass() -> None:
    tar = build([("a/.wh.b", "f", b""), ("a/.wh..wh..opq", "f", b""), (".wh..hidden", "f", b"")])
    entries = read_all(tar)
    assert [path for path, _, _ in entries] == ["a/.wh.b", "a/.wh..wh..opq", ".wh..hidden"]


def test_xattrs_are_kept_other_pax_records_are_not() -> None:
    info = tarfile.TarInfo("usr/bin/ping")
    info.pax_headers = {"SCHILY.xattr.security.capability": "\x01cap", "atime": "12.5", "comment": "x"}
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(b""))
    [(member, _)] = list(SafeTar(io.BytesIO(data.getvalue())))
    assert member.xattrs == (("SCHILY.xattr.security.capability", "\x01cap"),)
