"""The `pare` click group: subcommands from cli/main.py's COMMANDS table, imported on first use.

Kept apart from cli/main.py so that `pare --version` starts without importing click.
"""

from __future__ import annotations

import importlib
import importlib.util

import click

from pare import __version__
from pare.cli.main import ALIASES, COMMANDS, HELP
from pare.cli.output import COLOR_CHOICES, set_color


class ReaderGone(Exception):
    """stdout's reader went away (`pare ... | head`). Raised instead of BrokenPipeError, which click
    would turn into a silent exit 1, the code of a failed check; cli/main.py exits 141 for it."""


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (`--help` imports none of them)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:  # `pare --help | head` writes the help while parsing
            return super().parse_args(ctx, args)
        except BrokenPipeError:
            raise ReaderGone() from None

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise ReaderGone() from None

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

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's command list, from HELP rather than from each imported command."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in ALIASES:
                rows.append((name, f"Same as `pare {ALIASES[name]}`."))
            elif name in HELP:
                rows.append((name, click.Command(name, help=HELP[name]).get_short_help_str(limit)))
            elif (command := self.get_command(ctx, name)) is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    @staticmethod
    def _available(name: str) -> bool:
        return importlib.util.find_spec(COMMANDS[name][0]) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pare")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option("--color", type=click.Choice(COLOR_CHOICES), default="auto", show_default=True,
              help="Colour in output (NO_COLOR in the environment means never, unless this says always).")
@click.pass_context
def cli(ctx: click.Context, debug: bool, color: str) -> None:
    """Make container images small, and prove what that buys.

    \b
    Exit codes: 0 ok, 1 a check you asked for failed (--fail-on, --ci), 2 usage,
    3 input not found or invalid, 4 network or registry, 5 environment (missing tool, no root).
    Locations: oci:DIR[:TAG], docker-archive:FILE[:REF], local:NAME, HOST[:PORT]/NAME[:TAG] or
    docker://NAME. A bare name (app:1) is refused: pare never guesses a registry."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    set_color(color)
