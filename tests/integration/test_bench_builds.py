"""The build half of the experiment: cold builds start from emptied builder storage, warm builds
rebuild a one-line change with the cache kept, both under the profile, and their images are the
ones pushed and pulled. The builder here is a small real command (it writes an image with pare's
model), standing in for pare's build library, whose own tests cover it; `pare bench APP` and the
demo drive the real one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import need
from pare.experiment.profiles import Profile
from pare.experiment.results import Results, machine_info
from pare.experiment.runner import Builder, Experiment, Plan, Subject, change_app
from pare.localregistry import LocalRegistry
from pare.stores.layout import LayoutStore

pytestmark = pytest.mark.integration

SCRIPT = """
import sys, hashlib, pathlib
from pare.experiment.synthetic import synthetic_image
from pare.stores.layout import LayoutStore
app, layout, tag, cache = sys.argv[1:5]
text = (pathlib.Path(app) / "main.go").read_text()
cache = pathlib.Path(cache)
cold = not (cache / "warm").exists()
cache.mkdir(parents=True, exist_ok=True)
(cache / "warm").write_text("1")
seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
image = synthetic_image(1 if cold else 0.01, 8, seed, pathlib.Path(layout + ".work"))
LayoutStore(layout).write(image, tag)
print("cold" if cold else "warm")
"""


class ScriptBuilder(Builder):
    """Cold: 1 MB of work; warm (cache dir present): 10 kB."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.resets = 0
        self.apps: list[str] = []

    def reset_cache(self) -> None:
        self.resets += 1
        if (self.state / "warm").exists():
            (self.state / "warm").unlink()

    def command(self, app_dir: Path, layout: Path, tag: str) -> list[str]:
        self.apps.append((app_dir / "main.go").read_text())
        return [sys.executable, "-c", SCRIPT, str(app_dir), str(layout), tag, str(self.state)]


def test_change_app_changes_one_line(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.go").write_text('package main\nfunc main() { println("hello from x") }\n')
    (app / "node_modules").mkdir()
    changed = change_app(app, tmp_path / "changed", "change 1")
    before = (app / "main.go").read_text().splitlines()
    after = (changed / "main.go").read_text().splitlines()
    assert len(before) == len(after) and sum(a != b for a, b in zip(before, after, strict=True)) == 1
    assert not (changed / "node_modules").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "server.js").write_text("console.log(1)\n")
    assert change_app(other, tmp_path / "c2", "n").joinpath("server.js").read_text().endswith(
        "// pare bench change n\n")


def test_cold_and_warm_builds_feed_the_transfers(tmp_path: Path, registry: LocalRegistry) -> None:
    need("skopeo")
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.go").write_text('package main\nfunc main() { println("hello from app") }\n')
    builder = ScriptBuilder(tmp_path / "state")
    layout = tmp_path / "image"
    subject = Subject("app", "v", "small", layout, "scripted", builder, app)
    results = Results(["test"], machine_info(), "0")
    plan = Plan([Profile("laptop"), Profile("slow", cpus=0.5)], {"laptop": 2, "slow": 1}, deployments=(),
                workdir=tmp_path / "work")
    (tmp_path / "work").mkdir()
    Experiment(plan, [subject], registry, results, tmp_path / "r.json", progress=lambda _: None).run()
    assert results.errors == []
    assert builder.resets == 3  # one per cold build: 2 on laptop, 1 on slow
    warm_sources = [a for a in builder.apps if "hello (change" in a]
    assert len(warm_sources) == 3 and all(a.count("\n") == 2 for a in warm_sources)
    for profile, n in (("laptop", 2), ("slow", 1)):
        for metric in ("build_cold", "build_warm", "push", "push_change", "pull"):
            summary = results.summary("app", "v", profile, metric)
            assert summary is not None and summary.n == n, (profile, metric)
    store = LayoutStore(layout)
    v1, v2 = store.read("v1"), store.read("v2")
    assert v1.digest != v2.digest
    # v1 came from a cold build (1 MB of work), v2 from a warm one
    assert v1.compressed_size > 1_000_000 > v2.compressed_size
    assert Results.load(tmp_path / "r.json").to_dict() == results.to_dict()
