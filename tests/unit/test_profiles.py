"""Base profiles as data, cache keys, mmdebstrap argv and the .deb dependency resolver (no system tools)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pare.bases import cache
from pare.bases.apt import (
    DEFAULT_EXCLUDED_PACKAGES,
    Package,
    deb_file_name,
    parse_depends,
    read_index,
    resolve,
)
from pare.bases.debs import _merged, resolve_in_root
from pare.bases.mmdebstrap import DOCKER_APT_HOOKS, build_epoch, mmdebstrap_command
from pare.bases.profiles import load_profile, parse_profile, profile_names
from pare.errors import NotFound, UnsafeTarError, UsageError

ROOT_PROFILES = Path(__file__).resolve().parents[2] / "benchmarks" / "bases"

REQUIRED = {"fat-node", "fat-go", "slim-node", "slim-go", "distroless-cc", "distroless-static"}


def test_bundled_profiles_parse_and_cover_the_issue() -> None:
    names = set(profile_names())
    assert names >= REQUIRED
    for name in names:
        prof = load_profile(name)
        assert prof.description, name
        assert prof.packages, name
    assert load_profile("fat-go").variant == "buildd" and "golang-go" in load_profile("fat-go").packages
    assert load_profile("fat-node").variant == "buildd" and "npm" in load_profile("fat-node").packages
    slim = load_profile("slim-go")
    assert slim.variant == "minbase" and slim.slim
    assert "/usr/share/man/*" in slim.path_excludes and "/usr/share/doc/*/copyright" in slim.path_keeps
    for name in ("distroless-static", "distroless-cc"):
        prof = load_profile(name)
        assert prof.builder == "debs" and prof.users and prof.user.startswith("65532")
        assert "ca-certificates" in prof.packages and "tzdata" in prof.packages


@pytest.mark.parametrize(("text", "message"), [
    (b"builder = 'docker'\npackages=['a1']", "builder must be one of"),
    (b"variant = 'tiny'\npackages=['a1']", "unknown mmdebstrap variant"),
    (b"packages = ['Bad Name']", "invalid package name"),
    (b"packages = 'a1'", "list of non-empty strings"),
    (b"builder = 'debs'", "needs packages"),
    (b"colour = 'red'", "unknown field"),
    (b"excludes = ['usr/share/man/*']", "absolute path globs"),
    (b"env = {A = 1}", "table of strings"),
    (b"slim = 'yes'", "true or false"),
    (b"[[[", "not valid TOML"),
    (b"\xff\xfe", "not valid TOML"),
])
def test_bad_profiles_are_one_clear_usage_error(text: bytes, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_profile("p", text)


def test_unknown_and_malformed_profile_names(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no base profile 'nope'"):
        load_profile("nope")
    with pytest.raises(UsageError, match="invalid profile name"):
        load_profile("Bad Name")
    with pytest.raises(NotFound):
        load_profile("../etc")
    with pytest.raises(NotFound):
        load_profile(tmp_path / "missing.toml")
    custom = tmp_path / "mine.toml"
    custom.write_text("builder = 'debs'\npackages = ['base-files']\n")
    assert load_profile(custom).name == "mine"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_profile_parser_never_crashes(data: bytes) -> None:
    try:
        parse_profile("fuzz", data)
    except UsageError:
        pass


def test_cache_key_follows_the_profile_bytes(tmp_path: Path) -> None:
    one = parse_profile("x", b"builder = 'debs'\npackages = ['base-files']\n")
    same = parse_profile("x", b"builder = 'debs'\npackages = ['base-files']\n")
    other = parse_profile("x", b"builder = 'debs'\npackages = ['base-files', 'netbase']\n")
    assert cache.base_key(one, 0) == cache.base_key(same, 0)
    assert cache.base_key(one, 0) != cache.base_key(other, 0)
    assert cache.base_key(one, 0) != cache.base_key(one, 86400)
    key12 = cache.base_key(one)[:12]
    assert cache.base_reference(one, "127.0.0.1:5000") == f"127.0.0.1:5000/pare/base/x:{key12}"


def test_mmdebstrap_command_uses_merged_usr_slim_filters_and_the_deb_cache(tmp_path: Path) -> None:
    prof = load_profile("slim-go")
    cmd = mmdebstrap_command(prof, tmp_path / "debs", tmp_path / "in", tmp_path / "pkgs.txt")
    assert "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr" in cmd
    assert "--variant=minbase" in cmd and "--format=tar" in cmd
    assert "--dpkgopt=path-exclude=/usr/share/doc/*" in cmd
    assert "--dpkgopt=path-include=/usr/share/doc/*/copyright" in cmd
    assert "--include=golang-go,ca-certificates,catatonit,execline" in cmd
    assert any(str(tmp_path / "debs") in arg and arg.startswith("--setup-hook") for arg in cmd)
    assert cmd[cmd.index("bookworm") + 1] == "-"
    assert build_epoch(0) == 86400 and build_epoch(1_700_000_000) == 1_700_000_000


def test_docker_apt_hooks_leave_apt_set_as_dockers_debian_images(tmp_path: Path) -> None:
    """The hooks run as mmdebstrap runs them (sh -c HOOK, $1 the new root) on a root with the build's
    own apt options: recommends come back, lists stay compressed, package caches go."""
    text = Path(ROOT_PROFILES / "debian-slim.toml").read_bytes()
    prof = parse_profile("debian-slim", text)
    assert prof.docker_apt and not load_profile("slim-go").docker_apt
    cmd = mmdebstrap_command(prof, tmp_path / "debs", tmp_path / "in", tmp_path / "pkgs.txt")
    hooks = [a.removeprefix("--customize-hook=") for a in cmd if a in DOCKER_APT_HOOKS]
    assert len(hooks) == len(DOCKER_APT_HOOKS)
    assert cmd.index(DOCKER_APT_HOOKS[0]) > max(i for i, a in enumerate(cmd) if "dpkg-query" in a)
    root = tmp_path / "root"
    conf = root / "etc/apt/apt.conf.d"
    conf.mkdir(parents=True)
    (root / "var/cache/apt").mkdir(parents=True)
    (root / "var/cache/apt/pkgcache.bin").write_bytes(b"x")
    (conf / "99mmdebstrap").write_text('Acquire::Check-Valid-Until "false";\n'
                                       'APT::Install-Recommends "false";\n')
    for hook in hooks:
        subprocess.run(["sh", "-c", hook, "exec", str(root)], check=True)
    assert (conf / "99mmdebstrap").read_text() == 'Acquire::Check-Valid-Until "false";\n'
    assert (conf / "docker-gzip-indexes").read_text() == 'Acquire::GzipIndexes "true";\n'
    clean = (conf / "docker-clean").read_text()
    assert 'Dir::Cache::pkgcache "";' in clean and clean.count("/var/cache/apt/*.bin || true") == 2
    assert not (root / "var/cache/apt/pkgcache.bin").exists()
    if shutil.which("apt-config"):  # apt itself reads the files back
        out = subprocess.run(["apt-config", "-c", str(conf / "docker-clean"), "dump", "Dir::Cache::pkgcache"],
                             capture_output=True, text=True, check=True).stdout
        assert 'Dir::Cache::pkgcache "";' in out


def test_parse_depends() -> None:
    assert parse_depends("libc6 (>= 2.34), awk | mawk:any, python3:any (>= 3.11~)") == (
        ("libc6",), ("awk", "mawk"), ("python3",))
    assert parse_depends("") == ()


PACKAGES = """\
Package: app
Version: 1.0
Architecture: amd64
Depends: libc6 (>= 2.3), awk | mawk, debconf (>= 0.5) | debconf-2.0,
 libfoo
