"""Base images from profiles, cached by their inputs: `ensure_base("slim-go") -> Image`.

A base's key hashes everything that decides its bytes: the profile file, the builder (mmdebstrap
and its version, or pare's .deb assembler), suite, architecture, the epoch and pare's own base
format version. Bases live in a dedicated OCI layout (PARE_BASES, default ~/.cache/pare/bases)
tagged `base-<profile>-<key12>`, beside a small JSON record of how the build went (time, sizes,
packages). Tests, benchmarks and `pare build` share that cache, so each base is built once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import platformdirs

from pare.bases.mmdebstrap import RootfsLayer, build_rootfs, mmdebstrap_version, remove_tree
from pare.bases.profiles import Profile, load_profile
from pare.errors import NotFound
from pare.oci import mediatypes as mt
from pare.oci.image import Image
from pare.oci.tarwriter import source_date_epoch
from pare.stores.layout import LayoutStore

FORMAT = "1"  # bump when pare's assembly of a base changes its bytes
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LABEL_PREFIX = "dev.pare.base"


def cache_root() -> Path:
    return Path(platformdirs.user_cache_dir("pare"))


def bases_dir() -> Path:
    """The layout holding built bases (PARE_BASES overrides)."""
    env = os.environ.get("PARE_BASES")
    return Path(env) if env else cache_root() / "bases"


def deb_cache_dir() -> Path:
    """Shared .deb files (PARE_DEB_CACHE overrides)."""
    env = os.environ.get("PARE_DEB_CACHE")
    return Path(env) if env else cache_root() / "debs"


def apt_dir() -> Path:
    return cache_root() / "apt"


@dataclass(frozen=True)
class BaseStatus:
    """A profile, its cache key and what the cache holds for it."""

    profile: Profile
    key: str
    cached: bool
    record: dict[str, Any] | None  # the build record, when cached

    @property
    def key12(self) -> str:
        return self.key[:12]

    @property
    def tag(self) -> str:
        return f"base-{self.profile.name}-{self.key12}"


def _profile(profile: str | Path | Profile) -> Profile:
    return profile if isinstance(profile, Profile) else load_profile(profile)


def tool_version(profile: Profile) -> str:
    if profile.builder == "mmdebstrap":
        return f"mmdebstrap {mmdebstrap_version()}"
    return f"pare-debs {FORMAT}"


def base_key(profile: str | Path | Profile, epoch: int | None = None) -> str:
    """sha256 over everything that decides the base's bytes."""
    prof = _profile(profile)
    inputs = {"format": FORMAT, "profile": hashlib.sha256(prof.raw).hexdigest(), "name": prof.name,
              "tool": tool_version(prof), "suite": prof.suite, "architecture": prof.architecture,
              "epoch": source_date_epoch() if epoch is None else epoch}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _record_path(tag: str) -> Path:
    return bases_dir() / "records" / f"{tag}.json"


def status(profile: str | Path | Profile) -> BaseStatus:
    """Whether the base for `profile` (at today's inputs) is in the cache."""
    prof = _profile(profile)
    key = base_key(prof)
    tag = f"base-{prof.name}-{key[:12]}"
    record = None
    with contextlib.suppress(FileNotFoundError, ValueError):
        record = json.loads(_record_path(tag).read_text())
    cached = record is not None and _cached_image(tag) is not None
    return BaseStatus(prof, key, cached, record if cached else None)


def _cached_image(tag: str) -> Image | None:
    store = LayoutStore(bases_dir())
    if not (store.path / "index.json").exists():
        return None
    try:
        return store.read(tag)
    except NotFound:
        return None


