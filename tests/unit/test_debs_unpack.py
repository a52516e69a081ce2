"""Unpacking a .deb's data tar into a distroless tree: one strict tar reader (a broken data tar fails
the base build instead of giving a short package), paths resolved inside the tree as a chroot would,
hard links only to files of the same package and never through a symlink.

The .debs are built here by hand (ar + xz, as dpkg-deb lays them out) because the hostile ones cannot
be made with dpkg-deb."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pare.bases.debs import resolve_in_root, unpack_deb
from pare.errors import PareError
from tarcases import BROKEN_KINDS, broken, make_deb, tar_entries


def unpack(tmp_path: Path, data_tar: bytes, *, compress: bool = True) -> tuple[Path, list[str]]:
    deb = tmp_path / "demo.deb"
    deb.write_bytes(make_deb(data_tar, compress=compress))
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    return root, unpack_deb(deb, root, (), ())


def outside(tmp_path: Path) -> set[str]:
    """Everything under tmp_path but outside root (and the .deb itself)."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(tmp_path):
        dirnames[:] = [d for d in dirnames if Path(dirpath, d) != tmp_path / "root"]
        found.update(str(Path(dirpath, n).relative_to(tmp_path)) for n in filenames if n != "demo.deb")
    return found


def test_unpacks_files_links_and_merged_usr(tmp_path: Path) -> None:
    data = tar_entries([
        ("./", "d", None), ("./bin/", "d", None), ("./bin/tool", "f", b"#!x\n"),
        ("./usr/", "d", None), ("./usr/share/", "d", None), ("./usr/share/doc", "f", b"doc"),
        ("./usr/share/same", "h", "./usr/share/doc"), ("./usr/share/alias", "s", "doc"),
    ])
    root, written = unpack(tmp_path, data)
    assert written == ["/usr/bin/tool", "/usr/share/doc", "/usr/share/same", "/usr/share/alias"]
    assert (root / "usr/bin/tool").read_bytes() == b"#!x\n"
    assert os.stat(root / "usr/share/same").st_ino == os.stat(root / "usr/share/doc").st_ino
    assert os.readlink(root / "usr/share/alias") == "doc"


@pytest.mark.parametrize("kind", BROKEN_KINDS)
@pytest.mark.parametrize("compress", [True, False], ids=["data.tar.xz", "data.tar"])
def test_a_broken_data_tar_fails_instead_of_giving_a_short_package(tmp_path: Path, kind: str,
                                                                    compress: bool) -> None:
    """Guards against tarfile's lenient end: it stops quietly at a bad header or a missing
    end-of-archive, and the package would be installed with files missing."""
    data = tar_entries([("./etc/", "d", None), ("./etc/a", "f", b"a" * 700), ("./etc/b", "f", b"b" * 900)])
    with pytest.raises(PareError):
        unpack(tmp_path, broken(data)[kind], compress=compress)


def test_a_corrupt_deb_is_a_pare_error(tmp_path: Path) -> None:
    """A .deb cut short, or whose xz stream is damaged, is one clear error, not an lzma traceback."""
    whole = make_deb(tar_entries([("./a", "f", b"x" * 5000), ("./b", "f", b"y")]))
    for damaged in (whole[:-40], whole[:70], whole[:-100] + bytes(100), b"!<arch>\nnonsense"):
        deb = tmp_path / "bad.deb"
        deb.write_bytes(damaged)
        with pytest.raises(PareError):
            unpack_deb(deb, tmp_path / "root", (), ())


def test_a_hard_link_never_follows_a_symlink_out_of_the_tree(tmp_path: Path) -> None:
    """Guards against os.link(follow_symlinks=True): a hard link to a symlink that points at a host
    file linked the host file itself into the image."""
    secret = tmp_path / "secret"
    secret.write_text("host only")
    data = tar_entries([("./evil", "s", str(secret)), ("./stolen", "h", "./evil")])
    with pytest.raises(PareError, match="hard link"):
        unpack(tmp_path, data)
    stolen = tmp_path / "root/stolen"
    assert not stolen.exists() or os.lstat(stolen).st_ino != os.stat(secret).st_ino
    assert os.stat(secret).st_nlink == 1


