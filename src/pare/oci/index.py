"""The multi-platform image: an image index and one Image per platform, consistent with each other.

An ImageIndex keeps the index's exact bytes (as Manifest does), so its digest never drifts when it
moves between stores: a copy of every child image plus those bytes is the same index, as `skopeo
copy --all` and `crane copy` keep it. Build a new one from Images with `ImageIndex.assemble`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pare.errors import ManifestError, NotFound, UsageError
from pare.oci import mediatypes as mt
from pare.oci.descriptor import Descriptor, Platform
from pare.oci.digest import Digest
from pare.oci.image import Image
from pare.oci.manifest import Index


@dataclass(frozen=True)
class ImageIndex:
    """Immutable: `index` (exact bytes) and `images`, one per entry of the index, in its order."""

    index: Index
    images: tuple[Image, ...]

    def __post_init__(self) -> None:
        by_digest = {image.digest: image for image in self.images}
        for desc in self.index.manifests:
            if not mt.is_manifest(desc.media_type):
                raise ManifestError(f"index {self.index.digest}: entry {desc.digest} is {desc.media_type!r}; "
                                    "pare moves indexes of image manifests only")
            image = by_digest.get(desc.digest)
            if image is None:
                raise ManifestError(f"index {self.index.digest}: no image given for entry {desc.digest}")
            if image.manifest.size != desc.size:
                raise ManifestError(f"index {self.index.digest}: entry {desc.digest} says {desc.size} bytes, "
                                    f"the manifest has {image.manifest.size}")
        extra = set(by_digest) - {d.digest for d in self.index.manifests}
        if extra:
            raise ManifestError(f"index {self.index.digest} does not list image {min(extra)}")
        if not self.index.manifests:
            raise ManifestError("an image index needs at least one image")

    @classmethod
    def load(cls, index: Index, image_of: Callable[[Descriptor], Image], where: str = "") -> ImageIndex:
        """`index` with each entry's image read by `image_of` (a store's reader, given the entry).
        Entries that are not image manifests (a nested index, an artifact) are refused up front."""
        for entry in index.manifests:
            if not mt.is_manifest(entry.media_type):
                prefix = f"{where}: " if where else ""
                raise ManifestError(f"{prefix}index {index.digest} lists {entry.digest} "
                                    f"({entry.media_type}); pare moves indexes of image manifests only")
        return cls(index, tuple(image_of(entry) for entry in index.manifests))

    @classmethod
    def assemble(cls, images: Sequence[Image], *, media_type: str | None = None,
                 annotations: dict[str, str] | None = None) -> ImageIndex:
        """An index over `images`, one entry each, its platform taken from the image's config.

        The media type is Docker's manifest list when every image is a Docker manifest, else the OCI
        index (the two families are not mixed, as registries and docker expect)."""
        if not images:
            raise UsageError("an image index needs at least one image")
        seen: dict[Platform, Image] = {}
        descriptors: list[Descriptor] = []
        for image in images:
            platform = config_platform(image)
            if platform in seen:
                raise UsageError(f"two images for platform {platform} ({seen[platform].digest} and "
                                 f"{image.digest}): an index holds one image per platform")
            seen[platform] = image
            descriptors.append(image.manifest.descriptor(platform))
        docker = all(mt.is_docker(image.media_type) for image in images)
        chosen = media_type or (mt.DOCKER_MANIFEST_LIST if docker else mt.OCI_INDEX)
        if chosen not in mt.INDEXES:
            raise UsageError(f"{chosen!r} is not an image index media type")
        return cls(Index.build(descriptors, chosen, annotations), tuple(images))

    # --- what it is ------------------------------------------------------------------------------
    @property
    def digest(self) -> Digest:
        return self.index.digest

    @property
    def media_type(self) -> str:
        return self.index.media_type

    @property
    def raw(self) -> bytes:
        return self.index.raw

    @property
    def size(self) -> int:
        return len(self.index.raw)

    def descriptor(self, annotations: dict[str, str] | None = None) -> Descriptor:
        return Descriptor(self.media_type, self.digest, self.size, dict(annotations or {}))

    def entries(self) -> list[tuple[Descriptor, Image]]:
        """(index entry, its image), in the index's order."""
        by_digest = {image.digest: image for image in self.images}
        return [(desc, by_digest[desc.digest]) for desc in self.index.manifests]

    @property
    def platforms(self) -> list[Platform]:
        """The platform of each entry (from the index entry, else the image config)."""
        return [desc.platform or config_platform(image) for desc, image in self.entries()]

    def image(self, platform: Platform) -> Image:
        """The image for `platform`, as a runtime would pick it."""
        wanted = self.index.select(platform).digest
        return next(image for image in self.images if image.digest == wanted)

    def default_image(self, preferred: Platform) -> Image:
        """The image for `preferred`, else the first entry: what a one-image reader gets."""
        try:
            return self.image(preferred)
        except NotFound:
            return self.entries()[0][1]

    def blobs(self) -> list[Descriptor]:
        """Every config and layer blob of every image, each digest once."""
        return list(_unique(d for image in self.images for d in image.blobs()))

    @property
    def compressed_size(self) -> int:
        """Bytes a pull of every platform moves: unique blobs (manifests excluded)."""
        return sum(d.size for d in self.blobs())


def config_platform(image: Image) -> Platform:
    """The platform an image's config declares (os, architecture, variant, os.version, os.features)."""
    body: dict[str, Any] = image.config.to_dict()
    features = body.get("os.features")
    return Platform(image.config.os or "linux", image.config.architecture or "amd64",
                    _text(body.get("variant")), _text(body.get("os.version")),
                    tuple(f for f in features if isinstance(f, str)) if isinstance(features, list) else ())


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _unique(descriptors: Iterable[Descriptor]) -> Iterable[Descriptor]:
    seen: set[Digest] = set()
    for desc in descriptors:
        if desc.digest not in seen:
            seen.add(desc.digest)
            yield desc
