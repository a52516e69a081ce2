"""pare lint --index against Debian's real, signed package index (fetched by pare's private apt):
recommends priced per package named, in the suite the FROM is built on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pare.lint.index import recommends_bytes, suite_packages
from pare.lint.pricing import APT_RECOMMENDS

pytestmark = pytest.mark.integration


def test_recommends_follow_the_packages_named() -> None:
    index = suite_packages("bookworm")
    assert index is not None and "build-essential" in index
    assert recommends_bytes(index, ["ca-certificates"]) == 0  # it recommends nothing
    curl = recommends_bytes(index, ["curl"])
    build = recommends_bytes(index, ["build-essential"])
    assert curl is not None and build is not None
    assert 1_000_000 < curl < 10_000_000 < build  # openssl, publicsuffix...; gnupg, fonts, manpages...


def _priced(tmp_path: Path, *flags: str) -> int:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:bookworm-slim\n"
                          "RUN apt-get update && apt-get install -y ca-certificates \\\n"
                          "    && rm -rf /var/lib/apt/lists/*\n"
                          "USER 1000\nCMD [\"/bin/true\"]\n")
    proc = subprocess.run([sys.executable, "-m", "pare", "lint", "--json", *flags, str(dockerfile)],
                          capture_output=True, text=True, check=False, timeout=300)
    findings = json.loads(proc.stdout)[0]["findings"]
    return next(int(f["bytes"]) for f in findings if f["rule"] == "PL101")


def test_the_cli_prices_from_the_index_only_when_asked(tmp_path: Path) -> None:
    assert _priced(tmp_path) == APT_RECOMMENDS  # offline by default: the typical figure
    assert _priced(tmp_path, "--index") == 0
