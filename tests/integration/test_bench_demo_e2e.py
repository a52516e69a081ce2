"""`pare bench --demo` on synthetic images: one chain of push, push of a change and pull per
variant and profile, node recovery on the unlimited profile only, and the results say so."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import need

pytestmark = pytest.mark.integration


def test_demo_preset_runs_each_transfer_once_and_says_what_it_dropped(tmp_path: Path) -> None:
    need("skopeo")
    need("docker-registry")
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pare", "bench", "--synthetic", "--synthetic-mb", "3,0.5", "--demo",
         "-o", str(out), "--html", str(tmp_path / "report.html"), "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data["errors"] == []
    assert {name: body["repeats"] for name, body in data["profiles"].items()} == {"laptop": 1, "micro": 1}
    counts = Counter((r["profile"], r["variant"], r["metric"]) for r in data["runs"])
    for profile in ("laptop", "micro"):
        for variant in ("fat", "small"):
            for metric in ("push", "push_change", "pull", "size_compressed"):
                assert counts[(profile, variant, metric)] == 1, (profile, variant, metric)
    runs = {(r["variant"], r["metric"]): r["value"] for r in data["runs"] if r["profile"] == "micro"}
    wire = runs[("fat", "size_compressed")] * 8 / 20e6
    # the chained pull still crossed the shaped link, and the change push only moved the new layer
    assert runs[("fat", "pull")] > 0.9 * wire and runs[("fat", "push")] > 0.9 * wire
    assert runs[("fat", "push_change")] < 0.5 * runs[("fat", "push")]
    recovery = {(r["profile"], r["deployments"], r["parallel"]) for r in data["node_recovery"]}
    assert recovery == {("laptop", 1, 1), ("laptop", 3, 1), ("laptop", 3, 3)}
    notes = " | ".join(data["notes"])
    assert "node recovery on micro ran not at all" in notes and "laptop 1, micro 1" in notes
    assert "node recovery on micro ran not at all" in proc.stdout
    assert "node recovery on micro ran not at all" in (tmp_path / "report.html").read_text()
