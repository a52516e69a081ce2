"""The `pare` command group.

Subcommands live in their own modules and are imported only when invoked, so `pare --help` and a
single command start fast and one broken module cannot take the others down.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import importlib.util
import os
import sys
from typing import Any, NoReturn

import click

from pare import __version__, caches
from pare.cli.output import COLOR_CHOICES, set_color
from pare.errors import ExitCode, PareError

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
    "images": ("pare.cli.images", "images"),
    "ls": ("pare.cli.images", "images"),
    "completion": ("pare.cli.completion", "completion"),
}


# What `pare --help` lists, so that listing imports no command (each command's docstring's first
# paragraph; tests/unit/test_cli_startup.py keeps the two equal). A command missing here is imported
# for its help: correct, only slower.
HELP: dict[str, str] = {
    "analyze": "Show what is inside IMAGE: layers, exact waste, duplicates and bloat, with a CI gate.",
    "base": "Build and inspect Debian base images (fat, slim and distroless profiles).",
    "bench": "Measure what small images buy: size, build, push and pull per variant and machine profile, "
             "and how fast a fresh Kubernetes node gets its pods running.",
    "build": "Detect APP_DIR's language and build the smallest image that runs it.",
    "completion": "Print the completion script for SHELL (bash, zsh or fish).",
    "copy": "Copy an image between any two locations (oci:, docker-archive:, local:, registry).",
    "db": "Offline vulnerability data: OSV records in a local SQLite index.",
    "diff": "What changed from IMAGE_A to IMAGE_B: files and bytes, per category.",
    "dockerfile": "Print the builder-pattern Dockerfile pare would build APP_DIR with.",
    "gc": "Remove blobs no image references from OCI layouts (default: local:, the embedded store).",
    "images": "List the images in OCI layouts (default: local:, the embedded store), with sizes.",
    "inspect": "Show the manifest, config and layers of the image at LOCATION (any store).",
    "prune": "Remove pare's caches (all, or the NAMES given); a cache in use is skipped.",
    "pull": "Pull REF from a registry into DEST (default: the embedded store, tagged REF).",
    "push": "Push the image at SRC (local:NAME, oci:DIR[:TAG], docker-archive:FILE[:REF]) to registry REF.",
    "registry": "Run the CNCF Distribution registry locally (127.0.0.1 only).",
    "report": "Summarise `pare bench` results in the terminal, and as a self-contained HTML page.",
    "sbom": "The packages inside IMAGE as an SBOM (with purls, licences and the layer that added each).",
    "scan": "Known vulnerabilities in IMAGE, from offline OSV data, and how much of the image the scan saw.",
}
ALIASES = {"ls": "images"}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (`--help` imports none of them)."""

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


def skip_httpx_cli() -> None:
    """Keep httpx from importing its own command-line tool (rich, pygments, click) when pare runs as
    a program: pare never runs it, and a registry command starts sooner. Done here, in the program's
    entry point and never on `import pare`, because it changes httpx for the whole process."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"pare: error: {message}", err=True)
    sys.exit(code)


def _usage_message(exc: click.UsageError) -> str:
    """click's message in pare's one-line form, with where to read more."""
    text = " ".join(exc.format_message().split())
    command = exc.ctx.command_path if exc.ctx is not None else "pare"
    return f"{text} (see '{command} --help')"


def _os_error_code(exc: OSError) -> int:
    """A missing or unreadable input is the user's; a full disk or a refused permission is the machine's."""
    if isinstance(exc, ConnectionError | TimeoutError):
        return ExitCode.NETWORK
    if exc.errno in (errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EROFS, errno.EDQUOT):
        return ExitCode.ENVIRONMENT
    return ExitCode.INPUT


def main(argv: list[str] | None = None) -> Any:
    """Entry point: one clear line and the documented exit code for user errors (errors.ExitCode),
    tracebacks with --debug."""
    skip_httpx_cli()
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        with caches.held_by_command(args):  # so `pare prune` leaves caches alone while builds run
            return cli.main(args=args, prog_name="pare", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("pare: aborted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.UsageError as exc:
        _fail(_usage_message(exc), ExitCode.USAGE)
    except click.FileError as exc:
        _fail(" ".join(exc.format_message().split()), ExitCode.INPUT)
    except click.ClickException as exc:
        _fail(" ".join(exc.format_message().split()), ExitCode.USAGE)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except PareError as exc:
        if debug:
            raise
        _fail(str(exc), int(exc.exit_code))
    except KeyboardInterrupt:
        click.echo("pare: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except BrokenPipeError:  # `pare ... | head`: the reader left; so do we, quietly, as coreutils do
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush into
        sys.exit(ExitCode.BROKEN_PIPE)
    except OSError as exc:
        if debug:
            raise
        where = f": {exc.filename}" if exc.filename else ""
        _fail(f"{exc.strerror or exc}{where}", _os_error_code(exc))
    except Exception:
        import traceback
        traceback.print_exc()
        click.echo("pare: internal error (a bug; please report it with the traceback above)", err=True)
        sys.exit(ExitCode.BUG)


if __name__ == "__main__":
    main()
