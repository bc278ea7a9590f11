"""Strict linear separation of two finite point sets, with exact certificates both ways.

A float LP (HiGHS through SciPy) only *proposes*; when its proposal fails, an exact phase-1
simplex in python-flint rationals decides. Every answer is checked exactly:

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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import cast

import flint
import numpy as np

from symtrunc.errors import UncertifiedError
from symtrunc.exact.matrix import frozen
from symtrunc.exact.row_sets import RowSet

__all__ = [
    "Separator",
    "OverlapCertificate",
    "strictly_separate",
    "simplest_between",
    "float_exponent",
    "scaled_floats",
    "separate_rows",
    "WORKING_SET_ROWS",
]


@dataclass(frozen=True)
class Separator:
    """A strictly separating hyperplane: ``⟨h, a⟩ < c`` on the first set, ``> c`` on the second.

    Attributes
    ----------
    normal : flint.fmpq_mat
        ``h`` as an ``(M, 1)`` column (pointing towards the second set); read-only.
    offset : flint.fmpq
        ``c``.
    """

    normal: flint.fmpq_mat
    offset: flint.fmpq

    def __post_init__(self) -> None:
        object.__setattr__(self, "normal", frozen(self.normal))

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
    first_weights, second_weights : Mapping of int to fmpq
        Nonnegative weights summing to 1 on rows of ``A`` and ``B`` (read-only mappings).
    point : flint.fmpq_mat
        The common point ``Σ λ_i a_i = Σ μ_k b_k`` as a column (read-only).
    """

    first_weights: Mapping[int, flint.fmpq]
    second_weights: Mapping[int, flint.fmpq]
    point: flint.fmpq_mat

    def __post_init__(self) -> None:
        object.__setattr__(self, "first_weights", MappingProxyType(dict(self.first_weights)))
        object.__setattr__(self, "second_weights", MappingProxyType(dict(self.second_weights)))
        object.__setattr__(self, "point", frozen(self.point))

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


#: :func:`float_exponent` puts the largest entry near ``2**FLOAT_MAGNITUDE_BITS``: far from
#: overflow, and large enough that the float LP solver's absolute tolerances (about 1e-7) stay far
#: below the margins of real data (data scaled down to magnitude 1 made HiGHS's margins noise, so
#: every rounded normal failed and the exact fallback returned normals of hundreds of bits)
FLOAT_MAGNITUDE_BITS = 12


def float_exponent(*matrices: flint.fmpq_mat) -> int:
    """An exponent ``k`` with every entry ``|v| < 2**(k + 1 + FLOAT_MAGNITUDE_BITS)``: ``v / 2**k``
    fits a float and the largest entry is about ``2**FLOAT_MAGNITUDE_BITS``.

    >>> float_exponent(flint.fmpq_mat(1, 2, [flint.fmpq(10) ** 400, 1]))
    1316
    >>> float_exponent(flint.fmpq_mat(1, 1, [flint.fmpq(1, 8)]), flint.fmpq_mat(0, 1))
    -15
    """
    k = None
    for P in matrices:
        for v in P.entries():
            if v != 0:
                e = v.p.bit_length() - v.q.bit_length()
                k = e if k is None or e > k else k
    return 0 if k is None else k - FLOAT_MAGNITUDE_BITS


def scaled_floats(P: flint.fmpq_mat, k: int) -> np.ndarray:
    """``P / 2**k`` rounded to float64 (a proposal only: entries far below ``2**k`` flush to 0).

    >>> scaled_floats(flint.fmpq_mat(1, 2, [flint.fmpq(2) ** 2000, 3]), 2000)
    array([[1., 0.]])
    """
    f = flint.fmpq(1, 2**k) if k >= 0 else flint.fmpq(2**-k)
    return np.array([float(v * f) for v in P.entries()], dtype=np.float64).reshape(P.nrows(), P.ncols())


