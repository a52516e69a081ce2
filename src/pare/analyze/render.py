"""Terminal views of an analysis and a diff (rich): biggest things first, every size labelled."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from pare.analyze.analysis import Analysis
from pare.analyze.diff import ImageDiff
from pare.analyze.tree import Node
from pare.analyze.units import human, percent
from pare.oci import mediatypes as mt


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    for prefix in ("/bin/sh -c #(nop) ", "/bin/sh -c "):
        text = text.removeprefix(prefix)
    return text if len(text) <= width else text[: width - 1] + "…"


def _kind(media_type: str) -> str:
    """'application/vnd.oci.image.layer.v1.tar+zstd' -> 'zstd'; an uncompressed tar -> 'tar'."""
    compression = mt.layer_compression(media_type)
    return "tar" if compression == "none" else compression


def render_analysis(a: Analysis, console: Console, limit: int = 10) -> None:
    console.print(f"[bold]{a.name or 'image'}[/bold]  {a.digest}  {a.platform}  {len(a.layers)} layers")
    console.print(
        f"  size: {human(a.compressed_bytes)} compressed, {human(a.tar_bytes)} uncompressed tar, "
        f"{human(a.final_bytes)} of files in the final filesystem"
    )
    console.print(
        f"  efficiency: [bold]{a.efficiency:.4f}[/bold] exact (final / all layer content bytes, "
        f"{human(a.final_bytes)} / {human(a.content_bytes)});  dive's score: {a.dive.score:.4f}"
    )
    console.print(
        f"  waste: [bold]{human(a.waste_bytes)}[/bold] ({percent(a.waste_ratio)} of layer content) in "
        f"{len(a.waste)} paths;  dive would report {human(a.dive.wasted_bytes)}"
    )
    if a.duplicates:
        console.print(
            f"  duplicates: {len(a.duplicates)} groups, a dedupe would save {human(a.duplicate_savings)}"
        )

    layers = Table(
        title="Layers, biggest first (content = regular file bytes; files added/changed/deleted)",
        title_justify="left",
    )
    for col in ("#", "content", "compressed", "files +/~/-", "wasted later"):
        layers.add_column(col, justify="right", no_wrap=True)
    layers.add_column("created by", max_width=60)
    for layer in sorted(a.layers, key=lambda la: (-la.content_bytes, la.index))[:limit]:
        tag = " [dim](base)[/dim]" if layer.base else ""
        layers.add_row(
            str(layer.index),
            human(layer.content_bytes),
            f"{human(layer.compressed_bytes)} {_kind(layer.media_type)}",
            f"{layer.files_added}/{layer.files_changed}/{layer.files_deleted}",
            human(layer.waste_paid) if layer.waste_paid else "",
            _short(layer.created_by, 200) + tag,
        )
    console.print(layers)

    dirs = Table(title="Biggest directories (final filesystem)", title_justify="left")
    dirs.add_column("bytes", justify="right")
    dirs.add_column("files", justify="right")
    dirs.add_column("directory")
    for path, size, files in a.directories()[:limit]:
        dirs.add_row(human(size), str(files), "/" + path)
    if dirs.row_count:
        console.print(dirs)

    big = Table(title="Biggest files (final filesystem)", title_justify="left")
    big.add_column("bytes", justify="right")
    big.add_column("layer", justify="right")
    big.add_column("path")
    for path, size in a.biggest_files(limit):
        node = a.tree.get(path)
        made_by = node.inode.layer if node is not None and node.inode is not None else ""
        big.add_row(human(size), str(made_by), "/" + path)
    if big.row_count:
        console.print(big)

    if a.waste:
        reasons = ", ".join(
            f"{r} {human(b)}" for r, b in sorted(a.waste_by_reason().items(), key=lambda kv: -kv[1])
        )
        waste = Table(title=f"Wasted paths, biggest first ({reasons})", title_justify="left")
        for col in ("bytes", "reason", "paid by", "hidden by", "path"):
            waste.add_column(col, justify="right" if col == "bytes" else "left")
        for item in sorted(a.waste, key=lambda w: (-w.size, w.path))[:limit]:
            waste.add_row(
                human(item.size),
                item.reason,
                f"layer {item.paid_by}",
                f"layer {item.hidden_by}",
                "/" + item.path,
            )
        console.print(waste)

    if a.duplicates:
        dup = Table(title="Duplicate content (same bytes, different paths)", title_justify="left")
        for col in ("saves", "size", "copies", "paths"):
            dup.add_column(col, justify="right" if col != "paths" else "left")
        for group in a.duplicates[:limit]:
            shown = ", ".join("/" + p for p in group.paths[:3]) + (" …" if len(group.paths) > 3 else "")
            dup.add_row(human(group.savings), human(group.size), str(len(group.paths)), shown)
        console.print(dup)

    special = a.special_files()
    if special:
        shown = ", ".join(f"/{p} ({f})" for p, f, _ in special[:limit])
        console.print(f"Files with raised privileges: {len(special)}: {shown}")

    if a.categories:
        cats = Table(
            title="Bloat by category (final filesystem; categories may overlap)", title_justify="left"
        )
        for col in ("category", "bytes", "files", "biggest"):
            cats.add_column(col, justify="right" if col in ("bytes", "files") else "left")
        for rep in sorted(a.categories.values(), key=lambda r: -r.bytes):
            cats.add_row(rep.name, human(rep.bytes), str(rep.files), "/" + rep.paths[0][0])
        console.print(cats)

    if a.base is None and a.base_hint:
        console.print(f"Built from {a.base_hint} (image annotation): add --base to split base and app bytes")
    if a.base is not None:
        b = a.base
        console.print(
            f"Base {b.base_ref}: layers {list(b.base_layers) or 'none matched'}"
            f"{'' if b.base_is_prefix or not b.base_layers else ' (not a prefix of this image)'}; "
            f"base {human(b.base_final_bytes)} final / {human(b.base_compressed_bytes)} compressed, "
            f"app {human(b.app_final_bytes)} final / {human(b.app_compressed_bytes)} compressed"
        )


def render_tree(a: Analysis, console: Console, depth: int = 3, limit: int = 20) -> None:
    """The final filesystem as a tree, biggest entries first, `limit` children per directory.
    Hard links count once (at their first path), so the sizes add up to the final bytes."""
    sizes: dict[int, int] = {}
    first: set[int] = set()  # ids of the nodes whose inode is counted
    seen: set[int] = set()
    for _, node in a.tree.walk():
        if node.inode is not None and id(node.inode) not in seen:
            seen.add(id(node.inode))
            first.add(id(node))

    def total(node: Node) -> int:
        if node.children is None:
            return node.size if id(node) in first else 0
        key = id(node)
        if key not in sizes:
            sizes[key] = sum(total(child) for child in node.children.values())
        return sizes[key]

    def label(name: str, node: Node) -> str:
        if node.kind == "dir":
            return f"[bold blue]{name}/[/bold blue]  {human(total(node))}"
        if node.kind == "symlink":
            return f"[cyan]{name}[/cyan] -> {node.linkname}"
        link = "" if id(node) in first or node.inode is None else " [dim](hard link)[/dim]"
        return f"{name}  {human(node.size)}{link}"

    def grow(branch: Tree, node: Node, level: int) -> None:
        assert node.children is not None
        ordered = sorted(node.children.items(), key=lambda kv: (-total(kv[1]), kv[0]))
        for name, child in ordered[:limit]:
            sub = branch.add(label(name, child))
            if child.children and level < depth:
                grow(sub, child, level + 1)
        if len(ordered) > limit:
            rest = sum(total(child) for _, child in ordered[limit:])
            branch.add(f"[dim]… {len(ordered) - limit} more, {human(rest)}[/dim]")

    root = Tree(f"[bold]/[/bold]  {human(total(a.tree.root))}")
    grow(root, a.tree.root, 1)
    console.print(root)


def render_diff(d: ImageDiff, console: Console, limit: int = 10) -> None:
    console.print(
        f"[bold]A[/bold] {d.a.name}  {human(d.a.final_bytes)} final, {human(d.a.compressed_bytes)} compressed"
    )
    console.print(
        f"[bold]B[/bold] {d.b.name}  {human(d.b.final_bytes)} final, {human(d.b.compressed_bytes)} compressed"
    )
    delta = d.b.final_bytes - d.a.final_bytes
    console.print(
        f"  final bytes {'+' if delta >= 0 else ''}{human(delta)};  files: {len(d.added)} added, "
        f"{len(d.removed)} removed, {len(d.changed)} changed"
    )
    console.print(
        f"  layers: {d.shared_layers} of B's {len(d.b.layers)} already in A; pulling B after A moves "
        f"{human(d.new_compressed_bytes)} compressed"
    )
    cats = Table(title="By category (final filesystem bytes)", title_justify="left")
    for col in ("category", "A", "B", "delta", "files A", "files B"):
        cats.add_column(col, justify="left" if col == "category" else "right")
    for name, row in d.categories.items():
        grew = row["bytes_b"] - row["bytes_a"]
        if grew == 0 and row["files_a"] == row["files_b"]:
            continue
        cats.add_row(
            name,
            human(row["bytes_a"]),
            human(row["bytes_b"]),
            ("+" if grew >= 0 else "") + human(grew),
            str(row["files_a"]),
            str(row["files_b"]),
        )
    if cats.row_count:
        console.print(cats)
    for title, items in (("Added", d.added), ("Removed", d.removed), ("Changed", d.changed)):
        if not items:
            continue
        table = Table(title=f"{title}: {len(items)} paths, biggest first", title_justify="left")
        table.add_column("A", justify="right")
        table.add_column("B", justify="right")
        table.add_column("path")
        table.add_column("detail")
        for change in sorted(items, key=lambda c: (-abs(c.delta), c.path))[:limit]:
            table.add_row(human(change.bytes_a), human(change.bytes_b), "/" + change.path, change.detail)
        console.print(table)
