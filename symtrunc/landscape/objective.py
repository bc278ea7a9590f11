r"""Exact true loss, generalized gradient and Hessian of a shallow network against an affine target.

With the uniform probability measure on [lo, hi],

.. math:: L(φ) = \frac{1}{hi-lo}\int_{lo}^{hi} (N^φ(x) - αx - β)^2\,dx,

.. math:: ∇L(φ) = \frac{2}{hi-lo}\int r\,J,\qquad
          H(φ) = \frac{2}{hi-lo}\Big(\int J J^\top + \int r\,∂^2 N\Big) + \text{kink terms},

with r = N^φ − f and J = ∂N^φ/∂φ (∂N/∂w_j = v_j σ'(z_j) x, ∂N/∂b_j = v_j σ'(z_j),
∂N/∂v_j = σ(z_j), ∂N/∂c = 1). Every integral is a sum of exact polynomial integrals over the
pieces (:mod:`symtrunc.landscape.piecewise`). A kink of a live neuron at t_j ∈ (lo, hi)
adds κ v_j r(t_j) (t_j², t_j, 1)/|w_j| (times 2/(hi−lo)) to the (w_j,w_j), (w_j,b_j),
(b_j,b_j) entries, κ = σ'(0+) − σ'(0−).

The gradient is the *generalized* gradient with the activation's σ'(0) convention; it is the
true gradient wherever :func:`is_differentiable` holds. The Hessian is the classical one
wherever :func:`is_twice_differentiable` holds; elsewhere it is the Hessian of the smooth
piece that contains φ (see :func:`hessian`).

Examples
--------
Test vector TV1 of the reference (α = 1, β = 0 on [0, 1]):

>>> from symtrunc.landscape.params import ShallowParams, Target
>>> phi = ShallowParams.from_values(w=[1, -2], b=["-1/2", 1], v=[3, "1/2"], c="-1/4")
>>> loss(phi, Target(1, 0))
7/48
>>> gradient(phi, Target(1, 0))
[-7/16, -5/96, -3/4, -1/8, -1/48, -1/24, -1/2]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import flint

from symtrunc.landscape.params import Interval, ShallowParams, Target, default_interval
from symtrunc.landscape.piecewise import (
    Piece,
    branch_polynomials,
    moments,
    pieces,
    residual,
    residual_at,
)

__all__ = [
    "Smoothness",
    "directional_derivative",
    "gradient",
    "hessian",
    "is_differentiable",
    "is_twice_differentiable",
    "loss",
    "smoothness",
]

_Q0 = flint.fmpq(0)
_Branch = tuple[list[flint.fmpq], list[flint.fmpq], flint.fmpq]  # σ(z_j), σ'(z_j) in x and σ'' on a piece


def _piece_integrals(
    phi: ShallowParams, target: Target, iv: Interval
) -> Iterator[tuple[Piece, list[flint.fmpq], list[flint.fmpq], list[flint.fmpq]]]:
    """Per piece P of [lo, hi]: P, the moments m_k = ∫_P x^k (k ≤ 4), the residual r = N^φ − f
    on P (coefficients in x) and μ_k = ∫_P r x^k (k ≤ 2).

    These are all the integrals over P that the loss, gradient and Hessian need: every
    integrand is a polynomial of degree ≤ 4 in x.
    """
    for P in pieces(phi, iv):
        r = residual(phi, target, P)
        m = moments(P, 4)
        yield P, m, r, [r[0] * m[k] + r[1] * m[k + 1] + r[2] * m[k + 2] for k in range(3)]


def _branches(phi: ShallowParams, P: Piece) -> list[_Branch]:
    """(σ(z_j), σ'(z_j), σ'') of every neuron on the piece P (see :func:`branch_polynomials`)."""
    return [branch_polynomials(phi, j, s) for j, s in enumerate(P.signs)]


def loss(phi: ShallowParams, target: Target, interval: Interval | None = None) -> flint.fmpq:
    """The exact true loss L(φ) (mean squared error under the uniform measure on [lo, hi]).

    >>> from symtrunc.landscape.params import ShallowParams, Target, Interval
    >>> loss(ShallowParams.from_values([], [], [], "1/2"), Target(1, 0))
    1/12
    >>> loss(ShallowParams.from_values([], [], [], 0), Target(1, 0), Interval(-1, 2))
    1
    """
    iv = default_interval(interval)
    total = _Q0
    for _, _, r, mu in _piece_integrals(phi, target, iv):
        total += r[0] * mu[0] + r[1] * mu[1] + r[2] * mu[2]  # ∫_P r² = Σ_k r_k ∫_P r x^k
    return total / iv.length


def _rows(phi: ShallowParams, branches: list[_Branch]) -> list[tuple[int, list[flint.fmpq]]]:
    """Non-zero rows of J on a piece with these branches: (coordinate index, coefficients in x)."""
    n = phi.width
    out = [(3 * n, [flint.fmpq(1), _Q0, _Q0])]
    for j, (sig, der, _) in enumerate(branches):
        v = phi.v[j]
        if v != 0 and (der[0] != 0 or der[1] != 0):
            out.append((j, [_Q0, v * der[0], v * der[1]]))
            out.append((n + j, [v * der[0], v * der[1], _Q0]))
        if any(x != 0 for x in sig):
            out.append((2 * n + j, sig))
    return out


def gradient(phi: ShallowParams, target: Target, interval: Interval | None = None) -> list[flint.fmpq]:
    """The exact generalized gradient (w_1..w_N, b_1..b_N, v_1..v_N, c).

    With the activation's σ'(0) convention for neurons with w_j = b_j = 0 (reference TV6):

    >>> from symtrunc.landscape.params import ShallowParams, Target
    >>> from symtrunc.landscape.activations import Activation
    >>> phi = ShallowParams.from_values([0], [0], [1], "1/2")
    >>> gradient(phi, Target(1, 0))
    [0, 0, 0, 0]
    >>> gradient(ShallowParams.from_values([0], [0], [1], "1/2", Activation.relu(1)), Target(1, 0))
    [-1/6, 0, 0, 0]
    """
    iv = default_interval(interval)
    g = [_Q0] * (3 * phi.width + 1)
    for P, _, _, mu in _piece_integrals(phi, target, iv):
        for a, coef in _rows(phi, _branches(phi, P)):
            g[a] += coef[0] * mu[0] + coef[1] * mu[1] + coef[2] * mu[2]
    s = 2 / iv.length
    return [s * x for x in g]


def hessian(phi: ShallowParams, target: Target, interval: Interval | None = None) -> flint.fmpq_mat:
    """The exact Hessian of the smooth piece of L containing φ, as an ``fmpq_mat``.

    It is ∂²L(φ) whenever :func:`is_twice_differentiable` holds. Otherwise it is computed with
    the pieces and kinks as they are at φ (kinks exactly at lo or hi contribute no Dirac
    term; the σ'(0) convention for w_j = b_j = 0), i.e. the one-sided Hessian along
    perturbations that keep every kink on its side.

    Reference TV8 (a B_2 saddle), first row:

    >>> from symtrunc.landscape.params import ShallowParams, Target
    >>> phi = ShallowParams.from_values([1, -1], ["-1/3", "2/3"], ["2/3", "-2/3"], "1/2")
    >>> H = hessian(phi, Target(1, 0))
    >>> [H[0, k] for k in range(7)]
    [202/729, -56/729, 10/27, -4/27, 56/243, 8/243, 16/27]
    """
    iv = default_interval(interval)
    n = phi.width
    P_ = 3 * n + 1
    H = flint.fmpq_mat(P_, P_)
    ps = list(_piece_integrals(phi, target, iv))
    C = flint.fmpq_mat(P_, 3 * len(ps))  # ∫ J Jᵀ = C · blockdiag(moment matrices) · Cᵀ, one product
    M = flint.fmpq_mat(3 * len(ps), 3 * len(ps))
    for p, (P, m, _, mu) in enumerate(ps):
        branches = _branches(phi, P)
        for a, coef in _rows(phi, branches):
            for k in range(3):
                C[a, 3 * p + k] = coef[k]
        for k in range(3):
            for l in range(3):
                M[3 * p + k, 3 * p + l] = m[k + l]
        for j, (_, der, e) in enumerate(branches):  # ∫ r ∂²N on the piece
            vw = der[0] * mu[1] + der[1] * mu[2]
            vb = der[0] * mu[0] + der[1] * mu[1]
            H[2 * n + j, j] += vw
            H[j, 2 * n + j] += vw
            H[2 * n + j, n + j] += vb
            H[n + j, 2 * n + j] += vb
            if e != 0 and phi.v[j] != 0:
                ve = phi.v[j] * e
                H[j, j] += ve * mu[2]
                H[j, n + j] += ve * mu[1]
                H[n + j, j] += ve * mu[1]
                H[n + j, n + j] += ve * mu[0]
    H += C * M * C.transpose()
    kappa = phi.activation.kink
    for j in range(n):  # Dirac terms of the kinks inside (lo, hi)
        w, b, v = phi.neuron(j)
        if kappa == 0 or w == 0 or v == 0:
            continue
        t = -b / w
        if not iv.lo < t < iv.hi:
            continue
        d = kappa * v * residual_at(phi, target, t) / abs(w)
        H[j, j] += d * t * t
        H[j, n + j] += d * t
        H[n + j, j] += d * t
        H[n + j, n + j] += d
    s = 2 / iv.length
    return H * s


@dataclass(frozen=True)
class Smoothness:
    """Exact smoothness of L at φ, with the reasons.

    Attributes
    ----------
    differentiable : bool
        L is (Fréchet) differentiable at φ (then the generalized gradient is ∇L(φ)).
    twice_differentiable : bool
        L is C² on a neighbourhood of φ (then :func:`hessian` is ∂²L(φ)).
    reasons : tuple of str
        Why either fails (empty if both hold).
    """

    differentiable: bool
    twice_differentiable: bool
    reasons: tuple[str, ...]


def smoothness(phi: ShallowParams, target: Target, interval: Interval | None = None) -> Smoothness:
    """Decide differentiability and C² regularity of L at φ exactly.

    Rules (kinked activations; the square is smooth everywhere):

    * a live neuron with w_j = b_j = 0 makes L non-differentiable unless L(φ) = 0: the
      directional derivative 2 v_j ∫ r σ(δw x + δb) dμ is linear in (δw, δb) only if r ≡ 0;
    * L is C² near φ iff no neuron has w_j = b_j = 0 and every live neuron whose kink sits
      exactly at lo or hi has r = 0 there (otherwise the Dirac term κ v_j r(t_j)/|w_j|
      switches on and off across φ).

    >>> from symtrunc.landscape.params import ShallowParams, Target
    >>> smoothness(ShallowParams.from_values([0], [0], [1], "1/2"), Target(1, 0)).differentiable
    False
    >>> s = smoothness(ShallowParams.from_values([1], [-1], [1], "1/2"), Target(1, 0))
    >>> s.differentiable, s.twice_differentiable, s.reasons
    (True, False, ('neuron 1 (live) has its kink at the endpoint 1, where r = -1/2 ≠ 0',))
    """
    iv = default_interval(interval)
    if not phi.activation.has_kink:
        return Smoothness(True, True, ())
    reasons = []
    diff = True
    zero_loss = None
    for j in range(phi.width):
        w, b, v = phi.neuron(j)
        if w == 0 and b == 0:
            if v != 0:
                if zero_loss is None:
                    zero_loss = loss(phi, target, iv) == 0
                if not zero_loss:
                    diff = False
                    reasons.append(f"neuron {j + 1} has w = b = 0 and v = {v} ≠ 0 while L > 0: not differentiable")
                    continue
            reasons.append(f"neuron {j + 1} has w = b = 0: not C² near φ")
        elif w != 0 and v != 0:
            t = -b / w
            if t in (iv.lo, iv.hi):
                rt = residual_at(phi, target, t)
                if rt != 0:
                    reasons.append(f"neuron {j + 1} (live) has its kink at the endpoint {t}, where r = {rt} ≠ 0")
    return Smoothness(diff, not reasons, tuple(reasons))


def is_differentiable(phi: ShallowParams, target: Target, interval: Interval | None = None) -> bool:
    """Whether L is differentiable at φ (decided exactly, see :func:`smoothness`)."""
    return smoothness(phi, target, interval).differentiable


def is_twice_differentiable(phi: ShallowParams, target: Target, interval: Interval | None = None) -> bool:
    """Whether L is C² on a neighbourhood of φ (decided exactly, see :func:`smoothness`)."""
    return smoothness(phi, target, interval).twice_differentiable


def directional_derivative(
    phi: ShallowParams, target: Target, direction: Sequence, interval: Interval | None = None
) -> flint.fmpq:
    """The exact one-sided directional derivative lim_{h↓0} (L(φ + h u) − L(φ))/h.

    It equals ⟨∇L, u⟩ where L is differentiable; for a neuron with w_j = b_j = 0 the
    (w_j, b_j) part contributes 2 v_j ∫ r σ(u_w x + u_b) dμ, positively homogeneous but not
    linear (reference (D2)).

    >>> from symtrunc.landscape.params import ShallowParams, Target
    >>> phi = ShallowParams.from_values([0], [0], [1], "1/2")
    >>> [directional_derivative(phi, Target(1, 0), u) for u in ([1, 0, 0, 0], [-1, 0, 0, 0])]
    [-1/6, 0]
    """
    iv = default_interval(interval)
    u = phi.as_direction(direction)
    n = phi.width
    # neurons with w = b = 0: the (w, b) part becomes a flat probe neuron
    probes = [j for j in range(n) if phi.w[j] == 0 and phi.b[j] == 0 and phi.activation.has_kink]
    g = gradient(phi, target, iv)
    total = _Q0
    for a in range(3 * n + 1):
        if a < 2 * n and a % n in probes:
            continue
        total += g[a] * u[a]
    for j in probes:
        if u[j] == 0 and u[n + j] == 0:
            continue
        probe = ShallowParams([*phi.w, u[j]], [*phi.b, u[n + j]], [*phi.v, _Q0], phi.c, phi.activation)
        total += phi.v[j] * gradient(probe, target, iv)[3 * (n + 1) - 1]
    return total
