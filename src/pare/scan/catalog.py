"""The catalog: one streaming pass over an image's layers finds every package the final
filesystem carries, and every ELF file no package claims.

Each layer is read once, as a stream, into the same merged tree `pare analyze` builds (so
whiteouts and opaque directories hide exactly what they hide for a container). On the way only
small metadata files are kept (dpkg's status and file lists, status.d, dist-info, package.json,
Alpine's installed db, os-release, copyright files), and ELF files are read chunk by chunk for
Go build info and runtime version strings; nothing else is held, nothing is written to disk. A
metadata file counts only if the final tree still holds the copy that layer wrote.

"Claimed" means some package says it owns the file: dpkg's info/*.list or status.d's md5sums,
apk's file list, a Python RECORD, an npm package's directory, a Go binary's own build info, a
runtime binary whose version was read. Claimed paths are resolved through the image's own
directory symlinks (/bin -> usr/bin on merged-/usr systems) before they are compared.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, cast

from pare.analyze.prefetch import Prefetch
from pare.analyze.tree import FileTree, Node
from pare.errors import DigestMismatch
from pare.oci.digest import CHUNK
from pare.oci.image import Image
from pare.oci.tarsafe import SafeTar
from pare.scan import dpkg, langpkgs
from pare.scan.gobuildinfo import BuildInfo, BuildInfoScanner
from pare.scan.model import APK, BINARY, DEB, GOLANG, NPM, PYPI, Catalog, Distro, ElfFile, Package
from pare.scan.purl import purl_for, pypi_name
from pare.scan.runtimes import VersionScanner, runtime_for

Progress = Callable[[int, int, str], None]
ELF_MAGIC = b"\x7fELF"
CAPS = {"status": 256 << 20, "default": 16 << 20}
_COPYRIGHT = re.compile(r"^usr/share/doc/([^/]+)/copyright$")


def metadata_kind(path: str) -> str | None:
    """Which kind of metadata file a (normalised, relative) path is, if any."""
    if path.startswith("var/lib/dpkg/"):
        if path == "var/lib/dpkg/status":
            return "status"
        info = dpkg.package_of_info(path)
        if info is not None:
            return {"list": "list", "md5sums": "md5sums", "status": "status.d"}[info[1]]
        return None
    name = posixpath.basename(path)
    if name == "package.json":
        return "npm"
    if path in ("etc/os-release", "usr/lib/os-release", "etc/debian_version", "etc/alpine-release"):
        return "os"
    if path == "lib/apk/db/installed":
        return "apk"
    if _COPYRIGHT.match(path):
        return "copyright"
    if ".egg-info" in path or ".dist-info" in path or "/EGG-INFO/" in path:
        if langpkgs.is_python_metadata(path):
            return "pymeta"
        if langpkgs.is_python_record(path):
            return "pyrecord"
    return None


@dataclass
class _Elf:
    size: int
    layer: int
    buildinfo: BuildInfo | None = None
    runtime: tuple[str, str] | None = None  # (name, version)


@dataclass
class _Pass:
    """What the streaming pass keeps."""

    tree: FileTree = field(default_factory=FileTree)
    captured: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)  # path -> (layer, kind, bytes)
    status_history: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (layer, name->version)
    elf: dict[str, _Elf] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def live(self, path: str, layer: int) -> Node | None:
        node = self.tree.get(path)
        if node is None or node.kind != "file" or node.layer != layer:
            return None
        return node


def _read_capped(reader: IO[bytes], cap: int) -> bytes | None:
    parts = []
    total = 0
    while chunk := reader.read(CHUNK):
        total += len(chunk)
        if total > cap:
            return None
        parts.append(chunk)
    return b"".join(parts)


def _probe_elf(reader: IO[bytes], path: str, size: int, layer: int) -> _Elf | None:
    head = reader.read(CHUNK)
    if not head.startswith(ELF_MAGIC):
        return None
    go = BuildInfoScanner()
    found = runtime_for(path)
    version = VersionScanner(*found) if found else None
    chunk = head
    while chunk:
        if not go.done:
            go.feed(chunk)
        if version is not None and not version.done:
            version.feed(chunk)
        if go.done and (version is None or version.done):
            break
        chunk = reader.read(CHUNK)
    runtime = (version.runtime, version.version) if version is not None and version.version else None
    return _Elf(size, layer, go.result, runtime)


def _stream(image: Image, verify: bool, progress: Progress | None) -> _Pass:
    state = _Pass()
    total = len(image.layers)
    for index, layer in enumerate(image.layers):
        if progress:
            progress(index, total, f"layer {index + 1}/{total} {layer.digest.short}")
        state.tree.begin_layer()
        with Prefetch(layer.open_uncompressed()) as stream:
            tar = SafeTar(cast(IO[bytes], stream), hash_stream=False)
            for member, reader in tar:
                state.tree.apply(member)
                path = member.path
                if member.kind == "hardlink":
                    _copy_link(state, member.linkname, path, index)
                    continue
                if reader is None:
                    continue
                kind = metadata_kind(path)
                if kind is not None:
                    data = _read_capped(reader, CAPS.get(kind, CAPS["default"]))
                    if data is None:
                        state.notes.append(f"/{path}: larger than pare reads for metadata; skipped")
                        continue
                    state.captured[path] = (index, kind, data)
                    if kind == "status":
                        entries = dpkg.parse_status(data)
                        state.status_history.append((index, {e.name: e.version for e in entries}))
                elif member.size >= 64:
                    probe = _probe_elf(reader, path, member.size, index)
                    if probe is not None:
                        state.elf[path] = probe
            diff_id = stream.digest()
        if verify and diff_id != layer.diff_id:
            raise DigestMismatch(f"layer {index} ({layer.digest.short}): its tar hashes to {diff_id}, "
                                 f"the config says {layer.diff_id}")
    if progress:
        progress(total, total, "done")
    return state


def _copy_link(state: _Pass, target: str, path: str, layer: int) -> None:
    """A hard link is the same file under another name: it inherits what was found in its target."""
    if target in state.elf:
        found = state.elf[target]
        state.elf[path] = _Elf(found.size, layer, found.buildinfo, found.runtime)
    if target in state.captured:
        _, kind, data = state.captured[target]
        if metadata_kind(path) == kind:
            state.captured[path] = (layer, kind, data)


class _Resolver:
    """Resolves the directory part of a path through the final tree's symlinks."""

    def __init__(self, tree: FileTree) -> None:
        self.tree = tree
        self._dirs: dict[str, str] = {"": ""}

    def canonical(self, path: str) -> str:
        rel = path.strip("/")
        parent, name = posixpath.split(rel)
        return posixpath.join(self._dir(parent), name) if parent else name

    def _dir(self, path: str, depth: int = 0) -> str:
        cached = self._dirs.get(path)
        if cached is not None:
            return cached
        parent, name = posixpath.split(path)
        real_parent = self._dir(parent, depth) if parent else ""
        here = posixpath.join(real_parent, name) if real_parent else name
        node = self.tree.get(here)
        if node is not None and node.kind == "symlink" and depth < 40:
            target = node.linkname
            joined = target if target.startswith("/") else posixpath.join(real_parent, target)
            normal = posixpath.normpath("/" + joined).strip("/")
            here = self._dir(normal, depth + 1) if normal else ""
        self._dirs[path] = here
        return here


