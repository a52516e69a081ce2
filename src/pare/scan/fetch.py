"""Downloads for the vulnerability data: OSV's per-ecosystem exports and the Debian archive's
indexes and source packages. Streamed to a temporary file beside the destination, size-capped,
hashed on the way, and renamed into place only when complete (and, when a digest is expected,
only when it matches). Any network failure is one VulnDBError line naming the URL."""

from __future__ import annotations

import hashlib
import os
import ssl
import tempfile
from pathlib import Path

import httpx

from pare.errors import DigestMismatch, NetworkError
from pare.files import publish

TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class FetchError(NetworkError):
    """A download that could not be made (network, HTTP status, size)."""


def _context() -> ssl.SSLContext:
    """The system's trusted CAs (where an intercepting proxy's CA lives), SSL_CERT_FILE honoured."""
    return ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE"),
                                      capath=os.environ.get("SSL_CERT_DIR"))


def client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT, verify=_context(), follow_redirects=True,
                        headers={"User-Agent": "pare-scan"})


def download(url: str, dest: Path, *, max_bytes: int, sha256: str | None = None,
             http: httpx.Client | None = None) -> str:
    """Stream `url` into `dest` atomically; returns the content's sha256 (hex)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    own = http is None
    http = http or client()
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    hasher = hashlib.sha256()
    total = 0
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with http.stream("GET", url) as response:
                    if response.status_code != 200:
                        raise FetchError(f"{url}: HTTP {response.status_code}")
                    for chunk in response.iter_bytes(1 << 20):
                        total += len(chunk)
                        if total > max_bytes:
                            raise FetchError(f"{url}: more than {max_bytes} bytes; refused")
                        hasher.update(chunk)
                        out.write(chunk)
            except httpx.HTTPError as exc:
                raise FetchError(f"cannot download {url}: {_reason(exc)}") from None
        digest = hasher.hexdigest()
        if sha256 is not None and digest != sha256:
            raise DigestMismatch(f"{url}: content hashes to sha256:{digest}, the index says sha256:{sha256}")
        publish(tmp, dest)
        return digest
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        if own:
            http.close()


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
