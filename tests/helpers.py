"""Shared test helpers: deterministic tars and small real images (real compression, real digests),
the CLI run in-process, and a multi-platform layout."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import io
import json
import random
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pare.oci import mediatypes as mt
from pare.oci.config import ImageConfig
from pare.oci.descriptor import Descriptor, Platform
from pare.oci.image import Image
from pare.oci.layer import Layer, layer_from_tar
from pare.oci.manifest import Index


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


def run_cli(args: list[str], capsys: Any) -> tuple[int, str, str]:
    """`pare ARGS` in-process: exit code, stdout, stderr."""
    from pare.cli.main import main
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def write_multiarch(layout_dir: Path, amd: Image, name: str) -> tuple[Image, Index]:
    """Write `amd` and an arm64 twin (same layers) to the layout, plus an index tagged `name` over both;
    returns the arm64 image and the index."""
    from pare.stores.layout import REF_NAME, LayoutStore
    body = amd.config.to_dict()
    body["architecture"] = "arm64"
    arm = Image.assemble(body, amd.layers)
    store = LayoutStore(layout_dir)
    store.write(amd)
    store.write(arm)
    index = Index.build([amd.manifest.descriptor(Platform("linux", "amd64")),
                         arm.manifest.descriptor(Platform("linux", "arm64"))])
    (layout_dir / "blobs" / "sha256" / index.digest.hex).write_bytes(index.raw)
    entry = Descriptor(mt.OCI_INDEX, index.digest, len(index.raw), {REF_NAME: name})
    (layout_dir / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [entry.to_dict()]}))
    return arm, index


def layer_files(layout: Path, tag: str) -> dict[str, tuple[str, int]]:
    """path -> (kind, size) of the image's final files (these images have no whiteouts)."""
    from pare.oci.tarsafe import SafeTar
    from pare.stores.layout import LayoutStore
    image = LayoutStore(layout).read(tag)
    files: dict[str, tuple[str, int]] = {}
    for layer in image.layers:
        with layer.open_uncompressed() as stream:
            for member, _reader in SafeTar(stream, hash_stream=False):
                files["/" + member.path] = (member.kind, member.size)
    return files


def write_tree(root: Path, files: dict[str, Any]) -> Path:
    """Files under `root` (parents made): str content as text, anything else as JSON."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return root


def two_platform_index(workdir: Path, *, docker: bool = False) -> Any:
    """An ImageIndex of two images built here, linux/amd64 and linux/arm64, each with a layer of its
    own and one shared: what a multi-platform build writes."""
    from pare.oci.index import ImageIndex
    media_type = mt.DOCKER_MANIFEST if docker else mt.OCI_MANIFEST
    shared = {"etc/app.conf": b"port=8080\n"}
    amd = make_image(workdir / "amd64", shared, {"bin/app": b"\x7fELF amd64" + noise(40_000, 64)},
                     media_type=media_type)
    arm = make_image(workdir / "arm64", shared, {"bin/app": b"\x7fELF arm64" + noise(40_000, 65)},
                     media_type=media_type, architecture="arm64")
    return ImageIndex.assemble([amd, arm])


@contextlib.contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Files under `root` over plain HTTP on 127.0.0.1 (a stand-in for a bucket or a proxy this
    machine cannot reach); yields the base URL."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
