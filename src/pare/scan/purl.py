"""Package URLs (purl spec) for each ecosystem, built with packageurl-python, in the form syft and
the OSV records use, so SBOMs from both tools and advisory data name packages alike."""

from __future__ import annotations

import re

from packageurl import PackageURL

from pare.scan.model import APK, BINARY, DEB, GOLANG, NPM, PYPI, Distro

_PEP503 = re.compile(r"[-_.]+")


def pypi_name(name: str) -> str:
    """PEP 503 normal form: how PyPI and the PyPA advisory database name a project."""
    return _PEP503.sub("-", name).lower()


def purl_for(ecosystem: str, name: str, version: str, distro: Distro | None = None,
             arch: str = "", source: str = "") -> str:
    qualifiers: dict[str, str] = {}
    namespace: str | None = None
    if ecosystem in (DEB, APK):
        namespace = distro.id if distro else ("debian" if ecosystem == DEB else "alpine")
        if arch:
            qualifiers["arch"] = arch
        if distro:
            qualifiers["distro"] = f"{distro.id}-{distro.version_id}"
        if source and source != name:
            qualifiers["upstream"] = source
    elif ecosystem == PYPI:
        name = pypi_name(name)
    elif ecosystem == NPM:
        if name.startswith("@") and "/" in name:
            namespace, name = name.split("/", 1)
    elif ecosystem == GOLANG:
        if "/" in name:
            namespace, name = name.rsplit("/", 1)
    elif ecosystem != BINARY:
        raise ValueError(f"no purl type for ecosystem {ecosystem!r}")
    return str(PackageURL(type=ecosystem, namespace=namespace, name=name, version=version or None,
                          qualifiers=qualifiers or None).to_string())
