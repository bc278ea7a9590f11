r"""The realization of a shallow network as an exact piecewise polynomial on [lo, hi].

For ReLU and leaky ReLU the pre-activation z_j(x) = w_j x + b_j changes sign only at the
breakpoint t_j = −b_j/w_j, so [lo, hi] splits into pieces between consecutive breakpoints,
and on each piece every σ(z_j(x)) is a polynomial in x (for the square, one piece). All
integrals of the loss, gradient and Hessian are then sums over the pieces of exact moments
∫_p^q x^k dx.

Examples
--------
>>> from symtrunc.landscape.params import ShallowParams, Target, Interval
>>> phi = ShallowParams.from_values(w=[1, -2], b=["-1/2", 1], v=[3, "1/2"], c="-1/4")
>>> [(str(P.lo), str(P.hi), P.signs) for P in pieces(phi, Interval())]
[('0', '1/2', (-1, 1)), ('1/2', '1', (1, -1))]
>>> residual(phi, Target(1, 0), pieces(phi, Interval())[1])
[-7/4, 2, 0]
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import flint

from symtrunc.landscape.params import Interval, ShallowParams, Target

__all__ = ["Piece", "branch_polynomials", "breakpoints", "moments", "pieces", "residual", "residual_at"]

_Q0 = flint.fmpq(0)


@dataclass(frozen=True)
class Piece:
    """A maximal interval [lo, hi] on which no pre-activation changes sign.

    ``signs[j]`` is the sign of z_j on the open piece; 0 means z_j ≡ 0 (w_j = b_j = 0).
    """

    lo: flint.fmpq
    hi: flint.fmpq
    signs: tuple[int, ...]


def _sign(x: flint.fmpq) -> int:
    return (x > 0) - (x < 0)


def breakpoints(phi: ShallowParams, interval: Interval) -> list[flint.fmpq]:
    """The distinct kinks t_j = −b_j/w_j strictly inside (lo, hi), sorted (none for the square).

    >>> from symtrunc.landscape.params import ShallowParams, Interval
    >>> breakpoints(ShallowParams.from_values([1, 2, 0, 1], ["-1/2", -1, 1, 0], [1, 1, 1, 1], 0), Interval())
    [1/2]
    """
    if not phi.activation.has_kink:
        return []
    ts = {-b / w for w, b in zip(phi.w, phi.b) if w != 0}
    return sorted(t for t in ts if interval.lo < t < interval.hi)


def pieces(phi: ShallowParams, interval: Interval) -> list[Piece]:
    """The pieces of [lo, hi] with the sign of every pre-activation on each.

    For the square (no kinks) there is one piece, and the sign is 1 unless z_j vanishes
    identically (a sign taken at the midpoint could be 0 where z_j merely has its root):

    >>> from symtrunc.landscape.params import ShallowParams, Interval
    >>> from symtrunc.landscape.activations import Activation
    >>> pieces(ShallowParams.from_values([-2, 0], ["3/2", 0], [1, 1], 0, Activation.quadratic()), Interval("-1/2", 2))
    [Piece(lo=-1/2, hi=2, signs=(1, 0))]
    """
    if not phi.activation.has_kink:
        return [Piece(interval.lo, interval.hi, tuple(int(w != 0 or b != 0) for w, b in zip(phi.w, phi.b)))]
    pts = [interval.lo, *breakpoints(phi, interval), interval.hi]
    out = []
    for p, q in itertools.pairwise(pts):
        m = (p + q) / 2
        out.append(Piece(p, q, tuple(_sign(w * m + b) for w, b in zip(phi.w, phi.b))))
    return out


def branch_polynomials(phi: ShallowParams, j: int, sign: int) -> tuple[list[flint.fmpq], list[flint.fmpq], flint.fmpq]:
    """Coefficients in x (degree ≤ 2, constant first) of σ(z_j(x)), σ'(z_j(x)) and σ'' on a piece.

    >>> from symtrunc.landscape.params import ShallowParams
    >>> from symtrunc.landscape.activations import Activation
    >>> phi = ShallowParams.from_values([2], [1], [1], 0, Activation.quadratic())
    >>> branch_polynomials(phi, 0, 1)
    ([1, 4, 4], [2, 4, 0], 2)
    """
    w, b = phi.w[j], phi.b[j]
    (s0, s1, s2), (d0, d1), e = phi.activation.branch(sign)
    sig = [s0 + s1 * b + s2 * b * b, s1 * w + 2 * s2 * b * w, s2 * w * w]
    der = [d0 + d1 * b, d1 * w, _Q0]
    return sig, der, e


def residual(phi: ShallowParams, target: Target, piece: Piece) -> list[flint.fmpq]:
    """Coefficients (constant first, degree ≤ 2) of r = N^φ − f on ``piece``."""
    r = [phi.c - target.beta, -target.alpha, _Q0]
    for j, s in enumerate(piece.signs):
        if s == 0 or phi.v[j] == 0:
            continue
        sig, _, _ = branch_polynomials(phi, j, s)
        for k in range(3):
            r[k] += phi.v[j] * sig[k]
    return r


def residual_at(phi: ShallowParams, target: Target, x: flint.fmpq) -> flint.fmpq:
    """r(x) = N^φ(x) − f(x), exactly.

    >>> from symtrunc.landscape.params import ShallowParams, Target
    >>> residual_at(ShallowParams.from_values([1], [0], [2], 0), Target(1, 0), flint.fmpq(1, 3))
    1/3
    """
    return phi.realization(x) - target(x)


def moments(piece: Piece, degree: int) -> list[flint.fmpq]:
    """[∫_lo^hi x^k dx for k = 0..degree] over ``piece``."""
    out, plo, phi_ = [], piece.lo, piece.hi
    for k in range(degree + 1):
        out.append((phi_ - plo) / (k + 1))
        plo, phi_ = plo * piece.lo, phi_ * piece.hi
    return out
