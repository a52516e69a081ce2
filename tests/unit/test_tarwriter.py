"""Deterministic tar writer: same files -> same bytes -> same diff_id, whatever the disk says."""

from __future__ import annotations

import io
import os
import socket
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pare.errors import UnsafeTarError
from pare.oci.tarwriter import (
    TarBuilder,
    layer_from_builder,
    layer_from_writer,
    normalize_tar,
    sort_key,
    tree_layer,
    write_tree,
)
from tarcases import BROKEN_KINDS, broken, tar_entries


def make_tree(root: Path, order: list[str], mtime: int) -> None:
    files = {"b.txt": b"bee", "a/x.bin": b"\x00\x01", "a-b/y": b"why", "a/deep/z": b"zed"}
    for name in order:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name])
        os.utime(path, (mtime, mtime))
    (root / "a" / "run.sh").write_bytes(b"#!/bin/sh\n")
    (root / "a" / "run.sh").chmod(0o750)
    (root / "link").symlink_to("a/x.bin")
    os.link(root / "b.txt", root / "hard.txt")
    for d in root.rglob("*"):
        if d.is_dir():
            os.utime(d, (mtime, mtime))


def tar_bytes(root: Path, **kw: object) -> bytes:
    out = io.BytesIO()
    write_tree(root, out, **kw)  # type: ignore[arg-type]
    return out.getvalue()


def members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getmembers()


NAMES = ["b.txt", "a/x.bin", "a-b/y", "a/deep/z"]


