"""`pare lint` (Dockerfile review, each finding priced in bytes) and `pare fix` (the rewrite to the
builder pattern): thin commands over pare.lint."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pare.errors import PareError, UsageError

if TYPE_CHECKING:
    from pare.lint.measure import BuildInputs

SEVERITY_CHOICES = ("error", "warning", "info")


class LintFailed(PareError):
    """A finding at or above --fail-on: exit 1, the policy-failed code."""

    exit_code = 1


def _read(path: str) -> tuple[str, str]:
    """(text, name): `-` reads stdin."""
    if path == "-":
        data = sys.stdin.buffer.read()
        name = "-"
    else:
        file = Path(path)
        if file.is_dir():
            file = file / "Dockerfile"
        if not file.is_file():
            raise UsageError(f"no Dockerfile at {path}")
        data = file.read_bytes()
        name = str(file)
    try:
        return data.decode("utf-8-sig"), name
    except UnicodeDecodeError as exc:
        from pare.lint.parser import DockerfileSyntaxError

        line = data[: exc.start].count(b"\n") + 1
        raise DockerfileSyntaxError(f"{name}:{line}: not UTF-8 text") from None


def _pair(option: str, text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise UsageError(f"{option} wants KEY=VALUE, got {text!r}")
    return key, value


def _inputs(bases: tuple[str, ...], build_args: tuple[str, ...], volumes: tuple[str, ...]) -> BuildInputs:
    from pare.lint.measure import BuildInputs

    mapping = dict(_pair("--base", b) for b in bases)
    if any(not location for location in mapping.values()):
        raise UsageError("--base wants REF=LOCATION")
    for volume in volumes:
        if ":" not in volume or not volume.split(":", 1)[0]:
            raise UsageError(f"--volume wants HOST:CONTAINER[:OPTIONS], got {volume!r}")
    return BuildInputs(mapping, dict(_pair("--build-arg", a) for a in build_args), volumes)


def build_options(what: str, context_help: str | None = None) -> Callable[[Callable[..., None]],
                                                                         Callable[..., None]]:
    """--context, --base, --build-arg and --volume: how a build here gets what the registry cannot give."""
    def wrap(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed([
            click.option("--context", type=click.Path(path_type=Path, file_okay=False, exists=True),
                         help=context_help or f"For {what}: the build context (default: the Dockerfile's "
                                              "directory)."),
            click.option("--base", "bases", multiple=True, metavar="REF=LOCATION",
                         help=f"For {what}: build FROM REF with a local image (oci:DIR:TAG, "
                              "docker-archive:FILE...)."),
            click.option("--build-arg", "build_args", multiple=True, metavar="KEY=VALUE",
                         help=f"For {what}: a build argument, as docker build --build-arg."),
            click.option("--volume", "volumes", multiple=True, metavar="HOST:CONTAINER",
                         help=f"For {what}: a host path mounted into every RUN (buildah bud -v), e.g. a "
                              "proxy's CA bundle."),
        ]):
            command = option(command)
        return command
    return wrap


@click.command()
@click.argument("dockerfiles", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.option("--sarif", "as_sarif", is_flag=True, help="Print SARIF 2.1.0 (for code-scanning tools).")
@click.option("--fail-on", type=click.Choice(SEVERITY_CHOICES), metavar="SEVERITY",
              help="Exit 1 when a finding is at or above SEVERITY (error, warning, info).")
@click.option("--ignore", multiple=True, metavar="ID", help="Skip a rule (pare id, hadolint id or family).")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Config file (default: .pare-lint.toml or pyproject's [tool.pare.lint], nearest first).")
@click.option("--measure", is_flag=True,
              help="Build with buildah and price findings from the image's layers (exact bytes).")
@click.option("--index", "use_index", is_flag=True,
              help="Price apt installs from the Debian suite's signed package index (fetched once a day; "
                   "--measure does too).")
@build_options("--measure", "The build context: findings about files COPY brings in are then priced from "
                            "their sizes. --measure builds with it (default there: the Dockerfile's "
                            "directory).")
def lint(dockerfiles: tuple[str, ...], as_json: bool, as_sarif: bool, fail_on: str | None,
         ignore: tuple[str, ...], config_path: Path | None, measure: bool, use_index: bool,
         context: Path | None, bases: tuple[str, ...], build_args: tuple[str, ...],
         volumes: tuple[str, ...]) -> None:
    """Review DOCKERFILES (`-` for stdin) for bytes that need not ship and for what hadolint checks.

    Each finding has an id (docs/lint/ID.md), a severity and an estimate of the bytes it costs;
    findings come largest first."""
    from dataclasses import replace

    from pare.lint import report
    from pare.lint.engine import fails, load_config
    from pare.lint.engine import lint as run
    from pare.lint.parser import parse

    if as_json and as_sarif:
        raise UsageError("--json and --sarif: choose one")
    results = []
    threshold = fail_on
    for path in dockerfiles:
        text, name = _read(path)
        start = Path.cwd() if path == "-" else Path(name).resolve().parent
        config = load_config(start, config_path)
        if ignore:
            config = replace(config, ignore=config.ignore | frozenset(ignore))
        threshold = threshold or config.fail_on
        df = parse(text, name)
        build_context = context or (Path(name).resolve().parent if measure and path != "-" else None)
        result = run(df, config, context=build_context, use_index=use_index or measure)
        if measure:
            from pare.lint.measure import build_and_analyze, reprice

            if path == "-":
                raise UsageError("--measure needs a Dockerfile path and its build context, not stdin")
            analysis = build_and_analyze(Path(name), build_context or Path.cwd(),
                                         _inputs(bases, build_args, volumes))
            result = reprice(result, df, analysis)
        results.append(result)
    if as_json:
        click.echo(report.as_json(results))
    elif as_sarif:
        click.echo(report.sarif(results))
    else:
        click.echo(report.text(results))
    if threshold and fails(results, threshold):
        raise LintFailed(f"findings at or above {threshold}")


@click.command()
@click.argument("dockerfile")
@click.option("--write", is_flag=True, help="Change the file (a temp file beside it, then a rename).")
@click.option("--verify", is_flag=True,
              help="Build both versions (buildah), run both (podman), check GET PATH answers alike, and "
                   "print both sizes.")
@click.option("--port", type=int, default=8080, show_default=True, help="For --verify: the app's PORT.")
@click.option("--path", "http_path", default="/", show_default=True, help="For --verify: what to GET.")
@click.option("--env", "run_env", multiple=True, metavar="KEY=VALUE",
              help="For --verify: set in both containers (PORT is set already).")
@build_options("--verify")
def fix(dockerfile: str, write: bool, verify: bool, port: int, http_path: str, run_env: tuple[str, ...],
        context: Path | None, bases: tuple[str, ...], build_args: tuple[str, ...],
        volumes: tuple[str, ...]) -> None:
    """Rewrite DOCKERFILE toward what `pare lint` asks for, and print the unified diff.

    Clean-ups merged into their install, manifests copied before the dependency install, COPY --chown,
    JSON-form CMD, a non-root USER, and a single stage on a toolchain or full base split into build +
    final on a small base. What cannot be carried over safely is left as a `# pare fix:` comment."""
    from pare.files import write_atomic
    from pare.lint.fix import diff
    from pare.lint.fix import fix as rewrite
    from pare.lint.parser import parse

    text, name = _read(dockerfile)
    if write and dockerfile == "-":
        raise UsageError("--write needs a file, not stdin")
    after, notes = rewrite(parse(text, name))
    click.echo(diff(text, after, name), nl=False)
    for note in notes:
        click.echo(f"pare fix: left to do: {note}", err=True)
    if verify:
        from pare.lint.report import human
        from pare.lint.verify import verify as check

        if dockerfile == "-":
            raise UsageError("--verify needs a Dockerfile path and its build context, not stdin")
        old, new = check(Path(name), after, context or Path(name).resolve().parent, port, http_path,
                         _inputs(bases, build_args, volumes), dict(_pair("--env", e) for e in run_env))
        click.echo(f"pare fix: verified: GET {http_path} answers {old.status} from both; "
                   f"{human(old.size)} -> {human(new.size)} compressed", err=True)
    if write and after != text:
        write_atomic(Path(name), after)
