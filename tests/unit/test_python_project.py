"""pare.recipes.python_project on the corpus's Python apps and on small hand-made cases for each branch.

The expected pins of the corpus lockfiles were produced by the tools that own those formats
(`uv export --frozen --no-dev`, `poetry export`, `pipenv requirements`) when the corpus was made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from helpers import write_tree as app
from pare.errors import UsageError
from pare.recipes.python_project import (
    PYTHON,
    SERVERS,
    Dependencies,
    PythonRequest,
    console_script,
    dependencies,
    django_project,
    find_web_app,
    pick_python,
    poetry_constraint,
    python_request,
    start_command,
)
from pare.recipes.settings import AppSettings

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

UV_EXPORT = (
    "annotated-types==0.7.0 anyio==4.11.0 certifi==2025.10.5 click==8.3.0 colorama==0.4.6 dnspython==2.8.0 "
    "email-validator==2.3.0 fastapi-cli==0.0.13 fastapi-cloud-cli==0.3.0 fastapi==0.118.0 h11==0.16.0 "
    "httpcore==1.0.9 httptools==0.6.4 httpx==0.28.1 idna==3.10 jinja2==3.1.6 markdown-it-py==4.0.0 "
    "markupsafe==3.0.3 mdurl==0.1.2 pydantic-core==2.33.2 pydantic==2.11.10 pygments==2.19.2 "
    "python-dotenv==1.1.1 python-multipart==0.0.20 pyyaml==6.0.3 rich-toolkit==0.15.1 rich==14.1.0 "
    "rignore==0.7.0 sentry-sdk==2.39.0 shellingham==1.5.4 sniffio==1.3.1 starlette==0.48.0 typer==0.19.2 "
    "typing-extensions==4.15.0 typing-inspection==0.4.2 urllib3==2.5.0 uvicorn==0.37.0 uvloop==0.21.0 "
    "watchfiles==1.1.0 websockets==15.0.1")
POETRY_EXPORT = ("blinker==1.9.0 click==8.1.3 colorama==0.4.4 flask==3.1.3 gunicorn==22.0.0 "
                 "itsdangerous==2.2.0 jinja2==3.1.6 markupsafe==2.1.1 packaging==25.0 werkzeug==3.1.6")
PIPENV_EXPORT = ("click==8.1.3 flask==2.0.2 gunicorn==20.1.0 itsdangerous==2.1.2 jinja2==3.1.2 "
                 "markupsafe==2.1.2 setuptools==67.3.2 werkzeug==2.2.3")


def pins(deps: Dependencies) -> set[str]:
    out = set()
    for line in deps.lines:
        name, _, version = line.split(";")[0].strip().partition("==")
        out.add(f"{canonicalize_name(name)}=={version}")
    return out


def start(root: Path, settings: AppSettings | None = None) -> tuple[str, ...]:
    return start_command(root, dependencies(root), settings or AppSettings()).argv


# --- the corpus ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "source", "expected", "install_project"), [
    ("py-fastapi-uv", "uv.lock", UV_EXPORT, True),
    ("py-flask-poetry", "poetry.lock", POETRY_EXPORT, False),
    ("py-flask-pipenv", "Pipfile.lock", PIPENV_EXPORT, False),
])
def test_lockfiles_give_the_pins_their_own_tools_export(name: str, source: str, expected: str,
                                                        install_project: bool) -> None:
    deps = dependencies(CORPUS / name)
    assert deps.source == source and deps.pinned and deps.install_project is install_project
    assert pins(deps) == set(expected.split())


def test_markers_survive_the_lock_walk() -> None:
    uv = dict(line.split(" ; ") for line in dependencies(CORPUS / "py-fastapi-uv").lines if " ; " in line)
    assert "sys_platform != 'win32'" in uv["uvloop==0.21.0"]  # as uv export writes it
    poetry = [line for line in dependencies(CORPUS / "py-flask-poetry").lines if line.startswith("colorama")]
    assert poetry == ['colorama==0.4.4 ; (platform_system == "Windows")']


def test_requirements_files_are_used_as_they_are() -> None:
    django = dependencies(CORPUS / "py-django-render")
    assert django.source == "requirements.txt" and django.pinned and "django==5.0.1" in pins(django)
    flask = dependencies(CORPUS / "py-flask-procfile")
    assert flask.lines == ("Flask >= 2.2", "gunicorn==20.1.0") and not flask.pinned


@pytest.mark.parametrize(("name", "spec", "picked"), [
    ("py-django-render", None, ("3.11", "bookworm")),
    ("py-fastapi-uv", ">=3.11", ("3.11", "bookworm")),
    ("py-flask-poetry", "<4.0,>=3.10", ("3.11", "bookworm")),
    ("py-flask-procfile", ">=3.10", ("3.11", "bookworm")),
])
def test_corpus_python_versions(name: str, spec: str | None, picked: tuple[str, str]) -> None:
    request = python_request(CORPUS / name)
    assert request.spec == (SpecifierSet(spec) if spec else None)
    assert pick_python(request) == picked


@pytest.mark.parametrize(("name", "argv"), [
    # render.yaml's startCommand, as Render runs it (gunicorn binds 0.0.0.0:$PORT when PORT is set)
    ("py-django-render", (PYTHON, "-m", "gunicorn", "mysite.asgi:application", "-k",
                          "uvicorn.workers.UvicornWorker")),
    ("py-fastapi-uv", (PYTHON, "-m", "uvicorn", "uv_docker_example:app", "--host", "0.0.0.0",
                       "--port", "${PORT}")),
    ("py-flask-poetry", (PYTHON, "-m", "gunicorn", "server:app")),
    ("py-flask-pipenv", (PYTHON, "-m", "gunicorn", "server:app")),
    ("py-flask-procfile", (PYTHON, "-m", "gunicorn", "--bind", ":${PORT}", "--workers", "1", "--threads", "8",
                           "--timeout", "0", "main:app")),
])
def test_corpus_start_commands(name: str, argv: tuple[str, ...]) -> None:
    assert start(CORPUS / name) == argv


def test_corpus_django_and_src_layout() -> None:
    django = django_project(CORPUS / "py-django-render")
    assert django is not None and django.settings_module == "mysite.settings"
    assert django.static_root_assigned and django.asgi == "mysite.asgi:application"
    web = find_web_app(CORPUS / "py-fastapi-uv")
    assert web is not None and (web.module, web.attr, web.kind, web.pythonpath) == (
        "uv_docker_example", "app", "asgi", ("src",))


# --- lockfile branches -----------------------------------------------------------------------------

POETRY_LOCK = """
[[package]]
name = "Flask"
version = "3.0.0"
[package.dependencies]
click = ">=8"
colorama = {version = "*", markers = "platform_system == 'Windows'"}
[[package]]
name = "click"
version = "8.1.7"
[package.dependencies]
colorama = {version = "*", markers = "sys_platform == 'win32'"}
[[package]]
name = "colorama"
version = "0.4.6"
[[package]]
name = "pytest"
version = "8.0.0"
[[package]]
name = "extra-thing"
version = "1.0"
"""


def test_poetry_walk_leaves_out_dev_and_optional_and_merges_markers(tmp_path: Path) -> None:
    root = app(tmp_path, {"poetry.lock": POETRY_LOCK, "pyproject.toml": """
