r"""The small proof engine behind :mod:`symtrunc.proofs`.

A proof script states its claim and discharges *obligations* with a :class:`Prover`:

* :meth:`Prover.identity` – a polynomial or rational-function identity in symbolic
  parameters, settled by putting ``lhs - rhs`` over one denominator and expanding the
  numerator (a canonical form: the identity holds iff the expanded numerator is ``0``);
* :meth:`Prover.sign` – ``expr ≥ 0`` (or ``> 0``, ``≤ 0``, ``< 0``) for parameters of
  known sign, settled when the numerator and denominator are polynomials with coefficients
  of one sign in nonnegative variables (a *sign argument on an explicit piece*);
* :meth:`Prover.sum_of_squares` – a quadratic form is positive semidefinite, settled by an
  exact symmetric elimination ``Q = Σ d_k ℓ_k²`` with ``d_k ≥ 0`` (checked as an identity).

An obligation that is not settled symbolically is never "checked numerically" instead.
The prover then looks for an exact *counterexample*: rational parameter values inside the
hypotheses at which the claim is false. If it finds one the obligation (and the claim) is
``"failed"``; otherwise it is ``"not settled"``. A claim is ``"proved"`` only when every
obligation is settled symbolically.

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
from sympy.polys.matrices import DomainMatrix

from symtrunc.latex.printer import Fragment, SymtruncLatexPrinter, tex_escape

__all__ = ["STATUSES", "Algebra", "Domain", "ProofResult", "Prover", "Step", "latex", "symbolic_matrix",
           "symbolic_vector", "run_proof"]

STATUSES = ("proved", "failed", "not settled")
METHODS = {
    "identity": "rational-function identity, settled over a common denominator with the numerator expanded",
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
_KINDS = ("real", "positive", "nonnegative", "negative", "nonzero")
_POOLS = {
    "real": [0, 1, -1, 2, -2, sympy.Rational(1, 2), sympy.Rational(-1, 2), 3, -3, sympy.Rational(1, 3),
             sympy.Rational(-2, 3), 5, sympy.Rational(3, 2), -4, sympy.Rational(5, 7)],
    "positive": [1, 2, sympy.Rational(1, 2), 3, sympy.Rational(1, 3), sympy.Rational(3, 2), 5, sympy.Rational(2, 7), 7],
    "nonnegative": [0, 1, 2, sympy.Rational(1, 2), 0, 3, sympy.Rational(1, 3), sympy.Rational(3, 2), 5],
    "negative": [-1, -2, sympy.Rational(-1, 2), -3, sympy.Rational(-1, 3), sympy.Rational(-3, 2)],
    "nonzero": [1, -1, 2, -2, sympy.Rational(1, 2), sympy.Rational(-1, 3), 3, -3],
}


@dataclass
class Domain:
    """Where the parameters live: a kind per symbol, plus exact side conditions.

    Attributes
    ----------
    kinds : dict
        ``{symbol: "real" | "positive" | "nonnegative" | "negative" | "nonzero"}``.
    conditions : sequence of sympy expressions
        Each must be ``≥ 0`` at a counterexample (hypotheses such as ``1 - λ²T² ≥ 0``).
    nonzero : sequence of sympy expressions
        Each must be ``≠ 0`` at a counterexample (e.g. determinants).
    samples : callable, optional
        ``rng -> iterable of {symbol: value}``: extra candidate points (tried first).
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
            if (kind == "positive" and v <= 0) or (kind == "nonnegative" and v < 0) or \
               (kind == "negative" and v >= 0) or (kind == "nonzero" and v == 0):
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
    """

    description: str
    status: str
    method: str
    detail: str = ""


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
        ``"proved"``, ``"failed"`` or ``"not settled"``.
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

    @property
    def proved(self) -> bool:
        """``status == "proved"``."""
        return self.status == "proved"

    def fragment(self) -> Fragment:
        """The proof as a renderer-neutral :class:`~symtrunc.latex.Fragment`."""
        return _result_fragment(self)

    def __symtrunc_latex__(self, options: Any) -> Fragment:
        """The printer protocol of :func:`symtrunc.latex.to_latex` (options do not apply)."""
        return self.fragment()

    def __str__(self) -> str:
        v = f" [false variant: {self.variant}]" if self.variant else ""
        return f"{self.name}: {self.status}{v} ({self.seconds:.2f} s)"


_MARK = {"proved": r"\textbf{proved}", "failed": r"\textbf{FAILED}", "not settled": r"\textbf{not settled}"}


def _result_fragment(r: ProofResult) -> Fragment:
    frag = Fragment()
    head = tex_escape(r.title) + (f" (false variant: {tex_escape(r.variant)})" if r.variant else "")
    frag.heading(2, head)
    frag.text(rf"\textbf{{Claim.}} {r.claim}")
    frag.text(rf"\textbf{{Status:}} {_MARK[r.status]} (script \texttt{{{tex_escape(r.name)}}}, "
              f"{len(r.steps)} obligations, {r.seconds:.2f} s).")
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
        ("positive", "positive"): "positive", ("negative", "negative"): "positive",
        ("positive", "negative"): "negative", ("negative", "positive"): "negative",
        ("nonnegative", "positive"): "nonnegative", ("nonpositive", "negative"): "nonnegative",
        ("nonnegative", "negative"): "nonpositive", ("nonpositive", "positive"): "nonpositive",
    }
    return table.get((sn, sd))


def _poly_sign_num(p: Any, kinds: Mapping[Any, str], flip: Mapping[Any, Any]) -> str | None:
    if p == 0:
        return "zero"
    gens = sorted(p.free_symbols, key=str)
    pos = {s for s, k in kinds.items() if k == "positive"} | {-d for d in flip.values()}
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

    def __init__(self, name: str, title: str, claim: str, variant: str | None = None, *,
                 seed: int = 0, tries: int = 60) -> None:
        self.name, self.title, self.claim, self.variant = name, title, claim, variant
        self.seed, self.tries = seed, tries
        self.fail_fast = variant is not None
        self.steps: list[Step] = []
        self.counterexample: dict[str, Any] | None = None
        self.sketch = Fragment()
        self._t0 = time.perf_counter()

    # ------------------------------------------------------------------ obligations
    def identity(self, description: str, lhs: Any, rhs: Any, domain: Domain, *,
                 show: str | None = None) -> bool:
        """Prove ``lhs = rhs`` identically (scalars or matrices) over ``domain``."""
        if isinstance(lhs, Rat) and isinstance(rhs, Rat):
            if lhs.shape != rhs.shape:
                raise ValueError(f"{description}: shapes differ ({lhs.shape} vs {rhs.shape})")
            bad = [] if lhs.equals(rhs) else [None]
            if bad:
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

    def sign(self, description: str, expr: Any, relation: str, domain: Domain, *, show: str | None = None) -> bool:
        """Prove ``expr relation 0`` (``relation`` one of ``">=", ">", "<=", "<"``) on ``domain``."""
        exprs = _as_list(expr)
        want = {">=": ("positive", "nonnegative"), ">": ("positive",),
                "<=": ("negative", "nonpositive"), "<": ("negative",)}[relation]
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

    def implied_sign(self, description: str, expr: Any, relation: str, domain: Domain,
                     certificate: Callable[[], str | None]) -> bool:
        """Prove ``expr relation 0`` under the side conditions of ``domain`` by an exact certificate.

        ``certificate()`` verifies an identity (e.g. a Positivstellensatz-style decomposition into
        hypotheses times nonnegative multipliers plus sums of squares) with exact arithmetic and
        returns its LaTeX, or ``None``. Without a certificate the prover searches for an exact
        counterexample satisfying every condition of ``domain``.
        """
        detail = certificate()
        if detail is not None:
            return self._record(description, "proved", "certificate", detail)
        ok = {">=": lambda v: v >= 0, ">": lambda v: v > 0, "<=": lambda v: v <= 0, "<": lambda v: v < 0}[relation]

        def refutes(point: Mapping[Any, Any]) -> Any:
            v = _exact_value(expr, point)
            return (v, f"{relation} 0") if v is not None and not ok(v) else None

        return self._refute(description, domain, refutes, "sign", None, None)

    def sum_of_squares(self, description: str, form: Any, variables: Sequence[Any], domain: Domain) -> bool:
        """Prove that a rational quadratic form is ``≥ 0`` by an exact ``Σ d_k ℓ_k²`` decomposition."""
        dec = psd_decomposition(form, variables)
        if dec is not None:
            sos = sum((d * l**2 for d, l in dec), sympy.S.Zero)
            if _numerator_zero(form - sos):
                shown = " + ".join(rf"{latex(d)}\left({latex(l)}\right)^2" for d, l in dec) or "0"
                return self._record(description, "proved", "sum of squares",
                                    rf"$${latex(form)} = {shown}$$" if len(shown) < 400 else "")

        def refutes(point: Mapping[Any, Any]) -> Any:
            v = _exact_value(form, point)
            return (v, ">= 0") if v is not None and v < 0 else None

        return self._refute(description, domain, refutes, "sign", None, sympy.sympify(form).free_symbols)

    def fact(self, description: str, holds: bool, detail: str = "") -> bool:
        """Record an exactly decided finite fact (e.g. an exact evaluation at given numbers)."""
        return self._record(description, "proved" if holds else "failed", "fact", detail)

    # ------------------------------------------------------------------ internals
    def _record(self, description: str, status: str, method: str, detail: str) -> bool:
        self.steps.append(Step(description, status, method, detail))
        if status == "failed" and self.fail_fast:
            raise StopProof(description)
        return status == "proved"

    def guard(self) -> _Guard:
        """Context manager around a proof body: a failure stops the run when ``fail_fast``."""
        return _Guard()

    def _refute(self, description: str, domain: Domain, refutes: Callable, kind: str, show: str | None,
                relevant: set | None = None) -> bool:
        for point in domain.candidates(self.seed + len(self.steps), self.tries):
            if not domain.admits(point):
                continue
            found = refutes(point)
            if found is not None:
                values = {str(s): str(v) for s, v in point.items() if relevant is None or s in relevant}
                self.counterexample = self.counterexample or {
                    "obligation": description, "values": values,
                    "found": [str(x) for x in found], "kind": kind,
                }
                shown = ", ".join(rf"{latex(s)} = {latex(v)}" for s, v in point.items()
                                  if relevant is None or s in relevant)
                detail = rf"Counterexample: ${shown}$ gives ${latex(found[0])}$, not ${_show_target(found[1])}$."
                return self._record(description, "failed", "counterexample", detail)
        return self._record(description, "not settled", "unsettled",
                            show or "")

    # ------------------------------------------------------------------ result
    def finish(self, sketch: Fragment | None = None) -> ProofResult:
        """Aggregate: ``failed`` if any obligation failed, else ``not settled`` if any is, else ``proved``."""
        statuses = {s.status for s in self.steps}
        status = "failed" if "failed" in statuses else "not settled" if "not settled" in statuses or not self.steps \
            else "proved"
        frag = Fragment()
        if sketch is not None:
            frag.extend(sketch)
        frag.extend(self.sketch)
        rows = [[str(k), s.description, _MARK[s.status], tex_escape(s.method)] for k, s in enumerate(self.steps, 1)]
        used = [m for m in METHODS if any(s.method == m for s in self.steps)]
        legend = "; ".join(rf"\emph{{{m}}}: {METHODS[m]}" for m in used)
        frag.text(rf"\textbf{{Machine-checked obligations}} (sympy, exact; {legend}):")
        frag.table(["", "obligation", "status", "how"], rows,
                   r"r>{\raggedright\arraybackslash}p{0.62\linewidth}ll")
        for k, s in enumerate(self.steps, 1):
            if s.detail and (s.status != "proved" or s.method in ("certificate", "sum of squares", "fact")):
                frag.text(f"Obligation {k} ({s.method}): {s.detail}")
        return ProofResult(
            name=self.name, title=self.title, claim=self.claim, status=status,
            latex=frag.render("latex"), steps=tuple(self.steps),
            seconds=time.perf_counter() - self._t0, variant=self.variant,
            counterexample=self.counterexample, markdown=frag.render("markdown"),
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


class Algebra:
    """Exact, fraction-free matrix algebra over ``QQ[symbols]`` (sympy ``DomainMatrix``).

    A :class:`Rat` is ``N / d`` with ``N`` a polynomial matrix and ``d`` a polynomial;
    products and sums never compute a gcd, inverses use the adjugate and determinant, and
    :meth:`Rat.exact` divides by ``d`` exactly when it can. Equality is decided by
    cross-multiplication, so it is exact and fast.

    >>> x, y = sympy.symbols("x y")
    >>> A = Algebra([x, y])
    >>> M = A.mat([[x, 1], [0, y]])
    >>> (M.inv() * M).exact().sym()
    Matrix([
    [1, 0],
    [0, 1]])
    """

    def __init__(self, symbols: Sequence[Any]) -> None:
        self.symbols = list(symbols)
        self.R = sympy.QQ[tuple(self.symbols)]

    def mat(self, rows: Any) -> Rat:
        """A polynomial matrix (denominator 1) from a sympy Matrix or nested lists."""
        M = sympy.Matrix(rows)
        N = DomainMatrix([[self.R.from_sympy(sympy.sympify(e)) for e in M.row(i)] for i in range(M.rows)],
                         M.shape, self.R)
        return Rat(self, N, self.R.one)

    def eye(self, n: int) -> Rat:
        """The identity matrix."""
        return Rat(self, DomainMatrix.eye(n, self.R), self.R.one)

    def apply(self, M: Rat, func: Callable[[Any], Any]) -> Rat | sympy.Matrix:
        """Apply a sympy function entrywise to ``M`` (made exact first), e.g. ``σ`` on a sign piece.

        Returns a :class:`Rat` when the result is polynomial again (``σ`` evaluated on the
        piece), else the sympy Matrix (with the unevaluated atoms).
        """
        out = M.exact().sym().applyfunc(func)
        try:
            return self.mat(out)
        except (sympy.polys.polyerrors.CoercionFailed, sympy.polys.polyerrors.PolynomialError, ValueError):
            return out

    def combine(self, func: Callable[..., Any], *args: Any) -> Rat | Any:
        """``func(*args)`` on :class:`Rat` values; falls back to sympy when an argument is not a Rat."""
        if all(isinstance(a, Rat) for a in args):
            return func(*args)
        return func(*[a.sym() if isinstance(a, Rat) else a for a in args])


def _divides(a: Any, b: Any) -> Any:
    """``b / a`` if the polynomial ``a`` divides ``b`` exactly, else ``None``."""
    if a == a.ring.one:
        return b
    try:
        return b.exquo(a)
    except sympy.polys.polyerrors.ExactQuotientFailed:
        return None


class Rat:
    """A matrix ``N / d`` of rational functions (see :class:`Algebra`)."""

    __slots__ = ("N", "alg", "d")

    def __init__(self, alg: Algebra, N: DomainMatrix, d: Any) -> None:
        self.alg, self.N, self.d = alg, N, d

    @property
    def shape(self) -> tuple[int, int]:
        """Matrix shape."""
        return self.N.shape

    def _coerce(self, other: Any) -> Rat:
        return other if isinstance(other, Rat) else self.alg.mat(other)

    def __add__(self, other: Any) -> Rat:
        o = self._coerce(other)
        if self.d == o.d:
            return Rat(self.alg, self.N + o.N, self.d)
        q = _divides(self.d, o.d)          # o.d = q · self.d
        if q is not None:
            return Rat(self.alg, self.N * q + o.N, o.d)
        q = _divides(o.d, self.d)
        if q is not None:
            return Rat(self.alg, self.N + o.N * q, self.d)
        return Rat(self.alg, self.N * o.d + o.N * self.d, self.d * o.d)

    def __neg__(self) -> Rat:
        return Rat(self.alg, -self.N, self.d)

    def __sub__(self, other: Any) -> Rat:
        return self + (-self._coerce(other))

    def __mul__(self, other: Any) -> Rat:
        if isinstance(other, (int, sympy.Expr)) and not isinstance(other, sympy.MatrixBase):
            return Rat(self.alg, self.N * self.alg.R.from_sympy(sympy.sympify(other)), self.d)
        o = self._coerce(other)
        return Rat(self.alg, self.N * o.N, self.d * o.d)

    def __rmul__(self, other: Any) -> Rat:
        return self * other

    def inv(self) -> Rat:
        """``(N/d)^{-1} = d · adj(N) / det(N)``."""
        adj, det = self.N.adj_det()
        return Rat(self.alg, adj * self.d, det)

    def trace(self) -> Rat:
        """The trace, as a ``1 x 1`` Rat."""
        n = self.N.shape[0]
        tr = sum((self.N[i, i].element for i in range(n)), self.alg.R.zero)
        return Rat(self.alg, DomainMatrix([[tr]], (1, 1), self.alg.R), self.d)

    def T(self) -> Rat:
        """Transpose."""
        return Rat(self.alg, self.N.transpose(), self.d)

    def det(self) -> Any:
        """Determinant as a sympy expression."""
        n = self.N.shape[0]
        return self.alg.R.to_sympy(self.N.det()) / self.alg.R.to_sympy(self.d) ** n

    def exact(self) -> Rat:
        """Divide numerator and denominator by ``d`` when ``d`` divides every entry."""
        if self.d == self.alg.R.one:
            return self
        rows = self.N.to_list()
        try:
            new = [[e.exquo(self.d) for e in r] for r in rows]
        except sympy.polys.polyerrors.ExactQuotientFailed:
            return self
        return Rat(self.alg, DomainMatrix(new, self.N.shape, self.alg.R), self.alg.R.one)

    def equals(self, other: Rat) -> bool:
        """Exact equality by cross-multiplication."""
        return (self - other).N.is_zero_matrix

    def sym(self) -> sympy.Matrix:
        """As a sympy Matrix (entries ``N_ij / d``)."""
        d = self.alg.R.to_sympy(self.d)
        return self.N.to_Matrix() / d if d != 1 else self.N.to_Matrix()


def symbolic_matrix(name: str, m: int, n: int) -> sympy.Matrix:
    """An ``m x n`` matrix of real symbols ``name_ij`` (1-based).

    >>> symbolic_matrix("a", 1, 2)
    Matrix([[a_11, a_12]])
    """
    return sympy.Matrix(m, n, lambda i, j: sympy.Symbol(f"{name}_{i + 1}{j + 1}", real=True))


def symbolic_vector(name: str, m: int) -> sympy.Matrix:
    """An ``m x 1`` column of real symbols ``name_i`` (1-based).

    >>> symbolic_vector("p", 2).T
    Matrix([[p_1, p_2]])
    """
    return sympy.Matrix(m, 1, lambda i, j: sympy.Symbol(f"{name}_{i + 1}", real=True))


def run_proof(
    name: str,
    title: str,
    claim: str,
    variant: str | None,
    obligations: Callable[["Prover", str | None], None],
    sketch: Callable[[], Fragment],
) -> ProofResult:
    """The protocol every proof script follows: collect ``obligations`` under a guard (an
    unexpected exception becomes "not settled"), then attach the LaTeX ``sketch``."""
    P = Prover(name, title, claim, variant)
    with P.guard():
        obligations(P, variant)
    return P.finish(sketch())
