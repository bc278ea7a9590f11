"""Non-separable binary data (arXiv 2504.18710, Cor. 3.2 / Thm 3.3): lift, cone, finish."""

import json
from fractions import Fraction

import flint
import pytest
from exact_reference import assert_interpolates
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symtrunc.constructions.nonseparable as ns
from symtrunc.claims.nonseparable import nonseparable_claims
from symtrunc.constructions.nonseparable import (
    EnclosingSimplex,
    barycentric_coordinates,
    check_simplex,
    construct_nonseparable,
    find_enclosing_simplex,
    lift_cone,
)
from symtrunc.data.labeled import LabeledData
from symtrunc.errors import DataError, HypothesisError
from symtrunc.exact.lp import OverlapCertificate, strictly_separate
from symtrunc.exact.matrix import exact_rows, qmatrix
from symtrunc.network import Layer
from symtrunc.verification.exact import verify

INNER = [[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1], ["1/2", "1/2"]]
OUTER = [[5, 0], [0, 5], [-5, 0], [0, -5], [4, 4], [-4, 4], [-4, -4], [4, -4], [3, -4]]
RINGS = LabeledData.from_arrays(INNER + OUTER, ["in"] * len(INNER) + ["out"] * len(OUTER), check=False)


def test_concentric_data_are_not_linearly_separable():
    A = exact_rows([RINGS.X.tolist()[i] for i in range(len(INNER))], 2)
    B = exact_rows(RINGS.X.tolist()[len(INNER) :], 2)
    cert = strictly_separate(A, B)
    assert isinstance(cert, OverlapCertificate) and cert.check(A, B)


@pytest.mark.parametrize("finish", ["cone", "sls"])
def test_zero_loss_on_concentric_data(finish):
    net = construct_nonseparable(RINGS, finish=finish)
    assert net.widths == ((2, 3, 3, 2) if finish == "cone" else (2, 3, 3, 3, 2))
    cert = verify(net, RINGS)
    assert cert.costs["class_weighted"] == "0"
    assert_interpolates(net, RINGS)
    assert net.construction["inner_class"] == "in"


def test_inner_class_collapses_to_the_apex_and_outer_points_rise():
    S = find_enclosing_simplex(RINGS, 0)
    cone = lift_cone(S, "3/2")
    Z = cone.tau(cone.lifted(RINGS.X))
    for i, j in enumerate(RINGS.y):
        col = [Z[k, i] for k in range(3)]
        if j == 0:
            assert col == cone.apex.entries()
        else:
            assert col[2] > flint.fmpq(3, 2)


def test_user_simplex_is_checked_exactly():
    good = [[-3, -3], [6, -3], [-3, 6]]
    net = construct_nonseparable(RINGS, simplex=good, inner="in")
    verify(net, RINGS)  # raises unless zero loss
    assert_interpolates(net, RINGS)
    assert net.construction["simplex"] == [["-3", "-3"], ["6", "-3"], ["-3", "6"]]
    with pytest.raises(HypothesisError, match="point 6 of class 'out' lies in the simplex") as e:
        construct_nonseparable(RINGS, simplex=[[-10, -10], [20, -10], [-10, 20]], inner="in")
    assert e.value.certificate["point"] == 6
    with pytest.raises(HypothesisError, match="lies outside the simplex") as e:
        check_simplex(RINGS, [[0, 0], [2, 0], [0, 2]], 0)
    assert e.value.certificate["point"] == 0 or any(flint.fmpq(k) < 0 for k in e.value.certificate["barycentric"])


def test_no_simplex_when_an_outer_point_is_in_the_hull():
    d = LabeledData.from_arrays([[0, 0], [4, 0], [0, 4], [1, 1], [9, 9]], ["i", "i", "i", "o", "o"], check=False)
    with pytest.raises(HypothesisError, match="convex hull") as e:
        construct_nonseparable(d, inner="i")
    cert = e.value.certificate
    A = exact_rows(d.X.tolist()[:3], 2)
    assert isinstance(cert, OverlapCertificate) and cert.check(A, exact_rows([[1, 1]], 2))
    # neither class can be enclosed: both reasons are reported
    both = LabeledData.from_arrays(
        [[0, 0], [4, 0], [0, 4], [1, 1], [-5, -5], [10, -1], [-1, 10]], list("iiioooo"), check=False
    )
    with pytest.raises(HypothesisError, match="no class can be enclosed") as e:
        construct_nonseparable(both)
    assert all(isinstance(c, OverlapCertificate) for c in e.value.certificate)


