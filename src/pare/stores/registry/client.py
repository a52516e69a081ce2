"""HTTP for one registry: scheme choice, pooled connections, auth, retries, and clear errors.

Loopback registries speak plain HTTP, as docker assumes: a host is loopback when its address is
(127.0.0.0/8, ::1), read from an IP literal or from what the name resolves to, never from its text
(`127.attacker.example` is a name like any other); a name found to be loopback is then connected to
at the addresses checked, so a second lookup cannot send the request elsewhere. Any other host
speaks verified TLS; with `insecure`, as docker's insecure registries, TLS without verification,
falling back to plain HTTP when the host does not speak TLS. Requests that fail with 408, 429 or
5xx, or lose their connection, are retried with exponential backoff and full jitter, honouring
Retry-After. A request whose body is a one-shot stream is not retried here: the upload code
restarts the whole upload.

Credentials (a Basic header or a Bearer token) go only to the registry's own origin: scheme, host
and port as the client reaches it. URLs the registry hands out (upload Locations, tag-list Links,
redirects) are followed, but without credentials when they point elsewhere, and a challenge from
elsewhere is never answered. Plain HTTP carries credentials only to a loopback registry: after an
`insecure` fall-back from TLS to plain HTTP, a registry that asks for credentials is refused.
"""

from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import json
import os
import random
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pare.errors import AuthError, DigestMismatch, NotFound, RegistryError
from pare.oci.reference import Reference
from pare.stores.base import TransferStats
from pare.stores.registry import redirects
from pare.stores.registry.auth import Authenticator, CredentialSource, default_credentials, split_host_port
from pare.stores.registry.bigreads import big_read_transport
from pare.stores.registry.redirects import Content

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """attempts counts every try (first included); delays grow base*2^n up to cap, fully jittered."""

    attempts: int = 5
    base: float = 0.2
    cap: float = 10.0
    max_retry_after: float = 60.0

    def delay(self, retry: int, retry_after: str | None = None, rng: Callable[[], float] = random.random
              ) -> float:
        """Seconds to wait before retry number `retry` (0-based)."""
        hinted = parse_retry_after(retry_after) if retry_after else None
        if hinted is not None:
            return min(hinted, self.max_retry_after)
        return rng() * min(self.cap, self.base * (2 ** retry))

    def should_retry(self, status: int) -> bool:
        return status in RETRY_STATUSES


