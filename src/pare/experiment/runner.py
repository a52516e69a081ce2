"""The experiment: for each machine profile, app and variant, measure build (cold and warm), push
to an empty registry, push of a one-line change, and pull into an empty store, N times each, every
command run under the profile's limits; then the node-recovery pulls.

Subjects are images in OCI layouts (tags `v1` and `v2` = after a one-line change). A subject with
a `Builder` is (re)built under the profile first; one without is measured as given (synthetic
images, or images the user built elsewhere). Every raw run lands in `Results`, saved after each
measurement so an interrupted bench keeps what it measured.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pare.errors import PareError, ToolMissing
from pare.experiment.limits import CommandFailed, Machine
from pare.experiment.profiles import Profile
from pare.experiment.results import RecoverySample, Results, Sample, now
from pare.experiment.synthetic import file_layer
from pare.localregistry import LocalRegistry
from pare.oci.mutate import append_layers
from pare.stores.layout import LayoutStore

Progress = Callable[[str], None]
TIMEOUT = 3600.0


# --- the tool that moves images in measured pushes and pulls -------------------------------------
@dataclass(frozen=True)
class Client:
    """`skopeo` (the neutral peer tool) or `pare` (pare's own copy)."""

    name: str = "skopeo"

    def check(self) -> str:
        if self.name == "skopeo":
            path = shutil.which("skopeo")
            if path is None:
                raise ToolMissing("skopeo is not installed (apt-get install skopeo, or `make setup`)")
            out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout.strip()
            return out or "skopeo"
        if self.name == "pare":
            from pare import __version__
            return f"pare {__version__}"
        raise PareError(f"unknown transfer client {self.name!r} (skopeo or pare)")

    def push(self, layout: Path, tag: str, ref: str) -> list[str]:
        if self.name == "pare":
            return [sys.executable, "-m", "pare", "copy", f"oci:{layout}:{tag}", f"docker://{ref}"]
        return ["skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false",
                f"oci:{layout}:{tag}", f"docker://{ref}"]

    def pull(self, ref: str, layout: Path, tag: str) -> list[str]:
        if self.name == "pare":
            return [sys.executable, "-m", "pare", "copy", f"docker://{ref}", f"oci:{layout}:{tag}"]
        return ["skopeo", "--insecure-policy", "copy", "--quiet", "--src-tls-verify=false",
                f"docker://{ref}", f"oci:{layout}:{tag}"]


# --- what is measured -------------------------------------------------------------------------
class Builder(ABC):
    """How a variant is built; the command runs under the profile, so it must be a subprocess."""

    description: str = ""
    compressor: str = ""  # what compresses the layers a pull moves (the report says it per variant)

    @abstractmethod
    def reset_cache(self) -> None:
        """Empty the builder's storage: the next build is cold (base pulled from the registry)."""

    @abstractmethod
    def command(self, app_dir: Path, layout: Path, tag: str) -> list[str]:
        """The build command writing the image to `layout` under `tag`."""

    def env(self) -> dict[str, str]:
        """The build command's environment (where its caches live)."""
        return dict(os.environ)

    def base_profiles(self, app_dir: Path) -> tuple[str, ...]:
        """Base images the build pulls from the base registry (published before measuring)."""
        return ()

    base_registry: str | None = None

    def cleanup(self) -> None:
        """Free the builder's storage once a subject's builds are measured (engines' vfs storage
        holds gigabytes)."""
        return None


@dataclass
class Subject:
    app: str
    variant: str
    role: str  # "fat" or "small": which side of the fat/small ratio
    layout: Path  # OCI layout holding tags v1 and v2
    description: str = ""
    builder: Builder | None = None
    app_dir: Path | None = None

    @property
    def repository(self) -> str:
        return f"bench/{self.app}-{self.variant}".lower()


@dataclass
class Plan:
    profiles: list[Profile]
    repeats: dict[str, int]
    metrics: tuple[str, ...] = ("build_cold", "build_warm", "push", "push_change", "pull")
    deployments: tuple[int, ...] = (1, 3, 5)
    max_parallel_pulls: int = 3
    recovery_all: bool = False  # node recovery for every variant, not just fattest vs smallest
    skip_metrics: dict[str, tuple[str, ...]] = field(default_factory=dict)  # profile -> metrics not run
    # profile -> the (deployments, parallel pulls) runs of node recovery; default: every D, serial
    # and parallel. A profile mapped to () gets no node recovery.
    recovery_runs: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    client: Client = field(default_factory=Client)
    # scratch space for changed apps and deployments: a private directory of its own by default
    # (never fixed names in the shared /tmp)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pare-bench-")))
    scan: bool = True  # record each variant's packages, known vulnerabilities and coverage (offline)
    debian_pending: bool = False  # also ask the Debian archive for fixes the image does not carry

    def recovery_for(self, profile: str) -> tuple[tuple[int, int], ...]:
        """The node-recovery runs on `profile`: (D, 1) serial and (D, k) parallel for every D."""
        if profile in self.recovery_runs:
            return self.recovery_runs[profile]
        if not self.max_parallel_pulls:
            return ()
        k = self.max_parallel_pulls
        return tuple((d, p) for d in self.deployments for p in dict.fromkeys((1, min(k, d))))


def change_app(src: Path, dest: Path, nonce: str) -> Path:
    """A copy of the app with a one-line code change (the greeting text, or one appended line)."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns("node_modules", ".git"))
    for name, comment in (("main.go", "//"), ("server.js", "//"), ("index.js", "//"), ("app.py", "#"),
                          ("main.py", "#")):
        entry = dest / name
        if not entry.exists():
            continue
        text = entry.read_text()
        if "hello from " in text:
            entry.write_text(text.replace("hello from ", f"hello ({nonce}) from ", 1))
        else:
            entry.write_text(text + f"{comment} pare bench change {nonce}\n")
        return dest
    marker = dest / "PARE_BENCH_CHANGE"
    marker.write_text(f"{nonce}\n")
    return dest


# --- the experiment ---------------------------------------------------------------------------
@dataclass
class Experiment:
    plan: Plan
    subjects: list[Subject]
    registry: LocalRegistry
    results: Results
    output: Path | None = None
    progress: Progress = print
    base_registry: LocalRegistry | None = None  # where builds pull their bases from (same link)
    _size_cache: dict[tuple[str, str], tuple[float, float, float]] = field(default_factory=dict)

    def save(self) -> None:
        if self.output is not None:
            self.results.save(self.output)

    def run(self) -> Results:
        self.results.client = self.plan.client.check()
        self._publish_bases()
        for profile in self.plan.profiles:
            n = self.plan.repeats.get(profile.name, 1)
            entry = self.results.profiles.setdefault(profile.name, {"profile": profile.to_dict(),
                                                                    "repeats": n, "applied": {}})
            for subject in self.subjects:
                self.results.variants.setdefault(subject.app, {})[subject.variant] = {
                    "role": subject.role, "description": subject.description,
                    "compressor": subject.builder.compressor if subject.builder else ""}
                self._subject(profile, subject, n, entry)
            if self.plan.recovery_for(profile.name):
                self._recovery(profile, n, entry)
        self.results.finished = now()
        self.save()
        return self.results

    def _publish_bases(self) -> None:
        """Put every base the builds start FROM into the base registry, unmeasured and unlimited:
        a cold build then pulls it from there, as a CI runner pulls from its registry."""
        wanted = {p: None for s in self.subjects if s.builder is not None and s.app_dir is not None
                  for p in s.builder.base_profiles(s.app_dir)}
        if not wanted:
            return
        if self.base_registry is None:
            raise PareError("engine builds need a base registry")
        from pare.bases.cache import publish_base
        for profile in wanted:
            self.progress(f"publishing base {profile} to {self.base_registry.address}")
            publish_base(profile, self.base_registry.address)
        for s in self.subjects:
            if s.builder is not None:
                s.builder.base_registry = self.base_registry.address

    def _machine(self, profile: Profile) -> Machine:
        extra = (self.base_registry.port,) if self.base_registry is not None else ()
        return Machine(profile, self.registry.port, extra)

    # --- one measured command ----------------------------------------------------------------
    def _measure(self, profile: Profile, entry: dict[str, object], subject: Subject, metric: str,
                 repeat: int, argv: list[str], env: dict[str, str] | None = None) -> float | None:
        self.results.methods.setdefault(metric, " ".join(argv))
        with self._machine(profile) as machine:
            entry["applied"] = machine.applied()
            try:
                run = machine.run(argv, timeout=TIMEOUT, env=env)
            except (CommandFailed, subprocess.TimeoutExpired) as exc:
                self.results.errors.append({"app": subject.app, "variant": subject.variant,
                                            "profile": profile.name, "metric": metric, "message": str(exc)})
                self.progress(f"  {metric} #{repeat + 1}: FAILED: {exc}")
                self.save()
                return None
        self.results.samples.append(Sample(subject.app, subject.variant, profile.name, metric, run.seconds,
                                           repeat))
        self.progress(f"  {metric} #{repeat + 1}: {run.seconds:.2f} s")
        self.save()
        return run.seconds

    def _ensure_built(self, s: Subject) -> None:
        """Build v1 and v2 unmeasured when no measured build produced them (builds skipped here)."""
        if s.builder is None or s.app_dir is None:
            return
        names = LayoutStore(s.layout).names() if (s.layout / "index.json").exists() else []
        for tag, app in (("v1", s.app_dir), ("v2", None)):
            if tag in names:
                continue
            src = app or change_app(s.app_dir, self.plan.workdir / f"{s.app}-changed", "change 1")
            self.progress(f"  building {tag} (unmeasured: builds are not measured on this profile)")
            self._unlimited(s.builder.command(src, s.layout, tag), s.builder.env())

    def _subject(self, profile: Profile, s: Subject, n: int, entry: dict[str, object]) -> None:
        self.progress(f"[{profile.name}] {s.app} / {s.variant}")
        skipped = self.plan.skip_metrics.get(profile.name, ())
        metrics = tuple(m for m in self.plan.metrics if m not in skipped)
        building = {"build_cold", "build_warm"} & set(metrics)
        if s.builder is not None and s.app_dir is not None and not building:
            self._ensure_built(s)
        if s.builder is not None and s.app_dir is not None and building:
            if "build_cold" in metrics:
                for r in range(n):
                    s.builder.reset_cache()
                    argv = s.builder.command(s.app_dir, s.layout, "v1")
                    self._measure(profile, entry, s, "build_cold", r, argv, s.builder.env())
            # warm: the builder cache holds the previous build; the app has a one-line change
            for r in range(n if "build_warm" in metrics else 1):
                changed = change_app(s.app_dir, self.plan.workdir / f"{s.app}-changed", f"change {r + 1}")
                argv = s.builder.command(changed, s.layout, "v2")
                if "build_warm" in metrics:
                    self._measure(profile, entry, s, "build_warm", r, argv, s.builder.env())
                else:
                    subprocess.run(argv, check=True, capture_output=True, env=s.builder.env())
            s.builder.cleanup()
        self._sizes(profile, s)
        self._scan(s)
        self._transfers(profile, s, n, entry, metrics)

    def _transfers(self, profile: Profile, s: Subject, n: int, entry: dict[str, object],
                   metrics: tuple[str, ...]) -> None:
        """Each repeat is one chain on an emptied registry: push v1 (to an empty registry), push v2
        (a one-line change: v1's layers are there), pull v1 (into an empty store). The image crosses
        the link once each way per repeat; an unmeasured push stands in for a figure not run."""
        ref = f"{self.registry.address}/{s.repository}"
        client = self.plan.client
        if not {"push", "push_change", "pull"} & set(metrics):
            return
        for r in range(n):
            self.registry.reset_storage()
            pushed = None
            if "push" in metrics:
                pushed = self._measure(profile, entry, s, "push", r, client.push(s.layout, "v1", f"{ref}:v1"))
            if pushed is None:
                self._unlimited(client.push(s.layout, "v1", f"{ref}:v1"))
            if "push_change" in metrics:
                self._measure(profile, entry, s, "push_change", r, client.push(s.layout, "v2", f"{ref}:v2"))
            if "pull" in metrics:
                dest = Path(tempfile.mkdtemp(prefix="pull-", dir=self.plan.workdir))
                try:
                    self._measure(profile, entry, s, "pull", r, client.pull(f"{ref}:v1", dest / "oci", "v1"))
                finally:
                    shutil.rmtree(dest, ignore_errors=True)

    def _scan(self, s: Subject) -> None:
        """What v1 carries, once per image (unlimited: a scan is analysis, not a measured figure)."""
        if not self.plan.scan:
            return
        image = LayoutStore(s.layout).read("v1")
        known = self.results.security.get(s.app, {}).get(s.variant)
        if known is not None and known.get("digest") == str(image.digest):
            return
        from pare.scan.summary import scan_for_bench
        self.progress(f"  scanning {s.app}/{s.variant} (packages, known vulnerabilities, coverage)")
        try:
            body = scan_for_bench(image, f"{s.app}/{s.variant}", debian_pending=self.plan.debian_pending)
        except PareError as exc:
            self.results.errors.append({"app": s.app, "variant": s.variant, "profile": "-", "metric": "scan",
                                        "message": str(exc)})
            return
        self.results.security.setdefault(s.app, {})[s.variant] = body
        self.results.methods.setdefault("security", "pare scan IMAGE --json"
                                        + (" --debian-pending" if self.plan.debian_pending else ""))
        self.save()

    def _unlimited(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, env=env)
        if proc.returncode != 0:
            raise PareError(f"setup step failed: {' '.join(argv[:3])}...: {proc.stderr.strip()[-300:]}")

    def _sizes(self, profile: Profile, s: Subject) -> None:
        """Sizes of v1; measured once per image (decompressing a fat image takes a while) and
        recorded for every profile that moves it."""
        image = LayoutStore(s.layout).read("v1")
        key = (s.app, s.variant)
        cached = self._size_cache.get(key)
        if cached is None or cached[0] != image.compressed_size:
            uncompressed = 0
            for layer in image.layers:
                size = layer.uncompressed_size
                if size is None:
                    size = 0
                    with layer.open_uncompressed() as tar:
                        while chunk := tar.read(1 << 20):
                            size += len(chunk)
                uncompressed += size
            cached = (float(image.compressed_size), float(uncompressed), float(len(image.layers)))
            self._size_cache[key] = cached
        for metric, value in zip(("size_compressed", "size_uncompressed", "layers"), cached, strict=True):
            self.results.samples.append(Sample(s.app, s.variant, profile.name, metric, value))

    # --- node recovery -------------------------------------------------------------------------
    def _recovery(self, profile: Profile, n: int, entry: dict[str, object]) -> None:
        runs = self.plan.recovery_for(profile.name)
        for s in self._recovery_subjects(profile):
            image = LayoutStore(s.layout).read("v1")
            work = self.plan.workdir / f"deploy-{s.app}-{s.variant}"
            work.mkdir(parents=True, exist_ok=True)
            store = LayoutStore(s.layout)
            ref = f"{self.registry.address}/{s.repository}"
            for d in dict.fromkeys(d for d, _ in runs):
                # D deployments: D images sharing the variant's layers, each with its own small top
                # layer (its own config), as D services built the same way would.
                self.registry.reset_storage()
                refs = []
                for i in range(d):
                    tag = f"deploy-{i}"
                    layer = file_layer("etc/deployment", 0, 0, work, text=f"deployment {i}\n".encode())
                    store.write(append_layers(image, [layer]), tag)
                    self._unlimited(self.plan.client.push(s.layout, tag, f"{ref}:{tag}"))
                    refs.append(f"{ref}:{tag}")
                for parallel in dict.fromkeys(p for dd, p in runs if dd == d):
                    for r in range(n):
                        self._node(profile, entry, s, d, parallel, r, refs)
            shutil.rmtree(work, ignore_errors=True)

    def _recovery_subjects(self, profile: Profile) -> list[Subject]:
        """Per app: the fattest 'fat' variant and the smallest other one (all with recovery_all)."""
        if self.plan.recovery_all:
            return list(self.subjects)
        def size(s: Subject) -> float:
            found = self.results.summary(s.app, s.variant, profile.name, "size_compressed")
            return found.median if found else 0.0
        chosen = []
        for app in dict.fromkeys(s.app for s in self.subjects):
            mine = [s for s in self.subjects if s.app == app]
            fats = [s for s in mine if s.role == "fat"]
            smalls = [s for s in mine if s.role != "fat"]
            chosen += [max(fats, key=size)] if fats else []
            chosen += [min(smalls, key=size)] if smalls else []
        return chosen

    def _node(self, profile: Profile, entry: dict[str, object], s: Subject, d: int, parallel: int, r: int,
              refs: list[str]) -> None:
        node = Path(tempfile.mkdtemp(prefix="node-", dir=self.plan.workdir))
        argv = [sys.executable, "-m", "pare.experiment.nodepull", "--store", str(node),
                "--parallel", str(parallel), "--insecure", *refs]
        label = f"node recovery {s.variant} D={d} {'serial' if parallel == 1 else f'parallel {parallel}'}"
        self.results.methods.setdefault("node_recovery", " ".join(argv))
        try:
            with self._machine(profile) as machine:
                entry["applied"] = machine.applied()
                run = machine.run(argv, timeout=TIMEOUT, check=False)
            if run.returncode != 0:
                why = "killed by the memory limit" if run.oom_killed else run.output_tail.strip()[-300:]
                self.results.errors.append({"app": s.app, "variant": s.variant, "profile": profile.name,
                                            "metric": label, "message": why})
                self.progress(f"  {label} #{r + 1}: FAILED: {why}")
                return
            report = json.loads(run.output_tail.strip().splitlines()[-1])
            self.results.recovery.append(RecoverySample(s.variant, profile.name, d, parallel,
                                                        float(report["seconds"]), r, s.app,
                                                        int(report["bytes"])))
            self.progress(f"  {label} #{r + 1}: {report['seconds']:.2f} s")
            self.save()
        finally:
            shutil.rmtree(node, ignore_errors=True)
