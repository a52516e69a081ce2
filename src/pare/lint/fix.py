"""`pare fix`: rewrite a Dockerfile toward what pare lint asks for, as text edits a reviewer can read.

Edits work on the instructions' line ranges, so comments and blank lines stay where they were:
- clean-ups merged into the install's own RUN (apt lists, --no-install-recommends, pip's and apk's
  caches), since a later layer cannot take bytes back;
- `COPY . .` before a dependency install: the manifests are copied first and the tree after;
- `RUN chown -R U DIR` right after `COPY ... DIR`: folded into `COPY --chown=U`;
- a shell-form CMD/ENTRYPOINT with no shell syntax: the JSON form (the app on PID 1);
- a single stage on a Go toolchain, a full Node.js or a full Python image: split into a build stage
  and a final stage on a small base (distroless static for Go, the -slim tag for Node.js and Python),
  which keeps ENV, WORKDIR, EXPOSE, USER, CMD and ENTRYPOINT, and runs as a non-root user;
- a final stage on debian or ubuntu that only runs a Go or Rust stage's binary: onto the distroless
  image that runs it (pare.lint.compiled), its CA-certificate install dropped (distroless has them).
What cannot be carried over safely (a build output path not found, apt packages the app may need at
run time, a shell CMD on a base without a shell) is left as a `# pare fix:` comment, not guessed.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
import shlex
from dataclasses import dataclass, field

from pare.lint import pricing
from pare.lint.compiled import DISTROLESS, compiled_on_os
from pare.lint.index import install_operands
from pare.lint.parser import Dockerfile, DockerfileSyntaxError, Instruction, Stage, parse, split_lines
from pare.lint.rules import NONROOT_BASES, cache_mounted, install_kind, script_of, within
from pare.lint.shell import commands

MANIFESTS = {
    "node": "package.json package-lock.json* yarn.lock* pnpm-lock.yaml*",
    "python": "requirements*.txt",
    "go": "go.mod go.sum",
    "ruby": "Gemfile Gemfile.lock",
    "php": "composer.json composer.lock",
    "rust": "Cargo.toml Cargo.lock",
}
RUNTIME_KEYWORDS = ("CMD", "ENTRYPOINT", "EXPOSE", "USER", "HEALTHCHECK", "STOPSIGNAL", "VOLUME")
SHELL_SYNTAX = re.compile(r"[$`|&;<>(){}*?~\\\"']")


@dataclass
class Rewrite:
    """Line edits on the original text: a replacement for an instruction's lines, or lines before it."""

    df: Dockerfile
    replace: dict[int, str] = field(default_factory=dict)  # first line -> new text ("" drops it)
    before: dict[int, list[str]] = field(default_factory=dict)
    after_all: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    final_base: str | None = None  # the final stage's new FROM image, when the rewrite moved it

    def set(self, inst: Instruction, text: str) -> None:
        self.replace[inst.line] = text

    def text(self) -> str:
        lines = self.df.lines
        spans = {i.line: i.end_line for i in self.df.instructions}
        out: list[str] = []
        number = 1
        while number <= len(lines):
            out.extend(self.before.get(number, []))
            if number in self.replace:
                if self.replace[number] != "":
                    out.append(self.replace[number])
                number = spans.get(number, number) + 1
                continue
            out.append(lines[number - 1])
            number += 1
        out.extend(self.after_all)
        return "\n".join(out) + "\n"


def _text_of(inst: Instruction, rewrite: Rewrite) -> str:
    """The instruction's text as edited so far, else as written: its source lines, continuations and
    comments kept (BuildKit's `original` joins continued lines into one)."""
    if inst.line in rewrite.replace:
        return rewrite.replace[inst.line]
    return "\n".join(rewrite.df.lines[inst.line - 1:inst.end_line]) if inst.end_line else inst.original


def _flags(inst: Instruction) -> str:
    return "".join(f"{f} " for f in inst.flags)


