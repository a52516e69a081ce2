"""Progress goes to stderr: bars on a terminal, and in a log (not a terminal) one plain line every
few seconds, so a CI job shows it is alive while stdout stays the result alone."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

from helpers import make_image, noise
from pare import progress
from pare.stores.layout import LayoutStore

PARE = str(Path(sys.executable).parent / "pare")


def test_line_progress_reports_bytes_at_most_every_period() -> None:
    out = io.StringIO()
    lines = progress.LineProgress("pull", stream=out, every=3600.0)
    with lines.blob("a", 1000) as advance:
        advance(400)
        advance(600)
    assert out.getvalue() == "", "nothing before a period has passed"
    out = io.StringIO()
    lines = progress.LineProgress("pull", stream=out, every=0.0)
    with lines.blob("a", 2_000_000) as advance, lines.blob("b", 1_000_000):
        advance(1_000_000)
    assert out.getvalue().startswith("pare: pull: 1.0 of 3.0 MB, 2 blobs in flight, ")


def test_heartbeat_prints_while_work_runs() -> None:
    out = io.StringIO()
    with progress.heartbeat("building app", stream=out, every=0.05):
        time.sleep(0.3)
    beats = out.getvalue().splitlines()
    assert len(beats) >= 2 and all(b.startswith("pare: building app: ") and b.endswith(" s") for b in beats)
    quiet = io.StringIO()
    with progress.heartbeat("building app", quiet=True, stream=quiet, every=0.01):
        time.sleep(0.05)
    assert quiet.getvalue() == ""


def test_a_piped_transfer_logs_progress_on_stderr_and_one_line_on_stdout(tmp_path: Path) -> None:
    LayoutStore(tmp_path / "src").write(make_image(tmp_path / "w", {"big": noise(3_000_000, 5)}), "t")
    done = subprocess.run([PARE, "copy", f"oci:{tmp_path / 'src'}:t", f"oci:{tmp_path / 'dst'}:t"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PARE_PROGRESS_SECONDS": "0"})
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1 and done.stdout.startswith("copy: oci:")
    assert "pare: copy: " in done.stderr and "MB" in done.stderr
    quiet = subprocess.run([PARE, "copy", "-q", f"oci:{tmp_path / 'src'}:t", f"oci:{tmp_path / 'q'}:t"],
                           capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PARE_PROGRESS_SECONDS": "0"})
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout.startswith("sha256:")
