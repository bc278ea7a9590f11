"""Build the API documentation (``docs/``, Sphinx autodoc + napoleon) with warnings as errors.

The same build by hand::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The sources are copied to a temporary directory first, so the generated ``_autosummary`` pages
do not land in the working tree.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path: Path) -> None:
    pytest.importorskip("sphinx")
    src = tmp_path / "docs"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns("_build", "_autosummary"))
    out = tmp_path / "html"
    # a separate process: Sphinx's own deprecation warnings are not this project's warnings
    run = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                          str(src), str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    pages = {p.name for p in (out / "_autosummary").glob("*.html")}
    assert {"symtrunc.plot.html", "symtrunc.plot.polygon.html", "symtrunc.classifier.html"} <= pages
    assert "truncation_steps" in (out / "_autosummary" / "symtrunc.plot.polygon.html").read_text(encoding="utf-8")
