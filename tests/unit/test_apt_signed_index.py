"""The parts of a lock check that read Debian's index: Packages paragraphs found by name, and the
sha256 a Release file's SHA256 section gives (gpgv and the real archive: tests/integration/
test_lock_checks.py)."""

from __future__ import annotations

from pare.bases.apt import find_entries, release_sha256

PACKAGES = (b"Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\n"
            b"Filename: pool/main/g/glibc/libc6_2.36-9_amd64.deb\n"
            b"SHA256: " + b"AB" * 32 + b"\nDescription: x\n Package: tzdata\n\n"
            b"Package: libc6-dev\nVersion: 2.36-9\nArchitecture: amd64\nFilename: pool/x.deb\nSHA256: "
            + b"cd" * 32 + b"\n\nPackage: libc6\nVersion: 2.36-9+deb12u1\nArchitecture: amd64\n"
            b"Filename: pool/main/g/glibc/libc6_2.36-9+deb12u1_amd64.deb\nSHA256: " + b"ef" * 32 + b"\n")


def test_every_version_of_a_wanted_package_and_nothing_else() -> None:
    found = find_entries(PACKAGES, ["libc6", "tzdata"], "http://deb.debian.org/debian/")
    assert [(e.name, e.version, e.sha256[:4]) for e in found] == [("libc6", "2.36-9", "abab"),
                                                                   ("libc6", "2.36-9+deb12u1", "efef")]
    assert found[1].url == "http://deb.debian.org/debian/pool/main/g/glibc/libc6_2.36-9+deb12u1_amd64.deb"


def test_release_sha256_reads_only_its_section() -> None:
    release = ("Origin: Debian\nMD5Sum:\n 0123 10 main/binary-amd64/Packages\nSHA256:\n"
               " aaaa 5 main/binary-arm64/Packages\n BBBB 10 main/binary-amd64/Packages\n")
    assert release_sha256(release, "main/binary-amd64/Packages") == "bbbb"
    assert release_sha256(release, "contrib/binary-amd64/Packages") is None
