"""What changed between two images: files and bytes, per path and per bloat category."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pare.analyze.analysis import Analysis
from pare.analyze.bloat import categorize
from pare.analyze.tree import FileTree, Node

UNCATEGORISED = "other"


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # added | removed | changed
    bytes_a: int
    bytes_b: int
    detail: str = ""  # for a change: content, mode, owner, type, target

    @property
    def delta(self) -> int:
        return self.bytes_b - self.bytes_a


@dataclass(frozen=True)
class ImageDiff:
    a: Analysis
    b: Analysis
    changes: tuple[Change, ...]
    categories: dict[str, dict[str, int]]  # name -> {bytes_a, bytes_b, files_a, files_b}

    @property
    def shared_layers(self) -> int:
        """Layers of B that A already has (same diff_id): a pull of B after A skips them."""
        have = {layer.diff_id for layer in self.a.layers}
        return sum(1 for layer in self.b.layers if layer.diff_id in have)

    @property
    def new_compressed_bytes(self) -> int:
        """What pulling B moves when A's layers are already there."""
        have = {layer.diff_id for layer in self.a.layers}
        return sum(layer.compressed_bytes for layer in self.b.layers if layer.diff_id not in have)

    @property
    def added(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind == "added")

    @property
    def removed(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind == "removed")

    @property
    def changed(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind == "changed")

    def to_dict(self, limit: int | None = 100) -> dict[str, Any]:
        def side(x: Analysis) -> dict[str, Any]:
            return {
                "name": x.name,
                "digest": x.digest,
                "final_bytes": x.final_bytes,
                "tar_bytes": x.tar_bytes,
                "compressed_bytes": x.compressed_bytes,
                "layers": len(x.layers),
                "efficiency": x.efficiency,
                "waste_bytes": x.waste_bytes,
            }

        def listing(items: tuple[Change, ...]) -> dict[str, Any]:
            ordered = sorted(items, key=lambda c: (-abs(c.delta), c.path))
            cut = ordered if not limit else ordered[:limit]
            return {
                "files": len(items),
                "bytes": sum(c.delta for c in items),
                "paths": [
                    {
                        "path": "/" + c.path,
                        "bytes_a": c.bytes_a,
                        "bytes_b": c.bytes_b,
                        **({"detail": c.detail} if c.detail else {}),
                    }
                    for c in cut
                ],
            }

        return {
            "a": side(self.a),
            "b": side(self.b),
            "delta": {
                "final_bytes": self.b.final_bytes - self.a.final_bytes,
                "tar_bytes": self.b.tar_bytes - self.a.tar_bytes,
                "compressed_bytes": self.b.compressed_bytes - self.a.compressed_bytes,
            },
            "layers": {"shared": self.shared_layers, "new_compressed_bytes": self.new_compressed_bytes},
            "added": listing(self.added),
            "removed": listing(self.removed),
            "changed": listing(self.changed),
            "categories": self.categories,
        }


def _flatten(tree: FileTree) -> dict[str, Node]:
    return {path: node for path, node in tree.walk()}


def _describe(a: Node, b: Node) -> str:
    if a.kind != b.kind:
        return f"type {a.kind} -> {b.kind}"
    if a.inode is not None and b.inode is not None and (a.inode.digest, a.size) != (b.inode.digest, b.size):
        return "content"
    if a.linkname != b.linkname:
        return "target"
    if a.mode != b.mode:
        return f"mode {a.mode:o} -> {b.mode:o}"
    if (a.uid, a.gid) != (b.uid, b.gid):
        return f"owner {a.uid}:{a.gid} -> {b.uid}:{b.gid}"
    return ""


def diff(a: Analysis, b: Analysis) -> ImageDiff:
    """Compare final trees path by path; directories count only when added or removed."""
    nodes_a, nodes_b = _flatten(a.tree), _flatten(b.tree)
    changes: list[Change] = []
    for path in sorted(nodes_a.keys() | nodes_b.keys()):
        na, nb = nodes_a.get(path), nodes_b.get(path)
        if na is None and nb is not None:
            changes.append(Change(path, "added", 0, nb.size))
        elif nb is None and na is not None:
            changes.append(Change(path, "removed", na.size, 0))
        elif na is not None and nb is not None and not (na.kind == nb.kind == "dir"):
            detail = _describe(na, nb)
            if detail:
                changes.append(Change(path, "changed", na.size, nb.size, detail))
    return ImageDiff(a, b, tuple(changes), _category_totals(nodes_a, nodes_b))


def _category_totals(nodes_a: dict[str, Node], nodes_b: dict[str, Node]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for side, nodes in (("a", nodes_a), ("b", nodes_b)):
        seen: set[int] = set()
        for path, node in nodes.items():
            if node.kind == "dir":
                continue
            size = node.size
            if node.inode is not None:
                if id(node.inode) in seen:
                    size = 0
                seen.add(id(node.inode))
            for cat in categorize(path) or (UNCATEGORISED,):
                entry = out.setdefault(cat, {"bytes_a": 0, "bytes_b": 0, "files_a": 0, "files_b": 0})
                entry[f"bytes_{side}"] += size
                entry[f"files_{side}"] += 1
    return dict(sorted(out.items(), key=lambda kv: -abs(kv[1]["bytes_b"] - kv[1]["bytes_a"])))
