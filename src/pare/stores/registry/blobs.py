"""Blob transfer: streamed, verified, resumable downloads; HEAD, mount, monolithic and chunked uploads.

A download is a stream that hashes what it yields and raises DigestMismatch at EOF if the bytes are
wrong, so a consumer that writes to a temp file and renames only after EOF (every pare store does)
never shows a corrupt blob. When the connection drops mid-blob, the stream asks again with
`Range: bytes=N-` and keeps hashing where it left off.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from pare.errors import DigestMismatch, PareError, RegistryError
from pare.oci.descriptor import Descriptor
from pare.oci.digest import CHUNK, Digest
from pare.progress import Advance
from pare.stores.registry.auth import repository_scope
from pare.stores.registry.client import RegistryClient, TransientError

OCTET = "application/octet-stream"
MAX_RESUMES = 5
SMALL_BLOB_LIMIT = 8 << 20  # configs are read into memory; refuse anything bigger


def pull_scopes(repository: str) -> tuple[str, ...]:
    return (repository_scope(repository, "pull"),)


def push_scopes(repository: str, mount_from: str | None = None) -> tuple[str, ...]:
    scopes = [repository_scope(repository, "pull,push")]
    if mount_from and mount_from != repository:
        scopes.append(repository_scope(mount_from, "pull"))
    return tuple(scopes)


def blob_path(repository: str, digest: Digest | str) -> str:
    return f"/v2/{repository}/blobs/{digest}"


# --- download ------------------------------------------------------------------------------------
class BlobReader(io.RawIOBase):
    """A readable stream of one registry blob: verified at EOF, resumed with Range on a dropped
    connection. Each instance is one HTTP stream; open a new one per consumer."""

    def __init__(self, client: RegistryClient, repository: str, descriptor: Descriptor,
                 advance: Advance | None = None, on_close: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.client = client
        self.repository = repository
        self.descriptor = descriptor
        self._hasher = descriptor.digest.hasher()
        self._advance = advance
        self._on_close = on_close
        self._response: httpx.Response | None = None
        self._chunks: Iterator[bytes] | None = None
        self._pending = b""
        self._resumes = 0
        self._done = False
        self._started = time.perf_counter()
        self._what = f"blob {descriptor.digest}"
        self._connect()

    @property
    def received(self) -> int:
        return self._hasher.size

    def _connect(self) -> None:
        offset = self._hasher.size
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        response = self.client.request("GET", blob_path(self.repository, self.descriptor.digest),
                                       scopes=pull_scopes(self.repository), what=self._what,
                                       headers=headers, stream=True, ok=(200, 206))
        self._response = response
        self._chunks = response.iter_raw()
        if offset and response.status_code == 200:
            self._skip(offset)  # the server ignored Range: skip what we already have
        elif offset and not response.headers.get("Content-Range", "").startswith(f"bytes {offset}-"):
            self._fail(RegistryError(f"{self._what}: registry resumed at the wrong offset "
                                     f"({response.headers.get('Content-Range')!r}, wanted {offset})"))

    def _skip(self, count: int) -> None:
        assert self._chunks is not None
        while count > 0:
            chunk = next(self._chunks, b"")
            if not chunk:
                raise RegistryError(f"{self._what}: shorter on retry than before")
            if len(chunk) > count:
                self._pending = chunk[count:]
                return
            count -= len(chunk)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        if self._done:
            return b""
        if size is None or size < 0:
            return self.readall()
        want = size
        if want == 0:
            return b""
        data = self._pending or self._next_chunk()
        if len(data) > want:
            data, self._pending = data[:want], data[want:]
        else:
            self._pending = b""
        if not data:
            self._finish()
            return b""
        self._hasher.update(data)
        if self._hasher.size > self.descriptor.size:
            self._fail(DigestMismatch(f"{self._what}: more than the announced {self.descriptor.size} bytes"))
        if self._advance is not None:
            self._advance(len(data))
        return data

    def readall(self) -> bytes:
        parts = []
        while chunk := self.read(CHUNK):
            parts.append(chunk)
        return b"".join(parts)

    def _next_chunk(self) -> bytes:
        while True:
            assert self._chunks is not None
            try:
                return next(self._chunks, b"")
            except httpx.TransportError as exc:
                self._close_response()
                if self._resumes >= MAX_RESUMES or self._hasher.size >= self.descriptor.size:
                    self._fail(self.client.transport_error(exc, self._what))
                self.client.recorder.retry()
                time.sleep(self.client.retry_policy.delay(self._resumes))
                self._resumes += 1
                try:
                    self._connect()
                except PareError as err:
                    self._fail(err)

    def _finish(self) -> None:
        self._done = True
        self._close_response()
        size = self._hasher.size
        if size != self.descriptor.size:
            self._fail(DigestMismatch(f"{self._what}: got {size} bytes, expected {self.descriptor.size}"))
        actual = self._hasher.digest()
        if actual != self.descriptor.digest:
            self._fail(DigestMismatch(f"{self._what} from {self.client.registry}/{self.repository}: "
                                      f"content hashes to {actual}; refused"))
        rec = self.client.recorder
        rec.add_phase("download", time.perf_counter() - self._started)
        rec.moved(size, blobs=1)

    def _fail(self, exc: Exception) -> None:
        self._done = True
        self._close_response()
        raise exc

    def _close_response(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None

    def close(self) -> None:
        if not self.closed:
            self._close_response()
            if self._on_close is not None:
                self._on_close()
        super().close()


def read_small_blob(client: RegistryClient, repository: str, descriptor: Descriptor) -> bytes:
    """A config or other small JSON blob, verified, in memory."""
    if descriptor.size > SMALL_BLOB_LIMIT:
        raise RegistryError(f"blob {descriptor.digest} is {descriptor.size} bytes, too big for a config")
    with BlobReader(client, repository, descriptor) as reader:
        return reader.readall()


def download_to(client: RegistryClient, repository: str, descriptor: Descriptor, dest: Path) -> Path:
    """Save a blob at `dest`: written to a temp file beside it, verified, then renamed into place."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".partial-", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, BlobReader(client, repository, descriptor) as reader:
            while chunk := reader.read(CHUNK):
                out.write(chunk)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


