"""Sending a request and following redirects by hand, so credentials go only where they belong.

httpx would follow redirects itself, but the decision that matters here is pare's: an Authorization
header is attached to each hop only when the caller's `may_authorize(url)` says that URL is the
origin (scheme, host, port) the credentials were issued for, as go-containerregistry's bearer
transport checks every request against its registry. Registries redirect blob downloads to storage
hosts (S3, a CDN) that need no credentials and must not see them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from pare.errors import RegistryError

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
DEFAULT_PORTS = {"http": 80, "https": 443}
Content = bytes | Callable[[], Any] | None


def origin(url: httpx.URL) -> tuple[str, str, int]:
    """(scheme, host, port), the port made explicit: what a credential is bound to."""
    return url.scheme, url.host.lower(), url.port or DEFAULT_PORTS.get(url.scheme, 0)


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return origin(a) == origin(b)


def send(http: httpx.Client, method: str, url: str | httpx.URL, *, headers: Mapping[str, str] | None = None,
         params: Mapping[str, str] | None = None, content: Content = None, stream: bool = False,
         authorization: str | None = None, may_authorize: Callable[[httpx.URL], bool] = lambda url: False,
         may_follow: Callable[[httpx.URL], bool] = lambda url: True) -> httpx.Response:
    """Send, following up to MAX_REDIRECTS redirects; `authorization` rides only on hops that
    `may_authorize`. A redirect that `may_follow` refuses, or that would need a one-shot body sent
    again, is a RegistryError. The response's `.request.url` is where it finally came from."""
    current = httpx.URL(str(url))
    request_headers = dict(headers or {})
    for _ in range(MAX_REDIRECTS + 1):
        body = content() if callable(content) else content
        request = http.build_request(method, current, headers=request_headers, params=params, content=body)
        if authorization and may_authorize(request.url):
            request.headers["Authorization"] = authorization
        response = http.send(request, stream=stream)
        location = response.headers.get("Location")
        if response.status_code not in REDIRECTS or not location:
            return response
        response.close()
        try:
            target = request.url.join(location)
        except httpx.InvalidURL:
            raise RegistryError(f"{request.url.host} redirected to an invalid URL {location!r}") from None
        if target.scheme not in DEFAULT_PORTS or not may_follow(target):
            raise RegistryError(f"{request.url.host} redirected to {target.scheme}://{target.host}, "
                                "which pare does not follow here")
        if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
            method, content = "GET", None  # as browsers and Go's http.Client do
            request_headers = {k: v for k, v in request_headers.items()
                               if k.lower() not in ("content-type", "content-length")}
        elif callable(content):
            raise RegistryError(f"{request.url.host} redirected a {method} whose body is a stream "
                                "pare cannot send twice")
        current, params = target, None
    raise RegistryError(f"more than {MAX_REDIRECTS} redirects from {httpx.URL(str(url)).host}")
