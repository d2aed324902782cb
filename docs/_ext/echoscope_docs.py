"""The documentation's own machinery: the API page written from ``echoscope.__all__``, the
command-line reference read from the argparse parser, and the gallery's figure scraper.

- :func:`write_api_page` writes ``docs/api.rst`` before Sphinx reads the sources: every name of
  ``echoscope.__all__``, grouped by the layer (and, in the analysis layer, the module) that
  defines it, then ``echoscope.plotting`` and ``echoscope.tasks.configured_sweep``. A name that
  no group claims lands under "Other", so a new public name is documented without an edit here.
- ``.. echoscope-cli::`` renders ``echoscope --help`` and every command's ``--help``, from
  :func:`echoscope.cli.build_parser`: the page cannot drift from the parser.
- :func:`figure_scraper` shows the figures an example made. echoscope's plotting functions
  build ``matplotlib.figure.Figure`` objects without pyplot, which sphinx-gallery's matplotlib
  scraper cannot see; this scraper finds every figure the example's globals hold (directly, or
  in a list, tuple or dict) that was not shown yet, after each code block.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

# -- the API page ------------------------------------------------------------------------------

# The layers, top-level groups in reading order: (title, the modules whose __all__ they take).
GROUPS = [
    ("Systems: what is analysed", ["echoscope.systems"]),
    ("Simulation and inputs", ["echoscope.simulate", "echoscope.inputs"]),
    ("Training", ["echoscope.training"]),
    ("Analysis", ["echoscope.analysis"]),
    ("Sweeps", ["echoscope.sweep"]),
    ("Files", ["echoscope.io"]),
    ("Tasks as automata", ["echoscope.tasks.automata", "echoscope.tasks.automata.study"]),
    ("The flip-flop study", ["echoscope.tasks.flipflop_study"]),
]

# The analysis modules in reading order; a public module not listed (a new analysis) follows
# them in alphabetical order, the certificates come last.
ANALYSIS_ORDER = ["seeds", "fixed_points", "attractors", "ena", "echo_index", "grouping",
                  "basins", "lyapunov", "transitions", "continuation", "nonautonomous",
                  "from_data"]

HEADER = """\
.. This page is written by docs/_ext/echoscope_docs.py from echoscope.__all__ at every build;
   do not edit it.

API reference
=============

.. currentmodule:: echoscope

Every name below is importable from the top level: ``import echoscope as es`` then
``es.find_fixed_points``. The groups follow the package's layers, from the systems that are
analysed up to the tasks; imports only run down (see DEVELOPERS.md). The plotting functions
(:mod:`echoscope.plotting`, the only module that imports matplotlib) and the configured sweeps
of ``echoscope sweep`` are at the end. Results are frozen dataclasses with ``summary()`` (JSON-
ready) and ``arrays()``; every function that draws takes one ``rng`` argument. The version is
``echoscope.__version__``.
"""


def _first_line(module) -> str:
    doc = (module.__doc__ or "").strip()
    text = " ".join(doc.split("\n\n")[0].split())
    return text.replace("*", r"\*")


def _data_home(name: str, value) -> str | None:
    """The module whose source documents the constant ``name`` (a string after its
    assignment), for autodoc to read; None when no module does."""
    import sys

    from sphinx.pycode import ModuleAnalyzer

    for module_name, module in sorted(sys.modules.items()):
        if not module_name.startswith("echoscope") or vars(module).get(name, None) is not value:
            continue
        try:
            if ("", name) in ModuleAnalyzer.for_module(module_name).find_attr_docs():
                return module_name
        except Exception:  # a module without source: not the home
            continue
    return None


def _entry(name: str, module: str) -> str:
    """The autosummary entry of ``name``: a constant by the module that documents it."""
    import inspect

    value = getattr(importlib.import_module(module), name)
    if inspect.isclass(value) or inspect.isroutine(value) or callable(value):
        return name
    home = _data_home(name, value)
    if home is None or home == module:
        return name
    return f"~{home.removeprefix(module + '.')}.{name}"  # relative to the current module


def _block(names, module="echoscope") -> list[str]:
    lines = []
    if module != "echoscope":
        lines += [f".. currentmodule:: {module}", ""]
    lines += [".. autosummary::", "   :toctree: generated/", "   :nosignatures:", ""]
    lines += [f"   {_entry(name, module)}" for name in names]
    lines += [""]
    if module != "echoscope":
        lines += [".. currentmodule:: echoscope", ""]
    return lines


def _heading(text, char) -> list[str]:
    return [text, char * len(text), ""]


def api_groups():
    """``[(title, description, [(subtitle, description, names)])]`` for every name of
    ``echoscope.__all__`` (each once), and the names no group claims under "Other"."""
    import echoscope

    names = [n for n in dict.fromkeys(echoscope.__all__)  # modules and dunders: not objects
             if not isinstance(getattr(echoscope, n), type(echoscope)) and not n.startswith("__")]
    claimed: set[str] = set()
    groups = []
    for title, modules in GROUPS:
        members = []
        for module_name in modules:
            module = importlib.import_module(module_name)
            members += [n for n in getattr(module, "__all__", ())
                        if n in names and n not in claimed and n not in members]
        claimed.update(members)
        description = _first_line(importlib.import_module(modules[0]))
        if modules[0] == "echoscope.analysis":
            groups.append((title, description, _analysis_subgroups(members)))
        else:
            groups.append((title, description, [("", "", members)]))
    rest = [n for n in names if n not in claimed]
    if rest:
        groups.append(("Other", "Errors, the version and names not in a layer above.",
                       [("", "", rest)]))
    return groups


def _analysis_subgroups(members):
    import echoscope
    import echoscope.analysis as analysis

    public = sorted(m.name for m in pkgutil.iter_modules(analysis.__path__)
                    if not m.name.startswith("_"))
    order = [m for m in ANALYSIS_ORDER if m in public]
    order += [m for m in public if m not in order and m != "certificates"]
    order += ["certificates"] if "certificates" in public else []
    alls = {m: set(getattr(importlib.import_module(f"echoscope.analysis.{m}"), "__all__", ()))
            for m in order}
    buckets: dict[str, list[str]] = {m: [] for m in order}
    for name in members:
        defined = getattr(getattr(echoscope, name), "__module__", "") or ""
        parts = defined.split(".")
        home = parts[2] if len(parts) > 2 and parts[:2] == ["echoscope", "analysis"] else ""
        if home not in alls or name not in alls[home]:
            home = next((m for m in order if name in alls[m]), order[0])
        buckets[home].append(name)
    return [(f"``echoscope.analysis.{m}``",
             _first_line(importlib.import_module(f"echoscope.analysis.{m}")), names)
            for m, names in buckets.items() if names]


def api_page() -> str:
    """The text of ``api.rst``."""
    lines = HEADER.splitlines() + [""]
    for title, description, subgroups in api_groups():
        lines += _heading(title, "-")
        if description:
            lines += [description, ""]
        for subtitle, subdescription, names in subgroups:
            if subtitle:
                lines += _heading(subtitle, "~")
                if subdescription:
                    lines += [subdescription, ""]
            lines += _block(names)
    import echoscope.plotting as plotting
    import echoscope.tasks.configured_sweep as configured

    lines += _heading("Plotting", "-")
    lines += [_first_line(plotting), ""]
    lines += _block(plotting.__all__, "echoscope.plotting")
    lines += _heading("Configured sweeps", "-")
    lines += [_first_line(configured) + " See :doc:`reading/sweeps` for the file.", ""]
    lines += _block(configured.__all__, "echoscope.tasks.configured_sweep")
    return "\n".join(lines)


def write_api_page(path: Path) -> None:
    """Write ``path`` (the API page) when its text changed, so that an unchanged page keeps
    Sphinx's cache."""
    text = api_page()
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


