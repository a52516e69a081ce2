"""Importing pare must not change how other libraries behave; the `pare` program may keep its own
start-up fast. Each check runs in a fresh interpreter, since sys.modules is process-wide."""

from __future__ import annotations

import subprocess
import sys

import pytest

LIBRARY_USERS = [
    "import pare",
    "import pare.stores.registry.client",
    "from pare.stores.transports import open_location",
    "import pare.cli.main",  # importing the CLI module is not running it
]


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize("imports", LIBRARY_USERS)
def test_importing_pare_leaves_httpx_whole(imports: str) -> None:
    """Guards pare/__init__.py's `sys.modules["httpx._main"] = None`, which broke `httpx.main`
    (httpx's own command-line tool) for every program that imported pare first."""
    out = _python(f"{imports}\nimport sys, httpx\n"
                  "tool = sys.modules.get('httpx._main')\n"
                  "print(tool is not None and httpx.main is tool.main)")
    assert out == "True"


def test_the_pare_program_skips_httpx_command_line_tool() -> None:
    """The start-up saving stays where it belongs: in the program's entry point."""
    out = _python("import sys\nfrom pare.cli.main import main\n"
                  "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
                  "import httpx\nprint('httpx._main' in sys.modules and sys.modules['httpx._main'] is None)")
    assert out.endswith("True")


HEAVY_FOR_HELP = ("pare.recipes", "pare.engines", "pare.native", "pare.stores", "pare.oci", "rich.console",
                  "rich.table", "rich.progress", "httpx", "yaml")


def _modules_after(args: list[str]) -> set[str]:
    out = _python("import sys\nfrom pare.cli.main import main\n"
                  f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
                  "print(' '.join(sorted(m for m, mod in sys.modules.items() if mod is not None)))")
    return set(out.splitlines()[-1].split())


@pytest.mark.parametrize("args", [["--help"], [], ["inspect", "--help"]])
def test_help_imports_no_command_machinery(args: list[str]) -> None:
    """`pare --help` lists commands from cli/main.py's HELP table: it imports no command module, no
    recipe, engine or store, and none of rich's heavy parts (issue 20: it spent 0.24 s on them)."""
    loaded = _modules_after(args)
    heavy = sorted(m for m in loaded if m.startswith(HEAVY_FOR_HELP))
    if args == ["inspect", "--help"]:  # a command's own help imports that command, and only what it needs
        heavy = [m for m in heavy if not m.startswith(("pare.oci", "pare.stores"))]
    assert heavy == []
    if args != ["inspect", "--help"]:
        assert not [m for m in loaded if m.startswith("pare.cli.") and m not in
                    ("pare.cli.main", "pare.cli.group", "pare.cli.output")]


def test_version_imports_no_click() -> None:
    loaded = _modules_after(["--version"])
    assert "click" not in loaded and not [m for m in loaded if m.startswith("pare.") and m not in
                                          ("pare.cli", "pare.cli.main", "pare.errors")]
