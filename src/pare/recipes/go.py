"""Go: a static binary (CGO off, trimmed paths, no symbols, no VCS stamp) on the Debian foundation.

The toolchain is the one go.mod asks for (pare.native.runtimes.go: the host's go when it is new
enough, else Debian's golang-1.N-go); GOOS/GOARCH come from the target platform, as ko sets them.
The program is the main package at the module root, else the only one under cmd/, else `--main`
(pare.recipes.go_project). vendor/ is honoured (and checked first: an incomplete one is one clear
line, not a compiler error) and no module proxy is ever asked; go.mod is never rewritten.

The app's other files (templates, static assets, index.html...) ship beside the binary in its
working directory, as Google's and Heroku's Go buildpacks keep the app directory: servers that
read files relative to their working directory find them. Go sources, modules, vendor/, testdata,
other modules and build files are left out, and so is whatever .dockerignore excludes.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path

from pare.errors import UsageError
from pare.native.cache import cache_root
from pare.native.lock import Artifact, Lock
from pare.native.plan import BuildPlan, FileSet
from pare.native.platforms import Arch
from pare.native.process import run_tool
from pare.native.rootfs import RuntimeSpec, runtime_layer
from pare.native.runtimes import go as go_runtime
from pare.native.runtimes.go import GoToolchain
from pare.native.sysroot import ensure_sysroot
from pare.recipes.base import DockerFacts, Recipe, add_app_files, app_files, copy_app_files
from pare.recipes.command import StartCommand
from pare.recipes.go_project import GoMod, main_package, read_go_mod, require_vendor
from pare.recipes.go_proxy import check_module_source, go_settings
from pare.recipes.start import declared_start

# Flags that make the binary static and reproducible: same source, same toolchain, same bytes.
GO_BUILD_FLAGS = ("-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=")
# Never shipped beside the binary: what only builds it.
GO_IGNORES = ("**/*.go", "go.mod", "go.sum", "go.work", "go.work.sum", "vendor", "**/testdata", ".git*",
              ".dockerignore", ".pareignore", "Dockerfile", "**/*.Dockerfile", "**/*.dockerfile",
              "Makefile", "pare.toml")
_SKIP_WALK = {"vendor", "testdata", ".git", "node_modules"}


# The module path given to an app that has no go.mod (binary_name still names the binary after the
# app's directory, as `go build` would in GOPATH mode)
MODULE_LESS_PATH = "app"


def binary_name(app_dir: Path, package: str = ".") -> str:
    """What `go build` names the binary: the package directory's name, or for the module root the
    last element of the module path (before a /vN major-version suffix)."""
    if package not in (".", "./"):
        return Path(package).name
    mod = app_dir / "go.mod"
    if mod.is_file():
        found = re.search(r"^module\s+(\S+)", mod.read_text(errors="replace"), re.M)
        if found:
            parts = found.group(1).strip('"').rstrip("/").split("/")
            if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
                parts.pop()
            return parts[-1]
    return app_dir.name


def go_env(arch: Arch, app_dir: Path, gocache: Path, user: Mapping[str, str] | None = None) -> dict[str, str]:
    """A build environment that reads nothing of the user's Go setup but where modules come from
    (GOPROXY and its kin, GOFLAGS: `user`, default the process environment), that asks no
    module source when there is nothing to download, and that never rewrites go.mod or go.sum
    (-mod=vendor or -mod=readonly: go.mod is the app's lock, so a build that would need to change
    it fails and says so, as `go build` does in CI)."""
    vendored = (app_dir / "vendor" / "modules.txt").is_file()
    chosen = go_settings(os.environ if user is None else user)
    flags = chosen.pop("GOFLAGS", "")
    mod_flag = "" if "-mod=" in flags else "-mod=vendor" if vendored else "-mod=readonly"
    env = {"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": arch.go, "GOTOOLCHAIN": "local",
           "GOFLAGS": " ".join(f for f in (mod_flag, flags) if f), "GOWORK": "off", "GOENV": "off",
           "GOCACHE": str(gocache), "GOPATH": str(gocache / "gopath"), "GOMODCACHE": str(modcache(gocache)),
           "HOME": str(gocache), **chosen}
    if vendored or not (app_dir / "go.sum").is_file():
        env["GOPROXY"] = "off"  # nothing to download: never ask a module proxy
    return env


def modcache(gocache: Path) -> Path:
    """Where the build keeps downloaded modules (under its GOPATH)."""
    return gocache / "gopath" / "pkg" / "mod"


def nested_modules(app_dir: Path) -> list[str]:
    """Directories below the root with a go.mod of their own: other modules, never this build's."""
    found = []
    for current, dirs, files in os.walk(app_dir):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_WALK)
        if "go.mod" in files and Path(current) != app_dir:
            found.append(Path(current).relative_to(app_dir).as_posix())
    return found


