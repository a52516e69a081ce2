"""`pare registry up|down|status`: a real local registry bound to 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pare.localregistry import LocalRegistry, state_dir


def _registry(root: Path | None, port: int) -> LocalRegistry:
    return LocalRegistry(root or state_dir(), port=port)


_root = click.option("--dir", "root", type=click.Path(path_type=Path), default=None,
                     help="State directory: config, storage, pid and log (default: user data dir).")
_port = click.option("--port", type=int, default=5000, show_default=True, help="Port on 127.0.0.1.")


@click.group()
def registry() -> None:
    """Run the CNCF Distribution registry locally (127.0.0.1 only)."""


@registry.command()
@_root
@_port
def up(root: Path | None, port: int) -> None:
    """Start the registry (a no-op when it already runs)."""
    reg = _registry(root, port)
    reg.up()
    click.echo(f"registry up at {reg.address} (storage {reg.storage}, pid {reg.pid()})")


@registry.command()
@_root
@_port
def down(root: Path | None, port: int) -> None:
    """Stop the registry started from this state directory."""
    reg = _registry(root, port)
    click.echo("registry stopped" if reg.down() else "registry was not running")


@registry.command()
@_root
@_port
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(root: Path | None, port: int, as_json: bool) -> None:
    """Is the registry running, where, and where does it store blobs."""
    info = _registry(root, port).status()
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        state = "running" if info["running"] else "stopped"
        click.echo(f"registry {state} at {info['address']} (pid {info['pid']}, storage {info['storage']})")
    if not info["running"]:
        raise SystemExit(3)