# --- upload -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MountResult:
    mounted: bool
    location: str | None  # an upload session the registry opened instead (202)


def blob_exists(client: RegistryClient, repository: str, digest: Digest, scopes: tuple[str, ...]) -> bool:
    with client.recorder.phase("head"):
        response = client.request("HEAD", blob_path(repository, digest), scopes=scopes,
                                  what=f"blob {digest}", ok=(200, 404))
    response.close()
    return response.status_code == 200


def mount_blob(client: RegistryClient, repository: str, digest: Digest, source: str) -> MountResult:
    """Ask the registry to link a blob from another repository; no bytes move when it agrees."""
    with client.recorder.phase("mount"):
        response = client.request("POST", f"/v2/{repository}/blobs/uploads/",
                                  scopes=push_scopes(repository, source), what=f"mount of {digest}",
                                  params={"mount": str(digest), "from": source}, ok=(201, 202))
    response.close()
    if response.status_code == 201:
        return MountResult(True, None)
    return MountResult(False, _location(response))


def _location(response: httpx.Response) -> str:
    location = response.headers.get("Location")
    if not location:
        raise RegistryError(f"registry answered {response.status_code} without an upload Location")
    return str(response.url.join(location))


def start_upload(client: RegistryClient, repository: str) -> str:
    with client.recorder.phase("upload"):
        response = client.request("POST", f"/v2/{repository}/blobs/uploads/",
                                  scopes=push_scopes(repository), what=f"upload to {repository}", ok=(202,))
    response.close()
    return _location(response)


def _with_digest(location: str, digest: Digest) -> str:
    return str(httpx.URL(location).copy_merge_params({"digest": str(digest)}))