def _clean_installs(stage: Stage, rewrite: Rewrite) -> None:
    """Caches out of the layer they are written in: edits on the RUN as written, continuations kept."""
    for inst in stage.of("RUN"):
        if inst.heredocs:
            _clean_heredoc(inst, rewrite)
            continue
        if inst.json:
            continue
        cmds = commands(" ".join(inst.args))
        original = _text_of(inst, rewrite).rstrip("\n")
        new = original
        apt_install = any(c.name in ("apt-get", "apt") and "install" in c.argv for c in cmds)
        if apt_install and "--no-install-recommends" not in new:
            new = re.sub(r"\b(apt-get|apt)((?:\s+-\S+)*\s+)install\b", r"\1\2install --no-install-recommends",
                         new)
        if any(c.name in ("apt-get", "apt") and ("update" in c.argv or "install" in c.argv) for c in cmds) \
                and "/var/lib/apt/lists" not in new and not any("type=cache" in f for f in inst.flags):
            new = new.rstrip() + " \\\n    && rm -rf /var/lib/apt/lists/*"
        new = _cache_flags(new, inst)
        if new != original:
            rewrite.set(inst, new)


def _clean_heredoc(inst: Instruction, rewrite: Rewrite) -> None:
    """`RUN <<EOF` run by the shell: caches cleaned inside the script itself (apk and pip flags, the
    apt lists removed on a last line)."""
    if len(inst.heredocs) != 1 or " ".join(inst.args).strip() != f"<<{inst.heredocs[0].name}":
        return
    doc = inst.heredocs[0]
    lines = _text_of(inst, rewrite).rstrip("\n").split("\n")
    if lines[-1].strip() != doc.name:
        return
    body = _cache_flags("\n".join(lines[1:-1]), inst)
    cmds = commands(doc.content)
    if any(c.name in ("apt-get", "apt") and ("update" in c.argv or "install" in c.argv) for c in cmds) \
            and "/var/lib/apt/lists" not in doc.content and not any("type=cache" in f for f in inst.flags):
        body += "\nrm -rf /var/lib/apt/lists/*"
    new = "\n".join([lines[0], body, lines[-1]])
    if new != "\n".join(lines):
        rewrite.set(inst, new)


def _cache_flags(script: str, inst: Instruction) -> str:
    """pip's and apk's caches off, in the command that would write them; not where the RUN mounts a
    cache there (`--mount=type=cache`): that cache never reaches the layer."""
    if not cache_mounted(inst, ".cache/pip", ".cache"):
        script = re.sub(r"\b(pip3?|python3? -m pip)(\s+)install\b(?![^&;|\n]*--no-cache-dir)",
                        r"\1\2install --no-cache-dir", script)
    if cache_mounted(inst, "/var/cache/apk"):
        return script
    return re.sub(r"\bapk(\s+)add\b(?![^&;|\n]*--no-cache)", r"apk\1add --no-cache", script)


def _merge_later_cleanups(stage: Stage, rewrite: Rewrite) -> None:
    """`RUN rm -rf /var/lib/apt/lists/*` on its own after the install: into the install's RUN."""
    runs = stage.of("RUN")
    for earlier, later in itertools.pairwise(runs):
        cmds = commands(" ".join(later.args))
        if len(cmds) == 1 and cmds[0].name == "rm" and all("/var/lib/apt/lists" in w or w.startswith("-")
                                                           for w in cmds[0].argv[1:]):
            text = _text_of(earlier, rewrite)
            if "apt" in text:
                if "/var/lib/apt/lists" not in text:
                    rewrite.set(earlier, text.rstrip() + " \\\n    && rm -rf /var/lib/apt/lists/*")
                rewrite.set(later, "")


def _chown_into_copy(stage: Stage, rewrite: Rewrite) -> None:
    insts = list(stage.instructions)
    for prev, inst in itertools.pairwise(insts):
        if inst.keyword != "RUN" or prev.keyword not in ("COPY", "ADD") or prev.flag("chown") is not None:
            continue
        cmds = commands(" ".join(inst.args))
        if len(cmds) != 1 or cmds[0].name != "chown" or not cmds[0].has("-R"):
            continue
        operands = cmds[0].operands()
        if len(operands) != 2 or operands[1].rstrip("/") != prev.words[-1].rstrip("/"):
            continue
        original = _text_of(prev, rewrite)
        keyword, _, rest = original.partition(" ")
        rewrite.set(prev, f"{keyword} --chown={operands[0]} {rest}")
        rewrite.set(inst, "")


