"""The documentation site names every public class: the objective pages (written from the registry at build time)
and the API page hold an autodoc entry for each, so each constructor's ``:param`` texts are rendered. CI builds the
site with warnings as errors and runs its doctests."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import sb3_ppo_variants
from sb3_ppo_variants.registry import OBJECTIVES, REGISTRY

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _objective_pages():
    spec = importlib.util.spec_from_file_location("objective_pages", DOCS / "_ext" / "objective_pages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_public_class_has_an_autodoc_entry() -> None:
    pages = _objective_pages()
    text = (DOCS / "api.rst").read_text()
    for objective in OBJECTIVES:
        text += pages.page(objective, [v for v in REGISTRY if v.objective.key == objective.key])
    documented = set(re.findall(r"\.\. autoclass:: sb3_ppo_variants\.(\w+)", text))
    public = {name for name in sb3_ppo_variants.__all__ if isinstance(getattr(sb3_ppo_variants, name), type)}
    assert public - documented == set()


def test_every_objective_page_is_in_the_toctree() -> None:
    index = (DOCS / "index.rst").read_text()
    for objective in OBJECTIVES:
        assert f"modules/{objective.key}" in index
    for guide in (DOCS / "guide").iterdir():
        assert f"guide/{guide.stem}" in index, guide.name


def test_the_grid_examples_of_the_docs_load(tmp_path: Path) -> None:
    from sb3_ppo_variants.benchmark.grid import load_grid

    examples = [
        block
        for page in (DOCS / "guide").glob("*.md")
        for block in re.findall(r"```ya?ml\n(.*?)```", page.read_text(), re.S)
        if block.startswith("settings:")
    ]
    assert examples, "the benchmark guide shows a grid yml"
    for i, example in enumerate(examples):
        path = tmp_path / f"example_{i}.yml"
        path.write_text(example)
        assert load_grid(path).runs()
