"""The command-line contract scripts rely on (docs/cli.md): exit codes, one-line errors on stderr,
references that never guess a registry, versioned --json, output that does not wrap in a pipe.

Every subcommand's error paths run in-process (helpers.run_cli); a few run as real processes, so
the console script, click's own parsing and the interpreter's exit status are covered too. No
registry runs here: "cannot reach" is a port nothing listens on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from helpers import make_image, noise
from helpers import run_cli as run
from pare.cli.main import ALIASES, COMMANDS, HELP, cli
from pare.errors import (
    AuthError,
    DigestMismatch,
    ExitCode,
    InvalidReference,
    ManifestError,
    NotFound,
    PareError,
    PolicyFailed,
    RegistryError,
    ToolMissing,
    UnsafeTarError,
    UsageError,
)
from pare.localregistry import free_port
from pare.stores.layout import LayoutStore

PARE = str(Path(sys.executable).parent / "pare")


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """A real one-image layout, tagged t."""
    path = tmp_path / "lay"
    LayoutStore(path).write(make_image(tmp_path / "w", {"bin/app": noise(3000, 7)}), "t")
    return path


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pare: error: "), err
    return lines[0]


def test_exit_codes_are_data_on_the_error_classes() -> None:
    assert [int(c) for c in (ExitCode.OK, ExitCode.POLICY, ExitCode.USAGE, ExitCode.INPUT, ExitCode.NETWORK,
                             ExitCode.ENVIRONMENT)] == [0, 1, 2, 3, 4, 5]
    expected = {PolicyFailed: 1, UsageError: 2, InvalidReference: 2, NotFound: 3, ManifestError: 3,
                DigestMismatch: 3, UnsafeTarError: 3, PareError: 3, RegistryError: 4, AuthError: 4,
                ToolMissing: 5}
    assert {cls: cls.exit_code for cls in expected} == expected


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_refuses_an_unknown_option_with_code_2(name: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([name, "--no-such-option"], capsys)
    line = one_error_line(err)
    assert code == 2 and out == ""
    assert "--no-such-option" in line and f"see 'pare {name} --help'" in line


@pytest.mark.parametrize("args", [["nonesuch"], ["inspect"], ["inspect", "--parallel", "0", "oci:x"],
                                  ["completion", "tcsh"], ["scan", "oci:a", "oci:b"], ["prune", "nonesuch"],
                                  ["gc", "docker-archive:x.tar"], ["images", "docker-archive:x.tar"]])
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(args, capsys)
    one_error_line(err)
    assert code == 2


@pytest.mark.parametrize("args", [[], ["db"], ["registry"], ["base"]])
def test_a_group_alone_prints_its_help_and_exits_2(args: list[str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(args, capsys)
    assert code == 2 and out == "" and err.startswith("Usage: pare") and "Commands:" in err
    assert len(err.splitlines()) > 5, "the help as click lays it out, not squeezed into one line"


def test_missing_inputs_exit_3_in_every_command(tmp_path: Path, layout: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    nope = f"oci:{tmp_path / 'nope'}"
    cases = [["inspect", nope], ["inspect", f"oci:{layout}:no-such-tag"], ["copy", nope, f"oci:{tmp_path}/x"],
             ["push", nope, "127.0.0.1:5000/x:1"], ["analyze", nope], ["diff", nope, nope], ["scan", nope],
             ["sbom", nope], ["gc", nope], ["images", nope], ["db", "import", str(tmp_path / "none")],
             ["build", str(tmp_path / "no-app")], ["dockerfile", str(tmp_path / "no-app")],
             ["bench", str(tmp_path / "no-app")], ["report", str(tmp_path / "none.json")],
             ["base", "show", "nonesuch"]]
    for args in cases:
        code, _, err = run(args, capsys)
        one_error_line(err)
        assert code == 3, (args, code, err)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "index.json").write_text("{not json")
    code, _, err = run(["inspect", f"oci:{tmp_path / 'bad'}"], capsys)
    assert code == 3 and one_error_line(err), "an invalid input is 3 as well"
    code, _, err = run(["sbom", f"oci:{layout}:t", "-o", str(layout / "index.json" / "x.json")], capsys)
    assert code == 3 and one_error_line(err), "an output path under a file: an OSError, one line"


def test_gc_of_a_missing_layout_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["gc", f"oci:{tmp_path / 'nope'}"], capsys)
    assert code == 3 and out == "" and "no such OCI layout" in one_error_line(err)


def test_unreachable_registries_exit_4(layout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    closed = f"127.0.0.1:{free_port()}/x/y:1"
    for args in (["pull", closed], ["push", f"oci:{layout}:t", closed], ["inspect", closed],
                 ["copy", closed, f"oci:{layout}:u"]):
        code, _, err = run(args, capsys)
        assert code == 4 and "cannot reach" in one_error_line(err), (args, err)


def test_bare_names_never_reach_a_registry(tmp_path: Path, layout: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    archive = tmp_path / "app.tar"
    archive.write_bytes(b"")
    code, _, err = run(["inspect", "lay"], capsys)
    assert code == 2 and one_error_line(err).endswith("did you mean oci:lay?")
    code, _, err = run(["inspect", "lay:t"], capsys)
    assert code == 2 and one_error_line(err).endswith("did you mean oci:lay:t?")
    code, _, err = run(["inspect", "app.tar"], capsys)
    assert code == 2 and one_error_line(err).endswith("did you mean docker-archive:app.tar?")
    code, _, err = run(["pull", "127.0.0.1:5000/app:1", "foo:bar"], capsys)
    line = one_error_line(err)
    assert code == 2 and "names no registry host" in line and "docker://foo:bar" in line
    for args in (["push", f"oci:{layout}:t", "app:1"], ["pull", "busybox"],
                 ["copy", f"oci:{layout}:t", "x/y"]):
        code, _, err = run(args, capsys)
        assert code == 2 and "no transport" in one_error_line(err), args


def test_a_gate_without_data_fails_unless_told(tmp_path: Path, layout: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """No vulnerability data at all: --fail-on cannot judge, exits 1 and says why on stderr."""
    db = ["--db", str(tmp_path / "empty.sqlite")]
    code, out, err = run(["scan", f"oci:{layout}:t", "--fail-on", "low", *db], capsys)
    assert code == 1 and "0 findings" in out
    assert "pare: warning: no vulnerability data imported" in err
    assert "pare: error: --fail-on low cannot judge" in err and "--accept-missing-data" in err
    code, out, err = run(["scan", f"oci:{layout}:t", "--fail-on", "low", "--accept-missing-data", *db],
                         capsys)
    assert code == 0 and "warning: no vulnerability data" in err and "warning" not in out
    code, out, _ = run(["scan", f"oci:{layout}:t", "-q", *db], capsys)
    assert code == 0 and out == ""


def test_json_documents_carry_a_versioned_schema(tmp_path: Path, layout: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARE_BUILD_CACHE", str(tmp_path / "cache"))  # prune measures this, not the shared one
    empty_db = ["--db", str(tmp_path / "db.sqlite")]
    commands = {
        "inspect": ["inspect", "--json", f"oci:{layout}:t"],
        "copy": ["copy", "--json", f"oci:{layout}:t", f"oci:{tmp_path / 'c'}:t"],
        "analyze": ["analyze", "--json", f"oci:{layout}:t"],
        "diff": ["diff", "--json", f"oci:{layout}:t", f"oci:{layout}:t"],
        "scan": ["scan", "--json", f"oci:{layout}:t", *empty_db],
        "gc": ["gc", "--json", f"oci:{layout}"],
        "images": ["images", "--json", f"oci:{layout}"],
        "db-status": ["db", "status", "--json", *empty_db],
        "registry-status": ["registry", "status", "--json", "--dir", str(tmp_path / "reg")],
        "prune": ["prune", "--json", "--dry-run", "npm"],
    }
    for schema, args in commands.items():
        code, out, _ = run(args, capsys)
        assert code in (0, 3), (args, code)  # registry status: 3 when not running, still a document
        assert json.loads(out)["schema"] == f"pare.{schema}/v1", args


def test_quiet_prints_only_the_digest_or_nothing(tmp_path: Path, layout: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    digest = str(LayoutStore(layout).read("t").digest)
    for args in (["inspect", "-q", f"oci:{layout}:t"],
                 ["copy", "-q", f"oci:{layout}:t", f"oci:{tmp_path}/q"]):
        code, out, err = run(args, capsys)
        assert code == 0 and out == digest + "\n" and err == ""
    for args in (["gc", "-q", f"oci:{layout}"], ["analyze", "-q", f"oci:{layout}:t"],
                 ["db", "status", "-q", "--db", str(tmp_path / "db.sqlite")]):
        code, out, _ = run(args, capsys)
        assert code == 0 and out == "", args
    code, out, _ = run(["images", "-q", f"oci:{layout}"], capsys)
    assert out == f"oci:{layout}:t\n"


def test_images_lists_layouts_with_sizes(tmp_path: Path, layout: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARE_STORE", str(tmp_path / "store"))
    code, out, _ = run(["images", "--json"], capsys)
    assert code == 0 and json.loads(out)["layouts"][0]["images"] == [], "an empty local: store is no error"
    assert run(["copy", "-q", f"oci:{layout}:t", "local:app:1"], capsys)[0] == 0
    image = LayoutStore(layout).read("t")
    code, out, _ = run(["ls", "--json", "local:", f"oci:{layout}"], capsys)
    local, oci = json.loads(out)["layouts"]
    assert [r["location"] for r in local["images"]] == ["local:app:1"]
    assert local["images"][0]["size"] == image.compressed_size and local["disk_bytes"] > 0
    assert oci["images"][0]["digest"] == str(image.digest)
    assert oci["images"][0]["platforms"] == ["linux/amd64"]
    code, out, _ = run(["images"], capsys)
    assert code == 0 and "app:1" in out and str(image.digest)[7:19] in out


def test_piped_output_does_not_wrap(tmp_path: Path) -> None:
    """A path longer than any terminal stays on one line when stdout is a pipe (a real process)."""
    deep = tmp_path / ("d" * 120) / "lay"
    LayoutStore(deep).write(make_image(tmp_path / "w", {"a": b"1"}), "t")
    done = subprocess.run([PARE, "gc", "--dry-run", f"oci:{deep}"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "COLUMNS": "40"})
    assert done.returncode == 0
    assert [line for line in done.stdout.splitlines() if str(deep) in line], done.stdout
    listed = subprocess.run([PARE, "images", f"oci:{deep}"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "COLUMNS": "40"})
    digest = str(LayoutStore(deep).read("t").digest)
    assert listed.returncode == 0 and digest[7:19] in listed.stdout
    assert "\x1b[" not in listed.stdout, "no colour codes in a pipe"
    forced = subprocess.run([PARE, "--color=always", "images", f"oci:{deep}"], capture_output=True, text=True,
                            timeout=60, env={k: v for k, v in os.environ.items() if k != "NO_COLOR"})
    assert "\x1b[" in forced.stdout, "--color=always colours even a pipe"
    no_color = subprocess.run([PARE, "images", f"oci:{deep}"], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "NO_COLOR": "1"})
    assert "\x1b[" not in no_color.stdout


def test_exit_codes_of_real_processes(tmp_path: Path) -> None:
    """The console script's status, not only main()'s SystemExit."""
    def status(*args: str) -> tuple[int, str]:
        done = subprocess.run([PARE, *args], capture_output=True, text=True, timeout=60)
        return done.returncode, done.stderr
    assert status("--version")[0] == 0
    code, err = status("inspect", "--bogus")
    assert code == 2 and one_error_line(err)
    code, err = status("gc", f"oci:{tmp_path / 'nope'}")
    assert code == 3 and one_error_line(err)
    code, err = status("pull", f"127.0.0.1:{free_port()}/a:1")
    assert code == 4 and one_error_line(err)
    code, err = status("pull", "127.0.0.1:5000/a:1", "foo:bar")
    assert code == 2 and one_error_line(err)


def test_help_lists_commands_from_the_table() -> None:
    """HELP (what `pare --help` shows without importing commands) says what each command says."""
    ctx = click.Context(cli)
    for name, text in HELP.items():
        command = cli.get_command(ctx, name)
        assert command is not None, name
        assert " ".join((command.help or "").split("\n\n")[0].split()) == text, name
    assert set(ALIASES) <= set(COMMANDS)


def test_completion_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    for shell, marker in (("bash", "complete -o"), ("zsh", "compdef"), ("fish", "complete --no-files")):
        code, out, _ = run(["completion", shell], capsys)
        assert code == 0 and "_PARE_COMPLETE" in out and marker in out, shell
    done = subprocess.run([PARE], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "_PARE_COMPLETE": "bash_complete", "COMP_WORDS": "pare insp",
                               "COMP_CWORD": "1"})
    assert done.stdout.split() == ["plain,inspect"]


def test_registry_status_reads_the_state_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What `up` recorded (port, pid, directory) is what status reports, without --port."""
    root = tmp_path / "reg"
    root.mkdir()
    (root / "registry.json").write_text(json.dumps({"port": 5055, "pid": 1, "host": "127.0.0.1"}))
    code, out, _ = run(["registry", "status", "--json", "--dir", str(root)], capsys)
    body: dict[str, Any] = json.loads(out)
    assert code == 3 and body["port"] == 5055 and body["address"] == "127.0.0.1:5055"
    assert body["running"] is False and body["dir"] == str(root)


