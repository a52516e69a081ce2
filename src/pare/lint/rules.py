"""The lint rules, each a small value: id, family, severity, hadolint's id if it has one, a check.

A check reads the parsed Dockerfile and yields Hits (line, message, estimated bytes). Rules about
bytes look only at the stages that ship (the final stage and the stages it is built FROM): a cache
left in a builder stage costs nothing, which is where hadolint's findings stop meaning bytes.
Families are the names the evaluation labels use; ids are stable (PL1xx: checks hadolint also has
in some form; PL2xx: pare's own).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pare.lint import index, pricing
from pare.lint.compiled import compiled_on_os
from pare.lint.context import BuildContext
from pare.lint.parser import Dockerfile, Instruction, Stage
from pare.lint.shell import Command, commands

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Hit:
    line: int
    message: str
    bytes: int | None = None  # estimated cost; None where a size cannot be known without a build
    stage: str = ""


@dataclass(frozen=True)
class Context:
    dockerfile: Dockerfile
    today: dt.date
    trusted_registries: tuple[str, ...] = ()
    build_context: BuildContext | None = None  # file sizes, where the build context is at hand
    use_index: bool = False  # price apt installs from the suite's package index (pare.lint.index)


@dataclass(frozen=True)
class Rule:
    id: str
    family: str
    severity: str
    title: str
    check: Callable[[Context], Iterator[Hit]] = field(repr=False)
    hadolint: tuple[str, ...] = ()  # hadolint ids that check the same thing

    @property
    def docs(self) -> str:
        return f"docs/lint/{self.id}.md"


# --- helpers -------------------------------------------------------------------------------------

def _stage_names(df: Dockerfile) -> set[str]:
    return {s.name for s in df.stages if s.name}


def _shipped(df: Dockerfile) -> list[Stage]:
    return df.shipped()


def _runs(stage: Stage) -> Iterator[tuple[Instruction, list[Command]]]:
    for inst in stage.instructions:
        if inst.keyword == "RUN":
            yield inst, commands(script_of(inst))


def script_of(inst: Instruction) -> str:
    if inst.json:
        return " ".join(inst.args)
    heredoc_bodies = [h.content for h in inst.heredocs]
    return "\n".join([" ".join(inst.args), *heredoc_bodies])


def cache_mounted(inst: Instruction, *paths: str) -> bool:
    for mount in inst.flags_named("mount"):
        if "type=cache" in mount and any(p in mount for p in paths):
            return True
    return False


def _is_apt(cmd: Command) -> bool:
    return cmd.name in ("apt-get", "apt", "aptitude")


def _apt_sub(cmd: Command) -> str:
    ops = cmd.operands()
    return ops[0] if ops else ""


PIP = re.compile(r"^pip[0-9.]*$")


def _pip_install(cmd: Command) -> bool:
    argv = list(cmd.argv)
    if re.match(r"^python[0-9.]*$", cmd.name) and argv[1:3] == ["-m", "pip"]:
        argv = argv[2:]
    elif not PIP.match(cmd.name):
        return False
    return "install" in argv[1:2] or (len(argv) > 1 and argv[1] == "install")


def _removes(cmds: list[Command], path: str) -> bool:
    return any(c.name == "rm" and any(path in w for w in c.argv) for c in cmds)


def _env(stage: Stage, name: str) -> str | None:
    return stage.env.get(name)


# --- size and security rules hadolint also has ---------------------------------------------------

def _apt_recommends(ctx: Context) -> Iterator[Hit]:
    for stage in _shipped(ctx.dockerfile):
        for inst, cmds in _runs(stage):
            for cmd in cmds:
                if _is_apt(cmd) and _apt_sub(cmd) == "install" and not cmd.has("--no-install-recommends") \
                        and not any("Install-Recommends=false" in w or "Install-Recommends=0" in w
                                    for w in cmd.argv):
                    yield Hit(inst.line, "apt-get install without --no-install-recommends pulls in "
                              "recommended packages", _recommends_price(ctx, stage, cmd), stage.label)
                    break


def _recommends_price(ctx: Context, stage: Stage, cmd: Command) -> int:
    """From the suite's index when asked for and at hand (pare.lint.index), else the typical figure."""
    suite = pricing.debian_suite(_external_base(ctx.dockerfile, stage)) if ctx.use_index else None
    packages = index.suite_packages(suite) if suite else None
    exact = index.recommends_bytes(packages, index.install_operands(cmd.argv)) if packages else None
    return pricing.APT_RECOMMENDS if exact is None else exact


