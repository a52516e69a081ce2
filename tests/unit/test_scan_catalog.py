"""The catalog: one streaming pass over real layer tars (real compression, real digests), with the
final filesystem's whiteouts applied, finds packages of every kind and the ELF files none claims."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pare.oci.config import ImageConfig
from pare.oci.image import Image
from pare.oci.layer import layer_from_tar
from pare.scan.catalog import catalog_image
from pare.scan.gobuildinfo import MAGIC, BuildInfoScanner, parse_modinfo
from pare.scan.runtimes import VersionScanner, runtime_for

DATA = Path(__file__).resolve().parents[1] / "data"
ELF = b"\x7fELF" + b"\x02\x01\x01" + bytes(57)  # an ELF header's first bytes; enough to be recognised


class Link(str):
    """A symlink target in a layer spec."""


def image(tmp_path: Path, *layers: dict[str, bytes | Link]) -> Image:
    built = []
    for files in layers:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, data in sorted(files.items()):
                info = tarfile.TarInfo(name)
                if isinstance(data, Link):
                    info.type, info.linkname = tarfile.SYMTYPE, str(data)
                    tar.addfile(info)
                    continue
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        buf.seek(0)
        built.append(layer_from_tar(buf, "gzip", workdir=tmp_path))
    return Image.assemble(ImageConfig.new(), built)


def go_binary(modinfo: str, version: str = "go1.19.8", pad: int = 4096) -> bytes:
    """An ELF-looking file whose .go.buildinfo starts at a 16-byte aligned offset, laid out as Go
    1.18+ writes it (header, uvarint-prefixed version, uvarint-prefixed module info)."""
    def uvarint(n: int) -> bytes:
        out = bytearray()
        while n >= 0x80:
            out.append(n & 0x7F | 0x80)
            n >>= 7
        out.append(n)
        return bytes(out)
    sentinel = b"0" * 16
    info = sentinel + modinfo.encode() + b"\n" + sentinel[:-1] + b"\n"
    header = MAGIC + bytes([8, 2]) + bytes(16)
    body = header + uvarint(len(version)) + version.encode() + uvarint(len(info)) + info
    # a stray, unaligned copy of the magic first (the go tool carries one as a string literal)
    stray = b"x" * 3 + MAGIC + b"garbage"
    return ELF + stray + bytes(pad - len(ELF) - len(stray)) + body + bytes(512)


MODINFO = ("path\texample.com/app\nmod\texample.com/app\t(devel)\t\n"
           "dep\tgolang.org/x/net\tv0.1.0\th1:abc=\n=>\tgolang.org/x/net\tv0.2.0\th1:def=\n"
           "dep\tgithub.com/pkg/errors\tv0.9.1\th1:xyz=\nbuild\t-compiler=gc\n")


def test_dpkg_status_packages_carry_the_layer_that_added_them(tmp_path: Path) -> None:
    real = (DATA / "debian/status").read_bytes()
    paragraphs = real.split(b"\n\n")
    first = b"\n\n".join(paragraphs[:4]) + b"\n"
    img = image(tmp_path,
                {"var/lib/dpkg/status": first, "etc/os-release": b'ID=debian\nVERSION_ID="12"\n'
                 b"VERSION_CODENAME=bookworm\n"},
                {"var/lib/dpkg/status": real})
    cat = catalog_image(img)
    debs = {p.name: p for p in cat.packages if p.ecosystem == "deb"}
    assert len(debs) == 10
    assert debs["base-files"].layer == 0  # unchanged since layer 0, although layer 1 rewrote the file
    assert debs["openssl"].layer == 1
    libc = debs["libc6"]
    assert (libc.source, libc.source_version) == ("glibc", libc.version)
    assert libc.purl.startswith("pkg:deb/debian/libc6@") and "distro=debian-12" in libc.purl
    assert "upstream=glibc" in libc.purl
    assert cat.distro is not None and cat.distro.codename == "bookworm"


def test_whiteouts_and_opaque_dirs_hide_packages(tmp_path: Path) -> None:
    meta = b"Metadata-Version: 2.1\nName: Flask\nVersion: 3.1.3\nLicense-Expression: BSD-3-Clause\n"
    pkg = json.dumps({"name": "qs", "version": "6.13.0", "license": "BSD-3-Clause"}).encode()
    img = image(tmp_path,
                {"usr/lib/python3/site-packages/flask-3.1.3.dist-info/METADATA": meta,
                 "app/node_modules/qs/package.json": pkg,
                 "srv/node_modules/qs/package.json": pkg},
                {"usr/lib/python3/site-packages/.wh.flask-3.1.3.dist-info": b"",
                 "app/node_modules/.wh..wh..opq": b""})
    cat = catalog_image(img)
    assert [(p.ecosystem, p.path) for p in cat.packages] == [("npm", "/srv/node_modules/qs/package.json")]


def test_language_packages_licences_and_overwrites(tmp_path: Path) -> None:
    meta = (b"Metadata-Version: 2.1\nName: Jinja2\nVersion: 3.1.5\n"
            b"Classifier: License :: OSI Approved :: BSD License\n")
    newer = meta.replace(b"3.1.5", b"3.1.6")
    egg = b"Metadata-Version: 1.2\nName: six\nVersion: 1.16.0\nLicense: MIT\n"
    unzipped = b"Metadata-Version: 1.1\nName: My_Test.Package\nVersion: 1.0\n"
    img = image(tmp_path,
                {"site/jinja2-3.1.5.dist-info/METADATA": meta, "site/six-1.16.0.egg-info": egg,
                 "site/my_test_package-1.0-py3.7.egg/EGG-INFO/PKG-INFO": unzipped,
                 "site/my_test_package-1.0-py3.7.egg/EGG-INFO/SOURCES.txt": unzipped,
                 "site/notes/PKG-INFO": unzipped,
                 "app/package.json": b'{"name": "app", "version": "1.0.0", "private": true}',
                 "app/node_modules/@scope/pkg/package.json": b'{"name": "@scope/pkg", "version": "2.0.0"}',
                 "app/node_modules/noversion/package.json": b'{"name": "noversion"}',
                 "app/node_modules/broken/package.json": b"{not json"},
                {"site/jinja2-3.1.5.dist-info/METADATA": newer})
    found = {(p.ecosystem, p.name, p.version, p.layer, p.licenses, p.purl)
             for p in catalog_image(img).packages}
    assert found == {
        ("pypi", "jinja2", "3.1.6", 1, ("BSD License",), "pkg:pypi/jinja2@3.1.6"),
        ("pypi", "six", "1.16.0", 0, ("MIT",), "pkg:pypi/six@1.16.0"),
        # an unzipped egg's EGG-INFO counts; names are in PEP 503 form, as syft and OSV give them
        ("pypi", "my-test-package", "1.0", 0, (), "pkg:pypi/my-test-package@1.0"),
        ("npm", "app", "1.0.0", 0, (), "pkg:npm/app@1.0.0"),
        ("npm", "@scope/pkg", "2.0.0", 0, (), "pkg:npm/%40scope/pkg@2.0.0"),
    }


def test_status_d_md5sums_claim_files_through_merged_usr_symlinks(tmp_path: Path) -> None:
    """The distroless layout the native images will carry: every ELF file listed is claimed, even
    when the list names /lib/... and the file lives in /usr/lib/... behind the /lib symlink."""
    control = (DATA / "debian/status.d-libssl3").read_bytes()
    sums = (DATA / "debian/status.d-libssl3.md5sums").read_bytes()
    listed = [line.split(b"  ", 1)[1].decode() for line in sums.splitlines()]
    elf_listed = [p for p in listed if ".so" in p]
    assert elf_listed
    files: dict[str, bytes | Link] = {"var/lib/dpkg/status.d/libssl3": control,
                                      "var/lib/dpkg/status.d/libssl3.md5sums": sums, "lib": Link("usr/lib")}
    for path in elf_listed:
        files[path.replace("usr/lib/", "usr/lib/", 1)] = ELF + b"lib"
    files["usr/lib/x86_64-linux-gnu/libhost.so.1"] = ELF + bytes(1000)  # copied from a build host
    img = image(tmp_path, files, {"usr/local/bin/tool": ELF + bytes(5000)})
    # the md5sums list names usr/lib/...; check the /lib spelling resolves too
    cat = catalog_image(img)
    assert [p.name for p in cat.packages] == ["libssl3"]
    assert cat.elf_files == len(elf_listed) + 2
    assert sorted((f.path, f.size, f.layer) for f in cat.unclaimed_elf) == [
        ("/usr/lib/x86_64-linux-gnu/libhost.so.1", len(ELF) + 1000, 0),
        ("/usr/local/bin/tool", len(ELF) + 5000, 1)]


def test_pip_target_dirs_anywhere_are_read_and_their_records_claim_extensions(tmp_path: Path) -> None:
    """What `pip --target DIR` installs (the engine Python image's /opt/pare/site-packages, any
    directory a PYTHONPATH names) is found by its dist-info wherever it is; a compiled extension
    is claimed by its distribution's RECORD, an extension no RECORD lists is not."""
    site = "opt/pare/site-packages"
    ext = "markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so"
    record = (f"markupsafe/__init__.py,sha256=x,100\n{ext},sha256=y,5000\n"
              "MarkupSafe-3.0.2.dist-info/RECORD,,\n")
    meta = b"Metadata-Version: 2.1\nName: MarkupSafe\nVersion: 3.0.2\n"
    img = image(tmp_path, {
        f"{site}/MarkupSafe-3.0.2.dist-info/METADATA": meta,
        f"{site}/MarkupSafe-3.0.2.dist-info/RECORD": record.encode(),
        f"{site}/{ext}": ELF + bytes(5000),
        "srv/vendored/fast.cpython-311-x86_64-linux-gnu.so": ELF + bytes(70)})
    cat = catalog_image(img)
    assert [(p.name, p.version, p.path) for p in cat.packages] == [
        ("markupsafe", "3.0.2", f"/{site}/MarkupSafe-3.0.2.dist-info/METADATA")]
    assert [f.path for f in cat.unclaimed_elf] == ["/srv/vendored/fast.cpython-311-x86_64-linux-gnu.so"]


