"""The documentation's bookkeeping, checked without building it (``make docs`` builds it, with
warnings as errors, at the end of ``make test``).

- every public name of ``echoscope.__all__`` has a place on the API page, which is written from
  it at build time (so a new name cannot be left out);
- every figure the README shows is drawn by a gallery example that exists, through
  ``docs/readme_figures.py``;
- every gallery example has the header sphinx-gallery needs and runs from any directory.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path

import pytest

import echoscope as es

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GALLERY = ROOT / "examples" / "gallery"
EXAMPLES = sorted(GALLERY.glob("plot_*.py"))


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def docs_ext():
    pytest.importorskip("sphinx")
    return _load(DOCS / "_ext" / "echoscope_docs.py", "echoscope_docs")


@pytest.fixture(scope="module")
def readme_figures():
    return _load(DOCS / "readme_figures.py", "readme_figures")


def test_the_api_page_holds_every_public_name_once(docs_ext):
    listed = [name for _, _, subgroups in docs_ext.api_groups()
              for _, _, names in subgroups for name in names]
    public = {n for n in es.__all__ if not n.startswith("__")
              and not isinstance(getattr(es, n), type(es))}
    assert sorted(listed) == sorted(public)  # each once, none missing, nothing extra
    page = docs_ext.api_page()
    assert "   find_fixed_points" in page and "   plot_ena" in page


def test_a_new_public_name_lands_on_the_api_page(docs_ext, monkeypatch):
    """A name no layer claims still appears (under "Other"): the page needs no edit."""
    monkeypatch.setattr(es, "brand_new_analysis", lambda: None, raising=False)
    monkeypatch.setattr(es, "__all__", [*es.__all__, "brand_new_analysis"])
    groups = docs_ext.api_groups()
    other = [names for title, _, subgroups in groups if title == "Other"
             for _, _, names in subgroups]
    assert other and "brand_new_analysis" in other[0]


def test_readme_figures_come_from_gallery_examples(readme_figures):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"\]\(docs/([\w.-]+\.png)\)", readme))
    assert shown <= set(readme_figures.FIGURES), shown - set(readme_figures.FIGURES)
    for name, (script, _) in readme_figures.FIGURES.items():
        assert (GALLERY / script).exists(), name
        # the example ends with the figure the README shows
        tree = ast.parse((GALLERY / script).read_text(encoding="utf-8"))
        assigned = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                    for t in node.targets if isinstance(t, ast.Name)}
        assert "fig" in assigned, script
    with pytest.raises(SystemExit, match="unknown figure 'nope.png'"):
        readme_figures.main(["nope"])


def test_every_figure_in_docs_is_drawn_by_the_gallery(readme_figures):
    """No figure of ``docs/`` comes from a script outside the gallery (one copy of the code)."""
    assert {p.name for p in DOCS.glob("*.png")} <= set(readme_figures.FIGURES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_gallery_example_has_a_title_and_no_file_paths(path):
    text = path.read_text(encoding="utf-8")
    doc = ast.get_docstring(ast.parse(text))
    assert doc, f"{path.name}: sphinx-gallery needs a docstring header"
    title, underline = doc.splitlines()[:2]
    assert title.strip() and set(underline.strip()) == {"="} and \
        len(underline.strip()) >= len(title.strip()), path.name
    assert "__file__" not in text  # sphinx-gallery runs examples without it
    assert ".savefig(" not in text  # the gallery and readme_figures.py save the figures


def test_there_is_an_example_per_topic():
    names = {p.stem for p in EXAMPLES}
    assert {"plot_flipflop", "plot_echo_index", "plot_echo_index_transitions",
            "plot_certificates", "plot_torch_reservoirpy", "plot_sweeps",
            "plot_noise_robustness"} <= names
