"""Every corpus app (tests/corpus: real public apps no one here wrote) builds natively with the flags
apps.toml lists for it (none, or the fewest documented), runs, and gives its HTTP answer.

Real parts throughout: runtimes and package managers from pinned packages (Debian's archive, the npm
registry, PyPI), the apps' own dependency installs against those registries, the host's compilers
for sqlite3's native addon, pare's native assembler, an OCI layout, and podman (runc, private vfs
storage) running each image in a network namespace of the test's own (pare.engines.netns), where
it may listen on whatever port it insists on.

One build cache for the whole corpus (runtime layers, sysroots, downloads are shared between apps on
the same lock entries, as on a user's machine): pare's own, so a machine's first run is the cold
case and later runs reuse what it verified; builds use
`--level 1` (zstd 19 on every node binary would add minutes and prove nothing here) and run two at a
time (`prebuilt`), ahead of the tests that run and ask each app.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import layer_files, run_cli
from pare.engines.netns import private_network
from pare.engines.podman import PodmanEngine, Stopped
from pare.localregistry import free_port
from pare.native.lock import read_lock
from pare.stores.layout import LayoutStore

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def load_apps() -> dict[str, dict[str, Any]]:
    """apps.toml: every corpus app, its flags, answer and the pare features it `needs`."""
    apps: dict[str, dict[str, Any]] = tomllib.loads((CORPUS / "apps.toml").read_text())["apps"]
    return apps


APPS = load_apps()

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
def corpus_cache() -> Iterator[Path]:
    """pare's own build cache, shared by every corpus app and kept between runs (its entries are
    verified against their manifests on use), so only the first run on a machine builds cold."""
    from pare.native.cache import cache_root
    yield cache_root()


# What apps.toml's `needs` may name: the features an app depends on beyond the basics (each is
# documented in docs/detection.md, docs/runtime-contract.md or docs/settings.md).
FEATURES = {"node-no-lockfile", "nextjs", "static-spa", "python-server-injection", "django-settings",
            "descriptor-start", "syslibs", "go-no-gomod"}


Built = tuple[Path, Path, int, str, str, float]  # source, layout, exit code, stdout, stderr, seconds


@pytest.fixture(scope="module")
def prebuilt(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             corpus_cache: Path) -> Iterator[dict[str, Future[Built]]]:
    """Every selected corpus app's `pare build`, two at a time (the machine's two cores; downloads and
    compiles overlap), started before the first app test: app -> (source, layout, exit code, stdout,
    stderr). Each build is a `pare` process of its own on the shared cache (entries are written
    atomically), so its output is its own."""
    names = [item.callspec.params["name"] for item in request.session.items
             if getattr(item, "originalname", "") == "test_corpus_app_builds_natively_and_answers"]
    work = tmp_path_factory.mktemp("corpus-builds")

    def build(name: str) -> Built:
        source, layout = work / name, work / f"{name}-layout"
        shutil.copytree(CORPUS / name, source, symlinks=True)  # the build writes pare.lock beside the app
        args = ["build", str(source), "-t", f"oci:{layout}:{name}", "--level", "1", "--json"]
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "pare", *args, *build_flags(APPS[name])],
                              capture_output=True, text=True, timeout=1800)
        return source, layout, done.returncode, done.stdout, done.stderr, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {name: pool.submit(build, name) for name in names}
        pool.shutdown(cancel_futures=True)


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
def test_corpus_app_builds_natively_and_answers(name: str, prebuilt: dict[str, Future[Built]],
                                                podman: PodmanEngine,
                                                record_property: Callable[[str, object], None]) -> None:
    """Each app builds with apps.toml's flags only, answers on a PORT picked here, and stops within 2 s.
    Build and stop seconds go into the JUnit XML (`--junitxml`): the corpus table of issue 17."""
    app = APPS[name]
    source, layout, code, out, err, seconds = prebuilt[name].result()
    record_property("build_seconds", round(seconds, 1))
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
    record_property("stop_seconds", round(stopped.stopped_after, 2))
    record_property("compressed_bytes_level1", image.compressed_size)
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


def test_the_corpus_is_forty_documented_apps_from_six_publishers() -> None:
    """Issue 17's corpus: 12+ Node, 12+ Python, 10+ Go apps from six or more publishers, each with its
    ORIGIN.md and licence; at most 3 need flags; every feature `needs` names is a known one."""
    by_language = {lang: [n for n, a in APPS.items() if a["language"] == lang]
                   for lang in ("node", "python", "go")}
    assert len(APPS) >= 40 and len(by_language["node"]) >= 12 and len(by_language["python"]) >= 12
    assert len(by_language["go"]) >= 10
    publishers = {a["publisher"].split(" (")[0] for a in APPS.values()}
    assert len(publishers) >= 6, publishers
    assert len([n for n, a in APPS.items() if a["flags"]]) <= 3
    features = FEATURES
    for name, app in APPS.items():
        assert set(app["needs"]) <= features, f"{name}: {set(app['needs']) - features} is unknown"
        origin = (CORPUS / name / "ORIGIN.md").read_text()
        assert "- Repository: https://github.com/" in origin and "## What it needs from pare" in origin, name
        licences = [p for p in (CORPUS / name).iterdir() if p.name.lower().startswith(("license", "copying"))]
        assert licences or "declared in `package.json`" in origin, f"{name}: no licence file"
    assert sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) == sorted(APPS)
