"""`pare bench` end to end on synthetic images: a real registry, real skopeo pushes and pulls, the
micro profile's limits in force, node recovery, the results file, and `pare report` on it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import need
from pare.experiment.cgroup import ROOT

pytestmark = pytest.mark.integration

FAT_MB, SMALL_MB = 6, 0.5


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    need("skopeo")
    need("docker-registry")
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [sys.executable, "-m", "pare", "bench", "--synthetic", "--synthetic-mb", f"{FAT_MB},{SMALL_MB}",
         "--profile", "laptop", "--profile", "micro", "--repeats", "2", "--repeats-on", "micro=1",
         "--deployments", "1,2", "--max-parallel-pulls", "2", "-o", str(out / "results.json"),
         "--html", str(out / "report.html"), "--workdir", str(out / "work")],
        capture_output=True, text=True, timeout=600)
    return out, proc


def test_bench_measures_every_metric_under_the_limits(bench_run: tuple[Path, subprocess.CompletedProcess[str]]
                                                      ) -> None:
    out, proc = bench_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads((out / "results.json").read_text())
    assert data["schema"] == "pare-bench/1" and data["command"][:2] == ["pare", "bench"]
    assert data["errors"] == []
    micro = data["profiles"]["micro"]
    assert micro["repeats"] == 1 and data["profiles"]["laptop"]["repeats"] == 2
    assert micro["applied"]["cgroup"]["cpus"] == 0.2 and micro["applied"]["tc"]["mbit"] == 20.0
    assert data["profiles"]["laptop"]["applied"] == {}

    def values(profile: str, variant: str, metric: str) -> list[float]:
        return [r["value"] for r in data["runs"]
                if (r["profile"], r["variant"], r["metric"]) == (profile, variant, metric)]

    for metric in ("push", "push_change", "pull"):
        assert len(values("laptop", "fat", metric)) == 2 and len(values("micro", "small", metric)) == 1
    size = values("micro", "fat", "size_compressed")[0]
    assert FAT_MB * 1024 * 1024 < size < (FAT_MB + 1) * 1024 * 1024
    # the fat pull crossed a 20 Mbit/s link: at least its bytes * 8 / 20e6 seconds
    wire = size * 8 / 20e6
    assert values("micro", "fat", "pull")[0] > 0.9 * wire
    assert values("micro", "fat", "push")[0] > 0.9 * wire
    assert values("micro", "fat", "pull")[0] > 4 * values("micro", "small", "pull")[0]
    assert max(values("laptop", "fat", "pull")) < 0.5 * wire  # the laptop is not shaped
    # a one-line change pushes only the new layer
    assert values("micro", "fat", "push_change")[0] < 0.5 * values("micro", "fat", "push")[0]

    rec = [r for r in data["node_recovery"] if r["profile"] == "micro"]
    assert {(r["variant"], r["deployments"], r["parallel"]) for r in rec} == {
        (v, d, k) for v in ("fat", "small") for d, k in ((1, 1), (2, 1), (2, 2))}
    fat2 = next(r for r in rec if (r["variant"], r["deployments"], r["parallel"]) == ("fat", 2, 1))
    # two deployments share the fat layers: the node downloads them once
    assert size < fat2["bytes_pulled"] < 1.2 * size
    assert fat2["seconds"] > 0.9 * wire

    assert "synthetic: fat / small" in proc.stdout and "node recovery on micro" in proc.stdout
    classes = subprocess.run(["tc", "class", "show", "dev", "lo"], capture_output=True, text=True).stdout
    assert not any(f"htb {c} " in classes for c in micro["applied"]["tc"]["classes"])  # torn down
    assert not (out / "work" / "registry" / "registry.pid").exists()


def test_report_reloads_the_results(bench_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = bench_run
    page = (out / "report.html").read_text()
    assert page.count("<svg") >= 5
    proc = subprocess.run([sys.executable, "-m", "pare", "report", str(out / "results.json"), "-o",
                           str(out / "again.html")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "synthetic: fat / small" in proc.stdout
    assert (out / "again.html").read_text().count("<svg") == page.count("<svg")


def test_ctrl_c_tears_everything_down(tmp_path: Path) -> None:
    """Ctrl-C in the middle of a limited measurement: exit 130, limits and registry gone, and the
    results file holds what was measured so far (valid JSON, never half a file)."""
    need("skopeo")
    out = tmp_path / "results.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pare", "bench", "--synthetic", "--synthetic-mb", "20,0.5",
         "--profile", "micro", "-n", "3", "--max-parallel-pulls", "0", "-o", str(out),
         "--workdir", str(tmp_path / "work")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "push #1" in line:  # the first run is saved; the second (8 s at 20 Mbit/s) is under way
            break
    time.sleep(1.5)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    data = json.loads(out.read_text())
    applied = data["profiles"]["micro"]["applied"]
    pushes = [r for r in data["runs"] if r["metric"] == "push"]
    assert len(pushes) == 1 and pushes[0]["value"] > 20 * 1024 * 1024 * 8 / 20e6 * 0.9
    assert not (ROOT / "cpu" / applied["cgroup"]["name"]).exists()
    assert not (ROOT / "memory" / applied["cgroup"]["name"]).exists()
    classes = subprocess.run(["tc", "class", "show", "dev", "lo"], capture_output=True, text=True).stdout
    assert not any(f"htb {c} " in classes for c in applied["tc"]["classes"])
    pidfile = tmp_path / "work" / "registry" / "registry.pid"
    assert not pidfile.exists()
