"""Running a build tool (a compiler, a package manager) and turning its failure into one error line.

This is the one place pare runs a step that may execute an app's or a dependency's code: every such
step runs in the build sandbox (pare.native.sandbox), with an allow-listed environment (the
caller's own never leaks in), a time limit, and only the paths the step says it writes writable.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from pare.errors import PareError, ToolMissing
from pare.native import sandbox
from pare.native.cache import cache_root


class BuildFailed(PareError):
    """The app's own toolchain (go build, npm ci, pip install) failed."""


def require_tool(name: str, path: str | None = None) -> str:
    found = path if path and os.access(path, os.X_OK) else shutil.which(name)
    if not found:
        raise ToolMissing(f"{name} is not installed (needed to build this app)")
    return found


def run_tool(args: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
             what: str = "", writable: Sequence[Path] = (), readable: Sequence[Path] = (),
             network: bool = False) -> str:
    """Run a toolchain command in the build sandbox; its stderr becomes the error message when it
    fails. writable: the step's work and output trees (nothing else is); readable: what it reads
    beyond pare's build cache and the system's tools; network: the step fetches."""
    step = sandbox.Step(writable=tuple(Path(p) for p in writable), readable=tuple(Path(p) for p in readable),
                        network=network)
    try:
        done = sandbox.run(list(args), step, cwd=cwd, env=env, cache=cache_root(), what=what)
    except FileNotFoundError:
        raise ToolMissing(f"{args[0]} is not installed") from None
    if done.returncode != 0:
        tail = (done.stderr.strip() + "\n" + done.stdout.strip()).strip().splitlines()[-12:]
        raise BuildFailed(f"{what or args[0]} failed (exit {done.returncode}): " + " | ".join(tail))
    return done.stdout
