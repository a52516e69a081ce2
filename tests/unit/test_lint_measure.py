"""pare lint --measure's pieces that need no build: where a layout is pulled from, and which paths
count as a cache."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pare.lint.measure import CACHE_PATHS, nameable, nameable_dir

# a reference's path components (distribution/reference): lower-case alphanumerics, single separators
COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")


def test_layouts_are_pulled_through_a_path_every_reference_parser_accepts(tmp_path: Path) -> None:
    """A random temp name such as pare-lint-build-_1chyvs_ is no valid reference component; the
    link buildah pulls through is one, whatever TMPDIR holds."""
    layout = tmp_path / "Bad_Name-_x_" / "bases"
    layout.mkdir(parents=True)
    for _ in range(20):  # random names: every one must be valid
        with nameable_dir() as links:
            pulled = nameable(f"oci:{layout}:base-x", links / "base0")
            path, _, tag = pulled.removeprefix("oci:").partition(":")
            assert tag == "base-x" and Path(path).resolve() == layout.resolve()
            assert all(COMPONENT.fullmatch(part) for part in path.strip("/").split("/")), path
        assert not links.exists()
    assert nameable("docker-archive:/x.tar", tmp_path / "unused") == "docker-archive:/x.tar"


@pytest.mark.parametrize(("path", "family"), [
    ("var/lib/apt/lists/deb.debian.org_debian_dists_trixie_InRelease", "apt-lists"),
    ("root/.cache/pip/http-v2/a/b", "pip-cache"), ("home/app/.cache/pip/wheels/x.whl", "pip-cache"),
    (".cache/pip/http/1/2", "pip-cache"),  # a RUN with HOME=/
    ("var/cache/apk/APKINDEX.tar.gz", "apk-cache"), ("var/cache/dnf/repodata", "yum-cache"),
    ("usr/lib/python3/dist-packages/pip/_internal/cache.py", None), ("app/var/lib/apt/lists/x", None),
])
def test_cache_paths(path: str, family: str | None) -> None:
    found = [name for name, pattern in CACHE_PATHS.items() if pattern.match(path)]
    assert found == ([family] if family else [])
