"""Shared fixtures: a real local registry on a free loopback port, and temp stores."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pare.localregistry import LocalRegistry, free_port


def need(tool: str) -> str:
    """Path of a system tool the test drives; `make test` installs them, so absence is a failure."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed: run `make setup` (scripts/install-system.sh)")
    return path


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    """One real CNCF Distribution registry for the whole session, on 127.0.0.1 and a free port."""
    reg = LocalRegistry(tmp_path_factory.mktemp("registry"), port=free_port())
    with reg.running():
        yield reg


@pytest.fixture
def fresh_registry(tmp_path: Path) -> Iterator[LocalRegistry]:
    """A registry of the test's own, with empty storage."""
    reg = LocalRegistry(tmp_path / "registry", port=free_port())
    with reg.running():
        yield reg


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """podman (runc, private storage) for a module's images; its storage is removed afterwards
    (podman leaves its overlay storage mounted)."""
    from pare.engines.podman import PodmanEngine
    from pare.engines.storage import remove_storage
    for tool in ("podman", "runc", "ip"):
        need(tool)
    state = tmp_path_factory.mktemp("podman")
    yield PodmanEngine(state)
    remove_storage(state)


@pytest.fixture(scope="module")
def dockerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private dockerd (vfs, no bridge, no iptables: nothing touches the host's network)."""
    from pare.engines.dockerd import private_dockerd
    need("dockerd")
    with private_dockerd(tmp_path_factory.mktemp("dockerd"), timeout=30) as host:
        yield host


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tests away from the user's embedded store and registry state."""
    monkeypatch.setenv("PARE_STORE", str(tmp_path_factory.mktemp("store")))
    monkeypatch.setenv("PARE_REGISTRY_DIR", str(tmp_path_factory.mktemp("regstate")))
    monkeypatch.setenv("PARE_VULNDB", str(tmp_path_factory.mktemp("vulndb") / "osv.sqlite"))


def _tar_of(files: dict[str, bytes]) -> bytes:
    import io
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            if name.endswith("/"):
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
                continue
            info.size = len(data)
            info.mode = 0o755 if name.startswith("bin/") else 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def make_image(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Build a small Image from layers given as {path: bytes} dicts (compression: gzip|zstd|none);
    a path ending in '/' is a directory."""
    import io

    from pare.oci.config import HistoryEntry, ImageConfig
    from pare.oci.image import Image
    from pare.oci.layer import layer_from_tar
    from pare.oci.mutate import append_layers, with_runtime

    def build(*layers: dict[str, bytes], compression: str = "gzip", docker: bool = False,
              entrypoint: list[str] | None = None):  # type: ignore[no-untyped-def]
        from pare.oci import mediatypes as mt
        workdir = tmp_path / "layers"
        built = [layer_from_tar(io.BytesIO(_tar_of(files)), compression, workdir=workdir,  # type: ignore[arg-type]
                                docker=docker) for files in layers]
        base = Image.assemble(ImageConfig.new(created="2024-01-01T00:00:00Z"), [],
                              mt.DOCKER_MANIFEST if docker else mt.OCI_MANIFEST)
        image = append_layers(base, built, [HistoryEntry(created_by=f"COPY layer{i} /")
                                            for i in range(len(built))])
        return with_runtime(image, entrypoint=entrypoint or ["/bin/app"], env={"PATH": "/bin"})
    return build


BINFMT = Path("/proc/sys/fs/binfmt_misc")
QEMU_AARCH64 = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")  # Debian's qemu-user-static


@pytest.fixture(scope="session")
def arm64_emulation() -> Iterator[None]:
    """arm64 programs run here under qemu-user-static: binfmt_misc mounted and qemu-aarch64
    registered (with the F flag, so it works inside containers) for the session; whatever this
    fixture mounted or registered it removes afterwards, and nothing else."""
    if not QEMU_AARCH64.is_file():
        pytest.fail("qemu-user-static is not installed: run `make setup` (scripts/install-system.sh)")
    mounted = registered = False
    if not (BINFMT / "register").exists():
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], check=True)
        mounted = True
    entry = BINFMT / "qemu-aarch64"
    try:
        if not entry.exists():
            line = next(ln for ln in QEMU_AARCH64.read_text().splitlines() if ln.startswith(":"))
            (BINFMT / "register").write_text(line)
            registered = True
        yield
    finally:
        if registered and entry.exists():
            entry.write_text("-1")
        if mounted:
            subprocess.run(["umount", str(BINFMT)], check=False)


EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="session", autouse=True)
def _examples_stay_clean() -> Iterator[None]:
    """No test may write into examples/ (a native build writes pare.lock beside its app: tests
    build copies). A lock left there would also make later runs honour it instead of writing one."""
    before = sorted(EXAMPLES_DIR.rglob("pare.lock"))
    yield
    after = sorted(EXAMPLES_DIR.rglob("pare.lock"))
    assert after == before, f"a test wrote into examples/: {[str(p) for p in after if p not in before]}"
