"""Detection rules that need a real build to prove (docs/detection.md): a Go module whose
dependencies come through the user's GOPROXY (a real module proxy served on 127.0.0.1), and its
one-line stop when no source answers; a Node app without a lockfile; a Next.js app shipped as its
standalone trace.

Real parts: the host's go (it writes go.sum from the proxy, as a user's machine would), pare's
native build with the locked toolchain, the OCI layout it writes, and the built binary, run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import need
from goproxy import add_module, serve
from helpers import layer_files, run_cli, write_tree
from pare.engines.netns import private_network
from pare.native.lock import read_lock
from pare.oci.digest import digest_file
from pare.oci.tarsafe import SafeTar
from pare.stores.layout import LayoutStore

pytestmark = pytest.mark.integration

APPS = Path(__file__).resolve().parents[1] / "data" / "apps"


def go_app_with_a_dependency(tmp_path: Path) -> tuple[Path, Path, str]:
    """An app requiring a module only the test's proxy has (a fresh path, so no cache holds it);
    go.sum written by the host's go from that proxy. Returns (app, proxy tree, module path)."""
    need("go")
    module = f"example.com/greet{uuid.uuid4().hex[:8]}"
    proxy = tmp_path / "proxy"
    add_module(proxy, module, "v1.0.0", {
        "go.mod": f"module {module}\n\ngo 1.19\n",
        "greet.go": 'package greet\n\nfunc Hello() string { return "hello from the proxy" }\n'})
    app = tmp_path / "greeter"
    app.mkdir()
    (app / "go.mod").write_text(f"module example.com/greeter\n\ngo 1.19\n\nrequire {module} v1.0.0\n")
    (app / "main.go").write_text(f'package main\n\nimport (\n\t"fmt"\n\n\t"{module}"\n)\n\n'
                                 "func main() { fmt.Println(greet.Hello()) }\n")
    env = {**os.environ, "GOPROXY": f"file://{proxy}", "GOSUMDB": "off", "GOFLAGS": "-mod=mod",
           "GOPATH": str(tmp_path / "gopath"), "GOCACHE": str(tmp_path / "gocache"), "GOTOOLCHAIN": "local"}
    subprocess.run(["go", "mod", "tidy"], cwd=app, env=env, check=True, capture_output=True)
    subprocess.run(["go", "clean", "-modcache"], cwd=app, env=env, check=True, capture_output=True)
    assert module in (app / "go.sum").read_text()
    return app, proxy, module


