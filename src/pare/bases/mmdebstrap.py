"""Debian rootfs layers with mmdebstrap, streamed straight into one deterministic layer blob.

mmdebstrap writes the rootfs as a tar on stdout (`--format=tar`, already sorted by name); pare
rewrites it on the fly with its own metadata rules (pare.oci.tarwriter.normalize_tar) and
compresses it, so the rootfs is never extracted nor held whole anywhere. Package files come from a
shared .deb cache: hard-linked into the chroot before apt runs (apt then skips the download) and
hard-linked back out afterwards, so the second build of any profile downloads nothing.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pare.bases.profiles import Profile
from pare.errors import PareError, ToolMissing
from pare.oci import mediatypes as mt
from pare.oci.layer import FileLayer
from pare.oci.tarwriter import layer_from_writer, normalize_tar

MERGED_USR_HOOKS = Path("/usr/share/mmdebstrap/hooks/merged-usr")

# Never part of an image: /dev is the runtime's, and the host's resolver and name leak in otherwise.
ROOTFS_EXCLUDES = ("dev/*", "etc/resolv.conf", "etc/hostname", "etc/.pwd.lock",
                   "var/cache/ldconfig/aux-cache")


class BaseBuildError(PareError):
    """mmdebstrap (or the .deb assembly) failed; the message carries the tool's last lines."""


@dataclass(frozen=True)
class RootfsLayer:
    """The one layer of a base, and what went into it."""

    layer: FileLayer
    packages: tuple[str, ...]  # "name version", sorted
    seconds: float


def mmdebstrap_path() -> str:
    path = shutil.which("mmdebstrap")
    if path is None:
        raise ToolMissing("mmdebstrap is not installed (apt-get install mmdebstrap)")
    return path


