r"""The document model of :mod:`symtrunc.latex`: renderer-neutral fragments and text escaping.

A :class:`Fragment` is a list of paragraphs, displayed equations, tables, headings and
listings. It renders as LaTeX (needing only ``amsmath``, plus ``longtable`` for long tables)
or as KaTeX-friendly Markdown for notebooks. :func:`tex_escape` makes arbitrary text safe for
LaTeX text mode.

Examples
--------
>>> frag = Fragment().heading(2, "Data").text(tex_escape("50% of class_1")).math("x = 1")
>>> print(frag.render("latex"))
\subsection*{Data}
50\% of class\_1
\[ x = 1 \]
>>> print(frag.render("markdown"))
### Data
<BLANKLINE>
50% of class_1
<BLANKLINE>
$$ x = 1 $$
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Fragment", "tex_escape"]


# ----------------------------------------------------------------------------- text escaping
_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\^{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\~{}",
    "<": r"$<$",
    ">": r"$>$",
}


def tex_escape(text: Any) -> str:
    r"""Escape arbitrary text for LaTeX text mode (pdflatex-safe).

    ASCII and Latin-1 letters pass (``ñ`` is fine with pdflatex); other characters are
    written as ``[U+XXXX]`` so that a document always compiles.

    >>> tex_escape("cultivar_1 & 50%")
    'cultivar\\_1 \\& 50\\%'
    >>> tex_escape("Muñoz θ")
    'Muñoz [U+03B8]'
    """
    out = []
    for ch in str(text):
        if ch in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[ch])
        elif ord(ch) < 128:
            out.append(ch if ch.isprintable() else " ")
        elif ord(ch) < 256 and unicodedata.category(ch).startswith("L"):
            out.append(ch)
        else:
            out.append(f"[U+{ord(ch):04X}]")
    return "".join(out)


# ----------------------------------------------------------------------------- fragments
@dataclass
class Fragment:
    r"""A renderer-neutral piece of document: paragraphs, displayed math, tables, headings.

    Text is LaTeX text-mode markup limited to inline ``$...$`` math, ``\emph{}``,
    ``\textbf{}`` and ``\texttt{}``, so that it renders both as LaTeX and as Markdown.

    >>> f = Fragment().text("Apex $p$:").math(r"p = \frac{1}{2}")
    >>> print(f.render("latex"))
    Apex $p$:
    \[ p = \frac{1}{2} \]
    >>> print(f.render("markdown"))
    Apex $p$:
    <BLANKLINE>
    $$ p = \frac{1}{2} $$
    """

    items: list[tuple[Any, ...]] = field(default_factory=list)

    def text(self, s: str) -> Fragment:
        """Append a paragraph."""
        self.items.append(("text", s))
        return self

    def math(self, s: str, *, wide: bool = False) -> Fragment:
        """Append a displayed equation (``wide``: scale it down if it exceeds the line)."""
        self.items.append(("math", s, wide))
        return self

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> Fragment:
        """Append a table; cells are text with inline math."""
        self.items.append(("table", list(header), [list(r) for r in rows], align or "l" * len(header)))
        return self

    def heading(self, level: int, s: str) -> Fragment:
        """Append a heading (1 section, 2 subsection, 3 paragraph heading)."""
        self.items.append(("heading", level, s))
        return self

    def listing(self, title: str, lines: Sequence[str]) -> Fragment:
        """Append long inline-math lines that may break across lines (full matrices)."""
        self.items.append(("listing", title, list(lines)))
        return self

    def raw(self, latex: str, markdown: str = "") -> Fragment:
        """Append renderer-specific text."""
        self.items.append(("raw", latex, markdown))
        return self

    def extend(self, other: Fragment) -> Fragment:
        """Append every item of ``other``."""
        self.items.extend(other.items)
        return self

    def render(self, fmt: str = "latex", *, fit: bool = False) -> str:
        """Render as ``"latex"`` or ``"markdown"``.

        ``fit=True`` writes wide displays as ``\\fitmath{...}`` (a macro of the report preamble
        that scales a display down to the line width when needed).
        """
        if fmt not in ("latex", "markdown"):
            raise ValueError(f"unknown format {fmt!r}; use 'latex' or 'markdown'")
        out = []
        prev = None
        for item in self.items:
            kind = item[0]
            if fmt == "latex":
                text = _render_latex(item, fit)
                if kind == "text" and prev in ("text", "math"):
                    text = r"\par " + text
                out.append(text)
            else:
                out.append(_render_markdown(item))
            prev = kind
        sep = "\n" if fmt == "latex" else "\n\n"
        return sep.join(s for s in out if s)


_SECTION = {1: "section*", 2: "subsection*", 3: "paragraph*"}


def _render_latex(item: tuple[Any, ...], fit: bool) -> str:
    kind = item[0]
    if kind == "text":
        return item[1]
    if kind == "math":
        _, s, wide = item
        return rf"\fitmath{{{s}}}" if (fit and wide) else rf"\[ {s} \]"
    if kind == "table":
        _, header, rows, align = item
        body = [" & ".join(header) + r" \\ \hline"] + [" & ".join(r) + r" \\" for r in rows]
        if len(rows) > 20:  # may run over pages (needs \usepackage{longtable})
            head = " & ".join(header) + r" \\ \hline\endhead"
            return (
                "\\begin{longtable}{"
                + align
                + "}\n\\hline\n"
                + head
                + "\n"
                + "\n".join(body[1:])
                + "\n\\hline\n\\end{longtable}"
            )
        return (
            "\\begin{center}\\begin{tabular}{"
            + align
            + "}\n\\hline\n"
            + "\n".join(body)
            + "\n\\hline\n\\end{tabular}\\end{center}"
        )
    if kind == "heading":
        _, level, s = item
        return rf"\{_SECTION.get(level, 'paragraph*')}{{{s}}}"
    if kind == "listing":
        _, title, lines = item
        parts = [title + r"\par"] + [
            rf"{{\raggedright\noindent\hangindent=2em\hangafter=1 {line}\par}}" for line in lines
        ]
        return "\n".join(parts)
    if kind == "raw":
        return item[1]
    raise ValueError(f"unknown fragment item {kind!r}")  # pragma: no cover


_MD_TEXT = [
    (re.compile(r"\\emph\{([^{}]*)\}"), r"*\1*"),
    (re.compile(r"\\textbf\{([^{}]*)\}"), r"**\1**"),
    (re.compile(r"\\texttt\{([^{}]*)\}"), r"`\1`"),
]


def _md_text(s: str) -> str:
    # outside inline math: drop LaTeX-only markup; inside $...$ keep everything
    parts = re.split(r"(\$[^$]*\$)", s)
    out = []
    for part in parts:
        if part.startswith("$") and part.endswith("$") and len(part) > 1:
            out.append(part.replace(r"\allowbreak ", ""))
            continue
        for rx, rep in _MD_TEXT:
            part = rx.sub(rep, part)
        part = (
            part.replace(r"\_", "_")
            .replace(r"\&", "&")
            .replace(r"\%", "%")
            .replace(r"\#", "#")
            .replace("~", " ")
            .replace(r"\,", " ")
            .replace(r"\ldots", "...")
            .replace(r"\{", "{")
            .replace(r"\}", "}")
            .replace(r"\$", "$")
        )
        out.append(part)
    return "".join(out)


def _render_markdown(item: tuple[Any, ...]) -> str:
    kind = item[0]
    if kind == "text":
        return _md_text(item[1])
    if kind == "math":
        return f"$$ {item[1]} $$"
    if kind == "table":
        _, header, rows, _align = item

        def cell(s: str) -> str:
            return _md_text(s).replace("|", r"\vert ")

        lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
        return "\n".join(lines)
    if kind == "heading":
        _, level, s = item
        return "#" * (level + 1) + " " + _md_text(s)
    if kind == "listing":
        _, title, lines = item
        return _md_text(title) + "\n\n" + "\n\n".join(_md_text(x) for x in lines)
    if kind == "raw":
        return item[2]
    raise ValueError(f"unknown fragment item {kind!r}")  # pragma: no cover