def _float_margin_lp(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray | None, float, float]:
    """Maximize the margin ``t`` with ``|h|_inf <= 1``: ``A h - c <= -t``, ``B h - c >= t``;
    returns ``(h, t, c)`` (``h = None`` when HiGHS fails)."""
    from scipy.optimize import linprog

    M = A.shape[1]
    # variables: h (M), c, t
    rows_a = np.hstack([A, -np.ones((A.shape[0], 1)), np.ones((A.shape[0], 1))])
    rows_b = np.hstack([-B, np.ones((B.shape[0], 1)), np.ones((B.shape[0], 1))])
    A_ub = np.vstack([rows_a, rows_b])
    b_ub = np.zeros(A_ub.shape[0])
    cost = np.zeros(M + 2)
    cost[-1] = -1.0
    # t is bounded through |h|_inf <= 1 and the data; no bound of its own, so the proposal does not
    # depend on the magnitude of the (scaled) data
    bounds = [(-1.0, 1.0)] * M + [(None, None), (0.0, None)]
    res = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0:
        return None, 0.0, 0.0
    return res.x[:M], float(res.x[-1]), float(res.x[M])


#: Above this many rows the margin LP is solved on a working set with constraint generation
WORKING_SET_ROWS = 1000


class _FloatRows:
    """The rows of a :class:`~symtrunc.exact.row_sets.RowSet` divided by ``2**k`` as float64
    proposals, without copying them: products with a vector go through the data set's float
    array (``F @ v``, then the selection), and only the rows asked for are gathered. Without
    ``F`` (or for huge scales) the rows are converted once (``dense``)."""

    def __init__(self, rows: RowSet, k: int) -> None:
        self.index, self.bound = rows.index, int(rows.bound or 0)
        full = rows.F is not None and rows.s.bit_length() < 900 and -900 < k < 900
        self.F: np.ndarray | None = rows.F if full else None
        self.factor = 2.0**-k / float(rows.s) if full else 1.0
        self.extra = rows.extra_floats(k)
        self.dense: np.ndarray | None = None if full else rows.floats(k)
        self.n = len(rows.index) + rows.extra.nrows()

    def products(self, v: np.ndarray, Fv: np.ndarray | None = None) -> np.ndarray:
        """``X v`` for every row (``Fv``: ``F v`` when already computed)."""
        if self.F is None:
            return self.dense @ v
        if Fv is None and 4 * len(self.index) < len(self.F):
            block = self.F[self.index] @ v
        else:
            block = (self.F @ v if Fv is None else Fv)[self.index]
        return np.concatenate([block * self.factor, self.extra @ v])

    def take(self, positions: np.ndarray) -> np.ndarray:
        """The rows at ``positions``."""
        if self.F is None:
            return self.dense[positions]  # type: ignore[index]
        nb = len(self.index)
        inner = positions[positions < nb]
        return np.vstack([self.F[self.index[inner]] * self.factor, self.extra[positions[positions >= nb] - nb]])

    def weights(self) -> np.ndarray:
        """``w`` with ``wᵀ F`` the sum of the block rows (``F`` rows, not yet scaled)."""
        return np.bincount(self.index, minlength=len(self.F)).astype(np.float64)  # type: ignore[arg-type]

    def largest_magnitude(self) -> float:
        """``max |x|`` over the rows."""
        if self.F is None:
            return _largest_magnitude(self.dense)  # type: ignore[arg-type]
        return max(self.bound * self.factor, _largest_magnitude(self.extra))


