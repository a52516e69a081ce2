"""Machine profiles applied for real: a CPU-bound command really is slower, memory really is capped,
bandwidth to one port really is shaped (and only that port, over IPv4 and IPv6), everything is torn
down, and what a SIGKILLed run left is swept by the next one.

This host has cgroup v1 (cpu and memory are bound to it); the cgroup v2 path runs for real in a
cgroup2 hierarchy the tests mount themselves, where only controllers not bound to v1 (hugetlb) can
be switched on: enough to check where groups go, that subtree_control changes are undone, and the
sweep after a kill."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pare.experiment import cgroup, shaping
from pare.experiment.cgroup import ROOT, Cgroup, LimitNotApplied
from pare.experiment.limits import Machine
from pare.experiment.profiles import Profile
from pare.experiment.shaping import Shaper
from pare.localregistry import free_port

pytestmark = pytest.mark.integration

BURN = [sys.executable, "-c", "x = 0\nfor i in range(2_500_000): x += i"]


def pare_cgroups() -> set[str]:
    """pare's groups and its parent subtree in the v1 cpu and memory hierarchies."""
    return {str(p.relative_to(ROOT)) for sub in ("cpu", "memory") for pattern in ("pare*", "pare/pare-*")
            for p in (ROOT / sub).glob(pattern)}


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


def test_a_container_given_the_groups_path_runs_inside_its_limits_and_its_groups_go_too() -> None:
    """Guards benchmarks/apps.py's micro start-up figures: it gave podman `--cgroup-parent
    /NAME`, a path beside pare's parent subtree, so the container ran unlimited and micro measured
    the same as laptop. Cgroup.path is where its groups are, in every v1 hierarchy; a process that
    runc puts under it (as podman does) is inside the quota. podman also leaves an empty `conmon`
    group in its parent after `podman rm`: the groups go all the same, the one inside them too."""
    before = pare_cgroups()
    with Cgroup(cpus=0.2, memory_mb=64) as group:
        made = list(group.dirs)
        assert sorted(made) == sorted(ROOT / sub / group.path.lstrip("/") for sub in ("cpu", "memory"))
        child = made[0] / "conmon"  # where an engine makes its own group
        child.mkdir()
        sleeper = subprocess.Popen(["sh", "-c", f"echo $$ > {child}/cgroup.procs; exec sleep 30"])
        deadline = time.monotonic() + 5
        while str(sleeper.pid) not in (child / "cgroup.procs").read_text().split():
            assert time.monotonic() < deadline, "the process never joined the inner group"
            time.sleep(0.05)
        assert int((made[0] / "cpu.cfs_quota_us").read_text()) == 20_000
    assert sleeper.wait(5) == -signal.SIGKILL  # killed with the groups, as a container left running is
    assert not any(d.exists() for d in made) and pare_cgroups() == before


def test_memory_limit_is_real() -> None:
    hog = [sys.executable, "-c",
           "b = bytearray({n} * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1"]
    with Machine(Profile("small", memory_mb=200)) as m:
        ok = m.run([hog[0], hog[1], hog[2].format(n=50)])
        assert ok.returncode == 0 and ok.peak_memory is not None and ok.peak_memory > 50 * 1024 * 1024
        killed = m.run([hog[0], hog[1], hog[2].format(n=400)], check=False)
    assert killed.returncode != 0 and killed.oom_killed


def _serve(port_holder: list[int], ready: threading.Event, total: int, host: str) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as srv:
        srv.bind((host, port_holder[0]))
        srv.listen(1)
        ready.set()
        conn, _ = srv.accept()
        with conn:
            chunk = b"x" * 65536
            sent = 0
            while sent < total:
                conn.sendall(chunk)
                sent += len(chunk)


def free_port_on(host: str) -> int:
    if ":" not in host:
        return free_port(host)
    with socket.socket(socket.AF_INET6) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def fetch_seconds(port: int, total: int, host: str = "127.0.0.1") -> float:
    """Seconds to receive `total` bytes from a local server on `port` (server -> client direction)."""
    ready = threading.Event()
    thread = threading.Thread(target=_serve, args=([port], ready, total, host), daemon=True)
    thread.start()
    ready.wait(5)
    start = time.perf_counter()
    got = 0
    with socket.create_connection((host, port)) as c:
        while got < total:
            data = c.recv(1 << 20)
            if not data:
                break
            got += len(data)
    thread.join(5)
    assert got >= total
    return time.perf_counter() - start


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"], ids=["ipv4", "ipv6"])
def test_bandwidth_limit_is_real_and_only_on_its_port(host: str) -> None:
    """Over ::1 too: the filters matched IPv4 only, so a client reaching the registry over IPv6
    was not slowed at all."""
    shaped, other = free_port_on(host), free_port_on(host)
    total = 5 * 1024 * 1024  # 5 MiB at 20 Mbit/s: 2.1 s
    with Machine(Profile("net", bandwidth_mbit=20), registry_port=shaped) as m:
        classes = m.applied()["tc"]["classes"]
        assert all(c in tc_lines() for c in classes)
        seconds = fetch_seconds(shaped, total, host)
        unshaped = fetch_seconds(other, total, host)
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


