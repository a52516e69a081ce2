"""Interop with the tools users already trust: skopeo pulls what pare pushes, umoci and skopeo accept
the layouts pare writes, pare pulls what skopeo pushes, docker-save archives round-trip."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import need
from helpers import two_platform_index
from pare.localregistry import LocalRegistry
from pare.oci import mediatypes as mt
from pare.stores.archive import ArchiveStore
from pare.stores.copy import copy
from pare.stores.layout import LayoutStore

pytestmark = pytest.mark.integration

PARE = str(Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "pare")


def skopeo(*args: str) -> str:
    cmd = [need("skopeo"), "--insecure-policy", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(cmd)}: {done.stderr}"
    return done.stdout


def repo(registry: LocalRegistry, name: str) -> str:
    return f"{registry.address}/interop/{name}-{uuid.uuid4().hex[:8]}:1"


def sample(make_image: Any, **kw: Any) -> Any:
    return make_image({"bin/": b"", "bin/app": b"#!/bin/sh\necho hi\n" * 200},
                      {"etc/": b"", "etc/app.conf": b"port=8080\n"}, **kw)


def test_pare_push_skopeo_pull(registry: LocalRegistry, tmp_path: Path, make_image: Any) -> None:
    image = sample(make_image)
    LayoutStore(tmp_path / "src").write(image, "t")
    ref = repo(registry, "pushed-by-pare")
    result = copy(f"oci:{tmp_path / 'src'}:t", ref)
    info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{ref}"))
    assert info["Digest"] == str(result.digest)
    assert info["Layers"] == [str(layer.digest) for layer in image.layers]
    skopeo("copy", "--src-tls-verify=false", f"docker://{ref}", f"oci:{tmp_path / 'sk'}:t")
    pulled = LayoutStore(tmp_path / "sk").read("t")
    assert pulled.digest == image.digest, "skopeo kept every byte pare pushed"


def test_layout_written_by_pare_passes_umoci_and_skopeo(registry: LocalRegistry, tmp_path: Path,
                                                         make_image: Any) -> None:
    image = sample(make_image)
    LayoutStore(tmp_path / "src").write(image, "t")
    ref = repo(registry, "umoci")
    copy(f"oci:{tmp_path / 'src'}:t", ref)
    layout = tmp_path / "pulled"
    copy(ref, f"oci:{layout}:t")
    info = json.loads(skopeo("inspect", f"oci:{layout}:t"))
    assert info["Digest"] == str(image.digest) and info["Architecture"] == "amd64"
    umoci = need("umoci")
    stat = subprocess.run([umoci, "stat", "--json", "--image", f"{layout}:t"], capture_output=True,
                          text=True, timeout=60)
    assert stat.returncode == 0, stat.stderr
    assert len(json.loads(stat.stdout)["history"]) == 2
    bundle = tmp_path / "bundle"
    unpack = subprocess.run([umoci, "unpack", "--rootless", "--image", f"{layout}:t", str(bundle)],
                            capture_output=True, text=True, timeout=60)
    assert unpack.returncode == 0, unpack.stderr
    assert (bundle / "rootfs" / "etc" / "app.conf").read_text() == "port=8080\n"
    assert json.loads((bundle / "config.json").read_text())["process"]["args"] == ["/bin/app"]


def test_skopeo_push_pare_pull(registry: LocalRegistry, tmp_path: Path, make_image: Any) -> None:
    image = sample(make_image)
    LayoutStore(tmp_path / "src").write(image, "t")
    ref = repo(registry, "pushed-by-skopeo")
    skopeo("copy", "--format", "v2s2", "--dest-tls-verify=false", f"oci:{tmp_path / 'src'}:t",
           f"docker://{ref}")
    raw = json.loads(skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{ref}"))
    assert raw["mediaType"] == mt.DOCKER_MANIFEST, "skopeo converted it to Docker v2 schema 2"
    digest = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{ref}"))["Digest"]
    done = subprocess.run([PARE, "pull", "--json", ref, f"oci:{tmp_path / 'pare'}:t"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["digest"] == digest
    pulled = LayoutStore(tmp_path / "pare").read("t")
    assert [layer.diff_id for layer in pulled.layers] == [layer.diff_id for layer in image.layers]
    with pulled.layers[0].open_uncompressed() as tar_stream, tarfile.open(fileobj=tar_stream,
                                                                          mode="r|") as tar:
        assert "bin/app" in [member.name for member in tar]


def test_docker_archive_round_trip(registry: LocalRegistry, tmp_path: Path, make_image: Any) -> None:
    image = sample(make_image)
    LayoutStore(tmp_path / "src").write(image, "t")
    ref = repo(registry, "archive")
    copy(f"oci:{tmp_path / 'src'}:t", ref)
    legacy = tmp_path / "legacy.tar"
    skopeo("copy", "--src-tls-verify=false", f"docker://{ref}", f"docker-archive:{legacy}:interop/app:1")
    with tarfile.open(legacy) as tar:
        assert "manifest.json" in tar.getnames() and "index.json" not in tar.getnames()
    store = ArchiveStore(legacy)
    assert store.names() == ["docker.io/interop/app:1"]
    read = store.read("interop/app:1")
    assert [layer.digest for layer in read.layers] == [layer.diff_id for layer in image.layers]
    ours = tmp_path / "pare.tar"
    copy(f"docker-archive:{legacy}:interop/app:1", f"docker-archive:{ours}:interop/app:2")
    info = json.loads(skopeo("inspect", f"docker-archive:{ours}"))
    assert info["Layers"] == [str(layer.diff_id) for layer in image.layers]
    assert info["Architecture"] == "amd64"
    back = repo(registry, "from-archive")
    skopeo("copy", "--dest-tls-verify=false", f"docker-archive:{ours}", f"docker://{back}")
    pushed = copy(f"docker-archive:{ours}", repo(registry, "pare-from-archive"))
    assert pushed.compressed == "gzip" and pushed.layers == 2
    final = LayoutStore(tmp_path / "final")
    copy(f"docker://{back}", f"oci:{tmp_path / 'final'}:t")
    assert final.read("t").config.diff_ids == image.config.diff_ids


@pytest.mark.parametrize("location", ["docker-archive:{tmp}/junk.tar", "oci:{tmp}/badlayout",
                                      "docker-archive:{tmp}/empty.tar"])
def test_malformed_stores_give_one_clear_error(tmp_path: Path, location: str) -> None:
    (tmp_path / "junk.tar").write_bytes(b"\x00garbage" * 300)
    (tmp_path / "badlayout").mkdir()
    (tmp_path / "badlayout" / "index.json").write_text('{"schemaVersion": 2, "manifests": "x"}')
    with tarfile.open(tmp_path / "empty.tar", "w"):
        pass
    done = subprocess.run([PARE, "inspect", location.format(tmp=tmp_path)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pare: error:"), done.stderr


def test_zstd_image_to_archive_reads_in_skopeo(tmp_path: Path, make_image: Any) -> None:
    image = sample(make_image, compression="zstd")
    LayoutStore(tmp_path / "src").write(image, "t")
    copy(f"oci:{tmp_path / 'src'}:t", f"docker-archive:{tmp_path / 'z.tar'}:z:1")
    info = json.loads(skopeo("inspect", f"docker-archive:{tmp_path / 'z.tar'}"))
    assert info["Layers"] == [str(d) for d in image.config.diff_ids], "archives hold plain tars"
    skopeo("copy", f"docker-archive:{tmp_path / 'z.tar'}", f"oci:{tmp_path / 'sk'}:t")
    assert LayoutStore(tmp_path / "sk").read("t").config.diff_ids == image.config.diff_ids


def test_skopeo_copy_all_sees_every_platform_pare_pushed(registry: LocalRegistry, tmp_path: Path) -> None:
    """pare pushes a two-platform index; skopeo (inspect --raw, copy --all) sees the same index and both
    images; what skopeo copied comes back into pare with the same digest; legacy skopeo reading pare's
    index archive gets the linux/amd64 image."""
    index = two_platform_index(tmp_path / "build")
    LayoutStore(tmp_path / "src").write_index(index, "multi")
    ref = repo(registry, "multi")
    done = subprocess.run([PARE, "push", "--json", f"oci:{tmp_path / 'src'}:multi", ref], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["digest"] == str(index.digest)
    raw = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{ref}").encode()
    assert raw.strip() == index.raw, "the registry serves pare's exact index bytes"
    assert [m["platform"]["architecture"] for m in json.loads(raw)["manifests"]] == ["amd64", "arm64"]
    skopeo("copy", "--all", "--src-tls-verify=false", f"docker://{ref}", f"oci:{tmp_path / 'sk'}:multi")
    copied = LayoutStore(tmp_path / "sk").read_index("multi")
    assert copied is not None and copied.digest == index.digest
    assert [i.digest for i in copied.images] == [i.digest for i in index.images]
    arm = json.loads(skopeo("inspect", "--override-arch", "arm64", f"oci:{tmp_path / 'sk'}:multi"))
    assert arm["Architecture"] == "arm64" and arm["Layers"] == [str(x.digest) for x in index.images[1].layers]
    archive = tmp_path / "multi.tar"
    copy(f"oci:{tmp_path / 'src'}:multi", f"docker-archive:{archive}:interop/multi:1", all_platforms=True)
    legacy = json.loads(skopeo("inspect", f"docker-archive:{archive}"))
    assert legacy["Architecture"] == "amd64"
    assert legacy["Layers"] == [str(d) for d in index.images[0].config.diff_ids]


def test_legacy_docker_load_of_an_index_archive(dockerd: str, tmp_path: Path) -> None:
    """What an older `docker load` (20.10 here, before the OCI-in-tar index support of 25) makes of a
    two-platform archive pare wrote: the linux/amd64 image, tagged, its gzip layers decompressed and
    checked against the config's diff_ids by docker itself."""
    index = two_platform_index(tmp_path / "build")
    archive = tmp_path / "multi.tar"
    ArchiveStore(archive).write_index(index, "pare-test/multi:1")
    env = {**os.environ, "DOCKER_HOST": dockerd}
    load = subprocess.run([need("docker"), "load", "-i", str(archive)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert load.returncode == 0, load.stderr
    assert "Loaded image: pare-test/multi:1" in load.stdout
    shown = subprocess.run([need("docker"), "image", "inspect", "pare-test/multi:1"], capture_output=True,
                           text=True, env=env, timeout=60)
    [image] = json.loads(shown.stdout)
    amd = index.images[0]
    assert image["Id"] == str(amd.config.digest) and image["Architecture"] == "amd64"
    assert image["RootFS"]["Layers"] == [str(d) for d in amd.config.diff_ids]