def test_a_hard_link_must_name_a_file_of_the_same_package(tmp_path: Path) -> None:
    """A hard link to a path this package did not write (another package's file, a directory) is
    refused: dpkg archives only link to their own earlier members."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/shadow").write_text("other package")
    for target in ("./etc/shadow", "./etc"):
        with pytest.raises(PareError, match="hard link"):
            unpack(tmp_path, tar_entries([("./copy", "h", target)]))
    assert os.stat(root / "etc/shadow").st_nlink == 1


def test_symlink_chains_resolve_inside_the_tree(tmp_path: Path) -> None:
    """Links `d -> .`, `e -> d/..`, `up -> ../../..` and an absolute one pass a lexical check; writing
    through them must land inside the tree, as it would in a chroot."""
    data = tar_entries([
        ("./d", "s", "."), ("./e", "s", "d/.."), ("./e/x", "f", b"1"),
        ("./up", "s", "../../.."), ("./up/y", "f", b"2"),
        ("./abs", "s", "/"), ("./abs/z", "f", b"3"),
        ("./deep", "s", "e/e/d/up/e"), ("./deep/w", "f", b"4"),
    ])
    before = outside(tmp_path)
    root, _ = unpack(tmp_path, data)
    assert outside(tmp_path) == before
    for name, content in (("x", b"1"), ("y", b"2"), ("z", b"3"), ("w", b"4")):
        assert (root / name).read_bytes() == content


def test_a_file_over_a_directory_is_one_clear_error(tmp_path: Path) -> None:
    """dpkg refuses to overwrite a directory with a file; unpack_deb raised IsADirectoryError."""
    with pytest.raises(PareError, match="etc"):
        unpack(tmp_path, tar_entries([("./etc/", "d", None), ("./etc/x", "f", b"1"), ("./etc", "f", b"2")]))


@pytest.mark.skipif(os.geteuid() != 0, reason="owners are applied only when pare runs as root")
def test_setuid_bits_survive_the_owner_change(tmp_path: Path) -> None:
    """Linux clears setuid and setgid on chown, even for root: the owner must be set before the mode."""
    root, _ = unpack(tmp_path, tar_entries([("./su", "f", b"x")], modes={"./su": 0o4755}))
    assert stat.S_IMODE(os.stat(root / "su").st_mode) == 0o4755


def test_a_packaged_merged_usr_symlink_leaves_the_trees_own(tmp_path: Path) -> None:
    """trixie's base-files ships /bin -> usr/bin itself; the tree already has it."""
    root = tmp_path / "root"
    (root / "usr/bin").mkdir(parents=True)
    (root / "bin").symlink_to("usr/bin")
    _, written = unpack(tmp_path, tar_entries([("./bin", "s", "usr/bin"), ("./bin/sh", "f", b"x")]))
    assert written == ["/usr/bin/sh"] and os.readlink(root / "bin") == "usr/bin"


_names = st.sampled_from(["a", "b", "d", "e", "a/b", "a/b/c", "e/x", "d/e/x", "up/x", "e/up/d/x",
                          ".wh.a", "a/.wh.b", ".wh...", "a/.wh..", ".wh..wh..opq", "./a/../b"])
_targets = st.sampled_from([".", "..", "d/..", "e/../..", "d/e/..", "a", "a/b", "/", "/a", "/..",
                            "../outside", "../../..", "d", "e", "up", "./a/b", "../../outside/sentinel"])
_entries = st.lists(st.one_of(
    st.tuples(_names, st.just("f"), st.binary(max_size=4)),
    st.tuples(_names, st.just("d"), st.none()),
    st.tuples(_names, st.just("s"), _targets),
    st.tuples(_names, st.just("h"), _targets),
), max_size=10)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_entries, min_size=1, max_size=3), st.lists(_names, max_size=4))
def test_no_package_escapes_the_tree_whatever_its_links_and_whiteouts(
        tmp_path: Path, packages: list[list[tuple[str, str, object]]], lookups: list[str]) -> None:
    """Chains of links (`d -> .`, `e -> d/..`, `up -> ../../..`, absolute ones), whiteout names and
    hard links, over several packages unpacked into one tree: nothing outside the tree is written,
    removed or linked, and every path resolved in the tree stays in it."""
    with tempfile.TemporaryDirectory(dir=tmp_path) as tmp:
        base = Path(tmp)
        (base / "outside").mkdir()
        (base / "outside" / "sentinel").write_bytes(b"keep")
        root = base / "deep" / "root"
        root.mkdir(parents=True)
        for entries in packages:
            deb = base / "p.deb"
            deb.write_bytes(make_deb(tar_entries(entries), compress=False))
            try:
                unpack_deb(deb, root, (), ())
            except PareError:
                pass
            deb.unlink()
        assert sorted(os.listdir(base / "outside")) == ["sentinel"]
        assert (base / "outside" / "sentinel").read_bytes() == b"keep"
        assert os.stat(base / "outside" / "sentinel").st_nlink == 1
        assert sorted(os.listdir(base)) == ["deep", "outside"] and os.listdir(base / "deep") == ["root"]
        real_root = os.path.realpath(root)
        for name in lookups:
            try:
                resolved = os.path.realpath(resolve_in_root(root, name))
            except PareError:
                continue
            assert resolved == real_root or resolved.startswith(real_root + "/")