# --- leftovers of killed runs, delegated subtrees, both hierarchies ---------------------------------

def run_then_kill(code: str) -> tuple[subprocess.Popen[str], dict[str, object]]:
    """Start a Python child that sets limits up and prints what it made as one JSON line, then
    waits to be SIGKILLed (as a CI runner or the OOM killer would end it)."""
    child = subprocess.Popen([sys.executable, "-c", code + "\nimport time\ntime.sleep(120)"],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line, "the child failed before it set anything up"
    return child, json.loads(line)


def kill(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait(10)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


CHILD_CGROUP = """
import json, subprocess, sys
from pathlib import Path
from pare.experiment.cgroup import Cgroup
group = Cgroup({args}).__enter__()
sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], preexec_fn=group.preexec)
print(json.dumps({{"dirs": [str(d) for d in group.dirs], "sleeper": sleeper.pid}}), flush=True)
"""


@pytest.fixture
def cgroup2_root(tmp_path: Path) -> Iterator[Path]:
    """A cgroup of the test's own in a cgroup2 hierarchy the test mounts; hugetlb (the controller
    this v1 host leaves to v2) is made available to it, and pare's code gets it as its root."""
    mount = tmp_path / "cgroup2"
    mount.mkdir()
    subprocess.run(["mount", "-t", "cgroup2", "none", str(mount)], check=True)
    switches = mount / "cgroup.subtree_control"
    switched_on = False
    root = mount / f"pare-test-{uuid.uuid4().hex[:8]}"
    try:
        if "hugetlb" not in (mount / "cgroup.controllers").read_text().split():
            pytest.fail("no cgroup v2 controller free on this host to drive the v2 path with")
        if "hugetlb" not in switches.read_text().split():
            switches.write_text("+hugetlb")
            switched_on = True
        root.mkdir()
        yield root
    finally:
        for leftover in sorted(root.glob("**/"), key=lambda p: len(p.parts), reverse=True):
            leftover.rmdir()
        if switched_on:
            switches.write_text("-hugetlb")
        subprocess.run(["umount", str(mount)], check=True)


HUGETLB = {"hugetlb.2MB.max": "0"}


def subtree(path: Path) -> list[str]:
    return (path / "cgroup.subtree_control").read_text().split()


def test_v2_groups_go_in_pare_subtree_and_subtree_control_is_restored(cgroup2_root: Path,
                                                                     tmp_path: Path) -> None:
    """Guards the v2 path that switched +cpu +memory on in the root's subtree_control for good
    and made its group straight under the root."""
    state = tmp_path / "state"
    assert subtree(cgroup2_root) == []
    with Cgroup(settings=HUGETLB, root=cgroup2_root, state=state) as group:
        [made] = group.dirs
        assert made.parent == cgroup2_root / "pare" and (made / "hugetlb.2MB.max").read_text().strip() == "0"
        assert cgroup2_root / group.path.lstrip("/") == made  # what --cgroup-parent is given
        assert "hugetlb" in subtree(cgroup2_root) and "hugetlb" in subtree(cgroup2_root / "pare")
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                   preexec_fn=group.preexec)
        assert str(sleeper.pid) in (made / "cgroup.procs").read_text().split()
    assert sleeper.wait(5) == -signal.SIGKILL
    assert subtree(cgroup2_root) == [] and not [p for p in cgroup2_root.iterdir() if p.is_dir()]
    assert json.loads((state / "cgroups.json").read_text()) == {"groups": [], "setup": []}


def test_v2_a_delegated_subtree_is_used_as_it_is(cgroup2_root: Path, tmp_path: Path) -> None:
    """A parent that exists (delegated to pare) is neither removed nor changed above it, and
    pare's own switch in it is undone."""
    delegated = cgroup2_root / "delegated"
    delegated.mkdir()
    (cgroup2_root / "cgroup.subtree_control").write_text("+hugetlb")
    try:
        with Cgroup(settings=HUGETLB, root=cgroup2_root, parent="delegated", state=tmp_path) as group:
            assert group.dirs[0].parent == delegated and "hugetlb" in subtree(delegated)
            assert group.path == f"/delegated/{group.name}"
        assert delegated.is_dir() and subtree(delegated) == [] and subtree(cgroup2_root) == ["hugetlb"]
    finally:
        (cgroup2_root / "cgroup.subtree_control").write_text("-hugetlb")
        delegated.rmdir()


def test_v2_sweep_after_a_kill_spares_live_runs_and_reports_what_stays(
        cgroup2_root: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """A SIGKILLed run's group, the process it left in it, pare's parent and the subtree_control
    switch are all swept by the next run; a live run's group is left alone; what cannot be
    removed is one warning line and is tried again next time."""
    state = tmp_path / "state"
    args = f"settings={HUGETLB!r}, root=Path({str(cgroup2_root)!r}), state=Path({str(state)!r})"
    child, made = run_then_kill(CHILD_CGROUP.format(args=args))
    group, sleeper = Path(str(made["dirs"][0])), int(str(made["sleeper"]))  # type: ignore[index]
    try:
        cgroup.sweep(state)  # the child is alive: nothing of it may go
        assert group.is_dir() and alive(sleeper)
        kill(child)
        (group / "stuck").mkdir()  # an inner group goes with its group, unless it is busy: a mount point
        subprocess.run(["mount", "-t", "tmpfs", "none", str(group / "stuck")], check=True)
        try:
            cgroup.sweep(state)
        finally:
            subprocess.run(["umount", str(group / "stuck")], check=True)
        warnings = [line for line in capfd.readouterr().err.splitlines() if "warning" in line]
        assert len(warnings) == 1 and str(group) in warnings[0], warnings
        assert not alive(sleeper) and group.is_dir()
        cgroup.sweep(state)  # the inner group is an empty group now, and goes with its group
        assert "warning" not in capfd.readouterr().err
        assert not group.exists() and subtree(cgroup2_root) == []
        assert not [p for p in cgroup2_root.iterdir() if p.is_dir()]
    finally:
        kill(child)


def test_v1_sweep_after_a_kill(tmp_path: Path) -> None:
    """On this host's v1 hierarchies: a killed run's cpu and memory groups, the process left in
    them and pare's parent groups are swept by the next run."""
    parent = f"pare-test-{uuid.uuid4().hex[:8]}"  # not the real `pare` subtree: a live run may use it
    state = tmp_path / "state"
    args = f"cpus=0.5, memory_mb=300, parent={parent!r}, state=Path({str(state)!r})"
    child, made = run_then_kill(CHILD_CGROUP.format(args=args))
    dirs = [Path(str(d)) for d in made["dirs"]]  # type: ignore[attr-defined]
    try:
        assert sorted(d.parent for d in dirs) == [ROOT / "cpu" / parent, ROOT / "memory" / parent]
        kill(child)
        assert all(d.is_dir() for d in dirs)
        cgroup.sweep(state)
        assert not any(d.exists() or d.parent.exists() for d in dirs)
        assert not alive(int(str(made["sleeper"])))
    finally:
        kill(child)


CHILD_SHAPER = """
import json
from pare.experiment.shaping import Shaper
shaper = Shaper({args}).__enter__()
print(json.dumps(shaper.describe()), flush=True)
"""


def qdiscs(dev: str) -> str:
    return subprocess.run(["tc", "qdisc", "show", "dev", dev], capture_output=True, text=True).stdout


def test_tc_sweep_after_a_kill(dummy_dev: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A SIGKILLed run's classes, filters and the HTB root it added are swept by the next run."""
    monkeypatch.setenv("PARE_STATE_DIR", str(tmp_path / "state"))  # the children inherit it
    child, made = run_then_kill(CHILD_SHAPER.format(args=f"5000, 20, dev={dummy_dev!r}"))
    try:
        shaping.sweep()
        assert all(c in tc_lines(dummy_dev) for c in made["classes"])  # type: ignore[attr-defined]
        kill(child)
        assert "htb" in qdiscs(dummy_dev)
        shaping.sweep()
        assert tc_lines(dummy_dev).strip() == "" and "htb" not in qdiscs(dummy_dev)
    finally:
        kill(child)


def test_an_htb_root_shared_by_two_runs_goes_with_the_last(dummy_dev: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The first run added the root and left it when the second still had classes under it; then
    nobody owned it and it stayed on the device for good."""
    monkeypatch.setenv("PARE_STATE_DIR", str(tmp_path))
    first = Shaper(5000, 20, dev=dummy_dev).__enter__()
    second = Shaper(5001, 20, dev=dummy_dev).__enter__()
    assert first.owns_root and not second.owns_root and second.handle == first.handle
    first.close()
    assert "htb" in qdiscs(dummy_dev) and all(c in tc_lines(dummy_dev) for c in second.classes)
    second.close()
    assert "htb" not in qdiscs(dummy_dev)


def test_ipv4_and_ipv6_filters_are_added_and_removed(dummy_dev: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARE_STATE_DIR", str(tmp_path))

    def filters() -> str:
        return subprocess.run(["tc", "filter", "show", "dev", dummy_dev], capture_output=True,
                              text=True).stdout

    with Shaper(5000, 20, dev=dummy_dev):
        assert "protocol ip " in filters() and "protocol ipv6 " in filters()
    assert filters().strip() == ""
