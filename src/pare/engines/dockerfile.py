"""Builder-pattern Dockerfiles, in the three variants of the small-images playbook.

    onbuild     one stage on the fat base (toolchain, git, build tools): the node:onbuild baseline
    slim        the slim base (the Alpine stand-in); Node installs dependencies on the fat base
                first, since the slim base has no npm
    multistage  build on a builder base, then copy only what runs into scratch (Go), distroless-cc
                (Node: node's ELF closure, found with ldd in the build stage) or distroless-python

The recipe's facts decide the steps: the package manager and its install, a build step (a build
script, Django's collectstatic) and pruning, the Go main package and the files beside the binary;
and the user's settings decide the config: command or entrypoint, env, port, user, workdir, labels.

Base images are named by profile (fat-go, slim-node, distroless-cc...), qualified by suite when
not bookworm's (slim-go@trixie); the caller maps those names to references (`bases`), e.g. to what
pare.bases.cache.publish_base pushed to a registry. The suite is the oldest whose runtime answers
the app's request (pare.engines.suites: bookworm Go 1.19, Node.js 18, Python 3.11; trixie and forky
newer); a Node.js version no suite carries is the official build, fetched in the build stage by a
pinned URL and checked against its sha512.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace

from pare.bases.profiles import qualified_name, split_suite
from pare.engines.suites import DEFAULT_SUITE, EngineRuntime, NodeBuild, choose
from pare.errors import UsageError
from pare.native import contract
from pare.native.lock import Artifact
from pare.recipes import node_static
from pare.recipes.base import DockerFacts
from pare.recipes.go import GO_BUILD_FLAGS
from pare.recipes.python import PKG_RESOURCES

STRATEGIES = ("onbuild", "slim", "multistage")
# Names that go into RUN and COPY lines as they are (the Go binary and package, the app's directory,
# dependency manifests); everything else an app or a user gives is quoted (JSON for ENTRYPOINT, CMD
# and the files Go ships, Dockerfile quoting for ENV and LABEL, shell quoting in RUN).
SAFE_NAME = re.compile(r"[A-Za-z0-9._+@-][A-Za-z0-9._+@/-]*")
CA = "/etc/ssl/certs/ca-certificates.crt"
PYTHON_DEPS = "/opt/pare/site-packages"  # pip's --target in the build stage; on PYTHONPATH in the image
RUNTIME_PATHS = {"node": "/usr/bin/node", "python": "/usr/bin/python3"}
OFFICIAL_NODE = "/usr/local/bin/node"  # where the official build goes (as the node images have it)
NPM_DIR = "/usr/local/lib/node_modules/npm"

# profile used by each stage, per language and strategy
PROFILES: dict[str, dict[str, tuple[str, ...]]] = {
    "go": {"onbuild": ("fat-go",), "slim": ("slim-go",), "multistage": ("slim-go",)},
    "node": {"onbuild": ("fat-node",), "slim": ("fat-node", "slim-node"),
             "multistage": ("fat-node", "distroless-cc")},
    # no fat Python profile: slim-python (python3 + pip) is the builder, distroless-python the runtime
    "python": {"onbuild": ("slim-python",), "slim": ("slim-python",),
               "multistage": ("slim-python", "distroless-python")},
}

# Libraries distroless-cc already holds: the closure copy leaves them out.
CC_LIBS = ("libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libgcc_s.so.1",
           "libstdc++.so.6", "ld-linux-x86-64.so.2", "libgomp.so.1", "libssl.so.3", "libcrypto.so.3")


@dataclass(frozen=True)
class Generated:
    """A Dockerfile and the base profiles it names, in FROM order."""

    text: str
    profiles: tuple[str, ...]


def profiles_for(language: str, strategy: str) -> tuple[str, ...]:
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r} (choose from {', '.join(STRATEGIES)})")
    if language not in PROFILES:
        raise UsageError(f"the engine path does not support {language} apps (use the native path)")
    return PROFILES[language][strategy]


def engine_runtime(facts: DockerFacts) -> EngineRuntime:
    """The suite whose bases build the app (and node's official build, when no suite's nodejs
    answers the request); UsageError when nothing the engine path has answers it."""
    return choose(facts.language, facts.runtime, facts.suite, also=facts.runtime_needs)


def suite_profiles(profiles: tuple[str, ...], suite: str) -> tuple[str, ...]:
    """Profile names as the bases are asked for: plain for bookworm, `name@suite` otherwise."""
    return profiles if suite == DEFAULT_SUITE else tuple(qualified_name(p, suite) for p in profiles)


def default_reference(profile: str) -> str:
    """`pare/base/slim-go`, `pare/base/slim-go-trixie`: a base's name when the caller maps none."""
    name, suite = split_suite(profile)
    return f"pare/base/{name}-{suite}" if suite and suite != DEFAULT_SUITE else f"pare/base/{name}"


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _strings(item)


