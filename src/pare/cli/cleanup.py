"""`pare gc` and `pare prune`: give disk space back.

    pare gc                      blobs of the embedded store (local:) that no tag reaches
    pare gc oci:./out local:     the same for any OCI layout
    pare prune                   pare's caches (build layers, stripped files, npm, pip, engine state,
                                 bases, downloaded packages), sizes before and after
    pare prune npm pip --dry-run what would go, and how much
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pare.errors import UsageError


def _human(n: int) -> str:
    from pare.cli.transfer import human_bytes
    return human_bytes(n)


def _layout_path(location: str) -> Path:
    from pare.stores.transports import parse_location
    loc = parse_location(location)
    if loc.transport not in ("oci", "local") or loc.name:
        raise UsageError(f"gc works on whole OCI layouts (oci:DIR or local:), not {location!r}")
    assert loc.path is not None
    return Path(loc.path)


@click.command()
@click.argument("locations", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Show what would be removed; remove nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def gc(locations: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Remove blobs no image references from OCI layouts (default: local:, the embedded store).

    Safe while other pare commands write to the same layout: gc waits for writes in flight."""
    from pare.stores.layout import LayoutStore
    rows: list[dict[str, Any]] = []
    for location in locations or ("local:",):
        path = _layout_path(location)
        if not (path / "index.json").exists():
            if path.exists() and any(path.iterdir()):
                raise UsageError(f"{path} is not an OCI layout (no index.json)")
            rows.append({"location": location, "path": str(path), "removed": 0, "freed": 0, "kept": 0,
                         "dry_run": dry_run})
            continue
        result = LayoutStore(path).gc(dry_run=dry_run)
        rows.append({"location": location, "path": str(path), "removed": result.removed,
                     "freed": result.freed, "kept": result.kept, "dry_run": dry_run})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    verb = "would remove" if dry_run else "removed"
    for row in rows:
        click.echo(f"{row['location']} ({row['path']}): {verb} {row['removed']} blobs, "
                   f"{_human(row['freed'])}; {row['kept']} blobs in use")


@click.command()
@click.argument("names", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Show what would be removed; remove nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def prune(names: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Remove pare's caches (all, or the NAMES given); a cache in use is skipped.

    Everything here is rebuilt on demand; the next build is a cold one."""
    from pare import caches
    known = caches.registered()
    by_name = {cache.name: cache for cache in known}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise UsageError(f"unknown cache {unknown[0]!r} (caches: {', '.join(by_name)})")
    results = caches.prune([by_name[n] for n in names] if names else known, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], indent=2))
        return
    from rich.console import Console
    from rich.table import Table
    table = Table(title=f"pare prune{' --dry-run' if dry_run else ''}", title_justify="left")
    for column, justify in (("cache", "left"), ("before", "right"), ("after", "right"), ("", "left"),
                            ("path", "left")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in results:
        note = r.status + (f": {r.reason}" if r.reason else "")
        table.add_row(r.name, _human(r.before), _human(r.after), note, str(r.path))
    before, after = sum(r.before for r in results), sum(r.after for r in results)
    table.add_row("total", _human(before), _human(after), f"{_human(before - after)} freed", "")
    Console().print(table)
    for r in results:
        if r.status == "skipped":
            click.echo(f"pare: {r.name} skipped: {r.reason}", err=True)
