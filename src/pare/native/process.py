"""Running a build tool (a compiler, a package manager) and turning its failure into one error line."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from pare.errors import PareError, ToolMissing


class BuildFailed(PareError):
    """The app's own toolchain (go build, npm ci, pip install) failed."""


def require_tool(name: str, path: str | None = None) -> str:
    found = path if path and os.access(path, os.X_OK) else shutil.which(name)
    if not found:
        raise ToolMissing(f"{name} is not installed (needed to build this app)")
    return found


def run_tool(args: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
             what: str = "") -> str:
    """Run a toolchain command; its stderr becomes the error message when it fails."""
    full_env = {**os.environ, **(env or {})}
    try:
        done = subprocess.run(list(args), cwd=cwd, env=full_env, capture_output=True, text=True,
                              check=False)
    except FileNotFoundError:
        raise ToolMissing(f"{args[0]} is not installed") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-12:]
        raise BuildFailed(f"{what or args[0]} failed (exit {done.returncode}): " + " | ".join(tail))
    return done.stdout
