"""Where a Go build's modules come from (pare.recipes.go_proxy, pare.recipes.go.go_env), checked
against a real module proxy served on 127.0.0.1 (tests/goproxy.py) and a closed port."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from goproxy import add_module, serve
from pare.errors import UsageError
from pare.native.platforms import host_arch
from pare.recipes.go import go_env
from pare.recipes.go_project import GoMod
from pare.recipes.go_proxy import answers, cached, check_module_source, escape_path, private, proxy_list

MOD = GoMod("example.com/app", "1.19", None, {"example.com/Greet": "v1.2.0"})


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_proxy_list_and_escaping() -> None:
    assert proxy_list(None) == ["https://proxy.golang.org", "direct"]
    assert proxy_list("https://a|https://b,off,direct") == ["https://a", "https://b", "off"]
    assert escape_path("github.com/Azure/SDK") == "github.com/!azure/!s!d!k"


def test_private_modules_go_direct() -> None:
    assert private("corp.example/x/y", {"GOPRIVATE": "*.example,other.org/team"})
    assert private("other.org/team/lib", {"GOPRIVATE": "*.example,other.org/team"})
    assert not private("other.org/else", {"GOPRIVATE": "other.org/team"})
    assert not private("corp.example/x", {"GOPRIVATE": "corp.example", "GONOPROXY": "none.org"})


def test_a_proxy_that_has_the_module_answers(tmp_path: Path) -> None:
    add_module(tmp_path, "example.com/Greet", "v1.2.0", {"go.mod": "module example.com/Greet\n"})
    with serve(tmp_path) as url:
        assert answers(url, "example.com/Greet", "v1.2.0") is None
        assert answers(url, "example.com/Greet", "v9.9.9") == (
            f"{url}/example.com/!greet/@v/v9.9.9.info: HTTP 404")
        check_module_source(Path("app"), MOD, {"GOPROXY": f"{url},off"}, tmp_path / "modcache")
    assert answers(f"file://{tmp_path}", "example.com/Greet", "v1.2.0") is None


def test_no_reachable_source_is_one_line_before_any_long_wait(tmp_path: Path) -> None:
    port = closed_port()
    started = time.monotonic()
    with pytest.raises(UsageError) as caught:
        check_module_source(Path("/src/app"), MOD, {"GOPROXY": f"http://127.0.0.1:{port}"}, tmp_path)
    message = str(caught.value)
    assert time.monotonic() - started < 10
    assert "\n" not in message
    assert message.startswith("/src/app: go.mod requires 1 module, there is no vendor/")
    assert f"GOPROXY=http://127.0.0.1:{port}" in message and "ConnectError" in message
    assert "go mod vendor" in message
    with pytest.raises(UsageError, match="GOPROXY=off; GOPROXY is off"):
        check_module_source(Path("/src/app"), MOD, {"GOPROXY": "off"}, tmp_path)


def test_modules_in_the_cache_need_no_source(tmp_path: Path) -> None:
    versions = tmp_path / "cache" / "download" / escape_path("example.com/Greet") / "@v"
    versions.mkdir(parents=True)
    (versions / "v1.2.0.zip").write_bytes(b"PK")
    assert cached(tmp_path, "example.com/Greet", "v1.2.0")
    check_module_source(Path("app"), MOD, {"GOPROXY": "off"}, tmp_path)


def test_go_env_passes_the_users_module_settings(tmp_path: Path) -> None:
    (tmp_path / "go.sum").write_text("")
    user = {"GOPROXY": "https://goproxy.example", "GOFLAGS": "-tags=netgo", "GONOSUMDB": "corp.example",
            "GOPATH": "/home/u/go", "GOCACHE": "/home/u/.cache"}
    env = go_env(host_arch(), tmp_path, tmp_path / "cache", user)
    assert env["GOPROXY"] == "https://goproxy.example" and env["GONOSUMDB"] == "corp.example"
    assert env["GOFLAGS"] == "-mod=readonly -tags=netgo"
    assert env["GOPATH"] == str(tmp_path / "cache" / "gopath")  # the user's Go setup is not read
    assert go_env(host_arch(), tmp_path, tmp_path, {"GOFLAGS": "-mod=readonly"})["GOFLAGS"] == "-mod=readonly"
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "modules.txt").write_text("")
    vendored = go_env(host_arch(), tmp_path, tmp_path, user)
    assert vendored["GOPROXY"] == "off" and vendored["GOFLAGS"] == "-mod=vendor -tags=netgo"
