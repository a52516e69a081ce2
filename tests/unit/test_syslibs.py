"""System packages for compiled code: Contents lines, the manylinux floor, build failures mapped to
-dev packages, the `packages` setting and Heroku's Aptfile. The suite's real Contents index and
real builds are exercised by tests/integration/test_datastack.py."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from pare.errors import DigestMismatch, UsageError
from pare.native.contents import (
    ContentsError,
    ContentsIndex,
    kept,
    parse_line,
    read_cut,
    release_digest,
    stream_lines,
    write_cut,
)
from pare.native.lock import Artifact, Lock
from pare.native.syslibs import (
    MANYLINUX_LIBRARIES,
    Finder,
    MissingSystemPackage,
    Needs,
    build_needs,
    read_aptfile,
)
from pare.oci.digest import Digest
from pare.recipes.settings import load_settings

TRIPLET = "x86_64-linux-gnu"
LIBS = [f"/usr/lib/{TRIPLET}", f"/lib/{TRIPLET}", "/usr/lib", "/lib"]


def test_contents_lines_name_path_and_packages() -> None:
    assert parse_line(f"usr/lib/{TRIPLET}/libpq.so.5      libs/libpq5\n") == (
        f"usr/lib/{TRIPLET}/libpq.so.5", ("libpq5",))
    assert parse_line("usr/share/a b/c d.txt   non-free/misc/xx,libs/yy") == (
        "usr/share/a b/c d.txt", ("xx", "yy"))
    for bad in ("", "FILE", "/abs/path  libs/x", "usr/x  libs/Bad_Name", "x" * 5000 + "  libs/y"):
        assert parse_line(bad) is None


def test_only_libraries_headers_and_pkgconfig_are_kept() -> None:
    assert kept(f"usr/lib/{TRIPLET}/libstdc++.so.6", TRIPLET)
    assert kept("usr/include/postgresql/libpq-fe.h", TRIPLET)
    assert kept(f"usr/lib/{TRIPLET}/pkgconfig/mysqlclient.pc", TRIPLET)
    assert not kept(f"usr/lib/{TRIPLET}/gconv/libJIS.so", TRIPLET)  # not where the loader looks
    assert not kept("usr/share/doc/libpq5/copyright", TRIPLET)
    assert not kept("usr/bin/pg_config", TRIPLET)


def test_release_digest_reads_the_sha256_section(tmp_path: Path) -> None:
    inrelease = tmp_path / "InRelease"
    inrelease.write_text("Origin: Debian\nMD5Sum:\n aa 5 main/Contents-amd64.gz\nSHA256:\n"
                         f" {'ab' * 32} 11629145 main/Contents-amd64.gz\n"
                         f" {'cd' * 32} 9 main/Contents-arm64.gz\n")
    digest, size = release_digest(inrelease, "main/Contents-amd64.gz")
    assert (digest.hex, size) == ("ab" * 32, 11629145)
    with pytest.raises(ContentsError):
        release_digest(inrelease, "main/Contents-s390x.gz")


def test_cut_is_written_only_when_the_stream_checks_out(tmp_path: Path) -> None:
    def lines(fail: bool):  # type: ignore[no-untyped-def]
        yield f"usr/lib/{TRIPLET}/libpq.so.5  libs/libpq5"
        yield "usr/share/doc/x/README  doc/x"
        if fail:
            raise DigestMismatch("bytes differ")

    dest = tmp_path / "cut.tsv"
    with pytest.raises(DigestMismatch):
        write_cut(lines(True), TRIPLET, dest)
    assert not dest.exists() and not list(tmp_path.iterdir())  # no half-written cut
    write_cut(lines(False), TRIPLET, dest)
    assert dest.read_text() == f"/usr/lib/{TRIPLET}/libpq.so.5\tlibpq5\n"


def index() -> ContentsIndex:
    return ContentsIndex({f"/usr/lib/{TRIPLET}/libpq.so.5": ("libpq5",),
                          "/usr/include/postgresql/libpq-fe.h": ("libpq-dev",),
                          "/usr/include/postgresql/internal/libpq-fe.h": ("postgresql-server-dev-15",),
                          f"/usr/lib/{TRIPLET}/pkgconfig/mysqlclient.pc": ("libmariadb-dev-compat",),
                          f"/usr/lib/{TRIPLET}/libodd.so.1": ("libodd1",)})


def finder() -> Finder:
    return Finder("bookworm", ["libstdc++6", "libpq5", "libpq-dev", "libmariadb-dev-compat", "libgcc-s1"],
                  index, LIBS)


def test_policy_libraries_need_no_index_and_others_come_from_contents() -> None:
    calls = []

    def contents() -> ContentsIndex:
        calls.append(1)
        return index()

    found = Finder("bookworm", ["libstdc++6", "libgcc-s1", "libpq5"], contents, LIBS)
    assert found.library("libstdc++.so.6") == "libstdc++6"
    assert found.library("libgcc_s.so.1") == "libgcc-s1"
    assert calls == []  # the manylinux floor answers without the Contents index
    assert found.library("libpq.so.5") == "libpq5"
    assert calls == [1]
    assert found.library("libodd.so.1") is None  # shipped by a package the suite's index lacks
    assert MANYLINUX_LIBRARIES["libz.so.1"] == "zlib1g"


def test_needs_resolve_to_runtime_and_build_packages() -> None:
    needs = Needs(libraries=(("a compiled wheel (x.so)", "libstdc++.so.6"),
                             ("psycopg2 (_psycopg.so)", "libpq.so.5")),
                  build_packages=("libpq-dev",), headers=("libpq-fe.h",), pkgconfig=("mysqlclient",))
    found = finder().resolve(needs)
    assert found.runtime == ["libstdc++6", "libpq5"]
    assert found.build == ["libpq-dev", "libmariadb-dev-compat"]


def test_a_library_no_package_ships_is_one_line_naming_the_setting() -> None:
    with pytest.raises(MissingSystemPackage) as caught:
        finder().resolve(Needs(libraries=(("a compiled wheel (cv2.so)", "libavcodec.so.59"),)))
    message = str(caught.value)
    assert "\n" not in message
    assert "libavcodec.so.59" in message and "`packages`" in message and "--package" in message


@pytest.mark.parametrize(("output", "package"), [
    ("Error: pg_config executable not found.\n\npg_config is required to build psycopg2.", "libpq-dev"),
    ("/bin/sh: 1: mysql_config: not found\nOSError: mysql_config not found", "default-libmysqlclient-dev"),
    ("Exception: Can not find valid pkg-config name.\nSpecify MYSQLCLIENT_CFLAGS",
     "default-libmysqlclient-dev"),
])
def test_known_build_failures_name_the_dev_package(output: str, package: str) -> None:
    found = build_needs("Collecting x\n" + output + "\nnote: This error originates from a subprocess")
    assert found.build_packages == (package,)


def test_missing_headers_and_pkgconfig_modules_are_read_from_compiler_output() -> None:
    out = ("psycopg/psycopgmodule.c:28:10: fatal error: libpq-fe.h: No such file or directory\n"
           "Package mysqlclient was not found in the pkg-config search path.\n"
           "Package 'libffi', required by 'virtual:world', not found\n")
    needs = build_needs(out)
    assert needs.headers == ("libpq-fe.h",)
    assert needs.pkgconfig == ("mysqlclient", "libffi")
    assert not build_needs("ERROR: No matching distribution found for nosuchpackage")


def test_aptfile_names_packages_and_refuses_other_archives() -> None:
    assert read_aptfile("# for psycopg2\nlibpq5\n\nlibmariadb3 zlib1g  # two more\nlibpq5\n") == (
        "libpq5", "libmariadb3", "zlib1g")
    for bad in (":repo:deb http://apt.example/ stable main", "https://x.example/pkg.deb", "Bad_Name"):
        with pytest.raises(UsageError) as caught:
            read_aptfile(f"libpq5\n{bad}\n", "app/Aptfile")
        assert str(caught.value).startswith("app/Aptfile:2:")


def test_packages_setting_merges_file_aptfile_and_flags(tmp_path: Path) -> None:
    (tmp_path / "pare.toml").write_text('packages = ["libpq5", "fonts-dejavu-core"]\n')
    (tmp_path / "Aptfile").write_text("libpq5\nimagemagick\n")
    settings = load_settings(tmp_path, {"packages": ("curl",)})
    assert settings.packages == ("libpq5", "fonts-dejavu-core", "imagemagick", "curl")
    (tmp_path / "pare.toml").write_text('packages = "libpq5 x"\n')
    with pytest.raises(UsageError, match="packages"):
        load_settings(tmp_path)
    (tmp_path / "pare.toml").write_text("packages = [1]\n")
    with pytest.raises(UsageError, match="list of Debian package names"):
        load_settings(tmp_path)


def test_lock_request_records_named_packages(tmp_path: Path) -> None:
    from pare.builder import lock_request
    from pare.recipes import detect
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / "Aptfile").write_text("libpq5\n")
    recipe = detect(tmp_path, "python", settings=load_settings(tmp_path))
    assert lock_request(recipe)["packages"] == ("libpq5",)
    lock = Lock.new(lock_request(recipe), [Artifact("deb", "runtime", "linux/amd64", "libpq5", "15.1",
                                                    "sha256:" + "ab" * 32, "https://deb.example/libpq5.deb")])
    assert lock.answers(lock_request(recipe))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    """A gzipped Contents file on a local HTTP server (as the archive serves it): URL, its bytes."""
    import http.server
    import threading

    from pare.localregistry import free_port
    lines = "".join(f"usr/lib/{TRIPLET}/libx{i}.so.1   libs/libx{i}\n" for i in range(3000))
    body = gzip.compress(lines.encode() + b"usr/include/x.h   devel/libx-dev")  # no newline at the end
    (tmp_path / "Contents-amd64.gz").write_bytes(body)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/Contents-amd64.gz", body
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_contents_stream_is_gunzipped_and_checked(served: tuple[str, bytes], tmp_path: Path) -> None:
    url, body = served
    cut = tmp_path / "out" / "cut.tsv"
    write_cut(stream_lines(url, Digest("sha256", hashlib.sha256(body).hexdigest())), TRIPLET, cut)
    index = read_cut(cut)
    assert len(index.owners) == 3001
    assert index.by_name("libx2999.so.1", LIBS) == ("libx2999",)
    assert index.header("x.h") == ("libx-dev",)
    other = tmp_path / "out" / "other.tsv"
    with pytest.raises(DigestMismatch):
        write_cut(stream_lines(url, Digest("sha256", "00" * 32)), TRIPLET, other)
    assert not other.exists()
    with pytest.raises(ContentsError, match="HTTP 404"):
        write_cut(stream_lines(url + ".missing", Digest("sha256", "00" * 32)), TRIPLET, other)


def test_addons_for_another_os_or_machine_are_unloadable(tmp_path: Path) -> None:
    from pare.native.rootfs import unloadable_addons
    library = next(Path(f"/usr/lib/{TRIPLET}").glob("libz.so.1*"))  # an ELF shared object of this machine
    prebuilds = tmp_path / "bcrypt" / "prebuilds"
    (prebuilds / "linux-x64").mkdir(parents=True)
    (prebuilds / "darwin-x64").mkdir()
    (prebuilds / "linux-x64" / "bcrypt.glibc.node").write_bytes(library.read_bytes())
    (prebuilds / "darwin-x64" / "bcrypt.node").write_bytes(b"\xcf\xfa\xed\xfe" + b"\0" * 60)  # Mach-O
    assert unloadable_addons(tmp_path, "EM_X86_64") == ["bcrypt/prebuilds/darwin-x64/bcrypt.node"]
    assert unloadable_addons(tmp_path, "EM_AARCH64") == ["bcrypt/prebuilds/darwin-x64/bcrypt.node",
                                                         "bcrypt/prebuilds/linux-x64/bcrypt.glibc.node"]


def test_a_copy_whose_segments_ld_so_refuses_is_not_loadable(tmp_path: Path) -> None:
    """What strip makes of a patchelf'd library (numpy's bundled OpenBLAS): a PT_LOAD segment whose
    offset and address disagree modulo the page size. Made here by moving one segment's offset."""
    import struct

    from pare.native.strip import loadable
    library = next(Path(f"/usr/lib/{TRIPLET}").glob("libz.so.1.*"))
    good = tmp_path / "good.so"
    good.write_bytes(library.read_bytes())
    assert loadable(good)
    data = bytearray(good.read_bytes())
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for index in range(phnum):
        entry = phoff + index * phentsize
        if struct.unpack_from("<I", data, entry)[0] == 1 and struct.unpack_from("<Q", data, entry + 8)[0]:
            struct.pack_into("<Q", data, entry + 8, struct.unpack_from("<Q", data, entry + 8)[0] + 8)
            break
    bad = tmp_path / "bad.so"
    bad.write_bytes(bytes(data))
    assert not loadable(bad)
    assert not loadable(tmp_path / "missing.so")
