"""buildah (the default engine here): daemonless, rootless-capable, chroot isolation; overlay storage
where the kernel allows it, else vfs (see storage.py).

State (images, layer cache) lives in a private --root/--runroot under pare's cache, never in the
machine's shared containers storage, so builds do not disturb (or depend on) anything else.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from pare.engines.base import BuildRequest, Engine, EngineError, EngineResult, run
from pare.engines.layerblobs import gzip_like_docker
from pare.engines.storage import storage_driver
from pare.errors import InvalidReference
from pare.oci import gogzip
from pare.oci import mediatypes as mt
from pare.oci.image import Image
from pare.oci.reference import Reference
from pare.stores.layout import LayoutStore

_HEX64 = re.compile(r"[0-9a-f]{64}")


def load_dir(parent: Path = Path("/tmp")) -> Path:
    """A new private directory (mkdtemp: created atomically, mode 0700, unpredictable name) whose path
    is also a valid repository name, because buildah names an image pulled from `oci:PATH` after it.
    A fixed or guessable name in /tmp lets another user plant a symlink there first."""
    for _ in range(100):
        path = Path(tempfile.mkdtemp(prefix="pare-load-", dir=parent))
        try:
            Reference.parse(f"localhost{path}")
            return path
        except InvalidReference:  # mkdtemp's '_' can start, end or triple a separator
            path.rmdir()
    raise EngineError(f"no temp directory under {parent} makes a valid image name")


def dir_to_layout(directory: Path, tag: str) -> None:
    """Turn a containers/image `dir:` export into an OCI layout in place: the same blobs, moved
    under blobs/sha256, the manifest stored as a blob and named `tag` in index.json."""
    manifest = (directory / "manifest.json").read_bytes()
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for entry in directory.iterdir():
        if entry.is_file() and _HEX64.fullmatch(entry.name):
            entry.rename(blobs / entry.name)
    digest = hashlib.sha256(manifest).hexdigest()
    (blobs / digest).write_bytes(manifest)
    media_type = json.loads(manifest).get("mediaType") or mt.OCI_MANIFEST
    index = {"schemaVersion": 2, "manifests": [{"mediaType": media_type, "digest": f"sha256:{digest}",
                                                 "size": len(manifest),
                                                 "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    (directory / "index.json").write_text(json.dumps(index))
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    for leftover in ("manifest.json", "version"):
        (directory / leftover).unlink(missing_ok=True)


class BuildahEngine(Engine):
    name = "buildah"
    binary = "buildah"

    def global_args(self) -> list[str]:
        return [self.require(), "--root", str(self.state_dir / "root"), "--runroot",
                str(self.state_dir / "runroot"), "--storage-driver", storage_driver(self.state_dir)]

    def env(self) -> dict[str, str]:
        tmp = self.state_dir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return {"TMPDIR": str(tmp), "BUILDAH_ISOLATION": "chroot"}

    def build_args(self, request: BuildRequest) -> list[str]:
        args = ["bud", "--isolation", "chroot", "-f", str(request.context / request.dockerfile),
                "-t", request.tag, f"--layers={'true' if request.cache else 'false'}"]
        if request.insecure_registries:
            args.append("--tls-verify=false")
        if request.timestamp is not None:
            args += ["--timestamp", str(request.timestamp)]
        for key, value in sorted(request.build_args.items()):
            args += ["--build-arg", f"{key}={value}"]
        for host, container in request.volumes:
            args += ["-v", f"{host}:{container}:ro"]
        return [*args, str(request.context)]

    # push flags that leave layers uncompressed in a `dir:` export, for pare to gzip them as docker
    # push does (buildah's default is to compress; podman's push to dir: keeps the source's, none)
    uncompressed_flags: tuple[str, ...] = ("--disable-compression",)

    def export(self, tag: str, export_dir: Path, env: Mapping[str, str], *, compress: bool = True) -> str:
        """Push the built image into an OCI layout at export_dir; `compress=False` leaves its layers
        uncompressed (containers/image gzips every layer it writes to an oci: layout, so those go
        through a dir: export first)."""
        name = tag.rsplit(":", 1)[-1] if ":" in tag else "latest"
        location = f"oci:{export_dir}:{name}"
        target = location if compress else f"dir:{export_dir}"
        flags = [] if compress else list(self.uncompressed_flags)
        run([*self.global_args(), "push", "--tls-verify=false", "--quiet", *flags, tag, target], env=env,
            what=f"{self.name} push")
        if not compress:
            dir_to_layout(export_dir, name)
        return location

    def build(self, request: BuildRequest, export_dir: Path) -> EngineResult:
        env = self.env()
        seconds, log = self.timed_build([*self.global_args(), *self.build_args(request)], env)
        docker_gzip = gogzip.available()
        location = self.export(request.tag, export_dir, env, compress=not docker_gzip)
        image = LayoutStore(export_dir).read(location.rsplit(":", 1)[-1])
        if not docker_gzip:
            return EngineResult(image, location, seconds, log, f"{self.name} push (containers/image pgzip)")
        gzipped = gzip_like_docker(image)
        return EngineResult(gzipped.image, location, seconds, log, gogzip.describe(), gzipped.compressed,
                            gzipped.reused)

    def has_image(self, name: str) -> bool:
        args = [*self.global_args(), "inspect", "--type", "image", name]
        return subprocess.run(args, env={**os.environ, **self.env()}, capture_output=True,
                              check=False).returncode == 0

    def load_image(self, name: str, image: Image) -> None:
        """Put `image` into the engine's storage as `name` (once), so FROM name needs no registry."""
        if self.has_image(name):
            return
        env = self.env()
        tmp = load_dir()
        try:
            LayoutStore(tmp).write(image, "load")
            done = run([*self.global_args(), "pull", "--quiet", f"oci:{tmp}:load"], env=env,
                       what=f"{self.name} pull")
            image_id = done.stdout.strip().splitlines()[-1]
            run([*self.global_args(), "tag", image_id, name], env=env, what=f"{self.name} tag")
            # drop the temporary name the pull gave it (best effort: the image stays under `name`)
            subprocess.run([*self.global_args(), "rmi", f"localhost{tmp}"], env={**os.environ, **env},
                           capture_output=True, check=False)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def remove(self, tag: str) -> None:
        """Drop a built image (its cached layers stay until `prune`)."""
        run([*self.global_args(), "rmi", "-f", tag], env=self.env(), what=f"{self.name} rmi")

    def prune(self) -> None:
        run([*self.global_args(), "rmi", "--prune", "--force"], env=self.env(), what=f"{self.name} prune")
