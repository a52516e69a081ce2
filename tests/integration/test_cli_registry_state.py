"""`pare registry up|status|down` with a real docker-registry on a port that is not the default:
status and down find it from the state file up wrote, without being told the port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import need
from pare.localregistry import free_port

PARE = str(Path(sys.executable).parent / "pare")


def pare(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PARE, *args], capture_output=True, text=True, timeout=60)


def test_status_and_down_read_the_port_up_recorded(tmp_path: Path) -> None:
    need("docker-registry")
    root = tmp_path / "reg"
    port = free_port()
    up = pare("registry", "up", "--dir", str(root), "--port", str(port))
    assert up.returncode == 0, up.stderr
    try:
        state = json.loads((root / "registry.json").read_text())
        assert state["port"] == port and state["dir"] == str(root) and isinstance(state["pid"], int)
        status = pare("registry", "status", "--json", "--dir", str(root))
        body = json.loads(status.stdout)
        assert status.returncode == 0 and body["running"] is True
        assert body["address"] == f"127.0.0.1:{port}" and body["pid"] == state["pid"]
        human = pare("registry", "status", "--dir", str(root))
        assert f"running at 127.0.0.1:{port} (pid {state['pid']}" in human.stdout
    finally:
        down = pare("registry", "down", "--dir", str(root))
    assert down.returncode == 0 and f"127.0.0.1:{port} stopped" in down.stdout
    with pytest.raises(ProcessLookupError):
        os.kill(state["pid"], 0)
    assert not (root / "registry.json").exists()
    stopped = pare("registry", "status", "--dir", str(root))
    assert stopped.returncode == 3 and "not running" in stopped.stdout
