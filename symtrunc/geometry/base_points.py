"""Admissible base points of one SLS step (Definition 5.1 of arXiv 2405.07098), exactly.

At a step the class ``X`` must lie strictly on the negative side of a hyperplane through
``p(t) = t x̄ + (1 - t) m`` (``m`` the class mean) and the rest ``R`` (later classes, earlier
base points; the barycenter ``x̄`` is always added to ``R``) strictly on the positive side.

* :func:`separate_through` decides this for one ``t``: a separator through ``p(t)``, or convex
  weights with ``Σ λ_i (x_i - p) + Σ μ_k (p - r_k) = 0`` (Gordan), so no hyperplane through
  ``p(t)`` separates.
* :func:`sup_t` computes ``τ = sup{t : admissible}`` exactly, with a *shadow certificate*:
  weights ``μ, λ >= 0``, ``Σ μ - Σ λ = 1``, ``Σ μ_k r_k - Σ λ_i x_i = p(τ)``. It says that
  ``p(τ)`` lies in ``conv R + cone(conv R - conv X)``, a convex set that contains ``x̄``, hence
  the whole segment ``[p(τ), x̄]``; a hyperplane through a point of that set with ``R`` strictly
  positive would make the point strictly positive too, a contradiction. So every admissible
  ``t`` is ``< τ``. Conversely ``τ`` is the exact minimum of the linear program ``min t`` over
  such weights, so admissible ``t`` come arbitrarily close to ``τ`` (when ``X`` and ``R`` are
  strictly separable at all).

Examples
--------
>>> from symtrunc.exact.matrix import qmatrix
>>> X, R = qmatrix([[0, 0], [0, 2]]), qmatrix([[4, 0], [4, 2]])
>>> m, xbar = qmatrix([[0], [1]]), qmatrix([[2], [1]])
>>> tau, shadow = sup_t(X, R, m, xbar)
>>> tau, shadow
(1, None)
>>> R2 = qmatrix([[1, 0], [1, 2]])   # a later class between the class and the barycenter
>>> tau, shadow = sup_t(X, R2, m, xbar)
>>> tau, shadow.check(X, R2, m, xbar)
(1/2, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import flint
import numpy as np

from symtrunc.errors import UncertifiedError
from symtrunc.exact.lp import OverlapCertificate, Separator, strictly_separate

__all__ = ["ShadowCertificate", "point_on_segment", "separate_through", "sup_t"]


def point_on_segment(t: flint.fmpq, m: flint.fmpq_mat, xbar: flint.fmpq_mat) -> flint.fmpq_mat:
    """``t x̄ + (1 - t) m``.

    >>> from symtrunc.exact.matrix import qmatrix
    >>> point_on_segment(flint.fmpq(1, 4), qmatrix([[0], [4]]), qmatrix([[4], [0]])).transpose()
    [1, 3]
    """
    return t * xbar + (1 - t) * m


def _with_barycenter(R: flint.fmpq_mat, xbar: flint.fmpq_mat) -> flint.fmpq_mat:
    rows = R.tolist() + [xbar.entries()]
    return flint.fmpq_mat(len(rows), xbar.nrows(), [v for r in rows for v in r])


def separate_through(X: flint.fmpq_mat, R: flint.fmpq_mat, p: flint.fmpq_mat) -> Separator | OverlapCertificate:
    """A hyperplane through ``p`` with ``X`` strictly below and ``R`` strictly above, or a proof
    that none exists.

    Returns a :class:`Separator` ``(h, ⟨h, p⟩)``, or the :class:`OverlapCertificate` of the
    homogeneous problem: rows ``x - p`` (``x`` in ``X``) and ``p - r`` (``r`` in ``R``) have
    ``0`` in their convex hull (its ``first_weights`` index ``X`` rows first, then ``R`` rows).

    >>> from symtrunc.exact.matrix import qmatrix
    >>> s = separate_through(qmatrix([[0, 0]]), qmatrix([[2, 0]]), qmatrix([[1], [0]]))
    >>> s.check(qmatrix([[0, 0]]), qmatrix([[2, 0]])), s.offset
    (True, 1)
    >>> type(separate_through(qmatrix([[0, 0]]), qmatrix([[2, 0]]), qmatrix([[3], [0]]))).__name__
    'OverlapCertificate'
    """
    M = p.nrows()
    pe = p.entries()
    rows = [[a - b for a, b in zip(x, pe)] for x in X.tolist()]
    rows += [[b - a for a, b in zip(r, pe)] for r in R.tolist()]
    Z = flint.fmpq_mat(len(rows), M, [v for r in rows for v in r])
    res = strictly_separate(Z, flint.fmpq_mat(1, M, [0] * M))
    if isinstance(res, OverlapCertificate):
        return res
    h = res.normal
    sep = Separator(h, (h.transpose() * p)[0, 0])
    if not sep.check(X, R):  # pragma: no cover - guarded by strictly_separate's exact check
        raise UncertifiedError("homogeneous separator failed its exact check (please report this)")
    return sep


@dataclass(frozen=True)
class ShadowCertificate:
    """``p(τ) ∈ conv R' + cone(conv R' - conv X)`` with ``R' = R ∪ {x̄}``: every admissible
    ``t`` of the step is ``< τ`` (see the module docstring).

    Attributes
    ----------
    tau : flint.fmpq
    rest_weights : Mapping of int to fmpq
        ``μ_k >= 0`` on the rows of ``R``; index ``len(R)`` is ``x̄``.
    class_weights : Mapping of int to fmpq
        ``λ_i >= 0`` on the rows of ``X``.
    """

    tau: flint.fmpq
    rest_weights: Mapping[int, flint.fmpq]
    class_weights: Mapping[int, flint.fmpq]

    def __post_init__(self) -> None:
        object.__setattr__(self, "rest_weights", MappingProxyType(dict(self.rest_weights)))
        object.__setattr__(self, "class_weights", MappingProxyType(dict(self.class_weights)))

    def check(self, X: flint.fmpq_mat, R: flint.fmpq_mat, m: flint.fmpq_mat, xbar: flint.fmpq_mat) -> bool:
        """Exact re-check of ``Σ μ - Σ λ = 1`` and ``Σ μ_k r_k - Σ λ_i x_i = p(τ)``, weights ``>= 0``."""
        Rb = _with_barycenter(R, xbar)
        mu, lam = self.rest_weights, self.class_weights
        if any(w < 0 for w in list(mu.values()) + list(lam.values())):
            return False
        if any(not 0 <= k < Rb.nrows() for k in mu) or any(not 0 <= i < X.nrows() for i in lam):
            return False
        if sum(mu.values(), flint.fmpq(0)) - sum(lam.values(), flint.fmpq(0)) != 1:
            return False
        M = xbar.nrows()
        combo = [
            sum((w * Rb[k, c] for k, w in mu.items()), flint.fmpq(0))
            - sum((w * X[i, c] for i, w in lam.items()), flint.fmpq(0))
            for c in range(M)
        ]
        return combo == point_on_segment(self.tau, m, xbar).entries()


def _lp_system(X: flint.fmpq_mat, Rb: flint.fmpq_mat, m: flint.fmpq_mat, xbar: flint.fmpq_mat):
    """Columns ``(r_k, 1)``, ``(-x_i, -1)``, ``(m - x̄, 0)`` (the last is ``t``); right side ``(m, 1)``."""
    M = m.nrows()
    d = [a - b for a, b in zip(m.entries(), xbar.entries())]
    cols = [list(r) + [flint.fmpq(1)] for r in Rb.tolist()]
    cols += [[-v for v in x] + [flint.fmpq(-1)] for x in X.tolist()]
    cols.append(d + [flint.fmpq(0)])
    A = flint.fmpq_mat(M + 1, len(cols), [cols[j][r] for r in range(M + 1) for j in range(len(cols))])
    b = flint.fmpq_mat(M + 1, 1, m.entries() + [flint.fmpq(1)])
    return A, b


def _float_support(A: flint.fmpq_mat, b: flint.fmpq_mat) -> list[int]:
    from scipy.optimize import linprog  # lazy: SciPy start-up cost, only on the exact-decision path

    Af = np.array([float(v) for v in A.entries()]).reshape(A.nrows(), A.ncols())
    scale = max(float(np.max(np.abs(Af))), 1.0)
    cost = np.zeros(A.ncols())
    cost[-1] = 1.0
    res = linprog(
        cost, A_eq=Af / scale, b_eq=np.array([float(v) for v in b.entries()]) / scale, bounds=(0, None), method="highs"
    )
    if res.status != 0:
        return []
    return [int(j) for j in np.argsort(-res.x) if res.x[j] > 1e-12]


def _complete_basis(A: flint.fmpq_mat, start: list[int]) -> list[int] | None:
    """``A.nrows()`` linearly independent columns, greedily from ``start`` then all others."""
    m = A.nrows()
    basis: list[int] = []
    for j in list(start) + [j for j in range(A.ncols()) if j not in set(start)]:
        if len(basis) == m:
            break
        cand = basis + [j]
        C = flint.fmpq_mat(m, len(cand), [A[r, c] for r in range(m) for c in cand])
        if C.rank() == len(cand):
            basis = cand
    return basis if len(basis) == m else None


def _exact_min_t(A: flint.fmpq_mat, b: flint.fmpq_mat) -> dict[int, flint.fmpq]:
    """Exact optimum of ``min t`` (last column) over ``A w = b, w >= 0``: a basic optimal solution.

    Starts from the float optimum's support; primal and dual feasibility are checked exactly.
    If either fails, a Bland's-rule simplex (two phases with artificial columns) decides exactly.
    """
    A, b = _independent_rows(A, b)
    m, n = A.nrows(), A.ncols()
    cost = [flint.fmpq(0)] * (n - 1) + [flint.fmpq(1)]
    basis = _complete_basis(A, _float_support(A, b))
    if basis is not None:
        sol = _check_basis(A, b, cost, basis)
        if sol is not None:
            return sol
        B = flint.fmpq_mat(m, m, [A[r, c] for r in range(m) for c in basis])
        if B.rank() == m and all(v >= 0 for v in B.solve(b).entries()):  # primal feasible: phase 2 only
            sol = _check_basis(A, b, cost, _bland(A, b, cost, basis, n))
            if sol is not None:
                return sol
    # two-phase Bland simplex: rows with b_r < 0 are negated, artificials j = n + r
    sign = [(-1 if b[r, 0] < 0 else 1) for r in range(m)]
    A2 = flint.fmpq_mat(
        m, n + m, [sign[r] * A[r, c] if c < n else flint.fmpq(int(c - n == r)) for r in range(m) for c in range(n + m)]
    )
    b2 = flint.fmpq_mat(m, 1, [sign[r] * b[r, 0] for r in range(m)])
    basis = list(range(n, n + m))
    basis = _bland(A2, b2, [flint.fmpq(0)] * n + [flint.fmpq(1)] * m, basis, n + m)
    x = _basic_solution(A2, b2, basis)
    if any(x[j] != 0 for j in x if j >= n):  # pragma: no cover - the system is always feasible
        raise UncertifiedError("shadow LP infeasible (please report this)")
    # drive remaining (zero) artificials out of the basis where possible, then phase 2
    for r, j in enumerate(list(basis)):
        if j >= n:
            for k in range(n):
                if k not in basis:
                    trial = basis[:r] + [k] + basis[r + 1 :]
                    C = flint.fmpq_mat(m, m, [A2[rr, c] for rr in range(m) for c in trial])
                    if C.rank() == m:
                        basis = trial
                        break
    basis = _bland(A2, b2, cost + [flint.fmpq(0)] * m, basis, n)
    sol = _check_basis(A, b, cost, basis)
    if sol is None:  # pragma: no cover
        raise UncertifiedError("exact simplex ended without an optimal basis (please report this)")
    return sol


def _independent_rows(A: flint.fmpq_mat, b: flint.fmpq_mat) -> tuple[flint.fmpq_mat, flint.fmpq_mat]:
    """Drop rows of the consistent system ``A w = b`` that depend on earlier ones (data in an
    affine hyperplane make a coordinate row repeat the row ``Σ μ - Σ λ = 1``)."""
    R, _, rank = A.numer_denom()[0].transpose().rref()  # pivot columns = independent rows of A
    keep = [next(c for c in range(A.nrows()) if R[i, c] != 0) for i in range(rank)]
    rows = A.tolist()
    if len(keep) == A.nrows():
        return A, b
    return (
        flint.fmpq_mat(len(keep), A.ncols(), [v for i in keep for v in rows[i]]),
        flint.fmpq_mat(len(keep), 1, [b[i, 0] for i in keep]),
    )


def _basic_solution(A: flint.fmpq_mat, b: flint.fmpq_mat, basis: list[int]) -> dict[int, flint.fmpq]:
    m = A.nrows()
    B = flint.fmpq_mat(m, m, [A[r, c] for r in range(m) for c in basis])
    xb = B.solve(b).entries()
    return dict(zip(basis, xb))


def _check_basis(A, b, cost, basis) -> dict[int, flint.fmpq] | None:
    m, n = A.nrows(), A.ncols()
    if any(j >= n for j in basis):
        return None
    B = flint.fmpq_mat(m, m, [A[r, c] for r in range(m) for c in basis])
    if B.rank() < m:
        return None
    x = dict(zip(basis, B.solve(b).entries()))
    if any(v < 0 for v in x.values()):
        return None
    y = B.transpose().solve(flint.fmpq_mat(m, 1, [cost[j] for j in basis]))
    reduced = (y.transpose() * A).entries()
    if any(cost[j] - reduced[j] < 0 for j in range(n)):
        return None
    return {j: v for j, v in x.items() if v != 0}


def _bland(A, b, cost, basis, allowed):
    """Primal simplex with Bland's rule from a feasible basis; columns ``>= allowed`` never enter."""
    m = A.nrows()
    basis, stalled = list(basis), 0
    while True:
        B = flint.fmpq_mat(m, m, [A[r, c] for r in range(m) for c in basis])
        x = B.solve(b).entries()
        y = B.transpose().solve(flint.fmpq_mat(m, 1, [cost[j] for j in basis]))
        reduced = (y.transpose() * A).entries()
        inb = set(basis)
        cand = [j for j in range(allowed) if j not in inb and cost[j] - reduced[j] < 0]
        if not cand:
            return basis
        # Dantzig's rule until degenerate pivots pile up, then Bland's rule (no cycling)
        entering = cand[0] if stalled > 50 else min(cand, key=lambda j: cost[j] - reduced[j])
        u = B.solve(flint.fmpq_mat(m, 1, [A[r, entering] for r in range(m)])).entries()
        ratios = [(x[r] / u[r], basis[r], r) for r in range(m) if u[r] > 0]
        if not ratios:  # pragma: no cover - t >= 0 bounds the objective
            raise UncertifiedError("unbounded shadow LP (please report this)")
        step = min(ratios)
        stalled = stalled + 1 if step[0] == 0 else 0
        basis[step[2]] = entering


