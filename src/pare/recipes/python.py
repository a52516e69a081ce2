"""Python: the interpreter's ELF closure and a pruned stdlib, then site-packages, then the app.

The interpreter is the system one (/usr/bin/python3: its stdlib lives in one directory and its
extension modules link against system libraries the closure finds). Dependencies are installed
with that same interpreter (`pip install --target`, so wheels match its ABI), cached by the
requirements file's hash, and placed in its site directory so no PYTHONPATH is needed.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
from pathlib import Path

from pare.errors import ToolMissing, UsageError
from pare.native.elf import closure, is_elf
from pare.native.plan import BuildPlan, FileSet, RuntimeConfig
from pare.recipes.base import (
    DEFAULT_PORT,
    DockerFacts,
    Recipe,
    app_layer,
    cached_dir,
    content_key,
    run_tool,
    runtime_files,
)

SYSTEM_PYTHON = "/usr/bin/python3"
PATH_ENV = "/usr/local/bin:/usr/bin:/bin"
CA_ENV = "/etc/ssl/certs/ca-certificates.crt"
# Interpreter modules (lib-dynload) never needed by a server: tests, curses, tk, readline.
PY_DYNLOAD_DROP = ("_test*", "xxlimited*", "_xxtestfuzz*", "_ctypes_test*", "_curses*", "readline*",
                   "nis*", "ossaudiodev*", "_dbm*", "_tkinter*", "_xxsubinterpreters*")
PY_STDLIB_DROP = ("test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data",
                  "config-3*", "__pycache__", "site-packages", "dist-packages", "sitecustomize.py")

MAIN_CANDIDATES = ("app.py", "main.py", "server.py", "wsgi.py", "__main__.py")

_PROBE = ("import json, site, sys, sysconfig; print(json.dumps({'version': sys.version, "
          "'stdlib': sysconfig.get_paths()['stdlib'], 'site': site.getsitepackages()[0], "
          "'executable': sys.executable}))")


def main_module(app_dir: Path) -> str:
    for name in MAIN_CANDIDATES:
        if (app_dir / name).is_file():
            return name
    raise UsageError(f"{app_dir}: no {', '.join(MAIN_CANDIDATES)} to run")


class PythonRecipe(Recipe):
    name = "python"
    interpreter = SYSTEM_PYTHON

    @classmethod
    def matches(cls, app_dir: Path) -> bool:
        return any((app_dir / n).is_file() for n in ("requirements.txt", "pyproject.toml", *MAIN_CANDIDATES))

    def probe(self) -> dict[str, str]:
        if not os.access(self.interpreter, os.X_OK):
            raise ToolMissing(f"{self.interpreter} is not installed (the system Python the image ships)")
        info: dict[str, str] = json.loads(run_tool([self.interpreter, "-I", "-c", _PROBE]))
        return info

    def install_deps(self, info: dict[str, str]) -> Path | None:
        req = self.app_dir / "requirements.txt"
        if not req.is_file():
            return None
        key = content_key(req.read_bytes(), info["version"])

        def populate(tmp: Path) -> None:
            run_tool([self.interpreter, "-m", "pip", "install", "--quiet", "--no-compile",
                      "--no-cache-dir", "--disable-pip-version-check", "--no-warn-script-location",
                      "--target", str(tmp / "site"), "-r", str(req)],
                     env={"PIP_CERT": CA_ENV, "PIP_BREAK_SYSTEM_PACKAGES": "1"},
                     what="pip install")
            shutil.rmtree(tmp / "site" / "bin", ignore_errors=True)  # scripts point at the host's python
            for record in glob.glob(str(tmp / "site" / "*.dist-info" / "RECORD")):
                os.unlink(record)  # lists paths and hashes of scripts we removed; pip never needs it to run

        return cached_dir("pip", key, populate) / "site"

    def native_plan(self, workdir: Path) -> BuildPlan:
        script = main_module(self.app_dir)
        info = self.probe()
        stdlib = info["stdlib"]
        runtime = FileSet("runtime")
        runtime_files(runtime)
        real = runtime.add_host_path(self.interpreter)
        runtime.add_tree(stdlib, Path(stdlib), exclude=(*PY_STDLIB_DROP, "*.pyc", "EXTERNALLY-MANAGED",
                                                        *(f"lib-dynload/{p}" for p in PY_DYNLOAD_DROP)))
        dynload = stdlib.lstrip("/") + "/lib-dynload/"
        roots = [real, *("/" + p for p in runtime.paths() if p.startswith(dynload) and p.endswith(".so"))]
        site = self.install_deps(info)
        deps = FileSet("deps")
        if site is not None:
            deps.add_tree(info["site"], site, exclude=("__pycache__", "*.pyc"))
            roots += [str(site / p) for p in _elf_files(site)]  # compiled wheels: their libraries too
        for path in closure(roots).files:
            if site is None or not path.startswith(str(site) + "/"):
                runtime.add_host_path(path)
        layers = []
        layers.append(runtime.freeze())
        if site is not None:
            layers.append(deps.freeze())
        layers.append(app_layer(self.app_dir))
        env = (("PATH", PATH_ENV), ("PYTHONUNBUFFERED", "1"), ("PYTHONDONTWRITEBYTECODE", "1"),
               ("PORT", DEFAULT_PORT))
        config = RuntimeConfig(entrypoint=(self.interpreter, f"/app/{script}"), env=env, workdir="/app",
                               exposed_ports=(f"{DEFAULT_PORT}/tcp",))
        return BuildPlan(self.app_name, self.name, tuple(layers), config)

    def docker_facts(self) -> DockerFacts:
        deps = ("requirements.txt",) if (self.app_dir / "requirements.txt").is_file() else ()
        return DockerFacts("python", deps, main_module(self.app_dir))


def _elf_files(tree: Path) -> list[str]:
    """Relative paths of the ELF files (extension modules) under `tree`."""
    found = []
    for current, _dirs, files in os.walk(tree):
        for name in files:
            full = Path(current) / name
            if (name.endswith(".so") or ".so." in name) and not full.is_symlink() and is_elf(full):
                found.append(str(full.relative_to(tree)))
    return sorted(found)
