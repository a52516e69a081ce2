"""A sysroot: pinned Debian packages of one architecture unpacked into a tree, never the host's files.

Native builds take every runtime file from here (libc, libstdc++, the Python interpreter, CA
certificates, tzdata...), resolve ELF closures inside it, and write a status.d entry for each
package that contributes a file, so scanners see the image truthfully. The tree is cached under
the sorted digests of its .debs: every app with the same lock entries uses the same tree, and so
gets the same runtime layer bytes.

Tools of the build machine's own architecture (the Python interpreter that installs wheels and
compiles .pyc files, binutils' strip) also run from a sysroot, through its own dynamic loader, so
their version is the lock's, not the host's.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pare.bases.apt import fetch_deb
from pare.bases.cache import deb_cache_dir
from pare.bases.debs import (
    PackageMeta,
    ca_bundle,
    new_merged_root,
    read_package_meta,
    status_d_files,
    unpack_deb,
)
from pare.errors import PareError
from pare.native.cache import cache_root, cached_dir
from pare.native.lock import Artifact
from pare.native.platforms import Arch

FORMAT = "1"  # bump when the unpacking changes a sysroot's tree
CA_BUNDLE_PATH = "/etc/ssl/certs/ca-certificates.crt"
METADATA = "packages.json"


class SysrootError(PareError):
    """A sysroot is inconsistent (a file changed since unpacking) or a tool in it failed."""


@dataclass(frozen=True)
class InstalledPackage:
    name: str
    version: str
    artifact_digest: str
    meta: PackageMeta
    files: tuple[str, ...]  # absolute image paths this package wrote


def deb_cache_path(artifact: Artifact) -> Path:
    """Where the shared .deb cache keeps an artifact: under the name apt would give it."""
    return deb_cache_dir() / Path(artifact.url).name


def sysroot_key(artifacts: Sequence[Artifact]) -> str:
    digests = sorted(a.digest for a in artifacts)
    return hashlib.sha256(json.dumps([FORMAT, digests]).encode()).hexdigest()[:24]


class Sysroot:
    """An unpacked package tree (`root`) and what each package put there."""

    def __init__(self, root: Path, arch: Arch, packages: Sequence[InstalledPackage]) -> None:
        self.root = root
        self.arch = arch
        self.packages = {p.name: p for p in packages}

    @cached_property
    def owners(self) -> dict[str, str]:
        """Image path -> the package that wrote it (the generated CA bundle belongs to ca-certificates)."""
        found = {path: pkg.name for pkg in self.packages.values() for path in pkg.files}
        if "ca-certificates" in self.packages and (self.root / CA_BUNDLE_PATH.lstrip("/")).is_file():
            found[CA_BUNDLE_PATH] = "ca-certificates"
        return found

    def host(self, image_path: str) -> Path:
        return self.root / image_path.lstrip("/")

    def library_dirs(self) -> list[str]:
        """Where the architecture's loader looks by default (no ld.so.cache in an image)."""
        t = self.arch.triplet
        return [f"/usr/lib/{t}", f"/lib/{t}", "/usr/lib", "/lib"]

    def status_files(self, kept: Iterable[str]) -> dict[str, bytes]:
        """status.d entries (control + md5sums of the kept files only) for every package owning one
        of `kept`; paths relative to the image root."""
        kept_set = set(kept)
        owners = self.owners
        files: dict[str, bytes] = {}
        for name in sorted({owners[p] for p in kept_set if p in owners}):
            files.update(status_d_files(self.packages[name].meta, kept_set))
        return files

    def copyright_files(self, kept: Iterable[str]) -> list[str]:
        """The /usr/share/doc/PKG/copyright of every package owning one of `kept` (licences ship
        with the files they cover, as distroless keeps them)."""
        owners = self.owners
        out = []
        for name in sorted({owners[p] for p in kept if p in owners}):
            path = f"/usr/share/doc/{name}/copyright"
            if self.host(path).is_file():
                out.append(path)
        return out

    def verify(self, files: Iterable[tuple[str, Path]]) -> None:
        """Check each (image path, file) against its package's md5sums: a cached tree that was
        changed or truncated must never ship (SysrootError names the first bad file). Files no
        package lists (generated ones, .pyc) are not checked."""
        sums = {"/" + path: digest for pkg in self.packages.values() for path, digest in pkg.meta.md5sums}
        for path, host in files:
            expected = sums.get(path)
            if expected is None or host.is_symlink() or not host.is_file():
                continue
            h = hashlib.md5(usedforsecurity=False)
            with open(host, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
            if h.hexdigest() != expected:
                raise SysrootError(f"{path} in pare's cache ({host}) differs from its package: delete it "
                                   "(pare prune) and build again")

    def run(self, program: str, args: Sequence[str], *, env: Mapping[str, str] | None = None,
            cwd: Path | None = None, what: str = "") -> str:
        """Run a dynamically linked program of the sysroot (same architecture as this machine) with
        the sysroot's own loader and libraries, so the host's libc version never matters."""
        loader = self.host(self.arch.loader)
        libs = ":".join(str(self.host(d)) for d in self.library_dirs())
        argv = [str(loader), "--library-path", libs, str(self.host(program)), *args]
        done = subprocess.run(argv, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-12:]
            raise SysrootError(f"{what or program} failed (exit {done.returncode}): " + " | ".join(tail))
        return done.stdout


    def wrapper(self, program: str) -> Path:
        """A script that runs `program` through the sysroot's loader and libraries, with argv[0]
        set to the script itself: a Python started this way reports the script as sys.executable,
        so the subprocesses it starts (pip building an sdist) run the same way, whatever libc the
        build machine has. Written once in the cache's wrappers/ (outside the sysroot's entry, whose
        manifest covers only what unpacking made; never shipped)."""
        home = cache_root() / "wrappers" / self.root.parent.name
        script = home / Path(program).name
        if script.is_file():
            return script
        home.mkdir(parents=True, exist_ok=True)
        libs = ":".join(str(self.host(d)) for d in self.library_dirs())
        text = ("#!/bin/sh\n# runs the sysroot's " + program + " on this machine (written by pare)\n"
                f'exec {shlex.quote(str(self.host(self.arch.loader)))} --argv0 "$0" --library-path '
                f'{shlex.quote(libs)} {shlex.quote(str(self.host(program)))} "$@"\n')
        fd, tmp = tempfile.mkstemp(prefix=f".{script.name}-", dir=home)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, 0o755)
        os.replace(tmp, script)
        return script


