"""The retry policy: backoff bounds, Retry-After, and which statuses are worth another try."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pare.stores.registry.client import RetryPolicy, is_loopback, parse_retry_after


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("3") == 3.0
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= (parse_retry_after(date, now=now) or 0) <= 31
    assert parse_retry_after(email.utils.formatdate(now - 100, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None


def test_retry_after_is_honoured_but_capped() -> None:
    policy = RetryPolicy(max_retry_after=5)
    assert policy.delay(0, "2") == 2.0
    assert policy.delay(3, "3600") == 5.0
    assert policy.delay(0, "garbage", rng=lambda: 1.0) == policy.base  # falls back to backoff


def test_backoff_sequence() -> None:
    """Guards the documented schedule (docs/registry.md): 0.2 s doubling, at most 10 s, fully jittered;
    the expected figures are written out, not computed the way the policy computes them."""
    policy = RetryPolicy()
    ceilings = [policy.delay(n, None, rng=lambda: 1.0) for n in range(9)]
    assert ceilings == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0, 10.0, 10.0])
    halves = [RetryPolicy(base=0.1, cap=4.0).delay(n, None, rng=lambda: 0.5) for n in range(7)]
    assert halves == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0])
    assert policy.delay(3, None, rng=lambda: 0.0) == 0.0


@given(st.integers(min_value=0, max_value=200), st.floats(min_value=0, max_value=1))
def test_backoff_never_exceeds_the_cap(retry: int, jitter: float) -> None:
    delay = RetryPolicy(base=0.1, cap=4.0).delay(retry, None, rng=lambda: jitter)
    assert 0.0 <= delay <= 4.0


def test_retryable_statuses() -> None:
    policy = RetryPolicy()
    assert all(policy.should_retry(s) for s in (408, 429, 500, 502, 503, 504))
    assert not any(policy.should_retry(s) for s in (200, 400, 401, 403, 404, 501))


def test_plain_http_only_for_loopback() -> None:
    assert is_loopback("127.0.0.1:5000") and is_loopback("localhost") and is_loopback("[::1]:5000")
    assert is_loopback("127.3.4.5:5000") and is_loopback("[::ffff:127.0.0.1]:5000")
    assert not is_loopback("registry.example:5000") and not is_loopback("10.0.0.1:5000")
    # loopback is an address, not a spelling: these are names that resolve nowhere (or anywhere)
    assert not is_loopback("127.attacker.example:5000") and not is_loopback("127.0.0.1.nip.example")
    assert not is_loopback("localhost.attacker.example")


def test_a_name_on_loopback_is_connected_to_at_the_address_checked(monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    """Guards against DNS rebinding: once `localhost` was found on loopback (and so given plain HTTP
    and credentials), a later lookup answering another address does not move the connection."""
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from pare.stores.registry.client import RegistryClient

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = RegistryClient(f"localhost:{server.server_address[1]}", credentials=lambda r: None)
        assert client.scheme == "http" and client.loopback
        real = socket.getaddrinfo

        def rebound(host: object, *args: object, **kwargs: object) -> object:
            if host == "localhost":
                raise socket.gaierror("a second lookup of localhost was made")
            return real(host, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(socket, "getaddrinfo", rebound)
        response = client.http.get(client.url("/v2/"))
        assert response.status_code == 200
        client.close()
    finally:
        server.shutdown()
        server.server_close()


def test_a_loopback_looking_name_gets_tls_and_no_plain_credentials() -> None:
    from pare.stores.registry.client import RegistryClient
    client = RegistryClient("127.attacker.example:5000", credentials=lambda r: None)
    try:
        assert client.base_url == "https://127.attacker.example:5000"
        assert not client.may_authorize(httpx.URL("http://127.attacker.example:5000/v2/"))
        assert not client.auth.allow_http_realm
    finally:
        client.close()


def test_scheme_choice() -> None:
    from pare.stores.registry.client import RegistryClient
    cases = {("127.0.0.1:5000", False): "http://127.0.0.1:5000",
             ("reg.example:5000", False): "https://reg.example:5000",
             ("reg.example:5000", True): "https://reg.example:5000",  # unverified, http fallback
             ("docker.io", False): "https://registry-1.docker.io"}
    for (registry, insecure), url in cases.items():
        client = RegistryClient(registry, insecure, credentials=lambda r: None)
        assert client.base_url == url
        client.close()


@given(st.text(max_size=60))
def test_retry_after_never_crashes_nor_goes_negative(value: str) -> None:
    parsed = parse_retry_after(value)
    assert parsed is None or parsed >= 0


def test_importing_the_client_leaves_httpcore_alone() -> None:
    """Guards other libraries in the process: pare's big socket reads are its own transport's, not a
    patch of httpcore's class (which every httpx user shares)."""
    import subprocess
    import sys
    code = ("from httpcore._sync.http11 import HTTP11Connection as C; before = C.READ_NUM_BYTES; "
            "import pare.stores.registry.store; print(before, C.READ_NUM_BYTES)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    before, after = out.split()
    assert before == after == str(64 * 1024)
