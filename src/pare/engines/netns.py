"""A private network namespace joined to this host by a veth pair: a place to run a container on
the port it insists on (3000, 8080...) without touching the host's loopback, and without an
engine's bridge network.

    with private_network() as net:
        podman run --network ns:{net.path} IMAGE      # the app listens on 0.0.0.0:PORT inside
        httpx.get(f"http://{net.address}:{PORT}/")    # reached from the host through the veth

The namespace and both ends of the pair are removed when the block ends. Needs root (ip netns).
"""

from __future__ import annotations

import contextlib
import random
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from pare.errors import EnvironmentProblem, ToolMissing

NETNS_DIR = "/run/netns"
SUBNET = "10.231"  # /30s inside 10.231.0.0/16 (private, not routed here)


class NetnsError(EnvironmentProblem):
    """The private network could not be set up (no root, no `ip`, a kernel without veth): exit 5."""


@dataclass(frozen=True)
class PrivateNetwork:
    name: str
    address: str  # the namespace's side of the veth pair
    host_address: str

    @property
    def path(self) -> str:
        return f"{NETNS_DIR}/{self.name}"


def _ip(*args: str) -> None:
    try:
        done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ToolMissing("ip (iproute2) is not installed") from None
    if done.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)} failed: {done.stderr.strip()}")


@contextlib.contextmanager
def private_network() -> Iterator[PrivateNetwork]:
    tag = uuid.uuid4().hex[:8]
    name = f"pare-{tag}"
    block = random.randrange(0, 1 << 14) * 4  # a /30 within the /16
    host_ip = f"{SUBNET}.{block >> 8}.{(block & 255) + 1}"
    ns_ip = f"{SUBNET}.{block >> 8}.{(block & 255) + 2}"
    host_end, ns_end = f"ph{tag}", f"pc{tag}"
    _ip("netns", "add", name)
    try:
        _ip("link", "add", host_end, "type", "veth", "peer", "name", ns_end, "netns", name)
        _ip("addr", "add", f"{host_ip}/30", "dev", host_end)
        _ip("link", "set", host_end, "up")
        _ip("-n", name, "addr", "add", f"{ns_ip}/30", "dev", ns_end)
        _ip("-n", name, "link", "set", ns_end, "up")
        _ip("-n", name, "link", "set", "lo", "up")
        yield PrivateNetwork(name, ns_ip, host_ip)
    finally:
        subprocess.run(["ip", "link", "del", host_end], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