def check_facts(facts: DockerFacts) -> None:
    """UsageError for anything that would change the generated Dockerfile's instructions: a line
    break anywhere (no quoting survives one), or an unquoted name with other than letters, digits
    and '._+@-/' (or a '..')."""
    for item in fields(facts):
        for text in _strings(getattr(facts, item.name)):
            if "\n" in text or "\r" in text:
                raise UsageError(f"{item.name} {text[:60]!r}: a line break cannot go into a generated "
                                 "Dockerfile")
    plain = [("entry point", facts.entry if facts.language == "go" else "x"),
             ("main package", facts.main_package), ("workdir", facts.workdir.lstrip("/") or "."),
             *(("dependency file", d) for d in facts.dep_files)]
    for what, text in plain:
        if not SAFE_NAME.fullmatch(text) or ".." in text.split("/"):
            raise UsageError(f"{what} {text!r}: a generated Dockerfile takes only letters, digits and "
                             "'._+@-/' there (a newline, quote or shell character would change it)")


def _copy(source: str, dest: str, stage: str = "") -> str:
    """COPY in JSON form: any file name, quoted."""
    return f"COPY {stage}{json.dumps([source, dest])}"


def _from(bases: Mapping[str, str], profile: str) -> str:
    return bases.get(profile, default_reference(profile))


def header(facts: DockerFacts, strategy: str) -> list[str]:
    return [f"# Generated by pare: {facts.language} app, strategy {strategy}.",
            "# Bases are pare profiles (`pare base build PROFILE`); NODE_EXTRA_CA_CERTS / PIP_CERT",
            "# are build args for proxies with their own CA (mount the bundle at the same path)."]


def _copy_deps(facts: DockerFacts) -> list[str]:
    """COPY the dependency manifests (files together, each directory to itself)."""
    files = [f for f in facts.dep_files if not f.endswith("/")]
    lines = [f"COPY {' '.join(files)} ./"] if files else []
    lines += [f"COPY {d} ./{d}" for d in facts.dep_files if d.endswith("/")]
    return lines


def _quote(value: str) -> str:
    """A double-quoted Dockerfile word: backslash, quote and $ escaped (ENV and LABEL expand $)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def run_config(facts: DockerFacts, runtime: str | None) -> list[str]:
    """ENV, EXPOSE, LABEL, USER and what runs: the image's config from the facts."""
    lines = []
    if facts.env:
        lines.append("ENV " + " ".join(f"{k}={_quote(v)}" for k, v in facts.env))
    lines.append(f"EXPOSE {facts.port}")
    if facts.labels:
        lines.append("LABEL " + " ".join(f"{_quote(k)}={_quote(v)}" for k, v in facts.labels))
    lines.append(f"USER {facts.user}")
    # under the init, with the launcher when the command names the port (pare.native.contract)
    if facts.entrypoint:
        wrapped = contract.wrap(facts.entrypoint, facts.command, facts.port)
        lines.append(f"ENTRYPOINT {json.dumps(list(wrapped))}")
        if facts.command:
            lines.append(f"CMD {json.dumps(list(facts.command))}")
    else:
        argv = list(facts.command)
        if runtime is not None and argv and argv[0] in RUNTIME_PATHS:
            argv[0] = runtime
        lines.append(f"ENTRYPOINT {json.dumps(list(contract.wrap(argv, (), facts.port)))}")
    return lines


