"""Image references with Docker's grammar: [registry[:port]/]repo[/repo...][:tag][@digest].

Rules shared with docker, skopeo and crane: the first path component is a registry only if it
contains a '.' or ':', is 'localhost', or has uppercase letters; otherwise the registry is docker.io,
and a single-component name there gets 'library/'. A reference with neither tag nor digest means
':latest'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pare.errors import InvalidReference
from pare.oci.digest import Digest

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"
_LEGACY_REGISTRIES = {"index.docker.io": DEFAULT_REGISTRY, "registry-1.docker.io": DEFAULT_REGISTRY}
_DOCKER_HUB_API = "registry-1.docker.io"

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = re.compile(rf"^{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*$")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = re.compile(
    rf"^(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+(?:%[\w.-]+)?\])(?::[0-9]+)?$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_NAME_MAX = 255


@dataclass(frozen=True)
class Reference:
    """A parsed image reference; registry and repository are already normalised."""

    registry: str
    repository: str
    tag: str | None = None
    digest: Digest | None = None

    @classmethod
    def parse(cls, text: str) -> Reference:
        if not text or text != text.strip():
            raise InvalidReference(f"invalid reference {text!r}: empty or surrounded by spaces")
        rest = text
        digest: Digest | None = None
        if "@" in rest:
            rest, _, digest_text = rest.partition("@")
            try:
                digest = Digest.parse(digest_text)
            except InvalidReference as exc:
                raise InvalidReference(f"invalid reference {text!r}: {exc}") from None
        tag: str | None = None
        slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > slash:
            rest, tag = rest[:colon], rest[colon + 1:]
            if not _TAG.match(tag):
                raise InvalidReference(f"invalid reference {text!r}: bad tag {tag!r}")
        if len(rest) > _NAME_MAX:
            raise InvalidReference(f"invalid reference {text!r}: name longer than {_NAME_MAX} characters")
        registry, repository = _split_registry(rest, text)
        components = repository.split("/")
        for component in components:
            if not _PATH_COMPONENT.match(component):
                raise InvalidReference(
                    f"invalid reference {text!r}: repository component {component!r} must be lowercase "
                    "letters, digits and single separators (. _ __ -)")
        if registry == DEFAULT_REGISTRY and len(components) == 1:
            repository = f"library/{repository}"
        return cls(registry, repository, tag, digest)

    # --- derived views ----------------------------------------------------------------------
    @property
    def name(self) -> str:
        """registry/repository, fully qualified."""
        return f"{self.registry}/{self.repository}"

    @property
    def identifier(self) -> str:
        """What to ask the registry for: the digest when pinned, else the tag (default latest)."""
        if self.digest is not None:
            return str(self.digest)
        return self.tag or DEFAULT_TAG

    @property
    def api_host(self) -> str:
        """The host:port that serves the distribution API for this registry."""
        return _DOCKER_HUB_API if self.registry == DEFAULT_REGISTRY else self.registry

    def with_tag(self, tag: str) -> Reference:
        return replace(self, tag=tag, digest=None)

    def with_digest(self, digest: Digest) -> Reference:
        return replace(self, digest=digest)

    def familiar(self) -> str:
        """The short form docker prints: 'nginx:latest' rather than 'docker.io/library/nginx:latest'."""
        name = self.name
        if self.registry == DEFAULT_REGISTRY:
            name = self.repository.removeprefix("library/")
        return name + self._suffix()

    def _suffix(self) -> str:
        suffix = f":{self.tag}" if self.tag else ""
        if self.digest:
            suffix += f"@{self.digest}"
        return suffix

    def __str__(self) -> str:
        suffix = self._suffix() or f":{DEFAULT_TAG}"
        return self.name + suffix


def _split_registry(name: str, original: str) -> tuple[str, str]:
    first, sep, remainder = name.partition("/")
    is_registry = sep and ("." in first or ":" in first or first == "localhost" or first.lower() != first)
    if not is_registry:
        return DEFAULT_REGISTRY, name
    if not _HOST.match(first):
        raise InvalidReference(f"invalid reference {original!r}: bad registry host {first!r}")
    if not remainder:
        raise InvalidReference(f"invalid reference {original!r}: no repository after the registry")
    return _LEGACY_REGISTRIES.get(first, first), remainder


def parse(text: str) -> Reference:
    return Reference.parse(text)