class GoRecipe(Recipe):
    name = "go"

    @classmethod
    def matches(cls, app_dir: Path) -> bool:
        return (app_dir / "go.mod").is_file() or any(app_dir.glob("*.go"))

    @cached_property
    def go_mod(self) -> GoMod | None:
        return read_go_mod(self.app_dir)

    @cached_property
    def package(self) -> str:
        """The main package to build: `.` or `./cmd/NAME`."""
        return main_package(self.app_dir, self.settings.main)

    @property
    def binary(self) -> str:
        return binary_name(self.app_dir, self.package)

    @property
    def binary_path(self) -> str:
        return f"{self.workdir.rstrip('/')}/{self.binary}"

    def extra_ignores(self) -> tuple[str, ...]:
        return (*GO_IGNORES, *nested_modules(self.app_dir))

    def beside(self) -> list[str]:
        """The app's files shipped beside the binary (an entry named like the binary gives way);
        directories that held only Go sources are left out too."""
        rels = [r for r in self.files if r != self.binary and not r.startswith(self.binary + "/")]
        holding = {"/".join(r.split("/")[:i]) for r in rels if not (self.app_dir / r).is_dir()
                   for i in range(1, r.count("/") + 1)}
        return [r for r in rels if not (self.app_dir / r).is_dir() or r in holding
                or not any((self.app_dir / r).iterdir())]

    def requested_version(self) -> str | None:
        return go_runtime.required_version(self.app_dir)

    def resolve(self, arches: Sequence[Arch]) -> list[Artifact]:
        request = self.request()
        return go_runtime.resolve(request.version, request.suite, arches)

    def check(self) -> None:
        self.start_or_none(self.start)  # finds the main package (or names --main)
        self.check_vendor()

    def check_vendor(self) -> None:
        """vendor/, when there is one, must be complete; without one, the modules go.mod requires
        must be in the module cache or come from a source GOPROXY names that answers."""
        if self.go_mod is None:
            return
        if (self.app_dir / "vendor").is_dir():
            require_vendor(self.app_dir, self.go_mod)
        elif self.go_mod.requires and (self.app_dir / "go.sum").is_file():
            check_module_source(self.app_dir, self.go_mod, go_settings(os.environ),
                                modcache(cache_root() / "go-build"))

    def compile(self, out: Path, lock: Lock, arch: Arch, cache: bool = True) -> Path:
        self.check_vendor()
        toolchain = GoToolchain.from_lock(lock)
        target = out / self.binary
        with tempfile.TemporaryDirectory(prefix="pare-gocache-") as scratch:
            gocache = cache_root() / "go-build" if cache else Path(scratch)
            source = self.app_dir if self.go_mod is not None else self.as_module(Path(scratch), toolchain)
            env = go_env(arch, source, gocache)
            # the app's tree is read-only to go build: go.mod and go.sum are never rewritten
            run_tool([toolchain.go, "build", *GO_BUILD_FLAGS, "-o", str(target), self.package],
                     cwd=source, env=env, what="go build", readable=(source,),
                     writable=(out, gocache), network=env.get("GOPROXY") != "off")
        return target

    def as_module(self, scratch: Path, toolchain: GoToolchain) -> Path:
        """A copy of an app with Go files and no go.mod (written before modules, or for GOPATH),
        made a module as `go mod init` would, as Paketo's Go buildpack builds it: standard library
        only, since nothing names the versions of anything else."""
        copy = scratch / "module"
        copy_app_files(self.app_dir, app_files(self.app_dir), copy)
        major_minor = ".".join(toolchain.version.removeprefix("go").split(".")[:2])
        (copy / "go.mod").write_text(f"module {MODULE_LESS_PATH}\n\ngo {major_minor}\n")
        return copy

    def start(self) -> StartCommand:
        """--cmd, else a declared start command (pare.recipes.start), else the binary; a command that
        names the binary (`server`, `./server`, `bin/server`, a Dockerfile's `/app/server`) runs it.
        A hint (startup script, Dockerfile) that runs something else the image lacks is passed over."""
        value: str | tuple[str, ...]
        if self.settings.cmd is not None:
            value, source, binding = self.settings.cmd, "--cmd", True
        else:
            declared = declared_start(self.app_dir)
            if declared is None:
                return StartCommand((self.binary_path,), (), "the binary")
            value, source, binding = declared.line, declared.source, declared.binding
        try:
            argv, env = self.exec_form(value, source)
        except UsageError:
            if binding:
                raise
            return StartCommand((self.binary_path,), (), "the binary")
        names_binary = Path(argv[0]).name == self.binary
        if names_binary and (not argv[0].startswith("/") or not binding):
            argv = (self.binary_path, *argv[1:])
        elif not binding and not (self.app_dir / argv[0]).is_file():
            return StartCommand((self.binary_path,), (), "the binary")
        return StartCommand(argv, env, source)

    def native_plan(self, workdir: Path, lock: Lock, arch: Arch, *, cache: bool = True) -> BuildPlan:
        launch = self.launch(self.start_or_none(self.start), ())
        binary = self.compile(workdir / arch.debian, lock, arch, cache)
        sysroot = ensure_sysroot(lock.select(kind="deb", role="runtime", platform=arch.name), arch)
        app = FileSet("app")
        add_app_files(app, self.image_dir, self.app_dir, self.beside())
        app.add_file(f"{self.image_dir}/{self.binary}", binary, 0o755)
        layers = (runtime_layer(sysroot, self.contract_spec(RuntimeSpec(), launch)), app.freeze())
        return BuildPlan(self.app_name, self.name, layers, self.runtime_config(launch, {}),
                         platform=arch.platform)

    def docker_facts(self) -> DockerFacts:
        launch = self.launch(self.start_or_none(self.start), ())
        deps = tuple(n for n in ("go.mod", "go.sum") if (self.app_dir / n).is_file())
        if self.go_mod is not None and self.go_mod.requires and not (self.app_dir / "vendor").is_dir() \
                and "go.sum" not in deps:
            raise UsageError(f"{self.app_dir}: go.mod requires modules but there is no go.sum")
        self.check_vendor()
        top = sorted({r.split("/", 1)[0] for r in self.beside()})
        vendored = (self.app_dir / "vendor" / "modules.txt").is_file()
        install = ("go mod download",) if "go.sum" in deps and not vendored else ()
        if self.go_mod is None:  # made a module in the build stage, as compile() does natively
            install = (f"go mod init {MODULE_LESS_PATH}",)
        return self.facts("go", deps, self.binary, launch, install=install, main_package=self.package,
                          files=tuple(top))

