"""Shallow networks (arXiv 2309.10370): upper bound, identity regime, exact claims."""

import json

import flint
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symtrunc.claims.shallow import shallow_claims
from symtrunc.constructions.shallow_l2 import (
    barycentric_noise,
    construct_shallow_local,
    construct_shallow_upper,
    identity_regime_features,
    opnorm_bound,
)
from symtrunc.data.labeled import LabeledData
from symtrunc.errors import DataError, HypothesisError
from symtrunc.loss import costs, optimal_output_layer
from symtrunc.network import Layer, ReLUNetwork

# Q = 2 = M, deviations NOT in the direction space of the affine hull of the means
SQUARE = LabeledData.from_arrays([[4, 0], [6, 0], [0, 3], [1, 5], [-1, 4]], list("aabbb"))
# M = 3 > Q = 2
TALL = LabeledData.from_arrays([[4, 0, 1], [6, 0, -1], [5, 1, 0], [0, 3, 0], [1, 5, 1], [-1, 4, 2]], list("aaabbb"))
# deviations along x̄_1 - x̄_2 = (4, -4): u^T (X^red)^{-1} Δx = 0 for every point
HULL = LabeledData.from_arrays([[5, -1], [3, 1], [4, 0], [1, 3], [-1, 5]], list("aaabb"))


def test_upper_bound_network_cost_is_the_bound_exactly():
    for d in (SQUARE, TALL):
        net = construct_shallow_upper(d)
        assert net.widths == (d.M, d.M, d.Q)
        assert flint.fmpq(costs(net, d)["class_weighted"]) == barycentric_noise(d).upper_squared


def test_upper_bound_outputs_are_labels_plus_barycentric_noise():
    n = barycentric_noise(TALL)
    out = construct_shallow_upper(TALL).forward(TALL)
    for i, j in enumerate(TALL.y):
        for r in range(TALL.Q):
            assert out[i, r] == TALL.Y[r, j] + (TALL.Y * n.delta1)[r, i]


def test_rotation_is_checked_and_does_not_change_the_cost():
    R = [["3/5", "-4/5", 0], ["4/5", "3/5", 0], [0, 0, 1]]
    net = construct_shallow_upper(TALL, rotation=R)
    assert flint.fmpq(costs(net, TALL)["class_weighted"]) == barycentric_noise(TALL).upper_squared
    with pytest.raises(DataError, match="orthogonal"):
        construct_shallow_upper(TALL, rotation=[[1, 1, 0], [0, 1, 0], [0, 0, 1]])


def test_opnorm_bound_holds_with_exact_vector_witness():
    res = opnorm_bound(4, 1, [[1, 0], [0, 2]])  # ‖Y‖ = 2 exactly: the tie is decided exactly
    assert res.holds
    v = [flint.fmpq(x) for x in res.witness["vector"]]
    assert (2 * v[1]) ** 2 + v[0] ** 2 >= 4 * (v[0] ** 2 + v[1] ** 2)


def test_opnorm_bound_fails_with_sylvester_certificate():
    Y = [[1, 1], [0, 1]]  # ‖Y‖² = (3 + √5)/2 ≈ 2.618
    bad = opnorm_bound("2619/1000", 1, Y)
    assert not bad.holds
    assert all(flint.fmpq(m) > 0 for m in bad.witness["leading_minors"])
    assert opnorm_bound("2618/1000", 1, Y).holds
    assert np.linalg.norm(np.array(Y, float), 2) ** 2 < 2.619
    with pytest.raises(DataError):
        opnorm_bound(-1, 1, Y)


def test_identity_regime_values_and_D1():
    n = barycentric_noise(SQUARE)
    net = construct_shallow_local(SQUARE)
    assert flint.fmpq(costs(net, SQUARE)["class_weighted"]) == n.affine_squared < n.paper_squared
    # the paper's value is the minimum with the cumulative output bias forced to 0
    W, _, F = identity_regime_features(SQUARE)
    assert W == flint.fmpq_mat([[1, 0], [0, 1]]) and min(F.entries()) >= 1
    assert optimal_output_layer(W * SQUARE.X.transpose(), SQUARE, bias=False).objective == n.paper_squared
    zero_bias = construct_shallow_local(SQUARE, bias=False)
    assert flint.fmpq(costs(zero_bias, SQUARE)["class_weighted"]) == n.paper_squared
    _, bc = zero_bias.cumulative()[-1]
    assert bc == flint.fmpq_mat(2, 1)


