"""Analyse an image: stream each layer once into the merged tree, then derive every figure from it.

Nothing is extracted to disk and no layer is held in memory: memory grows with the number of paths
(the tree), not with layer sizes. Sizes follow DESIGN.md: content bytes (regular files), tar bytes
(the uncompressed blob, counted while reading it and checked against its diff_id), compressed
bytes (the blob as stored, `layer.size`).
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, cast

from pare.analyze.bloat import CategoryReport, bloat
from pare.analyze.dive import DiveScore, DiveScorer
from pare.analyze.prefetch import Prefetch
from pare.analyze.tree import REASONS, FileTree, Waste
from pare.errors import DigestMismatch
from pare.oci.digest import CHUNK
from pare.oci.image import Image

LAYER_TOP_FILES = 5
Progress = Callable[[int, int, str], None]  # (layer index, layer count, message)


@dataclass(frozen=True)
class LayerReport:
    index: int
    digest: str
    diff_id: str
    media_type: str
    created_by: str
    content_bytes: int
    tar_bytes: int
    compressed_bytes: int
    entries: int
    files_added: int
    files_changed: int
    files_deleted: int
    whiteouts: int
    waste_paid: int  # bytes this layer stored that a later layer (or itself) hid
    waste_caused: int  # bytes of earlier layers this layer hid
    base: bool = False
    biggest_files: tuple[tuple[str, int], ...] = ()  # what this layer stored, biggest first

    def to_dict(self) -> dict[str, Any]:
        body = dict(self.__dict__)
        body["biggest_files"] = [{"path": "/" + p, "bytes": b} for p, b in self.biggest_files]
        return body


@dataclass(frozen=True)
class DuplicateGroup:
    digest: str
    size: int
    paths: tuple[str, ...]  # one path per copy (hard links of one copy are not duplicates)

    @property
    def savings(self) -> int:
        return self.size * (len(self.paths) - 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sha256": self.digest,
            "size": self.size,
            "copies": len(self.paths),
            "savings": self.savings,
            "paths": ["/" + p for p in self.paths],
        }


@dataclass(frozen=True)
class BaseSplit:
    """Which bytes came with the base image (layers matched by digest) and which the app added."""

    base_ref: str
    base_layers: tuple[int, ...]
    base_content_bytes: int
    base_compressed_bytes: int
    base_final_bytes: int
    app_content_bytes: int
    app_compressed_bytes: int
    app_final_bytes: int
    base_is_prefix: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.base_ref,
            "layers": list(self.base_layers),
            "is_prefix": self.base_is_prefix,
            "base": {
                "content_bytes": self.base_content_bytes,
                "compressed_bytes": self.base_compressed_bytes,
                "final_bytes": self.base_final_bytes,
            },
            "app": {
                "content_bytes": self.app_content_bytes,
                "compressed_bytes": self.app_compressed_bytes,
                "final_bytes": self.app_final_bytes,
            },
        }


@dataclass(frozen=True)
class Analysis:
    name: str
    digest: str
    media_type: str
    platform: str
    config_bytes: int
    layers: tuple[LayerReport, ...]
    tree: FileTree = field(repr=False, compare=False)
    waste: tuple[Waste, ...]
    final_bytes: int
    dive: DiveScore
    categories: dict[str, CategoryReport]
    duplicates: tuple[DuplicateGroup, ...]
    base: BaseSplit | None
    base_hint: str = ""  # the base the image says it was built from (OCI base.name/base.digest annotations)

    # --- totals ------------------------------------------------------------------------------
    @property
    def content_bytes(self) -> int:
        """Sum of regular-file bytes over all layers (what the layers store)."""
        return sum(layer.content_bytes for layer in self.layers)

    @property
    def tar_bytes(self) -> int:
        return sum(layer.tar_bytes for layer in self.layers)

    @property
    def compressed_bytes(self) -> int:
        return sum(layer.compressed_bytes for layer in self.layers)

    @property
    def waste_bytes(self) -> int:
        return self.content_bytes - self.final_bytes

    @property
    def efficiency(self) -> float:
        """Exact: final bytes / all layer content bytes (1.0 for an image without content)."""
        return 1.0 if self.content_bytes == 0 else self.final_bytes / self.content_bytes

    @property
    def waste_ratio(self) -> float:
        return 0.0 if self.content_bytes == 0 else self.waste_bytes / self.content_bytes

    @property
    def duplicate_savings(self) -> int:
        return sum(g.savings for g in self.duplicates)

    def waste_by_reason(self) -> dict[str, int]:
        out = dict.fromkeys(REASONS, 0)
        for item in self.waste:
            out[item.reason] += item.size
        return {k: v for k, v in out.items() if v}

    def special_files(self) -> list[tuple[str, str, int]]:
        """(path, 'setuid'/'setgid'/'setuid,setgid', mode) of final files that run with raised privileges,
        as `slim xray` lists them."""
        out = []
        for path, node in self.tree.walk():
            if node.kind == "file" and node.mode & 0o6000:
                flags = ",".join(f for bit, f in ((0o4000, "setuid"), (0o2000, "setgid")) if node.mode & bit)
                out.append((path, flags, node.mode))
        return out

    def biggest_files(self, count: int = 10) -> list[tuple[str, int]]:
        """The largest files of the final filesystem (each inode once)."""
        return heapq.nlargest(count, ((p, i.size) for p, i in self.tree.inodes()), key=lambda t: (t[1], t[0]))

    def directories(self, max_depth: int = 3) -> list[tuple[str, int, int]]:
        """(dir, final bytes, files) for directories up to `max_depth` deep, biggest first."""
        sizes: dict[str, list[int]] = {}
        for path, inode in self.tree.inodes():
            parts = path.split("/")[:-1]
            for depth in range(1, min(len(parts), max_depth) + 1):
                entry = sizes.setdefault("/".join(parts[:depth]), [0, 0])
                entry[0] += inode.size
                entry[1] += 1
        return sorted(((p, s[0], s[1]) for p, s in sizes.items()), key=lambda t: (-t[1], t[0]))

    def to_dict(self, limit: int | None = 100) -> dict[str, Any]:
        """JSON-ready; lists longer than `limit` are cut (their totals are always complete)."""

        def cut(items: list[Any]) -> list[Any]:
            return items if not limit else items[:limit]

        waste = sorted(self.waste, key=lambda w: (-w.size, w.path))
        return {
            "image": {
                "name": self.name,
                "digest": self.digest,
                "media_type": self.media_type,
                "platform": self.platform,
                "layers": len(self.layers),
                "base_annotation": self.base_hint or None,
            },
            "sizes": {
                "content_bytes_all_layers": self.content_bytes,
                "final_bytes": self.final_bytes,
                "tar_bytes": self.tar_bytes,
                "compressed_bytes": self.compressed_bytes,
                "config_bytes": self.config_bytes,
            },
            "efficiency": {
                "exact": self.efficiency,
                "dive_score": self.dive.score,
                "dive_wasted_bytes": self.dive.wasted_bytes,
            },
            "waste": {
                "bytes": self.waste_bytes,
                "ratio": self.waste_ratio,
                "items": len(self.waste),
                "by_reason": self.waste_by_reason(),
                "paths": cut(
                    [
                        {
                            "path": "/" + w.path,
                            "bytes": w.size,
                            "reason": w.reason,
                            "paid_by_layer": w.paid_by,
                            "hidden_by_layer": w.hidden_by,
                        }
                        for w in waste
                    ]
                ),
            },
            "layers": [layer.to_dict() for layer in self.layers],
            "special_files": [
                {"path": "/" + p, "flags": f, "mode": f"{m:04o}"} for p, f, m in self.special_files()
            ],
            "biggest_files": [{"path": "/" + p, "bytes": b} for p, b in self.biggest_files(limit or 1 << 62)],
            "directories": cut([{"path": "/" + p, "bytes": s, "files": n} for p, s, n in self.directories()]),
            "duplicates": {
                "bytes_saved_by_dedupe": self.duplicate_savings,
                "groups": len(self.duplicates),
                "top": cut([g.to_dict() for g in self.duplicates]),
            },
            "categories": {name: rep.to_dict(limit) for name, rep in self.categories.items()},
            "base": self.base.to_dict() if self.base else None,
        }


def analyze_image(
    image: Image,
    *,
    name: str = "",
    base: Image | None = None,
    base_ref: str = "",
    verify: bool = True,
    progress: Progress | None = None,
) -> Analysis:
    """Stream every layer of `image` once and return the full analysis."""
    from pare.oci.tarsafe import SafeTar

    tree = FileTree()
    scorer = DiveScorer()
    history = image.config.layer_history()
    counted: list[tuple[int, str]] = []  # (tar bytes, created_by) per layer
    biggest: list[list[tuple[int, str]]] = []  # per layer, a min-heap of its largest files
    total = len(image.layers)
    for index, layer in enumerate(image.layers):
        if progress:
            progress(index, total, f"layer {index + 1}/{total} {layer.digest.short}")
        tree.begin_layer()
        top: list[tuple[int, str]] = []
        biggest.append(top)
        with Prefetch(layer.open_uncompressed()) as stream:
            tar = SafeTar(cast(IO[bytes], stream), hash_stream=False)  # the prefetch thread hashes it
            for member, reader in tar:
                digest = b""
                if reader is not None:
                    hasher = hashlib.sha256()
                    while chunk := reader.read(CHUNK):
                        hasher.update(chunk)
                    digest = hasher.digest()
                    if len(top) < LAYER_TOP_FILES:
                        heapq.heappush(top, (member.size, member.path))
                    elif member.size > top[0][0]:
                        heapq.heapreplace(top, (member.size, member.path))
                tree.apply(member, digest)
                scorer.add(member)
            scorer.end_layer()
            diff_id = stream.digest()
        if verify and diff_id != layer.diff_id:
            raise DigestMismatch(
                f"layer {index} ({layer.digest.short}): its tar hashes to {diff_id}, "
                f"the config says {layer.diff_id}"
            )
        entry = history[index] if index < len(history) else None
        counted.append((tar.tar_bytes, (entry.created_by if entry else "") or ""))
    if progress:
        progress(total, total, "done")

    paid = [0] * total
    caused = [0] * total
    for item in tree.waste:
        paid[item.paid_by] += item.size
        caused[item.hidden_by] += item.size
    base_set = _base_layers(image, base)
    layers = tuple(
        LayerReport(
            i,
            str(layer.digest),
            str(layer.diff_id),
            layer.media_type,
            counted[i][1],
            tree.layers[i].content_bytes,
            counted[i][0],
            layer.size,
            tree.layers[i].entries,
            tree.layers[i].files_added,
            tree.layers[i].files_changed,
            tree.layers[i].files_deleted,
            tree.layers[i].whiteouts,
            paid[i],
            caused[i],
            i in base_set,
            tuple((path, size) for size, path in sorted(biggest[i], reverse=True)),
        )
        for i, layer in enumerate(image.layers)
    )
    final_bytes = tree.final_bytes()
    platform = image.platform
    return Analysis(
        name=name,
        digest=str(image.digest),
        media_type=image.media_type,
        platform=f"{platform.os}/{platform.architecture}"
        + (f"/{platform.variant}" if platform.variant else ""),
        config_bytes=image.config.size,
        layers=layers,
        tree=tree,
        waste=tuple(tree.waste),
        final_bytes=final_bytes,
        dive=scorer.result(),
        categories=bloat(tree),
        duplicates=duplicates(tree),
        base=_split(tree, layers, base_set, base_ref) if base is not None else None,
        base_hint=_base_hint(image.manifest.annotations),
    )


def duplicates(tree: FileTree) -> tuple[DuplicateGroup, ...]:
    """Same content at different paths (distinct inodes, non-empty), biggest savings first."""
    groups: dict[bytes, list[tuple[str, int]]] = {}
    for path, inode in tree.inodes():
        if inode.size > 0:
            groups.setdefault(inode.digest, []).append((path, inode.size))
    out = [
        DuplicateGroup(digest.hex(), items[0][1], tuple(p for p, _ in items))
        for digest, items in groups.items()
        if len(items) > 1
    ]
    return tuple(sorted(out, key=lambda g: (-g.savings, g.paths[0])))


def _base_hint(annotations: dict[str, str]) -> str:
    name = annotations.get("org.opencontainers.image.base.name", "")
    digest = annotations.get("org.opencontainers.image.base.digest", "")
    if name and digest and "@" not in name:
        return f"{name}@{digest}"
    return name or digest


def _base_layers(image: Image, base: Image | None) -> set[int]:
    if base is None:
        return set()
    known = {str(d) for d in base.config.diff_ids} | {str(layer.digest) for layer in base.layers}
    return {
        i for i, layer in enumerate(image.layers) if str(layer.diff_id) in known or str(layer.digest) in known
    }


def _split(tree: FileTree, layers: tuple[LayerReport, ...], base_set: set[int], base_ref: str) -> BaseSplit:
    base_final = sum(inode.size for _, inode in tree.inodes() if inode.layer in base_set)
    final = tree.final_bytes()
    is_prefix = base_set == set(range(len(base_set)))
    return BaseSplit(
        base_ref,
        tuple(sorted(base_set)),
        sum(la.content_bytes for la in layers if la.base),
        sum(la.compressed_bytes for la in layers if la.base),
        base_final,
        sum(la.content_bytes for la in layers if not la.base),
        sum(la.compressed_bytes for la in layers if not la.base),
        final - base_final,
        is_prefix,
    )
