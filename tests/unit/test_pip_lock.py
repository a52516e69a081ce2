"""pip's resolution recorded in pare.lock (pare.recipes.pip_lock): reading pip's installation
report, deciding which requirements it locks, and the hashed requirements made from the lock."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz.seeds import PIP_REPORTS
from pare.native.lock import Artifact, Lock, dumps, loads
from pare.native.lockcheck import _file_version
from pare.recipes.pip_lock import (
    ROLE,
    ReportError,
    ResolvedFile,
    hashed_requirements,
    lockable,
    locked_files,
    parse_report,
    requirement_inputs,
)
from pare.recipes.python_project import dependencies

REPORT: dict[str, Any] = PIP_REPORTS[0]


def test_a_report_gives_each_distribution_its_file_and_sha256() -> None:
    files = parse_report(json.dumps(REPORT))
    assert [(f.name, f.version, f.is_wheel) for f in files] == [
        ("itsdangerous", "2.2.0", True), ("markupsafe", "3.0.2", False)]
    assert files[0].sha256 == "ab" * 32 and files[1].sha256 == "cd" * 32  # hashes{} or the hash= field
    assert files[1].url.endswith("/MarkupSafe-3.0.2.tar.gz")


def _with(change: dict[str, Any], index: int = 0) -> str:
    report = copy.deepcopy(REPORT)
    report["install"][index]["download_info"].update(change)
    return json.dumps(report)


@pytest.mark.parametrize("text, message", [
    ("not json", "not JSON"),
    (json.dumps({"version": "2", "install": []}), "not version 1"),
    (json.dumps(PIP_REPORTS[1]), "local directory or a VCS checkout"),
    (_with({"url": "git+https://example.test/x", "vcs_info": {"vcs": "git"}, "archive_info": None}),
     "cannot pin by hash"),
    (_with({"archive_info": {"hashes": {"md5": "00"}}}), "gives no sha256"),
    (_with({"archive_info": {"hashes": {"sha256": "AB" * 32}}}), "gives no sha256"),
    (_with({"url": "file:///tmp/itsdangerous-2.2.0-py3-none-any.whl"}), "not from a package index"),
    (_with({"url": "https://files.pythonhosted.org/evil-2.2.0-py3-none-any.whl"}), "is a file of evil"),
    (_with({"url": "https://files.pythonhosted.org/itsdangerous-9.9-py3-none-any.whl"}), "itsdangerous 9.9"),
])
def test_a_report_pare_cannot_lock_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(ReportError, match=message) as info:
        parse_report(text)
    assert "\n" not in str(info.value)


def test_the_same_distribution_twice_is_refused() -> None:
    report = copy.deepcopy(REPORT)
    report["install"].append(copy.deepcopy(report["install"][0]))
    with pytest.raises(ReportError, match="itsdangerous twice"):
        parse_report(json.dumps(report))


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                 max_size=4), max_leaves=20))
def test_any_json_gives_files_or_a_report_error(value: object) -> None:
    report = copy.deepcopy(REPORT)
    report["install"].append(value)
    for doc in (value, report):
        try:
            files = parse_report(json.dumps(doc))
        except ReportError:
            continue
        assert all(isinstance(f, ResolvedFile) and len(f.sha256) == 64 for f in files)


def _app(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize("files, expected", [
    ({"requirements.txt": "flask>=2\n# a comment\ngunicorn==21.2.0 ; python_version>'3'\n"}, True),
    ({"requirements.txt": "-r base.txt\n-c constraints.txt\n", "base.txt": "flask\n",
      "constraints.txt": "click<9\n"}, True),
    ({"requirements.txt": "-r missing.txt\nflask\n"}, False),
    ({"requirements.txt": "-r requirements.txt\nflask\n"}, False),
    ({"requirements.txt": "flask==3.0.0 --hash=sha256:" + "a" * 64 + "\n"}, False),  # pip checks those itself
    ({"requirements.txt": "./localpkg\n"}, False),
    ({"requirements.txt": "-e .\n"}, False),
    ({"requirements.txt": "--index-url https://mirror.test/simple\nflask\n"}, False),
    ({"requirements.txt": "pkg @ https://example.test/pkg-1.0.tar.gz\n"}, False),
    ({"requirements.txt": "# nothing\n"}, False),
    ({"pyproject.toml": '[project]\nname = "a"\nversion = "1"\ndependencies = ["flask>=3"]\n'}, True),
    ({"Pipfile.lock": json.dumps({"default": {"flask": {"version": "==3.0.0", "hashes": []}}})}, False),
])
def test_which_requirements_pips_resolution_locks(tmp_path: Path, files: dict[str, str],
                                                  expected: bool) -> None:
    app = _app(tmp_path, files)
    assert lockable(app, dependencies(app)) is expected


def test_the_lock_request_follows_the_requirements_and_the_files_they_include(tmp_path: Path) -> None:
    app = _app(tmp_path, {"requirements.txt": "-r base.txt\n", "base.txt": "flask\n"})
    before = requirement_inputs(app, dependencies(app))
    assert before.startswith("requirements.txt sha256:")
    (app / "base.txt").write_text("flask<3\n")
    assert requirement_inputs(app, dependencies(app)) != before
    (app / "base.txt").write_text("flask\n")
    assert requirement_inputs(app, dependencies(app)) == before


def test_locked_files_round_trip_through_pare_lock_as_hashed_requirements() -> None:
    files = parse_report(json.dumps(REPORT))
    artifacts = [f.artifact(p) for p in ("linux/amd64", "linux/arm64") for f in files]
    server = Artifact("pypi", "runtime", "all", "gunicorn", "23.0.0", "sha256:" + "ef" * 32,
                      "https://files.pythonhosted.org/gunicorn-23.0.0-py3-none-any.whl")
    lock = loads(dumps(Lock.new({"language": "python"}, [*artifacts, server])))
    amd64 = locked_files(lock.artifacts, "linux/amd64")
    assert [(a.name, a.role, a.platform) for a in amd64] == [("itsdangerous", ROLE, "linux/amd64"),
                                                             ("markupsafe", ROLE, "linux/amd64")]
    assert hashed_requirements(amd64) == (f"itsdangerous==2.2.0 --hash=sha256:{'ab' * 32}\n"
                                          f"markupsafe==3.0.2 --hash=sha256:{'cd' * 32}\n")


@pytest.mark.parametrize("filename, version", [
    ("itsdangerous-2.2.0-py3-none-any.whl", "2.2.0"), ("MarkupSafe-3.0.2.tar.gz", "3.0.2"),
    ("zope.interface-7.2.zip", "7.2"), ("not-a-dist.txt", None)])
def test_the_lock_check_reads_the_version_of_wheels_and_sdists(filename: str, version: str | None) -> None:
    assert _file_version(filename) == version


def test_the_python_recipes_lock_request_names_the_resolution_only_when_pip_resolves(tmp_path: Path) -> None:
    """A changed requirements.txt makes pare.lock stale (its request differs); a local path keeps
    pip's unhashed install and no resolution in the request."""
    from pare.recipes.python import PythonRecipe
    app = _app(tmp_path, {"requirements.txt": "itsdangerous>=2\n", "app.py": "print(1)\n"})
    first = dict(PythonRecipe(app).request().lock_request())
    assert first["pip_resolution"].startswith("requirements.txt sha256:")
    (app / "requirements.txt").write_text("itsdangerous>=2.1\n")
    assert dict(PythonRecipe(app).request().lock_request())["pip_resolution"] != first["pip_resolution"]
    (app / "requirements.txt").write_text("./localpkg\n")
    assert "pip_resolution" not in dict(PythonRecipe(app).request().lock_request())
