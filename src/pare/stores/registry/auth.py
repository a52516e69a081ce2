"""Registry auth: credentials from the environment and docker's config, and challenge handling.

Where credentials come from, first match wins (per registry host):
  1. env PARE_REGISTRY_USERNAME / PARE_REGISTRY_PASSWORD (optionally limited to the hosts listed,
     comma-separated, in PARE_REGISTRY_HOSTS);
  2. $DOCKER_CONFIG/config.json or ~/.docker/config.json: `credHelpers[host]`, then `credsStore`,
     then `auths[host].auth` (base64 user:password) or `identitytoken`, as docker reads them.
With none, requests go out anonymously; a registry that then asks for credentials gets an AuthError.

A registry answers 401 with `WWW-Authenticate`: Basic means send the credentials with every request;
Bearer names a token server (realm, service) from which a token is fetched for the scopes a request
needs (repository:NAME:pull[,push]). Tokens are cached per scope set until shortly before they expire.

The realm receives the credentials, so it is checked first: it must be https (plain http only where
the registry itself may be plain: loopback, or `--insecure`), on the registry's own port, and on the
registry's own host or a parent domain of it that is not a public suffix (registry.gitlab.com ->
gitlab.com, but never foo.github.io -> github.io or reg.example.co.uk -> co.uk: the public suffix
list, as browsers use it for cookies, says where one owner's names end), or Docker Hub's known token
host. Any other host, or the same host on another port (a token service beside the registry), must
be named in PARE_TOKEN_REALM_HOSTS (comma-separated `host` or `host:port`) by the user.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from pare.errors import AuthError, RegistryError
from pare.oci.reference import Reference
from pare.stores.registry import redirects
from pare.stores.registry.redirects import DEFAULT_PORTS

DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")
REALM_HOSTS_ENV = "PARE_TOKEN_REALM_HOSTS"
# token hosts that live on another domain than their registry's API host, known to be theirs
KNOWN_REALMS = {"registry-1.docker.io": frozenset({"auth.docker.io"})}


@dataclass(frozen=True)
class Credentials:
    """A user name and password, or an identity (refresh) token for OAuth2 token servers."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str | None = field(default=None, repr=False)

    def basic(self) -> str:
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode()


CredentialSource = Callable[[str], Credentials | None]


# --- WWW-Authenticate -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "basic", "bearer", ...
    params: dict[str, str]


_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM = re.compile(rf'\s*({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))\s*(?:,|$)')
_SCHEME = re.compile(rf"\s*,?\s*({_TOKEN})(?:\s+|$)")


def parse_challenges(header: str) -> list[Challenge]:
    """Parse a WWW-Authenticate value into challenges (RFC 7235: scheme, then key=value params,
    quoted strings with backslash escapes; several challenges may share one header)."""
    challenges: list[Challenge] = []
    pos = 0
    length = len(header)
    while pos < length:
        if header[pos] in " ,\t":
            pos += 1
            continue
        scheme = _SCHEME.match(header, pos)
        if scheme is None:
            break
        pos = scheme.end()
        params: dict[str, str] = {}
        while pos < length:
            param = _PARAM.match(header, pos)
            if param is None:
                break
            key, quoted, bare = param.groups()
            value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
            params[key.lower()] = value
            pos = param.end()
        challenges.append(Challenge(scheme.group(1).lower(), params))
        if pos < length and not params:
            # a token68 or garbage after the scheme: skip to the next comma
            comma = header.find(",", pos)
            pos = length if comma < 0 else comma + 1
    return challenges


def repository_scope(repository: str, actions: str) -> str:
    """The token scope for a repository, e.g. repository:app:pull,push."""
    return f"repository:{repository}:{actions}"


# --- credentials --------------------------------------------------------------------------------------
def _normalise_host(key: str) -> str:
    host = re.sub(r"^[a-z]+://", "", key.strip()).split("/", 1)[0]
    return "docker.io" if host in DOCKER_HUB_KEYS else host


def docker_config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return (Path(base) if base else Path.home() / ".docker") / "config.json"


