"""Generated builder-pattern Dockerfiles: right bases per strategy, small final stages, non-root."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pare.engines.dockerfile import PROFILES, STRATEGIES, dockerignore, generate
from pare.errors import UsageError
from pare.recipes import detect
from pare.recipes.base import DockerFacts

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GO = DockerFacts("go", ("go.mod",), "go-hello")
NODE = DockerFacts("node", ("package.json", "package-lock.json"), "server.js")
PY = DockerFacts("python", ("requirements.txt",), "app.py")


def froms(text: str) -> list[str]:
    return re.findall(r"^FROM (\S+)", text, re.M)


def last_stage(text: str) -> str:
    return text[text.rindex("\nFROM "):]


@pytest.mark.parametrize("facts", [GO, NODE, PY], ids=["go", "node", "python"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_bases_follow_the_profiles_and_the_mapping(facts: DockerFacts, strategy: str) -> None:
    profiles = PROFILES[facts.language][strategy]
    bases = {p: f"127.0.0.1:5000/pare/base/{p}:abc" for p in profiles}
    out = generate(facts, strategy, bases)
    assert out.profiles == profiles
    named = [f for f in froms(out.text) if f != "scratch"]
    assert named == [bases[p] for p in profiles]
    assert out.text.endswith("\n")
    assert f'"/app/{facts.entry}"' in out.text or f"/out/{facts.entry}" in out.text


def test_go_multistage_ends_in_scratch_with_ca_nonroot_and_a_static_binary() -> None:
    text = generate(GO, "multistage").text
    assert froms(text)[-1] == "scratch"
    final = last_stage(text)
    assert "COPY --from=build /etc/ssl/certs/ca-certificates.crt" in final
    assert "USER 65532:65532" in final
    assert 'ENTRYPOINT ["/app/go-hello"]' in final
    assert "CGO_ENABLED=0 go build -trimpath" in text and "--mount=type=cache" in text
    assert "RUN" not in final  # nothing runs in a stage without a shell


def test_go_downloads_modules_only_when_there_are_any() -> None:
    assert "go mod download" not in generate(GO, "multistage").text
    with_sum = DockerFacts("go", ("go.mod", "go.sum"), "x")
    text = generate(with_sum, "multistage").text
    assert text.index("COPY go.mod go.sum ./") < text.index("go mod download") < text.index("COPY . .")


def test_onbuild_is_one_stage_on_the_fat_base() -> None:
    text = generate(NODE, "onbuild", {"fat-node": "fat:1"}).text
    assert froms(text) == ["fat:1"]
    assert "npm ci --omit=dev" in text
    assert "COPY --from" not in text


def test_node_multistage_copies_the_runtime_closure_into_distroless() -> None:
    text = generate(NODE, "multistage").text
    assert froms(text) == ["pare/base/fat-node", "pare/base/distroless-cc"]
    assert "ldd /usr/bin/node" in text
    final = last_stage(text)
    assert "COPY --from=build /rootfs/ /" in final
    assert "COPY --from=build /app/node_modules /app/node_modules" in final
    # dependency manifests are copied before the source so the npm layer survives code changes
    assert text.index("COPY package.json package-lock.json ./") < text.index("npm ci")


def test_node_without_lockfile_falls_back_to_npm_install() -> None:
    text = generate(DockerFacts("node", ("package.json",), "index.js"), "onbuild").text
    assert "npm install --omit=dev" in text and "npm ci" not in text


def test_python_multistage_installs_on_slim_and_runs_on_distroless() -> None:
    text = generate(PY, "multistage").text
    assert froms(text) == ["pare/base/slim-python", "pare/base/distroless-python"]
    assert "--target /app/deps" in text
    final = last_stage(text)
    assert "PYTHONPATH=/app/deps" in final and "USER 65532:65532" in final


def test_unknown_strategy_and_language_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="strategy"):
        generate(GO, "tiny")
    with pytest.raises(UsageError, match="engine path"):
        generate(DockerFacts("static", (), "index.html"), "multistage")


@pytest.mark.parametrize("app", ["go-hello", "node-express", "python-flask"])
def test_examples_generate_for_every_strategy(app: str) -> None:
    facts = detect(EXAMPLES / app).docker_facts()
    for strategy in STRATEGIES:
        text = generate(facts, strategy).text
        assert "ENTRYPOINT" in text and "EXPOSE 8080" in text


def test_dockerignore_keeps_local_dependency_trees_out() -> None:
    lines = dockerignore().splitlines()
    assert "node_modules" in lines and ".git" in lines
