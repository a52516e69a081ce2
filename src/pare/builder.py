"""`pare build` as a library call: app directory in, image in a store out, with its sizes and time.

    build(app_dir, dest, strategy, engine, native) -> BuildResult

native=True assembles the image directly from the recipe's plan (no engine, no base images).
native=False generates the strategy's builder-pattern Dockerfile, publishes the base profiles it
names to a local registry (the given address, or a private one started for the build) and has the
engine build it. Either way the image is written to `dest` with pare's stores.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pare.engines import ENGINES, BuildRequest, Engine, get_engine
from pare.engines.base import EngineError
from pare.engines.dockerfile import STRATEGIES, generate
from pare.errors import UsageError
from pare.native.assemble import DEFAULT_COMPRESSION, LayerCache, assemble
from pare.native.cache import cache_root
from pare.native.lock import Lock, RequestValue, read_lock, write_lock
from pare.native.lockcheck import check_lock, mark_checked
from pare.native.plan import CA_BUNDLE
from pare.native.platforms import Arch, arch_for, host_arch, parse_platforms
from pare.native.runtimes import system, tools
from pare.native.runtimes.debian import check_suite
from pare.native.strip import StripCache
from pare.native.syslibs import build_needs
from pare.oci.digest import Digest
from pare.oci.image import Image
from pare.oci.mediatypes import Compression
from pare.oci.tarwriter import source_date_epoch
from pare.recipes import Recipe, detect
from pare.recipes.base import DockerFacts, copy_app_files
from pare.recipes.settings import load_settings
from pare.stores.transports import open_location

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LayerSize:
    name: str
    digest: str
    compressed: int
    uncompressed: int


@dataclass(frozen=True)
class BuildResult:
    """What a build produced. Sizes: compressed = config + layer blobs (what a pull moves);
    uncompressed = sum of layer tars."""

    digest: Digest
    location: str
    compressed_size: int
    uncompressed_size: int
    seconds: float  # whole call: toolchain, layers or engine, export, write to dest
    build_seconds: float  # the build proper: native compile+assemble, or the engine's build step
    path: str  # "native" or "engine"
    recipe: str
    strategy: str | None
    engine: str | None
    layers: tuple[LayerSize, ...]
    dockerfile: str | None = None
    image: Image | None = field(default=None, compare=False, repr=False)
    platform: str = ""  # os/arch of the image; several, comma-separated, for an index
    platforms: tuple[BuildResult, ...] = ()  # one result per platform, for an index
    lock: str | None = None  # native builds: "honoured", "written" or "updated" (pare.lock)


def default_dest(recipe: Recipe) -> str:
    return f"local:{recipe.app_name}:latest"


def engine_state_dir(engine: str) -> Path:
    """Private engine storage (images, layer cache): $PARE_ENGINE_STATE/<engine> or the build cache."""
    env = os.environ.get("PARE_ENGINE_STATE")
    return (Path(env) if env else cache_root() / "engines") / engine


def layer_sizes(image: Image, names: list[str] | None = None) -> tuple[LayerSize, ...]:
    history = image.config.layer_history()
    out = []
    for i, layer in enumerate(image.layers):
        entry = history[i] if i < len(history) else None
        label = names[i] if names and i < len(names) else (entry.created_by if entry else "")
        out.append(LayerSize(label[:80], str(layer.digest), layer.size, layer.tar_size()))
    return tuple(out)


def _write(image: Image, dest: str, insecure: bool) -> str:
    store, name = open_location(dest, insecure=insecure)
    store.write(image, name)
    return dest


LEVELS = {"gzip": (0, 9), "zstd": (1, 19)}


def check_compression(compression: str, level: int | None) -> None:
    """A UsageError for a compression the native layers cannot use, or a level out of its range."""
    if compression not in LEVELS:
        raise UsageError(f"unknown compression {compression!r} (choose from {', '.join(LEVELS)})")
    low, high = LEVELS[compression]
    if level is not None and not low <= level <= high:
        raise UsageError(f"{compression} level {level} out of range {low}-{high}")


def locked_platforms(lock: Lock) -> set[str]:
    value = dict(lock.request).get("platforms", ())
    return set(value) if isinstance(value, tuple) else {value}


def lock_request(recipe: Recipe) -> dict[str, RequestValue]:
    """What the lock answers: the recipe's runtime request, and the system packages the app names."""
    request: dict[str, RequestValue] = dict(recipe.request().lock_request())
    if recipe.settings.packages:
        request["packages"] = tuple(sorted(recipe.settings.packages))
    return request


