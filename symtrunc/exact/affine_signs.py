"""Exact signs of one integer affine map on many points, by float64 BLAS.

:class:`AffineSigns` gives the signs of ``G · (x, 1)`` for integer rows ``G`` and points
``x = A / s`` (the structured verifier's cumulative maps): exact when every integer fits below
``2^53``, else as a filter with a rigorous error bound and an exact python-flint fallback for the
undecided points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import flint
import numpy as np

from symtrunc.exact.common_denominator import INT64_LIMIT
from symtrunc.exact.scaled import EXACT_FLOAT_BOUND

__all__ = ["AffineSigns"]

_U = 2.0**-53  # unit roundoff of float64
_SIGN_BLOCK = 1 << 21  # entries of the float64 work arrays per block (16 MiB each)


def _scaled_float(v: int, e: int) -> float:
    """``v / 2^e`` as a float within ``2u |v / 2^e| + 2^-1074`` (the top 53 bits of ``v``, scaled)."""
    t = max(v.bit_length() - 53, 0)
    return math.ldexp(float(v >> t), t - e)


def _flint_signs(G: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Exact signs of ``[A | 1] Gᵀ`` by one python-flint product (``A``: integer rows)."""
    n, k = A.shape
    m = len(G)
    rows = np.ones((n, k + 1), dtype=A.dtype if A.dtype == object else np.int64)
    rows[:, :k] = A
    X = flint.fmpz_mat(n, k + 1, rows.ravel().tolist())
    Gt = flint.fmpz_mat(k + 1, m, G.T.ravel().tolist())
    vals = (X * Gt).entries()
    return np.fromiter(((v > 0) - (v < 0) for v in vals), dtype=np.int8, count=n * m).reshape(n, m)


def _integer_array(G: Sequence[Sequence[int]] | np.ndarray) -> np.ndarray:
    """``G`` as a 2-D ``int64`` array, or an object array of Python ints when an entry reaches
    :data:`INT64_LIMIT`."""
    if isinstance(G, np.ndarray) and G.dtype != object:
        G = G.astype(np.int64)
        if G.size and (int(G.max()) >= INT64_LIMIT or int(G.min()) <= -INT64_LIMIT):
            G = G.astype(object)
        return G
    rows = [[int(v) for v in row] for row in G]
    if not rows:
        return np.zeros((0, 1), dtype=np.int64)
    big = any(abs(v) >= INT64_LIMIT for row in rows for v in row)
    return np.array(rows, dtype=object if big else np.int64).reshape(len(rows), -1)