[tool.poetry]
name = "x"
[tool.poetry.dependencies]
python = "^3.11"
flask = "^3"
extra-thing = {version = "*", optional = true}
[tool.poetry.group.dev.dependencies]
pytest = "*"
"""})
    deps = dependencies(root)
    assert deps.lines == ("click==8.1.7", "colorama==0.4.6", "Flask==3.0.0")
    assert not deps.install_project  # no [build-system]


def test_poetry_lock_missing_package_and_vcs_sources(tmp_path: Path) -> None:
    git_lock = '[[package]]\nname = "a"\nversion = "1"\n[package.source]\ntype = "git"\n'
    root = app(tmp_path, {"poetry.lock": git_lock,
                          "pyproject.toml": "[tool.poetry.dependencies]\na = '*'\nb = '*'\n"})
    with pytest.raises(UsageError, match=r"a comes from a git source"):
        dependencies(root)
    (root / "poetry.lock").write_text('[[package]]\nname = "a"\nversion = "1"\n')
    with pytest.raises(UsageError, match=r"b is required but not locked"):
        dependencies(root)


def test_uv_extras_markers_and_dev_groups(tmp_path: Path) -> None:
    root = app(tmp_path, {"pyproject.toml": '[project]\nname = "x"\n', "uv.lock": """
