"""Input dimension d > 1: exact polytope integration, loss and gradient over a box."""

from __future__ import annotations

import math

import flint
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symtrunc.errors import DataError
from symtrunc.landscape import (
    Activation,
    Interval,
    ShallowParams,
    Target,
    gradient,
    loss,
)
from symtrunc.landscape.multivariate import (
    MultiParams,
    box,
    box_gradient,
    box_loss,
    cells,
    integrate,
    simplices,
)

Q = flint.fmpq
rat = st.fractions(min_value=-2, max_value=2, max_denominator=4).map(lambda f: Q(f.numerator, f.denominator))


def _clockwise(P):
    cx, cy = (float(x) for x in P.centroid())
    vs = sorted(set(P.vertices), key=lambda v: -math.atan2(float(v[1]) - cy, float(v[0]) - cx))
    return vs


def _sympy_integral(P, expr):
    """sympy's polytope_integrate on a clockwise polygon with an expanded integrand."""
    import sympy
    from sympy.integrals.intpoly import polytope_integrate

    poly = sympy.Polygon(*[sympy.Point(sympy.Rational(int(x.p), int(x.q)), sympy.Rational(int(y.p), int(y.q)))
                           for x, y in _clockwise(P)])
    return polytope_integrate(poly, sympy.expand(expr))


def test_sympy_polytope_integrate_sign_issue_is_real():
    """The reason we integrate ourselves: sympy's sign follows the vertex orientation."""
    import sympy
    from sympy.integrals.intpoly import polytope_integrate

    x, y = sympy.symbols("x y")
    ccw = sympy.Polygon((0, 0), (1, 0), (1, 1), (0, 1))
    e = (x + y - 1) ** 2
    assert polytope_integrate(ccw, sympy.expand(e)) == sympy.Rational(-1, 6)       # wrong sign
    assert integrate(box([0, 0], [1, 1]), ((Q(1), Q(1)), Q(-1)), ((Q(1), Q(1)), Q(-1))) == Q(1, 6)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(rat, rat, rat), min_size=1, max_size=3), rat, rat, rat)
def test_cell_integrals_match_sympy_on_clockwise_expanded_input(planes, a1, a2, e):
    import sympy

    x, y = sympy.symbols("x y")
    region = box([-1, 0], [1, 2])
    cs = cells(region, [((p, q), r) for p, q, r in planes])
    f = ((a1, a2), e)
    expr = (sympy.Rational(int(a1.p), int(a1.q)) * x + sympy.Rational(int(a2.p), int(a2.q)) * y
            + sympy.Rational(int(e.p), int(e.q)))
    total = Q(0)
    for P in cs:
        mine = integrate(P, f, f)
        total += mine
        ref = _sympy_integral(P, expr ** 2)
        assert mine == Q(int(sympy.fraction(ref)[0]), int(sympy.fraction(ref)[1]))
        assert integrate(P, ((Q(0), Q(0)), Q(1))) > 0
    assert total == integrate(region, f, f)                       # the cells tile the box


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_simplices_tile_the_box(d):
    region = box([0] * d, [2] * d)
    assert integrate(region, (tuple(Q(0) for _ in range(d)), Q(1))) == 2 ** d
    assert len(simplices(region)) == math.factorial(d)
    # ∫ x_1² over [0, 2]^d = 8/3 · 2^(d-1)
    e1 = (tuple(Q(int(i == 0)) for i in range(d)), Q(0))
    assert integrate(region, e1, e1) == Q(8, 3) * 2 ** (d - 1)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(rat, rat, rat), min_size=1, max_size=3), rat, rat, rat)
def test_d2_network_depending_on_one_coordinate_matches_1d(neurons, c, a, b):
    """A net that ignores x_2 has the 1-D loss and gradient (the x_2 weights get ∂ = ∫ r x_2 terms)."""
    w, bb, v = zip(*neurons)
    phi1 = ShallowParams(w, bb, v, c)
    phi2 = MultiParams.from_values([[x, 0] for x in w], bb, v, c)
    t = Target(a, b)
    L2 = box_loss(phi2, [a, 0], b, [0, 5], [1, 7])
    assert L2 == loss(phi1, t, Interval(0, 1))
    g1 = gradient(phi1, t)
    g2 = box_gradient(phi2, [a, 0], b, [0, 5], [1, 7])
    n = len(w)
    assert [g2[2 * j] for j in range(n)] == g1[:n]
    assert g2[2 * n:] == g1[n:]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(rat, rat, rat, rat), min_size=1, max_size=3), rat, rat, rat, rat)