class AffineSigns:
    """Exact signs of the integers ``H = [A | s] Gᵀ`` for blocks of integer points ``A``: entry
    ``(i, r)`` is the sign of ``Σ_j G[r][j] A[i, j] + G[r][k] s`` (``A`` has ``k`` columns).

    Computed with float64 BLAS. When every integer involved provably stays below ``2^53`` the
    float products are exact. Otherwise each row of ``G`` is scaled by a power of two and rounded
    to float64, and the float values are a *filter*: with ``T_r = Σ_j |ĝ_rj| a_j`` (``a_j`` a
    bound on ``|A_ij|``), the computed value ``ĥ`` is within
    ``E_r = 2(k+5)u T_r + 2^-1000 (k+1+Σ_j a_j)`` of the exact scaled value (``u = 2^-53``:
    rounding of ``G`` and ``A``, any summation order, underflow), so ``|ĥ| > E_r`` proves the
    sign; the few points with an entry inside the band are evaluated exactly with python-flint,
    and so are integers beyond ``int64`` (object arrays).

    Parameters
    ----------
    G : sequence of sequences of int, or 2-D integer array
        ``m`` rows of ``k + 1`` integers (weights, then the coefficient of ``s``), e.g. from
        :func:`~symtrunc.exact.common_denominator.affine_form`.
    s : int
        The homogeneous coordinate (any integer).
    bound : int
        A bound on ``|A_ij|`` for every block passed in.

    Examples
    --------
    >>> big = 2**80
    >>> signs = AffineSigns([[1, -1, 0], [big, -big, 1]], 1, bound=5)
    >>> signs(np.array([[3, 3], [2, 5]])).tolist()
    [[0, 1], [-1, -1]]
    >>> signs.exact  # the float values are a filter here
    False
    """

    def __init__(self, G: Sequence[Sequence[int]] | np.ndarray, s: int, bound: int) -> None:
        G = _integer_array(G)
        m = len(G)
        self.k = k = G.shape[1] - 1
        if (
            G.dtype != object
            and m
            and (abs(int(s)) >= INT64_LIMIT or int(np.abs(G[:, k]).max()) * abs(int(s)) >= INT64_LIMIT)
        ):
            G = G.astype(object)
        G = G.copy()
        G[:, k] *= int(s)  # weights on the inputs [A | 1]
        Gabs = np.abs(G)
        gmax = [int(v) for v in Gabs.max(axis=1).tolist()] if m else []
        top = max(gmax, default=0)
        self.G = G  # int64, or Python ints when an entry reaches INT64_LIMIT
        a = [int(bound)] * k + [1]
        exact = top <= EXACT_FLOAT_BOUND and int(bound) <= EXACT_FLOAT_BOUND
        if exact and top * sum(a) > EXACT_FLOAT_BOUND:  # the quick bound fails: the exact one
            exact = max(sum(r[:k]) * int(bound) + r[k] for r in Gabs.tolist()) <= EXACT_FLOAT_BOUND
        self.exact = exact
        self.Gt: np.ndarray | None = None  # None: every block goes to python-flint
        if int(bound) >= INT64_LIMIT:  # only object arrays hold such points
            return
        if exact:
            Gt = self.G.astype(np.float64).reshape(m, k + 1).T
            self.E = np.zeros(m)
        else:
            e = [g.bit_length() for g in gmax]
            rows = G.tolist()
            Gt = np.array([[_scaled_float(v, e[r]) for v in rows[r]] for r in range(m)]).reshape(m, k + 1).T
            af = np.array(a, dtype=np.float64) * (1 + 4 * _U)  # upper bounds of the |A_ij|
            T = np.abs(Gt).T @ af
            self.E = 2 * (k + 5) * _U * T * (1 + 4 * (k + 2) * _U) + 2.0**-1000 * (k + 1 + float(af.sum()))
        self.Gt = np.ascontiguousarray(Gt)

    def __call__(self, A: np.ndarray, Af: np.ndarray | None = None) -> np.ndarray:
        """``int8`` signs, shape ``(n, m)``, of the points ``A`` (rows, ``|A_ij| ≤ bound``).

        ``Af``, optional: ``A`` as float64 (converted here when not given).
        """
        A = np.asarray(A)
        n, m = A.shape[0], len(self.G)
        if self.Gt is None or A.dtype.kind not in "biu" or A.dtype.itemsize > 8:
            return _flint_signs(self.G, A)
        out = np.empty((n, m), dtype=np.int8)
        step = max(1, _SIGN_BLOCK // max(m, self.k + 1))
        for lo in range(0, n, step):
            blk = A[lo : lo + step]
            H = (blk.astype(np.float64) if Af is None else Af[lo : lo + step]) @ self.Gt[: self.k]
            H += self.Gt[self.k]
            sg = np.sign(H).astype(np.int8)
            if not self.exact:
                band = np.flatnonzero((np.abs(H) <= self.E).any(axis=1))
                if band.size:
                    sg[band] = _flint_signs(self.G, blk[band])
            out[lo : lo + step] = sg
        return out

    def value(self, r: int, x: Sequence[int]) -> int:
        """The exact integer ``H`` of neuron ``r`` at the point ``x`` (one row of ``A``)."""
        row = self.G[r].tolist()
        return sum(g * int(v) for g, v in zip(row, x)) + row[self.k]
