"""pare.recipes.ignore: .dockerignore with Docker's semantics, checked three ways: the examples of
Docker's own documentation, a reference model (segment-wise fnmatch, last match wins) under
hypothesis, and the walk of real directory trees against what `excluded()` says of every path."""

from __future__ import annotations

import fnmatch
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pare.errors import UsageError
from pare.recipes.ignore import IgnoreRules, read_patterns

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def rules(text: str) -> IgnoreRules:
    return IgnoreRules(read_patterns(text))


# --- reading ---------------------------------------------------------------------------------------

def test_read_patterns_cleans_as_docker_does() -> None:
    text = "\ufeff# comment\n  #not a comment\n\n /abs/dir/ \n! keep/./me\na//b/../c\n!\n"
    assert read_patterns(text) == ["#not a comment", "abs/dir", "!keep/me", "a/c", "!"]


def test_a_bare_exclamation_mark_is_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("node_modules\n!\n")
    with pytest.raises(UsageError, match=r"\.dockerignore.*illegal exclusion"):
        IgnoreRules.from_dir(tmp_path)


def test_no_ignore_files_means_nothing_is_excluded(tmp_path: Path) -> None:
    found = IgnoreRules.from_dir(tmp_path)
    assert not found and not found.excluded("anything/at/all.py")


