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