def test_dpkg_list_paths_resolve_through_symlinks(tmp_path: Path) -> None:
    status = (DATA / "debian/status").read_bytes().split(b"\n\n")[3] + b"\n"  # libc6
    img = image(tmp_path, {"var/lib/dpkg/status": status, "lib": Link("usr/lib"),
                           "var/lib/dpkg/info/libc6:amd64.list":
                               b"/.\n/lib\n/lib/x86_64-linux-gnu/libc.so.6\n",
                           "usr/lib/x86_64-linux-gnu/libc.so.6": ELF + bytes(100),
                           "usr/lib/x86_64-linux-gnu/libextra.so": ELF + bytes(10)})
    cat = catalog_image(img)
    assert [f.path for f in cat.unclaimed_elf] == ["/usr/lib/x86_64-linux-gnu/libextra.so"]


def test_go_build_info_gives_main_module_deps_and_stdlib(tmp_path: Path) -> None:
    img = image(tmp_path, {"app/server": go_binary(MODINFO)})
    found = {(p.name, p.version) for p in catalog_image(img).packages}
    assert found == {("example.com/app", "(devel)"), ("golang.org/x/net", "v0.2.0"),
                     ("github.com/pkg/errors", "v0.9.1"), ("stdlib", "go1.19.8")}


