"""ELF dependency closure: every file the dynamic loader opens to start a program.

A dynamically linked runtime (node, python) only runs in a scratch image if the image holds its
loader (PT_INTERP), every DT_NEEDED library found the way ld.so finds it (DT_RPATH when there is
no DT_RUNPATH, then DT_RUNPATH, then the ld.so.conf directories and the defaults, with $ORIGIN
expanded), and every symlink on the way to each of those files. pyelftools reads the headers;
nothing is executed, so this works on a sysroot of another machine too.
"""

from __future__ import annotations

import glob
import os
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

from pare.errors import PareError

ELF_MAGIC = b"\x7fELF"
DEFAULT_DIRS = ("/lib", "/usr/lib")
MAX_LINKS = 40


class ElfError(PareError):
    """A file that should be ELF is not, is truncated, or needs a library that cannot be found."""


@dataclass(frozen=True)
class ElfInfo:
    """What the loader reads from one ELF file's program headers and dynamic section."""

    path: str
    elfclass: int
    machine: str
    interpreter: str | None
    needed: tuple[str, ...]
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]
    soname: str | None


@dataclass(frozen=True)
class Closure:
    """Paths (absolute, as the loader opens them) of the roots, their loader and their libraries."""

    files: tuple[str, ...]
    missing: tuple[tuple[str, str], ...]  # (needing file, soname) pairs that resolved nowhere


def host_path(root: Path, path: str) -> Path:
    """`path` (absolute in the image) on the machine, under sysroot `root`."""
    return root / path.lstrip("/")


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == ELF_MAGIC
    except OSError:
        return False


def read_elf(path: Path, name: str | None = None) -> ElfInfo:
    """Parse the headers the loader uses; ElfError for anything that is not a sound ELF file."""
    try:
        with open(path, "rb") as fh:
            elf = ELFFile(fh)
            interpreter = None
            segments: Iterable[Any] = elf.iter_segments()  # pyelftools' stubs lack the subclasses
            for segment in segments:
                if segment["p_type"] == "PT_INTERP":
                    interpreter = segment.get_interp_name()
            needed: list[str] = []
            rpath: list[str] = []
            runpath: list[str] = []
            soname = None
            for section in elf.iter_sections():
                if not isinstance(section, DynamicSection):
                    continue
                tags: Iterable[Any] = section.iter_tags()
                for tag in tags:
                    kind = tag.entry.d_tag
                    if kind == "DT_NEEDED":
                        needed.append(tag.needed)
                    elif kind == "DT_RPATH":
                        rpath.extend(p for p in tag.rpath.split(":") if p)
                    elif kind == "DT_RUNPATH":
                        runpath.extend(p for p in tag.runpath.split(":") if p)
                    elif kind == "DT_SONAME":
                        soname = tag.soname
            return ElfInfo(name or str(path), elf.elfclass, str(elf["e_machine"]), interpreter,
                           tuple(needed), tuple(rpath), tuple(runpath), soname)
    except (ELFError, ValueError, KeyError, AssertionError, UnicodeDecodeError) as exc:
        # pyelftools raises several kinds of errors on malformed input; all mean "not a usable ELF"
        raise ElfError(f"{name or path}: not a valid ELF file ({exc})") from None
    except OSError as exc:
        raise ElfError(f"{name or path}: cannot read: {exc.strerror or exc}") from None


def ld_so_conf_dirs(root: Path, conf: str = "/etc/ld.so.conf") -> list[str]:
    """The directories ld.so.conf (and its `include` globs) lists, in order; missing files are fine."""
    dirs: list[str] = []
    seen: set[str] = set()

    def read(path: str, depth: int) -> None:
        if depth > 8 or path in seen:
            return
        seen.add(path)
        try:
            text = host_path(root, path).read_text(errors="replace")
        except OSError:
            return
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("include "):
                pattern = line.split(None, 1)[1].strip()
                if not pattern.startswith("/"):
                    pattern = posixpath.join(posixpath.dirname(path), pattern)
                for found in sorted(glob.glob(str(host_path(root, pattern)))):
                    read("/" + os.path.relpath(found, root).replace(os.sep, "/"), depth + 1)
            elif line.startswith("/"):
                dirs.append(posixpath.normpath(line))

    read(conf, 0)
    return dirs


def expand_origin(entry: str, origin: str) -> str:
    for token in ("$ORIGIN", "${ORIGIN}"):
        entry = entry.replace(token, origin)
    for token in ("$LIB", "${LIB}"):
        entry = entry.replace(token, "lib64")
    return entry


