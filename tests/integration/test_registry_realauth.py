"""Auth against the real registry: Basic (htpasswd) and Bearer tokens that the registry verifies.

The registry is the real CNCF Distribution binary in both cases. For Bearer, the token server is
written here (there is no real one on this machine, and it is the only stand-in in these tests): it
checks a password and signs RS256 JWTs with a self-made CA whose certificate the registry is told to
trust, so the registry's own token verification runs for real.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import bcrypt
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from faultproxy import Fault, FaultProxy, Recorder
from helpers import blob_bytes, make_image, noise
from pare.errors import AuthError, RegistryError
from pare.localregistry import LocalRegistry, free_port
from pare.stores.registry.auth import static_credentials
from pare.stores.registry.client import RetryPolicy
from pare.stores.registry.store import RegistryStore

pytestmark = pytest.mark.integration
USER, PASSWORD = "pare-user", "correct horse battery"


@dataclass
class AuthRegistry(LocalRegistry):
    """The real registry with an `auth:` section in its config."""

    auth_yaml: str = ""

    def _write_config(self) -> Path:
        config = super()._write_config()
        with config.open("a") as out:
            out.write(self.auth_yaml)
        return config

    def healthy(self) -> bool:
        try:
            return httpx.get(f"http://{self.address}/v2/", timeout=1.0).status_code in (200, 401)
        except httpx.HTTPError:
            return False


# --- Basic ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthRegistry]:
    root = tmp_path_factory.mktemp("basic-registry")
    htpasswd = root / "htpasswd"
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=5))
    htpasswd.write_bytes(USER.encode() + b":" + hashed + b"\n")
    reg = AuthRegistry(root / "reg", port=free_port(),
                       auth_yaml=f"auth: {{htpasswd: {{realm: pare-test, path: {htpasswd}}}}}\n")
    with reg.running():
        yield reg


def test_basic_auth_push_and_pull(basic_registry: AuthRegistry, tmp_path: Path) -> None:
    image = make_image(tmp_path, {"secret": b"only for users"})
    name = f"{basic_registry.address}/private:1"
    creds = static_credentials(USER, PASSWORD)
    assert RegistryStore(basic_registry.address, credentials=creds).write(image, name) == image.digest
    pulled = RegistryStore(basic_registry.address, credentials=creds).read(name)
    assert blob_bytes(pulled.layers[0]) == blob_bytes(image.layers[0])


def test_basic_auth_from_docker_config(basic_registry: AuthRegistry, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    image = make_image(tmp_path, {"a": b"cfg"})
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {basic_registry.address: {"auth": auth}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("PARE_REGISTRY_USERNAME", raising=False)
    name = f"{basic_registry.address}/cfg:1"
    assert RegistryStore(basic_registry.address).write(image, name) == image.digest


def test_basic_auth_from_environment(basic_registry: AuthRegistry, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    image = make_image(tmp_path, {"a": b"env"})
    monkeypatch.setenv("PARE_REGISTRY_USERNAME", USER)
    monkeypatch.setenv("PARE_REGISTRY_PASSWORD", PASSWORD)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))  # empty: env alone must do
    name = f"{basic_registry.address}/env:1"
    assert RegistryStore(basic_registry.address).write(image, name) == image.digest


def test_basic_auth_missing_or_wrong_credentials(basic_registry: AuthRegistry, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("PARE_REGISTRY_USERNAME", raising=False)
    name = f"{basic_registry.address}/private:1"
    with pytest.raises(AuthError, match="requires credentials: set PARE_REGISTRY_USERNAME"):
        RegistryStore(basic_registry.address).read(name)
    wrong = static_credentials(USER, "wrong")
    with pytest.raises(AuthError, match="credentials were rejected") as info:
        RegistryStore(basic_registry.address, credentials=wrong).read(name)
    assert "\n" not in str(info.value)


# --- Bearer --------------------------------------------------------------------------------------------
@dataclass
class TokenServer:
    """Issues registry tokens for USER/PASSWORD, granting what is asked; anonymous gets nothing."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    issuer: str = "pare-test-issuer"
    service: str = "pare-test-registry"
    requests: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)  # the Authorization header of every request
    address: str = ""  # host:port of the token server (another port than the registry's)

    def token(self, scopes: list[str], user: str | None) -> str:
        access = []
        for scope in scopes if user else []:
            kind, name, actions = scope.split(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256",
                  "x5c": [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()]}
        claims = {"iss": self.issuer, "sub": user or "", "aud": self.service, "iat": now, "nbf": now - 5,
                  "exp": now + 300, "jti": uuid.uuid4().hex, "access": access}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _self_signed() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pare test token CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


