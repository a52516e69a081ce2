"""The corpus of real apps (tests/corpus): every app is described, licensed, traced to its origin,
and buildable offline (lockfiles; a vendor/ that matches go.mod for Go apps with dependencies)."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
APPS: dict[str, dict[str, object]] = tomllib.loads((CORPUS / "apps.toml").read_text())["apps"]
LOCKS = {
    "node": ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml"),
    "python": ("requirements.txt", "poetry.lock", "uv.lock", "Pipfile.lock"),
    "go": ("go.mod",),
}
REQUIRED = {"language", "shape", "flags", "get", "status", "contains", "dockerfile", "from"}


def test_every_directory_is_described_and_the_mix_is_wide() -> None:
    dirs = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    assert dirs == set(APPS)
    counts = Counter(str(app["language"]) for app in APPS.values())
    assert len(APPS) >= 12
    assert all(counts[lang] >= 4 for lang in LOCKS), counts


@pytest.mark.parametrize("name", sorted(APPS))
def test_app_entry_is_complete(name: str) -> None:
    app = APPS[name]
    assert app.keys() >= REQUIRED, REQUIRED - app.keys()
    assert app["language"] in LOCKS
    assert isinstance(app["flags"], list) and all(isinstance(f, str) for f in app["flags"])
    assert str(app["get"]).startswith("/") and isinstance(app["status"], int)
    env = app.get("env", {})
    assert isinstance(env, dict) and all(isinstance(v, str) for v in env.values())
    dockerfile = str(app["dockerfile"])
    assert (CORPUS / name / dockerfile).is_file() if dockerfile else app["from"] == []


@pytest.mark.parametrize("name", sorted(APPS))
def test_app_is_licensed_and_traced(name: str) -> None:
    root = CORPUS / name
    assert any(p.name.upper().startswith(("LICENSE", "COPYING")) for p in root.iterdir())
    origin = (root / "ORIGIN.md").read_text()
    assert re.search(r"https://github\.com/[\w.-]+/[\w.-]+", origin)
    assert re.search(r"\b[0-9a-f]{40}\b", origin), "ORIGIN.md must name the commit"
    assert "How it was checked" in origin


# Apps in the corpus because they have no lockfile (or no go.mod): pare resolves one for them.
LOCKLESS = {"node-no-lockfile", "go-no-gomod"}


def declares_dependencies(root: Path, language: str) -> bool:
    """Whether the app names third-party dependencies at all (an app with none needs no lockfile)."""
    if language == "node":
        import json
        package = json.loads((root / "package.json").read_text())
        return any(package.get(k) for k in ("dependencies", "devDependencies", "optionalDependencies"))
    if language == "python":
        wanted = ("requirements.txt", "pyproject.toml", "Pipfile", "setup.py")
        return any((root / f).is_file() for f in wanted)
    return True


@pytest.mark.parametrize("name", sorted(APPS))
def test_app_builds_offline(name: str) -> None:
    root = CORPUS / name
    language = str(APPS[name]["language"])
    locked = any((root / lock).is_file() for lock in LOCKS[language])
    if LOCKLESS & set(APPS[name].get("needs", [])):  # type: ignore[arg-type]
        assert not locked, f"{name} is in the corpus for having no lockfile"
    elif declares_dependencies(root, language):
        assert locked
    assert not (root / "node_modules").exists() and not (root / ".venv").exists()


def go_requirements(gomod: str) -> dict[str, str]:
    reqs = {}
    for block in re.findall(r"^require\s*\((.*?)\)", gomod, re.S | re.M):
        for line in block.splitlines():
            words = line.split("//")[0].split()
            if len(words) == 2:
                reqs[words[0]] = words[1]
    reqs.update(re.findall(r"^require\s+([^\s(]+)\s+(\S+)", gomod, re.M))
    return reqs


@pytest.mark.parametrize("name", sorted(n for n, a in APPS.items() if a["language"] == "go"))
def test_go_vendor_matches_go_mod(name: str) -> None:
    """What `go build -mod=vendor` checks: every requirement is in modules.txt, explicit, same version,
    and every listed package is there."""
    root = CORPUS / name
    gomod = root / "go.mod"
    reqs = go_requirements(gomod.read_text()) if gomod.is_file() else {}
    modules_txt = root / "vendor" / "modules.txt"
    if not reqs:
        assert not modules_txt.exists()
        return
    vendored: dict[str, str] = {}
    current = ""
    for line in modules_txt.read_text().splitlines():
        if line.startswith("# "):
            current, version = line[2:].split()[:2]
            vendored[current] = version
        elif line.startswith("## "):
            assert "explicit" in line, line
        else:
            assert line.startswith(current) and (root / "vendor" / line).is_dir(), line
    assert vendored == reqs


def test_corpus_fits_the_size_budget() -> None:
    total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    assert total < 30 * 1024 * 1024