def ensure_sysroot(artifacts: Sequence[Artifact], arch: Arch) -> Sysroot:
    """The sysroot of exactly these .deb artifacts: from the cache, else downloaded (each .deb
    checked against its locked sha256) and unpacked once, atomically."""
    debs = list({a.digest: a for a in artifacts if a.kind == "deb"}.values())  # "all" ones may repeat

    def populate(tmp: Path) -> None:
        root = tmp / "root"
        new_merged_root(root)
        installed = []
        for artifact in sorted(debs, key=lambda a: a.name):
            algorithm, _, hexdigest = artifact.digest.partition(":")
            if algorithm != "sha256":
                raise SysrootError(f"{artifact.label}: a .deb is pinned by sha256, not {algorithm}")
            deb = fetch_deb(artifact.url, hexdigest, deb_cache_path(artifact))
            files = unpack_deb(deb, root, (), ())
            installed.append({"name": artifact.name, "version": artifact.version, "digest": artifact.digest,
                              "files": files, "meta": _meta_json(read_package_meta(deb))})
        if (root / "usr/lib64").is_dir() and not (root / "lib64").exists():
            (root / "lib64").symlink_to("usr/lib64")
        bundle = ca_bundle(root)
        if bundle is not None:
            target = root / CA_BUNDLE_PATH.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(bundle)
        (tmp / METADATA).write_text(json.dumps({"format": FORMAT, "arch": arch.debian,
                                                "packages": installed}, sort_keys=True))

    home = cached_dir("sysroots", f"{arch.debian}-{sysroot_key(debs)}", populate)
    return load_sysroot(home, arch)


def load_sysroot(home: Path, arch: Arch) -> Sysroot:
    try:
        data = json.loads((home / METADATA).read_text())
        packages = [InstalledPackage(p["name"], p["version"], p["digest"], _meta_from_json(p["meta"]),
                                     tuple(p["files"])) for p in data["packages"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SysrootError(f"cached sysroot {home.name} is damaged ({exc}): delete it (pare prune)") from None
    return Sysroot(home / "root", arch, packages)


def _meta_json(meta: PackageMeta) -> dict[str, object]:
    return {"name": meta.name, "control": meta.control, "md5sums": [list(pair) for pair in meta.md5sums]}


def _meta_from_json(data: dict[str, object]) -> PackageMeta:
    sums = data["md5sums"]
    assert isinstance(sums, list)
    return PackageMeta(str(data["name"]), str(data["control"]), tuple((str(p), str(d)) for p, d in sums))
