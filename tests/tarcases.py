"""Tars and .debs built by hand for tests: intact ones, and the same bytes broken the three ways a
lenient reader takes for a short but valid archive (cut mid-member, a bad header mid-stream, no
end-of-archive blocks)."""

from __future__ import annotations

import io
import lzma
import tarfile


def tar_entries(entries: list[tuple[str, str, object]], fmt: int = tarfile.PAX_FORMAT,
                modes: dict[str, int] | None = None) -> bytes:
    """entries: (name, kind, payload) with kind f (bytes), d, s (symlink target), h (hard link target);
    modes: a mode per name, else 0755 for directories and 0644 for the rest."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            info.mode = (modes or {}).get(name, 0o755 if kind == "d" else 0o644)
            data = None
            if kind == "f":
                assert isinstance(payload, bytes)
                info.size = len(payload)
                data = io.BytesIO(payload)
            elif kind == "d":
                info.type = tarfile.DIRTYPE
            elif kind == "s":
                info.type, info.linkname = tarfile.SYMTYPE, str(payload)
            elif kind == "h":
                info.type, info.linkname = tarfile.LNKTYPE, str(payload)
            tar.addfile(info, data)
    return buf.getvalue()


def _offsets(data: bytes) -> list[tuple[int, int, int]]:
    """(header offset, data offset, size) of each member, as tarfile reads them."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        return [(m.offset, m.offset_data, m.size) for m in tar.getmembers()]


def broken(data: bytes) -> dict[str, bytes]:
    """Three broken copies of a tar of at least two members, the last one a non-empty file."""
    members = _offsets(data)
    assert len(members) >= 2 and members[-1][2] > 1
    _, last_data, last_size = members[-1]
    end = last_data + -(-last_size // 512) * 512  # the end of the last member's padded content
    second_header = members[1][0]
    bad_header = bytearray(data)
    bad_header[second_header + 148 : second_header + 156] = b"9999999\x00"  # a checksum that cannot match
    return {
        "cut mid-member": data[: last_data + last_size // 2],
        "bad header mid-stream": bytes(bad_header),
        "no end-of-archive": data[:end],
    }


BROKEN_KINDS = ("cut mid-member", "bad header mid-stream", "no end-of-archive")


def _ar_member(name: str, content: bytes) -> bytes:
    header = f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{0o100644:<8o}{len(content):<10}`\n".encode()
    assert len(header) == 60
    return header + content + (b"\n" if len(content) % 2 else b"")


def make_deb(data_tar: bytes, *, package: str = "demo", compress: bool = True) -> bytes:
    """A .deb (ar: debian-binary, control.tar.xz, data.tar[.xz]) around a given data tar."""
    control = f"Package: {package}\nVersion: 1.0\nArchitecture: amd64\nDescription: test\n".encode()
    control_tar = tar_entries([("./", "d", None), ("./control", "f", control)])
    data_name, data = ("data.tar.xz", lzma.compress(data_tar)) if compress else ("data.tar", data_tar)
    return (b"!<arch>\n" + _ar_member("debian-binary", b"2.0\n")
            + _ar_member("control.tar.xz", lzma.compress(control_tar)) + _ar_member(data_name, data))
