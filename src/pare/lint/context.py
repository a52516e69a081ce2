"""The build context's file sizes, so a finding about files COPY brings in is priced exactly.

A `RUN rm` of a file a COPY added, or a `chown -R` over a tree COPY filled, costs the bytes of those
files again: without building, they are known when the context is at hand. Paths follow Docker's
rules: `.dockerignore` excludes (pare.recipes.ignore reads it as BuildKit does), a source is relative
to the context, a directory source means every file under it. Symlinks count as links, not as what
they point to (COPY copies the link).
"""

from __future__ import annotations

import fnmatch
import posixpath
from pathlib import Path

from pare.recipes.ignore import IgnoreRules, read_patterns


class BuildContext:
    """File sizes of a build context, read once, after `.dockerignore`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        ignore = root / ".dockerignore"
        rules = IgnoreRules(read_patterns(ignore.read_text(encoding="utf-8", errors="replace"))
                            if ignore.is_file() else [])
        self.sizes: dict[str, int] = {}
        for rel in rules.walk(root):
            path = root / rel
            if path.is_file() and not path.is_symlink() and not rules.excluded(rel):
                self.sizes[rel] = path.stat().st_size

    def bytes_of(self, source: str) -> int | None:
        """Bytes COPY brings in for `source` (a file, a directory, or a wildcard pattern); None when
        nothing in the context matches (a path outside it, a URL, a name the context lacks)."""
        if "://" in source or source.startswith("$"):
            return None
        clean = posixpath.normpath(source.lstrip("/")).rstrip("/")
        if clean.startswith(".."):
            return None
        if clean in ("", "."):
            return sum(self.sizes.values()) if self.sizes else None
        if any(ch in clean for ch in "*?["):
            matched = [rel for rel in self.sizes if fnmatch.fnmatchcase(rel, clean)
                       or any(fnmatch.fnmatchcase(rel[:i], clean) for i, c in enumerate(rel) if c == "/")]
            return sum(self.sizes[rel] for rel in matched) if matched else None
        if clean in self.sizes:
            return self.sizes[clean]
        inside = [size for rel, size in self.sizes.items() if rel.startswith(clean + "/")]
        return sum(inside) if inside else None
