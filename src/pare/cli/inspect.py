"""`pare inspect LOCATION`: manifest, config summary and a layer table, from any store.

Uncompressed sizes are what the layer knows, else measured by streaming the layer once (in
parallel); `--no-sizes` skips that for a quick look at a big remote image. A multi-platform index is
listed platform by platform, then the image of one platform (--platform, default linux/amd64) is
shown in full; `--raw` prints the index's own bytes unless --platform names an image.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import click

from pare.cli.output import columns, emit_json, human_bytes
from pare.oci import mediatypes as mt
from pare.oci.descriptor import Platform
from pare.oci.image import Image
from pare.oci.index import ImageIndex
from pare.oci.layer import Layer
from pare.stores.transports import parse_location, store_for

if TYPE_CHECKING:
    from rich.console import Console


def index_summary(index: ImageIndex) -> dict[str, Any]:
    """The `index` part of `inspect --json`: the index and one row per platform."""
    return {"digest": str(index.digest), "media_type": index.media_type,
            "platforms": [str(p) for p in index.platforms],
            "images": [{"platform": str(platform), "digest": str(image.digest),
                        "media_type": image.media_type, "layers": len(image.layers),
                        "compressed_size": image.compressed_size}
                       for platform, image in zip(index.platforms, index.images, strict=True)]}


def short_media_type(media_type: str) -> str:
    """'oci tar+gzip', 'docker tar' ...: enough to tell layers apart in a narrow table."""
    family = "docker" if mt.is_docker(media_type) else "oci"
    if not mt.is_layer(media_type):
        return media_type.rsplit("/", 1)[-1]
    compression = mt.layer_compression(media_type)
    return f"{family} tar" + ("" if compression == "none" else f"+{compression}")


def summary(image: Image, sizes: list[int | None]) -> dict[str, Any]:
    """The JSON document `inspect --json` prints."""
    runtime = image.config.runtime
    history = image.config.layer_history()
    layers = []
    for i, layer in enumerate(image.layers):
        entry = history[i] if i < len(history) else None
        layers.append({"digest": str(layer.digest), "diff_id": str(layer.diff_id),
                       "media_type": layer.media_type, "size": layer.size,
                       "uncompressed_size": sizes[i], "created_by": entry.created_by if entry else None})
    return {
        "digest": str(image.digest), "media_type": image.media_type, "platform": str(image.platform),
        "config_digest": str(image.config.digest), "created": image.config.created,
        "entrypoint": runtime.get("Entrypoint"), "cmd": runtime.get("Cmd"), "env": runtime.get("Env") or [],
        "user": runtime.get("User") or "", "workdir": runtime.get("WorkingDir") or "",
        "exposed_ports": sorted(runtime.get("ExposedPorts") or {}), "labels": runtime.get("Labels") or {},
        "compressed_size": sum(layer.size for layer in image.layers),
        "uncompressed_size": None if any(s is None for s in sizes) else sum(s or 0 for s in sizes),
        "layers": layers, "annotations": image.manifest.annotations,
    }


def render_lines(doc: dict[str, Any]) -> list[str]:
    """`pare inspect` as plain text: a key/value head, the platforms of an index, the layer table."""
    head: list[list[str]] = []
    if "index" in doc:
        index = doc["index"]
        head.append(["index", f"{index['digest']} ({len(index['images'])} platforms)"])
    for key in ("digest", "media_type", "platform", "config_digest", "created"):
        head.append([key.replace("_", " "), str(doc[key] or "-")])
    for key in ("entrypoint", "cmd"):
        head.append([key, json.dumps(doc[key]) if doc[key] is not None else "-"])
    env = doc["env"] or ["-"]
    head.extend([["env" if i == 0 else "", value] for i, value in enumerate(env)])
    head.append(["user", doc["user"] or "-"])
    if doc["workdir"]:
        head.append(["workdir", doc["workdir"]])
    if doc["exposed_ports"]:
        head.append(["ports", ", ".join(doc["exposed_ports"])])
    head.append(["size", f"{human_bytes(doc['compressed_size'])} compressed, "
                         f"{human_bytes(doc['uncompressed_size'])} uncompressed"])
    lines: list[str] = []
    if "index" in doc:
        rows = [["platform", "manifest", "layers", "compressed"]]
        for row in doc["index"]["images"]:
            mark = " *" if row["digest"] == doc["digest"] else ""
            rows.append([row["platform"] + mark, row["digest"][7:19], str(row["layers"]),
                         human_bytes(row["compressed_size"])])
        lines += ["platforms", *columns(rows, right=(2, 3)), f"* shown below: {doc['platform']}", ""]
    lines += columns(head)
    rows = [["#", "digest", "compressed", "uncompressed", "media type", "created by"]]
    for i, layer in enumerate(doc["layers"]):
        created_by = " ".join((layer["created_by"] or "-").split())
        rows.append([str(i), layer["digest"][7:19], human_bytes(layer["size"]),
                     human_bytes(layer["uncompressed_size"]), short_media_type(layer["media_type"]),
                     created_by if len(created_by) <= 80 else created_by[:77] + "..."])
    return [*lines, "", "layers", *columns(rows, right=(0, 2, 3))]


def render(doc: dict[str, Any], console: Console | None = None) -> None:
    """Print render_lines, through a rich console when given one (scripts/transfer_demo.py)."""
    for line in render_lines(doc):
        if console is None:
            click.echo(line)
        else:
            console.print(line, markup=False, highlight=False)


@click.command()
@click.argument("location")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document (schema pare.inspect/v1).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the digest (the index's, for an index).")
@click.option("--raw", is_flag=True, help="Print the manifest's exact bytes.")
@click.option("--config", "show_config", is_flag=True, help="Print the config's exact bytes.")
@click.option("--no-sizes", is_flag=True, help="Do not stream layers to measure uncompressed sizes.")
@click.option("--platform", default=None, metavar="OS/ARCH[/VARIANT]", help="Image of an index to show.")
@click.option("--insecure", is_flag=True, help="Allow plain HTTP / unverified TLS off loopback.")
@click.option("--parallel", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Layers measured at once.")
def inspect(location: str, as_json: bool, quiet: bool, raw: bool, show_config: bool, no_sizes: bool,
            platform: str | None, insecure: bool, parallel: int) -> None:
    """Show the manifest, config and layers of the image at LOCATION (any store)."""
    loc = parse_location(location)
    store = store_for(loc, insecure=insecure, parallel=parallel)
    try:
        wanted = Platform.parse(platform) if platform else None
        found = store.read_any(loc.name)
        index = found if isinstance(found, ImageIndex) else None
        image = found.image(wanted or Platform()) if isinstance(found, ImageIndex) else found
        if quiet:
            click.echo(str(found.digest))
            return
        if raw or show_config:
            data = image.config.raw if show_config else \
                index.raw if index is not None and wanted is None else image.manifest.raw
            sys.stdout.buffer.write(data + (b"" if data.endswith(b"\n") else b"\n"))
            return
        sizes: list[int | None]
        if no_sizes:
            sizes = [layer.uncompressed_size for layer in image.layers]
        else:
            with ThreadPoolExecutor(max_workers=parallel) as pool:
                sizes = list(pool.map(Layer.tar_size, image.layers))
        doc = summary(image, sizes)
        if index is not None:
            doc["index"] = index_summary(index)
        if as_json:
            emit_json("inspect", doc)
        else:
            render(doc)
    finally:
        store.close()
