"""Recipes: language detection, entry points, app layers, and the plan -> image assembly."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

import pare.native.assemble as na
from pare.errors import UsageError
from pare.native.assemble import LayerCache, assemble
from pare.native.cache import cached_dir, content_key
from pare.native.plan import NONROOT_UID, BuildPlan, FileSet, RuntimeConfig
from pare.oci.digest import digest_stream
from pare.oci.layer import layer_from_tar
from pare.recipes import detect
from pare.recipes.base import app_layer
from pare.recipes.go import binary_name

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def make(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(("files", "language"), [
    ({"go.mod": "module x\n"}, "go"),
    ({"main.go": "package main\n"}, "go"),
    ({"package.json": "{}"}, "node"),
    ({"requirements.txt": "flask\n"}, "python"),
    ({"app.py": ""}, "python"),
    ({"index.html": "<p>hi</p>"}, "static"),
    ({"package.json": "{}", "index.html": ""}, "node"),  # a node app with a page is still node
])
def test_detect(tmp_path: Path, files: dict[str, str], language: str) -> None:
    assert detect(make(tmp_path, files)).name == language


def test_detect_examples() -> None:
    assert [detect(EXAMPLES / n).name for n in ("go-hello", "node-express", "python-flask")] == \
        ["go", "node", "python"]


def test_detect_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot tell"):
        detect(tmp_path)
    with pytest.raises(UsageError, match="not a directory"):
        detect(tmp_path / "missing")
    with pytest.raises(UsageError, match="unknown language"):
        detect(tmp_path, "cobol")
    assert detect(tmp_path, "go").name == "go"  # an explicit language skips detection


def test_go_binary_name_comes_from_the_module_path(tmp_path: Path) -> None:
    assert binary_name(make(tmp_path, {"go.mod": "module example.com/team/svc\n\ngo 1.19\n"})) == "svc"
    assert binary_name(EXAMPLES / "go-hello") == "go-hello"
    assert binary_name(make(tmp_path / "v2", {"go.mod": "module example.com/svc/v2\n"})) == "svc"
    assert binary_name(tmp_path, "./cmd/server") == "server"


def test_app_layer_leaves_out_vcs_caches_dependencies_and_ignored_files(tmp_path: Path) -> None:
    app = make(tmp_path, {"server.js": "x", "lib/a.js": "y", ".git/HEAD": "ref", "node_modules/m/i.js": "",
                          "lib/node_modules/n.js": "", "__pycache__/a.pyc": "", "secret.env": "k",
                          "keep.env": "k", "docs/a.md": "", "docs/keep.md": "", "pare.lock": "",
                          ".dockerignore": "*.env\n# c\n!keep.env\ndocs\n!docs/keep.md\n"})
    paths = [e.path for e in app_layer(app).entries]
    assert "app/server.js" in paths and "app/lib/a.js" in paths
    assert not any(p.startswith(("app/.git", "app/node_modules", "app/__pycache__", "app/lib/node_modules"))
                   for p in paths)
    assert "app/secret.env" not in paths and "app/pare.lock" not in paths
    # Docker's `!` lines: re-included after the exclusion, even inside an excluded directory
    assert "app/keep.env" in paths and "app/docs/keep.md" in paths and "app/docs/a.md" not in paths
    assert (app / ".dockerignore").read_text().startswith("*.env")  # read, never rewritten


def test_fileset_follows_symlinks_like_the_loader(tmp_path: Path) -> None:
    root = tmp_path / "sysroot"
    (root / "usr/lib/x86_64-linux-gnu").mkdir(parents=True)
    (root / "usr/lib/x86_64-linux-gnu/libfoo.so.1.2").write_bytes(b"lib")
    os.symlink("libfoo.so.1.2", root / "usr/lib/x86_64-linux-gnu/libfoo.so.1")
    os.symlink("usr/lib", root / "lib")
    fs = FileSet("runtime", root)
    real = fs.add_host_path("/lib/x86_64-linux-gnu/libfoo.so.1")
    assert real == "/usr/lib/x86_64-linux-gnu/libfoo.so.1.2"
    entries = {e.path: e for e in fs.freeze().entries}
    assert entries["lib"].kind == "symlink" and entries["lib"].target == "usr/lib"
    assert entries["usr/lib/x86_64-linux-gnu/libfoo.so.1"].target == "libfoo.so.1.2"
    assert entries["usr/lib/x86_64-linux-gnu/libfoo.so.1.2"].kind == "file"
    fs.add_dir("lib")  # an implied directory never replaces the merged-/usr symlink
    assert {e.path: e for e in fs.freeze().entries}["lib"].kind == "symlink"


def plan_for(app: Path) -> BuildPlan:
    runtime = FileSet("runtime")
    runtime.add_bytes("etc/passwd", b"root:x:0:0::/:/x\n")
    runtime.add_dir("home/nonroot", 0o700, NONROOT_UID, NONROOT_UID)
    runtime.add_dir("tmp", 0o1777)
    return BuildPlan("demo", "static", (runtime.freeze(), app_layer(app)),
                     RuntimeConfig(entrypoint=("/app/run",), env=(("PORT", "8080"),), workdir="/app"))


def test_assemble_is_deterministic_and_depends_on_the_epoch(tmp_path: Path) -> None:
    app = make(tmp_path / "app", {"run": "#!/bin/sh\n", "data/b.txt": "b", "data/a.txt": "a"})
    os.chmod(app / "run", 0o750)
    first = assemble(plan_for(app), tmp_path / "w1", epoch=0)
    os.utime(app / "data/a.txt", (12345, 12345))  # mtimes on disk never reach the image
    second = assemble(plan_for(app), tmp_path / "w2", epoch=0)
    assert first.digest == second.digest
    assert assemble(plan_for(app), tmp_path / "w3", epoch=1700000000).digest != first.digest
    runtime = first.config.runtime
    assert runtime["Entrypoint"] == ["/app/run"] and runtime["User"] == "65532:65532"
    assert runtime["Env"] == ["PORT=8080"]
    assert first.config.created == "1970-01-01T00:00:00Z"
    with first.layers[1].open_uncompressed() as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
        members = {m.name.rstrip("/"): m for m in tar}
    assert list(members) == sorted(members, key=lambda n: n.split("/"))
    assert members["app/run"].mode == 0o755 and members["app/data/a.txt"].mode == 0o644
    assert all(m.mtime == 0 and m.uid == 0 and m.uname == "" for m in members.values())
    with first.layers[0].open_uncompressed() as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
        owners = {m.name.rstrip("/"): (m.uid, m.mode) for m in tar}
    assert owners["home/nonroot"] == (NONROOT_UID, 0o700) and owners["tmp"] == (0, 0o1777)


def test_layer_cache_reuses_unchanged_layers_and_redoes_changed_ones(tmp_path: Path) -> None:
    app = make(tmp_path / "app", {"run": "v1"})
    cache = LayerCache(tmp_path / "cache")
    first = assemble(plan_for(app), tmp_path / "w", epoch=0, cache=cache)
    again = assemble(plan_for(app), tmp_path / "w", epoch=0, cache=cache)
    assert again.digest == first.digest
    assert [layer.path for layer in again.layers] == [layer.path for layer in first.layers]  # type: ignore[attr-defined]
    (app / "run").write_text("v2 with more bytes")
    changed = assemble(plan_for(app), tmp_path / "w", epoch=0, cache=cache)
    assert changed.layers[0].digest == first.layers[0].digest
    assert changed.layers[1].digest != first.layers[1].digest
    uncached = assemble(plan_for(app), tmp_path / "w4", epoch=0)
    assert uncached.digest == changed.digest  # the cache never changes the result


def test_layer_cache_matches_a_rewritten_but_identical_file_by_content(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A toolchain writes its output afresh each build (new inode and mtime): same bytes, no recompress."""
    app = make(tmp_path / "app", {"run": "a binary\n" * 1000})
    cache = LayerCache(tmp_path / "cache")
    first = assemble(plan_for(app), tmp_path / "w", epoch=0, cache=cache)
    written: list[str] = []
    real_write = na.write_layer
    monkeypatch.setattr(na, "write_layer", lambda planned, *a, **k: written.append(planned.name)
                        or real_write(planned, *a, **k))
    (app / "run").unlink()
    (app / "run").write_text("a binary\n" * 1000)
    again = assemble(plan_for(app), tmp_path / "w", epoch=0, cache=cache)
    assert written == [] and again.digest == first.digest
    (app / "run").write_text("a changed binary\n" * 1000)
    assert assemble(plan_for(app), tmp_path / "w", epoch=0, cache=cache).digest != first.digest
    assert written == ["app"]


