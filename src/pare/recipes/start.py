"""Where an app declares its start command, read the way the platforms it was written for read it.

Apps moving to pare often say how they start in a file meant for another platform. Each source
below yields a shell command line (or, for an exec-form list, the list shell-quoted, so it splits
back to the same argv); the recipes turn it into exec form with split_command, so `$PORT` stays
what the platform made it. The first source present wins, in this order:

1. Procfile `web:` (Heroku, Dokku, the Heroku and Paketo buildpacks).
2. Platform descriptors in the repository:
   - render.yaml: the `startCommand` of the web service at the repository root (Render Blueprints);
   - app.yaml with a `runtime:` key: `entrypoint` (Google App Engine standard and flexible);
   - project.toml (Cloud Native Buildpacks project descriptor): a `web` (or default) process in
     `[[io.buildpacks.processes]]`, else a `GOOGLE_ENTRYPOINT` build environment entry, the
     variable Google's buildpacks start from;
   - heroku.yml: `run.web` (a line, or `command:` with its image);
   - fly.toml: the process `[http_service]` serves from `[processes]`, else `[experimental] cmd`.
3. A startup script of one command line (startup.sh, start.sh: what App Service's startup command
   and Render's start command often point at), when it splits without a shell.
4. The app's own Dockerfile: the last stage's ENTRYPOINT and CMD, as Docker joins them (exec form,
   or shell form when it splits without a shell).

Descriptors are what the user wrote for a platform: when one cannot be read, the build stops with a
line naming the file. A startup script and a Dockerfile are hints (`binding` False): when the recipe
cannot run what they say (an entrypoint shell script, a path from the builder image), it falls back
to its language default.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dockerfile
import yaml

from pare.errors import UsageError
from pare.recipes.command import NeedsShell, split_command
from pare.recipes.procfile import web_command

STARTUP_SCRIPTS = ("startup.sh", "start.sh")
DOCKERFILES = ("Dockerfile",)
SHELLS = ("sh", "/bin/sh", "bash", "/bin/bash", "/usr/bin/bash")
_SHELL_SETUP = re.compile(r"set\s+-[euxo]+(\s+pipefail)?\s*\Z")
_MAX_DESCRIPTOR = 1 << 20  # a descriptor larger than this is not one a user wrote


@dataclass(frozen=True)
class StartLine:
    """A start command found in the app's files: a shell command line, where it came from (for
    messages), and whether it binds (a declaration) or only hints (a script or a Dockerfile)."""

    line: str
    source: str
    binding: bool = True


def declared_start(app_dir: Path) -> StartLine | None:
    """The first start command the app declares (see the module docstring), or None."""
    app_dir = Path(app_dir)
    for find in SOURCES:
        found = find(app_dir)
        if found is not None:
            return found
    return None


ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=[A-Za-z0-9@%+=:,./_-]*")  # what shlex leaves bare


def exec_line(argv: Sequence[str]) -> str:
    """An exec-form list as a line that split_command turns back into the same argv (a word
    that reads as an assignment, `A=b`, is quoted so that it stays a word)."""
    return " ".join("'" + word + "'" if ASSIGNMENT.fullmatch(word) else shlex.quote(word) for word in argv)


# --- Procfile ------------------------------------------------------------------------------------

def from_procfile(app_dir: Path) -> StartLine | None:
    line = web_command(app_dir)
    return None if line is None else StartLine(line, "Procfile web:")


# --- reading descriptors -------------------------------------------------------------------------

def _read_text(path: Path) -> str:
    try:
        if path.stat().st_size > _MAX_DESCRIPTOR:
            raise UsageError(f"{path}: larger than {_MAX_DESCRIPTOR >> 20} MiB; not a descriptor pare reads")
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: {exc}") from None


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(_read_text(path))
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise UsageError(f"{path}: nested too deeply") from None


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None


def _line_or_list(value: Any, where: str) -> str:
    """A command given as a string (a shell line) or a list of strings (exec form)."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return exec_line(value)
    raise UsageError(f"{where} must be a command line or a list of strings, not {value!r}")


# --- render.yaml ---------------------------------------------------------------------------------

def from_render(app_dir: Path) -> StartLine | None:
    """render.yaml: the web service at the repository root that has a startCommand."""
    path = app_dir / "render.yaml"
    if not path.is_file():
        return None
    data = _yaml(path)
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, list):
        return None
    found = []
    for service in services:
        if not isinstance(service, dict) or service.get("type") != "web":
            continue
        if str(service.get("rootDir") or ".").strip("/") not in ("", "."):
            continue  # a service built from another directory of the repository
        if service.get("startCommand") is not None:
            found.append(service)
    if not found:
        return None
    if len(found) > 1:
        names = ", ".join(str(s.get("name", "?")) for s in found)
        raise UsageError(f"{path}: several web services have a startCommand ({names}); "
                         "give the command with --cmd")
    where = f"{path.name} startCommand"
    return StartLine(_line_or_list(found[0]["startCommand"], f"{path}: startCommand"), where)


