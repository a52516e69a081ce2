"""The merged file tree: every whiteout and waste case from hand-made layer tars, with exact bytes,
and a hypothesis comparison against a naive model of the OCI changeset rules."""

from __future__ import annotations

import io
import posixpath
import tarfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pare.analyze.analysis import Analysis, analyze_image
from pare.analyze.tree import DELETED, IDENTICAL, METADATA_ONLY, OPAQUE, OVERWRITTEN, REPLACED, FileTree
from pare.errors import UnsafeTarError
from pare.oci.config import ImageConfig
from pare.oci.image import Image
from pare.oci.layer import Layer, layer_from_tar
from pare.oci.tarsafe import SafeTar

# An entry: (name, kind, payload, extra) with kind f (file: bytes), d (dir), s (symlink: target),
# h (hard link: target), w (whiteout of name), o (opaque marker in dir name); extra: dict of
# TarInfo attributes (mode, uid...).
Entry = tuple[Any, ...]


def layer_tar(entries: list[Entry]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, *rest in entries:
            payload = rest[0] if rest else None
            extra: dict[str, Any] = rest[1] if len(rest) > 1 else {}
            data = None
            if kind == "w":
                info = tarfile.TarInfo(
                    posixpath.join(posixpath.dirname(name), ".wh." + posixpath.basename(name))
                )
            elif kind == "o":
                info = tarfile.TarInfo(posixpath.join(name, ".wh..wh..opq"))
            else:
                info = tarfile.TarInfo(name)
            info.mode = 0o644
            if kind == "f":
                info.size = len(payload)
                data = io.BytesIO(payload)
            elif kind == "d":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind == "s":
                info.type, info.linkname = tarfile.SYMTYPE, payload
            elif kind == "h":
                info.type, info.linkname = tarfile.LNKTYPE, payload
            for key, value in extra.items():
                setattr(info, key, value)
            tar.addfile(info, data)
    return buf.getvalue()


def make_image(tmp: Path, layers: list[list[Entry]], history: list[str] | None = None) -> Image:
    blobs: list[Layer] = [layer_from_tar(io.BytesIO(layer_tar(e)), "gzip", workdir=tmp) for e in layers]
    config = ImageConfig.new().to_dict()
    config["history"] = [{"created_by": h} for h in (history or [f"layer {i}" for i in range(len(layers))])]
    return Image.assemble(config, blobs)


def analyze(tmp: Path, layers: list[list[Entry]]) -> Analysis:
    return analyze_image(make_image(tmp, layers), name="test")


def tree_of(layers: list[list[Entry]]) -> FileTree:
    """The tree without the image machinery (fast, for hypothesis)."""
    tree = FileTree()
    for entries in layers:
        tree.begin_layer()
        for member, reader in SafeTar(io.BytesIO(layer_tar(entries)), hash_stream=False):
            content = reader.read() if reader else b""
            tree.apply(member, content[:32].ljust(32, b"\0") if reader else b"")
    return tree


def waste(a: Analysis) -> list[tuple[str, int, int, int, str]]:
    return sorted((w.path, w.size, w.paid_by, w.hidden_by, w.reason) for w in a.waste)


def paths(a: Analysis) -> list[str]:
    return [p for p, _ in a.tree.walk()]


def check_invariant(a: Analysis) -> None:
    assert sum(w.size for w in a.waste) == a.waste_bytes == a.content_bytes - a.final_bytes


def test_file_deleted_by_later_layer(tmp_path: Path) -> None:
    a = analyze(
        tmp_path, [[("app/big.bin", "f", b"x" * 1000), ("app/keep", "f", b"k" * 10)], [("app/big.bin", "w")]]
    )
    assert waste(a) == [("app/big.bin", 1000, 0, 1, DELETED)]
    assert a.final_bytes == 10 and a.content_bytes == 1010 and a.efficiency == pytest.approx(10 / 1010)
    assert a.layers[1].files_deleted == 1 and a.layers[1].whiteouts == 1
    assert a.layers[0].waste_paid == 1000 and a.layers[1].waste_caused == 1000
    check_invariant(a)


def test_deleted_directory_counts_all_its_files(tmp_path: Path) -> None:
    a = analyze(
        tmp_path,
        [
            [
                ("var/lib/apt/lists/", "d"),
                ("var/lib/apt/lists/a", "f", b"a" * 300),
                ("var/lib/apt/lists/sub/b", "f", b"b" * 200),
                ("var/lib/apt/keep", "f", b"k"),
            ],
            [("var/lib/apt/lists", "w")],
        ],
    )
    assert waste(a) == [
        ("var/lib/apt/lists/a", 300, 0, 1, DELETED),
        ("var/lib/apt/lists/sub/b", 200, 0, 1, DELETED),
    ]
    assert paths(a) == ["var", "var/lib", "var/lib/apt", "var/lib/apt/keep"]
    assert a.layers[1].files_deleted == 2
    check_invariant(a)


@pytest.mark.parametrize("marker_first", [True, False])
def test_opaque_directory_hides_lower_children_only(tmp_path: Path, marker_first: bool) -> None:
    new = [("etc/conf.d/new", "f", b"n" * 7)]
    marker = [("etc/conf.d", "o")]
    a = analyze(
        tmp_path,
        [
            [
                ("etc/conf.d/old", "f", b"o" * 50),
                ("etc/conf.d/sub/deep", "f", b"d" * 25),
                ("etc/other", "f", b"e" * 3),
            ],
            [("etc/conf.d/", "d"), *(marker + new if marker_first else new + marker)],
        ],
    )
    assert waste(a) == [("etc/conf.d/old", 50, 0, 1, OPAQUE), ("etc/conf.d/sub/deep", 25, 0, 1, OPAQUE)]
    assert paths(a) == ["etc", "etc/conf.d", "etc/conf.d/new", "etc/other"]
    assert a.final_bytes == 10
    check_invariant(a)


def test_whiteout_never_hides_its_own_layer(tmp_path: Path) -> None:
    a = analyze(tmp_path, [[("f", "f", b"1" * 10)], [("f", "f", b"2" * 20), ("f", "w")]])
    assert waste(a) == [("f", 10, 0, 1, OVERWRITTEN)]
    assert a.final_bytes == 20


def test_directory_replaced_by_file_and_file_by_directory(tmp_path: Path) -> None:
    a = analyze(
        tmp_path,
        [
            [("x/", "d"), ("x/one", "f", b"1" * 11), ("x/two", "f", b"2" * 22), ("y", "f", b"y" * 5)],
            [("x", "f", b"X" * 3), ("y/", "d"), ("y/inner", "f", b"i" * 4)],
        ],
    )
    assert waste(a) == [
        ("x/one", 11, 0, 1, REPLACED),
        ("x/two", 22, 0, 1, REPLACED),
        ("y", 5, 0, 1, REPLACED),
    ]
    assert paths(a) == ["x", "y", "y/inner"]
    assert a.final_bytes == 7
    check_invariant(a)


def test_file_in_the_way_of_an_implied_directory(tmp_path: Path) -> None:
    a = analyze(tmp_path, [[("opt", "f", b"o" * 9)], [("opt/tool", "f", b"t" * 2)]])
    assert waste(a) == [("opt", 9, 0, 1, REPLACED)]
    assert paths(a) == ["opt", "opt/tool"]


def test_hard_links_share_bytes(tmp_path: Path) -> None:
    a = analyze(
        tmp_path,
        [
            [("bin/tool", "f", b"T" * 400), ("bin/alias", "h", "bin/tool"), ("bin/other", "f", b"o")],
            [("bin/tool", "w")],
        ],
    )
    assert a.final_bytes == 401  # the alias keeps the 400 bytes alive: nothing wasted
    assert a.waste == () and a.duplicates == ()
    b = analyze(
        tmp_path,
        [
            [("bin/tool", "f", b"T" * 400), ("bin/alias", "h", "bin/tool")],
            [("bin/tool", "w"), ("bin/alias", "w")],
        ],
    )
    assert waste(b) == [("bin/alias", 400, 0, 1, DELETED)]  # counted once, when the last link goes
    assert b.content_bytes == 400 and b.final_bytes == 0
    check_invariant(b)


def test_metadata_only_rewrites(tmp_path: Path) -> None:
    data = b"d" * 500
    a = analyze(
        tmp_path,
        [
            [("app/a", "f", data), ("app/b", "f", data[:300]), ("app/c", "f", b"c" * 40)],
            [
                ("app/a", "f", data, {"uid": 1000, "gid": 1000}),
                ("app/b", "f", data[:300], {"mode": 0o600}),
                ("app/c", "f", b"c" * 40),
            ],
        ],
    )
    assert waste(a) == [
        ("app/a", 500, 0, 1, METADATA_ONLY),
        ("app/b", 300, 0, 1, METADATA_ONLY),
        ("app/c", 40, 0, 1, IDENTICAL),
    ]
    assert a.layers[1].files_changed == 3 and a.layers[1].files_added == 0
    assert a.efficiency == pytest.approx(840 / 1680)
    check_invariant(a)


def test_same_path_twice_in_one_layer(tmp_path: Path) -> None:
    a = analyze(tmp_path, [[("f", "f", b"1" * 10), ("f", "f", b"2" * 30)]])
    assert waste(a) == [("f", 10, 0, 0, OVERWRITTEN)]
    assert a.final_bytes == 30


def test_symlink_over_file_and_whiteout_of_nothing(tmp_path: Path) -> None:
    a = analyze(tmp_path, [[("bin/sh", "f", b"s" * 8)], [("bin/sh", "s", "busybox"), ("nothing/here", "w")]])
    assert waste(a) == [("bin/sh", 8, 0, 1, REPLACED)]
    node = a.tree.get("/bin/sh")
    assert node is not None and node.kind == "symlink" and node.linkname == "busybox"


def test_bytes_inside_a_whiteout_marker_are_waste(tmp_path: Path) -> None:
    a = analyze(tmp_path, [[("x", "f", b"x" * 5)], [(".wh.x", "f", b"payload" * 10)]])
    assert waste(a) == [(".wh.x", 70, 1, 1, "whiteout-data"), ("x", 5, 0, 1, DELETED)]
    check_invariant(a)


def test_hard_link_to_missing_target_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UnsafeTarError, match="hard link"):
        analyze(tmp_path, [[("a", "h", "missing")]])


