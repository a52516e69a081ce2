"""The OCI image layout directory as a store (image-layout v1), and pare's embedded default store.

    PATH/oci-layout          {"imageLayoutVersion": "1.0.0"}
    PATH/index.json          one descriptor per tagged image (annotation org.opencontainers.image.ref.name)
    PATH/blobs/<alg>/<hex>   content-addressed blobs

Blobs become visible only once verified: each is streamed into a temp file beside its final name
through a VerifyingReader, then renamed. A blob already present is trusted only after it hashes to
its name (a truncated or corrupted one is replaced), and layer streams are verified as they are read.
index.json is rewritten atomically (temp + rename) under a lock file, so concurrent writers never
lose each other's tags and readers never see a torn file. A write holds the layout's gc lock shared
from its first blob to its index.json entry, and gc() holds it exclusively, so gc never removes a
blob (or temp file) that a write in another process is about to reference.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pare.errors import DigestMismatch, InvalidReference, ManifestError, NotFound, UsageError
from pare.files import publish, write_atomic
from pare.oci import mediatypes as mt
from pare.oci.config import ImageConfig
from pare.oci.descriptor import Descriptor, Platform
from pare.oci.digest import Digest, VerifyingReader
from pare.oci.image import Image
from pare.oci.index import ImageIndex
from pare.oci.jsonutil import loads_object
from pare.oci.layer import BlobLayer, Layer
from pare.oci.manifest import Index, Manifest, sniff_media_type
from pare.oci.reference import Reference
from pare.stores.base import Store, verifying
from pare.stores.locking import locked

REF_NAME = "org.opencontainers.image.ref.name"
LAYOUT_VERSION = "1.0.0"
READ_SIZE = 4 << 20  # big reads: fewer syscalls and hash updates per blob
DEFAULT_PLATFORM = Platform("linux", "amd64")
MAX_NESTING = 4
INDEX_LOCK = ".pare.lock"  # serialises index.json updates
GC_LOCK = ".pare-gc.lock"  # writers hold it shared, gc() exclusive


@dataclass(frozen=True)
class GcResult:
    """What gc() removed (or, on a dry run, would remove)."""

    removed: int  # blobs (and leftover temp files) removed
    freed: int  # bytes they held
    kept: int  # blobs still referenced
    dry_run: bool = False


class LayoutStore(Store):
    """An OCI image layout directory. Names are the ref.name annotation (a tag, or a full reference
    for pare's embedded store), a digest (`sha256:...`), or None for the only image."""

    transport = "oci"

    def __init__(self, path: Path | str, *, parallel: int = 4) -> None:
        super().__init__()
        self.path = Path(path)
        self.parallel = max(1, parallel)
        self._stats_lock = threading.Lock()

    # --- paths ---------------------------------------------------------------------------------
    def blob_path(self, digest: Digest) -> Path:
        return self.path / "blobs" / digest.algorithm / digest.hex

    def has_blob(self, descriptor: Descriptor) -> bool:
        """The blob is present with the right size (a cheap check: its bytes are verified when read)."""
        try:
            return self.blob_path(descriptor.digest).stat().st_size == descriptor.size
        except OSError:
            return False

    def holds_verified(self, descriptor: Descriptor) -> bool:
        """The blob is present and its bytes hash to its digest: only then may a write skip it."""
        if not self.has_blob(descriptor):
            return False
        try:
            with open(self.blob_path(descriptor.digest), "rb", buffering=0) as fh:
                reader = VerifyingReader(fh, descriptor.digest, descriptor.size)
                while reader.read(READ_SIZE):
                    pass
        except (OSError, DigestMismatch):
            return False
        return True

    def describe(self, name: str | None = None) -> str:
        return f"oci:{self.path}" + (f":{name}" if name else "")

    # --- reading -------------------------------------------------------------------------------
    def index(self) -> Index:
        """index.json, parsed; a directory that is not a layout is one clear error."""
        marker = self.path / "oci-layout"
        index_file = self.path / "index.json"
        if not self.path.is_dir():
            raise NotFound(f"{self.path}: no such OCI layout directory")
        if not index_file.is_file():
            if not marker.exists() and not any(self.path.iterdir()):
                raise NotFound(f"{self.path}: the layout is empty (no images)")
            raise ManifestError(f"{self.path}: not an OCI layout (index.json missing)")
        if marker.exists():
            self._check_marker(marker)
        try:
            return Index.parse(index_file.read_bytes(), mt.OCI_INDEX)
        except ManifestError as exc:
            raise ManifestError(f"{index_file}: {exc}") from None

    def _check_marker(self, marker: Path) -> None:
        try:
            version = json.loads(marker.read_bytes()).get("imageLayoutVersion")
        except (ValueError, AttributeError):
            raise ManifestError(f"{marker}: not valid JSON") from None
        if not isinstance(version, str) or not version.startswith("1."):
            raise ManifestError(f"{marker}: unsupported imageLayoutVersion {version!r}")

    def entries(self) -> list[tuple[str | None, Descriptor]]:
        """(name, descriptor) for every top-level entry of index.json."""
        return [(d.annotations.get(REF_NAME), d) for d in self.index().manifests]

    def names(self) -> list[str]:
        return [name for name, _ in self.entries() if name]

    def resolve(self, name: str | None = None) -> Descriptor:
        """The index.json entry (or blob, for a digest) that `name` picks."""
        entries = self.entries()
        if name is None:
            if len(entries) == 1:
                return entries[0][1]
            if not entries:
                raise NotFound(f"{self.describe()}: the layout holds no images")
            listed = ", ".join(n or str(d.digest) for n, d in entries)
            raise UsageError(f"{self.describe()} holds {len(entries)} images; name one of: {listed}")
        if name.startswith(("sha256:", "sha512:")):
            digest = Digest.parse(name)
            for _, desc in entries:
                if desc.digest == digest:
                    return desc
            return self._descriptor_of_blob(digest)
        for entry_name, desc in reversed(entries):
            if entry_name == name:
                return desc
        for entry_name, desc in reversed(entries):
            if entry_name and same_reference(entry_name, name):
                return desc
        listed = ", ".join(n for n, _ in entries if n) or "none"
        raise NotFound(f"{self.describe(name)}: no image named {name!r} (names: {listed})")

    def _descriptor_of_blob(self, digest: Digest) -> Descriptor:
        data = self._read_small_blob(digest, None)
        return Descriptor(sniff_media_type(data), digest, len(data))

    def read(self, name: str | None = None, platform: Platform | None = None) -> Image:
        started = time.perf_counter()
        desc = self.resolve(name)
        for _ in range(MAX_NESTING):
            if not mt.is_index(desc.media_type):
                break
            index = Index.parse(self._read_small_blob(desc.digest, desc.size), desc.media_type)
            desc = index.select(platform or DEFAULT_PLATFORM)
        else:
            raise ManifestError(f"{self.describe(name)}: indexes nested too deep")
        image = self._image(desc, name)
        self.stats.add_phase("read", time.perf_counter() - started)
        return image

    def read_index(self, name: str | None = None) -> ImageIndex | None:
        started = time.perf_counter()
        desc = self.resolve(name)
        if not mt.is_index(desc.media_type):
            return None
        index = Index.parse(self._read_small_blob(desc.digest, desc.size), desc.media_type)
        result = ImageIndex.load(index, lambda entry: self._image(entry, name), self.describe(name))
        self.stats.add_phase("read", time.perf_counter() - started)
        return result

    def _image(self, desc: Descriptor, name: str | None) -> Image:
        """The image whose manifest `desc` points at; layers open lazily, verified as they stream."""
        if not mt.is_manifest(desc.media_type):
            raise ManifestError(f"{self.describe(name)}: {desc.digest} is {desc.media_type!r}, "
                                "not an image manifest")
        manifest = Manifest.parse(self._read_small_blob(desc.digest, desc.size), desc.media_type)
        config = ImageConfig.parse(self._read_small_blob(manifest.config.digest, manifest.config.size))
        if len(config.diff_ids) != len(manifest.layers):
            raise ManifestError(f"{self.describe(name)}: config has {len(config.diff_ids)} diff_ids for "
                                f"{len(manifest.layers)} layers")
        layers: list[Layer] = []
        for layer_desc, diff_id in zip(manifest.layers, config.diff_ids, strict=True):
            if not self.has_blob(layer_desc):
                raise NotFound(f"{self.describe(name)}: layer blob {layer_desc.digest} is missing "
                               "or has the wrong size")
            layers.append(BlobLayer(layer_desc, diff_id, self._opener(layer_desc)))
        return Image(manifest, config, tuple(layers))

    def _opener(self, desc: Descriptor) -> Callable[[], IO[bytes]]:
        """Opens the blob as a stream that raises DigestMismatch at EOF if its bytes are wrong."""
        path = self.blob_path(desc.digest)

        def open_blob() -> IO[bytes]:
            try:
                stream = open(path, "rb", buffering=READ_SIZE)  # noqa: SIM115 (the reader closes it)
            except FileNotFoundError:
                raise NotFound(f"{self.path}: blob {desc.digest} is missing") from None
            reader = VerifyingReader(stream, desc.digest, desc.size, what=f"{self.path}: blob")
            return reader  # type: ignore[return-value]
        return open_blob

    def _read_small_blob(self, digest: Digest, size: int | None) -> bytes:
        """A manifest, index or config blob, verified against its digest."""
        path = self.blob_path(digest)
        try:
            with open(path, "rb") as fh:
                reader = VerifyingReader(fh, digest, size, what=f"{self.path}: blob")
                data = reader.read(-1)
                reader.read(1)
        except FileNotFoundError:
            raise NotFound(f"{self.path}: blob {digest} is missing") from None
        return data

    # --- writing -------------------------------------------------------------------------------
    def write(self, image: Image, name: str | None = None) -> Digest:
        started = time.perf_counter()
        self._init_layout()
        with self._writing():
            self._write_image(image)
            manifest_started = time.perf_counter()
            annotations = {REF_NAME: name} if name else {}
            entry = Descriptor(image.media_type, image.digest, image.manifest.size, annotations,
                               image.platform if image.config.architecture else None)
            self._update_index(lambda entries: _replace_entry(entries, entry, name))
            self.stats.add_phase("manifest", time.perf_counter() - manifest_started)
        self.stats.wall_seconds += time.perf_counter() - started
        return image.digest

    def write_index(self, index: ImageIndex, name: str | None = None) -> Digest:
        """Every image's blobs and manifest, then the index blob (its exact bytes), then one index.json
        entry for the index under `name`."""
        started = time.perf_counter()
        self._init_layout()
        with self._writing():
            for image in index.images:
                self._write_image(image)
            manifest_started = time.perf_counter()
            self._put_bytes(index.descriptor(), index.raw)
            entry = index.descriptor({REF_NAME: name} if name else None)
            self._update_index(lambda entries: _replace_entry(entries, entry, name))
            self.stats.add_phase("manifest", time.perf_counter() - manifest_started)
        self.stats.wall_seconds += time.perf_counter() - started
        return index.digest

    def _write_image(self, image: Image) -> None:
        """Config, layers (in parallel), then the manifest: every blob verified before it is visible."""
        blobs_started = time.perf_counter()
        self._put_bytes(image.manifest.config, image.config.raw)
        with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="layout-blob") as pool:
            futures = [pool.submit(self._put_layer, layer) for layer in image.layers]
            wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:
                future.cancel()  # a failed blob fails the write: do not start the others
        for future in futures:
            if not future.cancelled() and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        self.stats.add_phase("blobs", time.perf_counter() - blobs_started)
        self._put_bytes(image.manifest.descriptor(), image.manifest.raw)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Shared with other writers, exclusive of gc(): held from the first blob to the index entry."""
        with locked(self.path / GC_LOCK, shared=True):
            yield

    def _init_layout(self) -> None:
        (self.path / "blobs").mkdir(parents=True, exist_ok=True)
        marker = self.path / "oci-layout"
        if not marker.exists():
            write_atomic(marker, json.dumps({"imageLayoutVersion": LAYOUT_VERSION}).encode())
        elif marker.is_file():
            self._check_marker(marker)

    def _count(self, moved: int | None) -> None:
        with self._stats_lock:
            if moved is None:
                self.stats.blobs_skipped += 1
            else:
                self.stats.blobs_moved += 1
                self.stats.bytes_moved += moved

    def _put_bytes(self, desc: Descriptor, data: bytes) -> None:
        if self.holds_verified(desc):
            self._count(None)
            return
        self._put_stream(desc, io.BytesIO(data), label=None)

    def _put_layer(self, layer: Layer) -> None:
        desc = layer.descriptor
        if self.holds_verified(desc):
            self._count(None)
            return
        with layer.open() as stream:
            self._put_stream(desc, stream, label=f"{desc.digest.short}")

    def _put_stream(self, desc: Descriptor, stream: IO[bytes], label: str | None) -> None:
        """Copy a blob into place: temp file in the same directory, verified, then renamed."""
        directory = self.path / "blobs" / desc.digest.algorithm
        directory.mkdir(parents=True, exist_ok=True)
        final = directory / desc.digest.hex
        reader = verifying(stream, desc)
        fd, tmp = tempfile.mkstemp(prefix=f".tmp-{desc.digest.hex[:12]}-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as out:
                if label is None:
                    _pump(reader, out, lambda n: None)
                else:
                    with self.progress.blob(label, desc.size) as advance:
                        _pump(reader, out, advance)
                if isinstance(reader, VerifyingReader):
                    reader.check()
            publish(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._count(desc.size)

    def _update_index(self, change: Callable[[list[Descriptor]], list[Descriptor]]) -> None:
        with locked(self.path / INDEX_LOCK):
            index_file = self.path / "index.json"
            current = list(self.index().manifests) if index_file.exists() else []
            new = change(current)
            body: dict[str, Any] = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX,
                                    "manifests": [d.to_dict() for d in new]}
            write_atomic(index_file, json.dumps(body, indent=2).encode() + b"\n")

    # --- housekeeping ----------------------------------------------------------------------------
    def delete(self, name: str) -> Descriptor:
        """Forget the image `name` (its blobs stay until gc())."""
        desc = self.resolve(name)
        by_digest = name.startswith(("sha256:", "sha512:"))

        def drop(entries: list[Descriptor]) -> list[Descriptor]:
            if by_digest:
                return [d for d in entries if d.digest != desc.digest]
            return [d for d in entries if d.annotations.get(REF_NAME) != name]
        self._update_index(drop)
        return desc

    def gc(self, *, dry_run: bool = False) -> GcResult:
        """Remove blobs no index.json entry reaches, and temp files of writes that died.

        Holds the gc lock exclusively: it waits for writes in flight (in any process) to finish, and
        writes wait for it. A blob it cannot read to follow (corrupt, unparseable) stops it before it
        removes anything."""
        with locked(self.path / GC_LOCK), locked(self.path / INDEX_LOCK):
            keep = self._reachable() if (self.path / "index.json").exists() else set()
            removed = freed = 0
            blobs = self.path / "blobs"
            for algorithm_dir in sorted(blobs.iterdir()) if blobs.is_dir() else ():
                if not algorithm_dir.is_dir():
                    continue
                for blob in sorted(algorithm_dir.iterdir()):
                    digest = _digest_of(algorithm_dir.name, blob.name)
                    if not blob.name.startswith(".tmp-") and digest in keep:
                        continue
                    freed += blob.stat().st_size
                    removed += 1
                    if not dry_run:
                        blob.unlink()
            return GcResult(removed, freed, len(keep), dry_run)

    def _reachable(self) -> set[Digest]:
        """Every digest reachable from index.json: indexes, manifests (artifacts too), configs, layers."""
        keep: set[Digest] = set()
        pending = list(self.index().manifests)
        while pending:
            desc = pending.pop()
            if desc.digest in keep:
                continue
            keep.add(desc.digest)
            if not _may_list_blobs(desc.media_type) or not self.blob_path(desc.digest).exists():
                continue
            body = loads_object(self._read_small_blob(desc.digest, None), f"blob {desc.digest}")
            pending.extend(_descriptors_in(body, desc.digest))
        return keep


def _may_list_blobs(media_type: str) -> bool:
    """Indexes, image manifests and artifact manifests point at other blobs; configs and layers do not."""
    return media_type in mt.MANIFESTS | mt.INDEXES or (
        media_type.endswith("+json") and ("manifest" in media_type or "index" in media_type))


def _descriptors_in(body: dict[str, Any], digest: Digest) -> list[Descriptor]:
    """The descriptors a manifest-like document lists: manifests, config, layers, blobs, subject."""
    found: list[Any] = []
    for key in ("manifests", "layers", "blobs"):
        value = body.get(key)
        if isinstance(value, list):
            found.extend(value)
    for key in ("config", "subject"):
        if isinstance(body.get(key), dict):
            found.append(body[key])
    try:
        return [Descriptor.from_dict(d) for d in found]
    except ManifestError as exc:
        raise ManifestError(f"blob {digest}: {exc}; gc stopped before removing anything") from None


def _digest_of(algorithm: str, name: str) -> Digest | None:
    try:
        return Digest.parse(f"{algorithm}:{name}")
    except InvalidReference:
        return None


def _replace_entry(entries: list[Descriptor], entry: Descriptor, name: str | None) -> list[Descriptor]:
    if name:
        kept = [d for d in entries if d.annotations.get(REF_NAME) != name]
    else:
        kept = [d for d in entries if d.digest != entry.digest or d.annotations.get(REF_NAME)]
    return [*kept, entry]


def same_reference(a: str, b: str) -> bool:
    """Do two names mean the same image ('app' and 'docker.io/library/app:latest' do)?"""
    if a == b:
        return True
    try:
        ra, rb = Reference.parse(a), Reference.parse(b)
    except InvalidReference:
        return False
    return (ra.name, ra.tag or "latest", ra.digest) == (rb.name, rb.tag or "latest", rb.digest)


def _pump(reader: Any, out: IO[bytes], advance: Callable[[int], None]) -> None:
    while chunk := reader.read(READ_SIZE):
        out.write(chunk)
        advance(len(chunk))


def open_default() -> LayoutStore:
    """The embedded default store (PARE_STORE overrides its directory)."""
    from pare.stores.transports import default_store_dir
    return LayoutStore(default_store_dir())
