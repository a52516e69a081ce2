"""RegistryStore against the real CNCF Distribution registry: push, pull, mount, chunks, indexes, errors."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from helpers import blob_bytes, make_image, noise, two_platform_index
from pare.errors import NotFound, RegistryError, UsageError
from pare.localregistry import LocalRegistry, free_port
from pare.oci import mediatypes as mt
from pare.oci.descriptor import Platform
from pare.stores.copy import copy
from pare.stores.layout import LayoutStore
from pare.stores.registry.client import RetryPolicy
from pare.stores.registry.store import RegistryLayer, RegistryStore

pytestmark = pytest.mark.integration


def _repo(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_push_then_pull_round_trip(registry: LocalRegistry, tmp_path: Path) -> None:
    image = make_image(tmp_path, {"bin/app": noise(300_000, 1)}, {"etc/conf": b"x=1\n"})
    name = f"{registry.address}/{_repo()}:1"
    with RegistryStore(registry.address) as store:
        assert store.write(image, name) == image.digest
        stats = store.stats.to_dict()
    assert stats["blobs_moved"] == 3 and stats["blobs_skipped"] == 0
    assert stats["bytes"] >= image.compressed_size
    assert {"head", "upload", "commit", "manifest"} <= set(stats["phases"])
    # the registry holds exactly these manifest bytes
    raw = httpx.get(f"http://{registry.address}/v2/{name.split('/', 1)[1].replace(':', '/manifests/')}",
                    headers={"Accept": mt.OCI_MANIFEST}).content
    assert raw == image.manifest.raw
    with RegistryStore(registry.address) as reader:
        pulled = reader.read(name)
        assert pulled.digest == image.digest and pulled.config.raw == image.config.raw
        assert all(isinstance(layer, RegistryLayer) for layer in pulled.layers)
        assert reader.stats.bytes_moved < image.compressed_size  # layers are lazy: not read yet
        assert [blob_bytes(a) for a in pulled.layers] == [blob_bytes(b) for b in image.layers]
        assert "download" in reader.stats.phases
        assert reader.resolve(name).digest == image.digest
        assert reader.read(f"{registry.address}/{name.split('/', 1)[1].split(':')[0]}@{image.digest}"
                           ).digest == image.digest


def test_second_push_heads_and_skips(registry: LocalRegistry, tmp_path: Path) -> None:
    image = make_image(tmp_path, {"a": noise(50_000, 2)})
    name = f"{registry.address}/{_repo()}:1"
    RegistryStore(registry.address).write(image, name)
    again = RegistryStore(registry.address)
    again.write(image, name.replace(":1", ":2"))
    assert again.stats.blobs_skipped == 2 and again.stats.blobs_moved == 0
    assert sorted(again.tags(name.rsplit(":", 1)[0])) == ["1", "2"]


def test_cross_repository_mount_moves_no_layer_bytes(registry: LocalRegistry, tmp_path: Path) -> None:
    image = make_image(tmp_path, {"big": noise(400_000, 3)}, {"small": b"s"})
    source = f"{registry.address}/{_repo('src')}:1"
    RegistryStore(registry.address).write(image, source)
    store = RegistryStore(registry.address)
    pulled = store.read(source)
    target = f"{registry.address}/{_repo('dst')}:1"
    store.stats.bytes_moved = 0
    assert store.write(pulled, target) == image.digest
    assert store.stats.blobs_mounted == 2
    assert "mount" in store.stats.phases
    assert store.stats.bytes_moved < 10_000  # config and manifest only
    assert RegistryStore(registry.address).read(target).digest == image.digest


def test_chunked_upload(registry: LocalRegistry, tmp_path: Path) -> None:
    image = make_image(tmp_path, {"x": noise(700_000, 4)}, compression="zstd")
    name = f"{registry.address}/{_repo()}:chunks"
    store = RegistryStore(registry.address, chunk_size=64 * 1024)
    store.write(image, name)
    pulled = RegistryStore(registry.address).read(name)
    assert blob_bytes(pulled.layers[0]) == blob_bytes(image.layers[0])
    assert pulled.layers[0].media_type == mt.OCI_LAYER_ZSTD


def test_docker_media_types_round_trip(registry: LocalRegistry, tmp_path: Path) -> None:
    image = make_image(tmp_path, {"a": b"docker"}, media_type=mt.DOCKER_MANIFEST)
    name = f"{registry.address}/{_repo()}:d"
    RegistryStore(registry.address).write(image, name)
    pulled = RegistryStore(registry.address).read(name)
    assert pulled.media_type == mt.DOCKER_MANIFEST and pulled.manifest.raw == image.manifest.raw


def test_index_platform_selection(registry: LocalRegistry, tmp_path: Path) -> None:
    index = two_platform_index(tmp_path)
    amd, arm = index.images
    name = f"{registry.address}/{_repo()}:multi"
    store = RegistryStore(registry.address)
    assert store.write_index(index, name) == index.digest
    assert store.read(name).digest == amd.digest
    assert store.read(name, Platform("linux", "arm64")).digest == arm.digest
    read_back = store.read_index(name)
    assert read_back is not None and read_back.raw == index.raw
    with pytest.raises(NotFound, match="no image for platform linux/s390x"):
        store.read(name, Platform("linux", "s390x"))
    assert store.read_index(f"{registry.address}/{name.split('/', 1)[1].split(':')[0]}@{amd.digest}") is None


def test_an_index_round_trips_through_every_store_with_its_digest(registry: LocalRegistry,
                                                                  tmp_path: Path) -> None:
    """layout -> registry -> layout -> archive -> layout: the same index digest at every stop, every
    platform's image whole (each blob read back and verified)."""
    index = two_platform_index(tmp_path / "build")
    LayoutStore(tmp_path / "a").write_index(index, "multi")
    ref = f"{registry.address}/{_repo('multi')}:1"
    steps = [(f"oci:{tmp_path / 'a'}:multi", ref), (ref, f"oci:{tmp_path / 'b'}:multi"),
             (f"oci:{tmp_path / 'b'}:multi", f"docker-archive:{tmp_path / 'c.tar'}:multi:1"),
             (f"docker-archive:{tmp_path / 'c.tar'}:multi:1", f"oci:{tmp_path / 'd'}:multi")]
    for src, dst in steps:
        result = copy(src, dst, all_platforms=True)
        assert result.digest == index.digest, f"{src} -> {dst}"
        assert result.platforms == ("linux/amd64", "linux/arm64")
    final = LayoutStore(tmp_path / "d").read_index("multi")
    assert final is not None and final.raw == index.raw
    for image, original in zip(final.images, index.images, strict=True):
        assert image.manifest.raw == original.manifest.raw
        assert [blob_bytes(a) for a in image.layers] == [blob_bytes(b) for b in original.layers]
    on_registry = RegistryStore(registry.address).read_index(ref)
    assert on_registry is not None and on_registry.digest == index.digest


