"""Procfile parsing and shell command lines -> exec form (pare.recipes.procfile, pare.recipes.command)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pare.errors import UsageError
from pare.recipes.command import ExecCommand, NeedsShell, split_command
from pare.recipes.procfile import parse_procfile, web_command

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def test_procfile_web_lines_of_the_corpus() -> None:
    assert web_command(CORPUS / "py-flask-poetry") == "gunicorn server:app"
    assert web_command(CORPUS / "py-flask-procfile") == (
        "gunicorn --bind :$PORT --workers 1 --threads 8 --timeout 0 main:app")
    assert web_command(CORPUS / "node-pnpm-express") is None  # no Procfile


def test_procfile_parsing() -> None:
    text = "# processes\n\nweb:   node server.js  \nworker: node jobs.js\nrelease: ./migrate\n"
    assert parse_procfile(text) == {"web": "node server.js", "worker": "node jobs.js",
                                    "release": "./migrate"}


@pytest.mark.parametrize("text", ["web node x.js\n", "web:\n", "we b: x\n", "web: a\nweb: b\n"])
def test_bad_procfile_is_one_error_with_the_line(text: str, tmp_path: Path) -> None:
    (tmp_path / "Procfile").write_text(text)
    with pytest.raises(UsageError, match=r"Procfile: line \d"):
        web_command(tmp_path)


@pytest.mark.parametrize(("line", "argv", "env"), [
    ("node dist/main.js", ("node", "dist/main.js"), ()),
    ("NODE_ENV=production node server.js", ("node", "server.js"), (("NODE_ENV", "production"),)),
    # $PORT stays a reference the image's launcher fills in at start (pare.native.contract)
    ("exec gunicorn -b 0.0.0.0:$PORT app:app", ("gunicorn", "-b", "0.0.0.0:${PORT}", "app:app"), ()),
    ("next start -p ${PORT:-3000}", ("next", "start", "-p", "${PORT}"), ()),
    ("uvicorn main:app --port \"${PORT}\"", ("uvicorn", "main:app", "--port", "${PORT}"), ()),
    ("python -c 'print(\"$HOME\")'", ("python", "-c", 'print("$HOME")'), ()),
    ("echo a\\ b \"c d\" e$", ("echo", "a b", "c d", "e$"), ()),
    ("node x.js # a comment", ("node", "x.js"), ()),
])
def test_split_command(line: str, argv: tuple[str, ...], env: tuple[tuple[str, str], ...]) -> None:
    assert split_command(line) == ExecCommand(argv, env)


@pytest.mark.parametrize("line", [
    "npm run build && node dist/main", "node a.js; node b.js", "node x.js | tee log", "node x.js > log",
    "node $APP_MAIN", "node `cat main`", "node dist/*.js", "cd src && node x.js", "~/bin/serve",
    "node \"$(cat f)\"", "(node x.js)",
])
def test_lines_that_need_a_shell_are_refused(line: str) -> None:
    with pytest.raises(NeedsShell, match="needs a shell"):
        split_command(line)


@pytest.mark.parametrize("line", ["node 'x.js", "node \"x.js", "A=1 B=2"])
def test_malformed_lines(line: str) -> None:
    with pytest.raises(UsageError):
        split_command(line)


words = st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1),
                 min_size=1, max_size=6)


@given(words)
def test_quoted_words_come_back_unchanged(argv: list[str]) -> None:
    """Any argv quoted as a POSIX shell quotes it splits back into itself (no expansion in quotes)."""
    line = " ".join(shlex.quote(w) for w in ["prog", *argv])
    assert split_command(line).argv == ("prog", *argv)
