"""A compiled program shipped on a whole OS image: the builder pattern's last step left undone.

The shape: a multi-stage Dockerfile whose final stage starts FROM debian or ubuntu, copies what a
Go or Rust stage built, and installs nothing beyond what a distroless image already holds (CA
certificates, time zones). The OS brings a shell, apt, dpkg and coreutils the program never runs
(debian:bookworm-slim is about 75 MB); gcr.io/distroless runs the same binary in 2 to 23 MB:
- Go built with CGO_ENABLED=0: distroless/static (no libc needed);
- Go with cgo on (golang images default to it), so libc's resolver may be linked: distroless/base;
- Rust (glibc and libgcc_s): distroless/cc.
The distroless release follows the final stage's Debian release, so the binary finds the glibc it
was meant to run with. Anything the stage does that distroless cannot (another RUN, a shell-form
command, a HEALTHCHECK, a USER by name) leaves the shape unmatched: pare lint says nothing and
pare fix does not guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pare.lint import pricing
from pare.lint.parser import Dockerfile, Instruction, Stage
from pare.lint.shell import commands

MB = pricing.MB
OS_IMAGES = {  # repository -> uncompressed size of its usual tags (Docker Hub, amd64), rounded
    "debian": 75 * MB,  # bookworm-slim 74.8 MB; the full tag is 117 MB
    "ubuntu": 78 * MB,  # 22.04 77.9 MB, 24.04 78.1 MB
}
FULL_DEBIAN = 117 * MB
DISTROLESS = {"static": 2 * MB, "base": 21 * MB, "cc": 23 * MB}  # gcr.io/distroless/*-debian12
PROVIDED = {"ca-certificates", "tzdata"}  # what every distroless image already holds
USERS = {"root", "nonroot", "nobody"}  # the names distroless's /etc/passwd has


@dataclass(frozen=True)
class CompiledOnOS:
    """The matched shape, and what pare fix needs to rewrite it."""

    language: str  # go or rust
    static: bool  # Go built with CGO_ENABLED=0
    variant: str  # static, base or cc
    release: str  # debian12 or debian13
    os_size: int
    provided_installs: tuple[Instruction, ...]  # the RUNs distroless makes unneeded

    @property
    def image(self) -> str:
        return f"gcr.io/distroless/{self.variant}-{self.release}:nonroot"

    @property
    def saving(self) -> int:
        return self.os_size - DISTROLESS[self.variant]


def compiled_on_os(df: Dockerfile) -> CompiledOnOS | None:
    """The shape in the module docstring, or None."""
    final = df.final
    if len(df.stages) < 2 or final.parent is not None:
        return None
    repo, tag = pricing.repository(final.base)
    if repo not in OS_IMAGES:
        return None
    builders = [df.stage_named(inst.flag("from") or "") for inst in final.of("COPY")
                if inst.flag("from") is not None]
    languages = {_language(df, s) for s in builders if s is not None} - {None}
    if len(languages) != 1 or not _runs_anywhere(final):
        return None
    language = languages.pop()
    installs = final.of("RUN")
    if not all(_installs_only_provided(inst) for inst in installs):
        return None
    static = language == "go" and all(_cgo_off(df, s) for s in builders if s is not None)
    variant = "static" if static else "base" if language == "go" else "cc"
    size = FULL_DEBIAN if repo == "debian" and not pricing.SLIM_TAG.search(tag) else OS_IMAGES[repo]
    return CompiledOnOS(str(language), static, variant, _release(repo, tag), size, tuple(installs))


def _language(df: Dockerfile, stage: Stage) -> str | None:
    """go or rust when the stage (or the stage it is built FROM) is a Go or Rust toolchain."""
    while True:
        repo, _ = pricing.repository(stage.base)
        name = repo.rsplit("/", 1)[-1]
        if name in ("golang", "rust", "fat-go"):
            return "rust" if name == "rust" else "go"
        if stage.parent is None:
            return None
        stage = df.stages[stage.parent]


def _runs_anywhere(stage: Stage) -> bool:
    """Nothing in the stage needs a shell or a user database distroless lacks."""
    if stage.of("HEALTHCHECK", "ONBUILD", "SHELL"):
        return False
    if any(not inst.json for inst in stage.of("CMD", "ENTRYPOINT")):
        return False
    for inst in stage.of("USER"):
        user = inst.words[0].split(":")[0] if inst.words else ""
        if not (user.isdigit() or user in USERS):
            return False
    return bool(stage.of("CMD", "ENTRYPOINT"))


def _installs_only_provided(inst: Instruction) -> bool:
    """A RUN that only installs CA certificates or time zones with apt (and cleans up after)."""
    if inst.json or inst.heredocs or inst.flags:
        return False
    installed: set[str] = set()
    for cmd in commands(" ".join(inst.args)):
        if cmd.name == "set":
            continue
        if cmd.name in ("apt-get", "apt"):
            verbs = [w for w in cmd.operands() if w in ("update", "install", "clean", "autoremove")]
            if not verbs:
                return False
            installed |= {w for w in cmd.operands() if w not in verbs}
        elif cmd.name == "rm":
            if not all(w.startswith(("-", "/var/lib/apt/lists", "/var/cache/apt")) for w in cmd.argv[1:]):
                return False
        else:
            return False
    return bool(installed) and installed <= PROVIDED


def _cgo_off(df: Dockerfile, stage: Stage) -> bool:
    chain = [stage]
    while chain[-1].parent is not None:
        chain.append(df.stages[chain[-1].parent])
    if any(s.env.get("CGO_ENABLED") == "0" for s in chain):
        return True
    return any(re.search(r"\bCGO_ENABLED=0\b", " ".join(i.args)) for s in chain for i in s.of("RUN", "ENV"))


def _release(repo: str, tag: str) -> str:
    """debian13 for trixie (the suite pricing.debian_suite reads from the tag: `latest`, `stable`
    and a bare version are today's stable) and for Ubuntu 24.04 on, whose glibc is newer than
    bookworm's; else debian12."""
    if repo == "debian":
        suite = pricing.debian_suite(f"debian:{tag}" if tag else "debian")
        return "debian13" if suite == "trixie" else "debian12"
    match = re.match(r"(\d+)\.", tag)
    return "debian13" if match and int(match.group(1)) >= 24 else "debian12"