@functools.cache
def mmdebstrap_version() -> str:
    """`mmdebstrap 1.3.5` -> '1.3.5'; part of every mmdebstrap base's cache key."""
    out = subprocess.run([mmdebstrap_path(), "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip().rsplit(" ", 1)[-1] or "unknown"


def build_epoch(epoch: int) -> int:
    """SOURCE_DATE_EPOCH handed to the maintainer scripts.

    /etc/shadow's last-change field is days since this; 0 would mean "password must be changed"
    and break PAM account checks for root, so an epoch of 0 becomes one day.
    """
    return epoch if epoch >= 86400 else 86400


# apt as Docker's official Debian images set it (debuerreotype's minimizing config): index files kept
# compressed, no translations, no binary package caches, downloaded .debs removed after each run,
# and recommends installed (the build's own "no recommends" option is taken back). Written by the
# last customize hooks, after the .debs were saved: during the bootstrap the clean-up would delete them.
DOCKER_APT_CLEAN = ("rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb "
                    "/var/cache/apt/*.bin || true")
DOCKER_APT_HOOKS = [
    "--customize-hook=sed -i '/APT::Install-Recommends/d' \"$1/etc/apt/apt.conf.d/99mmdebstrap\"",
    f"--customize-hook=printf '%s\\n' 'DPkg::Post-Invoke {{ \"{DOCKER_APT_CLEAN}\"; }};' "
    f"'APT::Update::Post-Invoke {{ \"{DOCKER_APT_CLEAN}\"; }};' 'Dir::Cache::pkgcache \"\";' "
    "'Dir::Cache::srcpkgcache \"\";' > \"$1/etc/apt/apt.conf.d/docker-clean\"",
    "--customize-hook=echo 'Acquire::GzipIndexes \"true\";' > \"$1/etc/apt/apt.conf.d/docker-gzip-indexes\"",
    "--customize-hook=echo 'Acquire::Languages \"none\";' > \"$1/etc/apt/apt.conf.d/docker-no-languages\"",
    "--customize-hook=echo 'Apt::AutoRemove::SuggestsImportant \"false\";' > "
    "\"$1/etc/apt/apt.conf.d/docker-autoremove-suggests\"",
    "--customize-hook=rm -f \"$1\"/var/cache/apt/*.bin",
]


def mmdebstrap_command(profile: Profile, deb_cache: Path, incoming: Path, packages_out: Path) -> list[str]:
    """The mmdebstrap argv for a profile: tar on stdout, merged /usr, shared .deb cache."""
    cache, inbox, listing = (shlex.quote(str(p)) for p in (deb_cache, incoming, packages_out))
    archives = '"$1"/var/cache/apt/archives'
    cmd = [
        "mmdebstrap", f"--variant={profile.variant}", "--mode=root", "--format=tar",
        f"--architectures={profile.architecture}", f"--hook-dir={MERGED_USR_HOOKS}",
        "--skip=essential/unlink",  # keep the downloaded .debs until the customize hook saves them
        "--aptopt=Acquire::Check-Valid-Until \"false\"",
        "--aptopt=APT::Install-Recommends \"false\"",
        f"--setup-hook=mkdir -p {archives} && "
        f"find {cache} -maxdepth 1 -name '*.deb' -exec cp -l -t {archives}/ {{}} + 2>/dev/null || "
        f"find {cache} -maxdepth 1 -name '*.deb' -exec cp -t {archives}/ {{}} +",
        f"--customize-hook=find {archives} -maxdepth 1 -name '*.deb' -exec cp -l -t {inbox}/ {{}} + "
        f"2>/dev/null || find {archives} -maxdepth 1 -name '*.deb' -exec cp -t {inbox}/ {{}} +",
        f"--customize-hook=chroot \"$1\" dpkg-query -W -f='${{Package}} ${{Version}}\\n' > {listing}",
    ]
    if profile.docker_apt:
        cmd += DOCKER_APT_HOOKS
    cmd += [f"--dpkgopt=path-exclude={glob}" for glob in profile.path_excludes]
    cmd += [f"--dpkgopt=path-include={glob}" for glob in profile.path_keeps]
    if profile.packages:
        cmd.append("--include=" + ",".join(profile.packages))
    cmd += [profile.suite, "-"]
    cmd += [f"deb {line}" for line in profile.suite_mirrors]
    return cmd


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below `path` (deepest first), from /proc/self/mounts."""
    prefix = str(path.resolve())
    found = []
    with contextlib.suppress(OSError), open("/proc/self/mounts") as fh:
        for line in fh:
            fields = line.split()
            if len(fields) > 1:
                point = fields[1].replace("\\040", " ")
                if point == prefix or point.startswith(prefix + "/"):
                    found.append(point)
    return sorted(found, key=len, reverse=True)


def remove_tree(path: Path) -> None:
    """rm -rf that never descends into a mount a killed mmdebstrap left behind (/proc, /sys, /dev/*)."""
    for point in mounts_under(path):
        subprocess.run(["umount", "--lazy", point], capture_output=True, check=False)
    if mounts_under(path):
        return  # leave it rather than delete through a live mount
    shutil.rmtree(path, ignore_errors=True)


def collect_debs(incoming: Path, deb_cache: Path) -> int:
    """Move newly downloaded .debs into the shared cache (atomic renames); returns how many were new."""
    added = 0
    for deb in sorted(incoming.glob("*.deb")):
        target = deb_cache / deb.name
        if target.exists():
            deb.unlink()
            continue
        os.replace(deb, target)
        added += 1
    return added


def build_rootfs(profile: Profile, *, workdir: Path, deb_cache: Path, epoch: int = 0,
                 compression: mt.Compression = "gzip", log: IO[str] | None = None) -> RootfsLayer:
    """Run mmdebstrap for `profile` and stream its rootfs into one compressed layer in `workdir`."""
    if profile.builder != "mmdebstrap":
        raise BaseBuildError(f"profile {profile.name} is not an mmdebstrap profile")
    deb_cache.mkdir(parents=True, exist_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="mmdebstrap-", dir=workdir))
    try:
        incoming = scratch / "incoming"
        incoming.mkdir()
        listing = scratch / "packages.txt"
        stderr_path = scratch / "stderr.log"
        cmd = mmdebstrap_command(profile, deb_cache, incoming, listing)
        cmd[0] = mmdebstrap_path()
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(build_epoch(epoch)), "TMPDIR": str(scratch),
               "LC_ALL": "C.UTF-8"}
        with open(stderr_path, "w+") as stderr:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, env=env)
            assert proc.stdout is not None
            source = proc.stdout

            def write(out: IO[bytes]) -> None:
                normalize_tar(source, out, epoch=epoch, exclude=ROOTFS_EXCLUDES)

            failure: BaseException | None = None
            try:
                layer = layer_from_writer(write, compression, workdir=workdir)
            except BaseException as exc:  # judged below, after mmdebstrap's exit status
                failure = exc
                proc.terminate()  # mmdebstrap unmounts and cleans up on SIGTERM
            finally:
                source.close()
                code = proc.wait()
            stderr.seek(0)
            tail = stderr.read()[-4000:]
        if log is not None:
            log.write(tail)
        if failure is not None and not isinstance(failure, Exception):
            raise failure  # Ctrl-C and friends win over mmdebstrap's reaction to them
        if code != 0:
            lines = [ln for ln in tail.splitlines() if ln.startswith("E:")] or tail.splitlines()[-3:]
            raise BaseBuildError(f"mmdebstrap failed for profile {profile.name} (exit {code}): "
                                 + " | ".join(lines[-3:]))
        if failure is not None:
            raise failure
        collect_debs(incoming, deb_cache)
        packages = tuple(sorted(ln.strip() for ln in listing.read_text().splitlines() if ln.strip())) \
            if listing.exists() else ()
    finally:
        remove_tree(scratch)
    return RootfsLayer(layer, packages, time.monotonic() - started)
