"""System packages beyond the runtime's own: the ones an app names (`packages`, an Aptfile), and the
ones its compiled dependencies turn out to need (pare.native.syslibs), pinned in pare.lock like
the runtime.

Named packages and the libraries compiled code links are runtime artifacts: their files ship, with
status.d. The -dev packages an sdist's build reads are toolchain artifacts of this machine's
architecture: they are unpacked into the build sysroot only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from pare.native.contents import contents_index
from pare.native.lock import Artifact, Lock
from pare.native.platforms import Arch, arch_for, host_arch
from pare.native.runtimes.debian import resolve_debs, suite_index
from pare.native.runtimes.tools import suite_of
from pare.native.syslibs import HOST_TOOLCHAIN, Finder, MissingSystemPackage, NeedPackages, describe

T = TypeVar("T")
MAX_ROUNDS = 6  # build packages one failing sdist at a time, then the libraries: rarely more


def resolve(artifacts: Sequence[Artifact], names: Sequence[str], arches: Sequence[Arch]) -> list[Artifact]:
    """The named packages and their dependencies for every target, as runtime artifacts (what the
    runtime already pins is kept as it is)."""
    if not names:
        return []
    suite = suite_of(artifacts)
    found: list[Artifact] = []
    for arch in arches:
        present = {a.name for a in artifacts if a.kind == "deb" and a.platform in (arch.name, "all")}
        found += resolve_debs(suite, arch, names, exclude=tuple(present))
    return found


def build_artifacts(lock: Lock) -> tuple[Artifact, ...]:
    """What a build sysroot of this machine holds beyond the runtime: every toolchain .deb."""
    return lock.select(kind="deb", role="toolchain", platform=host_arch().name)


def with_needs(lock: Lock, error: NeedPackages) -> Lock:
    """`lock` plus the packages that answer `error.needs`; MissingSystemPackage when none does, or
    when the lock already has them (then the package does not ship what was asked for)."""
    arch = arch_for(error.arch_name)
    suite = suite_of(lock.artifacts)
    index = suite_index(suite, arch)
    finder = Finder(suite, index, lambda: contents_index(suite, arch),
                    [f"/usr/lib/{arch.triplet}", f"/lib/{arch.triplet}", "/usr/lib", "/lib"])
    wanted = finder.resolve(error.needs)
    runtime = {a.name for a in lock.select(kind="deb", role="runtime", platform=arch.name)}
    host = host_arch()
    in_build = runtime | {a.name for a in build_artifacts(lock)}
    new_runtime = [n for n in wanted.runtime if n not in runtime]
    new_build = [n for n in wanted.build if n not in in_build]
    if not new_runtime and not new_build:
        raise MissingSystemPackage(f"{describe(error.needs)}, but the Debian {suite} packages that should "
                                   f"provide it ({', '.join(wanted.runtime + wanted.build)}) are already in "
                                   "pare.lock: name the right one in `packages` (pare.toml, [tool.pare]) "
                                   "or with --package NAME")
    added: list[Artifact] = []
    if new_runtime:
        added += resolve_debs(suite, arch, new_runtime, exclude=tuple(runtime))
    if new_build:
        added += resolve_debs(suite, host, new_build, role="toolchain",
                              exclude=(*in_build, *HOST_TOOLCHAIN))
    return Lock.new(dict(lock.request), (*lock.artifacts, *added))


def plan_until_complete(plan: Callable[[Lock], T], lock: Lock, save: Callable[[Lock], object]
                           ) -> tuple[T, Lock]:
    """`plan(lock)`, adding to the lock (and saving it) the packages each NeedPackages asks for."""
    for _ in range(MAX_ROUNDS):
        try:
            return plan(lock), lock
        except NeedPackages as error:
            lock = with_needs(lock, error)
            save(lock)
    return plan(lock), lock
