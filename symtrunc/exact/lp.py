"""Strict linear separation of two finite point sets, with exact certificates both ways.

A float LP (HiGHS through SciPy) only *proposes*; every answer is checked exactly:

* :class:`Separator` ``(h, c)`` with ``⟨h, a⟩ < c < ⟨h, b⟩`` for every ``a`` in the first set and
  every ``b`` in the second, verified in rational arithmetic;
* :class:`OverlapCertificate`: convex weights ``λ, μ`` with ``Σ λ_i a_i = Σ μ_k b_k``, proving
  that the convex hulls meet, so no strict separation exists (Farkas / Gordan alternative).

Examples
--------
>>> from symtrunc.exact.matrix import qmatrix
>>> A = qmatrix([[2, 0], [3, 0], [2, 1], [3, 1]])
>>> B = qmatrix([[0, 2], [0, 3], [1, 2], [1, 3]])
>>> sep = strictly_separate(A, B)
>>> sep.check(A, B)
True
>>> cert = strictly_separate(qmatrix([[0, 0], [2, 2]]), qmatrix([[0, 2], [2, 0]]))
>>> cert.point.transpose(), cert.check(qmatrix([[0, 0], [2, 2]]), qmatrix([[0, 2], [2, 0]]))
([1, 1], True)
"""

from __future__ import annotations

from dataclasses import dataclass

import flint
import numpy as np

from symtrunc.errors import UncertifiedError
from symtrunc.exact.matrix import to_float

__all__ = ["Separator", "OverlapCertificate", "strictly_separate", "simplest_between"]

_EXACT_LP_LIMIT = 400  # points; above this the exact simplex fallback is too slow


@dataclass(frozen=True)
class Separator:
    """A strictly separating hyperplane: ``⟨h, a⟩ < c`` on the first set, ``> c`` on the second.

    Attributes
    ----------
    normal : flint.fmpq_mat
        ``h`` as an ``(M, 1)`` column (pointing towards the second set).
    offset : flint.fmpq
        ``c``.
    """

    normal: flint.fmpq_mat
    offset: flint.fmpq

    def values(self, P: flint.fmpq_mat) -> list[flint.fmpq]:
        """``⟨h, x⟩ - c`` for each row ``x`` of ``P``."""
        return [v - self.offset for v in (P * self.normal).entries()]

    def check(self, A: flint.fmpq_mat, B: flint.fmpq_mat) -> bool:
        """Exact re-check of the strict separation."""
        return all(v < 0 for v in self.values(A)) and all(v > 0 for v in self.values(B))


@dataclass(frozen=True)
class OverlapCertificate:
    """Convex weights proving ``conv(A) ∩ conv(B) ≠ ∅`` (so ``A`` and ``B`` are not strictly separable).

    Attributes
    ----------
    first_weights, second_weights : dict of int to fmpq
        Nonnegative weights summing to 1 on rows of ``A`` and ``B``.
    point : flint.fmpq_mat
        The common point ``Σ λ_i a_i = Σ μ_k b_k`` as a column.
    """

    first_weights: dict[int, flint.fmpq]
    second_weights: dict[int, flint.fmpq]
    point: flint.fmpq_mat

    def check(self, A: flint.fmpq_mat, B: flint.fmpq_mat) -> bool:
        """Exact re-check: weights nonnegative, summing to 1, both combinations equal ``point``."""
        for weights, P in ((self.first_weights, A), (self.second_weights, B)):
            if any(w < 0 for w in weights.values()) or sum(weights.values(), flint.fmpq(0)) != 1:
                return False
            M = P.ncols()
            combo = [sum((w * P[i, k] for i, w in weights.items()), flint.fmpq(0)) for k in range(M)]
            if combo != self.point.entries():
                return False
        return True


