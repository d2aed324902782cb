"""Sphinx configuration of the echoscope documentation (``make docs``).

The site: getting started, the example gallery (``examples/gallery/plot_*.py``, run at build
time by sphinx-gallery), one page per analysis on how to read its results, the command line
(generated from the argparse parser), the API reference (generated from ``echoscope.__all__``,
grouped by layer, so new public names appear without edits) and the references.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

import echoscope_docs  # noqa: E402

import echoscope  # noqa: E402

project = "echoscope"
author = "the echoscope developers"
copyright = "the echoscope developers"  # noqa: A001
release = echoscope.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "echoscope_docs",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "auto_examples/*.json",
                    "auto_examples/*.md5", "sg_execution_times.rst"]
root_doc = "index"
default_role = "py:obj"  # `name` links to the API when it can; no warning when it cannot

# The API pages: one page per public name, written by autosummary from api.rst, which
# echoscope_docs writes from echoscope.__all__ before the build reads it.
echoscope_docs.write_api_page(DOCS / "api.rst")
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc's type lines say it, with shapes
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True
numpydoc_validation_checks: set[str] = set()  # tests/test_docstrings.py validates the sections

sphinx_gallery_conf = {
    "examples_dirs": [str(ROOT / "examples" / "gallery")],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "image_scrapers": ("echoscope_docs.figure_scraper",),
    "reset_modules": ("matplotlib",),
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_signature": False,
    "min_reported_time": 1,
    "abort_on_example_error": True,
    "run_stale_examples": False,
    "matplotlib_animations": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"echoscope {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 8,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "getting_started": [], "references": [], "cli": []}
html_show_sourcelink = False
