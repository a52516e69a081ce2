"""`pare pull`, `pare push`, `pare copy`: thin commands over pare.stores.copy.

    pare pull 127.0.0.1:5000/app:1                 into the embedded store (local:), tagged with the ref
    pare pull 127.0.0.1:5000/app:1 oci:out:1       into any other store
    pare push local:127.0.0.1:5000/app:1 127.0.0.1:5000/app:1
    pare copy docker-archive:app.tar 127.0.0.1:5000/app:1
    pare copy --all oci:out:multi 127.0.0.1:5000/app:2     every platform of an index, same index digest

pull and push move a multi-platform index whole (every platform, the index digest kept), as crane
does, unless --platform picks one; copy picks one platform unless --all, as skopeo does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from pare.cli.output import console as make_console
from pare.cli.output import emit_json, human_bytes
from pare.errors import UsageError
from pare.oci.descriptor import Platform
from pare.oci.reference import Reference
from pare.progress import for_terminal
from pare.stores import copy as copying
from pare.stores.copy import CopyResult
from pare.stores.transports import parse_location

__all__ = ["copy", "human_bytes", "pull", "push", "render_result", "summary_line"]

if TYPE_CHECKING:  # rich is imported only when a table is drawn: start-up time counts for small pulls
    from rich.console import Console

PHASE_ORDER = ("read", "compress", "write", "auth", "manifest", "config", "head", "mount", "upload",
               "commit", "download", "blobs")


def render_result(result: CopyResult, console: Console | None = None, title: str = "copy") -> None:
    """The table a user reads after a transfer: what moved, and how long each phase took."""
    from rich.table import Table
    console = console or make_console()
    summary = Table(title=f"pare {title}", show_header=False, title_justify="left")
    summary.add_column(style="bold")
    summary.add_column(overflow="fold")
    summary.add_row("from", result.source)
    summary.add_row("to", result.destination)
    summary.add_row("index digest" if result.is_index else "digest", str(result.digest))
    if result.is_index:
        summary.add_row("platforms", ", ".join(result.platforms))
    summary.add_row("layers", f"{result.layers} ({human_bytes(result.image_bytes)} with config)")
    summary.add_row("moved", f"{human_bytes(result.bytes_moved)} in {result.blobs_moved} blobs; "
                             f"{result.blobs_skipped} already there, {result.blobs_mounted} mounted")
    if result.compressed:
        summary.add_row("compressed", f"{result.compressed} on the way")
    summary.add_row("wall time", f"{result.wall_seconds:.3f} s")
    console.print(summary)

    phases = Table(title="seconds per phase (blob phases: summed over blobs)",
                   title_justify="left")
    phases.add_column("side")
    phases.add_column("phase")
    phases.add_column("seconds", justify="right")
    for phase, seconds in _ordered(result.phases):
        phases.add_row("copy", phase, f"{seconds:.3f}")
    for side, stats in (("source", result.source_stats), ("destination", result.destination_stats)):
        for phase, seconds in _ordered(stats.get("phases", {})):
            phases.add_row(side, phase, f"{seconds:.3f}")
        if stats.get("retries"):
            phases.add_row(side, "retries", str(stats["retries"]))
    console.print(phases)


def summary_line(result: CopyResult, title: str) -> str:
    """The one line a transfer prints by default: where, what digest, how much moved, how long."""
    what = f"{len(result.platforms)} platforms" if result.is_index else f"{result.layers} layers"
    reused = f"; {result.blobs_skipped} already there" if result.blobs_skipped else ""
    mounted = f", {result.blobs_mounted} mounted" if result.blobs_mounted else ""
    return (f"{title}: {result.source} -> {result.destination} {result.digest} ({what}, "
            f"{human_bytes(result.bytes_moved)} moved in {result.wall_seconds:.2f} s{reused}{mounted})")


def _ordered(phases: dict[str, float]) -> list[tuple[str, float]]:
    rank = {name: i for i, name in enumerate(PHASE_ORDER)}
    return sorted(phases.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


def _options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--json", "as_json", is_flag=True,
                     help="Print the result as JSON (schema pare.copy/v1)."),
        click.option("--platform", default=None, metavar="OS/ARCH[/VARIANT]",
                     help="Move only this image of a multi-platform index."),
        click.option("--insecure", is_flag=True, help="Allow plain HTTP / unverified TLS off loopback."),
        click.option("--parallel", type=click.IntRange(1, 64), default=4, show_default=True,
                     help="Blobs moved at once."),
        click.option("--compress", type=click.Choice(["gzip", "zstd"]), default="gzip", show_default=True,
                     help="Compression for uncompressed layers going to a registry."),
        click.option("-q", "--quiet", is_flag=True, help="No progress; print only the digest."),
        click.option("-v", "--verbose", is_flag=True,
                     help="Print what moved and seconds per phase, as a table."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run(src: str, dst: str, title: str, *, as_json: bool, platform: str | None, insecure: bool,
         parallel: int, compress: str, quiet: bool, verbose: bool, dest_name: str | None = None,
         all_platforms: bool = False) -> None:
    wanted = Platform.parse(platform) if platform else None
    progress = for_terminal(quiet=quiet or as_json, what=title)
    try:
        result = copying.copy(src, dst, platform=wanted, insecure=insecure, progress=progress,
                              parallel=parallel, compress=compress,  # type: ignore[arg-type]
                              dest_name=dest_name, all_platforms=all_platforms)
    finally:
        progress.close()
    if as_json:
        emit_json("copy", {"operation": title, **result.to_dict()})
    elif quiet:
        click.echo(str(result.digest))
    elif verbose:
        render_result(result, title=title)
    else:
        click.echo(summary_line(result, title))


def _registry_location(text: str, what: str) -> str:
    loc = parse_location(text)
    if loc.transport != "docker":
        raise UsageError(f"{what} must be a registry reference (e.g. 127.0.0.1:5000/app:1), not {text!r}")
    assert loc.name is not None
    return loc.name


@click.command()
@click.argument("ref")
@click.argument("dest", required=False)
@_options
def pull(ref: str, dest: str | None, **opts: Any) -> None:
    """Pull REF from a registry into DEST (default: the embedded store, tagged REF).

    A multi-platform REF comes whole (every platform, same index digest) unless --platform picks one."""
    name = _registry_location(ref, "REF")
    dest_name = None
    if dest is None:
        dest = "local:"
        dest_name = str(Reference.parse(name))
    _run(ref, dest, "pull", dest_name=dest_name, all_platforms=opts["platform"] is None, **opts)


@click.command()
@click.argument("src")
@click.argument("ref")
@_options
def push(src: str, ref: str, **opts: Any) -> None:
    """Push the image at SRC (local:NAME, oci:DIR[:TAG], docker-archive:FILE[:REF]) to registry REF.

    A multi-platform SRC goes whole (every platform, same index digest) unless --platform picks one."""
    _registry_location(ref, "REF")
    _run(src, ref, "push", all_platforms=opts["platform"] is None, **opts)


@click.command(name="copy")
@click.argument("src")
@click.argument("dst")
@click.option("--all", "all_platforms", is_flag=True,
              help="Copy every platform of a multi-platform index, and the index (its digest kept).")
@_options
def copy(src: str, dst: str, all_platforms: bool, **opts: Any) -> None:
    """Copy an image between any two locations (oci:, docker-archive:, local:, registry).

    From a multi-platform index, one platform (--platform, default linux/amd64) unless --all."""
    _run(src, dst, "copy", all_platforms=all_platforms, **opts)
