"""The environment a source build (an sdist's C extension) compiles in: the build machine's
compiler, the build sysroot's headers and libraries.

The -dev packages an sdist needs (libpq-dev for psycopg2, default-libmysqlclient-dev for
mysqlclient, the interpreter's own headers) are unpacked into the build sysroot, never onto the
machine and never into the image. gcc finds their headers and libraries through CPATH and
LIBRARY_PATH, pkg-config through PKG_CONFIG_LIBDIR with its sysroot prefix, and the `*-config`
programs such builds call (pg_config, mariadb_config) through small shims that run the sysroot's
program with its loader and print its /usr paths inside the sysroot.
"""

from __future__ import annotations

import os
import shlex
import tempfile
from pathlib import Path

from pare.native.cache import cache_root
from pare.native.elf import is_elf
from pare.native.sysroot import Sysroot

SHIMS_FORMAT = "3"  # bump when the shims change
CONFIG_PROGRAMS = ("pg_config", "mysql_config", "mariadb_config", "xml2-config", "xslt-config",
                   "pcre-config", "freetype-config", "curl-config", "icu-config", "krb5-config")
# Looked for on PATH by well-known sdists (psycopg2, mysqlclient): when the sysroot lacks one, a shim
# that fails stands in, so a copy on the build machine never decides what a build links against.
HIDDEN_WHEN_MISSING = ("pg_config", "mysql_config", "mariadb_config")
# prefix every /usr/ path the program prints (at a line's start, after a space, '=' or -I/-L)
_SED = r"s#\(^\|[[:space:]=]\|-I\|-L\)/usr/#\1{root}/usr/#g"


def script_interpreter(program: Path) -> tuple[str, ...]:
    """The interpreter a script's #! line names, as a command for this machine's PATH
    (`#!/usr/bin/perl -w` -> ('perl', '-w'); `#!/usr/bin/env python3` -> ('python3',))."""
    with open(program, "rb") as fh:
        first = fh.readline(256)
    words = first[2:].decode("utf-8", "replace").split() if first.startswith(b"#!") else []
    if words and words[0].endswith("/env"):
        words = words[1:]
    return (os.path.basename(words[0]), *words[1:]) if words else ("sh",)


def config_shims(sysroot: Sysroot) -> Path:
    """A directory of shims for the sysroot's *-config programs, written once in the cache's
    config-shims/ (outside the sysroot's entry, whose manifest must not change, as the wrappers)."""
    home = cache_root() / "config-shims" / f"{sysroot.root.parent.name}-{SHIMS_FORMAT}"
    if home.is_dir():
        return home
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".config-shims-", dir=home.parent))
    libs = ":".join(str(sysroot.host(d)) for d in sysroot.library_dirs())
    root = str(sysroot.root)
    for name in CONFIG_PROGRAMS:
        program = sysroot.host(f"/usr/bin/{name}")
        shim = staging / name
        if not program.is_file():
            if name in HIDDEN_WHEN_MISSING:  # never the build machine's own: say it is missing
                shim.write_text(f"#!/bin/sh\necho '{name} executable not found (pare: the build sysroot "
                                f"has no {name})' >&2\nexit 127\n")
                os.chmod(shim, 0o755)
            continue
        loader = shlex.quote(str(sysroot.host(sysroot.arch.loader)))
        if is_elf(program):
            run = f"{loader} --library-path {shlex.quote(libs)} {shlex.quote(str(program))}"
        else:  # a script (Debian's pg_config is Perl): its interpreter from this machine's PATH
            run = " ".join(shlex.quote(w) for w in (*script_interpreter(program), str(program)))
        text = (f"#!/bin/sh\n# the build sysroot's {name}, printing paths inside it (written by pare)\n"
                f'out=$({run} "$@") || exit $?\n'
                f"printf '%s\\n' \"$out\" | sed -e {shlex.quote(_SED.format(root=root))}\n")
        shim.write_text(text)
        os.chmod(shim, 0o755)
    try:
        os.rename(staging, home)
    except OSError:  # another build wrote the same shims first
        for leftover in staging.iterdir():
            leftover.unlink()
        staging.rmdir()
    return home


def build_env(sysroot: Sysroot) -> dict[str, str]:
    """Environment variables that point the machine's gcc, ld and pkg-config into `sysroot`."""
    t = sysroot.arch.triplet
    include = [sysroot.host("/usr/include"), sysroot.host(f"/usr/include/{t}")]
    libdirs = [sysroot.host(f"/usr/lib/{t}"), sysroot.host("/usr/lib")]
    pkgconfig = [sysroot.host(f"/usr/lib/{t}/pkgconfig"), sysroot.host("/usr/lib/pkgconfig"),
                 sysroot.host("/usr/share/pkgconfig")]
    return {
        "PATH": f"{config_shims(sysroot)}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "CPATH": ":".join(str(p) for p in include),
        "LIBRARY_PATH": ":".join(str(p) for p in libdirs),
        "LDFLAGS": " ".join(f"-Wl,-rpath-link,{p}" for p in libdirs),
        "PKG_CONFIG_SYSROOT_DIR": str(sysroot.root),
        "PKG_CONFIG_LIBDIR": ":".join(str(p) for p in pkgconfig),
        "PKG_CONFIG_PATH": "",
    }
