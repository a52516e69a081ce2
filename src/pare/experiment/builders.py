"""Builders for the bench: pare's build library, one variant each, with storage the bench owns so
"cold" can mean what the playbook meant: builder storage emptied, base pulled from the registry.

Everything a build caches is pointed into the builder's own state directory: the engine's storage
(PARE_ENGINE_STATE), pare's build caches (PARE_BUILD_CACHE: npm installs, native layers), Go's build
and module caches, npm's cache, and the gzipped layer blobs (PARE_BLOB_CACHE: seeded with the
bases' blobs only, so a cold build gzips every layer it made, as docker push would). The base
images themselves stay in pare's base cache (building a Debian base is not what the experiment
measures); the engine pulls them from the bench's base registry, through the profile's bandwidth
limit.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pare.engines.storage import remove_storage
from pare.experiment.runner import Builder


class PareBuilder(Builder):
    def __init__(self, variant: str, engine: str, state: Path) -> None:
        self.variant = variant
        self.engine = engine
        self.state = state
        self.description = "native" if variant == "native" else f"{variant} with {engine}"
        self.compressor = compressor_of(variant, engine)
        self.bases: tuple[str, ...] = ()  # the base profiles, once base_profiles was asked

    def reset_cache(self) -> None:
        remove_storage(self.state)
        self.state.mkdir(parents=True)
        self.seed_base_blobs()

    def seed_base_blobs(self) -> None:
        """A cold build starts with its bases' layers gzipped and nothing else: docker has a base's
        blobs from the pull and its push reuses them, but compresses every layer the build made.
        The bases' blobs come from pare's shared blob cache (made once), linked in."""
        from pare.oci import gogzip
        if not self.bases or not gogzip.available():
            return
        from pare.bases.cache import ensure_base
        from pare.engines.layerblobs import BlobCache
        mine, shared = BlobCache(self.state / "blobs"), BlobCache()
        for profile in self.bases:
            mine.seed(shared, ensure_base(profile).layers)

    def cleanup(self) -> None:
        remove_storage(self.state)

    def env(self) -> dict[str, str]:
        self.state.mkdir(parents=True, exist_ok=True)
        return {**os.environ, "PARE_ENGINE_STATE": str(self.state / "engines"),
                "PARE_BUILD_CACHE": str(self.state / "build"), "GOCACHE": str(self.state / "go-build"),
                "GOMODCACHE": str(self.state / "go-mod"), "npm_config_cache": str(self.state / "npm"),
                "GOFLAGS": "-modcacherw", "PARE_BLOB_CACHE": str(self.state / "blobs")}

    def command(self, app_dir: Path, layout: Path, tag: str) -> list[str]:
        argv = [sys.executable, "-m", "pare.experiment.buildchild", "--app", str(app_dir),
                "--dest", f"oci:{layout}:{tag}", "--engine", self.engine,
                "--engine-state", str(self.state / "engines" / self.engine)]
        if self.variant == "native":
            argv.append("--native")
        else:
            argv += ["--strategy", self.variant]
        if self.base_registry:
            argv += ["--registry", self.base_registry]
        return argv

    def base_profiles(self, app_dir: Path) -> tuple[str, ...]:
        """The base profiles this variant's Dockerfile starts FROM (none for native)."""
        if self.variant == "native":
            return ()
        from pare.engines.dockerfile import generate
        from pare.recipes import detect
        self.bases = generate(detect(app_dir).docker_facts(), self.variant).profiles
        return self.bases


def compressor_of(variant: str, engine: str) -> str:
    """Who compresses the variant's layers, and how. Dockerfile builds: pare gzips the engine's
    uncompressed export with Go's compress/gzip at its default level, what `docker push` uses, for
    every layer (the base's blobs are made once and reused by diff_id); without `go` the engine's
    own push compresses (docker save: nothing does). Native builds: pare's zstd."""
    if variant == "native":
        from pare.native.assemble import APP_ZSTD_LEVEL, ZSTD_LEVEL
        return f"zstd by pare (level {ZSTD_LEVEL} runtime and dependencies, {APP_ZSTD_LEVEL} app)"
    from pare.oci import gogzip
    if gogzip.available():
        return f"gzip by pare after {engine}: {gogzip.describe()}"
    if engine == "docker":
        return "none: docker save's uncompressed layers (no go for Docker's gzip)"
    return f"gzip by {engine} push (containers/image pgzip, default level)"


def builder_for(variant: str, engine: str, state: Path) -> PareBuilder:
    return PareBuilder(variant, engine, state)
