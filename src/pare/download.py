"""Downloads of pinned artifacts (.debs, npm tarballs, wheels) and the JSON indexes that name them.

A download streams to a temp file beside its destination, is checked against the digest the
caller pinned (sha256 or sha512, from a signed index or a lock), and only then renamed into
place: a cache never holds a file that did not verify. TLS trusts the system's CA store
(SSL_CERT_FILE / SSL_CERT_DIR honoured), as the registry client does.
"""

from __future__ import annotations

import json
import os
import ssl
import tempfile
from pathlib import Path
from typing import Any

from pare.errors import DigestMismatch, NetworkError
from pare.files import publish
from pare.oci.digest import CHUNK, Digest, Hasher

TIMEOUT = 120.0


class DownloadError(NetworkError):
    """A package index or artifact could not be fetched."""


def _client() -> Any:
    import httpx  # imported here: most commands never download anything
    context = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE"),
                                         capath=os.environ.get("SSL_CERT_DIR"))
    return httpx.Client(verify=context, timeout=TIMEOUT, follow_redirects=True)


def file_matches(path: Path, digest: Digest) -> bool:
    """True when `path` exists and hashes to `digest` (a truncated or changed file does not)."""
    try:
        hasher = Hasher(digest.algorithm)
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                hasher.update(chunk)
    except OSError:
        return False
    return hasher.digest() == digest


def download(url: str, dest: Path, digest: Digest) -> Path:
    """`dest`, fetched from `url` unless a verified copy is already there."""
    if file_matches(dest, digest):
        return dest
    import httpx
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}-", dir=dest.parent)
    try:
        hasher = Hasher(digest.algorithm)
        with os.fdopen(fd, "wb") as out, _client() as client, client.stream("GET", url) as response:
            if response.status_code == 404:
                raise DownloadError(f"{url} is gone from its archive (404); if pare.lock pins it, "
                                    "pare build --update-lock resolves the runtime again")
            if response.status_code != 200:
                raise DownloadError(f"download of {url} failed: HTTP {response.status_code}")
            for chunk in response.iter_bytes(CHUNK):
                hasher.update(chunk)
                out.write(chunk)
        if hasher.digest() != digest:
            raise DigestMismatch(f"{url}: got {hasher.digest()}, the index or lock pins {digest}")
        publish(tmp, dest)
    except httpx.HTTPError as exc:
        raise DownloadError(f"download of {url} failed: {exc}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return dest


def get_json(url: str, *, headers: dict[str, str] | None = None) -> Any:
    """GET a JSON document (a package's registry metadata); DownloadError on any failure."""
    import httpx
    try:
        with _client() as client:
            response = client.get(url, headers=headers or {})
    except httpx.HTTPError as exc:
        raise DownloadError(f"cannot reach {url}: {exc}") from None
    if response.status_code == 404:
        raise DownloadError(f"{url}: not found (404)")
    if response.status_code != 200:
        raise DownloadError(f"{url}: HTTP {response.status_code}")
    try:
        return json.loads(response.content)
    except ValueError:
        raise DownloadError(f"{url}: the answer is not JSON") from None
