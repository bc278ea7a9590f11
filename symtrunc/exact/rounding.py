"""Correct rounding of exact rationals to float64/float32, with the exact rounding error.

Examples
--------
>>> import flint
>>> arr, err = round_matrix(flint.fmpq_mat(1, 2, [flint.fmpq(1, 4), flint.fmpq(1, 3)]), "float64")
>>> arr.tolist(), err
([[0.25, 0.3333333333333333]], 1/54043195528445952)
>>> round_q(flint.fmpq(1, 3), "float32")
0.3333333432674408
>>> float_dtype("float32"), round_up(flint.fmpq(1, 3)) > 1 / 3, round_up(flint.fmpq(-1, 3)) == -1 / 3
(dtype('float32'), True, True)
"""

from __future__ import annotations

import math
from typing import Any

import flint
import numpy as np

from symtrunc.errors import DataError

__all__ = ["DTYPES", "float_dtype", "round_matrix", "round_q", "round_up"]

#: the float types exact values are rounded to
DTYPES = ("float64", "float32")


def float_dtype(dtype: Any) -> np.dtype:
    """``dtype`` as a NumPy dtype, checked to be one of :data:`DTYPES` (names, NumPy types, and
    ``torch.float64`` / ``torch.float32``, read by name without importing torch).

    >>> float_dtype("float32"), float_dtype(np.float64)
    (dtype('float32'), dtype('float64'))

    Raises
    ------
    DataError
        Any other type.
    """
    name = str(dtype)
    if name in ("torch.float64", "torch.float32"):
        dtype = name.removeprefix("torch.")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise DataError(f"unsupported dtype {dtype!r}; use 'float64' or 'float32'") from None
    if dt.name not in DTYPES:
        raise DataError(f"unsupported dtype {dtype!r}; use 'float64' or 'float32'")
    return dt


def _round_entries(ps: list[int], d: int, dt: np.dtype, what: str) -> np.ndarray:
    """Correctly rounded (to nearest, ties to even) values ``p / d`` as a 1-D array of ``dt``."""
    try:
        f64 = np.array([p / d for p in ps], dtype=np.float64)  # int / int is correctly rounded
    except OverflowError:
        raise DataError(f"{what}: an entry is too large for {dt.name}") from None
    if dt == np.float64:
        return f64
    with np.errstate(over="ignore"):
        f32 = f64.astype(np.float32)
    if not np.all(np.isfinite(f32)):
        raise DataError(f"{what}: an entry is too large for float32")
    # double rounding can only go wrong when the float64 lies exactly halfway between two
    # float32 neighbours: decide those (rare) entries from the exact value
    back = f32.astype(np.float64)
    inexact = np.nonzero(back != f64)[0]
    if inexact.size:
        lo = np.nextafter(f32[inexact], np.float32(-np.inf))
        hi = np.nextafter(f32[inexact], np.float32(np.inf))
        other = np.where(back[inexact] > f64[inexact], lo, hi)
        tie = np.abs(other.astype(np.float64) - f64[inexact]) == np.abs(back[inexact] - f64[inexact])
        for idx, alt in zip(inexact[tie], other[tie]):
            q, mid = flint.fmpq(ps[idx], d), flint.fmpq(*float(f64[idx]).as_integer_ratio())
            cur_above = float(f32[idx]) > float(f64[idx])
            if q != mid and (q > mid) != cur_above:
                f32[idx] = alt
    return f32


def round_matrix(A: flint.fmpq_mat, dtype: Any = "float64", what: str = "weight") -> tuple[np.ndarray, flint.fmpq]:
    """Round an exact matrix to the nearest floats (ties to even; float32 rounded from the exact
    value, never twice); return the array and the exact maximal rounding error.

    Raises
    ------
    DataError
        If an entry is too large for the dtype.
    """
    dt = np.dtype(dtype)
    m, n = A.nrows(), A.ncols()
    if m * n == 0:
        return np.zeros((m, n), dtype=dt), flint.fmpq(0)
    num, den = A.numer_denom()
    d = int(den)
    ps = [int(v) for v in num.entries()]
    arr = _round_entries(ps, d, dt, what)
    exact_int = 1 << (53 if dt == np.float64 else 24)
    worst_n, worst_d = 0, 1
    if d == 1 and max(abs(p) for p in ps) <= exact_int:
        pass  # small integers are exact
    else:
        for p, f in zip(ps, arr.tolist()):
            fn, fd = f.as_integer_ratio()
            en = abs(p * fd - fn * d)
            if en and en * worst_d > worst_n * d * fd:
                worst_n, worst_d = en, d * fd
    return arr.reshape(m, n), flint.fmpq(worst_n, worst_d)


def round_up(q: flint.fmpq) -> float:
    """The smallest float64 ``≥ q`` (``int / int`` is correctly rounded, then one step up if below)."""
    f = int(q.p) / int(q.q)
    if flint.fmpq(*f.as_integer_ratio()) < q:
        f = math.nextafter(f, math.inf)
    return f


def round_q(q: flint.fmpq, dtype: Any = "float64") -> float:
    """The nearest float64/float32 to ``q`` (ties to even), as a Python float.

    >>> round_q(flint.fmpq(2**24 + 1), "float32")   # a tie: rounds to the even neighbour
    16777216.0
    """
    return float(round_matrix(flint.fmpq_mat(1, 1, [q]), dtype)[0][0, 0])
