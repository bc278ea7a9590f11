"""Loss, gradient and Hessian of the shallow-network landscape against an independent sympy route.

The route shares nothing with :mod:`symtrunc.landscape` but the input: it sorts the kinks
itself (coinciding kinks in a random order), writes each piece of the realization as a sympy
polynomial in (x, ε) along the ray φ + εu, integrates it between the moving kinks
−(b + ε u_b)/(w + ε u_w) (expanded to second order in ε), and reads L, the directional
derivative and the second directional derivative off the ε-jet. No Dirac term, moment or
Jacobian formula appears: the kink terms of the Hessian come out of the moving limits.

The parameters are drawn from small sets on purpose, so that degenerate neurons (w = 0,
w = b = 0), flat neurons (v = 0), kinks exactly at lo, hi or the midpoint, and coinciding
kinks are frequent. Where the piece structure at φ is not that of nearby points (a kink at
an end, w = b = 0), the route computes the same one-sided objects as the library documents:
the Hessian of the smooth piece containing φ and the generalized gradient with the σ'(0)
convention.
"""

from __future__ import annotations

import random

import flint
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symtrunc.landscape import (
    Activation,
    Interval,
    ShallowParams,
    Target,
    gradient,
    hessian,
    loss,
)

Q = flint.fmpq
X, E = sp.symbols("x e")


def _s(q: flint.fmpq) -> sp.Rational:
    return sp.Rational(int(q.p), int(q.q))


def _poly(expr) -> sp.Poly:
    return sp.Poly(expr, X, E, domain="QQ")


def _trunc(p: sp.Poly) -> sp.Poly:
    """Drop ε³ and higher."""
    return _poly(sum((c * X**a * E**k for (a, k), c in p.as_dict().items() if k <= 2), sp.Integer(0)))


def ray_jet(phi: ShallowParams, target: Target, iv: Interval, u, seed: int = 0):
    """(L, L', L'') of ε ↦ L(φ + εu) at ε = 0, with the piece structure of φ, by sympy."""
    rnd = random.Random(seed)
    n, act = phi.width, phi.activation
    lo, hi = _s(iv.lo), _s(iv.hi)
    slope, d0 = _s(act.slope), _s(act.derivative_at_zero)
    vals = [_s(q) for q in phi.vector()]
    u = [sp.Rational(a) for a in u]
    p = [_poly(vals[a] + E * u[a]) for a in range(3 * n + 1)]
    W, B, V, C = p[:n], p[n : 2 * n], p[2 * n : 3 * n], p[3 * n]

    def sig(z: sp.Poly, sign) -> sp.Poly:
        if act.name == "quadratic":
            return z * z
        return z if sign > 0 else z * slope if sign < 0 else z * d0

    fixed, kinks = {}, []
    for j in range(n):
        w, b = vals[j], vals[n + j]
        if act.name == "quadratic":
            fixed[j] = 1
        elif w == 0:
            fixed[j] = sp.sign(b)
        elif lo < -b / w < hi:
            kinks.append((-b / w, rnd.random(), j))
        else:
            fixed[j] = sp.sign(w * (lo + hi) / 2 + b)
    order = [j for _, _, j in sorted(kinks)]

    def kink(j: int) -> sp.Poly:
        w, uw, b, ub = vals[j], u[j], vals[n + j], u[n + j]
        return _trunc(_poly(-(b + E * ub) * (1 / w - uw / w**2 * E + uw**2 / w**3 * E**2)))

    ends = [_poly(lo), *(kink(j) for j in order), _poly(hi)]
    total = _poly(0)
    for i in range(len(ends) - 1):
        N = C
        for j in range(n):
            s = fixed[j] if j in fixed else sp.sign(vals[j]) * (1 if order.index(j) < i else -1)
            N = N + V[j] * sig(W[j] * _poly(X) + B[j], s)
        F = _trunc((N - _poly(_s(target.alpha) * X + _s(target.beta))) ** 2).integrate(X)
        for end, sgn in ((ends[i + 1], 1), (ends[i], -1)):
            for (a, k), c in F.as_dict().items():
                total = total + _trunc(end**a * _poly(E**k)) * (c * sgn)
    coeff = _trunc(total).as_dict()
    assert all(a == 0 for a, _ in coeff), "x survived the integration"
    jet = [coeff.get((0, k), sp.Integer(0)) / (hi - lo) for k in range(3)]
    return jet[0], jet[1], 2 * jet[2]


