"""The short run of the fuzz harness (tests/fuzz/targets.py): every parser of untrusted bytes gets a
few dozen generated and mutated inputs (the same ones each run), and must give a value or a
PareError, never another exception. `make fuzz` runs the same targets for minutes (scripts/fuzz.py).

KNOWN lists bugs the fuzz run found in code other work owns: each target there also runs the input
that found its bug, and is a strict xfail that accepts only that exception type. Any other failure
still fails the test, and so does the fix (XPASS): remove the entry with it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings

from fuzz.targets import Target, check, targets

TARGETS = {t.name: t for t in targets()}
_INDEX = (b'{"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", '
          b'"digest": "sha256:' + b"ab" * 32 + b'", "size": 5, "platform": {"os": "linux", '
          b'"architecture": "arm64", "os.features": 1}}]}')
KNOWN: dict[str, tuple[str, Any, object]] = {}  # target: (bug, exception it raises, input that shows it)


def _param(name: str) -> object:
    if name not in KNOWN:
        return name
    reason, raises, _ = KNOWN[name]
    return pytest.param(name, marks=pytest.mark.xfail(reason=reason, raises=raises, strict=True))


@pytest.mark.parametrize("name", [_param(name) for name in sorted(TARGETS)])
def test_parser_gives_a_value_or_a_pare_error(name: str) -> None:
    target: Target = TARGETS[name]

    def run(value: object) -> None:
        check(target, value)

    if name in KNOWN:
        run = example(KNOWN[name][2])(run)
    settings(max_examples=30, deadline=None, database=None, derandomize=True, report_multiple_bugs=False,
             suppress_health_check=list(HealthCheck))(given(target.strategy)(run))()
