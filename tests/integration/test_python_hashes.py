"""Python dependencies are installed by hash, and their cache key covers local code (issue 18, items
4 and 5).

Real parts: the locked Debian python3.11 and pip from PyPI (shared build cache), PyPI serving
itsdangerous 2.2.0 (a small pure wheel), pip's own hash-checking mode. The apps are made here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import layer_files
from pare.native.process import BuildFailed
from pare.stores.layout import LayoutStore

pytestmark = pytest.mark.integration

WHEEL = "sha256:c6242fc49e35958c8b15141343aa660db5fc54d4f13a1db01a3f5891b98700ef"
SDIST = "sha256:e0050c0b7da1eea53ffaf149c0cfbb5c6e2e2b69c4bef22c81fa6eb73e5f6173"
APP = "import itsdangerous\nprint(itsdangerous.__name__)\n"


@pytest.fixture(scope="module")
def python_lock(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One pare.lock for every app here (none asks for a Python version): resolved once."""
    from pare.builder import ensure_lock
    from pare.native.lock import dumps
    from pare.native.platforms import host_arch
    from pare.recipes import detect
    app = tmp_path_factory.mktemp("lock") / "app"
    app.mkdir()
    (app / "app.py").write_text(APP)
    lock, _ = ensure_lock(detect(app, None), [host_arch()])
    return dumps(lock)


def pipenv_app(root: Path, hashes: list[str], lock: str) -> Path:
    root.mkdir(parents=True)
    (root / "pare.lock").write_text(lock)
    (root / "app.py").write_text(APP)
    lock = {"_meta": {"sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}]},
            "default": {"itsdangerous": {"version": "==2.2.0", "hashes": hashes}}, "develop": {}}
    (root / "Pipfile.lock").write_text(json.dumps(lock))
    return root


def test_a_lockfiles_hashes_are_required_and_a_wrong_one_fails(tmp_path: Path, python_lock: str) -> None:
    """Pipfile.lock's hashes reach pip with --require-hashes: the real ones install, a lock whose
    hashes match no file PyPI serves stops the build (pip names the mismatch)."""
    from pare.builder import build
    good = pipenv_app(tmp_path / "good", [WHEEL, SDIST], python_lock)
    result = build(good, f"oci:{tmp_path}/out:good", level=1)
    image = LayoutStore(tmp_path / "out").read("good")
    assert image.digest == result.digest
    assert any(path.endswith("itsdangerous/__init__.py") for path in layer_files(tmp_path / "out", "good"))
    bad = pipenv_app(tmp_path / "bad", ["sha256:" + "0" * 64], python_lock)
    with pytest.raises(BuildFailed, match=r"pip install failed.*(?i:hash)"):
        build(bad, f"oci:{tmp_path}/out:bad", level=1)


def local_package_app(root: Path, greeting: str, lock: str) -> Path:
    """An app whose requirements.txt installs ./localpkg: the same line, the package's code differs."""
    package = root / "localpkg"
    (package / "localpkg").mkdir(parents=True)
    (package / "setup.py").write_text("from setuptools import setup\nsetup(name='localpkg', version='1.0', "
                                      "packages=['localpkg'])\n")
    (package / "localpkg" / "__init__.py").write_text(f"GREETING = {greeting!r}\n")
    (root / "requirements.txt").write_text("./localpkg\n")
    (root / "app.py").write_text("import localpkg\nprint(localpkg.GREETING)\n")
    (root / "pare.lock").write_text(lock)
    return root


def test_two_apps_with_the_same_local_path_line_get_their_own_deps(tmp_path: Path, python_lock: str) -> None:
    """The reproduction from the issue: two apps, the same `./localpkg` line, different code. Each
    image's deps layer holds its own package."""
    from pare.builder import build
    digests = {}
    for greeting in ("hello from one", "hello from two"):
        app = local_package_app(tmp_path / greeting.split()[-1], greeting, python_lock)
        build(app, f"oci:{tmp_path}/out:{greeting.split()[-1]}", level=1)
        image = LayoutStore(tmp_path / "out").read(greeting.split()[-1])
        deps = image.layers[1]
        with deps.open_uncompressed() as stream:
            from pare.oci.tarsafe import SafeTar
            found = [reader.read() for member, reader in SafeTar(stream, hash_stream=False)
                     if reader is not None and member.path.endswith("localpkg/__init__.py")]
        assert found == [f"GREETING = {greeting!r}\n".encode()]
        digests[greeting] = deps.digest
    assert len(set(digests.values())) == 2
