"""`pare analyze` on images built by a real engine (buildah, vfs, chroot) whose waste is known:
a `RUN rm` of a file an earlier layer added, and a `chown -R` that copies every byte of a COPY
again. Read back from an OCI layout, a docker-archive, and a real registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import need
from pare.analyze.analysis import Analysis, analyze_image
from pare.analyze.tree import DELETED, METADATA_ONLY, OPAQUE
from pare.localregistry import LocalRegistry
from pare.stores.registry.store import RegistryStore
from pare.stores.transports import open_location

pytestmark = pytest.mark.integration

BIG = 300_000
APP_FILES = {"app/one.txt": 12_345, "app/sub/two.bin": 54_321}


def _buildah(cmd: list[str], args: list[str], cwd: Path | None = None) -> str:
    proc = subprocess.run([*cmd, *args], capture_output=True, text=True, cwd=cwd, check=False)
    assert proc.returncode == 0, f"buildah {' '.join(args)}: {proc.stderr[-2000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Two images built with `buildah bud --layers`, pushed to an OCI layout and a docker-archive."""
    need("buildah")
    busybox = Path("/bin/busybox")
    if not busybox.exists():
        pytest.fail("busybox-static is not installed: run `make setup`")
    tmp = tmp_path_factory.mktemp("buildah")
    cmd = ["buildah", "--storage-driver", "vfs", "--root", str(tmp / "root"), "--runroot", str(tmp / "run")]
    ctx = tmp / "ctx"
    (ctx / "app" / "sub").mkdir(parents=True)
    (ctx / "busybox").write_bytes(busybox.read_bytes())
    (ctx / "busybox").chmod(0o755)
    (ctx / "big.bin").write_bytes(os.urandom(BIG))
    for name, size in APP_FILES.items():
        (ctx / name).write_bytes(os.urandom(size))
    (ctx / "rm.Dockerfile").write_text(
        "FROM scratch\nCOPY busybox /busybox\nCOPY big.bin /data/big.bin\n"
        'RUN ["/busybox", "rm", "/data/big.bin"]\n'
    )
    (ctx / "chown.Dockerfile").write_text(
        "FROM scratch\nCOPY busybox /busybox\nCOPY app/ /app/\n"
        'RUN ["/busybox", "chown", "-R", "1000:1000", "/app"]\n'
    )
    (ctx / "redo.Dockerfile").write_text(
        "FROM scratch\nCOPY busybox /busybox\nCOPY app/ /app/\n"
        'RUN ["/busybox", "sh", "-c", '
        '"/busybox rm -rf /app && /busybox mkdir /app && /busybox echo hi > /app/new"]\n'
    )
    out: dict[str, str] = {"ctx": str(ctx)}
    try:
        for name in ("rm", "chown", "redo"):
            tag = f"localhost/pare-analyze-{name}:test"
            _buildah(
                cmd,
                ["bud", "--layers", "--isolation", "chroot", "-f", f"{name}.Dockerfile", "-t", tag, "."],
                cwd=ctx,
            )
            _buildah(cmd, ["push", tag, f"oci:{tmp / 'oci'}:{name}"])
            out[name] = f"oci:{tmp / 'oci'}:{name}"
        _buildah(
            cmd, ["push", "localhost/pare-analyze-rm:test", f"docker-archive:{tmp / 'rm.tar'}:pare/rm:1"]
        )
        out["rm-archive"] = f"docker-archive:{tmp / 'rm.tar'}"
        yield out
    finally:
        subprocess.run([*cmd, "rmi", "--all", "--force"], capture_output=True, check=False)


def run_pare(args: list[str]) -> tuple[int, str, str]:
    """The real command line, in a child process."""
    proc = subprocess.run([sys.executable, "-m", "pare", *args], capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def _analyze(location: str) -> Analysis:
    store, name = open_location(location)
    return analyze_image(store.read(name), name=location)


def _check_rm(a: Analysis) -> None:
    assert [(w.path, w.size, w.reason) for w in a.waste] == [("data/big.bin", BIG, DELETED)]
    (item,) = a.waste
    assert (
        "COPY" in a.layers[item.paid_by].created_by and "/data/big.bin" in a.layers[item.paid_by].created_by
    )
    assert "rm" in a.layers[item.hidden_by].created_by and item.hidden_by > item.paid_by
    assert a.waste_bytes == BIG and a.final_bytes == a.content_bytes - BIG
    assert a.tree.get("data/big.bin") is None and a.tree.get("busybox") is not None
    assert a.layers[item.hidden_by].files_deleted == 1
    assert a.categories["shells"].paths == (("busybox", a.tree.get("busybox").size),)  # type: ignore[union-attr]


def test_run_rm_waste_from_oci_layout(built: dict[str, str]) -> None:
    a = _analyze(built["rm"])
    _check_rm(a)
    assert all(layer.tar_bytes >= layer.content_bytes for layer in a.layers)
    assert all(layer.compressed_bytes > 0 for layer in a.layers)


def test_run_rm_waste_from_docker_archive(built: dict[str, str]) -> None:
    _check_rm(_analyze(built["rm-archive"]))


def test_chown_copies_every_byte_again(built: dict[str, str]) -> None:
    a = _analyze(built["chown"])
    got = sorted((w.path, w.size, w.reason) for w in a.waste)
    assert got == sorted((p, s, METADATA_ONLY) for p, s in APP_FILES.items())
    assert a.waste_bytes == sum(APP_FILES.values())
    node = a.tree.get("app/sub/two.bin")
    assert node is not None and (node.uid, node.gid) == (1000, 1000)


def test_directory_deleted_and_recreated(built: dict[str, str]) -> None:
    a = _analyze(built["redo"])
    got = sorted((w.path, w.size) for w in a.waste)
    assert got == sorted(
        APP_FILES.items()
    )  # every file of the old /app, whatever whiteout form the engine used
    assert {w.reason for w in a.waste} <= {DELETED, OPAQUE}
    assert sorted(p for p, n in a.tree.walk() if p.startswith("app")) == ["app", "app/new"]
    new = a.tree.get("app/new")
    assert new is not None and new.size == 3


def test_cli_ci_gate_on_engine_image(built: dict[str, str]) -> None:
    code, out, _ = run_pare(["analyze", built["rm"], "--ci", "--max-waste", "100kB"])
    assert code == 1 and out.startswith("FAIL: waste 300 kB (300000 B) exceeds 100 kB")
    code, out, _ = run_pare(["diff", built["rm"], built["chown"], "--json"])
    assert code == 0
    body = json.loads(out)
    assert {p["path"] for p in body["added"]["paths"]} >= {"/app/one.txt", "/app/sub/two.bin"}


def test_analyze_from_a_real_registry(built: dict[str, str], registry: LocalRegistry) -> None:
    store, name = open_location(built["rm"])
    image = store.read(name)
    RegistryStore(registry.address).write(image, f"{registry.address}/pare/analyze-rm:1")
    code, out, err = run_pare(["analyze", f"{registry.address}/pare/analyze-rm:1", "--json"])
    assert code == 0, err
    body = json.loads(out)
    assert body["waste"]["bytes"] == BIG and body["image"]["digest"] == str(image.digest)
