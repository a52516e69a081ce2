"""Shell command lines (Procfile `web:`, npm `start` scripts, `--cmd`) turned into exec form.

pare's images have no shell, so a command line must become an argv the runtime can exec. That works
for the common case: words, quotes, backslashes, leading `KEY=VALUE` assignments (they become image
env), a leading `exec`, and `$PORT` (`${PORT}`, `${PORT:-8080}`), which becomes `${PORT}` in the
argv: the image's launcher puts PORT's value there when the container starts, as a shell would
(pare.native.contract). Anything that needs a shell to mean what it says (`&&`, `;`, pipes,
redirection, other variables, globs, `~`, command substitution) is refused with a NeedsShell
error, so the caller can name `--cmd` in one clear line instead of building an image that fails
at start.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pare.errors import UsageError
from pare.native.contract import PORT_REF

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PORT_REF = re.compile(r"\$(?:PORT\b|\{PORT\}|\{PORT:-\d*\})")
_OPERATORS = set(";&|<>()`")
_GLOB = set("*?[")


class NeedsShell(UsageError):
    """A command line that means something different without a shell."""


class NothingToStart(UsageError):
    """Detection found no start command (the message names --cmd)."""


@dataclass(frozen=True)
class ExecCommand:
    """A command in exec form: environment assignments and the argv."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StartCommand:
    """What an image runs, as a recipe detected it. argv[0] may be a runtime placeholder ("node",
    "python") that the recipe maps to its binary; paths are relative to the app directory."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    source: str  # where it came from, for messages: --cmd, Procfile web:, scripts.start, main...
    pythonpath: tuple[str, ...] = ()  # Python: app-relative directories holding its modules (src/)
    adds: tuple[str, ...] = ()  # what the recipe installs for it: a server the app does not declare


def split_command(line: str) -> ExecCommand:
    """Split a shell command line into exec form; NeedsShell when that would change its meaning."""
    words, plain = _tokenize(line)
    env: list[tuple[str, str]] = []
    while words and plain[0] and _assignment(words[0]):  # a quoted 'A=b' is a word, as in sh
        name, _, value = words.pop(0).partition("=")
        plain.pop(0)
        env.append((name, value))
    if words and words[0] == "exec":
        words.pop(0)
    if not words:
        raise NeedsShell(f"`{line}` runs no command")
    return ExecCommand(tuple(words), tuple(env))


def _assignment(word: str) -> bool:
    name, eq, _ = word.partition("=")
    return bool(eq) and bool(ENV_NAME.match(name))


def _tokenize(line: str) -> tuple[list[str], list[bool]]:
    """POSIX shell word splitting for the subset above, and per word whether its first '=' (if
    any) came before any quoting, as an assignment's must. Raises NeedsShell on anything else."""
    words: list[str] = []
    plain: list[bool] = []  # the word's text up to its first '=' was written unquoted
    word: list[str] = []
    in_word = False
    quoted_from: int | None = None  # where the word's first quoted or escaped character went
    i = 0
    n = len(line)

    def end_word() -> None:
        text = "".join(word)
        words.append(text)
        plain.append("=" in text and (quoted_from is None or text.index("=") < quoted_from))

    def refuse(what: str) -> NeedsShell:
        return NeedsShell(f"`{line}` needs a shell ({what}), and pare's images have none")

    while i < n:
        ch = line[i]
        if ch in " \t\n":
            if in_word:
                end_word()
                word, in_word, quoted_from = [], False, None
            i += 1
            continue
        if ch == "#" and not in_word:
            break  # a comment runs to the end of the line
        if ch in _OPERATORS:
            raise refuse(f"the operator {ch!r}")
        if ch in _GLOB:
            raise refuse(f"the pattern character {ch!r}")
        if ch == "~" and not in_word:
            raise refuse("'~' expansion")
        in_word = True
        if ch in "\\'\"$" and quoted_from is None:
            quoted_from = len("".join(word))
        if ch == "\\":
            if i + 1 < n and line[i + 1] != "\n":
                word.append(line[i + 1])
            i += 2
            continue
        if ch == "'":
            end = line.find("'", i + 1)
            if end < 0:
                raise UsageError(f"`{line}`: unterminated single quote")
            word.append(line[i + 1:end])
            i = end + 1
            continue
        if ch == '"':
            i = _double_quoted(line, i + 1, word, refuse)
            continue
        if ch == "$":
            i = _expand(line, i, word, refuse)
            continue
        word.append(ch)
        i += 1
    if in_word:
        end_word()
    return words, plain


def _double_quoted(line: str, i: int, word: list[str], refuse: Callable[[str], NeedsShell]) -> int:
    while i < len(line):
        ch = line[i]
        if ch == '"':
            return i + 1
        if ch == "\\" and i + 1 < len(line) and line[i + 1] in '"\\$`\n':
            if line[i + 1] != "\n":
                word.append(line[i + 1])
            i += 2
            continue
        if ch == "`":
            raise refuse("command substitution")
        if ch == "$":
            i = _expand(line, i, word, refuse)
            continue
        word.append(ch)
        i += 1
    raise UsageError(f"`{line}`: unterminated double quote")


def _expand(line: str, i: int, word: list[str], refuse: Callable[[str], NeedsShell]) -> int:
    found = _PORT_REF.match(line, i)
    if found:  # read at start: a platform's PORT, else the image's default (pare.native.contract)
        word.append(PORT_REF)
        return found.end()
    if i + 1 >= len(line) or line[i + 1] in " \t\"":
        word.append("$")  # a lone dollar sign is literal
        return i + 1
    raise refuse("a variable other than $PORT")
