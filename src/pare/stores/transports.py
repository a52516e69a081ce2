"""Store locations as skopeo users write them.

    oci:PATH[:TAG]              an OCI image layout directory
    docker-archive:PATH[:REF]   a `docker save` tarball (legacy or OCI-in-tar)
    HOST[:PORT]/NAME[:TAG]      a registry (plain HTTP for localhost/127.x, else TLS)
    docker://REF                a registry, Docker Hub's short names included (docker://alpine)
    local:[NAME]                pare's embedded layout store under the user cache dir

A name without a transport is a registry only when its first component is a host (it holds a dot
or a colon, or is `localhost`), as Docker itself splits names. `pare inspect out` or `pare pull REF
app:1` is refused, with the transport that fits suggested: a typo never publishes to Docker Hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pare.errors import UsageError
from pare.oci.reference import Reference
from pare.stores.base import Store

if TYPE_CHECKING:
    from pare.oci.digest import Digest
    from pare.oci.image import Image
    from pare.oci.index import ImageIndex

TRANSPORTS = ("oci", "docker-archive", "docker", "local")


@dataclass(frozen=True)
class Location:
    transport: str
    path: str | None  # layout dir or archive file
    name: str | None  # tag, archive ref, or full registry reference

    def __str__(self) -> str:
        if self.transport == "docker":
            return f"docker://{self.name}"
        if self.transport == "local":
            return f"local:{self.name or ''}"
        return f"{self.transport}:{self.path}" + (f":{self.name}" if self.name else "")


def default_store_dir() -> Path:
    """The embedded default OCI layout (PARE_STORE overrides)."""
    import os

    import platformdirs  # imported here: it costs start-up time on every command otherwise
    env = os.environ.get("PARE_STORE")
    return Path(env) if env else Path(platformdirs.user_cache_dir("pare")) / "layout"


def parse_location(text: str) -> Location:
    if not text:
        raise UsageError("empty image location")
    if text.startswith("docker://"):
        ref = text.removeprefix("docker://")
        Reference.parse(ref)
        return Location("docker", None, ref)
    transport, sep, rest = text.partition(":")
    if sep and transport in ("oci", "docker-archive"):
        if not rest:
            raise UsageError(f"{text!r}: {transport}: needs a path")
        path, name = _split_path_name(rest)
        return Location(transport, path, name or None)
    if sep and transport == "local":
        return Location("local", str(default_store_dir()), rest or None)
    if sep and transport in ("docker-daemon", "containers-storage", "dir", "oci-archive"):
        raise UsageError(f"transport {transport!r} is not supported (use oci:, docker-archive: or docker://)")
    Reference.parse(text)  # a malformed name is refused as such first
    if not names_registry_host(text):
        raise UsageError(_no_transport(text))
    return Location("docker", None, text)


def names_registry_host(text: str) -> bool:
    """Does `text` start with a registry host ('127.0.0.1:5000/app', 'ghcr.io/x', 'localhost/app')?"""
    head, slash, _ = text.partition("/")
    return bool(slash) and ("." in head or ":" in head or head == "localhost")


def _no_transport(text: str) -> str:
    """The one-line refusal for a location without a transport, with the one that fits."""
    for candidate in dict.fromkeys((text, text.partition(":")[0])):  # 'out', or 'out:tag' with out a dir
        rest = text[len(candidate):]
        if _is_dir(Path(candidate)):
            return f"{text!r} has no transport: did you mean oci:{candidate}{rest}?"
        if _is_file(Path(candidate)):
            return f"{text!r} has no transport: did you mean docker-archive:{candidate}{rest}?"
    return (f"{text!r} has no transport and names no registry host: write oci:DIR, "
            f"docker-archive:FILE, local:NAME, HOST[:PORT]/NAME, or docker://{text} for Docker Hub")


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _exists(path: str) -> bool:
    """Path.exists that treats a name the system refuses (too long, a NUL) as absent."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


def _split_path_name(rest: str) -> tuple[str, str | None]:
    """'dir:tag' -> ('dir', 'tag'); a colon inside an existing path is kept as part of the path."""
    if ":" not in rest or _exists(rest):
        return rest, None
    path, _, name = rest.rpartition(":")
    if not path:
        return rest, None
    # docker-archive refs may themselves hold a registry port: 'a.tar:localhost:5000/x:1'
    if not _exists(path) and ":" in path:
        head, _, tail = rest.partition(":")
        if _exists(head) or head.endswith((".tar", ".tar.gz")):
            return head, tail
    return path, name


def store_for(loc: Location, *, insecure: bool = False, parallel: int = 4) -> Store:
    """The store a parsed location names, moving up to `parallel` blobs at once."""
    if parallel < 1:
        raise UsageError(f"--parallel must be at least 1, not {parallel}")
    if loc.transport in ("oci", "local"):
        from pare.stores.layout import LayoutStore
        assert loc.path is not None
        return LayoutStore(Path(loc.path), parallel=parallel)
    if loc.transport == "docker-archive":
        from pare.stores.archive import ArchiveStore
        assert loc.path is not None
        return ArchiveStore(Path(loc.path), parallel=parallel)
    from pare.stores.registry.store import RegistryStore
    assert loc.name is not None
    return RegistryStore(Reference.parse(loc.name).registry, insecure, parallel=parallel)


def open_location(text: str, *, insecure: bool = False, parallel: int = 4) -> tuple[Store, str | None]:
    """The store a location names, and the name within it."""
    loc = parse_location(text)
    return store_for(loc, insecure=insecure, parallel=parallel), loc.name


def write_to(location: str, artifact: Image | ImageIndex, *, insecure: bool = False, parallel: int = 4
             ) -> Digest:
    """Write an Image, or an ImageIndex (every platform and the index, byte for byte), to any location:

        write_to("oci:out:app", ImageIndex.assemble([amd64_image, arm64_image]))

    Returns the digest written (the index's, for an index)."""
    store, name = open_location(location, insecure=insecure, parallel=parallel)
    try:
        return store.write_any(artifact, name)
    finally:
        store.close()
