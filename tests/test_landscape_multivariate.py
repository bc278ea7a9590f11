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

    poly = sympy.Polygon(
        *[sympy.Point(sympy.Rational(int(x.p), int(x.q)), sympy.Rational(int(y.p), int(y.q))) for x, y in _clockwise(P)]
    )
    return polytope_integrate(poly, sympy.expand(expr))


def test_sympy_polytope_integrate_sign_issue_is_real():
    """The reason we integrate ourselves: sympy's sign follows the vertex orientation."""
    import sympy
    from sympy.integrals.intpoly import polytope_integrate

    x, y = sympy.symbols("x y")
    ccw = sympy.Polygon((0, 0), (1, 0), (1, 1), (0, 1))
    e = (x + y - 1) ** 2
    assert polytope_integrate(ccw, sympy.expand(e)) == sympy.Rational(-1, 6)  # wrong sign
    assert integrate(box([0, 0], [1, 1]), ((Q(1), Q(1)), Q(-1)), ((Q(1), Q(1)), Q(-1))) == Q(1, 6)


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(rat, rat, rat), min_size=1, max_size=3), rat, rat, rat)
def test_cell_integrals_match_sympy_on_clockwise_expanded_input(planes, a1, a2, e):
    import sympy

    x, y = sympy.symbols("x y")
    region = box([-1, 0], [1, 2])
    cs = cells(region, [((p, q), r) for p, q, r in planes])
    f = ((a1, a2), e)
    expr = (
        sympy.Rational(int(a1.p), int(a1.q)) * x
        + sympy.Rational(int(a2.p), int(a2.q)) * y
        + sympy.Rational(int(e.p), int(e.q))
    )
    total = Q(0)
    for P in cs:
        mine = integrate(P, f, f)
        total += mine
        ref = _sympy_integral(P, expr**2)
        assert mine == Q(int(sympy.fraction(ref)[0]), int(sympy.fraction(ref)[1]))
        assert integrate(P, ((Q(0), Q(0)), Q(1))) > 0
    assert total == integrate(region, f, f)  # the cells tile the box


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_simplices_tile_the_box(d):
    region = box([0] * d, [2] * d)
    assert integrate(region, (tuple(Q(0) for _ in range(d)), Q(1))) == 2**d
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
    assert g2[2 * n :] == g1[n:]


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
    h = Q(1, 10**8)
    n = len(W)

    def at(vec):
        return MultiParams.from_values(
            [vec[2 * j : 2 * j + 2] for j in range(n)], vec[2 * n : 3 * n], vec[3 * n : 4 * n], vec[-1]
        )

    for i in range(len(flat)):
        up = list(flat)
        dn = list(flat)
        up[i] += h
        dn[i] -= h
        dq = (box_loss(at(up), *args) - box_loss(at(dn), *args)) / (2 * h)
        assert abs(dq - g[i]) < Q(1, 10**4)


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


# ----------------------------------------------------------------------------- independent route: exact slicing in d = 2
def _sliced_loss_and_gradient(phi: MultiParams, alpha, beta, lo, hi):
    """Loss and gradient over a 2-D box by exact slicing, sharing nothing with the cell code.

    Between consecutive critical heights (box edges, where a kink line meets a vertical edge,
    where two kink lines cross, horizontal kink lines) the kinks x = −(b_j + w_j2 y)/w_j1 keep
    their order, so ∫ dx of every integrand is a polynomial in y; sympy integrates it exactly.
    """
    import itertools

    import sympy as sp

    X, Y = sp.symbols("x y")

    def s(q):
        return sp.Rational(int(q.p), int(q.q))

    W = [[s(a) for a in row] for row in phi.W]
    b, v, c = [s(a) for a in phi.b], [s(a) for a in phi.v], s(phi.c)
    al, be = [sp.Rational(a) for a in alpha], sp.Rational(beta)
    (x0, y0), (x1, y1) = [sp.Rational(a) for a in lo], [sp.Rational(a) for a in hi]
    slope, d0 = s(phi.activation.slope), s(phi.activation.derivative_at_zero)
    n = len(W)
    ys = {y0, y1}
    for (w1, w2), bj in zip(W, b):
        if w2 != 0:
            ys |= {-bj / w2} if w1 == 0 else {-(bj + w1 * xe) / w2 for xe in (x0, x1)}
    for j, k in itertools.combinations(range(n), 2):
        det = W[j][0] * W[k][1] - W[j][1] * W[k][0]
        if det != 0:
            ys.add((W[k][0] * b[j] - W[j][0] * b[k]) / det)
    ys = sorted(y for y in ys if y0 <= y <= y1)
    loss_, grad = sp.Integer(0), [sp.Integer(0)] * (4 * n + 1)
    for ya, yb in itertools.pairwise(ys):
        ym = (ya + yb) / 2
        kinks = sorted(
            ((-(bj + w2 * Y) / w1) for (w1, w2), bj in zip(W, b) if w1 != 0 and x0 < (-(bj + w2 * ym) / w1) < x1),
            key=lambda e: e.subs(Y, ym),
        )
        ends = [x0, *kinks, x1]
        for ea, eb in itertools.pairwise(ends):
            xm = (sp.sympify(ea).subs(Y, ym) + sp.sympify(eb).subs(Y, ym)) / 2
            N, rows = c, []
            for (w1, w2), bj, vj in zip(W, b, v):
                z = w1 * X + w2 * Y + bj
                zm = z.subs({X: xm, Y: ym})
                sl, der = (1, 1) if zm > 0 else (slope, slope) if (zm < 0 or (w1, w2, bj) != (0, 0, 0)) else (0, d0)
                N += vj * sl * z
                rows.append((vj * der * X, vj * der * Y, vj * der, sl * z))
            r = N - al[0] * X - al[1] * Y - be
            parts = [f for j in range(n) for f in rows[j][:2]] + [rw[2] for rw in rows] + [rw[3] for rw in rows] + [1]

            def integral(f, ea=ea, eb=eb, ya=ya, yb=yb):
                F = sp.Poly(sp.expand(f), X).integrate().as_expr()
                G = sp.Poly(sp.expand(F.subs(X, eb) - F.subs(X, ea)), Y).integrate().as_expr()
                return G.subs(Y, yb) - G.subs(Y, ya)

            loss_ += integral(r * r)
            grad = [g + 2 * integral(r * f) for g, f in zip(grad, parts)]
    vol = (x1 - x0) * (y1 - y0)
    return loss_ / vol, [g / vol for g in grad]


