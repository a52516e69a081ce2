"""What an engine driver is: build a Dockerfile in a context, hand back the result as an Image.

Every driver exports what it built into an OCI layout directory (or a docker-save archive) and
reads it back with pare's own stores, so everything after a build (analysis, copy, push, bench) is
the same whatever built the image. New engines (BuildKit remote builders, kaniko Jobs) implement
`build` and nothing else changes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pare.errors import PareError, ToolMissing
from pare.oci.image import Image


class EngineError(PareError):
    """The engine ran and failed (a RUN step, a missing base, a bad Dockerfile); `output` is all it
    printed (the message holds the tail), for callers that read what a build lacked."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


@dataclass(frozen=True)
class BuildRequest:
    """One engine build: the context directory holds the Dockerfile at `dockerfile` (relative)."""

    context: Path
    tag: str
    dockerfile: str = "Dockerfile"
    build_args: Mapping[str, str] = field(default_factory=dict)
    volumes: Sequence[tuple[str, str]] = ()  # (host path, container path), mounted read-only in RUN
    insecure_registries: bool = True  # bases come from a local plain-HTTP registry
    timestamp: int | None = None  # created time and file mtimes, for reproducible builds
    cache: bool = True  # reuse intermediate layers (warm builds)


@dataclass(frozen=True)
class EngineResult:
    image: Image
    location: str  # where the engine exported it (oci:DIR:TAG or docker-archive:FILE)
    seconds: float  # the build step alone, export excluded
    log: str = ""
    compressor: str = ""  # what gzipped the exported layers
    layers_compressed: int | None = None  # layer blobs gzipped by this export (None: the engine did it)
    layers_reused: int | None = None  # layer blobs reused from earlier exports by diff_id


def run(args: Sequence[str], *, env: Mapping[str, str] | None = None, what: str,
        timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """Run an engine command; failure becomes an EngineError carrying the tail of its output."""
    try:
        done = subprocess.run(list(args), env={**os.environ, **(env or {})}, capture_output=True, text=True,
                              check=False, timeout=timeout)
    except FileNotFoundError:
        raise ToolMissing(f"{args[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise EngineError(f"{what} timed out after {timeout:.0f} s") from None
    if done.returncode != 0:
        tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-15:]
        raise EngineError(f"{what} failed (exit {done.returncode}): " + " | ".join(tail),
                          done.stdout + done.stderr)
    return done


class Engine(ABC):
    """A container engine that can build Dockerfiles."""

    name: str = ""
    binary: str = ""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)

    def require(self) -> str:
        path = shutil.which(self.binary)
        if path is None:
            raise ToolMissing(f"{self.binary} is not installed (engine {self.name})")
        return path

    @abstractmethod
    def build(self, request: BuildRequest, export_dir: Path) -> EngineResult:
        """Build, then export the image under `export_dir` and read it back."""

    def load_image(self, name: str, image: Image) -> None:
        """Make `image` available to FROM as `name` without a registry; engines that cannot raise."""
        raise NotImplementedError(f"{self.name} cannot load images directly: use a base registry")

    def timed_build(self, args: Sequence[str], env: Mapping[str, str] | None = None) -> tuple[float, str]:
        start = time.perf_counter()
        done = run(args, env=env, what=f"{self.name} build")
        return time.perf_counter() - start, done.stdout + done.stderr
