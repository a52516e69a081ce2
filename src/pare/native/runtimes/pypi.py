"""PyPI as a source of pinned artifacts: the pip wheel that installs an app's dependencies.

pip runs straight from its wheel (`python pip-X.whl/pip install ...`, as pip's own bootstrap
does), with the target interpreter, so no pip from the build machine or from Debian is involved.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pare.download import download, get_json
from pare.errors import UsageError
from pare.native.cache import cache_root
from pare.native.lock import Artifact
from pare.oci.digest import Digest

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


def index_url() -> str:
    """The package index (PEP 503/691 simple API); PARE_PYPI_INDEX overrides PyPI."""
    return os.environ.get("PARE_PYPI_INDEX", "https://pypi.org/simple").rstrip("/")


@cache
def project_files(name: str) -> list[dict[str, Any]]:
    """The project's files from the index's JSON simple API (PEP 691), URLs made absolute."""
    url = f"{index_url()}/{name}/"
    data = get_json(url, headers={"Accept": SIMPLE_JSON})
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list):
        raise UsageError(f"the package index lists no files for {name}")
    return [{**item, "url": urljoin(url, str(item.get("url", "")))}
            for item in files if isinstance(item, dict)]


def newest_wheel(name: str, python: str, *, role: str = "toolchain") -> Artifact:
    """The newest non-yanked py3-none-any wheel of `name` whose Requires-Python accepts `python`."""
    wanted = Version(python)
    best: tuple[Version, dict[str, Any]] | None = None
    for item in project_files(name):
        filename = str(item.get("filename", ""))
        if item.get("yanked") or not filename.endswith("-py3-none-any.whl"):
            continue
        try:
            version = Version(filename.split("-")[1])
            requires = item.get("requires-python")
            if requires and wanted not in SpecifierSet(requires):
                continue
        except (InvalidVersion, InvalidSpecifier, IndexError):
            continue
        if version.is_prerelease:
            continue
        if best is None or version > best[0]:
            best = (version, item)
    if best is None:
        raise UsageError(f"no {name} wheel on the package index supports Python {python}")
    version, item = best
    sha256 = (item.get("hashes") or {}).get("sha256")
    if not sha256:
        raise UsageError(f"the package index gives no sha256 for {item.get('filename')}")
    return Artifact("pypi", role, "all", name, str(version), f"sha256:{sha256}", item["url"])


def wheel(name: str, version: str, *, role: str) -> Artifact:
    """The py3-none-any wheel of `name` at exactly `version` (a pin of pare's own, e.g. the server
    it adds to an app that declares none), as an artifact for pare.lock."""
    for item in project_files(name):
        filename = str(item.get("filename", ""))
        if filename.endswith("-py3-none-any.whl") and filename.split("-")[1:2] == [version]:
            sha256 = (item.get("hashes") or {}).get("sha256")
            if not sha256:
                raise UsageError(f"the package index gives no sha256 for {filename}")
            return Artifact("pypi", role, "all", name, version, f"sha256:{sha256}", item["url"])
    raise UsageError(f"the package index has no {name} {version} wheel for every platform")


def fetch_wheel(item: Artifact) -> Path:
    """The wheel file, downloaded into the cache and checked against the artifact's digest. Its
    name must stay the wheel's own: pip reads the version from it when run from the file."""
    digest = Digest.parse(item.digest)
    return download(item.url, cache_root() / "wheels" / digest.hex[:16] / Path(item.url).name, digest)