def test_d2_gradient_matches_exact_difference_quotients(neurons, c, a1, a2, b):
    W = [[p, q] for p, q, _, _ in neurons]
    bb = [r for _, _, r, _ in neurons]
    v = [s for _, _, _, s in neurons]
    if any(w == [0, 0] and r == 0 for w, r in zip(W, bb)):
        return  # a neuron with w = b = 0: L not differentiable there
    args = ([a1, a2], b, [-1, 0], [1, 1])
    phi = MultiParams.from_values(W, bb, v, c)
    g = box_gradient(phi, *args)
    flat = [x for row in W for x in row] + bb + v + [c]
    h = Q(1, 10 ** 8)
    n = len(W)

    def at(vec):
        return MultiParams.from_values([vec[2 * j:2 * j + 2] for j in range(n)], vec[2 * n:3 * n],
                                       vec[3 * n:4 * n], vec[-1])

    for i in range(len(flat)):
        up = list(flat)
        dn = list(flat)
        up[i] += h
        dn[i] -= h
        dq = (box_loss(at(up), *args) - box_loss(at(dn), *args)) / (2 * h)
        assert abs(dq - g[i]) < Q(1, 10 ** 4)


def test_d2_loss_agrees_with_float_quadrature():
    """Iterated scipy quad with every kink passed as a break point."""
    from itertools import combinations

    from scipy.integrate import quad

    neurons = (((1, 2), -0.5, 2), ((-1, 1), 1 / 3, -1), ((3, -1), -1, 0.5))
    phi = MultiParams.from_values([[1, 2], [-1, 1], [3, -1]], ["-1/2", "1/3", -1], [2, -1, "1/2"], "1/4")

    def r2(y, x):
        s = 0.25 + sum(v * max(w1 * x + w2 * y + bb, 0.0) for (w1, w2), bb, v in neurons)
        return (s - x + 2 * y - 1 / 3) ** 2

    def inner(x):
        ys = sorted({-(w1 * x + bb) / w2 for (w1, w2), bb, _ in neurons if 0 < -(w1 * x + bb) / w2 < 1})
        return quad(r2, 0, 1, args=(x,), points=ys or None, epsabs=1e-13, epsrel=1e-13, limit=200)[0]

    xs = {-(w2 * y + bb) / w1 for (w1, w2), bb, _ in neurons for y in (0, 1)}
    for ((a1, a2), c1, _), ((b1, b2), c2, _) in combinations(neurons, 2):  # crossings of two kink lines
        det = a1 * b2 - a2 * b1
        xs.add((-c1 * b2 + c2 * a2) / det)
    val, _ = quad(inner, 0, 1, points=sorted(x for x in xs if 0 < x < 1), epsabs=1e-12, epsrel=1e-12, limit=200)
    assert abs(val - float(box_loss(phi, [1, -2], Q(1, 3), [0, 0], [1, 1]))) < 1e-9


def test_leaky_relu_in_d2_and_errors():
    phi = MultiParams.from_values([[1, 1]], [-1], [1], 0, Activation.leaky_relu("1/2"))
    # relu part 1/12 of ∫ relu(x+y-1)², leaky part: σ(z) = z/2 for z < 0
    L = box_loss(phi, [0, 0], 0, [0, 0], [1, 1])
    assert L == Q(1, 12) + Q(1, 4) * Q(1, 12)
    with pytest.raises(DataError):
        MultiParams.from_values([[1, 1]], [0], [1], 0, Activation.quadratic())
    with pytest.raises(DataError):
        box_loss(phi, [0], 0, [0, 0], [1, 1])
    with pytest.raises(DataError):
        box([0, 1], [1, 1])
    with pytest.raises(DataError):
        MultiParams.from_values([[1, 1], [1]], [0, 0], [1, 1], 0)
