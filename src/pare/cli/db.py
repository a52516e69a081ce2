"""`pare db import|update|status`: the local OSV index `pare scan` matches against."""

from __future__ import annotations

from pathlib import Path

import click

from pare.cli.output import emit_json

_db_option = click.option("--db", "db_path", type=click.Path(path_type=Path), metavar="FILE",
                          help="The index (default: PARE_VULNDB, else pare's cache dir).")
_quiet = click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")


@click.group()
def db() -> None:
    """Offline vulnerability data: OSV records in a local SQLite index."""


@db.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--source", metavar="NAME",
              help="Name the records' source (default: the file or directory name).")
@_db_option
@_quiet
def import_(paths: tuple[Path, ...], source: str | None, db_path: Path | None, quiet: bool) -> None:
    """Load OSV records: a directory of .json/.yaml records, a per-ecosystem zip export, or JSON lines."""
    from pare.scan.vulndb import VulnDB, read_source
    with VulnDB(db_path) as index:
        for path in paths:
            name = source or path.resolve().name
            count = index.import_records(read_source(path), name, str(path.resolve()))
            if not quiet:
                click.echo(f"imported {count} records from {path} as {name!r} into {index.path}")


@db.command()
@click.option("--ecosystem", "ecosystems", multiple=True, metavar="NAME",
              help="OSV ecosystem to fetch (repeatable; default: Debian, PyPI, npm, Go).")
@click.option("--url", "base_url", metavar="URL",
              help="Base URL of the exports (default: OSV's public bucket).")
@_db_option
@_quiet
def update(ecosystems: tuple[str, ...], base_url: str | None, db_path: Path | None, quiet: bool) -> None:
    """Fetch OSV's public per-ecosystem exports (ECOSYSTEM/all.zip) and import them."""
    from pare.scan.vulndb import OSV_EXPORTS, UPDATE_ECOSYSTEMS, VulnDB, update_from_osv
    with VulnDB(db_path) as index:
        for eco, count in update_from_osv(index, ecosystems or UPDATE_ECOSYSTEMS, base_url or OSV_EXPORTS):
            if not quiet:
                click.echo(f"{eco}: imported {count} records into {index.path}")


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines (schema pare.db-status/v1).")
@_db_option
@_quiet
def status(as_json: bool, db_path: Path | None, quiet: bool) -> None:
    """Sources, record counts per ecosystem, and how old the data is.

    An index with nothing imported is a state, not an error: it says so and exits 0."""
    from pare.scan.vulndb import STALE_DAYS, VulnDB
    with VulnDB(db_path) as index:
        sources = index.status()
        if as_json:
            emit_json("db-status", {"path": str(index.path), "exists": index.exists, "empty": not sources,
                                    "sources": [
                {"name": s.name, "origin": s.origin, "imported": s.imported, "records": s.records,
                 "newest_record": s.newest, "age_days": s.age_days, "stale": s.stale,
                 "ecosystems": s.ecosystems} for s in sources]})
            return
        if quiet:
            return
        click.echo(f"index: {index.path}")
        if not sources:
            click.echo("empty: no vulnerability data imported (pare db import PATH, or pare db update)")
        for s in sources:
            age = s.age_days
            when = "age unknown (records carry no modified time)" if age is None else f"{age:.0f} days old"
            flag = f"  STALE (> {STALE_DAYS} days)" if s.stale else ""
            ecos = ", ".join(f"{e} {n}" for e, n in sorted(s.ecosystems.items()))
            click.echo(f"{s.name}: {s.records} records ({ecos}); newest record {s.newest or '-'}, "
                       f"{when}{flag}; imported {s.imported} from {s.origin}")