def test_layers_open_concurrently(registry: LocalRegistry, tmp_path: Path) -> None:
    image = make_image(tmp_path, {"a": noise(200_000, 5)})
    name = f"{registry.address}/{_repo()}:1"
    RegistryStore(registry.address).write(image, name)
    layer = RegistryStore(registry.address).read(name).layers[0]
    want = blob_bytes(image.layers[0])
    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(blob_bytes(layer))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [want] * 6


def test_parallel_push_of_many_layers(registry: LocalRegistry, tmp_path: Path) -> None:
    image = make_image(tmp_path, *({f"f{i}": noise(20_000, 100 + i)} for i in range(10)))
    name = f"{registry.address}/{_repo()}:many"
    store = RegistryStore(registry.address, parallel=6)
    store.write(image, name)
    assert store.stats.blobs_moved == 11
    assert RegistryStore(registry.address).read(name).digest == image.digest


def test_unknown_tag_and_repository_are_not_found(registry: LocalRegistry) -> None:
    store = RegistryStore(registry.address)
    with pytest.raises(NotFound, match=f"{registry.address}/nothing-here:v9"):
        store.read(f"{registry.address}/nothing-here:v9")


def test_unreachable_registry_is_one_clear_error() -> None:
    address = f"127.0.0.1:{free_port()}"
    store = RegistryStore(address)
    store.client.retry_policy = RetryPolicy(attempts=3, base=0.01)
    with pytest.raises(RegistryError, match="connection refused") as info:
        store.read(f"{address}/app:1")
    assert store.stats.retries == 2
    assert "\n" not in str(info.value)


