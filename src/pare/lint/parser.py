"""Dockerfiles read as BuildKit reads them: an immutable model of stages and instructions.

The syntax (continuations, the `escape` directive, heredocs, JSON and shell forms, flags) comes from
the `dockerfile` package, which is BuildKit's own parser (moby/buildkit frontend/dockerfile/parser)
compiled from Go: a Python reimplementation would drift from it, and dockerfile-parse, the other
library on PyPI, reads heredocs line by line as instructions. What BuildKit does after parsing, this
module does: the checks of its instruction layer (unknown instruction, nothing before FROM but ARG,
argument counts), stages and their names, and ARG/ENV expansion (pare.lint.expand) in the words
BuildKit expands itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import dockerfile as buildkit

from pare.errors import PareError
from pare.lint.expand import ExpansionError, expand


class DockerfileSyntaxError(PareError):
    """A Dockerfile BuildKit would refuse; the message names the file and line."""

    exit_code = 3


KNOWN = frozenset({"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
                   "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
                   "WORKDIR"})
# instructions whose words BuildKit expands itself (RUN, CMD, ENTRYPOINT are the shell's business)
EXPANDED = frozenset({"ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME",
                      "WORKDIR", "ARG"})
MIN_ARGS = {"ADD": 2, "COPY": 2, "ENV": 1, "ARG": 1, "LABEL": 1, "FROM": 1, "USER": 1, "WORKDIR": 1,
            "EXPOSE": 1, "STOPSIGNAL": 1, "SHELL": 1, "VOLUME": 1, "MAINTAINER": 1, "ONBUILD": 1,
            "HEALTHCHECK": 1}
DIRECTIVE = re.compile(r"#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")


@dataclass(frozen=True)
class Heredoc:
    name: str
    content: str
    fd: int = 0


@dataclass(frozen=True)
class Instruction:
    """One instruction as written (`args`, flags apart) and as BuildKit expands it (`words`)."""

    keyword: str
    args: tuple[str, ...]
    flags: tuple[str, ...] = ()
    json: bool = False
    line: int = 0
    end_line: int = 0
    original: str = ""
    heredocs: tuple[Heredoc, ...] = ()
    sub: str | None = None  # ONBUILD's instruction
    words: tuple[str, ...] = ()  # args expanded (the same as args where BuildKit leaves them)

    def flag(self, name: str) -> str | None:
        """The value of `--name=value` (or "" for a bare `--name`), None when absent."""
        for item in self.flags:
            key, sep, value = item[2:].partition("=")
            if key == name:
                return value if sep else ""
        return None

    def flags_named(self, name: str) -> list[str]:
        return [item[2:].partition("=")[2] for item in self.flags if item[2:].partition("=")[0] == name]

    @property
    def shell(self) -> str:
        """The command text of a shell-form RUN/CMD/ENTRYPOINT, heredoc bodies appended."""
        text = " ".join(self.args)
        return "\n".join([text, *(doc.content for doc in self.heredocs)])


@dataclass(frozen=True)
class Stage:
    index: int
    base: str  # the FROM reference, expanded
    name: str | None
    line: int
    platform: str | None = None
    parent: int | None = None  # index of the stage FROM names, when it names one
    instructions: tuple[Instruction, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)  # ARG and ENV values at the end of the stage

    @property
    def label(self) -> str:
        return self.name or str(self.index)

    def of(self, *keywords: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword in keywords]


@dataclass(frozen=True)
class Dockerfile:
    path: str
    text: str
    escape: str
    meta_args: Mapping[str, str]
    stages: tuple[Stage, ...]
    directives: Mapping[str, str] = field(default_factory=dict)
    preamble: tuple[Instruction, ...] = ()  # the ARGs before the first FROM

    @property
    def instructions(self) -> list[Instruction]:
        return [*self.preamble, *(i for s in self.stages for i in s.instructions)]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage_named(self, name: str) -> Stage | None:
        for stage in self.stages:
            if stage.name == name.lower() or str(stage.index) == name:
                return stage
        return None

    def shipped(self) -> list[Stage]:
        """The final stage and the stages it is built FROM, innermost last."""
        chain = [self.final]
        while chain[-1].parent is not None:
            chain.append(self.stages[chain[-1].parent])
        return list(reversed(chain))

    @property
    def lines(self) -> list[str]:
        """The text's lines as BuildKit counts them: split at \n only (not at \r, \x85...)."""
        return split_lines(self.text)


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """Lines ended by \n alone, as BuildKit's scanner reads them."""
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return [p + "\n" for p in parts] if keepends else parts


def directives(text: str) -> dict[str, str]:
    """The parser directives at the top (`# escape=`, `# syntax=`, `# check=`), lower-cased names."""
    found: dict[str, str] = {}
    for line in split_lines(text):
        match = DIRECTIVE.match(line.strip())
        if not match or match.group(1).lower() in found:
            break
        found[match.group(1).lower()] = match.group(2)
    return found