def ensure_lock(recipe: Recipe, arches: Sequence[Arch], *, update: bool = False) -> tuple[Lock, str]:
    """The app's pare.lock for these platforms: honoured when it answers the recipe's request and
    covers them, else resolved again (every platform it had, plus the new ones) and written.
    Returns the lock and what happened: "honoured", "written" or "updated"."""
    request = lock_request(recipe)
    existing = read_lock(recipe.app_dir)
    wanted = {a.name for a in arches}
    allowed = recipe.settings.allow_origins
    if existing is not None and not update:
        same = {k: v for k, v in existing.request if k != "platforms"} == request
        if same and wanted <= locked_platforms(existing):
            check_lock(existing, allowed)  # before anything it names is fetched or run
            return existing, "honoured"
    kept = locked_platforms(existing) if existing is not None and not update else set()
    platforms = sorted(wanted | kept)
    targets = [arch_for(p) for p in platforms]
    artifacts = recipe.resolve(targets)
    artifacts += tools.resolve(artifacts, targets)
    artifacts += system.resolve(artifacts, recipe.settings.packages, targets)
    request = lock_request(recipe)  # resolving may make an input (a generated lockfile)
    lock = Lock.new({**request, "platforms": tuple(platforms)}, artifacts)
    mark_checked(lock, allowed)  # resolved from the indexes just now
    write_lock(recipe.app_dir, lock)
    return lock, "written" if existing is None else "updated"


def build_native(recipe: Recipe, workdir: Path, arch: Arch, lock: Lock, *, epoch: int | None = None,
                 cache: bool = True, compression: Compression = DEFAULT_COMPRESSION, level: int | None = None,
                 strip: bool = True) -> tuple[Image, list[str], Lock]:
    """Compile/install with the locked toolchain and assemble the image for `arch`; returns it, its
    layer names and the lock (with the Debian packages compiled dependencies turned out to need:
    pare.native.runtimes.system, written beside the app as they are found).

    With cache off, layers, stripped ELF copies and dependency installs are made afresh in
    `workdir` (they live as long as it does). strip: put ELF files in stripped of symbols (with the
    lock's binutils)."""
    plan, lock = system.plan_until_complete(
        lambda current: recipe.native_plan(workdir / "toolchain", current, arch, cache=cache), lock,
        lambda grown: write_lock(recipe.app_dir, grown))
    layer_cache = LayerCache(cache_root() / "layers") if cache else None
    stripper = None
    if strip:
        stripper = StripCache(cache_root() / "stripped" if cache else workdir / "stripped",
                              tools.strip_tool(lock, arch))
    image = assemble(plan, workdir / "layers", epoch=epoch, cache=layer_cache, compression=compression,
                     level=level, strip=stripper)
    return image, [layer.name for layer in plan.layers], lock


DOCKERFILE = "../Dockerfile"  # beside the context, never in it: the app's own files stay as they are


def prepare_context(recipe: Recipe, dockerfile_text: str, into: Path,
                    extra: Sequence[tuple[str, str]] = ()) -> Path:
    """A clean build context: the app's files as the native path selects them (its .dockerignore,
    which is kept as it is, and no VCS data, caches or node_modules), and the `extra` files the
    recipe resolved (context path, app-relative source: a generated lockfile); the Dockerfile
    goes beside the context (`DOCKERFILE`, relative to it)."""
    context = into / "context"
    copy_app_files(recipe.app_dir, recipe.sources, context)
    for dest, source in extra:
        shutil.copyfile(recipe.app_dir / source, context / dest)
    (into / "Dockerfile").write_text(dockerfile_text)
    return context


def engine_facts(recipe: Recipe) -> DockerFacts:
    """The recipe's Dockerfile facts, after resolving pare.lock for this machine when the engine
    path reads it (a lockfile pare generates, a pinned static server): resolved once, as a native
    build does, so engine and native builds install the same versions."""
    if recipe.engine_needs_lock:
        ensure_lock(recipe, [host_arch()])
    return recipe.docker_facts()


@contextlib.contextmanager
def resolve_bases(profiles: tuple[str, ...], engine: Engine,
                  registry: str | None) -> Iterator[dict[str, str]]:
    """Profile -> reference the engine can use in FROM: loaded straight into the engine's storage
    (stable local names, so warm builds reuse everything), else published to a registry."""
    from pare.bases.cache import base_reference, ensure_base, publish_base
    refs: dict[str, str] | None = None
    if registry is None:
        try:
            refs = {}
            for profile in profiles:
                ref = base_reference(profile, "localhost")
                engine.load_image(ref, ensure_base(profile))
                refs[profile] = ref
        except NotImplementedError:
            refs = None
    if refs is not None:
        yield refs
        return
    with base_registry(registry) as address:
        yield {p: publish_base(p, address) for p in profiles}


