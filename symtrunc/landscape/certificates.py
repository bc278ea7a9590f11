r"""Exact certificates that a critical point is not a local minimum.

Two kinds, both re-checkable from the certificate alone (:func:`check_descent_ray`,
:func:`check_negative_curvature`):

* **descent ray** φ + εu. The direction is chosen so that every kink inside [lo, hi] moves
  affinely in ε. Then, for 0 < ε ≤ ε₀ (ε₀ below every event where a kink reaches lo, hi or
  another kink, or a pre-activation changes sign), L(φ + εu) is a polynomial in ε of degree
  ≤ 12. It is recovered exactly by interpolation at 13 nodes (node 0 by continuity), confirmed
  at one more node, and its lowest non-zero coefficient is negative: L decreases for all small
  ε > 0. A concrete rational step with L(φ + εu) < L(φ), evaluated directly, is included.
* **negative curvature**: ∇L(φ) = 0, u is supported on coordinates of neurons whose
  pre-activation is non-zero at both ends (so L is C² in those coordinates and c), and
  uᵀHu < 0 exactly; then L(φ + εu) = L(φ) + ε² uᵀHu/2 + o(ε²). A concrete decreasing step is
  included.

Examples
--------
Reference TV5 (a B_0 saddle, semi-inactive neuron at x = 1 with v w α > 0):

>>> from symtrunc.landscape.params import ShallowParams, Target, Interval
>>> phi = ShallowParams.from_values([1], [-1], [1], "1/2")
>>> cert = descent_ray(phi, Target(1, 0), Interval(), [0, 1, 0, 0])
>>> cert["order"], cert["leading"]
(2, '-1/2')
>>> check_descent_ray(phi, Target(1, 0), Interval(), cert)
True
>>> descent_ray(phi, Target(1, 0), Interval(), [0, -1, 0, 0]) is None
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import flint

from symtrunc.errors import DataError
from symtrunc.exact.rational import q_str, to_q
from symtrunc.landscape.objective import gradient, hessian, loss
from symtrunc.landscape.params import Interval, ShallowParams, Target
from symtrunc.landscape.quadratic_forms import negative_direction, quadratic_form

__all__ = [
    "RAY_DEGREE",
    "check_descent_ray",
    "check_negative_curvature",
    "descent_ray",
    "negative_curvature",
    "ray_polynomial",
    "smooth_coordinates",
]

#: Degree bound of ε ↦ L(φ + εu) on (0, ε₀] for the admissible rays.
RAY_DEGREE = 12
_Q0 = flint.fmpq(0)


def _horizon(phi: ShallowParams, u: Sequence[flint.fmpq], iv: Interval) -> flint.fmpq | None:
    """ε₀ with a constant piece structure on (0, ε₀], or None if a kink inside moves non-affinely."""
    n = phi.width
    aff: list[tuple[flint.fmpq, flint.fmpq]] = []
    kinks: list[tuple[flint.fmpq, flint.fmpq]] = []
    nonaffine = []
    for j in range(n):
        w, b, uw, ub = phi.w[j], phi.b[j], u[j], u[n + j]
        aff += [(w * iv.lo + b, uw * iv.lo + ub), (w * iv.hi + b, uw * iv.hi + ub), (w, uw), (b, ub)]
        if not phi.activation.has_kink:
            continue
        if uw == 0 and w != 0:
            kinks.append((-b / w, -ub / w))
        elif w * ub == b * uw and (w != 0 or uw != 0):
            kinks.append((-b / w, _Q0) if w != 0 else (-ub / uw, _Q0))
        elif w != 0 or uw != 0:
            nonaffine.append(j)
    for i in range(len(kinks)):
        for k in range(i):
            aff.append((kinks[i][0] - kinks[k][0], kinks[i][1] - kinks[k][1]))
    roots = [-a0 / a1 for a0, a1 in aff if a1 != 0 and -a0 / a1 > 0]
    eps0 = min(roots) / 2 if roots else flint.fmpq(1)
    for j in nonaffine:  # such a kink must stay outside [lo, hi] on (0, ε₀]
        w, b = phi.w[j] + eps0 * u[j], phi.b[j] + eps0 * u[n + j]
        if (w * iv.lo + b) * (w * iv.hi + b) < 0:
            return None
    return eps0


def _interpolate(xs: list[flint.fmpq], ys: list[flint.fmpq]) -> list[flint.fmpq]:
    m = len(xs)
    V = flint.fmpq_mat(m, m, [x**k for x in xs for k in range(m)])
    sol = V.solve(flint.fmpq_mat(m, 1, ys))
    return [sol[k, 0] for k in range(m)]


def _poly(coeffs: Sequence[flint.fmpq], x: flint.fmpq) -> flint.fmpq:
    out = _Q0
    for c in reversed(coeffs):
        out = out * x + c
    return out


def ray_polynomial(
    phi: ShallowParams, target: Target, interval: Interval, direction: Sequence[Any]
) -> tuple[flint.fmpq, list[flint.fmpq]] | None:
    """(ε₀, coefficients of p) with L(φ + εu) − L(φ) = p(ε) exactly for 0 ≤ ε ≤ ε₀.

    None if a kink inside [lo, hi] would move non-affinely along the ray (then the loss along
    it is a rational, not a polynomial, function of ε). p[1] is the one-sided directional
    derivative; where L is C², p[2] = uᵀHu/2.

    >>> from symtrunc.landscape.params import ShallowParams, Target, Interval
    >>> phi = ShallowParams.from_values([1], ["-1/2"], [1], 0)
    >>> eps0, p = ray_polynomial(phi, Target(2, 1), Interval(), [0, 0, 0, 1])   # along c
    >>> p[:3]
    [0, -15/4, 1]
    """
    u = phi.as_direction(direction)
    eps0 = _horizon(phi, u, interval)
    if eps0 is None:
        return None
    L0 = loss(phi, target, interval)
    xs = [eps0 * flint.fmpq(i, RAY_DEGREE) for i in range(RAY_DEGREE + 1)]
    ys = [_Q0] + [loss(phi.shifted(u, x), target, interval) - L0 for x in xs[1:]]
    p = _interpolate(xs, ys)
    probe = eps0 / (2 * RAY_DEGREE + 1)
    if _poly(p, probe) != loss(phi.shifted(u, probe), target, interval) - L0:  # pragma: no cover - degree bound
        raise AssertionError("ray loss is not a polynomial of the expected degree")
    return eps0, p


def descent_ray(
    phi: ShallowParams, target: Target, interval: Interval, direction: Sequence[Any]
) -> dict[str, Any] | None:
    """A descent-ray certificate along ``direction``, or None if L does not decrease along it."""
    u = phi.as_direction(direction)
    got = ray_polynomial(phi, target, interval, u)
    if got is None:
        return None
    eps0, p = got
    order = next((k for k, c in enumerate(p) if c != 0), None)
    if order is None or p[order] > 0:
        return None
    step = eps0
    while _poly(p, step) >= 0:
        step /= 2
    L0 = loss(phi, target, interval)
    L1 = loss(phi.shifted(u, step), target, interval)
    return {
        "kind": "descent_ray",
        "direction": [q_str(x) for x in u],
        "epsilon0": q_str(eps0),
        "polynomial": [q_str(c) for c in p],
        "order": order,
        "leading": q_str(p[order]),
        "step": q_str(step),
        "loss": q_str(L0),
        "loss_at_step": q_str(L1),
    }


def _read_ray(phi: ShallowParams, cert: Any) -> tuple[list[flint.fmpq], flint.fmpq] | None:
    """The exact (direction, step) of a ray certificate, or None if it is malformed.

    A tampered certificate (missing keys, wrong length, non-numbers) is rejected, not an error:

    >>> from symtrunc.landscape.params import ShallowParams
    >>> phi = ShallowParams.from_values([1], [-1], [1], "1/2")
    >>> _read_ray(phi, {"direction": ["0", "1", "0", "0"], "step": "1/10"})
    ([0, 1, 0, 0], 1/10)
    >>> [_read_ray(phi, c) for c in ({"direction": ["0", "1"], "step": "1"}, {"step": "1"}, {"direction": ["x"] * 4, "step": "1"}, None)]
    [None, None, None, None]
    """
    if not isinstance(cert, dict) or not isinstance(cert.get("direction"), (list, tuple)) or "step" not in cert:
        return None
    try:
        return phi.as_direction(cert["direction"]), to_q(cert["step"])
    except (DataError, TypeError, ValueError):
        return None


def check_descent_ray(phi: ShallowParams, target: Target, interval: Interval, cert: dict[str, Any]) -> bool:
    """Re-check a descent-ray certificate exactly (recomputes everything from ``direction``).

    >>> from symtrunc.landscape.params import ShallowParams, Target, Interval
    >>> phi = ShallowParams.from_values([1], [-1], [1], "1/2")
    >>> check_descent_ray(phi, Target(1, 0), Interval(), {"direction": ["0", "-1", "0", "0"], "step": "1/10"})
    False
    """
    read = _read_ray(phi, cert)
    if read is None:
        return False
    u, step = read
    fresh = descent_ray(phi, target, interval, u)
    if fresh is None:
        return False
    eps0 = to_q(fresh["epsilon0"])
    if not 0 < step <= eps0:
        return False
    return loss(phi.shifted(u, step), target, interval) < loss(phi, target, interval)


def smooth_coordinates(phi: ShallowParams, interval: Interval) -> list[int]:
    """Coordinates in which L is C² near φ: neurons with z ≠ 0 at both ends, and c."""
    n = phi.width
    out = []
    for j in range(n):
        w, b = phi.w[j], phi.b[j]
        if (w * interval.lo + b) != 0 and (w * interval.hi + b) != 0:
            out += [j, n + j, 2 * n + j]
    return sorted(out) + [3 * n]


def negative_curvature(
    phi: ShallowParams, target: Target, interval: Interval, coordinates: Sequence[int] | None = None
) -> dict[str, Any] | None:
    """A negative-curvature certificate supported on ``coordinates`` (default: all smooth ones)."""
    if any(g != 0 for g in gradient(phi, target, interval)):
        return None
    smooth = smooth_coordinates(phi, interval)
    idx = [i for i in (coordinates if coordinates is not None else smooth) if i in smooth]
    H = hessian(phi, target, interval)
    sub = flint.fmpq_mat(len(idx), len(idx), [H[i, k] for i in idx for k in idx])
    d = negative_direction(sub)
    if d is None:
        return None
    den = math.lcm(*(int(x.q) for x in d))
    u = [_Q0] * H.nrows()
    for i, x in zip(idx, d):
        u[i] = x * den
    L0 = loss(phi, target, interval)
    step = flint.fmpq(1)
    while (L1 := loss(phi.shifted(u, step), target, interval)) >= L0:
        step /= 2
    names = phi.coordinate_names()
    return {
        "kind": "negative_curvature",
        "direction": [q_str(x) for x in u],
        "support": [names[i] for i in idx],
        "uHu": q_str(quadratic_form(H, u)),
        "step": q_str(step),
        "loss": q_str(L0),
        "loss_at_step": q_str(L1),
    }


def check_negative_curvature(phi: ShallowParams, target: Target, interval: Interval, cert: dict[str, Any]) -> bool:
    """Re-check a negative-curvature certificate exactly.

    >>> from symtrunc.landscape.params import ShallowParams, Target, Interval
    >>> phi = ShallowParams.from_values([1, -1], ["-1/3", "2/3"], ["2/3", "-2/3"], "1/2")
    >>> u = ["0", "0", "-1", "-1", "1", "-1", "0"]                     # reference TV8
    >>> check_negative_curvature(phi, Target(1, 0), Interval(), {"direction": u, "step": "1/10"})
    True
    >>> check_negative_curvature(phi, Target(1, 0), Interval(), {"direction": u[:4] + ["1", "1", "0"], "step": "1/10"})
    False
    """
    read = _read_ray(phi, cert)
    if read is None:
        return False
    u, step = read
    if any(g != 0 for g in gradient(phi, target, interval)):
        return False
    smooth = set(smooth_coordinates(phi, interval))
    if any(x != 0 and i not in smooth for i, x in enumerate(u)):
        return False
    if quadratic_form(hessian(phi, target, interval), u) >= 0:
        return False
    return loss(phi.shifted(u, step), target, interval) < loss(phi, target, interval)
