r"""The small proof engine behind :mod:`symtrunc.proofs`.

A proof script states its claim and discharges *obligations* with a :class:`Prover`:

* :meth:`Prover.identity` – a polynomial or rational-function identity in symbolic
  parameters, settled by putting ``lhs - rhs`` over one denominator and expanding the
  numerator (a canonical form: the identity holds iff the expanded numerator is ``0``);
* :meth:`Prover.sign` – ``expr ≥ 0`` (or ``> 0``, ``≤ 0``, ``< 0``) for parameters of
  known sign, settled when the numerator and denominator are polynomials with coefficients
  of one sign in nonnegative variables (a *sign argument on an explicit piece*);
* :meth:`Prover.sum_of_squares` – a quadratic form is positive semidefinite, settled by an
  exact symmetric elimination ``Q = Σ d_k ℓ_k²`` with ``d_k ≥ 0`` (checked as an identity);
* :meth:`Prover.identity` on :class:`~symtrunc.proofs.free_algebra.Elt` – an identity between
  matrix symbols of *symbolic size*, settled when both sides have the same normal form in the
  free algebra modulo the stated relations (so it holds in every dimension).

Every obligation has a *scope*: it holds for all dimensions (symbolic sizes, or a scalar
statement about a generic component), or it was checked at stated sizes only (``at="n = 2"``;
required for an explicit matrix). A claim whose obligations all hold for all dimensions is
``"proved"``; one with an obligation checked only at fixed sizes is ``"verified"`` at those
sizes (:class:`Scope`). Hypotheses a proof takes as given without proving them (standard facts
about determinants, say) are listed in its scope as *assumes*.

An obligation that is not settled symbolically is never "checked numerically" instead.
The prover then looks for an exact *counterexample*: rational parameter values inside the
hypotheses at which the claim is false. If it finds one the obligation (and the claim) is
``"failed"``; otherwise it is ``"not settled"``. A claim is ``"proved"`` only when every
obligation is settled symbolically for all dimensions.

Examples
--------
>>> import sympy
>>> a, b = sympy.symbols("a b")
>>> P = Prover("demo", "Demo", r"$(a+b)^2 = a^2 + 2ab + b^2$")
>>> P.identity("binomial formula", (a + b) ** 2, a**2 + 2 * a * b + b**2, Domain({a: "real", b: "real"}))
True
>>> P.identity("a false formula", (a + b) ** 2, a**2 + b**2, Domain({a: "real", b: "real"}))
False
>>> r = P.finish()
>>> r.status, sorted(r.counterexample["values"])
('failed', ['a', 'b'])
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy
from sympy.core.function import Application

from symtrunc.latex.document import Fragment, tex_escape
from symtrunc.latex.printer import SymtruncLatexPrinter
from symtrunc.proofs.algebra import Rat
from symtrunc.proofs.free_algebra import Elt

__all__ = ["STATUSES", "Domain", "ProofResult", "Prover", "Scope", "Step", "latex", "psd_decomposition", "run_proof"]

STATUSES = ("proved", "verified", "failed", "not settled")
ALL_DIMENSIONS = "all dimensions"
METHODS = {
    "identity": "rational-function identity, settled over a common denominator with the numerator expanded",
    "matrix identity": "identity of matrix symbols of symbolic size: both sides have the same normal form "
    "modulo the stated relations",
    "sign": "sign argument: one-signed coefficients in variables of known sign",
    "certificate": "exact certificate (hypotheses times nonnegative multipliers plus a sum of squares)",
    "sum of squares": "exact decomposition into weighted squares",
    "fact": "exactly decided finite fact",
    "counterexample": "refuted by exact rational values satisfying the hypotheses",
    "unsettled": "neither a symbolic proof nor a counterexample was found",
}
_PRINTER = SymtruncLatexPrinter()


def latex(expr: Any) -> str:
    """LaTeX of a sympy object with the symtrunc printer."""
    return _PRINTER.doprint(expr)


# ----------------------------------------------------------------------------- domains
_KINDS = ("real", "positive", "nonnegative", "negative", "nonzero", "dimension")
_POOLS = {
    "real": [
        0,
        1,
        -1,
        2,
        -2,
        sympy.Rational(1, 2),
        sympy.Rational(-1, 2),
        3,
        -3,
        sympy.Rational(1, 3),
        sympy.Rational(-2, 3),
        5,
        sympy.Rational(3, 2),
        -4,
        sympy.Rational(5, 7),
    ],
    "positive": [1, 2, sympy.Rational(1, 2), 3, sympy.Rational(1, 3), sympy.Rational(3, 2), 5, sympy.Rational(2, 7), 7],
    "nonnegative": [0, 1, 2, sympy.Rational(1, 2), 0, 3, sympy.Rational(1, 3), sympy.Rational(3, 2), 5],
    "negative": [-1, -2, sympy.Rational(-1, 2), -3, sympy.Rational(-1, 3), sympy.Rational(-3, 2)],
    "nonzero": [1, -1, 2, -2, sympy.Rational(1, 2), sympy.Rational(-1, 3), 3, -3],
    "dimension": [2, 1, 3, 2, 4, 3],
}


@dataclass
class Domain:
    """Where the parameters live: a kind per symbol, plus exact side conditions.

    Attributes
    ----------
    kinds : dict
        ``{symbol: "real" | "positive" | "nonnegative" | "negative" | "nonzero" | "dimension"}``
        (a dimension is a positive integer).
    conditions : sequence of sympy expressions
        Each must be ``≥ 0`` at a counterexample (hypotheses such as ``1 - λ²T² ≥ 0``).
    nonzero : sequence of sympy expressions
        Each must be ``≠ 0`` at a counterexample (e.g. determinants).
    samples : callable, optional
        ``rng -> iterable of {symbol: value}``: extra candidate points (tried first). For
        matrix identities a point may also fix matrix symbols by name (``{"u": Matrix}``).
    """

    kinds: Mapping[Any, str]
    conditions: Sequence[Any] = ()
    nonzero: Sequence[Any] = ()
    samples: Callable[[random.Random], Iterable[Mapping[Any, Any]]] | None = None

    def __post_init__(self) -> None:
        bad = [k for k in self.kinds.values() if k not in _KINDS]
        if bad:
            raise ValueError(f"unknown symbol kind {bad[0]!r}; use one of {_KINDS}")

    def admits(self, point: Mapping[Any, Any]) -> bool:
        """Whether ``point`` satisfies every kind and side condition exactly."""
        for s, kind in self.kinds.items():
            v = point.get(s)
            if v is None or not v.is_Rational:
                return False
            if (
                (kind == "positive" and v <= 0)
                or (kind == "nonnegative" and v < 0)
                or (kind == "negative" and v >= 0)
                or (kind == "nonzero" and v == 0)
                or (kind == "dimension" and (not v.is_Integer or v < 1))
            ):
                return False
        for c in self.conditions:
            val = _exact_value(c, point)
            if val is None or val < 0:
                return False
        for c in self.nonzero:
            val = _exact_value(c, point)
            if val is None or val == 0:
                return False
        return True

    def candidates(self, seed: int, tries: int) -> Iterable[dict[Any, Any]]:
        """Deterministic candidate points (custom samples first, then pseudo-random ones)."""
        rng = random.Random(seed)
        symbols = list(self.kinds)
        if self.samples is not None:
            for point in self.samples(rng):
                full = {s: sympy.sympify(point.get(s, _POOLS[self.kinds[s]][0])) for s in symbols}
                full.update({k: v for k, v in point.items() if isinstance(k, str)})
                yield full
        for _ in range(tries):
            yield {s: sympy.Integer(0) + rng.choice(_POOLS[self.kinds[s]]) for s in symbols}


def _exact_value(expr: Any, point: Mapping[Any, Any]) -> Any:
    """``expr`` at ``point`` as a sympy Rational, or ``None`` if undefined or not rational."""
    val = sympy.sympify(expr).xreplace(dict(point))
    if val.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return None
    if val.is_Rational:
        return val
    if not val.is_number:
        return None
    val = sympy.expand(sympy.together(val))
    if not val.is_Rational:
        val = sympy.radsimp(val)
    return val if val.is_Rational else None


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Step:
    """One obligation of a proof.

    Attributes
    ----------
    description : str
        LaTeX text (inline math allowed).
    status : str
        ``"proved"``, ``"failed"`` or ``"not settled"``.
    method : str
        How it was settled (``"rational identity"``, ``"sign argument"``, ...).
    detail : str
        LaTeX: the identity or certificate, or the counterexample.
    at : str
        ``""`` if the obligation holds for all dimensions, else the sizes it was checked at
        (plain text such as ``"n = 2"``).
    """

    description: str
    status: str
    method: str
    detail: str = ""
    at: str = ""


@dataclass(frozen=True)
class Scope:
    """What a proof covers: all dimensions, or only the sizes it was checked at; and what it assumes.

    Attributes
    ----------
    sizes : tuple of str
        Empty when every obligation holds for all dimensions; else the sizes of the
        obligations that were checked at fixed sizes only (plain text, e.g. ``"n = 2"``).
    assumes : tuple of str
        Hypotheses taken as given, not proved (plain text).

    >>> str(Scope()), str(Scope(("n = 2", "n = 3")))
    ('all dimensions', 'verified at sizes n = 2; n = 3')
    >>> Scope(assumes=("det(AB) = det(A) det(B)",)).describe()
    'all dimensions; assumes det(AB) = det(A) det(B)'
    """

    sizes: tuple[str, ...] = ()
    assumes: tuple[str, ...] = ()

    @property
    def all_dimensions(self) -> bool:
        """Whether every obligation holds for all dimensions."""
        return not self.sizes

    def __str__(self) -> str:
        return ALL_DIMENSIONS if self.all_dimensions else "verified at sizes " + "; ".join(self.sizes)

    def describe(self) -> str:
        """The scope with the assumptions (plain text)."""
        return str(self) + ("; assumes " + "; ".join(self.assumes) if self.assumes else "")


@dataclass(frozen=True)
class ProofResult:
    """The outcome of one proof script.

    Attributes
    ----------
    name : str
        Script name (``symtrunc prove NAME``).
    title : str
        Plain-text title.
    claim : str
        The statement (LaTeX text with inline math).
    status : str
        ``"proved"`` (every obligation holds for all dimensions), ``"verified"`` (every
        obligation holds, some only at the sizes of :attr:`scope`), ``"failed"`` or ``"not settled"``.
    latex : str
        The LaTeX proof sketch (text mode, needs ``amsmath``).
    steps : tuple of Step
    seconds : float
    variant : str or None
        The deliberately false variant that was run, if any.
    counterexample : dict or None
        For a failed claim: the obligation and the exact parameter values refuting it.
    """

    name: str
    title: str
    claim: str
    status: str
    latex: str
    steps: tuple[Step, ...] = ()
    seconds: float = 0.0
    variant: str | None = None
    counterexample: dict[str, Any] | None = None
    markdown: str = field(default="", repr=False)
    scope: Scope = field(default_factory=Scope)

    @property
    def proved(self) -> bool:
        """``status == "proved"`` (for all dimensions)."""
        return self.status == "proved"

    @property
    def holds(self) -> bool:
        """Every obligation settled: ``"proved"`` or ``"verified"`` (at the sizes of the scope)."""
        return self.status in ("proved", "verified")

    def fragment(self, *, timing: bool = True, heading: bool = True) -> Fragment:
        """The proof as a renderer-neutral :class:`~symtrunc.latex.Fragment` (``timing=False``:
        without the running time, for reproducible documents; ``heading=False``: without the title)."""
        return _result_fragment(self, timing, heading)

    def __symtrunc_latex__(self, options: Any) -> Fragment:
        """The printer protocol of :func:`symtrunc.latex.to_latex` (options do not apply)."""
        return self.fragment()

    def __str__(self) -> str:
        v = f" [false variant: {self.variant}]" if self.variant else ""
        return f"{self.name}: {self.status}{v} ({self.seconds:.2f} s)"


_MARK = {
    "proved": r"\textbf{proved}",
    "verified": r"\textbf{verified}",
    "failed": r"\textbf{FAILED}",
    "not settled": r"\textbf{not settled}",
}


def _result_fragment(r: ProofResult, timing: bool = True, heading: bool = True) -> Fragment:
    frag = Fragment()
    if heading:
        frag.heading(2, tex_escape(r.title) + (f" (false variant: {tex_escape(r.variant)})" if r.variant else ""))
    frag.text(rf"\textbf{{Claim.}} {r.claim}")
    took = f", {r.seconds:.2f} s" if timing else ""
    frag.text(
        rf"\textbf{{Status:}} {_MARK[r.status]} (script \texttt{{{tex_escape(r.name)}}}, "
        f"{len(r.steps)} obligations{took})."
    )
    if r.variant is None:
        what = "every obligation is settled for symbolic sizes or for a generic component"
        if r.scope.all_dimensions:
            frag.text(rf"\textbf{{Scope:}} \textbf{{all dimensions}}: {what}.")
        else:
            sizes = "; ".join(r.scope.sizes)
            frag.raw(
                rf"\par \textbf{{Scope:}} \textbf{{verified at sizes}} {tex_escape(sizes)} only.",
                f"**Scope:** **verified at sizes** {sizes} only.",
            )
        if r.scope.assumes:
            head = "(taken as given, not proved here): "
            frag.raw(
                r"\par \textbf{Assumes} " + head + "; ".join(tex_escape(a) for a in r.scope.assumes) + ".",
                "**Assumes** " + head + "; ".join(r.scope.assumes) + ".",
            )
    frag.raw(r"\par " + r.latex, r.markdown)
    return frag


# ----------------------------------------------------------------------------- the prover
def _as_list(x: Any) -> list[Any]:
    if isinstance(x, Rat):
        return list(x.sym())
    if isinstance(x, sympy.MatrixBase):
        return list(x)
    if isinstance(x, (list, tuple)):
        return [e for item in x for e in _as_list(item)]
    return [sympy.sympify(x)]


def _generators(expr: Any) -> list[Any]:
    """Symbols and non-polynomial atoms (function applications, radicals) of ``expr``."""
    gens = set(expr.free_symbols)
    for atom in expr.atoms(Application, sympy.Pow):
        if isinstance(atom, sympy.Pow) and atom.exp.is_Integer:
            continue
        gens.add(atom)
    # an atom containing another generator stays an independent indeterminate
    return sorted(gens, key=sympy.default_sort_key)


def _numerator_zero(expr: Any) -> bool:
    """Exact test ``expr ≡ 0`` for a rational function.

    ``expr`` is mapped into the field of rational functions over its symbols and its other
    atoms (function applications such as ``σ(z)``, radicals), treated as independent
    indeterminates: an identity there holds for every value of the atoms, so ``True`` is
    always sound. When radicals are present and this test fails, the expression is put over
    a common denominator and its numerator expanded (sympy combines radicals), which may
    still prove it.
    """
    expr = sympy.sympify(expr)
    if expr == 0:
        return True
    gens = _generators(expr)
    if gens:
        try:
            K = sympy.QQ.frac_field(*gens)
            if K.from_sympy(expr) == K.zero:
                return True
        except (sympy.polys.polyerrors.PolynomialError, sympy.polys.polyerrors.CoercionFailed, ValueError):
            pass
    radicals = any(isinstance(a, sympy.Pow) and not a.exp.is_Integer for a in expr.atoms(sympy.Pow))
    if gens and not radicals:
        return False
    num, _den = sympy.fraction(sympy.together(expr))
    return sympy.expand(num) == 0


def _poly_sign(expr: Any, kinds: Mapping[Any, str]) -> str | None:
    """``"positive"``, ``"nonnegative"``, ``"negative"``, ``"nonpositive"`` or ``None``.

    Sound sufficient test: numerator and denominator, expanded, are polynomials in variables
    of known sign (``positive``/``nonnegative``; ``negative`` ones are flipped) whose rational
    coefficients all have one sign.
    """
    expr = sympy.sympify(expr)
    flip = {s: -sympy.Dummy(positive=True) for s, k in kinds.items() if k == "negative"}
    if flip:
        expr = expr.xreplace({s: d for s, d in flip.items()})
    num, den = sympy.fraction(sympy.together(expr))
    sn, sd = _poly_sign_num(sympy.expand(num), kinds, flip), _poly_sign_num(sympy.expand(den), kinds, flip)
    if sn is None or sd is None or sd in ("zero",):
        return None
    if sn == "zero":
        return "nonnegative"
    table = {
        ("positive", "positive"): "positive",
        ("negative", "negative"): "positive",
        ("positive", "negative"): "negative",
        ("negative", "positive"): "negative",
        ("nonnegative", "positive"): "nonnegative",
        ("nonpositive", "negative"): "nonnegative",
        ("nonnegative", "negative"): "nonpositive",
        ("nonpositive", "positive"): "nonpositive",
    }
    return table.get((sn, sd))


def _poly_sign_num(p: Any, kinds: Mapping[Any, str], flip: Mapping[Any, Any]) -> str | None:
    if p == 0:
        return "zero"
    gens = sorted(p.free_symbols, key=str)
    pos = {s for s, k in kinds.items() if k in ("positive", "dimension")} | {-d for d in flip.values()}
    nonneg = {s for s, k in kinds.items() if k == "nonnegative"}
    if any(g not in pos and g not in nonneg for g in gens):
        return None
    poly = sympy.Poly(p, *gens) if gens else None
    coeffs = poly.coeffs() if poly is not None else [p]
    if not all(c.is_Rational for c in coeffs):
        return None
    if all(c >= 0 for c in coeffs):
        sign = 1
    elif all(c <= 0 for c in coeffs):
        sign = -1
    else:
        return None
    # strictly signed if there is a nonzero constant term or a monomial in positive variables only
    strict = False
    if poly is None:
        strict = True
    else:
        for monom, c in poly.terms():
            if c != 0 and all(e == 0 or gens[i] in pos for i, e in enumerate(monom)):
                strict = True
                break
    if sign > 0:
        return "positive" if strict else "nonnegative"
    return "negative" if strict else "nonpositive"


def psd_decomposition(form: Any, variables: Sequence[Any]) -> list[tuple[Any, Any]] | None:
    """``[(d_k, ℓ_k), ...]`` with ``form = Σ d_k ℓ_k²`` and rational ``d_k ≥ 0``, or ``None``.

    Exact symmetric Gaussian elimination of a quadratic form with rational coefficients;
    ``None`` means the form is not positive semidefinite (or not a rational quadratic form).

    >>> x, y = sympy.symbols("x y")
    >>> psd_decomposition(x**2 - 2*x*y + 3*y**2, [x, y])
    [(1, x - y), (2, y)]
    >>> psd_decomposition(x**2 - 3*x*y + y**2, [x, y]) is None
    True
    """
    n = len(variables)
    poly = sympy.Poly(sympy.expand(form), *variables)
    if poly.total_degree() > 2 or any(sum(m) not in (0, 2) for m, c in poly.terms() if c != 0):
        return None
    if any(sum(m) == 0 for m, c in poly.terms() if c != 0):
        return None
    S = sympy.zeros(n, n)
    for monom, c in poly.terms():
        if c == 0:
            continue
        if not c.is_Rational:
            return None
        idx = [i for i, e in enumerate(monom) for _ in range(e)]
        i, j = idx
        if i == j:
            S[i, i] += c
        else:
            S[i, j] += c / 2
            S[j, i] += c / 2
    out = []
    for k in range(n):
        d = S[k, k]
        if d < 0:
            return None
        if d == 0:
            if any(S[k, j] != 0 for j in range(n)):
                return None
            continue
        row = [S[k, j] / d for j in range(n)]
        out.append((d, sum((row[j] * variables[j] for j in range(n)), sympy.S.Zero)))
        for i in range(n):
            for j in range(n):
                S[i, j] -= d * row[i] * row[j]
    return out


class StopProof(Exception):
    """Raised inside :meth:`Prover.guard` to stop a false variant at its first failure."""


class Prover:
    """Collects obligations and their outcomes for one claim (see the module docstring).

    Parameters
    ----------
    name, title, claim : str
        Script name, plain-text title, LaTeX statement.
    variant : str, optional
        Name of the deliberately false variant being run.
    seed : int
        Seed of the deterministic counterexample search.
    tries : int
        Pseudo-random candidate points per unsettled obligation.
    """

    def __init__(
        self, name: str, title: str, claim: str, variant: str | None = None, *, seed: int = 0, tries: int = 60
    ) -> None:
        self.name, self.title, self.claim, self.variant = name, title, claim, variant
        self.seed, self.tries = seed, tries
        self.fail_fast = variant is not None
        self.steps: list[Step] = []
        self.counterexample: dict[str, Any] | None = None
        self.sketch = Fragment()
        self.assumes: tuple[str, ...] = ()
        self._at = ""
        self._t0 = time.perf_counter()

    # ------------------------------------------------------------------ obligations
    def identity(
        self, description: str, lhs: Any, rhs: Any, domain: Domain, *, show: str | None = None, at: str = ""
    ) -> bool:
        """Prove ``lhs = rhs`` identically over ``domain``: scalars, explicit matrices (checked at
        the sizes ``at``, which is then required) or matrix symbols of symbolic size
        (:class:`~symtrunc.proofs.free_algebra.Elt`, all dimensions)."""
        if isinstance(lhs, Elt) or isinstance(rhs, Elt):
            if at:
                raise ValueError(f"{description}: a matrix identity of symbolic size holds for all dimensions")
            return self._matrix_identity(description, lhs, rhs, domain, show)
        _check_scope(description, at, lhs, rhs)
        self._at = at
        if isinstance(lhs, Rat) and isinstance(rhs, Rat):
            if lhs.shape != rhs.shape:
                raise ValueError(f"{description}: shapes differ ({lhs.shape} vs {rhs.shape})")
            bad: list[int] = []
            if not lhs.equals(rhs):
                L, R = _as_list(lhs.sym()), _as_list(rhs.sym())
                bad = [k for k, (a, b) in enumerate(zip(L, R)) if not _numerator_zero(a - b)]
        else:
            L, R = _as_list(lhs), _as_list(rhs)
            if len(L) != len(R):
                raise ValueError(f"{description}: shapes differ ({len(L)} vs {len(R)} entries)")
            bad = [k for k, (a, b) in enumerate(zip(L, R)) if not _numerator_zero(a - b)]
        if not bad:
            return self._record(description, "proved", "identity", show or "")
        k = bad[0]

        def refutes(point: Mapping[Any, Any]) -> Any:
            a, b = _exact_value(L[k], point), _exact_value(R[k], point)
            return (a, b) if a is not None and b is not None and a != b else None

        rel = sympy.sympify(L[k] - R[k]).free_symbols
        return self._refute(description, domain, refutes, "identity", show, rel)

    def sign(
        self, description: str, expr: Any, relation: str, domain: Domain, *, show: str | None = None, at: str = ""
    ) -> bool:
        """Prove ``expr relation 0`` (``relation`` one of ``">=", ">", "<=", "<"``) on ``domain``
        (an explicit matrix needs the sizes ``at``)."""
        _check_scope(description, at, expr)
        self._at = at
        exprs = _as_list(expr)
        want = {
            ">=": ("positive", "nonnegative"),
            ">": ("positive",),
            "<=": ("negative", "nonpositive"),
            "<": ("negative",),
        }[relation]
        bad = None
        for k, e in enumerate(exprs):
            s = _poly_sign(e, domain.kinds)
            if s not in want and not (relation in (">=", "<=") and sympy.expand(e) == 0):
                bad = k
                break
        if bad is None:
            return self._record(description, "proved", "sign", show or "")
        target = exprs[bad]
        ok = {">=": lambda v: v >= 0, ">": lambda v: v > 0, "<=": lambda v: v <= 0, "<": lambda v: v < 0}[relation]

        def refutes(point: Mapping[Any, Any]) -> Any:
            v = _exact_value(target, point)
            return (v, f"{relation} 0") if v is not None and not ok(v) else None

        return self._refute(description, domain, refutes, "sign", show, sympy.sympify(target).free_symbols)

    def implied_sign(
        self,
        description: str,
        expr: Any,
        relation: str,
        domain: Domain,
        certificate: Callable[[], str | None],
        *,
        at: str = "",
    ) -> bool:
        """Prove ``expr relation 0`` under the side conditions of ``domain`` by an exact certificate.

        ``certificate()`` verifies an identity (e.g. a Positivstellensatz-style decomposition into
        hypotheses times nonnegative multipliers plus sums of squares) with exact arithmetic and
        returns its LaTeX, or ``None``. Without a certificate the prover searches for an exact
        counterexample satisfying every condition of ``domain``.
        """
        _check_scope(description, at, expr)
        self._at = at
        detail = certificate()
        if detail is not None:
            return self._record(description, "proved", "certificate", detail)
        ok = {">=": lambda v: v >= 0, ">": lambda v: v > 0, "<=": lambda v: v <= 0, "<": lambda v: v < 0}[relation]

        def refutes(point: Mapping[Any, Any]) -> Any:
            v = _exact_value(expr, point)
            return (v, f"{relation} 0") if v is not None and not ok(v) else None

        return self._refute(description, domain, refutes, "sign", None, None)

    def sum_of_squares(
        self, description: str, form: Any, variables: Sequence[Any], domain: Domain, *, at: str = ""
    ) -> bool:
        """Prove that a rational quadratic form is ``≥ 0`` by an exact ``Σ d_k ℓ_k²`` decomposition
        (in a fixed number of variables: give their count as ``at``, e.g. ``"M = 3"``)."""
        if not at:
            raise ValueError(f"{description}: a quadratic form in explicit variables has a fixed size; give at=")
        self._at = at
        dec = psd_decomposition(form, variables)
        if dec is not None:
            sos = sum((d * l**2 for d, l in dec), sympy.S.Zero)
            if _numerator_zero(form - sos):
                shown = " + ".join(rf"{latex(d)}\left({latex(l)}\right)^2" for d, l in dec) or "0"
                return self._record(
                    description, "proved", "sum of squares", rf"$${latex(form)} = {shown}$$" if len(shown) < 400 else ""
                )

        def refutes(point: Mapping[Any, Any]) -> Any:
            v = _exact_value(form, point)
            return (v, ">= 0") if v is not None and v < 0 else None

        return self._refute(description, domain, refutes, "sign", None, sympy.sympify(form).free_symbols)

    def fact(self, description: str, holds: bool, detail: str = "", *, at: str = "") -> bool:
        """Record an exactly decided finite fact (e.g. an exact evaluation at given numbers)."""
        self._at = at
        return self._record(description, "proved" if holds else "failed", "fact", detail)

    # ------------------------------------------------------------------ matrices of symbolic size
    def _matrix_identity(self, description: str, lhs: Any, rhs: Any, domain: Domain, show: str | None) -> bool:
        self._at = ""
        alg = (lhs if isinstance(lhs, Elt) else rhs).alg
        if not isinstance(lhs, Elt) or not isinstance(rhs, Elt):
            raise ValueError(f"{description}: both sides must be matrix symbols of symbolic size")
        diff = (lhs - rhs).normal()
        if all(_numerator_zero(c) for c in diff.terms.values()):
            nf = lhs.normal()
            detail = show or (rf"both sides reduce to ${nf.latex()}$" if len(nf.latex()) < 160 else "")
            return self._record(description, "proved", "matrix identity", detail)
        atoms = lhs.atoms() | rhs.atoms()
        rng = random.Random(self.seed + len(self.steps))
        dims = [s for s, k in domain.kinds.items() if k == "dimension"]
        for point in domain.candidates(self.seed + len(self.steps), self.tries):
            if not domain.admits(point):
                continue
            sizes = {s: int(point[s]) for s in dims}
            fixed = {k: v for k, v in point.items() if isinstance(k, str)}
            try:
                values = alg.random_values(rng, sizes, fixed)
            except (TypeError, ValueError):
                continue
            values.update({s: v for s, v in point.items() if not isinstance(s, str)})
            if not alg.relations_hold(values, atoms):
                continue
            try:
                a, b = alg.evaluate(lhs, values), alg.evaluate(rhs, values)
            except (ValueError, KeyError, TypeError):
                continue
            if a != b:
                shown = {str(s): str(point[s]) for s in domain.kinds}
                shown.update({a_.name: str(values[a_.name].tolist()) for a_ in sorted(atoms, key=lambda x: x.name)})
                self.counterexample = self.counterexample or {
                    "obligation": description,
                    "values": shown,
                    "found": [str(a.tolist()), str(b.tolist())],
                    "kind": "matrix identity",
                }
                vals = ", ".join(
                    [rf"{latex(s)} = {latex(point[s])}" for s in domain.kinds]
                    + [rf"{a_.name} = {latex(values[a_.name])}" for a_ in sorted(atoms, key=lambda x: x.name)]
                )
                detail = rf"Counterexample: ${vals}$ gives ${latex(a)}$ on the left and ${latex(b)}$ on the right."
                return self._record(description, "failed", "counterexample", detail)
        return self._record(description, "not settled", "unsettled", show or "")

    # ------------------------------------------------------------------ internals
    def _record(self, description: str, status: str, method: str, detail: str) -> bool:
        self.steps.append(Step(description, status, method, detail, self._at))
        if status == "failed" and self.fail_fast:
            raise StopProof(description)
        return status == "proved"

    def guard(self) -> _Guard:
        """Context manager around a proof body: a failure stops the run when ``fail_fast``."""
        return _Guard()

    def _refute(
        self,
        description: str,
        domain: Domain,
        refutes: Callable,
        kind: str,
        show: str | None,
        relevant: set | None = None,
    ) -> bool:
        for point in domain.candidates(self.seed + len(self.steps), self.tries):
            if not domain.admits(point):
                continue
            found = refutes(point)
            if found is not None:
                point = {s: v for s, v in point.items() if not isinstance(s, str)}
                values = {str(s): str(v) for s, v in point.items() if relevant is None or s in relevant}
                self.counterexample = self.counterexample or {
                    "obligation": description,
                    "values": values,
                    "found": [str(x) for x in found],
                    "kind": kind,
                }
                shown = ", ".join(
                    rf"{latex(s)} = {latex(v)}" for s, v in point.items() if relevant is None or s in relevant
                )
                detail = rf"Counterexample: ${shown}$ gives ${latex(found[0])}$, not ${_show_target(found[1])}$."
                return self._record(description, "failed", "counterexample", detail)
        return self._record(description, "not settled", "unsettled", show or "")

    # ------------------------------------------------------------------ result
    def finish(self, sketch: Fragment | None = None) -> ProofResult:
        """Aggregate: ``failed`` if any obligation failed, else ``not settled`` if any is, else
        ``verified`` if some obligation holds only at fixed sizes, else ``proved``."""
        statuses = {s.status for s in self.steps}
        sizes = tuple(dict.fromkeys(s.at for s in self.steps if s.at))
        status = (
            "failed"
            if "failed" in statuses
            else "not settled"
            if "not settled" in statuses or not self.steps
            else "verified"
            if sizes
            else "proved"
        )
        frag = Fragment()
        if sketch is not None:
            frag.extend(sketch)
        frag.extend(self.sketch)
        rows = [
            [str(k), s.description, _MARK[s.status], tex_escape(s.method), tex_escape(s.at or "all")]
            for k, s in enumerate(self.steps, 1)
        ]
        used = [m for m in METHODS if any(s.method == m for s in self.steps)]
        legend = "; ".join(rf"\emph{{{m}}}: {METHODS[m]}" for m in used)
        frag.text(
            rf"\textbf{{Machine-checked obligations}} (sympy, exact; {legend}; \emph{{sizes}}: "
            r"\emph{all} when the obligation holds in every dimension):"
        )
        frag.table(
            ["", "obligation", "status", "how", "sizes"],
            rows,
            r"r>{\raggedright\arraybackslash}p{0.5\linewidth}l>{\raggedright\arraybackslash}p{0.12\linewidth}l",
        )
        for k, s in enumerate(self.steps, 1):
            if s.detail and (s.status != "proved" or s.method in ("certificate", "sum of squares", "fact")):
                frag.text(f"Obligation {k} ({s.method}): {s.detail}")
        return ProofResult(
            name=self.name,
            title=self.title,
            claim=self.claim,
            status=status,
            latex=frag.render("latex"),
            steps=tuple(self.steps),
            seconds=time.perf_counter() - self._t0,
            variant=self.variant,
            counterexample=self.counterexample,
            markdown=frag.render("markdown"),
            scope=Scope(sizes, tuple(self.assumes)),
        )


class _Guard:
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: object, tb: object) -> bool:
        return isinstance(exc_type, type) and issubclass(exc_type, StopProof)


def _show_target(x: Any) -> str:
    if isinstance(x, str):
        return x.replace(">=", r"\ge").replace("<=", r"\le")
    return latex(x)


def _check_scope(description: str, at: str, *exprs: Any) -> None:
    """An explicit matrix (more than one entry) is a check at a fixed size: ``at`` must say which."""
    if at:
        return
    for e in exprs:
        if isinstance(e, Rat) or (isinstance(e, sympy.MatrixBase) and len(e) > 1):
            raise ValueError(f"{description}: an explicit matrix has a fixed size; give at=")


def run_proof(
    name: str,
    title: str,
    claim: str,
    variant: str | None,
    obligations: Callable[[Prover, str | None], None],
    sketch: Callable[[], Fragment],
    assumes: Sequence[str] = (),
) -> ProofResult:
    """The protocol every proof script follows: collect ``obligations`` under a guard (a
    failure of a false variant stops it), then attach the LaTeX ``sketch``; ``assumes`` lists
    the hypotheses the proof takes as given (plain text)."""
    P = Prover(name, title, claim, variant)
    P.assumes = tuple(assumes)
    with P.guard():
        obligations(P, variant)
    return P.finish(sketch())
