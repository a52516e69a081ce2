"""The local vulnerability index: OSV records in SQLite, looked up by (ecosystem, package name).

Records come from what the user brings (`pare db import`: a directory of .json/.yaml records, an
OSV per-ecosystem zip export, or JSON lines) or from OSV's public exports when the network allows
(`pare db update`). Nothing is fetched at scan time. Each import is one transaction: a failure
leaves the index as it was. The data's age is the newest `modified` time among a source's records
(what the records say, not when they were copied), and a scan warns when it is over 7 days old.
"""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, cast

import platformdirs

from pare.errors import NotFound, PareError
from pare.scan.purl import pypi_name

STALE_DAYS = 7
SCHEMA = 1
MAX_RECORD = 64 << 20  # one OSV record over 64 MiB is not a record
_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS sources (name TEXT PRIMARY KEY, origin TEXT, imported TEXT, records INTEGER,
                                    newest TEXT);
CREATE TABLE IF NOT EXISTS vulns (id TEXT PRIMARY KEY, source TEXT, modified TEXT, published TEXT,
                                  withdrawn TEXT, summary TEXT, aliases TEXT, body TEXT);
CREATE TABLE IF NOT EXISTS affected (vuln_id TEXT, ecosystem TEXT, name TEXT, entry TEXT);
CREATE INDEX IF NOT EXISTS affected_pkg ON affected (ecosystem, name);
CREATE INDEX IF NOT EXISTS affected_vuln ON affected (vuln_id);
"""


class VulnDBError(PareError):
    """The vulnerability index or a file to import is unusable."""


def default_path() -> Path:
    env = os.environ.get("PARE_VULNDB")
    return Path(env) if env else Path(platformdirs.user_cache_dir("pare")) / "vulndb" / "osv.sqlite"


def normal_name(ecosystem: str, name: str) -> str:
    """How names are compared: PyPI by PEP 503, everything else exactly."""
    return pypi_name(name) if ecosystem == "PyPI" else name


def ecosystem_key(ecosystem: str) -> str:
    """Debian:12.4 and Debian:12 are the same release for advisories; keep major releases only."""
    base, _, release = ecosystem.partition(":")
    if base == "Debian" and release:
        return f"Debian:{release.split('.')[0]}"
    return ecosystem


@dataclass(frozen=True)
class SourceStatus:
    name: str
    origin: str
    imported: str
    records: int
    newest: str  # newest `modified` among its records (ISO 8601)
    ecosystems: dict[str, int]

    @property
    def age_days(self) -> float | None:
        when = parse_time(self.newest)
        return None if when is None else (datetime.now(UTC) - when).total_seconds() / 86400

    @property
    def stale(self) -> bool:
        age = self.age_days
        return age is None or age > STALE_DAYS


def parse_time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.year < 1990:  # Go's vulndb repository writes 0001-01-01 until a record is published
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Hit:
    """One affected[] entry of a record that names the package asked about."""

    record: dict[str, Any]
    entry: dict[str, Any]


class VulnDB:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._db: sqlite3.Connection | None = None

    # --- lifecycle -----------------------------------------------------------------------------
    def connect(self, create: bool = False) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        if not self.path.exists() and not create:
            raise VulnDBError(f"no vulnerability data at {self.path}: import OSV records first "
                              "(pare db import PATH, or pare db update)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(self.path)
            db.executescript(_DDL)
            found = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if found is None:
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
                db.commit()
            elif found[0] != str(SCHEMA):
                raise VulnDBError(f"{self.path}: index schema {found[0]}, this pare reads {SCHEMA}; "
                                  "delete it and import again")
        except sqlite3.DatabaseError as exc:
            raise VulnDBError(f"{self.path}: not a pare vulnerability index ({exc})") from None
        self._db = db
        return db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> VulnDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def exists(self) -> bool:
        return self.path.exists()

    # --- import --------------------------------------------------------------------------------
    def import_records(self, records: Iterator[dict[str, Any]], source: str, origin: str) -> int:
        """Upsert every record in one transaction; returns how many were stored."""
        db = self.connect(create=True)
        count = 0
        newest = ""
        try:
            with db:
                for record in records:
                    rid = record["id"]
                    db.execute("DELETE FROM affected WHERE vuln_id = ?", (rid,))
                    modified = str(record.get("modified") or "")
                    if parse_time(modified) is not None:
                        newest = max(newest, modified)
                    db.execute("INSERT OR REPLACE INTO vulns VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               (rid, source, modified, str(record.get("published") or ""),
                                str(record.get("withdrawn") or ""), str(record.get("summary") or ""),
                                json.dumps(record.get("aliases") or []), json.dumps(record)))
                    for entry in record.get("affected") or []:
                        package = entry.get("package") if isinstance(entry, dict) else None
                        if not isinstance(package, dict):
                            continue
                        eco, name = package.get("ecosystem"), package.get("name")
                        if isinstance(eco, str) and isinstance(name, str):
                            key = ecosystem_key(eco)
                            db.execute("INSERT INTO affected VALUES (?, ?, ?, ?)",
                                       (rid, key, normal_name(key.split(":")[0], name), json.dumps(entry)))
                    count += 1
                total = db.execute("SELECT COUNT(*) FROM vulns WHERE source = ?", (source,)).fetchone()[0]
                old = db.execute("SELECT newest FROM sources WHERE name = ?", (source,)).fetchone()
                db.execute("INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?)",
                           (source, origin, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), total,
                            max(newest, old[0] if old else "")))
        except sqlite3.DatabaseError as exc:
            raise VulnDBError(f"{self.path}: import failed, nothing changed ({exc})") from None
        return count

    def ensure_data(self) -> str | None:
        """Import pare's embedded snapshot into an index that does not exist yet, as Trivy fetches its
        database on first use (but offline); returns the line that says so, else None. Any later
        import or `pare db update` replaces the snapshot's records by id."""
        if self.exists:
            return None
        manifest = snapshot_manifest()
        source = f"{SNAPSHOT_SOURCE} {manifest['date']}"
        origin = "; ".join(s["repository"] + (f"@{s['commit'][:12]}" if s.get("commit") else "")
                           for s in manifest["sources"])
        self.import_records(snapshot_records(), source, origin)
        ecos = ", ".join(f"{eco} {n}" for eco, n in sorted(manifest["by_ecosystem"].items()))
        return (f"no vulnerability data imported: using pare's embedded snapshot of {manifest['date']} "
                f"({manifest['records']} records: {ecos}); pare db update or pare db import for current data")

    # --- queries -------------------------------------------------------------------------------
    def lookup(self, ecosystem: str, name: str) -> list[Hit]:
        db = self.connect()
        key = ecosystem_key(ecosystem)
        rows = db.execute(
            "SELECT v.body, a.entry FROM affected a JOIN vulns v ON v.id = a.vuln_id "
            "WHERE a.ecosystem = ? AND a.name = ? AND v.withdrawn = ''",
            (key, normal_name(key.split(":")[0], name))).fetchall()
        return [Hit(json.loads(body), json.loads(entry)) for body, entry in rows]

    def ecosystems(self) -> dict[str, int]:
        """OSV ecosystem -> number of records naming it."""
        db = self.connect()
        rows = db.execute("SELECT ecosystem, COUNT(DISTINCT vuln_id) FROM affected GROUP BY ecosystem")
        return {eco: n for eco, n in rows.fetchall()}

    def status(self) -> list[SourceStatus]:
        """Every imported source; none (and no file created) when nothing was ever imported."""
        if self._db is None and not self.exists:
            return []
        db = self.connect()
        out = []
        for name, origin, imported, records, newest in db.execute(
                "SELECT name, origin, imported, records, newest FROM sources ORDER BY name").fetchall():
            ecos = dict(db.execute(
                "SELECT a.ecosystem, COUNT(DISTINCT a.vuln_id) FROM affected a "
                "JOIN vulns v ON v.id = a.vuln_id WHERE v.source = ? GROUP BY a.ecosystem",
                (name,)).fetchall())
            out.append(SourceStatus(name, origin, imported, records, newest, ecos))
        return out