@contextlib.contextmanager
def _lock(name: str) -> Iterator[None]:
    """One build per profile at a time across processes; a second caller waits, then hits the cache."""
    locks = bases_dir() / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _iso(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def image_config(profile: Profile, key: str, rootfs: RootfsLayer, epoch: int) -> dict[str, Any]:
    """The runtime config and history of a base, all from the profile."""
    env = dict(profile.env)
    env.setdefault("PATH", DEFAULT_PATH)
    runtime: dict[str, Any] = {"Env": [f"{k}={v}" for k, v in env.items()]}
    if profile.entrypoint:
        runtime["Entrypoint"] = list(profile.entrypoint)
    if profile.cmd:
        runtime["Cmd"] = list(profile.cmd)
    if profile.user:
        runtime["User"] = profile.user
    if profile.workdir:
        runtime["WorkingDir"] = profile.workdir
    runtime["Labels"] = {**profile.labels, f"{LABEL_PREFIX}.profile": profile.name,
                         f"{LABEL_PREFIX}.key": key[:12], f"{LABEL_PREFIX}.suite": profile.suite}
    how = (f"mmdebstrap --variant={profile.variant}" if profile.builder == "mmdebstrap"
           else "pare .deb assembly (no shell, apt or dpkg)")
    history = {"created": _iso(epoch), "created_by": f"pare base build {profile.name}: {how}, "
               f"{len(rootfs.packages)} packages", "comment": profile.description}
    return {"architecture": profile.architecture, "os": "linux", "created": _iso(epoch),
            "config": runtime, "history": [history]}


def build_base(profile: str | Path | Profile, *, workdir: Path, log: IO[str] | None = None,
               epoch: int | None = None) -> tuple[Image, RootfsLayer]:
    """Build the base image (no cache involved); its layer blob lives in `workdir`."""
    prof = _profile(profile)
    when = source_date_epoch() if epoch is None else epoch
    key = base_key(prof, when)
    if prof.builder == "mmdebstrap":
        rootfs = build_rootfs(prof, workdir=workdir, deb_cache=deb_cache_dir(), epoch=when, log=log)
    else:
        from pare.bases.debs import build_distroless
        rootfs = build_distroless(prof, workdir=workdir, deb_cache=deb_cache_dir(), apt_root=apt_dir(),
                                  epoch=when, log=log)
    image = Image.assemble(image_config(prof, key, rootfs, when), [rootfs.layer], mt.OCI_MANIFEST)
    return image, rootfs


def ensure_base(profile: str | Path | Profile, *, rebuild: bool = False, log: IO[str] | None = None) -> Image:
    """The base for `profile`: from the cache when its inputs are unchanged, else built and cached."""
    prof = _profile(profile)
    key = base_key(prof)
    tag = f"base-{prof.name}-{key[:12]}"
    if not rebuild and (image := _cached_image(tag)) is not None:
        return image
    with _lock(prof.name):
        if not rebuild and (image := _cached_image(tag)) is not None:
            return image  # built by someone else while we waited
        bases_dir().mkdir(parents=True, exist_ok=True)
        for stale in bases_dir().glob(f"build-{prof.name}+*"):  # left by a killed build (we hold its lock)
            remove_tree(stale)
        work = Path(tempfile.mkdtemp(prefix=f"build-{prof.name}+", dir=bases_dir()))
        try:
            started = time.monotonic()
            built, rootfs = build_base(prof, workdir=work, log=log)
            store = LayoutStore(bases_dir())
            digest = store.write(built, tag)
            record = {"profile": prof.name, "key": key, "tag": tag, "digest": str(digest),
                      "tool": tool_version(prof), "seconds": round(time.monotonic() - started, 1),
                      "tar_bytes": rootfs.layer.uncompressed_size, "compressed_bytes": built.compressed_size,
                      "packages": list(rootfs.packages),
                      "built_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
            path = _record_path(tag)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(record, indent=1) + "\n")
            os.replace(tmp, path)
        finally:
            remove_tree(work)
        cached = _cached_image(tag)
        if cached is None:
            raise NotFound(f"base {tag} vanished from {bases_dir()} right after it was written")
        return cached


def base_reference(profile: str | Path | Profile, registry_address: str) -> str:
    """Where publish_base puts a base: REGISTRY/pare/base/<profile>:<key12>."""
    prof = _profile(profile)
    return f"{registry_address}/pare/base/{prof.name}:{base_key(prof)[:12]}"


def publish_base(profile: str | Path | Profile, registry_address: str, *, insecure: bool = False) -> str:
    """Push the (cached or freshly built) base to a registry and return its reference.

    A Dockerfile can then say `FROM <that reference>` (buildah: --tls-verify=false for plain HTTP).
    Loopback registries speak plain HTTP; `insecure` allows it for other hosts too.
    """
    from pare.stores.transports import open_location
    image = ensure_base(profile)
    ref = base_reference(profile, registry_address)
    store, name = open_location(ref, insecure=insecure)
    store.write(image, name)
    return ref
