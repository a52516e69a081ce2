"""What a language recipe is, and what every recipe shares: the user's settings, the app's files
(as its .dockerignore selects them), and the image config a start command and settings make.

A recipe knows one kind of app: how to recognise it, what runtime it asks for (resolved into lock
artifacts: pinned packages, never the build machine's), how to compile or install it with the
locked toolchain into a BuildPlan for the native assembler, and the facts the Dockerfile generator
needs (dependency manifests, install and build steps, what to run).
"""

from __future__ import annotations

import os
import shlex
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from pare.errors import UsageError
from pare.native import contract
from pare.native.elf import closure
from pare.native.lock import Artifact, Lock
from pare.native.plan import BuildPlan, FileSet, LayerPlan, RuntimeConfig
from pare.native.platforms import Arch
from pare.native.rootfs import RuntimeSpec, add_package_files
from pare.native.syslibs import NeedPackages, Needs
from pare.native.sysroot import Sysroot
from pare.oci.digest import digest_file
from pare.recipes.command import StartCommand, split_command
from pare.recipes.ignore import IgnoreRules, secret_rules
from pare.recipes.settings import DEFAULT_USER, AppSettings, load_settings

# Never shipped in an app layer, whatever .dockerignore says (a `!` line in it can bring one back):
# VCS data, caches, local dependency trees (installed afresh by the recipe), pare's own lock.
APP_IGNORES = ("**/.git", "**/.hg", "**/.svn", "**/__pycache__", "**/*.pyc", ".venv", "venv",
               "**/node_modules", ".pare", "**/.DS_Store", ".pytest_cache", ".mypy_cache", ".ruff_cache",
               "pare.lock")

DEFAULT_PORT = "8080"
DEFAULT_WORKDIR = "/app"
# Bump when what a runtime is made of changes (its package set, its tools): locks written by an
# older resolution no longer answer the request and are resolved again.
RESOLVER_VERSION = "2"  # 2: the run-time contract's init and launcher (catatonit, execline)
# The users every pare image's /etc/passwd has (distroless's set); any other must be numeric.
KNOWN_USERS = {"root": 0, "nobody": 65534, "nonroot": 65532}


@dataclass(frozen=True)
class DockerFacts:
    """Language facts for the Dockerfile generator (pare.engines.dockerfile).

    command is the start argv with "node"/"python" standing for the image's runtime; paths in it
    are relative to `workdir`. install runs after `dep_files` are copied (so the dependency layer
    survives code changes), unless `source_first`: then the whole app is copied first (a root
    install script or a build step needs the sources). build runs after the sources are in."""

    language: str  # go | node | python
    dep_files: tuple[str, ...]  # copied before the source so the dependency step is cached
    entry: str  # go: the binary's name; node/python: what the command runs (for messages)
    command: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()  # the user's --entrypoint: then `command` is the image's Cmd
    env: tuple[tuple[str, str], ...] = ()  # the image's environment (also seen by build steps)
    port: str = DEFAULT_PORT
    user: str = DEFAULT_USER
    workdir: str = DEFAULT_WORKDIR
    labels: tuple[tuple[str, str], ...] = ()
    tools: tuple[str, ...] = ()  # shell lines that install the package manager (node)
    install: tuple[str, ...] = ()  # shell lines installing dependencies
    build: tuple[str, ...] = ()  # shell lines after the sources are copied (build script, prune...)
    source_first: bool = False
    main_package: str = "."  # go: the package to build
    files: tuple[str, ...] = ()  # go: top-level app entries shipped beside the binary
    pythonpath: tuple[str, ...] = ()  # python: app-relative directories on sys.path (src/)
    runtime: str | None = None  # the runtime version the app asks for (the engine's bases must have it)
    # node: what ships from the build stage: "app" (the app directory), "next-standalone" (Next.js's
    # traced .next/standalone tree), "static-site" (a bundler's output, served by `server_packages`)
    shape: str = "app"
    server_packages: tuple[str, ...] = ()  # name@version pins of the static server (from pare.lock)
    # files the recipe resolved for the app (context path, app-relative source), e.g. a lockfile
    # pare generated: the build context carries them, the Dockerfile copies them like the app's own
    context_files: tuple[tuple[str, str], ...] = ()
    # Debian packages the build stage installs before the dependency install (the -dev packages an
    # sdist's build reads, as pare.native.syslibs finds them from a failed build)
    build_packages: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()  # the user's `packages` (and Aptfile): they ship, with what they link
    suite: str | None = None  # the Debian suite the user named (--suite): the engine's bases come from it
    # node: the engines.node ranges of the direct dependencies (a framework's CLI refuses an older node)
    runtime_needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuntimeRequest:
    """What an app asks of its runtime: the language, a version range (None: the default, e.g. the
    current Node.js LTS) and the Debian suite its packages come from; `extra` holds what else the
    lock must answer (a pinned package manager). A lock answers one request."""

    language: str
    version: str | None
    suite: str
    extra: tuple[tuple[str, str], ...] = ()

    def lock_request(self) -> dict[str, str]:
        return {"language": self.language, "runtime": f"{self.language}@{self.version or 'default'}",
                "suite": self.suite, "resolver": RESOLVER_VERSION, **dict(self.extra)}


