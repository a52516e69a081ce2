"""`pare lint --measure`: build the Dockerfile with buildah and price findings from the image's layers.

The estimate of a finding becomes the exact figure pare analyze computes for the layer the finding's
instruction built: the bytes a `RUN rm` or `chown -R` layer hides (analyze's waste: deleted, or
rewritten for metadata only), or the bytes a cache path holds in the layer that wrote it. Findings
about a whole base (a toolchain or full image in the final stage) keep their estimate: the smaller
base was not built. Each filesystem instruction of the shipped stages (RUN, COPY, ADD) makes one layer
with `buildah bud --layers`, so the image's last layers are those instructions, in order.

Bases: a FROM the registry cannot give here is mapped to a local image (`--base REF=LOCATION`,
LOCATION as pare's transports spell it: oci:DIR:TAG, docker-archive:FILE...), pulled into a private
buildah store and tagged REF, as benchmarks/apps.py maps corpus FROMs to pare's bases.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from pare.analyze.analysis import Analysis, analyze_image
from pare.engines.storage import remove_storage, storage_driver
from pare.errors import PareError, ToolMissing
from pare.lint.engine import Result, by_bytes
from pare.lint.parser import Dockerfile, Instruction

FS_KEYWORDS = ("RUN", "COPY", "ADD")
# Where each cache lands, as paths in the image (no leading /). pip's is under the home of whoever
# ran it: /root, a user's, or / itself when the build step ran with HOME=/.
CACHE_PATHS = {
    "apt-lists": re.compile(r"var/lib/apt/lists/"),
    "pip-cache": re.compile(r"(.*/)?\.cache/pip/"),
    "apk-cache": re.compile(r"var/cache/apk/"),
    "yum-cache": re.compile(r"var/cache/(yum|dnf)/"),
}
HIDDEN_BY = ("removed-later", "chown-after-copy")


class MeasureError(PareError):
    """The build or its analysis failed; the message carries buildah's last line."""


def _built_by(inst: Instruction, created_by: str) -> bool:
    """Whether a layer's history line can be this instruction's: buildah writes `/bin/sh -c SCRIPT`
    for a RUN and `/bin/sh -c #(nop) COPY file:... in DEST` for a COPY or ADD."""
    copy = re.search(r"#\(nop\)\s+(COPY|ADD)\b", created_by)
    if inst.keyword == "RUN":
        return "#(nop)" not in created_by
    return copy is not None and copy.group(1) == inst.keyword


def instruction_layers(df: Dockerfile, analysis: Analysis) -> dict[int, int]:
    """Line of each RUN/COPY/ADD of the shipped stages -> index of the layer it built, matched from
    the last layer back by history lines. A step with no layer (a COPY of nothing: buildah records
    it as an empty layer, which the manifest omits) is skipped, and its findings keep the estimate."""
    steps = [i for stage in df.shipped() for i in stage.instructions if i.keyword in FS_KEYWORDS]
    found: dict[int, int] = {}
    index = len(analysis.layers) - 1
    for inst in reversed(steps):
        if index >= 0 and _built_by(inst, analysis.layers[index].created_by):
            found[inst.line] = index
            index -= 1
    return found


def reprice(result: Result, df: Dockerfile, analysis: Analysis) -> Result:
    """The findings with measured bytes where the layers tell them exactly."""
    layers = instruction_layers(df, analysis)
    cache_bytes: dict[tuple[int, str], int] = {}
    for path, node in analysis.tree.walk():
        for family, pattern in CACHE_PATHS.items():
            if node.inode is not None and pattern.match(path):
                key = (node.layer, family)
                cache_bytes[key] = cache_bytes.get(key, 0) + node.size
    priced = []
    for finding in result.findings:
        layer = layers.get(finding.line)
        family = finding.rule.family
        if layer is not None and family in HIDDEN_BY:
            exact = sum(w.size for w in analysis.waste if w.hidden_by == layer)
            finding = replace(finding, bytes=exact, measured=True)
        elif layer is not None and family in CACHE_PATHS:
            finding = replace(finding, bytes=cache_bytes.get((layer, family), 0), measured=True)
        priced.append(finding)
    return replace(result, findings=tuple(by_bytes(priced)))


