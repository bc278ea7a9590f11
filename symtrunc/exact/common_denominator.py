"""Rational matrices in common-denominator form ``X = A / s`` with ``A`` a NumPy ``int64`` array.

Large data sets are integer (pixels, counts) or binary floats, so ``X = A / s`` with an ``int64``
array ``A`` and one positive integer ``s`` holds them exactly in 8 bytes per entry, where an
``fmpq_mat`` needs a Python object per entry to build. The form is *normalized*: ``s`` is the
least common denominator, so ``gcd(A, s) = 1`` and two equal matrices have equal forms.

Examples
--------
>>> import numpy as np
>>> A, s = from_numpy(np.array([[0.5, 3.0], [1.25, -2.0]]))
>>> A.tolist(), s
([[2, 12], [5, -8]], 4)
>>> to_fmpq_mat(A, s)
[1/2,  3]
[5/4, -2]
>>> B, t = from_fmpq_mat(to_fmpq_mat(A, s))
>>> B.tolist() == A.tolist(), t == s
(True, True)
>>> from_numpy(np.array([[1e300, 1.0]])) is None  # too large for int64
True
"""

from __future__ import annotations

import math

import flint
import numpy as np

__all__ = ["INT64_LIMIT", "from_numpy", "from_fmpq_mat", "to_fmpq_mat", "affine_form", "read_only"]

INT64_LIMIT = 2**62
"""Entries of ``A`` stay below this in absolute value (room for one addition without overflow)."""


def read_only(A: np.ndarray) -> np.ndarray:
    """``A`` marked read-only (exact objects hand out arrays nobody can change in place)."""
    A.flags.writeable = False
    return A


def from_numpy(X: np.ndarray) -> tuple[np.ndarray, int] | None:
    """The normalized form ``(A, s)`` of a finite numeric (bool, int, uint, float) array, or
    ``None`` when an entry of ``A`` would reach :data:`INT64_LIMIT` (floats: their exact binary
    values; ``s`` is then a power of two).

    >>> from_numpy(np.array([[3, -1]], dtype=np.uint8 if False else np.int16))[0].dtype
    dtype('int64')
    >>> from_numpy(np.array([[2**63]], dtype=np.uint64)) is None
    True
    """
    kind = X.dtype.kind
    if kind in "biu":
        if X.size and kind == "u" and X.dtype.itemsize == 8 and int(X.max()) >= INT64_LIMIT:
            return None
        A = X.astype(np.int64)
        if A.size and (int(A.max()) >= INT64_LIMIT or int(A.min()) <= -INT64_LIMIT):
            return None
        return read_only(A), 1
    if kind != "f":
        return None
    F = X.astype(np.float64)
    if not F.size:
        return read_only(np.zeros(F.shape, dtype=np.int64)), 1
    if np.all(F == np.rint(F)):  # whole numbers: s = 1
        if float(np.abs(F).max()) >= INT64_LIMIT:
            return None
        return read_only(F.astype(np.int64)), 1
    # x = m 2^e with |m| in [1/2, 1): m 2^53 is an integer whose trailing zeros lower the exponent
    m, e = np.frexp(F)
    mant = (m * 2.0**53).astype(np.int64)
    nz = mant != 0
    low = mant[nz] & -mant[nz]  # lowest set bit, a power of two
    k = int((53 - e[nz] - np.log2(low).astype(np.int64)).max())
    if k <= 0:  # pragma: no cover - whole numbers were handled above
        return None
    top = float(np.abs(F).max())
    if math.frexp(top)[1] + k > 62:  # max|A| = top 2^k would reach 2^62
        return None
    return read_only(np.ldexp(F, k).astype(np.int64)), 2**k  # exact: a power-of-two scaling to integers


def from_fmpq_mat(X: flint.fmpq_mat) -> tuple[np.ndarray, int] | None:
    """The normalized form of an exact matrix, or ``None`` when an entry of ``A`` reaches
    :data:`INT64_LIMIT`."""
    Z, s = X.numer_denom()
    entries = [int(v) for v in Z.entries()]
    if entries and max(max(entries), -min(entries)) >= INT64_LIMIT:
        return None
    return read_only(np.array(entries, dtype=np.int64).reshape(X.nrows(), X.ncols())), int(s)


def affine_form(W: flint.fmpq_mat, b: flint.fmpq_mat) -> tuple[np.ndarray, int]:
    """The homogeneous integer map of ``x ↦ W x + b``: ``(G, t)`` with ``t`` the least common
    denominator of ``W`` and ``b`` and ``G = t·[W | b]`` (``int64`` when every entry is below
    :data:`INT64_LIMIT`, else an object array of Python ints), so ``W x + b = G (x, 1) / t``.

    >>> G, t = affine_form(flint.fmpq_mat([[flint.fmpq(1, 2), 1]]), flint.fmpq_mat([[flint.fmpq(1, 3)]]))
    >>> G.tolist(), t
    ([[3, 6, 2]], 6)
    """
    (A, dz), (c, ez) = W.numer_denom(), b.numer_denom()
    d, e = int(dz), int(ez)
    t = d * e // math.gcd(d, e)
    m, n = W.nrows(), W.ncols()
    entries = [int(v) for v in (A * (t // d)).entries()] + [int(v) for v in (c * (t // e)).entries()]
    big = entries and max(max(entries), -min(entries)) >= INT64_LIMIT
    flat = np.array(entries, dtype=object if big else np.int64)
    G = np.empty((m, n + 1), dtype=flat.dtype)
    G[:, :n] = flat[: m * n].reshape(m, n)
    G[:, n] = flat[m * n :]
    return read_only(G), t


def to_fmpq_mat(A: np.ndarray, s: int) -> flint.fmpq_mat:
    """``A / s`` as an ``fmpq_mat``."""
    n, m = A.shape
    Z = flint.fmpz_mat(n, m, A.ravel().tolist())
    Q = flint.fmpq_mat(Z)
    return Q if s == 1 else Q / s
