"""The runtime layer of a native image, assembled from a sysroot (and files fetched beside it).

What every image gets, as distroless images have it: os-release and debian_version (scanners name
the distribution from them), the CA bundle, tzdata's zoneinfo, netbase's services and protocols,
/etc/passwd and /etc/group with root, nobody and nonroot (65532), nsswitch.conf, /tmp and
/home/nonroot. A language adds ELF programs (their closure is resolved inside the sysroot, never on
the host), data trees and files of its own. Every Debian package with a file in the layer gets its
status.d entry listing exactly the files kept, and its copyright file beside them.

The layer depends only on the sysroot and the language's runtime files, never on the app: every
app built from the same lock entries shares it byte for byte, so a node pulls it once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pare.bases.apt import parse_depends
from pare.bases.debs import GROUP, NSSWITCH, PASSWD
from pare.native.elf import closure
from pare.native.plan import NONROOT_UID, FileSet, LayerPlan
from pare.native.sysroot import CA_BUNDLE_PATH, Sysroot

FOUNDATION_FILES = ("/etc/os-release", "/etc/debian_version", "/etc/services", "/etc/protocols",
                    CA_BUNDLE_PATH)
FOUNDATION_TREES = ("/usr/share/zoneinfo",)
# tzdata's leap-second variants ("right/"): only read when TZ names them explicitly
FOUNDATION_EXCLUDES = ("right",)


@dataclass(frozen=True)
class RuntimeSpec:
    """What a language's runtime layer holds beyond the foundation.

    elf: programs whose ELF closure (loader and libraries, from the sysroot) is added;
    files / trees: sysroot paths added as they are (trees with `exclude` globs);
    extra: image path -> a file outside the sysroot (e.g. node from the npm registry), with its mode;
    host_trees: image directory -> a tree outside the sysroot that stands in for it (a compiled
    copy of a package's files: they still count as the package's, and are checked against it);
    links: image path -> symlink target."""

    elf: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    trees: tuple[tuple[str, tuple[str, ...]], ...] = ()
    extra: Mapping[str, tuple[Path, int]] = field(default_factory=dict)
    host_trees: Mapping[str, Path] = field(default_factory=dict)
    links: Mapping[str, str] = field(default_factory=dict)
    foundation: bool = True


def runtime_layer(sysroot: Sysroot, spec: RuntimeSpec, name: str = "runtime") -> LayerPlan:
    """The runtime layer: foundation, the spec's files, status.d entries and copyrights."""
    fs = FileSet(name, root=sysroot.root)
    if spec.foundation:
        for path in FOUNDATION_FILES:
            if sysroot.host(path).exists():
                fs.add_host_path(path)
        for tree in FOUNDATION_TREES:
            if sysroot.host(tree).is_dir():
                fs.add_tree(tree, sysroot.host(tree), exclude=FOUNDATION_EXCLUDES)
    for path in spec.files:
        fs.add_host_path(path)
    for tree, exclude in spec.trees:
        fs.add_tree(tree, sysroot.host(tree), exclude=exclude)
    for tree, host_dir in spec.host_trees.items():
        fs.add_tree(tree, host_dir)
    extra_elf = {image: host for image, (host, _mode) in spec.extra.items()}
    extra_elf.update(_tree_files(spec.host_trees))
    if spec.elf:
        found = closure(spec.elf, sysroot.root, extra_dirs=sysroot.library_dirs(), files=extra_elf)
        for path in found.files:
            if path not in extra_elf and path not in fs:
                fs.add_host_path(path)
    for image, (host, mode) in spec.extra.items():
        fs.add_file(image, host, mode)
    for image, target in spec.links.items():
        fs.add_symlink(image, target)
    users(fs)
    kept = ["/" + p for p in fs.paths()]
    sysroot.verify(fs.sources())
    for path in sysroot.copyright_files(kept):
        fs.add_host_path(path)
    for rel, data in sysroot.status_files(kept).items():
        fs.add_bytes(rel, data)
    fs.set_owners(sysroot.owners)
    return fs.freeze()


def add_package_files(fs: FileSet, sysroot: Sysroot, paths: Iterable[str], lower: LayerPlan) -> None:
    """Add sysroot files a higher layer needs (libraries a compiled wheel links) with their packages'
    status.d entries, rewritten to list what both layers keep (the lower layer's entry is shadowed)."""
    added = False
    for path in paths:
        if path.lstrip("/") not in {e.path for e in lower.entries} and path.lstrip("/") not in fs:
            fs.add_host_path(path)
            added = True
    if not added:
        return
    kept = kept_paths([lower]) | {"/" + p for p in fs.paths()}
    owners = sysroot.owners
    mine = {owners[p] for p in ("/" + q for q in fs.paths()) if p in owners}
    for rel, data in sysroot.status_files(kept).items():
        if rel.rsplit("/", 1)[-1].split(".md5sums")[0] in mine:
            fs.add_bytes(rel, data)
    for path in sysroot.copyright_files({"/" + p for p in fs.paths()}):
        if path.lstrip("/") not in {e.path for e in lower.entries}:
            fs.add_host_path(path)
    sysroot.verify(fs.sources())
    fs.set_owners(owners)


