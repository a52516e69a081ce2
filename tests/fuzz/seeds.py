"""Valid samples of every format the fuzz targets read, for the mutators to start from."""

from __future__ import annotations

import base64
import functools
import io
import json
import tarfile
from pathlib import Path
from typing import Any

from tarcases import make_deb, tar_entries

SRC = Path(__file__).resolve().parents[2] / "src" / "pare"
DIGEST = "sha256:" + "ab" * 32
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def tar(entries: list[tuple[str, str, object]], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    return tar_entries(entries, fmt)


def _special_tar() -> bytes:
    """Devices, a fifo, long names (GNU and pax), a hard link to a long name, an xattr."""
    gnu = io.BytesIO()
    with tarfile.open(fileobj=gnu, mode="w", format=tarfile.GNU_FORMAT) as out:
        devices = (("dev/null", tarfile.CHRTYPE), ("dev/sda", tarfile.BLKTYPE), ("run/p", tarfile.FIFOTYPE))
        for name, kind in devices:
            info = tarfile.TarInfo(name)
            info.type = kind
            out.addfile(info)
        long = tarfile.TarInfo("d/" + "x" * 150)
        long.size = 3
        out.addfile(long, io.BytesIO(b"abc"))
        link = tarfile.TarInfo("d/link")
        link.type, link.linkname = tarfile.LNKTYPE, "d/" + "x" * 150
        out.addfile(link)
    pax = io.BytesIO()
    with tarfile.open(fileobj=pax, mode="w", format=tarfile.PAX_FORMAT) as out:
        info = tarfile.TarInfo("usr/bin/ping")
        info.pax_headers = {"SCHILY.xattr.security.capability": "\x01\x00", "path": "usr/bin/" + "p" * 300}
        info.size = 2
        out.addfile(info, io.BytesIO(b"hi"))
    return gnu.getvalue() + pax.getvalue()


@functools.cache
def tars() -> list[bytes]:
    return [
        tar([("./", "d", None), ("./etc/", "d", None), ("./etc/hostname", "f", b"box\n"),
             ("./bin", "s", "usr/bin"), ("./etc/alias", "h", "./etc/hostname")]),
        tar([("a/", "d", None), ("a/.wh.b", "f", b""), ("a/.wh..wh..opq", "f", b""), ("c", "f", b"x" * 1500)],
            tarfile.GNU_FORMAT),
        tar([("app/server.js", "f", b"console.log(1)\n"), ("app/link", "s", "../etc/passwd"),
             ("app/abs", "s", "/usr/bin/node")], tarfile.USTAR_FORMAT),
        _special_tar(),
        b"",
    ]


@functools.cache
def debs() -> list[bytes]:
    return [make_deb(data) for data in tars()[:3]] + [make_deb(tars()[0], compress=False)]


@functools.cache
def images() -> tuple[list[Any], list[Any], list[Any]]:
    """(manifests, indexes, configs) as JSON values, OCI and Docker flavours."""
    layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": DIGEST, "size": 10,
             "annotations": {"a": "b"}}
    manifests = [
        {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
         "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": DIGEST, "size": 2},
         "layers": [layer, dict(layer, urls=["http://x"])], "annotations": {"k": "v"},
         "subject": {"mediaType": OCI_MANIFEST, "digest": DIGEST, "size": 1}},
        {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
         "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": DIGEST,
                    "size": 2},
         "layers": [dict(layer, mediaType="application/vnd.docker.image.rootfs.diff.tar.gzip")]},
    ]
    indexes = [
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": [{"mediaType": OCI_MANIFEST, "digest": DIGEST, "size": 5,
                        "platform": {"os": "linux", "architecture": "arm64", "variant": "v8",
                                     "os.version": "1", "os.features": ["x"]},
                        "annotations": {"org.opencontainers.image.ref.name": "latest"}}]},
        {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
         "manifests": [{"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": DIGEST,
                        "size": 5, "platform": {"os": "linux", "architecture": "amd64"}}]},
    ]
    configs = [
        {"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
         "config": {"Env": ["PATH=/bin", "A=b"], "Entrypoint": ["/app"], "Cmd": None, "User": "65532",
                    "WorkingDir": "/app", "ExposedPorts": {"8080/tcp": {}}, "Labels": {"a": "b"}},
         "rootfs": {"type": "layers", "diff_ids": [DIGEST, DIGEST]},
         "history": [{"created_by": "RUN x", "created": "2024-01-01T00:00:00Z", "comment": "c"},
                     {"empty_layer": True, "created_by": "ENV A=b"}]},
    ]
    return manifests, indexes, configs


