"""Which Node apps are static front ends (pare.recipes.node_static) and where their build goes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pare.errors import UsageError
from pare.recipes.node import NodeRecipe
from pare.recipes.node_static import (
    SERVER_PINS,
    build_output,
    is_static_front_end,
    native_server_command,
    native_server_config,
    server_command,
)

APPS = Path(__file__).resolve().parents[1] / "data" / "apps"
VITE = {"scripts": {"dev": "vite", "build": "vite build"}, "devDependencies": {"vite": "7"}}
CRA = {"scripts": {"start": "react-scripts start", "build": "react-scripts build"},
       "dependencies": {"react-scripts": "5.0.1", "react": "18"}}


@pytest.mark.parametrize(("package", "declared", "static"), [
    (VITE, False, True),
    (CRA, False, True),
    # vite preview "is not designed for production" (Vite's docs): the build is served as static files
    ({**VITE, "scripts": {"build": "vite build", "start": "vite preview --port $PORT"}}, False, True),
    ({**VITE, "scripts": {"build": "vite build", "start": "node server.js"}}, False, False),  # an SSR server
    ({**VITE, "scripts": {"build": "vite build", "start": "vite-node server.ts"}}, False, False),
    (VITE, True, False),  # a Procfile, --cmd or another declared start
    ({"scripts": {"build": "tsc"}, "dependencies": {"express": "4"}}, False, False),  # no bundler
    ({"devDependencies": {"vite": "7"}}, False, False),  # nothing builds it
])
def test_static_front_ends(package: dict[str, Any], declared: bool, static: bool) -> None:
    assert is_static_front_end(package, declared) is static


def test_build_output_is_the_first_directory_with_an_index(tmp_path: Path) -> None:
    assert build_output(tmp_path) is None
    (tmp_path / "dist").mkdir()
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "index.html").write_text("")
    assert build_output(tmp_path) == "build"
    (tmp_path / "dist" / "index.html").write_text("")
    assert build_output(tmp_path) == "dist"


def test_the_recipe_serves_a_vite_app_and_engines_need_its_pinned_server(tmp_path: Path) -> None:
    recipe = NodeRecipe(APPS / "vite-spa")
    assert recipe.static_front_end
    assert dict(recipe.request().extra)["static_server"] == SERVER_PINS
    assert "lighttpd" in SERVER_PINS and "sirv-cli@3.0.1" in SERVER_PINS
    recipe.check()  # no start script: not an error for a static front end
    assert recipe.engine_needs_lock
    with pytest.raises(UsageError, match=r"pare\.lock has no sirv-cli"):  # pinned there, never floating
        recipe.docker_facts()
    assert server_command("/app")[:3] == ("node", "/usr/lib/pare/static-server/node_modules/sirv-cli/bin.js",
                                          "/app")
    (tmp_path / "package.json").write_text('{"scripts": {"build": "vite build"}, '
                                           '"dependencies": {"vite": "7"}}')
    (tmp_path / "Procfile").write_text("web: node server.js\n")
    assert not NodeRecipe(tmp_path).static_front_end


def test_the_native_server_reads_port_at_start_and_falls_back_to_the_index() -> None:
    """lighttpd's own config language reads PORT (no shell); a path that is no file is /index.html."""
    config = native_server_config("/app").decode()
    assert 'server.document-root = "/app"\n' in config
    assert "server.port = env.PORT\n" in config
    assert 'url.rewrite-if-not-file = ("" => "/index.html")' in config
    assert '".mjs" => "text/javascript; charset=utf-8"' in config
    assert '".wasm" => "application/wasm"' in config
    assert native_server_command() == ("/usr/sbin/lighttpd", "-D", "-f", "/etc/pare/static-server.conf")


@pytest.mark.parametrize("site", ['/a"b', "/a\\b"])
def test_a_site_path_that_would_break_the_config_is_refused(site: str) -> None:
    with pytest.raises(UsageError, match="quote or backslash"):
        native_server_config(site)
