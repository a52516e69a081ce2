"""Functions that derive a new Image from an old one; nothing is ever edited in place."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pare.oci import mediatypes as mt
from pare.oci.config import HistoryEntry
from pare.oci.descriptor import Descriptor
from pare.oci.image import Image
from pare.oci.layer import BlobLayer, Layer, recompress
from pare.oci.manifest import Manifest

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


def with_layers(image: Image, layers: Sequence[Layer], media_type: str | None = None) -> Image:
    """The same tars as other blobs (recompressed or relabelled): the config keeps its exact bytes,
    so the image ID does not change; only the manifest is rebuilt."""
    if [layer.diff_id for layer in layers] != list(image.config.diff_ids):
        raise ValueError("with_layers keeps the tars: diff_ids must not change (use append_layers)")
    media_type = media_type or image.media_type
    docker = mt.is_docker(media_type)
    old = image.manifest.config
    config_desc = Descriptor(mt.DOCKER_CONFIG if docker else mt.OCI_CONFIG, old.digest, old.size,
                             old.annotations)
    annotations = None if docker else (image.manifest.annotations or None)
    manifest = Manifest.build(config_desc, [layer.descriptor for layer in layers], media_type, annotations)
    return Image(manifest, image.config, tuple(layers))


def with_compression(image: Image, compression: mt.Compression, workdir: Path | None = None, *,
                     only_uncompressed: bool = False, parallel: int = 4) -> Image:
    """Every layer recompressed, in parallel (a layer already in that compression is kept as it is;
    with only_uncompressed, every compressed layer is). zstd has no Docker media type, so a Docker
    image becomes OCI first."""
    if compression == "zstd" and mt.is_docker(image.media_type):
        image = with_media_family(image, docker=False)
    docker = mt.is_docker(image.media_type)

    def one(layer: Layer) -> Layer:
        if only_uncompressed and layer.compression != "none":
            return layer
        return recompress(layer, compression, workdir=workdir, docker=docker)

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="pare-compress") as pool:
        layers = list(pool.map(one, image.layers))
    return with_layers(image, layers)


def with_media_family(image: Image, docker: bool) -> Image:
    """The same blobs labelled as Docker v2 schema 2 or as OCI; no digest but the manifest's changes."""
    if mt.is_docker(image.media_type) == docker:
        return image
    layers: list[Layer] = []
    for layer in image.layers:
        desc = layer.descriptor
        new_desc = Descriptor(mt.layer_media_type(layer.compression, docker), desc.digest, desc.size,
                              desc.annotations, desc.platform, desc.urls)
        layers.append(BlobLayer(new_desc, layer.diff_id, layer.open, layer.uncompressed_size))
    return with_layers(image, layers, mt.DOCKER_MANIFEST if docker else mt.OCI_MANIFEST)
