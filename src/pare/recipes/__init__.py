"""Language recipes: detect an app's language, build it natively, describe it for Dockerfiles."""

from pare.recipes.base import DockerFacts, Recipe
from pare.recipes.detect import RECIPES, detect, recipe_names

__all__ = ["RECIPES", "DockerFacts", "Recipe", "detect", "recipe_names"]