_VALS = st.sampled_from(["-2", "-1", "-1/2", "0", "0", "1/2", "1", "2"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 4).flatmap(
        lambda n: st.tuples(
            st.lists(st.lists(_VALS, min_size=2, max_size=2), min_size=n, max_size=n),
            st.lists(_VALS, min_size=n, max_size=n),
            st.lists(st.sampled_from(["-1", "0", "1/2", "2"]), min_size=n, max_size=n),
            _VALS,
            st.lists(_VALS, min_size=2, max_size=2),
            _VALS,
            st.sampled_from([(["0", "0"], ["1", "1"]), (["-1", "0"], ["1", "2"]), (["-1", "-1"], ["1", "1"])]),
            st.sampled_from([Activation.relu(), Activation.relu(1), Activation.leaky_relu("1/10")]),
        )
    )
)
@pytest.mark.slow
def test_d2_loss_and_gradient_agree_with_exact_slicing(case):
    """Degenerate rows (w = 0, w = b = 0), parallel and concurrent kink lines, lines through corners."""
    W, b, v, c, alpha, beta, (lo, hi), act = case
    phi = MultiParams.from_values(W, b, v, c, act)
    L, g = _sliced_loss_and_gradient(phi, alpha, beta, lo, hi)
    assert str(box_loss(phi, alpha, beta, lo, hi)) == str(L)
    assert [str(x) for x in box_gradient(phi, alpha, beta, lo, hi)] == [str(x) for x in g]


def test_slicing_route_sees_a_wrong_cell_sign(monkeypatch):
    """The comparison can fail: decide each cell's signs at a vertex (on the kink line) instead of inside."""
    from symtrunc.landscape.multivariate import Polytope

    phi = MultiParams.from_values([[1, -1], [1, 1]], [0, -1], [1, 2], 0)
    L, _ = _sliced_loss_and_gradient(phi, [1, 0], 0, ["0", "0"], ["1", "1"])
    assert str(box_loss(phi, [1, 0], 0, [0, 0], [1, 1])) == str(L)
    monkeypatch.setattr(Polytope, "centroid", lambda self: self.vertices[0])
    assert str(box_loss(phi, [1, 0], 0, [0, 0], [1, 1])) != str(L)


@pytest.mark.parametrize(
    "W,b,v,act",
    [
        ([[2, 0, 0], [0, 0, 0], [0, -2, 3]], [-1, 0, 1], [3, 2, -1], Activation.leaky_relu("1/10")),
    ],
)
@pytest.mark.slow
def test_d3_loss_and_gradient_agree_with_sympy_piecewise(W, b, v, act):
    """sympy ``integrate`` of the Piecewise integrands over a 3-D box (kink planes parallel to an axis; w = b = 0)."""
    import sympy as sp

    xs = sp.symbols("x1:4", real=True)
    lo, hi = ["0", "-1", "0"], ["1", "1", "2"]
    alpha, beta = ["1", "-1/2", "2"], "1/3"
    phi = MultiParams.from_values(W, b, v, "1/4", act)
    s = sp.Rational(int(act.slope.p), int(act.slope.q))
    zs = [sum(sp.Rational(a) * x for a, x in zip(row, xs)) + sp.Rational(bj) for row, bj in zip(W, b)]
    sig = [sp.Piecewise((z, z > 0), (s * z, True)) for z in zs]
    d0 = sp.Rational(int(act.derivative_at_zero.p), int(act.derivative_at_zero.q))
    dsig = [sp.Piecewise((1, z > 0), (s if z != 0 else d0, True)) for z in zs]
    r = (
        sp.Rational(1, 4)
        + sum(sp.Rational(vj) * g for vj, g in zip(v, sig))
        - sum(sp.Rational(a) * x for a, x in zip(alpha, xs))
        - sp.Rational(beta)
    )
    vol = 4

    def integral(f):
        for x, a, c in zip(xs, lo, hi):
            f = sp.integrate(sp.piecewise_fold(f), (x, sp.Rational(a), sp.Rational(c)))
        assert f.is_Rational, f
        return f

    grad = [2 * integral(r * sp.Rational(vj) * d * x) / vol for vj, d in zip(v, dsig) for x in xs]
    grad += [2 * integral(r * sp.Rational(vj) * d) / vol for vj, d in zip(v, dsig)] + [
        2 * integral(r * g) / vol for g in sig
    ]
    grad.append(2 * integral(r) / vol)
    assert str(box_loss(phi, alpha, beta, lo, hi)) == str(integral(r * r) / vol)
    assert [str(x) for x in box_gradient(phi, alpha, beta, lo, hi)] == [str(x) for x in grad]