def test_claims_flag_D1_with_a_witness_that_beats_the_paper():
    claims = shallow_claims(SQUARE)
    assert [c.verdict for c in claims] == ["holds", "holds", "fails", "holds", "holds", "holds"]
    c = claims[2]
    W2 = flint.fmpq_mat([[flint.fmpq(v) for v in r] for r in c.witness["W2"]])
    b2 = flint.fmpq_mat([[flint.fmpq(v)] for v in c.witness["b2"]])
    W, b, _ = identity_regime_features(SQUARE)
    net = ReLUNetwork((Layer(W, b), Layer(W2, b2, "identity")), classes=SQUARE.classes)
    value = flint.fmpq(costs(net, SQUARE)["class_weighted"])
    assert value == flint.fmpq(c.witness["V_aff^2"]) < flint.fmpq(c.witness["V_paper^2"])
    assert any(flint.fmpq(v) != 0 for v in c.witness["u^T (X^red)^{-1} Δx"])


def test_claims_hold_when_noise_lies_in_the_affine_hull():
    n = barycentric_noise(HULL)
    assert n.affine_squared == n.paper_squared
    assert all(c.verdict == "holds" for c in shallow_claims(HULL))


def test_claims_for_tall_data_stop_after_the_upper_bound():
    claims = shallow_claims(TALL)
    assert len(claims) == 2 and all(c.verdict == "holds" for c in claims)
    assert all(isinstance(c.to_json()["exact_value"], str) for c in claims)
    json.dumps([c.to_json() for c in claims + shallow_claims(SQUARE, W1=[[1, 1], [1, 1]])])  # JSON-ready witnesses


def test_not_identity_regime_is_a_hypothesis_error_and_a_failed_claim():
    with pytest.raises(HypothesisError, match="not the identity regime") as e:
        construct_shallow_local(SQUARE, W1=[[1, 0], [0, 1]], b1=[0, 0])
    assert e.value.certificate == {"point": 2, "neuron": 1, "value": "0"}  # (0, 3): σ(0) is not strict
    last = shallow_claims(SQUARE, W1=[[1, 0], [0, 1]], b1=[0, 0])[-1]
    assert last.verdict == "not applicable" and last.witness["not_identity_regime"]["value"] == "0"
    singular = shallow_claims(SQUARE, W1=[[1, 1], [1, 1]])[-1]
    assert singular.verdict == "not applicable" and "singular" in singular.witness["not_identity_regime"]
    ok = shallow_claims(SQUARE, W1=[[2, 1], [0, 1]], b1=[2, 3])
    assert ok[-1].verdict == "holds" and ok[2].exact_value == shallow_claims(SQUARE)[2].exact_value


def test_bad_inputs():
    with pytest.raises(HypothesisError, match="M = Q"):
        construct_shallow_local(TALL)
    with pytest.raises(HypothesisError, match="singular"):
        construct_shallow_local(SQUARE, W1=[[1, 1], [1, 1]])
    with pytest.raises(DataError, match="b1"):
        construct_shallow_local(SQUARE, b1=[1, 2, 3])
    with pytest.raises(DataError, match="W1"):
        construct_shallow_local(SQUARE, W1=[[1, 0, 0], [0, 1, 0]])
    dependent = LabeledData.from_arrays([[1, 1], [2, 2], [3, 3], [5, 5]], [0, 0, 1, 1], check=False)
    with pytest.raises(HypothesisError, match="linearly dependent"):
        barycentric_noise(dependent)
    with pytest.raises(HypothesisError):
        shallow_claims(dependent)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-4, 4), min_size=4, max_size=4), st.integers(0, 40), st.integers(1, 8))
def test_opnorm_bound_agrees_with_sympy_eigenvalues(entries, num, den):
    """Independent route: ‖Y‖²_op = λ_max(YᵀY), exact algebraic number from sympy, compared exactly."""
    import sympy

    Y = [entries[:2], entries[2:]]
    G = sympy.Matrix(Y).T * sympy.Matrix(Y)
    lam = max(G.eigenvals(), key=lambda e: sympy.N(e, 50))
    t = sympy.Rational(num, den)
    res = opnorm_bound(f"{num}/{den}", 1, Y)
    assert res.holds == bool(sympy.simplify(lam - t) >= 0)
    if not res.holds:  # Sylvester certificate: every leading minor of tI - YᵀY is positive
        from symtrunc.exact.rational import to_q

        assert all(to_q(m) > 0 for m in res.witness["leading_minors"])


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 10**6))
def test_upper_network_cost_equals_bound_on_random_data(seed):
    """Random clustered data (M > Q): C_N of the constructed network = ‖YΔ₁‖ exactly, and ≤ √Q‖Y‖δ_P."""
    import random

    rng = random.Random(seed)
    M, Q = 3, 2
    X, y = [], []
    for j in range(Q):
        for _ in range(3):
            X.append([(12 if k == j else 0) + flint.fmpq(rng.randint(-8, 8), 8) for k in range(M)])
            y.append(j)
    d = LabeledData.from_arrays(X, y)
    n = barycentric_noise(d)
    assert flint.fmpq(costs(construct_shallow_upper(d), d)["class_weighted"]) == n.upper_squared
    assert n.upper_squared <= Q * n.delta_P_squared  # ‖Y‖_op = 1 for one-hot labels
    assert opnorm_bound(n.upper_squared, Q * n.delta_P_squared, d.Y).holds
