"""Small real images for the registry tests: deterministic tars, real compression, real digests."""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
from pathlib import Path

from pare.oci import mediatypes as mt
from pare.oci.config import ImageConfig
from pare.oci.image import Image
from pare.oci.layer import Layer, layer_from_tar


def tar_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def noise(size: int, seed: int) -> bytes:
    """Incompressible bytes, the same for the same seed."""
    return random.Random(seed).randbytes(size)


def make_image(workdir: Path, *layers: dict[str, bytes], compression: mt.Compression = "gzip",
               media_type: str = mt.OCI_MANIFEST, architecture: str = "amd64") -> Image:
    built: list[Layer] = [layer_from_tar(io.BytesIO(tar_of(files)), compression, workdir=workdir,
                                         docker=mt.is_docker(media_type)) for files in layers]
    return Image.assemble(ImageConfig.new(architecture=architecture), built, media_type)


def blob_bytes(layer: Layer) -> bytes:
    with layer.open() as stream:
        return stream.read()


def corrupt_blobs(directory: Path) -> list[str]:
    """Names of files under a blobs/sha256 dir whose content does not hash to their name."""
    bad = []
    for path in directory.iterdir():
        if hashlib.sha256(path.read_bytes()).hexdigest() != path.name:
            bad.append(path.name)
    return bad