def _distro(state: _Pass) -> Distro | None:
    fields: dict[str, str] = {}
    for path in ("etc/os-release", "usr/lib/os-release"):
        got = state.captured.get(path)
        if got and state.live(path, got[0]):
            for line in got[2].decode("utf-8", "replace").splitlines():
                key, sep, value = line.partition("=")
                if sep:
                    fields[key.strip()] = value.strip().strip('"').strip("'")
            break
    if fields.get("ID"):
        return Distro(fields["ID"], fields.get("VERSION_ID", ""), fields.get("VERSION_CODENAME", ""),
                      fields.get("PRETTY_NAME", ""))
    for path, distro_id in (("etc/debian_version", "debian"), ("etc/alpine-release", "alpine")):
        got = state.captured.get(path)
        if got and state.live(path, got[0]):
            return Distro(distro_id, got[2].decode("utf-8", "replace").strip())
    return None


def _status_layer(history: list[tuple[int, dict[str, str]]], name: str, version: str) -> int:
    """The layer from which this package, at this version, has been in every status file since."""
    layer = history[-1][0]
    for index, names in reversed(history):
        if names.get(name) != version:
            break
        layer = index
    return layer


def catalog_image(image: Image, *, name: str = "", verify: bool = True,
                  progress: Progress | None = None) -> Catalog:
    """Stream every layer of `image` once and return what it carries."""
    state = _stream(image, verify, progress)
    distro = _distro(state)
    resolve = _Resolver(state.tree)
    packages: list[Package] = []
    claimed: set[str] = set()
    claimed_dirs: set[str] = set()
    os_claimed: set[str] = set()

    live = [(path, layer, kind, data) for path, (layer, kind, data) in state.captured.items()
            if state.live(path, layer) is not None]
    by_kind: dict[str, list[tuple[str, int, bytes]]] = {}
    for path, layer, kind, data in live:
        by_kind.setdefault(kind, []).append((path, layer, data))
    licences = {_COPYRIGHT.match(path).group(1): dpkg.copyright_licenses(data)  # type: ignore[union-attr]
                for path, _, data in by_kind.get("copyright", [])}

    # Debian: the status file, then status.d entries (distroless)
    for path, _, data in by_kind.get("status", []):
        for entry in dpkg.parse_status(data):
            packages.append(_deb(entry, "/" + path, _status_layer(state.status_history, entry.name,
                                                                  entry.version), distro, licences,
                                 "dpkg-status"))
    for path, layer, data in sorted(by_kind.get("status.d", [])):
        for entry in dpkg.parse_status(data):
            packages.append(_deb(entry, "/" + path, layer, distro, licences, "dpkg-status.d"))
    for _, _, data in by_kind.get("list", []):
        os_claimed.update(resolve.canonical(p) for p in dpkg.list_paths(data))
    for _, _, data in by_kind.get("md5sums", []):
        os_claimed.update(resolve.canonical(p) for p in dpkg.md5sums_paths(data))

    # Alpine
    for path, layer, data in by_kind.get("apk", []):
        for apk in langpkgs.parse_apk_installed(data):
            packages.append(Package(APK, apk.name, apk.version, "/" + path, layer,
                                    purl_for(APK, apk.name, apk.version, distro), apk.licenses,
                                    "apk-installed", apk.origin, apk.version))
            os_claimed.update(resolve.canonical(p) for p in apk.files)
    claimed |= os_claimed

    # Python
    for path, layer, data in sorted(by_kind.get("pymeta", [])):
        meta = langpkgs.parse_python(data)
        if meta is not None:
            # named in PEP 503 form, as PyPI, the advisory data and syft name a project
            packages.append(Package(PYPI, pypi_name(meta.name), meta.version, "/" + path, layer,
                                    purl_for(PYPI, meta.name, meta.version), meta.licenses,
                                    "dist-info" if ".dist-info" in path else "egg-info"))
    for path, _, data in by_kind.get("pyrecord", []):
        claimed.update(resolve.canonical(p) for p in langpkgs.python_record_paths(path, data))

    # npm: every package.json with a name and a version, as syft's image cataloger reads them
    for path, layer, data in sorted(by_kind.get("npm", [])):
        meta = langpkgs.parse_package_json(data)
        if meta is None:
            continue
        packages.append(Package(NPM, meta.name, meta.version, "/" + path, layer,
                                purl_for(NPM, meta.name, meta.version), meta.licenses, "package.json"))
        directory = posixpath.dirname(path)
        if "node_modules/" in directory:
            claimed_dirs.add(resolve.canonical(directory))

    # ELF: Go build info and runtime versions, then what nobody claims
    elf_files = elf_bytes = 0
    unclaimed: list[ElfFile] = []
    seen_inodes: set[int] = set()
    for path, found in sorted(state.elf.items()):
        node = state.live(path, found.layer)
        if node is None:
            continue
        if node.inode is not None and id(node.inode) not in seen_inodes:
            seen_inodes.add(id(node.inode))
            elf_files += 1
            elf_bytes += found.size
        if found.buildinfo is not None:
            packages.extend(_go_packages(found.buildinfo, "/" + path, found.layer))
            claimed.add(path)
        if found.runtime is not None and path not in os_claimed:
            runtime, version = found.runtime
            packages.append(Package(BINARY, runtime, version, "/" + path, found.layer,
                                    purl_for(BINARY, runtime, version), (), "runtime-binary"))
            claimed.add(path)
        if path not in claimed and not _under(path, claimed_dirs):
            unclaimed.append(ElfFile("/" + path, found.size, found.layer))
    # one inode, one unclaimed entry: hard links of one file are not more invisible bytes
    unclaimed = _dedupe_links(state, unclaimed)
    return Catalog(name, str(image.digest), tuple(str(layer.digest) for layer in image.layers), distro,
                   tuple(packages), elf_files, elf_bytes, tuple(unclaimed), tuple(state.notes))


