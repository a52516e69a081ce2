"""A fault-injecting HTTP proxy to put in front of the real registry in tests.

It listens on 127.0.0.1 (a free port), forwards every request to the registry unchanged (the Host
header too, so the registry's upload Locations point back at the proxy), and applies the first
matching fault: answer a status itself (500, 429 + Retry-After, a 307 redirect...), answer a whole
response itself (`respond`: status, headers, body), cut the connection after N bytes of a response
body, flip a byte of a body, replace a body (with a recomputed Docker-Content-Digest, as a lying
registry would), or set headers on the registry's answer (`rewrite`: a foreign upload Location or
tag-list Link). Every request is logged so tests can assert what the client did.

`Recorder` is the other half of credential tests: a loopback server (on any 127.x address) that
logs every request it receives, headers included, and answers with a fixed response.

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
from typing import Any, Literal, Self

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-connection", "content-length"}


@dataclass
class Fault:
    """What to do to requests matching `method` (None: any) and the `path` regex (searched)."""

    path: str
    action: Literal["status", "drop", "corrupt", "replace", "respond", "rewrite"]
    method: str | None = None
    times: int | None = 1  # how many matching requests it hits; None: all of them
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    after: int = 0  # drop: body bytes sent before the connection is cut
    body: bytes = b""  # replace, respond: the new body
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


class _Background:
    """A server on a thread of its own for the length of a `with` block."""

    def _serve(self, server: _Server, name: str) -> None:
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class FaultProxy(_Background):
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.faults: list[Fault] = []
        self.log: list[Seen] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._serve(_Server(("127.0.0.1", 0), Handler), "faultproxy")

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
        if fault is not None and fault.action == "respond":
            _answer(self, fault.status, fault.headers, fault.body)
            return
        if fault is not None and fault.action == "status":
            payload = b'{"errors":[{"code":"INJECTED","message":"fault proxy"}]}'
            _answer(self, fault.status, {**fault.headers, "Content-Type": "application/json"}, payload)
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
        if fault is not None and fault.action == "rewrite":
            names = {k.lower() for k in fault.headers}
            out_headers = [(k, v) for k, v in out_headers if k.lower() not in names]
            out_headers += list(fault.headers.items())
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


def _answer(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
    handler.send_response(status)
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


class Recorder(_Background):
    """A loopback HTTP server that records every request (method, path, headers) and answers each with
    `status`, `headers` and `body` (by default a 401 Basic challenge, to tempt a client into sending
    credentials). Bind it to another loopback address (127.0.0.2) to play a foreign host."""

    def __init__(self, host: str = "127.0.0.2", status: int = 401, headers: dict[str, str] | None = None,
                 body: bytes = b"") -> None:
        self.status = status
        self.headers = headers if headers is not None else {"WWW-Authenticate": 'Basic realm="recorder"'}
        self.body = body
        self.log: list[Seen] = []
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with recorder._lock:
                    recorder.log.append(Seen(self.command, self.path, dict(self.headers.items()), None))
                _answer(self, recorder.status, recorder.headers, recorder.body)

            do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        self._serve(_Server((host, 0), Handler), "recorder")

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def credentials_seen(self) -> list[Seen]:
        """Every request that carried an Authorization header (or a cookie)."""
        with self._lock:
            return [s for s in self.log if any(k.lower() in ("authorization", "cookie") for k in s.headers)]
