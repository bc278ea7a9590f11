"""Euclidean projection onto the polyhedral cone ``C = {w : A w >= 0}``, in floats and exactly.

By Moreau's decomposition ``Π_C(s) = s + A^T μ*`` with ``μ* = argmin_{μ >= 0} ‖s + A^T μ‖``
(a non-negative least-squares problem), and ``‖Π_C(s)‖ = min_{μ >= 0} ‖s + A^T μ‖``. So any
``μ >= 0`` gives a rigorous *upper bound* ``‖s + A^T μ‖ >= ‖Π_C(s)‖``: this is what the dual
certificates use. :func:`project_exact` finds the exact projection of a rational ``s`` by
guessing the active rows from the float solution and verifying the KKT conditions exactly
(``μ >= 0``, ``A v >= 0``, ``μ_j (A v)_j = 0``).

Examples
--------
>>> import flint
>>> A = flint.fmpq_mat(2, 2, [1, 0, 0, 1])          # the non-negative quadrant
>>> s = flint.fmpq_mat(2, 1, [3, -4])
>>> proj = project_exact(A, s)
>>> proj.point.entries(), proj.multipliers, proj.exact
([3, 0], {1: 4}, True)
>>> cone_bound_sq(A, s, {1: 4}), cone_bound_sq(A, s, {})
(9, 25)
"""

from __future__ import annotations

from dataclasses import dataclass

import flint
import numpy as np

from symtrunc.exact.jit import lazy_njit
from symtrunc.exact.matrix import pinv, to_float
from symtrunc.exact.rational import to_q

__all__ = ["ConeProjection", "nnls", "project_float", "project_exact", "cone_bound_sq", "rationalize_multipliers"]


@dataclass(frozen=True)
class ConeProjection:
    """``v = s + A^T μ`` with ``μ >= 0``; ``exact`` when ``v = Π_C(s)`` was verified exactly.

    Attributes
    ----------
    point : flint.fmpq_mat
        ``v`` as a ``(d, 1)`` column.
    multipliers : dict of int to fmpq
        The non-zero entries of ``μ``.
    exact : bool
        ``True`` if the KKT conditions hold exactly (then ``v`` *is* the projection);
        otherwise ``v`` is only an upper bound witness (``‖v‖ >= ‖Π_C(s)‖``).
    """

    point: flint.fmpq_mat
    multipliers: dict[int, flint.fmpq]
    exact: bool


