"""Go: a static binary (CGO off, trimmed paths, no symbols, no VCS stamp) on an empty base."""

from __future__ import annotations

import re
from pathlib import Path

from pare.native.plan import BuildPlan, FileSet, RuntimeConfig
from pare.recipes.base import DEFAULT_PORT, DockerFacts, Recipe, require_tool, run_tool, runtime_files

# Flags that make the binary static and reproducible: same source, same toolchain, same bytes.
GO_BUILD_FLAGS = ("-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=")
GO_ENV = {"CGO_ENABLED": "0", "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOWORK": "off"}


def binary_name(app_dir: Path) -> str:
    """The last element of the module path (what `go build` names the binary)."""
    mod = app_dir / "go.mod"
    if mod.is_file():
        found = re.search(r"^module\s+(\S+)", mod.read_text(errors="replace"), re.M)
        if found:
            return found.group(1).strip('"').rstrip("/").rsplit("/", 1)[-1]
    return app_dir.name


class GoRecipe(Recipe):
    name = "go"

    @classmethod
    def matches(cls, app_dir: Path) -> bool:
        return (app_dir / "go.mod").is_file() or any(app_dir.glob("*.go"))

    @property
    def binary(self) -> str:
        return binary_name(self.app_dir)

    def compile(self, out: Path) -> Path:
        go = require_tool("go")
        target = out / self.binary
        env = dict(GO_ENV)
        if (self.app_dir / "go.sum").is_file():
            env.pop("GOPROXY")  # modules with dependencies need the proxy (or a vendor dir)
        run_tool([go, "build", *GO_BUILD_FLAGS, "-o", str(target), "."], cwd=self.app_dir, env=env,
                 what="go build")
        return target

    def native_plan(self, workdir: Path) -> BuildPlan:
        binary = self.compile(workdir)
        runtime = FileSet("runtime")
        runtime_files(runtime)
        app = FileSet("app")
        app.add_file(f"app/{self.binary}", binary, 0o755)
        config = RuntimeConfig(entrypoint=(f"/app/{self.binary}",), env=(("PORT", DEFAULT_PORT),),
                               exposed_ports=(f"{DEFAULT_PORT}/tcp",), workdir="/app")
        return BuildPlan(self.app_name, self.name, (runtime.freeze(), app.freeze()), config)

    def docker_facts(self) -> DockerFacts:
        deps = tuple(n for n in ("go.mod", "go.sum") if (self.app_dir / n).is_file())
        return DockerFacts("go", deps, self.binary)