def test_go_distribution_commands_use_their_path() -> None:
    info = parse_modinfo("go1.19.8", "path\tcmd/compile\nbuild\t-compiler=gc\n")
    assert info.main is not None and (info.main.path, info.main.version) == ("cmd/compile", "(devel)")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=700), min_size=1, max_size=30))
def test_build_info_found_across_any_chunking(cuts: list[int]) -> None:
    data = go_binary(MODINFO)
    scanner = BuildInfoScanner()
    pos = 0
    for cut in cuts:
        scanner.feed(data[pos:pos + cut])
        pos += cut
    scanner.feed(data[pos:])
    assert scanner.result is not None and scanner.result.go_version == "go1.19.8"
    assert [d.path for d in scanner.result.deps] == ["golang.org/x/net", "github.com/pkg/errors"]


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=3000))
def test_build_info_scanner_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    scanner = BuildInfoScanner()
    scanner.feed(MAGIC + data)
    scanner.feed(data)
    assert scanner.result is None or scanner.result.go_version.startswith(("go", "devel", ""))


def test_runtime_versions_from_binaries_and_ownership(tmp_path: Path) -> None:
    node = ELF + bytes(5000) + b"\x00https://nodejs.org/download/release/node.js/v20.20.2\x00" + bytes(100)
    python = ELF + b"\x003.11.2 (main, Mar 13 2023)\x00\x003.11.2\x00" + bytes(10)
    img = image(tmp_path, {"usr/bin/node": node, "opt/py/bin/python3.11": python,
                           "usr/bin/notnode": node})
    found = {(p.ecosystem, p.name, p.version, p.path) for p in catalog_image(img).packages}
    assert found == {("generic", "node", "20.20.2", "/usr/bin/node"),
                     ("generic", "python", "3.11.2", "/opt/py/bin/python3.11")}
    assert runtime_for("/usr/lib/libpython3.11.so.1.0") is not None
    assert runtime_for("/usr/bin/nodes") is None


