"""Node.js: the locked runtime (node from the npm registry, glibc and libstdc++ from Debian), the
app's dependencies installed by its own package manager, then the app.

The package manager is the one the project uses (pare.recipes.node_project: npm, yarn classic, yarn
berry with node_modules or Plug'n'Play, pnpm), at the version it pins, fetched from the npm
registry as a pinned lock artifact (or, for yarn berry, the release the project commits under
yarnPath) and run by the locked node; corepack is not needed. Install scripts run (unless
--ignore-scripts), native addons compile from source against the target node's own headers with
the host's compilers (they compile, they never ship), and the libraries an addon links come from
the runtime's Debian packages.

Two ways to install, as the buildpacks do:
- production only, from the manifests alone (package.json, the lockfile, package manager config),
  cached by their content: a code change never reinstalls;
- when the app has a `build` script, or root install scripts (a `postinstall: tsc`), in a copy of
  the app: everything installed, the build run, then pruned to production dependencies; cached by
  the content of every app file. The build's output (dist/, .next/...) ships in the app layer.

Three layers so a code change re-pushes only the last: runtime (shared by every node app on the
same lock entries), deps (node_modules, or PnP's .pnp.cjs and zip cache), app.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from pare.errors import UsageError
from pare.native.cache import cache_root, cached_dir, content_key
from pare.native.lock import Artifact, Lock, read_lock
from pare.native.plan import BuildPlan, FileSet, LayerPlan
from pare.native.platforms import Arch, host_arch
from pare.native.process import BuildFailed
from pare.native.rootfs import RuntimeSpec, elf_files, packages_layer, runtime_layer, unloadable_addons
from pare.native.runtimes import node as node_runtime
from pare.native.runtimes import npm as npm_registry
from pare.native.runtimes.node import NODE_PATH, PATH_ENV, NodeRuntime
from pare.oci.digest import digest_file, sha256
from pare.recipes import node_static
from pare.recipes.base import (
    DockerFacts,
    Launch,
    Recipe,
    RuntimeRequest,
    add_app_files,
    add_library_closure,
    copy_app_files,
    shell_quote,
    tree_digest_parts,
)
from pare.recipes.command import NothingToStart, StartCommand
from pare.recipes.node_project import (
    NODE,
    START_FILES,
    PackageManager,
    dependency_node_engines,
    has_build_script,
    node_request,
    package_manager,
    read_package_json,
    scripts,
    start_command,
    yarn_config,
)
from pare.recipes.start import declared_start

INSTALL_FORMAT = "5"  # bump when the install's result changes for the same inputs (prune, layout)
# What a dependency install reads: the manifests, the package manager's config and pinned release,
# patches, and (zero-installs) a committed yarn cache.
MANIFESTS = ("package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml",
             ".npmrc", ".yarnrc", ".yarnrc.yml", "pnpm-workspace.yaml", ".pnpmfile.cjs", ".yarn/releases",
             ".yarn/plugins", ".yarn/patches", ".yarn/cache", "patches")
ROOT_SCRIPTS = ("preinstall", "install", "postinstall", "prepare")
# Package manager tooling and build caches: never in the app layer.
NODE_IGNORES = (".yarn/releases", ".yarn/plugins", ".yarn/sdks", ".yarn/versions", ".yarn/cache",
                ".yarn/unplugged", ".yarn/install-state.gz", ".yarn/build-state.yml", ".pnp.cjs",
                ".pnp.loader.mjs", ".pnp.data.json", ".next/cache", ".npm", ".pnpm-store")
PNP_FILES = (".pnp.cjs", ".pnp.loader.mjs", ".pnp.data.json", ".yarn/cache", ".yarn/unplugged")
# Written by the package managers with install-time details (paths, times): not app content.
VOLATILE = ("node_modules/.package-lock.json", "node_modules/.yarn-integrity", "node_modules/.modules.yaml",
            "node_modules/.yarn-state.yml", "node_modules/.pnpm/lock.yaml", ".yarn/install-state.gz",
            ".yarn/build-state.yml")
NPM_QUIET = ("--no-audit", "--no-fund", "--loglevel=error")
# An npm app without a lockfile: the lockfile pare resolves for it, kept as pare's state beside the
# app (never shipped: .pare is in APP_IGNORES); pare.lock records its digest, so builds after the
# first install exactly what it names.
GENERATED_LOCKFILE = ".pare/package-lock.json"
# What a dependency resolution reads from package.json: a change here makes a new lockfile.
DEPENDENCY_FIELDS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies",
                     "bundleDependencies", "bundledDependencies", "overrides", "workspaces")

OFFLINE_COMMANDS = ("rebuild", "run")  # npm steps that run scripts over what is installed: no network

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Installed:
    """A dependency install: `root` holds the deps (`deps`, relative paths) and, when `built`, the
    whole app with its build output (then the app layer comes from here, not the app directory)."""

    root: Path
    deps: tuple[str, ...]
    built: bool


@dataclass(frozen=True)
class Tool:
    """How to run the project's package manager: its JS entry point (a file of a locked npm
    package, or the project's own yarnPath release), and the lock artifact it comes from."""

    name: str  # npm | yarn | pnpm
    package: str | None  # npm registry package (None: npm itself, or the project's yarnPath)
    version: str | None


