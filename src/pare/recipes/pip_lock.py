"""pip's own resolution, recorded in pare.lock: how an app whose requirements carry no hashes is
still installed by hash.

A plain requirements.txt (or PEP 621 dependencies without a lockfile) names ranges or bare pins,
not files. On the first build pip resolves them once, in the build sandbox, for each target
platform (`pip install --dry-run --ignore-installed --report`); its installation report names the
exact file it chose for every distribution (wheel or sdist) with that file's sha256. Those files
become pare.lock artifacts (kind pypi, role dependency, the platform they were resolved for), and
the lock's request records a digest of what they were resolved from, so a changed requirements
file is resolved again. Every build then installs exactly those files with --require-hashes.

Requirements pip cannot lock this way keep pip's unhashed install: local paths and editables,
direct URLs, index options (`--index-url`, `--find-links`...), and files whose lines already
carry `--hash` (pip checks those itself).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from pare.errors import UsageError
from pare.native.lock import Artifact
from pare.oci.digest import sha256
from pare.recipes.python_project import Dependencies, _logical_lines, _read

ROLE = "dependency"  # pare.lock role of the files pip's resolution chose (they ship in the image)
REQUEST_KEY = "pip_resolution"  # pare.lock request entry: what the resolution answers
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_INCLUDE = re.compile(r"^(?:-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)\Z")


class ReportError(UsageError):
    """pip's installation report is not what pare can lock."""


@dataclass(frozen=True)
class ResolvedFile:
    """One distribution pip chose: the exact file and its digest."""

    name: str  # canonical
    version: str
    url: str
    sha256: str  # hex

    @property
    def filename(self) -> str:
        return urlsplit(self.url).path.rsplit("/", 1)[-1]

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    def artifact(self, platform: str) -> Artifact:
        return Artifact("pypi", ROLE, platform, self.name, self.version, f"sha256:{self.sha256}", self.url)


def parse_report(text: str | bytes) -> list[ResolvedFile]:
    """The files of pip's installation report (format 1), sorted by name; ReportError (one line)
    for a report that is not JSON of that shape, or names a file pare cannot pin by hash (a local
    directory, a VCS checkout, a file without a sha256)."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReportError(f"pip's installation report is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != "1" or not isinstance(data.get("install"), list):
        raise ReportError("pip's installation report is not version 1 with an install list")
    found: dict[str, ResolvedFile] = {}
    for item in data["install"]:
        resolved = _resolved(item)
        if resolved.name in found:
            raise ReportError(f"pip's installation report names {resolved.name} twice")
        found[resolved.name] = resolved
    return [found[name] for name in sorted(found)]


def _resolved(item: object) -> ResolvedFile:
    metadata = item.get("metadata") if isinstance(item, dict) else None
    info = item.get("download_info") if isinstance(item, dict) else None
    if not isinstance(metadata, dict) or not isinstance(info, dict):
        raise ReportError("pip's installation report has an entry without metadata or download_info")
    name, version, url = metadata.get("name"), metadata.get("version"), info.get("url")
    if not isinstance(name, str) or not isinstance(version, str) or not isinstance(url, str):
        raise ReportError("pip's installation report has an entry without name, version or url")
    try:
        version = str(Version(version))
    except InvalidVersion:
        raise ReportError(f"pip's installation report: {name} has an invalid version {version!r}") from None
    label = f"{name} {version}"
    archive = info.get("archive_info")
    if not isinstance(archive, dict):
        raise ReportError(f"{label} comes from {url} (a local directory or a VCS checkout), which pare "
                          "cannot pin by hash")
    hashes = archive.get("hashes")
    digest = hashes.get("sha256") if isinstance(hashes, dict) else None
    if digest is None and isinstance(archive.get("hash"), str) and archive["hash"].startswith("sha256="):
        digest = archive["hash"].removeprefix("sha256=")
    if not isinstance(digest, str) or not _SHA256.match(digest):
        raise ReportError(f"{label}: pip's installation report gives no sha256 for {url}")
    if urlsplit(url).scheme not in ("https", "http"):
        raise ReportError(f"{label} comes from {url}, not from a package index")
    url = urlsplit(url)._replace(fragment="").geturl()
    resolved = ResolvedFile(canonicalize_name(name), version, url, digest)
    _check_filename(resolved)
    return resolved


def _check_filename(resolved: ResolvedFile) -> None:
    """The file's own name must be of that project and version (the lock check reads it so)."""
    filename = resolved.filename
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        raise ReportError(f"{resolved.name} {resolved.version}: {filename} is not a wheel or sdist "
                          "file name") from None
    if canonicalize_name(name) != resolved.name or str(version) != resolved.version:
        raise ReportError(f"{resolved.name} {resolved.version}: {filename} is a file of {name} {version}")


# --- which requirements pip's resolution locks -------------------------------------------------

def lockable(app_dir: Path, deps: Dependencies) -> bool:
    """Requirements without hashes that name only releases on the index (see module docstring)."""
    if deps.source == "pyproject.toml":
        return bool(deps.lines) and all(_plain(line) for line in deps.lines)
    if deps.source != "requirements.txt":
        return False
    lines = _requirement_lines(app_dir / "requirements.txt")
    return lines is not None and any(not _INCLUDE.match(line) for line in lines) and all(
        _INCLUDE.match(line) or _plain(line) for line in lines)


def _requirement_lines(path: Path, seen: frozenset[Path] = frozenset()) -> list[str] | None:
    """A requirements file's logical lines and those of every file it includes (-r, -c); None when
    an included file is missing or includes itself (pip reports that, pare does not lock it)."""
    lines = []
    for line in _logical_lines(_read(path)):
        lines.append(line)
        included = _INCLUDE.match(line)
        if included:
            child = (path.parent / included.group(1)).resolve()
            nested = _requirement_lines(child, seen | {child}) if child.is_file() and child not in seen \
                else None
            if nested is None:
                return None
            lines += nested
    return lines


def _plain(line: str) -> bool:
    """A requirement pip finds on the index: `name[extras] specifier ; marker`, nothing else."""
    from packaging.requirements import InvalidRequirement, Requirement
    if line.startswith("-") or "--hash" in line:
        return False
    try:
        return Requirement(line).url is None
    except InvalidRequirement:
        return False


def requirement_inputs(app_dir: Path, deps: Dependencies) -> str:
    """What the resolution answers, for pare.lock's request: the source and a digest of the
    requirement lines (every included file's too)."""
    lines = _requirement_lines(app_dir / "requirements.txt") if deps.source == "requirements.txt" else None
    return f"{deps.source} {sha256(json.dumps(lines or list(deps.lines)).encode())}"


def locked_files(artifacts: Iterable[Artifact], platform: str) -> list[Artifact]:
    """The files pip's resolution chose for one platform (exactly that platform), by name."""
    return sorted((a for a in artifacts if a.kind == "pypi" and a.role == ROLE and a.platform == platform),
                  key=lambda a: a.name)


def hashed_requirements(files: Sequence[Artifact]) -> str:
    """A requirements file pinning each locked file by name, version and sha256."""
    return "".join(f"{a.name}=={a.version} --hash={a.digest}\n" for a in files)
