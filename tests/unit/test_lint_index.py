"""pare lint --index's arithmetic on a package index: what recommends add beyond the dependency
closure and beyond what a minimal Debian image holds (the index here is a small Packages file; the
real suite's is read in tests/integration/test_lint_index.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pare.bases.apt import Package, read_index
from pare.lint.index import install_operands, minbase, recommends_bytes

PACKAGES = """\
Package: libc6
Version: 2.36
Architecture: amd64
Priority: optional
Recommends: libidn2-0
Installed-Size: 12000

Package: dpkg
Version: 1.21
Architecture: amd64
Priority: required
Depends: libc6
Installed-Size: 6000

Package: apt
Version: 2.6
Architecture: amd64
Priority: important
Depends: libc6, libgnutls30
Installed-Size: 4000

Package: libgnutls30
Version: 3.7
Architecture: amd64
Priority: optional
Depends: libidn2-0
Installed-Size: 3000

Package: libidn2-0
Version: 2.3
Architecture: amd64
Priority: optional
Installed-Size: 400

Package: curl
Version: 7.88
Architecture: amd64
Priority: optional
Depends: libc6, libcurl4
Recommends: ca-certificates
Installed-Size: 500

Package: libcurl4
Version: 7.88
Architecture: amd64
Priority: optional
Depends: libc6
Recommends: ca-certificates, libldap-common
Installed-Size: 800

Package: ca-certificates
Version: 2023
Architecture: all
Priority: optional
Depends: openssl
Installed-Size: 390

Package: openssl
Version: 3.0
Architecture: amd64
Priority: optional
Depends: libc6
Installed-Size: 2300

Package: libldap-common
Version: 2.5
Architecture: all
Priority: optional
Installed-Size: 90
"""


@pytest.fixture
def index(tmp_path: Path) -> dict[str, Package]:
    path = tmp_path / "Packages"
    path.write_text(PACKAGES)
    return read_index([path], "amd64")


def test_recommends_are_priced_beyond_the_closure_and_the_minimal_image(index: dict[str, Package]) -> None:
    assert minbase(index) == {"dpkg", "apt", "libc6", "libgnutls30", "libidn2-0"}
    # curl's recommends and libcurl4's, with what they depend on; libc6's libidn2-0 is in every image
    assert recommends_bytes(index, ["curl"]) == (390 + 2300 + 90) * 1024
    assert recommends_bytes(index, ["openssl"]) == 0
    assert recommends_bytes(index, ["$PACKAGES"]) is None  # nothing the index knows


@pytest.mark.parametrize(("argv", "names"), [
    (["apt-get", "install", "-y", "curl", "git=1:2.39*", "libpq-dev:amd64"], ["curl", "git", "libpq-dev"]),
    (["apt-get", "-y", "install", "$PKGS", "./local.deb", "nginx/bookworm-backports"], ["nginx"]),
    (["apt-get", "update"], []),
])
def test_install_operands(argv: list[str], names: list[str]) -> None:
    assert install_operands(argv) == names
