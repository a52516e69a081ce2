"""Matching a real catalog against the committed OSV records, the coverage line, and `pare scan`'s
outputs: the table, --json, SARIF, --fail-on, --compare, and `pare sbom`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_scan_catalog import ELF, MODINFO, go_binary, image

from helpers import run_cli
from pare.scan.catalog import catalog_image
from pare.scan.match import ScanResult, scan
from pare.scan.render import fails, sarif
from pare.scan.vulndb import VulnDB, read_source
from pare.stores.layout import LayoutStore

DATA = Path(__file__).resolve().parents[1] / "data"
OS_RELEASE = (b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
              b"VERSION_CODENAME=bookworm\n")


def npm(name: str, version: str) -> bytes:
    return json.dumps({"name": name, "version": version, "license": "MIT"}).encode()


def fat_files() -> dict[str, Any]:
    return {"etc/os-release": OS_RELEASE, "var/lib/dpkg/status": (DATA / "debian/status").read_bytes(),
            "app/node_modules/qs/package.json": npm("qs", "6.13.0"),
            "app/node_modules/express/package.json": npm("express", "4.21.2"),
            "app/node_modules/cookie/package.json": npm("cookie", "0.7.1"),
            "app/server": go_binary(MODINFO),
            "usr/lib/libcopied.so": ELF + bytes(2000)}


@pytest.fixture
def db(tmp_path: Path) -> VulnDB:
    index = VulnDB(tmp_path / "osv.sqlite")
    index.import_records(read_source(DATA / "osv"), "test-data", str(DATA / "osv"))
    return index


def test_findings_and_coverage(tmp_path: Path, db: VulnDB) -> None:
    result = scan(catalog_image(image(tmp_path, fat_files()), name="fat"), db)
    found = {(f.id, f.package.name, f.severity.level) for f in result.findings}
    assert found == {("GHSA-6rw7-vpxm-498p", "qs", "high"),
                     *{(f"GO-2023-{n}", "stdlib", "unknown") for n in (1751, 1752, 1753, 1840, 1878)}}
    assert result.counts()["high"] == 1 and result.counts()["unknown"] == 5
    qs = next(f for f in result.findings if f.package.name == "qs")
    assert qs.fixed == ("6.14.1",) and qs.cves == ("CVE-2025-15284",) and qs.severity.score == 7.5
    cov = result.coverage
    assert cov.without_data == {"Debian:12": 10}  # no Debian records imported: said, not hidden
    assert cov.with_data == {"npm": 3, "Go": 4}
    assert cov.unclaimed_files == 1 and cov.unclaimed_bytes == len(ELF) + 2000
    assert any("(devel)" in u for u in cov.uncomparable)
    line = cov.line()
    assert "no advisory data for Debian:12 (10 packages)" in line and "1 ELF files no package claims" in line


def test_debian_packages_match_by_source_package(tmp_path: Path, db: VulnDB) -> None:
    """No Debian OSV records are reachable here, so the test writes one from the real changelog in
    tests/data/debian (openssl 3.0.22-1~deb12u2 fixed CVE-2026-35189), and sets the fixture's
    openssl and libssl3 to 3.0.19-1~deb12u2, a version that changelog shows was released."""
    changelog = (DATA / "debian/changelog-openssl").read_text()
    assert "CVE-2026-35189" in changelog.split("openssl (3.0.22-1~deb12u1)")[0]
    db.import_records(iter([{"id": "TEST-DEBIAN-CVE-2026-35189", "aliases": ["CVE-2026-35189"],
                             "modified": "2026-10-21T09:54:24Z", "affected": [{
                                 "package": {"ecosystem": "Debian:12", "name": "openssl"},
                                 "ranges": [{"type": "ECOSYSTEM", "events": [
                                     {"introduced": "0"}, {"fixed": "3.0.22-1~deb12u2"}]}],
                                 "ecosystem_specific": {"urgency": "high"}}]}]), "test-debian", "test")
    status = (DATA / "debian/status").read_bytes().replace(b"Version: 3.0.22-1~deb12u2",
                                                          b"Version: 3.0.19-1~deb12u2")
    files = {**fat_files(), "var/lib/dpkg/status": status}
    result = scan(catalog_image(image(tmp_path, files)), db)
    debian = [(f.package.name, f.package.source, f.fixed, f.severity.level) for f in result.findings
              if f.ecosystem == "Debian:12"]
    assert sorted(debian) == [("libssl3", "openssl", ("3.0.22-1~deb12u2",), "high"),
                              ("openssl", "openssl", ("3.0.22-1~deb12u2",), "high")]
    unaffected = scan(catalog_image(image(tmp_path / "b", fat_files())), db)
    assert not [f for f in unaffected.findings if f.ecosystem == "Debian:12"]  # the real, fixed versions


def test_records_that_alias_each_other_are_one_finding(tmp_path: Path, db: VulnDB) -> None:
    """A second record for the same CVE (written by the test, as a PYSEC/GHSA pair would be)."""
    db.import_records(iter([{"id": "TEST-QS-ALIAS", "aliases": ["CVE-2025-15284"], "affected": [
        {"package": {"ecosystem": "npm", "name": "qs"},
         "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "6.14.1"}]}]}]}]), "t", "t")
    result = scan(catalog_image(image(tmp_path, fat_files())), db)
    qs = [f for f in result.findings if f.package.name == "qs"]
    assert len(qs) == 1 and qs[0].id == "GHSA-6rw7-vpxm-498p"  # the one with a CVSS vector
    assert set(qs[0].aliases) == {"CVE-2025-15284", "TEST-QS-ALIAS"}


def test_sarif_and_fail_on(tmp_path: Path, db: VulnDB) -> None:
    result: ScanResult = scan(catalog_image(image(tmp_path, fat_files())), db)
    body = sarif(result)
    run = body["runs"][0]
    assert body["version"] == "2.1.0" and run["tool"]["driver"]["name"] == "pare"
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["GHSA-6rw7-vpxm-498p"]["properties"]["security-severity"] == "7.5"
    levels = {(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
              for r in run["results"]}
    assert ("GHSA-6rw7-vpxm-498p", "error", "app/node_modules/qs/package.json") in levels
    assert ("GO-2023-1751", "warning", "app/server") in levels
    assert [f.id for f in fails(result, "high")] == ["GHSA-6rw7-vpxm-498p"]
    assert fails(result, "critical") == []
    assert len(fails(result, "unknown")) == 5


def write_layout(tmp_path: Path, name: str, files: dict[str, Any]) -> str:
    layout = tmp_path / name
    LayoutStore(layout).write(image(tmp_path / f"{name}-layers", files), "v1")
    return f"oci:{layout}:v1"


def test_cli_scan_outputs(tmp_path: Path, db: VulnDB, capsys: pytest.CaptureFixture[str]) -> None:
    fat = write_layout(tmp_path, "fat", fat_files())
    small = write_layout(tmp_path, "small", {"app/server": go_binary(MODINFO)})
    dbflag = ["--db", str(db.path)]
    db.close()
    code, out, _ = run_cli(["scan", fat, *dbflag], capsys)
    assert code == 0 and "GHSA-6rw7-vpxm-498p" in out and "coverage:" in out and "libcopied.so" in out
    code, out, _ = run_cli(["scan", fat, "--json", *dbflag], capsys)
    body = json.loads(out)
    assert body["counts"]["high"] == 1 and body["coverage"]["unclaimed_elf_files"] == 1
    report = tmp_path / "out.sarif"
    code, _, err = run_cli(["scan", fat, "--sarif", str(report), "--fail-on", "high", *dbflag], capsys)
    assert code == 1 and "1 findings at or above high" in err
    assert json.loads(report.read_text())["runs"][0]["results"]
    code, out, err = run_cli(["scan", fat, "--fail-on", "critical", "--json", *dbflag], capsys)
    blind = json.loads(out)["coverage"]["without_data"]
    assert blind and code == 1, "a gate with ecosystems it has no data for cannot pass by default"
    assert "pare: error: --fail-on critical cannot judge Debian:12" in err and "--accept-missing-data" in err
    code, _, _ = run_cli(["scan", fat, "--fail-on", "critical", "--accept-missing-data", "-q", *dbflag],
                         capsys)
    assert code == 0
    code, out, _ = run_cli(["scan", "--compare", fat, small, "--json", *dbflag], capsys)
    diff = json.loads(out)
    gone = {(v["id"], v["package"]) for v in diff["vulnerabilities_no_longer_carried"]}
    assert gone == {("GHSA-6rw7-vpxm-498p", "qs")}  # the Go stdlib ones are in both
    libc = {"ecosystem": "deb", "name": "libc6", "version": "2.36-9+deb12u14"}
    assert libc in diff["packages_no_longer_carried"]
    assert diff["vulnerabilities_added"] == []
    code, _, err = run_cli(["scan", fat, small, *dbflag], capsys)
    assert code == 2 and "give one image" in err
    code, _, err = run_cli(["scan", f"oci:{tmp_path}/nowhere:v1", *dbflag], capsys)
    assert code != 0 and err.startswith("pare: error:") and len(err.strip().splitlines()) == 1


def test_scan_without_data_still_reports_packages_and_coverage(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    fat = write_layout(tmp_path, "fat", fat_files())
    code, out, _ = run_cli(["scan", fat, "--json", "--db", str(tmp_path / "none.sqlite")], capsys)
    body = json.loads(out)
    assert code == 0 and body["findings"] == [] and body["coverage"]["packages"] == 17
    assert body["coverage"]["vulnerability_data"] is False
    assert any("no vulnerability data" in w for w in body["warnings"])
