"""Procfile: the process types an app declares (`web: gunicorn app:app`), read as Heroku reads them.

Only `web` matters to an image: it is the process that serves HTTP. Comments and blank lines are
skipped; a line that is not `name: command` or a process type named twice is an error naming the
file and line, since guessing would start the wrong process.
"""

from __future__ import annotations

import re
from pathlib import Path

from pare.errors import UsageError

PROCFILE = "Procfile"
_LINE = re.compile(r"^([A-Za-z0-9_-]+)\s*:\s*(.*?)\s*$")


def parse_procfile(text: str, source: str = PROCFILE) -> dict[str, str]:
    """Process type -> command line."""
    processes: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        found = _LINE.match(stripped)
        if not found or not found.group(2):
            raise UsageError(f"{source}: line {number}: expected `name: command`, got {stripped!r}")
        name, command = found.groups()
        if name in processes:
            raise UsageError(f"{source}: line {number}: process type {name!r} is declared twice")
        processes[name] = command
    return processes


def web_command(app_dir: Path) -> str | None:
    """The Procfile's `web:` command line, or None when there is no Procfile or no web process."""
    path = Path(app_dir) / PROCFILE
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: {exc}") from None
    return parse_procfile(text, str(path)).get("web")
