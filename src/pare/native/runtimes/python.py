"""Python from pinned packages: Debian's python3.X of the suite that has the version the app asks
for (3.11 bookworm, 3.13 trixie, 3.14 and 3.15 forky), pip from PyPI, and .pyc files compiled by
that same interpreter.

The interpreter runs on the build machine from its sysroot, through the sysroot's own loader
(pare.native.sysroot.Sysroot.run), so dependencies are installed by the very Python the image
ships and wheels match its ABI; for another architecture pip is told the target's platform tags
and takes wheels only. Bytecode is compiled with unchecked-hash invalidation (no mtimes, so the
same sources give the same bytes anywhere; nothing is checked or rewritten at start-up, where the
image's read-only /usr could not take new .pyc files anyway), with the image's own paths in it.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from pare.bases.apt import SUITES
from pare.errors import UsageError
from pare.native.buildenv import build_env
from pare.native.cache import cached_dir, content_key
from pare.native.lock import Artifact, Lock
from pare.native.platforms import Arch, host_arch
from pare.native.process import BuildFailed, run_tool
from pare.native.rootfs import RuntimeSpec
from pare.native.runtimes import pypi
from pare.native.runtimes.debian import FOUNDATION, resolve_debs, suite_index
from pare.native.syslibs import NeedPackages, build_needs
from pare.native.sysroot import Sysroot, ensure_sysroot

PYC_FORMAT = "1"
# Never needed by a server: tests, GUI toolkits, the REPL's helpers, packaging tools.
STDLIB_DROP = ("test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data",
               "config-3*", "__pycache__", "site-packages", "dist-packages", "sitecustomize.py",
               "EXTERNALLY-MANAGED", "*.pyc")
DYNLOAD_DROP = ("_test*", "xxlimited*", "_xxtestfuzz*", "_ctypes_test*", "_curses*", "readline*",
                "nis*", "ossaudiodev*", "_dbm*", "_gdbm*", "_tkinter*", "_xxsubinterpreters*",
                "_xxinterpchannels*", "_testcapi*", "_testinternalcapi*", "_testmultiphase*",
                "_testsinglephase*", "_testbuffer*", "_testimportmultiple*", "_testclinic*")
PATH_ENV = "/usr/local/bin:/usr/bin:/bin"
# glibc 2.34 folded these into libc.so.6 and keeps them as tiny stubs; wheels built for older
# manylinux tags still link them (a few KB in all, so every wheel's extensions load)
GLIBC_STUBS = ("libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1")


@dataclass(frozen=True)
class Choice:
    suite: str
    minor: str  # "3.13"
    debian_version: str  # the package's version, e.g. 3.13.5-2


def parse_request(text: str) -> SpecifierSet:
    """'3.13' or '3.13.1' (a .python-version, runtime.txt) mean that minor version; anything else
    is a PEP 440 specifier ('>=3.11', '~=3.14')."""
    cleaned = text.strip().removeprefix("python-").removeprefix("python")
    exact = re.fullmatch(r"(\d+)\.(\d+)(?:\.\d+)?", cleaned)
    if exact:
        return SpecifierSet(f"=={exact.group(1)}.{exact.group(2)}.*")
    try:
        return SpecifierSet(cleaned)
    except InvalidSpecifier:
        raise UsageError(f"invalid Python version request {text!r}") from None


def available(arch: Arch, suites: Sequence[str] = SUITES) -> list[Choice]:
    """Every python3.X the suites carry, in suite order (bookworm first)."""
    found = []
    for suite in suites:
        index = suite_index(suite, arch)
        for name in sorted(index, key=lambda n: [int(p) for p in re.findall(r"\d+", n)]):
            if re.fullmatch(r"python3\.\d+", name):
                found.append(Choice(suite, name.removeprefix("python"), index[name].version))
    return found


def suite_default(suite: str, arch: Arch) -> str | None:
    """The minor version the suite's `python3` package depends on (its default Python)."""
    pkg = suite_index(suite, arch).get("python3")
    for alts in pkg.depends if pkg else ():
        for name in alts:
            if re.fullmatch(r"python3\.\d+", name):
                return name.removeprefix("python")
    return None