def reads_port(facts: DockerFacts) -> bool:
    return contract.reads_port((*facts.entrypoint, *facts.command))


def _ldd_closure(binary: str, skip: tuple[str, ...]) -> str:
    """Shell that copies `binary` and the libraries ldd lists into /rootfs, each under its own name
    in its canonical (merged-/usr) directory, skipping those the final base already has."""
    skip_case = f"      case \"$name\" in {'|'.join(skip)}) continue;; esac; \\\n" if skip else ""
    return ("RUN set -eu; mkdir -p /rootfs; \\\n"
            f"    for lib in $(ldd {binary} | awk '$2 == \"=>\" && $3 ~ /^\\// {{print $3}}'); do \\\n"
            "      name=$(basename \"$lib\"); \\\n"
            f"{skip_case}"
            "      dir=$(readlink -f \"$(dirname \"$lib\")\"); mkdir -p \"/rootfs$dir\"; \\\n"
            "      cp -L \"$lib\" \"/rootfs$dir/$name\"; \\\n"
            "    done; \\\n"
            f"    real=$(readlink -f {binary}); mkdir -p \"/rootfs$(dirname \"$real\")\"; \\\n"
            f"    cp \"$real\" \"/rootfs$real\"; \\\n"
            f"    [ \"$real\" = {binary} ] || ln -sf \"$real\" /rootfs{binary}")


# Lines of shell (joined with " \" continuations) for _status_d; tab-separated so any path survives.
_STATUS_D_SHELL = (
    "set -eu; mkdir -p var/lib/dpkg/status.d",
    "find . -type f ! -path './var/lib/dpkg/*' | sed 's|^\\.||' > /tmp/pare-shipped",
    "for l in /var/lib/dpkg/info/*.list; do p=${{l##*/}}; p=${{p%.list}}; "
    "sed \"s|^|${{p%%:*}}\\t|\" \"$l\"; done > /tmp/pare-owners",
    "awk -F'\\t' 'function key(f) {{ sub(\"^/usr/\", \"/\", f); return f }} "
    "NR == FNR {{ if (!(key($2) in own)) own[key($2)] = $1; next }} "
    "key($0) in own {{ print own[key($0)] \"\\t\" $0 }}' /tmp/pare-owners /tmp/pare-shipped "
    "| sort -u > /tmp/pare-claims",
    "cut -f1 /tmp/pare-claims | sort -u | while read -r p; do "
    "dpkg-query -s \"$p\" > \"var/lib/dpkg/status.d/$p\"; "
    "awk -F'\\t' -v p=\"$p\" '$1 == p {{ printf \"%s%c\", substr($2, 2), 0 }}' /tmp/pare-claims "
    "| xargs -0 -r md5sum > \"var/lib/dpkg/status.d/$p.md5sums\"; done",
    "rm -f /tmp/pare-shipped /tmp/pare-owners /tmp/pare-claims",
)


def _status_d(rootfs: str = "/rootfs") -> str:
    """RUN that gives every file copied into `rootfs` its Debian package's status.d entry, as
    distroless images carry them, so scanners see the packages a closure copy brings along.

    One awk pass matches the copied paths against dpkg's file lists (merged-/usr aware: /lib and
    /usr/lib are one directory); each owner gets `dpkg-query -s` as status.d/PKG and an md5sums
    file naming exactly the files that ship, hashed as they are in the image."""
    run = "RUN " + "; \\\n    ".join(line.format(rootfs=rootfs) for line in _STATUS_D_SHELL)
    return f"WORKDIR {rootfs}\n{run}"


