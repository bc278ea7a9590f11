r"""LaTeX for every symtrunc object: exact fractions, ``bmatrix``, ReLU as ``\sigma(\cdot)``.

:func:`to_latex` turns numbers, exact matrices, sympy expressions and the library's objects
(data summaries, networks, truncation maps, cones, separating hyperplanes, SLS steps,
certificates, proof results) into LaTeX. Numbers, matrices and expressions give a math-mode
string (no ``$``); composite objects give a text-mode fragment (paragraphs, displayed
equations, tables) that needs only ``amsmath`` in the preamble. :func:`to_markdown` renders
the same fragments for notebooks (KaTeX-friendly ``$``/``$$`` math and pipe tables).

Large objects are abbreviated unless ``full=True``: a matrix with more than ``max_rows``
rows or ``max_cols`` columns shows its corners with ``\cdots``/``\vdots``/``\ddots``, and a
rational whose numerator and denominator have more than ``max_digits`` digits together is
shown as its decimal expansion *truncated* to ``digits`` significant digits followed by
``\ldots`` (every printed digit is exact). With ``full=True`` every entry is exact; matrices
with more than 10 columns then need ``\setcounter{MaxMatrixCols}{...}`` in the preamble.

Extend the printer for new objects with :func:`register_latex`; :func:`claims_table`
renders a list of claims (e.g. the L² claims of Chen & Muñoz Ewald) as a table.

Examples
--------
>>> from symtrunc.exact.matrix import qmatrix
>>> to_latex(qmatrix([["7/6", "-5/6"], ["-5/6", "7/6"]]))
'\\begin{bmatrix}\\frac{7}{6} & -\\frac{5}{6}\\\\-\\frac{5}{6} & \\frac{7}{6}\\end{bmatrix}'
>>> import sympy
>>> x = sympy.Symbol("x")
>>> to_latex(relu(x - sympy.Rational(5, 4)))
'\\sigma\\left(x - \\frac{5}{4}\\right)'
>>> to_latex(sympy.Max(0, 2 * x), relu="ReLU")
'\\operatorname{ReLU}\\left(2 x\\right)'
>>> to_latex(sympy.sqrt(8) / 3)
'\\frac{2 \\sqrt{2}}{3}'
>>> to_latex(qmatrix([["4330986295811/804288000000"]]))
'\\begin{bmatrix}5.38486\\ldots\\end{bmatrix}'
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, ClassVar

import flint
import sympy
from sympy.printing.latex import LatexPrinter as _SympyLatexPrinter

__all__ = [
    "Fragment",
    "LatexOptions",
    "SymtruncLatexPrinter",
    "claims_table",
    "latex_matrix",
    "latex_number",
    "latex_vector",
    "matrix_fragment",
    "matrix_pair",
    "network_expression",
    "register_latex",
    "relu",
    "tex_escape",
    "to_latex",
    "to_markdown",
]


# ----------------------------------------------------------------------------- sympy side
class relu(sympy.Function):
    r"""The rectifier ``σ(x) = max(x, 0)`` as a sympy function.

    It evaluates on numbers and on arguments of known sign, and prints as ``\sigma(\cdot)``
    (or ``\operatorname{ReLU}(\cdot)`` with ``relu="ReLU"``).

    >>> import sympy
    >>> relu(sympy.Rational(-1, 2)), relu(3), relu(sympy.Symbol("a", positive=True))
    (0, 3, a)
    """

    @classmethod
    def eval(cls, x):
        if x.is_extended_nonnegative:
            return x
        if x.is_extended_nonpositive:
            return sympy.S.Zero
        return None

    def _latex(self, printer: Any, exp: Any = None) -> str:
        name = getattr(printer, "_relu_name", r"\sigma")
        tex = rf"{name}\left({printer._print(self.args[0])}\right)"
        return tex if exp is None else rf"{tex}^{{{exp}}}"


class SymtruncLatexPrinter(_SympyLatexPrinter):
    r"""sympy's :class:`~sympy.printing.latex.LatexPrinter` with symtrunc conventions.

    * ``max(0, z)`` and :class:`relu` print as ``\sigma(z)`` (setting ``relu="sigma"``, the
      default) or ``\operatorname{ReLU}(z)`` (``relu="ReLU"``);
    * matrices print as ``bmatrix``;
    * rationals print as ``\frac{p}{q}`` with a tight sign (``-\frac{5}{4}``);
    * inverse trigonometric functions print as ``\arccos`` etc.

    >>> p = SymtruncLatexPrinter({"relu": "ReLU"})
    >>> p.doprint(sympy.Max(0, sympy.Symbol("z")))
    '\\operatorname{ReLU}\\left(z\\right)'
    >>> p.doprint(sympy.Matrix([[sympy.Rational(-5, 4)], [0]]))
    '\\begin{bmatrix}-\\frac{5}{4}\\\\0\\end{bmatrix}'
    """

    _default_settings: ClassVar[dict[str, Any]] = {
        **_SympyLatexPrinter._default_settings,
        "relu": "sigma",
        "mat_str": "bmatrix",
        "mat_delim": "",
        "inv_trig_style": "full",
    }

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(dict(settings or {}))
        style = self._settings["relu"]
        if style not in ("sigma", "ReLU"):
            raise ValueError(f"relu must be 'sigma' or 'ReLU', got {style!r}")
        self._relu_name = r"\sigma" if style == "sigma" else r"\operatorname{ReLU}"

    def _print_Max(self, expr: Any, exp: Any = None) -> str:
        args = list(expr.args)
        if len(args) == 2 and sympy.S.Zero in args:
            z = args[1] if args[0] == 0 else args[0]
            tex = rf"{self._relu_name}\left({self._print(z)}\right)"
            return tex if exp is None else rf"{tex}^{{{exp}}}"
        return super()._print_Max(expr, exp)

    def _print_Rational(self, expr: Any) -> str:
        if expr.q == 1:
            return str(expr.p)
        sign = "-" if expr.p < 0 else ""
        return rf"{sign}\frac{{{abs(expr.p)}}}{{{expr.q}}}"


# ----------------------------------------------------------------------------- options
@dataclass(frozen=True)
class LatexOptions:
    """Printing options shared by every printer path.

    Attributes
    ----------
    relu : {"sigma", "ReLU"}
        How the rectifier is written.
    full : bool
        Print every entry of every matrix exactly (no abbreviation).
    max_rows, max_cols : int
        Larger matrices show their corners only (unless ``full``).
    max_digits : int
        A rational with more digits (numerator and denominator together) is shown as a
        truncated decimal (unless ``full``).
    digits : int
        Significant digits of a truncated decimal.
    """

    relu: str = "sigma"
    full: bool = False
    max_rows: int = 8
    max_cols: int = 8
    max_digits: int = 12
    digits: int = 6

    def __post_init__(self) -> None:
        if self.relu not in ("sigma", "ReLU"):
            raise ValueError(f"relu must be 'sigma' or 'ReLU', got {self.relu!r}")
        if self.max_rows < 3 or self.max_cols < 3 or self.digits < 1 or self.max_digits < 1:
            raise ValueError("max_rows and max_cols must be >= 3, digits and max_digits >= 1")

    @property
    def sigma(self) -> str:
        """The LaTeX name of the rectifier."""
        return r"\sigma" if self.relu == "sigma" else r"\operatorname{ReLU}"

    def printer(self) -> SymtruncLatexPrinter:
        """A configured printer."""
        return SymtruncLatexPrinter({"relu": self.relu})


def _options(options: Mapping[str, Any] | LatexOptions | None) -> LatexOptions:
    if isinstance(options, LatexOptions):
        return options
    try:
        return LatexOptions(**dict(options or {}))
    except TypeError as e:
        raise TypeError(f"unknown LaTeX option ({e})") from None


# ----------------------------------------------------------------------------- text escaping
_TEX_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\~{}", "<": r"$<$", ">": r"$>$",
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


def _label(value: Any) -> str:
    """A class label inside math mode."""
    return rf"\text{{{tex_escape(value)}}}"


# ----------------------------------------------------------------------------- numbers
def _as_fraction(x: Any) -> Fraction | None:
    if isinstance(x, flint.fmpq):
        return Fraction(int(x.p), int(x.q))
    if isinstance(x, (int, flint.fmpz)) and not isinstance(x, bool):
        return Fraction(int(x))
    if isinstance(x, Fraction):
        return x
    if isinstance(x, sympy.Rational):
        return Fraction(int(x.p), int(x.q))
    return None


def _truncated_decimal(v: Fraction, digits: int) -> str:
    """``|v|`` truncated (not rounded) to ``digits`` significant digits, with ``\\ldots``."""
    sign = "-" if v < 0 else ""
    p, q = abs(v.numerator), v.denominator
    e = len(str(p)) - len(str(q))  # 10^(e-1) <= p/q < 10^(e+1)
    if p * 10 ** max(0, -e) < q * 10 ** max(0, e):
        e -= 1
    shift = digits - 1 - e
    num, den = (p * 10**shift, q) if shift >= 0 else (p, q * 10 ** (-shift))
    mant, rem = divmod(num, den)
    s = str(mant)
    dots = r"\ldots" if rem else ""
    if -4 <= e < 7:
        if e >= 0:
            int_part, frac_part = s[: e + 1], s[e + 1:]
            if shift < 0:
                int_part, frac_part = s + "0" * (-shift), ""
        else:
            int_part, frac_part = "0", "0" * (-e - 1) + s
        frac_part = frac_part.rstrip("0") if not rem else frac_part
        body = int_part + ("." + frac_part if frac_part else "")
        return f"{sign}{body}{dots}"
    rest = s[1:] if rem else s[1:].rstrip("0")
    mantissa = s[0] + ("." + rest if rest else "")
    return rf"{sign}{mantissa}{dots}\times 10^{{{e}}}"


def latex_number(x: Any, options: Mapping[str, Any] | LatexOptions | None = None, *,
                 inline_fraction: bool = False) -> str:
    r"""One exact number: integer, ``\frac{p}{q}``, or (long, unless ``full``) a truncated decimal.

    >>> latex_number(flint.fmpq(-5, 4)), latex_number(7), latex_number(Fraction(1, 3))
    ('-\\frac{5}{4}', '7', '\\frac{1}{3}')
    >>> latex_number(flint.fmpq(679789567, 804288))
    '845.206\\ldots'
    >>> latex_number(flint.fmpq(-10**20 - 1, 3))
    '-3.33333\\ldots\\times 10^{19}'
    >>> latex_number(flint.fmpq(679789567, 804288), {"full": True}, inline_fraction=True)
    '679789567/804288'
    """
    opts = _options(options)
    v = _as_fraction(x)
    if v is None:
        if isinstance(x, sympy.Basic):
            return opts.printer().doprint(x)
        if isinstance(x, float):
            return repr(x)
        raise TypeError(f"not an exact number: {x!r}")
    p, q = v.numerator, v.denominator
    if not opts.full and len(str(abs(p))) + (len(str(q)) if q != 1 else 0) > opts.max_digits:
        return _truncated_decimal(v, opts.digits)
    if q == 1:
        return _breakable(str(p)) if inline_fraction else str(p)
    sign = "-" if p < 0 else ""
    if inline_fraction:
        return f"{sign}{_breakable(str(abs(p)))}/{_breakable(str(q))}"
    return rf"{sign}\frac{{{abs(p)}}}{{{q}}}"


def _breakable(digits: str, every: int = 24) -> str:
    if len(digits) <= every:
        return digits
    return r"\allowbreak ".join(digits[i:i + every] for i in range(0, len(digits), every))


# ----------------------------------------------------------------------------- matrices
def _entries(A: Any) -> tuple[int, int, list[list[Any]]]:
    if isinstance(A, flint.fmpq_mat | flint.fmpz_mat):
        return A.nrows(), A.ncols(), [list(r) for r in A.tolist()]
    if isinstance(A, sympy.MatrixBase):
        return A.rows, A.cols, A.tolist()
    rows = [list(r) for r in A]
    return len(rows), (len(rows[0]) if rows else 0), rows


def _keep(n: int, limit: int, full: bool) -> list[int | None]:
    if full or n <= limit:
        return list(range(n))
    head = limit - 2
    return list(range(head)) + [None, n - 1]


def latex_matrix(A: Any, options: Mapping[str, Any] | LatexOptions | None = None) -> str:
    r"""``bmatrix`` of an exact matrix (``fmpq_mat``, sympy ``Matrix`` or nested lists).

    >>> from symtrunc.exact.matrix import identity
    >>> print(latex_matrix(identity(12)))
    \begin{bmatrix}1 & 0 & 0 & 0 & 0 & 0 & \cdots & 0\\0 & 1 & 0 & 0 & 0 & 0 & \cdots & 0\\0 & 0 & 1 & 0 & 0 & 0 & \cdots & 0\\0 & 0 & 0 & 1 & 0 & 0 & \cdots & 0\\0 & 0 & 0 & 0 & 1 & 0 & \cdots & 0\\0 & 0 & 0 & 0 & 0 & 1 & \cdots & 0\\\vdots & \vdots & \vdots & \vdots & \vdots & \vdots & \ddots & \vdots\\0 & 0 & 0 & 0 & 0 & 0 & \cdots & 1\end{bmatrix}
    """
    opts = _options(options)
    m, n, rows = _entries(A)
    if m == 0 or n == 0:
        return r"\begin{bmatrix}\end{bmatrix}"
    printer = opts.printer()
    ri, ci = _keep(m, opts.max_rows, opts.full), _keep(n, opts.max_cols, opts.full)
    lines = []
    for r in ri:
        cells = []
        for c in ci:
            if r is None and c is None:
                cells.append(r"\ddots")
            elif r is None:
                cells.append(r"\vdots")
            elif c is None:
                cells.append(r"\cdots")
            else:
                cells.append(_cell(rows[r][c], opts, printer))
        lines.append(" & ".join(cells))
    return r"\begin{bmatrix}" + r"\\".join(lines) + r"\end{bmatrix}"


def _cell(x: Any, opts: LatexOptions, printer: SymtruncLatexPrinter) -> str:
    if _as_fraction(x) is not None:
        return latex_number(x, opts)
    if isinstance(x, sympy.Basic):
        return printer.doprint(x)
    return latex_number(x, opts)


def latex_vector(v: Any, options: Mapping[str, Any] | LatexOptions | None = None, *, row: bool = False) -> str:
    r"""A column vector; with ``row=True`` written as a transposed row (saves vertical space).

    >>> from symtrunc.exact.matrix import qvector
    >>> latex_vector(qvector(["7/4", "5/4"]), row=True)
    '\\begin{bmatrix}\\frac{7}{4} & \\frac{5}{4}\\end{bmatrix}^{\\top}'
    """
    m, n, rows = _entries(v)
    if n != 1 and m != 1:
        raise ValueError("latex_vector expects a single row or column")
    flat = [r[0] for r in rows] if n == 1 else rows[0]
    if row:
        return latex_matrix([flat], options) + r"^{\top}"
    return latex_matrix([[e] for e in flat], options)


def _matrix_chars(A: Any, opts: LatexOptions) -> int:
    """Rough printed width (characters) of a matrix, to decide between a display and a listing."""
    m, n, rows = _entries(A)
    cols = _keep(n, opts.max_cols, opts.full)
    width = 0
    for c in cols:
        if c is None:
            width += 3
            continue
        w = 1
        for r in _keep(m, opts.max_rows, opts.full):
            if r is None:
                continue
            x = _as_fraction(rows[r][c])
            if x is None:
                w = max(w, 8)
            elif not opts.full and len(str(abs(x.numerator))) + len(str(x.denominator)) > opts.max_digits:
                w = max(w, opts.digits + 4)
            else:
                w = max(w, max(len(str(abs(x.numerator))), len(str(x.denominator)) if x.denominator != 1 else 0) + 1)
        width += w + 2
    return width


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
            return ("\\begin{longtable}{" + align + "}\n\\hline\n" + head + "\n"
                    + "\n".join(body[1:]) + "\n\\hline\n\\end{longtable}")
        return ("\\begin{center}\\begin{tabular}{" + align + "}\n\\hline\n" + "\n".join(body)
                + "\n\\hline\n\\end{tabular}\\end{center}")
    if kind == "heading":
        _, level, s = item
        return rf"\{_SECTION.get(level, 'paragraph*')}{{{s}}}"
    if kind == "listing":
        _, title, lines = item
        parts = [title + r"\par"] + [rf"{{\raggedright\noindent\hangindent=2em\hangafter=1 {line}\par}}"
                                       for line in lines]
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
        part = (part.replace(r"\_", "_").replace(r"\&", "&").replace(r"\%", "%").replace(r"\#", "#")
                .replace("~", " ").replace(r"\,", " ").replace(r"\ldots", "...")
                .replace(r"\{", "{").replace(r"\}", "}").replace(r"\$", "$"))
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

        lines = ["| " + " | ".join(cell(h) for h in header) + " |",
                 "|" + "|".join("---" for _ in header) + "|"]
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


def matrix_fragment(name: str, A: Any, opts: LatexOptions, *, vector_as_row: bool | None = None,
                    note: bool = True) -> Fragment:
    r"""``name = A`` as a display; a row-by-row listing when ``full`` and the matrix is too wide.

    Column vectors with more than 4 entries are written as transposed rows.
    """
    m, n, rows = _entries(A)
    frag = Fragment()
    is_vec = n == 1
    row_form = (m > 2) if vector_as_row is None else vector_as_row
    if is_vec and row_form:
        shown, tex = [[r[0] for r in rows]], None
        tex = latex_matrix(shown, opts) + r"^{\top}"
        width = _matrix_chars(shown, opts)
    else:
        tex = latex_matrix(A, opts)
        width = _matrix_chars(A, opts)
    if opts.full and width > 150:
        # too wide even when scaled: list the rows as breakable inline math
        vecs = [[r[0] for r in rows]] if is_vec else rows
        lines = []
        for i, r in enumerate(vecs, 1):
            entries = r",\allowbreak\ ".join(latex_number(x, opts, inline_fraction=True) for x in r)
            head = "" if is_vec else f"row {i}: "
            lines.append(rf"{head}$({entries})$")
        what = f"vector with {m} entries" if is_vec else rf"${m}\times {n}$ matrix"
        frag.listing(rf"${name}$ ({what}, entries written $p/q$):", lines)
        return frag
    frag.math(f"{name} = {tex}", wide=True)
    if note and not opts.full and (m > opts.max_rows or (n > opts.max_cols and not (is_vec and row_form))
                                   or (is_vec and row_form and m > opts.max_cols)):
        frag.text(rf"(${name}$ is ${m}\times {n}$; only its corners are shown.)")
    return frag


def matrix_pair(name1: str, A: Any, name2: str, B: Any, opts: LatexOptions) -> Fragment:
    r"""Two matrices side by side (``W = ..., \quad b = ...``) when they fit, else one after the other."""
    f1, f2 = matrix_fragment(name1, A, opts, note=False), matrix_fragment(name2, B, opts, note=False)
    if (len(f1.items) == 1 and len(f2.items) == 1 and f1.items[0][0] == "math" and f2.items[0][0] == "math"
            and _matrix_chars(A, opts) + _matrix_chars(B if B.ncols() > 1 or B.nrows() <= 2 else B.transpose(), opts)
            < 110):
        frag = Fragment().math(f1.items[0][1] + r",\qquad " + f2.items[0][1], wide=True)
        notes = [n for n, M in ((name1, A), (name2, B)) if _abbreviated(M, opts)]
    else:
        frag = Fragment().extend(f1).extend(f2)
        notes = [n for n, M, f in ((name1, A, f1), (name2, B, f2)) if _abbreviated(M, opts) and f.items[0][0] == "math"]
    if notes:
        frag.text("(Corners only of " + " and ".join(f"${n}$" for n in notes) + r"; \texttt{--full} prints every entry.)")
    return frag


def _abbreviated(M: Any, opts: LatexOptions) -> bool:
    m, n, _ = _entries(M)
    if opts.full:
        return False
    if n == 1:
        return m > (opts.max_cols if m > 2 else opts.max_rows)
    return m > opts.max_rows or n > opts.max_cols


# ----------------------------------------------------------------------------- registry
_HANDLERS: dict[type, Callable[[Any, LatexOptions], Fragment | str]] = {}


def register_latex(cls: type) -> Callable:
    """Decorator: register ``func(obj, options) -> Fragment | str`` as the printer of ``cls``.

    >>> class Claim:
    ...     pass
    >>> @register_latex(Claim)
    ... def _claim(obj, options):
    ...     return Fragment().text("a claim")
    >>> to_latex(Claim())
    'a claim'
    """

    def deco(func: Callable[[Any, LatexOptions], Fragment | str]) -> Callable:
        _HANDLERS[cls] = func
        return func

    return deco


def _handler(obj: Any) -> Callable | None:
    for klass in type(obj).__mro__:
        if klass in _HANDLERS:
            return _HANDLERS[klass]
        if klass.__module__.startswith("symtrunc.") and klass.__name__ in _BUILTIN:
            return _BUILTIN[klass.__name__]
    return None


def _fragment(obj: Any, opts: LatexOptions) -> Fragment | str:
    h = _handler(obj)
    if h is not None:
        return h(obj, opts)
    if hasattr(obj, "__symtrunc_latex__"):
        return obj.__symtrunc_latex__(opts)
    if isinstance(obj, flint.fmpq_mat | flint.fmpz_mat | sympy.MatrixBase):
        return latex_matrix(obj, opts)
    if _as_fraction(obj) is not None:
        return latex_number(obj, opts)
    if isinstance(obj, sympy.Basic):
        return opts.printer().doprint(obj)
    if isinstance(obj, float):
        return repr(obj)
    raise TypeError(f"no LaTeX printer for {type(obj).__name__}; register one with register_latex")


def to_latex(obj: Any, **options: Any) -> str:
    """LaTeX for ``obj``.

    Parameters
    ----------
    obj : number, fmpq_mat, sympy expression, LabeledData, ReLUNetwork, TruncationMap,
        PolyhedralCone, SLSStep, SLSCertificate, Separator, Certificate, ClusteredHypotheses,
        ProofResult, or any registered type
    **options
        :class:`LatexOptions` fields: ``relu``, ``full``, ``max_rows``, ``max_cols``,
        ``max_digits``, ``digits``.

    Returns
    -------
    str
        Math-mode LaTeX for numbers, matrices and expressions; a text-mode fragment
        (paragraphs, ``\\[ \\]`` displays, ``tabular``) for composite objects.
    """
    out = _fragment(obj, _options(options))
    return out.render("latex") if isinstance(out, Fragment) else out


def to_markdown(obj: Any, **options: Any) -> str:
    """Markdown with KaTeX-friendly math for ``obj`` (see :func:`to_latex`).

    >>> from symtrunc.exact.matrix import qvector
    >>> print(to_markdown(qvector([1, "1/2"])))
    $$\\begin{bmatrix}1\\\\\\frac{1}{2}\\end{bmatrix}$$
    """
    out = _fragment(obj, _options(options))
    return out.render("markdown") if isinstance(out, Fragment) else f"$${out}$$"


def claims_table(claims: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]],
                 *, title: str | None = None) -> Fragment:
    r"""A table of claims (one row per mapping): ``columns`` is ``[(key, header), ...]``.

    Values that are exact numbers are printed exactly; strings are escaped unless they
    start with ``$`` (inline math). Meant for the L² claims tables.

    >>> f = claims_table([{"id": "I7", "value": flint.fmpq(1, 2), "status": "true"}],
    ...                  [("id", "claim"), ("value", "value"), ("status", "status")])
    >>> print(f.render("markdown"))
    | claim | value | status |
    |---|---|---|
    | I7 | $\frac{1}{2}$ | true |
    """
    frag = Fragment()
    if title:
        frag.text(title)
    rows = []
    for c in claims:
        row = []
        for key, _ in columns:
            v = c.get(key, "")
            if isinstance(v, str):
                row.append(v if v.startswith("$") else tex_escape(v))
            elif isinstance(v, bool):
                row.append("yes" if v else "no")
            else:
                row.append(f"${_fragment(v, LatexOptions())}$")
        rows.append(row)
    frag.table([tex_escape(h) for _, h in columns], rows)
    return frag


# ----------------------------------------------------------------------------- the objects
def _col(A: flint.fmpq_mat, j: int) -> flint.fmpq_mat:
    return flint.fmpq_mat(A.nrows(), 1, [A[i, j] for i in range(A.nrows())])


def _vec(v: flint.fmpq_mat, opts: LatexOptions) -> str:
    return latex_vector(v, opts, row=v.nrows() > 4)


def _data_fragment(data: Any, opts: LatexOptions) -> Fragment:
    frag = Fragment()
    counts = ", ".join(rf"${_label(c)}$: {n}" for c, n in zip(data.classes, data.counts))
    frag.text(rf"${data.N}$ points in $\mathbb{{R}}^{{{data.M}}}$, $Q = {data.Q}$ classes ({counts}).")
    frag.text(r"Class means $\bar x_{0,j} = \frac{1}{N_j}\sum_i x_{0,j,i}$ as the columns of "
              r"$X_0^{\mathrm{red}}$, their barycenter $\bar x = \frac{1}{Q}\sum_j \bar x_{0,j}$ "
              r"and the largest squared distance $\delta^2$ of a point from its class mean:")
    frag.extend(matrix_fragment(r"X_0^{\mathrm{red}}", data.means, opts))
    frag.extend(matrix_fragment(r"\bar x", data.barycenter, opts))
    d2 = data.delta_squared
    delta = sympy.sqrt(sympy.Rational(int(d2.p), int(d2.q)))
    delta_tex = opts.printer().doprint(delta) if len(str(delta)) <= 40 or opts.full else (
        rf"\sqrt{{\delta^2}} \approx {float(delta):.6g}")
    frag.math(rf"\delta^2 = {latex_number(d2, opts)}, \qquad \delta = {delta_tex}", wide=True)
    if data.Y != flint.fmpq_mat(data.Q, data.Q, [int(i == j) for i in range(data.Q) for j in range(data.Q)]):
        frag.extend(matrix_fragment("Y", data.Y, opts))
    return frag


def _linear_form(W: flint.fmpq_mat, b: flint.fmpq_mat, xs: Sequence[Any]) -> list[Any]:
    out = []
    for i in range(W.nrows()):
        e = sympy.Rational(int(b[i, 0].p), int(b[i, 0].q))
        for k in range(W.ncols()):
            w = W[i, k]
            if w != 0:
                e += sympy.Rational(int(w.p), int(w.q)) * xs[k]
        out.append(e)
    return out


def network_expression(network: Any) -> list[Any]:
    """The network as explicit sympy expressions in ``x_1..x_M`` (ReLU as :class:`relu`).

    Meant for small networks (the expression grows with depth and width).

    >>> from symtrunc.network import ReLUNetwork
    >>> net = ReLUNetwork.from_rows([([[1, -1]], ["1/2"], "relu"), ([[2]], [0], "identity")])
    >>> network_expression(net)
    [2*relu(x_1 - x_2 + 1/2)]
    """
    xs: list[Any] = list(sympy.symbols(f"x_1:{network.input_dim + 1}"))
    h = xs
    for layer in network.layers:
        z = _linear_form(layer.W, layer.b, h)
        h = [relu(e) for e in z] if layer.activation == "relu" else z
    return h


def _is_small(network: Any) -> bool:
    return network.input_dim <= 3 and max(network.widths) <= 3 and network.depth <= 4


def _network_fragment(net: Any, opts: LatexOptions) -> Fragment:
    frag = Fragment()
    L = net.depth
    s = opts.sigma
    frag.text(rf"A ReLU network with $L = {L}$ layers and widths "
              rf"$({', '.join(map(str, net.widths))})$:")
    frag.math(rf"x^{{(\ell)}} = {s}\left(W_\ell\, x^{{(\ell-1)}} + b_\ell\right),\ \ell = 1,\dots,{L - 1},"
              rf"\qquad x^{{({L})}} = W_{{{L}}}\, x^{{({L - 1})}} + b_{{{L}}}")
    if net.classes:
        frag.text("Output order of the classes: " + ", ".join(rf"${_label(c)}$" for c in net.classes) + ".")
    frag.text(r"\textbf{Layerwise parameters} $(W_\ell, b_\ell)$:")
    for k, layer in enumerate(net.layers, 1):
        frag.extend(matrix_fragment(f"W_{{{k}}}", layer.W, opts))
        frag.extend(matrix_fragment(f"b_{{{k}}}", layer.b, opts))
    frag.text(r"\textbf{Cumulative parameters} $W^{(\ell)} = W_\ell W^{(\ell-1)}$, "
              r"$b^{(\ell)} = W_\ell b^{(\ell-1)} + b_\ell$ (then "
              r"$x^{(\ell)} = W^{(\ell)} x^{(\tau,\ell)} + b^{(\ell)}$, Proposition 3.2):")
    for k, (W, b) in enumerate(net.cumulative(), 1):
        frag.extend(matrix_fragment(f"W^{{({k})}}", W, opts))
        frag.extend(matrix_fragment(f"b^{{({k})}}", b, opts))
    if _is_small(net):
        printer = opts.printer()
        outs = network_expression(net)
        body = r"\\".join(printer.doprint(e) for e in outs)
        frag.text("Explicitly:")
        frag.math(rf"x^{{({L})}}(x) = \begin{{bmatrix}}{body}\end{{bmatrix}}", wide=True)
    return frag


def _opening_angle(edges: flint.fmpq_mat) -> tuple[Any, float] | None:
    """``(exact sympy angle or None, float)`` of the largest circular cone about the equiangular axis."""
    n, m = edges.nrows(), edges.ncols()
    if n != m or n < 2 or edges.rank() < n:
        return None
    W = edges.inv()
    if n == 2:
        v1, v2 = _col(edges, 0), _col(edges, 1)
        dot = (v1.transpose() * v2)[0, 0]
        n1 = (v1.transpose() * v1)[0, 0]
        n2 = (v2.transpose() * v2)[0, 0]
        q = sympy.Rational(int(dot.p), int(dot.q)) / sympy.sqrt(
            sympy.Rational(int(n1.p), int(n1.q)) * sympy.Rational(int(n2.p), int(n2.q)))
        exact = sympy.acos(q)
        return exact, float(exact.evalf(20))
    norms = [math.sqrt(float(sum((W[i, k] ** 2 for k in range(n)), flint.fmpq(0)))) for i in range(n)]
    d = [sum(norms[i] * float(edges[r, i]) for i in range(n)) for r in range(n)]
    dn = math.sqrt(sum(x * x for x in d))
    return None, 2 * math.asin(min(1.0, 1 / dn))


def _cone_fragment(cone: Any, opts: LatexOptions, *, apex_name: str = "p", edge_name: str = "V",
                   intro: bool = True) -> Fragment:
    frag = Fragment()
    n, m = cone.edges.nrows(), cone.edges.ncols()
    if intro:
        frag.text(rf"Polyhedral cone with apex ${apex_name}$ and edges $v_1,\dots,v_{{{m}}}$ "
                  rf"(the columns of ${edge_name}$) in $\mathbb{{R}}^{{{n}}}$:")
    frag.extend(matrix_fragment(apex_name, cone.apex, opts))
    frag.extend(matrix_fragment(edge_name, cone.edges, opts))
    if intro:
        frag.math(rf"S_\pm = \left\{{ {apex_name} + {edge_name} a : \pm a \ge 0 \right\}}")
    ang = _opening_angle(cone.edges)
    if ang is None:
        frag.text("The cone is not full-dimensional, so it has no opening angle.")
    else:
        exact, val = ang
        deg = math.degrees(val)
        if exact is not None:
            frag.text("Opening angle (the angle between the two edges):")
            frag.math(rf"\theta = {opts.printer().doprint(exact)} \approx {val:.6f} "
                      rf"\ (\approx {deg:.4f}^\circ)", wide=True)
        else:
            frag.text(r"Opening angle of the largest circular cone $C_\theta[d]$ about the equiangular "
                      r"axis $d = \sum_i \lvert w_i\rvert\, v_i$ ($w_i$ the rows of "
                      rf"${edge_name}^{{-1}}$) inside $S_+$, $\theta = 2\arcsin(1/\lvert d\rvert)$:")
            frag.math(rf"\theta \approx {val:.6f}\ (\approx {deg:.4f}^\circ)")
    return frag


def _truncation_fragment(tau: Any, opts: LatexOptions) -> Fragment:
    frag = Fragment()
    s = opts.sigma
    W = tau.W
    square = W.nrows() == W.ncols() and W.rank() == W.nrows()
    inv = "^{-1}" if square else "^{+}"
    frag.text(r"Truncation map (Definition 3.1):")
    frag.math(rf"\tau_{{W,b}}(x) = W{inv}\left({s}(Wx + b) - b\right)")
    frag.extend(matrix_fragment("W", W, opts))
    frag.extend(matrix_fragment("b", tau.b, opts))
    cone = tau.cone()
    frag.extend(_cone_fragment(cone, opts, apex_name="p", edge_name=f"W{inv}"))
    if square:
        frag.text(r"$\tau_{W,b}$ is the identity on the forward cone $S_+$, maps the backward cone "
                  r"$S_-$ to the apex $p = -W^{-1} b$, and projects every other point onto a face of $S_+$.")
    else:
        frag.text(r"$\tau_{W,b}$ equals $W^+W$ on the forward cone $S_+$ and maps the backward cone "
                  r"$S_-$ to $W^+W p$.")
    return frag


def _separator_fragment(sep: Any, opts: LatexOptions) -> Fragment:
    frag = Fragment()
    frag.text(r"Separating hyperplane $H = \{x : \langle h, x\rangle = c\}$: "
              r"$\langle h, a\rangle < c$ on the first set and $\langle h, b\rangle > c$ on the second, with")
    frag.extend(matrix_fragment("h", sep.normal, opts))
    frag.math(rf"c = {latex_number(sep.offset, opts)}")
    return frag


def _step_fragment(step: Any, opts: LatexOptions) -> Fragment:
    frag = Fragment()
    j = step.class_index
    frag.text(rf"SLS step for class index ${j}$: the hyperplane through the base point "
              rf"$p = t\,\bar x + (1 - t)\,\bar x_{{0,{j}}}$, $t = {latex_number(step.t, opts)}$, "
              r"with normal $h$ pointing away from the class:")
    frag.math(r"H = \{x : \langle h, x - p\rangle = 0\}")
    frag.extend(matrix_fragment("h", step.normal, opts))
    frag.extend(matrix_fragment("p", step.base_point, opts))
    frag.math(rf"\langle h, p\rangle = {latex_number(step.separator.offset, opts)}")
    return frag


def _sls_certificate_fragment(cert: Any, opts: LatexOptions) -> Fragment:
    frag = Fragment()
    frag.text("Sequential linear separability (Definition 5.1), collapse order "
              + r" $\to$ ".join(f"${j}$" for j in cert.order) + ":")
    for k, step in enumerate(cert.steps, 1):
        frag.heading(3, f"Step {k}")
        frag.extend(_step_fragment(step, opts))
    return frag


def _certificate_fragment(cert: Any, opts: LatexOptions) -> Fragment:
    frag = Fragment()
    inv = "; every layer invariant of the construction holds as well" if cert.invariants_checked else ""
    frag.text(rf"\textbf{{Zero-loss certificate}} (exact arithmetic): all ${cert.n_points}$ points in "
              rf"$\mathbb{{R}}^{{{cert.input_dim}}}$ ({cert.n_classes} classes) are mapped exactly to "
              rf"their labels{inv}. Widths $({', '.join(map(str, cert.widths))})$.")
    if cert.theorem:
        frag.text(rf"Construction: {tex_escape(cert.theorem)}.")
    rows = []
    for r in cert.layers:
        fixed = ", ".join(tex_escape(x) for x in r.fixed_base_points) or "--"
        coll = "--" if r.collapses is None else tex_escape(r.collapses)
        rows.append([str(r.layer), r.kind, coll, str(r.collapsed_points), str(r.identity_points), fixed])
    frag.table(["layer", "kind", "collapses", r"points $\le 0$", r"points $\ge 0$", "base points fixed"],
               rows, "rllrrl")
    names = {"half_squared": r"\tfrac{1}{2}\lVert X^{(L)} - Y^{\mathrm{ext}}\rVert_F^2",
             "class_weighted": r"C_N", "class_weighted_sqrt": r"\sqrt{C_N}",
             "mean_squared": r"\tfrac{1}{N} \lVert X^{(L)} - Y^{\mathrm{ext}}\rVert_F^2"}
    costs = []
    for k, v in cert.costs.items():
        name = names.get(k) or r"\text{" + tex_escape(k) + "}"
        costs.append(f"{name} = {_cost_value(v)}")
    if costs:
        frag.math(r",\qquad ".join(costs), wide=True)
    return frag


def _cost_value(v: Any) -> str:
    if isinstance(v, str):
        try:
            return latex_number(Fraction(v))
        except ValueError:
            return rf"\text{{{tex_escape(v)}}}"
    return latex_number(v)


def _clustered_fragment(hyp: Any, opts: LatexOptions) -> Fragment:
    frag = Fragment()
    ok = {True: r"holds", False: r"\textbf{fails}"}
    frag.text(r"Hypotheses of Proposition 4.1, evaluated exactly (squared distances, no roots):")
    frag.math(rf"\delta^2 = {latex_number(hyp.delta_squared, opts)}, \qquad "
              rf"\min_j \lvert \bar x_{{0,j}} - \bar x\rvert^2 = {latex_number(min(hyp.distances_squared), opts)}",
              wide=True)
    frag.text(rf"(4.2) $16\,\delta^2 < \min_j \lvert \bar x_{{0,j}} - \bar x\rvert^2$: {ok[hyp.condition_4_2]}. "
              rf"(4.6) $\max_j \theta_{{*,j}} < \pi$: {ok[hyp.condition_4_6]}.")
    thetas = [t for t in hyp.theta_star if t is not None]
    if thetas:
        frag.text(r"Angles $\theta_{*,j}$ (float annotations): "
                  + ", ".join(rf"$\theta_{{*,{j + 1}}} \approx {t:.4f}$" if t is not None else
                              rf"$\theta_{{*,{j + 1}}}$ undefined" for j, t in enumerate(hyp.theta_star)) + ".")
    return frag


#: Printers of the library's own types, dispatched on the class name (as sympy's
#: ``_print_<Class>``), so this module imports none of the types it prints.
_BUILTIN: dict[str, Callable[[Any, LatexOptions], Fragment | str]] = {
    "LabeledData": _data_fragment,
    "ReLUNetwork": _network_fragment,
    "TruncationMap": _truncation_fragment,
    "PolyhedralCone": lambda c, o: _cone_fragment(c, o),
    "Separator": _separator_fragment,
    "SLSStep": _step_fragment,
    "SLSCertificate": _sls_certificate_fragment,
    "Certificate": _certificate_fragment,
    "ClusteredHypotheses": _clustered_fragment,
}
