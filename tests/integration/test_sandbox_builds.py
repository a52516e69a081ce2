"""Real native builds of malicious apps (tests/data/sandbox) and of the examples: what their
install scripts and setup.py try is blocked by the build sandbox, a poisoned cache entry never
ships (the cache's manifests), and secrets stay out of images.

The builds use the session's build cache (warm after the first node and python builds), so each
test costs one or two warm builds; the node and python runtimes are shared with test_examples."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path
from typing import IO, cast

import pytest

from conftest import need
from pare.builder import build
from pare.native import cache, sandbox
from pare.oci.tarsafe import SafeTar
from pare.stores.layout import LayoutStore
from sandboxkit import listening, processes_with

pytestmark = pytest.mark.integration
DATA = Path(__file__).resolve().parents[1] / "data" / "sandbox"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ATTEMPTS = ("read_shadow", "read_root_npmrc", "write_etc", "write_source")


@pytest.fixture(autouse=True)
def _bwrap() -> None:
    need("bwrap")


def image_file(layout: Path, tag: str, path: str) -> bytes:
    """The bytes of one file of an image (the topmost layer that has it)."""
    found = None
    for layer in LayoutStore(layout).read(tag).layers:
        with layer.open_uncompressed() as stream:
            for member, reader in SafeTar(cast(IO[bytes], stream), hash_stream=False):
                if "/" + member.path == path and reader is not None:
                    found = reader.read()
    assert found is not None, f"{path} is not in the image"
    return found


def evil_copy(name: str, tmp_path: Path, port: int, probe_dir: str = ".") -> tuple[Path, dict[str, str]]:
    app = tmp_path / name
    shutil.copytree(DATA / name, app)
    marker = f"{time.time_ns() % 10**7}.{os.getpid() % 1000}"
    probe = {"etc": f"/etc/pare-evil-{marker}", "source": str(app), "port": port, "marker": marker}
    (app / probe_dir / "probe.json").write_text(json.dumps(probe))
    return app, probe


def cleanup(probe: dict[str, str]) -> None:
    """What an unconfined build left behind on the host (only --no-sandbox can)."""
    Path(probe["etc"]).unlink(missing_ok=True)
    for pid in processes_with(probe["marker"]):
        os.kill(pid, signal.SIGKILL)


def test_node_install_scripts_are_contained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARE_TEST_TOKEN", "s3cret")
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", "http://127.0.0.1:9/")  # would break npm if it leaked
    with listening() as port:
        app, probe = evil_copy("node-evil", tmp_path, port)
        try:
            build(app, f"oci:{tmp_path}/layout:evil")
            time.sleep(0.3)
            assert processes_with(probe["marker"]) == [], "the postinstall's daemon outlived the build"
        finally:
            cleanup(probe)
    report = json.loads(image_file(tmp_path / "layout", "evil", "/app/evil-report.json"))
    for name in (*ATTEMPTS, "poison_runtime", "network"):
        assert report[name].startswith("blocked"), (name, report[name])
    assert report["token"] is None and report["registry"] != "http://127.0.0.1:9/"
    assert not Path(probe["etc"]).exists() and not (app / "pwned").exists()


def test_setup_py_is_contained_and_builds_outside_the_source_tree(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARE_TEST_TOKEN", "s3cret")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")  # would break pip if it leaked
    with listening() as port:
        app, probe = evil_copy("py-evil", tmp_path, port, "evilpkg")
        try:
            result = build(app, f"oci:{tmp_path}/layout:evil")
            time.sleep(0.3)
            assert processes_with(probe["marker"]) == [], "setup.py's daemon outlived the build"
        finally:
            cleanup(probe)
    text = b""
    for version in ("3.11", "3.12", "3.13", "3.14"):  # the interpreter the lock picked
        path = f"/usr/local/lib/python{version}/dist-packages/evilreport.py"
        if path in _paths(tmp_path / "layout", "evil"):
            text = image_file(tmp_path / "layout", "evil", path)
    assert text, f"evilreport.py is not in the image ({result.digest})"
    report = json.loads(text.decode().removeprefix("REPORT = "))
    for name in ATTEMPTS:
        assert report[name].startswith("blocked"), (name, report[name])
    assert report["token"] is None and report["pip_index"] is None
    left = sorted(p.name for p in app.rglob("*") if p.name in ("build", "pwned", "evilreport.py")
                  or p.name.endswith(".egg-info"))
    assert left == [], f"pip wrote into the source tree: {left}"


def test_a_poisoned_runtime_never_ships(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18's repro: app A's postinstall appends to the cached node runtime (here it can: A is
    built with --no-sandbox, so only the cache's own check stands in the way); app B, built
    afterwards with --ignore-scripts by a new pare process, is byte-identical to its clean build.
    A cache of its own (the poison must never reach the session's), gzip -1 to keep it quick."""
    monkeypatch.setenv("PARE_BUILD_CACHE", str(tmp_path / "cache"))
    fast = {"compression": "gzip", "level": 1}
    b = tmp_path / "node-express"
    shutil.copytree(EXAMPLES / "node-express", b)
    clean = build(b, f"oci:{tmp_path}/layout:clean", settings={"ignore_scripts": True}, **fast)
    with listening() as port:
        a, probe = evil_copy("node-evil", tmp_path, port)
        try:
            with sandbox.using(sandbox.Policy(enabled=False)):
                build(a, f"oci:{tmp_path}/layout:a", **fast)
        finally:
            cleanup(probe)
    report = json.loads(image_file(tmp_path / "layout", "a", "/app/evil-report.json"))
    assert report["poison_runtime"].startswith("done"), report  # unconfined, the write went through
    poisoned = Path(report["poison_runtime"].removeprefix("done "))
    assert poisoned.read_text().endswith("POISONED by node-evil\n")
    cache.forget_checks()  # what a new pare process does
    again = build(b, f"oci:{tmp_path}/layout:again", settings={"ignore_scripts": True}, **fast)
    assert again.digest == clean.digest
    assert b"POISONED" not in image_file(tmp_path / "layout", "again", "/usr/local/share/doc/node/LICENSE")