def _build_env(facts: DockerFacts) -> str:
    """The image's environment as shell assignments in front of a build step."""
    return "".join(f"{k}={shlex.quote(v)} " for k, v in facts.env)


def _contract_files(facts: DockerFacts) -> list[str]:
    """Build-stage steps that put the init (static: nothing else needed) and, when the command
    names the port, the launcher with its libraries and the dynamic loader into /rootfs (for a
    final stage FROM scratch). `_status_d` then gives each its package's status.d entry."""
    lines = [f"RUN mkdir -p /rootfs/usr/bin && cp {contract.INIT} /rootfs{contract.INIT}"]
    if reads_port(facts):  # the launcher's libraries, and the dynamic loader ldd names by its path
        lines += ['SHELL ["/bin/bash", "-o", "pipefail", "-c"]', _ldd_closure(contract.LAUNCHER, ()),
                  f"RUN for f in $(ldd {contract.LAUNCHER} | awk '$1 ~ /^\\// {{print $1}}'); do \\",
                  "      mkdir -p \"/rootfs$(dirname \"$f\")\" && cp -L \"$f\" \"/rootfs$f\"; done"]
    return lines


def go_dockerfile(facts: DockerFacts, strategy: str, bases: Mapping[str, str]) -> str:
    name = facts.entry
    workdir = facts.workdir.rstrip("/") or ""
    flags = " ".join(f"'{f}'" if " " in f else f for f in GO_BUILD_FLAGS)
    build = ["WORKDIR /src", *_copy_deps(facts)]
    build += [f"RUN {line}" for line in facts.install]
    # a cache mount keeps Go's build cache between builds: a code change recompiles one package
    build += ["COPY . .", f"RUN --mount=type=cache,target=/cache/go GOCACHE=/cache/go CGO_ENABLED=0 "
                          f"go build {flags} -o /out/{name} {facts.main_package}"]
    lines = header(facts, strategy)
    profile = profiles_for("go", strategy)[0]
    if strategy in ("onbuild", "slim"):
        lines += [f"FROM {_from(bases, profile)}", *build,
                  f"RUN mkdir -p {workdir} && cp /out/{name} {workdir}/{name}"
                  + "".join(f" && cp -a {shlex.quote('/src/' + f)} {shlex.quote(workdir + '/' + f)}"
                            for f in facts.files),
                  f"WORKDIR {facts.workdir}", *run_config(facts, None)]
        return "\n".join(lines) + "\n"
    lines += [f"FROM {_from(bases, profile)} AS build", *build,
              "RUN mkdir -p /rootfs/etc /rootfs/tmp /rootfs/home/nonroot && chmod 1777 /rootfs/tmp && \\",
              "    printf 'root:x:0:0:root:/root:/sbin/nologin\\nnonroot:x:65532:65532:nonroot:"
              "/home/nonroot:/sbin/nologin\\n' > /rootfs/etc/passwd && \\",
              "    printf 'root:x:0:\\nnonroot:x:65532:\\n' > /rootfs/etc/group && \\",
              "    chown 65532:65532 /rootfs/home/nonroot",
              *_contract_files(facts), 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]', _status_d(),
              "",
              "FROM scratch",
              "COPY --from=build /rootfs/ /",
              f"COPY --from=build {CA} {CA}",
              *(_copy(f, f"{workdir}/{f}") for f in facts.files),
              f"COPY --from=build /out/{name} {workdir}/{name}",
              f"WORKDIR {facts.workdir}", *run_config(facts, None)]
    return "\n".join(lines) + "\n"


def _run_all(lines: tuple[str, ...]) -> list[str]:
    """The install's steps as one RUN (one layer: `npm ci --ignore-scripts`, then the scripts)."""
    return [f"RUN {' && '.join(lines)}"] if lines else []


NEXT_STANDALONE = ".next/standalone"
SITE_STAGE_DIR = "/tmp/pare-site"  # where the build stage moves a static front end's output