@functools.cache
def archives() -> list[bytes]:
    """A docker-archive (legacy layout) with one layer."""
    manifest = json.dumps([{"Config": "c.json", "RepoTags": ["app:1"], "Layers": ["l/layer.tar"]}]).encode()
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}).encode()
    return [tar([("manifest.json", "f", manifest), ("c.json", "f", config), ("l/", "d", None),
                 ("l/layer.tar", "f", tars()[0])])]


PACKAGES = [b"Package: a\nVersion: 1:2.0-1\nArchitecture: amd64\nDepends: b (>= 1) | c, d:any\n"
            b"Filename: pool/main/a/a_2.0-1_amd64.deb\n\nPackage: b\nVersion: 1.0\nArchitecture: all\n"
            b"Provides: c\nPre-Depends: d\n Depends: e\n\n",
            b"Package: d\nVersion: 0~rc1+b2\nArchitecture: amd64\nSource: dsrc (1.0)\nSize: 1234\n"
            b"SHA256: " + b"ab" * 32 + b"\n"]
BASE_PROFILES = [p.read_bytes() for p in sorted((SRC / "bases" / "builtin").glob("*.toml"))]
MACHINE_PROFILES = [p.read_bytes() for p in sorted((SRC / "experiment").glob("*.toml"))]
REFERENCES = ["127.0.0.1:5000/demo/app:1", "docker.io/library/debian@sha256:" + "a" * 64, "app",
              "oci:./out:app", "docker-archive:x.tar:app:1", "local:app:latest", "docker://[::1]:5000/a/b:c",
              "sha256:" + "0" * 64, "linux/arm64/v8", "localhost:5000/a/b/c:tag@sha256:" + "b" * 64]
CHALLENGES = ['Bearer realm="https://registry.test/token",service="registry.test",scope="repository:app:pull"',
              'Basic realm="registry", Bearer realm="https://auth.registry.test/t", error="invalid_token"',
              'Bearer realm="https://test/a\\"b",service=reg', "Negotiate abc==, Basic",
              'Bearer realm="http://registry.test/token"', "Fri, 31 Dec 1999 23:59:59 GMT", "120"]
TOKEN_ANSWERS = [b'{"token": "abc", "expires_in": 300}', b'{"access_token": "x", "expires_in": 1e999}',
                 b'{"token": ["x"]}', b"[]"]
DOCKER_CONFIGS: list[Any] = [
    {"auths": {"registry.test": {"auth": base64.b64encode(b"u:p").decode()},
               "https://index.docker.io/v1/": {"identitytoken": "t"}}},
    {"auths": {"http://registry.test/v2/": {"username": "u", "password": "p"}}},
]
RESULTS: list[Any] = [{
    "schema": "pare-bench/1", "pare_version": "0.1.0", "command": ["pare", "bench"],
    "machine": {"hostname": "h", "fingerprint": "abc"}, "started": "s", "finished": "f", "client": "pare",
    "profiles": {"micro": {"profile": {"name": "micro", "cpus": 0.2}, "repeats": 3, "applied": {}}},
    "variants": {"app": {"fat": {"role": "fat"}, "small": {"role": "small"}}},
    "runs": [{"app": "app", "variant": v, "profile": "micro", "metric": "pull", "value": s, "repeat": 0}
             for v, s in (("fat", 3.5), ("small", 0.5))],
    "node_recovery": [{"variant": "fat", "profile": "micro", "deployments": 3, "parallel": 1, "seconds": 9.0,
                       "repeat": 0, "app": "app", "images": 3}],
    "errors": [], "notes": ["n"], "methods": {"pull": "skopeo copy"}}]
