"""The `--demo` preset: what it runs per profile, and that what it drops is said in the results."""

from __future__ import annotations

import pytest

from pare.cli.bench import preset_notes
from pare.cli.main import main
from pare.experiment.profiles import Profile
from pare.experiment.runner import Plan

LAPTOP, MICRO = Profile("laptop"), Profile("micro", cpus=0.2, memory_mb=600, bandwidth_mbit=20)


def test_recovery_runs_default_to_serial_and_parallel_for_every_d() -> None:
    plan = Plan([LAPTOP], {"laptop": 1}, deployments=(1, 3), max_parallel_pulls=3)
    assert plan.recovery_for("laptop") == ((1, 1), (3, 1), (3, 3))
    assert Plan([LAPTOP], {}, max_parallel_pulls=0).recovery_for("laptop") == ()


def test_recovery_runs_per_profile_override_the_default() -> None:
    plan = Plan([LAPTOP, MICRO], {}, deployments=(1, 3), recovery_runs={"micro": ()})
    assert plan.recovery_for("micro") == () and plan.recovery_for("laptop") == ((1, 1), (3, 1), (3, 3))


def test_preset_notes_say_what_was_dropped() -> None:
    plan = Plan([LAPTOP, MICRO], {"laptop": 1, "micro": 1}, deployments=(1, 3),
                skip_metrics={"micro": ("build_cold", "build_warm")}, recovery_runs={"micro": ()})
    notes = preset_notes("--demo", plan, 3)
    assert any("laptop 1, micro 1" in n and "(3)" in n for n in notes)
    assert any("builds not measured on micro" in n for n in notes)
    assert any("node recovery on micro ran not at all" in n for n in notes)
    assert any("node recovery on laptop ran D=1 serial, D=3 serial, D=3 parallel 3" in n for n in notes)
    assert preset_notes("", plan, 3) == []


def test_quick_and_demo_together_is_one_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--synthetic", "--quick", "--demo"])
    assert exc.value.code != 0
    assert "pick one" in capsys.readouterr().err
