"""Benchmark: the corpus of real public apps (tests/corpus), built three ways, same run.

For each app:
    native      pare build with pare's defaults (zstd 19, stripped ELF files), the flags apps.toml
                lists for it; cold = an empty build cache, warm = the same build again
    multistage  pare's engine path (its builder-pattern Dockerfile through buildah), cold = no layer
                cache (--layers=false), warm = a rebuild with the cache primed; an app asking for a
                newer runtime than the engine's bookworm bases carry is reported as such
    own         the Dockerfile the app ships, built by the same buildah. Docker Hub, ghcr.io and
                gcr.io are not reachable here, so each FROM image is mapped to the nearest pare base
                profile, and what had to change for this machine is listed in the table's notes
then the time from container start to the first HTTP 200 on its apps.toml path, for the native and
the own-Dockerfile image (built as `docker build` would, file times kept: uv, for one, checks them
when the container starts), on the `laptop` profile (no limits) and the `micro` one (its CPU and
memory limits through pare.experiment's cgroup; no pull is timed, so its bandwidth limit does not
apply). Each container runs in a network namespace of its own (pare.engines.netns) and is created
before the clock starts: the figure is `podman start` to the first 200, the median of --runs.

Sizes are compressed bytes (config + layer blobs: what a pull moves). Build times are wall seconds
of the whole build call, bases already loaded into buildah's storage (not part of a build).
Needs root (cgroups, ip netns) and buildah, podman, runc.

    .venv/bin/python benchmarks/apps.py [--apps go-httpbin,node-todo-sqlite] [--runs 3]
                                        [--json results.json] [--keep] [--warm-only]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pare import builder  # noqa: E402
from pare.bases.cache import base_reference, ensure_base  # noqa: E402
from pare.engines import BuildRequest, get_engine  # noqa: E402
from pare.engines.base import run as run_engine  # noqa: E402
from pare.engines.netns import private_network  # noqa: E402
from pare.engines.podman import PodmanEngine  # noqa: E402
from pare.engines.storage import remove_storage  # noqa: E402
from pare.experiment.cgroup import Cgroup  # noqa: E402
from pare.experiment.profiles import Profile, load_profiles  # noqa: E402
from pare.native.plan import CA_BUNDLE  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import med, timed  # noqa: E402  (the build benchmark's helpers)

CORPUS = ROOT / "tests" / "corpus"
BENCH_BASES = ROOT / "benchmarks" / "bases"
APPS: dict[str, dict[str, Any]] = tomllib.loads((CORPUS / "apps.toml").read_text())["apps"]
# The proxy's CA bundle for pip and npm in own-Dockerfile builds, beside the image's own bundle (an
# `apt-get install ca-certificates` rewrites that one: a read-only mount over it made the step fail)
CA_IN_BUILD = "/run/pare-proxy-ca.crt"
# How often start_to_200 asks for the first 200: finer than the gaps the table compares (a refused
# connection on a private network costs well under a millisecond).
POLL_SECONDS = 0.002
FLAG_FIELDS = {"--cmd": "cmd", "--port": "port", "--main": "main", "--user": "user", "--workdir": "workdir",
               "--entrypoint": "entrypoint"}


@dataclass(frozen=True)
class OwnDockerfile:
    """How an app's own Dockerfile is built here: FROM image -> pare base profile (a builtin name or a
    profile file under benchmarks/bases), lines inserted after a FROM, text edits, and its port."""

    bases: dict[str, str]
    after_from: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dockerfile: str | None = None  # one of the app's Dockerfiles other than apps.toml's
    edits: tuple[tuple[str, str], ...] = ()
    drop_stages: tuple[str, ...] = ()  # stages no build of the app's image needs (dev containers)
    port: int = 8080
    notes: str = ""


OWN: dict[str, OwnDockerfile] = {
    "py-fastapi-uv": OwnDockerfile(
        {"ghcr.io/astral-sh/uv:python3.12-bookworm-slim": "slim-python",
         "python:3.12-slim-bookworm": "slim-python"},
        {"ghcr.io/astral-sh/uv:python3.12-bookworm-slim": (
            "ARG PIP_CERT=", "RUN python3 -m pip install --no-cache-dir --break-system-packages uv",
            f"ENV SSL_CERT_FILE={CA_IN_BUILD}")},
        edits=(("target=uv.lock", "target=/app/uv.lock"),
               ("target=pyproject.toml", "target=/app/pyproject.toml")),
        dockerfile="multistage.Dockerfile", port=8000,
        notes="its multistage.Dockerfile, the production one (`fastapi run`, no uv at run time; its "
              "Dockerfile's `uv run` rebuilds the project when it starts and needs PyPI then); "
              "uv:python3.12-bookworm-slim -> slim-python (Python 3.11) + uv from PyPI, "
              "python:3.12-slim-bookworm -> slim-python; bind-mount targets made absolute for buildah 1.28"),
    "go-cloud-run-hello": OwnDockerfile(
        {"golang:1.26.1": str(BENCH_BASES / "fat-go-1.26.toml"), "scratch": "scratch"},
        edits=(("RUN go mod download\n", ""), ("-mod=readonly", "-mod=vendor")),
        notes="golang:1.26.1 -> fat-go-1.26 (buildd + Debian forky golang-1.26); no module proxy here: "
              "`go mod download` dropped, -mod=vendor for -mod=readonly"),
    "go-httpbin": OwnDockerfile(
        {"golang:1.26": str(BENCH_BASES / "fat-go-1.26.toml"),
         "gcr.io/distroless/static:nonroot": "distroless-static"},
        notes="golang:1.26 -> fat-go-1.26 (buildd + Debian forky golang-1.26); "
              "distroless/static:nonroot -> distroless-static"),
    "node-docker-react-static": OwnDockerfile(
        {"node:lts": "fat-node", "nginx:alpine": str(BENCH_BASES / "nginx-debian.toml")},
        {"node:lts": ("ARG NODE_EXTRA_CA_CERTS=",),
         "nginx:alpine": ("RUN rm -f /etc/nginx/sites-enabled/default",)},
        drop_stages=("dev-envs",), port=80,
        notes="node:lts -> fat-node (Debian's Node.js), nginx:alpine -> nginx-debian (slim Debian + "
              "nginx-light, its default site removed so the app's conf.d server answers); the dev-envs stage "
              "(Docker's dev container: gloursdocker/docker, heredoc RUNs) dropped"),
    "py-docker-flask-dockercmd": OwnDockerfile(
        {"python:3.10-alpine": "slim-python"}, {"python:3.10-alpine": ("ARG PIP_CERT=",)},
        edits=(("pip3 install -r", "pip3 install --break-system-packages -r"),),
        drop_stages=("dev-envs",), port=8000,
        notes="python:3.10-alpine -> slim-python (Debian's Python 3.11; pip needs --break-system-packages "
              "there); the dev-envs stage (gloursdocker/docker, heredoc RUNs) dropped"),
    "go-google-run-helloworld": OwnDockerfile(
        {"golang:1.23-bookworm": str(BENCH_BASES / "fat-go-1.26.toml"),
         "debian:bookworm-slim": str(BENCH_BASES / "debian-slim.toml")},
        notes="golang:1.23-bookworm -> fat-go-1.26, debian:bookworm-slim -> debian-slim (mmdebstrap minbase, "
              "slimmed); its apt-get of ca-certificates runs against Debian's archive as written"),
    "go-hashicorp-http-echo": OwnDockerfile(
        {"golang:1.26": str(BENCH_BASES / "fat-go-1.26.toml"),
         "gcr.io/distroless/static-debian12:nonroot": "distroless-static"},
        edits=(("FROM gcr.io/distroless/static-debian12:nonroot as default",
                "FROM golang:1.26 AS dist\nWORKDIR /src\nCOPY . .\n"
                "RUN CGO_ENABLED=0 go build -trimpath -o /dist/linux/amd64/http-echo .\n"
                "FROM gcr.io/distroless/static-debian12:nonroot as default"),
               ("COPY dist/$TARGETOS/$TARGETARCH/$BIN_NAME /",
                "COPY --from=dist /dist/linux/amd64/http-echo /")),
        port=5678,
        notes="its Dockerfile copies a binary its release pipeline built outside (dist/OS/ARCH): a build "
              "stage on fat-go-1.26 (golang:1.26 stand-in) makes it; distroless/static-debian12:nonroot -> "
              "distroless-static"),
}


@dataclass
class Row:
    app: str
    flags: str = ""
    native: int = 0
    native_cold: float = 0.0
    native_warm: float = 0.0
    engine: int = 0
    engine_cold: float = 0.0
    engine_warm: float = 0.0
    engine_error: str = ""
    own: int = 0
    own_cold: float = 0.0
    own_warm: float = 0.0
    own_error: str = ""
    own_notes: str = ""
    start: dict[str, list[float]] = field(default_factory=dict)  # "native/laptop" -> seconds per run
    start_error: dict[str, str] = field(default_factory=dict)
    error: str = ""


def settings_of(app: dict[str, Any]) -> dict[str, Any]:
    """apps.toml's flags (and run-time env) as builder settings."""
    found: dict[str, Any] = {}
    flags = list(app["flags"])
    while flags:
        flag, value = flags.pop(0), flags.pop(0)
        found[FLAG_FIELDS[flag]] = int(value) if flag == "--port" else value
    found["env"] = tuple(f"{k}={v}" for k, v in app.get("env", {}).items())
    return found


