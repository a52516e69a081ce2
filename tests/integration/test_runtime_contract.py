"""The run-time contract (docs/runtime-contract.md), checked on real images run by podman.

The app is written to break it if pare did not keep it: it installs no SIGTERM handler (as PID 1
the kernel would drop SIGTERM and `podman stop` would wait its whole grace period), it listens only
on the port given in its argv (`$PORT` in the start command: read when the container starts, by
the launcher, or the image would listen on the build-time default), and it reports the user it
runs as and whether /tmp is writable through its exit code. Real parts: pinned runtime packages
from Debian's archive, pare's native assembler, an OCI layout, podman with runc.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from helpers import layer_files, write_tree
from pare.builder import build
from pare.engines.podman import PodmanEngine
from pare.localregistry import free_port
from pare.native.contract import INIT, LAUNCHER
from pare.native.lock import read_lock
from pare.stores.layout import LayoutStore

pytestmark = pytest.mark.integration

APP = '''\
import http.server, os, stat, sys

if "EXIT_CODE" in os.environ:  # the contract, reported through the exit code
    with open("/tmp/probe", "w") as fh:
        fh.write("x")
    tmp = stat.S_IMODE(os.stat("/tmp").st_mode)
    sys.exit(int(os.environ["EXIT_CODE"]) if os.getuid() != 0 and tmp == 0o1777 else 1)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"port {sys.argv[1]} uid {os.getuid()} pid {os.getpid()}".encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("0.0.0.0", int(sys.argv[1])), Handler).serve_forever()
'''


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("contract")
    app = write_tree(root / "no-handler", {"app.py": APP})
    location = f"oci:{root}/layout:contract"
    build(app, location, level=1, settings={"cmd": "python app.py $PORT"})
    return location


def test_the_image_runs_its_command_under_the_init_and_the_launcher(image: str) -> None:
    """...both from the suite's packages: pinned in pare.lock, listed in status.d for scanners."""
    layout, _, tag = image.removeprefix("oci:").rpartition(":")
    config = LayoutStore(Path(layout)).read(tag).config.runtime
    assert config["Entrypoint"][:7] == [INIT, "--", LAUNCHER, "-D", "8080", "PORT", "PORT"]
    assert config["Entrypoint"][-1] == "${PORT}" and config["User"] == "65532:65532"
    files = layer_files(Path(layout), tag)
    for path in (INIT, LAUNCHER, "/var/lib/dpkg/status.d/catatonit", "/var/lib/dpkg/status.d/execline"):
        assert path in files, path
    lock = read_lock(Path(layout).parent / "no-handler")
    assert lock is not None
    assert {"catatonit", "execline"} <= {a.name for a in lock.select(kind="deb", role="runtime")}


def test_port_is_read_at_start_and_sigterm_stops_an_app_without_a_handler(image: str,
                                                                          podman: PodmanEngine) -> None:
    port = free_port()  # not the image's default (8080): the platform's choice at start
    with podman.serving(image, port=port, timeout=60) as container:
        answer = httpx.get(container.url + "/", timeout=5).text
        stopped = container.stop(grace=10)
    assert answer.startswith(f"port {port} uid 65532 ")
    assert not answer.endswith(" pid 1")  # the init is PID 1, the app its child
    assert stopped.stopped_after < 2.0, f"stopped {stopped.stopped_after:.2f} s after podman stop"
    assert stopped.exit_code == 143  # 128 + SIGTERM: the app was ended by the signal it was sent


@pytest.mark.parametrize("code", [0, 7, 42])
def test_exit_codes_pass_through_and_tmp_is_writable_as_non_root(image: str, podman: PodmanEngine,
                                                                 code: int) -> None:
    args = [*podman.global_args(), "run", "--rm", "--network", "none", "-e", f"EXIT_CODE={code}", image]
    done = subprocess.run(args, env={**os.environ, **podman.env()}, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == code, done.stderr[-500:]
