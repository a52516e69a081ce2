"""Auth pieces that need no network: WWW-Authenticate parsing, docker config and env credentials."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pare.errors import AuthError
from pare.stores.registry.auth import (
    Authenticator,
    Challenge,
    Credentials,
    credentials_from_config,
    credentials_from_env,
    default_credentials,
    parse_challenges,
    realm_host_allowed,
    repository_scope,
)
from pare.stores.registry.client import RegistryClient


def test_bearer_challenge_from_docker_hub() -> None:
    header = ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
              'scope="repository:library/nginx:pull"')
    assert parse_challenges(header) == [Challenge("bearer", {
        "realm": "https://auth.docker.io/token", "service": "registry.docker.io",
        "scope": "repository:library/nginx:pull"})]


def test_basic_challenge_and_several_in_one_header() -> None:
    basic = Challenge("basic", {"realm": "Registry Realm"})
    assert parse_challenges('Basic realm="Registry Realm"') == [basic]
    both = parse_challenges('Basic realm="r", Bearer realm="https://t/x", service=svc')
    assert [c.scheme for c in both] == ["basic", "bearer"]
    assert both[1].params == {"realm": "https://t/x", "service": "svc"}


def test_quoted_escapes_and_commas_inside_quotes() -> None:
    [challenge] = parse_challenges(r'Bearer realm="a\"b, c",scope="repository:x:pull,push"')
    assert challenge.params == {"realm": 'a"b, c', "scope": "repository:x:pull,push"}


def test_garbage_does_not_crash() -> None:
    assert parse_challenges("") == []
    assert [c.scheme for c in parse_challenges("Negotiate abc==")] == ["negotiate"]


_token = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+", min_size=1,
                 max_size=12)
_value = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@given(st.sampled_from(["Bearer", "Basic", "bearer"]),
       st.dictionaries(_token.map(str.lower), _value, max_size=5))
def test_quoted_params_round_trip(scheme: str, params: dict[str, str]) -> None:
    quoted = ",".join('{}="{}"'.format(k, v.replace("\\", "\\\\").replace('"', '\\"'))
                      for k, v in params.items())
    header = f"{scheme} {quoted}" if quoted else scheme
    assert parse_challenges(header) == [Challenge(scheme.lower(), params)]


@given(st.text(max_size=200))
def test_any_header_parses_or_returns_nothing(header: str) -> None:
    for challenge in parse_challenges(header):
        assert challenge.scheme == challenge.scheme.lower()


def test_scope() -> None:
    assert repository_scope("a/b", "pull,push") == "repository:a/b:pull,push"


# --- docker config --------------------------------------------------------------------------------------
# `auth` entries are written out as docker login writes them (base64 of user:password, computed once by
# hand with `printf 'u:p:w' | base64`), not by the code under test.
AUTH = {("u", "p:w"): "dTpwOnc=", ("hub", "x"): "aHViOng=", ("u", "p"): "dTpw",
        ("file-user", "x"): "ZmlsZS11c2VyOng=", ("o", "p"): "bzpw", ("file", "f"): "ZmlsZTpm"}


def _auth(user: str, password: str) -> str:
    return AUTH[(user, password)]


def test_auths_entry_matches_with_or_without_scheme() -> None:
    config = {"auths": {"https://reg.example:5000/v1/": {"auth": _auth("u", "p:w")},
                        "https://index.docker.io/v1/": {"auth": _auth("hub", "x")}}}
    assert credentials_from_config(config, "reg.example:5000") == Credentials("u", "p:w")
    assert credentials_from_config(config, "docker.io") == Credentials("hub", "x")
    assert credentials_from_config(config, "other.example") is None


def test_identity_token_entry() -> None:
    config = {"auths": {"reg.example": {"auth": _auth("u", "p"), "identitytoken": "refresh"}}}
    creds = credentials_from_config(config, "reg.example")
    assert creds is not None and creds.identity_token == "refresh"


def test_bad_auth_entry_is_one_clear_error() -> None:
    with pytest.raises(AuthError, match="not base64"):
        credentials_from_config({"auths": {"r.example": {"auth": "%%%"}}}, "r.example")
    with pytest.raises(AuthError, match="no ':'"):
        credentials_from_config({"auths": {"r.example": {"auth": "bm9jb2xvbg=="}}},
                                "r.example")


def test_helpers_take_precedence_and_run_the_real_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    # a real credential helper executable on PATH, speaking the docker-credential protocol
    helper = tmp_path / "docker-credential-pare-test"
    helper.write_text("#!/bin/sh\nread server\n"
                      'if [ "$server" = "reg.example" ]; then\n'
                      '  printf \'{"ServerURL":"%s","Username":"helper-user","Secret":"s3cret"}\' "$server"\n'
                      "else echo 'credentials not found in native keychain'; exit 1; fi\n")
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    config = {"credHelpers": {"reg.example": "pare-test"},
              "auths": {"reg.example": {"auth": _auth("file-user", "x")}}}
    assert credentials_from_config(config, "reg.example") == Credentials("helper-user", "s3cret")
    # a helper that knows nothing falls back to auths; credsStore applies to every registry
    store_config = {"credsStore": "pare-test", "auths": {"other.example": {"auth": _auth("o", "p")}}}
    assert credentials_from_config(store_config, "other.example") == Credentials("o", "p")
    with pytest.raises(AuthError, match="not installed"):
        credentials_from_config({"credsStore": "absent-helper"}, "x.example")


def test_env_wins_over_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"r.example": {"auth": _auth("file", "f")}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("PARE_REGISTRY_USERNAME", raising=False)
    assert default_credentials("r.example") == Credentials("file", "f")
    monkeypatch.setenv("PARE_REGISTRY_USERNAME", "env")
    monkeypatch.setenv("PARE_REGISTRY_PASSWORD", "e")
    assert default_credentials("r.example") == Credentials("env", "e")
    monkeypatch.setenv("PARE_REGISTRY_HOSTS", "elsewhere.example")
    assert credentials_from_env("r.example") is None
    assert default_credentials("r.example") == Credentials("file", "f")


def test_corrupt_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.json").write_text("{not json")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("PARE_REGISTRY_USERNAME", raising=False)
    with pytest.raises(AuthError, match="not valid JSON"):
        default_credentials("r.example")


def test_basic_header() -> None:
    """Guards the header a registry checks: RFC 7617's example pair and a password with spaces."""
    assert Credentials("a", "b").basic() == "Basic YTpi"
    assert Credentials("Aladdin", "open sesame").basic() == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    assert Credentials("pare-user", "correct horse battery").basic() == \
        "Basic cGFyZS11c2VyOmNvcnJlY3QgaG9yc2UgYmF0dGVyeQ=="


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner,
                                                                                 max_size=3), max_leaves=10)


