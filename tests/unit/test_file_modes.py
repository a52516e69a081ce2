"""Files pare writes follow the umask, as skopeo and umoci write theirs (0644 under 022, 0640 under
027), and stay private (0600) until they are complete and renamed. Each umask runs in a real `pare`
process, since the umask is process-wide."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import make_image, noise
from pare import files
from pare.stores.layout import LayoutStore

PARE = str(Path(sys.executable).parent / "pare")


def modes(root: Path) -> dict[str, int]:
    """relative path -> permission bits, for everything under root (lock files aside)."""
    return {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*")
            if not p.name.endswith("lock")}


@pytest.mark.parametrize("umask, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)])
def test_outputs_follow_the_umask(tmp_path: Path, umask: int, file_mode: int, dir_mode: int) -> None:
    src = tmp_path / "src"
    LayoutStore(src).write(make_image(tmp_path / "w", {"bin/app": noise(4000, 3)}), "t")
    out = tmp_path / "out"
    out.mkdir(mode=0o777)
    os.chmod(out, 0o777)

    def pare(*args: str) -> None:
        done = subprocess.run([PARE, *args], capture_output=True, text=True, timeout=120, umask=umask)
        assert done.returncode == 0, done.stderr

    pare("copy", "-q", f"oci:{src}:t", f"oci:{out / 'layout'}:t")
    pare("copy", "-q", f"oci:{src}:t", f"docker-archive:{out / 'app.tar'}:app:1")
    pare("sbom", "-q", f"oci:{src}:t", "-o", str(out / "sbom.json"))
    pare("scan", "-q", f"oci:{src}:t", "--db", str(tmp_path / "db.sqlite"),
         "--sarif", str(out / "scan.sarif"))
    found = modes(out)
    written = {name: mode for name, mode in found.items() if (out / name).is_file()}
    assert {"layout/index.json", "layout/oci-layout", "app.tar", "sbom.json", "scan.sarif"} <= set(written)
    assert sum(name.startswith("layout/blobs/sha256/") for name in written) == 3
    assert written == dict.fromkeys(written, file_mode), written
    dirs = {name: mode for name, mode in found.items() if (out / name).is_dir()}
    assert dirs == dict.fromkeys(dirs, dir_mode), dirs
    assert not [name for name in found if "/." in "/" + name], "no temp file left behind"


def test_temp_files_are_private_until_published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before its mode is widened and it is renamed, a half-written file is 0600 whatever the umask."""
    seen: list[int] = []
    chmod = os.chmod

    def spy(path: str | Path, mode: int) -> None:
        seen.append(stat.S_IMODE(os.stat(path).st_mode))
        chmod(path, mode)

    monkeypatch.setattr(files.os, "chmod", spy)
    files.write_atomic(tmp_path / "report.json", "{}")
    LayoutStore(tmp_path / "layout").write(make_image(tmp_path / "w", {"a": b"1"}), "t")
    assert seen and set(seen) == {0o600}
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == files.public_mode()


def test_umask_is_read_without_changing_it() -> None:
    before = os.umask(0o022)
    os.umask(before)
    files.umask.cache_clear()
    try:
        assert files.umask() == before and files.public_mode() == 0o666 & ~before
        current = os.umask(before)
        assert current == before, "reading the umask left it as it was"
    finally:
        files.umask.cache_clear()
