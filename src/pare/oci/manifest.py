"""Image manifests and indexes (OCI and Docker v2 schema 2), parsed strictly, kept byte-exact.

A parsed manifest remembers the exact bytes it came from: its digest is the digest of those bytes,
and re-serialising must never change what a registry or layout already stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pare.errors import ManifestError, NotFound
from pare.oci import mediatypes as mt
from pare.oci.descriptor import Descriptor, Platform
from pare.oci.digest import Digest, sha256
from pare.oci.jsonutil import canonical, loads_object


@dataclass(frozen=True)
class Manifest:
    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: dict[str, str] = field(default_factory=dict)
    subject: Descriptor | None = None
    raw: bytes = b""

    @classmethod
    def build(cls, config: Descriptor, layers: tuple[Descriptor, ...] | list[Descriptor],
              media_type: str = mt.OCI_MANIFEST, annotations: dict[str, str] | None = None) -> Manifest:
        """A new manifest with canonical bytes."""
        body: dict[str, Any] = {"schemaVersion": 2, "mediaType": media_type, "config": config.to_dict(),
                                "layers": [layer.to_dict() for layer in layers]}
        if annotations:
            body["annotations"] = dict(annotations)
        return cls(media_type, config, tuple(layers), dict(annotations or {}), None, canonical(body))

    @classmethod
    def parse(cls, data: bytes, media_type: str | None = None) -> Manifest:
        body = loads_object(data, "manifest")
        _check_schema(body, "manifest")
        declared = _media_type(body) or media_type or mt.OCI_MANIFEST
        if declared not in mt.MANIFESTS:
            raise ManifestError(f"not an image manifest: media type {declared!r}")
        if "config" not in body or not isinstance(body.get("layers"), list):
            raise ManifestError("manifest needs a config descriptor and a layers list")
        try:
            config = Descriptor.from_dict(body["config"])
            layers = tuple(Descriptor.from_dict(d) for d in body["layers"])
            subject = Descriptor.from_dict(body["subject"]) if body.get("subject") else None
        except ManifestError as exc:
            raise ManifestError(f"invalid manifest: {exc}") from None
        annotations = body.get("annotations") or {}
        if not isinstance(annotations, dict):
            raise ManifestError("invalid manifest: annotations must be an object")
        return cls(declared, config, layers, dict(annotations), subject, bytes(data))

    @property
    def digest(self) -> Digest:
        return sha256(self.raw)

    @property
    def size(self) -> int:
        return len(self.raw)

    def descriptor(self, platform: Platform | None = None) -> Descriptor:
        return Descriptor(self.media_type, self.digest, self.size, platform=platform)


@dataclass(frozen=True)
class Index:
    media_type: str
    manifests: tuple[Descriptor, ...]
    annotations: dict[str, str] = field(default_factory=dict)
    raw: bytes = b""

    @classmethod
    def build(cls, manifests: list[Descriptor] | tuple[Descriptor, ...], media_type: str = mt.OCI_INDEX,
              annotations: dict[str, str] | None = None) -> Index:
        body: dict[str, Any] = {"schemaVersion": 2, "mediaType": media_type,
                                "manifests": [d.to_dict() for d in manifests]}
        if annotations:
            body["annotations"] = dict(annotations)
        return cls(media_type, tuple(manifests), dict(annotations or {}), canonical(body))

    @classmethod
    def parse(cls, data: bytes, media_type: str | None = None) -> Index:
        body = loads_object(data, "index")
        _check_schema(body, "index")
        declared = _media_type(body) or media_type or mt.OCI_INDEX
        if declared not in mt.INDEXES:
            raise ManifestError(f"not an image index: media type {declared!r}")
        if not isinstance(body.get("manifests"), list):
            raise ManifestError("index needs a manifests list")
        try:
            manifests = tuple(Descriptor.from_dict(d) for d in body["manifests"])
        except ManifestError as exc:
            raise ManifestError(f"invalid index: {exc}") from None
        annotations = body.get("annotations") or {}
        if not isinstance(annotations, dict):
            raise ManifestError("invalid index: annotations must be an object")
        return cls(declared, manifests, dict(annotations), bytes(data))

    @property
    def digest(self) -> Digest:
        return sha256(self.raw)

    def select(self, platform: Platform) -> Descriptor:
        """The image manifest for `platform`; attestation and unknown entries are skipped."""
        candidates = [d for d in self.manifests if d.media_type in mt.MANIFESTS | mt.INDEXES]
        for desc in candidates:
            if desc.platform is not None and desc.platform.matches(platform):
                return desc
        if len(candidates) == 1 and candidates[0].platform is None:
            return candidates[0]
        available = ", ".join(str(d.platform) for d in candidates if d.platform) or "none"
        raise NotFound(f"no image for platform {platform} in index (available: {available})")


def sniff_media_type(data: bytes, declared: str | None = None) -> str:
    """The media type of a manifest-or-index document: its own field, else the declared one,
    else inferred from shape (a 'manifests' list means index)."""
    body = loads_object(data, "manifest")
    media_type = body.get("mediaType")
    if isinstance(media_type, str) and media_type:
        return media_type
    if declared and declared not in ("application/json", "application/octet-stream"):
        return declared
    return mt.OCI_INDEX if "manifests" in body else mt.OCI_MANIFEST


def _media_type(body: dict[str, Any]) -> str | None:
    value = body.get("mediaType")
    if value is not None and not isinstance(value, str):
        raise ManifestError("mediaType must be a string")
    return value or None


def _check_schema(body: dict[str, Any], what: str) -> None:
    if body.get("schemaVersion") != 2:
        raise ManifestError(f"unsupported {what} schemaVersion {body.get('schemaVersion')!r} (want 2)")
