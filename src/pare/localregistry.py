"""A real CNCF Distribution registry (Debian's docker-registry) on loopback, for users and tests.

Debian's packaged config listens on every interface with htpasswd auth, so pare always writes its
own: bound to 127.0.0.1, filesystem storage in a directory the caller picks, deletes enabled.

`up` records what it started in ROOT/registry.json (host, port, pid, directory, storage, log), so
`pare registry status` and `down` find it again without being told the port (`LocalRegistry.at`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pare.errors import EnvironmentProblem, ToolMissing

BINARY = "docker-registry"
DEFAULT_PORT = 5000
STATE_FILE = "registry.json"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalRegistry:
    """A registry process whose state (config, storage, pid, log) lives under `root`."""

    root: Path
    port: int = DEFAULT_PORT
    host: str = "127.0.0.1"

    @classmethod
    def at(cls, root: Path, port: int | None = None) -> LocalRegistry:
        """The registry of state directory `root`: on `port` if given, else where `up` recorded it
        started (else the default port)."""
        if port is None:
            recorded = read_state(root)
            port = int(recorded.get("port", DEFAULT_PORT)) if recorded else DEFAULT_PORT
        return cls(root, port=port)

    @property
    def state_file(self) -> Path:
        return self.root / STATE_FILE

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def storage(self) -> Path:
        return self.root / "data"

    @property
    def _pidfile(self) -> Path:
        return self.root / "registry.pid"

    @property
    def log(self) -> Path:
        return self.root / "registry.log"

    def pid(self) -> int | None:
        """The running registry's pid, or None (a stale pid file is ignored)."""
        try:
            pid = int(self._pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        cmdline = Path(f"/proc/{pid}/cmdline")
        if cmdline.exists() and BINARY.encode() not in cmdline.read_bytes():
            return None
        return pid

    def _write_config(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        self.storage.mkdir(parents=True, exist_ok=True)
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log: {level: warn, accesslog: {disabled: true}}\n"
            f"storage: {{filesystem: {{rootdirectory: {self.storage}}}, delete: {{enabled: true}}}}\n"
            f"http: {{addr: '{self.address}'}}\n")
        return config

    def up(self, timeout: float = 15.0) -> None:
        """Start the registry unless it already runs; return once GET /v2/ answers 200."""
        if self.pid() is not None:
            if self.healthy():
                return
            raise EnvironmentProblem(f"a registry process runs from {self.root} but {self.address} "
                                     "does not answer")
        binary = shutil.which(BINARY, path=os.environ.get("PATH", "") + ":/usr/bin:/usr/sbin")
        if binary is None:
            raise ToolMissing("docker-registry is not installed (apt-get install docker-registry, "
                              "or run `make setup`)")
        if self.healthy():
            raise EnvironmentProblem(f"something else already answers on {self.address}; pick another --port")
        config = self._write_config()
        with open(self.log, "ab") as log:
            proc = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self._pidfile.write_text(f"{proc.pid}\n")
        self._record(proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = self.log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
                self._forget()
                raise EnvironmentProblem(f"registry exited at start-up: {tail[0]}")
            if self.healthy():
                return
            time.sleep(0.05)
        self.down()
        raise EnvironmentProblem(f"registry did not answer on {self.address} within {timeout:.0f}s")

    def _record(self, pid: int) -> None:
        from pare.files import write_atomic
        write_atomic(self.state_file, json.dumps(
            {"host": self.host, "port": self.port, "pid": pid, "dir": str(self.root),
             "storage": str(self.storage), "log": str(self.log), "started": time.time()}, indent=1))

    def _forget(self) -> None:
        self._pidfile.unlink(missing_ok=True)
        self.state_file.unlink(missing_ok=True)

    def healthy(self) -> bool:
        import httpx  # here: `pare registry status` and every test that imports this module start sooner
        try:
            return httpx.get(f"http://{self.address}/v2/", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def down(self, timeout: float = 10.0) -> bool:
        """Stop the registry this root started; True if one was running."""
        pid = self.pid()
        if pid is None:
            self._forget()
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    break
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
        self._forget()
        return True

    def reset_storage(self) -> None:
        """Empty the registry's storage (for benchmarks that need a fresh registry each trial).
        The registry keeps running; distribution reads the filesystem on every request."""
        if self.storage.exists():
            shutil.rmtree(self.storage)
        self.storage.mkdir(parents=True)

    def status(self) -> dict[str, Any]:
        pid = self.pid()
        return {"running": pid is not None and self.healthy(), "pid": pid, "host": self.host,
                "port": self.port, "address": self.address, "url": f"http://{self.address}/v2/",
                "dir": str(self.root), "storage": str(self.storage), "log": str(self.log),
                "state_file": str(self.state_file) if self.state_file.exists() else None}

    @contextlib.contextmanager
    def running(self) -> Iterator[LocalRegistry]:
        self.up()
        try:
            yield self
        finally:
            self.down()


def read_state(root: Path) -> dict[str, Any] | None:
    """What `up` recorded in ROOT/registry.json, or None (absent or unreadable)."""
    try:
        body = json.loads((root / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def state_dir() -> Path:
    import platformdirs
    return Path(os.environ.get("PARE_REGISTRY_DIR") or Path(platformdirs.user_data_dir("pare")) / "registry")