def parse_runtime(text: str, language: str) -> str:
    """`--runtime node@22` -> '22' (for a node app); the language must be the app's."""
    name, sep, version = text.partition("@")
    if not sep or not version.strip():
        raise UsageError(f"--runtime {text!r}: expected LANGUAGE@VERSION, e.g. {language}@...")
    if name != language:
        raise UsageError(f"--runtime {text!r} is for {name}, but this is a {language} app")
    return version.strip()


def check_user(user: str) -> str:
    """USER[:GROUP] as the image can resolve it: numeric ids, or root, nobody, nonroot."""
    for part in user.split(":"):
        if not part.isdigit() and part not in KNOWN_USERS:
            raise UsageError(f"--user {user}: {part!r} is not a user of pare's images (they have "
                             f"{', '.join(KNOWN_USERS)}); give a numeric UID[:GID] for any other")
    return user


# --- the app's files ------------------------------------------------------------------------------

def app_files(app_dir: Path, extra: Iterable[str] = (), *, include_secrets: Iterable[str] = (),
              build: bool = False) -> list[str]:
    """The app's entries (relative paths, parents before children) that go into an image or a build
    context: .dockerignore/.pareignore with Docker's rules, read after pare's own exclusions and
    `extra` (a recipe's: Go sources, package manager releases...). Secrets (.env*, .npmrc, keys...)
    never, unless `include_secrets` names them; a build (`build`) still reads the project's .npmrc."""
    after = secret_rules((*include_secrets, *((".npmrc",) if build else ())))
    return list(IgnoreRules.from_dir(app_dir, (*APP_IGNORES, *extra), after).walk(app_dir))


def add_app_files(fs: FileSet, image_dir: str, app_dir: Path, rels: Iterable[str]) -> None:
    """Add selected entries under `image_dir`: directories, regular files, symlinks as symlinks."""
    for rel in rels:
        full = app_dir / rel
        target = f"{image_dir}/{rel}"
        if full.is_symlink():
            fs.add_symlink(target, os.readlink(full))
        elif full.is_dir():
            fs.add_dir(target)
        elif full.is_file():
            fs.add_file(target, full)
    fs.add_dir(image_dir)


