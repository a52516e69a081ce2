"""A Go module proxy for tests: the GOPROXY protocol's files (list, .info, .mod, .zip) for modules
the test writes, in a directory (GOPROXY=file://...) or served over HTTP on 127.0.0.1, since the
real proxy is not reachable from tests (nor should a test depend on it)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path

from helpers import serve_directory
from pare.recipes.go_proxy import escape_path


def add_module(root: Path, module: str, version: str, files: Mapping[str, str]) -> None:
    """module@version in the proxy tree under `root`; `files` (path -> text) must hold its go.mod."""
    versions = root / escape_path(module) / "@v"
    versions.mkdir(parents=True, exist_ok=True)
    (versions / "list").write_text(version + "\n")
    info = {"Version": version, "Time": "2024-01-01T00:00:00Z"}
    (versions / f"{version}.info").write_text(json.dumps(info))
    (versions / f"{version}.mod").write_text(files["go.mod"])
    with zipfile.ZipFile(versions / f"{version}.zip", "w") as archive:
        for name, text in sorted(files.items()):
            archive.writestr(f"{module}@{version}/{name}", text)


serve = serve_directory  # the tree over HTTP; yields the proxy's URL
