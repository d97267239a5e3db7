"""Sphinx configuration of the neurometa documentation site (``make docs``).

Sphinx with the pydata theme, numpydoc and myst-nb: the library's docstrings are numpydoc
already (ruff's numpy convention), autosummary gives every public name its own page, and
myst-nb renders the Markdown guides and executes the tutorials (jupytext percent scripts)
so their outputs and figures appear on the page. The build treats warnings as errors.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ["NEUROMETA_TUTORIAL_QUICK"] = os.environ.get("NEUROMETA_TUTORIAL_QUICK", "1")

import neurometa  # noqa: E402

project = "neurometa"
author = "The neurometa developers"
copyright = "The neurometa developers"  # noqa: A001 - Sphinx's name
release = version = neurometa.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".py": "myst-nb"}
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_in_temp = True
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# Only the site's pages: the figure files are included by the gallery; folders of other
# tools, build outputs and the configuration itself are not pages.
exclude_patterns = ["_build", "jupyter_execute", "**/.ipynb_checkpoints", "conf.py"]
# Links from the guides to files of the repository (scripts, modules) are not pages of the
# site: they stay plain links to the source.
suppress_warnings = ["myst.xref_missing"]

autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = f"neurometa {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path: list[str] = []