# -- the command-line reference ----------------------------------------------------------------


def _help(parser: argparse.ArgumentParser) -> str:
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=92,
                                                                 max_help_position=30)
    return parser.format_help()


class CliDirective(SphinxDirective):
    """``.. echoscope-cli::``: one section per command with its description and its
    ``--help``, read from the parser."""

    has_content = False

    def run(self):
        """The sections of ``echoscope --help`` and of each command."""
        from echoscope.cli import COMMANDS, build_parser

        parser = build_parser()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        lines = ["Usage", "-----", "", ".. code-block:: text", ""]
        lines += ["   " + line for line in _help(parser).splitlines()] + [""]
        for command in COMMANDS:
            title = f"echoscope {command.name}"
            lines += [title, "-" * len(title), "", command.help[:1].upper() + command.help[1:]
                      + ".", "", ".. code-block:: text", ""]
            lines += ["   " + line for line in _help(sub.choices[command.name]).splitlines()]
            lines += [""]
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source="echoscope --help"), node)
        return node.children


# -- the gallery's figure scraper --------------------------------------------------------------


def _figures(values):
    from matplotlib.figure import Figure

    for value in values:
        if isinstance(value, Figure):
            yield value
        elif isinstance(value, (list, tuple)):
            yield from (v for v in value if isinstance(v, Figure))
        elif isinstance(value, dict):
            yield from (v for v in value.values() if isinstance(v, Figure))


def figure_scraper(block, block_vars, gallery_conf, **kwargs):
    """Save the figures the example's globals hold that were not shown yet, in the order the
    example first named them, and return their reST (a sphinx-gallery image scraper)."""
    from sphinx_gallery.scrapers import figure_rst

    fresh = []
    for fig in _figures(list(block_vars["example_globals"].values())):
        if not getattr(fig, "_echoscope_shown", False) and all(fig is not f for f in fresh):
            fresh.append(fig)
    paths = []
    for fig, path in zip(fresh, block_vars["image_path_iterator"]):
        fig.savefig(path, dpi=100)
        fig._echoscope_shown = True
        paths.append(path)
    titles = [(f._suptitle.get_text() if f._suptitle is not None else "") for f in fresh]
    return figure_rst(paths, gallery_conf["src_dir"], fig_titles=titles[0] if len(titles) == 1
                      else "")


def setup(app):
    """Register the ``echoscope-cli`` directive."""
    app.add_directive("echoscope-cli", CliDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
