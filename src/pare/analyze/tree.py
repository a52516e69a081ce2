"""The merged file tree of an image, built layer by layer with the OCI changeset rules, and the
exact waste that merging reveals.

Every byte a layer stores in a regular file ends in exactly one of two places: the final
filesystem, or a `Waste` record naming the layer that paid for it and the layer that hid it.
Bytes are tracked per inode, so a hard link keeps its content alive after another name for it is
deleted, and hard links never count twice. Rules (image-spec layer.md, "Applying changesets"):

- `.wh.NAME` deletes NAME, and everything below it, from lower layers only;
- `.wh..wh..opq` in a directory hides that directory's lower-layer children, not this layer's;
- a directory entry over a directory merges (metadata only); any other entry replaces what was
  at its path, a whole subtree included (a directory replaced by a file, and the reverse);
- a path listed twice in one tar: the later entry wins, the earlier bytes are waste of that layer.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass

from pare.errors import UnsafeTarError
from pare.oci.tarsafe import Kind, Member

# Why bytes became waste.
DELETED = "deleted"  # a .wh. whiteout (a file, or everything under a deleted directory)
OPAQUE = "opaque"  # hidden by an opaque directory marker
OVERWRITTEN = "overwritten"  # replaced by other content
METADATA_ONLY = "metadata-only"  # same bytes copied again for a chmod/chown
IDENTICAL = "identical-rewrite"  # same bytes and metadata copied again (touch, re-COPY)
REPLACED = "replaced"  # replaced by a different kind of entry (a file by a dir, a dir by a file...)
WHITEOUT_DATA = "whiteout-data"  # bytes stored inside a whiteout marker, which no one ever sees
REASONS = (DELETED, OPAQUE, OVERWRITTEN, METADATA_ONLY, IDENTICAL, REPLACED, WHITEOUT_DATA)


class Inode:
    """File content shared by every hard link to it."""

    __slots__ = ("digest", "layer", "links", "size")

    def __init__(self, size: int, digest: bytes, layer: int) -> None:
        self.size = size
        self.digest = digest
        self.layer = layer
        self.links = 0


class Node:
    """One path in the merged tree. `layer` is the layer that last wrote this entry."""

    __slots__ = ("children", "gid", "inode", "kind", "layer", "linkname", "mode", "uid")

    def __init__(
        self,
        kind: Kind,
        layer: int,
        mode: int = 0o755,
        uid: int = 0,
        gid: int = 0,
        linkname: str = "",
        inode: Inode | None = None,
    ) -> None:
        self.kind: Kind = kind
        self.layer = layer
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.linkname = linkname
        self.inode = inode
        self.children: dict[str, Node] | None = {} if kind == "dir" else None

    @property
    def size(self) -> int:
        return self.inode.size if self.inode is not None else 0


@dataclass(frozen=True, slots=True)
class Waste:
    """Bytes stored by layer `paid_by` that no one can see in the final image, because of `hidden_by`."""

    path: str
    size: int
    paid_by: int
    hidden_by: int
    reason: str


@dataclass
class LayerCounts:
    """What one layer did to the tree."""

    content_bytes: int = 0
    entries: int = 0
    files_added: int = 0
    files_changed: int = 0
    files_deleted: int = 0
    dirs: int = 0
    whiteouts: int = 0


class FileTree:
    """The merged filesystem. Feed each layer's members in order with `apply`, layer by layer."""

    def __init__(self) -> None:
        self.root = Node("dir", -1)
        self.waste: list[Waste] = []
        self.layers: list[LayerCounts] = []

    # --- building ----------------------------------------------------------------------------
    def begin_layer(self) -> int:
        self.layers.append(LayerCounts())
        return len(self.layers) - 1

    def apply(self, member: Member, digest: bytes = b"") -> None:
        """Merge one member of the current layer; `digest` is the content hash of a regular file."""
        layer = len(self.layers) - 1
        counts = self.layers[layer]
        counts.entries += 1
        if member.path == "":
            return  # the root directory's own entry
        if member.is_whiteout:
            counts.whiteouts += 1
            if member.kind == "file" and member.size:  # markers are empty; a payload is pure waste
                counts.content_bytes += member.size
                self.waste.append(Waste(member.path, member.size, layer, layer, WHITEOUT_DATA))
            if member.is_opaque:
                parent = self._lookup(member.parent)
                if parent is not None and parent.children is not None:
                    self._hide_children(parent, member.parent, layer, OPAQUE)
            else:
                self._whiteout(member.whiteout_target, layer)
            return
        if member.kind == "file":
            counts.content_bytes += member.size
        parent = self._ensure_dir(member.parent, layer)
        link_target: Node | None = None
        if member.kind == "hardlink":  # looked up once the parents exist, as link(2) would
            link_target = self._lookup(member.linkname)
            if link_target is None or link_target.kind == "dir":
                raise UnsafeTarError(
                    f"hard link {member.path!r} -> {member.linkname!r}: no such file in this layer or below"
                )
        assert parent.children is not None
        existing = parent.children.get(member.name)
        if member.kind == "dir":
            counts.dirs += 1
            if existing is not None and existing.kind == "dir":
                existing.layer, existing.mode, existing.uid, existing.gid = (
                    layer,
                    member.mode,
                    member.uid,
                    member.gid,
                )
                return
            if existing is not None:
                self._drop(existing, member.path, layer, REPLACED)
            parent.children[member.name] = Node("dir", layer, member.mode, member.uid, member.gid)
            return
        node = self._new_node(member, layer, digest, link_target)
        if existing is None:
            counts.files_added += 1
        else:
            counts.files_changed += 1
            self._drop(existing, member.path, layer, _reason(existing, node))
        parent.children[member.name] = node

    # --- queries -----------------------------------------------------------------------------
    def walk(self) -> Iterator[tuple[str, Node]]:
        """Every (path, node) of the final tree, parents before children, names sorted."""
        stack: list[tuple[str, Node]] = [("", self.root)]
        while stack:
            path, node = stack.pop()
            if path:
                yield path, node
            if node.children:
                for name in sorted(node.children, reverse=True):
                    stack.append((f"{path}/{name}" if path else name, node.children[name]))

    def inodes(self) -> Iterator[tuple[str, Inode]]:
        """Each live inode once, with the first path (in sorted order) that reaches it."""
        seen: set[int] = set()
        for path, node in self.walk():
            inode = node.inode
            if inode is not None and id(inode) not in seen:
                seen.add(id(inode))
                yield path, inode

    def final_bytes(self) -> int:
        return sum(inode.size for _, inode in self.inodes())

    def get(self, path: str) -> Node | None:
        return self._lookup(path.strip("/"))

    # --- internals ---------------------------------------------------------------------------
    def _lookup(self, path: str) -> Node | None:
        node = self.root
        if not path:
            return node
        for part in path.split("/"):
            if node.children is None:
                return None
            child = node.children.get(part)
            if child is None:
                return None
            node = child
        return node

    def _ensure_dir(self, path: str, layer: int) -> Node:
        """The directory at `path`, creating missing parents and replacing non-directories in the way."""
        node = self.root
        if not path:
            return node
        walked = ""
        for part in path.split("/"):
            walked = f"{walked}/{part}" if walked else part
            assert node.children is not None
            child = node.children.get(part)
            if child is None or child.kind != "dir":
                if child is not None:
                    self._drop(child, walked, layer, REPLACED)
                child = Node("dir", layer)
                node.children[part] = child
            node = child
        return node

    def _new_node(self, member: Member, layer: int, digest: bytes, target: Node | None) -> Node:
        if target is not None:  # a hard link shares the target's inode (or copies a link/device)
            node = Node(
                target.kind, layer, target.mode, target.uid, target.gid, target.linkname, target.inode
            )
        else:
            inode = Inode(member.size, digest, layer) if member.kind == "file" else None
            node = Node(member.kind, layer, member.mode, member.uid, member.gid, member.linkname, inode)
        if node.inode is not None:
            node.inode.links += 1
        return node

    def _whiteout(self, path: str, layer: int) -> None:
        parent = self._lookup(posixpath.dirname(path))
        if parent is None or parent.children is None:
            return  # deleting something that was never there: a no-op
        name = posixpath.basename(path)
        node = parent.children.get(name)
        if node is not None and self._hide(node, path, layer, DELETED):
            del parent.children[name]

    def _hide_children(self, node: Node, path: str, layer: int, reason: str) -> bool:
        """Hide lower-layer descendants of `node`; True when nothing of this layer remains below it."""
        assert node.children is not None
        empty = True
        for name in list(node.children):
            child = node.children[name]
            if self._hide(child, f"{path}/{name}" if path else name, layer, reason):
                del node.children[name]
            else:
                empty = False
        return empty

    def _hide(self, node: Node, path: str, layer: int, reason: str) -> bool:
        """Whiteout semantics: remove what lower layers put at and below `path`, keep this layer's.
        True when the node itself is gone."""
        keep = node.layer == layer
        if node.children is not None and not self._hide_children(node, path, layer, reason):
            keep = True
        if keep:
            return False
        self._release(node, path, layer, reason)
        return True

    def _drop(self, node: Node, path: str, layer: int, reason: str) -> None:
        """Replacement semantics: everything at and below `path` goes, whichever layer wrote it."""
        if node.children is not None:
            for name, child in node.children.items():
                self._drop(child, f"{path}/{name}", layer, REPLACED)
            node.children.clear()
        self._release(node, path, layer, reason)

    def _release(self, node: Node, path: str, layer: int, reason: str) -> None:
        if node.kind != "dir" and node.layer < layer and reason in (DELETED, OPAQUE):
            self.layers[layer].files_deleted += 1
        inode = node.inode
        if inode is None:
            return
        inode.links -= 1
        if inode.links == 0 and inode.size > 0:
            self.waste.append(Waste(path, inode.size, inode.layer, layer, reason))


def _reason(old: Node, new: Node) -> str:
    """Why the bytes of `old` are waste once `new` takes its path."""
    if old.inode is None:
        return REPLACED
    if new.inode is None:
        return REPLACED
    if new.inode is old.inode:
        return IDENTICAL  # re-linking a path to its own inode; no bytes are lost anyway
    if new.inode.digest != old.inode.digest or new.inode.size != old.inode.size:
        return OVERWRITTEN
    if (new.mode, new.uid, new.gid) != (old.mode, old.uid, old.gid):
        return METADATA_ONLY
    return IDENTICAL
