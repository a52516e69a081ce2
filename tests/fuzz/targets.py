"""Every parser of untrusted bytes in pare, as a fuzz target: generated and mutated inputs go in,
and either a value or a PareError must come out, never another exception.

A target is a name, a hypothesis strategy for its input and a function that feeds the input to the
real parser (and, for a few, uses what it returned, since a parser that accepts bad input can hand
a crash to its caller). Inputs come from tests/fuzz/mutate.py over the samples of tests/fuzz/seeds.py.

Run briefly by tests/unit/test_fuzz.py; run at length by scripts/fuzz.py (`make fuzz`).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from hypothesis import strategies as st

from fuzz import seeds
from fuzz.mutate import encode, fuzz_bytes, json_docs, json_values, mutated
from pare.errors import PareError
from tarcases import make_deb


@dataclass(frozen=True)
class Target:
    name: str
    strategy: st.SearchStrategy[Any]
    run: Callable[[Any], object]
    note: str = ""


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="pare-fuzz-") as tmp:
        yield Path(tmp)


def _read_tar(data: bytes, gzip: bool = False) -> None:
    from pare.oci.compression import open_decompressed
    from pare.oci.tarsafe import SafeTar

    stream: Any = open_decompressed(io.BytesIO(data), "gzip") if gzip else io.BytesIO(data)
    tar = SafeTar(stream)
    for member, reader in tar:
        if reader is not None:
            assert len(reader.read()) == member.size
        assert member.path == "" or (not member.path.startswith("/") and ".." not in member.path.split("/"))
    assert tar.diff_id is not None


def _read_gzip_tar(data: bytes) -> None:
    _read_tar(data, gzip=True)


def _gzip(data: bytes) -> bytes:
    import gzip as gz

    return gz.compress(data, mtime=0)


def _normalize(data: bytes) -> None:
    from pare.oci.tarwriter import normalize_tar

    out = io.BytesIO()
    normalize_tar(io.BytesIO(data), out, epoch=0, exclude=["dev/*"])
    _read_tar(out.getvalue())  # what it writes, pare's strict reader must accept


def _layers(tars: list[bytes], tmp: Path) -> Any:
    from pare.oci.config import ImageConfig
    from pare.oci.image import Image
    from pare.oci.layer import layer_from_tar

    layers = [layer_from_tar(io.BytesIO(t), "none", workdir=tmp) for t in tars]
    return Image.assemble(ImageConfig.new(), layers)


def _analyze(tars: list[bytes]) -> None:
    from pare.analyze.analysis import analyze_image
    from pare.analyze.ci import Thresholds, breaches

    with _scratch() as tmp:
        analysis = analyze_image(_layers(tars, tmp))
        json.dumps(analysis.to_dict())
        breaches(analysis, Thresholds(min_efficiency=0.9, forbid=("compilers", "shells")))


def _imagediff(tars: list[bytes]) -> None:
    from pare.analyze.imagediff import diff_images

    with _scratch() as tmp:
        diff_images(_layers(tars[:1], tmp), _layers(tars[1:2] or [b""], tmp))


def _unpack_deb(data: bytes) -> None:
    from pare.bases.debs import unpack_deb

    with _scratch() as tmp:
        (tmp / "x.deb").write_bytes(data)
        (tmp / "root").mkdir()
        unpack_deb(tmp / "x.deb", tmp / "root", ("/usr/share/doc/*",), ())
        for path in (tmp / "root").rglob("*"):  # nothing written outside the tree
            assert path.is_symlink() or os.path.realpath(path).startswith(str(tmp) + "/"), path


def _record_package(data: bytes) -> None:
    from pare.bases.debs import record_package

    with _scratch() as tmp:
        (tmp / "x.deb").write_bytes(data)
        (tmp / "root").mkdir()
        record_package(tmp / "x.deb", tmp / "root", ["/etc/hostname"])
        written = [p for p in tmp.rglob("*") if p.is_file() and p.name != "x.deb"]
        assert all(p.is_relative_to(tmp / "root") for p in written), written


def _read_index(data: bytes) -> None:
    from pare.bases.apt import read_index, resolve

    with _scratch() as tmp:
        (tmp / "Packages").write_bytes(data)
        index = read_index([tmp / "Packages"], "amd64")
        if index:
            resolve(index, (sorted(index)[0],), ())


def _signed_index(data: bytes) -> None:
    """What a lock check reads of a Packages file and a Release file's SHA256 section."""
    from pare.bases.apt import find_entries, release_sha256

    for entry in find_entries(data, ["libc6", "tzdata", "a"], "http://deb.debian.org/debian"):
        assert entry.name in ("libc6", "tzdata", "a")
    text = data.decode("utf-8", errors="replace")
    found = release_sha256(text, "main/binary-amd64/Packages")
    assert found is None or " " not in found


