"""Safe tar reading: hostile or broken layer tars give one clear UnsafeTarError, never a crash,
never a silent short read, never a write outside the extraction root."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pare.errors import UnsafeTarError
from pare.oci.compression import open_decompressed
from pare.oci.digest import sha256
from pare.oci.tarsafe import SafeTar, extract, normalize, symlink_escapes
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


def test_symlink_escape_judgement() -> None:
    assert not symlink_escapes("usr/bin/sh", "dash")
    assert not symlink_escapes("usr/bin/sh", "../../bin/dash")
    assert symlink_escapes("usr/bin/sh", "../../../etc")
    assert symlink_escapes("bin", "/usr/bin")


# --- extraction --------------------------------------------------------------------------------------


def test_extract_writes_files_links_and_applies_whiteouts(tmp_path: Path) -> None:
    root = tmp_path / "root"
    extract(
        io.BytesIO(
            build(
                [
                    ("d/", "d", None),
                    ("d/old", "f", b"old"),
                    ("d/keep", "f", b"keep"),
                    ("gone", "f", b"gone"),
                    ("opq/", "d", None),
                    ("opq/lower", "f", b"l"),
                ]
            )
        ),
        root,
    )
    result = extract(
        io.BytesIO(
            build(
                [
                    (".wh.gone", "f", b""),
                    ("d/.wh.old", "f", b""),
                    ("opq/new", "f", b"n"),
                    ("opq/.wh..wh..opq", "f", b""),
                    ("ln", "s", "d/keep"),
                    ("hard", "h", "d/keep"),
                ]
            )
        ),
        root,
    )
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == [
        "d",
        "d/keep",
        "hard",
        "ln",
        "opq",
        "opq/new",
    ]
    assert (root / "hard").read_bytes() == b"keep" and (root / "hard").stat().st_ino == (
        root / "d/keep"
    ).stat().st_ino
    assert (root / "ln").is_symlink() and result.files == 2


@pytest.mark.parametrize(
    "entries",
    [
        [("evil", "s", "../../outside"), ("evil/pwned", "f", b"x")],
        [("evil", "s", "/tmp"), ("evil/pwned", "f", b"x")],
        [("inside", "s", "."), ("inside/pwned", "f", b"x")],
        [("x", "h", "../outside/pwned")],
    ],
    ids=["relative-escape", "absolute-link", "write-through-link", "hardlink-out"],
)
def test_extract_never_writes_outside_root(tmp_path: Path, entries: list[tuple[str, str, object]]) -> None:
    root = tmp_path / "root"
    (tmp_path / "outside").mkdir()
    with pytest.raises(UnsafeTarError):
        extract(io.BytesIO(build(entries)), root)
    assert list((tmp_path / "outside").iterdir()) == []
    assert not list(root.rglob("pwned"))


def test_extract_skips_devices_and_keeps_modes(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        dev = tarfile.TarInfo("dev/null")
        dev.type, dev.devmajor, dev.devminor = tarfile.CHRTYPE, 1, 3
        tar.addfile(dev)
        exe = tarfile.TarInfo("bin/run")
        exe.size, exe.mode, exe.mtime = 3, 0o755, 1_000_000
        tar.addfile(exe, io.BytesIO(b"#!x"))
    result = extract(io.BytesIO(buf.getvalue()), tmp_path / "root")
    assert result.skipped == ("dev/null",) and result.files == 1 and result.bytes == 3
    run = tmp_path / "root" / "bin" / "run"
    assert run.stat().st_mode & 0o777 == 0o755 and run.stat().st_mtime == 1_000_000
    assert not (tmp_path / "root" / "dev" / "null").exists()


_names = st.sampled_from(["a", "b", "a/b", "a/b/c", "b/a", "..", "a/..", "./a"])
_targets = st.sampled_from(["a", "b", ".", "..", "../..", "../outside", "/", "/tmp", "a/b", "../../outside"])
_entries = st.lists(
    st.one_of(
        st.tuples(_names, st.just("f"), st.binary(max_size=8)),
        st.tuples(_names, st.just("d"), st.none()),
        st.tuples(_names, st.just("s"), _targets),
        st.tuples(_names, st.just("h"), _targets),
    ),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_entries, min_size=1, max_size=3))
def test_extract_never_escapes_whatever_the_layers(layers: list[list[tuple[str, str, object]]]) -> None:
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        outside = base / "outside"
        outside.mkdir()
        (outside / "sentinel").write_bytes(b"keep")
        root = base / "deep" / "root"
        for entries in layers:
            try:
                extract(io.BytesIO(build(entries)), root)
            except UnsafeTarError:
                pass
        assert sorted(os.listdir(outside)) == ["sentinel"] and (outside / "sentinel").read_bytes() == b"keep"
        assert sorted(os.listdir(base)) == ["deep", "outside"] and os.listdir(base / "deep") == ["root"]
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                full = Path(dirpath) / name
                if full.is_symlink():
                    assert not os.readlink(full).startswith("/")
