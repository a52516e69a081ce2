"""System packages an app's compiled code needs, found from what it links or fails to build without.

A wheel's extension module links `libstdc++.so.6`; a psycopg2 sdist stops at "pg_config executable
not found"; a mysqlclient sdist cannot find `mysqlclient` through pkg-config. Each names a file, and
a Debian package of the image's suite ships it: the manylinux policy (PEP 600's list of libraries
a wheel may link without bundling them) answers the common sonames without any index, the suite's
Contents index (pare.native.contents) answers the rest. Libraries are runtime packages (they ship,
with status.d); what only a build reads (headers, pg_config, .pc files: the -dev packages) goes
into the build sysroot and never into the image.

A recipe that finds such a need raises NeedPackages; the builder resolves the names, adds them to
pare.lock and plans again (the dependency install is cached, so the second plan costs little).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pare.errors import PareError, UsageError

# PEP 600 / PEP 599's manylinux2014 policy: the libraries every manylinux wheel may link from the
# system, with the Debian package that ships each (the same name in bookworm, trixie and forky).
MANYLINUX_LIBRARIES = {
    "libgcc_s.so.1": "libgcc-s1", "libstdc++.so.6": "libstdc++6", "libm.so.6": "libc6",
    "libdl.so.2": "libc6", "librt.so.1": "libc6", "libc.so.6": "libc6", "libpthread.so.0": "libc6",
    "libutil.so.1": "libc6", "libnsl.so.1": "libc6", "libcrypt.so.1": "libcrypt1",
    "libz.so.1": "zlib1g", "libexpat.so.1": "libexpat1", "libX11.so.6": "libx11-6",
    "libXext.so.6": "libxext6", "libXrender.so.1": "libxrender1", "libICE.so.6": "libice6",
    "libSM.so.6": "libsm6", "libGL.so.1": "libgl1", "libgobject-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0", "libglib-2.0.so.0": "libglib2.0-0",
}
SETTING_HINT = "name it in `packages` (pare.toml, [tool.pare]) or with --package NAME"
# What the build machine's own compiler brings: never unpacked into a build sysroot (its headers
# and crt files must match that compiler, not the suite's).
HOST_TOOLCHAIN = ("libc6-dev", "linux-libc-dev", "libcrypt-dev", "libnsl-dev", "rpcsvc-proto",
                  "libtirpc-dev", "gcc", "cpp", "g++", "binutils", "pkg-config", "pkgconf", "pkgconf-bin")

# A build failure's words -> the -dev package that would have prevented it.
KNOWN_FAILURES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"pg_config executable not found|pg_config is required to build psycopg2"), "libpq-dev"),
    (re.compile(r"m(?:ysql|ariadb)_config (?:executable )?not found|"
                r"Can not find valid pkg-config name"), "default-libmysqlclient-dev"),
    (re.compile(r"xml2-config not found|Please make sure the libxml2 and libxslt"), "libxslt1-dev"),
    (re.compile(r"ffi\.h: No such file"), "libffi-dev"),
)
_MISSING_HEADER = re.compile(r"fatal error: ([A-Za-z0-9_+./-]+\.h[hp]*): No such file or directory")
_MISSING_PC = re.compile(r"Package '?([A-Za-z0-9_+.-]+)'?(?:, required by '[^'\n]*')?,? (?:was )?not found")


class MissingSystemPackage(UsageError):
    """A library or header the build needs that no package of the suite (or the lock) provides."""


@dataclass(frozen=True)
class Needs:
    """What a build found missing: sonames an ELF file links (runtime), and build-time needs (the
    -dev packages named by a known failure, headers, pkg-config modules)."""

    libraries: tuple[tuple[str, str], ...] = ()  # (needing file, soname)
    build_packages: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    pkgconfig: tuple[str, ...] = ()
    failure: str = ""  # the build's own one-line error, when a build failed

    def __bool__(self) -> bool:
        return bool(self.libraries or self.build_packages or self.headers or self.pkgconfig)


class NeedPackages(PareError):
    """Raised by a recipe's plan: the lock lacks Debian packages for `needs` (the builder adds them)."""

    def __init__(self, needs: Needs, arch_name: str) -> None:
        self.needs = needs
        self.arch_name = arch_name
        super().__init__(describe(needs))


