"""The `pare` program: its command table, and the entry point that turns errors into exit codes.

Subcommands live in their own modules and are imported only when invoked (COMMANDS; `pare --help`
reads HELP instead), so `pare --help` and a single command start fast and one broken module cannot
take the others down. The click group is in cli/group.py; `pare --version` needs neither it nor
click. Exit codes and error lines follow docs/cli.md (pare.errors.ExitCode).
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from pare import __version__
from pare.errors import ExitCode, PareError

if TYPE_CHECKING:
    import click

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
    "fix": "Rewrite DOCKERFILE toward what `pare lint` asks for, and print the unified diff.",
    "gc": "Remove blobs no image references from OCI layouts (default: local:, the embedded store).",
    "images": "List the images in OCI layouts (default: local:, the embedded store), with sizes.",
    "inspect": "Show the manifest, config and layers of the image at LOCATION (any store).",
    "lint": "Review DOCKERFILES (`-` for stdin) for bytes that need not ship and for what hadolint checks.",
    "prune": "Remove pare's caches (all, or the NAMES given); a cache in use is skipped.",
    "pull": "Pull REF from a registry into DEST (default: the embedded store, tagged REF).",
    "push": "Push the image at SRC (local:NAME, oci:DIR[:TAG], docker-archive:FILE[:REF]) to registry REF.",
    "registry": "Run the CNCF Distribution registry locally (127.0.0.1 only).",
    "report": "Summarise `pare bench` results in the terminal, and as a self-contained HTML page.",
    "sbom": "The packages inside IMAGE as an SBOM (with purls, licences and the layer that added each).",
    "scan": "Known vulnerabilities in IMAGE, from offline OSV data, and how much of the image the scan saw.",
}
ALIASES = {"ls": "images"}


def __getattr__(name: str) -> Any:
    """`cli` and `LazyGroup` live in pare.cli.group, loaded on first use: `pare --version` needs no click."""
    if name in ("cli", "LazyGroup"):
        from pare.cli import group
        return getattr(group, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def skip_httpx_cli() -> None:
    """Keep httpx from importing its own command-line tool (rich, pygments, click) when pare runs as
    a program: pare never runs it, and a registry command starts sooner. Done here, in the program's
    entry point and never on `import pare`, because it changes httpx for the whole process."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def _fail(message: str, code: int) -> NoReturn:
    print(f"pare: error: {message}", file=sys.stderr)
    sys.exit(code)


def _reader_gone() -> NoReturn:
    """`pare ... | head`: the reader left; so do we, quietly, with the code coreutils give (141)."""
    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush into
    sys.exit(ExitCode.BROKEN_PIPE)


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
    if args == ["--version"] and "_PARE_COMPLETE" not in os.environ:  # as click would say it, without click
        try:
            print(f"pare, version {__version__}", flush=True)
        except BrokenPipeError:
            _reader_gone()
        return None
    import click

    from pare import caches
    from pare.cli.group import ReaderGone, cli
    debug = "--debug" in args
    try:
        with caches.held_by_command(args):  # so `pare prune` leaves caches alone while builds run
            result = cli.main(args=args, prog_name="pare", standalone_mode=False)
        sys.stdout.flush()  # here, so a reader that left (`| head`) is a BrokenPipeError caught below
        return result
    except click.exceptions.Abort:
        click.echo("pare: aborted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.exceptions.NoArgsIsHelpError as exc:  # `pare`, `pare db`: the help, then usage's code
        click.echo(exc.format_message(), err=True)
        sys.exit(ExitCode.USAGE)
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
    except (BrokenPipeError, ReaderGone):
        _reader_gone()
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