def _check(phi: ShallowParams, target: Target, iv: Interval, dense: list[list[int]]) -> None:
    P = 3 * phi.width + 1
    L, g, H = loss(phi, target, iv), gradient(phi, target, iv), hessian(phi, target, iv)
    units = [[int(a == i) for a in range(P)] for i in range(P)]
    for k, u in enumerate(units + dense):
        l0, l1, l2 = ray_jet(phi, target, iv, u, seed=k)
        assert _s(L) == l0, (phi, target, iv)
        assert sum(_s(gi) * ui for gi, ui in zip(g, u)) == l1, (phi, target, iv, u)
        uHu = sum(_s(H[i, m]) * u[i] * u[m] for i in range(P) for m in range(P))
        assert uHu == l2, (phi, target, iv, u, uHu, l2)


_W = st.sampled_from(["-2", "-1", "-1/2", "0", "0", "1/2", "1", "2", "3"])
_B = st.sampled_from(["-2", "-1", "-1/2", "0", "0", "1/2", "1", "3/2", "2"])
_V = st.sampled_from(["-1", "0", "1/2", "1", "2"])
_INTERVALS = [("0", "1"), ("-1", "1"), ("-1/2", "2"), ("-1", "0")]
_ACTIVATIONS = [
    Activation.relu(),
    Activation.relu(1),
    Activation.relu("1/2"),
    Activation.leaky_relu("1/10"),
    Activation.leaky_relu("-1/2"),
    Activation.leaky_relu(3, 2),
    Activation.quadratic(),
]


@st.composite
def cases(draw):
    n = draw(st.integers(1, 3))
    phi = ShallowParams.from_values(
        draw(st.lists(_W, min_size=n, max_size=n)),
        draw(st.lists(_B, min_size=n, max_size=n)),
        draw(st.lists(_V, min_size=n, max_size=n)),
        draw(_V),
        draw(st.sampled_from(_ACTIVATIONS)),
    )
    target = Target(draw(st.sampled_from(["-1", "0", "1", "3/2"])), draw(st.sampled_from(["-1", "0", "1/2"])))
    dense = [draw(st.lists(st.integers(-2, 2), min_size=3 * n + 1, max_size=3 * n + 1)) for _ in range(2)]
    return phi, target, Interval(*draw(st.sampled_from(_INTERVALS))), dense


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_loss_gradient_hessian_agree_with_sympy_route(case):
    _check(*case)


@pytest.mark.parametrize(
    "w,b,v,c,act,iv",
    [
        # kinks exactly at lo, at hi, at the midpoint, and two kinks coinciding (same and opposite facing)
        ([1, -1], [0, 1], [1, 2], "1/2", Activation.relu(), ("0", "1")),
        ([2, 1], [-1, "-1/2"], [1, -1], 0, Activation.relu(), ("0", "1")),
        ([2, -1], [-1, "1/2"], ["1/2", 1], 0, Activation.leaky_relu("1/10"), ("0", "1")),
        ([1, 1, -1], [1, 0, -1], [1, 1, 1], 1, Activation.relu(), ("-1", "1")),
        # degenerate neurons: w = 0 (b > 0, b < 0, b = 0 with both σ'(0) conventions), flat neurons
        ([0, 0, 1], [1, -1, "-1/2"], [2, 3, 0], "-1/2", Activation.relu(), ("0", "1")),
        ([0, 1], [0, "-1/3"], [1, 2], "1/2", Activation.relu(1), ("0", "1")),
        ([0, 0], [0, 2], [1, -1], "1/2", Activation.leaky_relu("-1/2"), ("-1/2", "2")),
        # the square with a root at an end, at the midpoint, and w = 0
        ([-2, 1, 0], ["3/2", "1/2", 1], [1, -1, 2], 0, Activation.quadratic(), ("-1/2", "2")),
    ],
)
@pytest.mark.slow
def test_degenerate_configurations_agree_with_sympy_route(w, b, v, c, act, iv):
    phi = ShallowParams.from_values(w, b, v, c, act)
    _check(
        phi,
        Target("3/2", "-1/2"),
        Interval(*iv),
        [[1] * (3 * len(w) + 1), [(-1) ** a * (a % 3) for a in range(3 * len(w) + 1)]],
    )


def test_the_route_detects_a_wrong_hessian(monkeypatch):
    """The comparison can fail: without the Dirac kink terms the Hessian disagrees with the route."""
    phi = ShallowParams.from_values([1, -1], ["-1/3", "2/3"], ["2/3", "-2/3"], "1/2")
    t, iv, u = Target(1, 0), Interval(), [1, 0, 0, 0, 0, 0, 0]
    _, _, l2 = ray_jet(phi, t, iv, u)
    assert _s(hessian(phi, t, iv)[0, 0]) == l2
    monkeypatch.setattr(Activation, "kink", property(lambda self: Q(0)))
    assert _s(hessian(phi, t, iv)[0, 0]) != l2
    with pytest.raises(AssertionError):
        _check(phi, t, iv, [])
