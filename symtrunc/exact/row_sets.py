"""Point sets for exact geometry at scale: rows of one integer array plus a few exact rows.

The constructions ask the same questions of large point sets again and again: the largest and
smallest value of ``⟨h, x⟩`` over a set, the first point on the wrong side of a hyperplane.
A :class:`RowSet` answers them exactly with vectorized integer arithmetic: its points are the
rows ``A[index] / s`` of a common-denominator array (:mod:`symtrunc.exact.common_denominator`)
followed by a few exact rows (base points, the barycenter). Products with an integer vector
run in ``int64`` when a bound proves that no partial sum overflows, and in Python integers
(NumPy object arrays) otherwise, so every answer is exact.

Examples
--------
>>> import numpy as np
>>> from symtrunc.exact.matrix import qmatrix, qvector
>>> S = RowSet.of(np.array([[2, 0], [3, 1], [0, 2]]), 1, [0, 1], qmatrix([["1/2", "1/2"]]))
>>> S.n, S.exact()
(3, [  2,   0]
[  3,   1]
[1/2, 1/2])
>>> [str(v) for v in S.values(qvector([1, -1]))]
['2', '2', '0']
>>> S.extremes(qvector([1, -1]))
(0, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import flint
import numpy as np

from symtrunc.exact.common_denominator import from_fmpq_mat, read_only, to_fmpq_mat
from symtrunc.exact.matrix import frozen

__all__ = ["RowSet", "integer_vector", "bit_exponent", "clip64"]

_INT64_SAFE = 2**63
_FLOAT_EXACT = 2**53


def integer_vector(h: flint.fmpq_mat) -> tuple[list[int], int]:
    """``(H, d)`` with ``h = H / d`` (``H`` integers, ``d > 0``) for a column ``h``."""
    Z, d = h.numer_denom()
    return [int(v) for v in Z.entries()], int(d)


_CHUNK = 1 << 16


def _matvec(A: np.ndarray, index: np.ndarray, H: list[int], bound: int, F: np.ndarray | None = None) -> np.ndarray:
    """``A[index] @ H`` exactly, in row chunks: float64 BLAS on ``F`` (``A`` as floats) when given
    and ``bound Σ|H| < 2^53`` (``bound ≥ max|A|``: every term and partial sum, in any order, is an
    integer of magnitude below ``2^53``, so exact), ``int64`` below ``2^63``, else Python integers."""
    if not len(index):
        return np.zeros(0, dtype=np.int64)
    total = bound * sum(abs(v) for v in H)
    if F is not None and total < _FLOAT_EXACT:  # float64 BLAS: every partial sum is an integer < 2^53
        return _rows_times(F, index, np.array(H, dtype=np.float64)).astype(np.int64)
    if A.dtype != object and total < _INT64_SAFE:
        return _rows_times(A, index, np.array(H, dtype=np.int64))
    return A[index].astype(object) @ np.array(H, dtype=object)


def _rows_times(A: np.ndarray, index: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``A[index] @ h``: when ``index`` covers a quarter of the rows or more, the product of all
    rows and then the selection (a gather of rows costs more than the product), else in chunks
    of gathered rows."""
    if 4 * len(index) >= len(A):
        return (A @ h)[index]
    return np.concatenate([A[index[lo : lo + _CHUNK]] @ h for lo in range(0, len(index), _CHUNK)])


def clip64(v: int) -> int:
    """``v`` clipped to the ``int64`` range (for comparing ``int64`` arrays with a Python int)."""
    return max(min(v, 2**63 - 1), -(2**63))


