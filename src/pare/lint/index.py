"""Prices from the Debian archive's signed package index, for `pare lint --index` (and --measure).

What `apt-get install` without --no-install-recommends costs depends on the packages it names: curl
recommends little, build-essential a lot. With the index of the suite the base is built on (pare's
private apt fetches it, checks it against Debian's keyring and keeps it for a day), the cost is the
installed size of what the named packages recommend, with everything that pulls in, beyond their
own dependency closure; what every Debian image already holds (the packages of priority required,
apt, and their dependencies: mmdebstrap's minbase, as Docker's images are built) is not counted.
Offline, or for a base that is not Debian, the typical figure stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from pare.bases.apt import Package, resolve
from pare.errors import PareError

ARCHITECTURE = "amd64"  # as the other estimates: the sizes registries list for amd64


@cache
def suite_packages(suite: str) -> dict[str, Package] | None:
    """The suite's index, or None when it cannot be had (no network, an unknown suite)."""
    from pare.native.platforms import ARCHES
    from pare.native.runtimes.debian import suite_index

    arch = next(a for a in ARCHES if a.debian == ARCHITECTURE)
    try:
        return suite_index(suite, arch)
    except PareError:
        return None


def recommends_bytes(index: dict[str, Package], names: Sequence[str]) -> int | None:
    """Installed bytes the recommends of `names` add to their dependency closure; None when none of
    the names is in the index (a variable, a package of another archive)."""
    known = [n for n in names if n in index]
    if not known:
        return None
    base = sorted(minbase(index))
    plain = {p.name for p in resolve(index, known, base)}
    full = resolve(index, known, base, recommends=True)
    return sum(p.installed_size for p in full if p.name not in plain)


def minbase(index: dict[str, Package]) -> set[str]:
    """The packages of a minimal Debian image: priority required, apt, and their dependencies."""
    roots = [p.name for p in index.values() if p.priority == "required"]
    return {p.name for p in resolve(index, [*roots, "apt"], ())}


def install_operands(argv: Sequence[str]) -> list[str]:
    """The package names of an `apt-get install` command line (version pins and archive suffixes
    dropped; options, variables and paths left out)."""
    words = list(argv[1:])
    if "install" not in words:
        return []
    names = []
    for word in words[words.index("install") + 1:]:
        if word.startswith(("-", "$", "/", ".")):
            continue
        names.append(word.split("=", 1)[0].split("/", 1)[0].split(":", 1)[0])
    return names