def _run(cmd: list[str], what: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise MeasureError(f"{what} failed: {last}")
    return proc.stdout


@dataclass(frozen=True)
class BuildInputs:
    """What a build here needs beside the Dockerfile and its context: FROM references mapped to local
    images (REF -> LOCATION), build args, and host files mounted into every RUN (HOST:CONTAINER, as
    `buildah bud -v`), e.g. the proxy's CA bundle for pip and npm."""

    bases: Mapping[str, str] = field(default_factory=dict)
    build_args: Mapping[str, str] = field(default_factory=dict)
    volumes: tuple[str, ...] = ()


def nameable(location: str, link: Path) -> str:
    """An oci: location buildah can pull: it names the image after the layout's path, and a path
    that is no valid reference (a `.cache` directory, capitals, `-_` or a trailing `_` as in a
    random temp name) fails, so the layout is pulled through a symlink at `link`, a path made of
    lower-case letters, digits and single dashes only (NAMEABLE_DIR)."""
    if not location.startswith("oci:"):
        return location
    path, sep, tag = location[4:].partition(":")
    link.symlink_to(Path(path).resolve())
    return f"oci:{link}{sep}{tag}"


@contextlib.contextmanager
def nameable_dir() -> Iterator[Path]:
    """A private directory whose path is a valid image reference's (see nameable), removed after."""
    base = Path(tempfile.gettempdir()).resolve()
    if not re.fullmatch(r"(/[a-z0-9]+(-[a-z0-9]+)*)+", str(base)):
        base = Path("/tmp")
    path = base / f"pare-lint-{secrets.token_hex(8)}"
    path.mkdir(mode=0o700)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class Store:
    """A private buildah store (its command prefix) holding the mapped bases, tagged as their REFs."""

    buildah: tuple[str, ...]
    inputs: BuildInputs


@contextlib.contextmanager
def buildah_store(inputs: BuildInputs | None = None) -> Iterator[Store]:
    """A buildah store in a temp dir (overlay where it mounts, else vfs), the bases pulled once;
    every image and mount removed after. Builds in one store share buildah's layer cache."""
    inputs = inputs or BuildInputs()
    if shutil.which("buildah") is None:
        raise ToolMissing("buildah is not installed (pare lint --measure builds with it)")
    with tempfile.TemporaryDirectory(prefix="pare-lint-build-") as tmp, nameable_dir() as links:
        root = Path(tmp)
        buildah = ("buildah", "--storage-driver", storage_driver(root), "--root", str(root / "root"),
                   "--runroot", str(root / "run"))
        try:
            for n, (ref, location) in enumerate(inputs.bases.items()):
                pullable = nameable(location, links / f"base{n}")
                image_id = _run([*buildah, "pull", "--quiet", pullable], f"buildah pull {location}").strip()
                _run([*buildah, "tag", image_id.splitlines()[-1], ref], f"buildah tag {ref}")
            yield Store(buildah, inputs)
        finally:
            subprocess.run([*buildah, "rmi", "--all", "--force"], capture_output=True, check=False)
            remove_storage(root)  # overlay leaves mounts a plain rmtree would trip on


def build_in(store: Store, dockerfile: Path, context: Path, out: Path) -> str:
    """Build with chroot isolation, one layer per instruction; the image goes to the OCI layout
    `out`, whose location is returned."""
    tag = "localhost/pare-lint-build:latest"
    extra = [a for key, value in store.inputs.build_args.items() for a in ("--build-arg", f"{key}={value}")]
    extra += [arg for volume in store.inputs.volumes for arg in ("-v", volume)]
    _run([*store.buildah, "bud", "--layers", "--isolation", "chroot", "--pull-never", *extra, "-f",
          str(dockerfile.resolve()), "-t", tag, str(context)], "buildah bud", cwd=context)
    _run([*store.buildah, "push", tag, f"oci:{out}:built"], "buildah push")
    return f"oci:{out}:built"


def build(dockerfile: Path, context: Path, out: Path, inputs: BuildInputs | None = None) -> str:
    """One build in a store of its own (build_in)."""
    with buildah_store(inputs) as store:
        return build_in(store, dockerfile, context, out)


def build_and_analyze(dockerfile: Path, context: Path, inputs: BuildInputs | None = None) -> Analysis:
    """Build, then pare analyze's exact per-layer accounting of the image."""
    with tempfile.TemporaryDirectory(prefix="pare-lint-measure-") as tmp:
        return analyze_location(build(dockerfile, context, Path(tmp) / "oci", inputs), str(dockerfile))


def analyze_location(location: str, name: str) -> Analysis:
    """pare analyze's accounting of a built image (an OCI layout location)."""
    from pare.stores.transports import open_location

    store, ref = open_location(location)
    return analyze_image(store.read(ref), name=name)
