"""Each lint rule on a Dockerfile that should trip it and on its fixed twin; pragmas, config, the
output formats and the command's exit codes."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pare.lint.engine import Config, ConfigError, lint, load_config
from pare.lint.parser import parse
from pare.lint.rules import RULES

TODAY = dt.date(2026, 12, 1)


def ids(text: str, config: Config | None = None) -> list[str]:
    return sorted({f.rule.family for f in lint(parse(text), config, TODAY).findings})


# (family, Dockerfile that trips it, the same Dockerfile fixed); USER and JSON CMD keep the fixed
# ones clear of the no-user and shell-cmd families.
TAIL = "USER 1000\nCMD [\"app\"]\n"
CASES = [
    ("apt-recommends",
     "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
     "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl "
     "&& rm -rf /var/lib/apt/lists/*\n"),
    ("apt-lists", "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n",
     "FROM debian:12\nRUN --mount=type=cache,target=/var/lib/apt apt-get update && "
     "apt-get install -y --no-install-recommends curl\n"),
    ("pip-cache", "FROM python:3.12-slim\nRUN pip install flask\n",
     "FROM python:3.12-slim\nRUN pip install --no-cache-dir flask\n"),
    ("apk-cache", "FROM alpine:3.22\nRUN apk add curl\n", "FROM alpine:3.22\nRUN apk add --no-cache curl\n"),
    ("yum-cache", "FROM fedora:41\nRUN dnf install -y git\n",
     "FROM fedora:41\nRUN dnf install -y git && dnf clean all\n"),
    ("npm-ci", "FROM node:22-slim AS b\nCOPY package*.json ./\nRUN npm install\nFROM b\n",
     "FROM node:22-slim AS b\nCOPY package*.json ./\nRUN npm ci --omit=dev\nFROM b\n"),
    ("base-tag", "FROM ubuntu\n", "FROM ubuntu:24.04\n"),
    ("base-tag", "FROM ubuntu:latest\n", "FROM ubuntu@sha256:" + "a" * 64 + "\n"),
    ("add-url", "FROM debian:12\nADD https://x.test/a.tgz /a.tgz\n",
     "FROM debian:12\nADD --checksum=sha256:" + "a" * 64 + " https://x.test/a.tgz /a.tgz\n"),
    ("curl-pipe", "FROM debian:12\nRUN curl -fsSL https://x.test/i.sh | sh\n",
     "FROM debian:12\nRUN curl -fsSLo i.sh https://x.test/i.sh && sha256sum -c s && sh i.sh\n"),
    ("no-user", "FROM debian:12\nCMD [\"app\"]\n", "FROM gcr.io/distroless/static:nonroot\nCMD [\"app\"]\n"),
    ("no-user", "FROM debian:12\nUSER root\nCMD [\"app\"]\n", "FROM debian:12\nUSER root\nRUN x\nUSER app\n"),
    ("secret-env", "FROM debian:12\nENV DB_PASSWORD=hunter2\n",
     "FROM debian:12\nENV DB_PASSWORD_FILE=/run/s\n"),
    ("secret-env", "ARG GITHUB_TOKEN\nFROM debian:12\n", "ARG GITHUB_REF\nFROM debian:12\n"),
    ("shell-cmd", "FROM debian:12\nCMD node server.js\n", "FROM debian:12\nCMD exec node server.js\n"),
    ("toolchain-final", "FROM golang:1.25\nRUN go build -o /app .\n",
     "FROM golang:1.25 AS b\nRUN go build -o /app .\n"
     "FROM gcr.io/distroless/static\nCOPY --from=b /app /app\n"),
    ("fat-base", "FROM python:3.12\n", "FROM python:3.12-slim\n"),
    ("copy-before-install", "FROM node:22-slim\nCOPY . .\nRUN npm ci --omit=dev\n",
     "FROM node:22-slim\nCOPY package*.json ./\nRUN npm ci --omit=dev\nCOPY . .\n"),
    ("chown-after-copy", "FROM debian:12\nCOPY . /app\nRUN chown -R app /app\n",
     "FROM debian:12\nCOPY --chown=app . /app\n"),
    ("removed-later",
     "FROM debian:12\nCOPY big.tar.gz /tmp/\nRUN tar xf /tmp/big.tar.gz && echo\nRUN rm /tmp/big.tar.gz\n",
     "FROM debian:12\nRUN --mount=type=bind,source=big.tar.gz,target=/tmp/big.tar.gz "
     "tar xf /tmp/big.tar.gz\n"),
    ("dev-shipped", "FROM node:22-slim\nCOPY package*.json ./\nRUN npm ci\n",
     "FROM node:22-slim\nENV NODE_ENV=production\nCOPY package*.json ./\nRUN npm ci\n"),
    ("dev-shipped", "FROM python:3.12-slim\nCOPY tests/ /app/tests/\n",
     "FROM python:3.12-slim\nCOPY src/ /app/src/\n"),
    ("eol-runtime", "FROM node:18-slim\n", "FROM node:24-slim\n"),
    ("eol-runtime", "FROM python:3.8-slim-buster\n", "FROM python:3.13-slim\n"),
    ("eol-runtime", "FROM golang:1.19-alpine\n", "FROM golang:1.25-alpine\n"),
]


@pytest.mark.parametrize(("family", "bad", "good"), CASES, ids=[f"{c[0]}-{n}" for n, c in enumerate(CASES)])
def test_rule_trips_and_its_fix_does_not(family: str, bad: str, good: str) -> None:
    assert family in ids(bad + TAIL if family not in ("no-user", "shell-cmd") else bad)
    assert family not in ids(good + TAIL if family not in ("no-user", "shell-cmd") else good)


def test_every_rule_has_a_case_and_a_docs_page() -> None:
    covered = {c[0] for c in CASES} | {"trusted-registry"}
    docs = Path(__file__).parents[2] / "docs" / "lint"
    for rule in RULES:
        assert rule.family in covered
        page = (docs / f"{rule.id}.md").read_text(encoding="utf-8")
        assert rule.family in page and all(h in page for h in rule.hadolint)


def test_byte_rules_look_only_at_shipped_stages() -> None:
    text = ("FROM debian:12 AS build\nRUN apt-get update && apt-get install -y gcc\n"
            "FROM gcr.io/distroless/cc:nonroot\nCOPY --from=build /a /a\nCMD [\"/a\"]\n")
    assert ids(text) == []


def test_findings_come_largest_first() -> None:
    result = lint(parse("FROM golang:1.25\nRUN apt-get update && apt-get install -y git\nCMD [\"x\"]\n"),
                  None, TODAY)
    priced = [f.bytes for f in result.findings if f.bytes is not None]
    assert priced == sorted(priced, reverse=True) and priced[0] >= 700_000_000
    assert result.findings[-1].bytes is None


def test_pragmas_hadolint_and_pare() -> None:
    text = ("FROM debian:12\n# hadolint ignore=DL3015,DL3009\n"
            "RUN apt-get update && apt-get install -y curl\n"
            "# pare ignore=no-user\nUSER root\nCMD [\"x\"]\n")
    assert ids(text) == []
    assert ids("# pare global ignore=PL107\nFROM ubuntu\nUSER 1\n") == []
    assert ids("FROM ubuntu\n# hadolint ignore=DL3006\nUSER 1\n") == ["base-tag"]  # the pragma is for USER


def test_config_files(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.pare.lint]\nignore = ["DL3006"]\n'
                                             'trusted-registries = ["registry.test"]\n')
    sub = tmp_path / "svc"
    sub.mkdir()
    config = load_config(sub)
    assert config.ignore == {"DL3006"} and config.trusted_registries == ("registry.test",)
    assert ids("FROM ubuntu\nUSER 1\n", config) == ["trusted-registry"]
    assert ids("FROM registry.test/ubuntu\nUSER 1\n", config) == []
    (sub / ".pare-lint.toml").write_text('ignore = ["trusted-registry"]\nfail-on = "error"\n')
    assert load_config(sub).fail_on == "error" and load_config(sub).trusted_registries == ()
    (sub / ".pare-lint.toml").write_text("ignroe = []\n")
    with pytest.raises(ConfigError, match="ignroe"):
        load_config(sub)


def _run(args: list[str], stdin: str = "") -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "pare", *args], input=stdin, capture_output=True, text=True,
                          timeout=60, check=False)
    return done.returncode, done.stdout + done.stderr


def test_command_exit_codes_and_formats(tmp_path: Path) -> None:
    bad = "FROM debian:12\nENV API_TOKEN=x\nRUN apt-get update && apt-get install -y curl\n"
    code, out = _run(["lint", "-"], bad)
    assert code == 0 and "PL111" in out and out.index("PL101") < out.index("PL111")  # bytes first
    assert _run(["lint", "--fail-on", "error", "-"], bad)[0] == 1
    assert _run(["lint", "--fail-on", "error", "--ignore", "secret-env", "-"], bad)[0] == 0
    code, out = _run(["lint", "--json", "-"], bad)
    doc = json.loads(out)
    assert code == 0 and doc[0]["bytes"] == sum(f["bytes"] or 0 for f in doc[0]["findings"])
    code, out = _run(["lint", "--sarif", "-"], bad)
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0" and {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"PL111"}
    code, out = _run(["lint", "-"], "FROM a\nRUN <<EOF\n")
    assert code == 3 and "-:2: unterminated heredoc" in out
    assert _run(["lint", str(tmp_path / "missing")])[0] == 2


def test_files_copied_from_the_context_are_priced_from_their_sizes(tmp_path: Path) -> None:
    (tmp_path / "big.tar.gz").write_bytes(b"x" * 30_000)
    (tmp_path / "app" / "sub").mkdir(parents=True)
    (tmp_path / "app" / "one.txt").write_bytes(b"y" * 1_234)
    (tmp_path / "app" / "sub" / "two.bin").write_bytes(b"z" * 4_321)
    (tmp_path / "app" / "skip.log").write_bytes(b"w" * 99_999)
    (tmp_path / ".dockerignore").write_text("app/*.log\n")
    text = ("FROM scratch\nCOPY big.tar.gz /data/big.tar.gz\nCOPY app/ /app/\n"
            "RUN [\"chown\", \"-R\", \"1000:1000\", \"/app\"]\nRUN [\"rm\", \"/data/big.tar.gz\"]\n"
            "USER 1000\nCMD [\"/app/x\"]\n")

    def priced(context: Path | None) -> dict[str, int | None]:
        return {f.rule.family: f.bytes for f in lint(parse(text), None, TODAY, context).findings}

    exact = priced(tmp_path)
    assert exact["removed-later"] == 30_000
    assert exact["chown-after-copy"] == 1_234 + 4_321  # the ignored log is not in the context
    typical = priced(None)
    assert typical["removed-later"] != 30_000 and typical["chown-after-copy"] != 1_234 + 4_321


def test_a_tree_a_run_wrote_keeps_the_typical_price(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a").write_bytes(b"a" * 10)
    text = ("FROM node:22-slim\nWORKDIR /app\nCOPY app/ .\nRUN npm ci\nRUN chown -R node /app\n"
            "USER node\nCMD [\"node\", \"a\"]\n")
    found = {f.rule.family: f.bytes for f in lint(parse(text), None, TODAY, tmp_path).findings}
    assert found["chown-after-copy"] is not None and found["chown-after-copy"] > 10


@pytest.mark.parametrize(("reference", "suite"), [
    ("debian:bookworm-slim", "bookworm"), ("python:3.12-slim-bookworm", "bookworm"),
    ("debian:12", "bookworm"),
    ("golang:1.26-trixie", "trixie"), ("nginx", "trixie"), ("node:22", "trixie"), ("debian:13.2", "trixie"),
    ("ubuntu:24.04", None), ("registry.example.com/team/base:1", None), ("python:3.9-slim-buster", None),
])
def test_apt_lists_are_priced_for_the_suite_the_base_is_built_on(reference: str, suite: str | None) -> None:
    """The tag's suite, else today's stable for Docker's (Debian-based) official images; the generic
    figure where the distribution is unknown."""
    from pare.lint import pricing
    expected = pricing.APT_LISTS_BY_SUITE[suite] if suite else pricing.APT_LISTS
    assert pricing.apt_lists(reference) == expected
    finding = next(f for f in lint(parse(f"FROM {reference}\nRUN apt-get update && apt-get install -y "
                                         "--no-install-recommends curl\n"), None, TODAY).findings
                   if f.rule.family == "apt-lists")
    assert finding.bytes == expected
