"""Detection rules that need a real build to prove (docs/detection.md): a Go module whose
dependencies come through the user's GOPROXY (a real module proxy served on 127.0.0.1), and its
one-line stop when no source answers.

Real parts: the host's go (it writes go.sum from the proxy, as a user's machine would), pare's
native build with the locked toolchain, the OCI layout it writes, and the built binary, run.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import need
from goproxy import add_module, serve
from helpers import run_cli
from pare.oci.tarsafe import SafeTar
from pare.stores.layout import LayoutStore

pytestmark = pytest.mark.integration


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
