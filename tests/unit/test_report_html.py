"""The report from a results file: tables, ratios and the self-contained HTML page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.console import Console

from pare.cli.main import main
from pare.experiment.results import RecoverySample, Results, Sample
from pare.report import html, terminal
from pare.report.model import profile_tables, recovery_tables

EVIL = '<script>alert("x")</script>'


def make_results() -> Results:
    r = Results(["pare", "bench", "--examples"], {"hostname": EVIL, "fingerprint": "f", "cores": 2}, "0.1.0")
    for name, repeats in (("laptop", 3), ("micro", 1)):
        applied = {"cgroup": {"version": 1}} if name == "micro" else {}
        r.profiles[name] = {"profile": {"name": name, "cpus": 0.2 if name == "micro" else None},
                            "repeats": repeats, "applied": applied}
    r.variants = {"go": {"onbuild": {"role": "fat"}, "multistage": {"role": "small"},
                         EVIL: {"role": "small"}}}
    for profile, scale in (("laptop", 1.0), ("micro", 10.0)):
        for variant, size, pull in (("onbuild", 300e6, 3.0), ("multistage", 2e6, 0.1), (EVIL, 5e6, 0.2)):
            r.samples.append(Sample("go", variant, profile, "size_compressed", size))
            for i in range(r.profiles[profile]["repeats"]):
                r.samples.append(Sample("go", variant, profile, "pull", pull * scale * (1 + 0.01 * i), i))
                # push: overlapping runs on the laptop -> no clear difference
                r.samples.append(Sample("go", variant, profile, "push", 1.0 + 0.1 * i, i))
        for d in (1, 3):
            for variant, t in (("onbuild", 30.0), ("multistage", 1.0)):
                r.recovery.append(RecoverySample(variant, profile, d, 1, t * d * scale, 0, "go"))
                if d > 1:
                    r.recovery.append(RecoverySample(variant, profile, d, 3, t * scale, 0, "go"))
    return r


def test_tables_pick_fat_and_smallest_and_judge_noise() -> None:
    tables = {t.profile: t for t in profile_tables(make_results())}
    ratio = tables["laptop"].ratios[0]
    assert (ratio.fat, ratio.small) == ("onbuild", "multistage")
    assert ratio.cells["size_compressed"].text() == "150x"  # type: ignore[union-attr]
    assert ratio.cells["pull"].text() == "30.0x"  # type: ignore[union-attr]
    assert ratio.cells["push"].text() == "no clear difference"  # type: ignore[union-attr]
    rec = {t.profile: t for t in recovery_tables(make_results())}["micro"]
    assert rec.columns == [(1, 1), (3, 1), (3, 3)]
    assert rec.ratios[0][3][(3, 1)].text() == "30.0x"  # type: ignore[union-attr]


def test_terminal_summary_states_runs_and_ratios() -> None:
    console = Console(record=True, width=200)
    terminal.render(make_results(), console)
    text = console.export_text()
    assert "go: onbuild / multistage" in text and "30.0x" in text and "no clear difference" in text
    assert "1 run(s) per figure" in text and "3 run(s) per figure" in text
    assert "pare bench --examples" in text


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    page = html.render(make_results())
    assert "<script" not in page and "<link" not in page
    assert not re.search(r'(src|href)=["\']?https?:', page)
    assert page.count("<svg") == 1 + 2 + 2 + 2  # size once; push, pull, node recovery per profile
    assert page.count('class="bar"') > 0 and page.count("<polyline") == 2 * 2 * 2
    assert "&lt;script&gt;" in page
    assert "pare bench --examples" in page and "0.1.0" in page


def test_cli_report_writes_html_and_refuses_mixed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_results()
    a.save(tmp_path / "a.json")
    main(["report", str(tmp_path / "a.json"), "-o", str(tmp_path / "r.html"), "--quiet"])
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    b = make_results()
    b.machine = {**b.machine, "fingerprint": "other"}
    b.save(tmp_path / "b.json")
    with pytest.raises(SystemExit) as exc:
        main(["report", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "different machines" in err and err.count("\n") == 1
    main(["report", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--allow-mixed", "--quiet"])
    assert "not comparable" in capsys.readouterr().err


def test_cli_bench_needs_something(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["bench"])
    assert exc.value.code == 2 and "nothing to bench" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bench", "--synthetic", "--profile", "mainframe"])
    assert "unknown machine profile" in capsys.readouterr().err


def test_reports_say_which_compressor_made_each_variant(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from pare.experiment.builders import compressor_of

    r = make_results()
    r.variants["go"]["onbuild"]["compressor"] = compressor_of("onbuild", "buildah")
    r.variants["go"]["multistage"]["compressor"] = compressor_of("multistage", "buildah")
    r.variants["go"][EVIL]["compressor"] = compressor_of("native", "buildah")
    page = html.render(r)
    assert "<dt>compression</dt><dd>onbuild, multistage: gzip by pare after buildah: Go compress/gzip" in page
    assert "zstd by pare (level 19 runtime and dependencies, 9 app)" in page
    terminal.render(r, Console(width=200))
    out = capsys.readouterr().out
    assert "compression: onbuild, multistage: gzip by pare after buildah: Go compress/gzip" in out
