"""Synthetic images of a chosen size, built with the image model: for testing the bench mechanics
(and `pare bench --synthetic`) without Debian bases or builds. The filler bytes are seeded random
data, so they do not compress (a 20 MB layer crosses the network as ~20 MB) and are deterministic.
"""

from __future__ import annotations

import random
import tarfile
import tempfile
from pathlib import Path

from pare.oci.config import ImageConfig
from pare.oci.image import Image
from pare.oci.layer import Layer, layer_from_tar
from pare.oci.mutate import append_layers
from pare.stores.layout import LayoutStore

CHUNK = 1 << 20


class _RandomReader:
    """`size` seeded pseudo-random bytes, produced a chunk at a time."""

    def __init__(self, size: int, seed: int) -> None:
        self.left = size
        self.rng = random.Random(seed)

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        n = min(n, CHUNK)
        self.left -= n
        return self.rng.randbytes(n)


def file_layer(name: str, size: int, seed: int, workdir: Path, text: bytes | None = None) -> Layer:
    """A gzip layer holding one file: `size` random bytes, or `text` when given."""
    with tempfile.TemporaryFile(dir=workdir) as tmp:
        with tarfile.open(fileobj=tmp, mode="w", format=tarfile.PAX_FORMAT) as tar:
            info = tarfile.TarInfo(name)
            info.mode, info.mtime = 0o644, 0
            if text is not None:
                import io
                info.size = len(text)
                tar.addfile(info, io.BytesIO(text))
            else:
                info.size = size
                tar.addfile(info, _RandomReader(size, seed))
        tmp.seek(0)
        return layer_from_tar(tmp, "gzip", workdir=workdir)


def synthetic_image(base_mb: float, app_kb: int, seed: int, workdir: Path) -> Image:
    """A 'base' layer of base_mb MB and an 'app' layer of app_kb KB."""
    workdir.mkdir(parents=True, exist_ok=True)
    layers = []
    if base_mb > 0:
        layers.append(file_layer("usr/lib/base.bin", int(base_mb * 1024 * 1024), seed, workdir))
    layers.append(file_layer("app/app.bin", app_kb * 1024, seed + 1, workdir))
    config = ImageConfig.new().to_dict()
    config["config"] = {"Entrypoint": ["/app/app.bin"]}
    return Image.assemble(config, layers)


def with_change(image: Image, nonce: str, workdir: Path) -> Image:
    """The image after a one-line code change: one small new layer on top."""
    layer = file_layer("app/VERSION", 0, 0, workdir, text=f"change {nonce}\n".encode())
    return append_layers(image, [layer])


def write_synthetic(layout: Path, base_mb: float, app_kb: int, seed: int) -> None:
    """Tags `v1` (the image) and `v2` (after a one-line change) in an OCI layout."""
    work = layout.parent / f".{layout.name}-work"
    image = synthetic_image(base_mb, app_kb, seed, work)
    store = LayoutStore(layout)
    store.write(image, "v1")
    store.write(with_change(image, "v2", work), "v2")
    import shutil
    shutil.rmtree(work, ignore_errors=True)