# --- App Engine app.yaml ------------------------------------------------------------------------

def from_app_engine(app_dir: Path) -> StartLine | None:
    """app.yaml with a `runtime:` (App Engine's; other tools use the name too): its entrypoint."""
    path = app_dir / "app.yaml"
    if not path.is_file():
        return None
    data = _yaml(path)
    if not isinstance(data, dict) or "runtime" not in data or data.get("entrypoint") is None:
        return None
    return StartLine(_line_or_list(data["entrypoint"], f"{path}: entrypoint"), "app.yaml entrypoint")


# --- CNB project.toml ---------------------------------------------------------------------------

ENTRYPOINT_VARIABLES = ("GOOGLE_ENTRYPOINT",)


def from_project_toml(app_dir: Path) -> StartLine | None:
    """project.toml: a web process declared under io.buildpacks, else the entrypoint variable the
    build environment sets for the buildpacks that read one."""
    path = app_dir / "project.toml"
    if not path.is_file():
        return None
    data = _toml(path)
    buildpacks = _table(_table(data, "io"), "buildpacks")
    process = _web_process(buildpacks.get("processes"), path)
    if process is not None:
        return StartLine(process, "project.toml web process")
    envs = [_table(buildpacks, "build").get("env"), _table(_table(buildpacks, "env"), "build").get("env"),
            _table(data, "build").get("env")]  # schema 0.2, its deprecated spelling, schema 0.1
    for entries in envs:
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and entry.get("name") in ENTRYPOINT_VARIABLES:
                value = entry.get("value")
                if not isinstance(value, str) or not value.strip():
                    raise UsageError(f"{path}: {entry['name']} must be a command line")
                return StartLine(value.strip(), f"project.toml {entry['name']}")
    return None


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _web_process(processes: Any, path: Path) -> str | None:
    """A `[[io.buildpacks.processes]]` entry of type web (else the default one): command + args,
    run directly (an argv) or, when `direct` is false, as the shell line the lifecycle would run."""
    if not isinstance(processes, list):
        return None
    entries = [p for p in processes if isinstance(p, dict)]
    chosen = next((p for p in entries if p.get("type") == "web"), None) or \
        next((p for p in entries if p.get("default") is True), None)
    if chosen is None:
        return None
    command, args = chosen.get("command"), chosen.get("args", [])
    if isinstance(command, str):
        command = [command] if chosen.get("direct", True) else command
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise UsageError(f"{path}: process {chosen.get('type')!r}: args must be a list of strings")
    if isinstance(command, str):  # direct = false: the command is a shell line, args follow it
        return " ".join([command.strip(), *(shlex.quote(a) for a in args)])
    return _line_or_list([*command, *args] if isinstance(command, list) else command,
                         f"{path}: process {chosen.get('type')!r} command")


# --- heroku.yml ----------------------------------------------------------------------------------

def from_heroku_yml(app_dir: Path) -> StartLine | None:
    """heroku.yml `run.web`: a line, or a mapping whose `command` is one (or a list of one)."""
    path = app_dir / "heroku.yml"
    if not path.is_file():
        return None
    data = _yaml(path)
    run = data.get("run") if isinstance(data, dict) else None
    web = run.get("web") if isinstance(run, dict) else None
    if web is None:
        return None  # Heroku then runs the Dockerfile's CMD
    command = web.get("command") if isinstance(web, dict) else web
    if isinstance(command, list) and len(command) == 1:
        command = command[0]
    if not isinstance(command, str) or not command.strip():
        raise UsageError(f"{path}: run.web must be a command line (or `command:` with one line)")
    return StartLine(command.strip(), "heroku.yml run.web")


# --- fly.toml ------------------------------------------------------------------------------------

def from_fly_toml(app_dir: Path) -> StartLine | None:
    """fly.toml: the process group the HTTP service runs (its only group, or `app`/`web`), else
    `[experimental] cmd` (with `entrypoint` before it)."""
    path = app_dir / "fly.toml"
    if not path.is_file():
        return None
    data = _toml(path)
    processes = _table(data, "processes")
    if processes:
        group = _served_group(data, processes)
        if group is None:
            raise UsageError(f"{path}: several [processes] ({', '.join(processes)}) and none is named by "
                             "[http_service] processes; give the command with --cmd")
        return StartLine(_line_or_list(processes[group], f"{path}: processes.{group}"),
                         f"fly.toml processes.{group}")
    experimental = _table(data, "experimental")
    parts = [experimental[k] for k in ("entrypoint", "cmd") if experimental.get(k) is not None]
    if not parts:
        return None
    words = [_line_or_list(part, f"{path}: [experimental] cmd and entrypoint") for part in parts]
    return StartLine(" ".join(words), "fly.toml experimental cmd")


