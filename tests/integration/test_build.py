"""The engine path (buildah, multi-stage into scratch) and the `pare build` / `pare dockerfile` CLI.

Real parts: buildah with private vfs storage, the slim-go base from pare's base cache (built with
mmdebstrap the first time), podman with runc to run the result, hadolint on generated Dockerfiles.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import httpx
import pytest

from conftest import need
from pare.builder import build
from pare.engines.podman import PodmanEngine
from pare.localregistry import free_port
from pare.stores.layout import LayoutStore

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GO = EXAMPLES / "go-hello"


def pare(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pare", *args], capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def engine_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Builder storage shared by this module's engine builds (bases loaded once, layers cached)."""
    need("buildah")
    return tmp_path_factory.mktemp("buildah")


def test_go_multistage_into_scratch_with_buildah_runs(tmp_path: Path, engine_state: Path,
                                                     podman: PodmanEngine) -> None:
    result = build(GO, f"oci:{tmp_path}/layout:engine", "multistage", "buildah", native=False,
                   engine_state=engine_state)
    assert (result.path, result.engine, result.strategy) == ("engine", "buildah", "multistage")
    assert result.dockerfile is not None and "FROM scratch" in result.dockerfile
    assert result.compressed_size < 3_000_000
    image = LayoutStore(tmp_path / "layout").read("engine")
    assert image.config.runtime["User"] == "65532:65532"
    with podman.running(f"oci:{tmp_path}/layout:engine", port=free_port()) as url:
        assert httpx.get(url + "/", timeout=5).status_code == 200

    # warm: every step cached (no layer written to the engine's storage; the cache hit itself, not
    # the seconds it saves, which are flaky on a shared machine), and the same image (--timestamp)
    before = storage_layers(engine_state)
    again = build(GO, f"oci:{tmp_path}/layout:again", "multistage", "buildah", native=False,
                  engine_state=engine_state)
    assert again.digest == result.digest
    assert before and storage_layers(engine_state) == before


def storage_layers(state: Path) -> set[str]:
    """The ids of every layer in the engine's private containers-storage (any driver)."""
    found: set[str] = set()
    for index in state.glob("**/*-layers/layers.json"):
        found.update(layer["id"] for layer in json.loads(index.read_text()))
    return found


@pytest.fixture
def go_app(tmp_path: Path) -> Path:
    """A copy of go-hello: native builds write pare.lock beside the app, never into examples/."""
    shutil.copytree(GO, tmp_path / "go-hello")
    return tmp_path / "go-hello"