def choose(request: str | None, suite: str | None, arch: Arch) -> Choice:
    """The suite and interpreter for a request: the first suite (oldest first, or the one given)
    whose python3.X satisfies it; no request means the suite's default Python."""
    suites = (suite,) if suite else SUITES
    candidates = available(arch, suites)
    if request is None:
        default_suite = suite or "bookworm"
        minor = suite_default(default_suite, arch)
        chosen = [c for c in candidates if c.suite == default_suite and c.minor == minor]
        if chosen:
            return chosen[0]
        raise UsageError(f"Debian {default_suite} has no default Python")
    spec = parse_request(request)
    for choice in candidates:
        upstream = re.match(r"(?:\d+:)?(\d+\.\d+(?:\.\d+)?)", choice.debian_version)
        if upstream and Version(upstream.group(1)) in spec:
            return choice
    offered = ", ".join(f"{c.minor} ({c.suite})" for c in candidates)
    raise UsageError(f"no Debian suite has a Python matching {request!r}: {offered} are available "
                     "(set the version with --runtime python@3.X)")


def resolve(request: str | None, suite: str | None, arches: Sequence[Arch]) -> list[Artifact]:
    """The interpreter's packages for every target and for this machine (which runs pip and
    compiles .pyc files), plus the newest pip wheel that supports the interpreter."""
    host = host_arch()
    choice = choose(request, suite, host)
    roots = (*FOUNDATION, f"python{choice.minor}")
    artifacts: list[Artifact] = []
    for arch in arches:
        artifacts += resolve_debs(choice.suite, arch, roots)
    if host not in arches:
        artifacts += resolve_debs(choice.suite, host, roots, role="toolchain")
    upstream = re.match(r"(?:\d+:)?(\d+\.\d+(?:\.\d+)?)", choice.debian_version)
    artifacts.append(pypi.newest_wheel("pip", upstream.group(1) if upstream else choice.minor))
    return artifacts


def python_minor(lock: Lock) -> str:
    names = {a.name for a in lock.select(kind="deb") if re.fullmatch(r"python3\.\d+", a.name)}
    if len(names) != 1:
        raise UsageError("pare.lock names no single python3.X: run pare build --update-lock")
    return names.pop().removeprefix("python")


