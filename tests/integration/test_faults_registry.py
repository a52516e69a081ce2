"""Faults between pare and the real registry, injected by tests/faultproxy.py.

Each test pulls or pushes through the proxy and then checks two things: the outcome (completed, or
one clear error), and that no partial or corrupt blob became visible in the destination store.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from faultproxy import Fault, FaultProxy
from helpers import blob_bytes, corrupt_blobs, make_image, noise
from pare.errors import DigestMismatch, ManifestError, RegistryError
from pare.localregistry import LocalRegistry
from pare.oci import mediatypes as mt
from pare.oci.digest import sha256
from pare.oci.image import Image
from pare.stores.layout import LayoutStore
from pare.stores.registry.blobs import download_to
from pare.stores.registry.client import RetryPolicy
from pare.stores.registry.store import RegistryStore

pytestmark = pytest.mark.integration
FAST = RetryPolicy(attempts=4, base=0.01, cap=0.05)


@pytest.fixture
def proxy(registry: LocalRegistry) -> Iterator[FaultProxy]:
    with FaultProxy(registry.address) as running:
        yield running


def _store(proxy: FaultProxy) -> RegistryStore:
    store = RegistryStore(proxy.address)
    store.client.retry_policy = FAST
    return store


def _pushed(registry: LocalRegistry, tmp_path: Path, size: int = 600_000) -> tuple[Image, str]:
    """An image pushed straight to the registry; returns it and its repo:tag path."""
    image = make_image(tmp_path / "src", {"payload": noise(size, 7)}, {"small": b"s"})
    repo = f"faults-{uuid.uuid4().hex[:10]}:1"
    RegistryStore(registry.address).write(image, f"{registry.address}/{repo}")
    return image, repo


def _clean(layout: Path) -> None:
    """Every visible blob hashes to its name, and no temp file is left behind."""
    blobs = layout / "blobs" / "sha256"
    if not blobs.exists():
        return
    assert corrupt_blobs(blobs) == []
    assert [p.name for p in blobs.iterdir() if p.name.startswith(".")] == []


def test_dropped_connection_mid_blob_resumes_with_range(registry: LocalRegistry, proxy: FaultProxy,
                                                        tmp_path: Path) -> None:
    image, repo = _pushed(registry, tmp_path)
    layer = image.layers[0]
    proxy.add(Fault(f"/blobs/{layer.digest}", "drop", method="GET", after=layer.size // 3))
    source = _store(proxy)
    layout = LayoutStore(tmp_path / "oci")
    layout.write(source.read(f"{proxy.address}/{repo}"), "v1")
    assert blob_bytes(layout.read("v1").layers[0]) == blob_bytes(layer)
    gets = proxy.seen("GET", f"/blobs/{layer.digest}")
    assert [g.fault for g in gets] == ["drop", None]
    assert gets[1].headers.get("Range") == f"bytes={layer.size // 3}-"
    assert source.stats.retries == 1
    _clean(tmp_path / "oci")


def test_connection_that_keeps_dropping_fails_cleanly(registry: LocalRegistry, proxy: FaultProxy,
                                                      tmp_path: Path) -> None:
    image, repo = _pushed(registry, tmp_path)
    layer = image.layers[0]
    proxy.add(Fault(f"/blobs/{layer.digest}", "drop", method="GET", after=1000, times=None))
    layout = LayoutStore(tmp_path / "oci")
    with pytest.raises(RegistryError) as info:
        layout.write(_store(proxy).read(f"{proxy.address}/{repo}"), "v1")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "oci" / "blobs" / "sha256" / layer.digest.hex).exists()
    _clean(tmp_path / "oci")


def test_500s_and_429s_are_retried(registry: LocalRegistry, proxy: FaultProxy, tmp_path: Path) -> None:
    image, repo = _pushed(registry, tmp_path)
    proxy.add(Fault("/manifests/", "status", method="GET", status=500, times=2))
    proxy.add(Fault(f"/blobs/{image.config.digest}", "status", method="GET", status=503, times=1))
    proxy.add(Fault(f"/blobs/{image.layers[0].digest}", "status", method="GET", status=429,
                    headers={"Retry-After": "1"}, times=1))
    source = _store(proxy)
    layout = LayoutStore(tmp_path / "oci")
    started = time.monotonic()
    layout.write(source.read(f"{proxy.address}/{repo}"), "v1")
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured
    assert layout.read("v1").digest == image.digest
    assert source.stats.retries == 4
    _clean(tmp_path / "oci")


def test_push_retries_failed_uploads_with_a_fresh_session(registry: LocalRegistry, proxy: FaultProxy,
                                                          tmp_path: Path) -> None:
    image = make_image(tmp_path, {"up": noise(300_000, 9)})
    name = f"{proxy.address}/faults-{uuid.uuid4().hex[:10]}:1"
    proxy.add(Fault("/blobs/uploads/", "status", method="PUT", status=502, times=2))
    proxy.add(Fault("/blobs/sha256:", "status", method="HEAD", status=429, headers={"Retry-After": "0"}))
    store = _store(proxy)
    assert store.write(image, name) == image.digest
    assert store.stats.retries == 3
    assert len(proxy.seen("POST", "/blobs/uploads/")) >= 4  # two blobs, plus two restarted sessions
    pulled = RegistryStore(registry.address).read(name.replace(proxy.address, registry.address))
    assert blob_bytes(pulled.layers[0]) == blob_bytes(image.layers[0])


def test_persistent_errors_give_up_with_one_line(registry: LocalRegistry, proxy: FaultProxy,
                                                 tmp_path: Path) -> None:
    _, repo = _pushed(registry, tmp_path)
    proxy.add(Fault("/manifests/", "status", status=503, times=None))
    source = _store(proxy)
    with pytest.raises(RegistryError, match="503") as info:
        source.read(f"{proxy.address}/{repo}")
    assert "\n" not in str(info.value)
    assert source.stats.retries == FAST.attempts - 1


def test_corrupt_blob_is_refused_and_never_visible(registry: LocalRegistry, proxy: FaultProxy,
                                                   tmp_path: Path) -> None:
    image, repo = _pushed(registry, tmp_path)
    layer = image.layers[0]
    proxy.add(Fault(f"/blobs/{layer.digest}", "corrupt", method="GET", times=None))
    layout = LayoutStore(tmp_path / "oci")
    with pytest.raises(DigestMismatch, match="refused"):
        layout.write(_store(proxy).read(f"{proxy.address}/{repo}"), "v1")
    assert not (tmp_path / "oci" / "blobs" / "sha256" / layer.digest.hex).exists()
    _clean(tmp_path / "oci")
    # the downloader on its own: temp file, verify, rename, so nothing is left at the destination
    target = tmp_path / "plain" / layer.digest.hex
    with pytest.raises(DigestMismatch):
        download_to(_store(proxy).client, repo.split(":")[0], layer.descriptor, target)
    assert list((tmp_path / "plain").iterdir()) == []


def test_truncated_blob_is_refused(registry: LocalRegistry, proxy: FaultProxy, tmp_path: Path) -> None:
    image, repo = _pushed(registry, tmp_path)
    layer = image.layers[0]
    short = blob_bytes(layer)[:-10]
    proxy.add(Fault(f"/blobs/{layer.digest}", "replace", method="GET", body=short, times=None))
    target = tmp_path / "plain" / layer.digest.hex
    with pytest.raises(DigestMismatch, match=f"got {len(short)} bytes"):
        download_to(_store(proxy).client, repo.split(":")[0], layer.descriptor, target)
    assert list((tmp_path / "plain").iterdir()) == []


@pytest.mark.parametrize(("body", "message"), [
    (b"{not json", "not valid JSON"),
    (b"[]", "must be a JSON object"),
    (b'{"schemaVersion": 1, "mediaType": "' + mt.OCI_MANIFEST.encode() + b'"}', "schemaVersion"),
    (b'{"schemaVersion": 2, "mediaType": "' + mt.OCI_MANIFEST.encode() + b'", "config": {}, "layers": []}',
     "missing field"),
])
def test_malformed_manifest_is_one_clear_error(registry: LocalRegistry, proxy: FaultProxy, tmp_path: Path,
                                               body: bytes, message: str) -> None:
    _, repo = _pushed(registry, tmp_path, size=1000)
    proxy.add(Fault("/manifests/1", "replace", method="GET", body=body, times=None))
    with pytest.raises(ManifestError, match=message) as info:
        _store(proxy).read(f"{proxy.address}/{repo}")
    assert "\n" not in str(info.value)


def test_manifest_not_matching_its_digest_is_refused(registry: LocalRegistry, proxy: FaultProxy,
                                                     tmp_path: Path) -> None:
    image, repo = _pushed(registry, tmp_path, size=1000)
    proxy.add(Fault("/manifests/sha256:", "corrupt", method="GET", times=None))
    name = f"{proxy.address}/{repo.split(':')[0]}@{image.digest}"
    with pytest.raises(DigestMismatch, match="manifest"):
        _store(proxy).read(name)


@pytest.mark.parametrize(("config", "message"), [
    (b"{}", "rootfs.diff_ids missing"),
    (b'{"rootfs": {"type": "layers", "diff_ids": ["sha256:nothex"]}}', "bad diff_id"),
    (b'{"rootfs": {"type": "layers", "diff_ids": []}}', "0 diff_ids for 1 layers"),
    (b"\xff\xfe", "not valid JSON"),
])
def test_malformed_config_is_one_clear_error(registry: LocalRegistry, tmp_path: Path, config: bytes,
                                             message: str) -> None:
    # a config that matches its digest but is not a usable config, pushed raw to the real registry
    image = make_image(tmp_path, {"a": b"1"})
    repo = f"badcfg-{uuid.uuid4().hex[:10]}"
    base = f"http://{registry.address}/v2/{repo}"
    config_digest = sha256(config)
    for digest, data in ((config_digest, config), (image.layers[0].digest, blob_bytes(image.layers[0]))):
        location = httpx.post(f"{base}/blobs/uploads/").headers["Location"]
        put = httpx.put(httpx.URL(location).copy_merge_params({"digest": str(digest)}), content=data)
        assert put.status_code == 201
    manifest = {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST,
                "config": {"mediaType": mt.OCI_CONFIG, "digest": str(config_digest), "size": len(config)},
                "layers": [image.layers[0].descriptor.to_dict()]}
    put = httpx.put(f"{base}/manifests/1", content=json.dumps(manifest).encode(),
                    headers={"Content-Type": mt.OCI_MANIFEST})
    assert put.status_code == 201
    with pytest.raises(ManifestError, match=message) as info:
        RegistryStore(registry.address).read(f"{registry.address}/{repo}:1")
    assert "\n" not in str(info.value) and f"{repo}:1" in str(info.value)


def test_corrupt_source_never_lands_in_a_destination_registry(registry: LocalRegistry, proxy: FaultProxy,
                                                              fresh_registry: LocalRegistry,
                                                              tmp_path: Path) -> None:
    image, repo = _pushed(registry, tmp_path)
    layer = image.layers[0]
    proxy.add(Fault(f"/blobs/{layer.digest}", "corrupt", method="GET", times=None))
    source = _store(proxy).read(f"{proxy.address}/{repo}")
    target = f"{fresh_registry.address}/{repo}"
    with pytest.raises(DigestMismatch):
        RegistryStore(fresh_registry.address).write(source, target)
    base = f"http://{fresh_registry.address}/v2/{repo.split(':')[0]}"
    assert httpx.head(f"{base}/blobs/{layer.digest}").status_code == 404
    assert httpx.head(f"{base}/manifests/1").status_code == 404


def test_registry_to_registry_copy_resumes_a_dropped_blob(registry: LocalRegistry, proxy: FaultProxy,
                                                          fresh_registry: LocalRegistry,
                                                          tmp_path: Path) -> None:
    image, repo = _pushed(registry, tmp_path)
    layer = image.layers[0]
    proxy.add(Fault(f"/blobs/{layer.digest}", "drop", method="GET", after=layer.size // 2))
    source = _store(proxy)
    dest = RegistryStore(fresh_registry.address)
    target = f"{fresh_registry.address}/{repo}"
    assert dest.write(source.read(f"{proxy.address}/{repo}"), target) == image.digest
    assert source.stats.retries == 1 and dest.stats.blobs_moved == 3
    pulled = RegistryStore(fresh_registry.address).read(target)
    assert blob_bytes(pulled.layers[0]) == blob_bytes(layer)


# --- manifests in every digest algorithm pare accepts --------------------------------------------------
# Distribution stores manifests under sha256 only, so the proxy answers the sha512 requests itself
# (`respond`), with the real manifest's bytes, or with other bytes, as a lying registry would.
def _sha512(data: bytes) -> str:
    return "sha512:" + hashlib.sha512(data).hexdigest()


def test_manifest_asked_for_by_sha512_is_verified(registry: LocalRegistry, proxy: FaultProxy,
                                                  tmp_path: Path) -> None:
    """Guards manifests fetched by a sha512 digest, which were never checked."""
    image, repo = _pushed(registry, tmp_path, size=1000)
    wanted = _sha512(image.manifest.raw)
    headers = {"Content-Type": image.media_type}
    proxy.add(Fault(f"/manifests/{wanted}", "respond", method="GET", status=200, headers=headers,
                    body=image.manifest.raw))
    name = f"{proxy.address}/{repo.split(':')[0]}@{wanted}"
    assert _store(proxy).read(name).digest == image.digest
    other = make_image(tmp_path / "other", {"other": b"x"})
    proxy.add(Fault(f"/manifests/{wanted}", "respond", method="GET", status=200, headers=headers,
                    body=other.manifest.raw))
    with pytest.raises(DigestMismatch, match=f"not {wanted} \\(the digest asked for\\)"):
        _store(proxy).read(name)


def test_docker_content_digest_is_checked_in_its_own_algorithm(registry: LocalRegistry, proxy: FaultProxy,
                                                               tmp_path: Path) -> None:
    """Guards the header check, which looked at sha256 values only: a sha512 Docker-Content-Digest
    that does not match the bytes is refused, and one pare cannot check is an error, not skipped."""
    image, repo = _pushed(registry, tmp_path, size=1000)
    for header, error in ((_sha512(b"something else"), DigestMismatch), ("md5:" + "0" * 32, RegistryError)):
        proxy.add(Fault("/manifests/1$", "respond", method="GET", status=200, body=image.manifest.raw,
                        headers={"Content-Type": image.media_type, "Docker-Content-Digest": header}))
        with pytest.raises(error, match="Docker-Content-Digest"):
            _store(proxy).read(f"{proxy.address}/{repo}")
    proxy.add(Fault("/manifests/1$", "respond", method="GET", status=200, body=image.manifest.raw,
                    headers={"Content-Type": image.media_type,
                             "Docker-Content-Digest": _sha512(image.manifest.raw)}))
    assert _store(proxy).read(f"{proxy.address}/{repo}").digest == image.digest


def test_head_by_digest_must_answer_that_digest(registry: LocalRegistry, proxy: FaultProxy,
                                                tmp_path: Path) -> None:
    """Guards resolve(): a HEAD for one digest answered with another is refused, not believed."""
    image, repo = _pushed(registry, tmp_path, size=1000)
    name = f"{proxy.address}/{repo.split(':')[0]}@{image.digest}"
    assert _store(proxy).resolve(name).digest == image.digest
    proxy.add(Fault("/manifests/sha256:", "rewrite", method="HEAD",
                    headers={"Docker-Content-Digest": str(sha256(b"another manifest"))}))
    with pytest.raises(DigestMismatch, match="refused"):
        _store(proxy).resolve(name)


def test_put_answered_with_another_digest_is_refused(registry: LocalRegistry, proxy: FaultProxy,
                                                    tmp_path: Path) -> None:
    """Guards the push side: a registry saying it stored the manifest under a digest (any algorithm)
    the bytes do not have."""
    image = make_image(tmp_path, {"a": b"put"})
    proxy.add(Fault("/manifests/1$", "rewrite", method="PUT",
                    headers={"Docker-Content-Digest": _sha512(b"not these bytes")}))
    with pytest.raises(DigestMismatch, match="the digest the registry says it stored"):
        _store(proxy).write(image, f"{proxy.address}/faults-put-{uuid.uuid4().hex[:8]}:1")
