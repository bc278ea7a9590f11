"""Theorem 2.3 of arXiv 2309.10639 (deep global L² minimizers): construction, hypotheses, degeneracy."""

from fractions import Fraction

import flint
import pytest
from exact_reference import assert_interpolates
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synthetic import clustered_l2_data

import symtrunc
from symtrunc.constructions.deep_l2 import (
    check_deep_l2,
    construct_deep_l2,
    degeneracy,
    sphere_axis,
    truncate,
)
from symtrunc.errors import HypothesisError, VerificationError
from symtrunc.network import Layer

SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(Q=st.integers(2, 3), per=st.integers(2, 4), seed=st.integers(0, 10**6))
def test_zero_cost_and_collapse_on_generated_data(Q, per, seed):
    d = clustered_l2_data(Q, per, seed)
    res = construct_deep_l2(d)
    assert res.hypotheses.holds
    assert res.tau_matches
    assert res.costs["class_weighted"] == "0" and res.costs["half_squared"] == "0"
    # τ(X_0) = X̄_0[μ]: every point of class j lands on x̄_j + t_j (x̄ - x̄_j)
    tau = truncate(res.network, d)
    for i, j in enumerate(d.y):
        t = flint.fmpq(*map(int, res.t[j].split("/"))) if "/" in res.t[j] else flint.fmpq(int(res.t[j]))
        want = d.mean(j) + t * (d.barycenter - d.mean(j))
        assert [tau[k, i] for k in range(d.M)] == want.entries()
    symtrunc.verify(res.network, d)  # raises unless zero loss
    assert_interpolates(res.network, d)


def test_extra_layers_and_rational_cone():
    d = clustered_l2_data(3, 3, seed=4)
    deep = construct_deep_l2(d, layers=5)
    assert deep.network.widths == (3,) * 7 and deep.costs["class_weighted"] == "0" and deep.tau_matches
    rat = construct_deep_l2(d, cone="rational")
    assert rat.costs["class_weighted"] == "0" and rat.network.construction["cone"] == "rational"
    net = symtrunc.construct(d, "deep_l2", layers=4)
    assert net.depth == 5 and net.construction["method"] == "deep_l2"


def test_degeneracy_two_admissible_mu():
    d = clustered_l2_data(2, 3, seed=7)
    a, b = degeneracy(d)
    assert a.mu != b.mu and a.collapsed_points != b.collapsed_points
    assert a.costs["class_weighted"] == b.costs["class_weighted"] == "0"
    same_a, same_b = degeneracy(d, t_a=list(a.t), t_b=list(a.t))
    assert same_a.mu == same_b.mu  # the evidence of degeneracy needs different μ; the claims tester checks it


def test_hypotheses_are_certified():
    d = clustered_l2_data(3, 4, seed=1)
    h = check_deep_l2(d)
    assert h.condition_2_14 and h.condition_2_52 and all(h.spread)
    lo, hi = (Fraction(v) for v in h.D)
    tlo, thi = (Fraction(v) for v in h.mu_threshold)
    assert lo <= hi and tlo <= thi < lo
    for enc in h.theta_star_j:
        assert Fraction(enc[0]) <= Fraction(enc[1]) < Fraction(h.theta_star)
    assert Fraction(h.theta_star) < Fraction(314159, 100000)
    assert check_deep_l2(d, c0="1/5").condition_2_14
    assert not check_deep_l2(d, c0="1/1000").condition_2_14


def test_m_not_q_refused():
    d = clustered_l2_data(2, 3, seed=0, M=3)
    with pytest.raises(HypothesisError, match="M = Q"):
        construct_deep_l2(d)


def test_unclustered_refused():
    d = clustered_l2_data(3, 4, seed=0, spread=Fraction(3))
    with pytest.raises(HypothesisError, match=r"\(2.14\) fails") as e:
        construct_deep_l2(d)
    assert e.value.certificate.condition_2_14 is False


@pytest.mark.parametrize("c0", ["1/4", "1/2", "0"])
def test_c0_at_least_quarter_refused(c0):
    with pytest.raises(HypothesisError, match="0 < c_0 < 1/4"):
        construct_deep_l2(clustered_l2_data(2, 3, seed=0), c0=c0)


def test_c0_too_small_fails_2_14():
    with pytest.raises(HypothesisError, match=r"c_0² min_j"):
        construct_deep_l2(clustered_l2_data(2, 3, seed=0), c0="1/1000")


def test_cone_condition_2_52_fails():
    h = Fraction(1, 2)
    X = [[10, 0, h], [10, 0, -h], [10, 2, h], [10, 2, -h], [0, 0, 10 + h], [0, 0, 10 - h]]
    d = symtrunc.LabeledData.from_arrays(X, [0, 0, 1, 1, 2, 2])
    hyp = check_deep_l2(d)
    assert hyp.condition_2_14 and not hyp.condition_2_52 and hyp.failing_pair is not None
    with pytest.raises(HypothesisError, match=r"\(2.52\) fails"):
        construct_deep_l2(d)


def test_no_spread_refused():
    X = [[10, 0], [10, 0.5], [0, 10], [0, 10]]
    d = symtrunc.LabeledData.from_arrays(X, [0, 0, 1, 1])
    with pytest.raises(HypothesisError, match=r"\(2.12\) fails"):
        construct_deep_l2(d)


def test_bad_layers_t_theta():
    d = clustered_l2_data(3, 3, seed=2)
    with pytest.raises(HypothesisError, match="L ≥ Q"):
        construct_deep_l2(d, layers=2)
    with pytest.raises(HypothesisError, match="2δ√Q"):
        construct_deep_l2(d, t=["1/1000"] * 3)
    with pytest.raises(HypothesisError, match="below D"):
        construct_deep_l2(d, t=[100] * 3)
    with pytest.raises(HypothesisError, match="θ_"):
        construct_deep_l2(d, theta_star="1/10")
    with pytest.raises(HypothesisError, match="θ_"):
        construct_deep_l2(d, theta_star=4)


def test_tampered_network_is_caught():
    d = clustered_l2_data(2, 3, seed=3)
    res = construct_deep_l2(d)
    layer = res.network.layers[0]
    shift = flint.fmpq_mat(layer.b.nrows(), 1, [100] * layer.b.nrows())  # cluster 1 no longer collapses
    bad = res.network.with_layer(0, Layer(layer.W, layer.b + shift, "relu"))
    with pytest.raises(VerificationError) as e:
        symtrunc.verify(bad, d)
    assert e.value.counterexample is not None
    assert symtrunc.costs(bad, d)["class_weighted"] != "0"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.fractions(min_value=-5, max_value=5, max_denominator=7), min_size=2, max_size=4))
def test_sphere_axis_exact(v):
    if all(x == 0 for x in v):
        return
    h = sphere_axis(flint.fmpq_mat(len(v), 1, [flint.fmpq(x.numerator, x.denominator) for x in v]))
    assert sum(x * x for x in h.entries()) == len(v)