def test_go_modules_come_through_the_users_goproxy(tmp_path: Path, capsys: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    app, proxy, _module = go_app_with_a_dependency(tmp_path)
    with serve(proxy) as url:
        monkeypatch.setenv("GOPROXY", url)
        monkeypatch.setenv("GOFLAGS", "-tags=netgo")
        code, _out, err = run_cli(["build", str(app), "-t", f"oci:{tmp_path}/out:g", "--level", "1"], capsys)
    assert code == 0, err
    image = LayoutStore(tmp_path / "out").read("g")
    with image.layers[-1].open_uncompressed() as stream:
        binary = b"".join(reader.read() for member, reader in SafeTar(stream, hash_stream=False)
                          if reader is not None and member.path == "app/greeter")
    program = tmp_path / "greeter-bin"
    program.write_bytes(binary)
    program.chmod(0o755)
    done = subprocess.run([program], capture_output=True, text=True, check=True)
    assert done.stdout == "hello from the proxy\n"


def test_go_modules_with_no_source_stop_in_one_line(tmp_path: Path, capsys: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    app, proxy, _module = go_app_with_a_dependency(tmp_path)
    with serve(proxy) as url:
        pass  # the proxy is gone: its port answers nothing
    monkeypatch.setenv("GOPROXY", url)
    code, _out, err = run_cli(["build", str(app), "-t", f"oci:{tmp_path}/never:g", "--level", "1"], capsys)
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert "there is no vendor/ and no module source answers" in err and f"GOPROXY={url}" in err
    assert not (tmp_path / "never").exists() and not (app / "pare.lock").exists()


# --- Node: no lockfile ---------------------------------------------------------------------------

def test_node_app_without_a_lockfile_is_locked_by_pare_and_reproducible(
        tmp_path: Path, capsys: Any, caplog: pytest.LogCaptureFixture, podman: Any) -> None:
    """npm dependencies and no package-lock.json: the first build resolves them (one warning line),
    keeps the lockfile as pare's state with its digest in pare.lock, and serves; the second build
    honours the lock and gives the same image."""
    app = write_tree(tmp_path / "nolock", {
        "package.json": {"name": "nolock", "version": "1.0.0", "dependencies": {"ms": "^2.1.0"},
                         "scripts": {"start": "node server.js"}},
        "server.js": "const ms = require('ms');\nrequire('http').createServer((q, r) => r.end(ms(60000)))"
                     ".listen(process.env.PORT);\n"})
    code, out, err = run_cli(["build", str(app), "-t", f"oci:{tmp_path}/out:one", "--level", "1", "--json"],
                             capsys)
    assert code == 0, err
    warnings = [r.getMessage() for r in caplog.records if "has no package-lock.json" in r.getMessage()]
    assert len(warnings) == 1 and ".pare/package-lock.json" in warnings[0] and "\n" not in warnings[0]
    caplog.clear()
    generated = app / ".pare" / "package-lock.json"
    assert '"node_modules/ms"' in generated.read_text()
    lock = read_lock(app)
    assert lock is not None
    assert str(digest_file(generated)) in dict(lock.request)["npm_lockfile"]
    files = layer_files(tmp_path / "out", "one")
    assert "/app/node_modules/ms/index.js" in files and not any(".pare" in f for f in files)
    with private_network() as net, podman.running(f"oci:{tmp_path}/out:one", port=8080, network=net) as url:
        assert httpx.get(url, timeout=10).text == "1m"
    code, out2, err = run_cli(["build", str(app), "-t", f"oci:{tmp_path}/out:two", "--level", "1", "--json"],
                              capsys)
    assert code == 0, err
    assert not any("has no package-lock.json" in r.getMessage() for r in caplog.records)
    assert json.loads(out2)["lock"] == "honoured" and json.loads(out2)["digest"] == json.loads(out)["digest"]


# --- Node: Next.js standalone --------------------------------------------------------------------

def test_nextjs_ships_only_its_standalone_trace(tmp_path: Path, capsys: Any, podman: Any) -> None:
    """A Next.js app whose next.config says nothing of output is built standalone (the user's file
    untouched) and the image holds server.js, .next/static, public/ and the traced node_modules,
    not the full install (no SWC compiler, no build-only packages)."""
    app = tmp_path / "next-minimal"
    shutil.copytree(APPS / "next-minimal", app)
    config = (app / "next.config.mjs").read_bytes()
    code, _out, err = run_cli(["build", str(app), "-t", f"oci:{tmp_path}/out:next", "--level", "1"],
                             capsys)
    assert code == 0, err
    assert (app / "next.config.mjs").read_bytes() == config and not (app / ".next").exists()
    files = layer_files(tmp_path / "out", "next")
    for path in ("/app/server.js", "/app/public/hello.txt", "/app/.next/BUILD_ID",
                 "/app/node_modules/next/package.json", "/app/node_modules/react/package.json"):
        assert path in files, path
    assert any(f.startswith("/app/.next/static/") for f in files)
    shipped = [f for f in files if f.startswith(("/app/node_modules/@next/swc", "/app/.next/cache",
                                                 "/app/.next/standalone", "/app/app/page.js"))]
    assert not shipped
    image = LayoutStore(tmp_path / "out").read("next")
    entrypoint = image.config.runtime["Entrypoint"]
    assert entrypoint[0] == "/usr/bin/catatonit" and entrypoint[-1] == "server.js"  # the init, then node
    assert "HOSTNAME=0.0.0.0" in image.config.runtime["Env"]
    with private_network() as net, podman.running(f"oci:{tmp_path}/out:next", port=8123, network=net,
                                                  timeout=60) as url:
        page = httpx.get(url, timeout=10)
        public = httpx.get(url + "/hello.txt", timeout=10)
    assert page.status_code == 200 and "Hello from Next.js standalone" in page.text
    assert "x-powered-by" not in page.headers  # the user's next.config was honoured
    assert public.text == "a public file\n"


# --- Node: a static front end --------------------------------------------------------------------

def test_a_vite_spa_is_served_by_the_pinned_static_server(tmp_path: Path, capsys: Any,
                                                          podman: Any) -> None:
    """A Vite app (build script, no server) ships only dist/ and Debian's lighttpd (pinned in
    pare.lock), no node; it reads PORT at start and answers unknown paths with index.html."""
    app = tmp_path / "vite-spa"
    shutil.copytree(APPS / "vite-spa", app)
    code, _out, err = run_cli(["build", str(app), "-t", f"oci:{tmp_path}/out:spa", "--level", "1"], capsys)
    assert code == 0, err
    lock = read_lock(app)
    assert lock is not None and "lighttpd" in dict(lock.request)["static_server"]
    assert "lighttpd" in {a.name for a in lock.select(kind="deb", role="runtime")}
    assert {"sirv-cli", "sirv"} <= {a.name for a in lock.select(kind="npm", role="runtime", platform="all")}
    files = layer_files(tmp_path / "out", "spa")
    assert "/app/index.html" in files and any(f.startswith("/app/assets/") for f in files)
    assert not any(f.startswith(("/app/node_modules", "/app/src", "/app/package.json")) for f in files)
    assert {"/usr/sbin/lighttpd", "/etc/pare/static-server.conf"} <= files.keys()
    assert not any(f.endswith("/node") or "node_modules" in f for f in files)  # no node, no sirv
    with private_network() as net, podman.running(f"oci:{tmp_path}/out:spa", port=8456, network=net) as url:
        index = httpx.get(url, timeout=10)
        deep = httpx.get(url + "/some/client/route", timeout=10)
        script = next(f for f in files if f.startswith("/app/assets/") and f.endswith(".js"))
        asset = httpx.get(url + script.removeprefix("/app"), timeout=10)
    assert index.status_code == 200 and "Hello from a Vite single-page app" in index.text
    assert deep.status_code == 200 and deep.text == index.text
    assert asset.status_code == 200 and asset.headers["content-type"].startswith("text/javascript")


# --- a start command declared for another platform ---------------------------------------------

@pytest.mark.parametrize(("name", "text"), [
    ("render.yaml", "services:\n  - type: web\n    name: site\n    startCommand: node web.js --from $PORT\n"),
    ("fly.toml", '[processes]\nweb = "node web.js --from $PORT"\n[http_service]\nprocesses = ["web"]\n'),
    ("startup.sh", "#!/bin/sh\nset -e\nexec node web.js --from \"$PORT\"\n"),
])
def test_a_declared_start_command_is_what_the_image_runs(name: str, text: str, tmp_path: Path, capsys: Any,
                                                         podman: Any) -> None:
    """scripts.start would run the wrong file; the platform's own start line wins, and its $PORT
    is the port the container gets."""
    app = write_tree(tmp_path / "declared", {
        "package.json": {"name": "declared", "version": "1.0.0", "scripts": {"start": "node wrong.js"}},
        "wrong.js": "process.exit(3);\n",
        "web.js": "require('http').createServer((q, r) => r.end(process.argv.slice(2).join(' ')))"
                  ".listen(process.env.PORT);\n",
        name: text})
    code, _out, err = run_cli(["build", str(app), "-t", f"oci:{tmp_path}/out:d", "--level", "1"], capsys)
    assert code == 0, err
    with private_network() as net, podman.running(f"oci:{tmp_path}/out:d", port=8080, network=net) as url:
        assert httpx.get(url, timeout=10).text == "--from 8080"