def test_native_go_is_reproducible_and_smaller_than_three_mb(go_app: Path) -> None:
    done = pare("build", str(go_app), "--verify", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["reproducible"] is True
    assert report["first"]["digest"] == report["second"]["digest"]
    assert report["first"]["compressed_size"] < 3_000_000


def test_cli_build_json_and_human_output(tmp_path: Path, go_app: Path) -> None:
    done = pare("build", str(go_app), "-t", f"oci:{tmp_path}/out:v1", "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["location"] == f"oci:{tmp_path}/out:v1"
    assert LayoutStore(tmp_path / "out").read("v1").digest.__str__() == body["digest"]
    human = pare("build", str(go_app), "-t", f"oci:{tmp_path}/out:v2")
    assert human.returncode == 0 and "compressed" in human.stdout and body["digest"] in human.stdout


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for args, needle in [(("build", str(tmp_path / "empty")), "cannot tell the language"),
                         (("build", str(GO), "--native", "--engine", "buildah"), "--native"),
                         (("build", str(GO), "-t", "oci:"), "needs a path"),
                         (("dockerfile", str(GO), "--base", "nonsense"), "PROFILE=REF")]:
        done = pare(*args)
        assert done.returncode != 0
        assert needle in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_a_broken_app_fails_cleanly_and_writes_nothing(tmp_path: Path) -> None:
    app = tmp_path / "broken"
    shutil.copytree(GO, app)
    (app / "main.go").write_text("package main\nfunc main() { undefined() }\n")
    done = pare("build", str(app), "-t", f"oci:{tmp_path}/never:x")
    assert done.returncode != 0 and "go build failed" in done.stderr
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("app", ["go-hello", "node-express", "python-flask"])
def test_generated_dockerfiles_pass_hadolint(app: str) -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    for strategy in ("onbuild", "slim", "multistage"):
        done = pare("dockerfile", str(EXAMPLES / app), "--strategy", strategy,
                    *(f"--base={p}=127.0.0.1:5000/pare/base/{p}:1" for p in
                      ("fat-go", "slim-go", "fat-node", "slim-node", "distroless-cc", "slim-python",
                       "distroless-python")))
        assert done.returncode == 0, done.stderr
        lint = subprocess.run([hadolint, "-"], input=done.stdout, capture_output=True, text=True)
        assert lint.returncode == 0, f"{app} {strategy}: {lint.stdout}"


def test_podman_engine_builds_and_exports(tmp_path: Path, podman: PodmanEngine) -> None:
    """The podman driver end to end on a base-free Dockerfile (FROM scratch: no base to fetch)."""
    from pare.engines import BuildRequest
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "hello.txt").write_text("hi\n")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\nUSER 65532\n")
    request = BuildRequest(context, "localhost/pare-test/podman:one", timestamp=0)
    first = podman.build(request, tmp_path / "export1")
    assert first.location.startswith("oci:")
    assert len(first.image.layers) == 1 and first.image.config.runtime["User"] == "65532"
    with first.image.layers[0].open_uncompressed() as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
        assert [m.name for m in tar] == ["hello.txt"]
    second = podman.build(request, tmp_path / "export2")
    assert second.image.digest == first.image.digest  # --timestamp makes it reproducible


def test_static_site_builds_natively_and_serves(tmp_path: Path, podman: PodmanEngine) -> None:
    site = tmp_path / "site"
    (site / "css").mkdir(parents=True)
    (site / "index.html").write_text("<h1>static pare</h1>\n")
    (site / "css" / "a.css").write_text("h1{}\n")
    result = build(site, f"oci:{tmp_path}/layout:site")
    assert result.recipe == "static" and result.compressed_size < 2_000_000
    with podman.running(f"oci:{tmp_path}/layout:site", port=free_port()) as url:
        assert "static pare" in httpx.get(url + "/", timeout=5).text
        assert httpx.get(url + "/css/a.css", timeout=5).status_code == 200


def test_docker_engine_builds_and_exports(tmp_path: Path, dockerd: str) -> None:
    """The docker driver end to end (BuildKit, docker save, read back by pare's ArchiveStore)."""
    from pare.engines import BuildRequest
    from pare.engines.docker import DockerEngine
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "hello.txt").write_text("hi\n")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\nUSER 65532\n")
    engine = DockerEngine(tmp_path / "state", host=dockerd)
    result = engine.build(BuildRequest(context, "pare-test/docker:one"), tmp_path / "export")
    assert result.location.startswith("docker-archive:")
    assert result.image.config.runtime["User"] == "65532"
    with result.image.layers[0].open_uncompressed() as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
        assert "hello.txt" in [m.name for m in tar]


def test_native_build_straight_to_a_registry(registry: object, go_app: Path) -> None:
    """DEST may be any store: here the session's real registry (plain HTTP on 127.0.0.1)."""
    from pare.stores.transports import open_location
    ref = f"{registry.address}/pare-test/go-hello:native"  # type: ignore[attr-defined]
    result = build(go_app, ref)
    store, name = open_location(ref)
    assert store.read(name).digest == result.digest


def test_node_without_a_lockfile_builds_through_buildah_from_the_lock_pare_resolved(
        tmp_path: Path, podman: PodmanEngine) -> None:
    """The engine path resolves the lockfile once, as a native build does (in the sandbox, into
    .pare/package-lock.json), carries it into the context as package-lock.json and runs `npm ci`:
    the image holds exactly the version that lock names, and answers on the PORT it is given."""
    need("buildah")
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text(json.dumps({"name": "nolock", "private": True, "main": "index.js",
                                                  "dependencies": {"ms": "^2.1.0"}}))
    (app / "index.js").write_text(
        "const http = require('http');\n"
        "const version = require('ms/package.json').version;\n"
        "http.createServer((req, res) => res.end('ms ' + version + ' ' + require('ms')('1h')))"
        ".listen(process.env.PORT);\n")
    result = build(app, f"oci:{tmp_path}/layout:nolock", "multistage", "buildah", native=False)
    assert result.dockerfile is not None and "COPY package.json package-lock.json ./" in result.dockerfile
    lock = json.loads((app / ".pare" / "package-lock.json").read_text())
    locked = lock["packages"]["node_modules/ms"]["version"]
    assert not (app / "package-lock.json").exists()  # the app's own files are left as they were
    with podman.running(f"oci:{tmp_path}/layout:nolock", port=free_port()) as url:
        assert httpx.get(url + "/", timeout=5).text == f"ms {locked} 3600000"