def _manifests_first(stage: Stage, rewrite: Rewrite) -> None:
    """Manifests copied before the dependency install, the tree after it."""
    copy_all: Instruction | None = None
    for inst in stage.instructions:
        if inst.keyword in ("COPY", "ADD") and inst.flag("from") is None \
                and any(s in (".", "./") for s in inst.words[:-1]) and copy_all is None:
            copy_all = inst
            continue
        if inst.keyword != "RUN":
            continue
        kind = install_kind(commands(script_of(inst)))
        if kind is None:
            continue
        if copy_all is None:
            return  # dependencies installed before the tree is copied: already in the cache's order
        script = script_of(inst)
        if kind == "python" and re.search(r"\b(uv|poetry|pipenv)\b|install (-e )?\.", script):
            rewrite.notes.append(f"line {copy_all.line}: copy pyproject.toml and its lock file before the "
                                 f"install at line {inst.line}, and install the project after the tree")
            return
        if kind not in MANIFESTS:
            rewrite.notes.append(f"line {copy_all.line}: copy the {kind} dependency manifests before line "
                                 f"{inst.line} by hand")
            return
        manifests = MANIFESTS[kind]
        match = re.search(r"-r\s+(\S+)", " ".join(inst.args))
        if kind == "python" and match:
            manifests = match.group(1)
        dest = copy_all.words[-1]
        dest = dest if dest.endswith("/") else dest + "/"
        rewrite.set(copy_all, f"COPY {manifests} {dest}")
        rewrite.before.setdefault(_next_line_after(stage, inst), []).append(copy_all.original)
        return


def _next_line_after(stage: Stage, inst: Instruction) -> int:
    later = [i.line for i in stage.instructions if i.line > inst.line]
    return later[0] if later else -1


def _json_form(inst: Instruction) -> str | None:
    text = " ".join(inst.args).strip()
    if inst.json or not text or SHELL_SYNTAX.search(text):
        return None
    return f"{inst.keyword} {json.dumps(shlex.split(text))}"


def _exec_form(stage: Stage, rewrite: Rewrite) -> None:
    for inst in stage.of("CMD", "ENTRYPOINT"):
        new = _json_form(inst)
        if new:
            rewrite.set(inst, new)
        elif not inst.json:
            rewrite.notes.append(f"line {inst.line}: shell-form {inst.keyword} uses shell syntax; "
                                 "start it with `exec` or move it into a script")


# --- single stage -> build + final -------------------------------------------------------------

def _go_output(stage: Stage) -> str | None:
    workdir = "/"
    output = None
    for inst in stage.instructions:
        if inst.keyword == "WORKDIR" and inst.words:
            workdir = within(workdir, inst.words[0])
        if inst.keyword == "RUN":
            for cmd in commands(script_of(inst)):
                if cmd.name == "go" and "build" in cmd.argv:
                    argv = list(cmd.argv)
                    if "-o" in argv and argv.index("-o") + 1 < len(argv):
                        out = argv[argv.index("-o") + 1]
                        output = within(workdir, out)
    return output


def _runtime_lines(stage: Stage, rewrite: Rewrite) -> tuple[list[str], list[int]]:
    """The instructions the final stage keeps, and the lines they leave in the build stage."""
    keep: list[str] = []
    moved: list[int] = []
    for inst in stage.instructions[1:]:
        if inst.keyword in ("ENV", "WORKDIR", "LABEL"):
            keep.append(_text_of(inst, rewrite))
        elif inst.keyword in RUNTIME_KEYWORDS:
            keep.append(_text_of(inst, rewrite))
            moved.append(inst.line)
    return keep, moved


def _carried_files(stage: Stage, rewrite: Rewrite) -> list[str]:
    """Files the build stage copied in one by one (config, templates): the final stage needs them too;
    the source tree (`COPY . .`) it does not, and a comment says so."""
    lines: list[str] = []
    workdir = "/"
    for inst in stage.instructions:
        if inst.keyword == "WORKDIR" and inst.words:
            workdir = within(workdir, inst.words[0])
        if inst.keyword not in ("COPY", "ADD") or inst.flag("from") is not None or len(inst.words) < 2:
            continue
        sources, dest = inst.words[:-1], within(workdir, inst.words[-1])
        if _copies_tree(inst) or install_kind(commands(" ".join(sources))) \
                or all(src.split("/")[-1] in ("go.mod", "go.sum") for src in sources):
            continue
        chown = f"--chown={inst.flag('chown')} " if inst.flag("chown") else ""
        if "--chown=" in rewrite.replace.get(inst.line, ""):
            chown = "--chown=" + rewrite.replace[inst.line].split("--chown=", 1)[1].split()[0] + " "
        lines.append(f"COPY --from=build {chown}{dest} {dest}")
    if any(_copies_tree(i) for i in stage.instructions):
        rewrite.notes.append("only the binary and the files copied one by one reach the final stage; if the "
                             "app reads files from its source tree at run time, copy them too")
    return lines