def describe(needs: Needs) -> str:
    parts = [f"{who} needs {soname}" for who, soname in needs.libraries[:3]]
    parts += [f"the build needs {name}" for name in (*needs.build_packages, *needs.headers, *needs.pkgconfig)]
    return "; ".join(parts) or needs.failure


def build_needs(output: str) -> Needs:
    """What a failed build's output says it lacked (empty Needs: nothing pare knows how to supply)."""
    packages = tuple(dict.fromkeys(pkg for pattern, pkg in KNOWN_FAILURES if pattern.search(output)))
    headers = tuple(dict.fromkeys(_MISSING_HEADER.findall(output)))
    modules = tuple(dict.fromkeys(m for m in _MISSING_PC.findall(output) if m not in ("pkg-config",)))
    return Needs(build_packages=packages, headers=headers, pkgconfig=modules)


@dataclass
class Resolution:
    """Debian package names for a Needs, split by where they go."""

    runtime: list[str] = field(default_factory=list)
    build: list[str] = field(default_factory=list)


class Finder:
    """Names the package for a soname, header or pkg-config module (policy first, then Contents)."""

    def __init__(self, suite: str, index_names: Iterable[str], contents: object = None,
                 library_dirs: Sequence[str] = ()) -> None:
        self.suite = suite
        self.known = set(index_names)
        self._contents = contents
        self.library_dirs = tuple(library_dirs)

    def contents(self):  # type: ignore[no-untyped-def]
        if callable(self._contents):
            self._contents = self._contents()
        return self._contents

    def _pick(self, found: Sequence[str]) -> str | None:
        return next((name for name in found if name in self.known), None)

    def library(self, soname: str) -> str | None:
        policy = MANYLINUX_LIBRARIES.get(soname)
        if policy in self.known:
            return policy
        return self._pick(self.contents().by_name(soname, self.library_dirs))

    def header(self, name: str) -> str | None:
        return self._pick(self.contents().header(name))

    def module(self, name: str) -> str | None:
        return self._pick(self.contents().pkgconfig(name))

    def resolve(self, needs: Needs) -> Resolution:
        """Package names for every need; MissingSystemPackage (one line naming the setting) for the
        first one no package of the suite answers."""
        found = Resolution()
        for who, soname in needs.libraries:
            name = self.library(soname)
            if name is None:
                raise MissingSystemPackage(f"{who} needs {soname}, which no Debian {self.suite} package "
                                           f"ships: {SETTING_HINT}")
            found.runtime.append(name)
        for pkg in needs.build_packages:
            if pkg not in self.known:
                raise MissingSystemPackage(f"the build needs {pkg}, which Debian {self.suite} does not "
                                           f"have: {SETTING_HINT}")
            found.build.append(pkg)
        for kind, names, lookup in (("header", needs.headers, self.header),
                                    ("pkg-config module", needs.pkgconfig, self.module)):
            for item in names:
                name = lookup(item)
                if name is None:
                    raise MissingSystemPackage(f"the build needs the {kind} {item}, which no Debian "
                                               f"{self.suite} package ships ({needs.failure[:200]}): "
                                               f"{SETTING_HINT}")
                found.build.append(name)
        found.runtime = list(dict.fromkeys(found.runtime))
        found.build = list(dict.fromkeys(found.build))
        return found


def read_aptfile(text: str, source: str = "Aptfile") -> tuple[str, ...]:
    """Package names from a Heroku Aptfile: one per line, `#` comments; .deb URLs and `:repo:`
    lines (other archives) are refused, since every package must come from the suite's index."""
    names: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(":repo:") or "://" in line or line.endswith(".deb"):
            raise UsageError(f"{source}:{number}: {line!r}: only package names of the image's Debian suite "
                             "are supported (no .deb URLs or other archives)")
        for word in line.split():
            check_package_name(word, f"{source}:{number}")
            names.append(word)
    return tuple(dict.fromkeys(names))


def check_package_name(name: str, where: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", name):
        raise UsageError(f"{where}: {name!r} is not a Debian package name")
    return name
