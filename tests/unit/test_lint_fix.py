"""pare fix's rewrites: each one on a Dockerfile that needs it; the result parses, lints cleaner in
the families the rewrite is about, keeps what must be kept, and says what it left undone."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from pare.lint.engine import lint
from pare.lint.fix import fix
from pare.lint.parser import parse

TODAY = dt.date(2026, 12, 1)


def families(text: str) -> set[str]:
    return {f.rule.family for f in lint(parse(text), None, TODAY).findings}


def fixed(text: str) -> tuple[str, list[str]]:
    return fix(parse(text))


def test_cleanups_merge_into_the_install() -> None:
    text = ("FROM debian:12-slim\nRUN apt-get update && apt-get install -y curl\n"
            "RUN rm -rf /var/lib/apt/lists/*\nRUN pip install flask && apk add git\nUSER 1\nCMD [\"x\"]\n")
    after, _ = fixed(text)
    assert "install --no-install-recommends -y curl" in after
    assert after.count("rm -rf /var/lib/apt/lists/*") == 1  # merged, the separate RUN gone
    assert "pip install --no-cache-dir flask" in after and "apk add --no-cache git" in after
    assert not families(after) & {"apt-recommends", "apt-lists", "pip-cache", "apk-cache"}
    assert families(text) & {"apt-recommends", "apt-lists", "pip-cache"}


def test_manifests_copied_before_the_install() -> None:
    text = ("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r req/prod.txt\n"
            "USER 1\nCMD [\"python\", \"app.py\"]\n")
    after, _ = fixed(text)
    lines = after.splitlines()
    assert lines[2] == "COPY req/prod.txt ./" and lines[3].startswith("RUN pip install")
    assert lines[4] == "COPY . ."
    assert "copy-before-install" in families(text) and "copy-before-install" not in families(after)


def test_chown_folded_into_copy() -> None:
    text = ("FROM debian:12-slim\nCOPY app/ /srv/app/\nRUN chown -R www-data /srv/app\n"
            "USER www-data\nCMD [\"x\"]\n")
    after, _ = fixed(text)
    assert "COPY --chown=www-data app/ /srv/app/" in after and "chown -R" not in after
    assert "chown-after-copy" in families(text) and "chown-after-copy" not in families(after)


def test_shell_cmd_to_json_and_the_one_it_cannot_convert() -> None:
    after, notes = fixed("FROM debian:12-slim\nUSER 1\nCMD ./server --port 80\n")
    assert 'CMD ["./server", "--port", "80"]' in after
    after, notes = fixed("FROM debian:12-slim\nUSER 1\nCMD ./server --port $PORT\n")
    assert "CMD ./server --port $PORT" in after and any("shell syntax" in n for n in notes)
    assert "# pare fix:" in after


def test_go_single_stage_becomes_build_and_distroless() -> None:
    text = ("FROM golang:1.25\nWORKDIR /src\nCOPY . .\nRUN go mod download\n"
            "RUN CGO_ENABLED=0 go build -o app .\n"
            "COPY config.yaml /etc/app/\nENV GIN_MODE=release\nEXPOSE 8080\nCMD [\"/src/app\"]\n")
    after, notes = fixed(text)
    df = parse(after)
    assert [s.base for s in df.stages] == ["golang:1.25", "gcr.io/distroless/static-debian12:nonroot"]
    final = df.final
    assert [i.original for i in final.of("COPY")] == ["COPY --from=build /src/app /src/app",
                                                       "COPY --from=build /etc/app/ /etc/app/"]
    assert final.env["GIN_MODE"] == "release" and final.of("EXPOSE")
    assert final.of("CMD")[0].args == ("/src/app",)
    assert not df.stages[0].of("CMD", "EXPOSE")  # moved, not copied
    assert "toolchain-final" in families(text) and not families(after) & {"toolchain-final", "no-user"}
    assert any("source tree" in n for n in notes)


def test_go_without_a_known_output_is_left_with_a_comment() -> None:
    after, notes = fixed("FROM golang:1.25\nCOPY . .\nRUN go install ./...\nCMD [\"server\"]\n")
    assert len(parse(after).stages) == 1 and any("binary" in n for n in notes)


def test_node_single_stage_prunes_dev_and_runs_as_node() -> None:
    text = ("FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\nENV PORT=3000\n"
            "EXPOSE 3000\nCMD node dist/main.js\n")
    after, _ = fixed(text)
    df = parse(after)
    assert [s.base for s in df.stages] == ["node:22", "node:22-slim"]
    assert any("npm prune --omit=dev" in i.original for i in df.stages[0].of("RUN"))
    final = df.final
    assert final.of("USER")[0].words == ("node",) and final.of("CMD")[0].json
    assert final.env["PORT"] == "3000" and final.of("WORKDIR")[0].words == ("/app",)
    assert families(text) >= {"fat-base", "no-user", "shell-cmd", "copy-before-install"}
    assert not families(after) & {"fat-base", "no-user", "shell-cmd", "copy-before-install"}


def test_python_single_stage_uses_a_venv_and_notes_apt_packages() -> None:
    text = ("FROM python:3.12\nWORKDIR /app\nRUN apt-get update && apt-get install -y libpq-dev\n"
            "COPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\n"
            "CMD [\"gunicorn\", \"app:app\"]\n")
    after, _ = fixed(text)
    df = parse(after)
    assert df.final.base == "python:3.12-slim"
    assert "/opt/venv/bin" in df.stages[0].env["PATH"] and "/opt/venv/bin" in df.final.env["PATH"]
    assert "# pare fix: the build stage installs libpq-dev" in after
    assert df.final.of("USER") and not families(after) & {"fat-base", "no-user", "pip-cache"}


def test_fix_keeps_comments_and_is_idempotent_where_nothing_is_left() -> None:
    text = "FROM debian:12-slim\n# why this exists\nRUN echo hi\nUSER 1\nCMD [\"x\"]\n"
    after, notes = fixed(text)
    assert after == text and notes == []


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[1] / "data" / "dockerfiles" / "corpus")
                                        .glob("*.Dockerfile")), ids=lambda p: p.stem)
def test_fix_output_parses_for_every_corpus_file(path: Path) -> None:
    after, _ = fix(parse(path.read_text(encoding="utf-8"), path.name))
    assert parse(after).stages


def test_command_prints_a_diff_and_writes(tmp_path: Path) -> None:
    target = tmp_path / "Dockerfile"
    target.write_text("FROM debian:12-slim\nRUN apt-get update && apt-get install -y curl\nUSER 1\n")
    run = [sys.executable, "-m", "pare", "fix", str(target)]
    shown = subprocess.run(run, capture_output=True, text=True, timeout=60, check=False)
    assert shown.returncode == 0
    assert "+RUN apt-get update && apt-get install --no-install-recommends" in shown.stdout
    assert "--no-install-recommends" not in target.read_text()
    wrote = subprocess.run([*run, "--write"], capture_output=True, text=True, timeout=60, check=False)
    assert wrote.returncode == 0 and "--no-install-recommends" in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]  # no temp file left behind


@pytest.mark.parametrize(("option", "message"), [
    ("--volume=nocolon", "--volume wants HOST:CONTAINER"),
    ("--build-arg=NOVALUE", "--build-arg wants KEY=VALUE"),
    ("--base=golang:1.22", "--base wants"),
    ("--env==x", "--env wants KEY=VALUE"),
])
def test_verify_build_options_refuse_bad_input_in_one_line(tmp_path: Path, option: str, message: str) -> None:
    target = tmp_path / "Dockerfile"
    target.write_text("FROM scratch\nCOPY a /a\nCMD [\"/a\"]\n")
    done = subprocess.run([sys.executable, "-m", "pare", "fix", "--verify", option, str(target)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr


@pytest.mark.parametrize(("final", "expect"), [
    ("FROM scratch\nCOPY --from=b /a /a\nCMD [\"/a\"]\n", "USER 65532:65532\nCMD"),
    ("FROM gcr.io/distroless/static\nCOPY --from=b /a /a\nCMD [\"/a\"]\n",
     "FROM gcr.io/distroless/static:nonroot"),
    ("FROM gcr.io/distroless/base-debian12:debug\nCMD [\"/a\"]\n", "base-debian12:debug-nonroot"),
    ("FROM node:22-slim\nCOPY --from=b /app /app\nCMD [\"node\", \"/app/i.js\"]\n", "USER node\nCMD"),
])
def test_multi_stage_final_gets_a_non_root_user(final: str, expect: str) -> None:
    text = "FROM golang:1.25 AS b\nRUN CGO_ENABLED=0 go build -o /a .\n" + final
    after, notes = fixed(text)
    assert expect in after and notes == []
    assert "no-user" in families(text) and "no-user" not in families(after)


def test_no_user_added_where_the_app_binds_a_low_port() -> None:
    after, notes = fixed("FROM scratch\nCOPY a /a\nEXPOSE 80\nCMD [\"/a\"]\n")
    assert "USER" not in after.split("# pare fix")[0] and any("port 80" in n for n in notes)


def test_install_before_the_tree_is_left_alone() -> None:
    text = ("FROM python:3.12-slim\nWORKDIR /app\nRUN --mount=type=bind,source=uv.lock,target=uv.lock "
            "uv sync --locked --no-install-project\nCOPY . /app\nRUN uv sync --locked\n"
            "USER 1\nCMD [\"app\"]\n")
    after, notes = fixed(text)
    assert after == text and notes == []


def test_apt_lists_removed_inside_a_heredoc() -> None:
    text = ("FROM debian:12-slim\nRUN <<EOF\napt-get update\n"
            "apt-get install -y --no-install-recommends git\nEOF\nUSER 1\nCMD [\"git\"]\n")
    after, _ = fixed(text)
    assert "git\nrm -rf /var/lib/apt/lists/*\nEOF\nUSER 1" in after
    assert "apt-lists" in families(text) and "apt-lists" not in families(after)


@pytest.mark.parametrize("text", ["FROM 0\nLABEL 0 0\r\\", "FROM 0\nLABEL 0 0\r0"])
def test_carriage_returns_inside_a_line_stay_inside_it(text: str) -> None:
    """Found by the fuzz target: a \\r is no line break to BuildKit, but str.splitlines made it one,
    so the rewrite split an instruction in two and wrote a Dockerfile that did not parse."""
    after, _ = fixed(text)
    assert after == text + "\n" and parse(after).final.of("LABEL")[0].line == 2


def test_apk_cache_off_inside_a_heredoc() -> None:
    text = "FROM alpine:3.22\nRUN <<EOF\napk update\napk add git\nEOF\nUSER 1\nCMD [\"git\"]\n"
    after, _ = fixed(text)
    assert "apk add --no-cache git\nEOF" in after and "apk-cache" not in families(after)


def test_a_small_node_base_is_kept_for_the_final_stage() -> None:
    after, _ = fixed("FROM node:20-alpine3.20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"i\"]\n")
    assert [s.base for s in parse(after).stages] == ["node:20-alpine3.20", "node:20-alpine3.20"]


def test_continued_lines_stay_as_written() -> None:
    text = ("FROM debian:12-slim\nRUN apt-get update && apt-get install -y \\\n    ca-certificates \\\n"
            "    # a comment inside the continuation\n    && rm -rf /var/lib/apt/lists/*\n"
            "USER 1\nCMD [\"x\"]\n")
    after, _ = fixed(text)
    assert after == text.replace("install -y", "install --no-install-recommends -y")


def test_no_cache_flags_where_the_run_mounts_a_cache() -> None:
    text = ("FROM python:3.12-slim\nRUN --mount=type=cache,target=/root/.cache/pip \\\n"
            "    pip install flask\nRUN --mount=type=cache,target=/var/cache/apk apk add git\n"
            "USER 1\nCMD [\"x\"]\n")
    after, _ = fixed(text)
    assert after == text
    assert not families(text) & {"pip-cache", "apk-cache"}


GO_ON_DEBIAN = ("FROM golang:1.23-bookworm AS builder\nWORKDIR /app\nCOPY . .\nRUN {build}\n"
                "FROM {final}\n"
                "RUN set -x && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \\\n"
                "    ca-certificates && \\\n    rm -rf /var/lib/apt/lists/*\n"
                "COPY --from=builder /app/server /app/server\nCMD [\"/app/server\"]\n")


@pytest.mark.parametrize(("build", "final", "image"), [
    ("go build -v -o server", "debian:bookworm-slim", "gcr.io/distroless/base-debian12:nonroot"),
    ("CGO_ENABLED=0 go build -o server", "debian:bookworm-slim", "gcr.io/distroless/static-debian12:nonroot"),
    ("CGO_ENABLED=0 go build -o server", "debian:trixie", "gcr.io/distroless/static-debian13:nonroot"),
    ("go build -o server", "ubuntu:24.04", "gcr.io/distroless/base-debian13:nonroot"),
    ("go build -o server", "debian:stable-slim", "gcr.io/distroless/base-debian13:nonroot"),  # today's stable
    ("go build -o server", "debian:12", "gcr.io/distroless/base-debian12:nonroot"),
])
def test_a_go_binary_on_an_os_image_moves_to_distroless(build: str, final: str, image: str) -> None:
    """The final stage's FROM becomes the distroless image that runs the binary, the CA install (which
    distroless holds) goes, distroless's nonroot user runs it; lint prices the move, then is quiet."""
    text = GO_ON_DEBIAN.format(build=build, final=final)
    assert "fat-base" in families(text)
    after, notes = fixed(text)
    assert f"FROM {image}\n" in after and "apt-get" not in after.split("AS builder", 1)[1]
    assert after.count('CMD ["/app/server"]') == 1 and "USER" not in after
    assert "fat-base" not in families(after) and "no-user" not in families(after)
    assert any("CGO_ENABLED=0" in n for n in notes) is ("CGO_ENABLED=0" not in build)


def test_an_os_image_named_through_an_arg_is_left_with_a_note() -> None:
    text = "ARG BASE=debian:bookworm-slim\n" + GO_ON_DEBIAN.format(build="go build -o server",
                                                                  final="${BASE}")
    after, notes = fixed(text)
    code = [line for line in after.splitlines() if not line.startswith("#")]
    assert "FROM ${BASE}" in code and not any("distroless" in line for line in code)
    assert "apt-get install" in after and any("comes from an ARG" in n for n in notes)


@pytest.mark.parametrize("change", [
    ("RUN set -x", "RUN apt-get update && apt-get install -y curl ca-certificates && echo"),  # curl is used
    ('CMD ["/app/server"]', "CMD /app/server"),  # a shell runs it
    ('CMD ["/app/server"]', 'USER app\nCMD ["/app/server"]'),  # a user distroless has not
    ("FROM golang:1.23-bookworm AS builder", "FROM node:22 AS builder"),  # not a compiled program
])
def test_what_distroless_cannot_run_stays_on_its_os_image(change: tuple[str, str]) -> None:
    text = GO_ON_DEBIAN.format(build="go build -o server", final="debian:bookworm-slim").replace(*change)
    after, _ = fixed(text)
    assert "distroless" not in after
