"""One image's security figures as the experiment records them: what `pare bench` stores per
variant and `pare report` shows as the known-vulnerabilities row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pare.oci.image import Image
from pare.scan.catalog import catalog_image
from pare.scan.debian_pending import DEFAULT_MIRROR, DebianPending, pending_fixes
from pare.scan.match import ScanResult, scan
from pare.scan.vulndb import VulnDB


def summarize(result: ScanResult, pending: DebianPending | None = None,
              pending_error: str = "") -> dict[str, Any]:
    cov = result.coverage
    sources = [{"name": s.name, "records": s.records, "newest_record": s.newest} for s in result.sources]
    body: dict[str, Any] = {
        "digest": result.catalog.digest,
        "packages": cov.packages,
        "by_ecosystem": cov.by_ecosystem,
        "counts": result.counts(),
        "findings": len(result.findings),
        "distinct": result.distinct(),
        "without_data": cov.without_data,
        "unclaimed_elf_files": cov.unclaimed_files,
        "unclaimed_elf_bytes": cov.unclaimed_bytes,
        "runtimes": list(cov.runtimes),
        "coverage": cov.line(),
        "data_sources": sources,
        "debian_pending": pending.summary() if pending is not None else None,
    }
    if pending_error:
        body["debian_pending_error"] = pending_error
    return body


def scan_for_bench(image: Image, name: str, db_path: Path | None = None, debian_pending: bool = False,
                   mirror: str = DEFAULT_MIRROR) -> dict[str, Any]:
    """Catalog, match against the local index (if any), optionally ask the Debian archive."""
    from pare.errors import PareError

    index = VulnDB(db_path)
    try:
        if db_path is None:  # the default index starts from pare's embedded snapshot
            index.ensure_data()
        result = scan(catalog_image(image, name=name), index if index.exists else None)
    finally:
        index.close()
    pending, error = None, ""
    if debian_pending and any(p.ecosystem == "deb" for p in result.catalog.packages):
        try:
            pending = pending_fixes(result.catalog, mirror)
        except PareError as exc:
            error = str(exc)
    return summarize(result, pending, error)