def load_docker_config(path: Path) -> dict[str, Any]:
    """The parsed config, or {} when absent; a corrupt file is an AuthError naming it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise AuthError(f"cannot read {path}: {exc.strerror}") from None
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise AuthError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise AuthError(f"{path} must hold a JSON object")
    return value


def credentials_from_config(config: dict[str, Any], registry: str,
                            run_helper: Callable[[str, str], Credentials | None] | None = None
                            ) -> Credentials | None:
    """What docker would use for `registry` given its config.json contents."""
    host = _normalise_host(registry)
    helpers = config.get("credHelpers") or {}
    helper = None
    if isinstance(helpers, dict):
        for key, name in helpers.items():
            if _normalise_host(key) == host and isinstance(name, str):
                helper = name
    if helper is None and isinstance(config.get("credsStore"), str) and config["credsStore"]:
        helper = config["credsStore"]
    if helper is not None:
        creds = (run_helper or run_credential_helper)(helper, registry if host != "docker.io"
                                                      else DOCKER_HUB_KEYS[0])
        if creds is not None:
            return creds
    auths = config.get("auths") or {}
    if not isinstance(auths, dict):
        return None
    for key, entry in auths.items():
        if _normalise_host(key) != host or not isinstance(entry, dict):
            continue
        if isinstance(entry.get("identitytoken"), str) and entry["identitytoken"]:
            return Credentials(str(entry.get("username") or ""), "", entry["identitytoken"])
        if isinstance(entry.get("auth"), str) and entry["auth"]:
            try:
                decoded = base64.b64decode(entry["auth"], validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                raise AuthError(f"docker config: the auth entry for {key} is not base64 user:password"
                                ) from None
            user, sep, password = decoded.partition(":")
            if not sep:
                raise AuthError(f"docker config: the auth entry for {key} has no ':' between user and "
                                "password")
            return Credentials(user, password)
        if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str):
            return Credentials(entry["username"], entry["password"])
    return None


def run_credential_helper(name: str, server: str) -> Credentials | None:
    """`docker-credential-NAME get` with the server on stdin; None when it knows no credentials."""
    program = f"docker-credential-{name}"
    try:
        proc = subprocess.run([program, "get"], input=server.encode(), capture_output=True, timeout=30,
                              check=False)
    except FileNotFoundError:
        raise AuthError(f"credential helper {program} (from ~/.docker/config.json) is not installed"
                        ) from None
    except subprocess.TimeoutExpired:
        raise AuthError(f"credential helper {program} did not answer within 30 s") from None
    if proc.returncode != 0:
        message = proc.stdout.decode(errors="replace").strip() or proc.stderr.decode(errors="replace").strip()
        if "credentials not found" in message.lower():
            return None
        raise AuthError(f"credential helper {program} failed: {message.splitlines()[0] if message else '?'}")
    try:
        value = json.loads(proc.stdout)
        username, secret = str(value["Username"]), str(value["Secret"])
    except (ValueError, KeyError, TypeError):
        raise AuthError(f"credential helper {program} printed something that is not its JSON answer"
                        ) from None
    if username == "<token>":
        return Credentials("", "", secret)
    return Credentials(username, secret)


def credentials_from_env(registry: str) -> Credentials | None:
    user = os.environ.get("PARE_REGISTRY_USERNAME")
    password = os.environ.get("PARE_REGISTRY_PASSWORD")
    if not user or password is None:
        return None
    hosts = [h.strip() for h in os.environ.get("PARE_REGISTRY_HOSTS", "").split(",") if h.strip()]
    if hosts and _normalise_host(registry) not in {_normalise_host(h) for h in hosts}:
        return None
    return Credentials(user, password)


def default_credentials(registry: str) -> Credentials | None:
    """Environment first, then docker's config.json (helpers included)."""
    return credentials_from_env(registry) or credentials_from_config(
        load_docker_config(docker_config_path()), registry)


def static_credentials(username: str, password: str) -> CredentialSource:
    creds = Credentials(username, password)
    return lambda registry: creds


# --- the authenticator ---------------------------------------------------------------------------------
@dataclass
class _Token:
    value: str
    expires: float