def _copies_tree(inst: Instruction) -> bool:
    return inst.keyword in ("COPY", "ADD") and any(s in (".", "./") for s in inst.words[:-1])


def _apt_packages(stage: Stage) -> list[str]:
    return [name for inst in stage.of("RUN") for cmd in commands(script_of(inst))
            if cmd.name in ("apt-get", "apt") for name in install_operands(cmd.argv)]


def _split(df: Dockerfile, rewrite: Rewrite) -> None:
    stage = df.final
    if len(df.stages) != 1:
        return
    repo, tag = pricing.repository(stage.base)
    from_inst = stage.instructions[0]
    runs = " ".join(script_of(i) for i in stage.of("RUN"))
    version = tag.split("-", 1)[0]
    workdir = next((i.words[0] for i in reversed(stage.of("WORKDIR")) if i.words), None)
    keep, moved = _runtime_lines(stage, rewrite)
    cmd_shell = [i for i in stage.of("CMD", "ENTRYPOINT") if not i.json and _json_form(i) is None]
    if repo == "golang":
        output = _go_output(stage)
        if output is None:
            rewrite.notes.append("the Go toolchain ships: no `go build -o PATH` found, so the binary to copy "
                                 "into a distroless stage is unknown")
            return
        final_base = "gcr.io/distroless/static-debian12:nonroot"
        copy = [f"COPY --from=build {output} {output}", *_carried_files(stage, rewrite)]
        user = None  # the :nonroot tag runs as 65532
        if "CGO_ENABLED=0" not in runs:
            rewrite.notes.append("distroless/static needs a static binary: build with CGO_ENABLED=0 "
                                 "(or use gcr.io/distroless/base-debian12)")
        keep = [k for k in keep if not k.startswith("WORKDIR")] + ([f"WORKDIR {workdir}"] if workdir else [])
    elif repo in ("node", "python") and workdir:
        if pricing.SLIM_TAG.search(tag) and repo == "python":
            return
        if pricing.SLIM_TAG.search(tag):  # already small (alpine, slim): the final stage keeps it
            final_base = stage.base
        else:
            final_base = f"{repo}:{version}-slim" if version and version != "latest" else f"{repo}:slim"
        if repo == "node":
            if "npm" not in runs:
                return
            rewrite.before.setdefault(moved[0] if moved else -1, []).append("RUN npm prune --omit=dev")
            copy = [f"COPY --from=build --chown=node:node {workdir} {workdir}"]
            user = "node"
        else:
            pips = [i for i in stage.of("RUN") if re.search(r"\bpip3?\b|-m pip", script_of(i))]
            first_pip = pips[0] if pips else None
            if first_pip is None:
                return
            rewrite.before.setdefault(first_pip.line, []).extend(
                ["RUN python -m venv /opt/venv", "ENV PATH=/opt/venv/bin:$PATH"])
            copy = ["COPY --from=build /opt/venv /opt/venv", "ENV PATH=/opt/venv/bin:$PATH",
                    f"COPY --from=build {workdir} {workdir}"]
            user = "65532"
    else:
        return
    if cmd_shell and "distroless" in final_base:
        rewrite.notes.append(f"line {cmd_shell[0].line}: a shell-form command cannot run on {final_base}")
        return
    packages = _apt_packages(stage)
    for line in moved:
        rewrite.replace[line] = ""
    rewrite.set(from_inst, f"{_text_of(from_inst, rewrite).split(' AS ')[0].split(' as ')[0]} AS build")
    final = ["", f"FROM {final_base}"]
    if packages:
        final.append(f"# pare fix: the build stage installs {' '.join(packages)} with apt; install here "
                     "whatever of it the app needs at run time")
    body = [k for k in keep if not k.startswith(("USER", "CMD", "ENTRYPOINT", "EXPOSE", "HEALTHCHECK",
                                                 "STOPSIGNAL", "VOLUME"))]
    final += body + copy
    has_user = [k for k in keep if k.startswith("USER")]
    final += has_user[-1:] if has_user and not has_user[-1].split()[1].startswith(("root", "0")) else (
        [f"USER {user}"] if user else [])
    final += [k for k in keep if k.startswith(("EXPOSE", "HEALTHCHECK", "STOPSIGNAL", "VOLUME"))]
    if any(k.startswith("HEALTHCHECK") for k in keep) and "distroless" in final_base:
        final.append("# pare fix: the HEALTHCHECK above needs a shell and its tools; distroless has neither")
    final += [k for k in keep if k.startswith(("ENTRYPOINT", "CMD"))]
    rewrite.after_all.extend(final)


