"""Square roots of rationals: outward-rounded rational bounds and exact sums of radicals.

Norms ``‖w‖ = √(‖w‖²)`` of rational vectors are irrational in general. The certificates
bound them from both sides by rationals (:func:`sqrt_bounds`, exact when the argument is a
perfect square), and exact identities between sums of norms (e.g. "pruning kept the penalty")
are decided in ``Q(√m_1, √m_2, …)``: every ``√q`` is written ``c √m`` with ``m`` a square-free
integer, and square roots of distinct square-free integers are linearly independent over ``Q``
(Besicovitch), so a sum vanishes iff each coefficient does (:func:`radical_sum`).

Examples
--------
>>> import flint
>>> sqrt_bounds(flint.fmpq(9, 4))
(3/2, 3/2)
>>> lo, hi = sqrt_bounds(flint.fmpq(2)); lo * lo < 2 < hi * hi, float(hi - lo) < 1e-20
(True, True)
>>> radical_sum([(1, flint.fmpq(8)), (-2, flint.fmpq(2)), (3, flint.fmpq(1, 4))])
{1: 3/2}
"""

from __future__ import annotations

from math import isqrt

import flint

from symtrunc.errors import UncertifiedError

__all__ = ["sqrt_bounds", "sqrt_lower", "squarefree_form", "radical_sum"]


def sqrt_bounds(q: flint.fmpq, bits: int = 96) -> tuple[flint.fmpq, flint.fmpq]:
    """Rationals ``lo <= √q <= hi`` with ``hi − lo <= 2^-bits / den(q)``; ``lo = hi`` iff ``q`` is a
    rational square.

    Raises
    ------
    ValueError
        For ``q < 0``.
    """
    q = flint.fmpq(q)
    if q < 0:
        raise ValueError("square root of a negative number")
    a, b = int(q.p), int(q.q)
    ab = a * b
    r = isqrt(ab)
    if r * r == ab:
        v = flint.fmpq(r, b)
        return v, v
    s = isqrt(ab << (2 * bits))
    return flint.fmpq(s, b << bits), flint.fmpq(s + 1, b << bits)


def sqrt_lower(q: flint.fmpq) -> flint.fmpq:
    """A rational ``<= √q`` (exact for squares)."""
    return sqrt_bounds(q)[0]


def squarefree_form(q: flint.fmpq) -> tuple[flint.fmpq, int]:
    """``(c, m)`` with ``√q = c √m``, ``c >= 0`` rational and ``m`` a square-free integer.

    >>> squarefree_form(flint.fmpq(18, 5))
    (3/5, 10)

    Raises
    ------
    UncertifiedError
        If ``num(q) den(q)`` has more than 200 bits (too large to factor reliably).
    """
    import sympy

    q = flint.fmpq(q)
    if q == 0:
        return flint.fmpq(0), 1
    a, b = int(q.p), int(q.q)
    N = a * b  # √(a/b) = √(a b) / b
    if N.bit_length() > 200:
        raise UncertifiedError("cannot factor a large integer to decide a radical identity")
    square, free = 1, 1
    for pr, e in sympy.factorint(N).items():
        square *= pr ** (e // 2)
        free *= pr ** (e % 2)
    return flint.fmpq(square, b), free


def radical_sum(terms) -> dict[int, flint.fmpq]:
    """``Σ_k c_k √q_k`` as ``{m: coefficient of √m}`` (zero coefficients dropped); the sum is
    zero iff the result is ``{}``.

    Parameters
    ----------
    terms : iterable of (coefficient, radicand)
        Rational coefficients ``c_k`` and radicands ``q_k >= 0``.
    """
    out: dict[int, flint.fmpq] = {}
    for c, q in terms:
        k, m = squarefree_form(flint.fmpq(q))
        out[m] = out.get(m, flint.fmpq(0)) + flint.fmpq(c) * k
    return {m: v for m, v in sorted(out.items()) if v != 0}