@dataclass(frozen=True)
class PythonRuntime:
    """The locked Python for one target platform, and the machine-side tools that serve it."""

    lock: Lock
    arch: Arch

    @property
    def minor(self) -> str:
        return python_minor(self.lock)

    @property
    def interpreter(self) -> str:
        return f"/usr/bin/python{self.minor}"

    @property
    def stdlib(self) -> str:
        return f"/usr/lib/python{self.minor}"

    @property
    def site(self) -> str:
        """Debian's site directory for locally installed packages (on sys.path, no PYTHONPATH)."""
        return f"/usr/local/lib/python{self.minor}/dist-packages"

    @cached_property
    def sysroot(self) -> Sysroot:
        debs = self.lock.select(kind="deb", role="runtime", platform=self.arch.name)
        return ensure_sysroot(debs, self.arch)

    @cached_property
    def host_sysroot(self) -> Sysroot:
        """The interpreter of this machine's architecture, to run pip and compileall: the runtime's
        own when this machine's platform is a target, else the lock's toolchain packages."""
        host = host_arch()
        if host == self.arch:
            return self.sysroot
        runtime = self.lock.select(kind="deb", role="runtime", platform=host.name)
        if any(a.name == f"python{self.minor}" for a in runtime):
            return ensure_sysroot(runtime, host)
        return ensure_sysroot(self.lock.select(kind="deb", role="toolchain", platform=host.name), host)

    @cached_property
    def pip_wheel(self) -> Path:
        found = [a for a in self.lock.select(kind="pypi", role="toolchain") if a.name == "pip"]
        if len(found) != 1:
            raise UsageError("pare.lock names no pip wheel: run pare build --update-lock")
        return pypi.fetch_wheel(found[0])

    @property
    def build_debs(self) -> tuple[Artifact, ...]:
        """The -dev packages sdists build against (toolchain .debs of this machine, pare.native.
        runtimes.system), with what they depend on; empty when the lock names none."""
        found = self.lock.select(kind="deb", role="toolchain", platform=host_arch().name)
        return found if any(a.name.endswith("-dev") for a in found) else ()

    @cached_property
    def build_sysroot(self) -> Sysroot:
        """The interpreter of this machine with the -dev packages beside it: where pip builds sdists."""
        if not self.build_debs:
            return self.host_sysroot
        host = host_arch()
        debs = self.lock.select(kind="deb", role="runtime", platform=host.name) if host == self.arch else ()
        return ensure_sysroot((*debs, *self.build_debs), host)

    def python(self, args: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
               what: str = "python", writable: Sequence[Path] = (), readable: Sequence[Path] = (),
               network: bool = False, sysroot: Sysroot | None = None) -> str:
        """Run this machine's build of the locked interpreter (isolated from the user's site) in the
        build sandbox: `writable` (and `cwd`) are the only trees it may write; network: it fetches;
        `sysroot`: run from another tree (the build sysroot, with the -dev packages sdists need)."""
        root = sysroot or self.host_sysroot
        base = {"PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", "LC_ALL": "C.UTF-8",
                "PYTHONHOME": str(root.host("/usr"))}
        return run_tool([str(root.wrapper(self.interpreter)), *args], env={**base, **(env or {})}, cwd=cwd,
                        what=what, writable=(*([cwd] if cwd else []), *writable), readable=readable,
                        network=network)

    def compile(self, tree: Path, image_dir: str) -> None:
        """Write reproducible .pyc files for every module under `tree`, as if it were `image_dir`."""
        self.python(["-m", "compileall", "-q", "-j", "1", "--invalidation-mode", "unchecked-hash",
                     "-s", str(tree), "-p", image_dir, str(tree)], what="compileall", writable=(tree,))

    @cached_property
    def stdlib_tree(self) -> Path:
        """The pruned standard library with its .pyc files (cached per interpreter package)."""
        pkg = next(a for a in self.lock.select(kind="deb", platform=self.arch.name)
                   if a.name == f"libpython{self.minor}-stdlib")
        key = content_key(PYC_FORMAT, pkg.digest, self.arch.name)

        def populate(tmp: Path) -> None:
            source = self.sysroot.host(self.stdlib)
            dest = tmp / "lib"
            shutil.copytree(source, dest, symlinks=True, ignore=_ignore(source))
            self.compile(dest, self.stdlib)

        return cached_dir("python-stdlib", key, populate) / "lib"

    def layer_spec(self) -> RuntimeSpec:
        dynload = self.stdlib_tree / "lib-dynload"
        modules = [f"{self.stdlib}/lib-dynload/{p.name}" for p in sorted(dynload.glob("*.so"))]
        roots = [self.interpreter, *modules]
        stubs = tuple(f"/usr/lib/{self.arch.triplet}/{name}" for name in GLIBC_STUBS
                      if self.sysroot.host(f"/usr/lib/{self.arch.triplet}/{name}").is_file())
        return RuntimeSpec(elf=tuple(roots), files=(self.interpreter, *stubs),
                           host_trees={self.stdlib: self.stdlib_tree},
                           links={"/usr/bin/python3": f"python{self.minor}"})

    def _target_args(self) -> list[str]:
        """pip options for another machine's platform: its wheels only, for the locked interpreter."""
        if self.arch == host_arch():
            return []
        args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", self.minor,
                "--abi", f"cp{self.minor.replace('.', '')}"]
        return args + [f"--platform={tag}" for tag in manylinux_tags(self.sysroot, self.arch)]

    def _pip(self, args: Sequence[str], *, what: str, pip_cache: Path, cwd: Path | None,
             writable: Sequence[Path], readable: Sequence[Path], network: bool) -> None:
        """Run the locked pip (its log kept: a failed build that lacks -dev packages says which)."""
        env = {"PIP_CONFIG_FILE": os.devnull, "PIP_CACHE_DIR": str(pip_cache),
               "PIP_BREAK_SYSTEM_PACKAGES": "1"}
        bundle = "/etc/ssl/certs/ca-certificates.crt"  # proxies with their own CA
        if os.path.isfile(bundle):
            env["PIP_CERT"] = bundle
        root = self.build_sysroot
        if self.arch == host_arch():  # sdists build here: against the sysroot, never the machine's -dev files
            env.update(build_env(root))
        with tempfile.TemporaryDirectory(prefix="pare-piplog-") as logs:
            log = Path(logs) / "pip.log"  # everything pip and the builds it runs printed
            try:
                self.python([str(self.pip_wheel / "pip"), args[0], "--log", str(log), *args[1:]], env=env,
                            cwd=cwd, what=what, writable=(pip_cache, Path(logs), *writable),
                            readable=readable, network=network, sysroot=root)
            except BuildFailed as exc:
                needs = build_needs(log.read_text(errors="replace") if log.is_file() else str(exc))
                if needs:  # a C extension's build: it needs the interpreter's headers too
                    raise NeedPackages(replace(needs, build_packages=(
                        *needs.build_packages, f"libpython{self.minor}-dev"), failure=str(exc)),
                        self.arch.name) from None
                raise

    def pip_report(self, requirements: Path, *, pip_cache: Path, cwd: Path | None = None) -> str:
        """pip's installation report (JSON) for the requirements on this platform: what it would
        install, each file's URL and sha256, nothing installed (pare.recipes.pip_lock)."""
        with tempfile.TemporaryDirectory(prefix="pare-pipreport-") as out:
            report = Path(out) / "report.json"
            self._pip(["install", "--quiet", "--dry-run", "--ignore-installed", "--disable-pip-version-check",
                       "--report", str(report), *self._target_args(), "-r", str(requirements)],
                      what="pip install --dry-run", pip_cache=pip_cache, cwd=cwd, writable=(Path(out),),
                      readable=(requirements.parent,), network=True)
            return report.read_text(encoding="utf-8")

    def pip_install(self, requirements: Path, target: Path, *, pip_cache: Path,
                    cwd: Path | None = None, require_hashes: bool = False, find_links: Path | None = None,
                    network: bool = True) -> None:
        """Install pinned requirements into `target` with the locked interpreter and pip (`cwd`: where
        relative paths in them, such as `-e .`, point). require_hashes: every file pip fetches
        must match a `--hash` its line gives (pip's hash-checking mode). find_links: a directory of
        the files to install (downloaded and checked by pare); without network, pip reads nothing
        else (`--no-index`)."""
        args = ["install", "--quiet", "--no-compile", "--disable-pip-version-check",
                "--no-warn-script-location", "--target", str(target), "-r", str(requirements)]
        if require_hashes:
            args.append("--require-hashes")
        if find_links is not None:
            args += ["--find-links", str(find_links), *([] if network else ["--no-index"])]
        args += self._target_args()
        self._pip(args, what="pip install", pip_cache=pip_cache, cwd=cwd, writable=(target,),
                  readable=(requirements.parent, *([find_links] if find_links else [])), network=network)
        shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts point at this machine's paths
        for direct in target.glob("*.dist-info/direct_url.json"):  # PEP 610: the file:// path of a local
            direct.unlink()  # wheel or tree on this machine; the image must not depend on where it was built
        for record in target.glob("*.dist-info/RECORD"):
            prune_record(record, target)


