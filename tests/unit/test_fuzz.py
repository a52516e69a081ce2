"""The short run of the fuzz harness (tests/fuzz/targets.py): every parser of untrusted bytes gets a
few dozen generated and mutated inputs (the same ones each run), and must give a value or a
PareError, never another exception. `make fuzz` runs the same targets for minutes (scripts/fuzz.py).

KNOWN lists bugs the fuzz run found in code other work owns: each target there also runs the input
that found its bug, and is a strict xfail that accepts only that exception type. Any other failure
still fails the test, and so does the fix (XPASS): remove the entry with it."""

from __future__ import annotations

from typing import Any

import pytest
from debian.arfile import ArError
from debian.debfile import DebError
from hypothesis import HealthCheck, example, given, settings

from fuzz.targets import Target, check, targets

TARGETS = {t.name: t for t in targets()}
_INDEX = (b'{"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", '
          b'"digest": "sha256:' + b"ab" * 32 + b'", "size": 5, "platform": {"os": "linux", '
          b'"architecture": "arm64", "os.features": 1}}]}')
KNOWN: dict[str, tuple[str, Any, object]] = {  # target: (bug, exception it raises, input that shows it)
    "deb.control": ("bases/debs.py read_package_meta: the errors of a broken .deb are not caught",
                    (DebError, ArError, OSError, ValueError), b""),
    "deb.index": ("bases/apt.py read_index: a bad Version raises ValueError, an empty Source IndexError",
                  (ValueError, IndexError), b"Package: a\nVersion: :\nArchitecture: amd64\n\n"
                              b"Package: a\nVersion: 1\nArchitecture: all\n"),
    "oci.manifest": ("oci/descriptor.py Platform.from_dict: a non-list os.features raises TypeError",
                     TypeError, _INDEX),
    "oci.reference": ("stores/transports.py _split_path_name: a name too long for stat raises OSError",
                      OSError, "oci:" + "a" * 300 + ":tag"),
    "recipe.package_json": ("recipes/node.py main_script: a non-object scripts raises AttributeError",
                            AttributeError, b'{"scripts": 1}'),
}


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