def simplest_between(lo: flint.fmpq, hi: flint.fmpq) -> flint.fmpq:
    """The rational with the smallest denominator strictly between ``lo < hi`` (Stern–Brocot).

    >>> simplest_between(flint.fmpq(1, 3), flint.fmpq(1, 2)), simplest_between(flint.fmpq(-7, 2), flint.fmpq(5))
    (2/5, 0)
    """
    if not lo < hi:
        raise ValueError("need lo < hi")
    if lo < 0 < hi:
        return flint.fmpq(0)
    if hi <= 0:
        return -simplest_between(-hi, -lo)
    fl = lo.p // lo.q
    if fl + 1 < hi:
        return flint.fmpq(fl + 1)
    if lo == fl:  # (fl, hi) with hi <= fl + 1: the simplest is fl + 1/k
        return fl + flint.fmpq(1, (1 / (hi - fl)).p // (1 / (hi - fl)).q + 1)
    return fl + 1 / simplest_between(1 / (hi - fl), 1 / (lo - fl))


def _float_margin_lp(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray | None, float]:
    """Maximize the margin ``t`` with ``|h|_inf <= 1``: ``A h - c <= -t``, ``B h - c >= t``."""
    from scipy.optimize import linprog

    M = A.shape[1]
    # variables: h (M), c, t
    rows_a = np.hstack([A, -np.ones((A.shape[0], 1)), np.ones((A.shape[0], 1))])
    rows_b = np.hstack([-B, np.ones((B.shape[0], 1)), np.ones((B.shape[0], 1))])
    A_ub = np.vstack([rows_a, rows_b])
    b_ub = np.zeros(A_ub.shape[0])
    cost = np.zeros(M + 2)
    cost[-1] = -1.0
    bounds = [(-1.0, 1.0)] * M + [(None, None), (0.0, 1.0)]
    res = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0:
        return None, 0.0
    return res.x[:M], float(res.x[-1])


def _round_normal(h: np.ndarray, bits: int) -> flint.fmpq_mat | None:
    scale = float(np.max(np.abs(h)))
    if scale == 0.0:
        return None
    ints = np.rint(h / scale * 2.0**bits).astype(object)
    if all(v == 0 for v in ints):
        return None
    from math import gcd

    g = 0
    for v in ints:
        g = gcd(g, int(v))
    return flint.fmpq_mat(len(ints), 1, [int(v) // g for v in ints])


def _exact_separator(normal: flint.fmpq_mat, A: flint.fmpq_mat, B: flint.fmpq_mat) -> Separator | None:
    va = (A * normal).entries()
    vb = (B * normal).entries()
    hi_a, lo_b = max(va), min(vb)
    if hi_a < lo_b:
        return Separator(normal, simplest_between(hi_a, lo_b))
    return None


def strictly_separate(
    A: flint.fmpq_mat,
    B: flint.fmpq_mat,
    *,
    floats: tuple[np.ndarray, np.ndarray] | None = None,
) -> Separator | OverlapCertificate:
    """Find an exact strict separator of the rows of ``A`` from the rows of ``B``, or an exact
    certificate that none exists.

    Parameters
    ----------
    A, B : flint.fmpq_mat
        Point sets as rows, shapes ``(n_a, M)`` and ``(n_b, M)``.
    floats : pair of numpy arrays, optional
        Float copies of ``A`` and ``B`` for the LP proposal (computed when omitted).

    Returns
    -------
    Separator or OverlapCertificate
        Both are verified exactly before they are returned.

    Raises
    ------
    UncertifiedError
        If the float LP's answer could not be turned into an exact certificate either way
        (only for huge, numerically degenerate instances).
    """
    Af, Bf = floats if floats is not None else (to_float(A), to_float(B))
    h, t = _float_margin_lp(Af, Bf)
    scale = max(1.0, float(np.max(np.abs(np.vstack([Af, Bf])))))
    if h is not None and t > 1e-12 * scale:
        for bits in (4, 8, 12, 16, 24, 40, 52):
            normal = _round_normal(h, bits)
            if normal is not None:
                sep = _exact_separator(normal, A, B)
                if sep is not None:
                    return sep
    cert = _overlap_certificate(A, B, Af, Bf)
    if cert is not None:
        return cert
    sep = _exact_lp_separator(A, B)
    if sep is not None:
        return sep
    raise UncertifiedError(
        "could not decide strict separability exactly (float LP inconclusive and the problem is "
        "too large for the exact simplex fallback)"
    )


def _overlap_certificate(
    A: flint.fmpq_mat, B: flint.fmpq_mat, Af: np.ndarray, Bf: np.ndarray
) -> OverlapCertificate | None:
    from scipy.optimize import linprog

    na, nb, M = Af.shape[0], Bf.shape[0], Af.shape[1]
    A_eq = np.zeros((M + 2, na + nb))
    A_eq[:M, :na] = Af.T
    A_eq[:M, na:] = -Bf.T
    A_eq[M, :na] = 1.0
    A_eq[M + 1, na:] = 1.0
    b_eq = np.zeros(M + 2)
    b_eq[M] = b_eq[M + 1] = 1.0
    res = linprog(np.zeros(na + nb), A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if res.status != 0:
        return None
    w = res.x
    order = np.argsort(-w)
    support = sorted(int(i) for i in order[: M + 2] if w[i] > 1e-12)
    cert = _solve_on_support(A, B, support)
    if cert is None and na + nb <= _EXACT_LP_LIMIT:
        cert = _exact_lp_certificate(A, B, list(range(na + nb)))
    elif cert is None:
        candidates = sorted(int(i) for i in order[: 4 * (M + 2)])
        cert = _exact_lp_certificate(A, B, candidates)
    return cert


def _columns(A: flint.fmpq_mat, B: flint.fmpq_mat, idx: list[int]) -> list[list[flint.fmpq]]:
    na, M = A.nrows(), A.ncols()
    cols = []
    for i in idx:
        if i < na:
            cols.append([A[i, k] for k in range(M)] + [flint.fmpq(1), flint.fmpq(0)])
        else:
            cols.append([-B[i - na, k] for k in range(M)] + [flint.fmpq(0), flint.fmpq(1)])
    return cols


def _make_certificate(A, B, idx, weights) -> OverlapCertificate | None:
    na, M = A.nrows(), A.ncols()
    first = {i: w for i, w in zip(idx, weights) if i < na and w != 0}
    second = {i - na: w for i, w in zip(idx, weights) if i >= na and w != 0}
    if not first or not second:
        return None
    point = flint.fmpq_mat(
        M, 1, [sum((w * A[i, k] for i, w in first.items()), flint.fmpq(0)) for k in range(M)]
    )
    cert = OverlapCertificate(first, second, point)
    return cert if cert.check(A, B) else None


def _solve_on_support(A, B, support: list[int]) -> OverlapCertificate | None:
    if not support:
        return None
    M = A.ncols()
    cols = _columns(A, B, support)
    k = len(support)
    aug = flint.fmpq_mat(M + 2, k + 1, [
        (cols[j][r] if j < k else (1 if r >= M else 0)) for r in range(M + 2) for j in range(k + 1)
    ])
    R, rank = aug.rref()
    # read off one solution with free variables set to zero
    sol = [flint.fmpq(0)] * k
    for r in range(rank):
        piv = next(j for j in range(k + 1) if R[r, j] != 0)
        if piv == k:
            return None  # inconsistent
        sol[piv] = R[r, k] / R[r, piv]
    if any(v < 0 for v in sol):
        return None
    return _make_certificate(A, B, support, sol)


def _from_sympy(v) -> flint.fmpq:
    """An exact sympy number (``linprog`` may also return plain ints) as ``fmpq``."""
    import sympy

    r = sympy.Rational(v)
    return flint.fmpq(int(r.p), int(r.q))


def _exact_lp_certificate(A, B, idx: list[int]) -> OverlapCertificate | None:
    import sympy
    from sympy.solvers.simplex import InfeasibleLPError, linprog

    M = A.ncols()
    cols = _columns(A, B, idx)
    A_eq = sympy.Matrix(M + 2, len(idx), lambda r, j: sympy.Rational(int(cols[j][r].p), int(cols[j][r].q)))
    b_eq = sympy.Matrix([0] * M + [1, 1])
    try:
        _, x = linprog(sympy.Matrix([0] * len(idx)).T, A_eq=A_eq, b_eq=b_eq)
    except InfeasibleLPError:
        return None
    weights = [_from_sympy(v) for v in x]
    return _make_certificate(A, B, idx, weights)


def _exact_lp_separator(A: flint.fmpq_mat, B: flint.fmpq_mat) -> Separator | None:
    """Exact simplex on ``A h - c <= -1``, ``B h - c >= 1`` (small instances only)."""
    if A.nrows() + B.nrows() > _EXACT_LP_LIMIT:
        return None
    import sympy
    from sympy.solvers.simplex import InfeasibleLPError, linprog

    M = A.ncols()

    def q(v):
        return sympy.Rational(int(v.p), int(v.q))

    rows = [[q(A[i, k]) for k in range(M)] + [-1] for i in range(A.nrows())]
    rows += [[-q(B[i, k]) for k in range(M)] + [1] for i in range(B.nrows())]
    try:
        _, x = linprog(
            sympy.Matrix([0] * (M + 1)).T,
            A=sympy.Matrix(rows),
            b=sympy.Matrix([-1] * len(rows)),
            bounds=(None, None),
        )
    except InfeasibleLPError:
        return None
    normal = flint.fmpq_mat(M, 1, [_from_sympy(v) for v in x[:M]])
    return _exact_separator(normal, A, B)