def _ignore(source: Path):  # type: ignore[no-untyped-def]
    import fnmatch

    def ignore(directory: str, names: list[str]) -> list[str]:
        rel = os.path.relpath(directory, source)
        dropped = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in STDLIB_DROP)]
        if rel == "lib-dynload":
            dropped += [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in DYNLOAD_DROP)]
        return dropped

    return ignore


def manylinux_tags(sysroot: Sysroot, arch: Arch) -> list[str]:
    """manylinux platform tags a wheel may carry to run on the sysroot's glibc (newest first)."""
    libc = next((p for p in sysroot.packages.values() if p.name.startswith("libc6")), None)
    match = re.match(r"2\.(\d+)", libc.version if libc else "")
    newest = int(match.group(1)) if match else 17
    tags = [f"manylinux_2_{minor}_{arch.python_platform}" for minor in range(newest, 16, -1)]
    return [*tags, f"manylinux2014_{arch.python_platform}", f"linux_{arch.python_platform}"]


def prune_record(record: Path, site: Path) -> None:
    """Drop RECORD rows for files that are not in the image (console scripts outside the site
    directory); scanners read RECORD to tell which files a distribution owns."""
    kept = []
    for row in csv.reader(io.StringIO(record.read_text())):
        if not row:
            continue
        path = os.path.normpath(os.path.join(site, row[0]))
        if (path.startswith(str(site) + os.sep) and os.path.exists(path)) or row[0].endswith("RECORD"):
            kept.append(row)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(kept)
    fd, tmp = tempfile.mkstemp(dir=record.parent)
    with os.fdopen(fd, "w") as fh:
        fh.write(out.getvalue())
    os.replace(tmp, record)
