"""`pare gc` and `pare prune`, on real directories (caches pointed at temp dirs by their env vars)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helpers import run_cli as run
from pare import caches
from pare.stores.layout import LayoutStore
from pare.stores.locking import locked


def test_gc_removes_unreferenced_blobs(tmp_path: Path, make_image: Any, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    layout = tmp_path / "oci"
    store = LayoutStore(layout)
    keep, drop = make_image({"keep": b"k"}), make_image({"drop": b"d" * 5000})
    store.write(keep, "keep")
    store.write(drop, "drop")
    store.delete("drop")
    code, out, _ = run(["gc", "--dry-run", "--json", f"oci:{layout}"], capsys)
    assert code == 0
    body = json.loads(out)
    [row] = body["layouts"]
    assert body["schema"] == "pare.gc/v1"
    assert (row["removed"], row["kept"], row["dry_run"]) == (3, 3, True) and row["freed"] > 0
    assert store.blob_path(drop.layers[0].digest).exists(), "a dry run removes nothing"
    code, out, _ = run(["gc", f"oci:{layout}"], capsys)
    assert code == 0 and "removed 3 blobs" in out
    assert not store.blob_path(drop.layers[0].digest).exists()
    assert store.read("keep").digest == keep.digest
    monkeypatch.setenv("PARE_STORE", str(layout))  # `pare gc` alone: the embedded store
    code, out, _ = run(["gc", "--json"], capsys)
    [row] = json.loads(out)["layouts"]
    assert code == 0 and row["removed"] == 0 and row["location"] == "local:"
    code, _, err = run(["gc", f"oci:{tmp_path / 'nope'}"], capsys)
    assert code == 3 and "no such OCI layout" in err, "a layout that is not there is an error, not 0 blobs"


@pytest.mark.parametrize("location", ["docker-archive:x.tar", "oci:/tmp/x:tag", "127.0.0.1:5000/a:1"])
def test_gc_wants_whole_layouts(location: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["gc", location], capsys)
    assert code == 2 and err.startswith("pare: error:") and len(err.strip().splitlines()) == 1


@pytest.fixture
def cache_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Every cache pointed into tmp_path (XDG_CACHE_HOME for those without their own variable), each
    holding a file."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("PARE_BUILD_CACHE", str(tmp_path / "build"))
    monkeypatch.setenv("PARE_BASES", str(tmp_path / "bases"))
    monkeypatch.setenv("PARE_DEB_CACHE", str(tmp_path / "debs"))
    monkeypatch.setenv("PARE_ENGINE_STATE", str(tmp_path / "engines"))
    paths = {cache.name: cache.path() for cache in caches.registered()}
    for path in paths.values():
        assert str(path).startswith(str(tmp_path)), path
        (path / "sub").mkdir(parents=True)
        (path / "sub" / "data").write_bytes(b"x" * 10_000)
    return paths


def test_prune_dry_run_then_for_real(cache_dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["prune", "--dry-run", "--json"], capsys)
    assert code == 0
    body = json.loads(out)
    rows = {r["name"]: r for r in body["caches"]}
    assert set(rows) >= {"layers", "stripped", "npm", "pip", "engines", "bases", "debs", "apt"}
    assert all(r["status"] == "would remove" and r["before"] >= 10_000 for r in rows.values())
    assert all(r["freed"] == r["before"] for r in rows.values()), "a dry run says what it would free"
    assert body["freed"] == sum(r["before"] for r in rows.values()) and body["dry_run"] is True
    assert all(path.exists() for path in cache_dirs.values())
    code, out, _ = run(["prune", "--dry-run", "npm"], capsys)
    assert code == 0 and "would be freed" in out and "0 B would be freed" not in out
    code, out, _ = run(["prune", "--json", "npm", "pip"], capsys)
    rows = {r["name"]: r for r in json.loads(out)["caches"]}
    assert code == 0 and set(rows) == {"npm", "pip"}
    assert all(r["status"] == "removed" and r["after"] == 0 and r["freed"] >= 10_000 for r in rows.values())
    assert not cache_dirs["npm"].exists() and cache_dirs["layers"].exists()
    code, out, _ = run(["prune"], capsys)
    assert code == 0 and "freed" in out and "npm" in out
    assert not any(path.exists() for path in cache_dirs.values())
    assert not [p for p in cache_dirs["npm"].parent.iterdir() if ".pruning-" in p.name]


def test_prune_skips_caches_in_use(cache_dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """A base build holds its profile's lock: bases, debs and apt stay. A build command running holds
    the running lock: every cache that is not safe to remove meanwhile stays, with a message."""
    with locked(cache_dirs["bases"] / "locks" / "distroless-cc.lock"):
        code, out, err = run(["prune", "--json"], capsys)
    rows = {r["name"]: r for r in json.loads(out)["caches"]}
    assert code == 0
    assert {n for n, r in rows.items() if r["status"] == "skipped"} == {"bases", "debs", "apt"}
    assert "distroless-cc.lock" in rows["bases"]["reason"]
    assert rows["bases"]["after"] == rows["bases"]["before"]
    assert cache_dirs["bases"].exists() and not cache_dirs["layers"].exists()
    (cache_dirs["layers"] / "x").mkdir(parents=True)
    (cache_dirs["layers"] / "x" / "blob").write_bytes(b"y" * 5000)
    with caches.running():  # as `pare build` holds it (cli/main.py)
        code, out, err = run(["prune", "layers"], capsys)
    assert code == 0 and "layers skipped: in use (a pare build" in err
    assert (cache_dirs["layers"] / "x" / "blob").exists()


def test_build_commands_hold_the_running_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with caches.held_by_command(["--debug", "build", "examples/go-hello"]):
        assert caches.another_pare_running()
    with caches.held_by_command(["pull", "x"]):
        assert not caches.another_pare_running()


def test_a_registered_cache_is_pruned(tmp_path: Path, cache_dirs: dict[str, Path],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    extra = tmp_path / "runtimes"
    (extra / "node-22").mkdir(parents=True)
    (extra / "node-22" / "bin").write_bytes(b"n" * 4096)
    caches.register(caches.Cache("runtimes", lambda: extra, "downloaded runtime packages", True))
    try:
        code, out, _ = run(["prune", "--json", "runtimes"], capsys)
        assert code == 0 and json.loads(out)["caches"][0]["status"] == "removed" and not extra.exists()
        code, _, err = run(["prune", "nonesuch"], capsys)
        assert code == 2 and "unknown cache 'nonesuch'" in err
    finally:
        caches._REGISTRY.pop("runtimes", None)
