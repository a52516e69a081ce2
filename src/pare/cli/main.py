"""The `pare` command group.

Subcommands live in their own modules and are imported only when invoked, so `pare --help` and a
single command start fast and one broken module cannot take the others down.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

from pare import __version__, caches
from pare.errors import PareError

# name -> "module:attribute" of a click.Command
COMMANDS: dict[str, tuple[str, str]] = {
    "pull": ("pare.cli.transfer", "pull"),
    "push": ("pare.cli.transfer", "push"),
    "copy": ("pare.cli.transfer", "copy"),
    "inspect": ("pare.cli.inspect", "inspect"),
    "registry": ("pare.cli.registry", "registry"),
    "analyze": ("pare.cli.analyze", "analyze"),
    "diff": ("pare.cli.analyze", "diff"),
    "base": ("pare.cli.base", "base"),
    "build": ("pare.cli.build", "build"),
    "dockerfile": ("pare.cli.build", "dockerfile"),
    "bench": ("pare.cli.bench", "bench"),
    "report": ("pare.cli.bench", "report"),
    "gc": ("pare.cli.cleanup", "gc"),
    "prune": ("pare.cli.cleanup", "prune"),
    "scan": ("pare.cli.scan", "scan"),
    "sbom": ("pare.cli.scan", "sbom"),
    "db": ("pare.cli.db", "db"),
    "lint": ("pare.cli.lint", "lint"),
    "fix": ("pare.cli.lint", "fix"),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._available(name))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command

    @staticmethod
    def _available(name: str) -> bool:
        return importlib.util.find_spec(COMMANDS[name][0]) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pare")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Make container images small, and prove what that buys."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def skip_httpx_cli() -> None:
    """Keep httpx from importing its own command-line tool (rich, pygments, click) when pare runs as
    a program: pare never runs it, and a registry command starts sooner. Done here, in the program's
    entry point and never on `import pare`, because it changes httpx for the whole process."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> Any:
    """Entry point: one clear line and a non-zero exit for user errors, tracebacks with --debug."""
    skip_httpx_cli()
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        with caches.held_by_command(args):  # so `pare prune` leaves caches alone while builds run
            return cli.main(args=args, prog_name="pare", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("pare: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except PareError as exc:
        if debug:
            raise
        click.echo(f"pare: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("pare: interrupted", err=True)
        sys.exit(130)
    except OSError as exc:
        if debug:
            raise
        click.echo(f"pare: error: {exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}",
                   err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