def test_tls_to_plain_http_registry_suggests_insecure(registry: LocalRegistry, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # pretend the loopback registry is remote, so TLS is tried against its plain HTTP
    monkeypatch.setattr("pare.stores.registry.client.loopback_addresses", lambda host: ())
    store = RegistryStore(registry.address)
    assert store.client.base_url.startswith("https://")
    with pytest.raises(RegistryError, match="--insecure"):
        store.read(f"{registry.address}/app:1")
    # --insecure: TLS first, then plain HTTP when the registry does not speak TLS, as docker does
    insecure = RegistryStore(registry.address, insecure=True)
    image = make_image(tmp_path, {"a": b"insecure"})
    assert insecure.write(image, f"{registry.address}/insecure:1") == image.digest
    assert insecure.client.base_url.startswith("http://")


def test_names_without_a_registry_live_here_others_are_refused(registry: LocalRegistry, tmp_path: Path
                                                               ) -> None:
    image = make_image(tmp_path, {"a": b"short name"})
    repo = _repo()
    store = RegistryStore(registry.address)
    store.write(image, f"{repo}:1")
    assert store.read(f"{registry.address}/{repo}:1").digest == image.digest
    with pytest.raises(UsageError, match=f"docker.io/library/{repo}:1 is not on {registry.address}"):
        store.read(f"docker.io/library/{repo}:1")


def test_name_must_match_digest(registry: LocalRegistry, tmp_path: Path) -> None:
    image = make_image(tmp_path, {"a": b"1"})
    other = make_image(tmp_path, {"a": b"2"})
    with pytest.raises(UsageError, match="pins"):
        RegistryStore(registry.address).write(image, f"{registry.address}/x@{other.digest}")


class _Recording:
    """A Progress that remembers every bar and how far it got."""

    def __init__(self) -> None:
        self.bars: dict[str, list[int]] = {}
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def blob(self, label: str, total: int | None) -> Iterator[Callable[[int], None]]:
        with self.lock:
            seen = self.bars.setdefault(label, [total or 0, 0])

        def advance(n: int) -> None:
            with self.lock:
                seen[1] += n
        yield advance

    def close(self) -> None:
        return None


def test_progress_per_blob(registry: LocalRegistry, tmp_path: Path) -> None:
    image = make_image(tmp_path, {"a": noise(100_000, 11)})
    name = f"{registry.address}/{_repo()}:1"
    pusher = RegistryStore(registry.address)
    pusher.progress = _Recording()
    pusher.write(image, name)
    layer = image.layers[0]
    assert pusher.progress.bars[layer.digest.short] == [layer.size, layer.size]
    puller = RegistryStore(registry.address)
    puller.progress = _Recording()
    blob_bytes(puller.read(name).layers[0])
    assert puller.progress.bars[layer.digest.short] == [layer.size, layer.size]


def test_tags_that_begin_like_a_digest(registry: LocalRegistry, tmp_path: Path) -> None:
    """Guards tags such as 'sha-1' or 'sha256-abc' (CI tools write them): taken for digests, they
    failed to parse before any request went out."""
    image = make_image(tmp_path, {"a": b"sha tags"})
    repo = _repo()
    store = RegistryStore(registry.address)
    for tag in ("sha-1", "sha256-abc", "shared"):
        store.write(image, f"{registry.address}/{repo}:{tag}")
        assert store.read(f"{registry.address}/{repo}:{tag}").digest == image.digest
        assert store.resolve(f"{registry.address}/{repo}:{tag}").digest == image.digest
