"""A registry as a store: read an image (lazily) from a reference, write one to a reference.

`name` is always the full reference text ("127.0.0.1:5000/app:1", "host/app@sha256:..."). Reading
fetches the manifest and config; layers stay lazy (`RegistryLayer.open()` streams the blob, verified
against its digest at EOF, resuming with Range after a dropped connection). Writing uploads missing
blobs in parallel, mounting those that already live in another repository of the same registry,
then puts the manifest with its exact bytes. An index is read whole (every platform's manifest and
config) and written whole: every image by digest, then the index's exact bytes under the tag.
"""

from __future__ import annotations

import contextlib
import functools
import io
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import IO, Any, TypeVar, cast

from pare.errors import ManifestError, UsageError
from pare.oci import mediatypes as mt
from pare.oci.config import ImageConfig
from pare.oci.descriptor import Descriptor, Platform
from pare.oci.digest import Digest
from pare.oci.image import Image
from pare.oci.index import ImageIndex
from pare.oci.layer import BlobLayer, Layer, Opener
from pare.oci.manifest import Index, Manifest
from pare.oci.reference import Reference
from pare.stores.base import Store, TransferStats
from pare.stores.registry import blobs, manifests
from pare.stores.registry.auth import CredentialSource
from pare.stores.registry.client import RegistryClient, StatsRecorder

