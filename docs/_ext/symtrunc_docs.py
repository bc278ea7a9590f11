"""Sphinx extension: the generated pages of the symtrunc documentation.

At ``builder-inited`` (before Sphinx reads any source) it writes, into the source directory:

* ``cli.rst`` — the command-line reference, rendered from the argparse parser itself
  (:func:`symtrunc.cli.app.build_parser`), so it cannot drift from ``symtrunc --help``;
* ``_generated/example.py`` — the README's "A 20-line example", included by ``tutorial.rst``;
* ``_generated/walkthrough.rst`` and ``_generated/steps.png`` — the CLI walk-through of
  ``tutorial.rst``: every command is run on the embedded Wine data and its real output shown
  (a command that fails stops the build);
* ``notebooks/*.md`` and their images — every ``notebooks/*.py`` (jupytext) executed with
  nbclient and written as MyST Markdown with its outputs (a cell that raises stops the build).
  Executed notebooks are cached in the doctree directory under the SHA-256 of the notebook and
  of every ``symtrunc/**/*.py``, so a cached run never outlives the code that produced it.

The generated files are listed in ``docs/.gitignore``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import os
import re
import shutil
import tempfile
from pathlib import Path

from sphinx.errors import ExtensionError

import symtrunc
from symtrunc.cli.app import COMMANDS, EXIT_CODES, build_parser, main
from symtrunc.datasets import wine_path

#: The source checkout (README.md, notebooks/, symtrunc/): where the installed symtrunc lives, so
#: a copy of docs/ elsewhere (the test suite builds one) still finds it.
ROOT = Path(symtrunc.__file__).resolve().parents[1]

# (what the step shows, the command line); run in a fresh directory holding wine.csv
WALKTHROUGH = (
    ("Build a network for the data, verify it exactly and save it with its certificate.",
     ["construct", "wine.csv", "-o", "net.json", "--certificate", "cert.json"]),
    ("Prove zero loss and every layer invariant again, from the files alone.",
     ["verify", "net.json", "wine.csv"]),
    ("Anyone can re-check the certificate: both SHA-256 digests, then the proof.",
     ["verify-certificate", "cert.json", "net.json", "wine.csv"]),
    ("What was built: the theorem, the collapse order, widths and parameter counts.",
     ["info", "net.json"]),
    ("Which points each layer keeps, collapses or projects (the truncation-map view).",
     ["explain", "net.json", "wine.csv"]),
    ("Pictures of every truncation step (the figure below).",
     ["plot", "net.json", "wine.csv", "-o", "steps.png"]),
    ("Floats for other frameworks, with the exact rationals alongside.",
     ["export", "net.json", "-o", "net.npz"]),
    ("A derivation report: the theorem instantiated layer by layer (LaTeX; ``--format markdown`` too).",
     ["latex", "net.json", "wine.csv", "-o", "report.tex"]),
)


# ----------------------------------------------------------------------------- helpers
def _heading(text: str, char: str) -> list[str]:
    return [text, char * len(text), ""]


def _escape(text: str) -> str:
    """Plain text as reST (no markup is interpreted)."""
    return re.sub(r"([\\*`|_<>])", r"\\\1", text)


def _literal(text: str, language: str = "text") -> list[str]:
    body = [("   " + line).rstrip() for line in text.rstrip("\n").splitlines()] or ["   "]
    return [f".. code-block:: {language}", ""] + body + [""]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


# ----------------------------------------------------------------------------- CLI reference
def _parser_section(parser: argparse.ArgumentParser, title: str, depth: int) -> list[str]:
    """One command: usage, description, each argument group as a definition list, subcommands."""
    lines = _heading(title, "=-~^"[depth])
    formatter = parser._get_formatter()
    lines += _literal(parser.format_usage().removeprefix("usage: "), "none")
    if parser.description:
        lines += [_escape(" ".join(parser.description.split())), ""]
    for group in parser._action_groups:
        actions = [a for a in group._group_actions
                   if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)) and a.help != argparse.SUPPRESS]
        if not actions:
            continue
        lines += [f".. rubric:: {group.title.capitalize()}", ""]
        for action in actions:
            lines.append(f"``{formatter._format_action_invocation(action)}``")
            text = formatter._expand_help(action) if action.help else ""
            lines += [f"   {_escape(' '.join(text.split())) or '(no description)'}", ""]
    if parser.epilog:
        lines += [_escape(" ".join(parser.epilog.split())), ""]
    for name, sub in _subcommands(parser).items():
        lines += _parser_section(sub, f"{title} {name}", depth + 1)
    return lines


def cli_reference() -> str:
    """The reST text of the command-line reference."""
    with _columns(100):
        top = build_parser([])
        lines = _heading("Command-line reference", "#")
        lines += ["Generated from the argument parser when the documentation was built: the same text as "
                  "``symtrunc COMMAND --help``. ``python -m symtrunc`` works the same way.", ""]
        lines += _literal(top.format_usage().removeprefix("usage: "), "none")
        lines += [_escape(" ".join(top.description.split())), "", ".. rubric:: Exit codes", ""]
        lines += [f"``{code}``\n   {_escape(text)}\n" for code, text in EXIT_CODES.items()]
        lines += [".. rubric:: Commands", ""]
        lines += [f"- :ref:`symtrunc {name} <cli-{name}>` — {_escape(c.help)}" for name, c in COMMANDS.items()]
        lines.append("")
        for name in COMMANDS:
            parser = _subcommands(build_parser([name]))[name]
            lines += [f".. _cli-{name}:", ""] + _parser_section(parser, f"symtrunc {name}", 0)
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def _columns(width: int):
    """argparse wraps help to ``$COLUMNS``: a fixed width, whatever terminal built the docs."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


