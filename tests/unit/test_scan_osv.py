"""Version order per ecosystem and OSV range evaluation, on the committed real records
(tests/data/osv: PyPA, Go vulndb, GitHub advisories)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pare.scan import versions
from pare.scan.osv import evaluate, record_severity

OSV = Path(__file__).resolve().parents[1] / "data" / "osv"


def record(path: str) -> dict[str, Any]:
    file = OSV / path
    body = yaml.safe_load(file.read_text()) if file.suffix == ".yaml" else json.loads(file.read_text())
    assert isinstance(body, dict)
    return body


def affected(rec: dict[str, Any], ecosystem: str, version: str) -> tuple[bool, tuple[str, ...]]:
    hits = [evaluate(ecosystem, version, a) for a in rec["affected"]]
    return any(h.affected for h in hits), tuple(f for h in hits for f in h.fixed)


@pytest.mark.parametrize("eco, low, high", [
    ("Debian:12", "3.0.19-1~deb12u2", "3.0.22-1~deb12u2"),
    ("Debian:12", "1:1.2.13.dfsg-1", "2:0.1"),  # the epoch wins
    ("Debian:12", "3.0.17-1~deb12u2", "3.0.17-1"),  # ~ sorts before the release
    ("PyPI", "23.0.1", "23.3"), ("PyPI", "1.0rc1", "1.0"), ("PyPI", "2.0.post1", "2.1.dev0"),
    ("npm", "5.0.0-alpha.1", "5.0.0"), ("npm", "6.13.0", "6.14.1"), ("npm", "v1.2.3", "1.10.0"),
    ("Go", "go1.19.8", "1.19.9"), ("Go", "go1.21rc2", "1.21.0"),
    ("Go", "v0.0.0-20220722155237-a158d28d115b", "v0.1.0"),
])
def test_versions_order_by_each_ecosystems_rules(eco: str, low: str, high: str) -> None:
    assert versions.parse(eco, low) < versions.parse(eco, high)


@pytest.mark.parametrize("eco, text", [("Debian", "not a version!"), ("PyPI", "one.two"), ("npm", "x.y"),
                                       ("Go", "(devel)"), ("crates.io", "1.0.0")])
def test_unparseable_versions_raise_version_error(eco: str, text: str) -> None:
    with pytest.raises(versions.VersionError):
        versions.parse(eco, text)


TRIPLE = st.tuples(st.integers(0, 300), st.integers(0, 300), st.integers(0, 300))


@given(TRIPLE, TRIPLE)
def test_go_module_versions_order_like_their_numbers(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    va = versions.parse("Go", "v{}.{}.{}".format(*a))
    vb = versions.parse("Go", "v{}.{}.{}".format(*b))
    assert (va < vb) == (a < b)


def test_npm_records_match_the_versions_they_name() -> None:
    qs = record("npm/GHSA-6rw7-vpxm-498p.json")
    assert affected(qs, "npm", "6.13.0") == (True, ("6.14.1",))  # node-express's qs
    assert affected(qs, "npm", "6.14.1") == (False, ())
    express = record("npm/GHSA-qw6h-vgh9-j6wx.json")
    assert not affected(express, "npm", "4.21.2")[0]  # what node-express ships
    assert affected(express, "npm", "4.19.2") == (True, ("4.20.0",))
    assert affected(express, "npm", "5.0.0-beta.1") == (True, ("5.0.0",))  # the second affected[] entry
    semver = record("npm/GHSA-c2qf-rxjj-qqgw.json")
    assert affected(semver, "npm", "7.3.8")[0] and affected(semver, "npm", "6.3.0")[0]
    assert not affected(semver, "npm", "5.7.2")[0] and not affected(semver, "npm", "7.5.2")[0]


def test_go_stdlib_records_and_the_fixed_boundary() -> None:
    assert affected(record("go/GO-2023-1751.json"), "Go", "go1.19.8") == (True, ("1.19.9",))
    boundary = record("go/GO-2023-1704.json")  # fixed: 1.19.8 exactly
    assert not affected(boundary, "Go", "go1.19.8")[0]
    assert affected(boundary, "Go", "go1.19.7")[0]
    assert affected(boundary, "Go", "go1.20.2") == (True, ("1.20.3",))  # the second introduced/fixed pair


def test_pypi_record_with_listed_versions() -> None:
    matches = [p for p in sorted((OSV / "pypi").glob("*.yaml"))
               if affected(record(f"pypi/{p.name}"), "PyPI", "23.0.1")[0]
               and record(f"pypi/{p.name}")["affected"][0]["package"]["name"] == "pip"]
    assert matches, "pip 23.0.1 (Debian bookworm's) has advisories in the PyPA database"
    assert not any(affected(record(f"pypi/{p.name}"), "PyPI", "99.0")[0] for p in matches)


def test_last_affected_and_limit_events() -> None:
    entry = {"ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"last_affected": "1.2.0"}]},
                        {"type": "ECOSYSTEM", "events": [{"introduced": "2.0.0"}, {"limit": "2.5.0"}]},
                        {"type": "GIT", "events": [{"introduced": "0"}]}]}
    assert evaluate("npm", "1.2.0", entry).affected
    assert not evaluate("npm", "1.2.1", entry).affected
    assert evaluate("npm", "2.4.9", entry).affected
    assert not evaluate("npm", "2.5.0", entry).affected
    assert not evaluate("npm", "0.9.0", entry).affected  # the GIT range names commits: ignored
    bad = evaluate("npm", "not-semver", entry)
    assert not bad.affected and "not a semantic version" in bad.error


def test_severity_from_cvss_vectors_else_the_databases_rating_else_unknown() -> None:
    qs = record_severity(record("npm/GHSA-6rw7-vpxm-498p.json"))
    assert (qs.level, qs.score, qs.source) == ("high", 7.5, "CVSS_V3")
    cookie = record_severity(record("npm/GHSA-pxg6-pf52-xh8x.json"))  # no vector, GitHub says LOW
    assert (cookie.level, cookie.score) == ("low", None) and "database" in cookie.source
    go = record_severity(record("go/GO-2023-1751.json"))  # Go's vulndb rates nothing
    assert go.level == "unknown" and go.score is None
    v4 = record_severity({"severity": [{"type": "CVSS_V4", "score":
                                        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}]})
    assert (v4.level, v4.score) == ("critical", 9.3)
    junk = record_severity({"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/garbage"}]})
    assert junk.level == "unknown"
    debian = record_severity({}, {"ecosystem_specific": {"urgency": "medium"}})
    assert debian.level == "medium"