PACKAGE_JSONS: list[Any] = [{"name": "a", "main": "server.js", "scripts": {"start": "node server.js"}},
                            {"scripts": {"start": "node ./index.js"}}]
_FILES = "https://files.pythonhosted.org/packages/ab/cd/"
PIP_REPORTS: list[Any] = [{  # pip's installation report (--dry-run --report), trimmed
    "version": "1", "pip_version": "25.3", "environment": {"platform_machine": "x86_64"},
    "install": [
        {"download_info": {"url": _FILES + "itsdangerous-2.2.0-py3-none-any.whl",
                           "archive_info": {"hashes": {"sha256": "ab" * 32}, "hash": "sha256=" + "ab" * 32}},
         "is_direct": False, "requested": True, "metadata": {"name": "itsdangerous", "version": "2.2.0"}},
        {"download_info": {"url": _FILES + "MarkupSafe-3.0.2.tar.gz",
                           "archive_info": {"hash": "sha256=" + "cd" * 32}},
         "is_direct": False, "requested": False, "metadata": {"name": "MarkupSafe", "version": "3.0.2"}}]},
    {"version": "1", "install": [{"download_info": {"url": "file:///app/localpkg", "dir_info": {}},
                                  "metadata": {"name": "localpkg", "version": "1.0"}}]}]
LATEST = {"org.opencontainers.image.ref.name": "latest"}
LAYOUT_INDEXES: list[Any] = [{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                              "manifests": [{"mediaType": OCI_MANIFEST, "digest": DIGEST, "size": 5,
                                             "annotations": LATEST}]}]
DOCKERFILES = [p.read_text(encoding="utf-8") for p in sorted(
    (SRC.parents[1] / "tests" / "data" / "dockerfiles").glob("buildkit*/*/Dockerfile"))] + [
    "ARG V=1\nFROM a:${V:-2} AS b\nCOPY <<A <<B /d\n1\nA\n2\nB\nRUN <<-E sh\n\tx\n\tE\nFROM b\nUSER 1\n",
    "# escape=`\nFROM a\nRUN x `\n y\nENV A=${B/x/y} C=${D%%.*}\n"]
LAYOUT_MARKERS = [b'{"imageLayoutVersion": "1.0.0"}']

# Start commands as other platforms declare them (pare.recipes.start)
START_DESCRIPTORS: dict[str, list[bytes]] = {
    "render.yaml": [b"services:\n  - type: web\n    name: s\n    rootDir: .\n"
                    b"    startCommand: gunicorn app:app --bind 0.0.0.0:$PORT\n"],
    "app.yaml": [b"runtime: python312\nentrypoint: gunicorn -b :$PORT main:app\n"],
    "project.toml": [b'[_]\nschema-version = "0.2"\n[[io.buildpacks.build.env]]\nname = "GOOGLE_ENTRYPOINT"\n'
                     b'value = "node server.js"\n',
                     b'[[io.buildpacks.processes]]\ntype = "web"\ncommand = ["node"]\nargs = ["a.js"]\n'],
    "heroku.yml": [b"build:\n  docker:\n    web: Dockerfile\n"
                   b"run:\n  web:\n    command:\n      - node x.js\n"],
    "fly.toml": [b'[processes]\napp = "node a.js"\nweb = "node b.js"\n[http_service]\nprocesses = ["web"]\n',
                 b'[experimental]\nentrypoint = ["/bin/app"]\ncmd = ["-v"]\n'],
    "startup.sh": [b"#!/bin/sh\nset -e\nexec gunicorn --bind=0.0.0.0:$PORT app:app \\\n  --workers 2\n"],
    "Dockerfile": [b'# syntax=docker/dockerfile:1\nFROM golang AS b\nRUN <<EOF\ngo build\nEOF\nFROM scratch\n'
                   b'WORKDIR /srv\nENTRYPOINT ["/srv/app"]\nCMD ["-addr", ":8080"]\n',
                   b"FROM python\nCMD gunicorn \\\n -b :$PORT app:app\n"],
}
