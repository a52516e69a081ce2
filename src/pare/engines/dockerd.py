"""A private dockerd for tests and benchmarks: its own data and exec roots, vfs storage, no
bridge and no iptables (nothing touches the host's network), stopped by its PID afterwards."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pare.errors import EnvironmentProblem


@contextmanager
def private_dockerd(root: Path, *, timeout: float = 60.0) -> Iterator[str]:
    """Start dockerd under `root` and yield its DOCKER_HOST (unix://ROOT/docker.sock);
    EnvironmentProblem, with the tail of its log, when it does not come up within `timeout`."""
    root.mkdir(parents=True, exist_ok=True)
    sock = root / "docker.sock"
    with open(root / "dockerd.log", "wb") as log:
        proc = subprocess.Popen(["dockerd", "--data-root", str(root / "data"),
                                 "--exec-root", str(root / "exec"), "-H", f"unix://{sock}",
                                 "--pidfile", str(root / "docker.pid"),
                                 "--storage-driver", "vfs", "--bridge=none", "--iptables=false",
                                 "--ip-masq=false"], stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not sock.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = (root / "dockerd.log").read_text(errors="replace")[-500:]
                    raise EnvironmentProblem(f"dockerd did not start: {tail}")
                time.sleep(0.2)
            yield f"unix://{sock}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