# --- the embedded snapshot (scripts/osv_snapshot.py writes it) -------------------------------------
SNAPSHOT_SOURCE = "pare snapshot"


def snapshot_manifest() -> dict[str, Any]:
    """Date, sources (repository, commit, licence) and counts of the snapshot pare ships."""
    data = resources.files("pare.scan").joinpath("data/osv-snapshot.json").read_text(encoding="utf-8")
    return cast(dict[str, Any], json.loads(data))


def snapshot_records() -> Iterator[dict[str, Any]]:
    with resources.files("pare.scan").joinpath("data/osv-snapshot.jsonl.gz").open("rb") as raw, \
            gzip.open(raw, "rt", encoding="utf-8") as lines:
        for n, line in enumerate(lines, 1):
            yield _check(json.loads(line), f"embedded snapshot line {n}")


# --- reading what the user brings ------------------------------------------------------------------
def _check(record: Any, where: str) -> dict[str, Any]:
    if not isinstance(record, dict) or not isinstance(record.get("id"), str) or not record["id"]:
        raise VulnDBError(f"{where}: not an OSV record (no string `id`)")
    if "affected" in record and not isinstance(record["affected"], list):
        raise VulnDBError(f"{where}: `affected` is not a list")
    return record


def _loads(data: bytes, where: str) -> Any:
    if where.endswith((".yaml", ".yml")):
        import yaml
        try:
            return _plain(yaml.safe_load(data))
        except yaml.YAMLError as exc:
            raise VulnDBError(f"{where}: not YAML ({str(exc).splitlines()[0]})") from None
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise VulnDBError(f"{where}: not JSON ({exc})") from None


