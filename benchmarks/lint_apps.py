"""Benchmark: `pare fix --verify` on every corpus app that ships its own Dockerfile, and `pare lint`'s
default byte estimates next to `--measure`'s exact figures on the same builds.

The apps are tests/corpus's, apps.toml field `dockerfile`. Their FROM images (Docker Hub, gcr.io,
ghcr.io) are not reachable here, so each FROM is mapped to a pare base profile as benchmarks/apps.py's
OWN table says, with the same edits for this machine (no Go module proxy: -mod=vendor; the proxy's CA
bundle mounted into RUNs and passed as PIP_CERT / NODE_EXTRA_CA_CERTS; dev-container stages dropped).
The FROM lines keep their original references: `--base REF=LOCATION` (pare.lint.measure.BuildInputs)
tags the local base as REF inside the build's private buildah store, so `pare fix` reads the file
as the app wrote it. go-heroku-gin-vendored is not in apps.py's table (its Dockerfile downloads the
Heroku Go buildpack from S3 at build time); its mapping is HEROKU below.

Per app: the prepared Dockerfile and pare fix's rewrite are built (buildah, one layer per
instruction), both run (podman, a private network namespace, PORT and apps.toml's env set), GET
apps.toml's path must answer the same status and body from both, and the rewrite's layers must be no
larger (a USER or JSON CMD grows the config by a few hundred bytes: the after - before column shows
it). Where the rewrite changes nothing but comments, the file is built once: there is nothing to verify,
and the table says so. Sizes are compressed bytes (what a registry stores and a pull moves).

Then every finding of `pare lint` on the prepared file, the build context given (findings about files
COPY brings in are priced from their sizes): its default estimate next to the figure --measure computes
from the built image's layers (pare.lint.measure.reprice), and the share within 1%.

    .venv/bin/python benchmarks/lint_apps.py [--apps go-httpbin,...] [--json FILE] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from apps import APPS, BENCH_BASES, CA_IN_BUILD, CORPUS, OWN, OwnDockerfile  # noqa: E402
from pare.bases.cache import base_key, bases_dir, ensure_base  # noqa: E402
from pare.bases.profiles import load_profile  # noqa: E402
from pare.engines.storage import remove_storage  # noqa: E402
from pare.errors import PareError  # noqa: E402
from pare.lint.engine import Result, lint  # noqa: E402
from pare.lint.fix import fix  # noqa: E402
from pare.lint.measure import BuildInputs, analyze_location, build, reprice  # noqa: E402
from pare.lint.parser import parse  # noqa: E402
from pare.lint.verify import VerifyFailed, answer, build_and_ask, compare, podman_state  # noqa: E402
from pare.native.plan import CA_BUNDLE  # noqa: E402

TODAY = dt.date(2026, 12, 1)  # as benchmarks/lint.py: end-of-life findings depend on the date
HEROKU = OwnDockerfile(
    {"heroku/heroku:18-build": str(BENCH_BASES / "fat-go-1.26.toml"),
     "heroku/heroku:18": str(BENCH_BASES / "debian-slim.toml")},
    edits=(("RUN curl https://codon-buildpacks.s3.amazonaws.com/buildpacks/heroku/go.tgz | tar xz -C "
            "/tmp/buildpack/heroku/go\n", ""),
           ("RUN STACK=heroku-18 /tmp/buildpack/heroku/go/bin/compile /app /tmp/build_cache /tmp/env",
            "RUN go build -mod=vendor -o bin/go-getting-started .")),
    notes="heroku/heroku:18-build -> fat-go-1.26 and its Go buildpack (a download from S3, unreachable) -> "
          "`go build -mod=vendor -o bin/go-getting-started .`, what the buildpack runs; heroku/heroku:18 -> "
          "debian-slim")
SPECS: dict[str, OwnDockerfile] = {**OWN, "go-heroku-gin-vendored": HEROKU}
# Files of the lint corpus (tests/data/dockerfiles/corpus) with a finding --measure prices that build
# here: their FROM has a pare stand-in, their RUNs reach only Debian and PyPI. The corpus holds the
# Dockerfiles alone, so each COPY/ADD source is an empty stand-in file (the findings priced are
# about caches, which do not depend on the app's files).
LINT_CORPUS = ROOT / "tests" / "data" / "dockerfiles" / "corpus"
CORPUS_BUILDS: dict[str, OwnDockerfile] = {
    "k8s-https-nginx": OwnDockerfile(
        {"nginx": str(BENCH_BASES / "nginx-trixie.toml")},
        notes="nginx (latest: trixie-based) -> nginx-trixie (slim Debian trixie + nginx-light, Docker's apt "
              "settings)"),
    "k8s-cluster-dnss-frontend": OwnDockerfile(
        {"python:2.7-slim": "slim-python"},
        {"python:2.7-slim": ("ARG PIP_CERT=", "ARG PIP_BREAK_SYSTEM_PACKAGES=1")},
        notes="python:2.7-slim -> slim-python (Debian's Python 3.11; PIP_BREAK_SYSTEM_PACKAGES for its pip)"),
}
# Why a finding's default estimate cannot be the exact figure without a build, per family.
NOT_EXACT = {
    "apt-lists": "per suite, measured on 2026-12-07 (pare.lint.pricing.APT_LISTS_BY_SUITE): the archive's "
                 "index grows with each update, so the figure drifts from the day apt-get update runs",
    "pip-cache": "the wheels downloaded: the dependency set resolved at build time",
    "apk-cache": "the index of the day's Alpine mirror",
    "yum-cache": "the repositories' metadata on the day",
    "removed-later": "exact from the build context when COPY brought the file in; what a RUN wrote (a "
                     "download, a build tree) is known only once it ran",
    "chown-after-copy": "exact from the build context when only COPYs filled the tree; what a RUN wrote "
                        "there is known only once it ran",
}
NOT_MEASURED = ("--measure keeps the estimate: the figure is the difference between two bases or two "
                "builds, and only one was built")


@dataclass
class AppRow:
    app: str
    changed: bool = False
    before: int = 0
    after: int = 0
    status: int = 0
    same_answer: bool | None = None
    error: str = ""
    notes: list[str] = field(default_factory=list)
    diff_lines: int = 0
    seconds: float = 0.0
    findings: list[dict[str, Any]] = field(default_factory=list)


def base_location(profile: str) -> str:
    """A pare base profile's cached image (built once if missing), as an OCI layout location."""
    prof = load_profile(profile)
    ensure_base(prof)
    return f"oci:{bases_dir()}:base-{prof.name}-{base_key(prof)[:12]}"


