"""--debian-pending's offline parts on real Debian data (tests/data/debian): the Sources index,
which tarball holds the changelog, and which CVE ids lie between two versions."""

from __future__ import annotations

import io
from pathlib import Path

from pare.scan.debian_pending import DebianPending, Pending, _changelog_tarball, cves_between, parse_sources
from pare.scan.dpkg import parse_status

DEBIAN = Path(__file__).resolve().parents[1] / "data" / "debian"


def test_sources_index_and_the_changelog_tarball() -> None:
    entries = list(parse_sources(io.BytesIO((DEBIAN / "Sources-bookworm-security").read_bytes()),
                                 {"openssl", "not-there"}))
    assert [(e.package, e.version) for e in entries] == [("openssl", "3.0.22-1~deb12u2")]
    sha, name, size = _changelog_tarball(entries[0]) or ("", "", 0)
    assert name == "openssl_3.0.22-1~deb12u2.debian.tar.xz" and len(sha) == 64 and size > 0
    assert entries[0].directory == "pool/updates/main/o/openssl"


def test_cves_between_two_versions_of_a_real_changelog() -> None:
    text = (DEBIAN / "changelog-openssl").read_text()
    newest_only = cves_between(text, "3.0.22-1~deb12u1", "3.0.22-1~deb12u2")
    assert "CVE-2026-35189" in newest_only and "CVE-2026-84782" in newest_only
    wider = cves_between(text, "3.0.19-1~deb12u2", "3.0.22-1~deb12u2")
    assert set(newest_only) < set(wider)
    assert cves_between(text, "3.0.22-1~deb12u2", "3.0.22-1~deb12u2") == ()
    assert list(wider) == sorted(wider, key=lambda c: tuple(int(x) for x in c.split("-")[1:]))


def test_status_parsing_sources_and_kernel_apart() -> None:
    entries = {e.name: e for e in parse_status((DEBIAN / "status").read_bytes())}
    assert entries["linux-libc-dev"].source == "linux"
    assert entries["zlib1g"].version == "1:1.2.13.dfsg-1"
    pending = DebianPending(("bookworm-security",), (
        Pending("openssl", "3.0.19-1~deb12u2", "3.0.22-1~deb12u2", "bookworm-security", ("libssl3",),
                ("CVE-2026-35189", "CVE-2026-84782")),
        Pending("linux", "6.1.187-1", "6.1.192-3", "bookworm-security", ("linux-libc-dev",),
                ("CVE-2024-1", "CVE-2024-2", "CVE-2026-35189"))))
    assert pending.summary() == {"packages": 1, "cves": 2, "kernel_packages": 1, "kernel_cves": 3}
