"""`docker save` tarballs as a store: the legacy format and the OCI-in-tar format of Docker 25+.

    legacy:     manifest.json, <config-hex>.json, <id>/layer.tar (uncompressed), repositories
    Docker 25+: oci-layout, index.json, blobs/sha256/<hex>, and manifest.json for older readers

Reading never extracts: the tar's member table is indexed once, then each layer is a bounded stream
over the archive file at the member's data offset, verified against its digest as it is read.
Writing produces the Docker 25+ format (which `docker load` and skopeo both read) in a temp file
beside the target, renamed when complete, under a lock (a hidden `.NAME.pare-lock` beside it while a
write runs), so concurrent writers never lose each other's images. Images already in the archive
under other names are carried over byte for byte, so one archive holds several images.

A single image is written as `docker save` writes it: uncompressed layers (blob digest = diff_id)
and a new OCI manifest. A multi-platform index is written as Docker 25+ with the containerd image
store writes it: every image's blobs and manifest exactly as they are (compressed layers stay
compressed), the index blob, and an index.json entry for the index, so the index keeps its digest.
manifest.json, the file older `docker load` reads, lists one image per index: the linux/amd64 one
(else the first), with the name; so a legacy loader sees that one platform, tagged, and a Docker 25+
loader (or pare, or skopeo's oci transport on the unpacked tar) sees every platform.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pare.errors import DigestMismatch, ManifestError, NotFound, UnsafeTarError, UsageError
from pare.files import publish
from pare.oci import mediatypes as mt
from pare.oci.compression import detect, open_decompressed
from pare.oci.config import ImageConfig
from pare.oci.descriptor import Descriptor, Platform
from pare.oci.digest import Digest, Hasher, VerifyingReader
from pare.oci.image import Image
from pare.oci.index import ImageIndex
from pare.oci.layer import BlobLayer, Layer
from pare.oci.manifest import Index, Manifest
from pare.oci.reference import Reference
from pare.oci.tarsafe import index_tar_file
from pare.stores.base import Store, verifying
from pare.stores.layout import same_reference as _same_name
from pare.stores.locking import locked

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
DEFAULT_PLATFORM = Platform("linux", "amd64")
READ_SIZE = 4 << 20
MAX_JSON = 8 << 20


@dataclass(frozen=True)
class _Member:
    """Where one regular file's bytes sit inside the archive."""

    name: str
    offset: int
    size: int


@dataclass
class _Catalog:
    members: dict[str, _Member]
    manifest_json: list[dict[str, Any]] = field(default_factory=list)
    index: Index | None = None


class _MemberReader(io.RawIOBase):
    """A bounded, seek-free stream over one member of an uncompressed tar file."""

    def __init__(self, path: Path, member: _Member) -> None:
        super().__init__()
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 (closed in close())
        self._file.seek(member.offset)
        self._left = member.size
        self._name = member.name

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._left <= 0:
            return b""
        want = self._left if size is None or size < 0 else min(size, self._left)
        data = self._file.read(want)
        if not data:
            raise ManifestError(f"archive member {self._name} is truncated")
        self._left -= len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._file.close()
        super().close()


