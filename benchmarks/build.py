"""Benchmark: image size and build time of every way pare can build each example, same run.

For each example app (go-hello, node-express, python-flask) and each variant:

    native            pare's daemonless path (runtime from pinned packages, pare.lock, ELF closure,
                      deterministic layers), for this machine's platform (linux/amd64)
    native-arm64      the same for linux/arm64 (cross: Go's GOARCH, arm64 .debs and node build,
                      arm64 wheels); sizes and build times on this amd64 machine
    host-runtime      pare as it was before runtimes came from packages (--baseline-ref, default
                      bb46310: the build machine's node/python/CA bundle), run from a git worktree
                      with its own venv: what issue 9 changed, same run
    onbuild/slim/multistage   pare's generated Dockerfiles, built by buildah
    handwritten       the playbook's multi-stage Dockerfile (benchmarks/dockerfiles/APP.Dockerfile),
                      built by the same buildah: the peer every other row is compared with

we measure:
    compressed / uncompressed size  (config + layer blobs / sum of layer tars; native layers use
              pare's defaults, zstd 19 with stripped ELF files, unless --native-compression gzip)
    cold      first build with nothing cached: engine --layers=false; native with an empty build
              cache (runtime artifacts fetched and unpacked, npm/pip, layers, Go build cache); the
              shared .deb cache and the package index stay (like the engines' preloaded bases)
    warm      rebuild of unchanged sources with every cache primed
    change    rebuild after a one-line change to the app's main source file (caches primed)

Engine rows share one private buildah storage per app; base images are loaded into it before any
timing (base loading is not part of a build time; it is printed separately). Times are wall
seconds of the whole `pare.builder` call (toolchain or engine, export, write to an OCI layout).
Each figure is one run unless --runs says more (then the median, with min-max).

    .venv/bin/python benchmarks/build.py [--apps go-hello,node-express] [--variants native,multistage]
                                    [--runs 1] [--json results.json] [--native-compression gzip]
                                    [--baseline-ref bb46310]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pare import builder  # noqa: E402
from pare.engines import BuildRequest, get_engine  # noqa: E402
from pare.engines.dockerfile import generate  # noqa: E402
from pare.native.plan import CA_BUNDLE  # noqa: E402
from pare.recipes import detect  # noqa: E402

EXAMPLES = ROOT / "examples"
APPS = ("go-hello", "node-express", "python-flask")
VARIANTS = ("native", "native-arm64", "host-runtime", "onbuild", "slim", "multistage", "handwritten")
NATIVE = ("native", "native-arm64", "host-runtime")
MAIN = {"go-hello": "main.go", "node-express": "server.js", "python-flask": "app.py"}
GOALS_MB = {"go-hello": 3.0, "node-express": 40.0, "python-flask": 30.0}
HANDWRITTEN_BASES = {"go-hello": ("fat-go", "distroless-static"), "node-express": ("fat-node", "slim-node"),
                     "python-flask": ("slim-python",)}


@dataclass
class Row:
    app: str
    variant: str
    compressed: int = 0
    uncompressed: int = 0
    digest: str = ""
    cold: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    change: list[float] = field(default_factory=list)
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"app": self.app, "variant": self.variant, "compressed": self.compressed,
                "uncompressed": self.uncompressed, "digest": self.digest, "cold": self.cold,
                "warm": self.warm, "change": self.change, "error": self.error}


def med(values: list[float] | None) -> float | None:
    return statistics.median(values) if values else None


def fmt_t(values: list[float]) -> str:
    if not values:
        return "-"
    m = statistics.median(values)
    return f"{m:.1f}" if len(values) == 1 else f"{m:.1f} ({min(values):.1f}-{max(values):.1f})"


def one_line_change(app_dir: Path, app: str, n: int) -> None:
    """Append a comment line: the smallest change that still changes the source."""
    path = app_dir / MAIN[app]
    marker = "#" if app == "python-flask" else "//"
    path.write_text(path.read_text() + f"{marker} bench change {n}\n")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


class Bench:
    def __init__(self, work: Path, runs: int, native_options: dict[str, Any] | None = None,
                 baseline_ref: str = "bb46310") -> None:
        self.work = work
        self.runs = runs
        self.native_options = dict(native_options or {})
        self.baseline_ref = baseline_ref
        self.counter = 0

    def dest(self) -> str:
        self.counter += 1
        return f"oci:{self.work}/out:r{self.counter}"

    # --- native --------------------------------------------------------------------------------
    def native(self, app: str, app_dir: Path, variant: str = "native") -> Row:
        row = Row(app, variant)
        options = dict(self.native_options)
        if variant == "native-arm64":
            options["platforms"] = "linux/arm64"
        for run in range(self.runs):
            cache = self.work / f"native-cache-{app}-{variant}-{run}"
            os.environ["PARE_BUILD_CACHE"] = str(cache)
            os.environ["GOCACHE"] = str(cache / "go")  # a cold Go build cache too
            seconds, result = timed(lambda: builder.build(app_dir, self.dest(), **options))
            row.cold.append(seconds)
        for _ in range(self.runs):
            seconds, result = timed(lambda: builder.build(app_dir, self.dest(), **options))
            row.warm.append(seconds)
        row.compressed, row.uncompressed, row.digest = (result.compressed_size, result.uncompressed_size,
                                                        str(result.digest))
        for run in range(self.runs):
            one_line_change(app_dir, app, run)
            seconds, _ = timed(lambda: builder.build(app_dir, self.dest(), **options))
            row.change.append(seconds)
        return row

    # --- the previous native path, from a git worktree ----------------------------------------
    def baseline_pare(self) -> Path:
        """`pare` of --baseline-ref in a worktree with its own venv (made once per run)."""
        tree = self.work / "baseline"
        if not (tree / ".venv" / "bin" / "pare").exists():
            git = ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), self.baseline_ref]
            subprocess.run(git, check=True, capture_output=True)
            subprocess.run([sys.executable, "-m", "venv", str(tree / ".venv")], check=True)
            pip = tree / ".venv" / "bin" / "pip"
            subprocess.run([str(pip), "install", "-q", "-e", str(tree)], check=True)
        return tree / ".venv" / "bin" / "pare"

    def host_runtime(self, app: str, app_dir: Path) -> Row:
        row = Row(app, "host-runtime")
        pare = self.baseline_pare()

        def run(cache: Path) -> tuple[float, Any]:
            dest = self.dest()
            env = {**os.environ, "PARE_BUILD_CACHE": str(cache), "GOCACHE": str(cache / "go")}
            argv = [str(pare), "build", str(app_dir), "-t", dest, "--json"]
            seconds, done = timed(lambda: subprocess.run(argv, capture_output=True, text=True, env=env,
                                                         check=False))
            if done.returncode != 0:
                raise RuntimeError(done.stderr.strip()[-300:])
            return seconds, json.loads(done.stdout)

        for i in range(self.runs):
            seconds, body = run(self.work / f"baseline-cache-{app}-{i}")
            row.cold.append(seconds)
        warm_cache = self.work / f"baseline-cache-{app}-0"
        for _ in range(self.runs):
            seconds, body = run(warm_cache)
            row.warm.append(seconds)
        row.compressed, row.uncompressed = body["compressed_size"], body["uncompressed_size"]
        row.digest = body["digest"]
        for i in range(self.runs):
            one_line_change(app_dir, app, 200 + i)
            seconds, _ = run(warm_cache)
            row.change.append(seconds)
        return row

    def close(self) -> None:
        if (self.work / "baseline").exists():
            remove = ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(self.work / "baseline")]
            subprocess.run(remove, capture_output=True, check=False)

    # --- engine --------------------------------------------------------------------------------
    def engine_build(self, app_dir: Path, text: str, state: Path, cache: bool) -> tuple[float, Any]:
        recipe = detect(app_dir)
        engine = get_engine("buildah", state)

        def go() -> Any:
            with tempfile.TemporaryDirectory(prefix="bench-ctx-") as tmp:
                context = builder.prepare_context(recipe, text, Path(tmp))
                request = BuildRequest(context, f"localhost/bench/{recipe.app_name}:x",
                                       dockerfile=builder.DOCKERFILE,
                                       build_args={"NODE_EXTRA_CA_CERTS": str(CA_BUNDLE),
                                                   "PIP_CERT": str(CA_BUNDLE)},
                                       volumes=[(str(CA_BUNDLE), str(CA_BUNDLE))], timestamp=0, cache=cache)
                export = Path(tmp) / "export"
                result = engine.build(request, export)
                store, name = builder.open_location(self.dest())
                store.write(result.image, name)
                sizes = builder.layer_sizes(result.image)
                return result.image, sum(s.uncompressed for s in sizes)

        return timed(go)

    def dockerfile_text(self, app: str, app_dir: Path, variant: str, bases: dict[str, str]) -> str:
        if variant == "handwritten":
            text = (ROOT / "benchmarks" / "dockerfiles" / f"{app}.Dockerfile").read_text()
            for profile, ref in bases.items():
                text = text.replace("{" + profile + "}", ref)
            return text
        return generate(detect(app_dir).docker_facts(), variant, bases).text

    def profiles(self, app: str, app_dir: Path, variant: str) -> tuple[str, ...]:
        if variant == "handwritten":
            return HANDWRITTEN_BASES[app]
        return generate(detect(app_dir).docker_facts(), variant).profiles

    def engine(self, app: str, app_dir: Path, variant: str, state: Path) -> Row:
        row = Row(app, variant)
        engine = get_engine("buildah", state)
        with builder.resolve_bases(self.profiles(app, app_dir, variant), engine, None) as bases:
            text = self.dockerfile_text(app, app_dir, variant, bases)
            for _ in range(self.runs):
                seconds, _ = self.engine_build(app_dir, text, state, cache=False)
                row.cold.append(seconds)
            self.engine_build(app_dir, text, state, cache=True)  # prime the layer cache
            for _ in range(self.runs):
                seconds, (image, tar_bytes) = self.engine_build(app_dir, text, state, cache=True)
                row.warm.append(seconds)
            row.compressed, row.uncompressed, row.digest = image.compressed_size, tar_bytes, str(image.digest)
            for run in range(self.runs):
                one_line_change(app_dir, app, 100 + run)
                seconds, _ = self.engine_build(app_dir, text, state, cache=True)
                row.change.append(seconds)
        return row


def load_bases(app: str, app_dir: Path, variants: list[str], state: Path, bench: Bench) -> float:
    """Load every base the app's engine variants need into the builder storage; returns seconds."""
    from pare.bases.cache import base_reference, ensure_base
    engine = get_engine("buildah", state)
    needed: set[str] = set()
    for variant in variants:
        if variant not in NATIVE:
            needed.update(bench.profiles(app, app_dir, variant))
    start = time.perf_counter()
    for profile in sorted(needed):
        engine.load_image(base_reference(profile, "localhost"), ensure_base(profile))
    return time.perf_counter() - start


