"""What a language recipe is, and the helpers every recipe shares (tools, caches, app layers).

A recipe knows one kind of app: how to recognise it, how to compile or install it with the host
toolchain into a BuildPlan for the native assembler, and the facts the Dockerfile generator needs
(dependency manifests, build and install commands, what to run).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from pare.errors import PareError, ToolMissing, UsageError
from pare.native.plan import BuildPlan, FileSet, LayerPlan, ca_certificates, passwd_files

# Never shipped in an app layer: VCS data, caches, local dependency trees, build outputs.
APP_EXCLUDES = (".git", ".hg", ".svn", "__pycache__", "*.pyc", ".venv", "venv", "node_modules",
                ".pare", ".DS_Store", ".pytest_cache", ".mypy_cache", ".ruff_cache")

DEFAULT_PORT = "8080"


class BuildFailed(PareError):
    """The app's own toolchain (go build, npm ci, pip install) failed."""


@dataclass(frozen=True)
class DockerFacts:
    """Language facts for the Dockerfile generator (pare.engines.dockerfile)."""

    language: str  # go | node | python
    dep_files: tuple[str, ...]  # copied before the source so the dependency step is cached
    entry: str  # go: binary name; node/python: main script, relative to the app dir


def cache_root() -> Path:
    """Build caches (npm/pip installs keyed by lockfile): $PARE_BUILD_CACHE or the user cache dir."""
    env = os.environ.get("PARE_BUILD_CACHE")
    return Path(env) if env else Path(platformdirs.user_cache_dir("pare")) / "build"


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


def content_key(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()[:24]


def cached_dir(kind: str, key: str, populate: Callable[[Path], None]) -> Path:
    """A directory in the build cache, made once per key by `populate(tmpdir)` and renamed into
    place, so concurrent builds and interrupted ones never see a half-made tree."""
    final = cache_root() / kind / key
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=final.parent))
    try:
        populate(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another build won the race; same content
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def app_layer(app_dir: Path, image_dir: str = "app", extra_excludes: Sequence[str] = ()) -> LayerPlan:
    """The app's own files: the layer a one-line change re-pushes."""
    fs = FileSet("app")
    fs.add_tree(image_dir, app_dir, exclude=(*APP_EXCLUDES, *read_ignore(app_dir), *extra_excludes))
    return fs.freeze()


def read_ignore(app_dir: Path) -> list[str]:
    """Globs from .dockerignore / .pareignore (comments and negations ignored)."""
    patterns: list[str] = []
    for name in (".dockerignore", ".pareignore"):
        path = app_dir / name
        if path.is_file():
            for line in path.read_text(errors="replace").splitlines():
                line = line.strip().strip("/")
                if line and not line.startswith(("#", "!")):
                    patterns.append(line)
    return patterns


def runtime_files(fs: FileSet) -> None:
    """What every image needs whatever the language: CA bundle, passwd with nonroot, /tmp."""
    ca_certificates(fs)
    passwd_files(fs)


class Recipe(ABC):
    """One language. Subclasses set `name` and implement the three methods."""

    name: str = ""

    def __init__(self, app_dir: Path) -> None:
        self.app_dir = Path(app_dir).resolve()
        if not self.app_dir.is_dir():
            raise UsageError(f"{app_dir}: not a directory")

    @property
    def app_name(self) -> str:
        return self.app_dir.name

    @classmethod
    @abstractmethod
    def matches(cls, app_dir: Path) -> bool:
        """True when `app_dir` looks like an app of this language."""

    @abstractmethod
    def native_plan(self, workdir: Path) -> BuildPlan:
        """Compile or install with the host toolchain (scratch space in `workdir`) and plan the image."""

    @abstractmethod
    def docker_facts(self) -> DockerFacts:
        """What the Dockerfile generator needs to know."""