def parse_retry_after(value: str, now: float | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date; None when unparseable."""
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class TransientError(RegistryError):
    """A failure worth trying again (lost connection, 408/429/5xx) that a caller chose to handle."""

    def __init__(self, message: str, retry_after: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StatsRecorder:
    """Lock-guarded updates of a store's TransferStats from many threads."""

    def __init__(self, stats: TransferStats) -> None:
        self.stats = stats
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add_phase(name, time.perf_counter() - start)

    def add_phase(self, name: str, seconds: float) -> None:
        with self.lock:
            self.stats.add_phase(name, seconds)

    def add_wall(self, seconds: float) -> None:
        with self.lock:
            self.stats.wall_seconds += seconds

    def retry(self) -> None:
        with self.lock:
            self.stats.retries += 1

    def moved(self, nbytes: int, blobs: int = 0) -> None:
        with self.lock:
            self.stats.bytes_moved += nbytes
            self.stats.blobs_moved += blobs

    def count(self, skipped: int = 0, mounted: int = 0) -> None:
        with self.lock:
            self.stats.blobs_skipped += skipped
            self.stats.blobs_mounted += mounted


def _is_tls_failure(exc: httpx.TransportError) -> bool:
    """A handshake that failed: retrying will not help."""
    text = str(exc).lower()
    return isinstance(exc, httpx.ConnectError) and any(
        word in text for word in ("ssl", "certificate", "wrong version"))


def loopback_addresses(host: str) -> tuple[str, ...]:
    """The addresses of `host` if it is on loopback (an IP literal, or a name every one of whose
    resolved addresses is); () for anything else, a name that does not resolve included."""
    try:
        return (host,) if _is_loopback_ip(host) else ()
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return ()
    found = sorted({str(info[4][0]) for info in infos})
    return tuple(found) if found and all(_is_loopback_ip(a) for a in found) else ()


def _is_loopback_ip(text: str) -> bool:
    """ValueError when `text` is no IP address."""
    ip = ipaddress.ip_address(text.split("%", 1)[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool(ip.is_loopback or (mapped is not None and mapped.is_loopback))


def is_loopback(registry: str) -> bool:
    """Is the registry's host on loopback, by its address (see loopback_addresses)?"""
    return bool(loopback_addresses(split_host_port(Reference(registry, "x").api_host)[0]))


def error_detail(response: httpx.Response) -> str:
    """The registry's own error code/message (distribution's {"errors": [...]}) or the status text."""
    try:
        body = json.loads(response.read()[:65536])
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return f"{response.status_code} {first.get('code', '?')}: {first.get('message', '')}".strip()
    except (ValueError, httpx.HTTPError, UnicodeDecodeError):
        pass
    return f"{response.status_code} {response.reason_phrase}".strip()


def error_code(response: httpx.Response) -> str | None:
    try:
        body = json.loads(response.read()[:65536])
        return str(body["errors"][0]["code"])
    except (ValueError, KeyError, IndexError, TypeError, httpx.HTTPError):
        return None


class _LazyTransport(httpx.BaseTransport):
    """Builds its transport on first use: loading the CA bundle costs ~0.1 s per process, wasted
    when every request goes to a plain-HTTP loopback registry."""

    def __init__(self, make: Callable[[], httpx.BaseTransport]) -> None:
        self._make = make
        self._inner: httpx.BaseTransport | None = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            if self._inner is None:
                self._inner = self._make()
        return self._inner.handle_request(request)

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()


def tls_context(registry: str) -> ssl.SSLContext:
    """The system's trusted CAs (SSL_CERT_FILE / SSL_CERT_DIR honoured), plus docker's per-registry
    CAs in /etc/docker/certs.d/HOST[:PORT]/*.crt, as docker and skopeo read them."""
    context = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE"),
                                         capath=os.environ.get("SSL_CERT_DIR"))
    certs = Path("/etc/docker/certs.d") / registry
    if certs.is_dir():
        for ca in sorted(certs.glob("*.crt")):
            context.load_verify_locations(cafile=str(ca))
    return context


def _http_client(registry: str, insecure: bool, timeout: httpx.Timeout, limits: httpx.Limits,
                 pins: Mapping[str, str] | None = None) -> httpx.Client:
    """Pooled HTTP; TLS (verified against system CAs unless `insecure`) is set up only if an https
    URL is ever requested. With proxy variables in the environment, httpx's own set-up is kept so
    they apply. `pins`: host name -> the address its connections go to."""
    verify: ssl.SSLContext | bool = False
    # redirects are followed by pare.stores.registry.redirects, which decides where credentials go
    common: dict[str, Any] = {"timeout": timeout, "follow_redirects": False,
                              "headers": {"User-Agent": "pare/0.1"}}
    if urllib.request.getproxies():
        return httpx.Client(limits=limits, verify=verify if insecure else tls_context(registry), **common)
    # plain http:// never touches the TLS context, so the default transport needs no CA bundle
    plain = big_read_transport(verify=False, limits=limits, pins=pins)
    tls = _LazyTransport(lambda: big_read_transport(verify=verify if insecure else tls_context(registry),
                                                    limits=limits, pins=pins))
    return httpx.Client(transport=plain, mounts={"https://": tls}, **common)


class RegistryClient:
    """Pooled, authenticated, retrying HTTP to one registry host. Thread-safe."""

    def __init__(self, registry: str, insecure: bool = False, *, credentials: CredentialSource | None = None,
                 retry: RetryPolicy | None = None, timeout: float = 60.0, pool: int = 8,
                 recorder: StatsRecorder | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.registry = registry
        api_host = Reference(registry, "x").api_host
        self.insecure = insecure
        host = split_host_port(api_host)[0]
        self.loopback = bool(loopback := loopback_addresses(host))
        # a name found on loopback is connected to at the address checked (no second lookup)
        pins = {host: loopback[0]} if loopback and loopback[0] != host else None
        self.scheme = "http" if self.loopback else "https"
        self._api_host = api_host
        self.retry_policy = retry or RetryPolicy()
        self.recorder = recorder or StatsRecorder(TransferStats())
        self._sleep = sleep
        # a token realm may be plain HTTP only where the registry itself may be
        self.auth = Authenticator(registry, credentials or default_credentials,
                                  allow_http_realm=insecure or self.loopback, plain_http=self.loopback)
        self.http = _http_client(registry, insecure, httpx.Timeout(timeout, connect=min(timeout, 15.0)),
                                 httpx.Limits(max_connections=pool, max_keepalive_connections=pool), pins)

    def close(self) -> None:
        self.http.close()

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self._api_host}"

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return self.base_url + path_or_url

    def is_registry(self, url: httpx.URL) -> bool:
        """Is `url` on the registry's own origin (scheme, host, port as the client reaches it)?"""
        return redirects.same_origin(url, httpx.URL(self.base_url))

    def may_authorize(self, url: httpx.URL) -> bool:
        """May credentials ride on a request to `url`? Only to the registry's own origin, and over
        plain HTTP only when the registry is on loopback (never after an insecure fall-back)."""
        return self.is_registry(url) and (url.scheme == "https" or self.loopback)

    # --- requests ------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, scopes: tuple[str, ...], what: str,
                headers: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None,
                content: Content = None, stream: bool = False, retry: bool = True,
                ok: tuple[int, ...] = (200,)) -> httpx.Response:
        """Send with auth and retries; return a response whose status is in `ok` (404 too, when the
        caller lists it). `content` is bytes or a zero-argument callable making a fresh body.
        `what` names the object for error messages ("manifest app:1", "blob sha256:...")."""
        attempt = 0
        answered_challenge = False
        while True:
            with self.recorder.phase("auth"):
                authz = self.auth.header(scopes, self.http)
            url = self.url(path)
            try:
                response = redirects.send(self.http, method, url, headers=headers, params=params,
                                          content=content, stream=stream, authorization=authz,
                                          may_authorize=self.may_authorize)
            except httpx.TransportError as exc:
                if self.insecure and _is_tls_failure(exc) and url.startswith(f"https://{self._api_host}/"):
                    # an insecure registry that does not speak TLS at all; may_authorize keeps any
                    # credentials off the plain HTTP that follows
                    self.scheme = "http"
                    continue
                if retry and attempt + 1 < self.retry_policy.attempts and not _is_tls_failure(exc):
                    self._pause(attempt, None)
                    attempt += 1
                    continue
                lost = self._transport_error(exc, what)
                if not retry:
                    raise TransientError(str(lost)) from None
                raise lost from None
            status = response.status_code
            if status in ok:
                return response
            if status == 401 and not self.may_authorize(response.request.url):
                response.close()
                raise self._refused_challenge(response.request.url, what)
            if status == 401 and not answered_challenge:
                challenge = response.headers.get("WWW-Authenticate", "")
                response.close()
                with self.recorder.phase("auth"):
                    self.auth.answer(challenge, scopes, self.http, authz)
                answered_challenge = True
                continue
            if retry and self.retry_policy.should_retry(status) and attempt + 1 < self.retry_policy.attempts:
                retry_after = response.headers.get("Retry-After")
                response.close()
                self._pause(attempt, retry_after)
                attempt += 1
                continue
            try:
                error = self.status_error(response, what)
                if not retry and self.retry_policy.should_retry(status):
                    raise TransientError(str(error), response.headers.get("Retry-After"))
                raise error
            finally:
                response.close()

    def _refused_challenge(self, url: httpx.URL, what: str) -> AuthError:
        """A 401 from where pare sends no credentials: say why instead of answering it."""
        where = f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")
        if self.is_registry(url):
            return AuthError(f"{self.registry} asks for credentials for {what} over plain HTTP; pare sends "
                             "credentials over plain HTTP only to a loopback registry (give the registry "
                             "TLS, or reach it as localhost)")
        return AuthError(f"{self.registry}: {what} led to {where}, which asks for credentials; pare sends "
                         f"credentials only to {self.base_url} itself")

    def _pause(self, attempt: int, retry_after: str | None) -> None:
        self.recorder.retry()
        self._sleep(self.retry_policy.delay(attempt, retry_after))

    def status_error(self, response: httpx.Response, what: str) -> Exception:
        """The PareError a failed response means, one line."""
        status = response.status_code
        detail = error_detail(response)
        if status == 401:
            creds = self.auth.credentials()
            hint = "the credentials were rejected" if creds else \
                "set PARE_REGISTRY_USERNAME/PARE_REGISTRY_PASSWORD or log in with docker/skopeo login"
            return AuthError(f"{self.registry}: unauthorized for {what} ({detail}): {hint}")
        if status == 403:
            return AuthError(f"{self.registry}: access to {what} denied ({detail})")
        if status == 400 and error_code(response) == "DIGEST_INVALID":
            return DigestMismatch(f"{self.registry} refused {what}: its content does not match its digest")
        if status == 404:
            return NotFound(f"{what} not found on {self.registry} ({detail})")
        return RegistryError(f"{self.registry}: {what}: registry answered {detail}")

    def _transport_error(self, exc: httpx.TransportError, what: str) -> RegistryError:
        text = str(exc) or type(exc).__name__
        if isinstance(exc, httpx.ConnectError):
            if "refused" in text.lower():
                return RegistryError(f"cannot reach registry {self.registry}: connection refused "
                                     "(is it running? try `pare registry up`)")
            if "certificate" in text.lower():
                return RegistryError(f"the TLS certificate of {self.registry} is not trusted ({text}): add "
                                     f"its CA to the system store, SSL_CERT_FILE or /etc/docker/certs.d/"
                                     f"{self.registry}/ca.crt, or pass --insecure")
            if _is_tls_failure(exc):
                return RegistryError(f"TLS handshake with {self.registry} failed ({text}); if it speaks "
                                     "plain HTTP, pass --insecure")
            return RegistryError(f"cannot reach registry {self.registry}: {text}")
        if isinstance(exc, httpx.TimeoutException):
            return RegistryError(f"registry {self.registry} timed out on {what}")
        return RegistryError(f"registry {self.registry}: connection failed on {what}: {text}")

    def transport_error(self, exc: httpx.TransportError, what: str) -> RegistryError:
        return self._transport_error(exc, what)