def pm_commands(pm: PackageManager, *, production: bool, ignore_scripts: bool, store: Path
                ) -> list[list[str]]:
    """The install command(s), as argument lists for the package manager."""
    scripts_off = ["--ignore-scripts"] if ignore_scripts else []
    if pm.name == "npm":  # fetch with scripts off, then run them in a step of their own (offline)
        fetch = ["ci", "--omit=dev" if production else "--include=dev", *NPM_QUIET, "--ignore-scripts"]
        return [fetch] if ignore_scripts else [fetch, ["rebuild", *NPM_QUIET]]
    if pm.name == "pnpm":
        return [["install", "--frozen-lockfile", "--prod" if production else "--prod=false",
                 "--store-dir", str(store), "--package-import-method=copy",
                 "--config.confirmModulesPurge=false", "--reporter=append-only", *scripts_off,
                 *(["--ignore-pnpmfile"] if ignore_scripts else [])]]
    if pm.berry:
        if production and _berry_major(pm) >= 4:
            return [["workspaces", "focus", "--all", "--production"]]
        return [["install", "--immutable"]]
    return [["install", "--frozen-lockfile", "--non-interactive", "--no-progress",
             f"--production={'true' if production else 'false'}", "--cache-folder", str(store), *scripts_off]]


def pm_prune(pm: PackageManager, store: Path) -> list[str] | None:
    """The command that drops devDependencies after a build (None: nothing to do)."""
    if pm.name == "npm":
        return ["prune", "--omit=dev", *NPM_QUIET]
    if pm.name == "pnpm":
        # pnpm 10.34 refuses --store-dir on prune (install still takes it): the generic form works for both
        return ["prune", "--prod", f"--config.store-dir={store}", "--config.confirmModulesPurge=false"]
    if pm.berry:
        return ["workspaces", "focus", "--all", "--production"] if _berry_major(pm) >= 4 else None
    return ["install", "--frozen-lockfile", "--non-interactive", "--no-progress", "--production=true",
            "--ignore-scripts", "--prefer-offline", "--cache-folder", str(store)]


def _berry_major(pm: PackageManager) -> int:
    version = pm.version or ""
    return int(version.split(".")[0]) if version[:1].isdigit() else 4


def prune_addon_builds(tree: Path) -> None:
    """node-gyp leaves sources, object files, makefiles and a config.gypi (with absolute paths) in
    an addon's build directory (build/, or node-pre-gyp's build-tmp-*): keep only what loads
    (`*.node`, shared objects), and not even that when node-pre-gyp copied the addon elsewhere in
    the package (its module_path, lib/binding/...) or when it is make's link output under
    obj.target/, which node-gyp copies to Release/ (better-sqlite3: 2 MB twice)."""
    for current, dirs, files in os.walk(tree):
        dirs[:] = [d for d in dirs if d != ".bin"]
        if "binding.gyp" not in files:
            continue
        package = Path(current)
        builds = [package / d for d in dirs if d == "build" or d.startswith("build-tmp")]
        outside = {p.name for p in package.rglob("*.node")
                   if not any(p.is_relative_to(b) for b in builds)}
        for build in builds:
            for sub, _subdirs, names in os.walk(build, topdown=False):
                linked = "obj.target" in Path(sub).relative_to(build).parts
                for name in names:
                    loads = (name.endswith(".node") or ".so" in name) and not linked
                    if not loads or name in outside:
                        (Path(sub) / name).unlink()
                if not any(Path(sub).iterdir()):
                    Path(sub).rmdir()


