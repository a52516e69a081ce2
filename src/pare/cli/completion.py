"""`pare completion bash|zsh|fish`: the shell script that completes pare's commands and options.

    eval "$(pare completion bash)"                         # ~/.bashrc
    eval "$(pare completion zsh)"                          # ~/.zshrc
    pare completion fish > ~/.config/fish/completions/pare.fish

The script asks `pare` itself (click's protocol, _PARE_COMPLETE=...) on every Tab, so completions
follow the installed version; `make venv` adds it to the venv's activate scripts.
"""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish)."""
    from click.shell_completion import get_completion_class

    from pare.cli.main import cli
    complete = get_completion_class(shell)
    assert complete is not None  # click ships all three
    click.echo(complete(cli, {}, "pare", "_PARE_COMPLETE").source())