@contextlib.contextmanager
def bearer_registry(root: Path, token_host: str = "127.0.0.1", *, tls: tuple[Path, Path] | None = None
                    ) -> Iterator[tuple[AuthRegistry, TokenServer]]:
    """The real registry with token auth, its realm a plain-HTTP token server on `token_host`; with
    `tls` (cert, key), the registry itself serves HTTPS."""
    key, cert = _self_signed()
    root.mkdir(parents=True, exist_ok=True)
    (root / "root.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tokens = TokenServer(key, cert)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            user = None
            header = self.headers.get("Authorization", "")
            tokens.authorizations.append(header)
            if header.startswith("Basic "):
                name, _, password = base64.b64decode(header[6:]).decode().partition(":")
                if (name, password) != (USER, PASSWORD):
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                user = name
            tokens.requests.append({"scope": query.get("scope", []), "service": query.get("service"),
                                    "user": user})
            token = tokens.token(query.get("scope", []), user)
            body = json.dumps({"token": token, "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer((token_host, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    tokens.address = f"{token_host}:{server.server_address[1]}"
    realm = f"http://{tokens.address}/token"
    auth_yaml = (f"auth: {{token: {{realm: '{realm}', service: {tokens.service}, issuer: {tokens.issuer}, "
                 f"rootcertbundle: {root / 'root.pem'}}}}}\n")
    reg: AuthRegistry = TLSAuthRegistry(root / "reg", port=free_port(), auth_yaml=auth_yaml, cert=tls[0],
                                        key=tls[1]) if tls else \
        AuthRegistry(root / "reg", port=free_port(), auth_yaml=auth_yaml)
    try:
        with reg.running():
            yield reg, tokens
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def bearer_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AuthRegistry, TokenServer]]:
    with bearer_registry(tmp_path_factory.mktemp("bearer-registry")) as running:
        yield running


@pytest.fixture
def bearer(bearer_server: tuple[AuthRegistry, TokenServer],
           monkeypatch: pytest.MonkeyPatch) -> tuple[AuthRegistry, TokenServer]:
    """The bearer registry with its token server's host:port allowed, as its user would list it:
    the token server listens on another port of the registry's host."""
    monkeypatch.setenv("PARE_TOKEN_REALM_HOSTS", bearer_server[1].address)
    return bearer_server


def test_token_realm_on_another_port_is_refused_unless_allowed(
        bearer_server: tuple[AuthRegistry, TokenServer], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the realm's port: another port on the registry's own host is another service (any local
    user may run one), so the password goes there only when the user lists that host:port."""
    reg, tokens = bearer_server
    name = f"{reg.address}/team/port:1"
    monkeypatch.delenv("PARE_TOKEN_REALM_HOSTS", raising=False)
    tokens.authorizations.clear()
    with pytest.raises(AuthError, match=rf"is on another port.*list {re.escape(tokens.address)} in "
                                        "PARE_TOKEN_REALM_HOSTS") as info:
        RegistryStore(reg.address, credentials=static_credentials(USER, PASSWORD)).write(
            make_image(tmp_path, {"a": b"port"}), name)
    assert tokens.authorizations == [] and "\n" not in str(info.value)
    monkeypatch.setenv("PARE_TOKEN_REALM_HOSTS", tokens.address)
    image = make_image(tmp_path / "2", {"a": b"port"})
    assert RegistryStore(reg.address, credentials=static_credentials(USER, PASSWORD)).write(
        image, name) == image.digest


def test_bearer_token_flow_push_pull_and_mount(bearer: tuple[AuthRegistry, TokenServer],
                                               tmp_path: Path) -> None:
    reg, tokens = bearer
    tokens.requests.clear()
    image = make_image(tmp_path, {"a": b"bearer" * 1000}, {"b": b"two"})
    creds = static_credentials(USER, PASSWORD)
    store = RegistryStore(reg.address, credentials=creds)
    assert store.write(image, f"{reg.address}/team/app:1") == image.digest
    # one token for the push scope, fetched once and then reused by every blob request
    assert [r["scope"] for r in tokens.requests] == [["repository:team/app:pull,push"]]
    assert tokens.requests[0]["service"] == [tokens.service] and tokens.requests[0]["user"] == USER
    assert "auth" in store.stats.phases
    pulled = RegistryStore(reg.address, credentials=creds).read(f"{reg.address}/team/app:1")
    assert blob_bytes(pulled.layers[0]) == blob_bytes(image.layers[0])
    assert ["repository:team/app:pull"] in [r["scope"] for r in tokens.requests]
    # a mount needs pull on the source too: both scopes go into one token request
    mover = RegistryStore(reg.address, credentials=creds)
    mover.write(pulled, f"{reg.address}/team/copy:1")
    assert mover.stats.blobs_mounted == 2
    both = ["repository:team/copy:pull,push", "repository:team/app:pull"]
    assert both in [r["scope"] for r in tokens.requests]


def test_bearer_wrong_password_and_anonymous(bearer: tuple[AuthRegistry, TokenServer], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    reg, _ = bearer
    name = f"{reg.address}/team/app:1"
    with pytest.raises(AuthError, match=r"token server refused \(401\): bad credentials"):
        RegistryStore(reg.address, credentials=static_credentials(USER, "nope")).read(name)
    # anonymous: the token server grants nothing, so the registry refuses the token
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("PARE_REGISTRY_USERNAME", raising=False)
    with pytest.raises(AuthError, match="unauthorized") as info:
        RegistryStore(reg.address).read(name)
    assert "\n" not in str(info.value)


# --- TLS -----------------------------------------------------------------------------------------------
@dataclass
class TLSRegistry(LocalRegistry):
    """The real registry serving HTTPS with a certificate from a CA made here."""

    cert: Path = Path()
    key: Path = Path()

    def _write_config(self) -> Path:
        config = super()._write_config()
        text = config.read_text()
        plain = f"http: {{addr: '{self.address}'}}"
        assert plain in text
        config.write_text(text.replace(plain, f"http: {{addr: '{self.address}', "
                                              f"tls: {{certificate: {self.cert}, key: {self.key}}}}}"))
        return config

    def healthy(self) -> bool:
        try:
            return httpx.get(f"https://{self.address}/v2/", timeout=1.0, verify=False).status_code == 200
        except httpx.HTTPError:
            return False


def tls_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem) in `directory`."""
    import ipaddress
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.TraditionalOpenSSL,
                                                          serialization.NoEncryption()))
    return directory / "cert.pem", directory / "key.pem"