# --- hypothesis: the streaming merge against a naive model -----------------------------------------

NAMES = ["a", "b", "c"]
path_st = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join)
op_st = st.one_of(
    st.tuples(st.just("f"), path_st, st.integers(0, 50)),
    st.tuples(st.just("d"), path_st),
    st.tuples(st.just("s"), path_st),
    st.tuples(st.just("h"), path_st, st.integers(0, 5)),
    st.tuples(st.just("w"), path_st),
    st.tuples(st.just("o"), path_st),
)
layers_st = st.lists(st.lists(op_st, max_size=8), min_size=1, max_size=4)


def to_entries(layers: list[list[tuple[Any, ...]]]) -> list[list[Entry]]:
    """Hard links point at a file written earlier in the same layer (as layer tars do)."""
    out: list[list[Entry]] = []
    counter = 0
    for ops in layers:
        entries: list[Entry] = []
        files: list[str] = []
        for op in ops:
            kind, path = op[0], op[1]
            if kind == "f":
                counter += 1
                entries.append((path, "f", bytes([65 + counter % 26]) * op[2]))
                files.append(path)
            elif kind == "h":
                if files:
                    target = files[op[2] % len(files)]
                    if target != path and not target.startswith(path + "/"):
                        entries.append((path, "h", target))
                        files.append(path)
            elif kind in ("d", "s"):
                entries.append((path, kind, "t" if kind == "s" else None))
            else:
                entries.append((path, kind))
        out.append(entries)
    return out