def _deb(entry: dpkg.DebEntry, path: str, layer: int, distro: Distro | None,
         licences: dict[str, tuple[str, ...]], found_by: str) -> Package:
    return Package(DEB, entry.name, entry.version, path, layer,
                   purl_for(DEB, entry.name, entry.version, distro, entry.architecture, entry.source),
                   licences.get(entry.name, ()), found_by, entry.source, entry.source_version)


def _go_packages(info: BuildInfo, path: str, layer: int) -> list[Package]:
    if info.legacy:
        return []
    out = []
    owner = info.main.path if info.main else ""
    if info.main is not None and info.main.path:
        out.append(Package(GOLANG, info.main.path, info.main.version, path, layer,
                           purl_for(GOLANG, info.main.path, info.main.version), (), "go-buildinfo",
                           owner))
    for dep in info.deps:
        out.append(Package(GOLANG, dep.path, dep.version, path, layer,
                           purl_for(GOLANG, dep.path, dep.version), (), "go-buildinfo", owner))
    if info.go_version:
        out.append(Package(GOLANG, "stdlib", info.go_version, path, layer,
                           purl_for(GOLANG, "stdlib", info.go_version), ("BSD-3-Clause",), "go-buildinfo",
                           owner))
    return out


def _under(path: str, dirs: set[str]) -> bool:
    if not dirs:
        return False
    parent = posixpath.dirname(path)
    while parent:
        if parent in dirs:
            return True
        parent = posixpath.dirname(parent)
    return False


def _dedupe_links(state: _Pass, files: list[ElfFile]) -> list[ElfFile]:
    seen: set[int] = set()
    out = []
    for f in files:
        node = state.tree.get(f.path)
        key = id(node.inode) if node is not None and node.inode is not None else id(f)
        if key in seen:
            continue
        seen.add(key)
        out.append(f)
    return out
