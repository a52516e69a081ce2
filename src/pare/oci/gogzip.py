"""Docker's layer compressor, for images that must weigh what `docker push` makes them weigh.

`docker push` gzips each layer with Go's compress/gzip at its default level. Neither zlib (any
level) nor containers/image's pgzip (what `buildah push` uses) gives the same sizes: measured on a
fat node image, docker push 312.5 MB, buildah push 324.4 MB, zlib level 6 320.2 MB. So pare runs
Go's own compressor: gogzip.go, a stdin-to-stdout filter built once with the host's `go` into the
blob cache, keyed by the source's hash and the Go version (a different Go may emit other bytes).
Without `go` (or with PARE_ENGINE_GZIP=engine) `available()` is False and callers keep their own.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from functools import cache
from pathlib import Path
from typing import IO

import platformdirs

from pare.errors import PareError, ToolMissing, UsageError
from pare.oci.digest import CHUNK

SOURCE = Path(__file__).with_name("gogzip.go")
CACHE_ENV = "PARE_BLOB_CACHE"
CHOICE_ENV = "PARE_ENGINE_GZIP"


class CompressorFailed(PareError):
    """The Go gzip filter could not be built, or failed on a stream."""


def cache_dir() -> Path:
    """Where the filter binary and the blobs it made live ($PARE_BLOB_CACHE overrides). Apart from
    the build cache on purpose: the experiment empties that for cold builds, and a base layer's blob
    is not what a cold build makes (docker reuses it from the pull, too)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path(platformdirs.user_cache_dir("pare")) / "gzip-blobs"


@cache
def go_version() -> str | None:
    """The host Go's version ("go1.19.8"), or None without a working `go`."""
    go = shutil.which("go")
    if go is None:
        return None
    done = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False)
    version = done.stdout.strip()
    return version if done.returncode == 0 and version.startswith("go") else None


def available() -> bool:
    """Go's gzip is used: `go` works here and PARE_ENGINE_GZIP does not ask for the engine's own
    compressor (`engine`: what pare did before, kept for side-by-side measurements)."""
    choice = os.environ.get(CHOICE_ENV, "go").strip() or "go"
    if choice not in ("go", "engine"):
        raise UsageError(f"{CHOICE_ENV}={choice!r}: choose go or engine")
    return choice == "go" and go_version() is not None


def compressor_id() -> str:
    """Names the exact compressor (blobs are cached under it): Go's gzip, default level, this Go."""
    version = go_version()
    if version is None:
        raise ToolMissing("go is not installed: Docker's gzip (Go compress/gzip) is not available")
    return f"go-compress-gzip-default-{version}"


def describe() -> str:
    """What the report says made the blobs."""
    return f"Go compress/gzip, default level ({go_version()}), as docker push"


def filter_binary() -> Path:
    """The built filter, building it on first use (atomically: a temp directory, then rename)."""
    version = go_version()
    if version is None:
        raise ToolMissing("go is not installed: cannot build the Go gzip filter")
    key = hashlib.sha256(SOURCE.read_bytes() + version.encode()).hexdigest()[:24]
    binary = cache_dir() / "bin" / key / "gogzip"
    if binary.is_file():
        return binary
    binary.parent.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build-", dir=binary.parent.parent) as tmp:
        work = Path(tmp)
        shutil.copyfile(SOURCE, work / "main.go")
        # Go's own build cache (shared and safe for concurrent use) keeps a rebuild to a link step
        env = {**os.environ, "GOFLAGS": "", "GO111MODULE": "off", "GOPROXY": "off"}
        done = subprocess.run(["go", "build", "-trimpath", "-o", str(work / "out" / "gogzip"), "main.go"],
                              cwd=work, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise CompressorFailed(f"building the Go gzip filter failed: {done.stderr.strip()[-300:]}")
        try:
            os.replace(work / "out", binary.parent)
        except OSError:  # another process put it there first
            if not binary.is_file():
                raise
    return binary


def compress(src: IO[bytes], dst: IO[bytes]) -> None:
    """Stream src through Go's gzip into dst (dst stays open). src is fed from a thread, so
    neither side is buffered whole."""
    proc = subprocess.Popen([str(filter_binary())], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    failure: list[BaseException] = []

    def feed() -> None:
        try:
            while chunk := src.read(CHUNK):
                proc.stdin.write(chunk)  # type: ignore[union-attr]
        except BaseException as exc:  # reported below, after the filter is stopped
            failure.append(exc)
        finally:
            try:
                proc.stdin.close()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass

    feeder = threading.Thread(target=feed, name="pare-gogzip-feed", daemon=True)
    feeder.start()
    try:
        while chunk := proc.stdout.read(CHUNK):
            dst.write(chunk)
    except BaseException:
        proc.kill()
        raise
    finally:
        feeder.join()
        errors = proc.stderr.read().decode(errors="replace")
        proc.stdout.close()
        proc.stderr.close()
        code = proc.wait()
    if code != 0:
        raise CompressorFailed(f"the Go gzip filter failed (exit {code}): {errors.strip()[-300:]}")
    if failure:
        raise failure[0]