def _node_shape_build(facts: DockerFacts) -> list[str]:
    """Build-stage steps after the build that set aside what ships for the app's shape: Next.js's
    standalone tree completed with .next/static and public/ (as pare.recipes.node's
    complete_next_standalone does), or a bundler's output and the pinned static server."""
    if facts.shape == "next-standalone":
        return [f"RUN test -f {NEXT_STANDALONE}/server.js || {{ echo 'next build made no "
                f"{NEXT_STANDALONE}/server.js (standalone output)' >&2; exit 1; }}; \\",
                f"    if [ -d .next/static ]; then cp -a .next/static {NEXT_STANDALONE}/.next/; fi; \\",
                f"    if [ -d public ]; then cp -a public {NEXT_STANDALONE}/; fi"]
    if facts.shape == "static-site":
        outputs = " ".join(node_static.OUTPUT_DIRS)
        pins = " ".join(shlex.quote(p) for p in facts.server_packages)
        return [f"RUN for d in {outputs}; do if [ -f \"$d/index.html\" ]; then mv \"$d\" {SITE_STAGE_DIR}; "
                "break; fi; done; \\",
                f"    test -d {SITE_STAGE_DIR} || {{ echo 'the build made no {outputs.replace(' ', '/, ')}/ "
                "with an index.html' >&2; exit 1; }",
                # pinned as pare.lock pins them: every package named, so npm lays them out flat
                f"RUN mkdir -p {node_static.SERVER_DIR} && npm install --prefix {node_static.SERVER_DIR} "
                f"--no-save --no-package-lock --omit=dev --ignore-scripts --no-audit --no-fund {pins}"]
    return []


def _node_shape_ship(facts: DockerFacts, strategy: str) -> list[str]:
    """The final stage's copies from the build stage (onbuild: the one stage's last steps)."""
    workdir = facts.workdir
    if facts.shape == "next-standalone":
        if strategy == "onbuild":  # server.js runs from its own directory
            return [f"WORKDIR {workdir.rstrip('/')}/{NEXT_STANDALONE}"]
        return [f"WORKDIR {workdir}", f"COPY --from=build {workdir.rstrip('/')}/{NEXT_STANDALONE} {workdir}"]
    if facts.shape == "static-site":
        if strategy == "onbuild":
            return [f"RUN rm -rf {workdir} && mv {SITE_STAGE_DIR} {workdir}", f"WORKDIR {workdir}"]
        return [f"COPY --from=build {node_static.SERVER_DIR} {node_static.SERVER_DIR}", f"WORKDIR {workdir}",
                f"COPY --from=build {SITE_STAGE_DIR} {workdir}"]
    if strategy == "onbuild":
        return [] if facts.source_first else ["COPY . ."]
    # the build stage's app directory: installed dependencies (and, when built, the whole app)
    return [f"WORKDIR {workdir}", f"COPY --from=build {workdir} {workdir}",
            *([] if facts.source_first else ["COPY . ."])]


def _context_note(facts: DockerFacts) -> list[str]:
    """Comments naming the files pare puts into the build context beside the app's own."""
    return [f"# {dest}: pare's resolved {source} (pare.lock records it), copied into the build context"
            for dest, source in facts.context_files]


def _fetch_checked(item: Artifact, dest: str) -> str:
    """Shell that downloads a pinned registry tarball to `dest` and checks it against its lock
    digest (a checksum file, no pipe: a failed download cannot pass)."""
    algorithm, _, hexdigest = item.digest.partition(":")
    return (f"curl -fsSL --retry 3 -o {dest} {shlex.quote(item.url)}; "
            f"echo '{hexdigest}  {dest}' > {dest}.sum; {algorithm}sum -c {dest}.sum")


