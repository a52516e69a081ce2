"""Version order per ecosystem, each by its own rules and a well-kept library: dpkg's (python-debian)
for Debian, PEP 440 (packaging) for PyPI, Semantic Versioning 2.0 (semver) for npm and for Go
module versions (Go's own form: a `v` prefix, pseudo-versions, `+incompatible`; toolchain versions
such as go1.21rc2 are mapped onto semver as Go's vulndb does). An unparseable version raises
VersionError: the matcher then says it could not compare, it never guesses."""

from __future__ import annotations

import re
from typing import Any

import semver
from debian.debian_support import Version as DebVersion
from packaging.version import InvalidVersion
from packaging.version import Version as PepVersion

_GO_TOOLCHAIN = re.compile(r"^go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(beta|rc)(\d+))?$")


class VersionError(ValueError):
    """A version string the ecosystem's rules cannot order."""


def _semver(text: str) -> semver.Version:
    text = text.strip()
    if text[:1] in ("v", "="):
        text = text[1:]
    try:
        return semver.Version.parse(text, optional_minor_and_patch=True)
    except (ValueError, TypeError) as exc:
        raise VersionError(f"not a semantic version: {text!r}") from exc


def go_version(text: str) -> semver.Version:
    """A Go module version (v1.2.3, pseudo-versions) or a toolchain version (go1.19.8, go1.21rc2)."""
    m = _GO_TOOLCHAIN.match(text.strip())
    if m:
        major, minor, patch, pre, num = m.groups()
        core = f"{major}.{minor or 0}.{patch or 0}"
        return _semver(f"{core}-{pre}.{num}" if pre else core)
    return _semver(text)


def parse(ecosystem: str, text: str) -> Any:
    """An orderable value for `text` under the rules of `ecosystem` (an OSV ecosystem name)."""
    base = ecosystem.split(":", 1)[0]
    if base == "Debian":
        try:
            return DebVersion(text)
        except ValueError as exc:
            raise VersionError(f"not a Debian version: {text!r}") from exc
    if base == "PyPI":
        try:
            return PepVersion(text)
        except InvalidVersion as exc:
            raise VersionError(f"not a PEP 440 version: {text!r}") from exc
    if base in ("npm", "Node.js"):  # Node.js: the runtime's own releases, semver like its packages
        return _semver(text)
    if base == "Go":
        return go_version(text)
    raise VersionError(f"pare has no version rules for ecosystem {ecosystem!r}")


def supported(ecosystem: str) -> bool:
    return ecosystem.split(":", 1)[0] in ("Debian", "PyPI", "npm", "Go", "Node.js")