@dataclass
class TLSAuthRegistry(TLSRegistry, AuthRegistry):
    """HTTPS and an `auth:` section; healthy when /v2/ answers at all (401 included)."""

    def healthy(self) -> bool:
        try:
            answer = httpx.get(f"https://{self.address}/v2/", timeout=1.0, verify=False)
            return answer.status_code in (200, 401)
        except httpx.HTTPError:
            return False


def test_tls_registry_verified_with_the_configured_ca(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = tls_cert(tmp_path)
    reg = TLSRegistry(tmp_path / "reg", port=free_port(), cert=cert, key=key)
    # 127.0.0.1 would get plain HTTP; treat it as remote so pare must use (and verify) TLS
    monkeypatch.setattr("pare.stores.registry.client.loopback_addresses", lambda host: ())
    image = make_image(tmp_path / "img", {"tls": b"over https"})
    with reg.running():
        untrusted = RegistryStore(reg.address)
        assert untrusted.client.base_url.startswith("https://")
        with pytest.raises(RegistryError, match=r"certificate .* is not trusted .*certificate verify failed"):
            untrusted.write(image, f"{reg.address}/tls:1")
        # --insecure: TLS without verification (no fallback to plain HTTP needed)
        insecure = RegistryStore(reg.address, insecure=True)
        assert insecure.write(image, f"{reg.address}/tls:0") == image.digest
        assert insecure.client.base_url.startswith("https://")
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
        assert RegistryStore(reg.address).write(image, f"{reg.address}/tls:1") == image.digest
        pulled = RegistryStore(reg.address).read(f"{reg.address}/tls:1")
        assert blob_bytes(pulled.layers[0]) == blob_bytes(image.layers[0])


# --- credentials go only to the registry they belong to ------------------------------------------------
# The registry is the real one with real auth. What it cannot do on its own (hand out a foreign upload
# Location or tag-list Link, redirect a blob) a FaultProxy in front of it does by rewriting its answers;
# the foreign host is a Recorder on 127.0.0.2 that logs every header it receives.
FAST = RetryPolicy(attempts=2, base=0.01, cap=0.02)
CREDS = static_credentials(USER, PASSWORD)


def _through(proxy: FaultProxy, insecure: bool = False) -> RegistryStore:
    store = RegistryStore(proxy.address, insecure=insecure, credentials=CREDS)
    store.client.retry_policy = FAST
    return store


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    # a foreign host that asks for credentials both ways: Basic, and Bearer with itself as the realm
    with Recorder("127.0.0.2") as running:
        running.headers = {"WWW-Authenticate": f'Bearer realm="{running.url}/token",service=evil, '
                                               'Basic realm="evil"'}
        yield running


@pytest.mark.parametrize("auth", ["basic", "bearer"])
def test_foreign_upload_location_gets_no_credentials(auth: str, basic_registry: AuthRegistry,
                                                     bearer: tuple[AuthRegistry, TokenServer],
                                                     recorder: Recorder, tmp_path: Path) -> None:
    """Guards the upload path: a registry (or whoever answers for it) that hands out an upload Location
    on another host must not receive pare's Basic credentials or Bearer token there."""
    reg = basic_registry if auth == "basic" else bearer[0]
    image = make_image(tmp_path, {"a": b"upload"})
    with FaultProxy(reg.address) as proxy:
        proxy.add(Fault(r"/blobs/uploads/$", "rewrite", method="POST", times=None,
                        headers={"Location": f"{recorder.url}/v2/leak/blobs/uploads/stolen"}))
        with pytest.raises(AuthError) as info:
            _through(proxy).write(image, f"{proxy.address}/leak/location:1")
        assert [s for s in proxy.log if "Authorization" in s.headers], "the registry itself got them"
    assert recorder.credentials_seen() == []
    assert {s.method for s in recorder.log} == {"PUT"}, "the upload went to the foreign Location"
    assert "asks for credentials; pare sends credentials only to" in str(info.value)


def test_foreign_tag_list_link_gets_no_credentials(basic_registry: AuthRegistry, recorder: Recorder,
                                                   tmp_path: Path) -> None:
    """Guards tag listing: a next-page Link on another host is followed without credentials, and its
    challenge is not answered."""
    image = make_image(tmp_path, {"a": b"tags"})
    RegistryStore(basic_registry.address, credentials=CREDS).write(image,
                                                                   f"{basic_registry.address}/leak/tags:1")
    with FaultProxy(basic_registry.address) as proxy:
        proxy.add(Fault(r"/tags/list", "rewrite", method="GET", times=None,
                        headers={"Link": f'<{recorder.url}/v2/leak/tags/list?n=1&last=1>; rel="next"'}))
        with pytest.raises(AuthError) as info:
            _through(proxy).tags(f"{proxy.address}/leak/tags")
    assert recorder.credentials_seen() == []
    assert [s.path for s in recorder.log] == ["/v2/leak/tags/list?n=1&last=1"]
    assert "asks for credentials" in str(info.value)


def test_redirects_carry_credentials_only_to_the_registry(basic_registry: AuthRegistry, recorder: Recorder,
                                                         tmp_path: Path) -> None:
    """Guards pare's own redirect following: a blob redirected to the registry's own origin still
    carries the credentials (it needs them), one redirected elsewhere carries none, and the foreign
    host's challenge (a Bearer realm naming itself) is never answered."""
    image = make_image(tmp_path, {"a": noise(20_000, 3)})
    name = f"leak/redirect:{uuid.uuid4().hex[:6]}"
    RegistryStore(basic_registry.address, credentials=CREDS).write(image, f"{basic_registry.address}/{name}")
    layer = image.layers[0].digest
    with FaultProxy(basic_registry.address) as proxy:
        # same origin: served by the real registry, which checks the credentials
        proxy.add(Fault(f"/blobs/{layer}$", "status", method="GET", status=307,
                        headers={"Location": f"/v2/{name.split(':')[0]}/blobs/{layer}?hop=1"}))
        pulled = _through(proxy).read(f"{proxy.address}/{name}")
        assert blob_bytes(pulled.layers[0]) == blob_bytes(image.layers[0])
        hop = proxy.seen("GET", r"\?hop=1")
        assert hop and hop[0].headers.get("Authorization", "").startswith("Basic ")
        # another origin: no credentials, and no token fetched from the realm it names
        proxy.add(Fault(f"/blobs/{layer}$", "status", method="GET", status=307, times=None,
                        headers={"Location": f"{recorder.url}/storage/{layer.hex}"}))
        pulled = _through(proxy).read(f"{proxy.address}/{name}")
        with pytest.raises(AuthError) as info:
            blob_bytes(pulled.layers[0])
    assert recorder.credentials_seen() == []
    assert [s.path for s in recorder.log] == [f"/storage/{layer.hex}"]
    assert "asks for credentials" in str(info.value)


@pytest.fixture(scope="module")
def foreign_realm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AuthRegistry, TokenServer]]:
    """The real registry with token auth whose realm is a token server on another host (127.0.0.2)."""
    with bearer_registry(tmp_path_factory.mktemp("foreign-realm"), token_host="127.0.0.2") as running:
        yield running