@contextlib.contextmanager
def base_registry(address: str | None) -> Iterator[str]:
    """The registry bases are published to: `address`, or a private one for this build."""
    if address:
        yield address
        return
    from pare.localregistry import LocalRegistry, free_port
    root = cache_root() / "base-registry" / f"{os.getpid()}-{time.monotonic_ns()}"
    registry = LocalRegistry(root, port=free_port())
    try:
        with registry.running():
            yield registry.address
    finally:
        shutil.rmtree(root, ignore_errors=True)


def build_engine(recipe: Recipe, strategy: str, engine: str, *, registry: str | None = None,
                 epoch: int | None = None, cache: bool = True, state_dir: Path | None = None,
                 export_dir: Path) -> tuple[Image, float, str]:
    """Generate the Dockerfile, publish its bases, run the engine; returns image, build seconds,
    Dockerfile text. A Python build that stops for a -dev package pare knows (an sdist's build:
    psycopg2's pg_config) runs once more with it installed in the build stage, as a native build
    adds it to its sysroot (pare.native.syslibs)."""
    facts = engine_facts(recipe)
    engine_impl = get_engine(engine, state_dir or engine_state_dir(engine))
    with resolve_bases(generate(facts, strategy).profiles, engine_impl, registry) as bases:
        while True:
            text = generate(facts, strategy, bases).text
            try:
                image, seconds = _engine_run(recipe, facts, text, strategy, engine_impl, epoch=epoch,
                                             cache=cache, export_dir=export_dir)
            except EngineError as exc:
                wanted = build_needs(exc.output).build_packages if facts.language == "python" else ()
                missing = tuple(p for p in wanted if p not in facts.build_packages)
                if not missing:
                    raise
                log.warning("pare: the build stage needs %s: building again with it installed",
                            ", ".join(missing))
                facts = replace(facts, build_packages=(*facts.build_packages, *missing))
                continue
            return image, seconds, text


def _engine_run(recipe: Recipe, facts: DockerFacts, text: str, strategy: str, engine: Engine, *,
                epoch: int | None, cache: bool, export_dir: Path) -> tuple[Image, float]:
    with tempfile.TemporaryDirectory(prefix="pare-ctx-") as tmp:
        context = prepare_context(recipe, text, Path(tmp), facts.context_files)
        mount_ca = CA_BUNDLE.is_file() and engine.name != "docker"
        volumes = [(str(CA_BUNDLE), str(CA_BUNDLE))] if mount_ca else []
        ca_args = {"NODE_EXTRA_CA_CERTS": str(CA_BUNDLE), "PIP_CERT": str(CA_BUNDLE)}
        request = BuildRequest(context, f"localhost/pare-build/{recipe.app_name}:{strategy}",
                               dockerfile=DOCKERFILE, build_args=ca_args, volumes=volumes,
                               timestamp=source_date_epoch() if epoch is None else epoch, cache=cache)
        result = engine.build(request, export_dir)
    return result.image, result.seconds


