"""Two hidden layers reach zero loss on clustered data (reference §4): L ≥ Q is not necessary."""

import json

import flint
import pytest
from exact_reference import assert_interpolates
from hypothesis import HealthCheck, given, settings
from strategies import clustered_data

import symtrunc.constructions.two_layer as tl
from symtrunc.claims.two_layer import two_layer_claims
from symtrunc.constructions.two_layer import (
    construct_two_layer,
    first_layer,
)
from symtrunc.data.labeled import LabeledData
from symtrunc.errors import DataError, HypothesisError
from symtrunc.geometry.truncation import relu
from symtrunc.network import Layer
from symtrunc.verification.exact import verify

FOUR = LabeledData.from_arrays(
    [
        [12, 0, 0, 0],
        [11, 1, 0, 0],
        [0, 12, 0, 0],
        [1, 11, 1, 0],
        [0, 0, 12, 0],
        [0, 1, 11, 0],
        [0, 0, 0, 12],
        [1, 0, 0, 11],
    ],
    list("aabbccdd"),
    Y=[[2, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 3]],
)


def test_two_layers_for_four_classes():
    net = construct_two_layer(FOUR)
    assert net.widths == (4, 4, 4, 4) and net.depth == 3
    cert = verify(net, FOUR)
    assert cert.costs["class_weighted"] == "0"
    assert_interpolates(net, FOUR)  # the columns of FOUR's label matrix
    # the second hidden layer maps class k to β e_k exactly
    h = FOUR.X.transpose()
    ones = flint.fmpq_mat(1, FOUR.N, [1] * FOUR.N)
    for layer in net.layers[:2]:
        h = relu(layer.W * h + layer.b * ones)
    for i, k in enumerate(FOUR.y):
        assert [h[r, i] for r in range(4)] == [1 if r == k else 0 for r in range(4)]


def test_claims():
    claims = two_layer_claims(FOUR)
    json.dumps([c.to_json() for c in claims])  # JSON-ready witnesses
    assert [c.verdict for c in claims] == ["holds", "holds"]
    assert claims[0].exact_value == "0" and claims[1].witness["K"] < claims[1].witness["K_Theorem_2.3_L=Q_M=Q"]
    two = LabeledData.from_arrays([[5, 0], [6, 0], [0, 5], [0, 6]], list("aabb"))
    assert [c.verdict for c in two_layer_claims(two)] == ["holds", "not applicable"]  # Q = 2 shows nothing


def test_claim_fails_on_a_broken_network(monkeypatch):
    real = tl._network

    def broken(*args):
        net = real(*args)
        out = net.layers[-1]
        return net.with_layer(2, Layer(out.W * 2, out.b, "identity"))

    monkeypatch.setattr(tl, "_network", broken)
    c = two_layer_claims(FOUR)[0]
    assert c.verdict == "fails" and "zero loss fails" in c.witness["summary"]


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clustered_data(max_q=4, max_m=5))
def test_random_clustered_data(d):
    net = construct_two_layer(d)
    verify(net, d)  # raises unless zero loss
    assert_interpolates(net, d)


def test_parameters_are_checked():
    with pytest.raises(HypothesisError, match="too small") as e:
        construct_two_layer(FOUR, c="1/100")
    assert "min_z" in e.value.certificate
    net = construct_two_layer(FOUR, s=3, theta="1/2", beta=2, c=10)
    verify(net, FOUR)  # raises unless zero loss
    assert_interpolates(net, FOUR)
    with pytest.raises(DataError, match="s > θ > 0"):
        construct_two_layer(FOUR, s=1, theta=1)
    with pytest.raises(DataError, match="β > 0"):
        construct_two_layer(FOUR, beta=0)


def test_wide_clusters_and_dependent_means():
    wide = LabeledData.from_arrays([[4, 0], [0, 4], [5, -1]], [0, 1, 1])
    with pytest.raises(HypothesisError, match="too wide") as e:
        first_layer(wide)
    assert e.value.certificate == {"point": 2, "class": 1, "neuron": 1, "value": "7/3"}
    collinear = LabeledData.from_arrays([[0, 0], [1, 1], [2, 2]], [0, 1, 2], check=False)
    with pytest.raises(HypothesisError, match="affinely dependent"):
        construct_two_layer(collinear)
