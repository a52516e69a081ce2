"""dive's efficiency score, computed the way dive computes it, for users who compare the two.

dive (wagoodman/dive, filetree/efficiency.go) looks at each layer's own tree, visits its leaves,
and per path sums the sizes it sees (cumulative) and keeps the smallest (minimum); a whiteout leaf
counts as 0, or, for a directory, as the sum of that directory in dive's stack of the earlier
layers. score = sum(minimum) / sum(cumulative); "wasted bytes" = sum(cumulative) over paths seen
in two layers or more. Known differences from pare's exact figures, reproduced on purpose:
opaque directory markers are ignored; a bigger file replacing a smaller one counts the bigger one
as waste (minimum keeps the smaller); the surviving copy of a path seen twice is counted in the
wasted bytes; a file replacing a directory leaves the directory's files in dive's stack.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from pare.oci.tarsafe import OPAQUE_MARKER, WHITEOUT_PREFIX, Member


class _DiveNode:
    __slots__ = ("children", "is_dir", "size")

    def __init__(self) -> None:
        self.size = 0
        self.is_dir = False
        self.children: dict[str, _DiveNode] = {}

    def total(self) -> int:
        out = self.size
        stack = list(self.children.values())
        while stack:
            node = stack.pop()
            out += node.size
            stack.extend(node.children.values())
        return out


@dataclass(frozen=True)
class DiveScore:
    score: float
    wasted_bytes: int
    paths_seen_twice: int


class DiveScorer:
    """Feed it every member of every layer (in order, `end_layer` after each); read `result()`."""

    def __init__(self) -> None:
        self._stack = _DiveNode()
        self._stack.is_dir = True
        self._cumulative: dict[str, int] = {}
        self._minimum: dict[str, int] = {}
        self._seen: dict[str, int] = {}
        self._layer: dict[str, tuple[int, bool, bool]] = {}  # path -> (size, whiteout, is_dir)
        self._parents: set[str] = set()

    def add(self, member: Member) -> None:
        if member.path == "":
            return
        parent = member.parent
        if member.name.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX) or member.name == OPAQUE_MARKER:
            # dive never adds these, but creates the parents on the way to them
            if parent and parent not in self._layer:
                self._layer[parent] = (0, False, True)
            self._add_parents(parent)
            return
        if member.is_whiteout:
            path = member.whiteout_target
            self._layer[path] = (0, True, False)
        else:
            path = member.path
            self._layer[path] = (member.size, False, member.kind == "dir")
        self._add_parents(parent)

    def _add_parents(self, parent: str) -> None:
        while parent and parent not in self._parents:
            self._parents.add(parent)
            parent = posixpath.dirname(parent)

    def end_layer(self) -> None:
        for path, (size, whiteout, _) in self._layer.items():
            if path in self._parents:
                continue  # not a leaf in this layer's tree
            if whiteout:
                previous = self._get(path)
                size = previous.total() if previous is not None and previous.is_dir else 0
            self._cumulative[path] = self._cumulative.get(path, 0) + size
            self._minimum[path] = min(self._minimum.get(path, size), size)
            self._seen[path] = self._seen.get(path, 0) + 1
        for path, (size, whiteout, is_dir) in self._layer.items():
            if whiteout:
                self._remove(path)
            else:
                node = self._add(path)
                node.size, node.is_dir = size, is_dir or path in self._parents
        for parent in self._parents:
            if parent not in self._layer:
                self._add(parent).is_dir = True
        self._layer = {}
        self._parents = set()

    def result(self) -> DiveScore:
        total = sum(self._cumulative.values())
        minimum = sum(self._minimum.values())
        wasted = sum(c for p, c in self._cumulative.items() if self._seen[p] >= 2)
        twice = sum(1 for n in self._seen.values() if n >= 2)
        return DiveScore(1.0 if total == 0 else minimum / total, wasted, twice)

    def _get(self, path: str) -> _DiveNode | None:
        node = self._stack
        for part in path.split("/"):
            child = node.children.get(part)
            if child is None:
                return None
            node = child
        return node

    def _add(self, path: str) -> _DiveNode:
        node = self._stack
        for part in path.split("/"):
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = _DiveNode()
            node = child
        return node

    def _remove(self, path: str) -> None:
        parent = self._get(posixpath.dirname(path)) if "/" in path else self._stack
        if parent is not None:
            parent.children.pop(posixpath.basename(path), None)
