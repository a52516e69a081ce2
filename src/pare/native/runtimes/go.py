"""The Go toolchain a module asks for: the build machine's `go` when it satisfies go.mod (as ko
uses it), else Debian's golang-1.N-go fetched into pare's cache (trixie has 1.24, forky 1.26 and
1.27). Go binaries are static: the toolchain compiles, it never ships; the image's runtime is the
Debian foundation (CA certificates, tzdata, os-release) of the lock's suite.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pare.errors import UsageError
from pare.native.lock import Artifact, Lock
from pare.native.platforms import Arch, host_arch
from pare.native.runtimes.debian import FOUNDATION, resolve_debs, suite_index
from pare.native.sysroot import ensure_sysroot

# Suites to look in for a newer toolchain than the host's, oldest first.
TOOLCHAIN_SUITES = ("bookworm", "trixie", "forky")


def parse_go_version(text: str) -> tuple[int, int, int]:
    """'1.22', '1.22.3', 'go1.22rc1' -> (1, 22, 0|3); UsageError for anything else."""
    match = re.fullmatch(r"(?:go)?(\d+)\.(\d+)(?:\.(\d+))?(?:(?:rc|beta)\d+)?", text.strip())
    if not match:
        raise UsageError(f"invalid Go version {text!r}")
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def required_version(app_dir: Path) -> str | None:
    """The newest of go.mod's `go` and `toolchain` lines (the toolchain go must be at least that)."""
    mod = app_dir / "go.mod"
    if not mod.is_file():
        return None
    text = mod.read_text(errors="replace")
    found = [m.group(1) for m in re.finditer(r"^\s*(?:go|toolchain)\s+(?:go)?(\d+\.\d+(?:\.\d+)?)\s*$",
                                              text, re.M)]
    return max(found, key=parse_go_version) if found else None


def host_go() -> tuple[str, str] | None:
    """(path, 'go1.19.8') of the build machine's go, if any."""
    path = shutil.which("go")
    if path is None:
        return None
    done = subprocess.run([path, "env", "GOVERSION"], capture_output=True, text=True, check=False,
                          env={"PATH": "/usr/bin:/bin", "GOTOOLCHAIN": "local", "HOME": "/nonexistent"})
    version = done.stdout.strip()
    return (path, version) if done.returncode == 0 and version.startswith("go") else None


def debian_toolchain(minimum: tuple[int, int, int]) -> tuple[str, str]:
    """(suite, package) of the oldest Debian golang-1.N-go that is at least `minimum`."""
    arch = host_arch()
    candidates: list[tuple[tuple[int, int, int], str, str]] = []
    for suite in TOOLCHAIN_SUITES:
        for name, pkg in suite_index(suite, arch).items():
            match = re.fullmatch(r"golang-(\d+)\.(\d+)-go", name)
            if not match:
                continue
            upstream = re.match(r"(?:\d+:)?(\d+)\.(\d+)(?:\.(\d+))?", pkg.version)
            if upstream is None:
                continue
            version = (int(upstream.group(1)), int(upstream.group(2)), int(upstream.group(3) or 0))
            if version >= minimum:
                candidates.append((version, suite, name))
    if not candidates:
        raise UsageError(f"no Go toolchain >= {'.'.join(map(str, minimum))} on this machine or in Debian "
                         f"{', '.join(TOOLCHAIN_SUITES)}")
    _version, suite, name = min(candidates)
    return suite, name


def resolve(minimum: str | None, suite: str, arches: Sequence[Arch]) -> list[Artifact]:
    """The toolchain (the host's go as a host artifact, or Debian's) and each platform's foundation."""
    wanted = parse_go_version(minimum) if minimum else (0, 0, 0)
    artifacts: list[Artifact] = []
    host = host_go()
    if host is not None and parse_go_version(host[1]) >= wanted:
        artifacts.append(Artifact("host", "toolchain", host_arch().name, "go", host[1]))
    else:
        tool_suite, package = debian_toolchain(wanted)
        artifacts += resolve_debs(tool_suite, host_arch(), (package,), role="toolchain")
    for arch in arches:
        artifacts += resolve_debs(suite, arch, FOUNDATION)
    return artifacts


@dataclass(frozen=True)
class GoToolchain:
    """The locked toolchain: where its `go` is and which version it is."""

    go: str
    version: str

    @classmethod
    def from_lock(cls, lock: Lock) -> GoToolchain:
        host = [a for a in lock.select(kind="host", role="toolchain") if a.name == "go"]
        if host:
            found = host_go()
            if found is None or found[1] != host[0].version:
                have = found[1] if found else "no go"
                raise UsageError(f"pare.lock builds with this machine's {host[0].version}, but it has "
                                 f"{have}: run pare build --update-lock")
            return cls(found[0], found[1])
        debs = lock.select(kind="deb", role="toolchain", platform=host_arch().name)
        names = [a.name for a in debs if re.fullmatch(r"golang-\d+\.\d+-go", a.name)]
        if len(names) != 1:
            raise UsageError("pare.lock names no Go toolchain: run pare build --update-lock")
        root = ensure_sysroot(debs, host_arch())
        minor = names[0].removeprefix("golang-").removesuffix("-go")
        go = root.host(f"/usr/lib/go-{minor}/bin/go")
        if not go.is_file():
            raise UsageError(f"{names[0]} in pare.lock has no bin/go")
        version = next(a.version for a in debs if a.name == names[0])
        return cls(str(go), f"go{version}")