def table(rows: list[Row]) -> str:
    lines = ["| app | variant | compressed MB | uncompressed MB | cold s | warm s | change s | "
             "size vs handwritten | change vs engine multistage change |",
             "|---|---|---|---|---|---|---|---|---|"]
    by = {(r.app, r.variant): r for r in rows}
    for r in rows:
        if r.error:
            lines.append(f"| {r.app} | {r.variant} | error: {r.error[:80]} | | | | | | |")
            continue
        hand = by.get((r.app, "handwritten"))
        multi = by.get((r.app, "multistage"))
        size_ratio = f"{r.compressed / hand.compressed:.2f}" if hand and hand.compressed else "-"
        speed = "-"
        if multi and r.change and multi.change:
            speed = f"{med(multi.change) / med(r.change):.1f}x faster"  # type: ignore[operator]
        lines.append(f"| {r.app} | {r.variant} | {r.compressed / 1e6:.2f} | {r.uncompressed / 1e6:.2f} | "
                     f"{fmt_t(r.cold)} | {fmt_t(r.warm)} | {fmt_t(r.change)} | {size_ratio} | {speed} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", default=",".join(APPS))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--native-compression", choices=("zstd", "gzip"), default=None,
                        help="Native layers' compression (default: pare build's, zstd 19).")
    parser.add_argument("--no-strip", action="store_true", help="Native: copy ELF files unstripped.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the rows as JSON here.")
    parser.add_argument("--baseline-ref", default="bb46310",
                        help="git ref of the pare whose native path is the host-runtime row.")
    parser.add_argument("--keep", action="store_true", help="Keep the work directory (builder storage).")
    args = parser.parse_args()
    apps = [a for a in args.apps.split(",") if a]
    variants = [v for v in args.variants.split(",") if v]
    for name in apps:
        if name not in APPS:
            parser.error(f"unknown app {name}")
    for name in variants:
        if name not in VARIANTS:
            parser.error(f"unknown variant {name}")
    work = Path(tempfile.mkdtemp(prefix="pare-bench-build-"))
    saved_env = {k: os.environ.get(k) for k in ("PARE_BUILD_CACHE", "GOCACHE", "PARE_STORE")}
    os.environ["PARE_STORE"] = str(work / "store")
    rows: list[Row] = []
    try:
        native_options: dict[str, Any] = {"strip": not args.no_strip}
        if args.native_compression:
            native_options["compression"] = args.native_compression
        bench = Bench(work, args.runs, native_options, args.baseline_ref)
        for app in apps:
            app_dir = work / "apps" / app
            shutil.copytree(EXAMPLES / app, app_dir)
            state = work / "buildah" / app
            seconds = load_bases(app, app_dir, variants, state, bench)
            print(f"# {app}: bases loaded into buildah storage in {seconds:.1f} s (not in build times)",
                  flush=True)
            for variant in variants:
                shutil.rmtree(app_dir)
                shutil.copytree(EXAMPLES / app, app_dir)  # every variant starts from the pristine app
                try:
                    if variant in ("native", "native-arm64"):
                        row = bench.native(app, app_dir, variant)
                    elif variant == "host-runtime":
                        row = bench.host_runtime(app, app_dir)
                    else:
                        row = bench.engine(app, app_dir, variant, state)
                except Exception as exc:  # a failing variant is reported, the others still run
                    row = Row(app, variant, error=f"{type(exc).__name__}: {exc}")
                finally:
                    for key in ("PARE_BUILD_CACHE", "GOCACHE"):
                        if saved_env[key] is None:
                            os.environ.pop(key, None)
                        else:
                            os.environ[key] = saved_env[key]  # type: ignore[assignment]
                rows.append(row)
                print(f"  {app} {variant}: {row.compressed / 1e6:.2f} MB, cold {fmt_t(row.cold)} s, "
                      f"warm {fmt_t(row.warm)} s, change {fmt_t(row.change)} s {row.error[:200]}", flush=True)
    finally:
        bench.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"buildah {shutil.which('buildah')}, runs per figure: {args.runs}, machine: {os.cpu_count()} cores")
    print(table(rows))
    print()
    for app in apps:
        native = next((r for r in rows if r.app == app and r.variant == "native" and not r.error), None)
        if native:
            mb = native.compressed / 1e6
            verdict = "meets" if mb <= GOALS_MB[app] else "MISSES"
            print(f"goal {app}: native {mb:.2f} MB compressed {verdict} the {GOALS_MB[app]:.0f} MB goal")
    if args.json:
        args.json.write_text(json.dumps([r.to_dict() for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
