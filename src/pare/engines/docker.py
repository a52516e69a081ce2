"""docker (BuildKit) against a running dockerd: DOCKER_HOST, or the `host` given.

The result leaves the daemon as a `docker save` archive that pare's ArchiveStore reads; its
uncompressed layers are gzipped as `docker push` would (pare.engines.layerblobs). RUN steps
use the host network (never docker's default bridge). `docker build` has no bind mounts, so a
proxy CA bundle reaches npm/pip only through a secret or a base that already trusts it, and
docker 20.10 has no --timestamp: its builds are not reproducible the way buildah's are.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from pare.engines.base import BuildRequest, Engine, EngineResult, run
from pare.engines.layerblobs import gzip_like_docker
from pare.oci import gogzip
from pare.stores.archive import ArchiveStore


class DockerEngine(Engine):
    name = "docker"
    binary = "docker"

    def __init__(self, state_dir: Path, host: str | None = None) -> None:
        super().__init__(state_dir)
        self.host = host or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"

    def require(self) -> str:
        """$PARE_DOCKER, else Debian's client (BuildKit built in), else `docker` on PATH (which may
        need the buildx plugin for BuildKit)."""
        for candidate in (os.environ.get("PARE_DOCKER"), "/usr/bin/docker"):
            if candidate and os.access(candidate, os.X_OK):
                return candidate
        return super().require()

    def env(self) -> dict[str, str]:
        return {"DOCKER_HOST": self.host, "DOCKER_BUILDKIT": "1"}

    def build(self, request: BuildRequest, export_dir: Path) -> EngineResult:
        docker = self.require()
        args = [docker, "build", "--network", "host", "-f", str(request.context / request.dockerfile),
                "-t", request.tag]
        if not request.cache:
            args.append("--no-cache")
        for key, value in sorted(request.build_args.items()):
            args += ["--build-arg", f"{key}={value}"]
        if request.timestamp is not None:
            args += ["--build-arg", f"SOURCE_DATE_EPOCH={request.timestamp}"]
        start = time.perf_counter()
        done = run([*args, str(request.context)], env=self.env(), what="docker build")
        seconds = time.perf_counter() - start
        export_dir.mkdir(parents=True, exist_ok=True)
        archive = export_dir / "image.tar"
        run([docker, "save", "-o", str(archive), request.tag], env=self.env(), what="docker save")
        image = ArchiveStore(archive).read(request.tag)
        location, log = f"docker-archive:{archive}:{request.tag}", done.stdout + done.stderr
        if not gogzip.available():  # docker save's layers stay uncompressed
            return EngineResult(image, location, seconds, log, "none (docker save)")
        gzipped = gzip_like_docker(image)  # what docker push would send
        return EngineResult(gzipped.image, location, seconds, log, gogzip.describe(), gzipped.compressed,
                            gzipped.reused)
