"""Platforms as users write them, and the multi-platform image value (pare.oci.index)."""

from __future__ import annotations

import pytest

from pare.errors import ManifestError
from pare.oci.descriptor import Platform


@pytest.mark.parametrize(("text", "expected"), [
    ("linux/amd64", Platform("linux", "amd64")),
    ("linux/arm64/v8", Platform("linux", "arm64", "v8")),
    ("windows/amd64", Platform("windows", "amd64")),
    ("arm64", Platform("linux", "arm64")),  # a bare word is an architecture, linux implied
    ("amd64", Platform("linux", "amd64")),
    ("x86_64", Platform("linux", "amd64")),  # uname -m spellings, as indexes spell them
    ("linux/aarch64", Platform("linux", "arm64")),
    ("armhf", Platform("linux", "arm", "v7")),
])
def test_platform_parse(text: str, expected: Platform) -> None:
    assert Platform.parse(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("linux", "linux is an OS; name an architecture too"),  # was linux/linux
    ("windows", "windows is an OS"),
    ("amd64/linux", "amd64 is an architecture; want os/arch"),
    ("", "want os/arch"),
    ("linux/", "want os/arch"),
    ("a/b/c/d", "want os/arch"),
])
def test_platform_parse_refuses_what_names_no_image(text: str, message: str) -> None:
    """Guards `--platform linux`, which used to mean linux/linux and then matched nothing."""
    with pytest.raises(ManifestError, match=message) as info:
        Platform.parse(text)
    assert "\n" not in str(info.value)