def _official_node(build: NodeBuild) -> str:
    """RUN that installs the official node build and its npm into /usr/local (as the node images
    lay them out), each tarball checked against the sha512 the registry's integrity gives."""
    return ("RUN set -eu; \\\n"
            f"    {_fetch_checked(build.node, '/tmp/node.tgz')}; \\\n"
            f"    {_fetch_checked(build.npm, '/tmp/npm.tgz')}; \\\n"
            f"    mkdir -p /tmp/node /usr/local/include /usr/local/share/doc/node {NPM_DIR}; \\\n"
            "    tar -xzf /tmp/node.tgz -C /tmp/node --strip-components=1 --no-same-owner; \\\n"
            f"    cp /tmp/node/bin/node {OFFICIAL_NODE}; \\\n"
            "    cp -a /tmp/node/include/node /usr/local/include/; \\\n"
            "    cp /tmp/node/LICENSE /usr/local/share/doc/node/LICENSE; \\\n"
            f"    tar -xzf /tmp/npm.tgz -C {NPM_DIR} --strip-components=1 --no-same-owner; \\\n"
            "    ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \\\n"
            "    ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \\\n"
            "    rm -rf /tmp/node /tmp/node.tgz* /tmp/npm.tgz*; \\\n"
            f"    [ \"$(node --version)\" = v{build.version} ]")


def node_dockerfile(facts: DockerFacts, strategy: str, bases: Mapping[str, str],
                    official: NodeBuild | None = None) -> str:
    """`official`: the pinned official node build the build stage installs (no suite's nodejs
    answers the app's request); the image runs it from /usr/local/bin."""
    profiles = profiles_for("node", strategy)
    workdir = facts.workdir
    node = OFFICIAL_NODE if official else RUNTIME_PATHS["node"]
    # native addons compile from source against the build stage's own node headers
    nodedir = "/usr/local" if official else "/usr"
    steps = ["ARG NODE_EXTRA_CA_CERTS=", *([_official_node(official)] if official else []),
             f"ENV npm_config_nodedir={nodedir} npm_config_build_from_source=true",
             *(f"RUN {line}" for line in facts.tools), f"WORKDIR {workdir}"]
    if facts.source_first:  # root install scripts or a build step need the sources
        steps += ["COPY . .", *_run_all(facts.install),
                  *(f"RUN {_build_env(facts)}{line}" for line in facts.build)]
    else:
        steps += [*_copy_deps(facts), *_run_all(facts.install)]
    steps += _node_shape_build(facts)
    lines = [*header(facts, strategy), *_context_note(facts)]
    if strategy == "onbuild":
        lines += [f"FROM {_from(bases, profiles[0])}", *steps, *_node_shape_ship(facts, strategy)]
        lines += run_config(facts, node)
        return "\n".join(lines) + "\n"
    lines += [f"FROM {_from(bases, profiles[0])} AS build", *steps]
    if strategy == "multistage":
        lines.append('SHELL ["/bin/bash", "-o", "pipefail", "-c"]')
        lines.append(_ldd_closure(node, CC_LIBS))
        if official:
            lines.append("RUN mkdir -p /rootfs/usr/local/share/doc/node && "
                         "cp /usr/local/share/doc/node/LICENSE /rootfs/usr/local/share/doc/node/")
        else:
            lines.append("RUN if [ -d /usr/share/nodejs ]; then mkdir -p /rootfs/usr/share && "
                         "cp -a /usr/share/nodejs /rootfs/usr/share/; fi")
        if facts.packages:
            lines += [*_named_packages(facts), *_library_closure("/rootfs", _from(bases, profiles[1]), "")]
        lines.append(_status_d())
    lines += ["", f"FROM {_from(bases, profiles[1])}"]
    if strategy == "multistage":
        lines.append("COPY --from=build /rootfs/ /")
    elif official:  # the slim base's own nodejs is not the one asked for
        lines += [f"COPY --from=build {OFFICIAL_NODE} {OFFICIAL_NODE}",
                  "COPY --from=build /usr/local/share/doc/node/LICENSE /usr/local/share/doc/node/LICENSE"]
    lines += [*_node_shape_ship(facts, strategy), *run_config(facts, node)]
    return "\n".join(lines) + "\n"