def cold_warm(build: Callable[[bool], Any], warm_only: bool = False) -> tuple[float, float, Any]:
    """An engine build with no layer cache, then (cache primed) a warm one: seconds, seconds, result
    (warm_only: no cold build, 0.0 in its place)."""
    if warm_only:
        build(True)
        warm, result = timed(lambda: build(True))
        return 0.0, warm, result
    cold, _ = timed(lambda: build(False))
    build(True)
    warm, result = timed(lambda: build(True))
    return cold, warm, result


@contextlib.contextmanager
def environ(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Bench:
    def __init__(self, work: Path, runs: int, warm_only: bool = False) -> None:
        self.work = work
        self.runs = runs
        self.warm_only = warm_only  # sizes and start times only: no cold build, pare's shared cache
        self.podman = PodmanEngine(work / "podman")
        self.profiles = load_profiles()
        self.counter = 0

    def fresh_app(self, name: str) -> Path:
        self.counter += 1
        target = self.work / "apps" / f"{name}-{self.counter}"
        shutil.copytree(CORPUS / name, target, symlinks=True)
        return target

    def layout(self, name: str, variant: str) -> str:
        return f"oci:{self.work / 'out'}:{name}-{variant}"

    # --- builds ------------------------------------------------------------------------------------
    def native(self, row: Row, settings: dict[str, Any]) -> None:
        app_dir = self.fresh_app(row.app)
        cache = self.work / f"cache-{row.app}"
        dest = self.layout(row.app, "native")
        if self.warm_only:
            builder.build(app_dir, dest, settings=settings)
            row.native_warm, result = timed(lambda: builder.build(app_dir, dest, settings=settings))
            row.native = result.compressed_size
            return
        with environ(PARE_BUILD_CACHE=str(cache)):
            row.native_cold, result = timed(lambda: builder.build(app_dir, dest, settings=settings))
            row.native_warm, result = timed(lambda: builder.build(app_dir, dest, settings=settings))
        row.native = result.compressed_size

    def engine(self, row: Row, settings: dict[str, Any]) -> None:
        from pare.engines.dockerfile import generate
        from pare.recipes import detect
        from pare.recipes.settings import load_settings
        app_dir = self.fresh_app(row.app)
        state = self.work / "buildah" / row.app
        try:
            facts = builder.engine_facts(detect(app_dir, settings=load_settings(app_dir, settings)))
            profiles = generate(facts, "multistage").profiles
        except Exception as exc:  # a runtime the bases lack: reported, not measured
            row.engine_error = str(exc).split(": build natively")[0]
            return
        engine = get_engine("buildah", state)
        with builder.resolve_bases(profiles, engine, None):
            pass  # bases into buildah's storage before any timing
        dest = self.layout(row.app, "engine")

        def build(cache: bool) -> Any:
            return builder.build(app_dir, dest, native=False, cache=cache, engine_state=state,
                                 settings=settings)

        try:
            row.engine_cold, row.engine_warm, result = cold_warm(build, self.warm_only)
            row.engine = result.compressed_size
        except Exception as exc:
            row.engine_error = f"{type(exc).__name__}: {str(exc)[:200]}"

    def own(self, row: Row) -> None:
        spec = OWN.get(row.app)
        if spec is None:
            return
        row.own_notes = spec.notes
        app_dir = self.fresh_app(row.app)
        state = self.work / "buildah-own" / row.app
        engine = get_engine("buildah", state)
        dockerfile = (app_dir / (spec.dockerfile or APPS[row.app]["dockerfile"])).read_text()
        for old, new in spec.edits:
            dockerfile = dockerfile.replace(old, new)
        lines = []
        dropping = False
        for line in dockerfile.splitlines():
            words = line.split()
            if words[:1] == ["FROM"]:  # FROM [--platform=...] IMAGE [AS NAME]
                dropping = words[-2:-1] in (["AS"], ["as"]) and words[-1] in spec.drop_stages
            if dropping:
                continue
            lines.append(line)
            is_from = words[:1] == ["FROM"]
            image = next((w for w in words[1:] if not w.startswith("--")), "") if is_from else ""
            if image in spec.bases:
                profile = spec.bases[image]
                if profile != "scratch":
                    ref = base_reference(profile, "localhost")
                    engine.load_image(ref, ensure_base(profile))
                    lines[-1] = line.replace(image, ref, 1)
                lines += spec.after_from.get(image, ())
        path = self.work / f"{row.app}.own.Dockerfile"
        path.write_text("\n".join(lines) + "\n")

        def build(cache: bool) -> Any:
            with tempfile.TemporaryDirectory(prefix="bench-own-") as tmp:
                request = BuildRequest(app_dir, f"localhost/bench-own/{row.app}:x", dockerfile=str(path),
                                       build_args={"NODE_EXTRA_CA_CERTS": CA_IN_BUILD,
                                                   "PIP_CERT": CA_IN_BUILD},
                                       volumes=[(str(CA_BUNDLE), CA_IN_BUILD)], cache=cache)
                result = engine.build(request, Path(tmp) / "export")
                store, name = builder.open_location(self.layout(row.app, "own"))
                store.write(result.image, name)
                return result.image

        try:
            row.own_cold, row.own_warm, image = cold_warm(build, self.warm_only)
            row.own = image.compressed_size
        except Exception as exc:
            row.own_error = f"{type(exc).__name__}: {str(exc)[-300:]}"

    # --- start to first 200 ------------------------------------------------------------------------
    def start_to_200(self, image: str, port: int, path: str, env: dict[str, str], profile: Profile) -> float:
        """podman start -> the first 200 on `path`, the container created before the clock starts,
        inside `profile`'s CPU and memory limits (a cgroup parent for the container)."""
        penv = self.podman.env()
        pg = self.podman.global_args()
        name = f"bench-{uuid.uuid4().hex[:10]}"
        with Cgroup(profile.cpus, profile.memory_mb) as cgroup, private_network() as net:
            args = [*pg, "create", "--name", name, "--network", f"ns:{net.path}", "-e", f"PORT={port}"]
            if cgroup.dirs:
                args += ["--cgroup-parent", cgroup.path]
            for key, value in env.items():
                args += ["-e", f"{key}={value}"]
            run_engine([*args, image], env=penv, what="podman create", timeout=300)
            url = f"http://{net.address}:{port}{path}"
            try:
                start = time.perf_counter()
                run_engine([*pg, "start", name], env=penv, what="podman start", timeout=120)
                deadline = start + 180
                while True:
                    with contextlib.suppress(httpx.HTTPError):
                        answer = httpx.get(url, timeout=2.0, headers={"Host": f"127.0.0.1:{port}"})
                        if answer.status_code == 200:
                            return time.perf_counter() - start
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"{image}: no 200 on {url} within 180 s")
                    time.sleep(POLL_SECONDS)
            finally:
                run_engine([*pg, "rm", "-f", "-t", "0", name], env=penv, what="podman rm")

    def starts(self, row: Row) -> None:
        """Start-to-200 of the native and the own image, in adjacent pairs (native, own, native,
        own...) so that a change in the machine's load touches both alike."""
        app = APPS[row.app]
        variants = [("native", app.get("port", 8080))]
        if row.own:
            variants.append(("own", OWN[row.app].port))
        penv = self.podman.env()
        pg = self.podman.global_args()
        refs = {}
        for variant, _port in variants:
            ref = f"localhost/bench/{row.app}-{variant}:latest"
            location = self.layout(row.app, variant)
            done = run_engine([*pg, "pull", "-q", location], env=penv, what="podman pull")
            run_engine([*pg, "tag", done.stdout.strip().splitlines()[-1], ref], env=penv, what="podman tag")
            refs[variant] = ref
        for profile_name in ("laptop", "micro"):
            profile = self.profiles[profile_name]
            for _ in range(self.runs):
                for variant, port in variants:
                    key = f"{variant}/{profile_name}"
                    if key in row.start_error:
                        continue
                    try:
                        seconds = self.start_to_200(refs[variant], port, app["get"], dict(app.get("env", {})),
                                                    profile)
                    except Exception as exc:  # reported in the table; the other figures still count
                        row.start_error[key] = f"{type(exc).__name__}: {str(exc)[:200]}"
                        row.start.pop(key, None)
                        continue
                    row.start.setdefault(key, []).append(seconds)


def fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def mb(n: int) -> str:
    return f"{n / 1e6:.2f}" if n else "-"


def table(rows: list[Row]) -> str:
    notes = [r.app for r in rows if r.own_notes]
    out = ["| app | flags | native MB | own Dockerfile MB (FROMs mapped: notes) | native / own "
           "| engine multistage MB | native cold / warm s | multistage cold / warm s | own cold / warm s "
           "| start to 200, laptop: native / own s | micro: native / own s |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.error:
            out.append(f"| {r.app} | {r.flags} | error: {r.error[:120]} | | | | | | | | |")
            continue
        note = f" [{notes.index(r.app) + 1}]" if r.app in notes else ""
        own = (f"{mb(r.own)}{note}" if r.own else f"failed{note}" if r.own_error else "no Dockerfile")
        ratio = f"{r.native / r.own:.2f}" if r.own else "-"
        engine = mb(r.engine) if r.engine else f"n/a: {r.engine_error[:110]}"
        eng_t = f"{r.engine_cold:.0f} / {r.engine_warm:.1f}" if r.engine else "-"
        own_t = f"{r.own_cold:.0f} / {r.own_warm:.1f}" if r.own else "-"

        def pair(profile: str, row: Row = r) -> str:
            def one(variant: str) -> str:
                key = f"{variant}/{profile}"
                return "failed" if key in row.start_error else fmt_s(med(row.start.get(key)))
            return f"{one('native')} / {one('own')}"

        out.append(f"| {r.app} | {r.flags or 'none'} | {mb(r.native)} | {own} | {ratio} | {engine} | "
                   f"{r.native_cold:.0f} / {r.native_warm:.1f} | {eng_t} | {own_t} | {pair('laptop')} | "
                   f"{pair('micro')} |")
    out.append("")
    by_app = {r.app: r.own_notes for r in rows}
    out += [f"[{i + 1}] {app}: {by_app[app]}" for i, app in enumerate(notes)]
    return "\n".join(out)


def goals(rows: list[Row]) -> list[str]:
    lines = []
    served = [r.app for r in rows if not r.error and r.start.get("native/laptop")]
    lines.append(f"goal: every corpus app builds and serves: {len(served)}/{len(rows)}"
                 + ("" if len(served) == len(rows) else " MISSED (" + ", ".join(
                     r.app for r in rows if r.app not in served) + ")"))
    for r in rows:
        if not r.own:
            continue
        size = "met" if r.native <= r.own / 2 else "MISSED"
        lines.append(f"goal: {r.app} native {mb(r.native)} MB <= half of its own Dockerfile's "
                     f"{mb(r.own)} MB: {size} ({r.native / r.own:.2f})")
        for profile in ("laptop", "micro"):
            native, own = med(r.start.get(f"native/{profile}")), med(r.start.get(f"own/{profile}"))
            if native is not None and own is not None:
                verdict = "met" if native <= own else "MISSED"
                lines.append(f"goal: {r.app} start to 200 on {profile}: native {native:.2f} s vs own "
                             f"{own:.2f} s: {verdict}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", default=",".join(APPS))
    parser.add_argument("--runs", type=int, default=3, help="start-to-200 runs per image and profile")
    parser.add_argument("--json", type=Path, default=None, help="Also write the rows as JSON here.")
    parser.add_argument("--keep", action="store_true", help="Keep the work directory.")
    parser.add_argument("--warm-only", action="store_true",
                        help="Sizes and start times only: no cold builds (pare's shared build cache).")
    args = parser.parse_args()
    names = [a for a in args.apps.split(",") if a]
    for name in names:
        if name not in APPS:
            parser.error(f"unknown app {name} (the corpus has {', '.join(APPS)})")
    work = Path(tempfile.mkdtemp(prefix="pare-bench-apps-"))
    rows: list[Row] = []
    started = time.perf_counter()
    try:
        with environ(PARE_STORE=str(work / "store")):
            bench = Bench(work, args.runs, args.warm_only)
            for name in names:
                app = APPS[name]
                row = Row(name, " ".join(app["flags"]))
                settings = settings_of(app)
                try:
                    bench.native(row, settings)
                    bench.engine(row, settings)
                    bench.own(row)
                    bench.starts(row)
                except Exception as exc:  # one app's failure is reported; the others still run
                    row.error = f"{type(exc).__name__}: {exc}"
                rows.append(row)
                engine = mb(row.engine) if row.engine else row.engine_error[:200]
                print(f"  {name}: native {mb(row.native)} MB (cold {row.native_cold:.0f} s, warm "
                      f"{row.native_warm:.1f} s), multistage {engine}, own "
                      f"{mb(row.own) if row.own else row.own_error[:200] or '-'}, starts "
                      f"{ {k: round(med(v) or 0, 2) for k, v in row.start.items()} } {row.error[:300]}",
                      flush=True)
    finally:
        if not args.keep:
            remove_storage(work)  # podman and buildah leave their overlay storage mounted
    print()
    print(f"{len(rows)} corpus apps, {os.cpu_count()} cores, start runs per figure: {args.runs} (median), "
          f"{time.perf_counter() - started:.0f} s in all")
    print(table(rows))
    print()
    for line in goals(rows):
        print(line)
    for r in rows:
        for key, error in r.start_error.items():
            print(f"start failed: {r.app} {key}: {error}")
        if r.own_error:
            print(f"own Dockerfile failed: {r.app}: {r.own_error}")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
