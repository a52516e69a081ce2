"""A fault-injecting HTTP proxy to put in front of the real registry in tests.

It listens on 127.0.0.1 (a free port), forwards every request to the registry unchanged (the Host
header too, so the registry's upload Locations point back at the proxy), and applies the first
matching fault: answer a status itself (500, 429 + Retry-After...), cut the connection after N bytes
of a response body, flip a byte of a body, or replace a body (with a recomputed Docker-Content-Digest,
as a lying registry would). Every request is logged so tests can assert what the client did.

Bodies are held in memory: the tests' blobs are small.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-connection", "content-length"}


@dataclass
class Fault:
    """What to do to requests matching `method` (None: any) and the `path` regex (searched)."""

    path: str
    action: Literal["status", "drop", "corrupt", "replace"]
    method: str | None = None
    times: int | None = 1  # how many matching requests it hits; None: all of them
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    after: int = 0  # drop: body bytes sent before the connection is cut
    body: bytes = b""  # replace: the new body
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return (self.method is None or self.method == method) and re.search(self.path, path) is not None


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    fault: str | None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-response is what these tests provoke: not worth a traceback."""


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.faults: list[Fault] = []
        self.log: list[Seen] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="faultproxy", daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def take(self, method: str, path: str, headers: dict[str, str]) -> Fault | None:
        with self._lock:
            hit = next((f for f in self.faults if f.matches(method, path)), None)
            if hit is not None:
                hit.hits += 1
            self.log.append(Seen(method, path, headers, hit.action if hit else None))
            return hit

    def seen(self, method: str, path_regex: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.log if s.method == method and re.search(path_regex, s.path)]

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: FaultProxy

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        self._proxy()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = self.headers.get("Content-Length")
        return self.rfile.read(int(length)) if length else None

    def _proxy(self) -> None:
        body = self._read_body()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        fault = self.owner.take(self.command, self.path, headers)
        if fault is not None and fault.action == "status":
            payload = b'{"errors":[{"code":"INJECTED","message":"fault proxy"}]}'
            self.send_response(fault.status)
            for key, value in fault.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            return
        host, _, port = self.owner.upstream.rpartition(":")
        upstream = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            if body is not None:
                headers["Content-Length"] = str(len(body))
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            out_headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
        finally:
            upstream.close()
        length = response.getheader("Content-Length") if self.command == "HEAD" else str(len(data))
        if fault is not None and fault.action == "replace":
            data = fault.body
            length = str(len(data))
            out_headers = [(k, v) for k, v in out_headers if k.lower() != "docker-content-digest"]
            out_headers.append(("Docker-Content-Digest", "sha256:" + hashlib.sha256(data).hexdigest()))
        if fault is not None and fault.action == "corrupt" and data:
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
        self.send_response(response.status)
        for key, value in out_headers:
            self.send_header(key, value)
        if length is not None:
            self.send_header("Content-Length", length)
        self.end_headers()
        if fault is not None and fault.action == "drop":
            self.wfile.write(data[:fault.after])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.command != "HEAD":
            self.wfile.write(data)
