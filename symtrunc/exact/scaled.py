"""Exact rationals stored as integer numerators with one positive scale per column."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import flint
import numpy as np

from symtrunc.errors import DataError

__all__ = ["EXACT_FLOAT_BOUND", "Scaled"]

EXACT_FLOAT_BOUND = 2**53
"""Integers of absolute value ``≤ 2^53`` (and all sums of them below it) are exact in float64."""


class Scaled:
    """Exact rationals ``numerators[:, j] / scales[j]``: points as rows, one scale per column.

    Attributes
    ----------
    numerators : numpy.ndarray or flint.fmpz_mat
        Shape ``(n, m)``: a float64 array holding exact integers of absolute value ``≤ 2^53``
        (``backend == "float64"``), or a python-flint integer matrix (``"flint"``).
    scales : tuple of int
        Positive integer scale of each column.
    """

    __slots__ = ("numerators", "scales")

    def __init__(self, numerators: Any, scales: Sequence[int]) -> None:
        self.numerators = numerators
        self.scales = tuple(int(s) for s in scales)

    @property
    def backend(self) -> str:
        """``"float64"`` or ``"flint"``."""
        return "float64" if isinstance(self.numerators, np.ndarray) else "flint"

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, m)``."""
        N = self.numerators
        return tuple(N.shape) if isinstance(N, np.ndarray) else (N.nrows(), N.ncols())

    def __len__(self) -> int:
        return self.shape[0]

    def integer_rows(self) -> list[list[int]]:
        """The numerators as Python integers, row by row."""
        N = self.numerators
        if isinstance(N, np.ndarray):
            return N.astype(np.int64).tolist()
        return [[int(v) for v in r] for r in N.tolist()]

    def fmpz(self) -> flint.fmpz_mat:
        """The numerators as a python-flint integer matrix."""
        N = self.numerators
        if isinstance(N, np.ndarray):
            n, m = N.shape
            return flint.fmpz_mat(n, m, N.astype(np.int64).ravel().tolist())
        return N

    def to_fmpq_mat(self) -> flint.fmpq_mat:
        """The exact values as an ``(n, m)`` rational matrix."""
        n, m = self.shape
        Z = flint.fmpq_mat(self.fmpz())
        if all(s == 1 for s in self.scales):
            return Z
        D = flint.fmpq_mat(m, m, [flint.fmpq(1, self.scales[i]) if i == j else 0 for i in range(m) for j in range(m)])
        return Z * D

    def value(self, i: int, j: int) -> flint.fmpq:
        """Exact value of point ``i``, column ``j``."""
        N = self.numerators
        v = int(N[i, j]) if isinstance(N, np.ndarray) else int(N[i, j])
        return flint.fmpq(v, self.scales[j])

    def signs(self) -> np.ndarray:
        """Signs of the values (``-1, 0, 1``) as an ``int8`` array of shape ``(n, m)``."""
        N = self.numerators
        if isinstance(N, np.ndarray):
            return np.sign(N).astype(np.int8)
        n, m = self.shape
        vals = N.entries()
        return np.fromiter(((v > 0) - (v < 0) for v in vals), dtype=np.int8, count=n * m).reshape(n, m)

    def equals(self, targets: Sequence[flint.fmpq]) -> np.ndarray:
        """Boolean mask of the points whose values equal ``targets`` (one per column) exactly."""
        n, m = self.shape
        if len(targets) != m:
            raise DataError(f"{len(targets)} targets for {m} outputs")
        ok = np.ones(n, dtype=bool)
        want = []
        for j, t in enumerate(targets):
            scaled = flint.fmpq(t) * self.scales[j]
            if scaled.q != 1:  # the numerators are integers: no point can match
                return np.zeros(n, dtype=bool)
            want.append(int(scaled.p))
        N = self.numerators
        if isinstance(N, np.ndarray):
            for j, w in enumerate(want):
                if abs(w) > EXACT_FLOAT_BOUND:  # |numerators| <= 2^53 in this backend
                    return np.zeros(n, dtype=bool)
                ok &= N[:, j] == float(w)
            return ok
        vals = N.entries()
        for j, w in enumerate(want):
            col = vals[j::m]
            ok &= np.fromiter((v == w for v in col), dtype=bool, count=n)
        return ok

    def common_scale_rows(self) -> tuple[list, int]:
        """``(values, C)``: the transposed values ``(m, n)`` row-major over a common scale ``C``."""
        n, m = self.shape
        C = math.lcm(*self.scales) if self.scales else 1
        Zt = self.fmpz().transpose()
        if any(C != s for s in self.scales):
            D = flint.fmpz_mat(m, m, [C // self.scales[i] if i == j else 0 for i in range(m) for j in range(m)])
            Zt = D * Zt
        return Zt.entries(), C
