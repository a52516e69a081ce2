"""pare.recipes.go_project on the corpus's Go apps and on small hand-made cases for each branch."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import write_tree as app
from pare.errors import UsageError
from pare.recipes.go_project import (
    GoMod,
    main_package,
    pick_toolchain,
    read_go_mod,
    require_vendor,
    satisfies,
    vendor_state,
)

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
DEBIAN_GO = ["1.19.8", "1.24.4", "1.26.10", "1.27.1"]  # bookworm's, trixie's, forky's


@pytest.mark.parametrize(("name", "go", "requires", "main", "toolchain"), [
    ("go-stdlib-hello", "1.19", 0, ".", "1.19.8"),
    ("go-gorilla-mux", "1.15", 1, ".", "1.19.8"),
    ("go-cloud-run-hello", "1.22.5", 7, ".", "1.24.4"),
    ("go-httpbin", "1.25.0", 0, "./cmd/go-httpbin", "1.26.10"),
])
def test_corpus_go_apps(name: str, go: str, requires: int, main: str, toolchain: str) -> None:
    root = CORPUS / name
    mod = read_go_mod(root)
    assert mod is not None and (mod.go, len(mod.requires)) == (go, requires)
    assert main_package(root) == main
    assert pick_toolchain(DEBIAN_GO, mod) == toolchain
    assert vendor_state(root, mod).complete
    require_vendor(root, mod)  # no error: every corpus app builds without a module proxy


def test_go_mod_parsing(tmp_path: Path) -> None:
    root = app(tmp_path, {"go.mod": """// comment
module "example.com/svc" // trailing
go 1.23
toolchain go1.23.4
require example.com/one v1.0.0
require (
    example.com/two v0.2.0 // indirect
    example.com/three v3.0.0+incompatible
)
replace example.com/one => ../one
"""})
    assert read_go_mod(root) == GoMod("example.com/svc", "1.23", "1.23.4", {
        "example.com/one": "v1.0.0", "example.com/two": "v0.2.0", "example.com/three": "v3.0.0+incompatible",
    }, ("example.com/one => ../one",))
    assert read_go_mod(tmp_path / "nowhere") is None


@pytest.mark.parametrize(("text", "message"), [("go 1.22\n", "no module line"),
                                               ("module x\ngo one.two\n", "not a Go version")])
def test_bad_go_mod(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        read_go_mod(app(tmp_path, {"go.mod": text}))


@pytest.mark.parametrize(("toolchain", "minimum", "ok"), [
    ("1.19.8", "1.19", True), ("1.19.8", "1.22.5", False), ("1.24.4", "1.22.5", True),
    ("1.21.0", "1.21rc1", True), ("1.21rc2", "1.21.0", False), ("go1.26.10", "1.25.0", True),
    ("1.24.4", None, True),
])
def test_toolchain_satisfies_minimum(toolchain: str, minimum: str | None, ok: bool) -> None:
    assert satisfies(toolchain, minimum) is ok


def test_pick_toolchain_prefers_the_toolchain_line_then_the_oldest() -> None:
    mod = GoMod("x", "1.22", "1.26.10")
    assert pick_toolchain(DEBIAN_GO, mod) == "1.26.10"
    assert pick_toolchain(DEBIAN_GO, GoMod("x", "1.22", "1.23.1")) == "1.24.4"
    assert pick_toolchain(DEBIAN_GO, GoMod("x", "1.30", None)) is None


def test_main_package_branches(tmp_path: Path) -> None:
    root = app(tmp_path, {"go.mod": "module x\n", "lib.go": "package x\n",
                          "cmd/api/main.go": "// Package main\npackage main\n",
                          "cmd/api/main_test.go": "package main_test\n",
                          "cmd/tool/go.mod": "module x/tool\n", "cmd/tool/main.go": "package main\n",
                          "cmd/internal/util.go": "/* package main */\npackage util\n"})
    assert main_package(root) == "./cmd/api"  # cmd/tool is another module
    app(root, {"cmd/worker/main.go": "package main\n"})
    with pytest.raises(UsageError, match=r"several main packages \(./cmd/api, ./cmd/worker\).*--main"):
        main_package(root)
    assert main_package(root, "./cmd/worker") == "./cmd/worker"
    with pytest.raises(UsageError, match="not a main package"):
        main_package(root, "./cmd/internal")
    with pytest.raises(UsageError, match="no such directory"):
        main_package(root, "./cmd/../../etc")
    shutil.rmtree(root / "cmd")
    with pytest.raises(UsageError, match=r"no main package at the root or under cmd/.*--main"):
        main_package(root)
    (root / "lib.go").write_text("package main\n")
    assert main_package(root) == "."


def copy_app(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def test_vendor_problems_are_found(tmp_path: Path) -> None:
    root = copy_app(CORPUS / "go-cloud-run-hello", tmp_path / "app")
    mod = read_go_mod(root)
    assert mod is not None
    modules = root / "vendor" / "modules.txt"
    text = modules.read_text()
    modules.write_text(text.replace("# go.uber.org/zap v1.27.0", "# go.uber.org/zap v1.26.0"))
    wrong = "vendor/modules.txt has go.uber.org/zap v1.26.0, go.mod requires v1.27.0"
    assert wrong in vendor_state(root, mod).problems
    modules.write_text(text)
    shutil.rmtree(root / "vendor" / "go.uber.org" / "multierr")
    assert vendor_state(root, mod).problems == ("vendor/go.uber.org/multierr is missing",)
    with pytest.raises(UsageError, match=r"requires 7 modules but the app has an incomplete vendor/.*vendor"):
        require_vendor(root, mod)
    shutil.rmtree(root / "vendor")
    with pytest.raises(UsageError, match=r"requires 7 modules but the app has no vendor/"):
        require_vendor(root, mod)


def test_vendor_explicit_markers(tmp_path: Path) -> None:
    root = app(tmp_path, {"vendor/modules.txt": "# a.io/x v1.0.0\na.io/x\n# b.io/y v2.0.0\n## explicit\n",
                          "vendor/a.io/x/x.go": "package x\n"})
    state = vendor_state(root, GoMod("m", "1.22", None, {"a.io/x": "v1.0.0"}))
    assert state.problems == ("vendor/modules.txt does not mark a.io/x as explicit",
                              "vendor/modules.txt lists b.io/y, which go.mod does not require")
    assert vendor_state(root, GoMod("m", "1.22", None)).needed is False
