"""How every command prints, so scripts can rely on it (docs/cli.md).

- Results go to stdout; warnings, progress and errors to stderr.
- When stdout is not a terminal, nothing wraps (a digest stays on one line for grep) and no colour
  or markup codes appear, unless `--color=always`.
- `NO_COLOR` (any value) turns colour off; `--color=always|never|auto` wins over it.
- `--json` documents are objects with a versioned `schema` key, "pare.COMMAND/v1".

This module imports no rich at load time: `pare --help` stays fast.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

import click

if TYPE_CHECKING:
    from rich.console import Console

COLOR_CHOICES = ("auto", "always", "never")
_color = "auto"
UNWRAPPED = 1 << 16  # the width of a console that writes to a pipe or file: wide enough to never wrap


def set_color(mode: str) -> None:
    """The global `--color` option (the group's callback sets it)."""
    global _color
    _color = mode


def color_enabled(stream: TextIO) -> bool:
    """Colour on `stream`: --color=always/never wins, then NO_COLOR, then whether it is a terminal."""
    if _color == "always":
        return True
    if _color == "never" or os.environ.get("NO_COLOR"):
        return False
    return stream.isatty()


def console(stderr: bool = False) -> Console:
    """A rich console for stdout (or stderr) that follows the rules above."""
    from rich.console import Console

    class PipeAwareConsole(Console):
        def on_broken_pipe(self) -> None:  # rich would exit 1, the code of a failed check
            raise BrokenPipeError(32, "the reader of stdout went away")  # cli/main.py exits 141

    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    colour = color_enabled(stream)
    return PipeAwareConsole(file=stream, width=None if tty else UNWRAPPED,
                            force_terminal=colour if not tty else None, no_color=not colour,
                            color_system="auto" if colour else None, highlight=colour, soft_wrap=not tty)


def human_bytes(n: float | None) -> str:
    """1234567 -> '1.2 MB' (decimal units, as registries and skopeo count)."""
    if n is None:
        return "?"
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


def columns(rows: list[list[str]], right: tuple[int, ...] = (), gap: int = 2) -> list[str]:
    """Rows as aligned plain-text lines (columns in `right` flush right). No rich, no wrapping: what
    a command prints for grep and for a terminal alike, and cheap to import."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append((" " * gap).join(cells).rstrip())
    return lines


def emit_json(schema: str, body: dict[str, Any]) -> None:
    """Print a `--json` document: {"schema": "pare.SCHEMA/v1", ...body}."""
    import json
    doc = {"schema": f"pare.{schema}/v1", **body}
    click.echo(json.dumps(doc, indent=2, default=str))


def warn(message: str) -> None:
    """One warning line on stderr, where `>/dev/null` does not hide it."""
    click.echo(f"pare: warning: {message}", err=True)


def note(message: str) -> None:
    """A side remark (what was written where) on stderr, keeping stdout for the result."""
    click.echo(f"pare: {message}", err=True)
