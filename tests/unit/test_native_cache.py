"""The build cache's entries are checked on use: a changed, added or removed file makes the entry
again from its sources; a file touched but unchanged does not."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pare.native import cache


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PARE_BUILD_CACHE", str(tmp_path / "cache"))
    cache.forget_checks()
    return tmp_path / "cache"


def make(calls: list[int]):  # type: ignore[no-untyped-def]
    def populate(tmp: Path) -> None:
        calls.append(1)
        (tmp / "bin").mkdir()
        (tmp / "bin" / "node").write_bytes(b"\x7fELF runtime")
        (tmp / "LICENSE").write_text("MIT\n")
        (tmp / "bin" / "nodejs").symlink_to("node")
    return populate


def use(calls: list[int]) -> Path:
    cache.forget_checks()  # a new pare process
    return cache.cached_dir("runtime", "k1", make(calls))


def test_an_intact_entry_is_reused_and_a_touch_is_not_a_change(root: Path) -> None:
    calls: list[int] = []
    entry = use(calls)
    os.utime(entry / "LICENSE")  # ctime moves, the content does not
    os.chmod(entry / "bin" / "node", 0o644)
    os.chmod(entry / "bin" / "node", (entry / "bin" / "node").stat().st_mode & 0o777)
    assert use(calls) == entry and len(calls) == 1
    assert (root / "runtime" / ("k1" + cache.MANIFEST_SUFFIX)).is_file()


@pytest.mark.parametrize("tamper", ["append", "add", "remove", "relink", "chmod", "manifest"])
def test_a_changed_entry_is_made_again(root: Path, tamper: str) -> None:
    calls: list[int] = []
    entry = use(calls)
    if tamper == "append":
        with open(entry / "LICENSE", "a") as fh:
            fh.write("POISONED\n")
    elif tamper == "add":
        (entry / "bin" / "hook.js").write_text("evil")
    elif tamper == "remove":
        (entry / "LICENSE").unlink()
    elif tamper == "relink":
        (entry / "bin" / "nodejs").unlink()
        (entry / "bin" / "nodejs").symlink_to("/tmp/evil")
    elif tamper == "chmod":
        (entry / "LICENSE").chmod(0o777)
    else:
        (root / "runtime" / ("k1" + cache.MANIFEST_SUFFIX)).unlink()
    again = use(calls)
    assert len(calls) == 2
    assert (again / "LICENSE").read_text() == "MIT\n" and not (again / "bin" / "hook.js").exists()
    assert os.readlink(again / "bin" / "nodejs") == "node"
    manifest = json.loads((root / "runtime" / ("k1" + cache.MANIFEST_SUFFIX)).read_text())
    assert cache.changed(again, manifest) is None
