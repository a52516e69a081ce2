"""Machine profiles applied for real: a CPU-bound command really is slower, memory really is capped,
bandwidth to one port really is shaped (and only that port), and everything is torn down."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pare.experiment.cgroup import ROOT, Cgroup, LimitNotApplied
from pare.experiment.limits import Machine
from pare.experiment.profiles import Profile
from pare.experiment.shaping import Shaper
from pare.localregistry import free_port

pytestmark = pytest.mark.integration

BURN = [sys.executable, "-c", "x = 0\nfor i in range(2_500_000): x += i"]


def pare_cgroups() -> set[str]:
    return {p.name for sub in ("cpu", "memory") for p in (ROOT / sub).glob("pare-*")}


def tc_lines(dev: str = "lo") -> str:
    return subprocess.run(["tc", "class", "show", "dev", dev], capture_output=True, text=True).stdout


def test_cpu_limit_is_real() -> None:
    """Judged against the command's own CPU time, so other tests loading the machine cannot fake it:
    at 0.2 CPU the wall clock must run at least ~5x its CPU time (asserted: >3.5x); unlimited, ~1x."""
    before = pare_cgroups()
    with Machine(Profile("free")) as m:
        free = m.run(BURN)
    with Machine(Profile("slow", cpus=0.2)) as m:
        assert m.applied()["cgroup"]["cpus"] == 0.2
        limited = m.run(BURN)
    assert limited.seconds > 3.5 * limited.cpu_seconds, limited
    assert free.seconds < 2.5 * free.cpu_seconds, free
    assert limited.seconds > 2 * free.seconds
    assert pare_cgroups() == before


def test_memory_limit_is_real() -> None:
    hog = [sys.executable, "-c",
           "b = bytearray({n} * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1"]
    with Machine(Profile("small", memory_mb=200)) as m:
        ok = m.run([hog[0], hog[1], hog[2].format(n=50)])
        assert ok.returncode == 0 and ok.peak_memory is not None and ok.peak_memory > 50 * 1024 * 1024
        killed = m.run([hog[0], hog[1], hog[2].format(n=400)], check=False)
    assert killed.returncode != 0 and killed.oom_killed


def _serve(port_holder: list[int], ready: threading.Event, total: int) -> None:
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", port_holder[0]))
        srv.listen(1)
        ready.set()
        conn, _ = srv.accept()
        with conn:
            chunk = b"x" * 65536
            sent = 0
            while sent < total:
                conn.sendall(chunk)
                sent += len(chunk)


def fetch_seconds(port: int, total: int) -> float:
    """Seconds to receive `total` bytes from a local server on `port` (server -> client direction)."""
    ready = threading.Event()
    thread = threading.Thread(target=_serve, args=([port], ready, total), daemon=True)
    thread.start()
    ready.wait(5)
    start = time.perf_counter()
    got = 0
    with socket.create_connection(("127.0.0.1", port)) as c:
        while got < total:
            data = c.recv(1 << 20)
            if not data:
                break
            got += len(data)
    thread.join(5)
    assert got >= total
    return time.perf_counter() - start


def test_bandwidth_limit_is_real_and_only_on_its_port() -> None:
    shaped, other = free_port(), free_port()
    total = 5 * 1024 * 1024  # 5 MiB at 20 Mbit/s: 2.1 s
    with Machine(Profile("net", bandwidth_mbit=20), registry_port=shaped) as m:
        classes = m.applied()["tc"]["classes"]
        assert all(c in tc_lines() for c in classes)
        seconds = fetch_seconds(shaped, total)
        unshaped = fetch_seconds(other, total)
    expected = total * 8 / 20e6
    assert 0.8 * expected < seconds < 1.5 * expected, f"{seconds:.2f}s, expected ~{expected:.2f}s"
    assert unshaped < expected / 5
    assert not any(c in tc_lines() for c in classes)


def test_teardown_on_error_and_ctrl_c() -> None:
    before = pare_cgroups()
    port = free_port()
    for exc in (RuntimeError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), Machine(Profile("m", cpus=0.5, memory_mb=300, bandwidth_mbit=50),
                                               registry_port=port) as m:
            classes = m.applied()["tc"]["classes"]
            # a child left running inside the group is killed too
            assert m.cgroup is not None
            sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
            subprocess.Popen(sleeper, preexec_fn=m.cgroup.preexec)
            raise exc
        assert pare_cgroups() == before
        assert not any(c in tc_lines() for c in classes)


@pytest.fixture
def dummy_dev() -> Iterator[str]:
    """A veth device of the test's own, so qdisc experiments never touch lo."""
    name = f"pare{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "link", "add", name, "type", "veth", "peer", "name", name + "p"], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "link", "del", name], check=False)


def test_refuses_a_foreign_root_qdisc(dummy_dev: str) -> None:
    subprocess.run(["tc", "qdisc", "add", "dev", dummy_dev, "root", "handle", "1:", "tbf", "rate", "1mbit",
                    "burst", "32k", "latency", "50ms"], check=True)
    with pytest.raises(LimitNotApplied, match="root qdisc of kind 'tbf'"), Shaper(5000, 20, dev=dummy_dev):
        pass
    assert "htb" not in subprocess.run(["tc", "class", "show", "dev", dummy_dev],
                                       capture_output=True, text=True).stdout


def test_adds_under_an_existing_htb_root_and_leaves_it(dummy_dev: str) -> None:
    subprocess.run(["tc", "qdisc", "add", "dev", dummy_dev, "root", "handle", "7:", "htb"], check=True)
    with Shaper(5000, 20, dev=dummy_dev) as shaper:
        assert shaper.handle == "7:" and not shaper.owns_root
        assert all(c in tc_lines(dummy_dev) for c in shaper.classes)
    assert tc_lines(dummy_dev).strip() == ""
    assert "htb 7:" in subprocess.run(["tc", "qdisc", "show", "dev", dummy_dev], capture_output=True,
                                      text=True).stdout


def test_owned_root_is_removed(dummy_dev: str) -> None:
    with Shaper(5000, 20, dev=dummy_dev) as shaper:
        assert shaper.owns_root
    assert "htb" not in subprocess.run(["tc", "qdisc", "show", "dev", dummy_dev], capture_output=True,
                                       text=True).stdout


def test_cgroup_refuses_without_controllers(tmp_path: Path) -> None:
    with pytest.raises(LimitNotApplied, match=r"cpu limit 0\.2 CPU not applied"), \
            Cgroup(0.2, None, root=tmp_path):
        pass