def _error_line(text: str) -> int:
    """Where the syntax goes wrong: the first line from which every longer prefix fails to parse
    (the Go parser's messages carry no line)."""
    lines = split_lines(text, keepends=True)
    if len(lines) > 5000:
        return len(lines)
    bad = len(lines)
    for n in range(len(lines) - 1, 0, -1):
        try:
            buildkit.parse_string("".join(lines[:n]))
        except buildkit.GoParseError:
            bad = n
            continue
        break
    return bad


def _commands(text: str, path: str) -> list[buildkit.Command]:
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise DockerfileSyntaxError(f"{path}:{line}: NUL byte in a Dockerfile")
    try:
        return list(buildkit.parse_string(text))
    except buildkit.GoParseError as exc:
        raise DockerfileSyntaxError(f"{path}:{_error_line(text)}: {exc}") from None


def _instruction(command: buildkit.Command, env: Mapping[str, str], escape: str, path: str) -> Instruction:
    keyword = command.cmd.upper()
    args = tuple(command.value)
    if keyword not in KNOWN:
        raise DockerfileSyntaxError(f"{path}:{command.start_line}: unknown instruction: {command.cmd}")
    if len([a for a in args if a != ""]) < MIN_ARGS.get(keyword, 0) and not command.heredocs:
        raise DockerfileSyntaxError(f"{path}:{command.start_line}: {keyword} requires at least "
                                    f"{MIN_ARGS[keyword]} argument(s)")
    words = args
    if keyword in EXPANDED and not command.json:
        try:
            words = tuple(expand(arg, env, escape) for arg in args)
        except ExpansionError as exc:
            raise DockerfileSyntaxError(f"{path}:{command.start_line}: {exc}") from None
    return Instruction(
        keyword=keyword, args=args, flags=tuple(command.flags), json=command.json,
        line=command.start_line, end_line=command.end_line, original=command.original,
        heredocs=tuple(Heredoc(h.name, h.content, h.file_descriptor) for h in command.heredocs),
        sub=command.sub_cmd.upper() if command.sub_cmd else None, words=words)


def _arg_pairs(words: tuple[str, ...]) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    for word in words:
        name, sep, value = word.partition("=")
        pairs.append((name, value if sep else None))
    return pairs


def parse(text: str, path: str = "Dockerfile") -> Dockerfile:
    """The Dockerfile's stages, with FROM, ENV and ARG resolved as a build without --build-arg would."""
    found = directives(text)
    escape = found.get("escape", "\\")
    commands = _commands(text, path)
    meta: dict[str, str] = {}
    stages: list[Stage] = []
    current: dict[str, object] | None = None
    body: list[Instruction] = []
    preamble: list[Instruction] = []
    env: dict[str, str] = {}

    def close() -> None:
        if current is not None:
            stages.append(Stage(instructions=tuple(body), env=dict(env), **current))  # type: ignore[arg-type]

    for command in commands:
        if not command.cmd:
            raise DockerfileSyntaxError(f"{path}:{command.start_line}: an instruction with no name")
        keyword = command.cmd.upper()
        if keyword == "FROM":
            close()
            inst = _instruction(command, meta, escape, path)
            words = list(inst.words)
            if len(words) not in (1, 3) or (len(words) == 3 and words[1].lower() != "as"):
                raise DockerfileSyntaxError(f"{path}:{inst.line}: FROM requires either one or three "
                                            "arguments (FROM IMAGE [AS NAME])")
            base = words[0]
            if not base:
                raise DockerfileSyntaxError(f"{path}:{inst.line}: base name ({inst.args[0]}) is blank")
            name = words[2].lower() if len(words) == 3 else None
            parent = next((s.index for s in stages if s.name is not None and s.name == base.lower()), None)
            env = dict(stages[parent].env) if parent is not None else {}
            current = {"index": len(stages), "base": base, "name": name, "line": inst.line,
                       "platform": inst.flag("platform"), "parent": parent}
            body = [inst]
            continue
        inst = _instruction(command, {**meta, **env} if current is None else env, escape, path)
        if current is None:
            if keyword != "ARG":
                raise DockerfileSyntaxError(f"{path}:{inst.line}: {keyword} before the first FROM "
                                            "(only ARG may come before it)")
            for name, value in _arg_pairs(inst.words):
                meta[name] = value if value is not None else meta.get(name, "")
            preamble.append(inst)
            continue
        if keyword == "ARG":
            for name, value in _arg_pairs(inst.words):
                env[name] = value if value is not None else env.get(name, meta.get(name, ""))
        elif keyword == "ENV":
            values = inst.words
            for i in range(0, len(values) - 1, 2):
                env[values[i]] = values[i + 1]
        body.append(inst)
    close()
    if not stages:
        raise DockerfileSyntaxError(f"{path}:1: no build stage: a Dockerfile needs a FROM")
    return Dockerfile(path=path, text=text, escape=escape, meta_args=meta, stages=tuple(stages),
                      directives=found, preamble=tuple(preamble))
