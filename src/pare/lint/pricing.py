"""What a finding costs in bytes, from known sizes, before anything is built.

Every number here is an estimate with its source beside it; `pare lint --measure` is the way to get
exact figures from the image's layers. Base sizes are the uncompressed amd64 sizes the registries
list for the official images (Docker Hub's tag pages, gcr.io/distroless's), rounded; they move with
each release, by a few percent, which is the precision these estimates claim.
"""

from __future__ import annotations

import re

MB = 1_000_000

# Package caches left in a layer.
APT_LISTS = 20 * MB  # /var/lib/apt/lists after `apt-get update` on a Debian image (suite unknown)
# ...per suite, as Docker's Debian images keep them (main, -updates, -security; Acquire::GzipIndexes,
# so apt stores each Packages file lz4-compressed, and no translations). Measured 2026-12-07: the
# sum of the files `apt-get -o Acquire::GzipIndexes=true -o Acquire::Languages=none update` leaves
# in its lists directory (bookworm main is frozen between point releases; security grows slowly).
APT_LISTS_BY_SUITE = {"bookworm": 19_878_839, "trixie": 21_678_349}
STABLE_SUITE = "trixie"  # what an official image's untagged or version-only tag is built on today
DEBIAN_RELEASES = {"12": "bookworm", "13": "trixie"}
OLDER_SUITES = ("jessie", "stretch", "buster", "bullseye")  # named in tags, not priced per suite
APT_RECOMMENDS = 60 * MB  # recommends of a typical `apt-get install` of a handful of tools (e.g. curl
#                      git build-essential pulls ~60 MB of extra packages: apt-get -s, bookworm).
APK_CACHE = 3 * MB  # /var/cache/apk: the APKINDEX files of main + community (alpine 3.19)
YUM_CACHE = 100 * MB  # /var/cache/yum|dnf metadata after one install (UBI 9 / Fedora: 80-150 MB)
PIP_CACHE = 40 * MB  # ~/.cache/pip: the wheels pip downloaded, kept beside what it installed; for a
#                      Flask/Django app with a dozen dependencies, 20-60 MB.
NPM_CACHE = 50 * MB  # ~/.npm/_cacache after installing an Express/Nest app's dependencies
NODE_DEV_DEPENDENCIES = 120 * MB  # devDependencies of a TypeScript app (typescript 23 MB, eslint,
#                      jest, @types...): node_modules with dev minus without, 100-200 MB typical.
# A dependency layer rebuilt and pushed again on every code change when the whole tree is copied
# first: node_modules of an Express app, a Django venv, a Go module cache, a Cargo registry...
DEPENDENCY_LAYER = {"node": 150 * MB, "python": 80 * MB, "go": 120 * MB, "ruby": 60 * MB, "php": 40 * MB,
                    "java": 100 * MB, "rust": 300 * MB, "dotnet": 100 * MB}
APP_TREE = 20 * MB  # an application's own files copied with `COPY . .` (a small service), when
#                      a chown -R duplicates them
DOWNLOAD = 50 * MB  # a downloaded archive or installer removed in a later layer

# Base images: (pattern on the repository name, tag test, uncompressed size).
_FULL = {  # full (Debian "buildpack-deps" based) variants of runtime images, and their slim sizes
    "node": (1_100 * MB, 200 * MB), "python": (1_000 * MB, 130 * MB), "ruby": (1_000 * MB, 220 * MB),
    "perl": (900 * MB, 150 * MB), "elixir": (1_500 * MB, 100 * MB), "erlang": (1_300 * MB, 150 * MB),
    "php": (500 * MB, 500 * MB), "openjdk": (470 * MB, 260 * MB), "eclipse-temurin": (450 * MB, 260 * MB),
}
TOOLCHAINS = {  # compile toolchains and what the built program needs instead
    "golang": (800 * MB, 2 * MB),  # distroless/static (or scratch) for a static Go binary
    "rust": (1_500 * MB, 23 * MB),  # distroless/cc
    "gcc": (1_400 * MB, 23 * MB),
    "maven": (500 * MB, 260 * MB),  # a JRE image
    "gradle": (700 * MB, 260 * MB),
    "buildpack-deps": (800 * MB, 80 * MB),
    "dotnet/sdk": (800 * MB, 220 * MB),  # mcr.microsoft.com/dotnet/aspnet
    "fat-go": (800 * MB, 2 * MB), "fat-node": (700 * MB, 130 * MB),  # pare's own fat profiles
}
SLIM_TAG = re.compile(r"(^|-)(slim|alpine|distroless|jre|minimal|micro)")


def repository(reference: str) -> tuple[str, str]:
    """(repository path without registry or library/, tag) of an image reference."""
    ref = reference.split("@", 1)[0]
    name, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "")
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if parts[:1] == ["library"]:
        parts = parts[1:]
    return "/".join(parts), tag


NOT_DEBIAN = ("ubuntu", "centos", "fedora", "alpine", "amazonlinux", "rockylinux", "almalinux", "busybox")


def debian_suite(reference: str) -> str | None:
    """The Debian suite the image `reference` is built on: the one its tag names (`bookworm`,
    `-trixie`, `debian:12`), else today's stable for Debian and the official images built on it
    (Docker's official images are Debian-based unless their tag says otherwise); None for another
    distribution or a private base."""
    repo, tag = repository(reference)
    for word in re.split(r"[-_.]", tag):
        if word in APT_LISTS_BY_SUITE or word in OLDER_SUITES:
            return word
    if repo == "debian" and tag.split(".")[0] in DEBIAN_RELEASES:
        return DEBIAN_RELEASES[tag.split(".")[0]]
    if "/" not in repo and repo not in NOT_DEBIAN and "alpine" not in tag:
        return STABLE_SUITE
    return None


def apt_lists(reference: str) -> int:
    """What `apt-get update` leaves in a layer on the image `reference` (its suite's lists, or the
    generic figure where the distribution is not known)."""
    suite = debian_suite(reference)
    return APT_LISTS_BY_SUITE.get(suite or "", APT_LISTS)


def toolchain(reference: str) -> tuple[int, int] | None:
    """(size, size of what would run the result) when the reference is a compile toolchain."""
    repo, tag = repository(reference)
    for name, sizes in TOOLCHAINS.items():
        if repo == name or repo.endswith("/" + name):
            if name in ("openjdk", "eclipse-temurin") and "jre" in tag:
                return None
            return sizes
    if repo in ("openjdk", "eclipse-temurin", "amazoncorretto") and "jre" not in tag:
        return (470 * MB, 260 * MB)
    return None


def full_runtime(reference: str) -> tuple[int, int] | None:
    """(size, slim size) when the reference is the full variant of a runtime that also comes slim."""
    repo, tag = repository(reference)
    if repo not in _FULL or repo in ("openjdk", "eclipse-temurin", "php") or SLIM_TAG.search(tag):
        return None
    return _FULL[repo]