def _build_packages(facts: DockerFacts) -> list[str]:
    """Build-stage step installing what an sdist's build reads (its -dev packages, a C compiler and
    Python's headers) from the base's Debian suite."""
    if not facts.build_packages:
        return []
    names = " ".join(shlex.quote(p) for p in ("gcc", "libc6-dev", "python3-dev", *facts.build_packages))
    return ["RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
            f"{names} && rm -rf /var/lib/apt/lists/*"]


# Shell for _library_closure: every library a shared object under the directory links (ldd), except
# those bundled beside it (a wheel's .libs) and those the final base has (bind-mounted read-only).
# POSIX sh: buildah ignores SHELL when it writes OCI images, so RUN is /bin/sh (dash) there.
_CLOSURE_SHELL = (
    "set -eu; mkdir -p /rootfs",
    "find {tree} -type f {match}-exec ldd {{}} + 2>/dev/null "
    "| awk '$2 == \"=>\" && $3 ~ /^\\// {{print $3}}' | sort -u > /tmp/pare-libs",
    "while read -r lib; do case \"$lib\" in {tree}/*) continue;; esac; name=$(basename \"$lib\"); "
    "dir=$(readlink -f \"$(dirname \"$lib\")\"); [ -e \"/tmp/pare-final$dir/$name\" ] && continue; "
    "mkdir -p \"/rootfs$dir\"; cp -L \"$lib\" \"/rootfs$dir/$name\"; done < /tmp/pare-libs",
    "rm -f /tmp/pare-libs",
)


def _named_packages(facts: DockerFacts) -> list[str]:
    """Build-stage steps for the user's `packages`: installed from the base's suite with apt, then
    their files (not docs, man pages or locales; copyright stays) put into /rootfs, as native ships
    them; the libraries they link follow through _library_closure(/rootfs)."""
    if not facts.packages:
        return []
    names = " ".join(shlex.quote(p) for p in facts.packages)
    return ["RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
            f"{names} && rm -rf /var/lib/apt/lists/*",
            f"RUN set -eu; mkdir -p /rootfs; dpkg -L {names} | while read -r f; do \\",
            "      case \"$f\" in /usr/share/doc/*/copyright) ;; /usr/share/doc/*|/usr/share/man/*|"
            "/usr/share/locale/*|/usr/share/info/*) continue;; esac; \\",
            "      [ -f \"$f\" ] || [ -L \"$f\" ] || continue; d=$(readlink -f \"$(dirname \"$f\")\"); \\",
            "      mkdir -p \"/rootfs$d\"; cp -a \"$f\" \"/rootfs$d/\"; done"]


def _library_closure(tree: str, final: str, match: str = "-name '*.so*' ") -> list[str]:
    """Build-stage steps that put the system libraries compiled dependencies under `tree` link (a
    wheel's extension modules, an sdist built here: libpq for psycopg2, libstdc++ for numpy) and the
    `final` base lacks into /rootfs, with their packages' status.d entries: native's closure rule
    (pare.recipes.base.add_library_closure) in a build stage."""
    run = "; \\\n    ".join(line.format(tree=tree, match=match) for line in _CLOSURE_SHELL)
    return [f"RUN --mount=type=bind,from={final},target=/tmp/pare-final {run}"]


