"""podman: builds like buildah (it embeds it) and also runs containers, which tests and bench use.

podman needs runc (crun fails on this kind of host's hybrid cgroups), cgroupfs, a file events
logger and ulimits below the host's hard limits; all of that goes into a private containers.conf
and storage.conf under the state dir (CONTAINERS_CONF / CONTAINERS_STORAGE_CONF), with the storage
driver storage.py picks.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpx

from pare.engines.base import EngineError, run
from pare.engines.buildah import BuildahEngine
from pare.engines.netns import PrivateNetwork
from pare.engines.storage import storage_driver

CONTAINERS_CONF = """[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


class PodmanEngine(BuildahEngine):
    name = "podman"
    binary = "podman"
    uncompressed_flags = ()  # podman's push to dir: keeps the layers as stored: uncompressed

    def env(self) -> dict[str, str]:
        env = super().env()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        conf = self.state_dir / "containers.conf"
        storage = self.state_dir / "storage.conf"
        if not conf.is_file():
            conf.write_text(CONTAINERS_CONF)
        if not storage.is_file():
            driver = storage_driver(self.state_dir)
            storage.write_text(f'[storage]\ndriver = "{driver}"\ngraphroot = "{self.state_dir / "root"}"\n'
                               f'runroot = "{self.state_dir / "runroot"}"\n')
        env.update(CONTAINERS_CONF=str(conf), CONTAINERS_STORAGE_CONF=str(storage))
        return env

    def build_args(self, request: object) -> list[str]:
        args = super().build_args(request)  # type: ignore[arg-type]
        args[0] = "build"
        return args

    # --- running ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def running(self, image: str, *, port: int, env: Mapping[str, str] | None = None,
                ready_path: str = "/", timeout: float = 30.0, platform: str | None = None,
                network: PrivateNetwork | None = None) -> Iterator[str]:
        """Run `image` (any transport podman pulls from, e.g. oci:DIR:TAG) on the host network with
        PORT set (or in `network`, a private namespace: pare.engines.netns); yields the base URL
        once GET ready_path answers, and removes the container after.
        platform: the image of an index to run (another architecture runs under binfmt emulation)."""
        with self.serving(image, port=port, env=env, ready_path=ready_path, timeout=timeout,
                          platform=platform, network=network) as container:
            yield container.url

    @contextlib.contextmanager
    def serving(self, image: str, *, port: int, env: Mapping[str, str] | None = None,
                ready_path: str = "/", timeout: float = 30.0, platform: str | None = None,
                network: PrivateNetwork | None = None) -> Iterator[Container]:
        """As running(), yielding the container itself, so the caller can stop it as a platform
        does (SIGTERM, then SIGKILL after a grace period) and see how long that took."""
        name = f"pare-{uuid.uuid4().hex[:12]}"
        penv = self.env()
        where = f"ns:{network.path}" if network is not None else "host"
        args = [*self.global_args(), "run", "-d", "--name", name, "--network", where, "-e", f"PORT={port}"]
        if platform:
            args += ["--platform", platform]
        for key, value in (env or {}).items():
            args += ["-e", f"{key}={value}"]
        run([*args, image], env=penv, what="podman run", timeout=300)
        url = f"http://{network.address if network is not None else '127.0.0.1'}:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    if httpx.get(url + ready_path, timeout=2.0).status_code < 500:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    logs = run([*self.global_args(), "logs", name], env=penv, what="podman logs")
                    raise EngineError(f"{image} did not answer on {url} within {timeout:.0f} s: "
                                      + (logs.stdout + logs.stderr).strip()[-500:])
                time.sleep(0.2)
            yield Container(self, name, url)
        finally:
            run([*self.global_args(), "rm", "-f", "-t", "0", name], env=penv, what="podman rm")

    def global_args(self) -> list[str]:
        return [*super().global_args(), "--runtime", "runc", "--cgroup-manager", "cgroupfs",
                "--events-backend", "file"]


@dataclass(frozen=True)
class Stopped:
    """How a container stopped. `stopped_after`: from the call of `podman stop` until the container
    exited (conmon's exit time: the signal's path through podman, and the app's shutdown); `seconds`:
    the whole `podman stop` call, with podman's cleanup after the exit."""

    stopped_after: float
    seconds: float
    exit_code: int


@dataclass(frozen=True)
class Container:
    engine: PodmanEngine
    name: str
    url: str

    def stop(self, grace: int = 10) -> Stopped:
        """`podman stop -t GRACE`: SIGTERM, then SIGKILL after `grace` seconds, timed; and the
        container's exit code (143 when SIGTERM ended it)."""
        penv = self.engine.env()
        wall, started = time.time(), time.monotonic()
        run([*self.engine.global_args(), "stop", "-t", str(grace), self.name], env=penv, what="podman stop",
            timeout=grace + 60)
        seconds = time.monotonic() - started
        state = run([*self.engine.global_args(), "inspect", "--format",
                     "{{.State.FinishedAt.UnixNano}} {{.State.ExitCode}}", self.name], env=penv,
                    what="podman inspect")
        finished, code = state.stdout.split()
        return Stopped(int(finished) / 1e9 - wall, seconds, int(code))
