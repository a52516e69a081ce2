"""A static site: the files under /www served by busybox's httpd, nothing else.

busybox comes from Debian's busybox-static package of the lock's suite (statically linked, about
1 MB); its `sh -c` reads PORT when the container starts (the one image whose start uses a shell:
busybox's own applet costs no bytes, where execline's launcher would add glibc); catatonit is PID 1.
Settings apply as for every recipe (--cmd replaces httpd; --workdir moves the site). Native path
only: the engine bases carry no httpd.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pare.errors import UsageError
from pare.native.lock import Artifact, Lock
from pare.native.plan import BuildPlan, FileSet
from pare.native.platforms import Arch
from pare.native.rootfs import RuntimeSpec, runtime_layer
from pare.native.runtimes.debian import resolve_debs
from pare.native.sysroot import ensure_sysroot
from pare.recipes.base import DockerFacts, Recipe, add_app_files
from pare.recipes.command import StartCommand

STATIC_PACKAGES = ("base-files", "busybox-static", "catatonit")
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
        launch = self.launch(self.start(), ())
        spec = RuntimeSpec(files=(BUSYBOX, "/etc/os-release"), foundation=False)
        site = FileSet("app")
        add_app_files(site, self.image_dir, self.app_dir, self.files)
        layers = (runtime_layer(sysroot, self.contract_spec(spec, launch)), site.freeze())
        config = self.runtime_config(launch, {})
        return BuildPlan(self.app_name, self.name, layers, config, platform=arch.platform)

    @property
    def workdir(self) -> str:
        return self.settings.workdir or "/www"

    def start(self) -> StartCommand | None:
        if self.settings.entrypoint is not None:
            return None
        if self.settings.cmd is not None:
            argv, env = self.exec_form(self.settings.cmd, "--cmd")
            return StartCommand(argv, env, "--cmd")
        # busybox's sh reads PORT when the container starts, so a platform's PORT is honoured
        serve = f'exec {BUSYBOX} httpd -f -v -p "${{PORT:-{self.port}}}" -h {self.workdir}'
        return StartCommand((BUSYBOX, "sh", "-c", serve), (), "httpd")

    def docker_facts(self) -> DockerFacts:
        raise UsageError("static sites are built natively only (pare build without --engine/--strategy)")
