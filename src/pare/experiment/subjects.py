"""Where the bench's subjects come from: synthetic images (mechanics, seconds), or the user's app
directories built in each variant (the real experiment)."""

from __future__ import annotations

from pathlib import Path

import pare
from pare.errors import UsageError
from pare.experiment.runner import Subject
from pare.experiment.synthetic import write_synthetic

# variant -> (role, description); the playbook's four ways to build the same app
VARIANTS: dict[str, tuple[str, str]] = {
    "onbuild": ("fat", "single stage on the full build image (onbuild style)"),
    "slim": ("small", "single stage on a slim base"),
    "multistage": ("small", "multi-stage into distroless or scratch"),
    "native": ("small", "pare's native build (no engine)"),
}


def synthetic_subjects(workdir: Path, fat_mb: float, small_mb: float) -> list[Subject]:
    """Two images that differ only in size: proves the mechanics and the limits, not the builds."""
    if fat_mb <= 0 or small_mb <= 0:
        raise UsageError("--synthetic sizes must be positive")
    out = []
    for variant, role, mb, seed in (("fat", "fat", fat_mb, 1), ("small", "small", small_mb, 2)):
        layout = workdir / f"synthetic-{variant}"
        write_synthetic(layout, mb, 64, seed)
        out.append(Subject("synthetic", variant, role, layout, f"{mb:g} MB of incompressible bytes"))
    return out


def examples_dir() -> Path:
    """examples/ of a source checkout (`make demo` runs from one)."""
    here = Path(pare.__file__).resolve().parents[2] / "examples"
    if not here.is_dir():
        raise UsageError("--examples needs a pare source checkout (examples/ not found); "
                         "pass app directories instead")
    return here


def example_apps() -> list[Path]:
    return sorted(p for p in examples_dir().iterdir() if p.is_dir() and not p.name.startswith("."))


def app_subjects(app_dirs: list[Path], variants: list[str], workdir: Path, engine: str) -> list[Subject]:
    """One subject per app and variant, each with a builder that runs under the profile."""
    from pare.experiment.builders import builder_for  # needs the builder (pare.builder)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise UsageError(f"unknown variant(s) {', '.join(unknown)} (known: {', '.join(VARIANTS)})")
    subjects = []
    for app_dir in app_dirs:
        if not app_dir.is_dir():
            raise UsageError(f"{app_dir}: not a directory")
        for variant in variants:
            role, description = VARIANTS[variant]
            layout = workdir / "images" / f"{app_dir.name}-{variant}"
            builder = builder_for(variant, engine, workdir / "builder" / f"{app_dir.name}-{variant}")
            subjects.append(Subject(app_dir.name, variant, role, layout, description, builder,
                                    app_dir.resolve()))
    return subjects
