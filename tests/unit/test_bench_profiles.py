"""Machine profiles as data: the built-ins, a user's file, and bad input as one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pare.errors import UsageError
from pare.experiment.profiles import Profile, load_profiles, parse_profiles, select


def test_builtin_laptop_and_micro() -> None:
    profiles = load_profiles()
    assert profiles["laptop"].unlimited
    micro = profiles["micro"]
    assert (micro.cpus, micro.memory_mb, micro.bandwidth_mbit) == (0.2, 600, 20.0)
    assert micro.summary() == "0.2 CPU, 600 MB, 20 Mbit/s"


def test_user_file_adds_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = tmp_path / "machines.toml"
    user.write_text('[tiny]\ncpus = 0.1\nmemory_mb = 256\n\n[micro]\ncpus = 0.5\n')
    monkeypatch.setenv("PARE_MACHINES", str(user))
    profiles = load_profiles()
    assert profiles["tiny"] == Profile("tiny", 0.1, 256, None)
    assert profiles["micro"].cpus == 0.5 and profiles["micro"].bandwidth_mbit is None
    extra = tmp_path / "extra.toml"
    extra.write_text("[wan]\nbandwidth_mbit = 100\n")
    assert load_profiles(extra)["wan"].bandwidth_mbit == 100.0


@pytest.mark.parametrize("text, message", [
    ("[a]\ncpus = -1\n", "positive"),
    ("[a]\ncpus = 'two'\n", "number"),
    ("[a]\nmemory_mb = 1.5\n", "whole"),
    ("[a]\nram = 3\n", "unknown key"),
    ("[a]\ncpus = 0.001\n", "cannot be enforced"),
    ("[\"a b\"]\ncpus = 1\n", "name"),
    ("[a]\ncpus = \n", "TOML"),
    ("a = 1\n", "table"),
])
def test_bad_profiles_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_profiles(text, "f.toml")


def test_missing_extra_file_and_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such machine profile file"):
        load_profiles(tmp_path / "nope.toml")
    with pytest.raises(UsageError, match="unknown machine profile"):
        select(["laptop", "mainframe"], load_profiles())


def test_round_trip_through_dict() -> None:
    micro = load_profiles()["micro"]
    assert Profile.from_dict(micro.to_dict()) == micro


@given(st.text(max_size=200))
def test_any_text_is_profiles_or_usage_error(text: str) -> None:
    try:
        profiles = parse_profiles(text, "fuzz.toml")
    except UsageError:
        return
    for p in profiles.values():
        assert p.cpus is None or p.cpus >= 0.01
        assert p.memory_mb is None or p.memory_mb >= 16