def test_pareignore_comes_after_dockerignore_and_wins(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("docs\n")
    (tmp_path / ".pareignore").write_text("!docs/api.md\n*.log\n")
    found = IgnoreRules.from_dir(tmp_path)
    assert found.excluded("docs/guide.md") and not found.excluded("docs/api.md")
    assert found.excluded("build.log") and not found.excluded(".dockerignore")


# --- Docker's documented examples ------------------------------------------------------------------

@pytest.mark.parametrize(("path", "excluded"), [
    ("somedir/temporary.txt", True), ("somedir/temp", True), ("temp", False),
    ("somedir/subdir/temporary.txt", True), ("tempa", True), ("tempab", False),
    ("a/b/c/x.go", True), ("x.go", True), ("x.gox", False),
])
def test_docker_documentation_examples(path: str, excluded: bool) -> None:
    found = rules("# comment\n*/temp*\n*/*/temp*\ntemp?\n**/*.go\n")
    assert found.excluded(path) is excluded


def test_exceptions_order_matters_as_documented() -> None:
    first = rules("*.md\n!README*.md\nREADME-secret.md\n")
    assert first.excluded("notes.md") and not first.excluded("README.md")
    assert first.excluded("README-secret.md")
    second = rules("*.md\nREADME-secret.md\n!README*.md\n")
    assert not second.excluded("README-secret.md")


@pytest.mark.parametrize(("pattern", "path", "excluded"), [
    ("*.pyc", "x.pyc", True),
    ("*.pyc", "pkg/x.pyc", False),  # unlike .gitignore: patterns match from the root
    ("**/*.pyc", "pkg/x.pyc", True),
    ("node_modules", "node_modules/a/b.js", True),  # a parent directory's match covers its files
    ("docs/", "docs/x", True),
    ("/build", "build/out", True),
    ("a/**/z", "a/z", True),
    ("a/**/z", "a/b/c/z", True),
    ("a/**", "a", False),
    ("a/**", "a/b", True),
    ("file[0-9].txt", "file7.txt", True),
    ("file[0-9].txt", "filex.txt", False),
    ("a\\*b", "a*b", True),
    ("a\\*b", "axb", False),
    ("v1.0", "v1x0", False),  # regexp characters are literal
    ("(x)+", "(x)+", True),
    ("?", "a/b", True),  # "?" matches the parent "a"
    ("?", "ab", False),
])
def test_pattern_syntax(pattern: str, path: str, excluded: bool) -> None:
    assert rules(pattern).excluded(path) is excluded


def test_reincluded_child_of_excluded_directory() -> None:
    found = rules("docs\n!docs/keep.md\n")
    assert found.excluded("docs") and found.excluded("docs/a.md")
    assert not found.excluded("docs/keep.md")
    assert found.descend("docs") and found.descend("other")


def test_descend_follows_buildkit() -> None:
    literal = rules("build\nvendor\n!build/keep\n")
    assert literal.descend("build") and not literal.descend("vendor")
    assert not literal.descend("build/other")  # no exception lies under it
    wildcard = rules("build\nvendor\n!**/*.keep\n")
    assert wildcard.descend("vendor")  # any exception with a wildcard may match anywhere
    none = rules("build\n")
    assert not none.descend("build") and none.descend("src")


def test_real_dockerignore_from_the_corpus() -> None:
    found = IgnoreRules.from_dir(CORPUS / "go-httpbin")  # `.*`, `dist`, `examples`
    assert found.excluded(".gitignore") and found.excluded("examples/custom-instrumentation/main.go")
    assert found.excluded("dist/go-httpbin")
    assert not found.excluded("cmd/go-httpbin/main.go") and not found.excluded("httpbin/httpbin.go")
    walked = set(found.walk(CORPUS / "go-httpbin"))
    assert "cmd/go-httpbin/main.go" in walked and "go.mod" in walked
    assert not any(p.startswith((".", "examples")) for p in walked)


# --- the reference model ---------------------------------------------------------------------------

def model_matches(pattern: str, path: str) -> bool:
    """Segment-wise matching: `**` as a whole segment spans any number of directories (one or more at
    the end of a pattern, as `dir/**` never matches `dir` itself), other segments use fnmatch."""
    def match(pat: list[str], segs: list[str]) -> bool:
        if not pat:
            return not segs
        if pat[0] == "**":
            if len(pat) == 1:
                return len(segs) >= 1
            return any(match(pat[1:], segs[i:]) for i in range(len(segs) + 1))
        return bool(segs) and fnmatch.fnmatchcase(segs[0], pat[0]) and match(pat[1:], segs[1:])
    return match(pattern.split("/"), path.split("/"))


def model_excluded(patterns: list[str], path: str) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    verdict = False
    for line in patterns:
        exception = line.startswith("!")
        pattern = line[1:] if exception else line
        if any(model_matches(pattern, p) for p in prefixes):
            verdict = not exception
    return verdict


segment = st.text(alphabet="ab.", min_size=1, max_size=3).filter(lambda s: s not in (".", ".."))
glob_segment = st.one_of(segment, st.text(alphabet="ab.*?", min_size=1, max_size=3).filter(
    lambda s: s not in (".", "..") and "**" not in s), st.just("**"))
paths = st.lists(segment, min_size=1, max_size=4).map("/".join)
patterns = st.lists(glob_segment, min_size=1, max_size=4).map("/".join).filter(
    lambda p: "**/**" not in p).flatmap(lambda p: st.sampled_from([p, "!" + p]))


@settings(max_examples=250, deadline=None)
@given(st.lists(patterns, min_size=1, max_size=5), st.lists(paths, min_size=1, max_size=8))
def test_excluded_agrees_with_the_reference_model(lines: list[str], tested: list[str]) -> None:
    found = IgnoreRules(lines)
    for path in tested:
        assert found.excluded(path) is model_excluded(lines, path), (lines, path)


files = st.lists(paths, min_size=1, max_size=10, unique=True)


@settings(max_examples=60, deadline=None)
@given(files, st.lists(patterns, min_size=1, max_size=4))
def test_walk_yields_exactly_what_excluded_allows(tree: list[str], lines: list[str]) -> None:
    found = IgnoreRules(lines)
    with tempfile.TemporaryDirectory() as tmp:
        made: set[str] = set()
        for rel in tree:
            if any(rel.startswith(m + "/") or m.startswith(rel + "/") for m in made):
                continue  # a file and a directory cannot share a name
            os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
            Path(tmp, rel).write_text("x")
            made.add(rel)
        every = set()
        for current, dirs, names in os.walk(tmp):
            rel = os.path.relpath(current, tmp)
            every.update(os.path.normpath(os.path.join(rel, n)) for n in dirs + names)
        kept = {p for p in every if not found.excluded(p)}
        kept |= {"/".join(p.split("/")[:i]) for p in kept for i in range(1, p.count("/") + 1)}
        assert set(found.walk(tmp)) == kept, lines