def _served_group(data: Mapping[str, Any], processes: Mapping[str, Any]) -> str | None:
    if len(processes) == 1:
        return next(iter(processes))
    services = [_table(data, "http_service")]
    services += [s for s in data.get("services", []) if isinstance(s, dict)] \
        if isinstance(data.get("services"), list) else []
    for service in services:
        named = service.get("processes")
        if isinstance(named, list) and len(named) == 1 and named[0] in processes:
            return str(named[0])
    return next((g for g in ("web", "app") if g in processes), None)


# --- a one-line startup script ------------------------------------------------------------------

def from_startup_script(app_dir: Path) -> StartLine | None:
    """startup.sh / start.sh holding one command (after the #! line, comments, blank lines and
    `set -e`), when that command splits without a shell."""
    for name in STARTUP_SCRIPTS:
        path = app_dir / name
        if not path.is_file():
            continue
        line = script_command(_read_text(path))
        if line is not None:
            return StartLine(line, name, binding=False)
    return None


def script_command(text: str) -> str | None:
    """The one command of a shell script, or None when it has none, several, or needs a shell."""
    text = re.sub(r"\\\n", " ", text)
    commands = [line.strip() for line in text.splitlines()
                if line.strip() and not line.strip().startswith("#") and not _SHELL_SETUP.match(line.strip())]
    if len(commands) != 1:
        return None
    return commands[0] if _splits(commands[0]) else None


def _splits(line: str) -> bool:
    try:
        split_command(line)
    except (NeedsShell, UsageError):
        return False
    return True


# --- the app's Dockerfile -----------------------------------------------------------------------

def from_dockerfile(app_dir: Path) -> StartLine | None:
    for name in DOCKERFILES:
        path = app_dir / name
        if path.is_file():
            found = dockerfile_command(_read_text(path))
            return None if found is None else StartLine(found, f"{name} CMD", binding=False)
    return None


def dockerfile_command(text: str) -> str | None:
    """What the last stage of a Dockerfile runs (ENTRYPOINT then CMD, as Docker joins them), as a
    line; None when it runs nothing, or runs it through a shell that pare's images do not have.
    Absolute paths under the stage's WORKDIR become relative (pare's image puts the app elsewhere)."""
    try:
        instructions = dockerfile.parse_string(text)
    except dockerfile.GoParseError:
        return None  # not a Dockerfile Docker would build: no hint from it
    entrypoint: dockerfile.Command | None = None
    cmd: dockerfile.Command | None = None
    workdir = "/"
    for ins in instructions:
        name = (ins.cmd or "").upper()  # the parser gives None for a lone continuation
        if name == "FROM":
            entrypoint = cmd = None  # a new stage inherits its base's, which pare cannot know
            workdir = "/"
        elif name == "ENTRYPOINT":
            entrypoint, cmd = ins, None  # ENTRYPOINT resets CMD
        elif name == "CMD":
            cmd = ins
        elif name == "WORKDIR" and ins.value:
            workdir = str(Path(workdir, ins.value[0]))
    if entrypoint is not None and not entrypoint.json:
        return _shell_line(" ".join(entrypoint.value))  # a shell-form ENTRYPOINT ignores CMD
    if entrypoint is None:
        if cmd is None:
            return None
        if not cmd.json:
            return _shell_line(" ".join(cmd.value))
        return _exec_form(list(cmd.value), workdir)
    if cmd is not None and not cmd.json:
        return None  # the CMD's `/bin/sh -c LINE` as the entrypoint's arguments: a shell after all
    if cmd is not None and _unwrap_shell(list(entrypoint.value)) is not None:
        return None  # arguments after `sh -c LINE` are the shell's $0, $1...
    return _exec_form([*entrypoint.value, *(cmd.value if cmd is not None else ())], workdir)


def _shell_line(line: str) -> str | None:
    line = line.strip()
    return line if line and _splits(line) else None


def _unwrap_shell(argv: list[str]) -> str | None:
    """LINE of `sh -c LINE` (bash too), else None."""
    if len(argv) >= 3 and argv[0] in SHELLS and argv[1] == "-c":
        return argv[2]
    return None


def _exec_form(argv: list[str], workdir: str) -> str | None:
    if not argv:
        return None
    inner = _unwrap_shell(argv)
    if inner is not None:
        return _shell_line(inner) if len(argv) == 3 else None
    if argv[0] in SHELLS or argv[0].endswith(".sh"):
        return None  # a shell script: pare's images have no shell to run it
    prefix = workdir.rstrip("/") + "/"
    if prefix != "/":
        argv = [a[len(prefix):] if a.startswith(prefix) and len(a) > len(prefix) else a for a in argv]
    return exec_line(argv)


SOURCES: tuple[Callable[[Path], StartLine | None], ...] = (
    from_procfile, from_render, from_app_engine, from_project_toml, from_heroku_yml, from_fly_toml,
    from_startup_script, from_dockerfile)
