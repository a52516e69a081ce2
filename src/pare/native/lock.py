"""pare.lock: every artifact a native image's runtime (and the tools that shaped it) came from.

Written beside the app on its first build, honoured on every build after, refreshed by
`pare build --update-lock`. Each artifact names its source exactly (a Debian .deb in the pool, a
tarball on the npm registry, a wheel on PyPI) with the digest it must have, so a build from the lock
needs no package index and gives the same image on any machine. The `request` table records what
the lock answers (language, runtime version asked for, suite, platforms): when the request changes,
the lock is stale and is resolved again.

TOML, written by hand (the format is flat: one table and an array of tables of strings), read
with tomllib; artifacts are sorted, so the same resolution always writes the same bytes.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pare.errors import UsageError
from pare.oci.digest import Digest

LOCK_NAME = "pare.lock"
LOCK_VERSION = 1
KINDS = ("deb", "npm", "pypi", "host")
ROLES = ("runtime", "toolchain", "dependency")
HEADER = ("# pare.lock: the exact artifacts this app's image runtime and build tools come from.\n"
          "# Written by `pare build` on the first build and honoured after; `pare build --update-lock`\n"
          "# resolves it again. Commit it: the same lock gives the same image digest on any machine.\n")

RequestValue = str | tuple[str, ...]


@dataclass(frozen=True, order=True)
class Artifact:
    """One downloaded thing (or, kind "host", a tool taken from the build machine, by version).

    platform: what it is built for ("linux/amd64", or "all" for architecture-independent files);
    role: "runtime" when its files ship in the image, "toolchain" when it only builds or shapes it,
    "dependency" for an app dependency pare resolved itself (pip's resolution of an unhashed
    requirements.txt: pare.recipes.pip_lock)."""

    kind: str
    role: str
    platform: str
    name: str
    version: str
    digest: str = ""  # algorithm:hex; empty only for host tools
    url: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UsageError(f"{LOCK_NAME}: unknown artifact kind {self.kind!r} (known: {', '.join(KINDS)})")
        if self.role not in ROLES:
            raise UsageError(f"{LOCK_NAME}: unknown artifact role {self.role!r}")
        if self.kind != "host":
            try:
                Digest.parse(self.digest)
            except UsageError:
                raise UsageError(f"{LOCK_NAME}: {self.name} {self.version} has an invalid digest "
                                 f"{self.digest!r}") from None
            if not self.url.startswith(("https://", "http://")):
                raise UsageError(f"{LOCK_NAME}: {self.name} {self.version} has no download URL")

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class Lock:
    """What a lock answers (`request`) and the artifacts it pins."""

    request: tuple[tuple[str, RequestValue], ...]
    artifacts: tuple[Artifact, ...]

    @classmethod
    def new(cls, request: Mapping[str, RequestValue], artifacts: Iterable[Artifact]) -> Lock:
        return cls(tuple(sorted(request.items())), tuple(sorted(set(artifacts))))

    def answers(self, request: Mapping[str, RequestValue]) -> bool:
        return dict(self.request) == dict(request)

    def select(self, *, kind: str | None = None, role: str | None = None,
               platform: str | None = None) -> tuple[Artifact, ...]:
        """Artifacts of that kind, role and platform ("all" artifacts match every platform)."""
        return tuple(a for a in self.artifacts
                     if (kind is None or a.kind == kind) and (role is None or a.role == role)
                     and (platform is None or a.platform in (platform, "all")))

    def merged(self, other: Lock) -> Lock:
        """This lock's request with both locks' artifacts (per-platform resolutions combined)."""
        return Lock(self.request, tuple(sorted(set(self.artifacts) | set(other.artifacts))))


def _toml_value(value: RequestValue) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def dumps(lock: Lock) -> str:
    lines = [HEADER, f"version = {LOCK_VERSION}", "", "[request]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in lock.request]
    for artifact in lock.artifacts:
        lines += ["", "[[artifact]]"]
        for field in ("kind", "role", "platform", "name", "version", "digest", "url"):
            value = getattr(artifact, field)
            if value:
                lines.append(f"{field} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def loads(text: str) -> Lock:
    """Parse a lock; every problem is one UsageError that names the file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{LOCK_NAME}: not valid TOML: {exc}") from None
    if data.get("version") != LOCK_VERSION:
        raise UsageError(f"{LOCK_NAME}: unsupported version {data.get('version')!r} (this pare writes "
                         f"{LOCK_VERSION}; run pare build --update-lock)")
    request = data.get("request", {})
    if not isinstance(request, dict):
        raise UsageError(f"{LOCK_NAME}: [request] must be a table")
    parsed: dict[str, RequestValue] = {}
    for key, value in request.items():
        if isinstance(value, str):
            parsed[key] = value
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            parsed[key] = tuple(value)
        else:
            raise UsageError(f"{LOCK_NAME}: request.{key} must be a string or a list of strings")
    rows = data.get("artifact", [])
    if not isinstance(rows, list):
        raise UsageError(f"{LOCK_NAME}: artifact must be an array of tables")
    artifacts = []
    for row in rows:
        if not isinstance(row, dict) or not all(isinstance(v, str) for v in row.values()):
            raise UsageError(f"{LOCK_NAME}: every [[artifact]] field must be a string")
        unknown = set(row) - {"kind", "role", "platform", "name", "version", "digest", "url"}
        missing = {"kind", "role", "platform", "name", "version"} - set(row)
        if unknown or missing:
            raise UsageError(f"{LOCK_NAME}: artifact {row.get('name', '?')}: "
                             + (f"unknown field(s) {', '.join(sorted(unknown))}" if unknown
                                else f"missing {', '.join(sorted(missing))}"))
        artifacts.append(Artifact(**row))
    return Lock.new(parsed, artifacts)


def read_lock(app_dir: Path) -> Lock | None:
    path = Path(app_dir) / LOCK_NAME
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from None
    return loads(text)


def write_lock(app_dir: Path, lock: Lock) -> Path:
    """Write (atomically) the lock beside the app; unchanged content leaves the file untouched."""
    path = Path(app_dir) / LOCK_NAME
    text = dumps(lock)
    if path.is_file() and path.read_text() == text:
        return path
    fd, tmp = tempfile.mkstemp(prefix=f".{LOCK_NAME}-", dir=app_dir)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
