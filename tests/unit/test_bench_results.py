"""The results model: statistics, the honesty rules, and the results file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pare.errors import InputError, NotFound, UsageError
from pare.experiment.results import Comparison, RecoverySample, Results, Sample, Summary, machine_info, merge


def results(fingerprint: str = "abc", cpus: float | None = 0.2) -> Results:
    r = Results(["pare", "bench"], {"hostname": "h", "fingerprint": fingerprint}, "0.1.0")
    r.profiles["micro"] = {"profile": {"name": "micro", "cpus": cpus}, "repeats": 3, "applied": {}}
    r.variants = {"app": {"fat": {"role": "fat"}, "small": {"role": "small"}}}
    for i, (fat, small) in enumerate([(30.0, 2.0), (31.0, 2.2), (29.0, 1.9)]):
        r.samples.append(Sample("app", "fat", "micro", "pull", fat, i))
        r.samples.append(Sample("app", "small", "micro", "pull", small, i))
    r.recovery.append(RecoverySample("fat", "micro", 3, 1, 90.0, 0, "app", 10))
    return r


def test_summary_min_median_max() -> None:
    s = Summary.of([3.0, 1.0, 2.0, 10.0])
    assert (s.n, s.min, s.median, s.max) == (4, 1.0, 2.5, 10.0)
    assert s.noisy and not Summary.of([1.0, 1.1]).noisy
    with pytest.raises(ValueError):
        Summary.of([])


def test_overlapping_runs_are_no_clear_difference() -> None:
    a, b = Summary.of([1.0, 1.3, 1.1]), Summary.of([1.2, 0.9, 1.0])
    assert not Comparison(a, b).clear
    assert Comparison(a, b).text() == "no clear difference"
    far = Comparison(Summary.of([30.0, 31.0, 29.0]), Summary.of([2.0, 2.2, 1.9]))
    assert far.clear and far.text() == "15.0x"


def test_single_runs_need_a_margin_and_sizes_are_exact() -> None:
    assert Comparison(Summary.of([1.2]), Summary.of([1.0])).text() == "no clear difference"
    assert Comparison(Summary.of([3.0]), Summary.of([1.0])).text() == "3.0x"
    assert Comparison(Summary.of([1.2]), Summary.of([1.0]), exact=True).text() == "1.2x"


def test_save_load_round_trip(tmp_path: Path) -> None:
    r = results()
    path = tmp_path / "out" / "results.json"
    r.save(path)
    back = Results.load(path)
    assert back.to_dict() == r.to_dict()
    assert back.summary("app", "fat", "micro", "pull") == Summary(3, 29.0, 30.0, 31.0)
    assert back.recovery_summary("fat", "micro", 3, 1) == Summary(1, 90.0, 90.0, 90.0)
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]  # no temp file left


@pytest.mark.parametrize("content, message", [
    ("{", "not JSON"),
    ('{"schema": "other"}', "not a pare bench results file"),
    ('{"schema": "pare-bench/1"}', "malformed"),
    ('{"schema": "pare-bench/1", "command": [], "machine": {}, "pare_version": "1", '
     '"runs": [{"app": "a", "variant": "v", "profile": "p", "metric": "speed", "value": 1}]}',
     "unknown metric"),
])
def test_bad_results_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        Results.load(path)
    with pytest.raises(NotFound, match="no such results file"):
        Results.load(tmp_path / "missing.json")


@settings(max_examples=60)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=20))
def test_any_json_loads_or_is_an_input_error(data: object) -> None:
    if isinstance(data, dict):
        data = {"schema": "pare-bench/1", **data}
    try:
        Results.from_dict(json.loads(json.dumps(data)))
    except InputError:
        pass


def test_merge_refuses_other_machines_unless_allowed() -> None:
    with pytest.raises(UsageError, match="different machines"):
        merge([results("abc"), results("xyz")])
    merged, warnings = merge([results("abc"), results("xyz")], allow_mixed=True)
    assert warnings and "not comparable" in warnings[0] and warnings[0] in merged.notes
    assert len(merged.samples) == 12


def test_merge_refuses_redefined_profiles() -> None:
    with pytest.raises(UsageError, match="different limits"):
        merge([results(cpus=0.2), results(cpus=0.5)])
    merged, warnings = merge([results(), results()])
    assert warnings == [] and merged.summary("app", "fat", "micro", "pull").n == 6  # type: ignore[union-attr]


def test_machine_info_has_a_fingerprint() -> None:
    info = machine_info()
    assert len(info["fingerprint"]) == 16 and info["cores"] >= 1
    assert machine_info()["fingerprint"] == info["fingerprint"]
