from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pare.errors import InvalidReference
from pare.oci.digest import Digest
from pare.oci.reference import Reference

HEX = "a" * 64


@pytest.mark.parametrize(("text", "registry", "repository", "tag", "digest"), [
    ("nginx", "docker.io", "library/nginx", None, None),
    ("nginx:1.25", "docker.io", "library/nginx", "1.25", None),
    ("user/app", "docker.io", "user/app", None, None),
    ("index.docker.io/nginx", "docker.io", "library/nginx", None, None),
    ("localhost/app", "localhost", "app", None, None),
    ("localhost:5000/a/b/c:v1", "localhost:5000", "a/b/c", "v1", None),
    ("127.0.0.1:5000/x@sha256:" + HEX, "127.0.0.1:5000", "x", None, "sha256:" + HEX),
    ("ghcr.io/o/r:t@sha256:" + HEX, "ghcr.io", "o/r", "t", "sha256:" + HEX),
    ("[::1]:5000/x", "[::1]:5000", "x", None, None),
    ("a__b/c-d.e", "docker.io", "a__b/c-d.e", None, None),
])
def test_parse(text: str, registry: str, repository: str, tag: str | None, digest: str | None) -> None:
    ref = Reference.parse(text)
    assert (ref.registry, ref.repository, ref.tag) == (registry, repository, tag)
    assert (str(ref.digest) if ref.digest else None) == digest


@pytest.mark.parametrize("text", [
    "", " nginx", "Nginx", "nginx:", "nginx:-bad", "a//b", "a/b/", "/a", "a..b", "a-", "nginx@sha256:abc",
    "nginx@md5:" + "a" * 32, "localhost:5000/", "x:" + "t" * 129, "a" * 256,
])
def test_rejects(text: str) -> None:
    with pytest.raises(InvalidReference):
        Reference.parse(text)


def test_identifier_and_forms() -> None:
    ref = Reference.parse("nginx")
    assert ref.identifier == "latest"
    assert str(ref) == "docker.io/library/nginx:latest"
    assert ref.familiar() == "nginx"
    assert ref.api_host == "registry-1.docker.io"
    pinned = ref.with_digest(Digest("sha256", HEX))
    assert pinned.identifier == "sha256:" + HEX


component = st.from_regex(r"[a-z0-9]{1,5}([._-][a-z0-9]{1,5}){0,2}", fullmatch=True)
tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)


@given(st.lists(component, min_size=1, max_size=3), st.one_of(st.none(), tag),
       st.sampled_from(["", "localhost:5000/", "example.com/", "127.0.0.1:1/"]))
def test_roundtrip(parts: list[str], t: str | None, host: str) -> None:
    # Like docker, a first component with a '.' is read as a registry host: not this case.
    assume(host or len(parts) == 1 or "." not in parts[0])
    text = host + "/".join(parts) + (f":{t}" if t else "")
    ref = Reference.parse(text)
    again = Reference.parse(str(ref))
    assert again == ref if t else again == ref.with_tag("latest")
    assert ref.tag == t


@given(st.text(max_size=80))
def test_never_crashes(text: str) -> None:
    try:
        ref = Reference.parse(text)
    except InvalidReference:
        return
    assert ref.repository and ref.registry
