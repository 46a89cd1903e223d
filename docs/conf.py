"""Sphinx configuration of the sb3-ppo-variants documentation (``sphinx-build -W -b html docs docs/_build/html``)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))

from sb3_ppo_variants.version import __version__  # noqa: E402

project = "sb3-ppo-variants"
author = "sb3-ppo-variants developers"
copyright = "2026, sb3-ppo-variants developers"
version = release = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "myst_parser",
    "objective_pages",
]
# the guides are Markdown (MyST), moved from the README; headings get anchors for links between pages
myst_heading_anchors = 3
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path: list[str] = []
exclude_patterns = ["_build"]
html_theme = "sphinx_rtd_theme"
html_title = f"sb3-ppo-variants {version}"

# autodoc: the classes' own reST docstrings (SB3's ``:param name:`` style), signatures with their hints
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": True}
# SB3's and torch's types in signatures that autodoc cannot resolve are not errors of these docs
nitpicky = False
suppress_warnings = ["ref.python"]

intersphinx_mapping: dict[str, tuple[str, None]] = {}

# doctests run in a scratch folder of the build (models are saved there)
doctest_global_setup = """
import os, tempfile
os.chdir(tempfile.mkdtemp())
"""
