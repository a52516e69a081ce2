"""The Python detection rules end to end (docs/detection.md): apps with no server among their
requirements build with no flags, the server pare adds is pinned in pare.lock, and each image
answers on a PORT picked when it starts and stops within 2 s of `podman stop`.

Real parts: pinned runtime packages, pip against PyPI, the server's wheel checked against the
lock, pare's native assembler, an OCI layout, podman with runc.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import httpx
import pytest

from pare.builder import build
from pare.engines.podman import PodmanEngine
from pare.localregistry import free_port
from pare.native.lock import read_lock
from pare.recipes.python_project import SERVERS

pytestmark = pytest.mark.integration

DETECT = Path(__file__).resolve().parents[1] / "data" / "detect"
APPS = {"django-no-server": ("wsgi", "hello from django-no-server"),
        "flask-application": ("wsgi", "hello from flask-application"),
        "fastapi-main-api": ("asgi", '{"hello":"from fastapi-main-api"}')}


@pytest.mark.parametrize("name", sorted(APPS))
def test_app_without_a_server_builds_serves_and_stops(name: str, tmp_path: Path, podman: PodmanEngine,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    kind, answer = APPS[name]
    server, version = SERVERS[kind]
    source = tmp_path / name
    shutil.copytree(DETECT / name, source)  # the build writes pare.lock beside the app
    with caplog.at_level(logging.WARNING):
        build(source, f"oci:{tmp_path}/layout:{name}", level=1)
    said = [r.getMessage() for r in caplog.records if "declares no server" in r.getMessage()]
    assert said == [f"pare: {name} declares no server: adding {server}=={version} "
                    "(its wheel pinned in pare.lock)"]
    lock = read_lock(source)
    assert lock is not None
    wheels = [a for a in lock.select(kind="pypi", role="runtime") if a.name == server]
    assert [w.version for w in wheels] == [version] and wheels[0].digest.startswith("sha256:")
    port = free_port()
    with podman.serving(f"oci:{tmp_path}/layout:{name}", port=port, timeout=60) as container:
        response = httpx.get(container.url + "/", timeout=10)
        stopped = container.stop()
    assert response.status_code == 200 and answer in response.text
    assert stopped.stopped_after < 2.0, f"{name}: stopped {stopped.stopped_after:.2f} s after podman stop"