def build(app_dir: Path | str, dest: str | None = None, strategy: str = "multistage", engine: str = "buildah",
          native: bool = True, *, language: str | None = None, registry: str | None = None,
          epoch: int | None = None, cache: bool = True, insecure: bool = False,
          engine_state: Path | None = None, compression: Compression = DEFAULT_COMPRESSION,
          level: int | None = None, strip: bool = True, platforms: str | None = None,
          runtime: str | None = None, suite: str | None = None, update_lock: bool = False,
          settings: Mapping[str, Any] | None = None) -> BuildResult:
    """Build `app_dir` and write the image to `dest` (any store location; default local:APP:latest).

    Native builds take their runtime from the app's pare.lock (written on the first build;
    `update_lock` resolves it again); `platforms` ('linux/amd64,linux/arm64') writes an index with
    one image per platform. `runtime` ('node@22') and `suite` ('trixie') override detection.
    `settings`: what the user gave as flags (AppSettings fields: cmd, env, port...), merged over
    the app's pare.toml or [tool.pare] (pare.recipes.settings)."""
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r} (choose from {', '.join(STRATEGIES)})")
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    check_compression(compression, level)
    if suite is not None:
        check_suite(suite)
    arches = parse_platforms(platforms)
    if not native and (len(arches) > 1 or arches[0] != host_arch()):
        raise UsageError("engine builds make images for this machine's platform only: drop --platform, "
                         "or build natively")
    started = time.perf_counter()
    app_settings = load_settings(app_dir, {**(settings or {}), "runtime": runtime, "suite": suite})
    recipe = detect(app_dir, language, settings=app_settings)
    recipe.check()  # what the app lacks is said before anything is resolved or fetched
    target = dest or default_dest(recipe)
    open_location(target, insecure=insecure)  # a bad destination fails before any work
    with tempfile.TemporaryDirectory(prefix="pare-build-") as tmp:
        work = Path(tmp)
        text: str | None = None
        lock_state: str | None = None
        children: list[BuildResult] = []
        if native:
            t0 = time.perf_counter()
            lock, lock_state = ensure_lock(recipe, arches, update=update_lock)
            images = []
            for arch in arches:
                t1 = time.perf_counter()
                image, names, grown = build_native(recipe, work / "native" / arch.debian, arch, lock,
                                                   epoch=epoch, cache=cache, compression=compression,
                                                   level=level, strip=strip)
                if grown != lock:  # the build named libraries to lock: a first build still wrote it
                    lock, lock_state = grown, "written" if lock_state == "written" else "updated"
                images.append(image)
                children.append(_result(image, target, layer_sizes(image, names), time.perf_counter() - t1,
                                        recipe, None, None, None, arch.name))
            build_seconds = time.perf_counter() - t0
        else:
            image, build_seconds, text = build_engine(recipe, strategy, engine, registry=registry,
                                                      epoch=epoch, cache=cache, state_dir=engine_state,
                                                      export_dir=work / "export")
            images = [image]
            children.append(_result(image, target, layer_sizes(image, None), build_seconds, recipe, strategy,
                                    engine, text, image.platform.__str__()))
        if len(images) == 1:
            _write(images[0], target, insecure)
            only = children[0]
            return replace(only, seconds=time.perf_counter() - started, build_seconds=build_seconds,
                           lock=lock_state)
        digest = _write_index(images, target, insecure)
    return BuildResult(digest, target, sum(c.compressed_size for c in children),
                       sum(c.uncompressed_size for c in children), time.perf_counter() - started,
                       build_seconds,
                       "native", recipe.name, None, None, (), None, None, ",".join(a.name for a in arches),
                       tuple(children), lock_state)


def _result(image: Image, target: str, layers: tuple[LayerSize, ...], seconds: float, recipe: Recipe,
            strategy: str | None, engine: str | None, text: str | None, platform: str) -> BuildResult:
    uncompressed = sum(layer.uncompressed for layer in layers)
    return BuildResult(image.digest, target, image.compressed_size, uncompressed,
                       seconds, seconds, "engine" if engine else "native", recipe.name, strategy, engine,
                       layers, text, image, platform)


def _write_index(images: list[Image], dest: str, insecure: bool) -> Digest:
    """Write the images as one multi-platform index (one entry per platform, from each config)."""
    from pare.oci.index import ImageIndex
    from pare.stores.transports import write_to
    return write_to(dest, ImageIndex.assemble(images), insecure=insecure)


@contextlib.contextmanager
def fresh_build_cache(path: Path) -> Iterator[Path]:
    """Point pare's build cache (PARE_BUILD_CACHE) at an empty directory for the block."""
    old = os.environ.get("PARE_BUILD_CACHE")
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PARE_BUILD_CACHE"] = str(path)
    try:
        yield path
    finally:
        if old is None:
            os.environ.pop("PARE_BUILD_CACHE", None)
        else:
            os.environ["PARE_BUILD_CACHE"] = old


@dataclass(frozen=True)
class Verification:
    """Two builds of the same inputs: equal digests, or where they differ."""

    first: BuildResult
    second: BuildResult
    differences: tuple[str, ...]

    @property
    def reproducible(self) -> bool:
        return self.first.digest == self.second.digest


def verify(app_dir: Path | str, strategy: str = "multistage", engine: str = "buildah", native: bool = True,
           **options: object) -> Verification:
    """Build twice and compare; `options` go to build(). The second build bypasses every cache:
    layers, stripped files, dependency installs and their download caches, and every unpacked
    runtime (a fresh build cache; downloads are fetched again and checked against the lock)."""
    from pare.analyze.imagediff import diff_images
    from pare.stores.layout import LayoutStore
    with tempfile.TemporaryDirectory(prefix="pare-verify-") as tmp:
        first = build(app_dir, f"oci:{tmp}/first:image", strategy, engine, native,
                      cache=True, **options)  # type: ignore[arg-type]
        with fresh_build_cache(Path(tmp) / "cache"):
            second = build(app_dir, f"oci:{tmp}/second:image", strategy, engine, native,
                           cache=False, **options)  # type: ignore[arg-type]
        differences: list[str] = []
        if first.digest != second.digest:
            differences = diff_images(LayoutStore(Path(tmp) / "first").read("image"),
                                      LayoutStore(Path(tmp) / "second").read("image"))
    return Verification(first, second, tuple(differences))
