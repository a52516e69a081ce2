"""`pare gc` and `pare prune`: give disk space back.

    pare gc                      blobs of the embedded store (local:) that no tag reaches
    pare gc oci:./out local:     the same for any OCI layout
    pare prune                   pare's caches (build layers, stripped files, npm, pip, engine state,
                                 bases, downloaded packages), sizes before and after
    pare prune npm pip --dry-run what would go, and how much it would free
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pare.cli.output import console, emit_json, warn
from pare.cli.output import human_bytes as _human
from pare.errors import InputError, NotFound, UsageError


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
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (schema pare.gc/v1).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing; the exit code says how it went.")
def gc(locations: tuple[str, ...], dry_run: bool, as_json: bool, quiet: bool) -> None:
    """Remove blobs no image references from OCI layouts (default: local:, the embedded store).

    Safe while other pare commands write to the same layout: gc waits for writes in flight."""
    from pare.stores.layout import LayoutStore
    rows: list[dict[str, Any]] = []
    for location in locations or ("local:",):
        path = _layout_path(location)
        if not (path / "index.json").exists():
            if locations and not path.exists():
                raise NotFound(f"{location}: no such OCI layout directory ({path})")
            if path.exists() and any(path.iterdir()):
                raise InputError(f"{path} is not an OCI layout (no index.json)")
            rows.append({"location": location, "path": str(path), "removed": 0, "freed": 0, "kept": 0,
                         "dry_run": dry_run})
            continue
        result = LayoutStore(path).gc(dry_run=dry_run)
        rows.append({"location": location, "path": str(path), "removed": result.removed,
                     "freed": result.freed, "kept": result.kept, "dry_run": dry_run})
    if as_json:
        emit_json("gc", {"dry_run": dry_run, "layouts": rows})
        return
    if quiet:
        return
    verb = "would remove" if dry_run else "removed"
    for row in rows:
        click.echo(f"{row['location']} ({row['path']}): {verb} {row['removed']} blobs, "
                   f"{_human(row['freed'])}; {row['kept']} blobs in use")


@click.command()
@click.argument("names", nargs=-1)
@click.option("--dry-run", is_flag=True,
              help="Show what would be removed and what that frees; remove nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (schema pare.prune/v1).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but warnings.")
def prune(names: tuple[str, ...], dry_run: bool, as_json: bool, quiet: bool) -> None:
    """Remove pare's caches (all, or the NAMES given); a cache in use is skipped.

    Everything here is rebuilt on demand; the next build is a cold one."""
    from pare import caches
    known = caches.registered()
    by_name = {cache.name: cache for cache in known}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise UsageError(f"unknown cache {unknown[0]!r} (caches: {', '.join(by_name)})")
    results = caches.prune([by_name[n] for n in names] if names else known, dry_run=dry_run)
    freed = sum(r.freed for r in results)
    if as_json:
        emit_json("prune", {"dry_run": dry_run, "freed": freed, "caches": [r.to_dict() for r in results]})
    elif not quiet:
        _render_prune(results, dry_run, freed)
    for r in results:
        if r.status == "skipped":
            warn(f"{r.name} skipped: {r.reason}")


def _render_prune(results: list[Any], dry_run: bool, freed: int) -> None:
    from rich.table import Table
    table = Table(title=f"pare prune{' --dry-run' if dry_run else ''}", title_justify="left")
    for column, justify in (("cache", "left"), ("size", "right"), ("after", "right"), ("", "left"),
                            ("path", "left")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in results:
        note = r.status + (f": {r.reason}" if r.reason else "")
        table.add_row(r.name, _human(r.before), _human(r.before - r.freed), note, str(r.path))
    before = sum(r.before for r in results)
    table.add_row("total", _human(before), _human(before - freed),
                  f"{_human(freed)} {'would be freed' if dry_run else 'freed'}", "")
    console().print(table)
