"""`pare images` (or `pare ls`): the images in the embedded store and in any OCI layout, with sizes.

    pare images                    the local: store
    pare images oci:out local:     several layouts
    pare images -q                 one location per line (local:NAME, oci:DIR:TAG), for scripts

Sizes are what a pull moves (config and layers, each blob once); `disk` is the layout's blobs on
disk, shared blobs counted once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pare.cli.output import console, emit_json, human_bytes
from pare.errors import NotFound, UsageError


def _layout(location: str) -> tuple[str, Path]:
    from pare.stores.transports import parse_location
    loc = parse_location(location)
    if loc.transport not in ("oci", "local") or loc.name:
        raise UsageError(f"images lists whole OCI layouts (oci:DIR or local:), not {location!r}")
    assert loc.path is not None
    return loc.transport, Path(loc.path)


def _row(store: Any, transport: str, name: str | None, desc: Any) -> dict[str, Any]:
    """One index.json entry: an image, or an index and its platforms."""
    from pare.oci import mediatypes as mt
    index = store.read_index(name or str(desc.digest)) if mt.is_index(desc.media_type) else None
    image = index.images[0] if index is not None and index.images else store.read(name or str(desc.digest))
    label = name or str(desc.digest)
    where = f"local:{label}" if transport == "local" else f"oci:{store.path}:{label}"
    return {"name": name, "location": where, "digest": str(desc.digest), "media_type": desc.media_type,
            "platforms": [str(p) for p in index.platforms] if index is not None else [str(image.platform)],
            "size": index.compressed_size if index is not None else image.compressed_size,
            "layers": len(image.layers), "created": image.config.created}


def list_layout(location: str) -> dict[str, Any]:
    """The `layouts[]` entry of `pare images --json` for one location."""
    from pare.caches import disk_usage
    from pare.stores.layout import LayoutStore
    transport, path = _layout(location)
    store = LayoutStore(path)
    rows: list[dict[str, Any]] = []
    if (path / "index.json").exists():
        rows = [_row(store, transport, name, desc) for name, desc in store.entries()]
    elif transport == "oci" and not path.exists():
        raise NotFound(f"{location}: no such OCI layout directory ({path})")
    return {"location": location, "path": str(path), "disk_bytes": disk_usage(path / "blobs"), "images": rows}


@click.command()
@click.argument("locations", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (schema pare.images/v1).")
@click.option("-q", "--quiet", is_flag=True, help="Print one location per line (local:NAME, oci:DIR:TAG).")
def images(locations: tuple[str, ...], as_json: bool, quiet: bool) -> None:
    """List the images in OCI layouts (default: local:, the embedded store), with sizes."""
    layouts = [list_layout(location) for location in locations or ("local:",)]
    if as_json:
        emit_json("images", {"layouts": layouts})
        return
    if quiet:
        for layout in layouts:
            for row in layout["images"]:
                click.echo(row["location"])
        return
    from rich.table import Table
    out = console()
    for layout in layouts:
        table = Table(title=f"{layout['location']} ({layout['path']}): {len(layout['images'])} images, "
                            f"{human_bytes(layout['disk_bytes'])} on disk", title_justify="left", box=None)
        for column in ("name", "digest", "platforms", "layers", "size", "created"):
            table.add_column(column, justify="right" if column in ("layers", "size") else "left")
        for row in layout["images"]:
            table.add_row(row["name"] or "-", row["digest"][7:19], ", ".join(row["platforms"]),
                          str(row["layers"]), human_bytes(row["size"]), row["created"] or "-")
        out.print(table)