def test_make_venv_adds_completion_to_activate(tmp_path: Path) -> None:
    """scripts/install-completion.sh (run by `make venv`): once, however often it runs; bash completes."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "activate").write_text(f"export PATH={venv / 'bin'}:$PATH\n")  # as venv's does
    (venv / "bin" / "activate.fish").write_text("# fish\n")
    (venv / "bin" / "pare").symlink_to(PARE)
    script = Path(__file__).parents[2] / "scripts" / "install-completion.sh"
    for _ in range(2):
        subprocess.run(["sh", str(script), str(venv)], check=True, timeout=30)
    activate = (venv / "bin" / "activate").read_text()
    assert activate.count("pare shell completion") == 1
    assert "completion fish" in (venv / "bin" / "activate.fish").read_text()
    done = subprocess.run(["bash", "-c", f". {venv}/bin/activate; COMP_WORDS=(pare ima); COMP_CWORD=1; "
                           "_pare_completion pare; echo ${COMPREPLY[@]}"], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.split() == ["images"], done.stderr


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["inspect", "--help"], ["completion", "zsh"],
                                  ["images"], ["gc", "--dry-run"]])
def test_a_reader_that_leaves_gets_141_and_no_noise(args: list[str], tmp_path: Path) -> None:
    """`pare ... | head`: exit 141 as coreutils (not 1, the code of a failed check), nothing on stderr."""
    proc = subprocess.Popen([PARE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PARE_STORE": str(tmp_path / "store")})
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141 and err == b""
