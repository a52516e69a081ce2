"""A registry as a store: read an image (lazily) from a reference, write one to a reference.

`name` is always the full reference text ("127.0.0.1:5000/app:1", "host/app@sha256:..."). Reading
fetches the manifest and config; layers stay lazy (`RegistryLayer.open()` streams the blob, verified
against its digest at EOF, resuming with Range after a dropped connection). Writing uploads missing
blobs in parallel, mounting those that already live in another repository of the same registry,
then puts the manifest with its exact bytes.
"""

from __future__ import annotations

from typing import IO

from pare.oci.descriptor import Descriptor, Platform
from pare.oci.digest import Digest
from pare.oci.image import Image
from pare.oci.layer import BlobLayer, Opener
from pare.oci.manifest import Index
from pare.stores.base import Store
from pare.stores.registry.auth import CredentialSource


class RegistryLayer(BlobLayer):
    """A layer whose blob lives in `registry`/`repository`; a write to the same registry can mount it."""

    def __init__(self, descriptor: Descriptor, diff_id: Digest, opener: Opener, *, registry: str,
                 repository: str, uncompressed_size: int | None = None) -> None:
        super().__init__(descriptor, diff_id, opener, uncompressed_size)
        self.registry = registry
        self.repository = repository


class RegistryStore(Store):
    """One registry host. Thread-safe: layers may be opened from several threads at once."""

    transport = "docker"

    def __init__(self, registry: str, insecure: bool = False, *, parallel: int = 4,
                 chunk_size: int | None = None, credentials: CredentialSource | None = None) -> None:
        """`registry` is host[:port]; loopback hosts speak plain HTTP, others TLS unless `insecure`.
        `chunk_size` None means monolithic uploads, else chunked PATCHes of that many bytes.
        `credentials` defaults to env PARE_REGISTRY_USERNAME/PASSWORD, then ~/.docker/config.json."""
        super().__init__()
        raise NotImplementedError

    def read(self, name: str | None = None, platform: Platform | None = None) -> Image:
        raise NotImplementedError

    def write(self, image: Image, name: str | None = None) -> Digest:
        raise NotImplementedError

    def read_index(self, name: str) -> Index | None:
        """The index `name` points at, or None when it points at a single image manifest."""
        raise NotImplementedError

    def write_index(self, index: Index, images: list[Image], name: str) -> Digest:
        """Push every image (by digest) then the index under `name`; returns the index digest."""
        raise NotImplementedError

    def resolve(self, name: str) -> Descriptor:
        """HEAD the manifest: media type, digest and size, without downloading it."""
        raise NotImplementedError

    def tags(self, repository: str) -> list[str]:
        """Tags of a repository (following pagination)."""
        raise NotImplementedError

    def open_blob(self, repository: str, descriptor: Descriptor) -> IO[bytes]:
        """A fresh, verifying, resuming stream of one blob."""
        raise NotImplementedError

    def close(self) -> None:
        """Release pooled connections."""
        raise NotImplementedError