def prepared(spec: OwnDockerfile, text: str) -> str:
    """The app's Dockerfile as it builds here: spec's edits, dropped stages, lines after a FROM.
    FROM references stay as written (mapped at build time)."""
    for old, new in spec.edits:
        text = text.replace(old, new)
    kept: list[str] = []
    dropping = False
    for line in text.splitlines():
        words = line.split()
        is_from = words[:1] == ["FROM"]
        if is_from:  # FROM [--platform=...] IMAGE [AS NAME]
            dropping = len(words) > 3 and words[-2].upper() == "AS" and words[-1] in spec.drop_stages
        if dropping:
            continue
        kept.append(line)
        image = next((w for w in words[1:] if not w.startswith("--")), "") if is_from else ""
        kept += spec.after_from.get(image, ())
    return "\n".join(kept) + "\n"


def only_comments_differ(a: str, b: str) -> bool:
    def code(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return code(a) == code(b)


def finding_rows(result: Result, measured: Result) -> list[dict[str, Any]]:
    exact = {(f.rule.id, f.line): f for f in measured.findings}
    rows = []
    for f in result.findings:
        m = exact[(f.rule.id, f.line)]
        rows.append({"rule": f.rule.id, "family": f.rule.family, "line": f.line, "estimate": f.bytes,
                     "measured": m.bytes if m.measured else None})
    return rows


def within(estimate: int | None, measured: int | None) -> bool:
    if estimate is None or measured is None:
        return False
    return abs(estimate - measured) <= 0.01 * max(measured, 1)




# The bases pare fix writes into a rewrite, mapped to pare's stand-ins (gcr.io is not reachable here):
# distroless/base (glibc, OpenSSL) and distroless/cc (glibc, libgcc, libstdc++) both by distroless-cc.
FIX_BASES = {"gcr.io/distroless/static-debian12:nonroot": "distroless-static",
             "gcr.io/distroless/base-debian12:nonroot": "distroless-cc",
             "gcr.io/distroless/cc-debian12:nonroot": "distroless-cc",
             "gcr.io/distroless/static-debian13:nonroot": "distroless-static@trixie",
             "gcr.io/distroless/base-debian13:nonroot": "distroless-cc@trixie",
             "gcr.io/distroless/cc-debian13:nonroot": "distroless-cc@trixie"}


def build_inputs(spec: OwnDockerfile, rewrite: str = "") -> BuildInputs:
    """The bases mapped (those a rewrite's FROMs name too), and the proxy's CA bundle for pip and npm
    (PIP_CERT, NODE_EXTRA_CA_CERTS)."""
    wanted = {**{ref: p for ref, p in FIX_BASES.items() if f"FROM {ref}" in rewrite}, **spec.bases}
    bases = {ref: base_location(profile) for ref, profile in wanted.items() if profile != "scratch"}
    return BuildInputs(bases, {"PIP_CERT": CA_IN_BUILD, "NODE_EXTRA_CA_CERTS": CA_IN_BUILD},
                       (f"{CA_BUNDLE}:{CA_IN_BUILD}:ro",))


def measure_corpus_file(name: str, work: Path) -> AppRow:
    """A lint-corpus file built on stand-in files: each finding's estimate against its measured bytes."""
    row = AppRow(name)
    spec = CORPUS_BUILDS[name]
    text = prepared(spec, (LINT_CORPUS / f"{name}.Dockerfile").read_text())
    df = parse(text, name)
    context = work / "contexts" / name
    context.mkdir(parents=True)
    for inst in (i for stage in df.stages for i in stage.of("COPY", "ADD") if i.flag("from") is None):
        for source in inst.words[:-1]:
            if source not in (".", "./") and "://" not in source:
                (context / source).parent.mkdir(parents=True, exist_ok=True)
                (context / source).touch()
    dockerfile = work / f"{name}.Dockerfile"
    dockerfile.write_text(text)
    start = time.perf_counter()
    try:
        location = build(dockerfile, context, work / name, build_inputs(spec))
        result = lint(df, None, TODAY, context)
        row.findings = finding_rows(result, reprice(result, df, analyze_location(location, name)))
    except PareError as exc:
        row.error = f"{type(exc).__name__}: {exc}"
    row.seconds = time.perf_counter() - start
    return row


def run_app(name: str, work: Path) -> AppRow:
    row = AppRow(name)
    spec = SPECS[name]
    app = APPS[name]
    context = work / "apps" / name
    shutil.copytree(CORPUS / name, context, symlinks=True)
    text = prepared(spec, (context / (spec.dockerfile or app["dockerfile"])).read_text())
    dockerfile = work / f"{name}.Dockerfile"
    dockerfile.write_text(text)
    df = parse(text, str(dockerfile))
    after, row.notes = fix(df)
    row.changed = not only_comments_differ(text, after)
    row.diff_lines = sum(1 for a, b in zip(text.splitlines(), after.splitlines(), strict=False) if a != b) + \
        abs(len(text.splitlines()) - len(after.splitlines()))
    inputs = build_inputs(spec, after)
    env = {k: str(v) for k, v in app.get("env", {}).items()}
    start = time.perf_counter()
    (work / name).mkdir()
    try:
        if row.changed:
            old, new = build_and_ask(dockerfile, after, context, spec.port, app["get"], inputs, env,
                                     work / name)
            row.before, row.after, row.status = old.size, new.size, old.status
            row.same_answer = (old.status, old.body) == (new.status, new.body)
            try:
                compare(old, new, app["get"])
            except VerifyFailed as exc:
                row.error = str(exc)
        else:  # nothing but comments changed: one build, one run
            location = build(dockerfile, context, work / name / "before", inputs)
            state = podman_state()
            try:
                old = answer(location, spec.port, app["get"], state, env)
            finally:
                remove_storage(state)
            row.before, row.status = old.size, old.status
        location = old.location
        result = lint(df, None, TODAY, context)
        measured = reprice(result, df, analyze_location(location, name))
        row.findings = finding_rows(result, measured)
    except PareError as exc:
        row.error = f"{type(exc).__name__}: {exc}"
    row.seconds = time.perf_counter() - start
    return row


def mb(n: int) -> str:
    return f"{n / 1e6:.2f}" if n else "-"


def print_tables(rows: list[AppRow], measured_only: list[AppRow]) -> None:
    print("| app | rewrite | before MB | after MB | after - before, bytes | answers the same | note |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        what = f"{r.diff_lines} lines changed" if r.changed else "nothing but comments"
        ratio = f"{r.after - r.before:+,}" if r.before and r.after and r.changed else "-"
        if r.error:
            same = "no" if r.same_answer is False else "-"
            note = r.error[:160]
        else:
            same = f"yes ({r.status})" if r.changed else f"n/a ({r.status}, one build)"
            note = ("smaller" if r.after < r.before else "not smaller") if r.changed else \
                "; ".join(r.notes)[:160] or "pare fix finds nothing to change"
        after = mb(r.after) if r.changed else "-"
        print(f"| {r.app} | {what} | {mb(r.before)} | {after} | {ratio} | {same} | {note} |")
    print()
    for r in measured_only:
        if r.error:
            print(f"lint corpus {r.app}: {r.error[:300]}")
    findings = [(r.app, f) for r in rows + measured_only for f in r.findings]
    print("| app | rule | family | line | estimate MB | measured MB | within 1% |")
    print("|---|---|---|---|---|---|---|")
    for app, f in findings:
        est = "-" if f["estimate"] is None else f"{f['estimate'] / 1e6:.2f}"
        got = "-" if f["measured"] is None else f"{f['measured'] / 1e6:.3f}"
        ok = "yes" if within(f["estimate"], f["measured"]) else ("no" if f["measured"] is not None else
                                                                 "not measured")
        print(f"| {app} | {f['rule']} | {f['family']} | {f['line']} | {est} | {got} | {ok} |")
    priced = [f for _, f in findings if f["measured"] is not None]
    close = sum(1 for f in priced if within(f["estimate"], f["measured"]))
    print()
    print(f"findings measured: {len(priced)} of {len(findings)}; default estimate within 1% of the measured "
          f"figure: {close} of {len(priced)}")
    priced_families = {f["family"] for _, f in findings if f["estimate"] is not None}
    for family in sorted({f["family"] for _, f in findings}):
        if family not in priced_families:
            why = "no byte figure (a finding about behaviour or safety, not size)"
        else:
            why = NOT_EXACT.get(family, NOT_MEASURED)
        print(f"  {family}: {why}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", default=",".join(SPECS), help="comma-separated corpus apps")
    parser.add_argument("--corpus-files", default=",".join(CORPUS_BUILDS),
                        help="lint-corpus files to build for the bytes table (comma-separated; '' for none)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    names = [a for a in args.apps.split(",") if a]
    files = [f for f in args.corpus_files.split(",") if f]
    unknown = [n for n in names if n not in SPECS] + [f for f in files if f not in CORPUS_BUILDS]
    if unknown:
        parser.error(f"no mapping for {', '.join(unknown)} (known: {', '.join([*SPECS, *CORPUS_BUILDS])})")
    work = Path(tempfile.mkdtemp(prefix="pare-bench-lint-apps-"))
    rows: list[AppRow] = []
    measured_only: list[AppRow] = []
    try:
        for name in names:
            row = run_app(name, work)
            rows.append(row)
            print(f"  {name}: {mb(row.before)} -> {mb(row.after)} MB, {row.seconds:.0f} s {row.error[:200]}",
                  flush=True)
        for name in files:
            row = measure_corpus_file(name, work)
            measured_only.append(row)
            print(f"  {name} (lint corpus): {len(row.findings)} findings, {row.seconds:.0f} s "
                  f"{row.error[:200]}",
                  flush=True)
    finally:
        if not args.keep:
            remove_storage(work)
    print()
    print_tables(rows, measured_only)
    for r in rows + measured_only:
        spec = SPECS.get(r.app) or CORPUS_BUILDS[r.app]
        print(f"[{r.app}] {spec.notes}")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows + measured_only], indent=1))
    failed = [r for r in rows if r.error or (r.changed and r.after > r.before)] + \
        [r for r in measured_only if r.error]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
