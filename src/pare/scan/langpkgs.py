"""Language package metadata: Python's `*.dist-info/METADATA` and `*.egg-info` (with the RECORD or
installed-files.txt that says which files each installed), npm's `package.json`, and Alpine's
`/lib/apk/db/installed`. Each parser takes the file's bytes and never raises on bad input: a
file that is not what its name says is skipped."""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from email.parser import BytesHeaderParser


@dataclass(frozen=True, slots=True)
class Meta:
    name: str
    version: str
    licenses: tuple[str, ...] = ()


# --- Python -------------------------------------------------------------------------------------
def is_python_metadata(path: str) -> bool:
    """METADATA of a .dist-info, PKG-INFO of an .egg-info directory or of an unzipped egg's
    EGG-INFO (as syft reads them), or a single-file .egg-info."""
    parent, name = posixpath.split(path)
    if parent.endswith(".dist-info"):
        return name == "METADATA"
    if parent.endswith(".egg-info") or posixpath.basename(parent) == "EGG-INFO":
        return name == "PKG-INFO"
    return name.endswith(".egg-info")  # a single-file egg-info (distutils, Debian's python3-* packages)


def is_python_record(path: str) -> bool:
    parent, name = posixpath.split(path)
    return (parent.endswith(".dist-info") and name == "RECORD") or (
        parent.endswith(".egg-info") and name == "installed-files.txt")


def parse_python(data: bytes) -> Meta | None:
    try:
        headers = BytesHeaderParser().parsebytes(data)
    except Exception:  # email's parser raises little, but metadata is untrusted bytes
        return None
    name = str(headers.get("Name", "") or "").strip()
    version = str(headers.get("Version", "") or "").strip()
    if not name or not version:
        return None
    licenses: list[str] = []
    expression = str(headers.get("License-Expression", "") or "").strip()
    if expression:
        licenses.append(expression)
    else:
        value = str(headers.get("License", "") or "").strip()
        if value and "\n" not in value and len(value) < 80 and value.upper() != "UNKNOWN":
            licenses.append(value)
        else:
            for classifier in headers.get_all("Classifier") or []:
                parts = [p.strip() for p in str(classifier).split("::")]
                if parts[0] == "License" and len(parts) > 1 and parts[-1] != "OSI Approved":
                    licenses.append(parts[-1])
    return Meta(name, version, tuple(dict.fromkeys(licenses)))


def python_record_paths(record_path: str, data: bytes) -> list[str]:
    """Absolute paths a RECORD (relative to site-packages) or installed-files.txt (relative to the
    egg-info directory) lists."""
    egg_dir = posixpath.dirname(record_path)
    base = posixpath.dirname(egg_dir)
    out = []
    for line in data.decode("utf-8", "replace").splitlines():
        if record_path.endswith("RECORD"):
            entry = line.split(",", 1)[0]
            root = base
        else:
            entry, root = line, egg_dir
        if not entry:
            continue
        out.append("/" + posixpath.normpath(posixpath.join(root, entry)).lstrip("/"))
    return out


# --- npm ----------------------------------------------------------------------------------------
def parse_package_json(data: bytes) -> Meta | None:
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(body, dict):
        return None
    name, version = body.get("name"), body.get("version")
    if not isinstance(name, str) or not isinstance(version, str) or not name.strip() or not version.strip():
        return None
    licenses: list[str] = []
    value = body.get("license")
    if isinstance(value, str) and value.strip():
        licenses.append(value.strip())
    elif isinstance(value, dict) and isinstance(value.get("type"), str):
        licenses.append(value["type"])
    items = body.get("licenses")
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("type"), str):
                licenses.append(item["type"])
            elif isinstance(item, str):
                licenses.append(item)
    return Meta(name.strip(), version.strip(), tuple(dict.fromkeys(licenses)))


# --- Alpine -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ApkEntry:
    name: str
    version: str
    origin: str
    licenses: tuple[str, ...]
    files: tuple[str, ...]


def parse_apk_installed(data: bytes) -> list[ApkEntry]:
    """Alpine's installed database: blank-line separated records of `X:value` lines."""
    out = []
    for block in data.decode("utf-8", "replace").split("\n\n"):
        fields: dict[str, str] = {}
        files: list[str] = []
        directory = ""
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if not sep:
                continue
            if key == "F":
                directory = value
            elif key == "R":
                files.append("/" + posixpath.join(directory, value).lstrip("/"))
            else:
                fields.setdefault(key, value)
        if fields.get("P") and fields.get("V"):
            lic = tuple(fields["L"].split()) if fields.get("L") else ()
            out.append(ApkEntry(fields["P"], fields["V"], fields.get("o", fields["P"]), lic, tuple(files)))
    return out
