"""An engine rebuild on an unchanged base reuses the base layer's gzipped blob by diff_id (no
recompression), and the blobs pare makes are the ones `docker push` makes.

Real parts: buildah (chroot isolation) builds FROM a base loaded into its storage; the Go gzip
filter (host `go`); for the docker comparison a private dockerd pushing to the real registry.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import urllib.request
from pathlib import Path

import pytest

from conftest import need
from pare.engines import layerblobs
from pare.engines.base import BuildRequest
from pare.engines.buildah import BuildahEngine
from pare.engines.storage import remove_storage
from pare.localregistry import LocalRegistry
from pare.oci import gogzip
from pare.oci import mediatypes as mt
from pare.oci.config import ImageConfig
from pare.oci.image import Image
from pare.oci.layer import layer_from_tar
from pare.stores.archive import ArchiveStore

pytestmark = pytest.mark.integration


def base_image(tmp: Path) -> Image:
    """A 3 MB base layer of mixed bytes (uncompressed blob: its digest is the diff_id)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in ("bin/true", "bin/ls", "bin/cat"):
            data = Path("/usr", name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o755, 0
            tar.addfile(info, io.BytesIO(data))
        text = b"".join(b"line %d of a base file\n" % i for i in range(100_000))
        info = tarfile.TarInfo("etc/base.txt")
        info.size, info.mtime = len(text), 0
        tar.addfile(info, io.BytesIO(text))
    buf.seek(0)
    layer = layer_from_tar(buf, "none", workdir=tmp / "layers")
    return Image.assemble(ImageConfig.new(created="2024-01-01T00:00:00Z"), [layer])


def test_rebuild_reuses_the_base_blob(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    need("buildah")
    need("go")
    monkeypatch.setenv(gogzip.CACHE_ENV, str(tmp_path / "blobs"))
    calls: list[str] = []
    real = layerblobs.BlobCache.compress

    def counted(self: layerblobs.BlobCache, layer: object) -> object:
        calls.append(str(layer.diff_id))  # type: ignore[attr-defined]
        return real(self, layer)  # type: ignore[arg-type]

    monkeypatch.setattr(layerblobs.BlobCache, "compress", counted)
    engine = BuildahEngine(tmp_path / "state")
    base = base_image(tmp_path)
    engine.load_image("localhost/pare-test/base:1", base)
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM localhost/pare-test/base:1\nCOPY app.txt /app.txt\n")
    try:
        built = []
        for n, text in enumerate(("hello\n", "hello again\n")):
            (ctx / "app.txt").write_text(text)
            built.append(engine.build(BuildRequest(ctx, "localhost/pare-test/reuse:latest", timestamp=0),
                                      tmp_path / f"export{n}"))
    finally:
        remove_storage(tmp_path / "state")
    first, second = built
    assert (first.layers_compressed, first.layers_reused) == (2, 0)
    assert (second.layers_compressed, second.layers_reused) == (1, 1)
    assert len(calls) == 3, "the rebuild gzipped only the changed layer"
    assert sorted(calls[:2]) == sorted(str(d) for d in first.image.config.diff_ids)
    assert calls[2] == str(second.image.config.diff_ids[1])
    base_first, app_first = first.image.layers
    base_second, app_second = second.image.layers
    assert base_first.diff_id == base.layers[0].diff_id
    assert base_second.digest == base_first.digest and app_second.digest != app_first.digest
    assert first.compressor == gogzip.describe()
    for layer in second.image.layers:
        assert layer.media_type == mt.OCI_LAYER_GZIP
        with layer.open() as blob:
            assert blob.read(10) == bytes.fromhex("1f8b08000000000000ff")  # Go's gzip header
        assert layer.tar_size() == layer.uncompressed_size


def test_blobs_are_the_ones_docker_push_makes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               dockerd: str, registry: LocalRegistry) -> None:
    need("go")
    monkeypatch.setenv(gogzip.CACHE_ENV, str(tmp_path / "blobs"))
    from pare.stores.archive import ArchiveStore as Store
    archive = tmp_path / "base.tar"
    Store(archive).write(base_image(tmp_path), "localhost/pare-test/base:1")
    env = {"DOCKER_HOST": dockerd, "PATH": "/usr/bin:/bin"}
    ref = f"{registry.address}/pare-test/docker-gzip:1"
    for args in (["load", "-i", str(archive)], ["tag", "localhost/pare-test/base:1", ref], ["push", ref]):
        subprocess.run(["docker", *args], env=env, check=True, capture_output=True)
    request = urllib.request.Request(f"http://{registry.address}/v2/pare-test/docker-gzip/manifests/1",
                                     headers={"Accept": mt.DOCKER_MANIFEST})
    with urllib.request.urlopen(request) as response:
        pushed = [layer["digest"] for layer in json.load(response)["layers"]]
    ours = layerblobs.gzip_like_docker(ArchiveStore(archive).read("localhost/pare-test/base:1"))
    assert [str(layer.digest) for layer in ours.image.layers] == pushed
