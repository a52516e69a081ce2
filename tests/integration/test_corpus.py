"""Every corpus app (tests/corpus: real public apps no one here wrote) builds natively with the flags
apps.toml lists for it (none, or the fewest documented), runs, and gives its HTTP answer.

Real parts throughout: runtimes and package managers from pinned packages (Debian's archive, the npm
registry, PyPI), the apps' own dependency installs against those registries, the host's compilers
for sqlite3's native addon, pare's native assembler, an OCI layout, and podman (runc, private vfs
storage) running each image in a network namespace of the test's own (pare.engines.netns), where
it may listen on whatever port it insists on.

One build cache for the whole corpus (runtime layers, sysroots, downloads are shared between apps on
the same lock entries, as on a user's machine) starting empty, so this is the cold case; builds use
`--level 1` (zstd 19 on every node binary would add minutes and prove nothing here).
"""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import need
from helpers import layer_files, run_cli
from pare.builder import fresh_build_cache
from pare.engines.netns import private_network
from pare.engines.podman import PodmanEngine, Stopped
from pare.engines.storage import remove_storage
from pare.localregistry import free_port
from pare.native.lock import read_lock
from pare.stores.layout import LayoutStore

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
APPS: dict[str, dict[str, Any]] = tomllib.loads((CORPUS / "apps.toml").read_text())["apps"]

# What each image must (and must not) hold beyond its answer: the recipe did what the app needs.
HOLDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "node-todo-sqlite": (("/app/node_modules/sqlite3/lib/binding/napi-v6-linux-glibc-x64/node_sqlite3.node",),
                         ("/app/node_modules/sqlite3/build-tmp-napi-v6", "/app/node_modules/jest")),
    "node-tsc-postinstall": (("/app/dist/web.js",), ("/app/node_modules/typescript",)),
    "node-nest-starter": (("/app/dist/main.js",),
                          ("/app/node_modules/@nestjs/cli", "/app/node_modules/jest")),
    "node-yarn4-pnp": (("/app/.pnp.cjs", "/app/server.js"), ("/app/node_modules", "/app/.yarn/releases")),
    "node-pnpm-express": (("/app/node_modules/express", "/app/node_modules/.pnpm"), ()),
    "py-django-render": (("/app/staticfiles/staticfiles.json", "/app/manage.py"), ()),
    "py-fastapi-uv": (("/app/src/uv_docker_example/__init__.py",), ("/app/.venv",)),
    "py-flask-procfile": (("/usr/local/lib/python3.11/dist-packages/pkg_resources/__init__.py",), ()),
    "go-cloud-run-hello": (("/app/index.html", "/app/assets", "/app/cloud-run-hello"),
                           ("/app/hello.go", "/app/vendor", "/app/job")),
    "go-httpbin": (("/app/go-httpbin",), ("/app/cmd", "/app/httpbin/httpbin.go")),
}


@pytest.fixture(scope="module")
def corpus_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One empty build cache for every corpus app."""
    with fresh_build_cache(tmp_path_factory.mktemp("corpus-cache")) as path:
        yield path


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodmanEngine]:
    need("podman")
    need("runc")
    need("ip")
    state = tmp_path_factory.mktemp("podman")
    yield PodmanEngine(state)
    remove_storage(state)  # podman leaves its overlay storage mounted


def build_flags(app: dict[str, Any]) -> list[str]:
    """apps.toml's flags, and its run-time env as --env (build steps such as collectstatic see it)."""
    env = [arg for key, value in app.get("env", {}).items() for arg in ("--env", f"{key}={value}")]
    return [*app["flags"], *env]


def test_an_app_that_needs_a_flag_is_told_which_before_any_work(tmp_path: Path, capsys: Any,
                                                                corpus_cache: Path) -> None:
    """Without its --cmd, the todo app stops at once with one line naming --cmd, and writes nothing."""
    source = tmp_path / "node-todo-sqlite"
    shutil.copytree(CORPUS / "node-todo-sqlite", source)
    code, _out, err = run_cli(["build", str(source), "-t", f"oci:{tmp_path}/never:x", "--level", "1"], capsys)
    assert code != 0
    assert err.startswith("pare: error:") and "--cmd" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "never").exists()
    assert not (source / "pare.lock").exists()  # nothing resolved, nothing fetched


@pytest.mark.parametrize("name", sorted(APPS))
def test_corpus_app_builds_natively_and_answers(name: str, tmp_path: Path, capsys: Any,
                                                corpus_cache: Path, podman: PodmanEngine) -> None:
    app = APPS[name]
    source = tmp_path / name
    shutil.copytree(CORPUS / name, source, symlinks=True)  # the build writes pare.lock beside the app
    layout = tmp_path / "layout"
    code, out, err = run_cli(["build", str(source), "-t", f"oci:{layout}:{name}", "--level", "1", "--json",
                              *build_flags(app)], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["recipe"] == app["language"] and result["lock"] == "written"
    lock = read_lock(source)
    assert lock is not None and all(a.kind != "host" or a.name == "go" for a in lock.artifacts)
    image = LayoutStore(layout).read(name)
    runtime = image.config.runtime
    port = app.get("port", 8080)
    assert runtime["User"] == "65532:65532"
    env = dict(item.split("=", 1) for item in runtime["Env"])
    assert all(env[key] == value for key, value in app.get("env", {}).items())
    if "--port" in app["flags"]:
        assert env["PORT"] == str(port) and f"{port}/tcp" in runtime["ExposedPorts"]
    present, absent = HOLDS.get(name, ((), ()))
    if present or absent:
        files = layer_files(layout, name)
        for path in present:
            assert path in files, f"{name}: {path} is not in the image"
        for prefix in absent:
            shipped = [f for f in files if f == prefix or f.startswith(prefix + "/")]
            assert not shipped, f"{name}: {prefix} is in the image"
    response, stopped = run_contract(podman, f"oci:{layout}:{name}", app)
    assert response.status_code == app["status"], response.text[:300]
    assert app["contains"] in response.text
    assert stopped.stopped_after < 2.0, f"{name}: stopped {stopped.stopped_after:.2f} s after podman stop"


def run_contract(podman: PodmanEngine, image: str, app: dict[str, Any]) -> tuple[httpx.Response, Stopped]:
    """The run-time contract (docs/runtime-contract.md): run `image` in a private network with a
    PORT picked here (never the image's default; an app whose own code listens on a fixed port,
    apps.toml `port`, is reached there), GET the app's path, then time `podman stop`."""
    port = app.get("port") or free_port()
    with private_network() as net, podman.serving(image, port=port, network=net, ready_path=app["get"],
                                                  timeout=60) as container:
        # as a client on this machine would ask (Django's ALLOWED_HOSTS names 127.0.0.1)
        response = httpx.get(container.url + app["get"], timeout=10, headers={"Host": f"127.0.0.1:{port}"})
        return response, container.stop()
