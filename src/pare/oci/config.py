"""Image configuration: runtime settings, the rootfs diff_ids, and history.

The config is kept as the exact bytes it came with (its digest is the config descriptor's) and a
parsed, read-only view of them. Changes produce a new config with canonical bytes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from pare.errors import ManifestError
from pare.oci.digest import Digest, sha256
from pare.oci.jsonutil import canonical, loads_object


@dataclass(frozen=True)
class HistoryEntry:
    created_by: str = ""
    created: str | None = None
    comment: str | None = None
    empty_layer: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HistoryEntry:
        return cls(str(data.get("created_by") or ""), data.get("created"), data.get("comment"),
                   bool(data.get("empty_layer")))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"created_by": self.created_by}
        if self.created:
            out["created"] = self.created
        if self.comment:
            out["comment"] = self.comment
        if self.empty_layer:
            out["empty_layer"] = True
        return out


@dataclass(frozen=True)
class ImageConfig:
    raw: bytes
    _body: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, data: bytes) -> ImageConfig:
        body = loads_object(data, "image config")
        rootfs = body.get("rootfs")
        if not isinstance(rootfs, dict) or not isinstance(rootfs.get("diff_ids"), list):
            raise ManifestError("invalid image config: rootfs.diff_ids missing")
        try:
            for d in rootfs["diff_ids"]:
                Digest.parse(d)
        except Exception as exc:
            raise ManifestError(f"invalid image config: bad diff_id: {exc}") from None
        if "history" in body and not isinstance(body["history"], list):
            raise ManifestError("invalid image config: history must be a list")
        if "config" in body and body["config"] is not None and not isinstance(body["config"], dict):
            raise ManifestError("invalid image config: config must be an object")
        return cls(bytes(data), body)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> ImageConfig:
        return cls.parse(canonical(body))

    @classmethod
    def new(cls, architecture: str = "amd64", os: str = "linux", created: str | None = None) -> ImageConfig:
        body: dict[str, Any] = {"architecture": architecture, "os": os, "config": {},
                                "rootfs": {"type": "layers", "diff_ids": []}, "history": []}
        if created:
            body["created"] = created
        return cls.from_dict(body)

    # --- read-only views ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the parsed body, free to modify."""
        return copy.deepcopy(self._body)

    @property
    def digest(self) -> Digest:
        return sha256(self.raw)

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def diff_ids(self) -> tuple[Digest, ...]:
        return tuple(Digest.parse(d) for d in self._body["rootfs"]["diff_ids"])

    @property
    def history(self) -> tuple[HistoryEntry, ...]:
        return tuple(HistoryEntry.from_dict(h) for h in self._body.get("history") or ()
                     if isinstance(h, dict))

    @property
    def architecture(self) -> str:
        return str(self._body.get("architecture") or "")

    @property
    def os(self) -> str:
        return str(self._body.get("os") or "")

    @property
    def created(self) -> str | None:
        return self._body.get("created")

    @property
    def runtime(self) -> dict[str, Any]:
        """The 'config' section (Env, Entrypoint, Cmd, User, WorkingDir, ExposedPorts, Labels)."""
        return copy.deepcopy(self._body.get("config") or {})

    def layer_history(self) -> list[HistoryEntry | None]:
        """The history entry that produced each layer (empty_layer entries skipped), in layer order."""
        entries = [h for h in self.history if not h.empty_layer]
        count = len(self._body["rootfs"]["diff_ids"])
        if len(entries) != count:
            # Histories that do not line up with layers are common (squashed or hand-made images).
            return [entries[i] if i < len(entries) else None for i in range(count)]
        return list(entries)
