"""The build sandbox: every step that runs an app's or a dependency's code (installs, build scripts,
node-gyp, pip builds, collectstatic, go build) runs here, the way BuildKit runs a RUN step and the
buildpacks lifecycle runs a build.

bubblewrap (Debian's `bubblewrap`) makes the step's world: new user, mount, PID, IPC, UTS and
network namespaces; uid/gid 65532 inside, no capabilities, a new session (no TIOCSTI into the
caller's terminal) and a seccomp filter that refuses what BuildKit's default profile refuses
(ptrace, mount, unshare, keyctl, bpf...). The filesystem is a fresh tmpfs holding only: /usr and
the host's merged-/usr links read-only (compilers, /bin/sh), the few /etc files tools need (CA
certificates, resolver, loader cache; never shadow, never /root), pare's build cache read-only, and
the step's own work and output directories writable. The network namespace is shared only with
steps that fetch. bwrap's PID namespace with --die-with-parent means that when the step ends (or
its time runs out) every process it started dies with it.

Why bubblewrap rather than unshare plus Landlock: one audited, packaged tool gives all of it
(namespaces, uid mapping, mount tree, seccomp, parent-death), and a mount tree that simply lacks
the host's files is a stronger statement than a Landlock rule set over a full view of them, and it
works on kernels without Landlock. The seccomp program is compiled by libseccomp (Debian's
libseccomp2, through pyseccomp's ctypes binding), never written by hand.

What a build is allowed is a Policy (the command line's --no-sandbox, --network, --step-timeout and
--secret), set for the duration of a build with `using(policy)`; each call says what that one step
needs (a Step: writable paths, extra readable paths, network).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from pare.errors import PareError, ToolMissing, UsageError

SANDBOX_UID = 65532  # distroless's nonroot, the user pare's images run as
DEFAULT_TIMEOUT = 20 * 60.0
SECRETS_DIR = "/run/secrets"
# Secrets pare knows how to hand to the tools (others are only mounted at /run/secrets/ID).
KNOWN_SECRETS = {"npmrc": ("npm_config_userconfig",), "pip.conf": ("PIP_CONFIG_FILE",), "netrc": ("NETRC",)}
# What a step's environment starts from: nothing of the caller's (no PIP_*, NPM_CONFIG_*, tokens).
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": "UTC"}
# /etc entries a build tool may read: TLS trust, name resolution, the loader's cache, alternatives.
ETC_READABLE = ("ssl", "ca-certificates", "ca-certificates.conf", "resolv.conf", "hosts", "nsswitch.conf",
                "host.conf", "gai.conf", "services", "protocols", "alternatives", "ld.so.cache", "ld.so.conf",
                "ld.so.conf.d", "localtime", "mime.types", "debian_version", "os-release")
# Refused with EPERM, as BuildKit's and Docker's default seccomp profiles refuse them.
BLOCKED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot", "unshare",
    "setns", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "kexec_load",
    "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct",
    "open_by_handle_at", "name_to_handle_at", "quotactl", "syslog", "settimeofday", "clock_settime",
    "clock_adjtime", "adjtimex", "iopl", "ioperm", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
    "open_tree", "mount_setattr", "lookup_dcookie", "vhangup", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "personality",
)
CLONE_NEWUSER = 0x10000000


class SandboxUnavailable(PareError):
    """The sandbox cannot be made on this machine (no bubblewrap, user namespaces off)."""


class StepTimedOut(PareError):
    """A sandboxed step ran past its time limit (every process of it was killed)."""


@dataclass(frozen=True)
class Secret:
    """A file a step needs but the image must never hold (a private index's credentials): mounted
    read-only at /run/secrets/ID for the steps that fetch, as BuildKit's --mount=type=secret."""

    id: str
    source: Path

    @property
    def target(self) -> str:
        return f"{SECRETS_DIR}/{self.id}"


@dataclass(frozen=True)
class Policy:
    """What the build allows its steps. enabled=False is --no-sandbox (steps run as pare's own user,
    still with the allow-listed environment, the time limit and their process group killed)."""

    enabled: bool = True
    network: bool = True  # False: --network=none, no step reaches the network
    timeout: float = DEFAULT_TIMEOUT
    secrets: tuple[Secret, ...] = ()


@dataclass(frozen=True)
class Step:
    """What one step needs: paths it writes (its work tree, its output), extra paths it reads
    (pare's build cache is always readable) and whether it fetches."""

    writable: tuple[Path, ...] = ()
    readable: tuple[Path, ...] = ()
    network: bool = False
    extra_env: Mapping[str, str] = field(default_factory=dict)


_policy: ContextVar[Policy | None] = ContextVar("pare_sandbox_policy", default=None)


def current() -> Policy:
    """The build's policy (the default: sandboxed, network for fetching steps, 20 min a step)."""
    return _policy.get() or Policy()


@contextlib.contextmanager
def using(policy: Policy | None) -> Iterator[Policy | None]:
    """Run the enclosed build under `policy`."""
    token = _policy.set(policy)
    try:
        yield policy
    finally:
        _policy.reset(token)


def parse_secret(text: str) -> Secret:
    """`id=npmrc,src=~/.npmrc` (docker build's --secret syntax; `source=` also accepted)."""
    fields_ = dict(part.partition("=")[::2] for part in text.split(",") if part)
    ident = fields_.pop("id", "")
    source = fields_.pop("src", "") or fields_.pop("source", "")
    fields_.pop("type", None)
    if not ident or not source or fields_ or "/" in ident or ident.startswith("."):
        raise UsageError(f"--secret {text!r}: expected id=NAME,src=PATH (NAME: npmrc, pip.conf, netrc or "
                         "any plain name)")
    path = Path(source).expanduser()
    if not path.is_file():
        raise UsageError(f"--secret {ident}: {path} is not a file")
    return Secret(ident, path.resolve())


def parse_timeout(value: float | str | None) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0
    if seconds <= 0:
        raise UsageError(f"--step-timeout {value!r}: must be a positive number of seconds")
    return seconds


def step_env(env: Mapping[str, str] | None, step: Step, policy: Policy) -> dict[str, str]:
    """A step's environment: the allow-list, then what the caller gives, then the secrets' pointers
    (the caller's own environment never reaches a step)."""
    merged = {**BASE_ENV, "HOME": "/tmp/home" if policy.enabled else tempfile.gettempdir(),
              **(env or {}), **step.extra_env}
    if step.network:
        for secret in policy.secrets:
            for name in KNOWN_SECRETS.get(secret.id, ()):
                merged[name] = secret.target if policy.enabled else str(secret.source)
    return merged


# --- availability ---------------------------------------------------------------------------------

def bwrap_path() -> str:
    found = shutil.which("bwrap")
    if not found:
        raise ToolMissing("bubblewrap is not installed (Debian: apt-get install bubblewrap); it runs build "
                          "steps in a sandbox, or build with --no-sandbox (unconfined: see docs/security.md)")
    return found


@functools.cache
def check_available() -> None:
    """Fail with one line when user namespaces are off, naming the setting (asked once per process)."""
    done = subprocess.run([bwrap_path(), "--unshare-user", "--uid", str(SANDBOX_UID), "--ro-bind", "/", "/",
                           "true"], capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return
    reason = done.stderr.strip().splitlines()[-1:] or ["unknown"]
    raise SandboxUnavailable("cannot make the build sandbox: user namespaces are off here "
                             f"({reason[0]}); enable them (sysctl user.max_user_namespaces=15000, or "
                             "kernel.unprivileged_userns_clone=1), or build with --no-sandbox")


@functools.cache
def seccomp_program() -> Path | None:
    """The BPF program BLOCKED_SYSCALLS compiles to, written once per process; None without libseccomp
    (then the step still has no capabilities and no way out of its namespaces but no filter)."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError):
        return None
    refuse = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in BLOCKED_SYSCALLS:
        try:
            rules.add_rule(refuse, name)
        except (ValueError, RuntimeError, OSError):
            continue  # not a syscall of this architecture
    # new user namespaces through clone(2); clone3 passes flags in memory, so it gets ENOSYS and
    # the C library falls back to clone, where the flag is seen
    rules.add_rule(refuse, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    fd, name = tempfile.mkstemp(prefix="pare-seccomp-", suffix=".bpf")
    with os.fdopen(fd, "wb") as out:
        rules.export_bpf(out)
    return Path(name)


# --- the command ----------------------------------------------------------------------------------

def _bind(flag: str, path: Path | str) -> list[str]:
    return [flag, str(path), str(path)]


def _root_links() -> list[str]:
    """/bin, /lib, /lib64, /sbin as the host has them: merged-/usr links, or read-only trees."""
    args: list[str] = []
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += _bind("--ro-bind", path)
    return args


def command(argv: Sequence[str], step: Step, policy: Policy, *, cwd: Path | None, cache: Path | None,
            seccomp_fd: int | None) -> list[str]:
    """The bwrap command line that runs `argv` as `step` under `policy`."""
    args = [bwrap_path(), "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--hostname", "pare-build"]
    if step.network and policy.network:
        args.append("--share-net")
    args += _bind("--ro-bind", "/usr") + _root_links()
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", "/tmp/home"]
    for name in ETC_READABLE:
        args += _bind("--ro-bind-try", f"/etc/{name}")
    args += ["--ro-bind", str(_identity_files()), "/etc/passwd",
             "--ro-bind", str(_identity_files().with_name("group")), "/etc/group"]
    if cache is not None and cache.is_dir():
        args += _bind("--ro-bind", cache)
    for path in step.readable:
        args += _bind("--ro-bind", path)
    for path in step.writable:
        path.mkdir(parents=True, exist_ok=True)
        args += _bind("--bind", path)
    if step.network:
        for secret in policy.secrets:
            args += ["--ro-bind", str(secret.source), secret.target]
    args += ["--remount-ro", "/"]  # the tmpfs root itself (/etc, /root...): only the mounts above write
    if cwd is not None:
        args += ["--chdir", str(cwd)]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    return [*args, "--", *argv]


@functools.cache
def _identity_files() -> Path:
    """/etc/passwd and /etc/group for the sandbox user (tools ask who they are), written once."""
    home = Path(tempfile.mkdtemp(prefix="pare-sandbox-etc-"))
    (home / "passwd").write_text(f"root:x:0:0:root:/root:/sbin/nologin\n"
                                 f"nonroot:x:{SANDBOX_UID}:{SANDBOX_UID}:nonroot:/tmp/home:/sbin/nologin\n")
    (home / "group").write_text(f"root:x:0:\nnonroot:x:{SANDBOX_UID}:\n")
    return home / "passwd"


def run(argv: Sequence[str], step: Step, *, cwd: Path | None, env: Mapping[str, str] | None,
        cache: Path | None, what: str) -> subprocess.CompletedProcess[str]:
    """Run one step under the current policy; its output is captured. StepTimedOut when it runs past
    the limit; every process it started is gone when this returns."""
    policy = current()
    full_env = step_env(env, step, policy)
    if not policy.enabled:
        return _run_unconfined(argv, step, cwd=cwd, env=full_env, policy=policy, what=what)
    check_available()
    program = seccomp_program()
    with contextlib.ExitStack() as stack:
        fd = None
        if program is not None:
            fd = os.open(program, os.O_RDONLY)
            stack.callback(os.close, fd)
        bwrap = command(argv, step, policy, cwd=cwd, cache=cache, seccomp_fd=fd)
        try:
            return subprocess.run(bwrap, env=full_env, capture_output=True, text=True, check=False,
                                  stdin=subprocess.DEVNULL, timeout=policy.timeout,
                                  pass_fds=(fd,) if fd is not None else ())
        except subprocess.TimeoutExpired:  # bwrap was killed; its PID namespace died with it
            raise StepTimedOut(f"{what or argv[0]} did not finish in {policy.timeout:g} s (--step-timeout); "
                               "it was stopped") from None


def _run_unconfined(argv: Sequence[str], step: Step, *, cwd: Path | None, env: Mapping[str, str],
                    policy: Policy, what: str) -> subprocess.CompletedProcess[str]:
    """--no-sandbox: the caller's user and view of the machine, but still the allow-listed
    environment, the time limit, and the step's process group killed when it ends."""
    for path in step.writable:
        path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=policy.timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        proc.communicate()
        raise StepTimedOut(f"{what or argv[0]} did not finish in {policy.timeout:g} s (--step-timeout); "
                           "it was stopped") from None
    _kill_group(proc.pid)
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, 9)