def test_same_tree_built_differently_gives_same_bytes_and_diff_id(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    make_tree(one, NAMES, 1_000)
    make_tree(two, list(reversed(NAMES)), 2_000_000)
    assert tar_bytes(one) == tar_bytes(two)
    layer_one = tree_layer(one, workdir=tmp_path / "blobs")
    layer_two = tree_layer(two, workdir=tmp_path / "blobs")
    assert layer_one.diff_id == layer_two.diff_id
    assert layer_one.digest == layer_two.digest
    with layer_one.open_uncompressed() as stream:
        assert stream.read() == tar_bytes(one)


def test_content_change_changes_diff_id(tmp_path: Path) -> None:
    make_tree(tmp_path / "t", NAMES, 0)
    before = tree_layer(tmp_path / "t", workdir=tmp_path / "blobs").diff_id
    (tmp_path / "t" / "b.txt").write_bytes(b"bee!")
    assert tree_layer(tmp_path / "t", workdir=tmp_path / "blobs").diff_id != before


def test_order_metadata_and_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    make_tree(tmp_path, NAMES, 5)
    entries = members(tar_bytes(tmp_path))
    names = [m.name for m in entries]
    # depth first, sorted per directory: a, a/..., then a-b (GNU tar --sort=name order)
    assert names == ["a", "a/deep", "a/deep/z", "a/run.sh", "a/x.bin", "a-b", "a-b/y", "b.txt",
                     "hard.txt", "link"]
    assert names == [m.name for m in sorted(entries, key=lambda m: sort_key(m.name))]
    by_name = {m.name: m for m in entries}
    assert all(m.mtime == 1700000000 for m in entries)
    assert all((m.uid, m.gid, m.uname, m.gname) == (0, 0, "", "") for m in entries)
    assert by_name["a/run.sh"].mode == 0o750
    assert by_name["hard.txt"].islnk() and by_name["hard.txt"].linkname == "b.txt"
    assert by_name["link"].issym() and by_name["link"].linkname == "a/x.bin"
    assert by_name["a"].isdir()


def test_uid_gid_kept_or_forced_and_modes_normalised(tmp_path: Path) -> None:
    make_tree(tmp_path, NAMES, 0)
    forced = {m.name: m for m in members(tar_bytes(tmp_path, uid=65532, gid=65532))}
    assert {(m.uid, m.gid) for m in forced.values()} == {(65532, 65532)}
    kept = {m.name: m for m in members(tar_bytes(tmp_path, uid=None, gid=None))}
    assert kept["b.txt"].uid == os.getuid()
    (tmp_path / "b.txt").chmod(0o600)
    norm = {m.name: m for m in members(tar_bytes(tmp_path, normalize_modes=True))}
    assert norm["b.txt"].mode == 0o644
    assert norm["a/run.sh"].mode == 0o755
    assert norm["a"].mode == 0o755


def test_special_files_skipped(tmp_path: Path) -> None:
    (tmp_path / "keep").write_bytes(b"k")
    os.mkfifo(tmp_path / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(tmp_path / "sock"))
        assert [m.name for m in members(tar_bytes(tmp_path))] == ["keep"]
    finally:
        sock.close()


def test_include_exclude_and_prefix(tmp_path: Path) -> None:
    make_tree(tmp_path, NAMES, 0)
    names = [m.name for m in members(tar_bytes(tmp_path, exclude=["a"], prefix="app"))]
    assert names == ["app", "app/a-b", "app/a-b/y", "app/b.txt", "app/hard.txt", "app/link"]
    only = [m.name for m in members(tar_bytes(tmp_path, include=["a/deep", "*.txt"],
                                               exclude=["hard.txt"]))]
    assert only == ["a", "a/deep", "a/deep/z", "b.txt"]


def test_builder_adds_parents_and_bytes(tmp_path: Path) -> None:
    builder = TarBuilder(epoch=7, uid=None, gid=None)
    builder.add_bytes("etc/passwd", b"root:x:0:0::/root:/sbin/nologin\n")
    builder.add_dir("tmp", mode=0o1777)
    builder.add_bytes("home/nonroot/.keep", b"", uid=65532, gid=65532)
    builder.add_symlink("/usr/lib64", "lib")
    out = io.BytesIO()
    assert builder.write(out) == 8
    entries = {m.name: m for m in members(out.getvalue())}
    assert list(entries) == ["etc", "etc/passwd", "home", "home/nonroot", "home/nonroot/.keep", "tmp",
                             "usr", "usr/lib64"]
    assert entries["tmp"].mode == 0o1777
    assert entries["home/nonroot/.keep"].uid == 65532
    assert entries["etc"].mode == 0o755 and entries["etc"].isdir()
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        handle = tar.extractfile("etc/passwd")
        assert handle is not None and handle.read().startswith(b"root:x:0:0")


def _source_tar() -> bytes:
    """A tar shaped like mmdebstrap's: './' names, owners by name, a device node, atime records."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind in (("./", tarfile.DIRTYPE), ("./dev/", tarfile.DIRTYPE),
                           ("./dev/null", tarfile.CHRTYPE), ("./etc/", tarfile.DIRTYPE)):
            info = tarfile.TarInfo(name)
            info.type = kind
            info.mode = 0o755
            info.mtime = 123456
            tar.addfile(info)
        data = b"hello\n"
        info = tarfile.TarInfo("./etc/motd")
        info.size, info.mtime, info.uid, info.gid, info.uname = len(data), 99, 0, 42, "root"
        info.pax_headers = {"atime": "1.5", "SCHILY.xattr.security.capability": "\x01",
                            "SCHILY.xattr.user.junk": "x"}
        tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("./etc/motd2")
        link.type, link.linkname = tarfile.LNKTYPE, "./etc/motd"
        tar.addfile(link)
    return buf.getvalue()


def test_normalize_tar_rewrites_metadata_and_skips_devices() -> None:
    out = io.BytesIO()
    count = normalize_tar(io.BytesIO(_source_tar()), out, epoch=0)
    entries = members(out.getvalue())
    assert count == len(entries) == 4
    assert [m.name for m in entries] == ["dev", "etc", "etc/motd", "etc/motd2"]
    motd = entries[2]
    assert (motd.mtime, motd.uid, motd.gid, motd.uname) == (0, 0, 42, "")
    assert motd.pax_headers.get("SCHILY.xattr.security.capability") == "\x01"
    assert "SCHILY.xattr.user.junk" not in motd.pax_headers and "atime" not in motd.pax_headers
    assert entries[3].islnk() and entries[3].linkname == "etc/motd"
    again = io.BytesIO()
    normalize_tar(io.BytesIO(_source_tar()), again, epoch=0)
    assert again.getvalue() == out.getvalue()


def test_layer_from_writer_reports_writer_failure(tmp_path: Path) -> None:
    def broken(stream: object) -> None:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        layer_from_writer(broken, workdir=tmp_path)


name_part = st.text(alphabet="abcXYZ-_.0é", min_size=1, max_size=6).filter(lambda s: s not in (".", ".."))
file_sets = st.dictionaries(st.lists(name_part, min_size=1, max_size=3).map("/".join), st.binary(max_size=64),
                            min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(file_sets, st.randoms())
def test_insertion_order_never_matters(files: dict[str, bytes], rnd: object) -> None:
    # a path may not be both a file and a directory
    names = sorted(files)
    files = {n: files[n] for n in names if not any(o.startswith(n + "/") for o in names)}
    order = list(files)
    rnd.shuffle(order)  # type: ignore[attr-defined]
    outs = []
    for sequence in (sorted(files), order):
        builder = TarBuilder(epoch=0)
        for name in sequence:
            builder.add_bytes(name, files[name])
        buf = io.BytesIO()
        builder.write(buf)
        outs.append(buf.getvalue())
    assert outs[0] == outs[1]
    with tarfile.open(fileobj=io.BytesIO(outs[0])) as tar:
        seen = {}
        for m in tar.getmembers():
            if m.isfile():
                handle = tar.extractfile(m)
                assert handle is not None
                seen[m.name] = handle.read()
            else:
                assert m.isdir()
    assert seen == files


@settings(max_examples=40, deadline=None)
@given(file_sets)
def test_normalize_tar_is_idempotent_and_agrees_with_the_builder(files: dict[str, bytes]) -> None:
    names = sorted(files)
    files = {n: files[n] for n in names if not any(o.startswith(n + "/") for o in names)}
    builder = TarBuilder(epoch=0)
    for name, data in files.items():
        builder.add_bytes(name, data)
    built = io.BytesIO()
    builder.write(built)
    once = io.BytesIO()
    normalize_tar(io.BytesIO(built.getvalue()), once, epoch=0)
    assert once.getvalue() == built.getvalue()
    twice = io.BytesIO()
    normalize_tar(io.BytesIO(once.getvalue()), twice, epoch=0)
    assert twice.getvalue() == once.getvalue()


def test_truncated_tar_is_one_clear_error() -> None:
    builder = TarBuilder()
    builder.add_bytes("big", b"x" * 10_000)
    data = io.BytesIO()
    builder.write(data)
    for cut in (300, 600, 5000):
        with pytest.raises(UnsafeTarError):
            normalize_tar(io.BytesIO(data.getvalue()[:cut]), io.BytesIO(), epoch=0)


@pytest.mark.parametrize("kind", BROKEN_KINDS)
def test_a_broken_rootfs_stream_fails_instead_of_giving_a_short_base(kind: str) -> None:
    """Guards the mmdebstrap path: tarfile's stream mode stopped quietly at a bad header or at a
    stream without end-of-archive blocks, and normalize_tar wrote the members read so far as a
    complete (short) base layer."""
    source = tar_entries([("./etc/", "d", None), ("./etc/a", "f", b"a" * 700), ("./etc/b", "f", b"b" * 900)])
    with pytest.raises(UnsafeTarError):
        normalize_tar(io.BytesIO(broken(source)[kind]), io.BytesIO(), epoch=0)


@pytest.mark.parametrize("entries", [
    [("./ok", "f", b"x"), ("./../escape", "f", b"x")],
    [("./a", "f", b"x"), ("./b", "h", "../a")],
], ids=["dotdot-name", "dotdot-hardlink"])
def test_names_that_leave_the_root_are_refused_not_copied(entries: list[tuple[str, str, object]]) -> None:
    """normalize_tar stripped './' and copied '../escape' into the base layer as is."""
    with pytest.raises(UnsafeTarError, match=r"'\.\.'"):
        normalize_tar(io.BytesIO(tar_entries(entries)), io.BytesIO(), epoch=0)


def test_a_hard_link_to_an_excluded_file_is_an_error_not_a_dangling_link() -> None:
    """Excluding a file (dev/*, etc/hostname...) that a later hard link names left the link
    dangling in the layer, which every strict reader then refuses."""
    source = tar_entries([("./etc/", "d", None), ("./etc/hostname", "f", b"h"),
                          ("./etc/alias", "h", "./etc/hostname")])
    with pytest.raises(UnsafeTarError, match="hard link"):
        normalize_tar(io.BytesIO(source), io.BytesIO(), epoch=0, exclude=["etc/hostname"])
    out = io.BytesIO()
    assert normalize_tar(io.BytesIO(source), out, epoch=0) == 3


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=3000))
def test_normalize_tar_rejects_garbage_cleanly(data: bytes) -> None:
    try:
        normalize_tar(io.BytesIO(data), io.BytesIO(), epoch=0)
    except UnsafeTarError:
        pass


def test_add_file_sets_owner_or_keeps_the_one_on_disk(tmp_path: Path) -> None:
    src = tmp_path / "f"
    src.write_bytes(b"data")
    if os.geteuid() == 0:
        os.chown(src, 1234, 4321)
    st = os.stat(src)
    builder = TarBuilder(epoch=0, uid=None, gid=None)
    builder.add_file("given", src, 0o600, uid=65532, gid=65533)
    builder.add_file("kept", src)
    out = io.BytesIO()
    builder.write(out)
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        given, kept = tar.getmember("given"), tar.getmember("kept")
    assert (given.uid, given.gid, given.mode) == (65532, 65533, 0o600)
    assert (kept.uid, kept.gid) == (st.st_uid, st.st_gid)


def test_layer_from_builder_takes_compression_level_and_annotations(tmp_path: Path) -> None:
    payload = b"".join(b"row %d\n" % i for i in range(100_000))
    sizes = {}
    for level in (1, 19):
        builder = TarBuilder(epoch=0)
        builder.add_bytes("data.txt", payload)
        layer = layer_from_builder(builder, "zstd", workdir=tmp_path / str(level), level=level,
                                   annotations={"a": "b"})
        assert layer.media_type == "application/vnd.oci.image.layer.v1.tar+zstd"
        assert layer.descriptor.annotations == {"a": "b"}
        with layer.open_uncompressed() as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            member = next(iter(tar))
            assert tar.extractfile(member).read() == payload  # type: ignore[union-attr]
        sizes[level] = layer.size
    assert sizes[19] < sizes[1]
