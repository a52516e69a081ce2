"""Auth against the real registry: Basic (htpasswd) and Bearer tokens that the registry verifies.

The registry is the real CNCF Distribution binary in both cases. For Bearer, the token server is
written here (there is no real one on this machine, and it is the only stand-in in these tests): it
checks a password and signs RS256 JWTs with a self-made CA whose certificate the registry is told to
trust, so the registry's own token verification runs for real.
"""

from __future__ import annotations

import base64
import datetime
import json
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

from helpers import blob_bytes, make_image
from pare.errors import AuthError, RegistryError
from pare.localregistry import LocalRegistry, free_port
from pare.stores.registry.auth import static_credentials
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


@pytest.fixture(scope="module")
def bearer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AuthRegistry, TokenServer]]:
    root = tmp_path_factory.mktemp("bearer-registry")
    key, cert = _self_signed()
    (root / "root.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tokens = TokenServer(key, cert)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            user = None
            header = self.headers.get("Authorization", "")
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

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    realm = f"http://127.0.0.1:{server.server_address[1]}/token"
    reg = AuthRegistry(root / "reg", port=free_port(), auth_yaml=(
        f"auth: {{token: {{realm: '{realm}', service: {tokens.service}, issuer: {tokens.issuer}, "
        f"rootcertbundle: {root / 'root.pem'}}}}}\n"))
    try:
        with reg.running():
            yield reg, tokens
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


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


def test_tls_registry_verified_with_the_configured_ca(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
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
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.TraditionalOpenSSL,
                                                         serialization.NoEncryption()))
    reg = TLSRegistry(tmp_path / "reg", port=free_port(), cert=tmp_path / "cert.pem",
                      key=tmp_path / "key.pem")
    # 127.0.0.1 would get plain HTTP; treat it as remote so pare must use (and verify) TLS
    monkeypatch.setattr("pare.stores.registry.client.is_loopback", lambda registry: False)
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