class Authenticator:
    """Turns challenges into Authorization headers for one registry; thread-safe, caches tokens."""

    def __init__(self, registry: str, credentials: CredentialSource, *,
                 allow_http_realm: bool = False, plain_http: bool = False) -> None:
        self.registry = registry
        self.allow_http_realm = allow_http_realm
        self.plain_http = plain_http  # the registry itself is reached over http (its default port 80)
        self._source = credentials
        self._credentials: Credentials | None = None
        self._loaded = False
        self._challenge: Challenge | None = None
        self._tokens: dict[tuple[str, ...], _Token] = {}
        self._lock = threading.Lock()
        self._fetching = threading.Lock()

    def credentials(self) -> Credentials | None:
        with self._lock:
            if not self._loaded:
                self._credentials = self._source(self.registry)
                self._loaded = True
            return self._credentials

    def header(self, scopes: tuple[str, ...], http: httpx.Client) -> str | None:
        """The Authorization header to send up front, once the registry's scheme is known."""
        challenge = self._challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            creds = self.credentials()
            return creds.basic() if creds else None
        if challenge.scheme == "bearer":
            return self._bearer(challenge, scopes, http, refused=None)
        return None

    def _cached(self, scopes: tuple[str, ...]) -> str | None:
        with self._lock:
            token = self._tokens.get(scopes)
        if token is not None and token.expires > time.monotonic():
            return f"Bearer {token.value}"
        return None

    def _bearer(self, challenge: Challenge, scopes: tuple[str, ...], http: httpx.Client,
                refused: str | None) -> str:
        """A cached token unless it is the one just refused; one fetch at a time, so parallel
        blob requests that all met the same 401 share a single new token."""
        cached = self._cached(scopes)
        if cached is not None and cached != refused:
            return cached
        with self._fetching:
            cached = self._cached(scopes)
            if cached is not None and cached != refused:
                return cached
            return f"Bearer {self._fetch_token(challenge, scopes, http)}"

    def answer(self, www_authenticate: str, scopes: tuple[str, ...], http: httpx.Client,
               sent: str | None = None) -> str:
        """The Authorization header that answers a 401's challenge (`sent` is what the refused
        request carried); AuthError if none can."""
        challenges = parse_challenges(www_authenticate)
        by_scheme = {c.scheme: c for c in challenges}
        if "bearer" in by_scheme and by_scheme["bearer"].params.get("realm"):
            self._challenge = by_scheme["bearer"]
            return self._bearer(self._challenge, scopes, http, refused=sent or "")
        if "basic" in by_scheme:
            self._challenge = by_scheme["basic"]
            creds = self.credentials()
            if creds is None:
                raise AuthError(f"{self.registry} requires credentials: set PARE_REGISTRY_USERNAME and "
                                "PARE_REGISTRY_PASSWORD, or log in with docker/skopeo login")
            return creds.basic()
        schemes = ", ".join(c.scheme for c in challenges) or "none"
        raise AuthError(f"{self.registry} asks for an unsupported auth scheme ({schemes})")

    def check_realm(self, realm: str) -> httpx.URL:
        """The realm as a URL, if pare may send this registry's credentials there; else AuthError."""
        try:
            url = httpx.URL(realm)
        except httpx.InvalidURL:
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            raise AuthError(f"{self.registry}: token realm {realm!r} is not an http(s) URL")
        if url.scheme == "http" and not self.allow_http_realm:
            raise AuthError(f"{self.registry}: token realm {realm} is plain HTTP; pare sends credentials "
                            "to a token server only over HTTPS (unless the registry is on loopback or "
                            "--insecure)")
        port = url.port or DEFAULT_PORTS[url.scheme]
        if not realm_host_allowed(url.host, self.registry, port, self.registry_port):
            entry = f"{url.host}:{port}" if realm_host_allowed(url.host, self.registry) else url.host
            where = "on another port" if entry != url.host else "on another host"
            raise AuthError(f"{self.registry}: token realm {realm} is {where}; pare sends this "
                            f"registry's credentials there only if you list {entry} in {REALM_HOSTS_ENV}")
        return url

    @property
    def registry_port(self) -> int:
        """The port requests to the registry go to (plain HTTP's default where it speaks HTTP)."""
        explicit = split_host_port(Reference(self.registry, "x").api_host)[1]
        return explicit if explicit is not None else DEFAULT_PORTS["http" if self.plain_http else "https"]

    def _fetch_token(self, challenge: Challenge, scopes: tuple[str, ...], http: httpx.Client) -> str:
        realm = challenge.params.get("realm", "")
        realm_url = self.check_realm(realm)
        params: list[tuple[str, str | int | float | bool | None]] = []
        if challenge.params.get("service"):
            params.append(("service", challenge.params["service"]))
        wanted = list(scopes) or ([challenge.params["scope"]] if challenge.params.get("scope") else [])
        params += [("scope", s) for s in wanted]
        creds = self.credentials()

        def on_realm(url: httpx.URL) -> bool:
            return redirects.same_origin(url, realm_url)
        try:
            if creds is not None and creds.identity_token:
                form = {"grant_type": "refresh_token", "refresh_token": creds.identity_token,
                        "client_id": "pare"}
                if challenge.params.get("service"):
                    form["service"] = challenge.params["service"]
                if wanted:
                    form["scope"] = " ".join(wanted)
                response = redirects.send(http, "POST", realm_url, content=urlencode(form).encode(),
                                          headers={"Content-Type": "application/x-www-form-urlencoded"},
                                          may_follow=on_realm)
            else:
                url = realm_url.copy_merge_params(httpx.QueryParams(params))
                response = redirects.send(http, "GET", url, authorization=creds.basic() if creds else None,
                                          may_authorize=on_realm, may_follow=on_realm)
            response.read()
        except RegistryError as exc:
            raise AuthError(f"{self.registry}: token server {realm}: {exc}") from None
        except httpx.HTTPError as exc:
            raise AuthError(f"{self.registry}: token server {realm} unreachable: {exc}") from None
        if response.status_code in (401, 403):
            hint = "bad credentials" if creds is not None else "credentials needed (PARE_REGISTRY_USERNAME/" \
                "PARE_REGISTRY_PASSWORD or docker login)"
            raise AuthError(f"{self.registry}: token server refused ({response.status_code}): {hint}")
        if response.status_code != 200:
            raise AuthError(f"{self.registry}: token server {realm} answered {response.status_code}")
        try:
            body = response.json()
            value = body.get("token") or body.get("access_token")
            expires_in = int(body.get("expires_in") or 60)
        except (ValueError, AttributeError, TypeError, OverflowError):  # OverflowError: "expires_in": 1e999
            raise AuthError(f"{self.registry}: token server {realm} sent no JSON token") from None
        if not isinstance(value, str) or not value:
            raise AuthError(f"{self.registry}: token server {realm} sent no token")
        with self._lock:
            # renew a little early so a token never expires mid-request
            self._tokens[scopes] = _Token(value, time.monotonic() + max(expires_in - 10, 1))
        return value


