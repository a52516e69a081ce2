"""Manifests and tags over the distribution API: GET (every media type pare reads), HEAD, PUT, tags.

Manifests move as exact bytes: the digest of what was fetched is checked against the digest asked
for and against the Docker-Content-Digest header, in whichever algorithm each names (sha256 or
sha512; Digest.parse refuses any other), and a PUT sends the bytes the image already holds.
"""

from __future__ import annotations

from pare.errors import DigestMismatch, InvalidReference, ManifestError, RegistryError
from pare.oci import mediatypes as mt
from pare.oci.descriptor import Descriptor
from pare.oci.digest import Digest, digest_chunks, sha256
from pare.oci.jsonutil import MAX_JSON_BYTES
from pare.oci.manifest import sniff_media_type
from pare.stores.registry.blobs import pull_scopes, push_scopes
from pare.stores.registry.client import RegistryClient


def manifest_path(repository: str, identifier: str) -> str:
    return f"/v2/{repository}/manifests/{identifier}"


def _content_type(value: str | None) -> str | None:
    return value.split(";", 1)[0].strip() if value else None


def get_manifest(client: RegistryClient, repository: str, identifier: str, what: str
                 ) -> tuple[str, bytes]:
    """(media type, exact bytes) of a manifest or index; verified when asked by digest."""
    with client.recorder.phase("manifest"):
        response = client.request("GET", manifest_path(repository, identifier),
                                  scopes=pull_scopes(repository), what=what,
                                  headers={"Accept": mt.MANIFEST_ACCEPT}, stream=True)
        try:
            chunks: list[bytes] = []
            total = 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > MAX_JSON_BYTES:
                    raise ManifestError(f"{what}: manifest larger than {MAX_JSON_BYTES} bytes; refused")
                chunks.append(chunk)
        finally:
            response.close()
    raw = b"".join(chunks)
    asked = _asked_digest(identifier)
    if asked is not None:
        _check(raw, asked, what, "the digest asked for")
    header = _header_digest(response.headers.get("Docker-Content-Digest"), what)
    if header is not None:
        _check(raw, header, what, "the registry's Docker-Content-Digest")
    media_type = sniff_media_type(raw, _content_type(response.headers.get("Content-Type")))
    if media_type not in mt.MANIFESTS | mt.INDEXES:
        raise ManifestError(f"{what}: unsupported manifest media type {media_type!r}")
    client.recorder.moved(len(raw))
    return media_type, raw


def head_manifest(client: RegistryClient, repository: str, identifier: str, what: str) -> Descriptor:
    """Media type, digest and size of a manifest without its body."""
    with client.recorder.phase("manifest"):
        response = client.request("HEAD", manifest_path(repository, identifier),
                                  scopes=pull_scopes(repository), what=what,
                                  headers={"Accept": mt.MANIFEST_ACCEPT})
    response.close()
    asked = _asked_digest(identifier)
    digest = _header_digest(response.headers.get("Docker-Content-Digest"), what) or asked
    if digest is None:
        raise RegistryError(f"{what}: registry sent no Docker-Content-Digest on HEAD")
    if asked is not None and digest != asked:
        raise DigestMismatch(f"{what}: registry says the manifest asked for as {asked} is {digest}; refused")
    try:
        size = int(response.headers.get("Content-Length", "0"))
    except ValueError:
        raise RegistryError(f"{what}: registry sent an invalid length on HEAD") from None
    media_type = _content_type(response.headers.get("Content-Type")) or mt.OCI_MANIFEST
    return Descriptor(media_type, digest, size)


def put_manifest(client: RegistryClient, repository: str, identifier: str, raw: bytes, media_type: str,
                 what: str) -> Digest:
    """PUT the exact bytes under a tag or digest; returns their digest."""
    digest = sha256(raw)
    with client.recorder.phase("manifest"):
        response = client.request("PUT", manifest_path(repository, identifier),
                                  scopes=push_scopes(repository), what=what,
                                  headers={"Content-Type": media_type}, content=raw, ok=(201, 200))
    response.close()
    returned = _header_digest(response.headers.get("Docker-Content-Digest"), what)
    if returned is not None:
        _check(raw, returned, what, "the digest the registry says it stored")
    client.recorder.moved(len(raw))
    return digest


def _asked_digest(identifier: str) -> Digest | None:
    """The digest a manifest was asked for by (a tag never holds ':'), else None."""
    return Digest.parse(identifier) if ":" in identifier else None


def _header_digest(value: str | None, what: str) -> Digest | None:
    """Docker-Content-Digest, parsed; a value pare cannot check is an error, not something to skip."""
    if not value:
        return None
    try:
        return Digest.parse(value.strip())
    except InvalidReference as exc:
        raise RegistryError(f"{what}: registry sent Docker-Content-Digest {value!r}: {exc}") from None


def _check(raw: bytes, expected: Digest, what: str, how: str) -> None:
    """The bytes hash to `expected` in its own algorithm, or DigestMismatch."""
    actual, _ = digest_chunks([raw], expected.algorithm)
    if actual != expected:
        raise DigestMismatch(f"{what}: the manifest's bytes hash to {actual}, not {expected} ({how}); "
                             "refused")


def list_tags(client: RegistryClient, repository: str, page: int = 1000) -> list[str]:
    """Every tag, following Link pagination."""
    tags: list[str] = []
    path: str | None = f"/v2/{repository}/tags/list?n={page}"
    while path:
        response = client.request("GET", path, scopes=pull_scopes(repository), what=f"tags of {repository}")
        try:
            body = response.json()
        except ValueError:
            raise ManifestError(f"tags of {repository}: registry sent invalid JSON") from None
        finally:
            response.close()
        page_tags = body.get("tags") if isinstance(body, dict) else None
        tags.extend(t for t in page_tags or [] if isinstance(t, str))
        link = response.links.get("next", {}).get("url")
        path = str(response.url.join(link)) if link else None
    return tags
