"""Base image profiles: TOML data files in pare/profiles, parsed into an immutable Profile.

A profile says how to make a rootfs (`builder`: "mmdebstrap" for a Debian variant with apt and a
shell, "debs" for a distroless tree unpacked from .deb files) and how the image runs (env, user,
workdir, entrypoint/cmd, labels). The file's bytes are part of the base's cache key, so editing a
profile rebuilds its base and nothing else.

One file serves every Debian suite pare uses: `slim-go@trixie` (or load_profile("slim-go",
suite="trixie")) is the slim-go profile built from trixie, named `slim-go-trixie` so its cache key,
tag and published reference differ from bookworm's `slim-go` (the file's own suite keeps the plain
name, so its key is unchanged).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from pare.bases.apt import SUITES
from pare.errors import NotFound, UsageError

BUILDERS = ("mmdebstrap", "debs")
VARIANTS = ("extract", "custom", "essential", "apt", "required", "minbase", "buildd", "important",
            "standard")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*$")

# dpkg path filters for "slim": no man pages, docs (but keep licences), locales or info pages.
SLIM_EXCLUDES = ("/usr/share/man/*", "/usr/share/doc/*", "/usr/share/locale/*", "/usr/share/info/*",
                 "/usr/share/lintian/*", "/usr/share/linda/*")
SLIM_KEEPS = ("/usr/share/doc/*/copyright", "/usr/share/locale/locale.alias")

_KNOWN = {"description", "builder", "suite", "architecture", "variant", "packages", "slim", "excludes",
          "keeps", "mirrors", "components", "exclude_packages", "resolve", "env", "user", "workdir",
          "entrypoint", "cmd", "labels", "users", "docker_apt"}


@dataclass(frozen=True)
class Profile:
    """One base image recipe, as data."""

    name: str
    raw: bytes  # the file's exact bytes: part of the cache key
    description: str
    builder: str
    suite: str = "bookworm"
    architecture: str = "amd64"
    variant: str = "minbase"
    packages: tuple[str, ...] = ()
    slim: bool = False
    excludes: tuple[str, ...] = ()  # dpkg path-exclude globs (absolute paths)
    keeps: tuple[str, ...] = ()  # dpkg path-include globs that win over excludes
    mirrors: tuple[str, ...] = ()
    components: tuple[str, ...] = ("main",)
    exclude_packages: tuple[str, ...] = ()  # "debs": never pull these in as dependencies
    resolve: bool = True  # "debs": follow Depends/Pre-Depends
    env: dict[str, str] = field(default_factory=dict)
    user: str = ""
    workdir: str = ""
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    users: bool = True  # "debs": write /etc/passwd and /etc/group with root and nonroot (65532)
    # "mmdebstrap": apt configured as Docker's Debian images configure it (pare.bases.mmdebstrap), so
    # a stand-in's `apt-get` layers weigh what they would on the image it stands in for
    docker_apt: bool = False

    @property
    def path_excludes(self) -> tuple[str, ...]:
        return (*(SLIM_EXCLUDES if self.slim else ()), *self.excludes)

    @property
    def path_keeps(self) -> tuple[str, ...]:
        return (*(SLIM_KEEPS if self.slim else ()), *self.keeps)

    @property
    def suite_mirrors(self) -> tuple[str, ...]:
        """apt source lines (without the leading 'deb')."""
        if self.mirrors:
            return self.mirrors
        comps = " ".join(self.components)
        return (f"http://deb.debian.org/debian {self.suite} {comps}",
                f"http://deb.debian.org/debian {self.suite}-updates {comps}",
                f"http://deb.debian.org/debian-security {self.suite}-security {comps}")


def profiles_dir() -> Path:
    return Path(str(resources.files("pare.bases") / "builtin"))


def profile_names() -> list[str]:
    return sorted(p.stem for p in profiles_dir().glob("*.toml"))


def split_suite(name: str) -> tuple[str, str | None]:
    """'slim-go@trixie' -> ('slim-go', 'trixie'); a plain name has no suite of its own."""
    base, sep, suite = name.partition("@")
    return (base, suite) if sep else (name, None)


def qualified_name(profile: str, suite: str) -> str:
    """The name a profile is asked for by when built from `suite` ('slim-go@trixie')."""
    return f"{profile}@{suite}"


def for_suite(profile: Profile, suite: str) -> Profile:
    """The profile built from another Debian suite, named `<name>-<suite>` (its own cache key and
    published name); the file's own suite gives the profile back unchanged."""
    if suite not in SUITES:
        raise UsageError(f"unknown suite {suite!r} for profile {profile.name} "
                         f"(choose from {', '.join(SUITES)})")
    if suite == profile.suite:
        return profile
    return replace(profile, name=f"{profile.name}-{suite}", suite=suite)


