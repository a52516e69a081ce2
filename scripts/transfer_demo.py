#!/usr/bin/env python3
"""The transfer demo (what `make demo` ran before the bench): a registry round trip, in seconds.

Starts a real registry on a free loopback port in a temp dir, makes a small image (busybox-static
in one deterministic layer), pushes it, pulls it into a fresh store, prints what moved and how long
each phase took, and stops the registry. Nothing outlives the run, so it can run again and again.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

from rich.console import Console

from pare.cli.inspect import render, summary
from pare.cli.transfer import render_result
from pare.errors import PareError
from pare.localregistry import LocalRegistry, free_port
from pare.oci.config import HistoryEntry, ImageConfig
from pare.oci.image import Image
from pare.oci.layer import layer_from_tar
from pare.oci.mutate import append_layers, with_runtime
from pare.progress import for_terminal
from pare.stores.copy import copy
from pare.stores.layout import LayoutStore

BUSYBOX = Path("/bin/busybox")


def busybox_tar() -> bytes:
    """A sorted, normalised tar: /bin/busybox and /bin/sh -> busybox (same bytes every run)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in ("bin/",):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        data = BUSYBOX.read_bytes()
        info = tarfile.TarInfo("bin/busybox")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("bin/sh")
        link.type, link.linkname, link.mode = tarfile.SYMTYPE, "busybox", 0o777
        tar.addfile(link)
    return buf.getvalue()


def demo_image(workdir: Path) -> Image:
    layer = layer_from_tar(io.BytesIO(busybox_tar()), "gzip", workdir=workdir)
    base = Image.assemble(ImageConfig.new(created="1970-01-01T00:00:00Z"), [])
    image = append_layers(base, [layer], [HistoryEntry(created_by="COPY busybox-static /bin/busybox",
                                                       created="1970-01-01T00:00:00Z")])
    return with_runtime(image, entrypoint=["/bin/sh"], cmd=["-c", "echo hello from a pare image"],
                        env={"PATH": "/bin"}, user="65534")


def main() -> int:
    if not BUSYBOX.exists():
        print("demo: /bin/busybox is missing (apt-get install busybox-static, or `make setup`)",
              file=sys.stderr)
        return 1
    console = Console()
    tmp = Path(tempfile.mkdtemp(prefix="pare-demo-"))
    try:
        registry = LocalRegistry(tmp / "registry", port=free_port())
        with registry.running():
            console.print(f"[bold]registry[/bold] docker-registry on {registry.address} "
                          f"(storage {registry.storage})")
            LayoutStore(tmp / "build").write(demo_image(tmp / "layers"), "demo")
            ref = f"{registry.address}/pare/demo:1"
            pushed = copy(f"oci:{tmp / 'build'}:demo", ref, progress=for_terminal())
            render_result(pushed, console, title="push")
            pulled = copy(ref, f"oci:{tmp / 'fresh-store'}", dest_name=ref, progress=for_terminal())
            render_result(pulled, console, title="pull into a fresh store")
            image = LayoutStore(tmp / "fresh-store").read(ref)
            render(summary(image, [layer.tar_size() for layer in image.layers]), console)
            same = "yes" if pulled.digest == pushed.digest else "NO"
            console.print(f"pulled digest equals pushed digest: [bold]{same}[/bold]; registry stopped, "
                          "temp files removed.")
            return 0 if same == "yes" else 1
    except PareError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