def copy_app_files(app_dir: Path, rels: Iterable[str], dest: Path) -> None:
    """Copy selected entries into `dest` (a build's work tree, or an engine's build context)."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel in rels:
        full = app_dir / rel
        out = dest / rel
        if full.is_symlink():
            out.symlink_to(os.readlink(full))
        elif full.is_dir():
            out.mkdir(exist_ok=True)
        elif full.is_file():
            shutil.copy2(full, out)


def app_layer(app_dir: Path, image_dir: str = "app", extra_excludes: Sequence[str] = (), *,
              skip: Iterable[str] = ()) -> LayerPlan:
    """The app's own files: the layer a one-line change re-pushes. `skip`: relative paths (and
    what is under them) that another layer holds."""
    skipped = tuple(skip)
    rels = [r for r in app_files(app_dir, extra_excludes)
            if not any(r == s or r.startswith(s + "/") for s in skipped)]
    fs = FileSet("app")
    add_app_files(fs, image_dir, app_dir, rels)
    return fs.freeze()


def tree_digest_parts(root: Path, rels: Iterable[str]) -> list[bytes | str]:
    """What a cache key over selected files needs: each path, its kind, mode and content digest
    (files are hashed in chunks, never held in memory together)."""
    parts: list[bytes | str] = []
    for rel in rels:
        full = root / rel
        if full.is_symlink():
            parts += [rel, "l", os.readlink(full)]
        elif full.is_dir():
            parts += [rel, "d"]
        elif full.is_file():
            parts += [rel, "x" if os.access(full, os.X_OK) else "f", str(digest_file(full))]
    return parts


class Recipe(ABC):
    """One language. Subclasses set `name` and implement the abstract methods.

    settings: what the user said (flags over pare.toml / [tool.pare]; read from the app when not
    given). runtime / suite: overrides of settings.runtime / settings.suite (the older API)."""

    name: str = ""
    default_suite = "bookworm"

    def __init__(self, app_dir: Path, *, settings: AppSettings | None = None, runtime: str | None = None,
                 suite: str | None = None) -> None:
        self.app_dir = Path(app_dir).resolve()
        if not self.app_dir.is_dir():
            raise UsageError(f"{app_dir}: not a directory")
        self.settings = settings if settings is not None else load_settings(self.app_dir)
        runtime = runtime or self.settings.runtime
        self.runtime_override = parse_runtime(runtime, self.name) if runtime else None
        self.suite_override = suite or self.settings.suite
        check_user(self.settings.user)

    @property
    def app_name(self) -> str:
        return self.app_dir.name

    @property
    def port(self) -> str:
        return str(self.settings.port) if self.settings.port else DEFAULT_PORT

    @property
    def workdir(self) -> str:
        """Where the app lives in the image, and the working directory it starts in."""
        return self.settings.workdir or DEFAULT_WORKDIR

    @property
    def image_dir(self) -> str:
        return self.workdir.strip("/")

    @cached_property
    def files(self) -> list[str]:
        """The app's entries that ship (see app_files), without what the language only builds with."""
        return app_files(self.app_dir, self.extra_ignores(), include_secrets=self.settings.include_secrets)

    @cached_property
    def sources(self) -> list[str]:
        """The app's entries a build reads: an engine's build context (sources, manifests, tooling)."""
        return app_files(self.app_dir, include_secrets=self.settings.include_secrets, build=True)

    def shipped_rules(self, *extra: str) -> IgnoreRules:
        """What of a built copy of the app ships (no ignore files read: pare's and `extra`, secrets)."""
        return IgnoreRules((*APP_IGNORES, *extra, *secret_rules(self.settings.include_secrets)))

    def extra_ignores(self) -> tuple[str, ...]:
        """Patterns this language never ships (read before the app's own ignore files)."""
        return ()

    @classmethod
    @abstractmethod
    def matches(cls, app_dir: Path) -> bool:
        """True when `app_dir` looks like an app of this language."""

    def requested_version(self) -> str | None:
        """The runtime version the app's own files ask for (None: no preference)."""
        return None

    def request(self) -> RuntimeRequest:
        version = self.runtime_override or self.requested_version()
        return RuntimeRequest(self.name, version, self.suite_override or self.default_suite)

    @property
    def engine_needs_lock(self) -> bool:
        """An engine build reads what pare.lock resolved (a generated lockfile, pinned tools): the
        lock is resolved first, as a native build would (pare.builder.engine_facts)."""
        return False

    def check(self) -> None:
        """Fail now, before anything is resolved or fetched, when the app cannot be built as it is
        (nothing to start, no main package...): one UsageError that names the flag to give."""
        return None

    @abstractmethod
    def resolve(self, arches: Sequence[Arch]) -> list[Artifact]:
        """Every artifact the image's runtime and the build's tools need, for these platforms."""

    @abstractmethod
    def native_plan(self, workdir: Path, lock: Lock, arch: Arch, *, cache: bool = True) -> BuildPlan:
        """Compile or install with the locked toolchain (scratch space in `workdir`) and plan the
        image for `arch`, its runtime taken from the lock's artifacts. cache=False: dependency
        installs and their download caches are made afresh (what --verify compares)."""

    @abstractmethod
    def docker_facts(self) -> DockerFacts:
        """What the Dockerfile generator needs to know."""

    # --- the image config -------------------------------------------------------------------------
    def exec_form(self, value: str | tuple[str, ...], flag: str
                  ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """A user's command (a line or a list) as (argv, env assignments it starts with)."""
        if isinstance(value, tuple):
            return value, ()
        try:
            found = split_command(value)
        except UsageError as exc:
            raise UsageError(f"{flag}: {exc}") from None
        return found.argv, found.env

    def launch(self, start: StartCommand | None, env: Sequence[tuple[str, str]]) -> Launch:
        """What the image runs and its environment: the recipe's `env`, $PORT, the start command's
        assignments, then the user's env (their keys win). With --entrypoint, the detected start
        command is not used: the entrypoint runs, with --cmd (if given) as its arguments."""
        s = self.settings
        merged = dict(env)
        merged["PORT"] = self.port
        if s.entrypoint is not None:
            entrypoint, entry_env = self.exec_form(s.entrypoint, "--entrypoint")
            cmd, cmd_env = self.exec_form(s.cmd, "--cmd") if s.cmd is not None else ((), ())
            merged.update(entry_env)
            merged.update(cmd_env)
            found = Launch(entrypoint, cmd, (), False)
        else:
            if start is None:
                raise UsageError(f"{self.app_dir}: nothing to start: give the command with --cmd")
            merged.update(start.env)
            found = Launch(start.argv, (), (), True)
        merged.update(s.env)
        return Launch(found.entrypoint, found.cmd, tuple(merged.items()), found.detected)

    def runtime_config(self, launch: Launch, program: Mapping[str, str]) -> RuntimeConfig:
        """The image config: the launch (a start command's argv[0] mapped through `program`, e.g.
        "node" -> the image's node) under the init, and the launcher when it names the port
        (pare.native.contract); the user, workdir, port and labels."""
        entrypoint = launch.entrypoint
        if launch.detected and entrypoint:
            entrypoint = (program.get(entrypoint[0], entrypoint[0]), *entrypoint[1:])
        s = self.settings
        return RuntimeConfig(entrypoint=contract.wrap(entrypoint, launch.cmd, self.port), cmd=launch.cmd,
                             env=launch.env, user=s.user, workdir=self.workdir,
                             exposed_ports=(f"{self.port}/tcp",), labels=s.labels)

    def contract_spec(self, spec: RuntimeSpec, launch: Launch) -> RuntimeSpec:
        """The language's runtime layer plus what the run-time contract runs: the init always, the
        launcher (with its libraries, from the same sysroot) when the command names the port."""
        reads_port = contract.reads_port((*launch.entrypoint, *launch.cmd))
        elf = (*spec.elf, contract.LAUNCHER) if reads_port else spec.elf
        return replace(spec, files=(*spec.files, contract.INIT), elf=elf)

    def facts(self, language: str, dep_files: tuple[str, ...], entry: str, launch: Launch,
              **language_facts: Any) -> DockerFacts:
        """DockerFacts with what every language shares: the launch and the user's settings."""
        command, entrypoint = (launch.entrypoint, ()) if launch.detected else (launch.cmd, launch.entrypoint)
        s = self.settings
        return DockerFacts(language, dep_files, entry, command=command, entrypoint=entrypoint, env=launch.env,
                           port=self.port, user=s.user, workdir=self.workdir, labels=s.labels,
                           runtime=self.runtime_override or self.requested_version(), packages=s.packages,
                           suite=self.suite_override, **language_facts)

    def start_or_none(self, find: Callable[[], StartCommand]) -> StartCommand | None:
        """The detected start command, or None when --entrypoint makes it moot (detection's
        errors then do not matter)."""
        return None if self.settings.entrypoint is not None else find()


@dataclass(frozen=True)
class Launch:
    """What an image runs: entrypoint and cmd in exec form, and its environment. detected: the
    entrypoint is a start command whose argv[0] may be a runtime placeholder ("node", "python")."""

    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    detected: bool


def shell_quote(words: Iterable[str]) -> str:
    """Words as one POSIX shell line (for Dockerfile RUN steps)."""
    return " ".join(shlex.quote(w) for w in words)



def loaded_directly(path: str) -> bool:
    """A Python extension module, a node addon or a library loaded by path (ctypes), which the
    runtime dlopens itself, not a library bundled beside them for them (auditwheel's
    `<dist>.libs/libfoo-1a2b3c.so.1`, found through its users' RPATH)."""
    parent, _, name = path.rpartition("/")
    return name.endswith((".so", ".node")) and not parent.endswith(".libs")


def add_library_closure(fs: FileSet, sysroot: Sysroot, objects: Mapping[str, Path], lower: LayerPlan,
                        what: str) -> None:
    """Libraries that compiled code of a higher layer needs beyond what `lower` holds, from the
    runtime's sysroot, with their packages' status.d entries. `objects`: the layer's ELF files
    (image path -> file); the ones the runtime loads itself (wheels' extension modules, node
    addons) are the roots, the others (a wheel's bundled `*.libs/`) are found the way ld.so finds
    them from the roots. Libraries the sysroot does not have raise NeedPackages naming them: the
    builder adds the Debian packages that ship them to pare.lock and plans again."""
    roots = [p for p in objects if loaded_directly(p)]
    if not roots:
        return
    needed = closure(roots, sysroot.root, extra_dirs=sysroot.library_dirs(), files=objects, strict=False)
    if needed.missing:
        found = tuple(dict.fromkeys((f"{what} ({who.rsplit('/', 1)[-1]})", soname)
                                    for who, soname in needed.missing))
        raise NeedPackages(Needs(libraries=found), sysroot.arch.name)
    add_package_files(fs, sysroot, [p for p in needed.files if p not in objects], lower)