def _apt_lists(ctx: Context) -> Iterator[Hit]:
    for stage in _shipped(ctx.dockerfile):
        for inst, cmds in _runs(stage):
            if not any(_is_apt(c) and _apt_sub(c) in ("update", "install") for c in cmds):
                continue
            if cache_mounted(inst, "/var/lib/apt"):
                continue
            cleaned = any(c.name == "rm" and any("/var/lib/apt/lists" in w for w in c.argv) for c in cmds)
            if not cleaned:
                yield Hit(inst.line, "apt lists stay in the layer: end the RUN with "
                          "`rm -rf /var/lib/apt/lists/*`",
                          pricing.apt_lists(_external_base(ctx.dockerfile, stage)), stage.label)


def _pip_cache(ctx: Context) -> Iterator[Hit]:
    for stage in _shipped(ctx.dockerfile):
        if (_env(stage, "PIP_NO_CACHE_DIR") or "").lower() in ("1", "true", "yes", "on", "off", "0", "false"):
            continue
        for inst, cmds in _runs(stage):
            if cache_mounted(inst, ".cache/pip", ".cache"):
                continue
            for cmd in cmds:
                if _pip_install(cmd) and not cmd.has("--no-cache-dir", "--no-cache"):
                    rm_cache = any(c.name == "rm" and any(".cache" in w for w in c.argv) for c in cmds)
                    if not rm_cache:
                        yield Hit(inst.line, "pip install without --no-cache-dir keeps the downloaded "
                                  "wheels in ~/.cache/pip", pricing.PIP_CACHE, stage.label)
                    break


def _apk_cache(ctx: Context) -> Iterator[Hit]:
    for stage in _shipped(ctx.dockerfile):
        for inst, cmds in _runs(stage):
            for cmd in cmds:
                removes_cache = _removes(cmds, "/var/cache/apk")
                if cmd.name == "apk" and _apt_sub(cmd) == "add" and not cmd.has("--no-cache") \
                        and not removes_cache and not cache_mounted(inst, "/var/cache/apk"):
                    yield Hit(inst.line, "apk add without --no-cache keeps the package index in the layer",
                              pricing.APK_CACHE, stage.label)
                    break


def _yum_cache(ctx: Context) -> Iterator[Hit]:
    for stage in _shipped(ctx.dockerfile):
        for inst, cmds in _runs(stage):
            for cmd in cmds:
                if cmd.name in ("yum", "dnf", "microdnf") and _apt_sub(cmd) == "install":
                    clean = _removes(cmds, "/var/cache/") or any(
                        c.name in ("yum", "dnf", "microdnf") and _apt_sub(c) == "clean" for c in cmds)
                    if not clean:
                        yield Hit(inst.line, f"{cmd.name} install without `{cmd.name} clean all` keeps its "
                                  "metadata cache", pricing.YUM_CACHE, stage.label)
                    break


