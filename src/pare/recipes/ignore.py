"""`.dockerignore` (and pare's own `.pareignore`) with Docker's exact semantics.

What Docker's and BuildKit's readers do, rule by rule:
- a line whose first character is `#` is a comment (`  #x` is a pattern); blank lines are skipped;
  surrounding whitespace is trimmed; a UTF-8 BOM on the first line is dropped;
- `!` before a pattern re-includes what it matches; each pattern is path-cleaned (`a/./b/` -> `a/b`)
  and a leading `/` is dropped: patterns are always relative to the app directory;
- a pattern matches a whole relative path with Go's filepath.Match syntax (`*` and `?` never match
  `/`, `[a-z]` classes, `\\` escapes) plus `**`, which matches any number of directories, none included;
- a path is excluded when the last pattern that matches it, or one of its parent directories, is an
  exclusion (`*.pyc` is top-level only: it matches `x.pyc`, not `a/x.pyc`);
- an excluded directory is still walked when a `!` pattern could re-include something inside it, as
  BuildKit does: when every `!` pattern is free of wildcards, only directories that are a prefix of
  one; otherwise every excluded directory.
`.pareignore` patterns are read after `.dockerignore`'s, so they win. The files themselves are read,
never written.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pare.errors import UsageError

IGNORE_FILES = (".dockerignore", ".pareignore")
# Secrets never shipped, even without a .dockerignore, and read after the app's own ignore files so a
# `!` line there does not bring one back: only the `include-secrets` setting does (secret_rules).
SECRET_PATTERNS = ("**/.env*", "**/.npmrc", "**/.pypirc", "**/.netrc", "**/.aws", "**/.ssh", "**/.git",
                   "**/.docker/config.json", "**/*.pem", "**/id_*", "**/*.key")


def secret_rules(include: Iterable[str] = ()) -> list[str]:
    """SECRET_PATTERNS, then `!` lines for what the user explicitly ships (the include-secrets setting)."""
    return [*SECRET_PATTERNS, *("!" + _clean(p).lstrip("/") for p in include)]
_BOM = "\ufeff"
_REGEX_SPECIAL = set(".+()|{}$")  # meaningful to a regexp, literal in filepath.Match


@dataclass(frozen=True)
class Pattern:
    """One cleaned pattern; `exclusion` is True for `!` lines (they re-include)."""

    text: str
    exclusion: bool
    regex: re.Pattern[str]

    def matches(self, path: str) -> bool:
        return self.regex.fullmatch(path) is not None

    @property
    def has_wildcards(self) -> bool:
        return any(c in self.text for c in "*?[\\")


def read_patterns(text: str) -> list[str]:
    """The patterns of a .dockerignore file, cleaned as Docker cleans them (`!` kept in front)."""
    patterns = []
    for number, line in enumerate(text.splitlines()):
        if number == 0:
            line = line.removeprefix(_BOM)
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        invert = line.startswith("!")
        if invert:
            line = line[1:].strip()
        if line:
            line = _clean(line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        patterns.append("!" + line if invert else line)
    return patterns


def compile_pattern(pattern: str) -> Pattern:
    """A pattern line (as read_patterns returns it) compiled to a regexp, as moby's patternmatcher does."""
    exclusion = pattern.startswith("!")
    text = pattern[1:] if exclusion else pattern
    if not text:
        raise UsageError("illegal exclusion pattern: \"!\"")
    text = _clean(text)
    try:
        return Pattern(text, exclusion, re.compile(_translate(text)))
    except re.error as exc:
        raise UsageError(f"bad pattern {pattern!r}: {exc}") from None


def _clean(path: str) -> str:
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def _translate(pattern: str) -> str:
    out = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1
                out.append(".*" if i >= n else "(.*/)?")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch in _REGEX_SPECIAL:
            out.append("\\" + ch)
        elif ch == "\\":
            if i + 1 < n:
                i += 1
                out.append(re.escape(pattern[i]))
            else:
                out.append("\\\\")
        else:
            out.append(ch)  # '[' and ']' keep their class meaning, like Go's regexp
        i += 1
    return "".join(out)


class IgnoreRules:
    """The compiled patterns of an app's ignore files; `excluded()` answers for one path."""

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        self.patterns = tuple(compile_pattern(p) for p in patterns)
        exceptions = [p for p in self.patterns if p.exclusion]
        self._exceptions = tuple(exceptions)
        self._prefix_only = not any(p.has_wildcards for p in exceptions)

    @classmethod
    def from_dir(cls, app_dir: Path | str, defaults: Iterable[str] = (), after: Iterable[str] = ()
                 ) -> IgnoreRules:
        """The app's ignore files, read after `defaults` (pare's own exclusions), so the app's
        lines win: a `!` line can bring back what a default left out; `after` (secret_rules) is
        read last, so the app's lines cannot undo it."""
        lines: list[str] = list(defaults)
        for name in IGNORE_FILES:
            path = Path(app_dir) / name
            if path.is_file():
                try:
                    text = path.read_text(encoding="utf-8", errors="surrogateescape")
                except OSError as exc:
                    raise UsageError(f"{path}: {exc}") from None
                patterns = read_patterns(text)
                try:
                    for pattern in patterns:
                        compile_pattern(pattern)
                except UsageError as exc:
                    raise UsageError(f"{path}: {exc}") from None
                lines += patterns
        return cls([*lines, *after])

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def excluded(self, relpath: str, is_dir: bool = False) -> bool:
        """True when `relpath` (relative to the app, '/'-separated) is excluded. `is_dir` is accepted
        for callers' clarity: Docker's rules do not depend on it (`dir/` is cleaned to `dir`)."""
        path = _clean(relpath)
        if path in (".", ""):
            return False
        parent = posixpath.dirname(path)
        parents = parent.split("/") if parent else []
        matched = False
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            hit = pattern.matches(path)
            if not hit:
                hit = any(pattern.matches("/".join(parents[:i + 1])) for i in range(len(parents)))
            if hit:
                matched = not pattern.exclusion
        return matched

    def descend(self, reldir: str) -> bool:
        """Whether a walk must enter `reldir`: it is included, or a `!` pattern may re-include
        something inside it (BuildKit's rule)."""
        if not self.excluded(reldir, True):
            return True
        if not self._exceptions:
            return False
        if not self._prefix_only:
            return True
        prefix = _clean(reldir) + "/"
        return any((p.text + "/").startswith(prefix) for p in self._exceptions)

    def walk(self, root: Path | str) -> Iterator[str]:
        """Relative paths to copy from `root`, sorted per directory: included entries, and excluded
        directories that hold included ones (as their parents). Symlinks are not followed."""
        yield from self._walk(os.fspath(root), "")

    def _walk(self, root: str, rel: str) -> Iterator[str]:
        try:
            entries = sorted(os.scandir(os.path.join(root, rel) if rel else root), key=lambda e: e.name)
        except OSError as exc:
            raise UsageError(f"{os.path.join(root, rel)}: {exc}") from None
        for entry in entries:
            path = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_dir(follow_symlinks=False):
                if not self.descend(path):
                    continue
                inside = list(self._walk(root, path))
                if inside or not self.excluded(path, True):
                    yield path
                    yield from inside
            elif not self.excluded(path):
                yield path