SECRETS = {".env": "TOKEN=1", ".env.production": "TOKEN=2", ".npmrc": "//r/:_authToken=3",
           ".pypirc": "[pypi]", ".netrc": "machine m", ".aws/credentials": "[default]", ".ssh/id_rsa": "key",
           ".git/config": "[core]", "tls/server.pem": "pem", "id_ed25519": "key", "config/app.key": "key"}


def test_secrets_stay_out_of_images(tmp_path: Path) -> None:
    app = tmp_path / "go-hello"
    shutil.copytree(EXAMPLES / "go-hello", app)
    for rel, text in SECRETS.items():
        (app / rel).parent.mkdir(parents=True, exist_ok=True)
        (app / rel).write_text(text)
    (app / ".dockerignore").write_text("!.npmrc\n")  # a ! line does not bring a secret back
    (app / "notes.txt").write_text("ships")
    build(app, f"oci:{tmp_path}/layout:one")
    files = set(_paths(tmp_path / "layout", "one"))
    assert "/app/notes.txt" in files
    assert not [rel for rel in SECRETS if f"/app/{rel}" in files]
    (app / "pare.toml").write_text('include-secrets = [".env.production"]\n')  # shipping one is explicit
    build(app, f"oci:{tmp_path}/layout:two")
    files = set(_paths(tmp_path / "layout", "two"))
    assert [rel for rel in SECRETS if f"/app/{rel}" in files] == [".env.production"]


def _paths(layout: Path, tag: str) -> list[str]:
    found = []
    for layer in LayoutStore(layout).read(tag).layers:
        with layer.open_uncompressed() as stream:
            found += ["/" + member.path for member, _ in SafeTar(cast(IO[bytes], stream), hash_stream=False)]
    return found