class NodeRecipe(Recipe):
    name = "node"

    @classmethod
    def matches(cls, app_dir: Path) -> bool:
        return (app_dir / "package.json").is_file()

    @cached_property
    def package(self) -> dict[str, Any]:
        return read_package_json(self.app_dir)

    @cached_property
    def pm(self) -> PackageManager:
        return package_manager(self.app_dir, self.package)

    def extra_ignores(self) -> tuple[str, ...]:
        return NODE_IGNORES

    def requested_version(self) -> str | None:
        found = node_request(self.app_dir, self.package)
        return "lts/*" if found.lts else found.range

    @cached_property
    def yarn_path(self) -> str | None:
        """The yarn release the project commits (.yarnrc.yml yarnPath), relative to the app."""
        if not self.pm.berry:
            return None
        path = yarn_config(self.app_dir).get("yarnPath")
        return path if isinstance(path, str) and (self.app_dir / path).is_file() else None

    @cached_property
    def tool(self) -> Tool:
        """The package manager to run, pinned (resolved against the registry once, then locked)."""
        pm = self.pm
        if pm.name == "npm":
            return Tool("npm", None, None)
        if pm.berry and self.yarn_path and not self.settings.ignore_scripts:
            return Tool("yarn", None, None)  # --ignore-scripts: the registry's release, not the committed one
        package = "@yarnpkg/cli-dist" if pm.berry else pm.name
        return Tool(pm.name, package, pm.version)

    def request(self) -> RuntimeRequest:
        pm = self.pm
        pin = pm.version or pm.range or "*"
        source = f" ({self.yarn_path})" if self.yarn_path and self.tool.package is None else ""
        extra = [("package_manager", f"{pm.name}@{pin}{source}")]
        if self.generates_lockfile:
            extra.append(("npm_lockfile", self.generated_lockfile_state()))
        if self.static_front_end:
            extra.append(("static_server", node_static.SERVER_PINS))
        request = replace(super().request(), extra=tuple(extra))
        if self.node_runtime == node_runtime.DEBIAN:  # the suite is the one whose nodejs fits
            extra.append(("node_runtime", node_runtime.DEBIAN))
            request = replace(request, suite=self.debian_suite, extra=tuple(extra))
        return request

    @property
    def node_runtime(self) -> str:
        """Which node ships: official or debian (the node-runtime setting, else the default)."""
        return self.settings.node_runtime or node_runtime.DEFAULT_NODE_RUNTIME

    @cached_property
    def debian_suite(self) -> str:
        wanted = self.runtime_override or self.requested_version()
        return node_runtime.debian_suite(wanted, self.suite_override)

    @cached_property
    def static_front_end(self) -> bool:
        """Built by a bundler, served by nothing of its own (pare.recipes.node_static)."""
        s = self.settings
        found = declared_start(self.app_dir)  # a Dockerfile's CMD or a script is only a hint (nginx...)
        declared = s.cmd is not None or s.entrypoint is not None or (found is not None and found.binding) \
            or any((self.app_dir / name).is_file() for name in START_FILES)
        return node_static.is_static_front_end(self.package, declared)

    # --- no lockfile: one is resolved and kept ------------------------------------------------------
    @property
    def generates_lockfile(self) -> bool:
        """npm dependencies and no lockfile: pare resolves one (as Heroku's builder installs
        without one) and keeps it, so that the build is reproducible from then on."""
        return self.pm.name == "npm" and self.pm.lockfile is None and self.has_dependencies()

    def generated_lockfile_state(self) -> str:
        """What pare.lock records of the generated lockfile: its digest and the digest of the
        package.json dependency fields it answers (a change to either resolves it again)."""
        fields = {k: self.package[k] for k in DEPENDENCY_FIELDS if k in self.package}
        wanted = sha256(json.dumps(fields, sort_keys=True).encode())
        path = self.app_dir / GENERATED_LOCKFILE
        have = digest_file(path) if path.is_file() else "none"
        return f"{GENERATED_LOCKFILE} {have} for package.json dependencies {wanted}"

    def generate_lockfile(self, artifacts: Sequence[Artifact]) -> None:
        """Resolve the dependencies with the locked node and npm (`npm install --package-lock-only`,
        no scripts run, nothing installed) and keep the result as GENERATED_LOCKFILE."""
        rt = NodeRuntime(Lock.new({}, artifacts), host_arch())
        target = self.app_dir / GENERATED_LOCKFILE
        with tempfile.TemporaryDirectory(prefix="pare-npm-lock-") as scratch:
            tree = Path(scratch) / "app"
            copy_app_files(self.app_dir, self.manifest_files(), tree)
            npm_cache = cache_root() / "npm-cache"
            home = Path(scratch) / "home"
            home.mkdir()
            env = {**rt.install_env(npm_cache), "HOME": str(home)}
            args = ["install", "--package-lock-only", "--ignore-scripts", *NPM_QUIET]
            try:  # resolving fetches registry metadata: the one networked step, no scripts
                rt.run_js(rt.npm_cli, args, tree, env=env, what="npm install --package-lock-only",
                          writable=(npm_cache, home), network=True)
            except BuildFailed as exc:
                raise BuildFailed(explain_build_failure(str(exc))) from None
            target.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".package-lock-", dir=target.parent)
            os.close(fd)
            try:
                shutil.copyfile(tree / "package-lock.json", tmp)
                json.loads(Path(tmp).read_text(encoding="utf-8"))  # whole and valid before it is kept
                os.replace(tmp, target)
            finally:
                Path(tmp).unlink(missing_ok=True)
        log.warning("pare: %s has no package-lock.json: resolved its dependencies with npm %s and locked "
                    "them in %s (pare.lock records its digest); commit a package-lock.json to choose them",
                    self.app_dir.name, rt.npm_version, GENERATED_LOCKFILE)

    def resolve(self, arches: Sequence[Arch]) -> list[Artifact]:
        request = self.request()
        pm = self.pm
        npm_spec = (pm.version or pm.range) if pm.name == "npm" else None
        server = node_static.NATIVE_SERVER_PACKAGES if self.static_front_end else ()
        artifacts = node_runtime.resolve(request.version, request.suite, arches, npm_spec=npm_spec,
                                         runtime=self.node_runtime, packages=server)
        tool = self.tool
        if tool.package is not None:
            version = tool.version or npm_registry.newest(tool.package, pm.range)
            artifacts.append(npm_registry.artifact(tool.package, version, role="toolchain", platform="all"))
        if self.generates_lockfile:
            self.generate_lockfile(artifacts)
        if self.static_front_end:  # the engine path's server (the native image's is lighttpd)
            artifacts += node_static.resolve_server()
        return artifacts

    # --- installing --------------------------------------------------------------------------------
    @property
    def builds(self) -> bool:
        """The app is built in a copy of itself: a build script, or root install scripts that run."""
        root_scripts = any(scripts(self.package).get(k, "").strip() for k in ROOT_SCRIPTS)
        return has_build_script(self.package) or (root_scripts and not self.settings.ignore_scripts)

    def has_dependencies(self) -> bool:
        return bool(self.package.get("dependencies") or self.package.get("devDependencies"))

    def manifest_files(self) -> list[str]:
        """What a production install reads (MANIFESTS that the app has and does not ignore), with
        their parent directories, parents first."""
        rels = [r for r in self.sources if _under(r, MANIFESTS)]
        parents = {"/".join(r.split("/")[:i]) for r in rels for i in range(1, r.count("/") + 1)}
        return sorted(set(rels) | parents)

    def deps_paths(self, root: Path) -> tuple[str, ...]:
        if self.pm.pnp:
            return tuple(p for p in PNP_FILES if (root / p).exists())
        return ("node_modules",) if (root / "node_modules").is_dir() else ()

    def install(self, rt: NodeRuntime, workdir: Path, cache: bool = True) -> Installed | None:
        """Dependencies (and the build, if any) with the locked node and package manager; None
        when there is nothing to install or build."""
        pm = self.pm
        generated = self.app_dir / GENERATED_LOCKFILE if self.generates_lockfile else None
        if generated is not None and not generated.is_file():
            raise UsageError(f"{self.app_dir}: {GENERATED_LOCKFILE} is gone; run pare build --update-lock")
        building = self.builds
        if not self.has_dependencies() and not building:
            return None
        rels = self.sources if building else self.manifest_files()
        tool = self.tool_version(rt)
        commands = self.install_commands(building, Path("/store"))  # the store: pare's own
        key = content_key(INSTALL_FORMAT, "build" if building else "deps", pm.name, tool, rt.version,
                          rt.npm_version, rt.arch.name, str(self.settings.ignore_scripts), repr(commands),
                          repr(self.settings.env), *tree_digest_parts(self.app_dir, rels),
                          str(digest_file(generated)) if generated is not None else "")

        def populate(tmp: Path) -> None:
            tree = tmp / "app"
            copy_app_files(self.app_dir, rels, tree)
            if generated is not None:
                shutil.copyfile(generated, tree / "package-lock.json")
            with tempfile.TemporaryDirectory(prefix="pare-node-") as scratch:
                self.run_install(rt, tree, Path(scratch), building, cache)
            for rel in VOLATILE:
                (tree / rel).unlink(missing_ok=True)
            prune_addon_builds(tree)

        if cache:
            home = cached_dir("node-install", key, populate)
        else:  # made afresh in the build's scratch space (what --verify compares)
            home = workdir / "node-install"
            home.mkdir(parents=True)
            populate(home)
        root = home / "app"
        return Installed(root, self.deps_paths(root), building)

    def install_commands(self, building: bool, store: Path) -> list[list[str]]:
        """pm_commands, then (npm, scripts on) the root's own install scripts, which rebuild skips."""
        commands = pm_commands(self.pm, production=not building, ignore_scripts=self.settings.ignore_scripts,
                               store=store)
        if self.pm.name == "npm" and not self.settings.ignore_scripts:
            own = scripts(self.package)
            commands += [["run", name] for name in ROOT_SCRIPTS if own.get(name, "").strip()]
        return commands

    def tool_version(self, rt: NodeRuntime) -> str:
        tool = self.tool
        if tool.package is None:
            return self.yarn_path or f"npm {rt.npm_version}"
        found = [a for a in rt.lock.select(kind="npm", role="toolchain") if a.name == tool.package]
        if len(found) != 1:
            raise UsageError(f"pare.lock has no {tool.package} for {self.pm.spec}: "
                             "run pare build --update-lock")
        return f"{found[0].name} {found[0].version}"

    def tool_script(self, rt: NodeRuntime, tree: Path) -> Path:
        """The package manager's JS entry point."""
        tool = self.tool
        if tool.name == "npm":
            return rt.npm_cli
        if tool.package is None:
            assert self.yarn_path is not None
            return tree / self.yarn_path
        package = rt.tool(tool.package)
        for rel in ("bin/yarn.js", "bin/pnpm.cjs", "bin/yarn"):
            if (package / rel).is_file():
                return package / rel
        raise UsageError(f"{tool.package} in pare.lock has no bin to run")

    def run_install(self, rt: NodeRuntime, tree: Path, scratch: Path, building: bool, cache: bool) -> None:
        """Install in `tree` (then build and prune, when building); download caches are pare's
        shared ones, or with cache off made afresh in `scratch`."""
        pm = self.pm
        downloads = cache_root() if cache else scratch
        store = downloads / "node-store" / pm.name
        script = self.tool_script(rt, tree)
        shims = rt.shims(scratch / "bin", {pm.name: script} if pm.name != "npm" else {})
        env = rt.install_env(downloads / "npm-cache", shims)
        prefix_map = f"-ffile-prefix-map={tree}=."
        env.update({"HOME": str(scratch / "home"), "CI": "true", "CFLAGS": prefix_map, "CXXFLAGS": prefix_map,
                    "YARN_ENABLE_GLOBAL_CACHE": "false", "YARN_ENABLE_TELEMETRY": "0",
                    "YARN_ENABLE_PROGRESS_BARS": "false", "YARN_ENABLE_INLINE_BUILDS": "false"})
        if pm.berry and self.settings.ignore_scripts:
            env["YARN_ENABLE_SCRIPTS"] = "false"
        if self.settings.ignore_scripts:  # yarnPath / yarn-path: the project's own JS, not run either
            env["YARN_IGNORE_PATH"] = "1"
        if not self.settings.ignore_scripts:  # --ignore-scripts: no NODE_OPTIONS=--require from settings
            env.update({k: v for k, v in self.settings.env if k != "NODE_ENV"})
        fetched = (downloads / "npm-cache", store, scratch)  # what a step writes besides the tree
        cross = [f"--cpu={rt.arch.npm}", "--os=linux", "--libc=glibc"] if pm.name == "npm" and \
            rt.arch != host_arch() else []
        for args in self.install_commands(building, store):
            try:  # only the fetching steps reach the network: npm's scripts run offline (rebuild, run)
                rt.run_js(script, [*args, *cross], tree, env=env, what=f"{pm.name} {args[0]}",
                          writable=fetched, network=args[0] not in OFFLINE_COMMANDS)
            except BuildFailed as exc:
                raise BuildFailed(explain_build_failure(str(exc))) from None
        if not building:
            return
        if has_build_script(self.package):
            build_env = {**env, "NODE_ENV": "production", **NEXT_BUILD_ENV, **dict(self.settings.env)}
            try:  # the build script reads what is installed: no network
                rt.run_js(script, ["run", "build"], tree, env=build_env, what=f"{pm.name} run build",
                          writable=fetched)
            except BuildFailed as exc:
                raise BuildFailed(explain_build_failure(str(exc))) from None
            complete_next_standalone(tree)
        prune = pm_prune(pm, store)
        if prune is not None:
            rt.run_js(script, prune, tree, env=env, what=f"{pm.name} {prune[0]}", writable=fetched,
                      network=True)

    # --- the plan ---------------------------------------------------------------------------------
    def start(self, node_modules: Path | None) -> StartCommand:
        return start_command(self.app_dir, self.package, self.settings, port=self.port,
                             node_modules=node_modules, pnp=self.pm.pnp)

    def check(self) -> None:
        """No start command whatever gets installed (bins of installed packages are resolved after
        the install). A static front end is served by pare's static server."""
        if self.static_front_end:
            return
        try:
            self.start_or_none(lambda: self.start(self.app_dir / "node_modules"))
        except NothingToStart:
            raise
        except UsageError:
            pass

    @property
    def engine_needs_lock(self) -> bool:
        """The engine path reads pare.lock's generated lockfile and pinned static server."""
        return self.generates_lockfile or self.static_front_end

    def engine_lockfile(self) -> tuple[tuple[str, str], ...]:
        """An engine build installs from its context alone: without a package-lock.json of the
        app's own, the one pare resolved goes into the context as package-lock.json, so `npm ci`
        installs exactly what a native build installs."""
        if not self.generates_lockfile:
            return ()
        if not (self.app_dir / GENERATED_LOCKFILE).is_file():
            raise UsageError(f"{self.app_dir}: no package-lock.json and no {GENERATED_LOCKFILE} yet: "
                             "`pare build` or `pare dockerfile` resolves and locks one")
        return (("package-lock.json", GENERATED_LOCKFILE),)

    def static_server_pins(self) -> tuple[str, ...]:
        """The static server's packages as pare.lock pins them (name@version)."""
        lock = read_lock(self.app_dir)
        packages = lock.select(kind="npm", role="runtime", platform="all") if lock is not None else ()
        if node_static.SERVER[0] not in {a.name for a in packages}:
            raise UsageError(f"{self.app_dir}: pare.lock has no {node_static.SERVER[0]} (the static server): "
                             "`pare build` or `pare dockerfile` resolves it")
        return tuple(f"{a.name}@{a.version}" for a in sorted(packages, key=lambda a: a.name))

    def next_start(self) -> bool:
        """Next.js started by `next start` (scripts.start, nothing else declared): the engine path
        builds standalone output and runs its server.js, as the native path does."""
        s = self.settings
        if s.cmd is not None or s.entrypoint is not None or declared_start(self.app_dir) is not None:
            return False
        deps = {**(self.package.get("dependencies") or {}), **(self.package.get("devDependencies") or {})}
        start = scripts(self.package).get("start", "").split()
        return "next" in deps and has_build_script(self.package) and start[:2] == ["next", "start"]

    def native_plan(self, workdir: Path, lock: Lock, arch: Arch, *, cache: bool = True) -> BuildPlan:
        self.check()
        rt = NodeRuntime(lock, arch)
        installed = self.install(rt, workdir, cache)
        if self.static_front_end:
            assert installed is not None  # it has a build script
            return self.static_plan(installed.root, lock, rt, arch)
        modules = installed.root / "node_modules" if installed is not None else None
        start = self.start_or_none(lambda: self.start(modules))
        env: list[tuple[str, str]] = [("PATH", PATH_ENV), ("NODE_ENV", "production")]
        standalone = next_standalone(installed.root if installed is not None else None, start)
        if standalone is not None:  # only the traced files: the standalone tree is the app
            return self.next_plan(standalone, rt, arch, env)
        launch = self.launch(start, env)
        layers = self.base_layers(rt, launch)
        image_dir = self.image_dir
        if installed is not None and installed.deps:
            layers.append(self.deps_layer(installed.root, installed.deps, rt, layers, arch))
        skip = installed.deps if installed is not None else ()
        source, rels = self.app_dir, list(self.files)
        if installed is not None and installed.built:  # the app with its build output
            rules = self.shipped_rules(*NODE_IGNORES)
            source, rels = installed.root, list(rules.walk(installed.root))
        app = FileSet("app")
        add_app_files(app, image_dir, source, (r for r in rels if not _under(r, skip)))
        layers.append(app.freeze())
        config = self.runtime_config(launch, {NODE: NODE_PATH})
        return BuildPlan(self.app_name, self.name, tuple(layers), config, platform=arch.platform)

    def base_layers(self, rt: NodeRuntime, launch: Launch,
                    spec: RuntimeSpec | None = None) -> list[LayerPlan]:
        """The runtime layer (node, or `spec` in its place, with what the run-time contract runs
        for `launch`), then the app's `packages` (and Aptfile) when it names any."""
        spec = rt.layer_spec() if spec is None else spec
        runtime = runtime_layer(rt.sysroot, self.contract_spec(spec, launch))
        system = packages_layer(rt.sysroot, self.settings.packages, runtime)
        return [runtime, *([system] if system is not None else [])]

    def deps_layer(self, root: Path, rels: Sequence[str], rt: NodeRuntime, below: Sequence[LayerPlan],
                   arch: Arch) -> LayerPlan:
        """The installed dependencies under `root` (and the libraries their native addons link that
        the layers `below` lack); addons nothing in the image can load (another OS or machine, musl)
        stay out."""
        image_dir = self.image_dir
        deps = FileSet("deps", root=rt.sysroot.root)
        addons = {}
        for rel in rels:
            path = root / rel
            if path.is_dir():
                foreign = unloadable_addons(path, arch.elf_machine)
                deps.add_tree(f"{image_dir}/{rel}", path, exclude=foreign)
                addons.update({f"/{image_dir}/{rel}/{obj}": path / obj for obj in elf_files(path)
                               if obj not in foreign})
            else:
                deps.add_file(f"{image_dir}/{rel}", path)
        under = LayerPlan("below", tuple(e for layer in below for e in layer.entries))
        add_library_closure(deps, rt.sysroot, addons, under, "a native addon")
        return deps.freeze()

    def next_plan(self, standalone: Path, rt: NodeRuntime, arch: Arch,
                  env: list[tuple[str, str]]) -> BuildPlan:
        """A Next.js app built with `output: 'standalone'`: its traced node_modules, then server.js
        with .next (server code, static assets) and public/; `node server.js` reads PORT and
        HOSTNAME at start, and HOSTNAME is set to listen on every interface (a container's own
        HOSTNAME is its name)."""
        start = StartCommand((NODE, "server.js"), (), "Next.js standalone server.js")
        launch = self.launch(start, [*env, ("HOSTNAME", "0.0.0.0")])
        layers = self.base_layers(rt, launch)
        deps = ("node_modules",) if (standalone / "node_modules").is_dir() else ()
        if deps:
            layers.append(self.deps_layer(standalone, deps, rt, layers, arch))
        app = FileSet("app")
        rels = (r for r in self.shipped_rules(*NODE_IGNORES).walk(standalone) if not _under(r, deps))
        add_app_files(app, self.image_dir, standalone, rels)
        layers.append(app.freeze())
        config = self.runtime_config(launch, {NODE: NODE_PATH})
        return BuildPlan(self.app_name, self.name, tuple(layers), config, platform=arch.platform)

    def static_plan(self, root: Path, lock: Lock, rt: NodeRuntime, arch: Arch) -> BuildPlan:
        """The build's output (dist/, build/...) alone in the app layer, served by Debian's lighttpd
        from the lock (pare.recipes.node_static): neither node nor node_modules ship."""
        output = node_static.build_output(root)
        if output is None:
            raise UsageError(f"{self.app_dir}: a static front end whose build made no "
                             f"{', '.join(d + '/index.html' for d in node_static.OUTPUT_DIRS)}; give the "
                             "server to run with --cmd (e.g. --cmd \"node server.js\")")
        if not any(a.name in node_static.NATIVE_SERVER_PACKAGES for a in
                   lock.select(kind="deb", role="runtime", platform=arch.name)):
            raise UsageError(f"{self.app_dir}: pare.lock has no {node_static.NATIVE_SERVER_PACKAGES[0]} "
                             "(the static server): run pare build --update-lock")
        app = FileSet("app")
        add_app_files(app, self.image_dir, root / output, self.shipped_rules().walk(root / output))
        start = StartCommand(node_static.native_server_command(), (), f"static front end {output}/")
        launch = self.launch(start, ())
        server = RuntimeSpec(elf=(node_static.LIGHTTPD,))
        layers = (*self.base_layers(rt, launch, server), node_static.native_server_layer(self.workdir),
                  app.freeze())
        config = self.runtime_config(launch, {})
        return BuildPlan(self.app_name, self.name, layers, config, platform=arch.platform)

    # --- the Dockerfile ---------------------------------------------------------------------------
    def docker_facts(self) -> DockerFacts:
        pm = self.pm
        static, standalone = self.static_front_end, not self.static_front_end and self.next_start()
        context_files = self.engine_lockfile()
        env: tuple[tuple[str, str], ...] = (("NODE_ENV", "production"),)
        if static:
            start: StartCommand | None = StartCommand(node_static.server_command(self.workdir), (),
                                                      "static front end")
        elif standalone:  # HOSTNAME: a container's own is its name; server.js listens on it
            start, env = StartCommand((NODE, "server.js"), (), "Next.js standalone server.js"), \
                (*env, ("HOSTNAME", "0.0.0.0"))
        else:
            start = self.start_or_none(lambda: self.start(None))
        launch = self.launch(start, env)
        building = self.builds
        store = Path("/tmp/pare-pm-store")
        yarn = f"node {shell_quote([self.yarn_path])}" if self.yarn_path else "yarn"
        run = {"npm": "npm", "pnpm": "pnpm", "yarn": yarn}[
            pm.name]
        berry_env = "YARN_ENABLE_GLOBAL_CACHE=false YARN_ENABLE_TELEMETRY=0 " if pm.berry else ""
        scripts_env = "YARN_ENABLE_SCRIPTS=false " if pm.berry and self.settings.ignore_scripts else ""
        install = tuple(f"{berry_env}{scripts_env}{run} {shell_quote(args)}" for args in
                        self.install_commands(building, store)) if self.has_dependencies() or building else ()
        build: list[str] = []
        if building and has_build_script(self.package):
            next_env = "".join(f"{k}={v} " for k, v in NEXT_BUILD_ENV.items()) if standalone else ""
            build.append(f"NODE_ENV=production {next_env}{run} run build")
        prune = pm_prune(pm, store)
        if building and prune is not None and not (static or standalone):  # only the output ships
            build.append(f"{berry_env}{run} {shell_quote(prune)}")
        tools: tuple[str, ...] = ()
        if self.tool.package is not None:
            wanted = self.tool.version or pm.range or "latest"
            tools = (f"npm install -g --no-audit --no-fund {shell_quote([f'{self.tool.package}@{wanted}'])}",)
        # manifests to copy before the install: files as they are, directories with a trailing /
        have = {*self.manifest_files(), *(dest for dest, _ in context_files)}
        deps = tuple(m + "/" if (self.app_dir / m).is_dir() else m for m in MANIFESTS if m in have)
        shape = "static-site" if static else "next-standalone" if standalone else "app"
        return self.facts("node", deps, " ".join(launch.entrypoint or launch.cmd), launch, tools=tools,
                          install=install, build=tuple(build), source_first=building, shape=shape,
                          server_packages=self.static_server_pins() if static else (),
                          context_files=context_files,
                          runtime_needs=dependency_node_engines(self.app_dir, self.package, pm.lockfile))