[[package]]
name = "x"
source = { virtual = "." }
dependencies = [{ name = "web", extra = ["fast"] }, { name = "win", marker = "sys_platform == 'win32'" }]
[package.dev-dependencies]
dev = [{ name = "ruff" }]
[[package]]
name = "web"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
[package.optional-dependencies]
fast = [{ name = "speed" }]
[[package]]
name = "speed"
version = "2.0"
source = { registry = "https://pypi.org/simple" }
[[package]]
name = "win"
version = "3.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "speed" }]
[[package]]
name = "ruff"
version = "0.1"
source = { registry = "https://pypi.org/simple" }
"""})
    deps = dependencies(root)
    assert deps.lines == ("speed==2.0", "web==1.0", "win==3.0 ; sys_platform == 'win32'")
    assert not deps.install_project  # a virtual project is not a package


def test_pipfile_lock_branches(tmp_path: Path) -> None:
    root = app(tmp_path, {"Pipfile.lock": {"default": {
        "requests": {"version": "==2.31.0", "extras": ["socks"], "markers": "python_version >= '3.7'"}},
        "develop": {"pytest": {"version": "==8.0.0"}}}})
    assert dependencies(root).lines == ("requests[socks]==2.31.0 ; python_version >= '3.7'",)
    (root / "Pipfile.lock").write_text(json.dumps({"default": {"lib": {"git": "https://x", "ref": "abc"}}}))
    with pytest.raises(UsageError, match=r"default.lib: a git dependency"):
        dependencies(root)
    (root / "Pipfile.lock").write_text("{not json")
    with pytest.raises(UsageError, match=r"cannot be read"):
        dependencies(root)


def test_pep621_without_lock_and_no_dependencies(tmp_path: Path) -> None:
    root = app(tmp_path, {"pyproject.toml": '[project]\nname = "x"\n'
                                            'dependencies = ["flask>=3", "gunicorn==22.0.0"]\n'
                                            '[build-system]\nrequires = ["hatchling"]\n'})
    deps = dependencies(root)
    assert deps.source == "pyproject.toml" and not deps.pinned and deps.install_project
    assert deps.names == {"flask", "gunicorn"}
    (root / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["flask >>> 3"]\n')
    with pytest.raises(UsageError, match=r"flask >>> 3"):
        dependencies(root)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert dependencies(empty) == Dependencies("", (), True)


# --- Python versions -------------------------------------------------------------------------------

@pytest.mark.parametrize(("files", "picked"), [
    ({".python-version": "3.13\n"}, ("3.13", "trixie")),
    ({".python-version": "# pinned\n3.14.0\n"}, ("3.14", "forky")),
    ({"runtime.txt": "python-3.15.1"}, ("3.15", "forky")),
    ({"Pipfile": '[requires]\npython_version = "3.13"\n'}, ("3.13", "trixie")),
    ({"pyproject.toml": '[project]\nname = "x"\nrequires-python = ">=3.12"\n'}, ("3.13", "trixie")),
    ({"pyproject.toml": '[tool.poetry.dependencies]\npython = "~3.14"\n'}, ("3.14", "forky")),
    ({}, ("3.11", "bookworm")),
])
def test_python_version_sources(tmp_path: Path, files: dict[str, object], picked: tuple[str, str]) -> None:
    assert pick_python(python_request(app(tmp_path, files))) == picked


@pytest.mark.parametrize(("files", "message"), [
    ({".python-version": "3.12\n"}, r"asks for Python ==3\.12\.\*.*--runtime python@X\.Y"),
    ({".python-version": "pypy3.10\n"}, r"'pypy3\.10' is not a Python version"),
    ({"runtime.txt": "3.11"}, r"runtime\.txt: expected python-X\.Y"),
])
def test_python_versions_no_suite_ships(tmp_path: Path, files: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        pick_python(python_request(app(tmp_path, files)))


def test_runtime_and_suite_settings_decide() -> None:
    nothing = PythonRequest(None, "default")
    assert pick_python(nothing, AppSettings(runtime="python@3.14")) == ("3.14", "forky")
    assert pick_python(nothing, AppSettings(suite="trixie")) == ("3.13", "trixie")
    with pytest.raises(UsageError, match=r"--runtime python@3.12: no Debian suite"):
        pick_python(nothing, AppSettings(runtime="python@3.12"))
    with pytest.raises(UsageError, match=r"in bookworm"):
        pick_python(nothing, AppSettings(runtime="python@3.13", suite="bookworm"))


@pytest.mark.parametrize(("poetry", "pep440"), [
    ("^3.10", ">=3.10,<4.0"), ("~3.10", ">=3.10,<3.11"), ("3.11.*", "==3.11.*"),
    (">=3.8,<3.13", ">=3.8,<3.13"), ("^3.9 || ^4", ">=3.9,<4.0"), ("^0.4", ">=0.4,<0.5"),
])
def test_poetry_constraints(poetry: str, pep440: str) -> None:
    assert poetry_constraint(poetry) == pep440


# --- start command branches ------------------------------------------------------------------------

def test_cmd_and_procfile_come_first(tmp_path: Path) -> None:
    root = app(tmp_path, {"requirements.txt": "gunicorn\nflask\n", "app.py": "app = Flask(__name__)\n",
                          "Procfile": "web: uvicorn main:app --port $PORT\n"})
    assert start(root, AppSettings(cmd="python serve.py --port $PORT")) == (
        PYTHON, "serve.py", "--port", "${PORT}")
    assert start(root, AppSettings(cmd=("/venv/bin/x",))) == ("/venv/bin/x",)
    assert start(root) == (PYTHON, "-m", "uvicorn", "main:app", "--port", "${PORT}")
    (root / "Procfile").unlink()
    assert start(root) == (PYTHON, "-m", "gunicorn", "app:app")  # gunicorn binds 0.0.0.0:$PORT itself


@pytest.mark.parametrize(("procfile", "message"), [
    ("web: celeryish worker\n", r"starts 'celeryish'.*--cmd"),
    ("web: python manage.py migrate && gunicorn x.wsgi\n", r"needs a shell.*--cmd"),
])
def test_procfile_lines_pare_cannot_run(tmp_path: Path, procfile: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        start(app(tmp_path, {"Procfile": procfile}))


def test_web_app_without_a_server_gets_the_pinned_one(tmp_path: Path) -> None:
    root = app(tmp_path, {"requirements.txt": "fastapi\n",
                          "main.py": "from fastapi import FastAPI\napp = FastAPI()\n"})
    found = start_command(root, dependencies(root), AppSettings())
    assert found.argv == (PYTHON, "-m", "uvicorn", "main:app", "--host", "0.0.0.0", "--port", "${PORT}")
    assert found.adds == (f"uvicorn=={SERVERS['asgi'][1]}",)  # no uvicorn declared: pare adds it
    (root / "requirements.txt").write_text("fastapi[standard]==0.118.0\n")
    found = start_command(root, dependencies(root), AppSettings())
    assert found.argv[:3] == (PYTHON, "-m", "uvicorn") and found.adds == ()  # the standard extra brings it
    (root / "requirements.txt").write_text("hypercorn\nquart\n")
    (root / "main.py").write_text("import quart\napi: quart.Quart = quart.Quart(__name__)\n")
    assert start(root) == (PYTHON, "-m", "hypercorn", "--bind", "0.0.0.0:${PORT}", "main:api")


def test_flask_factory_in_a_package(tmp_path: Path) -> None:
    root = app(tmp_path, {"requirements.txt": "flask\nwaitress\n", "web/__init__.py": "",
                          "web/wsgi.py": "import flask\nfrom web import create_app\napp = create_app()\n"})
    assert start(root) == (PYTHON, "-m", "waitress", "--listen=0.0.0.0:${PORT}", "web.wsgi:app")


CONDITIONAL = ("import os\nsettings_module = 'proj.production' if 'WEBSITE_HOSTNAME' in os.environ "
               "else 'proj.settings'\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', settings_module)\n")


def test_django_settings_come_from_the_tree_not_manage_py(tmp_path: Path) -> None:
    """App Service's Django sample computes its settings module in manage.py and wsgi.py: the
    settings package beside wsgi.py is the project's."""
    root = app(tmp_path, {
        "manage.py": CONDITIONAL, "proj/__init__.py": "", "proj/wsgi.py": CONDITIONAL,
        "proj/asgi.py": CONDITIONAL, "proj/production.py": "from .settings import *\n",
        "proj/settings/__init__.py": "from .base import *\n",
        "proj/settings/base.py": ("WSGI_APPLICATION = 'proj.wsgi.application'\n"
                                  "ASGI_APPLICATION = 'proj.asgi.application'\n"),
        "requirements.txt": "django\nuvicorn\n"})
    django = django_project(root)
    assert django is not None and django.settings_module == "proj.settings"
    assert not django.static_root_assigned
    assert start(root) == (PYTHON, "-m", "uvicorn", "proj.asgi:application", "--host", "0.0.0.0",
                           "--port", "${PORT}")
    (root / "requirements.txt").write_text("django\n")  # no server declared: gunicorn is added
    found = start_command(root, dependencies(root), AppSettings())
    assert found.argv == (PYTHON, "-m", "gunicorn", "proj.wsgi:application")
    assert found.adds == (f"gunicorn=={SERVERS['wsgi'][1]}",)
    (root / "proj/wsgi.py").write_text("os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n")
    (root / "proj/settings/base.py").write_text("")  # no WSGI_APPLICATION: the wsgi.py beside the settings
    assert start(root) == (PYTHON, "-m", "gunicorn", "proj.wsgi:application")