class _Body:
    """An upload body from a stream: counts bytes, feeds progress, notes when the last byte left."""

    def __init__(self, stream: IO[bytes], advance: Advance | None, limit: int | None = None) -> None:
        self.stream = stream
        self.advance = advance
        self.limit = limit
        self.sent = 0
        self.finished_at: float | None = None

    def __iter__(self) -> Iterator[bytes]:
        while self.limit is None or self.sent < self.limit:
            want = CHUNK if self.limit is None else min(CHUNK, self.limit - self.sent)
            chunk = self.stream.read(want)
            if not chunk:
                break
            self.sent += len(chunk)
            if self.advance is not None:
                self.advance(len(chunk))
            yield chunk
        self.finished_at = time.perf_counter()


def upload_monolithic(client: RegistryClient, repository: str, descriptor: Descriptor,
                      stream: IO[bytes], location: str | None = None, advance: Advance | None = None) -> None:
    """POST for a session (unless a mount attempt opened one), then one PUT with every byte."""
    location = location or start_upload(client, repository)
    body = _Body(stream, advance)
    started = time.perf_counter()
    response = client.request("PUT", _with_digest(location, descriptor.digest),
                              scopes=push_scopes(repository), what=f"upload of blob {descriptor.digest}",
                              retry=False, ok=(201,),
                              headers={"Content-Type": OCTET, "Content-Length": str(descriptor.size)},
                              content=lambda: iter(body))
    response.close()
    done = time.perf_counter()
    sent_at = body.finished_at or done
    client.recorder.add_phase("upload", sent_at - started)
    client.recorder.add_phase("commit", done - sent_at)
    _check_sent(body.sent, descriptor)


def upload_chunked(client: RegistryClient, repository: str, descriptor: Descriptor, stream: IO[bytes],
                   chunk_size: int, location: str | None = None, advance: Advance | None = None) -> None:
    """POST, then PATCH chunks of `chunk_size` bytes with Content-Range, then PUT ?digest= to commit."""
    location = location or start_upload(client, repository)
    offset = 0
    with client.recorder.phase("upload"):
        while True:
            body = _Body(stream, advance, limit=chunk_size)
            data = b"".join(body)  # one bounded chunk in memory, so the PATCH can say its length
            if not data:
                break
            end = offset + len(data) - 1
            response = client.request("PATCH", location, scopes=push_scopes(repository),
                                      what=f"upload of blob {descriptor.digest}", retry=False, ok=(202,),
                                      headers={"Content-Type": OCTET, "Content-Length": str(len(data)),
                                               "Content-Range": f"{offset}-{end}"}, content=data)
            response.close()
            location = _location(response)
            offset += len(data)
    _check_sent(offset, descriptor)
    with client.recorder.phase("commit"):
        response = client.request("PUT", _with_digest(location, descriptor.digest),
                                  scopes=push_scopes(repository), what=f"commit of blob {descriptor.digest}",
                                  retry=False, ok=(201,), headers={"Content-Length": "0"}, content=b"")
    response.close()


def _check_sent(sent: int, descriptor: Descriptor) -> None:
    if sent != descriptor.size:
        raise DigestMismatch(f"blob {descriptor.digest}: source gave {sent} bytes, descriptor says "
                             f"{descriptor.size}")


def upload_blob(client: RegistryClient, repository: str, descriptor: Descriptor,
                opener: Callable[[], IO[bytes]], *, chunk_size: int | None = None,
                location: str | None = None, advance: Advance | None = None) -> None:
    """Upload one blob, restarting with a fresh session when the connection fails or the registry
    answers a retryable status; a digest the registry rejects is a DigestMismatch."""
    policy = client.retry_policy
    attempt = 0
    while True:
        try:
            with opener() as stream:
                if chunk_size:
                    upload_chunked(client, repository, descriptor, stream, chunk_size, location, advance)
                else:
                    upload_monolithic(client, repository, descriptor, stream, location, advance)
            client.recorder.moved(descriptor.size, blobs=1)
            return
        except TransientError as exc:
            if attempt + 1 >= policy.attempts:
                raise RegistryError(str(exc)) from None
            client.recorder.retry()
            time.sleep(policy.delay(attempt, exc.retry_after))
            attempt += 1
            location = None