def _manifest(data: bytes) -> None:
    from pare.oci.manifest import Index, Manifest, sniff_media_type

    sniff_media_type(data)
    for kind in (Manifest, Index):
        with contextlib.suppress(PareError):
            parsed: Any = kind.parse(data)
            parsed.digest  # noqa: B018
            if isinstance(parsed, Index):
                for descriptor in parsed.manifests:
                    descriptor.to_dict()
                    if descriptor.platform is not None:
                        str(descriptor.platform)


def _config(data: bytes) -> None:
    from pare.oci.config import ImageConfig

    config = ImageConfig.parse(data)
    config.layer_history()
    config.runtime  # noqa: B018
    config.to_dict()


def _reference(text: str) -> None:
    from pare.oci.descriptor import Platform
    from pare.oci.digest import Digest
    from pare.oci.reference import Reference
    from pare.stores.transports import parse_location

    for parse in (Reference.parse, Digest.parse, Platform.parse, parse_location):
        with contextlib.suppress(PareError):
            value: Any = parse(text)
            str(value)
    with contextlib.suppress(PareError):
        once = Reference.parse(str(Reference.parse(text)))
        assert Reference.parse(str(once)) == once, f"{text!r} -> {once} does not parse back to itself"


def _challenges(text: str) -> None:
    from pare.stores.registry.auth import parse_challenges
    from pare.stores.registry.client import parse_retry_after

    for challenge in parse_challenges(text):
        assert challenge.scheme and all(isinstance(v, str) for v in challenge.params.values())
    parse_retry_after(text)


def _token(case: tuple[str, int, bytes]) -> None:
    """A 401's challenge and the token server's answer (status, body) to the request it makes.
    The token server is an httpx MockTransport: a real server adds nothing to parsing its body."""
    from pare.stores.registry.auth import Authenticator, static_credentials

    header, status, body = case

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        auth = Authenticator("registry.test", static_credentials("user", "secret"))
        auth.answer(header, ("repository:app:pull",), http)


def _docker_config(data: bytes) -> None:
    from pare.stores.registry.auth import credentials_from_config, load_docker_config

    with _scratch() as tmp:
        (tmp / "config.json").write_bytes(data)
        config = load_docker_config(tmp / "config.json")
        config.pop("credHelpers", None)  # never run a helper a fuzzed file names
        config.pop("credsStore", None)
        credentials_from_config(config, "registry.test")


def _base_profile(data: bytes) -> None:
    from pare.bases.profiles import parse_profile

    parse_profile("fuzzed", data)


def _machine_profiles(text: str) -> None:
    from pare.experiment.profiles import parse_profiles

    for profile in parse_profiles(text, "fuzzed.toml").values():
        for value in (profile.cpus, profile.memory_mb, profile.bandwidth_mbit):
            assert value is None or 0 <= value < float("inf"), profile


def _results(data: bytes) -> None:
    from pare.experiment.results import Results, merge

    with _scratch() as tmp:
        (tmp / "r.json").write_bytes(data)
        results = Results.load(tmp / "r.json")
        merge([results, results], allow_mixed=True)
        results.to_dict()


def _layout(case: tuple[bytes, bytes]) -> None:
    from pare.stores.layout import LayoutStore

    index, layout = case
    with _scratch() as tmp:
        (tmp / "oci-layout").write_bytes(layout)
        (tmp / "index.json").write_bytes(index)
        (tmp / "blobs" / "sha256").mkdir(parents=True)
        store = LayoutStore(tmp)
        store.names()
        store.read("latest")


def _archive(data: bytes) -> None:
    from pare.stores.archive import ArchiveStore

    with _scratch() as tmp:
        (tmp / "a.tar").write_bytes(data)
        image = ArchiveStore(tmp / "a.tar").read(None)
        for layer in image.layers:
            with layer.open() as stream:
                stream.read()


def _package_json(data: bytes) -> None:
    from pare.recipes.node import NodeRecipe

    with _scratch() as tmp:
        (tmp / "package.json").write_bytes(data)
        (tmp / "server.js").write_text("")
        recipe = NodeRecipe(tmp)
        recipe.check()  # package manager, lockfile, start command: what a build reads first
        recipe.request()


def _pip_report(data: bytes) -> None:
    from pare.recipes.pip_lock import parse_report

    for resolved in parse_report(data):  # what pare.lock then holds: an artifact it accepts
        assert resolved.artifact("linux/amd64").digest == f"sha256:{resolved.sha256}"


