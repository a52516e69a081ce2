"""Just enough of a shell reader for RUN lines: the simple commands and how they are chained.

A lint needs to know which programs a RUN calls with which arguments (apt-get install with or
without --no-install-recommends, curl piped into sh), not to run them; shlex's punctuation mode
splits on `&&`, `||`, `;`, `|` and newlines while keeping quoted words whole.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "\n", ";;", "(", ")", "|&"})
# words that run the next word as the command (sudo apt-get ..., env X=1 pip ...)
WRAPPERS = frozenset({"sudo", "env", "exec", "nohup", "time", "command", "then", "do", "else", "if",
                      "while", "until", "!", "{", "xargs", "busybox"})


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    piped_from: Command | None = None  # the command whose output this one reads (`a | b`)

    @property
    def name(self) -> str:
        return self.argv[0].rsplit("/", 1)[-1] if self.argv else ""

    def has(self, *options: str) -> bool:
        """Whether any of the options is given (`--opt`, `--opt=value`, or a short flag in a bundle)."""
        for word in self.argv[1:]:
            for option in options:
                if word == option or (option.startswith("--") and word.startswith(option + "=")):
                    return True
                if (len(option) == 2 and option[0] == "-" and option[1] != "-" and word.startswith("-")
                        and not word.startswith("--") and option[1] in word[1:]):
                    return True
        return False

    def operands(self) -> list[str]:
        return [w for w in self.argv[1:] if not w.startswith("-")]


def _lexer(text: str) -> shlex.shlex:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()")
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    lexer.commenters = ""
    return lexer


def commands(script: str) -> list[Command]:
    """The simple commands of a shell script, wrappers (sudo, env X=1) stripped; unparsable quoting
    falls back to splitting on whitespace, since a lint must still say something."""
    text = script.replace("\\\n", " ").replace("\n", " ; ")
    try:
        tokens = list(_lexer(text))
    except ValueError:
        tokens = text.replace(";", " ; ").replace("&&", " && ").replace("|", " | ").split()
    found: list[Command] = []
    current: list[str] = []
    pipe_from: Command | None = None
    for token in [*tokens, ";"]:
        if token in SEPARATORS or token.startswith("#"):
            if current:
                command = Command(tuple(_strip_wrappers(current)), pipe_from)
                found.append(command)
                pipe_from = command if token in ("|", "|&") else None
            current = []
            continue
        current.append(token)
    return [c for c in found if c.argv]


def _strip_wrappers(argv: list[str]) -> list[str]:
    words = list(argv)
    while words:
        head = words[0].rsplit("/", 1)[-1]
        if head in WRAPPERS:
            words.pop(0)
            while words and words[0].startswith("-"):  # sudo -E, env -i
                words.pop(0)
        elif "=" in head and head.split("=", 1)[0].replace("_", "").isalnum():  # X=1 cmd
            words.pop(0)
        else:
            break
    return words