T = TypeVar("T")


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
        self._recorder = StatsRecorder(TransferStats())
        super().__init__()
        if parallel < 1:
            raise UsageError(f"parallel must be at least 1, not {parallel}")
        if chunk_size is not None and chunk_size < 1:
            raise UsageError(f"chunk size must be positive, not {chunk_size}")
        self.registry = registry
        self.insecure = insecure
        self.parallel = parallel
        self.chunk_size = chunk_size
        self.client = RegistryClient(registry, insecure, credentials=credentials, recorder=self._recorder,
                                     pool=max(8, 2 * parallel))

    # stats is the base class's attribute; the recorder must follow it when a caller swaps it
    @property
    def stats(self) -> TransferStats:
        return self._recorder.stats

    @stats.setter
    def stats(self, value: TransferStats) -> None:
        self._recorder.stats = value

    def close(self) -> None:
        """Release pooled connections."""
        self.client.close()

    def describe(self, name: str | None = None) -> str:
        return f"docker://{name or self.registry}"

    def _ref(self, name: str | None) -> Reference:
        """The reference `name` means on this registry; a bare repo[:tag] is taken to live here."""
        if not name:
            raise UsageError(f"a registry needs an image name, e.g. {self.registry}/app:1")
        ref = Reference.parse(name)
        if ref.registry == self.registry:
            return ref
        first = name.split("/", 1)[0]
        names_a_registry = "/" in name and ("." in first or ":" in first or first == "localhost")
        if names_a_registry:
            raise UsageError(f"{name} is not on {self.registry}")
        return Reference.parse(f"{self.registry}/{name}")

    # --- read ------------------------------------------------------------------------------------
    def read(self, name: str | None = None, platform: Platform | None = None) -> Image:
        ref = self._ref(name)
        started = time.perf_counter()
        media_type, raw = self._manifest(ref, ref.identifier)
        if mt.is_index(media_type):
            index = _parse(ref, lambda: Index.parse(raw, media_type))
            desc = index.select(platform or Platform())
            media_type, raw = self._manifest(ref, str(desc.digest))
            if not mt.is_manifest(media_type):
                raise ManifestError(f"{ref}: index entry {desc.digest} is not an image manifest")
        image = self._image(ref, media_type, raw)
        self._recorder.add_wall(time.perf_counter() - started)
        return image

    def read_index(self, name: str | None = None) -> ImageIndex | None:
        found = self._read_top(name, image=False)
        return found if isinstance(found, ImageIndex) else None

    def read_any(self, name: str | None = None) -> Image | ImageIndex:
        """One manifest GET decides: an index is read whole, a manifest as its image."""
        found = self._read_top(name, image=True)
        assert found is not None
        return found

    def _read_top(self, name: str | None, image: bool) -> Image | ImageIndex | None:
        """What `name` points at: an index, whole (every entry's manifest and config fetched, layers
        lazy); a single image when `image`, else None."""
        ref = self._ref(name)
        started = time.perf_counter()
        media_type, raw = self._manifest(ref, ref.identifier)
        found: Image | ImageIndex | None = None
        if mt.is_index(media_type):
            index = _parse(ref, lambda: Index.parse(raw, media_type))
            found = _parse(ref, lambda: ImageIndex.load(
                index, lambda entry: self._image(ref, *self._manifest(ref, str(entry.digest))), str(ref)))
        elif image:
            found = self._image(ref, media_type, raw)
        self._recorder.add_wall(time.perf_counter() - started)
        return found

    def _manifest(self, ref: Reference, identifier: str) -> tuple[str, bytes]:
        what = f"manifest {ref}" if identifier == ref.identifier else \
            f"manifest {ref.repository}@{identifier}"
        return manifests.get_manifest(self.client, ref.repository, identifier, what)

    def _image(self, ref: Reference, media_type: str, raw: bytes) -> Image:
        manifest = _parse(ref, lambda: Manifest.parse(raw, media_type))
        if manifest.config.media_type not in mt.CONFIGS:
            raise ManifestError(f"{ref}: not a container image (config media type "
                                f"{manifest.config.media_type!r})")
        with self._recorder.phase("config"):
            config_raw = blobs.read_small_blob(self.client, ref.repository, manifest.config)
        config = _parse(ref, lambda: ImageConfig.parse(config_raw))
        diff_ids = config.diff_ids
        if len(diff_ids) != len(manifest.layers):
            raise ManifestError(f"{ref}: config lists {len(diff_ids)} diff_ids for "
                                f"{len(manifest.layers)} layers")
        layers: list[Layer] = [
            RegistryLayer(desc, diff_id, functools.partial(self.open_blob, ref.repository, desc),
                          registry=self.registry, repository=ref.repository)
            for desc, diff_id in zip(manifest.layers, diff_ids, strict=True)]
        return _parse(ref, lambda: Image(manifest, config, tuple(layers)))

    def open_blob(self, repository: str, descriptor: Descriptor) -> IO[bytes]:
        """A fresh, verifying, resuming stream of one blob."""
        bar = self.progress.blob(descriptor.digest.short, descriptor.size)
        advance = bar.__enter__()
        try:
            reader = blobs.BlobReader(self.client, repository, descriptor, advance,
                                      on_close=lambda: _exit(bar))
            return cast(IO[bytes], reader)
        except BaseException:
            bar.__exit__(*sys.exc_info())
            raise

    def resolve(self, name: str) -> Descriptor:
        """HEAD the manifest: media type, digest and size, without downloading it."""
        ref = self._ref(name)
        return manifests.head_manifest(self.client, ref.repository, ref.identifier, f"manifest {ref}")

    def tags(self, repository: str) -> list[str]:
        """Tags of a repository (following pagination)."""
        return manifests.list_tags(self.client, self._ref(repository).repository)

    # --- write -----------------------------------------------------------------------------------
    def write(self, image: Image, name: str | None = None) -> Digest:
        ref = self._ref(name)
        if ref.digest is not None and ref.digest != image.digest:
            raise UsageError(f"{name} pins {ref.digest}, but the image's digest is {image.digest}")
        started = time.perf_counter()
        self._push_blobs(ref.repository, image)
        identifier = ref.tag or (str(image.digest) if ref.digest else "latest")
        digest = manifests.put_manifest(self.client, ref.repository, identifier, image.manifest.raw,
                                        image.media_type, f"manifest {ref}")
        self._recorder.add_wall(time.perf_counter() - started)
        return digest

    def write_index(self, index: ImageIndex, name: str | None = None) -> Digest:
        """Push every image (by digest) then the index's exact bytes under `name`; returns its digest."""
        ref = self._ref(name)
        if ref.digest is not None and ref.digest != index.digest:
            raise UsageError(f"{name} pins {ref.digest}, but the index's digest is {index.digest}")
        started = time.perf_counter()
        for image in index.images:
            self._push_blobs(ref.repository, image)
            manifests.put_manifest(self.client, ref.repository, str(image.digest), image.manifest.raw,
                                   image.media_type, f"manifest {ref.repository}@{image.digest}")
        identifier = ref.tag or (str(index.digest) if ref.digest else "latest")
        digest = manifests.put_manifest(self.client, ref.repository, identifier, index.raw, index.media_type,
                                        f"index {ref}")
        self._recorder.add_wall(time.perf_counter() - started)
        return digest

    def _push_blobs(self, repository: str, image: Image) -> None:
        """Every blob the manifest needs, in parallel: HEAD, else mount, else upload."""
        config_raw = image.config.raw
        jobs: dict[Digest, tuple[Descriptor, Opener, str | None]] = {
            image.manifest.config.digest: (image.manifest.config, lambda: io.BytesIO(config_raw), None)}
        for layer in image.layers:
            source = layer.repository if isinstance(layer, RegistryLayer) and \
                layer.registry == self.registry and layer.repository != repository else None
            jobs.setdefault(layer.digest, (layer.descriptor, layer.open, source))
        with ThreadPoolExecutor(max_workers=min(self.parallel, len(jobs)),
                                thread_name_prefix="pare-push") as pool:
            futures: list[Future[None]] = [pool.submit(self._push_blob, repository, *job)
                                           for job in jobs.values()]
            _done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in pending:
                future.cancel()
            for future in futures:
                if future.done() and not future.cancelled() and future.exception() is not None:
                    raise future.exception()  # type: ignore[misc]

    def _push_blob(self, repository: str, descriptor: Descriptor, opener: Opener, source: str | None) -> None:
        scopes = blobs.push_scopes(repository, source)
        if blobs.blob_exists(self.client, repository, descriptor.digest, scopes):
            self._recorder.count(skipped=1)
            return
        location = None
        if source is not None:
            result = blobs.mount_blob(self.client, repository, descriptor.digest, source)
            if result.mounted:
                self._recorder.count(mounted=1)
                return
            location = result.location
        with self.progress.blob(descriptor.digest.short, descriptor.size) as advance:
            blobs.upload_blob(self.client, repository, descriptor, opener, chunk_size=self.chunk_size,
                              location=location, advance=advance)


def _parse(ref: Reference, parse: Callable[[], T]) -> T:
    """Run a parser; a ManifestError names the reference it came from."""
    try:
        return parse()
    except ManifestError as exc:
        raise ManifestError(f"{ref}: {exc}") from None


def _exit(bar: contextlib.AbstractContextManager[Any]) -> None:
    bar.__exit__(None, None, None)
