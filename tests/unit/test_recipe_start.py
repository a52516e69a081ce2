"""Start commands declared for other platforms (pare.recipes.start), and how each recipe uses them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pare.errors import UsageError
from pare.recipes.command import split_command
from pare.recipes.detect import detect
from pare.recipes.start import declared_start, dockerfile_command, exec_line, script_command


def write(app: Path, name: str, text: str) -> Path:
    path = app / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def argv_of(app: Path) -> tuple[str, ...]:
    found = declared_start(app)
    assert found is not None
    return split_command(found.line).argv


# --- each source ---------------------------------------------------------------------------------

def test_render_yaml_start_command_of_the_root_web_service(tmp_path: Path) -> None:
    write(tmp_path, "render.yaml", """
        databases:
          - name: db
        services:
          - type: worker
            name: jobs
            startCommand: celery -A proj worker
          - type: web
            name: admin
            rootDir: admin
            startCommand: node admin.js
          - type: web
            name: site
            runtime: python
            buildCommand: pip install -r requirements.txt
            startCommand: gunicorn mysite.wsgi:application --bind 0.0.0.0:$PORT
        """)
    found = declared_start(tmp_path)
    assert found is not None and found.source == "render.yaml startCommand" and found.binding
    assert argv_of(tmp_path) == ("gunicorn", "mysite.wsgi:application", "--bind", "0.0.0.0:${PORT}")


def test_render_yaml_with_two_root_web_services_asks_for_cmd(tmp_path: Path) -> None:
    write(tmp_path, "render.yaml", """
        services:
          - {type: web, name: a, startCommand: node a.js}
          - {type: web, name: b, startCommand: node b.js}
        """)
    with pytest.raises(UsageError, match=r"render.yaml: several web services .*\(a, b\).*--cmd"):
        declared_start(tmp_path)


def test_app_engine_entrypoint(tmp_path: Path) -> None:
    write(tmp_path, "app.yaml", """
        runtime: python312
        entrypoint: gunicorn -b :$PORT main:app
        handlers:
          - url: /.*
            script: auto
        """)
    assert argv_of(tmp_path) == ("gunicorn", "-b", ":${PORT}", "main:app")
    assert declared_start(tmp_path).source == "app.yaml entrypoint"  # type: ignore[union-attr]


def test_an_app_yaml_without_runtime_is_not_app_engines(tmp_path: Path) -> None:
    write(tmp_path, "app.yaml", "name: my-app\nentrypoint: node x.js\n")
    assert declared_start(tmp_path) is None


def test_project_toml_google_entrypoint(tmp_path: Path) -> None:
    write(tmp_path, "project.toml", """
        [_]
        schema-version = "0.2"
        id = "com.example.app"

        [[io.buildpacks.build.env]]
        name = "GOOGLE_RUNTIME_VERSION"
        value = "3.12"

        [[io.buildpacks.build.env]]
        name = "GOOGLE_ENTRYPOINT"
        value = "uvicorn main:app --host 0.0.0.0 --port $PORT"
        """)
    assert argv_of(tmp_path) == ("uvicorn", "main:app", "--host", "0.0.0.0", "--port", "${PORT}")


def test_project_toml_web_process(tmp_path: Path) -> None:
    write(tmp_path, "project.toml", """
        [[io.buildpacks.processes]]
        type = "worker"
        command = ["node", "jobs.js"]

        [[io.buildpacks.processes]]
        type = "web"
        command = ["node"]
        args = ["server.js", "--quiet"]
        direct = true
        """)
    assert argv_of(tmp_path) == ("node", "server.js", "--quiet")


def test_project_toml_shell_process_takes_the_line(tmp_path: Path) -> None:
    write(tmp_path, "project.toml", """
        [[io.buildpacks.processes]]
        type = "web"
        command = "gunicorn -b :$PORT app:app"
        direct = false
        """)
    assert argv_of(tmp_path) == ("gunicorn", "-b", ":${PORT}", "app:app")


def test_project_toml_without_a_start_says_nothing(tmp_path: Path) -> None:
    write(tmp_path, "project.toml", '[_]\nschema-version = "0.2"\n[io.buildpacks]\nbuilder = "x"\n')
    assert declared_start(tmp_path) is None


@pytest.mark.parametrize("text", [
    "run:\n  web: bundle exec puma -p $PORT\n",
    "run:\n  web:\n    command:\n      - bundle exec puma -p $PORT\n    image: web\n",
])
def test_heroku_yml_run_web(tmp_path: Path, text: str) -> None:
    write(tmp_path, "heroku.yml", "build:\n  docker:\n    web: Dockerfile\n" + text)
    assert argv_of(tmp_path) == ("bundle", "exec", "puma", "-p", "${PORT}")


def test_heroku_yml_without_run_leaves_the_dockerfile(tmp_path: Path) -> None:
    write(tmp_path, "heroku.yml", "build:\n  docker:\n    web: Dockerfile\n")
    write(tmp_path, "Dockerfile",
          'FROM node:22\nWORKDIR /usr/src/app\nCMD ["node", "/usr/src/app/index.js"]\n')
    found = declared_start(tmp_path)
    assert found is not None and found.source == "Dockerfile CMD" and not found.binding
    assert argv_of(tmp_path) == ("node", "index.js")


def test_fly_toml_process_served_by_http_service(tmp_path: Path) -> None:
    write(tmp_path, "fly.toml", """
        app = "demo"
        [processes]
        worker = "python worker.py"
        site = "gunicorn -b :$PORT app:app"
        [http_service]
        internal_port = 8080
        processes = ["site"]
        """)
    assert argv_of(tmp_path) == ("gunicorn", "-b", ":${PORT}", "app:app")


def test_fly_toml_experimental_cmd(tmp_path: Path) -> None:
    write(tmp_path, "fly.toml", 'app = "x"\n[experimental]\ncmd = ["./server", "--listen", "0.0.0.0"]\n')
    assert argv_of(tmp_path) == ("./server", "--listen", "0.0.0.0")


def test_fly_toml_with_no_served_group_asks_for_cmd(tmp_path: Path) -> None:
    write(tmp_path, "fly.toml", '[processes]\na = "node a.js"\nb = "node b.js"\n')
    with pytest.raises(UsageError, match=r"fly.toml: several \[processes\] \(a, b\).*--cmd"):
        declared_start(tmp_path)


@pytest.mark.parametrize(("text", "line"), [
    ("#!/bin/sh\nexec gunicorn --bind=0.0.0.0:$PORT app:app\n", "exec gunicorn --bind=0.0.0.0:$PORT app:app"),
    ("#!/usr/bin/env bash\nset -euo pipefail\n# start\n\nuvicorn main:app \\\n  --port $PORT\n",
     "uvicorn main:app    --port $PORT"),
    ("#!/bin/sh\npip install -r requirements.txt\ngunicorn app:app\n", None),  # two commands
    ("#!/bin/sh\ncd src && gunicorn app:app\n", None),  # needs a shell
    ("#!/bin/sh\n", None),
])
def test_startup_script_of_one_line(text: str, line: str | None) -> None:
    assert script_command(text) == line


def test_startup_script_is_a_hint(tmp_path: Path) -> None:
    write(tmp_path, "startup.sh", "#!/bin/sh\npython -m gunicorn app:app -b 0.0.0.0:$PORT\n")
    found = declared_start(tmp_path)
    assert found is not None and found.source == "startup.sh" and not found.binding


@pytest.mark.parametrize(("text", "line"), [
    ('FROM node:22\nCMD ["node", "server.js"]\n', "node server.js"),
    ("FROM python:3.12\nCMD gunicorn -b :$PORT app:app\n", "gunicorn -b :$PORT app:app"),
    ('FROM python:3.12\nCMD ["sh", "-c", "exec uvicorn main:app --port ${PORT:-8080}"]\n',
     "exec uvicorn main:app --port ${PORT:-8080}"),
    ('FROM golang AS build\nCMD ["go", "run"]\nFROM scratch\nENTRYPOINT ["/server"]\nCMD ["-v"]\n',
     "/server -v"),
    ('FROM x\nCMD ["a"]\nENTRYPOINT ["/bin/app"]\n', "/bin/app"),  # ENTRYPOINT resets CMD
    ("FROM x\nENTRYPOINT node app.js\nCMD [\"ignored\"]\n", "node app.js"),
    ('FROM x\nWORKDIR /srv\nWORKDIR app\nCMD ["python", "/srv/app/main.py"]\n', "python main.py"),
    ('FROM x\nCMD ["it\'s", "a b"]\n', "'it'\"'\"'s' 'a b'"),
    ('FROM x\nENTRYPOINT ["./docker-entrypoint.sh"]\nCMD ["node", "x.js"]\n', None),
    ("FROM x\nCMD npm run migrate && npm start\n", None),
    ('FROM golang AS build\nCMD ["go", "run"]\nFROM scratch\n', None),  # the last stage runs its base's
    ('FROM x\nENTRYPOINT ["/app"]\nCMD echo hi\n', None),
    ("FROM x\nCMD [\"sh\", \"-c\", \"a | b\"]\n", None),
])
def test_dockerfile_command(text: str, line: str | None) -> None:
    assert dockerfile_command(text) == line


def test_declared_order(tmp_path: Path) -> None:
    """Procfile, render.yaml, app.yaml, project.toml, heroku.yml, fly.toml, startup script, Dockerfile."""
    files = [("Dockerfile", 'FROM x\nCMD ["dockerfile"]\n'), ("start.sh", "startsh\n"),
             ("fly.toml", '[processes]\napp = "fly"\n'), ("heroku.yml", "run:\n  web: heroku\n"),
             ("project.toml", '[[io.buildpacks.build.env]]\nname = "GOOGLE_ENTRYPOINT"\nvalue = "cnb"\n'),
             ("app.yaml", "runtime: python312\nentrypoint: appengine\n"),
             ("render.yaml", "services:\n  - {type: web, name: s, startCommand: render}\n"),
             ("Procfile", "web: procfile\n")]
    expected = ["dockerfile", "startsh", "fly", "heroku", "cnb", "appengine", "render", "procfile"]
    for (name, text), word in zip(files, expected, strict=True):
        (tmp_path / name).write_text(text)
        assert argv_of(tmp_path) == (word,), name


@pytest.mark.parametrize(("name", "text"), [
    ("render.yaml", "services: [\n"), ("app.yaml", "runtime: x\nentrypoint: {a: 1}\n"),
    ("project.toml", "[[io.buildpacks.processes]\n"), ("heroku.yml", "run:\n  web: {command: [a, b]}\n"),
    ("fly.toml", "[experimental]\ncmd = [1]\n"),
    ("render.yaml", "services:\n  - {type: web, startCommand: 3}\n"),
])
def test_a_broken_descriptor_is_one_line_naming_it(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(UsageError) as caught:
        declared_start(tmp_path)
    assert str(caught.value).startswith(str(tmp_path / name)) and "\n" not in str(caught.value)


@settings(max_examples=200)
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1), min_size=1, max_size=6))
def test_exec_line_splits_back_to_the_same_argv(argv: list[str]) -> None:
    assert split_command(exec_line(argv)).argv == tuple(argv)


def test_an_exec_form_word_that_looks_like_an_assignment_stays_a_word() -> None:
    """CMD ["A=", "0"] runs a program named "A=": its line quotes it, and a quoted NAME=value is a
    word, not an assignment, as sh reads it (hypothesis found ['A=', '0'])."""
    assert split_command(exec_line(["A=", "0"])).argv == ("A=", "0")
    assert split_command("'A=b' c").argv == ("A=b", "c") and split_command("A=b c").env == (("A", "b"),)


# --- the recipes use them ------------------------------------------------------------------------

def test_node_recipe_starts_the_render_start_command(tmp_path: Path) -> None:
    write(tmp_path, "package.json", '{"name": "a", "scripts": {"start": "node other.js"}}')
    write(tmp_path, "server.js", "")
    write(tmp_path, "render.yaml", "services:\n  - {type: web, name: a, startCommand: node server.js}\n")
    recipe = detect(tmp_path)
    start = recipe.start(None)  # type: ignore[attr-defined]
    assert start.argv == ("node", "server.js") and start.source == "render.yaml startCommand"


def test_node_recipe_passes_over_a_dockerfile_it_cannot_run(tmp_path: Path) -> None:
    write(tmp_path, "package.json", '{"name": "a", "scripts": {"start": "node index.js"}}')
    write(tmp_path, "Dockerfile", 'FROM node\nENTRYPOINT ["tini", "--"]\nCMD ["node", "index.js"]\n')
    start = detect(tmp_path).start(None)  # type: ignore[attr-defined]
    assert start.argv == ("node", "index.js") and start.source == "scripts.start"


def test_python_recipe_starts_the_app_engine_entrypoint(tmp_path: Path) -> None:
    write(tmp_path, "requirements.txt", "flask\ngunicorn\n")
    write(tmp_path, "main.py", "from flask import Flask\napp = Flask(__name__)\n")
    write(tmp_path, "app.yaml", "runtime: python312\nentrypoint: gunicorn -b :$PORT main:app\n")
    recipe = detect(tmp_path)
    found = recipe.start()  # type: ignore[attr-defined]
    assert found.source == "app.yaml entrypoint"
    assert found.argv[1:] == ("-m", "gunicorn", "-b", ":${PORT}", "main:app")


def test_go_recipe_runs_its_binary_for_a_dockerfile_path(tmp_path: Path) -> None:
    write(tmp_path, "go.mod", "module example.com/hello\n\ngo 1.19\n")
    write(tmp_path, "main.go", "package main\nfunc main() {}\n")
    write(tmp_path, "Dockerfile", 'FROM golang\nRUN go build -o /bin/hello\nFROM scratch\n'
          'COPY --from=0 /bin/hello /hello\nENTRYPOINT ["/hello", "-addr", ":8080"]\n')
    recipe = detect(tmp_path)
    assert recipe.start().argv == ("/app/hello", "-addr", ":8080")  # type: ignore[attr-defined]
    write(tmp_path, "Dockerfile", 'FROM x\nENTRYPOINT ["/usr/local/bin/other"]\n')
    assert detect(tmp_path).start().argv == ("/app/hello",)  # type: ignore[attr-defined]