def bit_exponent(A: np.ndarray, s: int) -> int | None:
    """``max (bitlen(p) - bitlen(q))`` over the nonzero entries ``p/q`` (lowest terms) of ``A/s``,
    or ``None`` when all are zero: the exponent :func:`symtrunc.exact.lp.float_exponent` needs.

    >>> bit_exponent(np.array([[3, 8], [0, -1]]), 4)   # 3/4, 2, -1/4
    1
    """
    if s & (s - 1) == 0:  # s = 2^m: every nonzero a/s has exponent bitlen(|a|) - bitlen(s)
        top = int(np.abs(A).max()) if A.size else 0
        return None if top == 0 else top.bit_length() - s.bit_length()
    nz = np.unique(np.abs(A[A != 0]))  # few distinct values in real data
    if not nz.size:
        return None
    if A.dtype == object or s >= _INT64_SAFE:
        best = None
        for v in nz.tolist():
            q = flint.fmpq(int(v), s)
            e = q.p.bit_length() - q.q.bit_length()
            best = e if best is None or e > best else best
        return best
    g = np.gcd(nz, s)
    return int((_bit_length(nz // g) - _bit_length(s // g)).max())


def _bit_length(v: np.ndarray) -> np.ndarray:
    """``int.bit_length`` of positive ``int64`` entries, exactly (``frexp`` may round up)."""
    _, e = np.frexp(v.astype(np.float64))
    e = e.astype(np.int64)
    over = np.left_shift(np.int64(1), np.minimum(e - 1, 62)) > v
    return e - over


@dataclass(frozen=True, eq=False)
class RowSet:
    """The rows ``A[index] / s`` followed by the exact rows of ``extra``.

    Attributes
    ----------
    A : numpy.ndarray
        A read-only integer array (``int64``, or ``object`` holding Python ints), shape ``(N, M)``.
    s : int
        The common denominator (positive).
    index : numpy.ndarray
        Row indices into ``A`` (``intp``), in order.
    extra : flint.fmpq_mat
        Further rows, shape ``(k, M)`` (read-only).
    bound : int
        ``max |A|`` (computed when not given; pass it to share one pass over a large ``A``).
    F : numpy.ndarray or None
        ``A`` as ``float64`` (equal to it: ``max|A| < 2^53``), shared by the row sets of one data
        set, for exact float64 BLAS products and float proposals (optional).
    """

    A: np.ndarray
    s: int
    index: np.ndarray
    extra: flint.fmpq_mat
    bound: int | None = None
    F: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", read_only(np.asarray(self.index, dtype=np.intp)))
        if self.bound is None:
            object.__setattr__(self, "bound", int(np.abs(self.A).max()) if self.A.size else 0)
        object.__setattr__(self, "extra", frozen(self.extra))
        if self.F is not None and (self.F.shape != self.A.shape or self.bound >= _FLOAT_EXACT):  # type: ignore[operator]
            raise ValueError("F must be the float64 copy of A, with max|A| < 2^53")

    @classmethod
    def of(
        cls,
        A: np.ndarray,
        s: int,
        index,
        extra: flint.fmpq_mat | None = None,
        bound: int | None = None,
        F: np.ndarray | None = None,
    ) -> RowSet:
        """A row set; ``extra`` defaults to no rows."""
        return cls(A, int(s), index, extra if extra is not None else flint.fmpq_mat(0, A.shape[1]), bound, F)

    @classmethod
    def from_matrix(cls, P: flint.fmpq_mat) -> RowSet:
        """All rows of an exact matrix (``int64`` when they fit, else Python integers)."""
        form = from_fmpq_mat(P)
        if form is None:
            Z, d = P.numer_denom()
            form = (np.array([int(v) for v in Z.entries()], dtype=object).reshape(P.nrows(), P.ncols()), int(d))
        A, s = form
        exact_floats = A.dtype != object and (not A.size or int(np.abs(A).max()) < _FLOAT_EXACT)
        return cls.of(A, s, np.arange(P.nrows()), F=read_only(A.astype(np.float64)) if exact_floats else None)

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.index) + self.extra.nrows()

    @property
    def block(self) -> np.ndarray:
        """The integer rows ``A[index]`` (a copy)."""
        return self.A[self.index]

    def exact(self) -> flint.fmpq_mat:
        """All rows as an ``fmpq_mat`` (slow for large sets: for exact fallbacks)."""
        head = to_fmpq_mat(self.block, self.s)
        if not self.extra.nrows():
            return head
        rows = head.tolist() + self.extra.tolist()
        return flint.fmpq_mat(len(rows), self.A.shape[1], [v for r in rows for v in r])

    def floats(self, k: int) -> np.ndarray:
        """All rows divided by ``2**k`` as float64 (a proposal for float solvers, not exact).

        >>> RowSet.of(np.array([[3, -8]]), 4, [0], flint.fmpq_mat(1, 2, [1, 2])).floats(1)
        array([[ 0.375, -1.   ],
               [ 0.5  ,  1.   ]])
        """
        scale = flint.fmpq(1, 2**k) if k >= 0 else flint.fmpq(2**-k)
        n, M = len(self.index), self.A.shape[1]
        out = np.empty((n + self.extra.nrows(), M))
        if self.A.dtype != object and self.s.bit_length() < 900 and -900 < k < 900:
            for lo in range(0, n, _CHUNK):  # in row blocks: no full-size temporaries
                block = out[lo : min(lo + _CHUNK, n)]
                block[:] = (self.F if self.F is not None else self.A)[self.index[lo : lo + _CHUNK]]
                block /= float(self.s)  # rounded: a proposal
                block *= 2.0**-k
        else:
            values = [float(flint.fmpq(int(v), self.s) * scale) for v in self.block.ravel().tolist()]
            out[:n] = np.array(values).reshape(n, M)
        out[n:] = self.extra_floats(k)
        return out

    def extra_floats(self, k: int) -> np.ndarray:
        """The rows of ``extra`` divided by ``2**k`` as float64 (a proposal)."""
        scale = flint.fmpq(1, 2**k) if k >= 0 else flint.fmpq(2**-k)
        values = [float(v * scale) for v in self.extra.entries()]
        return np.array(values, dtype=np.float64).reshape(self.extra.nrows(), self.A.shape[1])

    def block_products(self, h: flint.fmpq_mat) -> tuple[np.ndarray, int]:
        """``(v, d)``: the integer vector ``v = A[index] H`` with ``⟨h, x⟩ = v / d`` on the block rows."""
        H, dh = integer_vector(h)
        return _matvec(self.A, self.index, H, self.bound, self.F), dh * self.s  # type: ignore[arg-type]

    def extra_values(self, h: flint.fmpq_mat) -> list[flint.fmpq]:
        """``⟨h, x⟩`` for the exact rows."""
        return (self.extra * h).entries() if self.extra.nrows() else []

    def values(self, h: flint.fmpq_mat) -> list[flint.fmpq]:
        """``⟨h, x⟩`` for every row, in order (slow for large sets: for messages and small sets)."""
        v, d = self.block_products(h)
        return [flint.fmpq(int(a), d) for a in v.tolist()] + self.extra_values(h)

    def first_violation(
        self, h: flint.fmpq_mat, c: flint.fmpq, sign: int, products: tuple[np.ndarray, int] | None = None
    ) -> tuple[int, flint.fmpq] | None:
        """The first row (position, ``⟨h, x⟩ - c``) with ``sign (⟨h, x⟩ - c) ≤ 0``, or ``None``
        when every row lies strictly on the ``sign`` side of the hyperplane ``⟨h, x⟩ = c``.

        >>> from symtrunc.exact.matrix import qvector
        >>> S = RowSet.of(np.array([[2, 0], [3, 1], [0, 2]]), 1, [0, 1, 2])
        >>> S.first_violation(qvector([1, 0]), flint.fmpq(1), 1)
        (2, -1)

        ``products``: :meth:`block_products` of ``h`` when already computed.
        """
        v, d = self.block_products(h) if products is None else products
        r = d * c  # sign (v / d - c) > 0  <=>  sign (v - r) > 0
        if len(v):
            if v.dtype == object:
                bad = sign * (v * int(r.q) - int(r.p)) <= 0
            elif sign > 0:
                bad = v <= np.int64(clip64(int(r.p) // int(r.q)))
            else:
                bad = v >= np.int64(clip64(-(-int(r.p) // int(r.q))))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                return i, flint.fmpq(int(v[i]), d) - c
        for m, g in enumerate(self.extra_values(h)):
            if sign * (g - c) <= 0:
                return len(self.index) + m, g - c
        return None

    def extremes(self, h: flint.fmpq_mat) -> tuple[flint.fmpq, flint.fmpq]:
        """``(min, max)`` of ``⟨h, x⟩`` over the rows (the set must not be empty)."""
        v, d = self.block_products(h)
        vals = self.extra_values(h)
        if len(v):
            vals += [flint.fmpq(int(v.min()), d), flint.fmpq(int(v.max()), d)]
        return min(vals), max(vals)
