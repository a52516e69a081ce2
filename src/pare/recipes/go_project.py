"""What a Go app is: its go.mod, which package is the program, what toolchain it needs, and whether
its vendor/ directory lets it build with no module proxy.

- The main package: `--main` if given; else the module root when it is `package main`; else the
  only `package main` directory under `cmd/`; anything else is an error naming `--main`.
  Directories with their own go.mod are other modules and never part of this build.
- The toolchain: go.mod's `go` line is the minimum (strict since Go 1.21; an older go cannot even
  parse a three-part version such as `1.22.5`), `toolchain` the preferred release;
  `pick_toolchain` takes the oldest available release that satisfies the minimum.
- vendor/: what `go build -mod=vendor` checks, so the build fails here with one clear line rather
  than in the compiler: every requirement listed in vendor/modules.txt, explicit, same version,
  and every vendored package present.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pare.errors import UsageError

_VERSION = re.compile(r"(?:go)?(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?\Z")
_PACKAGE = re.compile(r"^\s*package\s+(\w+)", re.M)
_SKIP_DIRS = ("vendor", "testdata")


@dataclass(frozen=True)
class GoMod:
    module: str
    go: str | None  # the `go` line: minimum language/toolchain version
    toolchain: str | None  # the `toolchain` line without its "go" prefix
    requires: dict[str, str] = field(default_factory=dict)  # module path -> version
    replaces: tuple[str, ...] = ()  # `replace` directives as written


def read_go_mod(app_dir: Path) -> GoMod | None:
    """go.mod parsed (module, go, toolchain, require, replace), or None when there is none."""
    path = Path(app_dir) / "go.mod"
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: {exc}") from None
    text = re.sub(r"//[^\n]*", "", text)
    module = re.search(r"^module\s+\"?([^\s\"]+)\"?", text, re.M)
    if not module:
        raise UsageError(f"{path}: no module line")
    go = re.search(r"^go\s+(\S+)", text, re.M)
    if go and not _VERSION.match(go.group(1)):
        raise UsageError(f"{path}: go {go.group(1)!r} is not a Go version")
    toolchain = re.search(r"^toolchain\s+go(\S+)", text, re.M)
    replaces = tuple(" ".join(words) for words in _directive_words(text, "replace"))
    return GoMod(module.group(1), go.group(1) if go else None, toolchain.group(1) if toolchain else None,
                 dict(_directive(text, "require")), replaces)


def _directive_words(text: str, name: str) -> Iterable[list[str]]:
    for block in re.findall(rf"^{name}\s*\((.*?)^\)", text, re.S | re.M):
        for line in block.splitlines():
            if line.split():
                yield line.split()
    for line in re.findall(rf"^{name}\s+([^(\s].*)$", text, re.M):
        yield line.split()


def _directive(text: str, name: str) -> Iterable[tuple[str, str]]:
    for words in _directive_words(text, name):
        if len(words) >= 2:
            yield words[0], words[1]


# --- versions and toolchains ---------------------------------------------------------------------

def go_version_key(version: str) -> tuple[int, int, int, int, int]:
    """Sort key for Go versions: 1.21rc1 < 1.21.0 < 1.21.3 < 1.22; `1.21` (a language version) == 1.21.0."""
    found = _VERSION.match(version.strip())
    if not found:
        raise UsageError(f"{version!r} is not a Go version")
    major, minor, patch, kind, num = found.groups()
    pre = (0 if kind == "beta" else 1, int(num)) if kind else (2, 0)
    return int(major), int(minor), int(patch or 0), *pre


def satisfies(toolchain: str, minimum: str | None) -> bool:
    """Whether a Go release (e.g. the host's 1.19.8) can build a module whose go line is `minimum`."""
    return minimum is None or go_version_key(toolchain) >= go_version_key(minimum)


def pick_toolchain(available: Iterable[str], go_mod: GoMod) -> str | None:
    """The oldest of `available` releases that satisfies go.mod's go line (None: none does).
    The `toolchain` line is a preference, not a requirement: it only breaks ties toward itself."""
    fitting = sorted((v for v in available if satisfies(v, go_mod.go)), key=go_version_key)
    if go_mod.toolchain and go_mod.toolchain in fitting:
        return go_mod.toolchain
    return fitting[0] if fitting else None


# --- main package --------------------------------------------------------------------------------

def main_package(app_dir: Path, main: str | None = None) -> str:
    """The package to build, as `.` or `./cmd/NAME` (see module docstring)."""
    app_dir = Path(app_dir)
    if main:
        path = (app_dir / main).resolve()
        if not path.is_relative_to(app_dir.resolve()) or not path.is_dir():
            raise UsageError(f"--main {main}: no such directory in {app_dir}")
        if package_name(path) != "main":
            raise UsageError(f"--main {main}: not a main package (package {package_name(path) or 'none'})")
        return main
    if package_name(app_dir) == "main":
        return "."
    mains = [d for d in main_dirs(app_dir / "cmd", app_dir) if d != app_dir]
    if len(mains) == 1:
        return "./" + mains[0].relative_to(app_dir).as_posix()
    if mains:
        names = ", ".join("./" + d.relative_to(app_dir).as_posix() for d in mains)
        raise UsageError(f"{app_dir}: several main packages ({names}); choose one with --main")
    raise UsageError(f"{app_dir}: no main package at the root or under cmd/; give its directory with --main")


def package_name(directory: Path) -> str | None:
    """The package clause of the directory's non-test .go files (the first one that has one)."""
    for path in sorted(Path(directory).glob("*.go")):
        if path.name.endswith("_test.go") or not path.is_file():
            continue
        found = _PACKAGE.search(_strip_comments(path.read_text(encoding="utf-8", errors="replace")))
        if found:
            return found.group(1)
    return None


def _strip_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/|//[^\n]*", "", text, flags=re.S)


def main_dirs(root: Path, module_root: Path) -> list[Path]:
    """Directories under `root` holding `package main`, outside vendor/, testdata and other modules."""
    found: list[Path] = []
    if not root.is_dir():
        return found
    stack = [root]
    while stack:
        directory = stack.pop()
        if directory != module_root and (directory / "go.mod").exists():
            continue
        if package_name(directory) == "main":
            found.append(directory)
        stack += [d for d in directory.iterdir() if d.is_dir() and not d.is_symlink()
                  and d.name not in _SKIP_DIRS and not d.name.startswith((".", "_"))]
    return sorted(found)


# --- vendor/ -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VendorState:
    needed: bool  # go.mod requires modules
    present: bool  # vendor/modules.txt exists
    problems: tuple[str, ...]  # why `go build -mod=vendor` would refuse it

    @property
    def complete(self) -> bool:
        return not self.needed or (self.present and not self.problems)


def vendor_state(app_dir: Path, go_mod: GoMod) -> VendorState:
    app_dir = Path(app_dir)
    modules_txt = app_dir / "vendor" / "modules.txt"
    needed = bool(go_mod.requires)
    if not modules_txt.is_file():
        return VendorState(needed, False, ("no vendor/modules.txt",) if needed else ())
    listed: dict[str, str] = {}
    explicit: set[str] = set()
    problems = []
    current = None
    for line in modules_txt.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("# "):
            words = line[2:].split()
            current = words[0] if words else None
            if current and len(words) >= 2:
                listed[current] = words[1]
        elif line.startswith("## ") and current:
            if "explicit" in line[3:].split(";")[0].split():
                explicit.add(current)
        elif line and not line.startswith("#") and not (app_dir / "vendor" / line).is_dir():
            problems.append(f"vendor/{line} is missing")
    for module, version in sorted(go_mod.requires.items()):
        if module not in listed:
            problems.append(f"{module} {version} is not in vendor/modules.txt")
        elif listed[module] != version:
            problems.append(f"vendor/modules.txt has {module} {listed[module]}, go.mod requires {version}")
        elif module not in explicit:
            problems.append(f"vendor/modules.txt does not mark {module} as explicit")
    for module in sorted(explicit - go_mod.requires.keys()):
        problems.append(f"vendor/modules.txt lists {module}, which go.mod does not require")
    return VendorState(needed, True, tuple(problems))


def require_vendor(app_dir: Path, go_mod: GoMod) -> None:
    """UsageError in one line when the build would need a module proxy (none is assumed)."""
    state = vendor_state(app_dir, go_mod)
    if state.complete:
        return
    count = len(go_mod.requires)
    what = "has no vendor/" if not state.present else f"has an incomplete vendor/ ({state.problems[0]})"
    raise UsageError(f"{app_dir}: go.mod requires {count} module{'s' * (count != 1)} but the app {what}; "
                     "run `go mod vendor` and keep vendor/ with the app")
