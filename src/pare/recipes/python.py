"""Python: the locked interpreter (Debian's python3.X) with its pruned, compiled standard library,
then the app's dependencies (installed by that interpreter with the locked pip), then the app.

Three layers so a code change re-pushes only the last: runtime (shared by every app on the same
lock entries), deps (site-packages with .pyc files, cached by the requirements' hash), app.
"""

from __future__ import annotations

import re
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path

from pare.errors import UsageError
from pare.native.cache import cache_root, cached_dir, content_key
from pare.native.elf import closure
from pare.native.lock import Artifact, Lock
from pare.native.plan import BuildPlan, FileSet, RuntimeConfig
from pare.native.platforms import Arch
from pare.native.rootfs import add_package_files, elf_files, runtime_layer
from pare.native.runtimes import python as python_runtime
from pare.native.runtimes.python import PATH_ENV, PythonRuntime
from pare.recipes.base import DEFAULT_PORT, DockerFacts, Recipe, RuntimeRequest, app_layer

MAIN_CANDIDATES = ("app.py", "main.py", "server.py", "wsgi.py", "__main__.py")


def main_module(app_dir: Path) -> str:
    for name in MAIN_CANDIDATES:
        if (app_dir / name).is_file():
            return name
    raise UsageError(f"{app_dir}: no {', '.join(MAIN_CANDIDATES)} to run")


def requested_python(app_dir: Path) -> str | None:
    """The Python the app asks for: .python-version, runtime.txt, pyproject's requires-python."""
    for name in (".python-version", "runtime.txt"):
        path = app_dir / name
        if path.is_file():
            first = next((ln.strip() for ln in path.read_text(errors="replace").splitlines()
                          if ln.strip() and not ln.startswith("#")), "")
            if re.fullmatch(r"(python-?)?\d+\.\d+(\.\d+)?", first):
                return first.removeprefix("python-").removeprefix("python")
    pyproject = app_dir / "pyproject.toml"
    if pyproject.is_file():
        try:
            wanted = tomllib.loads(pyproject.read_text()).get("project", {}).get("requires-python")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, AttributeError):
            wanted = None
        if isinstance(wanted, str) and wanted.strip():
            return wanted.strip()
    return None


class PythonRecipe(Recipe):
    name = "python"

    @classmethod
    def matches(cls, app_dir: Path) -> bool:
        return any((app_dir / n).is_file() for n in ("requirements.txt", "pyproject.toml", *MAIN_CANDIDATES))

    def requested_version(self) -> str | None:
        return requested_python(self.app_dir)

    def request(self) -> RuntimeRequest:
        # the suite follows the version asked for unless one is named
        return RuntimeRequest(self.name, self.runtime_override or self.requested_version(),
                              self.suite_override or "auto")

    def resolve(self, arches: Sequence[Arch]) -> list[Artifact]:
        return python_runtime.resolve(self.request().version, self.suite_override, arches)

    def install_deps(self, rt: PythonRuntime, workdir: Path, cache: bool = True) -> Path | None:
        """site-packages from requirements.txt, installed and compiled by the locked interpreter."""
        req = self.app_dir / "requirements.txt"
        if not req.is_file():
            return None
        interpreter = next(a.digest for a in rt.lock.select(kind="deb") if a.name == f"python{rt.minor}")
        key = content_key(req.read_bytes(), interpreter, rt.pip_wheel.name, rt.arch.name)

        def populate(tmp: Path) -> None:
            with tempfile.TemporaryDirectory(prefix="pare-pip-") as scratch:
                pip_cache = cache_root() / "pip-cache" if cache else Path(scratch)
                rt.pip_install(req, tmp / "site", pip_cache=pip_cache)
            rt.compile(tmp / "site", rt.site)

        if not cache:  # made afresh in the build's scratch space (what --verify compares)
            fresh = workdir / "pip"
            fresh.mkdir(parents=True)
            populate(fresh)
            return fresh / "site"
        return cached_dir("pip", key, populate) / "site"

    def native_plan(self, workdir: Path, lock: Lock, arch: Arch, *, cache: bool = True) -> BuildPlan:
        script = main_module(self.app_dir)
        rt = PythonRuntime(lock, arch)
        runtime = runtime_layer(rt.sysroot, rt.layer_spec())
        layers = [runtime]
        site = self.install_deps(rt, workdir, cache)
        if site is not None:
            deps = FileSet("deps", root=rt.sysroot.root)
            deps.add_tree(rt.site, site)
            extensions = {f"{rt.site}/{rel}": site / rel for rel in elf_files(site)}
            needed = closure(extensions, rt.sysroot.root, extra_dirs=rt.sysroot.library_dirs(),
                             files=extensions)
            # libraries a compiled wheel needs beyond the interpreter's, with their packages' records
            add_package_files(deps, rt.sysroot, [p for p in needed.files if p not in extensions], runtime)
            layers.append(deps.freeze())
        layers.append(app_layer(self.app_dir))
        env = (("PATH", PATH_ENV), ("PYTHONUNBUFFERED", "1"), ("PYTHONDONTWRITEBYTECODE", "1"),
               ("PORT", DEFAULT_PORT))
        config = RuntimeConfig(entrypoint=(rt.interpreter, f"/app/{script}"), env=env, workdir="/app",
                               exposed_ports=(f"{DEFAULT_PORT}/tcp",))
        return BuildPlan(self.app_name, self.name, tuple(layers), config, platform=arch.platform)

    def docker_facts(self) -> DockerFacts:
        deps = ("requirements.txt",) if (self.app_dir / "requirements.txt").is_file() else ()
        return DockerFacts("python", deps, main_module(self.app_dir))