def test_claims_hold_and_can_fail(monkeypatch):
    claims = nonseparable_claims(RINGS)
    assert [c.verdict for c in claims] == ["holds", "holds", "holds"]
    assert claims[2].exact_value == "0" and claims[2].paper_value == "0"
    json.dumps([c.to_json() for c in claims])  # JSON-ready witnesses
    assert nonseparable_claims(RINGS, finish="sls")[2].verdict == "holds"
    # a wrong separating height is caught, with the tightest point as witness
    monkeypatch.setattr(ns, "_separation", lambda cone, Z, outer: flint.fmpq(100))
    bad = nonseparable_claims(RINGS)
    assert bad[1].verdict == "fails" and RINGS.y[bad[1].witness["tightest_point"]] == 1
    assert bad[2].verdict == "fails" and "does not strictly separate" in bad[2].witness["summary"]
    monkeypatch.undo()
    # a broken network is caught by the exact checker
    real = ns._network

    def broken(*args):
        net = real(*args)
        out = net.layers[-1]
        return net.with_layer(2, Layer(out.W, out.b * 2, "identity"))

    monkeypatch.setattr(ns, "_network", broken)
    assert nonseparable_claims(RINGS)[2].verdict == "fails"


def test_bad_inputs():
    three = LabeledData.from_arrays([[0, 0], [5, 0], [0, 5]], [0, 1, 2], check=False)
    with pytest.raises(HypothesisError, match="binary"):
        construct_nonseparable(three)
    with pytest.raises(DataError, match="unknown class"):
        construct_nonseparable(RINGS, inner="nope")
    with pytest.raises(DataError, match="height"):
        construct_nonseparable(RINGS, height=0)
    with pytest.raises(DataError, match="finish"):
        construct_nonseparable(RINGS, finish="magic")
    with pytest.raises(DataError, match="finish"):
        nonseparable_claims(RINGS, finish="magic")
    with pytest.raises(HypothesisError, match="degenerate"):
        check_simplex(RINGS, [[0, 0], [1, 1], [2, 2]], 0)
    with pytest.raises(DataError, match="vertices"):
        barycentric_coordinates([[0, 0], [1, 0]], [[0, 0]])


def test_enclosing_simplex_centroid():
    s = EnclosingSimplex(qmatrix([[0, 0], [3, 0], [0, 3]]), 0)
    assert s.centroid.entries() == [1, 1]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 3), st.data())
def test_random_ball_inside_shell(d0, draw):
    """Random rational points in a small box, a shell of far points around them: zero loss."""
    small = st.fractions(min_value=-1, max_value=1, max_denominator=4)
    inner = [[draw.draw(small) for _ in range(d0)] for _ in range(draw.draw(st.integers(1, 5)))]
    outer = []
    for _ in range(draw.draw(st.integers(1, 6))):
        v = [draw.draw(st.integers(-3, 3)) for _ in range(d0)]
        if all(x == 0 for x in v):
            v[0] = 1
        n2 = sum(x * x for x in v)
        outer.append([Fraction(40 * x, 1) / max(1, int(n2**0.5)) for x in v])
    data = LabeledData.from_arrays(inner + outer, [0] * len(inner) + [1] * len(outer), check=False)
    net = construct_nonseparable(data, inner=0)
    verify(net, data)  # raises unless zero loss
    assert_interpolates(net, data)


def test_inconclusive_search_says_so():
    """A ring just outside a disk: no point of one class is in the hull of the other, but no
    triangle fits between them; the search reports that it is not a proof."""
    circle = []
    for k in range(-12, 13):
        t = Fraction(k, 6)
        c, s = (1 - t * t) / (1 + t * t), 2 * t / (1 + t * t)
        circle.append((c, s))
    circle += [(-c, -s) for c, s in circle]
    inner = [[c, s] for c, s in circle]
    outer = [[c * Fraction(6, 5), s * Fraction(6, 5)] for c, s in circle]
    d = LabeledData.from_arrays(inner + outer, [0] * len(inner) + [1] * len(outer), check=False)
    with pytest.raises(HypothesisError, match="not a proof") as e:
        construct_nonseparable(d, inner=0, tries=8)
    assert e.value.certificate is None


def test_sls_finish_can_fail_where_the_cone_finish_works():
    """One far outer point lifts the barycenter of the truncated means into the hull of the outer
    class: the CE24 SLS construction does not apply to the lifted data, Theorem 3.3's cone does."""
    circle = []
    for k in range(-6, 7):
        t = Fraction(k, 3)
        c, s = (1 - t * t) / (1 + t * t), 2 * t / (1 + t * t)
        circle += [(c, s), (-c, -s)]
    inner = [[c, s] for c, s in circle]
    outer = [[3 * c, 3 * s] for c, s in circle] + [[50, 0]]
    d = LabeledData.from_arrays(inner + outer, [0] * len(inner) + [1] * len(outer), check=False)
    net = construct_nonseparable(d)
    verify(net, d)  # raises unless zero loss
    assert_interpolates(net, d)
    with pytest.raises(HypothesisError, match="SLS"):
        construct_nonseparable(d, finish="sls")
    claims = nonseparable_claims(d, finish="sls")
    assert [c.verdict for c in claims] == ["holds", "holds", "fails"] and "SLS" in claims[2].witness["summary"]


def test_one_dimensional_interval_class():
    d = LabeledData.from_arrays([[-1], [0], [1], [-3], [3]], [0, 0, 0, 1, 1], check=False)
    net = construct_nonseparable(d)
    assert net.widths == (1, 2, 2, 2) and net.construction["simplex"] == [["-2"], ["2"]]
    verify(net, d)  # raises unless zero loss
    assert_interpolates(net, d)
