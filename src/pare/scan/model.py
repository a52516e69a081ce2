"""What a scan finds, as immutable values: packages (each with the layer that added it), the
distribution, and the ELF files no package claims, which no package-based scanner can see.

Ecosystem names are purl types (deb, apk, pypi, npm, golang, generic); `osv_ecosystem` maps them to
the names OSV records use, so a package and a record meet on the same key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

DEB = "deb"
APK = "apk"
PYPI = "pypi"
NPM = "npm"
GOLANG = "golang"
BINARY = "generic"  # a runtime recognised inside a binary (node, python), as syft's classifiers do
ECOSYSTEMS = (DEB, APK, PYPI, NPM, GOLANG, BINARY)
LABELS = {DEB: "Debian", APK: "Alpine", PYPI: "PyPI", NPM: "npm", GOLANG: "Go", BINARY: "runtime binaries"}


@dataclass(frozen=True, slots=True)
class Distro:
    """From /etc/os-release (or /etc/debian_version): which advisories apply to the OS packages."""

    id: str  # "debian", "alpine"...
    version_id: str  # "12", "3.18.4"
    codename: str = ""  # "bookworm"
    pretty: str = ""

    @property
    def major(self) -> str:
        return self.version_id.split(".")[0]

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "version_id": self.version_id, "codename": self.codename,
                "pretty": self.pretty}


@dataclass(frozen=True, slots=True)
class Package:
    ecosystem: str
    name: str
    version: str
    path: str  # the metadata file (or binary) it was read from, absolute
    layer: int  # index of the layer that added it
    purl: str = ""
    licenses: tuple[str, ...] = ()
    found_by: str = ""
    source: str = ""  # deb: the source package (what Debian advisories name); go: the binary's module
    source_version: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.ecosystem, self.name, self.version)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ecosystem": self.ecosystem, "name": self.name, "version": self.version,
                                "purl": self.purl, "path": self.path, "layer": self.layer,
                                "found_by": self.found_by}
        if self.licenses:
            body["licenses"] = list(self.licenses)
        if self.source:
            body["source"] = self.source
            body["source_version"] = self.source_version
        return body


@dataclass(frozen=True, slots=True)
class ElfFile:
    """A regular ELF file of the final filesystem."""

    path: str  # absolute
    size: int
    layer: int


@dataclass(frozen=True)
class Catalog:
    """Everything found in one image's final filesystem, in one streaming pass over its layers."""

    image: str
    digest: str
    layers: tuple[str, ...]  # layer digests, index = Package.layer
    distro: Distro | None
    packages: tuple[Package, ...]
    elf_files: int
    elf_bytes: int
    unclaimed_elf: tuple[ElfFile, ...]  # no package (OS, language, Go build info, runtime) claims them
    notes: tuple[str, ...] = field(default=())

    def by_ecosystem(self) -> dict[str, list[Package]]:
        out: dict[str, list[Package]] = {}
        for p in self.packages:
            out.setdefault(p.ecosystem, []).append(p)
        return out

    @property
    def unclaimed_bytes(self) -> int:
        return sum(f.size for f in self.unclaimed_elf)

    def to_dict(self, limit: int | None = None) -> dict[str, Any]:
        unclaimed = sorted(self.unclaimed_elf, key=lambda f: (-f.size, f.path))
        return {
            "image": self.image,
            "digest": self.digest,
            "distro": self.distro.to_dict() if self.distro else None,
            "packages": [p.to_dict() for p in self.packages],
            "counts": {eco: len(pkgs) for eco, pkgs in sorted(self.by_ecosystem().items())},
            "elf": {
                "files": self.elf_files,
                "bytes": self.elf_bytes,
                "unclaimed_files": len(self.unclaimed_elf),
                "unclaimed_bytes": self.unclaimed_bytes,
                "unclaimed": [{"path": f.path, "bytes": f.size, "layer": f.layer}
                              for f in (unclaimed if not limit else unclaimed[:limit])],
            },
            "notes": list(self.notes),
        }


# Upstream runtimes whose own advisories (not a distribution's) are kept as an OSV ecosystem: the
# runtime seen in a binary, and the Debian package that ships it, looked up by its upstream version.
RUNTIME_ECOSYSTEMS = {"node": ("Node.js", "node")}
DEBIAN_RUNTIMES = {"nodejs": "node"}
_UPSTREAM = re.compile(r"^(?:[0-9]+:)?([0-9]+\.[0-9]+\.[0-9]+)")


def runtime_lookup(package: Package) -> tuple[str, str, str] | None:
    """(OSV ecosystem, name, version) of the upstream runtime this package is, if it is one: node
    seen in a binary, or Debian's `nodejs` 18.20.4+dfsg-1~deb12u1 as node 18.20.4."""
    if package.ecosystem == BINARY and package.name in RUNTIME_ECOSYSTEMS:
        eco, name = RUNTIME_ECOSYSTEMS[package.name]
        return eco, name, package.version
    if package.ecosystem == DEB and package.name in DEBIAN_RUNTIMES:
        m = _UPSTREAM.match(package.version)
        if m:
            eco, name = RUNTIME_ECOSYSTEMS[DEBIAN_RUNTIMES[package.name]]
            return eco, name, m.group(1)
    return None


def osv_ecosystem(package: Package, distro: Distro | None) -> str | None:
    """The OSV ecosystem whose records can name this package, or None when OSV has none."""
    if package.ecosystem == DEB:
        return f"Debian:{distro.major}" if distro and distro.id == "debian" and distro.major else "Debian"
    if package.ecosystem == APK:
        if distro and distro.id == "alpine":
            parts = distro.version_id.split(".")
            return f"Alpine:v{'.'.join(parts[:2])}"
        return "Alpine"
    return {PYPI: "PyPI", NPM: "npm", GOLANG: "Go"}.get(package.ecosystem)
