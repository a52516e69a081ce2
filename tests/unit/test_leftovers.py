"""The ledger machine profiles keep of what they changed: entries are on disk before the change is
made, an owner is recognised by pid and start time, a damaged ledger is one warning, not a crash."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pare.experiment.leftovers import Ledger, is_alive, this_process


def test_an_owner_is_alive_only_with_its_own_start_time() -> None:
    me = this_process()
    assert is_alive(me)
    assert not is_alive({**me, "start": me["start"] + 1})  # the same pid, reused by another process
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    assert not is_alive({"pid": int(done.stdout), "start": me["start"]})
    for broken in (None, {}, {"pid": "x", "start": 1}, [1, 2]):
        assert not is_alive(broken)


def test_an_entry_is_on_disk_before_the_change_it_records(tmp_path: Path) -> None:
    """A run killed right after recording (while still holding the lock) must leave the record."""
    ledger = Ledger(tmp_path / "state" / "x.json")
    with ledger.edit() as entries:
        entries.add("groups", {"path": "/a"})
        assert json.loads(ledger.path.read_text()) == {"groups": [{"path": "/a"}]}
    with pytest.raises(RuntimeError), ledger.edit() as entries:
        entries.add("groups", {"path": "/b"})
        entries.put("groups", [])
        raise RuntimeError("set-up failed half way")
    assert json.loads(ledger.path.read_text()) == {"groups": []}  # written back on errors too


def test_a_damaged_ledger_is_one_warning_and_a_fresh_start(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    ledger = Ledger(tmp_path / "x.json")
    ledger.path.write_text("{not json")
    with ledger.edit() as entries:
        assert entries.get("groups") == []
        entries.data["groups"] = ["not an object", {"path": "/ok"}]
        assert entries.get("groups") == [{"path": "/ok"}]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pare: warning:") and "x.json" in err[0]
