"""Python: the locked interpreter (Debian's python3.X) with its pruned, compiled standard library,
then the app's dependencies (installed by that interpreter with the locked pip), then the app.

What an app is comes from pare.recipes.python_project: its dependencies (requirements.txt,
Pipfile.lock, poetry.lock, uv.lock or PEP 621, as pinned pip lines), the Python it asks for, and
what to start (--cmd, the Procfile's web:, Django under gunicorn, an ASGI app under uvicorn, a
WSGI app under gunicorn, else app.py...). A src/ layout is put on PYTHONPATH rather than installed,
so the app's code stays in the app layer. A Django project whose settings set STATIC_ROOT (with
the app's --env) gets `collectstatic` at build time, as Heroku runs it.

Three layers so a code change re-pushes only the last: runtime (shared by every app on the same
lock entries), deps (site-packages with .pyc files, cached by the requirements' hash), app.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from pare.errors import UsageError
from pare.native.cache import cache_root, cached_dir, content_key
from pare.native.lock import Artifact, Lock
from pare.native.plan import BuildPlan, FileSet, LayerPlan
from pare.native.platforms import Arch
from pare.native.rootfs import elf_files, packages_layer, runtime_layer
from pare.native.runtimes import pypi
from pare.native.runtimes import python as python_runtime
from pare.native.runtimes.python import PATH_ENV, PythonRuntime
from pare.native.runtimes.system import plan_until_complete
from pare.recipes import pip_lock
from pare.recipes.base import (
    DockerFacts,
    Recipe,
    RuntimeRequest,
    add_app_files,
    add_library_closure,
    copy_app_files,
    shell_quote,
    tree_digest_parts,
)
from pare.recipes.command import StartCommand
from pare.recipes.python_project import (
    MAIN_FILES,
    PYTHON,
    Dependencies,
    DjangoProject,
    dependencies,
    django_project,
    local_inputs,
    python_request,
    start_command,
)

log = logging.getLogger(__name__)
STATIC_FORMAT = "1"
DEPS_FORMAT = "4"  # bump when what install_deps makes of the same requirements changes
# Before Python 3.12 every virtualenv had setuptools, and old releases of popular packages
# (gunicorn 20, for one) import pkg_resources without declaring it; pare adds it for them, at the
# newest release that still ships pkg_resources.
PKG_RESOURCES = "setuptools==80.9.0"
# PyPI's sha256 of that release's wheel and sdist: the native path installs it with --require-hashes
PKG_RESOURCES_HASHES = ("sha256:062d34222ad13e0cc312a4c02d73f059e86a4acbfbdea8f8f76b28c99f306922",
                        "sha256:f36b47402ecde768dbfafc46e8e4207b4360c654f1f3bb84475f0a28628fb19c")
_PKG_RESOURCES_IMPORT = re.compile(rb"^\s*(?:import|from)\s+pkg_resources\b", re.M)
# Run in a copy of the app (one line, so a Dockerfile RUN step can hold it too): Django's own settings
# decide whether there is anything to collect (STATIC_ROOT may depend on the environment, as in
# Render's and Heroku's examples); collectstatic writes into the copy. Prints STATIC_ROOT or nothing.
COLLECTSTATIC = ("import os,sys,django;os.environ.setdefault('DJANGO_SETTINGS_MODULE',sys.argv[1]);"
                 "django.setup();from django.conf import settings as s;"
                 "from django.core.management import call_command as c;r=getattr(s,'STATIC_ROOT',None);"
                 "r and c('collectstatic',interactive=False,verbosity=0);print(r or '')")


def fetch_files(locked: Sequence[Artifact], into: Path) -> Path:
    """A directory of the locked files (downloaded into pare's cache and checked against their
    digests; linked here under their own names) for pip's --find-links."""
    into.mkdir(parents=True, exist_ok=True)
    for item in locked:
        (into / Path(item.url).name).symlink_to(pypi.fetch_wheel(item))
    return into


def needs_pkg_resources(site: Path) -> bool:
    """Whether installed code imports pkg_resources that nothing installed provides."""
    if (site / "pkg_resources").is_dir():
        return False
    return any(_PKG_RESOURCES_IMPORT.search(path.read_bytes()) for path in site.rglob("*.py"))