@given(st.dictionaries(st.sampled_from(["auths", "credHelpers", "credsStore", "other"]), _json, max_size=3),
       st.sampled_from(["r.example", "docker.io", "127.0.0.1:5000"]))
def test_any_config_shape_gives_credentials_none_or_auth_error(config: dict[str, object],
                                                               registry: str) -> None:
    def no_helper(name: str, server: str) -> Credentials | None:
        return None
    try:
        result = credentials_from_config(config, registry, run_helper=no_helper)
    except AuthError:
        return
    assert result is None or isinstance(result, Credentials)


# --- where credentials may go ------------------------------------------------------------------------
@pytest.mark.parametrize(("realm_host", "registry", "allowed"), [
    ("127.0.0.1", "127.0.0.1:5000", True),  # the registry's own host, any port
    ("reg.example", "reg.example:5000", True),
    ("gitlab.com", "registry.gitlab.com", True),  # a parent domain controls its subdomains
    ("auth.docker.io", "docker.io", True),  # Docker Hub's own token host
    ("auth.docker.io", "reg.example", False),
    ("127.0.0.2", "127.0.0.1:5000", False),
    ("evil.example", "reg.example", False),
    ("example", "reg.example", False),  # a bare suffix is no parent domain
    ("0.1", "127.0.0.1", False),  # nor is the tail of an IP address
    ("g.com", "registry.gitlab.com", False),
    ("github.io", "team.github.io", False),  # a public suffix owns none of the names under it
    ("co.uk", "reg.example.co.uk", False),
    ("example.co.uk", "reg.example.co.uk", True),  # the registrable domain does
    ("pages.dev", "app.pages.dev", False),  # a private-section suffix is one too
])
def test_realm_hosts(realm_host: str, registry: str, allowed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards which token servers may receive a registry's credentials."""
    monkeypatch.delenv("PARE_TOKEN_REALM_HOSTS", raising=False)
    assert realm_host_allowed(realm_host, registry) is allowed


def test_realm_hosts_the_user_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARE_TOKEN_REALM_HOSTS", "auth.example, 127.0.0.2")
    assert realm_host_allowed("auth.example", "reg.other")
    assert realm_host_allowed("127.0.0.2", "127.0.0.1:5000")
    assert not realm_host_allowed("auth2.example", "reg.other")


@pytest.mark.parametrize(("realm_host", "realm_port", "registry", "registry_port", "allowed"), [
    ("reg.example", 443, "reg.example", 443, True),
    ("reg.example", 5001, "reg.example", 443, False),  # another service on the registry's host
    ("gitlab.com", 8443, "registry.gitlab.com", 443, False),
    ("127.0.0.1", 5000, "127.0.0.1:5000", 5000, True),
    ("127.0.0.1", 5001, "127.0.0.1:5000", 5000, False),
])
def test_realm_port_must_match(realm_host: str, realm_port: int, registry: str, registry_port: int,
                               allowed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the realm's port: the same host on another port is another service, whoever runs it."""
    monkeypatch.delenv("PARE_TOKEN_REALM_HOSTS", raising=False)
    assert realm_host_allowed(realm_host, registry, realm_port, registry_port) is allowed


def test_realm_port_the_user_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARE_TOKEN_REALM_HOSTS", "reg.example:5001, auth.example")
    assert realm_host_allowed("reg.example", "reg.example", 5001, 443)
    assert not realm_host_allowed("reg.example", "reg.example", 5002, 443)
    assert realm_host_allowed("auth.example", "reg.example", 8443, 443)  # a bare host: any port


def test_realm_on_another_port_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARE_TOKEN_REALM_HOSTS", raising=False)
    auth = Authenticator("reg.example", lambda r: None)
    with pytest.raises(AuthError, match=r"another port.*list reg\.example:5001 in PARE_TOKEN_REALM_HOSTS"):
        auth.check_realm("https://reg.example:5001/token")
    assert str(auth.check_realm("https://reg.example:443/token")) == "https://reg.example/token"
    plain = Authenticator("127.0.0.1", lambda r: None, allow_http_realm=True, plain_http=True)
    assert str(plain.check_realm("http://127.0.0.1/token")) == "http://127.0.0.1/token"
    with pytest.raises(AuthError, match="another port"):
        plain.check_realm("https://127.0.0.1/token")  # 443 is not where the registry listens


@pytest.mark.parametrize(("realm", "allow_http", "message"), [
    ("http://reg.example/token", False, "is plain HTTP"),
    ("https://elsewhere.example/token", False, "is on another host"),
    ("ftp://reg.example/token", True, "not an http"),
    ("/token", True, "not an http"),
])
def test_bad_realms_are_refused(realm: str, allow_http: bool, message: str,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARE_TOKEN_REALM_HOSTS", raising=False)
    auth = Authenticator("reg.example", lambda r: None, allow_http_realm=allow_http)
    with pytest.raises(AuthError, match=message):
        auth.check_realm(realm)
    assert str(Authenticator("reg.example", lambda r: None).check_realm("https://reg.example/t?a=1")) == \
        "https://reg.example/t?a=1"


@pytest.mark.parametrize(("registry", "url", "allowed"), [
    ("reg.example:5000", "https://reg.example:5000/v2/x/blobs/uploads/1", True),
    ("reg.example", "https://reg.example:443/v2/", True),  # the default port spelled out
    ("reg.example:5000", "https://reg.example:5001/v2/", False),  # another port is another origin
    ("reg.example:5000", "http://reg.example:5000/v2/", False),  # plain HTTP off loopback
    ("reg.example:5000", "https://storage.example/blob", False),
    ("reg.example", "https://REG.example/v2/", True),  # host names are case-insensitive
    ("127.0.0.1:5000", "http://127.0.0.1:5000/v2/", True),  # loopback speaks plain HTTP
    ("127.0.0.1:5000", "http://127.0.0.2:5000/v2/", False),
    ("127.0.0.1:5000", "http://localhost:5000/v2/", False),  # the same machine, another name
])
def test_credentials_only_to_the_registry_origin(registry: str, url: str, allowed: bool) -> None:
    """Guards the origin check every request passes before an Authorization header is attached."""
    client = RegistryClient(registry, credentials=lambda r: None)
    try:
        assert client.may_authorize(httpx.URL(url)) is allowed
    finally:
        client.close()

