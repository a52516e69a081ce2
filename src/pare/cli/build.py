"""`pare build APP_DIR [-t DEST]` and `pare dockerfile APP_DIR`: thin layers over pare.builder."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from pare.cli.output import emit_json
from pare.engines import ENGINES
from pare.engines.dockerfile import STRATEGIES, generate
from pare.errors import NotFound, PolicyFailed, UsageError
from pare.native import sandbox
from pare.progress import heartbeat

_app = click.argument("app_dir", type=click.Path(path_type=Path, file_okay=False))


def app_directory(app_dir: Path) -> Path:
    """APP_DIR, or exit 3 (input not found) when it is not a directory."""
    if not app_dir.is_dir():
        raise NotFound(f"{app_dir}: no such app directory")
    return app_dir

# The app settings (pare.recipes.settings, docs/settings.md): the same names as in pare.toml and
# [tool.pare]; given flags win over the file.
_SETTINGS = (
    click.option("--cmd", default=None, metavar="LINE",
                 help="What the image runs (default: detected: Procfile web:, scripts.start, Django...)."),
    click.option("--entrypoint", default=None, metavar="LINE",
                 help="The image's entrypoint; --cmd (if given) becomes its arguments."),
    click.option("--env", "env", multiple=True, metavar="KEY=VALUE",
                 help="Environment of the image and of build steps (repeatable)."),
    click.option("--port", type=int, default=None, help="The port the app listens on ($PORT; default 8080)."),
    click.option("--user", default=None, metavar="USER[:GROUP]",
                 help="The user the app runs as (default 65532:65532, non-root)."),
    click.option("--label", "labels", multiple=True, metavar="KEY=VALUE",
                 help="An image label (repeatable)."),
    click.option("--workdir", default=None, metavar="/PATH",
                 help="Where the app goes in the image, and its working directory (default /app)."),
    click.option("--main", default=None, metavar="./cmd/NAME",
                 help="Go: the main package (default: the root, or the only one under cmd/)."),
    click.option("--ignore-scripts", is_flag=True, default=None,
                 help="Node: run no install scripts (dependencies' or the app's)."),
    click.option("--allow-origin", "allow_origins", multiple=True, metavar="URL",
                 help="A mirror pare.lock's artifacts may come from besides Debian's archive, the npm "
                      "registry and PyPI (repeatable); their digests are still checked against those "
                      "indexes."),
    click.option("--package", "packages", multiple=True, metavar="NAME",
                 help="A Debian package of the runtime's suite to ship in the image (repeatable; "
                      "added to pare.toml's `packages` and an Aptfile's)."),
    click.option("--node-runtime", "node_runtime", default=None, type=click.Choice(["official", "debian"]),
                 help="Node: the official node build from the npm registry (default), or Debian's nodejs "
                      "with its shared libraries, from the suite whose version satisfies engines.node "
                      "(docs/runtimes.md)."),
)


_runtime_option = click.option(
    "--runtime", default=None, metavar="LANG@VERSION",
    help="The runtime version, e.g. node@22, python@3.13, go@1.24 (default: what the app asks for in "
         "engines.node, .nvmrc, .python-version, go.mod...; else the current LTS). The engine path "
         "takes the oldest Debian suite whose bases carry it.")
_suite_option = click.option(
    "--suite", default=None, type=click.Choice(["bookworm", "trixie", "forky"]),
    help="The Debian suite runtime packages (and the engine path's bases) come from (default: bookworm; "
         "Python and the engine path: the oldest suite that has the version asked for).")


def settings_options(command: Any) -> Any:
    for option in reversed(_SETTINGS):
        command = option(command)
    return command


def settings_from(values: dict[str, Any]) -> dict[str, Any]:
    """The settings flags click parsed, keyed by AppSettings field (None: not given)."""
    found = {key: values.pop(key) for key in ("cmd", "entrypoint", "env", "port", "user", "labels", "workdir",
                                              "main", "ignore_scripts", "allow_origins", "packages",
                                              "node_runtime")}
    found["ignore_scripts"] = found["ignore_scripts"] or None  # a flag not given leaves pare.toml's value
    return found


def _mb(n: int | None) -> str:
    return "?" if n is None else f"{n / 1e6:.2f} MB"


def _result_dict(result: Any) -> dict[str, Any]:
    body = asdict(result)
    body.pop("image", None)
    body.pop("dockerfile", None)
    body["digest"] = str(result.digest)
    return body


class NotReproducible(PolicyFailed):
    """Two builds of the same inputs gave different images (--verify asked for the same)."""


@click.command()
@_app
@click.option("-t", "--tag", "dest", default=None, metavar="DEST",
              help="Where to write the image: oci:DIR[:TAG], docker-archive:FILE[:REF], REF (a registry) "
                   "or local:NAME. Default: local:APP:latest (the embedded store).")
@click.option("--native/--no-native", "native", default=None,
              help="Assemble the image directly (daemonless; the default) or build with an engine.")
@click.option("--engine", type=click.Choice(ENGINES), default=None,
              help="Engine for the Dockerfile path (implies --no-native; default buildah).")
@click.option("--strategy", type=click.Choice(STRATEGIES), default=None,
              help="Builder-pattern variant for the engine path (implies --no-native; default multistage).")
@click.option("--language", default=None, help="Skip detection: go, node, python or static.")
@click.option("--base-registry", default=None, metavar="HOST:PORT",
              help="Publish base images to this registry for the engine path (default: load them "
                   "straight into buildah/podman storage; docker gets a private registry).")
@click.option("--insecure", is_flag=True,
              help="Plain HTTP to a destination registry that is not on localhost.")
@click.option("--no-cache", is_flag=True, help="Build every layer again (no layer cache, no engine cache).")
@click.option("--verify", is_flag=True,
              help="Build twice and report where the two images differ, if they do.")
@click.option("--compression", type=click.Choice(["zstd", "gzip"]), default="zstd", show_default=True,
              help="Native layers: zstd (smallest; skopeo, podman, docker 23+ read it) or gzip (all).")
@click.option("--level", type=int, default=None,
              help="Compression level for every layer (default: zstd 19, the app layer 9; gzip 6; "
                   "gzip 0-3 uses fast ISA-L).")
@click.option("--strip/--no-strip", "strip", default=True, show_default=True,
              help="Native builds: copy ELF files stripped of symbols (binutils strip --strip-unneeded).")
@click.option("--platform", "platforms", default=None, metavar="OS/ARCH[,OS/ARCH]",
              help="Native builds: the platforms to build (linux/amd64, linux/arm64; several make an "
                   "OCI index). Default: this machine's.")
@_runtime_option
@_suite_option
@click.option("--update-lock", is_flag=True,
              help="Resolve the runtime again and rewrite pare.lock (otherwise it is honoured).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (schema pare.build/v1).")
@click.option("-q", "--quiet", is_flag=True, help="No progress; print only the digest.")
@click.option("--no-sandbox", is_flag=True,
              help="Run install and build steps without the build sandbox (unconfined; docs/security.md).")
@click.option("--network", type=click.Choice(["default", "none"]), default="default", show_default=True,
              help="none: no build step reaches the network (default: only the steps that fetch do).")
@click.option("--step-timeout", default=None, metavar="SECONDS",
              help=f"Stop a build step (and every process it started) after this long (default "
                   f"{sandbox.DEFAULT_TIMEOUT:g}).")
@click.option("--secret", "secrets", multiple=True, metavar="id=NAME,src=PATH",
              help="A file the fetching steps read at /run/secrets/NAME and no layer holds "
                   "(npmrc, pip.conf, netrc are handed to npm/pip; repeatable).")
@settings_options
def build(app_dir: Path, dest: str | None, native: bool | None, engine: str | None, strategy: str | None,
          language: str | None, base_registry: str | None, insecure: bool, no_cache: bool, verify: bool,
          compression: str, level: int | None, strip: bool, platforms: str | None, runtime: str | None,
          suite: str | None, update_lock: bool, as_json: bool, quiet: bool, no_sandbox: bool, network: str,
          step_timeout: str | None, secrets: tuple[str, ...], **settings: Any) -> None:
    """Detect APP_DIR's language and build the smallest image that runs it.

    What to run, the port, environment, user... come from detection, the app's pare.toml (or
    [tool.pare] in pyproject.toml) and the flags below, which win (docs/settings.md)."""
    policy = sandbox.Policy(enabled=not no_sandbox, network=network != "none",
                            timeout=sandbox.parse_timeout(step_timeout),
                            secrets=tuple(sandbox.parse_secret(s) for s in secrets))
    with sandbox.using(policy):
        _build(app_dir, dest, native, engine, strategy, language, base_registry, insecure, no_cache, verify,
               compression, level, strip, platforms, runtime, suite, update_lock, as_json, quiet, settings)


def _build(app_dir: Path, dest: str | None, native: bool | None, engine: str | None, strategy: str | None,
           language: str | None, base_registry: str | None, insecure: bool, no_cache: bool, verify: bool,
           compression: str, level: int | None, strip: bool, platforms: str | None, runtime: str | None,
           suite: str | None, update_lock: bool, as_json: bool, quiet: bool,
           settings: dict[str, Any]) -> None:
    from pare import builder
    app_directory(app_dir)
    if native is True and (engine or strategy):
        raise UsageError("--native builds without an engine: drop --engine/--strategy, or use --no-native")
    use_native = native if native is not None else not (engine or strategy)
    options: dict[str, Any] = {"language": language, "registry": base_registry, "insecure": insecure,
                               "compression": compression, "level": level, "strip": strip,
                               "platforms": platforms, "runtime": runtime, "suite": suite,
                               "settings": settings_from(settings)}
    chosen_strategy = strategy or "multistage"
    chosen_engine = engine or "buildah"
    if verify:
        with heartbeat("building twice", quiet=quiet or as_json):
            check = builder.verify(app_dir, chosen_strategy, chosen_engine, use_native, **options)
        if as_json:
            emit_json("build-verify", {"reproducible": check.reproducible, "first": _result_dict(check.first),
                                       "second": _result_dict(check.second),
                                       "differences": list(check.differences)})
        elif quiet:
            click.echo(str(check.first.digest))
        elif check.reproducible:
            click.echo(f"reproducible: both builds gave {check.first.digest}")
        else:
            click.echo(f"NOT reproducible: {check.first.digest} != {check.second.digest}")
            for line in check.differences:
                click.echo(f"  {line}")
        if not check.reproducible:
            raise NotReproducible("the two builds differ (see above)")
        return
    with heartbeat(f"building {app_dir}", quiet=quiet or as_json):
        result = builder.build(app_dir, dest, chosen_strategy, chosen_engine, use_native, cache=not no_cache,
                               update_lock=update_lock, **options)
    if as_json:
        emit_json("build", _result_dict(result))
        return
    if quiet:
        click.echo(str(result.digest))
        return
    how = "native" if result.path == "native" else f"{result.engine}, {result.strategy}"
    click.echo(f"built {result.recipe} app ({how}) in {result.seconds:.1f} s -> {result.location}")
    click.echo(f"  digest {result.digest}")
    if result.lock:
        click.echo(f"  lock   pare.lock {result.lock}")
    click.echo(f"  size   {_mb(result.compressed_size)} compressed, "
               f"{_mb(result.uncompressed_size)} uncompressed")
    for child in result.platforms or (result,):
        if result.platforms:
            click.echo(f"  {child.platform}: {child.digest}  {_mb(child.compressed_size)} compressed")
        for layer in child.layers:
            click.echo(f"  layer  {layer.digest[7:19]}  {_mb(layer.compressed):>10}  {layer.name}")


@click.command()
@_app
@click.option("--strategy", type=click.Choice(STRATEGIES), default="multistage", show_default=True)
@click.option("--language", default=None, help="Skip detection: go, node or python.")
@click.option("--base", "bases", multiple=True, metavar="PROFILE=REF",
              help="Image reference for a base profile (repeatable), e.g. slim-go=registry/slim-go:1 "
                   "or slim-go@trixie=registry/slim-go-trixie:1 for another suite's.")
@_runtime_option
@_suite_option
@settings_options
def dockerfile(app_dir: Path, strategy: str, language: str | None, bases: tuple[str, ...],
               runtime: str | None, suite: str | None, **settings: Any) -> None:
    """Print the builder-pattern Dockerfile pare would build APP_DIR with."""
    from pare.builder import engine_facts
    from pare.recipes import detect
    from pare.recipes.settings import load_settings
    app_directory(app_dir)
    mapping: dict[str, str] = {}
    for item in bases:
        profile, sep, ref = item.partition("=")
        if not sep or not profile or not ref:
            raise UsageError(f"--base {item!r}: expected PROFILE=REF")
        mapping[profile] = ref
    given = {**settings_from(settings), "runtime": runtime, "suite": suite}
    recipe = detect(app_dir, language, settings=load_settings(app_dir, given))
    click.echo(generate(engine_facts(recipe), strategy, mapping).text, nl=False)