def _plain(value: Any) -> Any:
    """YAML reads timestamps as datetimes; OSV means RFC 3339 strings."""
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=UTC)
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _records_of(data: bytes, where: str) -> Iterator[dict[str, Any]]:
    body = _loads(data, where)
    if isinstance(body, list):  # an array of records
        for i, item in enumerate(body):
            yield _check(item, f"{where}[{i}]")
    else:
        yield _check(body, where)


def read_source(path: Path) -> Iterator[dict[str, Any]]:
    """OSV records from a directory (recursively, *.json/*.yaml), a zip export, JSON lines, or one file."""
    if not path.exists():
        raise NotFound(f"{path}: no such file or directory")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".json", ".yaml", ".yml"))
        if not files:
            raise VulnDBError(f"{path}: no .json or .yaml OSV records in this directory")
        for file in files:
            yield from _records_of(file.read_bytes(), str(file))
        return
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.is_dir() or not info.filename.endswith((".json", ".yaml", ".yml")):
                        continue
                    if info.file_size > MAX_RECORD:
                        raise VulnDBError(f"{path}!{info.filename}: {info.file_size} bytes, "
                                          "too big for one record")
                    yield from _records_of(archive.read(info), f"{path}!{info.filename}")
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise VulnDBError(f"{path}: broken zip export ({exc})") from None
        return
    if path.suffix in (".jsonl", ".ndjson"):
        with path.open("rb") as lines:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    yield from _records_of(line, f"{path}:{number}")
        return
    yield from _records_of(path.read_bytes(), str(path))


# --- OSV's public exports ----------------------------------------------------------------------------
OSV_EXPORTS = "https://osv-vulnerabilities.storage.googleapis.com"
UPDATE_ECOSYSTEMS = ("Debian", "PyPI", "npm", "Go")
MAX_EXPORT = 4 << 30


def update_from_osv(db: VulnDB, ecosystems: tuple[str, ...] = UPDATE_ECOSYSTEMS,
                    base_url: str = OSV_EXPORTS) -> list[tuple[str, int]]:
    """Download each ecosystem's `all.zip` export and import it; all or nothing per ecosystem."""
    import tempfile

    from pare.scan.fetch import FetchError, client, download

    done = []
    with client() as http:
        for eco in ecosystems:
            url = f"{base_url.rstrip('/')}/{eco}/all.zip"
            with tempfile.TemporaryDirectory(prefix="pare-osv-") as tmp:
                path = Path(tmp) / "all.zip"
                try:
                    download(url, path, max_bytes=MAX_EXPORT, http=http)
                except FetchError as exc:
                    raise FetchError(f"{exc} (OSV's exports are not reachable from here: download "
                                      f"{eco}/all.zip elsewhere and run `pare db import FILE`)") from None
                if not zipfile.is_zipfile(path):
                    raise VulnDBError(f"{url}: not a zip export")
                done.append((eco, db.import_records(read_source(path), f"osv:{eco}", url)))
    return done
