"""`pare fix --verify` for real: buildah builds a Dockerfile and pare fix's rewrite of it, podman runs
both in a private network namespace, and both must answer GET the same while the rewrite is smaller.
The app is busybox httpd on FROM scratch (no registry): its `chown -R` after COPY is what the rewrite
folds into COPY --chown, which drops the layer that held every file a second time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import need

pytestmark = pytest.mark.integration

PAGE = 200_000
DOCKERFILE = """FROM scratch
COPY busybox /busybox
COPY site/ /site/
RUN ["/busybox", "chown", "-R", "1000:1000", "/site"]
EXPOSE 8080
CMD ["/busybox", "httpd", "-f", "-p", "8080", "-h", "/site"]
"""


def test_fix_verify_builds_runs_and_compares(tmp_path: Path) -> None:
    need("buildah")
    need("podman")
    busybox = Path("/bin/busybox")
    if not busybox.exists():
        pytest.fail("busybox-static is not installed: run `make setup`")
    (tmp_path / "busybox").write_bytes(busybox.read_bytes())
    (tmp_path / "busybox").chmod(0o755)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_bytes(os.urandom(PAGE).hex().encode()[:PAGE])
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    env = {**os.environ, "PARE_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.run([sys.executable, "-m", "pare", "fix", "--verify", "--path", "/index.html",
                           str(tmp_path / "Dockerfile")], capture_output=True, text=True, check=False,
                          timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "+COPY --chown=1000:1000 site/ /site/" in proc.stdout and "+USER 65532:65532" in proc.stdout
    verified = [line for line in proc.stderr.splitlines() if line.startswith("pare fix: verified:")]
    assert verified and "answers 200 from both" in verified[0], proc.stderr
    before, after = verified[0].split("; ")[1].removesuffix(" compressed").split(" -> ")
    assert before != after  # the chown layer (the page's bytes again) is gone
    assert (tmp_path / "Dockerfile").read_text() == DOCKERFILE  # --verify alone writes nothing
