"""An httpx transport whose sockets read up to 1 MiB per recv(), for pare's registry clients only.

httpcore asks its network stream for 64 KiB at a time; a multi-megabyte blob then costs thousands of
recv() calls and h11 parser rounds. Reading bigger chunks makes loopback downloads markedly faster
(benchmarks/transfer.py measures it against skopeo). The change lives in a network backend that
pare's own connection pools use, so no other httpx user in the process is affected.
"""

from __future__ import annotations

import ssl
import typing

import httpcore
import httpx

READ_BYTES = 1 << 20


class _BigReadStream(httpcore.NetworkStream):
    """A network stream that asks the socket for at least READ_BYTES per read."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max(max_bytes, READ_BYTES), timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _BigReadStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _BigReadBackend(httpcore.NetworkBackend):
    """`pins`: host name -> the address to connect to instead of resolving the name again."""

    def __init__(self, pins: typing.Mapping[str, str] | None = None) -> None:
        self._inner = httpcore.SyncBackend()
        self._pins = dict(pins or {})

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.NetworkStream:
        address = self._pins.get(host.lower(), host)
        return _BigReadStream(self._inner.connect_tcp(address, port, timeout, local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: typing.Iterable[typing.Any] | None = None
                            ) -> httpcore.NetworkStream:
        return _BigReadStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def big_read_transport(*, verify: ssl.SSLContext | bool, limits: httpx.Limits,
                       pins: typing.Mapping[str, str] | None = None) -> httpx.HTTPTransport:
    """An httpx.HTTPTransport (no proxy) whose connection pool reads in big chunks (and connects to
    the `pins` addresses for their host names). Should httpx stop keeping its pool where this
    expects it, the transport is returned as httpx made it (pins then need the caller's check)."""
    transport = httpx.HTTPTransport(verify=verify, limits=limits)
    if isinstance(getattr(transport, "_pool", None), httpcore.ConnectionPool):
        context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        transport._pool = httpcore.ConnectionPool(
            ssl_context=context, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, network_backend=_BigReadBackend(pins))
    return transport