def _products(A: _FloatRows, B: _FloatRows, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(A v, B v)``, with one product ``F v`` when both views share the data set's ``F``."""
    if A.F is not None and A.F is B.F:
        Fv = A.F @ v
        return A.products(v, Fv), B.products(v, Fv)
    return A.products(v), B.products(v)


def _mean_difference(A: _FloatRows, B: _FloatRows) -> np.ndarray:
    """The mean row of ``B`` minus that of ``A`` (one pass over ``F`` when they share it)."""
    if A.F is not None and A.F is B.F:
        w = B.weights() * (B.factor / B.n) - A.weights() * (A.factor / A.n)
        return w @ A.F + B.extra.sum(axis=0) / B.n - A.extra.sum(axis=0) / A.n
    return _mean(B) - _mean(A)


def _mean(A: _FloatRows) -> np.ndarray:
    return A.take(np.arange(A.n)).mean(axis=0)


def _working_set_margin_lp(A: _FloatRows, B: _FloatRows, M: int) -> tuple[np.ndarray | None, float]:
    """The max-margin LP of :func:`_float_margin_lp` by constraint generation: solve on a working
    set (the points of each side nearest the other side's centroid direction, and a spread
    sample), add the points the proposal violates most, repeat until it holds for all points
    (to a relative tolerance; only a proposal, checked exactly by the caller)."""
    d = _mean_difference(A, B)
    m0 = max(M // 4, 8)  # rows added per side and round: small sets solve fast, violators join
    pa, pb = _products(A, B, d)

    def start(values: np.ndarray, n: int) -> np.ndarray:
        near = np.argpartition(values, min(n, m0) - 1)[: min(n, m0)] if n > m0 else np.arange(n)
        spread = np.linspace(0, n - 1, num=min(n, m0), dtype=np.intp)
        return np.union1d(near, spread)

    wa, wb = start(-pa, A.n), start(pb, B.n)
    for _ in range(50):
        h, t, c = _float_margin_lp(A.take(wa), B.take(wb))
        if h is None or t <= 0:
            return h, t
        slack = 1e-9 * max(1.0, abs(c), t)
        ha, hb = _products(A, B, h)
        va, vb = ha - c + t, t - (hb - c)  # > 0: constraint violated
        bad_a = np.flatnonzero(va > slack)
        bad_b = np.flatnonzero(vb > slack)
        bad_a, bad_b = np.setdiff1d(bad_a, wa), np.setdiff1d(bad_b, wb)
        if not len(bad_a) and not len(bad_b):
            return h, t
        wa = np.union1d(wa, _largest(bad_a, va, m0))
        wb = np.union1d(wb, _largest(bad_b, vb, m0))
    all_a, all_b = A.take(np.arange(A.n)), B.take(np.arange(B.n))  # pragma: no cover - did not settle
    return _float_margin_lp(all_a, all_b)[:2]  # pragma: no cover


def _largest(rows: np.ndarray, values: np.ndarray, m: int) -> np.ndarray:
    """The (at most) ``m`` entries of ``rows`` with the largest ``values[rows]``."""
    if len(rows) <= m:
        return rows
    return rows[np.argpartition(-values[rows], m - 1)[:m]]


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
        Point sets as rows, shapes ``(n_a, M)`` and ``(n_b, M)``, both nonempty.
    floats : pair of numpy arrays, optional
        Float copies of ``A`` and ``B``, both divided by one common positive factor, for the LP
        proposal (default: :func:`scaled_floats` with :func:`float_exponent`, so data of any
        magnitude fit float64).

    Returns
    -------
    Separator or OverlapCertificate
        Both are verified exactly before they are returned.

    Notes
    -----
    A float max-margin LP (HiGHS) proposes a normal; its roundings are checked exactly. When
    none holds (overlapping hulls, or margins below float resolution such as points 1e-20
    apart), :func:`_exact_phase_one` decides in rational arithmetic, warm-started from the
    support of a float phase-1 optimum: its optimal basis gives either the convex weights or,
    by Farkas' lemma, the normal of a strict separator. So the answer is always exact and
    there is no size limit; only the running time depends on the floats.
    """
    if floats is None:
        k = float_exponent(A, B)
        floats = (scaled_floats(A, k), scaled_floats(B, k))
    Af, Bf = floats
    h, t, _ = _float_margin_lp(Af, Bf)
    scale = float(np.max(np.abs(np.vstack([Af, Bf])), initial=0.0))
    if h is not None and t > 1e-12 * scale:
        for bits in (4, 8, 12, 16, 24, 40, 52):
            normal = _round_normal(h, bits)
            if normal is not None:
                sep = _exact_separator(normal, A, B)
                if sep is not None:
                    return sep
    return _exact_phase_one(A, B, _float_basis(Af, Bf))


def _overlap_system(A: flint.fmpq_mat, B: flint.fmpq_mat) -> tuple[flint.fmpz_mat, list[flint.fmpz]]:
    """Integer form of ``E w = (0, …, 0, 1, 1)``, ``w >= 0``: column ``(a_i, 1, 0)`` for each row
    of ``A`` and ``(-b_k, 0, 1)`` for each row of ``B``, each multiplied by the common denominator
    of its matrix (listed per column: weight ``w_j`` is ``scale_j`` times the integer system's)."""
    (Ai, sa), (Bi, sb) = A.numer_denom(), B.numer_denom()
    na, nb = A.nrows(), B.nrows()
    top = [list(ra) + [-v for v in rb] for ra, rb in zip(Ai.transpose().tolist(), Bi.transpose().tolist())]
    ones = [[sa] * na + [0] * nb, [0] * na + [sb] * nb]
    E = flint.fmpz_mat(A.ncols() + 2, na + nb, [v for r in top + ones for v in r])
    return E, [sa] * na + [sb] * nb


def _float_basis(Af: np.ndarray, Bf: np.ndarray) -> list[int]:
    """Columns positive at a float (HiGHS) optimum of the phase-1 problem, largest first
    (index ``n + i`` is the artificial of row ``i``); empty if HiGHS fails."""
    from scipy.optimize import linprog

    na, nb, M = Af.shape[0], Bf.shape[0], Af.shape[1]
    n, m = na + nb, M + 2
    E = np.zeros((m, n + m))
    E[:M, :na], E[:M, na:n] = Af.T, -Bf.T
    E[M, :na] = E[M + 1, na:n] = 1.0
    E[:, n:] = np.eye(m)
    e = np.zeros(m)
    e[M:] = 1.0
    res = linprog(np.r_[np.zeros(n), np.ones(m)], A_eq=E, b_eq=e, bounds=(0, None), method="highs")
    if res.status != 0:
        return []
    return [int(j) for j in np.argsort(-res.x)[:m] if res.x[j] > 1e-12]


def _crash(E: flint.fmpz_mat, start: list[int]) -> list[int]:
    """A basis of ``[E | I]`` from the independent columns among ``start``, completed by unit
    (artificial) columns; ``start`` may be empty (then the artificial basis)."""
    m, n = E.nrows(), E.ncols()
    cols = [[E[r, j] if j < n else int(r == j - n) for r in range(m)] for j in start]
    if not cols:
        return list(range(n, n + m))
    C = flint.fmpz_mat(m, len(cols), [cols[c][r] for r in range(m) for c in range(len(cols))])
    R, _, rank = C.rref()
    keep = [next(c for c in range(len(cols)) if R[i, c] != 0) for i in range(rank)]
    K = flint.fmpz_mat(len(keep), m, [cols[c][r] for c in keep for r in range(m)])
    R, _, _ = K.rref()
    rows = {next(r for r in range(m) if R[i, r] != 0) for i in range(len(keep))}
    return [start[c] for c in keep] + [n + r for r in range(m) if r not in rows]


_BLAND_AFTER = 50  # degenerate pivots in a row before switching to Bland's rule (no cycling)


def _exact_phase_one(A: flint.fmpq_mat, B: flint.fmpq_mat, start: Sequence[int] = ()) -> Separator | OverlapCertificate:
    """Decide ``conv(A) ∩ conv(B) ≠ ∅`` exactly: phase-1 revised simplex in rational arithmetic.

    Minimizes the sum of the artificial variables of ``E w + s = e``, ``w, s >= 0``
    (:func:`_overlap_system`), from the basis that :func:`_crash` builds on ``start`` (the float
    optimum's support) when that basis is exactly feasible, else from the artificial basis.
    Each step solves the basis systems exactly and prices every column with one integer
    product. Pivots follow Dantzig's rule until :data:`_BLAND_AFTER` degenerate steps in a row,
    then Bland's rule, which cannot cycle. At the optimum either the objective is 0 (the ``w``
    part, rescaled, are the convex weights) or the basis duals ``y = (h, α, β)`` satisfy
    ``⟨h, a⟩ <= -α < β <= ⟨h, b⟩`` (Farkas), so ``h`` separates strictly.
    """
    E, scale = _overlap_system(A, B)
    m, n = E.nrows(), E.ncols()
    M = m - 2
    e = flint.fmpz_mat(m, 1, [0] * M + [1, 1])

    def column(j: int) -> list:
        return [E[r, j] for r in range(m)] if j < n else [int(r == j - n) for r in range(m)]

    def basis_matrix(basis: list[int]) -> flint.fmpz_mat:
        cols = [column(j) for j in basis]
        return flint.fmpz_mat(m, m, [cols[c][r] for r in range(m) for c in range(m)])

    basis = _crash(E, list(start))
    Bm = basis_matrix(basis)
    x = Bm.solve(e).entries()
    if any(v < 0 for v in x):
        basis = list(range(n, n + m))
        Bm, x = basis_matrix(basis), [flint.fmpq(v) for v in e.entries()]
    bland, stalled = False, 0
    while True:
        y = cast(flint.fmpq_mat, Bm.transpose().solve(flint.fmpz_mat(m, 1, [int(j >= n) for j in basis])))
        priced = (y.numer_denom()[0].transpose() * E).entries()  # reduced cost of j: -priced[j]
        in_basis = set(basis)
        entering = [j for j in range(n) if priced[j] > 0 and j not in in_basis]
        if not entering:
            break
        j = entering[0] if bland else max(entering, key=lambda i: priced[i])
        u = Bm.solve(flint.fmpz_mat(m, 1, column(j))).entries()
        ratios = [(x[r] / u[r], basis[r] if bland else -basis[r], r) for r in range(m) if u[r] > 0]
        step, _, leave = min(ratios)
        basis[leave] = j
        Bm = basis_matrix(basis)
        x = Bm.solve(e).entries()
        stalled = stalled + 1 if step == 0 else 0
        bland = bland or stalled > _BLAND_AFTER
    cert: Separator | OverlapCertificate | None
    if all(x[r] == 0 for r in range(m) if basis[r] >= n):
        idx = [j for j in basis if j < n]
        cert = _make_certificate(A, B, idx, [x[r] * scale[basis[r]] for r in range(m) if basis[r] < n])
    else:
        cert = _exact_separator(flint.fmpq_mat(M, 1, y.entries()[:M]), A, B)
    if cert is None:
        raise UncertifiedError("the exact simplex ended without a valid certificate (please report this)")
    return cert


def _make_certificate(A, B, idx, weights) -> OverlapCertificate | None:
    na, M = A.nrows(), A.ncols()
    first = {i: w for i, w in zip(idx, weights) if i < na and w != 0}
    second = {i - na: w for i, w in zip(idx, weights) if i >= na and w != 0}
    if not first or not second:
        return None
    point = flint.fmpq_mat(M, 1, [sum((w * A[i, k] for i, w in first.items()), flint.fmpq(0)) for k in range(M)])
    cert = OverlapCertificate(first, second, point)
    return cert if cert.check(A, B) else None


def _largest_magnitude(F: np.ndarray) -> float:
    """``max |F|`` (``0`` for an empty array), without a full-size temporary."""
    return max(float(F.max(initial=0.0)), -float(F.min(initial=0.0)))


def separate_rows(inside: RowSet, outside: RowSet, k: int) -> Separator | OverlapCertificate:
    """:func:`strictly_separate` for :class:`~symtrunc.exact.row_sets.RowSet` points: the same
    answer, with the exact checks vectorized over integer arrays and, above
    :data:`WORKING_SET_ROWS` rows, the float proposal found by constraint generation.

    ``k`` scales the float proposals (the points are divided by ``2**k``; see
    :func:`float_exponent`).

    >>> import numpy as np
    >>> from symtrunc.exact.row_sets import RowSet
    >>> A = np.array([[2, 0], [3, 0], [0, 2], [0, 3]])
    >>> sep = separate_rows(RowSet.of(A, 1, [0, 1]), RowSet.of(A, 1, [2, 3]), 0)
    >>> sep.check(RowSet.of(A, 1, [0, 1]).exact(), RowSet.of(A, 1, [2, 3]).exact())
    True
    """
    fa, fb = _FloatRows(inside, k), _FloatRows(outside, k)
    if fa.n + fb.n > WORKING_SET_ROWS:
        h, t = _working_set_margin_lp(fa, fb, inside.A.shape[1])
    else:
        h, t, _ = _float_margin_lp(fa.take(np.arange(fa.n)), fb.take(np.arange(fb.n)))
    scale = max(fa.largest_magnitude(), fb.largest_magnitude())
    if h is not None and t > 1e-12 * scale:
        for bits in (4, 8, 12, 16, 24, 40, 52):
            normal = _round_normal(h, bits)
            if normal is not None:
                hi_a, lo_b = inside.extremes(normal)[1], outside.extremes(normal)[0]
                if hi_a < lo_b:
                    return Separator(normal, simplest_between(hi_a, lo_b))
    return _exact_phase_one(inside.exact(), outside.exact(), _float_basis(inside.floats(k), outside.floats(k)))
