"""The local OSV index: imports from a directory, a zip export and JSON lines, all-or-nothing on bad
input, ages, and `pare db update` through its real download path."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import run_cli, serve_directory
from pare.localregistry import free_port
from pare.scan.vulndb import VulnDB, VulnDBError, read_source

OSV = Path(__file__).resolve().parents[1] / "data" / "osv"


def test_import_a_directory_of_json_and_yaml(tmp_path: Path) -> None:
    with VulnDB(tmp_path / "db.sqlite") as db:
        assert db.import_records(read_source(OSV), "all", str(OSV)) == 35
        assert db.ecosystems() == {"Go": 6, "PyPI": 25, "npm": 4}
        hits = db.lookup("npm", "qs")
        assert [h.record["id"] for h in hits] == ["GHSA-6rw7-vpxm-498p"]
        assert {h.record["id"] for h in db.lookup("PyPI", "Jinja2")} == \
            {h.record["id"] for h in db.lookup("PyPI", "jinja2")} != set()  # PEP 503 names
        assert db.import_records(read_source(OSV / "npm"), "all", "again") == 4  # idempotent upsert
        assert db.ecosystems()["npm"] == 4


def test_zip_export_and_json_lines(tmp_path: Path) -> None:
    export = tmp_path / "all.zip"
    with zipfile.ZipFile(export, "w") as archive:
        for path in sorted((OSV / "go").glob("*.json")):
            archive.write(path, path.name)
    lines = tmp_path / "npm.jsonl"
    records = [json.loads(p.read_text()) for p in sorted((OSV / "npm").glob("*"))]
    lines.write_text("".join(json.dumps(r) + "\n" for r in records))
    with VulnDB(tmp_path / "db.sqlite") as db:
        assert db.import_records(read_source(export), "go", str(export)) == 6
        assert db.import_records(read_source(lines), "npm", str(lines)) == 4
        status = {s.name: s for s in db.status()}
        # the Go vulndb repository dates its records 0001-01-01 until publication: age unknown
        assert status["go"].age_days is None and status["go"].stale
        assert status["npm"].newest == "2025-12-30T21:02:54Z" and status["npm"].age_days is not None


def test_a_bad_record_rolls_the_whole_import_back(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for path in (OSV / "npm").glob("*.json"):
        (bad / path.name).write_bytes(path.read_bytes())
    (bad / "zzz.json").write_text('{"summary": "no id"}')
    with VulnDB(tmp_path / "db.sqlite") as db:
        with pytest.raises(VulnDBError, match="not an OSV record"):
            db.import_records(read_source(bad), "bad", str(bad))
        assert db.ecosystems() == {}  # the four good records before it were not kept
    (bad / "zzz.json").write_text("{broken")
    with pytest.raises(VulnDBError, match="not JSON"):
        list(read_source(bad))


def test_cli_import_status_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "db.sqlite"
    code, out, _ = run_cli(["db", "import", str(OSV / "npm"), "--db", str(db)], capsys)
    assert code == 0 and "imported 4 records" in out
    code, out, _ = run_cli(["db", "status", "--json", "--db", str(db)], capsys)
    body = json.loads(out)
    assert body["sources"][0]["records"] == 4 and body["sources"][0]["ecosystems"] == {"npm": 4}
    code, _, err = run_cli(["db", "import", str(tmp_path / "missing"), "--db", str(db)], capsys)
    assert code == 3 and err.strip().startswith("pare: error:") and len(err.strip().splitlines()) == 1
    empty = tmp_path / "none.sqlite"
    code, out, err = run_cli(["db", "status", "--db", str(empty)], capsys)
    assert code == 0 and "empty: no vulnerability data imported" in out and err == ""
    code, out, _ = run_cli(["db", "status", "--json", "--db", str(empty)], capsys)
    assert code == 0 and json.loads(out) == {"schema": "pare.db-status/v1", "path": str(empty),
                                             "exists": False, "empty": True, "sources": []}
    assert not empty.exists(), "status creates no database"


@pytest.fixture
def osv_bucket(tmp_path: Path) -> Iterator[str]:
    """A test fake for OSV's export bucket, which this machine cannot reach: a plain HTTP server on
    127.0.0.1 serving a real zip export (ECOSYSTEM/all.zip) built from the committed records."""
    root = tmp_path / "bucket"
    (root / "npm").mkdir(parents=True)
    with zipfile.ZipFile(root / "npm" / "all.zip", "w") as archive:
        for path in sorted((OSV / "npm").glob("*.json")):
            archive.write(path, path.name)
    (root / "Go").mkdir()
    (root / "Go" / "all.zip").write_bytes(b"this is not a zip")

    with serve_directory(root) as url:
        yield url


def test_update_downloads_and_imports_an_export(osv_bucket: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "db.sqlite"
    code, out, _ = run_cli(["db", "update", "--ecosystem", "npm", "--url", osv_bucket,
                              "--db", str(db)], capsys)
    assert code == 0 and "npm: imported 4 records" in out
    with VulnDB(db) as index:
        assert [s.origin for s in index.status()] == [f"{osv_bucket}/npm/all.zip"]
    code, _, err = run_cli(["db", "update", "--ecosystem", "Go", "--url", osv_bucket,
                              "--db", str(db)], capsys)
    assert code == 3 and "not a zip export" in err
    code, _, err = run_cli(["db", "update", "--ecosystem", "PyPI", "--url", osv_bucket,
                              "--db", str(db)], capsys)
    assert code == 4 and "HTTP 404" in err and len(err.strip().splitlines()) == 1
    closed = f"http://127.0.0.1:{free_port()}"
    code, _, err = run_cli(["db", "update", "--ecosystem", "npm", "--url", closed, "--db", str(db)], capsys)
    assert code == 4 and err.startswith("pare: error: cannot download") and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("**/.all.zip.*"))  # no half-written download left behind
    with VulnDB(db) as index:
        assert index.ecosystems() == {"npm": 4}  # the failed updates changed nothing