def test_version_scanner_matches_across_chunk_edges() -> None:
    found = runtime_for("usr/bin/node")
    assert found is not None
    scanner = VersionScanner(*found)
    text = b"xxxx node.js/v18.20.4 yyyy"
    for i in range(0, len(text), 3):
        scanner.feed(text[i:i + 3])
    assert scanner.version == "18.20.4"


def test_hard_links_inherit_what_their_target_is(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        data = go_binary(MODINFO)
        info = tarfile.TarInfo("bin/a")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("bin/b")
        link.type, link.linkname = tarfile.LNKTYPE, "bin/a"
        tar.addfile(link)
        tar.addfile(tarfile.TarInfo("bin/.keep"), io.BytesIO(b""))
    buf.seek(0)
    img = Image.assemble(ImageConfig.new(), [layer_from_tar(buf, "gzip", workdir=tmp_path)])
    cat = catalog_image(img)
    assert {p.path for p in cat.packages if p.name == "stdlib"} == {"/bin/a", "/bin/b"}
    assert cat.elf_files == 1  # one inode


def test_a_deleted_binary_is_no_longer_counted(tmp_path: Path) -> None:
    img = image(tmp_path, {"opt/tool": ELF + bytes(300), "opt/keep": ELF + bytes(10)}, {"opt/.wh.tool": b""})
    cat = catalog_image(img)
    assert [f.path for f in cat.unclaimed_elf] == ["/opt/keep"]
    assert cat.elf_bytes == len(ELF) + 10


def test_alpine_installed_db_and_its_file_claims(tmp_path: Path) -> None:
    db = (DATA / "alpine/installed").read_bytes()
    img = image(tmp_path, {"lib/apk/db/installed": db, "etc/os-release": b"ID=alpine\nVERSION_ID=3.12.0\n",
                           "etc/profile": ELF + b"claimed by the record's R:profile under F:etc",
                           "etc/other": ELF + b"nobody lists this one"})
    cat = catalog_image(img)
    (pkg,) = cat.packages
    assert (pkg.ecosystem, pkg.name, pkg.version, pkg.licenses) == ("apk", "alpine-baselayout", "3.2.0-r6",
                                                                   ("GPL-2.0-only",))
    assert pkg.purl == "pkg:apk/alpine/alpine-baselayout@3.2.0-r6?distro=alpine-3.12.0"
    assert [f.path for f in cat.unclaimed_elf] == ["/etc/other"]
