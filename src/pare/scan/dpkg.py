"""Debian package metadata: the dpkg database (`/var/lib/dpkg/status` and `info/*.list`), the
distroless form (`/var/lib/dpkg/status.d/NAME` plus `NAME.md5sums`), and licences from the
machine-readable `/usr/share/doc/NAME/copyright` files. Parsed with python-debian."""

from __future__ import annotations

import re
from dataclasses import dataclass

from debian.deb822 import Deb822

_SOURCE = re.compile(r"^(\S+)(?:\s+\((\S+)\))?$")
_LICENSE = re.compile(r"^License:[ \t]*(\S[^\n]*)$", re.MULTILINE)
_COMMON = re.compile(r"/usr/share/common-licenses/([A-Za-z0-9.+_-]+)")


@dataclass(frozen=True, slots=True)
class DebEntry:
    name: str
    version: str
    architecture: str
    source: str
    source_version: str
    status: str


def parse_status(data: bytes) -> list[DebEntry]:
    """Every paragraph of a status file (or one status.d entry) whose package is installed."""
    out = []
    text = data.decode("utf-8", "replace")
    for para in Deb822.iter_paragraphs(text.splitlines(), use_apt_pkg=False):
        name = para.get("Package", "").strip()
        version = para.get("Version", "").strip()
        status = para.get("Status", "install ok installed").strip()
        if not name or not version or not status.endswith(" installed"):
            continue
        source, source_version = name, version
        m = _SOURCE.match(para.get("Source", "").strip())
        if m:
            source = m.group(1)
            source_version = m.group(2) or version
        out.append(DebEntry(name, version, para.get("Architecture", "").strip(), source, source_version,
                            status))
    return out


def list_paths(data: bytes) -> list[str]:
    """Paths of an `info/NAME.list` file (absolute, as dpkg wrote them)."""
    return [line for line in data.decode("utf-8", "replace").splitlines() if line.startswith("/")]


def md5sums_paths(data: bytes) -> list[str]:
    """Paths of a `NAME.md5sums` file ("<md5>  <relative path>" per line), made absolute."""
    out = []
    for line in data.decode("utf-8", "replace").splitlines():
        _, sep, path = line.partition("  ")
        if sep and path:
            out.append("/" + path.lstrip("/"))
    return out


def copyright_licenses(data: bytes) -> tuple[str, ...]:
    """Licence names of a DEP-5 copyright file (each `License:` field's first line), else the
    common-licenses files a free-form one points to."""
    text = data.decode("utf-8", "replace")
    found = [m.group(1).strip() for m in _LICENSE.finditer(text)]
    if not found:
        found = _COMMON.findall(text)
    return tuple(sorted(dict.fromkeys(f for f in found if f and len(f) < 120)))


def package_of_info(path: str) -> tuple[str, str] | None:
    """(package name, kind) for `var/lib/dpkg/info/NAME[:ARCH].list` or status.d `NAME[.md5sums]`."""
    name = path.rsplit("/", 1)[-1]
    if path.startswith("var/lib/dpkg/info/") and name.endswith(".list"):
        return name[: -len(".list")].split(":")[0], "list"
    if path.startswith("var/lib/dpkg/status.d/"):
        if name.endswith(".md5sums"):
            return name[: -len(".md5sums")].split(":")[0], "md5sums"
        return name.split(":")[0], "status"
    return None
