"""A static site: the files under /www served by a statically linked busybox httpd, nothing else.

busybox-static is the one file the image adds besides the site (about 1 MB); `sh -c` is only
there to read PORT. Native path only: the engine bases carry no httpd.
"""

from __future__ import annotations

import os
from pathlib import Path

from pare.errors import ToolMissing, UsageError
from pare.native.elf import read_elf
from pare.native.plan import BuildPlan, FileSet, RuntimeConfig
from pare.recipes.base import (
    APP_EXCLUDES,
    DEFAULT_PORT,
    DockerFacts,
    Recipe,
    read_ignore,
    runtime_files,
)

BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")


def static_busybox() -> Path:
    for candidate in BUSYBOX_CANDIDATES:
        if os.path.isfile(candidate):
            real = Path(os.path.realpath(candidate))
            if read_elf(real).interpreter is None:
                return real
    raise ToolMissing("a statically linked busybox is needed to serve a static site "
                      "(apt install busybox-static)")


class StaticRecipe(Recipe):
    name = "static"

    @classmethod
    def matches(cls, app_dir: Path) -> bool:
        return (app_dir / "index.html").is_file()

    def native_plan(self, workdir: Path) -> BuildPlan:
        runtime = FileSet("runtime")
        runtime_files(runtime)
        runtime.add_file("bin/busybox", static_busybox(), 0o755)
        site = FileSet("app")
        site.add_tree("www", self.app_dir, exclude=(*APP_EXCLUDES, *read_ignore(self.app_dir)))
        serve = f'exec /bin/busybox httpd -f -v -p "${{PORT:-{DEFAULT_PORT}}}" -h /www'
        config = RuntimeConfig(entrypoint=("/bin/busybox", "sh", "-c", serve), env=(("PORT", DEFAULT_PORT),),
                               workdir="/www", exposed_ports=(f"{DEFAULT_PORT}/tcp",))
        return BuildPlan(self.app_name, self.name, (runtime.freeze(), site.freeze()), config)

    def docker_facts(self) -> DockerFacts:
        raise UsageError("static sites are built natively only (pare build without --engine/--strategy)")
