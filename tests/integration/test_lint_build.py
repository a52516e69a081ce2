"""`pare lint --measure` and `pare fix --verify` against real builds (buildah) and runs (podman).

--measure: the bytes a `RUN rm` and a `chown -R` layer waste are known (the files the test writes),
and the measured findings must carry exactly them, where the default estimates carry typical sizes.
--verify: busybox httpd built from a Dockerfile and from pare fix's rewrite of it (its `chown -R`
folded into COPY --chown) must answer GET alike, the rewrite smaller. FROM scratch with
busybox-static: no registry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import need

pytestmark = pytest.mark.integration

BIG = 300_000
APP_FILES = {"app/one.txt": 12_345, "app/sub/two.bin": 54_321}
DOCKERFILE = """FROM scratch
COPY busybox /busybox
COPY big.tar.gz /data/big.tar.gz
COPY app/ /app/
WORKDIR /work
RUN ["/busybox", "rm", "/data/big.tar.gz"]
RUN ["/busybox", "chown", "-R", "1000:1000", "/app"]
USER 1000
CMD ["/busybox", "true"]
"""


def _lint(args: list[str]) -> tuple[int, list[dict[str, object]], str]:
    proc = subprocess.run([sys.executable, "-m", "pare", "lint", "--json", *args], capture_output=True,
                          text=True, check=False, timeout=600)
    findings = json.loads(proc.stdout)[0]["findings"] if proc.stdout.startswith("[") else []
    return proc.returncode, findings, proc.stderr


def busybox_context(tmp_path: Path) -> None:
    """A build context holding the static busybox, the one program these scratch images run."""
    need("buildah")
    busybox = Path("/bin/busybox")
    if not busybox.exists():
        pytest.fail("busybox-static is not installed: run `make setup`")
    (tmp_path / "busybox").write_bytes(busybox.read_bytes())
    (tmp_path / "busybox").chmod(0o755)


def test_measure_prices_from_the_layers(tmp_path: Path) -> None:
    busybox_context(tmp_path)
    (tmp_path / "big.tar.gz").write_bytes(os.urandom(BIG))
    for name, size in APP_FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(os.urandom(size))
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)

    code, estimated, err = _lint([str(tmp_path / "Dockerfile")])
    assert code == 0, err
    by_family = {f["family"]: f for f in estimated}
    assert {"removed-later", "chown-after-copy"} <= set(by_family)
    assert not any(f["measured"] for f in estimated)

    code, measured, err = _lint(["--measure", str(tmp_path / "Dockerfile")])
    assert code == 0, err
    exact = {f["family"]: f for f in measured}
    assert exact["removed-later"]["bytes"] == BIG and exact["removed-later"]["measured"] is True
    assert exact["chown-after-copy"]["bytes"] == sum(APP_FILES.values())
    # the build context at hand, the default estimate of the removed file is already what was measured
    code, with_context, err = _lint(["--context", str(tmp_path), str(tmp_path / "Dockerfile")])
    assert code == 0, err
    assert {f["family"]: f["bytes"] for f in with_context}["removed-later"] == BIG
    assert [f["bytes"] for f in measured if f["bytes"] is not None] == \
        sorted((f["bytes"] for f in measured if f["bytes"] is not None), reverse=True)


def test_measure_reports_a_failed_build_in_one_line(tmp_path: Path) -> None:
    need("buildah")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY missing.txt /m\n")
    proc = subprocess.run([sys.executable, "-m", "pare", "lint", "--measure", str(tmp_path / "Dockerfile")],
                          capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 3  # docs/cli.md: input invalid (the Dockerfile names a missing file)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pare: error: buildah bud failed:")


PAGE = 200_000
SITE_DOCKERFILE = """FROM scratch
COPY busybox /busybox
COPY site/ /site/
RUN ["/busybox", "chown", "-R", "1000:1000", "/site"]
EXPOSE 8080
CMD ["/busybox", "httpd", "-f", "-p", "8080", "-h", "/site"]
"""


def test_fix_verify_builds_runs_and_compares(tmp_path: Path) -> None:
    need("podman")
    busybox_context(tmp_path)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_bytes(os.urandom(PAGE).hex().encode()[:PAGE])
    (tmp_path / "Dockerfile").write_text(SITE_DOCKERFILE)
    env = {**os.environ, "PARE_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.run([sys.executable, "-m", "pare", "fix", "--verify", "--path", "/index.html",
                           str(tmp_path / "Dockerfile")], capture_output=True, text=True, check=False,
                          timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "+COPY --chown=1000:1000 site/ /site/" in proc.stdout and "+USER 65532:65532" in proc.stdout
    verified = [line for line in proc.stderr.splitlines() if line.startswith("pare fix: verified:")]
    assert verified and "answers 200 from both" in verified[0], proc.stderr
    before, after = verified[0].split("; ")[1].removesuffix(" compressed").split(" -> ")
    assert before != after  # the chown layer (the page's bytes again) is gone
    assert (tmp_path / "Dockerfile").read_text() == SITE_DOCKERFILE  # --verify alone writes nothing


def test_verify_runs_images_built_where_the_path_is_no_valid_reference(tmp_path: Path) -> None:
    """podman names an OCI layout's image after its path; a work directory such as a random temp
    name ending in `_` (pare-fix-verify-kpo89w0_) is no valid reference, and the run must not care."""
    from pare.lint.fix import fix
    from pare.lint.parser import parse
    from pare.lint.verify import verify
    need("podman")
    busybox_context(tmp_path)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("hello\n")
    (tmp_path / "Dockerfile").write_text(SITE_DOCKERFILE)
    after, _ = fix(parse(SITE_DOCKERFILE))
    work = tmp_path / "Work_-dir_"
    work.mkdir()
    old, new = verify(tmp_path / "Dockerfile", after, tmp_path, 8080, "/index.html", work=work)
    assert (old.status, old.body) == (new.status, new.body) == (200, b"hello\n")


@pytest.mark.timeout(1800)  # a Go toolchain base and a go build, twice in one store: minutes on 2 cores
def test_fix_verify_on_a_corpus_app(tmp_path: Path) -> None:
    """go-cloud-run-hello's own Dockerfile (tests/corpus), FROMs mapped to pare's bases as
    benchmarks/lint_apps.py maps them: pare fix adds a non-root USER on its scratch stage, and
    --verify builds both, runs both and finds the same page, no larger. The app's ~1 MB binary is
    built in a Go toolchain stage; both builds share one buildah store, so the second reuses it."""
    need("buildah")
    need("podman")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import lint_apps

    name = "go-cloud-run-hello"
    spec = lint_apps.SPECS[name]
    context = tmp_path / "app"
    shutil.copytree(lint_apps.CORPUS / name, context, symlinks=True)
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(lint_apps.prepared(spec, (context / "Dockerfile").read_text()))
    bases = [f"--base={ref}={lint_apps.base_location(p)}" for ref, p in spec.bases.items() if p != "scratch"]
    env = {**os.environ, "PARE_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.run([sys.executable, "-m", "pare", "fix", "--verify", "--context", str(context), *bases,
                           "--port", str(spec.port), str(dockerfile)], capture_output=True, text=True,
                          check=False, timeout=1800, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "+USER 65532:65532" in proc.stdout
    verified = [line for line in proc.stderr.splitlines() if line.startswith("pare fix: verified:")]
    assert verified and "answers 200 from both" in verified[0], proc.stderr