class Resolver:
    """Finds libraries the way glibc's ld.so does, inside a sysroot (default: this machine)."""

    def __init__(self, root: Path = Path("/"), extra_dirs: Sequence[str] = (),
                 files: Mapping[str, Path] | None = None) -> None:
        self.root = Path(root)
        self.system_dirs = [*extra_dirs, *ld_so_conf_dirs(self.root), *DEFAULT_DIRS]
        self.files = dict(files or {})  # image paths served from outside the sysroot
        self._by_host = {os.path.realpath(host): path for path, host in self.files.items()}
        self._cache: dict[str, ElfInfo] = {}

    def host(self, path: str) -> Path:
        return self.files.get(path) or host_path(self.root, path)

    def info(self, path: str) -> ElfInfo:
        if path not in self._cache:
            self._cache[path] = read_elf(self.host(path), path)
        return self._cache[path]

    def find(self, soname: str, needer: ElfInfo, exe: ElfInfo | None) -> str | None:
        """Absolute path of `soname` for `needer`, or None."""
        if "/" in soname:
            return soname if self.host(soname).is_file() else None
        origin = posixpath.dirname(needer.path)
        dirs: list[str] = []
        if not needer.runpath:
            dirs += [expand_origin(d, origin) for d in needer.rpath]
            if exe is not None and exe is not needer and not exe.runpath:
                dirs += [expand_origin(d, posixpath.dirname(exe.path)) for d in exe.rpath]
        dirs += [expand_origin(d, origin) for d in needer.runpath]
        dirs += self.system_dirs
        for directory in dirs:
            candidate = self._through_links(posixpath.normpath(posixpath.join(directory, soname)), needer)
            host = self.host(candidate)
            if not host.is_file():
                continue
            try:
                info = self.info(candidate)
            except ElfError:
                continue
            # ld.so skips libraries of another class or machine (32-bit libs in a shared dir)
            if info.elfclass == needer.elfclass and info.machine == needer.machine:
                return candidate
        return None

    def _through_links(self, candidate: str, needer: ElfInfo) -> str:
        """A path beside `needer` that reaches one of `files` through a symlinked directory of the
        app's own tree (pnpm links sibling packages, such as sharp's libvips, into .pnpm): the path
        `files` names that file by, so the closure sees it as the one already in the layer."""
        if candidate in self.files or needer.path not in self.files:
            return candidate
        beside = posixpath.relpath(candidate, posixpath.dirname(needer.path))
        real = os.path.realpath(self.files[needer.path].parent / beside)
        return self._by_host.get(real, candidate)

    def closure(self, roots: Iterable[str]) -> Closure:
        """Roots (absolute paths of ELF files) plus their loaders and libraries, breadth first."""
        files: list[str] = []
        seen: set[str] = set()
        missing: list[tuple[str, str]] = []
        queue: list[tuple[str, ElfInfo | None]] = [(r, None) for r in roots]
        while queue:
            path, exe = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            files.append(path)
            info = self.info(path)
            top = exe or info
            if info.interpreter and info.interpreter not in seen:
                if not self.host(info.interpreter).exists():
                    missing.append((path, info.interpreter))
                else:
                    queue.append((info.interpreter, top))
            for soname in info.needed:
                found = self.find(soname, info, top)
                if found is None:
                    missing.append((path, soname))
                elif found not in seen:
                    queue.append((found, top))
        return Closure(tuple(files), tuple(missing))


def closure(roots: Iterable[str], root: Path = Path("/"), extra_dirs: Sequence[str] = (),
            strict: bool = True, files: Mapping[str, Path] | None = None) -> Closure:
    """The ELF closure of `roots` inside sysroot `root` (`files`: image paths that live elsewhere);
    with strict, a library that resolves nowhere is an ElfError."""
    result = Resolver(root, extra_dirs, files).closure(roots)
    if strict and result.missing:
        needer, soname = result.missing[0]
        raise ElfError(f"{needer} needs {soname}, which was not found in {root}")
    return result


def resolve_path(path: str, root: Path = Path("/")) -> tuple[list[tuple[str, str]], str]:
    """Follow `path` component by component inside `root`.

    Returns the symlinks met on the way as (link path, target as written) and the final real path;
    copying exactly those symlinks and that file makes `path` resolve the same way in an image.
    """
    links: list[tuple[str, str]] = []
    pending = [p for p in path.split("/") if p]
    current = "/"
    hops = 0
    while pending:
        part = pending.pop(0)
        if part == ".":
            continue
        if part == "..":
            current = posixpath.dirname(current.rstrip("/")) or "/"
            continue
        candidate = posixpath.join(current, part)
        host = host_path(root, candidate)
        if host.is_symlink():
            hops += 1
            if hops > MAX_LINKS:
                raise ElfError(f"{path}: too many levels of symbolic links")
            target = os.readlink(host)
            links.append((candidate, target))
            if target.startswith("/"):
                current = "/"
            pending = [p for p in target.split("/") if p] + pending
            continue
        current = candidate
    return links, current
