"""A static site: the files under /www served by busybox's httpd, nothing else.

busybox comes from Debian's busybox-static package of the lock's suite (statically linked, about
1 MB); `sh -c` is only there to read PORT. Native path only: the engine bases carry no httpd.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pare.errors import UsageError
from pare.native.lock import Artifact, Lock
from pare.native.plan import BuildPlan, FileSet, RuntimeConfig
from pare.native.platforms import Arch
from pare.native.rootfs import RuntimeSpec, runtime_layer
from pare.native.runtimes.debian import resolve_debs
from pare.native.sysroot import ensure_sysroot
from pare.recipes.base import APP_EXCLUDES, DEFAULT_PORT, DockerFacts, Recipe, read_ignore

STATIC_PACKAGES = ("base-files", "busybox-static")
BUSYBOX = "/usr/bin/busybox"


class StaticRecipe(Recipe):
    name = "static"

    @classmethod
    def matches(cls, app_dir: Path) -> bool:
        return (app_dir / "index.html").is_file()

    def resolve(self, arches: Sequence[Arch]) -> list[Artifact]:
        suite = self.request().suite
        return [a for arch in arches for a in resolve_debs(suite, arch, STATIC_PACKAGES)]

    def native_plan(self, workdir: Path, lock: Lock, arch: Arch, *, cache: bool = True) -> BuildPlan:
        sysroot = ensure_sysroot(lock.select(kind="deb", role="runtime", platform=arch.name), arch)
        spec = RuntimeSpec(files=(BUSYBOX, "/etc/os-release"), foundation=False)
        site = FileSet("app")
        site.add_tree("www", self.app_dir, exclude=(*APP_EXCLUDES, *read_ignore(self.app_dir)))
        serve = f'exec {BUSYBOX} httpd -f -v -p "${{PORT:-{DEFAULT_PORT}}}" -h /www'
        config = RuntimeConfig(entrypoint=(BUSYBOX, "sh", "-c", serve), env=(("PORT", DEFAULT_PORT),),
                               workdir="/www", exposed_ports=(f"{DEFAULT_PORT}/tcp",))
        layers = (runtime_layer(sysroot, spec), site.freeze())
        return BuildPlan(self.app_name, self.name, layers, config, platform=arch.platform)

    def docker_facts(self) -> DockerFacts:
        raise UsageError("static sites are built natively only (pare build without --engine/--strategy)")