def _start_descriptor(case: tuple[str, bytes]) -> None:
    """A platform descriptor, startup script or Dockerfile as the app ships it: the start command
    it declares must split (or be refused) as a PareError, whatever the file holds."""
    from pare.recipes.command import split_command
    from pare.recipes.start import declared_start

    name, data = case
    with _scratch() as tmp:
        (tmp / name).write_bytes(data)
        found = declared_start(tmp)
        if found is not None:
            split_command(found.line)


def _dockerfile(case: tuple[str, str, str]) -> None:
    """The generator takes an entry point from the app (package.json main, a script name): whatever
    it holds, the Dockerfile must keep the generator's instructions and no others."""
    from pare.engines.dockerfile import generate
    from pare.recipes.base import DockerFacts

    language, strategy, entry = case
    def instructions(text: str) -> list[str]:  # Dockerfile lines end at \n only (not at \x85...)
        lines = text.split("\n")
        return [line.split(" ", 1)[0] for line in lines if line and not line.startswith((" ", "#"))]

    def facts(name: str) -> DockerFacts:  # a Go binary's name, or the script a start command runs
        command = (f"/app/{name}",) if language == "go" else (language, name)
        return DockerFacts(language, (), name, command=command)

    expected = instructions(generate(facts("app"), strategy).text)
    text = generate(facts(entry), strategy).text
    found = instructions(text)
    assert found == expected, f"entry {entry!r} changed the instructions: {text}"


def _lint_dockerfile(text: str) -> None:
    """pare lint's reader (BuildKit's parser through cgo, then stages and ARG/ENV expansion): a
    model or DockerfileSyntaxError, and what it returns holds together; the rules and pare fix then
    run on it without an error of their own."""
    from pare.lint.parser import parse

    df = parse(text)
    lines = text.count("\n") + 1
    assert df.stages and all(0 < i.line <= i.end_line <= lines for i in df.instructions)
    assert all(s.parent is None or s.parent < s.index for s in df.stages)
    from pare.lint.engine import lint
    from pare.lint.fix import fix

    result = lint(df)  # the rules read whatever the parser accepted
    assert all(f.bytes is None or f.bytes >= 0 for f in result.findings)
    fix(df)  # and the rewrite parses its own output (a RuntimeError, not a PareError, if not)


CONTENTS_LINES = ["usr/lib/x86_64-linux-gnu/libpq.so.5                    libs/libpq5",
                  "usr/include/postgresql/libpq-fe.h    devel/libpq-dev,non-free/devel/x",
                  "usr/share/a b/file with spaces.so.1  misc/y", "FILE  LOCATION", "   ", "a\tb"]
APTFILES = ["libpq5\n# comment\nlibmariadb3 zlib1g\n", ":repo:deb http://x y main\n", "http://x/a.deb\n",
            "BAD_NAME\n"]


def _contents(text: str) -> None:
    from pare.native.contents import ContentsIndex, kept, parse_line
    owners = {}
    for line in text.splitlines():
        parsed = parse_line(line)
        if parsed is not None:
            path, packages = parsed
            assert packages and not path.startswith("/")
            if kept(path, "x86_64-linux-gnu"):
                owners["/" + path] = packages
    index = ContentsIndex(owners)
    index.header("libpq-fe.h")
    index.by_name("libpq.so.5", ["/usr/lib/x86_64-linux-gnu"])


def _aptfile(text: str) -> None:
    from pare.native.syslibs import build_needs, read_aptfile
    for name in read_aptfile(text):
        assert name and " " not in name
    build_needs(text)


def _text(seeds: list[str]) -> st.SearchStrategy[str]:
    raw = [s.encode() for s in seeds]
    return st.one_of(
        st.text(max_size=200),
        st.sampled_from(seeds),
        mutated(raw).map(lambda b: b.decode("utf-8", "replace")),
    )


_NAMES = ["a", "a/b", "./a", "a/.wh.b", ".wh.a", ".wh..wh..opq", "a/.wh..wh..opq", "b/../c", "/abs", "a//b/",
          "."]
_PAYLOADS: list[Any] = [b"", b"x" * 700, "a", "../a", "/a", ".", "a/b", ".wh.a"]


def _entry(name: str, kind: str, payload: Any) -> tuple[str, str, object]:
    """A tar entry for tar_entries: files get bytes, links a target, directories nothing."""
    if kind == "f":
        return name, kind, payload if isinstance(payload, bytes) else b""
    if kind == "d":
        return name, kind, None
    return name, kind, payload if isinstance(payload, str) else "a"