def split_host_port(address: str) -> tuple[str, int | None]:
    """'reg.example:5000' -> ('reg.example', 5000); '[::1]:5000' -> ('::1', 5000); host lower-cased."""
    host, port = address, None
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    elif address.count(":") == 1:
        head, _, tail = address.partition(":")
        if tail.isdigit():
            host, port = head, int(tail)
    return host.lower().rstrip("."), port


@cache
def _public_suffixes() -> Any:
    """The public suffix list as publicsuffixlist bundles it (no network; loaded on first use)."""
    from publicsuffixlist import PublicSuffixList
    return PublicSuffixList()


def is_public_suffix(host: str) -> bool:
    """Is `host` a name under which unrelated owners register (com, co.uk, github.io), or no more?"""
    return _public_suffixes().privatesuffix(host) is None


def _listed_hosts() -> set[str]:
    entries = os.environ.get(REALM_HOSTS_ENV, "").split(",")
    return {h.strip().lower().rstrip(".") for h in entries if h.strip()}


def realm_host_allowed(realm_host: str, registry: str, realm_port: int | None = None,
                       registry_port: int | None = None) -> bool:
    """May a token server on `realm_host` (at `realm_port`) receive the credentials of `registry`
    (reached at `registry_port`)? On the registry's own port: its own host, a parent domain of it
    that is no public suffix, or Docker Hub's token host for Docker Hub. Otherwise only a `host` or
    `host:port` the user lists in the environment. Ports left out are not compared."""
    realm_host = realm_host.lower().rstrip(".").strip("[]")
    listed = _listed_hosts()
    if realm_host in listed or (realm_port is not None and f"{realm_host}:{realm_port}" in listed):
        return True
    if realm_port is not None and registry_port is not None and realm_port != registry_port:
        return False
    api_host = split_host_port(Reference(registry, "x").api_host)[0]
    if realm_host == api_host or realm_host in KNOWN_REALMS.get(api_host, ()):
        return True
    is_name = "." in realm_host and not realm_host.replace(".", "").isdigit() and ":" not in realm_host
    return is_name and api_host.endswith("." + realm_host) and not is_public_suffix(realm_host)