def _final_to_distroless(df: Dockerfile, rewrite: Rewrite) -> None:
    """A compiled program's final stage moved off its OS image (pare.lint.compiled)."""
    shape = compiled_on_os(df)
    if shape is None:
        return
    from_inst = df.final.instructions[0]
    text = _text_of(from_inst, rewrite)
    if df.final.base not in text:  # FROM names it through an ARG: the line to edit is not this one
        rewrite.notes.append(f"line {from_inst.line}: {shape.image} runs this stage's program; "
                             f"{df.final.base} comes from an ARG, so change it there")
        return
    rewrite.set(from_inst, text.replace(df.final.base, shape.image, 1))
    for inst in shape.provided_installs:
        rewrite.set(inst, "")
    rewrite.final_base = shape.image
    if shape.language == "go" and not shape.static:
        saving = (DISTROLESS["base"] - DISTROLESS["static"]) // 1_000_000
        rewrite.notes.append(f"the Go build runs with cgo on, so {shape.image} (with glibc) runs it; build "
                             f"with CGO_ENABLED=0 and gcr.io/distroless/static runs it in about {saving} MB "
                             "less")


NONROOT_TAGS = {"": ":nonroot", "latest": ":nonroot", "debug": ":debug-nonroot"}


def _add_user(df: Dockerfile, rewrite: Rewrite) -> None:
    """A non-root user in the final stage: the base's own where it has one (node, distroless's
    :nonroot tags), 65532 (distroless's nonroot uid) on scratch, a note elsewhere."""
    if rewrite.after_all or rewrite.final_base is not None:  # the new final base's own user
        return
    chain = df.shipped()
    if any(s.of("USER") for s in chain) or NONROOT_BASES.search(chain[0].base):
        return
    stage = df.final
    base_stage = chain[0]
    repo, tag = pricing.repository(base_stage.base)
    runtime = stage.of("CMD", "ENTRYPOINT")
    if not runtime:
        return
    low_ports = [w for i in stage.of("EXPOSE") for w in i.words if w.split("/")[0].isdigit()
                 and int(w.split("/")[0]) < 1024]
    if low_ports:
        rewrite.notes.append(f"no USER, and the app listens on port {low_ports[0]}: a non-root user needs a "
                             "port above 1023 (or CAP_NET_BIND_SERVICE)")
        return
    if repo == "node":
        rewrite.before.setdefault(runtime[0].line, []).append("USER node")
    elif base_stage.base == "scratch":
        rewrite.before.setdefault(runtime[0].line, []).append("USER 65532:65532")
    elif repo.startswith("distroless/") and tag in NONROOT_TAGS and "@" not in base_stage.base:
        from_inst = base_stage.instructions[0]
        head, _, last = base_stage.base.rpartition("/")
        nonroot = f"{head}/{last.split(':')[0]}{NONROOT_TAGS[tag]}"
        rewrite.set(from_inst, _text_of(from_inst, rewrite).replace(base_stage.base, nonroot, 1))
    else:
        rewrite.notes.append("no USER: add a non-root user the app can run as (pare knows none on this base)")


def fix(df: Dockerfile) -> tuple[str, list[str]]:
    """The rewritten Dockerfile and what was left to do by hand."""
    rewrite = Rewrite(df)
    for stage in df.stages:
        _manifests_first(stage, rewrite)
    for stage in df.shipped():  # caches and ownership cost bytes only where they ship
        _clean_installs(stage, rewrite)
        _merge_later_cleanups(stage, rewrite)
        _chown_into_copy(stage, rewrite)
        _exec_form(stage, rewrite)
    _split(df, rewrite)
    _final_to_distroless(df, rewrite)
    _add_user(df, rewrite)
    if rewrite.notes:
        rewrite.after_all.extend(["", *(f"# pare fix: {note}" for note in rewrite.notes)])
    text = rewrite.text()
    try:
        parse(text, df.path)
    except DockerfileSyntaxError as exc:  # pare's own output: a bug, not the user's error
        raise RuntimeError(f"pare fix wrote a Dockerfile that does not parse: {exc}") from exc
    return text, rewrite.notes


def diff(before: str, after: str, path: str) -> str:
    return "".join(difflib.unified_diff(split_lines(before, keepends=True), split_lines(after, keepends=True),
                                        fromfile=f"a/{path.lstrip('/')}", tofile=f"b/{path.lstrip('/')}"))
