"""Cone layers: cumulative parameters ``(W, b = -W p)`` whose truncation map is the identity on
a forward set of points and collapses a backward set to the apex ``p`` (Lemma 3.4).

Two recipes, both certified by exact sign checks (Lemma 3.4 needs exactly
``W(x - p) ≥ 0`` on the forward points and ``≤ 0`` on the backward points):

* :func:`rational_cone`: ``W = c (ε I + u hᵀ)`` with rational ``ε > 0``; the largest admissible
  ``ε`` is computed exactly and a simple rational below it is used; ``c > 0`` clears the
  denominators (``τ_{cW,cb} = τ_{W,b}``).
* :func:`paper_cone`: the paper's ``W = W_θ R`` with ``W_θ = λ I + (1 - λ) u uᵀ / M`` and a
  Householder reflection ``R`` taking ``h`` (almost) to the diagonal. ``R`` is rationalized
  (exactly orthogonal), ``λ`` is a rational lower bound of ``λ(θ, θ_M)`` certified with
  interval arithmetic, and the signs are then checked exactly.

Examples
--------
>>> from symtrunc.exact.matrix import qmatrix, qvector
>>> p, h = qvector(["7/4", "5/4"]), qvector([-1, 1])
>>> fwd, bwd = qmatrix([[0, 2], [0, 3], [1, 2], [1, 3]]), qmatrix([[2, 0], [3, 0], [2, 1], [3, 1]])
>>> layer = rational_cone(p, h, fwd, bwd)
>>> layer.W, dict(layer.parameters)
([ 0, 1]
[-1, 2], {'epsilon': '1', 'scale': '1'})
>>> layer.check(fwd, bwd)
True
>>> paper = paper_cone(p, h, fwd, bwd)
>>> paper.parameters["lambda"], paper.check(fwd, bwd)
('1/2', True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import flint
import numpy as np

from symtrunc.errors import HypothesisError
from symtrunc.exact.lp import simplest_between
from symtrunc.exact.matrix import frozen, identity
from symtrunc.exact.rational import to_q
from symtrunc.exact.row_sets import RowSet, clip64, integer_vector

__all__ = ["ConeLayer", "rational_cone", "paper_cone", "sign_violation"]


@dataclass(frozen=True)
class ConeLayer:
    """Cumulative parameters of one truncation: ``W`` (``m x M``), ``b = -W p``, the apex ``p``
    and the normal ``h`` of the separating hyperplane (pointing to the forward side)."""

    W: flint.fmpq_mat
    apex: flint.fmpq_mat
    normal: flint.fmpq_mat
    recipe: str
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # exact objects are immutable: read-only matrices and a read-only view of the parameters
        for name in ("W", "apex", "normal"):
            object.__setattr__(self, name, frozen(getattr(self, name)))
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    @property
    def b(self) -> flint.fmpq_mat:
        """``b = -W p``."""
        return -(self.W * self.apex)

    def check(self, forward: flint.fmpq_mat, backward: flint.fmpq_mat) -> bool:
        """Exact sign check of Lemma 3.4 on the given points (rows)."""
        return sign_violation(self.W, self.apex, forward, backward) is None


def _offsets(points: flint.fmpq_mat, p: flint.fmpq_mat) -> flint.fmpq_mat:
    n, M = points.nrows(), points.ncols()
    P = flint.fmpq_mat(n, M, [v for _ in range(n) for v in p.entries()])
    return points - P


def sign_violation(
    W: flint.fmpq_mat, p: flint.fmpq_mat, forward: flint.fmpq_mat, backward: flint.fmpq_mat
) -> tuple[str, int, int, flint.fmpq] | None:
    """First violation of ``W(x - p) ≥ 0`` (forward rows) or ``≤ 0`` (backward rows), or ``None``.

    Returns ``(side, row, neuron, value)``.
    """
    for side, pts, bad in (("forward", forward, lambda v: v < 0), ("backward", backward, lambda v: v > 0)):
        if pts.nrows() == 0:
            continue
        Z = W * _offsets(pts, p).transpose()
        n = pts.nrows()
        for idx, v in enumerate(Z.entries()):
            if bad(v):
                return side, idx % n, idx // n, v
    return None


def _epsilon_bound(
    p: flint.fmpq_mat, h: flint.fmpq_mat, rows: RowSet, sign: int
) -> flint.fmpq | None | tuple[int, flint.fmpq]:
    """``min ±⟨h, x - p⟩ / max_i(∓(x - p)_i)`` over the rows with a positive denominator (``None``
    if there is none), or ``(row, ⟨h, x - p⟩)`` for the first row with ``±⟨h, x - p⟩ ≤ 0``.

    Exact. For the integer block ``x = a / s`` (``p = P / d_p``, ``h = H / d_h``) the signs are
    integer comparisons; the ratios are bounded in float64 with a rigorous error margin, and only
    the rows whose interval can reach the minimum are evaluated in rational arithmetic.
    """
    hp = (h.transpose() * p)[0, 0]
    v, d = rows.block_products(h)  # ⟨h, x⟩ = v / d on the block
    wrong = rows.first_violation(h, hp, sign, (v, d))
    if wrong is not None:
        return wrong
    P, dp = integer_vector(p)
    s, r = rows.s, d * hp
    # on the block: g = sign ⟨h, x - p⟩ = sign (v - r) / d and w = max_i sign (P_i / d_p - a_i / s)
    best: flint.fmpq | None = None
    if len(v):
        cand = _ratio_candidates(rows, v, r, P, dp, d, sign)
        for i in cand.tolist():
            x = rows.A[rows.index[i]]
            w = max(sign * (flint.fmpq(P[c], dp) - flint.fmpq(int(x[c]), s)) for c in range(len(P)))
            if w > 0:
                q = sign * (flint.fmpq(int(v[i]), d) - hp) / w
                best = q if best is None or q < best else best
    for x in rows.extra.tolist():
        w = max(sign * (a - b) for a, b in zip(p.entries(), x))
        if w > 0:
            q = sign * (sum((a * b for a, b in zip(h.entries(), x)), flint.fmpq(0)) - hp) / w
            best = q if best is None or q < best else best
    return best


def _too_big(v: np.ndarray) -> bool:
    """Whether an entry of the Python-integer array ``v`` reaches ``2^900``."""
    return bool(len(v)) and max(abs(int(v.max())), abs(int(v.min()))).bit_length() > 900


def _row_maxima(rows: RowSet, terms: Sequence[tuple[np.ndarray, float]], sign: int) -> list[np.ndarray]:
    """For each ``(shift, divisor)`` of ``terms``: ``max_i sign (shift_i - F_i / divisor)`` for each
    block row, from the float copy ``F`` in one pass (over all rows, then the selection, when the
    block is a quarter of them or more)."""
    F, index = rows.F, rows.index
    full = 4 * len(index) >= len(F)  # type: ignore[arg-type]
    n, chunk = (len(F) if full else len(index)), 1 << 15  # type: ignore[arg-type]
    outs = [np.empty(n) for _ in terms]
    buf = np.empty((min(chunk, n), F.shape[1]))  # type: ignore[union-attr]
    for lo in range(0, n, chunk):
        B = F[lo : lo + chunk] if full else F[index[lo : lo + chunk]]  # type: ignore[index]
        D = buf[: len(B)]
        for (shift, divisor), out in zip(terms, outs):
            X = np.divide(B, divisor, out=D) if divisor != 1.0 else B
            if sign > 0:
                np.subtract(shift, X, out=D)
            else:
                np.subtract(X, shift, out=D)
            D.max(axis=1, out=out[lo : lo + len(B)])
    return [out[index] for out in outs] if full else outs


def _float_ratio_candidates(
    rows: RowSet, v: np.ndarray, r: flint.fmpq, P: list[int], dp: int, d: int, sign: int
) -> np.ndarray:
    """:func:`_ratio_candidates` from the float copy ``F`` of the integer rows (``s < 2^53``).

    ``w > 0`` exactly: ``sign (T_i - B_i) > 0`` for some ``i`` with the integer thresholds ``T``
    (:func:`_ratio_candidates`); ``B`` and ``T`` are integers below ``2^53`` in magnitude (``T`` is
    clipped to ``±2^53``, beyond every ``B``), so ``T_i - B_i`` rounds to a float of the same sign
    and the row maximum is positive exactly when ``w > 0``. The ratio bounds are those of
    :func:`_ratio_candidates` (``F / s`` rounds like ``B / s`` there).
    """
    s, lim = rows.s, 2**53
    if sign > 0:
        T = [max(min(-((-s * a) // dp), lim), -lim) for a in P]
    else:
        T = [max(min((s * a) // dp, lim), -lim) for a in P]
    pf = np.array([float(flint.fmpq(a, dp)) for a in P])
    top_t, wf = _row_maxima(rows, [(np.array(T, dtype=np.float64), 1.0), (pf, float(s))], sign)
    return _candidates(top_t > 0, v, r, d, sign, pf, wf, rows.bound / s)  # type: ignore[operator]


def _ratio_candidates(
    rows: RowSet, v: np.ndarray, r: flint.fmpq, P: list[int], dp: int, d: int, sign: int
) -> np.ndarray:
    """Rows of ``B`` with ``w > 0`` whose ratio ``g / w`` can be the minimum.

    ``g = sign (v - r) / d > 0`` and ``w = max_i sign (P_i / d_p - B_i / s)``. Whether ``w > 0`` is
    decided exactly (integer thresholds ``⌈s P_i / d_p⌉``). The ratios are bounded in float64:
    each conversion (of ``v``, ``r``, ``d``, ``B``, ``s``, ``P_i / d_p``) and each operation has
    relative error at most ``u = 2^-53`` (all below ``2^900``: no overflow), so
    ``|g_f - g| ≤ 5u (|v| + |r|) / d`` and ``|w_f - w| ≤ 5u (max|P / d_p| + max|B / s|)``; the
    bounds below use ``8u`` and ``32u``.
    A row is kept when its lower ratio bound does not exceed the smallest upper bound. Object
    (huge-integer) arrays keep every row with ``w > 0``.
    """
    n, s, A, index = len(v), rows.s, rows.A, rows.index

    def chunks():  # row blocks, copied one at a time
        for lo in range(0, n, 1 << 16):
            yield lo, A[index[lo : lo + (1 << 16)]]

    if A.dtype != object and rows.F is not None and v.dtype != object and s < 2**53 and max(dp, d) < 2**900:
        return _float_ratio_candidates(rows, v, r, P, dp, d, sign)
    positive = np.zeros(n, dtype=bool)
    if A.dtype == object:
        limits = [flint.fmpq(s * a, dp) for a in P]
        for i in range(n):
            positive[i] = any((sign * (lim - int(x)) > 0) for lim, x in zip(limits, A[index[i]]))
        return np.flatnonzero(positive)
    if sign > 0:  # B_i < s P_i / d_p  <=>  B_i < ceil(s P_i / d_p)
        T = np.array([clip64(-((-s * a) // dp)) for a in P], dtype=np.int64)
        for lo, B in chunks():
            positive[lo : lo + len(B)] = (B < T).any(axis=1)
    else:  # B_i > s P_i / d_p  <=>  B_i > floor(s P_i / d_p)
        T = np.array([clip64((s * a) // dp) for a in P], dtype=np.int64)
        for lo, B in chunks():
            positive[lo : lo + len(B)] = (B > T).any(axis=1)
    if s >= 2**900 or dp >= 2**900 or d >= 2**900 or (v.dtype == object and _too_big(v)):
        return np.flatnonzero(positive)
    pf = np.array([float(flint.fmpq(a, dp)) for a in P])
    wf = np.empty(n)
    for lo, B in chunks():
        wf[lo : lo + len(B)] = (sign * (pf - B / float(s))).max(axis=1)
    return _candidates(positive, v, r, d, sign, pf, wf, rows.bound / s)  # type: ignore[operator]


def _candidates(
    positive: np.ndarray, v: np.ndarray, r: flint.fmpq, d: int, sign: int, pf: np.ndarray, wf: np.ndarray, top_b: float
) -> np.ndarray:
    """The rows with ``w > 0`` (``positive``, exact) whose ratio interval ``[low, hi]`` can reach
    the smallest ``hi`` (:func:`_ratio_candidates`: ``g = sign (v - r) / d`` and its float ``w``
    estimate ``wf``; ``top_b = max|B| / s``)."""
    u = 2.0**-53  # every conversion to float64 and every operation rounds once, by <= u
    vf, rf, df = v.astype(np.float64), float(r), float(d)
    gf = sign * (vf - rf) / df
    eg = 8 * u * (np.abs(vf) + abs(rf)) / df
    ew = 32 * u * (float(np.abs(pf).max(initial=0.0)) + top_b)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        hi = np.where(positive & (wf > ew), (gf + eg) / (wf - ew) * (1 + 4 * u), np.inf)
        low = np.where(positive, (gf - eg) / (wf + ew) * (1 - 4 * u), np.inf)
    top = hi.min(initial=np.inf)
    return np.flatnonzero(positive & ((low <= top) | np.isnan(low)))


def rational_cone(
    apex: flint.fmpq_mat,
    normal: flint.fmpq_mat,
    forward: flint.fmpq_mat | RowSet,
    backward: flint.fmpq_mat | RowSet,
    *,
    epsilon: flint.fmpq | None = None,
) -> ConeLayer:
    """``W = ε I + u hᵀ`` with the exact admissible bound on ``ε``.

    Row ``i`` of ``W(x - p)`` is ``ε (x - p)_i + ⟨h, x - p⟩``, so the signs hold iff
    ``ε · max_i(∓(x - p)_i) ≤ ±⟨h, x - p⟩`` for every forward (upper sign) / backward point.

    Parameters
    ----------
    apex, normal : flint.fmpq_mat
        ``p`` and ``h`` as ``(M, 1)`` columns.
    forward, backward : flint.fmpq_mat or RowSet
        Points (rows) that must stay fixed / collapse to ``p``; large sets as
        :class:`~symtrunc.exact.row_sets.RowSet` (the bound is then found with vectorized
        integer arithmetic and a rigorous float filter, see :func:`_epsilon_bound`).
    epsilon : fmpq, optional
        Use this ``ε`` (checked against the exact bound) instead of choosing one.

    Raises
    ------
    HypothesisError
        If ``h`` does not strictly separate the two sets through ``p``, or ``epsilon`` is too large.
    """
    M = apex.nrows()
    bound = None
    for sign, pts in ((1, forward), (-1, backward)):
        rows = pts if isinstance(pts, RowSet) else RowSet.from_matrix(pts)
        if rows.n == 0:
            continue
        side = _epsilon_bound(apex, normal, rows, sign)
        if isinstance(side, tuple):
            r, g = side
            name = "forward" if sign > 0 else "backward"
            raise HypothesisError(f"the hyperplane does not strictly separate: {name} point {r} has ⟨h, x - p⟩ = {g}")
        if side is not None and (bound is None or side < bound):
            bound = side
    hu = sum(normal.entries(), flint.fmpq(0))
    if epsilon is not None:
        eps = flint.fmpq(epsilon)
        if eps <= 0 or (bound is not None and eps > bound):
            raise HypothesisError(f"epsilon = {eps} is not admissible: need 0 < ε ≤ {bound}")
        if eps + hu == 0:
            raise HypothesisError(f"epsilon = {eps} makes W singular (ε = -⟨h, u⟩)")
    else:
        top = bound if bound is not None else flint.fmpq(2)
        eps = top if top.q == 1 else simplest_between(top / 2, top)
        if eps + hu == 0:
            eps = simplest_between(top / 4, top / 2)
    # scaling invariance τ_{cW,cb} = τ_{W,b}: clear denominators, W = c (ε I + u hᵀ) integer
    c = flint.fmpq_mat(M + 1, 1, [eps] + list(normal.entries())).numer_denom()[1]
    row = [c * v for v in normal.entries()]
    W = flint.fmpq_mat(M, M, row * M)  # c u hᵀ, then c ε on the diagonal
    for i in range(M):
        W[i, i] += c * eps
    return ConeLayer(W, apex, normal, "rational", {"epsilon": str(eps), "scale": str(c)})


def paper_cone(
    apex: flint.fmpq_mat,
    normal: flint.fmpq_mat,
    forward: flint.fmpq_mat,
    backward: flint.fmpq_mat,
    *,
    angle: Any = None,
) -> ConeLayer:
    """The paper's recipe ``W = W_θ R`` (Theorem 5.2 / Lemma 3.4), rationalized and certified.

    Parameters
    ----------
    angle : number or sympy expression, optional
        Full opening angle ``θ ∈ (θ_min, π)``; default midway between ``θ_min`` and ``π``.

    Notes
    -----
    ``θ_min`` (twice the largest angle between ``±h`` and ``x - p``) is evaluated in mpmath floats
    only to choose ``θ``; ``λ`` is a rational lower bound of ``λ(θ, θ_M) = tan(θ_M/2)/tan(θ/2)`` obtained
    with mpmath interval arithmetic (any ``λ`` in ``(0, λ(θ, θ_M)]`` works). ``R = I - 2vvᵀ/vᵀv``
    with ``v = h - s u`` and ``s`` a rational approximation of ``|h|/√M``; it is exactly
    orthogonal and maps ``h`` to within ``|s√M - |h||`` of the diagonal. Lemma 3.4's
    conclusion is then re-established by exact sign checks; if they fail, ``λ`` is halved.
    """
    import mpmath

    M = apex.nrows()

    def mp(v: flint.fmpq) -> mpmath.mpf:  # mpmath's exponents are unbounded: data of any magnitude fit
        return mpmath.mpf(int(v.p)) / int(v.q)

    hf = [mp(v) for v in normal.entries()]
    hn = mpmath.sqrt(sum(v**2 for v in hf))
    theta_min = mpmath.mpf(0)
    for sign, pts in ((1, forward), (-1, backward)):
        D = _offsets(pts, apex).tolist() if pts.nrows() else []
        for row in D:
            d = [mp(v) for v in row]
            dn = mpmath.sqrt(sum(v**2 for v in d))
            if dn == 0:
                continue
            c = sign * sum(a * b for a, b in zip(d, hf)) / (dn * hn)
            theta_min = max(theta_min, 2 * mpmath.acos(max(-1, min(1, c))))
    if angle is None:
        theta = (theta_min + mpmath.pi) / 2
    else:
        if hasattr(angle, "evalf"):  # sympy expression such as pi/2
            theta = mpmath.mpf(str(angle.evalf(40)))
        else:
            q = to_q(angle)
            theta = mpmath.mpf(int(q.p)) / int(q.q)
        if not (theta_min < theta < mpmath.pi):
            raise HypothesisError(
                f"angle θ = {float(theta):.6g} is not admissible: need θ_min = {float(theta_min):.6g} < θ < π"
            )
    lam = _lambda_lower_bound(theta, M)
    # rational Householder reflection taking h towards u
    s = _rational_sqrt(sum((v * v for v in normal.entries()), flint.fmpq(0)) / M)
    u = flint.fmpq_mat(M, 1, [1] * M)
    v = normal - s * u
    vv = (v.transpose() * v)[0, 0]
    R = identity(M) if vv == 0 else identity(M) - (2 / vv) * (v * v.transpose())
    uuT = flint.fmpq_mat(M, M, [flint.fmpq(1, M)] * (M * M))
    halvings = 0
    while True:
        W = (lam * identity(M) + (1 - lam) * uuT) * R
        if sign_violation(W, apex, forward, backward) is None:
            break
        lam /= 2
        halvings += 1
        if halvings > 200:
            raise HypothesisError("the paper recipe could not be certified (signs fail for every λ tried)")
    return ConeLayer(
        W,
        apex,
        normal,
        "paper",
        {
            "theta": mpmath.nstr(theta, 17),
            "theta_min": mpmath.nstr(theta_min, 17),
            "lambda": str(lam),
            "lambda_halvings": halvings,
            "householder_s": str(s),
            "note": "theta and theta_min are float annotations; lambda, R and W are exact",
        },
    )


def _lambda_lower_bound(theta, M: int) -> flint.fmpq:
    """Rational ``λ ≤ λ(θ, θ_M) = 1 / (√(M-1) tan(θ/2))`` (or 1 when θ ≤ θ_M), via intervals."""
    import mpmath

    iv = mpmath.iv
    iv.dps = 30
    th = iv.mpf(mpmath.nstr(theta, 25))
    val = 1 / (iv.sqrt(M - 1) * iv.tan(th / 2))
    from mpmath.libmp import to_rational

    lo = flint.fmpq(*to_rational(val._mpi_[0]))  # exact lower endpoint
    if lo >= 1:
        return flint.fmpq(1)
    return simplest_between(lo / 2, lo) if lo > 0 else flint.fmpq(1, 2**30)


def _rational_sqrt(x: flint.fmpq, bits: int = 64) -> flint.fmpq:
    """A rational approximation of ``√x`` (relative error about ``2^-bits``)."""
    from math import isqrt

    p, q = int(x.p), int(x.q)
    k = bits - (p.bit_length() - q.bit_length()) // 2  # x·4^k ≈ 4^bits whatever the magnitude of x
    if k >= 0:
        return flint.fmpq(isqrt((p << (2 * k)) // q), 1 << k)
    return flint.fmpq(isqrt(p // (q << (-2 * k))) << -k)
