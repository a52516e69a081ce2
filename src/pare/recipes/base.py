"""What a language recipe is, and the helpers every recipe shares (tools, caches, app layers).

A recipe knows one kind of app: how to recognise it, what runtime it asks for (resolved into lock
artifacts: pinned packages, never the build machine's), how to compile or install it with the
locked toolchain into a BuildPlan for the native assembler, and the facts the Dockerfile generator
needs (dependency manifests, build and install commands, what to run).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pare.errors import UsageError
from pare.native.lock import Artifact, Lock
from pare.native.plan import BuildPlan, FileSet, LayerPlan
from pare.native.platforms import Arch

# Never shipped in an app layer: VCS data, caches, local dependency trees, build outputs.
APP_EXCLUDES = (".git", ".hg", ".svn", "__pycache__", "*.pyc", ".venv", "venv", "node_modules",
                ".pare", ".DS_Store", ".pytest_cache", ".mypy_cache", ".ruff_cache")

DEFAULT_PORT = "8080"
# Bump when what a runtime is made of changes (its package set, its tools): locks written by an
# older resolution no longer answer the request and are resolved again.
RESOLVER_VERSION = "1"


@dataclass(frozen=True)
class DockerFacts:
    """Language facts for the Dockerfile generator (pare.engines.dockerfile)."""

    language: str  # go | node | python
    dep_files: tuple[str, ...]  # copied before the source so the dependency step is cached
    entry: str  # go: binary name; node/python: main script, relative to the app dir


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


@dataclass(frozen=True)
class RuntimeRequest:
    """What an app asks of its runtime: the language, a version range (None: the default, e.g. the
    current Node.js LTS) and the Debian suite its packages come from. A lock answers one request."""

    language: str
    version: str | None
    suite: str

    def lock_request(self) -> dict[str, str]:
        return {"language": self.language, "runtime": f"{self.language}@{self.version or 'default'}",
                "suite": self.suite, "resolver": RESOLVER_VERSION}


def parse_runtime(text: str, language: str) -> str:
    """`--runtime node@22` -> '22' (for a node app); the language must be the app's."""
    name, sep, version = text.partition("@")
    if not sep or not version.strip():
        raise UsageError(f"--runtime {text!r}: expected LANGUAGE@VERSION, e.g. {language}@...")
    if name != language:
        raise UsageError(f"--runtime {text!r} is for {name}, but this is a {language} app")
    return version.strip()


class Recipe(ABC):
    """One language. Subclasses set `name` and implement the abstract methods.

    runtime: a `LANGUAGE@VERSION` override of what the app's own files ask for; suite: the Debian
    suite runtime packages come from (default: the recipe's choice)."""

    name: str = ""
    default_suite = "bookworm"

    def __init__(self, app_dir: Path, *, runtime: str | None = None, suite: str | None = None) -> None:
        self.app_dir = Path(app_dir).resolve()
        if not self.app_dir.is_dir():
            raise UsageError(f"{app_dir}: not a directory")
        self.runtime_override = parse_runtime(runtime, self.name) if runtime else None
        self.suite_override = suite

    @property
    def app_name(self) -> str:
        return self.app_dir.name

    @classmethod
    @abstractmethod
    def matches(cls, app_dir: Path) -> bool:
        """True when `app_dir` looks like an app of this language."""

    def requested_version(self) -> str | None:
        """The runtime version the app's own files ask for (None: no preference)."""
        return None

    def request(self) -> RuntimeRequest:
        version = self.runtime_override or self.requested_version()
        return RuntimeRequest(self.name, version, self.suite_override or self.default_suite)

    @abstractmethod
    def resolve(self, arches: Sequence[Arch]) -> list[Artifact]:
        """Every artifact the image's runtime and the build's tools need, for these platforms."""

    @abstractmethod
    def native_plan(self, workdir: Path, lock: Lock, arch: Arch, *, cache: bool = True) -> BuildPlan:
        """Compile or install with the locked toolchain (scratch space in `workdir`) and plan the
        image for `arch`, its runtime taken from the lock's artifacts. cache=False: dependency
        installs and their download caches are made afresh (what --verify compares)."""

    @abstractmethod
    def docker_facts(self) -> DockerFacts:
        """What the Dockerfile generator needs to know."""
