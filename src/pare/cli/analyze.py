"""`pare analyze IMAGE` and `pare diff A B`: thin commands over pare.analyze."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pare.analyze.analysis import Analysis, analyze_image
from pare.analyze.bloat import NAMES
from pare.analyze.ci import Thresholds, breaches, load_thresholds, merge
from pare.analyze.units import parse_size
from pare.cli.output import console, emit_json
from pare.errors import ExitCode, UsageError
from pare.oci.image import Image
from pare.progress import steps

LOCATIONS = "IMAGE is oci:DIR[:TAG], docker-archive:FILE[:REF], docker://REF or a registry REF, local:NAME."


def _read(location: str, insecure: bool, platform: str | None) -> Image:
    from pare.oci.descriptor import Platform
    from pare.stores.transports import open_location

    store, name = open_location(location, insecure=insecure)
    return store.read(name, Platform.parse(platform) if platform else None)


def _analyze(
    location: str, insecure: bool, platform: str | None, base: str | None, verify: bool, quiet: bool
) -> Analysis:
    image = _read(location, insecure, platform)
    base_image = _read(base, insecure, platform) if base else None
    return analyze_image(
        image, name=location, base=base_image, base_ref=base or "", verify=verify,
        progress=steps("analyzing", quiet),
    )


def _size(value: str | None) -> int | None:
    return None if value is None else parse_size(value)


def _categories(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    aliases = {"package-manager-caches": "package-manager-cache", "compiler": "compilers"}
    return tuple(aliases.get(n, n) for n in names)


_common = [
    click.option("--insecure", is_flag=True, help="Allow plain HTTP to a registry that is not on localhost."),
    click.option(
        "--platform",
        metavar="OS/ARCH[/VARIANT]",
        help="Which image of a multi-platform index (default linux/amd64).",
    ),
    click.option("--no-verify", is_flag=True, help="Do not check each layer's tar against its diff_id."),
    click.option("--json", "as_json", is_flag=True, help="Print JSON for machines (schema pare.analyze/v1)."),
    click.option("-q", "--quiet", is_flag=True, help="No progress, no table; --ci prints only failures."),
    click.option(
        "--limit",
        type=click.IntRange(min=0),
        default=None,
        help="Rows per list (terminal default 10, JSON default 100; 0 = all).",
    ),
]


def _with_common(func: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(_common):
        func = option(func)
    return func


@click.command(epilog=LOCATIONS)
@click.argument("image")
@_with_common
@click.option(
    "--base", "base", metavar="REF", help="The base image, to split base and app bytes by layer digest."
)
@click.option("--tree", "show_tree", is_flag=True, help="Show the final filesystem as a tree, biggest first.")
@click.option("--depth", type=click.IntRange(min=1), default=3, show_default=True, help="Depth of --tree.")
@click.option(
    "--ci",
    "ci",
    is_flag=True,
    help="Check thresholds; one line per breach and exit 1 (default gate: efficiency >= 0.9).",
)
@click.option(
    "--ci-config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="YAML file of thresholds (option names, or dive's .dive-ci rules); options override it.",
)
@click.option("--min-efficiency", type=float, help="Lowest exact efficiency (final / all layer bytes), 0..1.")
@click.option("--max-waste", metavar="SIZE", help="Most wasted bytes, e.g. 10MB.")
@click.option("--max-waste-ratio", type=float, help="Most wasted bytes / all layer content bytes, 0..1.")
@click.option("--max-size", metavar="SIZE", help="Most uncompressed layer bytes (the unpacked image size).")
@click.option("--max-compressed", metavar="SIZE", help="Most compressed layer bytes (what a pull moves).")
@click.option(
    "--forbid", metavar="CATS", help=f"Comma-separated categories that fail CI: {', '.join(NAMES)}."
)
def analyze(
    image: str,
    insecure: bool,
    platform: str | None,
    no_verify: bool,
    as_json: bool,
    quiet: bool,
    limit: int | None,
    base: str | None,
    show_tree: bool,
    depth: int,
    ci: bool,
    ci_config: Path | None,
    min_efficiency: float | None,
    max_waste: str | None,
    max_waste_ratio: float | None,
    max_size: str | None,
    max_compressed: str | None,
    forbid: str | None,
) -> None:
    """Show what is inside IMAGE: layers, exact waste, duplicates and bloat, with a CI gate."""
    limits = Thresholds(
        min_efficiency,
        _size(max_waste),
        max_waste_ratio,
        _size(max_size),
        _size(max_compressed),
        _categories(forbid),
    )
    if ci_config is not None:
        limits = merge(load_thresholds(ci_config), limits)
    if not ci and not limits.empty:
        raise UsageError("thresholds (--min-efficiency, --max-waste, --ci-config, ...) need --ci")
    result = _analyze(image, insecure, platform, base, not no_verify, as_json or quiet)
    failed: list[str] = []
    if ci:
        limits = limits.with_defaults()
        failed = breaches(result, limits)
    if as_json:
        body = result.to_dict(100 if limit is None else limit)
        if ci:
            body["ci"] = {"passed": not failed, "breaches": failed}
        emit_json("analyze", body)
    elif ci:
        for line in failed:
            click.echo(f"FAIL: {line}")
        if not failed and not quiet:
            click.echo(
                f"PASS: efficiency {result.efficiency:.4f}, waste {result.waste_bytes} B, "
                f"size {result.tar_bytes} B"
            )
    elif not quiet:
        from pare.analyze.render import render_analysis, render_tree

        out = console()
        if show_tree:
            render_tree(result, out, depth=depth, limit=limit or 20)
        else:
            render_analysis(result, out, limit=10 if limit is None else (limit or 10**9))
    if failed:
        sys.exit(ExitCode.POLICY)


@click.command(epilog=LOCATIONS)
@click.argument("image_a")
@click.argument("image_b")
@_with_common
def diff(
    image_a: str,
    image_b: str,
    insecure: bool,
    platform: str | None,
    no_verify: bool,
    as_json: bool,
    quiet: bool,
    limit: int | None,
) -> None:
    """What changed from IMAGE_A to IMAGE_B: files and bytes, per category."""
    from pare.analyze.diff import diff as diff_images

    a = _analyze(image_a, insecure, platform, None, not no_verify, as_json or quiet)
    b = _analyze(image_b, insecure, platform, None, not no_verify, as_json or quiet)
    result = diff_images(a, b)
    if as_json:
        emit_json("diff", result.to_dict(100 if limit is None else limit))
    elif not quiet:
        from pare.analyze.render import render_diff

        render_diff(result, console(), limit=10 if limit is None else (limit or 10**9))
