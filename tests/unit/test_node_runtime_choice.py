"""pare.native.runtimes.node: which Debian suite's nodejs answers a request, and what ships of it."""

from __future__ import annotations

import pytest

from pare.errors import UsageError
from pare.native.lock import Artifact, Lock
from pare.native.platforms import host_arch
from pare.native.runtimes.node import (
    DEBIAN_NODE,
    NODE_PATH,
    NodeRuntime,
    pick_debian_suite,
    upstream_version,
)

# What the suites' signed indexes carried when this was written (node 18, 20, 24).
SUITES = {"bookworm": "18.20.4", "trixie": "20.19.2", "forky": "24.21.0"}


@pytest.mark.parametrize(("debian", "upstream"), [
    ("18.20.4+dfsg-1~deb12u3", "18.20.4"),
    ("20.19.2+dfsg-1+deb13u3", "20.19.2"),
    ("24.21.0+dfsg+~cs24.13.4-1", "24.21.0"),
    ("1:12.22.12~dfsg-1", "12.22.12"),
    ("22.0.0-1", "22.0.0"),
])
def test_upstream_version_of_a_debian_version(debian: str, upstream: str) -> None:
    assert upstream_version(debian) == upstream


@pytest.mark.parametrize(("spec", "suite"), [
    ("18.x", "bookworm"),
    (">=18", "forky"),  # the newest that fits
    ("^20.10", "trixie"),
    (">=18 <22", "trixie"),
    (None, "forky"),  # no request: the newest Debian carries
    ("lts/*", "forky"),
    ("24", "forky"),
])
def test_the_suite_whose_nodejs_satisfies_the_request(spec: str | None, suite: str) -> None:
    assert pick_debian_suite(spec, SUITES) == suite


def test_a_suite_given_must_satisfy_the_request() -> None:
    assert pick_debian_suite(">=18", SUITES, "bookworm") == "bookworm"
    with pytest.raises(UsageError, match=r"Debian bookworm's nodejs does not satisfy node '22.x' .*"
                                         r"--node-runtime official"):
        pick_debian_suite("22.x", SUITES, "bookworm")


def test_no_suite_fits_is_one_line_naming_what_each_has() -> None:
    with pytest.raises(UsageError) as caught:
        pick_debian_suite("16.18.1", SUITES)
    message = str(caught.value)
    assert "no Debian suite's nodejs satisfies node '16.18.1'" in message and "bookworm 18.20.4" in message
    assert "\n" not in message


def _deb(name: str) -> Artifact:
    arch = host_arch()
    return Artifact("deb", "runtime", arch.name, name, "1", "sha256:" + "0" * 64, f"https://x/{name}.deb")


def test_the_lock_says_which_node_ships() -> None:
    """Debian's nodejs among the runtime packages: /usr/bin/node and its closure ship, NODE_PATH links
    to it and no official binary is added; otherwise the official build ships at NODE_PATH."""
    arch = host_arch()
    debian = NodeRuntime(Lock.new({}, [_deb("libc6"), _deb("nodejs")]), arch)
    assert debian.debian
    spec = debian.layer_spec()
    assert spec.elf == (DEBIAN_NODE,) and spec.links == {NODE_PATH: DEBIAN_NODE} and not spec.extra
    assert [tree for tree, _ in spec.trees] == ["/usr/share/nodejs"]
    official = NodeRuntime(Lock.new({}, [_deb("libc6")]), arch)
    assert not official.debian
