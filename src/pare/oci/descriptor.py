"""Descriptors and platforms: how manifests and indexes point at content."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pare.errors import ManifestError
from pare.oci.digest import Digest

# GOOS and GOARCH values: the names image indexes use (the OCI image spec defers to Go's).
KNOWN_OS = frozenset({"aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux",
                      "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows"})
KNOWN_ARCH = frozenset({"386", "amd64", "arm", "arm64", "loong64", "mips", "mipsle", "mips64", "mips64le",
                        "ppc64", "ppc64le", "riscv64", "s390x", "wasm"})
_PLATFORM_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# machine names (uname -m, Debian) -> (architecture, variant)
_ARCH_ALIASES: dict[str, tuple[str, str | None]] = {
    "x86_64": ("amd64", None), "x86-64": ("amd64", None), "aarch64": ("arm64", None),
    "i386": ("386", None), "i686": ("386", None), "armhf": ("arm", "v7"), "armv7l": ("arm", "v7"),
    "armel": ("arm", "v5"), "armv6l": ("arm", "v6")}


@dataclass(frozen=True)
class Platform:
    os: str = "linux"
    architecture: str = "amd64"
    variant: str | None = None
    os_version: str | None = None
    os_features: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Platform:
        """'linux/amd64', 'linux/arm64/v8', or a bare architecture ('arm64': linux implied).

        A bare word is an architecture, as with `docker run --platform`; an OS on its own ('linux')
        names no image and is refused, as is an architecture in the OS place ('amd64/linux').
        Common machine names are spelled the way image indexes spell them (x86_64 -> amd64)."""
        parts = text.strip().split("/")
        if len(parts) == 1 and parts[0] in KNOWN_OS:
            raise ManifestError(f"invalid platform {text!r}: {parts[0]} is an OS; name an architecture "
                                f"too, e.g. {parts[0]}/amd64")
        if len(parts) == 1:
            parts = ["linux", *parts]
        if len(parts) not in (2, 3) or not all(_PLATFORM_WORD.fullmatch(p) for p in parts):
            raise ManifestError(f"invalid platform {text!r}: want os/arch[/variant], e.g. linux/arm64")
        os_name, arch = parts[0], parts[1]
        if os_name not in KNOWN_OS and _ARCH_ALIASES.get(os_name, (os_name,))[0] in KNOWN_ARCH:
            raise ManifestError(f"invalid platform {text!r}: {os_name} is an architecture; "
                                f"want os/arch, e.g. linux/{os_name}")
        arch, implied_variant = _ARCH_ALIASES.get(arch, (arch, None))
        variant = parts[2] if len(parts) == 3 else implied_variant
        return cls(os_name, arch, variant)

    @classmethod
    def from_dict(cls, data: Any) -> Platform:
        if not isinstance(data, dict):
            raise ManifestError("platform must be an object")
        return cls(
            os=_str(data, "os", required=True) or "",
            architecture=_str(data, "architecture", required=True) or "",
            variant=_str(data, "variant"),
            os_version=_str(data, "os.version"),
            os_features=_strings(data, "os.features"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        return out

    def matches(self, wanted: Platform) -> bool:
        """True when this platform satisfies `wanted`; a wanted variant of None accepts any."""
        if (self.os, self.architecture) != (wanted.os, wanted.architecture):
            return False
        return wanted.variant is None or _norm_variant(self) == _norm_variant(wanted)

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def _norm_variant(p: Platform) -> str | None:
    # arm64 images usually omit v8; treat them as equal, as containerd does.
    if p.architecture == "arm64" and p.variant in (None, "v8"):
        return "v8"
    return p.variant


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: Digest
    size: int
    annotations: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    platform: Platform | None = None
    urls: tuple[str, ...] = ()
    artifact_type: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Descriptor:
        if not isinstance(data, dict):
            raise ManifestError("descriptor must be an object")
        media_type = _str(data, "mediaType", required=True) or ""
        digest_text = _str(data, "digest", required=True) or ""
        try:
            digest = Digest.parse(digest_text)
        except Exception as exc:
            raise ManifestError(f"descriptor has an invalid digest: {exc}") from None
        size = data.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ManifestError(f"descriptor {digest_text} has an invalid size {size!r}")
        annotations = data.get("annotations") or {}
        if not isinstance(annotations, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()):
            raise ManifestError(f"descriptor {digest_text} has invalid annotations")
        platform = Platform.from_dict(data["platform"]) if data.get("platform") is not None else None
        urls = data.get("urls") or ()
        if not isinstance(urls, list | tuple) or not all(isinstance(u, str) for u in urls):
            raise ManifestError(f"descriptor {digest_text} has invalid urls")
        return cls(media_type, digest, size, dict(annotations), platform, tuple(urls),
                   _str(data, "artifactType"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": str(self.digest), "size": self.size}
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.platform is not None:
            out["platform"] = self.platform.to_dict()
        if self.urls:
            out["urls"] = list(self.urls)
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        return out


def _strings(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key) or ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ManifestError(f"field {key!r} must be a list of strings")
    return tuple(value)


def _str(data: dict[str, Any], key: str, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise ManifestError(f"missing field {key!r}")
        return None
    if not isinstance(value, str):
        raise ManifestError(f"field {key!r} must be a string")
    return value
