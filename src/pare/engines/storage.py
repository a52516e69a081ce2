"""Which containers/storage driver an engine's private storage uses, and how to remove that storage.

overlay is what Docker (overlay2) and every real CI runner use: a step's container is a mount, so a
RUN on a 1 GB base costs nothing extra. vfs copies the whole root filesystem for every step and
every container, which made warm builds of fat images as slow as cold ones (about 6 s per cached
step on a 750 MB base). pare uses overlay wherever the kernel lets it mount one in the storage's
own directory (root, and a filesystem overlay accepts as its upper layer), and vfs elsewhere.

The choice is pinned in the state directory on first use: containers/storage refuses to open a root
with a different driver than the one that created it. PARE_STORAGE_DRIVER=vfs|overlay overrides
the probe for a new state directory.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from pare.errors import UsageError

DRIVERS = ("overlay", "vfs")
PIN_FILE = "storage-driver"
ENV = "PARE_STORAGE_DRIVER"
_OCTAL = re.compile(r"\\([0-7]{3})")


def overlay_mountable(parent: Path) -> bool:
    """Can a kernel overlay be mounted with its upper and work directories under `parent`?"""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    parent.mkdir(parents=True, exist_ok=True)
    probe = Path(tempfile.mkdtemp(prefix=".overlay-probe-", dir=parent))
    try:
        for name in ("lower", "upper", "work", "merged"):
            (probe / name).mkdir()
        options = f"lowerdir={probe / 'lower'},upperdir={probe / 'upper'},workdir={probe / 'work'}"
        mounted = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(probe / "merged")],
                                 capture_output=True, check=False).returncode == 0
        if mounted:
            subprocess.run(["umount", str(probe / "merged")], capture_output=True, check=False)
        return mounted
    finally:
        shutil.rmtree(probe, ignore_errors=True)


def storage_driver(state_dir: Path) -> str:
    """The driver of the storage under `state_dir`: the pinned one (or the one that made an existing
    root), else PARE_STORAGE_DRIVER, else overlay if it mounts there, else vfs. Pinned on first use."""
    pin = state_dir / PIN_FILE
    if pin.is_file():
        return pin.read_text().strip()
    existing = [d for d in DRIVERS if (state_dir / "root" / f"{d}-images").is_dir()]
    wanted = os.environ.get(ENV, "").strip()
    if wanted and wanted not in DRIVERS:
        raise UsageError(f"{ENV}={wanted!r}: choose {' or '.join(DRIVERS)}")
    if existing:
        driver = existing[0]
    elif wanted:
        driver = wanted
    else:
        driver = "overlay" if overlay_mountable(state_dir) else "vfs"
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = pin.with_name(pin.name + ".tmp")
    tmp.write_text(driver + "\n")
    tmp.replace(pin)
    return driver


def mounts_under(path: Path, mountinfo: str | None = None) -> list[str]:
    """Mount points at or below `path`, deepest first (from /proc/self/mountinfo, or the given text)."""
    root = os.path.realpath(path)
    if mountinfo is None:
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text()
        except OSError:
            return []
    found = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        point = _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), fields[4])  # mountinfo writes " " as \040
        if point == root or point.startswith(root + os.sep):
            found.append(point)
    return sorted(found, key=len, reverse=True)


def remove_storage(path: Path) -> None:
    """Delete an engine's state directory, first unmounting whatever an interrupted build left
    mounted in it (rmtree through a live overlay would fail on busy mounts, or reach into layers)."""
    for point in mounts_under(path):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)
    shutil.rmtree(path, ignore_errors=True)
