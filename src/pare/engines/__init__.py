"""Engine drivers: buildah (default), podman, docker. `get_engine(name, state_dir)` picks one."""

from __future__ import annotations

from pathlib import Path

from pare.engines.base import BuildRequest, Engine, EngineError, EngineResult
from pare.errors import UsageError

ENGINES = ("buildah", "podman", "docker")


def get_engine(name: str, state_dir: Path) -> Engine:
    if name == "buildah":
        from pare.engines.buildah import BuildahEngine
        return BuildahEngine(state_dir)
    if name == "podman":
        from pare.engines.podman import PodmanEngine
        return PodmanEngine(state_dir)
    if name == "docker":
        from pare.engines.docker import DockerEngine
        return DockerEngine(state_dir)
    raise UsageError(f"unknown engine {name!r} (choose from {', '.join(ENGINES)})")


__all__ = ["ENGINES", "BuildRequest", "Engine", "EngineError", "EngineResult", "get_engine"]
