r"""Exact inertia of a rational symmetric matrix and exact directions of negative curvature.

The inertia (n₊, n₋, n₀) is read off the characteristic polynomial with Descartes' rule of
signs, which is exact for a polynomial with only real roots (H symmetric). A direction u
with uᵀHu < 0 is found by exact symmetric elimination (Schur complements over Q): a
negative pivot, or a zero pivot with a non-zero off-diagonal entry, gives one; if neither
ever occurs, H is positive semidefinite.

Examples
--------
>>> import flint
>>> H = flint.fmpq_mat(2, 2, [1, 2, 2, 1])
>>> inertia(H)
(1, 1, 0)
>>> u = negative_direction(H); u
[-2, 1]
>>> quadratic_form(H, u)
-3
>>> negative_direction(flint.fmpq_mat(2, 2, [1, 0, 0, 0])) is None
True
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import flint

from symtrunc.exact.matrix import rows

__all__ = ["inertia", "negative_direction", "quadratic_form"]


def _sign_changes(coeffs: Sequence[flint.fmpq]) -> int:
    nz = [c for c in coeffs if c != 0]
    return sum((a > 0) != (b > 0) for a, b in itertools.pairwise(nz))


def inertia(H: flint.fmpq_mat) -> tuple[int, int, int]:
    """(number of positive, negative, zero eigenvalues) of the symmetric matrix ``H``, exactly.

    >>> import flint
    >>> inertia(flint.fmpq_mat(3, 3, [2, 0, 0, 0, 0, 0, 0, 0, -1]))
    (1, 1, 1)
    """
    n = H.nrows()
    if n == 0:
        return (0, 0, 0)
    if H.transpose() != H:
        raise ValueError("inertia needs a symmetric matrix")
    p = H.charpoly().coeffs()  # constant first
    zeros = next(i for i, c in enumerate(p) if c != 0)
    q = p[zeros:]
    pos = _sign_changes(q)
    neg = _sign_changes([c if i % 2 == 0 else -c for i, c in enumerate(q)])
    return pos, neg, zeros


def quadratic_form(H: flint.fmpq_mat, u: Sequence) -> flint.fmpq:
    """uᵀHu, exactly."""
    n = H.nrows()
    col = flint.fmpq_mat(n, 1, list(u))
    return (col.transpose() * H * col)[0, 0]


def negative_direction(H: flint.fmpq_mat) -> list[flint.fmpq] | None:
    """A rational u with uᵀHu < 0, or None if H is positive semidefinite (exact)."""
    n = H.nrows()
    S = rows(H)
    E = [[flint.fmpq(int(i == k)) for k in range(n)] for i in range(n)]  # E[i] = basis vector i
    alive = list(range(n))
    while alive:
        for i in alive:
            if S[i][i] < 0:
                return E[i]
        piv = next((i for i in alive if S[i][i] > 0), None)
        if piv is None:  # zero diagonal: any non-zero off-diagonal entry gives a negative direction
            for i in alive:
                for k in alive:
                    if k != i and S[i][k] != 0:
                        s = 1 if S[i][k] > 0 else -1
                        return [a - s * b for a, b in zip(E[i], E[k])]
            return None
        alive.remove(piv)
        d = S[piv][piv]
        for i in alive:
            f = S[i][piv] / d
            if f == 0:
                continue
            E[i] = [a - f * b for a, b in zip(E[i], E[piv])]
            for k in alive:
                S[i][k] -= f * S[piv][k]
    return None