def targets() -> list[Target]:
    manifests, indexes, configs = seeds.images()
    generated_tar = st.lists(st.builds(_entry, st.sampled_from(_NAMES), st.sampled_from("fdsh"),
                                       st.sampled_from(_PAYLOADS)), max_size=8).map(seeds.tar)
    any_tar = st.one_of(fuzz_bytes(seeds.tars(), 6000), generated_tar)
    gzipped = st.one_of(any_tar.map(_gzip), mutated([_gzip(t) for t in seeds.tars()]))
    machines = [p.decode() for p in seeds.MACHINE_PROFILES] + ["[x]\ncpus = inf\n", "[x]\nmemory_mb = nan\n"]
    entries = ["server.js", "a b.js", 'x"y', "a\nRUN evil"]
    return [
        Target("tar.safetar", any_tar, _read_tar, "pare.oci.tarsafe.SafeTar"),
        Target("tar.safetar.gzip", gzipped, _read_gzip_tar, "SafeTar over ISA-L gzip"),
        Target("tar.normalize", any_tar, _normalize, "tarwriter.normalize_tar (mmdebstrap's stream)"),
        Target("tar.analyze", st.lists(any_tar, min_size=1, max_size=3), _analyze,
               "pare analyze: SafeTar, file tree, dive score, bloat rules, CI gate"),
        Target("tar.imagediff", st.lists(any_tar, min_size=1, max_size=2), _imagediff,
               "pare build --verify's image diff"),
        Target("deb.unpack", st.one_of(fuzz_bytes(seeds.debs(), 8000), any_tar.map(make_deb)), _unpack_deb,
               "bases.debs.unpack_deb"),
        Target("deb.control", fuzz_bytes(seeds.debs(), 8000), _record_package,
               "bases.debs.record_package (control, md5sums)"),
        Target("deb.index", fuzz_bytes(seeds.PACKAGES), _read_index, "bases.apt.read_index, resolve"),
        Target("deb.signed_index", fuzz_bytes(seeds.PACKAGES), _signed_index,
               "bases.apt.find_entries, release_sha256 (pare.lock's checks)"),
        Target("oci.manifest", st.one_of(json_docs(manifests + indexes), st.binary(max_size=4096)), _manifest,
               "Manifest.parse, Index.parse, sniff_media_type"),
        Target("oci.config", json_docs(configs), _config, "ImageConfig.parse and its views"),
        Target("oci.reference", _text(seeds.REFERENCES), _reference,
               "references, digests, platforms, locations"),
        Target("auth.headers", _text(seeds.CHALLENGES), _challenges, "WWW-Authenticate, Retry-After"),
        Target("auth.token", st.tuples(_text(seeds.CHALLENGES), st.sampled_from([200, 200, 401, 500]),
                                       st.one_of(fuzz_bytes(seeds.TOKEN_ANSWERS), json_values.map(encode))),
               _token, "Authenticator.answer and the token server's JSON"),
        Target("auth.docker_config", json_docs(seeds.DOCKER_CONFIGS), _docker_config, "docker config.json"),
        Target("profile.base", fuzz_bytes(seeds.BASE_PROFILES), _base_profile,
               "bases.profiles.parse_profile"),
        Target("profile.machine", _text(machines), _machine_profiles, "experiment.profiles.parse_profiles"),
        Target("bench.results", json_docs(seeds.RESULTS), _results, "pare report's results files"),
        Target("store.layout", st.tuples(json_docs(seeds.LAYOUT_INDEXES), fuzz_bytes(seeds.LAYOUT_MARKERS)),
               _layout, "an OCI layout's index.json and oci-layout"),
        Target("store.archive", fuzz_bytes(seeds.archives(), 8000), _archive, "docker-archive files"),
        Target("recipe.package_json", json_docs(seeds.PACKAGE_JSONS), _package_json, "node recipe detection"),
        Target("recipe.pip_report", json_docs(seeds.PIP_REPORTS), _pip_report,
               "pip's installation report, locked in pare.lock (recipes.pip_lock.parse_report)"),
        Target("dockerfile.lint", _text(seeds.DOCKERFILES), _lint_dockerfile, "pare.lint.parser.parse"),
        Target("recipe.start", st.one_of(*(st.tuples(st.just(name), fuzz_bytes(samples))
                                           for name, samples in seeds.START_DESCRIPTORS.items())),
               _start_descriptor, "recipes.start: render.yaml, app.yaml, project.toml, heroku.yml, fly.toml, "
               "startup.sh, Dockerfile"),
        Target("debian.contents", _text(CONTENTS_LINES), _contents, "native.contents.parse_line and the cut"),
        Target("settings.aptfile", _text(APTFILES), _aptfile,
               "a Heroku Aptfile; build output scanned for needs"),
        Target("dockerfile.entry", st.tuples(st.sampled_from(["go", "node", "python"]),
                                             st.sampled_from(["multistage", "slim", "onbuild"]),
                                             _text(entries)),
               _dockerfile, "engines.dockerfile.generate with the app's entry point"),
    ]


def check(target: Target, value: Any) -> None:
    """The property: a value or a PareError, never another exception."""
    try:
        target.run(value)
    except PareError:
        pass

