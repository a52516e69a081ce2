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


def test_an_unhashed_requirements_txt_is_locked_by_pip_and_installed_by_hash(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A range with no hash: the first build records pip's choice (the wheel's sha256) in pare.lock;
    a build after installs that file with --require-hashes, offline; a changed requirements.txt is
    resolved again; a tampered digest in pare.lock stops the build with one line naming the entry."""
    from pare.builder import build, ensure_lock
    from pare.native.lock import read_lock
    from pare.native.lockcheck import LockRejected
    from pare.native.platforms import host_arch
    from pare.native.runtimes.python import PythonRuntime
    from pare.recipes import detect
    from pare.recipes.python import PythonRecipe
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.py").write_text(APP)
    (app / "requirements.txt").write_text("itsdangerous>=2.2,<2.3\n")
    build(app, f"oci:{tmp_path}/out:first", level=1)
    lock = read_lock(app)
    assert lock is not None
    platform = host_arch().name
    locked = [(a.name, a.version, a.platform, a.digest) for a in lock.select(kind="pypi", role="dependency")]
    assert locked == [("itsdangerous", "2.2.0", platform, WHEEL)]

    calls: list[dict[str, object]] = []  # a spy: the real pip_install runs
    real = PythonRuntime.pip_install

    def spy(self: PythonRuntime, requirements: Path, target: Path, **kwargs: object) -> None:
        calls.append({"text": requirements.read_text(), **kwargs})
        real(self, requirements, target, **kwargs)  # type: ignore[arg-type]
    monkeypatch.setattr(PythonRuntime, "pip_install", spy)
    assert build(app, f"oci:{tmp_path}/out:second", level=1).lock == "honoured"
    assert any("from pare.lock, by sha256" in r.getMessage() for r in caplog.records)
    # the second build's install step, made afresh (its layer came from the cache above)
    recipe = detect(app, None)
    assert isinstance(recipe, PythonRecipe)
    site = recipe.install_deps(PythonRuntime(lock, host_arch()), tmp_path / "work", cache=False)
    assert calls[0]["text"] == f"itsdangerous==2.2.0 --hash={WHEEL}\n"
    assert calls[0]["require_hashes"] is True and calls[0]["network"] is False  # a wheel: offline
    assert site is not None and (site / "itsdangerous" / "__init__.py").is_file()

    (app / "requirements.txt").write_text("itsdangerous==2.1.2\n")
    relocked, status = ensure_lock(detect(app, None), [host_arch()])
    assert status == "updated"
    assert [a.version for a in relocked.select(kind="pypi", role="dependency")] == ["2.1.2"]

    text = (app / "pare.lock").read_text()
    digest = next(a.digest for a in relocked.select(kind="pypi", role="dependency"))
    (app / "pare.lock").write_text(text.replace(digest, "sha256:" + "0" * 64))
    with pytest.raises(LockRejected) as info:
        build(app, f"oci:{tmp_path}/out:tampered", level=1)
    assert "\n" not in str(info.value)
    assert f"pypi itsdangerous 2.1.2 ({platform})" in str(info.value)


def test_pips_resolution_is_recorded_per_platform(tmp_path: Path) -> None:
    """A compiled dependency: pare.lock names the wheel pip chose for each platform (x86_64 and
    aarch64 builds of the same release), each with its own sha256 (resolution only, no build)."""
    from pare.builder import ensure_lock
    from pare.native.platforms import arch_for
    from pare.recipes import detect
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.py").write_text("import markupsafe\n")
    (app / "requirements.txt").write_text("markupsafe==3.0.2\n")
    lock, _ = ensure_lock(detect(app, None), [arch_for("linux/amd64"), arch_for("linux/arm64")])
    files = {a.platform: (a.url.rsplit("/", 1)[1], a.digest)
             for a in lock.select(kind="pypi", role="dependency")}
    assert set(files) == {"linux/amd64", "linux/arm64"}
    assert "x86_64" in files["linux/amd64"][0] and "aarch64" in files["linux/arm64"][0]
    assert files["linux/amd64"][1] != files["linux/arm64"][1]


def test_an_sdist_whose_metadata_needs_dev_packages_resolves_from_a_cold_pip_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """psycopg2's setup.py runs pg_config before pip learns its metadata: with no wheel of it in
    pip's cache, the resolution itself needs libpq-dev (and the interpreter's headers). They are
    added as a build adds them, and pare.lock has them before the first build."""
    import pare.recipes.python as python_recipe
    from pare.builder import ensure_lock
    from pare.native.platforms import host_arch
    from pare.recipes import detect
    monkeypatch.setattr(python_recipe, "cache_root", lambda: tmp_path / "cold")  # pip's cache only
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.py").write_text(APP)
    (app / "requirements.txt").write_text("psycopg2==2.9.10\n")
    lock, status = ensure_lock(detect(app, None), [host_arch()])
    assert status == "written"
    locked = [(a.name, a.version) for a in lock.select(kind="pypi", role="dependency")]
    assert locked == [("psycopg2", "2.9.10")]
    toolchain = {a.name for a in lock.select(kind="deb", role="toolchain")}
    assert {"libpq-dev", "libpython3.11-dev"} <= toolchain
