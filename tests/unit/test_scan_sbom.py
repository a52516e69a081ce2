"""SBOMs from a real catalog: CycloneDX 1.6 and SPDX 2.3, valid against their schemas, with purls,
licences and layers; `pare sbom` writes them atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_scan_catalog import image
from test_scan_match import fat_files, write_layout

from helpers import run_cli
from pare.scan.catalog import catalog_image
from pare.scan.sbom import cyclonedx, spdx, validate_cyclonedx, validate_spdx


def test_cyclonedx_and_spdx_documents(tmp_path: Path) -> None:
    catalog = catalog_image(image(tmp_path, fat_files()), name="fat")
    cdx_text = cyclonedx(catalog)
    validate_cyclonedx(cdx_text)
    cdx = json.loads(cdx_text)
    assert cdx["specVersion"] == "1.6"
    purls = {c["purl"] for c in cdx["components"]}
    assert {p.purl for p in catalog.packages} == purls and len(purls) == 17
    qs = next(c for c in cdx["components"] if c["name"] == "qs")
    assert qs["licenses"] == [{"license": {"id": "MIT"}}]
    assert {"name": "pare:layer", "value": "0"} in qs["properties"]
    spdx_text = spdx(catalog)
    validate_spdx(spdx_text)
    doc = json.loads(spdx_text)
    assert doc["spdxVersion"] == "SPDX-2.3"
    packages = {p["name"]: p for p in doc["packages"]}
    assert packages["qs"]["licenseDeclared"] == "MIT"
    assert packages["qs"]["externalRefs"][0]["referenceLocator"] == "pkg:npm/qs@6.13.0"
    # Debian copyright names that are not SPDX identifiers are NOASSERTION, never guessed
    assert all(p["licenseDeclared"] == "NOASSERTION" for p in doc["packages"] if p["name"] == "libc6")
    assert len(doc["relationships"]) == 18  # DESCRIBES the image, which CONTAINS each package


def test_validators_reject_broken_documents() -> None:
    from pare.errors import PareError
    with pytest.raises(PareError, match="CycloneDX"):
        validate_cyclonedx(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": "no"}))


def test_cli_sbom(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fat = write_layout(tmp_path, "fat", fat_files())
    out_file = tmp_path / "sbom.spdx.json"
    code, _, err = run_cli(["sbom", fat, "--format", "spdx", "-o", str(out_file)], capsys)
    assert code == 0 and "17 packages" in err
    assert json.loads(out_file.read_text())["spdxVersion"] == "SPDX-2.3"
    code, out, _ = run_cli(["sbom", fat], capsys)
    assert json.loads(out)["bomFormat"] == "CycloneDX"
    code, out, _ = run_cli(["sbom", fat, "--format", "json"], capsys)
    assert json.loads(out)["counts"] == {"deb": 10, "golang": 4, "npm": 3}
