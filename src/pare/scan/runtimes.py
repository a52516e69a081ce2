"""The version of a node or python runtime read from the binary itself, for runtimes no package
claims (copied from a build host, or unpacked from an upstream tarball). The patterns are the
strings the runtimes embed (and syft's classifiers read): node's `node.js/vX.Y.Z` user agent and
its old `\\0vX.Y.Z\\0` form; python's `\\0X.Y.Z...\\0` version string, tied to the X.Y in the file
name when the name has one.
"""

from __future__ import annotations

import posixpath
import re

OVERLAP = 128  # bytes kept from the previous chunk: longer than any match

_NODE = (re.compile(rb"node\.js/v([0-9]+\.[0-9]+\.[0-9]+)"),
         re.compile(rb"\x00(?:node )?v((?:0|4|5|6)\.[0-9]+\.[0-9]+)\x00"))
_PYTHON_NAME = re.compile(r"^python([0-9]+(?:\.[0-9]+)+)$")
_LIBPYTHON_NAME = re.compile(r"^libpython([0-9]+(?:\.[0-9]+)+)[a-z]?\.so.*$")


def runtime_for(path: str) -> tuple[str, list[re.Pattern[bytes]]] | None:
    """(runtime name, patterns whose group 1 is its version) when the file name says it may be one."""
    name = posixpath.basename(path)
    if name == "node" or name == "nodejs":
        return "node", list(_NODE)
    for pattern in (_PYTHON_NAME, _LIBPYTHON_NAME):
        m = pattern.match(name)
        if m:
            version = re.escape(m.group(1).encode())
            return "python", [re.compile(rb"\x00(" + version + rb"[-._a-zA-Z0-9]*)\x00")]
    if name in ("python", "python3"):
        return "python", [re.compile(rb"\x00(3\.[0-9]+\.[0-9]+[a-z0-9]*)\x00")]
    return None


class VersionScanner:
    """Fed a file chunk by chunk; `version` is the first match of the runtime's patterns."""

    def __init__(self, runtime: str, patterns: list[re.Pattern[bytes]]) -> None:
        self.runtime = runtime
        self.patterns = patterns
        self.version = ""
        self._tail = b""
        self._literal = b"node.js/v" if runtime == "node" else b""

    @property
    def done(self) -> bool:
        return bool(self.version)

    def feed(self, chunk: bytes) -> None:
        if self.version or not chunk:
            return
        data = self._tail + chunk
        self._tail = data[-OVERLAP:]
        if self._literal and self._literal in data:
            m = self.patterns[0].search(data)
            if m:
                self.version = m.group(1).decode()
                return
        for pattern in self.patterns[1:] if self._literal else self.patterns:
            m = pattern.search(data)
            if m:
                self.version = m.group(1).decode()
                return