# Next.js takes `output: 'standalone'` as its default from this variable, so a user's next.config
# that says nothing of output builds standalone without being edited (one that asks for another
# output keeps it). Telemetry stays off in a build.
NEXT_BUILD_ENV = {"NEXT_PRIVATE_STANDALONE": "1", "NEXT_TELEMETRY_DISABLED": "1"}
NEXT_STANDALONE = ".next/standalone"


def complete_next_standalone(tree: Path) -> None:
    """Put .next/static and public/ into a standalone build (Next.js leaves that copy to the
    deployer, since a CDN may serve them)."""
    standalone = tree / NEXT_STANDALONE
    if not (standalone / "server.js").is_file():
        return
    for rel in (".next/static", "public"):
        if (tree / rel).is_dir() and not (standalone / rel).exists():
            shutil.copytree(tree / rel, standalone / rel, symlinks=True)


def next_standalone(root: Path | None, start: StartCommand | None) -> Path | None:
    """The standalone tree when the app was built with one and starts with `next start` (a custom
    server needs the whole of next, so it keeps the full install)."""
    if root is None or start is None or not (root / NEXT_STANDALONE / "server.js").is_file():
        return None
    argv = start.argv
    runs_next = len(argv) >= 3 and argv[0] == NODE and argv[1].endswith("next/dist/bin/next")
    return root / NEXT_STANDALONE if runs_next and argv[2] == "start" else None


def _under(rel: str, roots: Sequence[str]) -> bool:
    return any(rel == r or rel.startswith(r + "/") for r in roots)


COMPILERS = re.compile(r"not found: (make|g\+\+|cc|gcc)|Could not find any Python|(make|g\+\+|gcc): "
                       r"(command )?not found|find Python")


def explain_build_failure(message: str) -> str:
    """An install's or build script's failure, with what to do when the cause is a known one."""
    if "fonts.googleapis.com" in message or "Google Fonts" in message or "next/font" in message:
        return ("the build downloads fonts from Google (next/font/google), which this machine cannot reach; "
                "use next/font/local, or build where fonts.googleapis.com answers: " + message[:300])
    if COMPILERS.search(message):
        return ("a native addon compiles with this machine's g++, make and python3, and one is missing "
                "(Debian: apt-get install g++ make python3), or give --ignore-scripts: " + message[:300])
    return message

