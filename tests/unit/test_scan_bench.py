"""The experiment's known-vulnerabilities row: the runner scans each variant's v1 once, the results
file keeps it, and the terminal and HTML reports show it with the coverage notes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from test_scan_catalog import ELF, image
from test_scan_match import DATA, fat_files

from pare.experiment.profiles import Profile
from pare.experiment.results import Results
from pare.experiment.runner import Experiment, Plan, Subject
from pare.report.html import render as html
from pare.report.model import security_rows
from pare.report.terminal import render as terminal
from pare.scan.vulndb import VulnDB, read_source
from pare.stores.layout import LayoutStore


def subject(tmp_path: Path, variant: str, role: str, files: dict) -> Subject:  # type: ignore[type-arg]
    layout = tmp_path / variant
    LayoutStore(layout).write(image(tmp_path / f"{variant}-layers", files), "v1")
    return Subject("app", variant, role, layout)


def test_runner_records_the_row_once_per_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "osv.sqlite"
    with VulnDB(db) as index:
        index.import_records(read_source(DATA / "osv"), "test-data", str(DATA / "osv"))
    monkeypatch.setenv("PARE_VULNDB", str(db))
    fat = subject(tmp_path, "onbuild", "fat", fat_files())
    small = subject(tmp_path, "native", "small", {"usr/bin/node": ELF + b"\x00node.js/v20.20.2\x00",
                                                  "usr/lib/libc.so.6": ELF + bytes(4000)})
    results = Results(["pare", "bench"], {"hostname": "h", "fingerprint": "f"}, "0")
    plan = Plan([Profile("laptop")], {"laptop": 1})
    experiment = Experiment(plan, [fat, small], registry=None, results=results,  # type: ignore[arg-type]
                            progress=lambda line: None)
    for s in (fat, small):
        experiment._scan(s)
    first = dict(results.security["app"]["onbuild"])
    experiment._scan(fat)  # same digest: not scanned again
    assert results.security["app"]["onbuild"] == first
    assert first["counts"]["high"] == 1 and first["packages"] == 17
    assert first["without_data"] == {"Debian:12": 10}
    native = results.security["app"]["native"]
    assert native["unclaimed_elf_files"] == 1 and native["runtimes"] == ["node 20.20.2 (/usr/bin/node)"]

    path = tmp_path / "results.json"
    results.variants = {"app": {"onbuild": {"role": "fat"}, "native": {"role": "small"}}}
    results.save(path)
    back = Results.load(path)
    assert back.security == results.security
    rows = {r.variant: r for r in security_rows(back)}
    assert rows["onbuild"].counts["unknown"] == 5 and rows["native"].unclaimed_bytes == len(ELF) + 4000

    out = io.StringIO()
    terminal(back, Console(file=out, width=200))
    text = out.getvalue()
    assert "known vulnerabilities per variant" in text and "no advisory data for Debian:12" in text
    assert "invisible to any package-based scanner) in: app/native" in text
    page = html(back)
    assert "<h2>Known vulnerabilities</h2>" in page and "app / native (small)" in page


def test_scan_can_be_turned_off(tmp_path: Path) -> None:
    s = subject(tmp_path, "onbuild", "fat", fat_files())
    results = Results(["pare", "bench"], {}, "0")
    plan = Plan([Profile("laptop")], {"laptop": 1}, scan=False)
    Experiment(plan, [s], registry=None, results=results, progress=lambda line: None)._scan(s)  # type: ignore[arg-type]
    assert results.security == {}
