"""Go module build information embedded in binaries (Go 1.18 and later): the toolchain version,
the main module and every dependency module with its version, as `go version -m` prints them.

Layout of the `.go.buildinfo` section's start (src/debug/buildinfo in Go's source): a 32-byte
header (14-byte magic, pointer size, flags), then, when flag 2 says the strings are inline, two
uvarint-length-prefixed strings: the Go version and the module info, the latter framed by 16-byte
sentinels. The section is 16-byte aligned in memory and so in the file, which rules out the same
magic bytes appearing as a literal elsewhere (the go tool itself carries one). Older binaries
(before Go 1.18) keep pointers instead of strings: they are recognised but not read.
"""

from __future__ import annotations

from dataclasses import dataclass

MAGIC = b"\xff Go buildinf:"
HEADER = 32
ALIGN = 16
FLAG_INLINE = 0x2
MAX_INFO = 1 << 20  # module info above 1 MiB is not build info


@dataclass(frozen=True, slots=True)
class Module:
    path: str
    version: str
    sum: str = ""


@dataclass(frozen=True, slots=True)
class BuildInfo:
    go_version: str  # "go1.19.8" (build tags such as " X:boringcrypto" removed)
    main: Module | None
    deps: tuple[Module, ...]
    settings: tuple[tuple[str, str], ...] = ()
    legacy: bool = False  # pre-1.18 layout: the binary is Go, its modules were not read


class NeedMore(Exception):
    """The buffer ends before the build info does."""


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise NeedMore
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def parse(data: bytes) -> BuildInfo | None:
    """Build info from bytes starting at the magic; None if they are not build info, NeedMore if the
    buffer is too short to tell."""
    if len(data) < HEADER:
        raise NeedMore
    if not data.startswith(MAGIC):
        return None
    ptr_size, flags = data[14], data[15]
    if ptr_size not in (4, 8):
        return None
    if not flags & FLAG_INLINE:
        return BuildInfo("", None, (), legacy=True)
    try:
        length, pos = _uvarint(data, HEADER)
        if length > 256:
            return None
        if pos + length > len(data):
            raise NeedMore
        version = data[pos:pos + length].decode("utf-8", "replace")
        pos += length
        length, pos = _uvarint(data, pos)
        if length > MAX_INFO:
            return None
        if pos + length > len(data):
            raise NeedMore
        info = data[pos:pos + length]
    except ValueError:
        return None
    if not version.startswith("go") and not version.startswith("devel"):
        return None
    return parse_modinfo(version, info.decode("utf-8", "replace"))


def parse_modinfo(version: str, text: str) -> BuildInfo:
    if len(text) >= 33 and text[-17] == "\n":
        text = text[16:-16]  # the sentinels around the module info
    main: Module | None = None
    path = ""
    deps: list[Module] = []
    settings: list[tuple[str, str]] = []
    last: str = ""
    for line in text.splitlines():
        fields = line.split("\t")
        kind = fields[0]
        if kind == "path" and len(fields) >= 2:
            path = fields[1]
        elif kind == "mod" and len(fields) >= 3:
            main = Module(fields[1], fields[2], fields[3] if len(fields) > 3 else "")
            last = "mod"
        elif kind == "dep" and len(fields) >= 3:
            deps.append(Module(fields[1], fields[2], fields[3] if len(fields) > 3 else ""))
            last = "dep"
        elif kind == "=>" and len(fields) >= 3:
            replacement = Module(fields[1], fields[2], fields[3] if len(fields) > 3 else "")
            if last == "dep" and deps:
                deps[-1] = replacement
            elif last == "mod":
                main = replacement
        elif kind == "build" and len(fields) >= 2:
            key, _, value = fields[1].partition("=")
            settings.append((key, value))
    if main is None and path:  # a command of the Go distribution itself (cmd/go): a path, no module
        main = Module(path, "(devel)")
    return BuildInfo(version.split()[0] if version.split() else version, main, tuple(deps), tuple(settings))


class BuildInfoScanner:
    """Fed a file's bytes chunk by chunk; finds the aligned magic and keeps only what follows it."""

    def __init__(self) -> None:
        self.offset = 0  # file offset of the next byte fed
        self._tail = b""  # last bytes of the previous chunk (a magic may straddle two chunks)
        self._found: bytearray | None = None
        self.result: BuildInfo | None = None
        self.done = False

    def feed(self, chunk: bytes) -> None:
        if self.done or not chunk:
            self.offset += len(chunk)
            return
        if self._found is not None:
            self._found += chunk
            self.offset += len(chunk)
            self._try()
            return
        data = self._tail + chunk
        base = self.offset - len(self._tail)
        self.offset += len(chunk)
        start = 0
        while True:
            at = data.find(MAGIC, start)
            if at < 0:
                break
            if (base + at) % ALIGN == 0:
                self._found = bytearray(data[at:])
                self._try()
                if self._found is not None or self.done:
                    return
                # not build info after all: keep searching past this false match
            start = at + 1
        self._tail = data[-(len(MAGIC) - 1):]

    def _try(self) -> None:
        assert self._found is not None
        try:
            self.result = parse(bytes(self._found))
        except NeedMore:
            if len(self._found) > MAX_INFO + 4096:
                self._found = None
                self.done = True
            return
        if self.result is not None:
            self.done = True
        self._found = None
