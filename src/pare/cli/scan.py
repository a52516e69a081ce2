"""`pare scan IMAGE` (known vulnerabilities, offline, with the coverage that says what the count
cannot include) and `pare sbom IMAGE` (CycloneDX 1.6 or SPDX 2.3): thin commands over pare.scan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pare.cli.output import console, emit_json, warn
from pare.errors import PolicyFailed, UsageError
from pare.files import write_atomic
from pare.progress import steps

if TYPE_CHECKING:
    from pare.scan.match import ScanResult

LOCATIONS = "IMAGE is oci:DIR[:TAG], docker-archive:FILE[:REF], docker://REF or a registry REF, local:NAME."
SEVERITY_CHOICES = ("critical", "high", "medium", "low", "negligible", "unknown")


def _catalog(location: str, insecure: bool, platform: str | None, verify: bool, quiet: bool):  # type: ignore[no-untyped-def]
    from pare.oci.descriptor import Platform
    from pare.scan.catalog import catalog_image
    from pare.stores.transports import open_location

    store, name = open_location(location, insecure=insecure)
    image = store.read(name, Platform.parse(platform) if platform else None)
    return catalog_image(image, name=location, verify=verify, progress=steps("scanning", quiet))


def unjudged(result: ScanResult) -> list[str]:
    """What a --fail-on gate could not look at: no data at all, or ecosystems found with none."""
    if not result.coverage.db_present:
        return ["every package (no vulnerability data imported)"]
    return [f"{eco} ({n} packages)" for eco, n in result.coverage.without_data.items()]


_common = [
    click.option("--insecure", is_flag=True, help="Allow plain HTTP to a registry that is not on localhost."),
    click.option("--platform", metavar="OS/ARCH[/VARIANT]", help="Which image of a multi-platform index."),
    click.option("--no-verify", is_flag=True, help="Do not check each layer's tar against its diff_id."),
]


def _with_common(func: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(_common):
        func = option(func)
    return func


@click.command(epilog=LOCATIONS + " With --compare, give two: what B no longer carries. Exit codes: 0 ok, "
               "1 the --fail-on gate failed or could not judge, 3 bad image, 4 registry (docs/cli.md).")
@click.argument("images", nargs=-1, required=True, metavar="IMAGE [IMAGE_B]")
@_with_common
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines (schema pare.scan/v1).")
@click.option("-q", "--quiet", is_flag=True,
              help="Print nothing on stdout; the exit code is the verdict.")
@click.option("--sarif", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Also write SARIF 2.1.0 (for code-scanning tools) to FILE ('-' for stdout).")
@click.option("--fail-on", type=click.Choice(SEVERITY_CHOICES), metavar="SEVERITY",
              help="Exit 1 when a finding is at or above SEVERITY (critical, high, medium, low, negligible; "
                   "'unknown' fails on unrated ones), or when an ecosystem found has no data to judge by.")
@click.option("--accept-missing-data", is_flag=True,
              help="Let --fail-on pass although some packages had no vulnerability data to check.")
@click.option("--db", "db_path", type=click.Path(path_type=Path), metavar="FILE",
              help="The vulnerability index (default: PARE_VULNDB, else pare's cache dir).")
@click.option("--compare", is_flag=True, help="Compare two images: what the second no longer carries.")
@click.option("--debian-pending", is_flag=True,
              help="Also list fixes waiting in the suite's -security and -updates archives (fetches "
                   "Debian's indexes and changelogs from the archive).")
@click.option("--mirror", default=None, metavar="URL",
              help="Debian archive for --debian-pending (default: https://deb.debian.org).")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="Rows shown (default 50; 0 = all).")
def scan(images: tuple[str, ...], insecure: bool, platform: str | None, no_verify: bool, as_json: bool,
         quiet: bool, sarif: Path | None, fail_on: str | None, accept_missing_data: bool,
         db_path: Path | None, compare: bool, debian_pending: bool, mirror: str | None,
         limit: int | None) -> None:
    """Known vulnerabilities in IMAGE, from offline OSV data, and how much of the image the scan saw."""
    from pare.scan import render
    from pare.scan.match import scan as match
    from pare.scan.vulndb import VulnDB

    if compare and len(images) != 2:
        raise UsageError("--compare takes two images: A B")
    if not compare and len(images) != 1:
        raise UsageError("give one image (or --compare A B)")
    if compare and fail_on:
        raise UsageError("--fail-on judges one image; --compare shows two")
    silent = quiet or as_json or (sarif is not None and str(sarif) == "-")
    catalogs = [_catalog(image, insecure, platform, not no_verify, silent) for image in images]
    index = VulnDB(db_path)
    try:
        if db_path is None and (started := index.ensure_data()) is not None:  # the default index only
            warn(started)
        results = [match(catalog, index) for catalog in catalogs]
    finally:
        index.close()
    for warning in dict.fromkeys(w for r in results for w in r.warnings):
        warn(warning)
    out = console()
    if compare:
        comparison = render.Comparison(results[0], results[1])
        if as_json:
            emit_json("scan-compare", comparison.to_dict())
        elif not quiet:
            comparison.render(out, limit=20 if limit is None else (limit or 10**9))
        return
    result = results[0]
    pending = None
    if debian_pending:
        from pare.scan.debian_pending import DEFAULT_MIRROR, pending_fixes
        pending = pending_fixes(result.catalog, mirror or DEFAULT_MIRROR)
    if sarif is not None:
        text = json.dumps(render.sarif(result), indent=2)
        if str(sarif) == "-":
            click.echo(text)
        else:
            write_atomic(sarif, text)
    if as_json:
        body = result.to_dict(limit)
        if pending is not None:
            body["debian_pending"] = pending.to_dict()
        emit_json("scan", body)
    elif not quiet and (sarif is None or str(sarif) != "-"):
        render.render_table(result, out, limit=50 if limit is None else limit)
        if pending is not None:
            pending.render(out)
    if fail_on:
        failing = render.fails(result, fail_on)
        if failing:
            raise PolicyFailed(f"{len(failing)} findings at or above {fail_on} (--fail-on {fail_on})")
        blind = unjudged(result)
        if blind and not accept_missing_data:
            raise PolicyFailed(f"--fail-on {fail_on} cannot judge {', '.join(blind)}: import the data "
                               "(pare db import PATH, pare db update) or pass --accept-missing-data")


@click.command(epilog=LOCATIONS)
@click.argument("image")
@_with_common
@click.option("--format", "fmt", type=click.Choice(["cyclonedx", "spdx", "json"]), default="cyclonedx",
              show_default=True, help="CycloneDX 1.6 JSON, SPDX 2.3 JSON, or pare's own catalog JSON.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to FILE.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary line on stderr.")
def sbom(image: str, insecure: bool, platform: str | None, no_verify: bool, fmt: str,
         output: Path | None, quiet: bool) -> None:
    """The packages inside IMAGE as an SBOM (with purls, licences and the layer that added each)."""
    from pare.scan.sbom import render

    catalog = _catalog(image, insecure, platform, not no_verify, quiet or output is None)
    text = json.dumps(catalog.to_dict(), indent=2) if fmt == "json" else render(catalog, fmt)
    if output is None:
        click.echo(text)
    else:
        write_atomic(output, text)
        if not quiet:
            click.echo(f"{fmt}: {len(catalog.packages)} packages -> {output}", err=True)
