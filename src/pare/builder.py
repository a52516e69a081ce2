"""`pare build` as a library call: app directory in, image in a store out, with its sizes and time.

    build(app_dir, dest, strategy, engine, native) -> BuildResult

native=True assembles the image directly from the recipe's plan (no engine, no base images).
native=False generates the strategy's builder-pattern Dockerfile, publishes the base profiles it
names to a local registry (the given address, or a private one started for the build) and has the
engine build it. Either way the image is written to `dest` with pare's stores.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pare.engines import ENGINES, BuildRequest, Engine, get_engine
from pare.engines.dockerfile import STRATEGIES, dockerignore, generate
from pare.errors import ToolMissing, UsageError
from pare.native.assemble import DEFAULT_COMPRESSION, LayerCache, assemble
from pare.native.plan import CA_BUNDLE
from pare.native.strip import StripCache
from pare.oci.digest import Digest
from pare.oci.image import Image
from pare.oci.mediatypes import Compression
from pare.oci.tarwriter import source_date_epoch
from pare.recipes import Recipe, detect
from pare.recipes.base import APP_EXCLUDES, cache_root, read_ignore
from pare.stores.transports import open_location


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


def build_native(recipe: Recipe, workdir: Path, *, epoch: int | None = None, cache: bool = True,
                 compression: Compression = DEFAULT_COMPRESSION, level: int | None = None,
                 strip: bool = True) -> tuple[Image, list[str]]:
    """Compile/install on the host and assemble the image; returns it and its layer names.

    With cache off, layers (and stripped ELF copies) are written afresh into `workdir` (they live as
    long as it does). strip: put ELF files in stripped of symbols (needs binutils' strip)."""
    plan = recipe.native_plan(workdir / "toolchain")
    layer_cache = LayerCache(cache_root() / "layers") if cache else None
    stripper = None
    if strip:
        stripper = StripCache(cache_root() / "stripped" if cache else workdir / "stripped")
        if not stripper.available:
            raise ToolMissing("strip (binutils) is needed to strip ELF files: "
                              "install binutils or use --no-strip")
    image = assemble(plan, workdir / "layers", epoch=epoch, cache=layer_cache, compression=compression,
                     level=level, strip=stripper)
    return image, [layer.name for layer in plan.layers]


def prepare_context(recipe: Recipe, dockerfile_text: str, into: Path) -> Path:
    """A clean build context: the app's files (no VCS, caches or node_modules) and the Dockerfile."""
    ignore = shutil.ignore_patterns(*APP_EXCLUDES, *read_ignore(recipe.app_dir), "Dockerfile")
    context = into / "context"
    shutil.copytree(recipe.app_dir, context, ignore=ignore, symlinks=True)
    (context / "Dockerfile").write_text(dockerfile_text)
    (context / ".dockerignore").write_text(dockerignore())
    return context


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
    Dockerfile text."""
    facts = recipe.docker_facts()
    engine_impl = get_engine(engine, state_dir or engine_state_dir(engine))
    with resolve_bases(generate(facts, strategy).profiles, engine_impl, registry) as bases:
        text = generate(facts, strategy, bases).text
        with tempfile.TemporaryDirectory(prefix="pare-ctx-") as tmp:
            context = prepare_context(recipe, text, Path(tmp))
            volumes = [(str(CA_BUNDLE), str(CA_BUNDLE))] if CA_BUNDLE.is_file() and engine != "docker" else []
            ca_args = {"NODE_EXTRA_CA_CERTS": str(CA_BUNDLE), "PIP_CERT": str(CA_BUNDLE)}
            request = BuildRequest(context, f"localhost/pare-build/{recipe.app_name}:{strategy}",
                                   build_args=ca_args, volumes=volumes,
                                   timestamp=source_date_epoch() if epoch is None else epoch, cache=cache)
            result = engine_impl.build(request, export_dir)
    return result.image, result.seconds, text


def build(app_dir: Path | str, dest: str | None = None, strategy: str = "multistage", engine: str = "buildah",
          native: bool = True, *, language: str | None = None, registry: str | None = None,
          epoch: int | None = None, cache: bool = True, insecure: bool = False,
          engine_state: Path | None = None, compression: Compression = DEFAULT_COMPRESSION,
          level: int | None = None, strip: bool = True) -> BuildResult:
    """Build `app_dir` and write the image to `dest` (any store location; default local:APP:latest)."""
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r} (choose from {', '.join(STRATEGIES)})")
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    check_compression(compression, level)
    started = time.perf_counter()
    recipe = detect(app_dir, language)
    target = dest or default_dest(recipe)
    open_location(target, insecure=insecure)  # a bad destination fails before any work
    with tempfile.TemporaryDirectory(prefix="pare-build-") as tmp:
        work = Path(tmp)
        text: str | None = None
        if native:
            t0 = time.perf_counter()
            image, names = build_native(recipe, work / "native", epoch=epoch, cache=cache,
                                        compression=compression, level=level, strip=strip)
            build_seconds = time.perf_counter() - t0
        else:
            image, build_seconds, text = build_engine(recipe, strategy, engine, registry=registry,
                                                      epoch=epoch, cache=cache, state_dir=engine_state,
                                                      export_dir=work / "export")
            names = None
        _write(image, target, insecure)
        layers = layer_sizes(image, names)
    uncompressed = sum(layer.uncompressed for layer in layers)
    return BuildResult(image.digest, target, image.compressed_size, uncompressed,
                       time.perf_counter() - started, build_seconds, "native" if native else "engine",
                       recipe.name, None if native else strategy, None if native else engine, layers, text,
                       None)


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
    """Build twice (the second time without any layer cache) and compare; `options` go to build()."""
    from pare.analyze.imagediff import diff_images
    from pare.stores.layout import LayoutStore
    with tempfile.TemporaryDirectory(prefix="pare-verify-") as tmp:
        first = build(app_dir, f"oci:{tmp}/first:image", strategy, engine, native,
                      cache=True, **options)  # type: ignore[arg-type]
        second = build(app_dir, f"oci:{tmp}/second:image", strategy, engine, native,
                       cache=False, **options)  # type: ignore[arg-type]
        differences: list[str] = []
        if first.digest != second.digest:
            differences = diff_images(LayoutStore(Path(tmp) / "first").read("image"),
                                      LayoutStore(Path(tmp) / "second").read("image"))
    return Verification(first, second, tuple(differences))