def test_token_realm_on_another_host_is_refused_unless_allowed(
        foreign_realm: tuple[AuthRegistry, TokenServer], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the realm check: a registry naming a token server on another host does not get pare to
    send the user's password there; PARE_TOKEN_REALM_HOSTS is how a user says that host is trusted."""
    reg, tokens = foreign_realm
    image = make_image(tmp_path, {"a": b"realm"})
    name = f"{reg.address}/team/realm:1"
    monkeypatch.delenv("PARE_TOKEN_REALM_HOSTS", raising=False)
    with pytest.raises(AuthError, match=r"is on another host.*PARE_TOKEN_REALM_HOSTS") as info:
        RegistryStore(reg.address, credentials=CREDS).write(image, name)
    assert "\n" not in str(info.value)
    assert tokens.authorizations == [], "the token server was never contacted"
    monkeypatch.setenv("PARE_TOKEN_REALM_HOSTS", "127.0.0.2")
    assert RegistryStore(reg.address, credentials=CREDS).write(image, name) == image.digest
    assert tokens.authorizations and all(a.startswith("Basic ") for a in tokens.authorizations)


def test_plain_http_realm_of_an_https_registry_is_refused(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the realm scheme: an HTTPS registry whose realm is plain HTTP would send the password in
    clear; refused, unless --insecure (then the user has said this registry is not protected)."""
    cert, key = tls_cert(tmp_path / "tls")
    monkeypatch.setattr("pare.stores.registry.client.loopback_addresses", lambda host: ())
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    image = make_image(tmp_path, {"a": b"http realm"})
    with bearer_registry(tmp_path / "root", tls=(cert, key)) as (reg, tokens):
        name = f"{reg.address}/team/plain:1"
        with pytest.raises(AuthError, match=r"token realm http://.* is plain HTTP"):
            RegistryStore(reg.address, credentials=CREDS).write(image, name)
        assert tokens.authorizations == []
        monkeypatch.setenv("PARE_TOKEN_REALM_HOSTS", tokens.address)  # the token server's own port
        assert RegistryStore(reg.address, insecure=True, credentials=CREDS).write(image, name) == image.digest
        assert tokens.authorizations


def test_insecure_fallback_to_plain_http_never_carries_credentials(basic_registry: AuthRegistry,
                                                                  tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the --insecure downgrade: TLS fails, pare falls back to plain HTTP as docker does, and
    then refuses to answer the registry's Basic challenge over it (the password would cross the
    network in clear)."""
    monkeypatch.setattr("pare.stores.registry.client.loopback_addresses", lambda host: ())
    image = make_image(tmp_path, {"a": b"downgrade"})
    with FaultProxy(basic_registry.address) as proxy:
        store = _through(proxy, insecure=True)
        assert store.client.base_url.startswith("https://")
        with pytest.raises(AuthError, match="over plain HTTP; pare sends credentials over plain HTTP only"):
            store.write(image, f"{proxy.address}/leak/downgrade:1")
        assert store.client.base_url.startswith("http://"), "it did fall back"
        assert proxy.log, "requests went out over plain HTTP"
        assert [s for s in proxy.log if "Authorization" in s.headers] == []