def nnls(M: np.ndarray, b: np.ndarray, passive: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lawson–Hanson non-negative least squares ``argmin_{x >= 0} ‖M x − b‖``.

    (SciPy's ``nnls`` returned non-optimal points on nearly degenerate cones in testing, so the
    classical active-set method is used; the passive set stays small when ``M`` has few rows.)

    Parameters
    ----------
    M, b : numpy.ndarray
    passive : numpy.ndarray of bool, optional
        A guess of the final passive set (warm start; e.g. from the previous FISTA iteration).
        It is used when the least-squares solution on it is positive.

    Returns
    -------
    x, passive : numpy.ndarray
        The solution and its passive set.

    >>> x, P = nnls(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([2.0, -1.0]))
    >>> x.tolist(), P.tolist()
    ([2.0, 0.0], [True, False])
    """
    n = M.shape[1]
    x = np.zeros(n)
    P = np.zeros(n, dtype=bool)
    tol = 1e-13 * max(1.0, float(np.abs(M).max()) * max(1.0, float(np.abs(b).max())))
    if passive is not None and passive.any():
        z = _lsq(M[:, passive], b)
        if (z > 0).all():
            x[passive], P = z, passive.copy()
    w = M.T @ (b - M @ x)
    for _ in range(3 * n + 10):
        cand = ~P & (w > tol)
        if not cand.any():
            break
        P[int(np.argmax(np.where(cand, w, -np.inf)))] = True
        for _ in range(3 * n + 10):
            z = np.zeros(n)
            z[P] = _lsq(M[:, P], b)
            if (z[P] > 0).all():
                x = z
                break
            neg = P & (z <= 0)
            alpha = float(np.min(x[neg] / (x[neg] - z[neg])))
            x = x + alpha * (z - x)
            P &= x > tol
            x[~P] = 0.0
        w = M.T @ (b - M @ x)
    return x, P


def _lsq(M: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least squares ``argmin ‖M z − b‖`` for a few columns: Cholesky of the normal equations when
    they are well conditioned (fast), else SVD (``lstsq``, the minimum-norm solution)."""
    if M.shape[1] == 0:
        return np.zeros(0)
    G = M.T @ M
    if G.shape[0] <= M.shape[0]:
        try:
            L = np.linalg.cholesky(G)
            diag = np.diag(L)
            if diag.min() > 1e-6 * diag.max():  # condition number of G below 1e12
                return np.linalg.solve(L.T, np.linalg.solve(L, M.T @ b))
        except np.linalg.LinAlgError:
            pass
    return np.linalg.lstsq(M, b, rcond=None)[0]


def _cone_nnls(A: np.ndarray, s: np.ndarray, mu: np.ndarray) -> bool:  # pragma: no cover - compiled
    """Lawson–Hanson for ``min_{μ >= 0} ‖s + A^T μ‖`` written with loops for numba; fills ``mu``
    and returns ``False`` when a least-squares system is singular (then the NumPy :func:`nnls`
    decides)."""
    n, d = A.shape
    amax = 0.0
    for j in range(n):
        for k in range(d):
            amax = max(amax, abs(A[j, k]))
    smax = 0.0
    for k in range(d):
        smax = max(smax, abs(s[k]))
    tol = 1e-13 * max(1.0, amax * max(1.0, smax))
    P = np.zeros(n, dtype=np.int64)  # passive indices, first m entries
    m = 0
    inP = np.zeros(n, dtype=np.bool_)
    v = s.copy()
    for _ in range(3 * d + 30):
        best, jbest = tol, -1
        for j in range(n):
            if not inP[j]:
                g = 0.0
                for k in range(d):
                    g -= A[j, k] * v[k]
                if g > best:
                    best, jbest = g, j
        if jbest < 0:
            return True
        P[m] = jbest
        inP[jbest] = True
        m += 1
        for _ in range(3 * d + 30):
            G = np.empty((m, m))
            rhs = np.empty(m)
            for a in range(m):
                for b in range(m):
                    acc = 0.0
                    for k in range(d):
                        acc += A[P[a], k] * A[P[b], k]
                    G[a, b] = acc
                acc = 0.0
                for k in range(d):
                    acc -= A[P[a], k] * s[k]
                rhs[a] = acc
            L = np.zeros((m, m))  # Cholesky with a conditioning check
            for a in range(m):
                acc = G[a, a]
                for k in range(a):
                    acc -= L[a, k] * L[a, k]
                if acc <= 1e-12 * G[a, a] or acc <= 0.0:
                    return False
                L[a, a] = np.sqrt(acc)
                for b in range(a + 1, m):
                    acc2 = G[b, a]
                    for k in range(a):
                        acc2 -= L[b, k] * L[a, k]
                    L[b, a] = acc2 / L[a, a]
            y = np.empty(m)
            for a in range(m):
                acc = rhs[a]
                for k in range(a):
                    acc -= L[a, k] * y[k]
                y[a] = acc / L[a, a]
            zp = np.empty(m)
            for a in range(m - 1, -1, -1):
                acc = y[a]
                for k in range(a + 1, m):
                    acc -= L[k, a] * zp[k]
                zp[a] = acc / L[a, a]
            if zp.min() > 0:
                for a in range(m):
                    mu[P[a]] = zp[a]
                break
            alpha = 1.0
            for a in range(m):
                if zp[a] <= 0:
                    x = mu[P[a]]
                    alpha = min(alpha, x / (x - zp[a]))
            keep = 0
            for a in range(m):
                j = P[a]
                mu[j] = mu[j] + alpha * (zp[a] - mu[j])
                if mu[j] > tol:
                    P[keep] = j
                    keep += 1
                else:
                    mu[j] = 0.0
                    inP[j] = False
            m = keep
            if m == 0:
                break
        for k in range(d):
            acc = s[k]
            for a in range(m):
                acc += A[P[a], k] * mu[P[a]]
            v[k] = acc
    return False


_COMPILED: list = []  # [the compiled _cone_nnls] or [None] without numba, after the first call


def _compiled_nnls():
    """:func:`_cone_nnls` compiled by numba (cached on disk), or ``None`` without numba."""
    return lazy_njit(_COMPILED, _cone_nnls)


def project_float(A: np.ndarray, s: np.ndarray, passive: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Float projection: returns ``(Π_C(s), μ)``; ``s`` itself when it already satisfies ``A s >= 0``.

    ``μ`` comes from a compiled Lawson–Hanson loop when numba is installed (``symtrunc[fast]``)
    and the least-squares systems are well conditioned, else from :func:`nnls` (optionally
    warm-started with a passive set).

    >>> v, mu = project_float(np.eye(2), np.array([3.0, -4.0]))
    >>> v.tolist(), mu.tolist()
    ([3.0, 0.0], [0.0, 4.0])
    """
    if A.shape[0] == 0 or (A @ s >= 0).all():
        return s.copy(), np.zeros(A.shape[0])
    kernel = _compiled_nnls() if passive is None else None
    if kernel is not None:
        mu = np.zeros(A.shape[0])
        if kernel(np.ascontiguousarray(A, dtype=float), np.ascontiguousarray(s, dtype=float), mu):
            return s + A.T @ mu, mu
    mu, _ = nnls(-A.T, s, passive)
    return s + A.T @ mu, mu


def rationalize_multipliers(mu: np.ndarray) -> dict[int, flint.fmpq]:
    """Exact (binary) values of the positive entries of a float ``μ``.

    >>> rationalize_multipliers(np.array([0.5, 0.0, -1e-9]))
    {0: 1/2}
    """
    return {j: to_q(float(m)) for j, m in enumerate(mu) if m > 0}


def _combine(A: flint.fmpq_mat, s: flint.fmpq_mat, mu: dict[int, flint.fmpq]) -> flint.fmpq_mat:
    d = A.ncols()
    vals = [s[k, 0] + sum((m * A[j, k] for j, m in mu.items()), flint.fmpq(0)) for k in range(d)]
    return flint.fmpq_mat(d, 1, vals)


def cone_bound_sq(A: flint.fmpq_mat, s: flint.fmpq_mat, mu: dict[int, flint.fmpq]) -> flint.fmpq:
    """``‖s + A^T μ‖²`` exactly: an upper bound on ``‖Π_C(s)‖²`` for every ``μ >= 0``.

    Raises
    ------
    ValueError
        If some multiplier is negative (then no bound follows).
    """
    if any(m < 0 for m in mu.values()):
        raise ValueError("cone multipliers must be non-negative")
    v = _combine(A, s, mu)
    return sum((x * x for x in v.entries()), flint.fmpq(0))


def _verify(A: flint.fmpq_mat, s: flint.fmpq_mat, rows: list[int]) -> ConeProjection | None:
    d = A.ncols()
    if rows:
        AS = flint.fmpq_mat(len(rows), d, [A[j, k] for j in rows for k in range(d)])
        mu_vec = -(pinv(AS.transpose()) * s)
        mu = {j: mu_vec[i, 0] for i, j in enumerate(rows) if mu_vec[i, 0] != 0}
    else:
        mu = {}
    if any(m < 0 for m in mu.values()):
        return None
    v = _combine(A, s, mu)
    Av = (A * v).entries()
    if any(x < 0 for x in Av) or any(Av[j] != 0 for j in mu):
        return None
    return ConeProjection(v, mu, True)


def project_exact(A: flint.fmpq_mat, s: flint.fmpq_mat, *, Af: np.ndarray | None = None) -> ConeProjection:
    """Exact projection of a rational ``s`` onto ``{w : A w >= 0}`` when the active set can be
    guessed from floats, else the rationalized float multipliers (``exact=False``, still a
    valid upper-bound witness).

    Parameters
    ----------
    A : flint.fmpq_mat
        ``(m, d)`` constraint matrix.
    s : flint.fmpq_mat
        ``(d, 1)`` point.
    Af : numpy.ndarray, optional
        Float copy of ``A``.
    """
    if A.nrows() == 0:
        return ConeProjection(s, {}, True)
    Af = to_float(A) if Af is None else Af
    sf = to_float(s).ravel()
    v, mu = project_float(Af, sf)
    scale = max(1.0, float(np.abs(sf).max()), float(np.abs(Af).max()))
    tried = set()
    for tol in (1e-9, 1e-6, 1e-12, 1e-3):
        for rows in (
            sorted(int(j) for j in np.flatnonzero(mu > tol * scale)),
            sorted(int(j) for j in np.flatnonzero(np.abs(Af @ v) <= tol * scale * scale)),
        ):
            key = tuple(rows)
            if key in tried:
                continue
            tried.add(key)
            res = _verify(A, s, rows)
            if res is not None:
                return res
    mu_q = rationalize_multipliers(mu)
    return ConeProjection(_combine(A, s, mu_q), mu_q, False)