def test_django_project_without_settings_names_cmd(tmp_path: Path) -> None:
    root = app(tmp_path, {"manage.py": CONDITIONAL, "proj/__init__.py": "", "proj/wsgi.py": CONDITIONAL})
    with pytest.raises(UsageError, match=r"no settings module.*--cmd"):
        start(root)


def test_entry_modules_and_app_names_as_app_service_reads_them(tmp_path: Path) -> None:
    """application.py and an object named application made by a factory pare does not know."""
    root = app(tmp_path, {"requirements.txt": "flask\n", "application.py": (
        "from flask import Flask\nfrom .factory import build\napplication = build()\n")})
    assert start(root) == (PYTHON, "-m", "gunicorn", "application:application")
    (root / "main.py").write_text("import fastapi\nhelper = 1\napi = make_api()\n")
    (root / "application.py").unlink()
    assert start(root)[:4] == (PYTHON, "-m", "uvicorn", "main:api")


def test_nothing_to_start_names_cmd(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nothing to start.*--cmd"):
        start(app(tmp_path, {"requirements.txt": "requests\n", "lib.py": ""}))


def test_console_script_from_entry_points(tmp_path: Path) -> None:
    app(tmp_path, {"tool-1.0.dist-info/entry_points.txt":
                   "[console_scripts]\nMyTool = tool.cli:main [extra]\n[gui_scripts]\nx = y:z\n"})
    assert console_script(tmp_path, "MyTool") == ("tool.cli", "main")
    assert console_script(tmp_path, "x") is None


# --- hashes and local inputs (issue 18) ------------------------------------------------------------

@pytest.mark.parametrize("name", ["py-fastapi-uv", "py-flask-poetry", "py-flask-pipenv"])
def test_lockfiles_give_every_pin_its_hashes(name: str) -> None:
    deps = dependencies(CORPUS / name)
    assert deps.hashed and len(deps.hashes) == len(deps.lines)
    for line, hashed in zip(deps.lines, deps.hashed_lines(), strict=True):
        assert hashed.startswith(line + " --hash=sha256:")
    pipenv = dict(zip(dependencies(CORPUS / "py-flask-pipenv").lines,
                      dependencies(CORPUS / "py-flask-pipenv").hashes, strict=True))
    click = next(hashes for line, hashes in pipenv.items() if line.startswith("click=="))
    assert click == ("sha256:7682dc8afb30297001674575ea00d1814d808d6a36af415a82bd481d37ba7b8e",
                     "sha256:bb4d8133cb15a609f44e8213d9b391b0809795062913b383c62be0ee95b1db48")


def test_a_lock_with_an_unhashed_pin_is_not_hashed(tmp_path: Path) -> None:
    lock = {"default": {"a": {"version": "==1.0", "hashes": ["sha256:" + "a" * 64]},
                        "b": {"version": "==2.0"}}}
    root = app(tmp_path, {"Pipfile.lock": json.dumps(lock)})
    deps = dependencies(root)
    assert not deps.hashed and deps.hashed_lines() == deps.lines == ("a==1.0", "b==2.0")
    lock["default"]["b"]["hashes"] = ["md5:abc", "sha256:" + "b" * 64]  # md5 is not pip's to check
    deps = dependencies(app(tmp_path / "2", {"Pipfile.lock": json.dumps(lock)}))
    assert deps.hashed_lines() == ("a==1.0 --hash=sha256:" + "a" * 64, "b==2.0 --hash=sha256:" + "b" * 64)


def test_local_inputs_cover_local_paths_and_included_files(tmp_path: Path) -> None:
    from pare.recipes.python_project import local_inputs
    root = app(tmp_path, {"localpkg/setup.py": "one", "extra.txt": "x==1\n./other\n", "other/m.py": "m"})
    lines = ["./localpkg", "-r extra.txt", "flask==3.0"]
    first = local_inputs(root, lines)
    (root / "localpkg" / "setup.py").write_text("two")
    second = local_inputs(root, lines)
    (root / "other" / "m.py").write_text("changed")  # named by the included file
    third = local_inputs(root, lines)
    assert len({b"|".join(first), b"|".join(second), b"|".join(third)}) == 3
    assert local_inputs(root, ["flask==3.0", "numpy>=1"]) == []
    for line in ("-e .", "--editable=./localpkg", "file:./localpkg#egg=x", "localpkg @ file:./localpkg"):
        assert local_inputs(root, [line]), line


# --- the detection apps (tests/data/detect: docs/detection.md's Python rules) ----------------------

DETECT = Path(__file__).resolve().parents[1] / "data" / "detect"


@pytest.mark.parametrize(("name", "argv", "server"), [
    ("django-no-server", (PYTHON, "-m", "gunicorn", "proj.wsgi:application"), "gunicorn"),
    ("flask-application", (PYTHON, "-m", "gunicorn", "application:app"), "gunicorn"),
    ("fastapi-main-api", (PYTHON, "-m", "uvicorn", "main:api", "--host", "0.0.0.0", "--port", "${PORT}"),
     "uvicorn"),
])
def test_detection_apps_start_under_the_server_pare_adds(name: str, argv: tuple[str, ...],
                                                        server: str) -> None:
    root = DETECT / name
    found = start_command(root, dependencies(root), AppSettings())
    assert found.argv == argv
    kind = "asgi" if server == "uvicorn" else "wsgi"
    assert found.adds == (f"{server}=={SERVERS[kind][1]}",)
    if name == "django-no-server":  # manage.py computes it; the tree says proj.settings
        django = django_project(root)
        assert django is not None and django.settings_module == "proj.settings"
