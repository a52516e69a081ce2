"""`pare registry up|down|status`: a real local registry bound to 127.0.0.1.

`up` records host, port, pid and directory in the state directory's registry.json; `status` and
`down` read it back, so `pare registry up --port 5055` then `pare registry status` reports 5055.
"""

from __future__ import annotations

from pathlib import Path

import click

from pare.cli.output import emit_json
from pare.errors import ExitCode
from pare.localregistry import DEFAULT_PORT, LocalRegistry, state_dir


def _registry(root: Path | None, port: int | None) -> LocalRegistry:
    return LocalRegistry.at(root or state_dir(), port)


_root = click.option("--dir", "root", type=click.Path(path_type=Path), default=None,
                     help="State directory: config, storage, pid and log (default: user data dir).")
_port = click.option("--port", type=click.IntRange(1, 65535), default=None,
                     help=f"Port on 127.0.0.1 (up: default {DEFAULT_PORT}; status, down: the one up "
                          "recorded).")
_quiet = click.option("-q", "--quiet", is_flag=True, help="Print nothing; the exit code says it.")


@click.group()
def registry() -> None:
    """Run the CNCF Distribution registry locally (127.0.0.1 only)."""


@registry.command()
@_root
@_port
@_quiet
def up(root: Path | None, port: int | None, quiet: bool) -> None:
    """Start the registry (a no-op when it already runs)."""
    reg = _registry(root, port)
    if port is None and reg.pid() is None:  # a state file left by a registry that died: the default
        reg = LocalRegistry(reg.root, port=DEFAULT_PORT)
    reg.up()
    if not quiet:
        click.echo(f"registry up at {reg.address} (storage {reg.storage}, pid {reg.pid()})")


@registry.command()
@_root
@_port
@_quiet
def down(root: Path | None, port: int | None, quiet: bool) -> None:
    """Stop the registry started from this state directory."""
    reg = _registry(root, port)
    stopped = reg.down()
    if not quiet:
        click.echo(f"registry at {reg.address} stopped" if stopped else "registry was not running")


@registry.command()
@_root
@_port
@_quiet
@click.option("--json", "as_json", is_flag=True, help="Print JSON (schema pare.registry-status/v1).")
def status(root: Path | None, port: int | None, quiet: bool, as_json: bool) -> None:
    """Is the registry running, where, and where does it store blobs.

    Exits 0 when it runs and 3 when it does not (as `systemctl status` tells inactive apart)."""
    info = _registry(root, port).status()
    if as_json:
        emit_json("registry-status", info)
    elif not quiet:
        if info["running"]:
            click.echo(f"registry running at {info['address']} (pid {info['pid']}, "
                       f"storage {info['storage']})")
        else:
            click.echo(f"registry not running (state directory {info['dir']})")
    if not info["running"]:
        raise SystemExit(ExitCode.INPUT)
