"""The documentation: its generators (fast) and the full Sphinx build with warnings as errors (slow).

The same build by hand (needs the ``docs`` extra)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The sources are copied to a temporary directory first, so the generated pages (``_autosummary``,
``cli.rst``, ``_generated/``, ``notebooks/``) do not land in the working tree.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import importlib.util
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from symtrunc.cli.app import COMMANDS, build_parser

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def docs_ext():
    """``docs/_ext/symtrunc_docs.py`` (the generator of the tutorial, CLI and notebook pages)."""
    pytest.importorskip("sphinx")
    spec = importlib.util.spec_from_file_location("symtrunc_docs", DOCS / "_ext" / "symtrunc_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _options(parser: argparse.ArgumentParser, prefix: str) -> set[str]:
    """Independently of the generator: every (sub)command and option string of the parser."""
    out = {prefix}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out |= _options(sub, f"{prefix} {name}")
        else:
            out |= set(action.option_strings)
    return out


def test_cli_reference_documents_every_command_and_option(docs_ext):
    text = docs_ext.cli_reference()
    expected = set()
    for name in COMMANDS:
        sub = next(a for a in build_parser([name])._actions if isinstance(a, argparse._SubParsersAction))
        expected |= _options(sub.choices[name], f"symtrunc {name}")
    missing = {o for o in expected - {"-h", "--help"} if o not in text}
    assert not missing
    assert re.search(r"``--cone \{rational,paper\}``\n   cone recipe", text)  # option, then its help
    assert "symtrunc convex fit\n" in text and "``130``" in text  # nested commands, exit codes
    assert "deep\\_l2 (Theorem 2.3" in text  # reST-special characters in help texts are escaped


def test_readme_example_is_found_and_runs(docs_ext, tmp_path, monkeypatch):
    """The tutorial's example (the README's) runs and prints what both documents say it prints."""
    pytest.importorskip("matplotlib")
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    code = docs_ext.readme_example()
    assert code.startswith("import numpy as np") and "plot_steps" in code
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README example", "exec"), {"__name__": "__readme__"})
    printed = out.getvalue().splitlines()
    assert printed[0] == "['a', 'b', 'c'] (3, 3, 3, 3, 3) True" and printed[-1] == "['a' 'c'] 1.0"
    assert (tmp_path / "steps.png").exists() and (tmp_path / "net.onnx").exists()
    claim = "It prints ``['a', 'b', 'c'] (3, 3, 3, 3, 3) True``, the per-layer collapse table and\n``['a' 'c'] 1.0``."
    assert claim in (DOCS / "tutorial.rst").read_text(encoding="utf-8")


def test_readme_example_missing_is_an_error(docs_ext, monkeypatch, tmp_path):
    (tmp_path / "README.md").write_text("# x\n\n## A 20-line example\n\nno code here\n\n## Next\n```python\nx\n```\n")
    monkeypatch.setattr(docs_ext, "ROOT", tmp_path)
    with pytest.raises(docs_ext.ExtensionError, match="no ```python block"):
        docs_ext.readme_example()


def test_notebook_markdown_renders_every_output_kind(docs_ext, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\nintro with $x^2$"),
        nbformat.v4.new_code_cell(
            "print('```')", outputs=[nbformat.v4.new_output("stream", name="stdout", text="```\n")]
        ),
        nbformat.v4.new_code_cell(
            "fig",
            outputs=[
                nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})
            ],
        ),
        nbformat.v4.new_code_cell(
            "md",
            outputs=[
                nbformat.v4.new_output(
                    "display_data", data={"text/markdown": "**bold** $y$", "text/plain": "<Markdown>"}
                )
            ],
        ),
        nbformat.v4.new_code_cell(
            "1 + 1", outputs=[nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1)]
        ),
    ]
    text = docs_ext.notebook_markdown(nb, "demo", tmp_path)
    assert text.startswith("# Title\n\n*The notebook `notebooks/demo.py`, executed")
    assert "````text\n```\n````" in text  # a fence longer than the backticks inside
    assert "![output 1 of demo](images/demo-1.png)" in text and (tmp_path / "demo-1.png").read_bytes()
    assert "**bold** $y$" in text and "```text\n2\n```" in text


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path: Path) -> None:
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    pytest.importorskip("nbclient")
    src = tmp_path / "docs"
    shutil.copytree(
        DOCS, src, ignore=shutil.ignore_patterns("_build", "_autosummary", "_generated", "notebooks", "cli.rst")
    )
    out = tmp_path / "html"
    # a separate process: Sphinx's own deprecation warnings are not this project's warnings
    run = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(src), str(out)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    pages = {p.name for p in (out / "_autosummary").glob("*.html")}
    assert {"symtrunc.plot.html", "symtrunc.plot.polygon.html", "symtrunc.classifier.html"} <= pages
    assert "truncation_steps" in (out / "_autosummary" / "symtrunc.plot.polygon.html").read_text(encoding="utf-8")
    page = (out / "tutorial.html").read_text(encoding="utf-8")
    tutorial = html.unescape(re.sub(r"<[^>]+>", "", page))  # the text, without markup
    assert "TruncationClassifier().fit" in tutorial  # the README example
    assert "$ symtrunc verify-certificate cert.json net.json wine.csv" in tutorial
    assert "the certificate holds" in tutorial and 'src="_images/steps.png"' in page  # real outputs
    cli = (out / "cli.html").read_text(encoding="utf-8")
    assert all(f'id="cli-{name}"' in cli for name in COMMANDS) and "--certificate" in cli
    notebooks = sorted(p.stem for p in (DOCS.parent / "notebooks").glob("*.py"))
    for name in notebooks:
        page = (out / "notebooks" / f"{name}.html").read_text(encoding="utf-8")
        assert "executed when this documentation" in page, name
    for name in ("05_l2_claims", "06_landscape", "07_convex"):  # their figures
        assert "<img" in (out / "notebooks" / f"{name}.html").read_text(encoding="utf-8"), name
