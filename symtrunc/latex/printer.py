r"""LaTeX for exact numbers, matrices and sympy expressions: fractions, ``bmatrix``, ReLU as ``\sigma(\cdot)``.

:class:`SymtruncLatexPrinter` is sympy's LaTeX printer with the library's conventions (the
rectifier :class:`relu` or ``max(0, z)`` as ``\sigma(z)``, ``bmatrix``, tight fractions).
:func:`latex_number`, :func:`latex_matrix` and :func:`latex_vector` print exact values as
math-mode strings (no ``$``); :func:`matrix_fragment` and :func:`matrix_pair` display named
matrices in a :class:`~symtrunc.latex.document.Fragment`.

Large objects are abbreviated unless ``full=True`` (:class:`LatexOptions`): a matrix with more
than ``max_rows`` rows or ``max_cols`` columns shows its corners with
``\cdots``/``\vdots``/``\ddots``, and a rational whose numerator and denominator have more
than ``max_digits`` digits together is shown as its decimal expansion *truncated* to
``digits`` significant digits followed by ``\ldots`` (every printed digit is exact). With
``full=True`` every entry is exact; matrices with more than 10 columns then need
``\setcounter{MaxMatrixCols}{...}`` in the preamble.

The printers of the library's objects (networks, cones, certificates, ...) and the entry
points :func:`~symtrunc.latex.objects.to_latex` and :func:`~symtrunc.latex.objects.to_markdown`
are in :mod:`symtrunc.latex.objects`.

Examples
--------
>>> from symtrunc.exact.matrix import qmatrix
>>> latex_matrix(qmatrix([["7/6", "-5/6"], ["-5/6", "7/6"]]))
'\\begin{bmatrix}\\frac{7}{6} & -\\frac{5}{6}\\\\-\\frac{5}{6} & \\frac{7}{6}\\end{bmatrix}'
>>> x = sympy.Symbol("x")
>>> SymtruncLatexPrinter().doprint(relu(x - sympy.Rational(5, 4)))
'\\sigma\\left(x - \\frac{5}{4}\\right)'
>>> latex_number(sympy.sqrt(8) / 3)
'\\frac{2 \\sqrt{2}}{3}'
>>> latex_matrix(qmatrix([["4330986295811/804288000000"]]))
'\\begin{bmatrix}5.38486\\ldots\\end{bmatrix}'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

import flint
import sympy
from sympy.printing.latex import LatexPrinter as _SympyLatexPrinter

from symtrunc.latex.document import Fragment, tex_escape

__all__ = [
    "LatexOptions",
    "SymtruncLatexPrinter",
    "as_fraction",
    "latex_label",
    "latex_matrix",
    "latex_number",
    "latex_vector",
    "matrix_fragment",
    "matrix_pair",
    "relu",
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

    @classmethod
    def coerce(cls, options: Mapping[str, Any] | LatexOptions | None) -> LatexOptions:
        """``options`` as :class:`LatexOptions`: returned as is, built from a mapping of field
        values, or the defaults for ``None``.

        >>> LatexOptions.coerce({"full": True}).full, LatexOptions.coerce(None) == LatexOptions()
        (True, True)
        >>> LatexOptions.coerce({"colour": "red"})
        Traceback (most recent call last):
        ...
        TypeError: unknown LaTeX option (LatexOptions.__init__() got an unexpected keyword argument 'colour')
        """
        if isinstance(options, cls):
            return options
        try:
            return cls(**dict(options or {}))
        except TypeError as e:
            raise TypeError(f"unknown LaTeX option ({e})") from None


# ----------------------------------------------------------------------------- labels
def latex_label(value: Any) -> str:
    r"""A class label inside math mode: ``\text{...}`` with the label escaped.

    >>> latex_label("class_1")
    '\\text{class\\_1}'
    """
    return rf"\text{{{tex_escape(value)}}}"


# ----------------------------------------------------------------------------- numbers
def as_fraction(x: Any) -> Fraction | None:
    """The exact value of an integer or rational (python-flint, :class:`~fractions.Fraction`, sympy),
    or ``None`` for anything else.

    >>> as_fraction(flint.fmpq(-5, 4)), as_fraction(sympy.Integer(3)), as_fraction(0.5)
    (Fraction(-5, 4), Fraction(3, 1), None)
    """
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
            int_part, frac_part = s[: e + 1], s[e + 1 :]
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


def latex_number(
    x: Any, options: Mapping[str, Any] | LatexOptions | None = None, *, inline_fraction: bool = False
) -> str:
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
    opts = LatexOptions.coerce(options)
    v = as_fraction(x)
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
    return r"\allowbreak ".join(digits[i : i + every] for i in range(0, len(digits), every))


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
    opts = LatexOptions.coerce(options)
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
    if as_fraction(x) is not None:
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
            x = as_fraction(rows[r][c])
            if x is None:
                w = max(w, 8)
            elif not opts.full and len(str(abs(x.numerator))) + len(str(x.denominator)) > opts.max_digits:
                w = max(w, opts.digits + 4)
            else:
                w = max(w, max(len(str(abs(x.numerator))), len(str(x.denominator)) if x.denominator != 1 else 0) + 1)
        width += w + 2
    return width


# ----------------------------------------------------------------------------- matrix displays
def matrix_fragment(
    name: str, A: Any, opts: LatexOptions, *, vector_as_row: bool | None = None, note: bool = True
) -> Fragment:
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
    if (
        note
        and not opts.full
        and (
            m > opts.max_rows
            or (n > opts.max_cols and not (is_vec and row_form))
            or (is_vec and row_form and m > opts.max_cols)
        )
    ):
        frag.text(rf"(${name}$ is ${m}\times {n}$; only its corners are shown.)")
    return frag


def matrix_pair(name1: str, A: Any, name2: str, B: Any, opts: LatexOptions) -> Fragment:
    r"""Two matrices side by side (``W = ..., \quad b = ...``) when they fit, else one after the other."""
    f1, f2 = matrix_fragment(name1, A, opts, note=False), matrix_fragment(name2, B, opts, note=False)
    if (
        len(f1.items) == 1
        and len(f2.items) == 1
        and f1.items[0][0] == "math"
        and f2.items[0][0] == "math"
        and _matrix_chars(A, opts) + _matrix_chars(B if B.ncols() > 1 or B.nrows() <= 2 else B.transpose(), opts) < 110
    ):
        frag = Fragment().math(f1.items[0][1] + r",\qquad " + f2.items[0][1], wide=True)
        notes = [n for n, M in ((name1, A), (name2, B)) if _abbreviated(M, opts)]
    else:
        frag = Fragment().extend(f1).extend(f2)
        notes = [n for n, M, f in ((name1, A, f1), (name2, B, f2)) if _abbreviated(M, opts) and f.items[0][0] == "math"]
    if notes:
        frag.text(
            "(Corners only of " + " and ".join(f"${n}$" for n in notes) + r"; \texttt{--full} prints every entry.)"
        )
    return frag


def _abbreviated(M: Any, opts: LatexOptions) -> bool:
    m, n, _ = _entries(M)
    if opts.full:
        return False
    if n == 1:
        return m > (opts.max_cols if m > 2 else opts.max_rows)
    return m > opts.max_rows or n > opts.max_cols
