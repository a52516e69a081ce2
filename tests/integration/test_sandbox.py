"""The build sandbox itself (pare.native.sandbox through pare.native.process.run_tool), with the real
bubblewrap and kernel: what a step sees, what it may write, its network, its environment, its time
limit, its leftovers, its seccomp filter, and what happens where user namespaces are off. Each step
is a shell or a Python one-liner, so these take seconds; the builds of malicious apps are in
test_sandbox_builds.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import need
from pare.native import sandbox
from pare.native.process import BuildFailed, run_tool
from sandboxkit import listening, processes_with

pytestmark = pytest.mark.integration
UNREACHABLE = r"Network is unreachable|Connection refused"
PYTHON = "/usr/bin/python3"  # Debian's, under /usr: visible inside the sandbox


@pytest.fixture(autouse=True)
def _bwrap() -> None:
    need("bwrap")


def sh(script: str, **kwargs: object) -> str:
    return run_tool(["/bin/sh", "-c", "exec 2>&1; " + script], what="step", **kwargs)  # type: ignore[arg-type]


def test_step_is_a_non_root_user_without_capabilities_under_seccomp() -> None:
    out = sh("id -u; id -g; grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status")
    lines = out.split()
    assert lines[:2] == [str(sandbox.SANDBOX_UID)] * 2
    status = dict(zip(lines[2::2], lines[3::2], strict=True))
    assert status["CapEff:"] == status["CapBnd:"] == "0000000000000000"
    assert status["Seccomp:"] == "2" and status["NoNewPrivs:"] == "1"


def test_host_files_are_not_there_and_the_system_is_read_only(tmp_path: Path) -> None:
    out = sh("cat /etc/shadow 2>&1; ls /root 2>&1; echo x > /etc/pare-sandbox-test 2>&1; "
             "echo x > /usr/pare-sandbox-test 2>&1; echo x > $HOME/ok && echo home-writable; true")
    assert "No such file" in out and "Read-only file system" in out and "home-writable" in out
    assert not Path("/etc/pare-sandbox-test").exists() and not Path("/usr/pare-sandbox-test").exists()


def test_only_the_steps_trees_are_writable(tmp_path: Path) -> None:
    work, source, other = tmp_path / "work", tmp_path / "source", tmp_path / "other"
    source.mkdir()
    (source / "go.mod").write_text("module x\n")
    other.mkdir()
    out = sh(f"echo made > {work}/out; echo x >> {source}/go.mod 2>&1; ls {other} 2>&1; true",
             writable=[work], readable=[source], cwd=source)
    assert (work / "out").read_text() == "made\n"
    assert (source / "go.mod").read_text() == "module x\n" and "Read-only file system" in out
    assert "No such file" in out  # a path the step was not given does not exist for it


def test_cache_is_read_only_to_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    (cache / "npm-packages" / "node").mkdir(parents=True)
    (cache / "npm-packages" / "node" / "LICENSE").write_text("MIT\n")
    monkeypatch.setenv("PARE_BUILD_CACHE", str(cache))
    license_file = cache / "npm-packages" / "node" / "LICENSE"
    out = sh(f"cat {license_file}; echo evil >> {license_file}; true")
    assert out.startswith("MIT") and "Read-only file system" in out
    assert (cache / "npm-packages" / "node" / "LICENSE").read_text() == "MIT\n"


def test_environment_is_an_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARE_TEST_TOKEN", "s3cret")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", "http://127.0.0.1:9/")
    out = sh("env", env={"GIVEN": "1"})
    names = {line.split("=", 1)[0] for line in out.splitlines()}
    assert "GIVEN" in names and "PATH" in names
    assert not {"PARE_TEST_TOKEN", "PIP_INDEX_URL", "NPM_CONFIG_REGISTRY"} & names
    with sandbox.using(sandbox.Policy(enabled=False)):  # --no-sandbox keeps the allow-list
        out = sh("env")
    assert "s3cret" not in out and "PIP_INDEX_URL" not in out


@pytest.fixture
def listener() -> Iterator[int]:
    with listening() as port:
        yield port


def test_network_only_for_fetching_steps(listener: int) -> None:
    probe = (f"import socket;s=socket.create_connection(('127.0.0.1',{listener}),timeout=3);"
             "print(s.recv(2).decode())")
    assert run_tool([PYTHON, "-c", probe], network=True).strip() == "hi"
    with pytest.raises(BuildFailed, match=UNREACHABLE):
        run_tool([PYTHON, "-c", probe])
    with sandbox.using(sandbox.Policy(network=False)), \
            pytest.raises(BuildFailed, match=UNREACHABLE):
        run_tool([PYTHON, "-c", probe], network=True)  # --network=none wins over the step


def test_seccomp_refuses_namespaces_keyrings_ptrace_and_mounts() -> None:
    calls = {"unshare": "l.unshare(0x10000000)", "keyctl": "l.syscall(250,0,-3,0,0,0)",
             "ptrace": "l.ptrace(16,1,0,0)", "mount": "l.mount(b'none',b'/tmp',b'tmpfs',0,0)",
             "bpf": "l.syscall(321,0,0,0)"}
    for name, call in calls.items():
        code = f"import ctypes;l=ctypes.CDLL(None,use_errno=True);r={call};print(r,ctypes.get_errno())"
        assert run_tool([PYTHON, "-c", code]).split() == ["-1", "1"], name  # -1, EPERM


def test_nothing_outlives_a_step() -> None:
    marker = f"{time.time_ns() % 10**6}.4242"
    sh(f"setsid sleep {marker} </dev/null >/dev/null 2>&1 & echo started")  # a daemon, then exit 0
    time.sleep(0.3)
    assert processes_with(marker) == []


def test_a_step_past_its_time_is_stopped_with_everything_it_started() -> None:
    marker = f"{time.time_ns() % 10**6}.4343"
    started = time.monotonic()
    with sandbox.using(sandbox.Policy(timeout=2)), \
            pytest.raises(sandbox.StepTimedOut, match="--step-timeout"):
        sh(f"setsid sleep {marker} </dev/null >/dev/null 2>&1 & sleep 600")
    assert time.monotonic() - started < 30
    time.sleep(0.3)
    assert processes_with(marker) == []


def test_secrets_reach_only_fetching_steps_read_only(tmp_path: Path) -> None:
    npmrc = tmp_path / "npmrc"
    npmrc.write_text("//registry.example/:_authToken=tok\n")
    policy = sandbox.Policy(secrets=(sandbox.parse_secret(f"id=npmrc,src={npmrc}"),))
    with sandbox.using(policy):
        out = sh("cat $npm_config_userconfig; echo x >> /run/secrets/npmrc 2>&1; true", network=True)
        offline = sh("ls /run/secrets 2>&1; echo ${npm_config_userconfig:-unset}; true")
    assert "_authToken=tok" in out and "Read-only file system" in out
    assert "No such file" in offline and "unset" in offline
    with pytest.raises(Exception, match="expected id=NAME,src=PATH"):
        sandbox.parse_secret("npmrc")


def test_user_namespaces_off_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    """Simulated without touching the machine: a user namespace of the test's own with its
    user.max_user_namespaces set to 0, where pare then runs."""
    need("unshare")
    code = ("import sys;from pare.native.process import run_tool;from pare.errors import PareError\n"
            "try:\n run_tool(['/bin/true'])\nexcept PareError as e:\n print(e);sys.exit(3)")
    done = subprocess.run(["unshare", "--user", "--map-root-user", "sh", "-c",
                           'echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" -c "$1"', sys.executable,
                           code], capture_output=True, text=True, env={**os.environ}, check=False)
    assert done.returncode == 3, done.stderr
    assert done.stdout.count("\n") == 1 and "user.max_user_namespaces" in done.stdout
    assert "--no-sandbox" in done.stdout