# What apt installs but an image never reads (copyright files stay: add_package_files keeps them).
SHIPPED_PACKAGE_EXCLUDES = ("/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/locale/",
                            "/usr/share/lintian/", "/usr/share/bug/", "/usr/share/doc-base/")


def package_closure(sysroot: Sysroot, names: Iterable[str]) -> list[str]:
    """`names` and every package of the sysroot they depend on (Depends, Pre-Depends), in order."""
    chosen: dict[str, None] = {}
    queue = [n for n in names if n in sysroot.packages]
    while queue:
        name = queue.pop(0)
        if name in chosen:
            continue
        chosen[name] = None
        for key in ("Depends", "Pre-Depends"):
            match = re.search(rf"^{key}:(.*(?:\n[ \t].*)*)", sysroot.packages[name].meta.control, re.M)
            for alternatives in parse_depends(match.group(1).replace("\n", " ")) if match else ():
                queue.extend(a for a in alternatives[:1] if a in sysroot.packages)
    return list(chosen)


def packages_layer(sysroot: Sysroot, names: Sequence[str], lower: LayerPlan) -> LayerPlan | None:
    """The files of the packages an app names (`packages`, its Aptfile) and of what they depend
    on, as apt would install them without documentation, with their status.d entries."""
    if not names:
        return None
    fs = FileSet("packages", root=sysroot.root)
    paths = [path for name in package_closure(sysroot, names) for path in sysroot.packages[name].files
             if not path.startswith(SHIPPED_PACKAGE_EXCLUDES)
             and (sysroot.host(path).is_file() or sysroot.host(path).is_symlink())]
    add_package_files(fs, sysroot, paths, lower)
    return fs.freeze() if fs.paths() else None


def _tree_files(trees: Mapping[str, Path]) -> dict[str, Path]:
    """Image path -> file, for the regular files of trees that stand in for sysroot directories."""
    found = {}
    for image_dir, host_dir in trees.items():
        for current, _dirs, files in os.walk(host_dir):
            for name in files:
                full = Path(current) / name
                found[f"{image_dir.rstrip('/')}/{full.relative_to(host_dir)}"] = full
    return found


def users(fs: FileSet, uid: int = NONROOT_UID) -> None:
    """passwd and group (root, nobody, nonroot), nsswitch.conf, /tmp, the home directories."""
    fs.add_bytes("etc/passwd", PASSWD.replace("65532", str(uid)).encode())
    fs.add_bytes("etc/group", GROUP.replace("65532", str(uid)).encode())
    fs.add_bytes("etc/nsswitch.conf", NSSWITCH.encode())
    fs.add_dir("home/nonroot", 0o700, uid, uid)
    fs.add_dir("root", 0o700)
    fs.add_dir("tmp", 0o1777)


def elf_files(tree: Path) -> list[str]:
    """Relative paths of the ELF shared objects under `tree` (compiled extension modules)."""
    from pare.native.elf import is_elf
    found = []
    for current, _dirs, files in os.walk(tree):
        for name in files:
            full = Path(current) / name
            if (name.endswith(".so") or ".so." in name or name.endswith(".node")) and not full.is_symlink() \
                    and is_elf(full):
                found.append(str(full.relative_to(tree)))
    return sorted(found)


def unloadable_addons(tree: Path, machine: str) -> list[str]:
    """Relative paths of native addons under `tree` that no process of the image can load: built
    for another OS (Mach-O, PE: prebuildify's darwin-*, win32-*), another machine, or musl's libc
    (bcrypt's prebuilds/linux-x64/bcrypt.musl.node beside its glibc build). Shipping them only adds
    bytes, and their NEEDED libraries exist in no Debian package."""
    from pare.native.elf import ElfError, is_elf, read_elf
    found = []
    for current, _dirs, files in os.walk(tree):
        for name in files:
            full = Path(current) / name
            if not name.endswith(".node") or full.is_symlink():
                continue
            rel = str(full.relative_to(tree))
            if not is_elf(full):
                found.append(rel)
                continue
            try:
                info = read_elf(full, rel)
            except ElfError:
                continue
            if info.machine != machine or any(n.startswith("libc.musl") for n in info.needed):
                found.append(rel)
    return sorted(found)


def kept_paths(layers: Iterable[LayerPlan]) -> set[str]:
    return {"/" + e.path for layer in layers for e in layer.entries}
