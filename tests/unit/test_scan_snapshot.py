"""The embedded OSV snapshot: what it holds, how the default index starts from it, and node runtime
advisories matched for the runtime in a binary and for Debian's nodejs package alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_scan_catalog import image
from test_scan_match import OS_RELEASE, write_layout

from helpers import run_cli
from pare.scan.catalog import catalog_image
from pare.scan.match import scan
from pare.scan.model import BINARY, DEB, Package, runtime_lookup
from pare.scan.vulndb import VulnDB, snapshot_manifest, snapshot_records

# nodejs 18.20.4 as Debian bookworm ships it, in the status file's shape
NODEJS_STATUS = (b"Package: nodejs\nStatus: install ok installed\nArchitecture: amd64\n"
                 b"Version: 18.20.4+dfsg-1~deb12u1\nSource: nodejs\n\n")


def test_snapshot_is_dated_attributed_and_matches_its_manifest() -> None:
    manifest = snapshot_manifest()
    records = list(snapshot_records())
    assert len(records) == manifest["records"] > 300
    counts: dict[str, int] = {}
    for r in records:
        eco = r["affected"][0]["package"]["ecosystem"]
        counts[eco] = counts.get(eco, 0) + 1
    assert counts == manifest["by_ecosystem"] and set(counts) == {"Go", "Node.js", "npm"}
    assert all(s["licence"] and s["repository"] for s in manifest["sources"])
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)  # reproducible order
    go = [r for r in records if r["affected"][0]["package"]["ecosystem"] == "Go"]
    assert {a["package"]["name"] for r in go for a in r["affected"]} <= {"stdlib", "toolchain"}
    assert not any(r["modified"].startswith("0001") for r in records)


def test_default_index_starts_from_the_snapshot_once(tmp_path: Path) -> None:
    index = VulnDB(tmp_path / "osv.sqlite")
    note = index.ensure_data()
    assert note is not None and snapshot_manifest()["date"] in note
    [source] = index.status()
    assert source.name == f"pare snapshot {snapshot_manifest()['date']}" and source.records > 300
    assert index.ensure_data() is None  # an index that exists is never touched again
    index.import_records(iter([{"id": "NSWG-CORE-1", "affected": []}]), "newer", "test")
    assert index.lookup("Node.js", "node") and all(h.record["id"] != "NSWG-CORE-1"
                                                     for h in index.lookup("Node.js", "node"))


def test_runtime_lookup_reads_the_upstream_version() -> None:
    deb = Package(DEB, "nodejs", "18.20.4+dfsg-1~deb12u1", "/var/lib/dpkg/status", 0, "", ())
    binary = Package(BINARY, "node", "26.12.1", "/usr/bin/node", 0, "", ())
    assert runtime_lookup(deb) == ("Node.js", "node", "18.20.4")
    assert runtime_lookup(binary) == ("Node.js", "node", "26.12.1")
    assert runtime_lookup(Package(DEB, "libnode108", "18.20.4+dfsg-1~deb12u1", "/x", 0, "", ())) is None


def node_findings(tmp_path: Path, index: VulnDB, version: bytes) -> list[str]:
    status = NODEJS_STATUS.replace(b"18.20.4", version)
    files = {"etc/os-release": OS_RELEASE, "var/lib/dpkg/status": status}
    result = scan(catalog_image(image(tmp_path / version.decode(), files)), index)
    node = [f for f in result.findings if f.ecosystem == "Node.js"]
    assert all(f.package.name == "nodejs" for f in node)
    assert all(f.severity.source.startswith("database rating") for f in node if f.severity.level != "unknown")
    return sorted(f.id for f in node)


def test_node_advisories_follow_the_release_line(tmp_path: Path) -> None:
    """18.20.4 (bookworm's) is named by the advisories that list 18.x and were patched after it; the
    working group stopped listing 18.x at its end of life, so later ones do not name it (the data
    says so, pare does not guess). An older 18 has more, a current release none of these."""
    index = VulnDB(tmp_path / "osv.sqlite")
    index.ensure_data()
    bookworm = node_findings(tmp_path, index, b"18.20.4")
    assert len(bookworm) >= 2
    older = node_findings(tmp_path, index, b"18.19.0")
    assert set(bookworm) < set(older)
    assert not set(bookworm) & set(node_findings(tmp_path, index, b"26.12.1"))


def test_cli_scan_uses_the_snapshot_for_the_default_index_only(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    files = {"etc/os-release": OS_RELEASE, "var/lib/dpkg/status": NODEJS_STATUS}
    layout = write_layout(tmp_path, "deb", files)
    code, out, err = run_cli(["scan", layout, "--json"], capsys)
    assert code == 0 and "embedded snapshot" in err
    assert any(f["ecosystem"] == "Node.js" for f in json.loads(out)["findings"])
    code, out, _ = run_cli(["scan", layout, "--json", "--db", str(tmp_path / "explicit.sqlite")], capsys)
    assert json.loads(out)["findings"] == [] and not (tmp_path / "explicit.sqlite").exists()
