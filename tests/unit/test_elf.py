"""ELF closure: headers read with pyelftools, libraries found the way ld.so finds them."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pare.native.elf import (
    ElfError,
    ElfInfo,
    Resolver,
    closure,
    expand_origin,
    is_elf,
    ld_so_conf_dirs,
    read_elf,
)

HOST_ELF = Path(os.path.realpath(sys.executable))  # some dynamically linked ELF on any Linux host
HEAD = HOST_ELF.read_bytes()[:4096]


def test_read_elf_on_a_real_interpreter() -> None:
    info = read_elf(HOST_ELF)
    assert info.interpreter and info.interpreter.startswith("/")
    assert any(n.startswith("libc.so") for n in closure_sonames(HOST_ELF)) or "libc.so.6" in info.needed
    assert info.elfclass == 64


def closure_sonames(path: Path) -> list[str]:
    return [os.path.basename(p) for p in closure([str(path)]).files]


def test_host_closure_holds_loader_and_libc() -> None:
    found = closure([str(HOST_ELF)])
    names = [os.path.basename(p) for p in found.files]
    assert found.files[0] == str(HOST_ELF)
    assert "libc.so.6" in names
    assert any(n.startswith("ld-linux") for n in names)
    assert found.missing == ()


def fake_lib(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)


def test_sysroot_resolution_runpath_origin_and_class(tmp_path: Path) -> None:
    """Inside a sysroot: $ORIGIN/../lib beats the system dirs, and ld.so.conf dirs are honoured."""
    root = tmp_path / "root"
    real_lib = HOST_ELF  # any ELF of the right class works as a stand-in library
    fake_lib(real_lib, root / "opt/app/lib/libdemo.so.1")
    fake_lib(real_lib, root / "usr/lib/libdemo.so.1")
    fake_lib(real_lib, root / "srv/extra/libonlyconf.so.2")
    (root / "etc/ld.so.conf.d").mkdir(parents=True)
    (root / "etc/ld.so.conf").write_text("include /etc/ld.so.conf.d/*.conf\n")
    (root / "etc/ld.so.conf.d/x.conf").write_text("# extra libs\n/srv/extra\n")
    assert ld_so_conf_dirs(root) == ["/srv/extra"]
    resolver = Resolver(root)
    needer = ElfInfo("/opt/app/bin/app", 64, read_elf(real_lib).machine, None, ("libdemo.so.1",),
                     (), ("$ORIGIN/../lib",), None)
    assert resolver.find("libdemo.so.1", needer, None) == "/opt/app/lib/libdemo.so.1"
    plain = ElfInfo("/usr/bin/app", 64, needer.machine, None, (), (), (), None)
    assert resolver.find("libdemo.so.1", plain, None) == "/usr/lib/libdemo.so.1"
    assert resolver.find("libonlyconf.so.2", plain, None) == "/srv/extra/libonlyconf.so.2"
    assert resolver.find("libnothere.so", plain, None) is None
    other_class = ElfInfo("/usr/bin/app32", 32, needer.machine, None, (), (), (), None)
    assert resolver.find("libdemo.so.1", other_class, None) is None  # a 64-bit lib never serves 32-bit


def test_rpath_is_ignored_when_runpath_is_set(tmp_path: Path) -> None:
    root = tmp_path / "root"
    fake_lib(HOST_ELF, root / "rpath/libx.so")
    fake_lib(HOST_ELF, root / "runpath/libx.so")
    machine = read_elf(HOST_ELF).machine
    both = ElfInfo("/bin/a", 64, machine, None, (), ("/rpath",), ("/runpath",), None)
    only_rpath = ElfInfo("/bin/a", 64, machine, None, (), ("/rpath",), (), None)
    resolver = Resolver(root)
    assert resolver.find("libx.so", both, None) == "/runpath/libx.so"
    assert resolver.find("libx.so", only_rpath, None) == "/rpath/libx.so"


def test_expand_origin() -> None:
    assert expand_origin("$ORIGIN/../lib", "/opt/a/bin") == "/opt/a/bin/../lib"
    assert expand_origin("${ORIGIN}/x", "/o") == "/o/x"


def test_missing_library_is_an_error_in_strict_mode(tmp_path: Path) -> None:
    root = tmp_path / "root"
    fake_lib(HOST_ELF, root / "usr/bin/prog")  # needs libc etc., none of which is in this sysroot
    with pytest.raises(ElfError, match="needs"):
        closure(["/usr/bin/prog"], root=root)
    loose = closure(["/usr/bin/prog"], root=root, strict=False)
    assert loose.missing and loose.files == ("/usr/bin/prog",)


def test_not_elf(tmp_path: Path) -> None:
    text = tmp_path / "script.sh"
    text.write_text("#!/bin/sh\n")
    assert not is_elf(text)
    with pytest.raises(ElfError, match="not a valid ELF"):
        read_elf(text)
    with pytest.raises(ElfError, match="cannot read"):
        read_elf(tmp_path / "absent")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes_never_crash(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "f"
    path.write_bytes(data)
    try:
        read_elf(path)
    except ElfError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(HEAD) - 1), st.integers(0, 255), st.integers(64, len(HEAD)))
def test_corrupted_real_headers_fail_cleanly(tmp_path_factory: pytest.TempPathFactory, offset: int,
                                             value: int, cut: int) -> None:
    data = bytearray(HEAD[:cut])
    if offset < len(data):
        data[offset] = value
    path = tmp_path_factory.mktemp("fuzz") / "f"
    path.write_bytes(bytes(data))
    try:
        read_elf(path)
    except ElfError:
        pass


def test_a_library_reached_through_a_symlinked_package_directory_is_the_one_in_the_layer(
        tmp_path: Path) -> None:
    """pnpm's layout: the addon's RUNPATH ($ORIGIN/../dep/lib) passes through a symlink to the
    sibling package's real directory; the closure names the library by the path the layer holds."""
    cc = shutil.which("gcc")
    if cc is None:
        pytest.fail("gcc is not installed (make setup installs g++, which brings it)")
    import subprocess
    store = tmp_path / "store"
    (store / "dep-1.0" / "lib").mkdir(parents=True)
    (store / "addon-1.0" / "addon").mkdir(parents=True)
    (tmp_path / "dep.c").write_text("int dep(void) { return 1; }\n")
    (tmp_path / "addon.c").write_text("int dep(void);\nint addon(void) { return dep(); }\n")
    lib = store / "dep-1.0" / "lib" / "libdep.so.1"
    subprocess.run([cc, "-shared", "-fPIC", "-Wl,-soname,libdep.so.1", "-o", str(lib),
                    str(tmp_path / "dep.c")], check=True)
    addon = store / "addon-1.0" / "addon" / "addon.node"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(addon), str(tmp_path / "addon.c"), str(lib),
                    "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../dep/lib"], check=True)
    os.symlink("../dep-1.0", store / "addon-1.0" / "dep")  # the sibling, linked as pnpm links it
    files = {"/app/store/addon-1.0/addon/addon.node": addon, "/app/store/dep-1.0/lib/libdep.so.1": lib}
    found = closure(["/app/store/addon-1.0/addon/addon.node"], Path("/"), files=files, strict=False)
    assert "/app/store/dep-1.0/lib/libdep.so.1" in found.files
    assert not [s for _, s in found.missing if s == "libdep.so.1"]