def test_a_damaged_cached_layer_is_written_again_never_shipped(tmp_path: Path) -> None:
    """The cache used to trust a blob whose size matched: a flipped byte shipped as it was."""
    app = make(tmp_path / "app", {"run": "some bytes\n" * 200})
    cache = LayerCache(tmp_path / "cache")
    first = assemble(plan_for(app), tmp_path / "w", epoch=0, cache=cache)
    blob = first.layers[1].path  # type: ignore[attr-defined]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different bytes
    blob.write_bytes(bytes(data))
    again = assemble(plan_for(app), tmp_path / "w", epoch=0, cache=cache)
    assert again.digest == first.digest
    with open(again.layers[1].path, "rb") as fh:  # type: ignore[attr-defined]
        assert digest_stream(fh)[0] == first.layers[1].digest  # the blob shipped is whole again
    blob.write_bytes(bytes(data[:100]))  # truncated
    assert assemble(plan_for(app), tmp_path / "w", epoch=0, cache=cache).digest == first.digest


def test_verify_builds_the_second_time_with_every_cache_empty(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """--verify's second build must not reuse npm, pip, layer or runtime caches: it runs with
    caching off and a build cache of its own (the first build's caches stay as they were)."""
    from pare import builder
    monkeypatch.setenv("PARE_BUILD_CACHE", str(tmp_path / "user-cache"))
    seen: list[tuple[bool, str]] = []

    def fake_build(app_dir, dest, *args, cache=True, **kwargs):  # type: ignore[no-untyped-def]
        # a stand-in for build(): this test is about what verify() hands it, not about building
        seen.append((cache, os.environ["PARE_BUILD_CACHE"]))
        from pare.oci.digest import sha256
        return builder.BuildResult(sha256(b"same"), dest, 0, 0, 0.0, 0.0, "native", "go", None, None, ())

    monkeypatch.setattr(builder, "build", fake_build)
    check = builder.verify(tmp_path)
    assert check.reproducible
    (first_cache, first_root), (second_cache, second_root) = seen
    assert first_cache is True and first_root == str(tmp_path / "user-cache")
    assert second_cache is False and second_root != first_root
    assert os.environ["PARE_BUILD_CACHE"] == str(tmp_path / "user-cache")  # restored after


def test_the_app_layer_compresses_fast_and_the_rest_small(tmp_path: Path) -> None:
    app = make(tmp_path / "app", {"run": "some code\n" * 5000})
    image = assemble(plan_for(app), tmp_path / "w", epoch=0)
    for layer, level in zip(image.layers, (na.ZSTD_LEVEL, na.APP_ZSTD_LEVEL), strict=True):
        with layer.open_uncompressed() as tar:
            again = layer_from_tar(tar, "zstd", workdir=tmp_path / "re", level=level)
        assert again.digest == layer.digest
    runtime, app_plan = plan_for(app).layers
    assert na.layer_level(app_plan, "zstd", 3) == 3  # an explicit level is for every layer
    assert na.layer_level(app_plan, "gzip", None) == na.layer_level(runtime, "gzip", None) == 6


def test_cached_dir_is_made_once_and_never_half_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARE_BUILD_CACHE", str(tmp_path))
    calls: list[Path] = []

    def populate(path: Path) -> None:
        calls.append(path)
        (path / "f").write_text("x")

    key = content_key("a", b"b")
    assert cached_dir("k", key, populate) == cached_dir("k", key, populate)
    assert len(calls) == 1

    def broken(path: Path) -> None:
        (path / "partial").write_text("x")
        raise RuntimeError("toolchain died")

    with pytest.raises(RuntimeError):
        cached_dir("k", content_key("other"), broken)
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == [key, key + ".manifest.json"]
    assert content_key("ab", "c") != content_key("a", "bc")


def test_image_diff_names_the_entries_that_differ(tmp_path: Path) -> None:
    from pare.analyze.imagediff import diff_images
    app = make(tmp_path / "app", {"run": "v1", "same.txt": "s"})
    first = assemble(plan_for(app), tmp_path / "w1", epoch=0)
    assert diff_images(first, assemble(plan_for(app), tmp_path / "w2", epoch=0)) == []
    (app / "run").write_text("v2")
    (app / "new.txt").write_text("n")
    report = diff_images(first, assemble(plan_for(app), tmp_path / "w3", epoch=0))
    assert any(line.startswith("layer 1: 2 of ") for line in report)
    assert any("app/run: content" in line for line in report)
    assert any("app/new.txt: only in the second build" in line for line in report)
    assert not any("same.txt" in line for line in report)
    later = diff_images(first, assemble(plan_for(app), tmp_path / "w4", epoch=5))
    assert any(line.startswith("config created") for line in later)


@pytest.mark.parametrize(("compression", "level"), [("gzip", 10), ("zstd", 20), ("zstd", 0), ("xz", None)])
def test_build_refuses_a_compression_it_cannot_write(tmp_path: Path, compression: str,
                                                     level: int | None) -> None:
    from pare.builder import build
    from pare.errors import UsageError
    with pytest.raises(UsageError, match=r"compression|level"):
        build(tmp_path, f"oci:{tmp_path}/out:x", compression=compression, level=level)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()