def python_dockerfile(facts: DockerFacts, strategy: str, bases: Mapping[str, str]) -> str:
    profiles = profiles_for("python", strategy)
    workdir = facts.workdir.rstrip("/")
    pip = ("python3 -m pip install --no-cache-dir --no-compile --disable-pip-version-check "
           f"--target {PYTHON_DEPS}")
    install = ["ARG PIP_CERT=", *_build_packages(facts), f"WORKDIR {facts.workdir}", *_copy_deps(facts)]
    for line in facts.install:
        if line.startswith("-r "):
            install.append(f"RUN {pip} {line} && rm -rf {PYTHON_DEPS}/bin")
        else:  # pinned lines from a lockfile, written where pip reads them
            # a lockfile with hashes lists every package it installs: --no-deps, since the base's
            # pip 23.0 refuses a dependency named with extras (uvicorn[standard]) that a line pins
            no_deps = " --no-deps" if "--hash=" in line else ""
            install.append(f"RUN printf '%s\\n' {line} > /tmp/pare-requirements.txt && "
                           f"{pip}{no_deps} -r /tmp/pare-requirements.txt && rm -rf {PYTHON_DEPS}/bin")
    if facts.install:  # what pare.recipes.python adds for code that imports pkg_resources undeclared
        install.append(f"RUN if [ ! -d {PYTHON_DEPS}/pkg_resources ] && grep -rqsE "
                       f"'^\\s*(import|from)\\s+pkg_resources' --include='*.py' {PYTHON_DEPS}; then "
                       f"{pip} {PKG_RESOURCES}; fi")
    paths = [PYTHON_DEPS, *(f"{workdir}/{p}" for p in facts.pythonpath)]
    facts_env = (("PYTHONPATH", ":".join(paths)), *facts.env)
    config = run_config(replace(facts, env=facts_env), RUNTIME_PATHS["python"])
    source = ["COPY . .",
              *(f"RUN PYTHONPATH={':'.join(paths)} {_build_env(facts)}{line}" for line in facts.build)]
    lines = header(facts, strategy)
    if strategy in ("onbuild", "slim"):
        lines += [f"FROM {_from(bases, profiles[0])}", *install, *source, *config]
        return "\n".join(lines) + "\n"
    lines += [f"FROM {_from(bases, profiles[0])} AS build", *install]
    if facts.build:
        lines += source
    final = _from(bases, profiles[1])
    shipped = [*_named_packages(facts), *(_library_closure("/rootfs", final, "") if facts.packages else [])]
    if facts.install:
        shipped += _library_closure(PYTHON_DEPS, final)
    if shipped:  # bash: the steps read NUL-separated names and pipe with pipefail
        lines += ['SHELL ["/bin/bash", "-o", "pipefail", "-c"]', *shipped, _status_d()]
    lines += ["", f"FROM {final}", f"WORKDIR {facts.workdir}"]
    if shipped:
        lines.append("COPY --from=build /rootfs/ /")
    if facts.install:
        lines.append(f"COPY --from=build {PYTHON_DEPS} {PYTHON_DEPS}")
    lines += [f"COPY --from=build {facts.workdir} {facts.workdir}" if facts.build else "COPY . .", *config]
    return "\n".join(lines) + "\n"


GENERATORS = {"go": go_dockerfile, "node": node_dockerfile, "python": python_dockerfile}


def generate(facts: DockerFacts, strategy: str = "multistage", bases: Mapping[str, str] | None = None
             ) -> Generated:
    """The Dockerfile for `facts` under `strategy`; `bases` maps profile names (suite-qualified
    when not bookworm's: Generated.profiles) to image references."""
    plain = profiles_for(facts.language, strategy)
    check_facts(facts)
    if facts.packages and (strategy != "multistage" or facts.language == "go"):
        raise UsageError(f"`packages` ({', '.join(facts.packages)}) ship on the engine path with node and "
                         "python apps and --strategy multistage only: build natively (the default) for "
                         "the others")
    runtime = engine_runtime(facts)
    profiles = suite_profiles(plain, runtime.suite)
    given = bases or {}
    # the generators name bases by role (plain profile names): map each to the suite's reference
    refs = {role: _from(given, name) for role, name in zip(plain, profiles, strict=True)}
    if facts.language == "node":
        text = node_dockerfile(facts, strategy, refs, runtime.official)
    else:
        text = GENERATORS[facts.language](facts, strategy, refs)
    return Generated(text, profiles)
