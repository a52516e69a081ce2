"""Shared fixtures: a real local registry on a free loopback port, and temp stores."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pare.localregistry import LocalRegistry, free_port


def need(tool: str) -> str:
    """Path of a system tool the test drives; `make test` installs them, so absence is a failure."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed: run `make setup` (scripts/install-system.sh)")
    return path


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    """One real CNCF Distribution registry for the whole session, on 127.0.0.1 and a free port."""
    reg = LocalRegistry(tmp_path_factory.mktemp("registry"), port=free_port())
    with reg.running():
        yield reg


@pytest.fixture
def fresh_registry(tmp_path: Path) -> Iterator[LocalRegistry]:
    """A registry of the test's own, with empty storage."""
    reg = LocalRegistry(tmp_path / "registry", port=free_port())
    with reg.running():
        yield reg


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tests away from the user's embedded store and registry state."""
    monkeypatch.setenv("PARE_STORE", str(tmp_path_factory.mktemp("store")))
    monkeypatch.setenv("PARE_REGISTRY_DIR", str(tmp_path_factory.mktemp("regstate")))
