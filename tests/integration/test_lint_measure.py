"""`pare lint --measure` against a real buildah build: the bytes a `RUN rm` and a `chown -R` layer
waste are known (the files the test writes), and the measured findings must carry exactly them,
where the default estimates carry the typical sizes. FROM scratch with busybox-static: no registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import need

pytestmark = pytest.mark.integration

BIG = 300_000
APP_FILES = {"app/one.txt": 12_345, "app/sub/two.bin": 54_321}
DOCKERFILE = """FROM scratch
COPY busybox /busybox
COPY big.tar.gz /data/big.tar.gz
COPY app/ /app/
RUN ["/busybox", "rm", "/data/big.tar.gz"]
RUN ["/busybox", "chown", "-R", "1000:1000", "/app"]
USER 1000
CMD ["/busybox", "true"]
"""


def _lint(args: list[str]) -> tuple[int, list[dict[str, object]], str]:
    proc = subprocess.run([sys.executable, "-m", "pare", "lint", "--json", *args], capture_output=True,
                          text=True, check=False, timeout=600)
    findings = json.loads(proc.stdout)[0]["findings"] if proc.stdout.startswith("[") else []
    return proc.returncode, findings, proc.stderr


def test_measure_prices_from_the_layers(tmp_path: Path) -> None:
    need("buildah")
    busybox = Path("/bin/busybox")
    if not busybox.exists():
        pytest.fail("busybox-static is not installed: run `make setup`")
    (tmp_path / "busybox").write_bytes(busybox.read_bytes())
    (tmp_path / "busybox").chmod(0o755)
    (tmp_path / "big.tar.gz").write_bytes(os.urandom(BIG))
    for name, size in APP_FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(os.urandom(size))
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)

    code, estimated, err = _lint([str(tmp_path / "Dockerfile")])
    assert code == 0, err
    by_family = {f["family"]: f for f in estimated}
    assert {"removed-later", "chown-after-copy"} <= set(by_family)
    assert not any(f["measured"] for f in estimated)

    code, measured, err = _lint(["--measure", str(tmp_path / "Dockerfile")])
    assert code == 0, err
    exact = {f["family"]: f for f in measured}
    assert exact["removed-later"]["bytes"] == BIG and exact["removed-later"]["measured"] is True
    assert exact["chown-after-copy"]["bytes"] == sum(APP_FILES.values())
    assert [f["bytes"] for f in measured if f["bytes"] is not None] == \
        sorted((f["bytes"] for f in measured if f["bytes"] is not None), reverse=True)


def test_measure_reports_a_failed_build_in_one_line(tmp_path: Path) -> None:
    need("buildah")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY missing.txt /m\n")
    proc = subprocess.run([sys.executable, "-m", "pare", "lint", "--measure", str(tmp_path / "Dockerfile")],
                          capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pare: error: buildah bud failed:")