class ArchiveStore(Store):
    """A docker-save tarball. Names are references as in RepoTags ('app:1', 'host:5000/app:1'),
    '@N' for the N-th image, or None for the only image."""

    transport = "docker-archive"

    def __init__(self, path: Path | str, *, parallel: int = 4) -> None:
        super().__init__()
        self.path = Path(path)
        self.parallel = max(1, parallel)
        self._catalog: _Catalog | None = None
        self._catalog_key: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    def describe(self, name: str | None = None) -> str:
        return f"docker-archive:{self.path}" + (f":{name}" if name else "")

    # --- the member table ------------------------------------------------------------------------
    def catalog(self) -> _Catalog:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            raise NotFound(f"{self.path}: no such archive") from None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)  # a rewrite is a new file (rename): a new inode
        with self._lock:
            if self._catalog is None or self._catalog_key != key:
                self._catalog = self._index_members()
                self._catalog_key = key
            return self._catalog

    def _index_members(self) -> _Catalog:
        if self.path.is_dir():
            raise UsageError(f"{self.path} is a directory; docker-archive: wants a tar file (oci: reads "
                             "a layout directory)")
        with open(self.path, "rb") as fh:
            head = fh.read(4)
        if detect(head) != "none":
            raise UsageError(f"{self.path} is compressed; decompress it first (docker load accepts it, "
                             "but pare reads layers in place)")
        members: dict[str, _Member] = {}
        links: dict[str, str] = {}
        try:
            entries = index_tar_file(self.path)  # the strict reader: a cut or garbage is an error
        except UnsafeTarError as exc:
            raise ManifestError(f"{self.path}: {exc}") from None
        for member, offset in entries:
            name = member.path
            if member.kind == "file":
                members[name] = _Member(name, offset, member.size)
            elif member.kind == "symlink":
                links[name] = _clean(posixpath.join(posixpath.dirname(name), member.linkname))
            elif member.kind == "hardlink":
                links[name] = member.linkname
        for name, target in links.items():
            for _ in range(16):
                if target in members or target not in links:
                    break
                target = links[target]
            if target in members:
                members[name] = _Member(name, members[target].offset, members[target].size)
        catalog = _Catalog(members)
        if "manifest.json" in members:
            try:
                value = json.loads(self._small(catalog, "manifest.json"))
            except (ValueError, RecursionError) as exc:
                raise ManifestError(f"{self.path}: manifest.json is not valid JSON: {exc}") from None
            if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
                raise ManifestError(f"{self.path}: manifest.json must be a list of objects")
            for entry in value:
                tags = entry.get("RepoTags") or []
                if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                    raise ManifestError(f"{self.path}: manifest.json RepoTags must be a list of strings")
            catalog.manifest_json = value
        if "index.json" in members:
            catalog.index = Index.parse(self._small(catalog, "index.json"), mt.OCI_INDEX)
        if not catalog.manifest_json and catalog.index is None:
            raise ManifestError(f"{self.path}: not a docker-save archive (no manifest.json or index.json)")
        return catalog

    def _small(self, catalog: _Catalog, name: str) -> bytes:
        member = catalog.members.get(_clean(name))
        if member is None:
            raise ManifestError(f"{self.path}: member {name!r} is missing")
        if member.size > MAX_JSON:
            raise ManifestError(f"{self.path}: member {name!r} is too big for a JSON document")
        with _MemberReader(self.path, member) as reader:
            return reader.read(member.size)

    def _blob_member(self, catalog: _Catalog, digest: Digest) -> _Member:
        member = catalog.members.get(f"blobs/{digest.algorithm}/{digest.hex}")
        if member is None:
            raise NotFound(f"{self.path}: blob {digest} is missing from the archive")
        return member

    def _blob(self, catalog: _Catalog, desc: Descriptor) -> bytes:
        member = self._blob_member(catalog, desc.digest)
        if member.size != desc.size:
            raise DigestMismatch(f"{self.path}: blob {desc.digest} has {member.size} bytes, "
                                 f"expected {desc.size}")
        data = self._small(catalog, member.name)
        reader = VerifyingReader(io.BytesIO(data), desc.digest, desc.size, what=f"{self.path}: blob")
        reader.read(-1)
        reader.read(1)
        return data

    # --- names ---------------------------------------------------------------------------------
    def names(self) -> list[str]:
        catalog = self.catalog()
        out: list[str] = []
        for entry in catalog.manifest_json:
            out.extend(str(t) for t in entry.get("RepoTags") or ())
        if catalog.index is not None:
            for desc in catalog.index.manifests:
                name = desc.annotations.get(CONTAINERD_NAME)
                if name and not any(_same_name(name, n) for n in out):
                    out.append(name)
        return out

    def _find(self, catalog: _Catalog, name: str | None) -> Descriptor | dict[str, Any]:
        """What `name` picks: an index.json entry (a manifest or an index), else a manifest.json entry
        (legacy archives have only those)."""
        index_entries = list(catalog.index.manifests) if catalog.index is not None else []
        legacy = catalog.manifest_json
        if name is not None and name.startswith("@"):
            try:
                position = int(name[1:])
            except ValueError:
                raise UsageError(f"{name!r}: want @N, a position in the archive") from None
            if legacy and 0 <= position < len(legacy):
                return legacy[position]
            if not legacy and 0 <= position < len(index_entries):
                return index_entries[position]
            raise NotFound(f"{self.path}: no image at position {position}")
        if name is None:
            if len({d.digest for d in index_entries}) == 1:
                return index_entries[0]
            if not index_entries and len(legacy) == 1:
                return legacy[0]
            count = max(len(legacy), len({d.digest for d in index_entries}))
            if count == 0:
                raise NotFound(f"{self.path}: the archive holds no images")
            raise UsageError(f"{self.path} holds {count} images; name one of: "
                             f"{', '.join(self.names()) or '@0, @1, ...'}")
        for desc in index_entries:
            names = [desc.annotations.get(CONTAINERD_NAME), desc.annotations.get(REF_NAME)]
            if any(n and (_same_name(name, n) or name == n) for n in names):
                return desc
        for entry in legacy:
            if any(_same_name(name, str(tag)) for tag in entry.get("RepoTags") or ()):
                return entry
        raise NotFound(f"{self.describe(name)}: no image named {name!r} "
                       f"(names: {', '.join(self.names()) or 'none'})")

    # --- reading -------------------------------------------------------------------------------
    def read(self, name: str | None = None, platform: Platform | None = None) -> Image:
        started = time.perf_counter()
        catalog = self.catalog()
        found = self._find(catalog, name)
        if isinstance(found, Descriptor):
            image = self._from_index_entry(catalog, found, platform or DEFAULT_PLATFORM)
        else:
            image = self._from_manifest_json(catalog, found, platform or DEFAULT_PLATFORM)
        self.stats.add_phase("read", time.perf_counter() - started)
        return image

    def read_index(self, name: str | None = None) -> ImageIndex | None:
        catalog = self.catalog()
        found = self._find(catalog, name)
        if not isinstance(found, Descriptor) or not mt.is_index(found.media_type):
            return None
        return self._index_of(catalog, found)

    def _index_of(self, catalog: _Catalog, desc: Descriptor) -> ImageIndex:
        index = Index.parse(self._blob(catalog, desc), desc.media_type)
        return ImageIndex.load(index, lambda entry: self._image_of(catalog, entry), str(self.path))

    def _from_manifest_json(self, catalog: _Catalog, entry: dict[str, Any], platform: Platform) -> Image:
        """An image from a manifest.json entry; the exact OCI manifest when the archive has one."""
        config_path = entry.get("Config")
        layer_paths = entry.get("Layers")
        if not isinstance(config_path, str) or not isinstance(layer_paths, list) or not all(
                isinstance(p, str) for p in layer_paths):
            raise ManifestError(f"{self.path}: manifest.json entry needs Config and Layers paths")
        config_raw = self._small(catalog, config_path)
        config = ImageConfig.parse(config_raw)
        if catalog.index is not None:
            found = self._index_image_with_config(catalog, config.digest, platform)
            if found is not None:
                return found
        if len(config.diff_ids) != len(layer_paths):
            raise ManifestError(f"{self.path}: config lists {len(config.diff_ids)} diff_ids for "
                                f"{len(layer_paths)} layers")
        layers: list[Layer] = []
        for path, diff_id in zip(layer_paths, config.diff_ids, strict=True):
            member = catalog.members.get(_clean(path))
            if member is None:
                raise ManifestError(f"{self.path}: layer {path!r} is missing from the archive")
            layers.append(self._legacy_layer(member, diff_id))
        config_desc = Descriptor(mt.DOCKER_CONFIG, config.digest, config.size)
        manifest = Manifest.build(config_desc, [layer.descriptor for layer in layers], mt.DOCKER_MANIFEST)
        return Image(manifest, config, tuple(layers))

    def _legacy_layer(self, member: _Member, diff_id: Digest) -> Layer:
        with _MemberReader(self.path, member) as reader:
            compression = detect(reader.read(4))
        if compression == "none":
            desc = Descriptor(mt.DOCKER_LAYER, diff_id, member.size)
            return BlobLayer(desc, diff_id, self._verified_opener(member, diff_id), member.size)
        # A compressed layer.tar (rare; some tools write them): one pass hashes the blob and checks
        # that what it decompresses to is the diff_id the config promises.
        blob_hasher, tar_hasher = Hasher(), Hasher(diff_id.algorithm)
        with _MemberReader(self.path, member) as reader:
            tee = _Tee(reader, blob_hasher)
            with open_decompressed(tee, compression) as tar:  # type: ignore[arg-type]
                while chunk := tar.read(READ_SIZE):
                    tar_hasher.update(chunk)
            while tee.read(READ_SIZE):  # bytes after the compressed stream are part of the blob
                pass
        if tar_hasher.digest() != diff_id:
            raise DigestMismatch(f"{self.path}: {member.name} decompresses to {tar_hasher.digest()}, "
                                 f"not the diff_id {diff_id} its config lists")
        desc = Descriptor(mt.layer_media_type(compression, docker=True), blob_hasher.digest(), member.size)
        return BlobLayer(desc, diff_id, self._verified_opener(member, desc.digest), tar_hasher.size)

    def _verified_opener(self, member: _Member, digest: Digest) -> Callable[[], IO[bytes]]:
        def open_member() -> IO[bytes]:
            stream: Any = _MemberReader(self.path, member)
            return VerifyingReader(stream, digest, member.size, what=f"{self.path}: {member.name}")  # type: ignore[return-value]
        return open_member

    def _index_image_with_config(self, catalog: _Catalog, config_digest: Digest,
                                 platform: Platform) -> Image | None:
        assert catalog.index is not None
        for desc in catalog.index.manifests:
            try:
                image = self._from_index_entry(catalog, desc, platform)
            except (NotFound, ManifestError):
                continue
            if image.config.digest == config_digest:
                return image
        return None

    def _from_index_entry(self, catalog: _Catalog, desc: Descriptor, platform: Platform) -> Image:
        for _ in range(4):
            if not mt.is_index(desc.media_type):
                break
            desc = Index.parse(self._blob(catalog, desc), desc.media_type).select(platform)
        return self._image_of(catalog, desc)

    def _image_of(self, catalog: _Catalog, desc: Descriptor) -> Image:
        """The image whose manifest `desc` points at, layers read in place."""
        if not mt.is_manifest(desc.media_type):
            raise ManifestError(f"{self.path}: {desc.digest} is {desc.media_type!r}, not an image manifest")
        manifest = Manifest.parse(self._blob(catalog, desc), desc.media_type)
        config = ImageConfig.parse(self._blob(catalog, manifest.config))
        if len(config.diff_ids) != len(manifest.layers):
            raise ManifestError(f"{self.path}: config lists {len(config.diff_ids)} diff_ids for "
                                f"{len(manifest.layers)} layers")
        layers: list[Layer] = []
        for layer_desc, diff_id in zip(manifest.layers, config.diff_ids, strict=True):
            member = self._blob_member(catalog, layer_desc.digest)
            if member.size != layer_desc.size:
                raise DigestMismatch(f"{self.path}: layer {layer_desc.digest} has {member.size} bytes, "
                                     f"expected {layer_desc.size}")
            layers.append(BlobLayer(layer_desc, diff_id, self._verified_opener(member, layer_desc.digest)))
        return Image(manifest, config, tuple(layers))

    # --- writing -------------------------------------------------------------------------------
    def write(self, image: Image, name: str | None = None) -> Digest:
        """Write (or rewrite) the archive with `image` under `name`; other images are kept."""
        return self._rewrite(name, lambda writer, tags: writer.add(image, tags))

    def write_index(self, index: ImageIndex, name: str | None = None) -> Digest:
        """Write (or rewrite) the archive with every image of `index`, and the index, under `name`."""
        return self._rewrite(name, lambda writer, tags: writer.add_index(index, tags))

    def _rewrite(self, name: str | None, add: Callable[[_ArchiveWriter, list[str]], Digest]) -> Digest:
        """A new archive beside the old one: what it held (minus `name`), then `add`, renamed into place,
        all under the archive's lock so a concurrent writer waits and then carries this one's work."""
        started = time.perf_counter()
        tag = _repo_tag(name) if name else None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with locked(self.path.parent / f".{self.path.name}.pare-lock", remove=True):
            keep = self._carry_over(tag)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}-", dir=self.path.parent)
            workdir = Path(tempfile.mkdtemp(prefix=".pare-archive-", dir=self.path.parent))
            try:
                with os.fdopen(fd, "wb") as out:
                    writer = _ArchiveWriter(out, workdir, self)
                    for carry in keep:
                        carry(writer)
                    digest = add(writer, [tag] if tag else [])
                    writer.finish()
                publish(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            finally:
                for leftover in workdir.iterdir():
                    leftover.unlink()
                workdir.rmdir()
        self.stats.wall_seconds += time.perf_counter() - started
        return digest

    def _carry_over(self, tag: str | None) -> list[Callable[[_ArchiveWriter], object]]:
        """How to re-add everything already in the archive, minus the name being replaced: index.json
        entries byte for byte (manifests, indexes and their blobs as they are), legacy manifest.json
        entries (no index.json counterpart) converted as a new write converts them."""
        if not self.path.exists() or self.path.stat().st_size == 0:  # an empty file (mktemp) is no archive
            return []
        catalog = self.catalog()
        carried: list[Callable[[_ArchiveWriter], object]] = []
        covered: set[str] = set()
        by_digest: dict[Digest, tuple[Descriptor, list[str]]] = {}
        for desc in catalog.index.manifests if catalog.index is not None else ():
            name = desc.annotations.get(CONTAINERD_NAME)
            if name:
                covered.add(name)
            names = [_repo_tag(name)] if name else []
            kept_names = [n for n in names if not (tag and _same_name(tag, n))]
            if names and not kept_names:
                continue  # the name being replaced
            _, gathered = by_digest.setdefault(desc.digest, (desc, []))
            gathered.extend(kept_names)
        for desc, names in by_digest.values():
            unnamed = None if names or CONTAINERD_NAME in desc.annotations else desc.annotations
            if mt.is_index(desc.media_type):
                index = self._index_of(catalog, desc)
                carried.append(lambda w, i=index, n=names, a=unnamed: w.add_index(i, n, a))  # type: ignore[misc]
            else:
                image = self._image_of(catalog, desc)
                carried.append(lambda w, i=image, n=names, a=unnamed: w.add_exact(i, n, a))  # type: ignore[misc]
        for entry in catalog.manifest_json:
            tags = [str(t) for t in entry.get("RepoTags") or ()]
            if catalog.index is not None and (not tags or all(
                    any(_same_name(t, c) for c in covered) for t in tags)):
                continue  # the index.json entry above carries it
            kept = [t for t in tags if not (tag and _same_name(tag, t))]
            if tags and not kept:
                continue
            image = self._from_manifest_json(catalog, entry, DEFAULT_PLATFORM)
            carried.append(lambda w, i=image, n=kept: w.add(i, n))  # type: ignore[misc]
        return carried


class _ArchiveWriter:
    """Streams images into a Docker 25+ style tar: blobs, then index.json, manifest.json, oci-layout."""

    def __init__(self, out: IO[bytes], workdir: Path, store: ArchiveStore) -> None:
        self.tar = tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self.workdir = workdir
        self.store = store
        self.written: set[str] = set()
        self.sizes: dict[str, int] = {}
        self.index: list[dict[str, Any]] = []
        self.manifests: list[dict[str, Any]] = []
        self.algorithms = {"sha256"}
        self._add_dir("blobs/")
        self._add_dir("blobs/sha256/")

    def add(self, image: Image, tags: list[str]) -> Digest:
        """A single image as `docker save` writes one: uncompressed layers and a new OCI manifest."""
        blobs_started = time.perf_counter()
        tars = self._uncompressed(image.layers)
        layer_descs: list[Descriptor] = []
        for layer, source in zip(image.layers, tars, strict=True):
            path, size = source
            if size < 0:
                size = self.sizes[f"blobs/sha256/{layer.diff_id.hex}"]
            desc = Descriptor(mt.OCI_LAYER, layer.diff_id, size)
            layer_descs.append(desc)
            if size != self.sizes.get(f"blobs/sha256/{layer.diff_id.hex}", size):
                raise DigestMismatch(f"layer {layer.diff_id}: two different sizes for one diff_id")
            if path is not None:
                with open(path, "rb") as stream:  # hashed against the diff_id as it was written
                    self._add_blob(desc, stream, layer.digest.short, verified=True)
                path.unlink()
            elif self._blob_name(desc.digest) not in self.written:
                with layer.open() as stream:
                    self._add_blob(desc, stream, layer.digest.short)
        config = image.config
        config_desc = Descriptor(mt.OCI_CONFIG, config.digest, config.size)
        self._add_blob(config_desc, io.BytesIO(config.raw), None)
        manifest = Manifest.build(config_desc, layer_descs, mt.OCI_MANIFEST)
        self._add_blob(manifest.descriptor(), io.BytesIO(manifest.raw), None)
        self.store.stats.add_phase("blobs", time.perf_counter() - blobs_started)
        self._name_entry(manifest.descriptor(), tags)
        self._legacy_entry(image.manifest.config.digest, layer_descs, tags)
        return manifest.digest

    def add_exact(self, image: Image, tags: list[str], annotations: dict[str, str] | None = None) -> Digest:
        """An image kept byte for byte: its manifest, config and layer blobs as they are."""
        self._add_image_blobs(image)
        self._name_entry(image.manifest.descriptor(), tags, annotations)
        self._legacy_entry(image.manifest.config.digest, list(image.manifest.layers), tags)
        return image.digest

    def add_index(self, index: ImageIndex, tags: list[str], annotations: dict[str, str] | None = None
                  ) -> Digest:
        """Every image of the index byte for byte, the index blob, one index.json entry per name; and a
        manifest.json entry for the image a one-platform loader should take."""
        for image in index.images:
            self._add_image_blobs(image)
        self._add_blob(index.descriptor(), io.BytesIO(index.raw), None)
        self._name_entry(index.descriptor(), tags, annotations)
        default = index.default_image(DEFAULT_PLATFORM)
        self._legacy_entry(default.manifest.config.digest, list(default.manifest.layers), tags)
        return index.digest

    def _add_image_blobs(self, image: Image) -> None:
        blobs_started = time.perf_counter()
        self._add_blob(image.manifest.config, io.BytesIO(image.config.raw), None)
        for layer in image.layers:
            if self._blob_name(layer.digest) not in self.written:
                with layer.open() as stream:
                    self._add_blob(layer.descriptor, stream, layer.digest.short)
        self._add_blob(image.manifest.descriptor(), io.BytesIO(image.manifest.raw), None)
        self.store.stats.add_phase("blobs", time.perf_counter() - blobs_started)

    def _name_entry(self, desc: Descriptor, tags: list[str], annotations: dict[str, str] | None = None
                    ) -> None:
        """index.json: the descriptor once per name (containerd's and OCI's name annotations); an
        unnamed entry keeps the annotations it came with."""
        entry = Descriptor(desc.media_type, desc.digest, desc.size, dict(annotations or {})).to_dict()
        if not tags:
            if entry not in self.index:
                self.index.append(entry)
            return
        for tag in tags:
            ref = Reference.parse(tag)
            self.index.append({**entry, "annotations": {CONTAINERD_NAME: str(ref),
                                                        REF_NAME: ref.tag or "latest"}})

    def _legacy_entry(self, config: Digest, layers: list[Descriptor], tags: list[str]) -> None:
        """manifest.json, for loaders that predate OCI archives."""
        self.manifests.append({"Config": self._blob_name(config), "RepoTags": tags,
                               "Layers": [self._blob_name(d.digest) for d in layers]})

    def _uncompressed(self, layers: tuple[Layer, ...]) -> list[tuple[Path | None, int]]:
        """For each layer: (None, size) when its blob already is a tar, else a temp file holding the
        tar, decompressed in parallel and checked against the diff_id."""
        def prepare(layer: Layer) -> tuple[Path | None, int]:
            if layer.compression == "none":
                return None, layer.size
            if f"blobs/sha256/{layer.diff_id.hex}" in self.written:
                return None, -1  # carried over from an earlier image in this archive
            fd, name = tempfile.mkstemp(prefix="layer-", dir=self.workdir)
            with os.fdopen(fd, "wb") as out, layer.open_uncompressed() as tar:
                hasher = Hasher(layer.diff_id.algorithm)
                while chunk := tar.read(READ_SIZE):
                    hasher.update(chunk)
                    out.write(chunk)
            if hasher.digest() != layer.diff_id:
                raise DigestMismatch(f"layer {layer.digest}: tar digest {hasher.digest()} does not match "
                                     f"its diff_id {layer.diff_id}")
            return Path(name), hasher.size

        with ThreadPoolExecutor(max_workers=self.store.parallel) as pool:
            return list(pool.map(prepare, layers))

    def _add_dir(self, name: str) -> None:
        info = tarfile.TarInfo(name)
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        self.tar.addfile(info)

    @staticmethod
    def _blob_name(digest: Digest) -> str:
        return f"blobs/{digest.algorithm}/{digest.hex}"

    def _add_blob(self, desc: Descriptor, stream: IO[bytes], label: str | None,
                  verified: bool = False) -> None:
        """One blob member, its bytes checked against the descriptor as they are copied (unless the
        caller just hashed them itself: `verified`)."""
        name = self._blob_name(desc.digest)
        if name in self.written:
            self.store.stats.blobs_skipped += 1
            return
        if desc.digest.algorithm not in self.algorithms:
            self.algorithms.add(desc.digest.algorithm)
            self._add_dir(f"blobs/{desc.digest.algorithm}/")
        reader = stream if verified else verifying(stream, desc)
        info = tarfile.TarInfo(name)
        info.size = desc.size
        info.mode = 0o644
        if label is None:
            self.tar.addfile(info, reader)
        else:
            with self.store.progress.blob(label, desc.size) as advance:
                self.tar.addfile(info, _Counting(reader, advance))
        if reader.read(1):  # at EOF the reader checks the digest; a longer stream is wrong too
            raise DigestMismatch(f"blob {desc.digest}: more than the announced {desc.size} bytes")
        self.written.add(name)
        self.sizes[name] = desc.size
        self.store.stats.blobs_moved += 1
        self.store.stats.bytes_moved += desc.size

    def _add_file(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o644
        self.tar.addfile(info, io.BytesIO(data))

    def finish(self) -> None:
        index = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": self.index}
        self._add_file("index.json", json.dumps(index).encode())
        self._add_file("manifest.json", json.dumps(self.manifests).encode())
        self._add_file("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        repositories: dict[str, dict[str, str]] = {}
        for entry in self.manifests:
            for tag in entry["RepoTags"]:
                repo, _, version = tag.rpartition(":")
                top = entry["Layers"][-1].rsplit("/", 1)[-1] if entry["Layers"] else ""
                repositories.setdefault(repo, {})[version] = top
        if repositories:
            self._add_file("repositories", json.dumps(repositories).encode())
        self.tar.close()


class _Tee(io.RawIOBase):
    """Hashes what a decompressor reads from a member (closing it leaves the member open)."""

    def __init__(self, member: _MemberReader, hasher: Hasher) -> None:
        super().__init__()
        self._member = member
        self._hasher = hasher

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._member.readinto(buffer)
        self._hasher.update(memoryview(buffer)[:count])
        return count


class _Counting:
    """Feeds progress while tarfile copies a stream."""

    def __init__(self, stream: Any, advance: Callable[[int], None]) -> None:
        self._stream = stream
        self._advance = advance

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._stream.read(size)
        self._advance(len(data))
        return data


def _clean(name: str) -> str:
    cleaned = posixpath.normpath(name.lstrip("/"))
    return cleaned.removeprefix("./")


def _repo_tag(name: str) -> str:
    """The RepoTags form docker uses: familiar name and a tag (default latest)."""
    ref = Reference.parse(name)
    if ref.digest is not None and ref.tag is None:
        raise UsageError(f"{name!r}: an archive names images by tag, not by digest")
    return Reference(ref.registry, ref.repository, ref.tag or "latest").familiar()