def load_profile(name_or_path: str | Path, suite: str | None = None) -> Profile:
    """A bundled profile by name (`slim-go`, or `slim-go@trixie` for another suite) or any
    profile file by path; `suite` builds it from that Debian suite."""
    text = str(name_or_path)
    if not (text.endswith(".toml") or "/" in text):
        text, named = split_suite(text)
        suite = suite or named
    path = Path(text)
    if not (text.endswith(".toml") or "/" in text):
        if not NAME_RE.match(text):
            raise UsageError(f"invalid profile name {text!r}")
        path = profiles_dir() / f"{text}.toml"
        if not path.is_file():
            raise NotFound(f"no base profile {text!r} (known: {', '.join(profile_names())})")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no profile file {path}") from None
    profile = parse_profile(path.stem, raw)
    return for_suite(profile, suite) if suite else profile


def parse_profile(name: str, raw: bytes) -> Profile:
    """Validate a profile's TOML; every mistake is a UsageError naming the profile and field."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"profile {name}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise UsageError(f"profile {name}: unknown field(s) {', '.join(unknown)}")

    def text(key: str, default: str = "") -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            raise UsageError(f"profile {name}: {key} must be a string")
        return value

    def strings(key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = data.get(key, list(default))
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise UsageError(f"profile {name}: {key} must be a list of non-empty strings")
        return tuple(value)

    def table(key: str) -> dict[str, str]:
        value: Any = data.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise UsageError(f"profile {name}: {key} must be a table of strings")
        return dict(value)

    def flag(key: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise UsageError(f"profile {name}: {key} must be true or false")
        return value

    builder = text("builder", "mmdebstrap")
    if builder not in BUILDERS:
        raise UsageError(f"profile {name}: builder must be one of {', '.join(BUILDERS)}")
    variant = text("variant", "minbase")
    if variant not in VARIANTS:
        raise UsageError(f"profile {name}: unknown mmdebstrap variant {variant!r}")
    packages = strings("packages")
    bad = [p for p in packages if not re.fullmatch(r"[a-z0-9][a-z0-9+.-]+(:[a-z0-9]+)?", p)]
    if bad:
        raise UsageError(f"profile {name}: invalid package name(s) {', '.join(bad)}")
    if builder == "debs" and not packages:
        raise UsageError(f"profile {name}: a debs profile needs packages")
    for key in ("excludes", "keeps"):
        if any(not p.startswith("/") for p in strings(key)):
            raise UsageError(f"profile {name}: {key} must be absolute path globs")
    suite = text("suite", "bookworm")
    arch = text("architecture", "amd64")
    if not re.fullmatch(r"[a-z0-9-]+", suite) or not re.fullmatch(r"[a-z0-9]+", arch):
        raise UsageError(f"profile {name}: invalid suite or architecture")
    return Profile(
        name=name, raw=raw, description=text("description"), builder=builder, suite=suite,
        architecture=arch, variant=variant, packages=packages, slim=flag("slim", False),
        excludes=strings("excludes"), keeps=strings("keeps"), mirrors=strings("mirrors"),
        components=strings("components", ("main",)), exclude_packages=strings("exclude_packages"),
        resolve=flag("resolve", True), env=table("env"), user=text("user"), workdir=text("workdir"),
        entrypoint=strings("entrypoint"), cmd=strings("cmd"), labels=table("labels"),
        users=flag("users", builder == "debs"), docker_apt=flag("docker_apt", False),
    )