class PythonRecipe(Recipe):
    name = "python"

    @classmethod
    def matches(cls, app_dir: Path) -> bool:
        markers = ("requirements.txt", "pyproject.toml", "Pipfile", "Pipfile.lock", "manage.py", *MAIN_FILES)
        return any((app_dir / n).is_file() for n in markers)

    @cached_property
    def deps(self) -> Dependencies:
        return dependencies(self.app_dir)

    @cached_property
    def django(self) -> DjangoProject | None:
        return django_project(self.app_dir)

    def requested_version(self) -> str | None:
        found = python_request(self.app_dir)
        return str(found.spec) if found.spec is not None else None

    def request(self) -> RuntimeRequest:
        # the suite follows the version asked for unless one is named
        extra: tuple[tuple[str, str], ...] = (("server", self.added_server),) if self.added_server else ()
        if self.locks_resolution:  # what pip's resolution in pare.lock answers: a change resolves again
            extra += ((pip_lock.REQUEST_KEY, pip_lock.requirement_inputs(self.app_dir, self.deps)),)
        return RuntimeRequest(self.name, self.runtime_override or self.requested_version(),
                              self.suite_override or "auto", extra)

    @cached_property
    def locks_resolution(self) -> bool:
        """The requirements carry no hashes: pip's resolution is recorded in pare.lock, with each
        file's sha256, and installed from there with --require-hashes (pare.recipes.pip_lock)."""
        return pip_lock.lockable(self.app_dir, self.deps)

    def resolve(self, arches: Sequence[Arch]) -> list[Artifact]:
        artifacts = python_runtime.resolve(self.request().version, self.suite_override, arches)
        if self.added_server:
            name, _, version = self.added_server.partition("==")
            artifacts.append(pypi.wheel(name, version, role="runtime"))
        if self.locks_resolution:
            artifacts += self.resolve_requirements(artifacts, arches)
        return artifacts

    def resolve_requirements(self, runtime: Sequence[Artifact], arches: Sequence[Arch]) -> list[Artifact]:
        """pip's resolution of the requirements (and of the server pare adds) for each platform, as
        pare.lock artifacts: the file pip chose for every distribution with its sha256. pip runs
        once per platform in the build sandbox, with network (it reads the index; an sdist's
        metadata is built). Building that metadata may need -dev packages (psycopg2's setup.py
        runs pg_config): they are added as a build does (plan_until_complete), and returned with
        the files, so the lock has them before the first build."""
        resolved: list[Artifact] = []
        have = set(runtime)
        added: dict[Artifact, None] = {}  # the -dev packages the resolutions needed, in order, once
        with tempfile.TemporaryDirectory(prefix="pare-pip-resolve-") as scratch:
            found = self.requirements(Path(scratch) / "requirements")
            assert found is not None  # locks_resolution: there are requirements
            source = Path(scratch) / "app"  # -r/-c paths are relative to the app
            copy_app_files(self.app_dir, self.sources, source)
            wanted = found[0]
            if wanted.is_relative_to(self.app_dir):
                wanted = source / wanted.relative_to(self.app_dir)
            if self.added_server:  # resolved with the app's: its dependencies are locked by hash too
                both = Path(scratch) / "with-server.txt"
                both.write_text(f"-r {wanted}\n{self.added_server}\n")
                wanted = both
            for arch in arches:
                def report_of(lock: Lock, arch: Arch = arch, wanted: Path = wanted) -> str:
                    return PythonRuntime(lock, arch).pip_report(wanted, pip_cache=cache_root() / "pip-cache",
                                                                cwd=source)
                start = Lock.new({}, (*runtime, *added))
                report, grown = plan_until_complete(report_of, start, lambda _lock: None)
                added.update(dict.fromkeys(a for a in grown.artifacts if a not in have))
                files = pip_lock.parse_report(report)
                resolved += [f.artifact(arch.name) for f in files]
                log.warning("pare: %s: %s has no hashes: resolved it with pip for %s and locked %d files "
                            "with their sha256 in pare.lock; builds install those with --require-hashes",
                            self.app_name, self.deps.source, arch.name, len(files))
        return [*added, *resolved]

    def server_wheel(self, lock: Lock) -> Path | None:
        """The locked wheel of the server pare adds, downloaded and checked (None: none added)."""
        if not self.added_server:
            return None
        name, _, version = self.added_server.partition("==")
        found = [a for a in lock.select(kind="pypi", role="runtime") if a.name == name
                 and a.version == version]
        if len(found) != 1:
            raise UsageError(f"pare.lock has no {self.added_server} wheel: run pare build --update-lock")
        return pypi.fetch_wheel(found[0])

    def start(self) -> StartCommand:
        return start_command(self.app_dir, self.deps, self.settings)

    @cached_property
    def added_server(self) -> str | None:
        """`name==version` of the server pare adds because the app declares none (SERVERS)."""
        start = self.start_or_none(self.start)
        return start.adds[0] if start is not None and start.adds else None

    def check(self) -> None:
        self.start_or_none(self.start)

    def requirements(self, into: Path) -> tuple[Path, bytes] | None:
        """The requirements file pip installs from, and the bytes its cache key is made of: the
        file, and the contents of every local path and file it names (two apps with the same
        `./localpkg` line and different code get different installs). A lockfile's lines carry
        its hashes, which pip then requires."""
        deps = self.deps
        if not deps.source:
            return None
        if deps.source == "requirements.txt":
            path = self.app_dir / "requirements.txt"
            return path, b"\0".join([path.read_bytes(), *local_inputs(self.app_dir, deps.lines)])
        text = "".join(line + "\n" for line in deps.hashed_lines())
        into.mkdir(parents=True, exist_ok=True)
        path = into / "requirements.txt"
        path.write_text(text)
        return path, f"{deps.source}\n{text}".encode()

    def locked_requirements(self, locked: Sequence[Artifact], into: Path) -> tuple[Path, bytes]:
        """A requirements file of the files pip's resolution locked (name==version --hash=...), and
        its bytes for the cache key: the lock's digests decide the install."""
        into.mkdir(parents=True, exist_ok=True)
        path = into / "requirements.txt"
        text = pip_lock.hashed_requirements(locked)
        path.write_text(text)
        log.warning("pare: %s: %d dependencies from pare.lock, by sha256 (pip's resolution of %s, "
                    "installed with --require-hashes)", self.app_name, len(locked), self.deps.source)
        return path, f"pare.lock\n{text}".encode()

    def install_deps(self, rt: PythonRuntime, workdir: Path, cache: bool = True) -> Path | None:
        """site-packages from the app's dependencies (and the server pare adds when the app declares
        none), installed and compiled by the locked interpreter."""
        locked = pip_lock.locked_files(rt.lock.artifacts, rt.arch.name) if self.locks_resolution else []
        if self.locks_resolution and not locked:
            raise UsageError(f"pare.lock records no resolution of {self.deps.source} for {rt.arch.name}: "
                             "run pare build --update-lock")
        found = self.locked_requirements(locked, workdir / "requirements") if locked else \
            self.requirements(workdir / "requirements")
        server = self.server_wheel(rt.lock)
        if found is None and server is None:
            return None
        requirements, content = found if found is not None else (None, b"")
        interpreter = next(a.digest for a in rt.lock.select(kind="deb") if a.name == f"python{rt.minor}")
        # the -dev packages sdists built against count too (none: the key stays as it was)
        key = content_key(DEPS_FORMAT, content, server.name if server else "", interpreter,
                          rt.pip_wheel.name, rt.arch.name, *sorted(a.digest for a in rt.build_debs))

        def populate(tmp: Path) -> None:
            with tempfile.TemporaryDirectory(prefix="pare-pip-") as scratch:
                pip_cache = cache_root() / "pip-cache" if cache else Path(scratch) / "cache"
                # pip runs in a copy of the app (local paths, `-e .`): its build/ and *.egg-info stay there
                source = Path(scratch) / "app"
                copy_app_files(self.app_dir, self.sources, source)
                if locked and requirements is not None:  # checked by pare, by hash; offline for wheels
                    files = fetch_files(locked, Path(scratch) / "files")
                    rt.pip_install(requirements, tmp / "site", pip_cache=pip_cache, cwd=source,
                                   require_hashes=True, find_links=files,
                                   network=not all(a.url.endswith(".whl") for a in locked))
                elif requirements is not None:
                    wanted = requirements
                    if requirements.is_relative_to(self.app_dir):
                        wanted = source / requirements.relative_to(self.app_dir)
                    rt.pip_install(wanted, tmp / "site", pip_cache=pip_cache, cwd=source,
                                   require_hashes=self.deps.hashed)
                if server is not None and not locked:  # its own step: the wheel is checked against
                    listed = Path(scratch) / "server.txt"  # pare.lock, and pip resolves its few
                    listed.write_text(f"{server}\n")  # dependencies, as for unhashed requirements
                    rt.pip_install(listed, tmp / "site", pip_cache=pip_cache, cwd=source)
                if needs_pkg_resources(tmp / "site"):
                    extra = Path(scratch) / "setuptools.txt"
                    hashes = "".join(f" --hash={h}" for h in PKG_RESOURCES_HASHES)
                    extra.write_text(f"{PKG_RESOURCES}{hashes}\n")
                    rt.pip_install(extra, tmp / "site", pip_cache=pip_cache, require_hashes=True)
            rt.compile(tmp / "site", rt.site)

        if not cache:  # made afresh in the build's scratch space (what --verify compares)
            fresh = workdir / "pip"
            fresh.mkdir(parents=True)
            populate(fresh)
            return fresh / "site"
        return cached_dir("pip", key, populate) / "site"

    def collect_static(self, rt: PythonRuntime, site: Path | None, start: StartCommand | None,
                       workdir: Path, cache: bool) -> Path | None:
        """A copy of the app with Django's collected static files, when its settings (with the
        app's env) set STATIC_ROOT; None when there is nothing to collect."""
        django = self.django
        if django is None or not django.static_root_assigned:
            return None
        env = dict(start.env if start else ())
        env.update(self.settings.env)
        key = content_key(STATIC_FORMAT, str(site), json.dumps(sorted(env.items())),
                          *tree_digest_parts(self.app_dir, self.files))

        def populate(tmp: Path) -> None:
            tree = tmp / "app"
            copy_app_files(self.app_dir, self.files, tree)
            paths = [str(tree), *(str(tree / p) for p in (start.pythonpath if start else ())),
                     *([str(site)] if site else [])]
            out = rt.python(["-c", COLLECTSTATIC, django.settings_module], cwd=tree, what="collectstatic",
                            env={**env, "PYTHONPATH": ":".join(paths)}, readable=(*([site] if site else []),))
            (tmp / "collected").write_text(out.strip())

        if not cache:
            home = workdir / "django"
            home.mkdir(parents=True)
            populate(home)
        else:
            home = cached_dir("django-static", key, populate)
        return home / "app" if (home / "collected").read_text() else None

    def native_plan(self, workdir: Path, lock: Lock, arch: Arch, *, cache: bool = True) -> BuildPlan:
        start = self.start_or_none(self.start)
        if self.added_server:  # one line: what the app did not declare, and where it is pinned
            log.warning("pare: %s declares no server: adding %s (its wheel pinned in pare.lock)",
                        self.app_name, self.added_server)
        rt = PythonRuntime(lock, arch)
        env = [("PATH", PATH_ENV), ("PYTHONUNBUFFERED", "1"), ("PYTHONDONTWRITEBYTECODE", "1")]
        if start is not None and start.pythonpath:
            env.append(("PYTHONPATH", ":".join(f"{self.workdir.rstrip('/')}/{p}" for p in start.pythonpath)))
        launch = self.launch(start, env)
        runtime = runtime_layer(rt.sysroot, self.contract_spec(rt.layer_spec(), launch))
        layers = [runtime]
        system = packages_layer(rt.sysroot, self.settings.packages, runtime)
        if system is not None:  # the app's `packages` (and Aptfile)
            layers.append(system)
        below = LayerPlan("below", tuple(e for layer in layers for e in layer.entries))
        site = self.install_deps(rt, workdir, cache)
        if site is not None:
            deps = FileSet("deps", root=rt.sysroot.root)
            deps.add_tree(rt.site, site)
            extensions = {f"{rt.site}/{rel}": site / rel for rel in elf_files(site)}
            add_library_closure(deps, rt.sysroot, extensions, below, "a compiled wheel")
            layers.append(deps.freeze())
        collected = self.collect_static(rt, site, start, workdir, cache)
        app = FileSet("app")
        if collected is not None:  # the app with its collected static files
            add_app_files(app, self.image_dir, collected, self.shipped_rules().walk(collected))
        else:
            add_app_files(app, self.image_dir, self.app_dir, self.files)
        layers.append(app.freeze())
        config = self.runtime_config(launch, {PYTHON: rt.interpreter})
        return BuildPlan(self.app_name, self.name, tuple(layers), config, platform=arch.platform)

    def docker_facts(self) -> DockerFacts:
        start = self.start_or_none(self.start)
        deps = self.deps
        env = [("PYTHONUNBUFFERED", "1"), ("PYTHONDONTWRITEBYTECODE", "1")]
        pythonpath = start.pythonpath if start is not None else ()
        launch = self.launch(start, env)
        install: tuple[str, ...] = ()
        dep_files: tuple[str, ...] = ()
        if deps.source == "requirements.txt":
            dep_files = ("requirements.txt",)
            install = ("-r requirements.txt",)
        elif deps.source:
            install = (shell_quote(deps.hashed_lines()),)  # with a lockfile's hashes: pip checks them
        if self.added_server:  # its own RUN: pip resolves its dependencies, as natively
            install += (shell_quote([self.added_server]),)
        build: tuple[str, ...] = ()
        if self.django is not None and self.django.static_root_assigned:
            build = (f"python3 -c {shell_quote([COLLECTSTATIC])} {self.django.settings_module}",)
        return self.facts("python", dep_files, " ".join(launch.entrypoint or launch.cmd), launch,
                          install=install, build=build, pythonpath=pythonpath)

