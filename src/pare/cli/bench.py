"""`pare bench` runs the small-images experiment; `pare report` reloads its results.

    pare bench --synthetic --profile laptop --profile micro -o results.json
    pare bench examples/go-hello examples/node-express --quick --html report.html
    pare bench --examples --quick
    pare bench examples/go-hello examples/node-express --demo     # what `make demo` runs
    pare report results.json -o report.html
    pare bench --emit-k8s k8s/ --k8s-registry registry.example.com --examples
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from pare import __version__
from pare.cli.output import console, emit_json, note, warn
from pare.errors import UsageError

if TYPE_CHECKING:
    from pare.experiment.results import Results
    from pare.experiment.runner import Plan


def _parse_ints(text: str, what: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise UsageError(f"{what}: want comma-separated whole numbers, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise UsageError(f"{what}: want numbers of at least 1, got {text!r}")
    return values


def _parse_sizes(text: str) -> tuple[float, float]:
    try:
        fat, small = (float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--synthetic-mb: want FAT,SMALL in MB (e.g. 40,2), got {text!r}") from None
    return fat, small


def _sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # so every limit's context manager tears down


def preset_notes(preset: str, plan: Plan, full_repeats: int) -> list[str]:
    """What a preset dropped from the full experiment, said in the results (and so in every report)."""
    from pare.experiment.runner import Plan
    if not preset:
        return []
    runs = ", ".join(f"{p.name} {plan.repeats.get(p.name, 1)}" for p in plan.profiles)
    notes = [f"{preset}: fewer runs per figure than the full experiment ({full_repeats}): {runs}"]
    for name in plan.skip_metrics:
        notes.append(f"{preset}: builds not measured on {name} (the images built on the unlimited "
                     "profile are pushed and pulled)")
    for p in plan.profiles:
        runs_here = plan.recovery_for(p.name)
        full = Plan(plan.profiles, plan.repeats, deployments=(1, 3, 5),
                    max_parallel_pulls=plan.max_parallel_pulls).recovery_for(p.name)
        if runs_here != full and full:
            kept = ", ".join(f"D={d} {'serial' if k == 1 else f'parallel {k}'}" for d, k in runs_here)
            why = "" if kept else " (on a limited link each run moves the fat image again; see its pull)"
            notes.append(f"{preset}: node recovery on {p.name} ran {kept or 'not at all'}{why} "
                         "(full experiment: D=1,3,5, serial and parallel)")
    return notes


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("app_dirs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--examples", is_flag=True, help="Bench the apps in examples/.")
@click.option("--synthetic", is_flag=True, help="Bench two synthetic images (fat, small).")
@click.option("--synthetic-mb", default="40,2", show_default=True, help="FAT,SMALL sizes for --synthetic.")
@click.option("--profile", "profiles", multiple=True, help="Machine profile(s) (default: laptop and micro).")
@click.option("--machines", type=click.Path(path_type=Path), help="Extra TOML file of machine profiles.")
@click.option("--variant", "variants", multiple=True,
              help="Variants to build (default: onbuild slim multistage native).")
@click.option("--engine", default="buildah", show_default=True, help="Build engine for the engine variants.")
@click.option("-n", "--repeats", type=int, default=3, show_default=True, help="Runs per figure.")
@click.option("--repeats-on", multiple=True, metavar="PROFILE=N", help="Runs per figure on one profile.")
@click.option("--quick", is_flag=True,
              help="Fewer runs: 2 per figure, 1 on limited profiles where builds are skipped; D=3.")
@click.option("--demo", is_flag=True,
              help="`make demo` preset (~20 min for two apps): 1 run per figure, builds measured on "
                   "unlimited profiles only, node recovery D=1,3 on unlimited profiles only.")
@click.option("--recovery-all", is_flag=True,
              help="Node recovery for every variant, not fattest vs smallest.")
@click.option("--deployments", default="1,3,5", show_default=True, help="Node recovery: deployment counts.")
@click.option("--max-parallel-pulls", type=int, default=3, show_default=True,
              help="Node recovery: kubelet maxParallelImagePulls (0 skips node recovery).")
@click.option("--scan/--no-scan", "scan", default=True, show_default=True,
              help="Record each variant's packages, known vulnerabilities (offline OSV index, pare db) "
                   "and coverage.")
@click.option("--debian-pending", is_flag=True,
              help="With --scan, also count fixes waiting in the suite's -security/-updates archives.")
@click.option("--client", type=click.Choice(["skopeo", "pare"]), default="skopeo", show_default=True,
              help="Tool that pushes and pulls in the measured runs.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("bench-results.json"),
              show_default=True, help="Results file (every raw run; `pare report` reloads it).")
@click.option("--html", type=click.Path(path_type=Path), help="Also write the HTML report here.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON (schema pare.bench/v1).")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines and no terminal summary.")
@click.option("--workdir", type=click.Path(path_type=Path), help="Scratch directory (default: a temp dir).")
@click.option("--emit-k8s", type=click.Path(path_type=Path),
              help="Write Kubernetes manifests for the same experiment on a real fleet, then exit.")
@click.option("--k8s-registry", default="registry.example.com/pare-bench", show_default=True,
              help="Registry prefix of the images in --emit-k8s manifests.")
def bench(app_dirs: tuple[Path, ...], examples: bool, synthetic: bool, synthetic_mb: str,
          profiles: tuple[str, ...], machines: Path | None, variants: tuple[str, ...], engine: str,
          repeats: int, repeats_on: tuple[str, ...], quick: bool, demo: bool, recovery_all: bool,
          deployments: str,
          max_parallel_pulls: int, scan: bool, debian_pending: bool,
          client: str, output: Path, html: Path | None, as_json: bool, quiet: bool, workdir: Path | None,
          emit_k8s: Path | None,
          k8s_registry: str) -> None:
    """Measure what small images buy: size, build, push and pull per variant and machine profile,
    and how fast a fresh Kubernetes node gets its pods running."""
    from pare.cli.build import app_directory
    from pare.experiment import subjects as subj
    from pare.experiment.subjects import VARIANTS
    apps = [app_directory(d) for d in app_dirs] + (subj.example_apps() if examples else [])
    chosen_variants = list(variants) or list(VARIANTS)
    if emit_k8s is not None:
        from pare.experiment.k8s import emit
        names = [p.name for p in apps] or ["synthetic"]
        written = emit(emit_k8s, names, chosen_variants, k8s_registry,
                       _parse_ints(deployments, "--deployments"), max(1, max_parallel_pulls))
        click.echo(f"wrote {len(written)} manifests to {emit_k8s} (see docs/scale-out.md)")
        return
    if not apps and not synthetic:
        raise UsageError("nothing to bench: give app directories, --examples or --synthetic")
    if repeats < 1:
        raise UsageError("--repeats must be at least 1")
    from pare.experiment.profiles import load_profiles, select
    available = load_profiles(machines)
    chosen = select(list(profiles) or ["laptop", "micro"], available)
    if quick and demo:
        raise UsageError("--quick and --demo are two presets: pick one")
    counts = {p.name: (1 if demo else 2 if quick and p.unlimited else 1 if quick else repeats)
              for p in chosen}
    for item in repeats_on:
        name, _, value = item.partition("=")
        if name not in counts or not value.isdigit() or int(value) < 1:
            raise UsageError(f"--repeats-on {item!r}: want PROFILE=N for a chosen profile")
        counts[name] = int(value)
    preset = "--demo" if demo else "--quick" if quick else ""
    default_deps = {"--quick": "3", "--demo": "1,3"}.get(preset, "1,3,5")
    dep_counts = _parse_ints(default_deps if deployments == "1,3,5" else deployments, "--deployments")
    # --quick/--demo: builds are measured on unlimited profiles only (a cold fat build at 0.2 CPU
    # takes minutes); the limited profiles push and pull the images built there
    skip: dict[str, tuple[str, ...]] = {p.name: ("build_cold", "build_warm") for p in chosen
                                        if preset and not p.unlimited}
    # --demo: on a limited link every node-recovery run moves the fat image again (~2 min at
    # 20 Mbit/s for a 300 MB image), which the 20-minute budget has no room for: the pull figure
    # measures that crossing once; node recovery runs on the unlimited profiles only
    recovery_runs: dict[str, tuple[tuple[int, int], ...]] = {
        p.name: () for p in chosen if demo and not p.unlimited}

    from pare.experiment.results import Results, machine_info
    from pare.experiment.runner import Client, Experiment, Plan
    from pare.localregistry import LocalRegistry, free_port

    own_workdir = workdir is None
    work = Path(tempfile.mkdtemp(prefix="pare-bench-")) if workdir is None else workdir
    work.mkdir(parents=True, exist_ok=True)
    previous = signal.signal(signal.SIGTERM, _sigterm)
    err = console(stderr=True)
    try:
        subjects = []
        if synthetic:
            fat_mb, small_mb = _parse_sizes(synthetic_mb)
            subjects += subj.synthetic_subjects(work, fat_mb, small_mb)
        if apps:
            subjects += subj.app_subjects(apps, chosen_variants, work, engine)
        plan = Plan(chosen, counts, deployments=dep_counts, max_parallel_pulls=max_parallel_pulls,
                    client=Client(client), workdir=work, recovery_all=recovery_all, skip_metrics=skip,
                    recovery_runs=recovery_runs, scan=scan, debian_pending=debian_pending)
        results = Results(["pare", *sys.argv[1:]], machine_info(), __version__)
        results.notes.extend(preset_notes(preset, plan, repeats))
        registry = LocalRegistry(work / "registry", port=free_port())
        bases = LocalRegistry(work / "base-registry", port=free_port()) if apps else None
        with registry.running(), (bases.running() if bases else contextlib.nullcontext()):
            Experiment(plan, subjects, registry, results, output,
                       progress=(lambda line: None) if quiet or as_json else
                       (lambda line: err.print(line, highlight=False, markup=False)),
                       base_registry=bases).run()
    finally:
        signal.signal(signal.SIGTERM, previous)
        if own_workdir:
            shutil.rmtree(work, ignore_errors=True)
    _summarise(results, as_json, quiet)
    said = note if as_json else click.echo  # stdout stays one JSON document
    said(f"results: {output}")
    if html is not None:
        from pare.report.html import write
        write(results, html)
        said(f"report: {html}")


def _summarise(results: Results, as_json: bool, quiet: bool) -> None:
    """The terminal table, or the results as pare.bench/v1 JSON, or nothing."""
    if as_json:
        emit_json("bench", results.to_dict())
    elif not quiet:
        from pare.report.terminal import render
        render(results, console())  # unwrapped and colourless when piped


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("results_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the HTML report here.")
@click.option("--allow-mixed", is_flag=True,
              help="Show results from different machines or profile definitions together (labelled).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the merged results as JSON (schema pare.bench/v1).")
@click.option("-q", "--quiet", is_flag=True, help="No terminal summary.")
def report(results_files: tuple[Path, ...], output: Path | None, allow_mixed: bool, as_json: bool,
           quiet: bool) -> None:
    """Summarise `pare bench` results in the terminal, and as a self-contained HTML page."""
    from pare.experiment.results import Results, merge
    loaded = [Results.load(p) for p in results_files]
    results, warnings = merge(loaded, allow_mixed=allow_mixed)
    _summarise(results, as_json, quiet)
    for w in warnings:
        warn(w)
    if output is not None:
        from pare.report.html import write
        write(results, output)
        (note if as_json else click.echo)(f"report: {output}")
