"""Which recipe an app directory needs: the first whose marker files are there, most specific first."""

from __future__ import annotations

from pathlib import Path

from pare.errors import UsageError
from pare.recipes.base import Recipe
from pare.recipes.go import GoRecipe
from pare.recipes.node import NodeRecipe
from pare.recipes.python import PythonRecipe
from pare.recipes.settings import AppSettings
from pare.recipes.static import StaticRecipe

# Order matters: a Node app may ship an index.html, a Go module may carry a package.json for assets.
RECIPES: tuple[type[Recipe], ...] = (GoRecipe, NodeRecipe, PythonRecipe, StaticRecipe)


def recipe_names() -> list[str]:
    return [r.name for r in RECIPES]


def detect(app_dir: Path | str, language: str | None = None, *, runtime: str | None = None,
           suite: str | None = None, settings: AppSettings | None = None) -> Recipe:
    """The recipe for `app_dir` (or the one named by `language`); UsageError when none fits.
    settings (default: the app's pare.toml or [tool.pare]), runtime ('node@22') and suite
    ('trixie') are handed to the recipe; a settings runtime names the language too."""
    path = Path(app_dir)
    if not path.is_dir():
        raise UsageError(f"{app_dir}: not a directory")
    if language:
        for recipe in RECIPES:
            if recipe.name == language:
                return recipe(path, runtime=runtime, suite=suite, settings=settings)
        raise UsageError(f"unknown language {language!r} (choose from {', '.join(recipe_names())})")
    for recipe in RECIPES:
        if recipe.matches(path):
            return recipe(path, runtime=runtime, suite=suite, settings=settings)
    raise UsageError(f"{app_dir}: cannot tell the language (no go.mod, package.json, requirements.txt, "
                     "app.py or index.html)")
