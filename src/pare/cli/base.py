"""`pare base build|list|show`: Debian base images from the profiles in pare/profiles."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from pare.bases import cache
from pare.bases.profiles import Profile, load_profile, profile_names
from pare.cli.output import console, emit_json
from pare.progress import heartbeat


def _mb(value: int | None) -> str:
    return "-" if value is None else f"{value / 1e6:.1f} MB"


def _target(push: str, profile: str) -> str:
    """`--push HOST:PORT` means the default reference there; anything else is a full location."""
    if "/" not in push and ":" in push and not push.startswith(("oci:", "local:", "docker")):
        return cache.base_reference(profile, push)
    return push


@click.group()
def base() -> None:
    """Build and inspect Debian base images (fat, slim and distroless profiles)."""


@base.command("build")
@click.argument("profile")
@click.option("--push", "push", metavar="REF",
              help="Also push to a registry (HOST:PORT or a full reference).")
@click.option("-t", "--tag", "dest", metavar="DEST", help="Also write to DEST (oci:DIR:TAG, local:NAME...).")
@click.option("--no-cache", is_flag=True, help="Rebuild even when the cache holds this base.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the digest.")
@click.option("-v", "--verbose", is_flag=True, help="Show the builder's log (mmdebstrap, package list).")
def build(profile: str, push: str | None, dest: str | None, no_cache: bool, quiet: bool,
          verbose: bool) -> None:
    """Build PROFILE (a name from `pare base list`, NAME@SUITE for trixie or forky, or a .toml path)
    into the base cache."""
    from pare.stores.transports import open_location
    prof = load_profile(profile)
    before = cache.status(prof)
    started = time.monotonic()
    with heartbeat(f"base {prof.name}", quiet=quiet or verbose or (before.cached and not no_cache)):
        image = cache.ensure_base(prof, rebuild=no_cache, log=sys.stderr if verbose else None)
    after = cache.status(prof)
    elapsed = time.monotonic() - started
    record = after.record or {}
    outputs = []
    for location in filter(None, (dest, _target(push, prof.name) if push else None)):
        store, name = open_location(location)
        store.write(image, name)
        outputs.append(location)
    if quiet:
        click.echo(str(image.digest))
        return
    how = "cached" if before.cached and not no_cache else f"built in {elapsed:.1f} s"
    click.echo(f"{prof.name}: {image.digest} ({how})")
    click.echo(f"  tag      {cache.bases_dir()}:{after.tag}")
    click.echo(f"  size     {_mb(record.get('tar_bytes'))} tar, {_mb(image.compressed_size)} compressed, "
               f"{len(record.get('packages', []))} packages")
    for location in outputs:
        click.echo(f"  wrote    {location}")


def _row(prof: Profile, st: cache.BaseStatus) -> dict[str, Any]:
    record = st.record or {}
    return {"profile": prof.name, "builder": prof.builder if prof.builder == "debs" else prof.variant,
            "cached": st.cached, "tag": st.tag, "digest": record.get("digest"),
            "tar_bytes": record.get("tar_bytes"), "compressed_bytes": record.get("compressed_bytes"),
            "packages": len(record.get("packages", [])) if record else None,
            "build_seconds": record.get("seconds"), "description": prof.description}


@base.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (schema pare.base-list/v1).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the profile names.")
def list_(as_json: bool, quiet: bool) -> None:
    """Profiles, what each is for, and whether its base is cached."""
    rows = []
    for name in profile_names():
        prof = load_profile(name)
        rows.append(_row(prof, cache.status(prof)))
    if as_json:
        emit_json("base-list", {"profiles": rows})
        return
    if quiet:
        for row in rows:
            click.echo(row["profile"])
        return
    from rich.table import Table
    table = Table(box=None, pad_edge=False)
    for column in ("profile", "kind", "cached", "tar", "gzip", "pkgs", "built in", "description"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["profile"], row["builder"], "yes" if row["cached"] else "no",
                      _mb(row["tar_bytes"]) if row["cached"] else "", _mb(row["compressed_bytes"])
                      if row["cached"] else "", str(row["packages"] or ""),
                      f"{row['build_seconds']} s" if row["cached"] else "", row["description"])
    console().print(table)


@base.command("show")
@click.argument("profile")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (schema pare.base-show/v1).")
@click.option("--packages", is_flag=True, help="List the packages of the cached base.")
def show(profile: str, as_json: bool, packages: bool) -> None:
    """One profile: its settings, cache key and (when built) digest, sizes and packages."""
    prof = load_profile(profile)
    st = cache.status(prof)
    row = _row(prof, st)
    row.update({"key": st.key, "suite": prof.suite, "architecture": prof.architecture,
                "variant": prof.variant, "include": list(prof.packages), "slim": prof.slim,
                "env": prof.env, "user": prof.user, "workdir": prof.workdir,
                "entrypoint": list(prof.entrypoint), "cmd": list(prof.cmd), "labels": prof.labels})
    if packages or as_json:
        row["package_list"] = (st.record or {}).get("packages", [])
    if as_json:
        emit_json("base-show", row)
        return
    for key in ("profile", "description", "builder", "suite", "architecture", "include", "slim", "env",
                "user", "workdir", "entrypoint", "cmd", "key", "tag", "cached", "digest"):
        value = row.get(key)
        if value in (None, "", [], {}):
            continue
        click.echo(f"{key:13} {value}")
    if st.cached:
        click.echo(f"{'size':13} {_mb(row['tar_bytes'])} tar, {_mb(row['compressed_bytes'])} compressed, "
                   f"{row['packages']} packages, built in {row['build_seconds']} s")
    for line in row.get("package_list", []) if packages else []:
        click.echo(f"  {line}")
