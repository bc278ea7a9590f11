r"""Exact matrix algebra over polynomial rings, for the proof scripts of :mod:`symtrunc.proofs`.

:class:`Algebra` works with matrices of rational functions ``N / d`` (:class:`Rat`: a
polynomial matrix ``N`` over ``QQ[symbols]`` and one polynomial denominator ``d``), without
gcd computations, so that the symbolic products, inverses and traces of the proofs stay fast
and exact; :func:`symbolic_matrix` and :func:`symbolic_vector` make matrices of fresh real
symbols.

Examples
--------
>>> x = sympy.Symbol("x")
>>> A = Algebra([x])
>>> M = A.mat([[x, 1], [0, 1]])
>>> (M * M.inv()).equals(A.eye(2)), M.det()
(True, x)
>>> symbolic_matrix("w", 2, 1).T
Matrix([[w_11, w_21]])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sympy
from sympy.polys.matrices import DomainMatrix

__all__ = ["Algebra", "Rat", "symbolic_matrix", "symbolic_vector"]


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
        N = DomainMatrix(
            [[self.R.from_sympy(sympy.sympify(e)) for e in M.row(i)] for i in range(M.rows)], M.shape, self.R
        )
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
        q = _divides(self.d, o.d)  # o.d = q · self.d
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