def _npm_ci(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.dockerfile.stages:
        for inst, cmds in _runs(stage):
            for cmd in cmds:
                if cmd.name == "npm" and _apt_sub(cmd) in ("install", "i") \
                        and len(cmd.operands()) == 1 and not cmd.has("-g", "--global"):
                    yield Hit(inst.line, "npm install may change the lock file: npm ci installs exactly "
                              "package-lock.json", None, stage.label)
                    break


def _base_tag(ctx: Context) -> Iterator[Hit]:
    names = _stage_names(ctx.dockerfile)
    for stage in ctx.dockerfile.stages:
        base = stage.base
        if base == "scratch" or base.lower() in names or "$" in base:
            continue
        if "@" in base:
            continue
        _, tag = pricing.repository(base)
        last = base.rsplit("/", 1)[-1]
        if ":" not in last:
            yield Hit(stage.line, f"FROM {base} has no tag: the build takes whatever `latest` is that day",
                      None, stage.label)
        elif tag == "latest":
            yield Hit(stage.line, f"FROM {base}: `latest` moves; pin a version", None, stage.label)


def _add_url(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.dockerfile.stages:
        for inst in stage.of("ADD"):
            sources = inst.words[:-1]
            if any(re.match(r"^(https?|git)://|^git@", s) for s in sources) and inst.flag("checksum") is None:
                yield Hit(inst.line, "ADD of a URL: unverified download, and the file stays in its own "
                          "layer; fetch and check it in a RUN (or ADD --checksum)", None, stage.label)


SHELLS = frozenset({"sh", "bash", "zsh", "ash", "dash", "ksh", "python", "python3", "perl", "ruby", "node"})


def _curl_pipe(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.dockerfile.stages:
        onbuild = [(i, commands(script_of(i))) for i in stage.of("ONBUILD") if i.sub == "RUN"]
        for inst, cmds in [*_runs(stage), *onbuild]:
            for cmd in cmds:
                if cmd.name in SHELLS and cmd.piped_from is not None \
                        and cmd.piped_from.name in ("curl", "wget") and not cmd.operands()[1:]:
                    yield Hit(inst.line, f"{cmd.piped_from.name} piped into {cmd.name}: runs a script "
                              "nobody checked; download, verify a checksum, then run", None, stage.label)
                    break


NONROOT_BASES = re.compile(r"(distroless/.*:.*nonroot|chainguard|:nonroot|distroless-(static|cc|python))")


def _no_user(ctx: Context) -> Iterator[Hit]:
    users = [i for s in _shipped(ctx.dockerfile) for i in s.of("USER")]
    final = ctx.dockerfile.final
    if users:
        last = users[-1]
        user = last.words[0].split(":", 1)[0] if last.words else ""
        if user in ("root", "0"):
            yield Hit(last.line, "the last USER is root: the app runs with root's rights", None, final.label)
        return
    chain = _shipped(ctx.dockerfile)
    if NONROOT_BASES.search(chain[0].base):
        return
    yield Hit(final.line, "no USER: the app runs as root; add a non-root USER", None, final.label)


SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?|"
                         r"AUTH_?KEY)", re.IGNORECASE)
NOT_SECRET = re.compile(r"(FILE|PATH|DIR|URL|PUBLIC|_URI|LENGTH|_TTL|EXPIR|HEADER|NAME$|_ID$)", re.IGNORECASE)


def _secrets(ctx: Context) -> Iterator[Hit]:
    for stage_insts, label in [(ctx.dockerfile.preamble, "")] + [(s.instructions, s.label)
                                                                 for s in ctx.dockerfile.stages]:
        for inst in stage_insts:
            if inst.keyword not in ("ENV", "ARG"):
                continue
            names = inst.words[0::2] if inst.keyword == "ENV" else [w.split("=", 1)[0] for w in inst.words]
            for name in names:
                if SECRET_NAME.search(name) and not NOT_SECRET.search(name):
                    yield Hit(inst.line, f"{inst.keyword} {name}: build args and env stay in the image's "
                              "history; use a secret mount (RUN --mount=type=secret)", None, label)
                    break


def _json_cmd(ctx: Context) -> Iterator[Hit]:
    chain = _shipped(ctx.dockerfile)
    entry = [(i, s) for s in chain for i in s.of("ENTRYPOINT")]
    cmd = [(i, s) for s in chain for i in s.of("CMD")]
    for inst, stage in entry[-1:] + cmd[-1:]:
        text = " ".join(inst.args).strip()
        if inst.json and len(inst.args) >= 3 and inst.args[0].rsplit("/", 1)[-1] in ("sh", "bash", "ash") \
                and inst.args[1] == "-c":
            text = inst.args[2].strip()  # ["sh", "-c", "app"]: the shell form, written as JSON
        elif inst.json:
            continue
        if not text or text.startswith("exec "):
            continue
        if inst.keyword == "CMD" and entry and entry[-1][0].json:
            continue  # CMD as arguments to a JSON ENTRYPOINT: no shell runs it
        yield Hit(inst.line, f"shell-form {inst.keyword}: /bin/sh is PID 1 and the app never gets "
                  "SIGTERM; use the JSON form", None, stage.label)


def _trusted(ctx: Context) -> Iterator[Hit]:
    if not ctx.trusted_registries:
        return
    names = _stage_names(ctx.dockerfile)
    for stage in ctx.dockerfile.stages:
        base = stage.base
        if base == "scratch" or base.lower() in names:
            continue
        first = base.split("/", 1)[0]
        registry = first if "/" in base and ("." in first or ":" in first or first == "localhost") \
            else "docker.io"
        if registry not in ctx.trusted_registries:
            yield Hit(stage.line, f"FROM {base}: registry {registry} is not among the trusted ones",
                      None, stage.label)


# --- pare's own rules ----------------------------------------------------------------------------

def _external_base(df: Dockerfile, stage: Stage) -> str:
    while stage.parent is not None:
        stage = df.stages[stage.parent]
    return stage.base


def _toolchain_final(ctx: Context) -> Iterator[Hit]:
    final = ctx.dockerfile.final
    base = _external_base(ctx.dockerfile, final)
    sizes = pricing.toolchain(base)
    if sizes:
        size, small = sizes
        yield Hit(final.line, f"the final stage runs on {base}, a build toolchain: build in a stage, "
                  "copy the result onto a runtime or distroless base", size - small, final.label)


def _fat_base(ctx: Context) -> Iterator[Hit]:
    final = ctx.dockerfile.final
    base = _external_base(ctx.dockerfile, final)
    sizes = pricing.full_runtime(base)
    if sizes:
        size, slim = sizes
        yield Hit(final.line, f"{base} is the full image (compilers, headers); its -slim or a distroless "
                  "image runs the same app", size - slim, final.label)
        return
    shape = compiled_on_os(ctx.dockerfile)
    if shape is not None:
        yield Hit(final.line, f"{base} is a whole OS for a compiled {shape.language} program; "
                  f"{shape.image} runs it", shape.saving, final.label)


INSTALLS: dict[str, tuple[str, ...]] = {
    "node": ("npm ci", "npm install", "npm i", "yarn install", "yarn", "pnpm install", "pnpm i"),
    "python": ("pip install -r", "pip3 install -r", "poetry install", "pipenv install", "uv sync",
               "uv pip install -r", "pip install .", "pip install -e"),
    "go": ("go mod download",),
    "ruby": ("bundle install",),
    "php": ("composer install",),
    "java": ("mvn dependency:go-offline", "mvn -B dependency:go-offline", "gradle dependencies"),
    "rust": ("cargo fetch",),
    "dotnet": ("dotnet restore", "dotnet build", "dotnet publish"),
}


def install_kind(cmds: list[Command]) -> str | None:
    for cmd in cmds:
        line = " ".join(cmd.argv)
        for kind, prefixes in INSTALLS.items():
            for prefix in prefixes:
                if line == prefix or line.startswith(prefix + " "):
                    if prefix in ("yarn",) and line != "yarn" and not line.startswith("yarn --"):
                        continue
                    if prefix.startswith("npm i") and len(cmd.operands()) > 1:
                        continue
                    return kind
        if _pip_install(cmd) and any(w in ("-r", "--requirement") or w.startswith("-r") for w in cmd.argv):
            return "python"
    return None


def _copies_everything(inst: Instruction) -> bool:
    """COPY . (or a whole directory into the working directory: `COPY ./src/app/ ./`)."""
    if inst.keyword not in ("COPY", "ADD") or inst.flag("from") is not None or len(inst.words) < 2:
        return False
    sources, dest = inst.words[:-1], inst.words[-1]
    return any(s in (".", "./", "*") for s in sources) or (
        dest in (".", "./") and any(s.endswith("/") for s in sources))


def _copy_before_install(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.dockerfile.stages:
        seen_copy: Instruction | None = None
        for inst in stage.instructions:
            if _copies_everything(inst) and seen_copy is None:
                seen_copy = inst
            elif inst.keyword == "RUN":
                kind = install_kind(commands(script_of(inst)))
                if kind and seen_copy is None:
                    break  # dependencies installed before the tree is copied: the cache-friendly order
                if kind and seen_copy is not None:
                    yield Hit(seen_copy.line, f"COPY of the whole tree before the {kind} dependency "
                              f"install (line {inst.line}): any code change reinstalls every dependency; "
                              "copy the manifests first", pricing.DEPENDENCY_LAYER[kind], stage.label)
                    break


def _recursive(cmd: Command) -> bool:
    return cmd.name in ("chown", "chmod", "chgrp") and cmd.has("-R", "--recursive")


def _copied_bytes(ctx: Context, copies: list[tuple[str, Instruction]], target: str) -> int | None:
    """Bytes the COPYs put at or below `target`, from the build context; None when that cannot be
    known without building: no context, a COPY --from or a URL there, or a COPY into a directory
    above the target (part of a tree)."""
    if ctx.build_context is None:
        return None
    target = target.rstrip("/") or "/"
    total = 0
    for dest, inst in copies:
        below = dest == target or dest.startswith(target.rstrip("/") + "/")
        if not below and (target == dest or target.startswith(dest.rstrip("/") + "/")):
            return None
        if not below:
            continue
        if inst.flag("from") is not None:
            return None
        for source in inst.words[:-1]:
            size = ctx.build_context.bytes_of(source)
            if size is None:
                return None
            total += size
    return total


def _chown_after_copy(ctx: Context) -> Iterator[Hit]:
    for stage in _shipped(ctx.dockerfile):
        filled = False
        installed = False
        ran = stage.parent is not None  # a parent stage's files there are not in the context
        copies: list[tuple[str, Instruction]] = []
        workdir = "/"
        for inst in stage.instructions:
            if inst.keyword == "WORKDIR" and inst.words:
                workdir = within(workdir, inst.words[0])
            if inst.keyword in ("COPY", "ADD"):
                filled = True
                if len(inst.words) >= 2:
                    copies.append((within(workdir, inst.words[-1]).rstrip("/") or "/", inst))
                continue
            if inst.keyword != "RUN":
                continue
            cmds = commands(script_of(inst))
            if install_kind(cmds):
                installed = True
            if not filled:
                ran = True
                continue
            for cmd in cmds:
                if _recursive(cmd):
                    operands = cmd.operands()
                    exact = None if ran or not operands else \
                        _copied_bytes(ctx, copies, within(workdir, operands[-1]))
                    cost = exact if exact is not None else \
                        pricing.APP_TREE + (pricing.DEPENDENCY_LAYER["node"] if installed else 0)
                    yield Hit(inst.line, f"{cmd.name} -R after COPY writes every file again in a new "
                              f"layer: use COPY --{'chmod' if cmd.name == 'chmod' else 'chown'}",
                              cost, stage.label)
                    break
            ran = True  # what this RUN wrote is not in the context


OUTPUT_FLAGS = ("-o", "-O", "--output", "--output-document")


def within(workdir: str, path: str) -> str:
    return path if path.startswith("/") else workdir.rstrip("/") + "/" + path


DOWNLOAD_EXT = re.compile(r"\.(tar|tgz|gz|xz|bz2|zip|deb|rpm|whl|jar|run|bin|sh|msi|exe)$")


def _removed_later(ctx: Context) -> Iterator[Hit]:
    for stage in _shipped(ctx.dockerfile):
        added: dict[str, int] = {}  # path -> line of the layer that added it
        copied: dict[str, str | None] = {}  # path -> the context source a COPY brought it from
        workdir = "/"
        for inst in stage.instructions:
            if inst.keyword == "WORKDIR" and inst.words:
                workdir = within(workdir, inst.words[0])
            elif inst.keyword in ("COPY", "ADD") and len(inst.words) >= 2:
                dest = inst.words[-1]
                dest = dest if dest.startswith("/") else workdir.rstrip("/") + "/" + dest
                for source in inst.words[:-1]:
                    name = source.rstrip("/").rsplit("/", 1)[-1]
                    path = (dest + name if dest.endswith("/") else dest).replace("//", "/")
                    added[path] = inst.line
                    copied[path] = source if inst.flag("from") is None else None
            elif inst.keyword == "RUN":
                cmds = commands(script_of(inst))
                removed = [w for c in cmds if c.name == "rm" for w in c.operands()]
                for target in removed:
                    full = target if target.startswith("/") else workdir.rstrip("/") + "/" + target
                    full = full.rstrip("/*").rstrip("/") or "/"
                    earlier = next((line for path, line in added.items()
                                    if path == full or path.startswith(full + "/")), None)
                    if earlier is not None:
                        exact = _removed_bytes(ctx, added, copied, full)
                        cost = exact if exact is not None else \
                            pricing.apt_lists(_external_base(ctx.dockerfile, stage)) \
                            if "/var/lib/apt/lists" in full else \
                            pricing.DOWNLOAD if DOWNLOAD_EXT.search(full) else None
                        yield Hit(inst.line, f"rm {target} in a later layer: the bytes added at line "
                                  f"{earlier} still ship; remove in the same RUN or use a build stage",
                                  cost, stage.label)
                        break
                for cmd in cmds:
                    if _is_apt(cmd) and _apt_sub(cmd) == "update":
                        added["/var/lib/apt/lists"] = inst.line
                    if cmd.name in ("curl", "wget"):
                        for i, word in enumerate(cmd.argv):
                            if word in OUTPUT_FLAGS and i + 1 < len(cmd.argv):
                                out = cmd.argv[i + 1]
                                if out != "-":
                                    path = out if out.startswith("/") else workdir.rstrip("/") + "/" + out
                                    added[path] = inst.line


def _removed_bytes(ctx: Context, added: dict[str, int], copied: dict[str, str | None],
                   removed: str) -> int | None:
    """Bytes of the context files COPY put at `removed` (or below it); None where anything there
    came another way (a RUN, a COPY --from, a URL) or there is no context."""
    if ctx.build_context is None:
        return None
    hits = [path for path in added if path == removed or path.startswith(removed + "/")]
    sources = [copied.get(path) for path in hits]
    if not hits or any(source is None for source in sources):
        return None
    sizes = [ctx.build_context.bytes_of(source) for source in sources if source is not None]
    return None if any(size is None for size in sizes) else sum(size or 0 for size in sizes)


DEV_SERVER = re.compile(r"\b(dev|serve|start:dev|watch|nodemon|ng serve|vite)\b")


def _dev_shipped(ctx: Context) -> Iterator[Hit]:
    chain = _shipped(ctx.dockerfile)
    commands_run = [" ".join(i.args) for s in chain for i in s.of("CMD", "ENTRYPOINT")]
    if commands_run and DEV_SERVER.search(commands_run[-1]):
        return  # an image that runs a dev server needs its devDependencies
    for stage in chain:
        production = (_env(stage, "NODE_ENV") or "") == "production"
        pruned = any(c.name in ("npm", "yarn", "pnpm") and "prune" in c.argv
                     for _, cmds in _runs(stage) for c in cmds)
        for inst, cmds in _runs(stage):
            for cmd in cmds:
                if cmd.name not in ("npm", "yarn", "pnpm"):
                    continue
                sub = _apt_sub(cmd) or ("install" if cmd.name == "yarn" else "")
                if sub not in ("ci", "install", "i") or (sub in ("install", "i") and len(cmd.operands()) > 1):
                    continue
                if cmd.has("--production", "--omit", "--only", "--prod", "-P") or production or pruned:
                    continue
                if any("NODE_ENV=production" in c for c in inst.args):
                    continue
                yield Hit(inst.line, f"{cmd.name} {sub} installs devDependencies into the shipped stage; "
                          "--omit=dev (or a build stage and a pruned copy)", pricing.NODE_DEV_DEPENDENCIES,
                          stage.label)
                break
        for inst in stage.of("COPY", "ADD"):
            for source in inst.words[:-1]:
                if re.match(r"^\.?/?(tests?|spec|__tests__)/?$", source) and inst.flag("from") is None:
                    yield Hit(inst.line, f"COPY {source}: the tests ship in the image", None, stage.label)
                    break


# (repository, version prefix pattern, end-of-life date): the upstream projects' published dates
# (nodejs.org release schedule, devguide.python.org/versions, go.dev/doc/devel/release (two newest
# releases), ruby-lang.org, php.net/supported-versions, debian.org/releases, alpinelinux.org/releases).
EOL_TABLE = """
node 4 2018-04-30    node 6 2019-04-30    node 8 2019-12-31    node 10 2021-04-30
node 12 2022-04-30    node 14 2023-04-30    node 16 2023-09-11    node 17 2022-06-01
node 19 2023-06-01    node 18 2025-04-30    node 20 2026-04-30    node 21 2024-06-01
node 23 2025-06-01    python 2 2020-01-01    python 3.5 2020-09-13    python 3.6 2021-12-23
python 3.7 2023-06-27    python 3.8 2024-10-07    python 3.9 2025-10-31    golang 1.1 2024-08-13
golang 1.20 2024-02-06    golang 1.21 2024-08-13    golang 1.22 2025-02-11    golang 1.23 2025-08-12
golang 1.24 2026-02-10    ruby 2 2023-03-31    ruby 3.0 2024-04-23    ruby 3.1 2025-03-26
python 3.10 2026-10-31
dotnet 3.1 2022-12-13    dotnet 5.0 2022-05-10    dotnet 6.0 2024-11-12    dotnet 7.0 2024-05-14
dotnet 8.0 2026-11-10
nginx 1.1 2021-04-20    nginx 1.20 2022-05-24    nginx 1.21 2022-05-24    nginx 1.22 2023-04-11
node 0.10 2016-10-31    node 0.12 2016-12-31    ubuntu 12.04 2017-04-28    ubuntu 14.04 2019-04-30
ubuntu trusty 2019-04-30    alpine 3.5 2018-11-01    alpine 3.6 2019-05-01    alpine 3.7 2019-11-01
alpine 3.8 2020-05-01    alpine 3.9 2020-11-01    centos 6 2020-11-30    centos 7 2024-06-30
centos 8 2021-12-31    centos latest 2021-12-31    centos - 2021-12-31
nginx 1.23 2023-04-11    nginx 1.24 2024-04-23    nginx 1.25 2024-04-23    nginx 1.26 2025-04-23
php 5 2018-12-31    php 7 2022-11-28    php 8.0 2023-11-26    php 8.1 2025-12-31
debian stretch 2022-06-30    debian buster 2024-06-30    debian 9 2022-06-30    debian 10 2024-06-30
ubuntu 16.04 2021-04-30    ubuntu 18.04 2023-05-31    ubuntu 20.04 2025-05-31    ubuntu xenial 2021-04-30
ubuntu bionic 2023-05-31    ubuntu focal 2025-05-31    alpine 3.1 2024-11-01    alpine 3.20 2026-04-01
alpine 3.21 2026-11-01
"""  # golang 1.1, nginx 1.1 and alpine 3.1 stand for 1.10-1.19 and 3.10-3.19
EOL: tuple[tuple[str, str, dt.date], ...] = tuple(
    (name, version, dt.date.fromisoformat(end))
    for row in EOL_TABLE.split("\n") for name, version, end in zip(*[iter(row.split())] * 3, strict=False))
DISTRO_IN_TAG = re.compile(r"(stretch|buster|jessie|xenial|bionic|focal|alpine3\.\d+)")


FAMILIES = (("golang", "1.1"), ("alpine", "3.1"), ("nginx", "1.1"))
RUNTIME_IN_TAG = re.compile(r"(python|node|ruby|php|golang|go)-?(\d+(?:\.\d+)?)")


def _eol_match(repo: str, tag: str, today: dt.date) -> tuple[str, dt.date] | None:
    version = tag.split("-", 1)[0] or "-"  # "-": no tag (centos: every release has ended)
    if repo in ("aspnet", "runtime", "sdk", "runtime-deps") or repo.startswith("dotnet"):
        repo = "dotnet"
    embedded = RUNTIME_IN_TAG.search(tag) if repo not in {n for n, _, _ in EOL} else None
    if embedded:  # tiangolo/uvicorn-gunicorn-fastapi:python3.9-slim
        name = "golang" if embedded.group(1) == "go" else embedded.group(1)
        return _eol_match(name, embedded.group(2), today)
    for name, prefix, end in EOL:
        if repo != name or today <= end:
            continue
        if (name, prefix) in FAMILIES:  # 1.10..1.19, 3.10..3.19
            if re.fullmatch(re.escape(prefix) + r"\d(\.\d+)*", version):
                return f"{name} {version}", end
            continue
        if version == prefix or version.startswith(prefix + "."):
            return f"{name} {version}", end
    for distro in DISTRO_IN_TAG.findall(tag):
        name = "alpine" if distro.startswith("alpine") else "debian" if distro in ("stretch", "buster",
                                                                                   "jessie") else "ubuntu"
        found = _eol_match(name, distro.replace("alpine", "") if name == "alpine" else distro, today)
        if found or distro == "jessie":
            return found or (f"debian {distro}", dt.date(2020, 6, 30))
    return None


def _eol(ctx: Context) -> Iterator[Hit]:
    shipped = _shipped(ctx.dockerfile)
    for stage in ctx.dockerfile.stages:
        if stage.parent is not None or stage.base.lower() in _stage_names(ctx.dockerfile):
            continue
        repo, tag = pricing.repository(stage.base)
        # Go links its standard library into the binary: an old Go in a build stage ships too
        if stage not in shipped and not repo.endswith("golang"):
            continue
        found = _eol_match(repo.rsplit("/", 1)[-1], tag, ctx.today)
        if found:
            what, end = found
            yield Hit(stage.line, f"{what} reached end of life on {end.isoformat()}: no security fixes",
                      None, stage.label)


RULES: tuple[Rule, ...] = (
    Rule("PL101", "apt-recommends", "warning", "apt-get install without --no-install-recommends",
         _apt_recommends, ("DL3015",)),
    Rule("PL102", "apt-lists", "warning", "apt lists left in the layer", _apt_lists, ("DL3009",)),
    Rule("PL103", "pip-cache", "warning", "pip install without --no-cache-dir", _pip_cache, ("DL3042",)),
    Rule("PL104", "apk-cache", "warning", "apk add without --no-cache", _apk_cache, ("DL3019",)),
    Rule("PL105", "yum-cache", "warning", "yum/dnf install without clean", _yum_cache,
         ("DL3032", "DL3040")),
    Rule("PL106", "npm-ci", "info", "npm install where npm ci installs the lock file", _npm_ci),
    Rule("PL107", "base-tag", "warning", "FROM without a tag, or with latest", _base_tag,
         ("DL3006", "DL3007")),
    Rule("PL108", "add-url", "warning", "ADD of a URL", _add_url),
    Rule("PL109", "curl-pipe", "error", "curl or wget piped into a shell", _curl_pipe),
    Rule("PL110", "no-user", "warning", "the app runs as root", _no_user, ("DL3002",)),
    Rule("PL111", "secret-env", "error", "a secret in ENV or ARG", _secrets),
    Rule("PL112", "shell-cmd", "warning", "shell-form CMD or ENTRYPOINT keeps the app off PID 1", _json_cmd,
         ("DL3025",)),
    Rule("PL113", "trusted-registry", "warning", "FROM a registry not in the trusted list", _trusted,
         ("DL3026",)),
    Rule("PL201", "toolchain-final", "warning", "a build toolchain in the final stage", _toolchain_final),
    Rule("PL202", "fat-base", "warning", "a full base where slim or distroless exists", _fat_base),
    Rule("PL203", "copy-before-install", "warning", "COPY . before the dependency install",
         _copy_before_install),
    Rule("PL204", "chown-after-copy", "warning", "chown/chmod -R after COPY", _chown_after_copy),
    Rule("PL205", "removed-later", "warning", "a file removed in a later layer still ships", _removed_later),
    Rule("PL206", "dev-shipped", "warning", "devDependencies or tests shipped", _dev_shipped),
    Rule("PL207", "eol-runtime", "error", "an end-of-life runtime or distribution", _eol),
)
BY_ID = {r.id: r for r in RULES}
BY_HADOLINT = {h: r for r in RULES for h in r.hadolint}
