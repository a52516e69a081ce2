"""The run-time contract every image keeps, whichever path built it (docs/runtime-contract.md).

Platforms start a container with PORT set and stop it with SIGTERM. So every image runs its
command under an init from Debian packages as PID 1 (catatonit: statically linked in every suite
pare uses, 0.7 MB; it forwards signals to the app, reaps zombies and exits with the app's code), and
a command that names the port gets it when the container starts, not when the image is built:
execline's `importas` (a 15 kB program of Debian's execline package, no shell) reads PORT and
substitutes it for `${PORT}` in the argv it then execs, with the image's default port when PORT
is unset. Servers that read PORT themselves (gunicorn, and most Node and Go apps) need neither.
"""

from __future__ import annotations

from collections.abc import Sequence

INIT = "/usr/bin/catatonit"
LAUNCHER = "/usr/lib/execline/bin/importas"
# Debian packages the contract's programs come from (locked with every runtime)
PACKAGES = ("catatonit", "execline")
# How a start command names the port it must listen on: replaced by PORT's value at start
PORT_REF = "${PORT}"


def reads_port(argv: Sequence[str]) -> bool:
    """Whether `argv` names the port (so the launcher must substitute it at start)."""
    return any(PORT_REF in word for word in argv)


def launcher(default_port: str) -> tuple[str, ...]:
    """importas: PORT's value (else `default_port`) for ${PORT} in the rest of argv, then exec."""
    return (LAUNCHER, "-D", default_port, "PORT", "PORT")


def wrap(entrypoint: Sequence[str], cmd: Sequence[str], default_port: str) -> tuple[str, ...]:
    """The image's entrypoint: the init as PID 1, the launcher when the command names the port."""
    head: tuple[str, ...] = (INIT, "--")
    if reads_port((*entrypoint, *cmd)):
        head += launcher(default_port)
    return (*head, *entrypoint)
