"""Native builds for linux/amd64 and linux/arm64 as one OCI index, each image run for real
(arm64 under qemu-user-static through binfmt_misc), and the index moved whole (issue 9, part 4)."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from pare.builder import build
from pare.engines.podman import PodmanEngine
from pare.localregistry import free_port
from pare.native.assemble import elf_machine
from pare.stores.layout import LayoutStore

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GREETING = {"go-hello": "hello from go-hello", "node-express": "hello from node-express",
            "python-flask": "hello from python-flask"}
MACHINE = {"amd64": "EM_X86_64", "arm64": "EM_AARCH64"}


@pytest.mark.parametrize("app", ["go-hello", "node-express", "python-flask"])
def test_every_example_serves_on_amd64_and_arm64(app: str, tmp_path: Path, podman: PodmanEngine,
                                                 arm64_emulation: None) -> None:
    source = tmp_path / app
    shutil.copytree(EXAMPLES / app, source)
    layout = tmp_path / "out"
    result = build(source, f"oci:{layout}:{app}", platforms="linux/amd64,linux/arm64", level=1)
    assert [child.platform for child in result.platforms] == ["linux/amd64", "linux/arm64"]
    index = LayoutStore(layout).read_index(app)
    assert index is not None and index.digest == result.digest
    assert [str(image.platform) for image in index.images] == ["linux/amd64", "linux/arm64/v8"]
    for image in index.images:
        # the config says what the image's programs were built for
        argv = image.config.runtime["Entrypoint"]
        entry = argv[argv.index("--") + 1]  # the app's program, after the init (docs/runtime-contract.md)
        with image.layers[-1 if app == "go-hello" else 0].open_uncompressed() as stream:
            import tarfile
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    if member.name == entry.lstrip("/"):
                        binary = tmp_path / f"entry-{image.config.architecture}"
                        with tar.extractfile(member) as fh, open(binary, "wb") as out:  # type: ignore[union-attr]
                            shutil.copyfileobj(fh, out)
                        assert elf_machine(binary) == MACHINE[image.config.architecture]
                        break
                else:
                    pytest.fail(f"{entry} not in the layer")
        with podman.running(f"oci:{layout}:{app}", port=free_port(), platform=str(image.platform),
                            timeout=120) as url:
            answer = httpx.get(url + "/", timeout=30)
        assert answer.status_code == 200 and GREETING[app] in answer.text, image.platform
    # the runtime layers differ per platform; a lock covers both
    assert len({image.layers[0].digest for image in index.images}) == 2
    assert 'platforms = ["linux/amd64", "linux/arm64"]' in (source / "pare.lock").read_text()


def test_index_goes_to_a_registry_whole_and_comes_back_with_its_digest(tmp_path: Path,
                                                                        registry: object) -> None:
    from pare.stores.copy import copy
    source = tmp_path / "go-hello"
    shutil.copytree(EXAMPLES / "go-hello", source)
    ref = f"{registry.address}/pare-test/multi:1"  # type: ignore[attr-defined]
    result = build(source, ref, platforms="linux/amd64,linux/arm64", level=1)
    back = copy(ref, f"oci:{tmp_path}/back:multi", all_platforms=True)
    assert back.digest == result.digest
    index = LayoutStore(tmp_path / "back").read_index("multi")
    assert index is not None and len(index.images) == 2
