"""Sphinx configuration: API reference generated from the numpydoc docstrings.

Build (warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import symtrunc

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
]
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options: dict[str, bool] = {}   # members: see _templates/module.rst
autodoc_member_order = "bysource"
autodoc_typehints = "none"          # signatures are documented in the numpydoc sections
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
templates_path = ["_templates"]
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path: list[str] = []
# python-flint, numpy and matplotlib types appear in docstrings without their own inventories
nitpicky = False
# ambiguous cross-references (a class re-exported by a package, "shape" in "array of shape (N, M)")
# resolve to the first target; they are not errors in the docstrings
suppress_warnings = ["autosummary.import_cycle", "ref.python"]


def _escape_bars(app, what, name, obj, options, lines):
    """Docstrings write absolute values and norms as ``|x|``; reST would read ``|x|`` as a
    substitution. Escape bars in prose lines (not inside inline literals or doctest blocks)."""
    in_doctest = False
    for k, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">>>"):
            in_doctest = True
        elif not stripped:
            in_doctest = False
        if in_doctest or "|" not in line or "`" in line:
            continue
        lines[k] = line.replace("|", r"\|")


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
