"""Figures derived from the tree (dive's score, duplicates, bloat, base vs app, diff, CI gate) and
the `pare analyze` / `pare diff` commands on images in OCI layouts and docker-save archives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console
from test_analyze_tree import analyze, make_image

from helpers import run_cli as run
from pare.analyze.analysis import analyze_image
from pare.analyze.bloat import categorize
from pare.analyze.ci import Thresholds, breaches
from pare.analyze.diff import diff
from pare.analyze.render import render_analysis, render_diff, render_tree
from pare.analyze.units import human, parse_size
from pare.errors import DigestMismatch, UsageError
from pare.oci.image import Image
from pare.oci.layer import BlobLayer
from pare.stores.archive import ArchiveStore
from pare.stores.layout import LayoutStore


def test_dive_score_as_dive_computes_it(tmp_path: Path) -> None:
    # dive: a deleted directory counts its size in both minimum and cumulative (looks efficient),
    # a file seen twice counts every copy in "wasted bytes", and a grown file keeps the smaller size.
    a = analyze(
        tmp_path,
        [
            [
                ("a/x", "f", b"x" * 100),
                ("a/y", "f", b"y" * 50),
                ("b", "f", b"b" * 10),
                ("g", "f", b"g" * 100),
            ],
            [("a", "w"), ("b", "f", b"b" * 10, {"mode": 0o600}), ("g", "f", b"G" * 200)],
        ],
    )
    # leaves, layer 0: a/x 100, a/y 50, b 10, g 100; layer 1: a (whiteout of a dir: 150), b 10, g 200
    # per path: minimum a/x 100, a/y 50, b 10, g 100, a 150; cumulative 100, 50, 20, 300, 150
    assert a.dive.score == pytest.approx((100 + 50 + 10 + 100 + 150) / (100 + 50 + 20 + 300 + 150))
    assert a.dive.wasted_bytes == 20 + 300
    # exact: 150 deleted + 10 metadata-only + 100 overwritten
    assert a.waste_bytes == 260 and a.final_bytes == 210
    assert a.efficiency == pytest.approx(210 / 470)
    assert a.waste_by_reason() == {"deleted": 150, "overwritten": 100, "metadata-only": 10}


def test_dive_ignores_opaque_markers(tmp_path: Path) -> None:
    a = analyze(tmp_path, [[("d/old", "f", b"o" * 80)], [("d/", "d"), ("d", "o"), ("d/new", "f", b"n" * 20)]])
    assert a.waste_bytes == 80
    assert a.dive.score == 1.0 and a.dive.wasted_bytes == 0  # dive sees nothing wrong


def test_duplicates_by_content_not_hard_links(tmp_path: Path) -> None:
    blob = b"same bytes" * 100
    a = analyze(
        tmp_path,
        [
            [
                ("usr/bin/git", "f", blob),
                ("usr/lib/git-core/git", "f", blob),
                ("usr/bin/git-alias", "h", "usr/bin/git"),
                ("empty1", "f", b""),
                ("empty2", "f", b""),
            ]
        ],
    )
    assert len(a.duplicates) == 1
    group = a.duplicates[0]
    assert group.paths == ("usr/bin/git", "usr/lib/git-core/git") and group.savings == 1000
    assert a.duplicate_savings == 1000


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease", ("package-manager-cache",)),
        ("root/.cache/pip/http/abc", ("package-manager-cache",)),
        ("usr/share/doc/git/changelog.gz", ("docs",)),
        ("usr/share/man/man1/ls.1.gz", ("man-pages",)),
        ("usr/share/locale/de/LC_MESSAGES/x.mo", ("locales",)),
        ("usr/include/stdio.h", ("headers-static-libs",)),
        ("usr/lib/x86_64-linux-gnu/libc.a", ("headers-static-libs",)),
        ("usr/bin/gcc-12", ("compilers",)),
        ("usr/bin/x86_64-linux-gnu-g++-12", ("compilers",)),
        ("usr/lib/gcc/x86_64-linux-gnu/12/cc1", ("compilers",)),
        ("usr/bin/bash", ("shells",)),
        ("bin/sh", ("shells",)),
        ("usr/bin/apt-get", ("package-managers",)),
        ("usr/local/bin/pip3.11", ("package-managers",)),
        ("usr/lib/python3.11/test/test_os.py", ("tests",)),
        ("app/__pycache__/main.cpython-311.pyc", ("pycache",)),
        ("app/.git/objects/pack/p.pack", ("git",)),
        ("app/dist/main.js.map", ("source-maps",)),
        ("tmp/build.log", ("temp-files",)),
        ("app/server", ()),
        ("usr/bin/gitk", ()),
        ("usr/lib/libssl.so.3", ()),
    ],
)
def test_categories(path: str, expected: tuple[str, ...]) -> None:
    assert categorize(path) == expected


def test_bloat_report_counts_inodes_once(tmp_path: Path) -> None:
    a = analyze(
        tmp_path,
        [
            [
                ("usr/share/doc/a/README", "f", b"r" * 70),
                ("usr/share/doc/a/copy", "h", "usr/share/doc/a/README"),
                ("usr/share/man/man1/x.1.gz", "f", b"m" * 30),
                ("app/main", "f", b"a" * 500),
            ]
        ],
    )
    assert set(a.categories) == {"docs", "man-pages"}
    docs = a.categories["docs"]
    assert (docs.bytes, docs.files) == (70, 2)
    assert docs.paths[0] == ("usr/share/doc/a/README", 70)


def test_base_split_by_layer_digest(tmp_path: Path) -> None:
    base_layers = [[("bin/busybox", "f", b"b" * 300), ("etc/os-release", "f", b"o" * 20)]]
    base = make_image(tmp_path, base_layers)
    app = make_image(tmp_path, [*base_layers, [("app/server", "f", b"s" * 100), ("etc/os-release", "w")]])
    a = analyze_image(app, name="app", base=base, base_ref="base:1")
    assert a.base is not None
    assert a.base.base_layers == (0,) and a.base.base_is_prefix
    assert (a.base.base_content_bytes, a.base.base_final_bytes) == (320, 300)
    assert (a.base.app_content_bytes, a.base.app_final_bytes) == (100, 100)
    assert a.layers[0].base and not a.layers[1].base
    hinted = Image.assemble(
        app.config, app.layers, annotations={"org.opencontainers.image.base.name": "registry.local/base:1"}
    )
    h = analyze_image(hinted)
    assert h.base_hint == "registry.local/base:1" and h.to_dict()["image"]["base_annotation"] == h.base_hint
    console = Console(record=True, width=200)
    render_analysis(h, console)
    assert "Built from registry.local/base:1 (image annotation)" in console.export_text()
    other = make_image(tmp_path, [[("x", "f", b"x")]])
    assert analyze_image(app, base=other).base.base_layers == ()  # type: ignore[union-attr]


def test_diff_files_bytes_and_categories(tmp_path: Path) -> None:
    a = analyze(
        tmp_path,
        [[("app/main", "f", b"1" * 100), ("usr/share/doc/x", "f", b"d" * 40), ("etc/cfg", "f", b"c")]],
    )
    b = analyze(
        tmp_path,
        [
            [
                ("app/main", "f", b"2" * 150),
                ("etc/cfg", "f", b"c", {"mode": 0o600}),
                ("usr/bin/gcc", "f", b"g" * 500),
            ]
        ],
    )
    d = diff(a, b)
    assert [(c.path, c.bytes_a, c.bytes_b) for c in d.added] == [("usr/bin", 0, 0), ("usr/bin/gcc", 0, 500)]
    assert [(c.path, c.bytes_a) for c in d.removed] == [
        ("usr/share", 0),
        ("usr/share/doc", 0),
        ("usr/share/doc/x", 40),
    ]
    assert [(c.path, c.detail) for c in d.changed] == [
        ("app/main", "content"),
        ("etc/cfg", "mode 644 -> 600"),
    ]
    assert d.categories["compilers"] == {"bytes_a": 0, "bytes_b": 500, "files_a": 0, "files_b": 1}
    assert d.categories["docs"]["bytes_a"] == 40 and d.categories["other"]["bytes_b"] == 151
    body = d.to_dict()
    assert body["delta"]["final_bytes"] == 651 - 141
    assert body["added"]["bytes"] == 500 and body["removed"]["bytes"] == -40


def test_ci_breaches_one_line_each(tmp_path: Path) -> None:
    a = analyze(tmp_path, [[("big", "f", b"x" * 1000), ("usr/bin/gcc", "f", b"g" * 10)], [("big", "w")]])
    assert breaches(a, Thresholds(min_efficiency=0.5)) == [
        "efficiency 0.0099 is below 0.5 (1 kB of 1.01 kB layer bytes wasted)"
    ]
    lines = breaches(
        a, Thresholds(max_waste=999, max_waste_ratio=0.5, max_size=100, forbid=("compilers", "shells"))
    )
    assert len(lines) == 4
    assert lines[0].startswith("waste 1 kB (1000 B) exceeds")
    assert lines[3].startswith("forbidden category compilers: 1 files")
    assert breaches(a, Thresholds(max_waste=1000, max_waste_ratio=0.991)) == []
    assert Thresholds().with_defaults().min_efficiency == 0.9
    with pytest.raises(UsageError, match="unknown category"):
        Thresholds(forbid=("nope",))


def test_sizes_parse_and_print() -> None:
    assert parse_size("10MB") == 10_000_000 and parse_size("1GiB") == 1 << 30 and parse_size("512") == 512
    assert parse_size("1.5kb") == 1500
    with pytest.raises(UsageError):
        parse_size("ten")
    assert human(999) == "999 B" and human(1234567) == "1.23 MB" and human(-2500) == "-2.5 kB"


def test_tampered_layer_is_refused(tmp_path: Path) -> None:
    image = make_image(tmp_path, [[("a", "f", b"a")]])
    good = image.layers[0]
    other = make_image(tmp_path, [[("a", "f", b"b")]]).layers[0]
    forged = BlobLayer(good.descriptor, good.diff_id, other.open)  # right digests, other bytes
    bad = type(image)(image.manifest, image.config, (forged,))
    with pytest.raises(DigestMismatch):
        analyze_image(bad)


def test_terminal_views_show_the_biggest_first(tmp_path: Path) -> None:
    a = analyze(
        tmp_path,
        [
            [
                ("app/big", "f", b"b" * 5000),
                ("app/small", "f", b"s" * 10),
                ("usr/share/doc/d", "f", b"d" * 70),
            ],
            [("app/big", "w")],
        ],
    )
    console = Console(record=True, width=140)
    render_analysis(a, console)
    text = console.export_text()
    assert "efficiency: 0.0157 exact" in text and "dive's score" in text
    assert "/app/big" in text and "deleted" in text and "docs" in text
    console = Console(record=True, width=140)
    render_tree(a, console)
    tree = console.export_text()
    assert tree.index("usr/") < tree.index("app/")  # 70 B before 10 B
    console = Console(record=True, width=140)
    render_diff(diff(a, a), console)
    assert "0 added, 0 removed, 0 changed" in console.export_text()


# --- the commands --------------------------------------------------------------------------------------


@pytest.fixture
def stored(tmp_path: Path) -> dict[str, str]:
    """The same wasteful image in an OCI layout and a docker-save archive, plus a slimmer one."""
    fat = make_image(
        tmp_path,
        [
            [("bin/sh", "f", b"s" * 100), ("usr/bin/gcc", "f", b"g" * 400)],
            [("app/data", "f", b"d" * 1000)],
            [("app/data", "w")],
        ],
        history=["ADD rootfs.tar /", "COPY data /app/data", "RUN rm /app/data"],
    )
    slim = make_image(tmp_path, [[("bin/sh", "f", b"s" * 100)]])
    LayoutStore(tmp_path / "oci").write(fat, "fat")
    LayoutStore(tmp_path / "oci").write(slim, "slim")
    ArchiveStore(tmp_path / "fat.tar").write(fat, "fat:1")
    return {
        "oci": f"oci:{tmp_path / 'oci'}:fat",
        "archive": f"docker-archive:{tmp_path / 'fat.tar'}",
        "slim": f"oci:{tmp_path / 'oci'}:slim",
    }


@pytest.mark.parametrize("where", ["oci", "archive"])
def test_analyze_json(stored: dict[str, str], where: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["analyze", stored[where], "--json"], capsys)
    assert code == 0
    body = json.loads(out)
    assert body["sizes"]["content_bytes_all_layers"] == 1500 and body["sizes"]["final_bytes"] == 500
    assert body["waste"]["bytes"] == 1000 and body["waste"]["paths"][0] == {
        "path": "/app/data",
        "bytes": 1000,
        "reason": "deleted",
        "paid_by_layer": 1,
        "hidden_by_layer": 2,
    }
    assert [la["created_by"] for la in body["layers"]] == [
        "ADD rootfs.tar /",
        "COPY data /app/data",
        "RUN rm /app/data",
    ]
    assert body["layers"][2]["files_deleted"] == 1
    assert body["efficiency"]["exact"] == pytest.approx(1 / 3)
    assert set(body["categories"]) == {"compilers", "shells"}
    assert body["biggest_files"] == [
        {"path": "/usr/bin/gcc", "bytes": 400},
        {"path": "/bin/sh", "bytes": 100},
    ]
    assert body["layers"][1]["biggest_files"] == [{"path": "/app/data", "bytes": 1000}]


def test_analyze_terminal_and_tree(stored: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["analyze", stored["oci"]], capsys)
    assert code == 0 and "RUN rm /app/data" in out and "/app/data" in out
    code, out, _ = run(["analyze", stored["oci"], "--tree"], capsys)
    assert code == 0 and "gcc" in out and "usr/" in out
    code, out, _ = run(["analyze", stored["oci"], "--platform", "linux/amd64", "--json"], capsys)
    assert code == 0 and json.loads(out)["image"]["platform"] == "linux/amd64"


def test_analyze_ci_gate(stored: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["analyze", stored["oci"], "--ci", "--max-waste", "500B", "--forbid", "compilers"], capsys
    )
    assert code == 1
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("FAIL: ") for line in lines)
    code, out, _ = run(["analyze", stored["oci"], "--ci"], capsys)  # default gate: efficiency >= 0.9
    assert code == 1 and "efficiency 0.3333 is below 0.9" in out
    code, out, _ = run(["analyze", stored["slim"], "--ci", "--forbid", "compilers", "--json"], capsys)
    assert code == 0 and json.loads(out)["ci"] == {"passed": True, "breaches": []}


def test_analyze_base_and_bad_input(
    stored: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["analyze", stored["oci"], "--base", stored["slim"], "--json"], capsys)
    assert code == 0 and json.loads(out)["base"]["layers"] == []  # different bytes: no layer matches
    code, _, err = run(["analyze", f"oci:{tmp_path / 'nope'}:x"], capsys)
    assert code != 0 and err.startswith("pare: error:") and "Traceback" not in err
    code, _, err = run(["analyze", stored["oci"], "--max-waste", "1MB"], capsys)
    assert code == 2 and "need --ci" in err
    code, _, err = run(["analyze", stored["oci"], "--ci", "--max-waste", "lots"], capsys)
    assert code == 2 and "not a size" in err


def test_diff_command(stored: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["diff", stored["oci"], stored["slim"], "--json"], capsys)
    assert code == 0
    body = json.loads(out)
    assert body["removed"]["paths"][0] == {"path": "/usr/bin/gcc", "bytes_a": 400, "bytes_b": 0}
    assert body["layers"] == {"shared": 0, "new_compressed_bytes": body["b"]["compressed_bytes"]}
    assert body["categories"]["compilers"]["bytes_a"] == 400 and body["delta"]["final_bytes"] == -400
    code, out, _ = run(["diff", stored["oci"], stored["archive"]], capsys)
    assert code == 0 and "0 added, 0 removed, 0 changed" in out and "3 of B's 3 already in A" in out


def test_prefetch_hashes_propagates_errors_and_closes_early() -> None:
    import io

    from pare.analyze.prefetch import Prefetch
    from pare.errors import UnsafeTarError
    from pare.oci.digest import sha256

    data = bytes(range(256)) * 20_000
    with Prefetch(io.BytesIO(data)) as stream:
        got = b"".join(iter(lambda: stream.read(7_777), b""))
        assert got == data and stream.digest() == sha256(data)

    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            raise UnsafeTarError("corrupt compressed layer")

    with pytest.raises(UnsafeTarError, match="corrupt"), Prefetch(Broken()) as stream:
        stream.read(10)
    early = Prefetch(io.BytesIO(data * 10), depth=1)
    assert early.read(5) == data[:5] and early.digest() is None
    early.close()  # the producer is blocked on a full queue: close must not hang


def test_hostile_layer_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import io
    import tarfile

    from pare.oci.config import ImageConfig
    from pare.oci.image import Image
    from pare.oci.layer import layer_from_tar

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("../../etc/cron.d/evil")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    image = Image.assemble(
        ImageConfig.new(), [layer_from_tar(io.BytesIO(buf.getvalue()), "gzip", workdir=tmp_path)]
    )
    LayoutStore(tmp_path / "oci").write(image, "evil")
    code, out, err = run(["analyze", f"oci:{tmp_path / 'oci'}:evil"], capsys)
    assert code == 3 and out == ""  # input invalid (docs/cli.md)
    assert err.strip().splitlines() == ["pare: error: tar member path contains '..': '../../etc/cron.d/evil'"]


def test_tree_view_counts_hard_links_once(tmp_path: Path) -> None:
    a = analyze(tmp_path, [[("bin/tool", "f", b"t" * 2000), ("sbin/alias", "h", "bin/tool")]])
    console = Console(record=True, width=120)
    render_tree(a, console)
    text = console.export_text()
    assert text.splitlines()[0].strip() == "/  2 kB" and a.final_bytes == 2000
    assert "alias  2 kB (hard link)" in text


def test_ci_config_file(stored: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pare.analyze.ci import load_thresholds

    mine = tmp_path / "pare-ci.yaml"
    mine.write_text("rules:\n  max-waste: 500B\n  forbid: [compilers, shells]\nmin-efficiency: 0.2\n")
    assert load_thresholds(mine) == Thresholds(
        min_efficiency=0.2, max_waste=500, forbid=("compilers", "shells")
    )
    dive = tmp_path / ".dive-ci"
    dive.write_text("rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n")
    assert load_thresholds(dive) == Thresholds(min_efficiency=0.95, max_waste=20_000_000)
    code, out, _ = run(
        ["analyze", stored["oci"], "--ci", "--ci-config", str(mine), "--max-waste", "2kB"], capsys
    )
    assert code == 1 and len(out.strip().splitlines()) == 2  # the file's forbids; the option lifted max-waste
    bad = tmp_path / "bad.yaml"
    bad.write_text("max-wasted: 1MB\n")
    code, _, err = run(["analyze", stored["oci"], "--ci", "--ci-config", str(bad)], capsys)
    assert code == 2 and "unknown CI threshold 'max-wasted'" in err


def test_setuid_and_setgid_files_are_listed(tmp_path: Path) -> None:
    a = analyze(
        tmp_path,
        [
            [
                ("usr/bin/su", "f", b"s", {"mode": 0o4755}),
                ("usr/bin/wall", "f", b"w", {"mode": 0o2755}),
                ("usr/bin/ls", "f", b"l", {"mode": 0o755}),
            ]
        ],
    )
    assert a.special_files() == [("usr/bin/su", "setuid", 0o4755), ("usr/bin/wall", "setgid", 0o2755)]
    assert a.to_dict()["special_files"][0] == {"path": "/usr/bin/su", "flags": "setuid", "mode": "4755"}
