"""Variable expansion in Dockerfile words, by BuildKit's rules (frontend/dockerfile/shell).

BuildKit expands `$VAR` and `${VAR...}` itself in FROM, ENV, ARG, LABEL, COPY, ADD, USER, WORKDIR,
EXPOSE...; RUN is left to the shell. Quotes are removed as a POSIX shell would: single quotes keep
everything, double quotes keep everything but `$` and the escape of `"`, `$` and the escape token.
Modifiers: `${V:-d}` `${V-d}` `${V:+x}` `${V+x}` `${V:?m}` `${V?m}` `${V#p}` `${V##p}` `${V%p}`
`${V%%p}` `${V/p/r}` `${V//p/r}`. An unset variable expands to "" (as BuildKit does for FROM, where
a lint wants to know the reference the build would pull).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pare.errors import PareError


class ExpansionError(PareError):
    """A `${...}` BuildKit would reject (missing `}`, bad modifier, `${V:?}` on an unset V)."""

    exit_code = 3


NAME_START = re.compile(r"[A-Za-z_]")
NAME_CHAR = re.compile(r"[A-Za-z0-9_]")


class _Word:
    """One pass over a word: position in the text, the variables, the escape token."""

    def __init__(self, text: str, env: Mapping[str, str], escape: str) -> None:
        self.text = text
        self.pos = 0
        self.env = env
        self.escape = escape

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1 if ch else 0
        return ch

    def until(self, stop: str, raw_escapes: bool = False) -> tuple[str, bool]:
        """Read up to `stop` (consumed), expanding; returns the text and whether `stop` was found."""
        out: list[str] = []
        while True:
            ch = self.peek()
            if not ch:
                return "".join(out), stop == ""
            if ch == stop:
                self.next()
                return "".join(out), True
            if ch == "'":
                out.append(self.single_quote())
            elif ch == '"':
                out.append(self.double_quote())
            elif ch == "$":
                out.append(self.dollar())
            else:
                self.next()
                if ch == self.escape:
                    following = self.next()
                    if raw_escapes:
                        out.append(ch)
                    out.append(following)
                else:
                    out.append(ch)

    def single_quote(self) -> str:
        self.next()
        start = self.pos
        end = self.text.find("'", start)
        if end < 0:
            raise ExpansionError("unexpected end of statement while looking for matching single-quote")
        self.pos = end + 1
        return self.text[start:end]

    def double_quote(self) -> str:
        self.next()
        out: list[str] = []
        while True:
            ch = self.peek()
            if not ch:
                raise ExpansionError("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.next()
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            self.next()
            if ch == self.escape and self.peek() in ('"', "$", self.escape) and self.peek():
                ch = self.next()
            elif ch == self.escape and not self.peek():
                continue
            out.append(ch)

    def name(self) -> str:
        start = self.pos
        if self.peek() and (NAME_START.match(self.peek()) or self.peek().isdigit()):
            if self.peek().isdigit():  # positional parameters $0..$9 are one digit
                self.next()
                return self.text[start:self.pos]
            while self.peek() and NAME_CHAR.match(self.peek()):
                self.next()
        elif self.peek() in ("@", "*", "#", "?", "$", "!", "-"):  # special parameters
            self.next()
        return self.text[start:self.pos]

    def dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self.name()
            return self.env.get(name, "") if name else "$"
        self.next()
        if not self.peek():
            raise ExpansionError("syntax error: missing '}'")
        if self.peek() in "{}:":
            raise ExpansionError("syntax error: bad substitution")
        name = self.name()
        op = self.next()
        value = self.env.get(name)
        if op == "}":
            return value or ""
        null_is_unset = op == ":"
        if null_is_unset:
            op = self.next()
        if op in ("-", "+", "?", "#", "%"):
            if null_is_unset and op in "#%":
                raise ExpansionError(f"unsupported modifier (:{op}) in substitution")
            word, found = self.until("}", raw_escapes=op in "#%")
            if not found:
                raise ExpansionError("syntax error: missing '}'")
            unset = value is None or (null_is_unset and value == "")
            if op == "-":
                return word if unset else value or ""
            if op == "+":
                return "" if unset else word
            if op == "?":
                if unset:
                    raise ExpansionError(f"{name}: {word or 'is not allowed to be unset'}")
                return value or ""
            greedy = word[:1] == op
            pattern = word[1:] if greedy else word
            return _trim(value or "", pattern, suffix=op == "%", greedy=greedy)
        if op == "/" and not null_is_unset:
            replace_all = self.peek() == "/"
            if replace_all:
                self.next()
            pattern, found = self.until("/", raw_escapes=True)
            if not found:
                raise ExpansionError("syntax error: missing '/' in ${}")
            replacement, found = self.until("}", raw_escapes=True)
            if not found:
                raise ExpansionError("syntax error: missing '}'")
            regex = re.compile(f"(?s:{_glob_regex(pattern)})")
            return regex.sub(replacement.replace("\\", "\\\\"), value or "", count=0 if replace_all else 1)
        raise ExpansionError(f"unsupported modifier ({':' if null_is_unset else ''}{op}) in substitution")


def _glob_regex(pattern: str) -> str:
    """A shell pattern (`*`, `?`, `[...]`, a backslash quoting the next character) as a regex."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[" and "]" in pattern[i + 2:]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1:end]
            out.append("[" + ("^" + body[1:] if body[:1] == "!" else body).replace("\\", "\\\\") + "]")
            i = end + 1
            continue
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def _trim(value: str, pattern: str, suffix: bool, greedy: bool) -> str:
    """`${V#p}` `${V##p}` `${V%p}` `${V%%p}`: drop the shortest or longest matching prefix or suffix."""
    regex = re.compile(f"(?s:{_glob_regex(pattern)})")
    cuts = range(len(value) + 1)
    order = list(reversed(cuts)) if greedy else list(cuts)
    for n in order:
        part = value[len(value) - n:] if suffix else value[:n]
        if regex.fullmatch(part):
            return value[: len(value) - n] if suffix else value[n:]
    return value


def expand(word: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """One Dockerfile word with its variables expanded and its quotes removed."""
    text, _ = _Word(word, env, escape).until("")
    return text
