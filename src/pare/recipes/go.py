"""Go: a static binary (CGO off, trimmed paths, no symbols, no VCS stamp) on the Debian foundation.

The toolchain is the one go.mod asks for (pare.native.runtimes.go: the host's go when it is new
enough, else Debian's golang-1.N-go); GOOS/GOARCH come from the target platform, as ko sets them.
vendor/ is honoured and no module proxy is ever asked; go.mod is never rewritten.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pare.native.cache import cache_root
from pare.native.lock import Artifact, Lock
from pare.native.plan import BuildPlan, FileSet, RuntimeConfig
from pare.native.platforms import Arch
from pare.native.process import run_tool
from pare.native.rootfs import RuntimeSpec, runtime_layer
from pare.native.runtimes import go as go_runtime
from pare.native.runtimes.go import GoToolchain
from pare.native.sysroot import ensure_sysroot
from pare.recipes.base import DEFAULT_PORT, DockerFacts, Recipe

# Flags that make the binary static and reproducible: same source, same toolchain, same bytes.
GO_BUILD_FLAGS = ("-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=")


def binary_name(app_dir: Path) -> str:
    """The last element of the module path (what `go build` names the binary)."""
    mod = app_dir / "go.mod"
    if mod.is_file():
        found = re.search(r"^module\s+(\S+)", mod.read_text(errors="replace"), re.M)
        if found:
            return found.group(1).strip('"').rstrip("/").rsplit("/", 1)[-1]
    return app_dir.name


def go_env(arch: Arch, app_dir: Path, gocache: Path) -> dict[str, str]:
    """A build environment that reads nothing of the user's Go setup and reaches no network."""
    vendored = (app_dir / "vendor" / "modules.txt").is_file()
    env = {"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": arch.go, "GOTOOLCHAIN": "local",
           "GOFLAGS": "-mod=vendor" if vendored else "-mod=mod", "GOWORK": "off", "GOENV": "off",
           "GOCACHE": str(gocache), "GOPATH": str(gocache / "gopath"), "HOME": str(gocache)}
    if vendored or not (app_dir / "go.sum").is_file():
        env["GOPROXY"] = "off"  # nothing to download: never ask a module proxy
    return env


class GoRecipe(Recipe):
    name = "go"

    @classmethod
    def matches(cls, app_dir: Path) -> bool:
        return (app_dir / "go.mod").is_file() or any(app_dir.glob("*.go"))

    @property
    def binary(self) -> str:
        return binary_name(self.app_dir)

    def requested_version(self) -> str | None:
        return go_runtime.required_version(self.app_dir)

    def resolve(self, arches: Sequence[Arch]) -> list[Artifact]:
        request = self.request()
        return go_runtime.resolve(request.version, request.suite, arches)

    def compile(self, out: Path, lock: Lock, arch: Arch, cache: bool = True) -> Path:
        toolchain = GoToolchain.from_lock(lock)
        target = out / self.binary
        with tempfile.TemporaryDirectory(prefix="pare-gocache-") as scratch:
            gocache = cache_root() / "go-build" if cache else Path(scratch)
            run_tool([toolchain.go, "build", *GO_BUILD_FLAGS, "-o", str(target), "."], cwd=self.app_dir,
                     env=go_env(arch, self.app_dir, gocache), what="go build")
        return target

    def native_plan(self, workdir: Path, lock: Lock, arch: Arch, *, cache: bool = True) -> BuildPlan:
        binary = self.compile(workdir / arch.debian, lock, arch, cache)
        sysroot = ensure_sysroot(lock.select(kind="deb", role="runtime", platform=arch.name), arch)
        app = FileSet("app")
        app.add_file(f"app/{self.binary}", binary, 0o755)
        config = RuntimeConfig(entrypoint=(f"/app/{self.binary}",), env=(("PORT", DEFAULT_PORT),),
                               exposed_ports=(f"{DEFAULT_PORT}/tcp",), workdir="/app")
        layers = (runtime_layer(sysroot, RuntimeSpec()), app.freeze())
        return BuildPlan(self.app_name, self.name, layers, config, platform=arch.platform)

    def docker_facts(self) -> DockerFacts:
        deps = tuple(n for n in ("go.mod", "go.sum") if (self.app_dir / n).is_file())
        return DockerFacts("go", deps, self.binary)