def sup_t(
    X: flint.fmpq_mat, R: flint.fmpq_mat, m: flint.fmpq_mat, xbar: flint.fmpq_mat
) -> tuple[flint.fmpq, ShadowCertificate | None]:
    """``τ = sup`` of the admissible ``t`` (exact), and its :class:`ShadowCertificate`
    (``None`` when ``τ = 1``: then ``t < 1`` is the only bound, from Definition 5.1).

    ``X`` must be strictly separable from ``R ∪ {x̄}`` for ``τ`` to be attained as a supremum of
    a nonempty set; the value is computed regardless.
    """
    Rb = _with_barycenter(R, xbar)
    A, b = _lp_system(X, Rb, m, xbar)
    sol = _exact_min_t(A, b)
    nr = Rb.nrows()
    tau = sol.get(A.ncols() - 1, flint.fmpq(0))
    if tau >= 1:
        return flint.fmpq(1), None
    mu = {j: v for j, v in sol.items() if j < nr}
    lam = {j - nr: v for j, v in sol.items() if nr <= j < A.ncols() - 1}
    cert = ShadowCertificate(tau, mu, lam)
    if not cert.check(X, R, m, xbar):  # pragma: no cover
        raise UncertifiedError("shadow certificate failed its exact check (please report this)")
    return tau, cert