# ----------------------------------------------------------------------------- tutorial
def readme_example() -> str:
    """The first Python block of the README's "A 20-line example" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.partition("\n## A 20-line example")[2]
    match = re.search(r"```python\n(.*?)```", section.partition("\n## ")[0], re.S)
    if match is None:
        raise ExtensionError("README.md has no ```python block under '## A 20-line example'")
    return match.group(1)


def walkthrough(images: Path) -> str:
    """Run :data:`WALKTHROUGH` on the Wine data; reST with every command's output."""
    lines = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        shutil.copy(wine_path(), "wine.csv")
        for text, argv in WALKTHROUGH:
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(argv)
            if code != 0:
                raise ExtensionError(f"CLI walk-through: `symtrunc {' '.join(argv)}` exited {code}: "
                                     f"{err.getvalue().strip()}")
            lines += [text, ""] + _literal(f"$ symtrunc {' '.join(argv)}\n{out.getvalue()}{err.getvalue()}",
                                           "console")
        shutil.copy("steps.png", images / "steps.png")
    lines += [".. figure:: _generated/steps.png", "   :width: 100%", "   :alt: symtrunc plot on the Wine data", "",
              "   ``steps.png``: every panel is an exact section of R^13 (the plane is named in its title); "
              "filled markers lie in the plane, hollow ones are projections drawn with the class and region "
              "of the point itself.", ""]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- notebooks
def _code_hash() -> str:
    h = hashlib.sha256()
    for path in sorted((ROOT / "symtrunc").rglob("*.py")):
        h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _execute(source: Path, cache: Path, code_hash: str):
    """The executed notebook of a jupytext ``.py`` file (from the cache when code and notebook
    are unchanged)."""
    import jupytext  # lazy: the notebook tools are needed only here
    import nbclient
    import nbformat

    key = hashlib.sha256(source.read_bytes() + code_hash.encode()).hexdigest()[:24]
    cached = cache / f"{source.stem}-{key}.ipynb"
    if cached.exists():
        return nbformat.read(cached, as_version=4)
    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    env = dict(os.environ, MPLBACKEND="Agg", JUPYTER_PLATFORM_DIRS="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    with tempfile.TemporaryDirectory() as tmp:
        client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                                         resources={"metadata": {"path": tmp}})
        try:
            client.execute(env=env)
        except nbclient.exceptions.CellExecutionError as e:
            raise ExtensionError(f"notebook {source.name} failed: {str(e).strip().splitlines()[-1]}") from None
    cache.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, cached)
    return nb


def _fence(text: str, info: str = "") -> list[str]:
    ticks = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", text)), default=0))
    return [ticks + info, text.rstrip("\n"), ticks, ""]


def notebook_markdown(nb, name: str, images: Path) -> str:
    """MyST Markdown of an executed notebook; images are written to ``images``."""
    lines: list[str] = []
    count = 0
    for cell in nb.cells:
        source = cell.source.strip("\n")
        if cell.cell_type == "markdown":
            if not lines and source.startswith("# "):          # the page title, then where it comes from
                title, _, rest = source.partition("\n")
                source = (f"{title}\n\n*The notebook `notebooks/{name}.py`, executed when this documentation "
                          f"was built.*\n{rest}")
            lines += [source, ""]
            continue
        if cell.cell_type != "code" or not source:
            continue
        lines += _fence(source, "python")
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if out["output_type"] == "stream":
                lines += _fence(out["text"], "text")
            elif "image/png" in data:
                count += 1
                png = images / f"{name}-{count}.png"
                png.write_bytes(base64.b64decode(data["image/png"]))
                lines += [f"![output {count} of {name}](images/{png.name})", ""]
            elif "text/markdown" in data:
                lines += [data["text/markdown"], ""]
            elif "text/html" in data:
                lines += ["```{raw} html", data["text/html"].rstrip("\n"), "```", ""]
            elif "text/plain" in data:
                lines += _fence(data["text/plain"], "text")
    return "\n".join(lines)


def notebook_pages(srcdir: Path, cache: Path) -> list[str]:
    """Execute every notebook and write ``notebooks/<name>.md``; returns the page names."""
    out = srcdir / "notebooks"
    shutil.rmtree(out, ignore_errors=True)
    (out / "images").mkdir(parents=True)
    code_hash = _code_hash()
    names = []
    for source in sorted((ROOT / "notebooks").glob("*.py")):
        nb = _execute(source, cache, code_hash)
        (out / f"{source.stem}.md").write_text(notebook_markdown(nb, source.stem, out / "images"), encoding="utf-8")
        names.append(source.stem)
    toc = "\n".join(f"   {n}" for n in names)
    (out / "index.rst").write_text(
        "Notebooks\n=========\n\nThe worked examples of ``notebooks/``, executed when this documentation was "
        "built (the test suite executes them too). Each is a jupytext pair: edit the ``.py`` file, then "
        "``jupytext --sync notebooks/NAME.py``.\n\n.. toctree::\n   :maxdepth: 1\n\n" + toc + "\n",
        encoding="utf-8")
    return names


# ----------------------------------------------------------------------------- Sphinx hooks
def generate(app) -> None:
    srcdir = Path(app.srcdir)
    generated = srcdir / "_generated"
    generated.mkdir(exist_ok=True)
    (srcdir / "cli.rst").write_text(cli_reference(), encoding="utf-8")
    (generated / "example.py").write_text(readme_example(), encoding="utf-8")
    (generated / "walkthrough.rst").write_text(walkthrough(generated), encoding="utf-8")
    notebook_pages(srcdir, Path(app.doctreedir) / "notebook-cache")


def setup(app):
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