Filename: pool/main/a/app/app_1.0_amd64.deb

Package: libc6
Version: 2.36-9
Architecture: amd64
Depends: libgcc-s1
Filename: pool/main/g/glibc/libc6_2.36-9_amd64.deb

Package: libc6
Version: 2.36-9+deb12u1
Architecture: amd64
Depends: libgcc-s1
Filename: pool/main/g/glibc/libc6_2.36-9+deb12u1_amd64.deb

Package: libgcc-s1
Version: 1:12.2.0-14
Architecture: amd64
Filename: pool/main/g/gcc-12/libgcc-s1_12.2.0-14_amd64.deb

Package: foo-impl
Version: 2
Architecture: all
Provides: libfoo
Filename: pool/main/f/foo/foo-impl_2_all.deb

Package: armonly
Version: 1
Architecture: arm64
Filename: pool/main/a/armonly_1_arm64.deb

Package: mawk
Version: 1.3.4
Architecture: amd64
Filename: pool/main/m/mawk/mawk_1.3.4_amd64.deb
"""


def test_index_keeps_newest_and_resolver_cuts_excluded_branches(tmp_path: Path) -> None:
    path = tmp_path / "x_Packages"
    path.write_text(PACKAGES)
    index = read_index([path], "amd64")
    assert "armonly" not in index
    assert index["libc6"].version == "2.36-9+deb12u1"
    assert index["app"].depends[-1] == ("libfoo",)
    chosen = resolve(index, ("app",), DEFAULT_EXCLUDED_PACKAGES)
    assert [p.name for p in chosen] == ["app", "foo-impl", "libc6", "libgcc-s1"]
    with_awk = resolve(index, ("app",), ("debconf",))
    assert "mawk" in [p.name for p in with_awk]
    assert [p.name for p in resolve(index, ("app",), (), follow=False)] == ["app"]
    assert deb_file_name(index["libgcc-s1"]) == "libgcc-s1_1%3a12.2.0-14_amd64.deb"


def test_resolver_rejects_unknown_roots() -> None:
    index = {"a": Package("a", "1", (), (), "pool/a_1_all.deb")}
    with pytest.raises(Exception, match="not in the 1-package index"):
        resolve(index, ("b",), ())


def test_merged_usr_mapping() -> None:
    assert _merged("bin/sh") == "usr/bin/sh"
    assert _merged("lib64/ld-linux-x86-64.so.2") == "usr/lib64/ld-linux-x86-64.so.2"
    assert _merged("lib") == "usr/lib"
    assert _merged("library/x") == "library/x"
    assert _merged("etc/passwd") == "etc/passwd"


def test_resolve_in_root_never_leaves_the_tree(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "usr/lib").mkdir(parents=True)
    (root / "abs").symlink_to("/usr/lib")
    (root / "rel").symlink_to("usr/lib")
    (root / "up").symlink_to("../../../../..")
    (root / "loop").symlink_to("loop")
    assert resolve_in_root(root, "abs/x") == root / "usr/lib/x"
    assert resolve_in_root(root, "rel/x") == root / "usr/lib/x"
    assert resolve_in_root(root, "up/etc/passwd") == root / "etc/passwd"
    assert resolve_in_root(root, "../../x") == root / "x"
    with pytest.raises(UnsafeTarError):
        resolve_in_root(root, "loop/x")