def naive(layers: list[list[Entry]]) -> tuple[dict[str, tuple[str, int | None]], dict[int, int], int]:
    """Whiteouts of a layer first (against the lower state), then its entries in order.
    Returns (path -> (kind, inode id)), inode sizes, all content bytes."""
    state: dict[str, tuple[str, int | None]] = {}
    sizes: dict[int, int] = {}
    total = 0

    def remove(path: str, self_too: bool = True) -> None:
        for p in [p for p in state if p.startswith(path + "/") or (self_too and p == path)]:
            del state[p]

    for entries in layers:
        for name, kind, *_ in entries:
            if kind == "w":
                remove(name)
            elif kind == "o" and state.get(name, ("", None))[0] == "d":
                remove(name, self_too=False)
        for name, kind, *rest in entries:
            if kind in ("w", "o"):
                continue
            parts = name.split("/")
            for i in range(1, len(parts)):
                anc = "/".join(parts[:i])
                if anc in state and state[anc][0] != "d":
                    remove(anc)
                state.setdefault(anc, ("d", None))
            if kind == "d":
                if state.get(name, ("", None))[0] != "d":
                    remove(name)
                    state[name] = ("d", None)
                continue
            new: tuple[str, int | None] = ("symlink", None)
            if kind == "f":
                new = ("f", len(sizes))
                sizes[len(sizes)] = len(rest[0])
                total += len(rest[0])
            elif kind == "h":  # a hard link to a file shares its inode; to a symlink, copies it
                target = state.get(rest[0])
                if target is None or target[0] == "d":
                    raise LookupError(rest[0])
                new = target
            remove(name)
            state[name] = new
    return state, sizes, total


@settings(max_examples=400, deadline=None)
@given(layers_st)
def test_merge_matches_naive_model(raw: list[list[tuple[Any, ...]]]) -> None:
    layers = to_entries(raw)
    try:
        state, sizes, total = naive(layers)
    except LookupError:  # a hard link whose target an earlier entry replaced: refused, as link(2) would
        with pytest.raises(UnsafeTarError, match="hard link"):
            tree_of(layers)
        return
    tree = tree_of(layers)
    got = {p: ("d" if n.kind == "dir" else "f" if n.kind == "file" else n.kind) for p, n in tree.walk()}
    assert got == {p: k for p, (k, _) in state.items()}
    final = sum(sizes[i] for i in {inode for _, inode in state.values() if inode is not None})
    assert tree.final_bytes() == final
    assert sum(layer.content_bytes for layer in tree.layers) == total
    assert sum(w.size for w in tree.waste) == total - final
    for path, node in tree.walk():
        if node.inode is not None:
            assert node.size == sizes[state[path][1]]  # type: ignore[index]


def test_deepest_allowed_paths_merge_without_recursion_trouble() -> None:
    deep = "/".join(["d"] * 255) + "/f"
    tree = tree_of([[(deep, "f", b"x" * 9)], [("d", "w")]])
    assert [(w.path, w.size, w.reason) for w in tree.waste] == [(deep, 9, DELETED)]
    tree = tree_of([[(deep, "f", b"x" * 9)], [("d", "f", b"y")]])
    assert tree.final_bytes() == 1 and tree.waste[0].reason == REPLACED
