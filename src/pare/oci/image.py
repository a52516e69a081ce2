"""The Image value: a manifest, its config, and its layers, consistent with each other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pare.errors import ManifestError
from pare.oci import mediatypes as mt
from pare.oci.config import ImageConfig
from pare.oci.descriptor import Descriptor, Platform
from pare.oci.digest import Digest
from pare.oci.layer import Layer
from pare.oci.manifest import Manifest


@dataclass(frozen=True)
class Image:
    """Immutable. Build new ones with `Image.assemble` or the functions in pare.oci.mutate."""

    manifest: Manifest
    config: ImageConfig
    layers: tuple[Layer, ...]

    def __post_init__(self) -> None:
        if self.manifest.config.digest != self.config.digest:
            raise ManifestError(f"config digest {self.config.digest} does not match the manifest's "
                                f"{self.manifest.config.digest}")
        if len(self.manifest.layers) != len(self.layers):
            raise ManifestError(f"manifest lists {len(self.manifest.layers)} layers, "
                                f"{len(self.layers)} given")
        diff_ids = self.config.diff_ids
        if len(diff_ids) != len(self.layers):
            raise ManifestError(f"config lists {len(diff_ids)} diff_ids for {len(self.layers)} layers")

    @classmethod
    def assemble(cls, config: ImageConfig | dict[str, Any], layers: list[Layer] | tuple[Layer, ...],
                 media_type: str = mt.OCI_MANIFEST, annotations: dict[str, str] | None = None) -> Image:
        """An image from a config and layers; rootfs.diff_ids are set from the layers."""
        body = config.to_dict() if isinstance(config, ImageConfig) else dict(config)
        body["rootfs"] = {"type": "layers", "diff_ids": [str(layer.diff_id) for layer in layers]}
        new_config = ImageConfig.from_dict(body)
        docker = mt.is_docker(media_type)
        config_desc = Descriptor(mt.DOCKER_CONFIG if docker else mt.OCI_CONFIG, new_config.digest,
                                 new_config.size)
        manifest = Manifest.build(config_desc, [layer.descriptor for layer in layers], media_type,
                                  annotations)
        return cls(manifest, new_config, tuple(layers))

    @property
    def digest(self) -> Digest:
        """The manifest digest: what `image@sha256:...` pins."""
        return self.manifest.digest

    @property
    def media_type(self) -> str:
        return self.manifest.media_type

    @property
    def platform(self) -> Platform:
        return Platform(self.config.os or "linux", self.config.architecture or "amd64",
                        self.config.to_dict().get("variant"))

    @property
    def compressed_size(self) -> int:
        """Bytes a pull moves: config plus layer blobs (manifest excluded)."""
        return self.config.size + sum(layer.size for layer in self.layers)

    def blobs(self) -> list[Descriptor]:
        """Every blob a store must hold for this image: config first, then layers."""
        return [self.manifest.config, *self.manifest.layers]
