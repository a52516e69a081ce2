"""Functions that derive a new Image from an old one; nothing is ever edited in place."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pare.oci import mediatypes as mt
from pare.oci.config import HistoryEntry
from pare.oci.descriptor import Descriptor
from pare.oci.image import Image
from pare.oci.layer import BlobLayer, Layer, recompress

_UNSET: Any = object()


def append_layers(image: Image, layers: Sequence[Layer], history: Sequence[HistoryEntry] | None = None,
                  created: str | None = None) -> Image:
    """The image with `layers` on top; one history entry per layer (default: 'pare')."""
    body = image.config.to_dict()
    entries = list(history) if history is not None else [
        HistoryEntry(created_by="pare", created=created) for _ in layers]
    body.setdefault("history", []).extend(entry.to_dict() for entry in entries)
    if created:
        body["created"] = created
    return Image.assemble(body, [*image.layers, *layers], image.media_type, image.manifest.annotations)


def with_runtime(image: Image, *, entrypoint: list[str] | None = _UNSET, cmd: list[str] | None = _UNSET,
                 env: dict[str, str] | None = None, user: str | None = _UNSET,
                 workdir: str | None = _UNSET, exposed_ports: Sequence[str] | None = None,
                 labels: dict[str, str] | None = None) -> Image:
    """Change the runtime config. Env and labels are merged; passing None clears a list field."""
    body = image.config.to_dict()
    runtime = body.setdefault("config", {}) or {}
    body["config"] = runtime
    for key, value in (("Entrypoint", entrypoint), ("Cmd", cmd), ("User", user), ("WorkingDir", workdir)):
        if value is _UNSET:
            continue
        if value is None:
            runtime.pop(key, None)
        else:
            runtime[key] = list(value) if isinstance(value, list | tuple) else value
    if env:
        current = dict(item.split("=", 1) if "=" in item else (item, "") for item in runtime.get("Env") or [])
        current.update(env)
        runtime["Env"] = [f"{k}={v}" for k, v in current.items()]
    if exposed_ports:
        ports = runtime.setdefault("ExposedPorts", {})
        for port in exposed_ports:
            ports[port if "/" in port else f"{port}/tcp"] = {}
    if labels:
        runtime.setdefault("Labels", {}).update(labels)
    return Image.assemble(body, image.layers, image.media_type, image.manifest.annotations)


def with_created(image: Image, created: str) -> Image:
    body = image.config.to_dict()
    body["created"] = created
    return Image.assemble(body, image.layers, image.media_type, image.manifest.annotations)


def with_annotations(image: Image, annotations: dict[str, str]) -> Image:
    merged = {**image.manifest.annotations, **annotations}
    return Image.assemble(image.config, image.layers, image.media_type, merged)


def with_compression(image: Image, compression: mt.Compression, workdir: Path | None = None) -> Image:
    """Every layer recompressed (a layer already in that compression is kept as it is)."""
    docker = mt.is_docker(image.media_type)
    layers = [recompress(layer, compression, workdir=workdir, docker=docker) for layer in image.layers]
    return Image.assemble(image.config, layers, image.media_type, image.manifest.annotations)


def with_media_family(image: Image, docker: bool) -> Image:
    """The same blobs labelled as Docker v2 schema 2 or as OCI; digests of layers do not change."""
    if mt.is_docker(image.media_type) == docker:
        return image
    layers: list[Layer] = []
    for layer in image.layers:
        desc = layer.descriptor
        new_desc = Descriptor(mt.layer_media_type(layer.compression, docker), desc.digest, desc.size,
                              desc.annotations, desc.platform, desc.urls)
        layers.append(BlobLayer(new_desc, layer.diff_id, layer.open, layer.uncompressed_size))
    media_type = mt.DOCKER_MANIFEST if docker else mt.OCI_MANIFEST
    return Image.assemble(image.config, layers, media_type, None if docker else image.manifest.annotations)
