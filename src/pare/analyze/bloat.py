"""Bloat categories: files a runtime image rarely needs, matched by path.

Rules are path patterns a dive or `slim xray` user would recognise. A file can fall in more than one
category (a header under a compiler's directory), so category totals may overlap; each category
counts an inode once even when hard links give it several paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pare.analyze.tree import FileTree

_BIN_DIRS = ("bin", "sbin")


@dataclass(frozen=True)
class Category:
    name: str
    description: str
    prefixes: tuple[str, ...] = ()  # path prefixes (no leading slash), "*" matches one component
    components: tuple[str, ...] = ()  # any path component equal to one of these
    suffixes: tuple[str, ...] = ()
    binaries: re.Pattern[str] | None = None  # names of executables in a bin/ or sbin/ directory
    names: tuple[str, ...] = ()  # file names that count wherever they are


CATEGORIES: tuple[Category, ...] = (
    Category(
        "package-manager-cache",
        "package manager caches and package lists",
        prefixes=(
            "var/cache/apt/",
            "var/lib/apt/lists/",
            "var/cache/apk/",
            "var/cache/yum/",
            "var/cache/dnf/",
            "var/cache/debconf/templates.dat-old",
            "var/lib/dpkg/status-old",
            "var/lib/dpkg/available-old",
            "root/.cache/",
            "home/*/.cache/",
            "root/.npm/",
            "home/*/.npm/",
            "usr/local/share/.cache/",
            "root/go/pkg/mod/cache/",
            "go/pkg/mod/cache/",
            "root/.cargo/registry/cache/",
            "root/.gradle/caches/",
        ),
    ),
    Category(
        "docs",
        "documentation",
        prefixes=(
            "usr/share/doc/",
            "usr/local/share/doc/",
            "usr/share/info/",
            "usr/share/gtk-doc/",
            "usr/share/help/",
        ),
    ),
    Category(
        "man-pages", "manual pages", prefixes=("usr/share/man/", "usr/local/share/man/", "usr/local/man/")
    ),
    Category(
        "locales",
        "translations and locale data",
        prefixes=("usr/share/locale/", "usr/lib/locale/", "usr/share/i18n/", "usr/local/share/locale/"),
    ),
    Category(
        "headers-static-libs",
        "C headers and static libraries",
        prefixes=("usr/include/", "usr/local/include/"),
        suffixes=(".a", ".la"),
    ),
    Category(
        "compilers",
        "compilers and build toolchains",
        prefixes=(
            "usr/lib/gcc/",
            "usr/libexec/gcc/",
            "usr/lib/go-*/",
            "usr/share/go-*/",
            "usr/local/go/",
            "usr/lib/llvm-*/",
            "root/.rustup/",
            "usr/local/rustup/",
            "usr/lib/jvm/*/lib/ct.sym",
        ),
        binaries=re.compile(
            r"(?:[a-z0-9_]+-linux-gnu[a-z]*-)?(?:gcc|g\+\+|c\+\+|cc|cc1|cc1plus|cpp|clang|clang\+\+|rustc|cargo"
            r"|javac|go|gofmt|ld|ld\.bfd|ld\.gold|as|make|cmake|tcc)(?:-[\d.]+)?"
        ),
    ),
    Category(
        "shells",
        "shells in the final image",
        binaries=re.compile(r"sh|bash|dash|ash|zsh|ksh|mksh|fish|csh|tcsh|busybox|rbash"),
        names=("busybox",),
    ),
    Category(
        "package-managers",
        "package managers in the final image",
        prefixes=(
            "usr/lib/apt/",
            "usr/lib/dpkg/",
            "var/lib/dpkg/",
            "usr/lib/node_modules/npm/",
            "usr/local/lib/node_modules/npm/",
            "usr/lib/python3/dist-packages/pip/",
            "usr/local/lib/python3.*/site-packages/pip/",
            "usr/lib/python3.*/site-packages/pip/",
        ),
        binaries=re.compile(
            r"apt|apt-get|apt-cache|apt-key|dpkg|dpkg-deb|dpkg-query|apk|yum|dnf|microdnf"
            r"|rpm|pip|pip3|pip3\.\d+|npm|npx|yarn|pnpm|gem|conda|easy_install"
        ),
    ),
    Category(
        "tests",
        "test suites shipped with packages",
        components=("test", "tests", "__tests__"),
        suffixes=("_test.go",),
    ),
    Category("pycache", "Python bytecode caches", components=("__pycache__",), suffixes=(".pyc", ".pyo")),
    Category("git", "git metadata", components=(".git",)),
    Category(
        "source-maps",
        "JavaScript and CSS source maps",
        suffixes=(".js.map", ".mjs.map", ".cjs.map", ".css.map", ".ts.map"),
    ),
    Category("temp-files", "files left in temp directories", prefixes=("tmp/", "var/tmp/")),
)
NAMES = tuple(c.name for c in CATEGORIES)


def _prefix_regex(prefixes: Iterable[str]) -> re.Pattern[str] | None:
    parts = [re.escape(p).replace(r"\*", "[^/]*") for p in prefixes]
    return re.compile("(?:" + "|".join(parts) + ")") if parts else None


_PREFIX_RE = {c.name: _prefix_regex(c.prefixes) for c in CATEGORIES}


def categorize(path: str) -> tuple[str, ...]:
    """The categories a final-image path (relative, no leading slash) falls in."""
    parts = path.split("/")
    name = parts[-1]
    in_bin = len(parts) >= 2 and parts[-2] in _BIN_DIRS
    out = []
    for cat in CATEGORIES:
        regex = _PREFIX_RE[cat.name]
        if (
            (regex is not None and regex.match(path))
            or (cat.components and any(c in cat.components for c in parts[:-1]))
            or (cat.suffixes and name.endswith(cat.suffixes))
            or (cat.binaries is not None and in_bin and cat.binaries.fullmatch(name))
            or name in cat.names
        ):
            out.append(cat.name)
    return tuple(out)


@dataclass(frozen=True)
class CategoryReport:
    name: str
    description: str
    bytes: int
    files: int
    paths: tuple[tuple[str, int], ...]  # (path, bytes), biggest first

    def to_dict(self, limit: int | None = None) -> dict[str, object]:
        paths = self.paths if not limit else self.paths[:limit]
        return {
            "description": self.description,
            "bytes": self.bytes,
            "files": self.files,
            "paths": [{"path": "/" + p, "bytes": b} for p, b in paths],
        }


def bloat(tree: FileTree) -> dict[str, CategoryReport]:
    """Every category with at least one file in the final tree."""
    found: dict[str, list[tuple[str, int]]] = {}
    counted: dict[str, set[int]] = {}
    size_of: dict[str, int] = {}
    for path, node in tree.walk():
        if node.kind == "dir":
            continue
        cats = categorize(path)
        if not cats:
            continue
        size = node.size
        for cat in cats:
            seen = counted.setdefault(cat, set())
            first = node.inode is None or id(node.inode) not in seen
            if node.inode is not None:
                seen.add(id(node.inode))
            found.setdefault(cat, []).append((path, size if first else 0))
            size_of[cat] = size_of.get(cat, 0) + (size if first else 0)
    by_name = {c.name: c for c in CATEGORIES}
    out = {}
    for cat in NAMES:
        if cat in found:
            paths = sorted(found[cat], key=lambda pb: (-pb[1], pb[0]))
            out[cat] = CategoryReport(cat, by_name[cat].description, size_of[cat], len(paths), tuple(paths))
    return out
