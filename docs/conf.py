"""Sphinx configuration: tutorial, CLI reference, executed notebooks and the API reference.

Build (warnings are errors; needs the ``docs`` extra)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The API reference is generated from the numpydoc docstrings (autosummary). ``_ext/symtrunc_docs.py``
writes the generated pages first: the CLI reference from the argparse parser, the README's example
and a CLI walk-through run on the Wine data for the tutorial, and the notebooks, executed and
rendered as MyST Markdown (myst-parser reads them).
"""

import re
import sys
from pathlib import Path

import symtrunc

sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

project = "symtrunc"
author = "symtrunc developers"
release = version = symtrunc.__version__
copyright = "symtrunc developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_parser",
    "symtrunc_docs",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_enable_extensions = ["dollarmath", "amsmath"]
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options: dict[str, bool] = {}   # members: see _templates/module.rst
autodoc_member_order = "bysource"
autodoc_typehints = "none"          # signatures are documented in the numpydoc sections
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
templates_path = ["_templates"]
exclude_patterns = ["_build", "_generated", "_ext"]
html_theme = "alabaster"
html_static_path: list[str] = []
# python-flint, numpy and matplotlib types appear in docstrings without their own inventories
nitpicky = False
# ambiguous cross-references (a class re-exported by a package, "shape" in "array of shape (N, M)")
# resolve to the first target; they are not errors in the docstrings
suppress_warnings = ["autosummary.import_cycle", "ref.python"]


def _escape_bars(app, what, name, obj, options, lines):
    """Docstrings write absolute values and norms as ``|x|``; reST would read ``|x|`` as a
    substitution. Escape bars in prose (not inside inline literals, roles or doctest blocks)."""
    in_doctest = False
    for k, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">>>"):
            in_doctest = True
        elif not stripped:
            in_doctest = False
        if in_doctest or "|" not in line:
            continue
        parts = re.split(r"(``.*?``|`[^`]*`)", line)       # odd parts are literals and role targets
        lines[k] = "".join(p if i % 2 else p.replace("|", r"\|") for i, p in enumerate(parts))


_FIELD_SECTIONS = {"Parameters", "Returns", "Yields", "Raises", "Attributes", "Other Parameters"}


def _examples_header(app, what, name, obj, options, lines):
    """Before napoleon: doctests written right after a Parameters/Returns section (without an
    ``Examples`` header) would be parsed as parameters; give them their header."""
    section = None
    k = 0
    while k < len(lines):
        line = lines[k]
        if k + 1 < len(lines) and line.strip() and set(lines[k + 1].strip()) == {"-"}:
            section = line.strip()
        elif line.startswith(">>>") and section in _FIELD_SECTIONS:
            lines[k:k] = ["Examples", "--------"]
            section = "Examples"
            k += 2
        k += 1


def setup(app):
    app.connect("autodoc-process-docstring", _examples_header, priority=400)  # before napoleon (500)
    app.connect("autodoc-process-docstring", _escape_bars)
