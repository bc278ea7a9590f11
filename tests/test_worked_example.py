"""The hand-checkable 2-D example of the reference dossier (§5.2), layer by layer.

The data and the dossier's network are the fixtures ``worked_data`` and ``worked_net`` of
``tests/conftest.py`` (choices ``h_1 ∝ (-1, 1)``, ``h_2 ∝ (1, -1)``, ``t_1 = t_2 = 3/4``).
"""

from fractions import Fraction

import flint
import pytest
from exact_reference import assert_interpolates, fraction_forward

import symtrunc
from symtrunc.exact.matrix import qmatrix, qvector
from symtrunc.geometry.truncation import TruncationMap
from symtrunc.network import Layer


def test_means_barycenter_and_sls_steps(worked_data):
    data = worked_data
    assert data.mean(0) == qvector(["5/2", "1/2"])
    assert data.mean(1) == qvector(["1/2", "5/2"])
    assert data.barycenter == qvector(["3/2", "3/2"])
    cert = symtrunc.find_sls(data)
    assert cert.order == (0, 1)
    # admissible t for h_1 = (-1, 1) is (1/2, 1); the search takes the simplest t in (5/8, 7/8)
    assert [s.t for s in cert.steps] == [qmatrix([["2/3"]])[0, 0]] * 2
    assert cert.steps[0].base_point == qvector(["11/6", "7/6"])
    assert cert.steps[1].base_point == qvector(["7/6", "11/6"])
    assert cert.steps[0].normal == qvector([-1, 1])  # h_1 ∝ (-1, 1), pointing away from class 1
    assert cert.steps[1].normal == qvector([1, -1])
    assert cert.check(data)


def test_rational_variant_exact_layers(worked_net, worked_points):
    net = worked_net
    (W1, b1), (W2, b2), (W3, b3) = net.cumulative()
    assert W1 == qmatrix([[0, 1], [-1, 2]]) and b1 == qvector(["-5/4", "-3/4"])
    assert W2 == qmatrix([[2, -1], [1, 0]]) and b2 == qvector(["-3/4", "-5/4"])
    assert W3 == qmatrix([["7/6", "-5/6"], ["-5/6", "7/6"]]) and b3 == qvector([0, 0])
    L1, L2, L3 = net.layers
    assert L1.W == qmatrix([[0, 1], [-1, 2]]) and L1.b == qvector(["-5/4", "-3/4"])
    assert L2.W == qmatrix([[3, -2], [2, -1]]) and L2.b == qvector(["3/2", "1/2"])
    assert L3.W == qmatrix([["5/6", "-1/2"], ["-7/6", "3/2"]]) and L3.b == qvector([0, 1])
    assert net.forward(worked_points) == qmatrix([[1, 0]] * 4 + [[0, 1]] * 4)


def test_independent_forward_pass_interpolates_and_catches_a_wrong_network(worked_net, worked_data):
    assert assert_interpolates(worked_net, worked_data) == [[1, 0]] * 4 + [[0, 1]] * 4
    # the reference pass is not a rubber stamp: a bias moved by 10^-9 is caught at point 0
    L3 = worked_net.layers[2]
    b = flint.fmpq_mat(L3.b)
    b[0, 0] += flint.fmpq(1, 10**9)
    wrong = worked_net.with_layer(2, Layer(L3.W, b, "identity"))
    with pytest.raises(AssertionError, match="point 0 "):
        assert_interpolates(wrong, worked_data)
    assert fraction_forward(wrong, [[2, 0]]) == [[1 + Fraction(1, 10**9), 0]]


def test_truncation_view(worked_net, worked_points, worked_labels):
    (W1, b1), (W2, b2), _ = worked_net.cumulative()
    tau1, tau2 = TruncationMap(W1, b1), TruncationMap(W2, b2)
    for x, label in zip(worked_points, worked_labels):
        v = qvector(x)
        after1 = tau1(v)
        assert after1 == (qvector(["7/4", "5/4"]) if label == 1 else v)
        after2 = tau2(after1)
        assert after2 == (qvector(["7/4", "5/4"]) if label == 1 else qvector(["5/4", "7/4"]))


def test_paper_recipe_with_lambda_one(worked_data, worked_choices):
    # θ in (θ_min ≈ 1.176, θ_2 = π/2): λ(θ, θ_2) = 1 and W_θ = I; R_l are the Householder reflections
    net = symtrunc.construct(worked_data, cone="paper", angles=["3/2", "3/2"], **worked_choices)
    assert [s["lambda"] for s in net.construction["steps"]] == ["1", "1"]
    (W1, b1), (W2, b2), (W3, b3) = net.cumulative()
    assert W1 == qmatrix([[-1, 0], [0, 1]]) and b1 == qvector(["7/4", "-5/4"])
    assert W2 == qmatrix([[1, 0], [0, -1]]) and b2 == qvector(["-5/4", "7/4"])
    assert W3 == qmatrix([["7/6", "-5/6"], ["-5/6", "7/6"]]) and b3 == qvector([0, 0])
    L1, L2, L3 = net.layers
    assert L2.W == qmatrix([[-1, 0], [0, -1]]) and L2.b == qvector(["1/2", "1/2"])
    assert L3.W == qmatrix([["7/6", "5/6"], ["-5/6", "-7/6"]]) and L3.b == qvector([0, 1])
    # the forward pass of the reference: (2,0) -> layer-1 pre-activation (-1/4, -5/4)
    pre1 = L1.W * qvector([2, 0]) + L1.b
    assert pre1 == qvector(["-1/4", "-5/4"])
    assert_interpolates(net, worked_data)


def test_paper_recipe_default_angle_is_certified(worked_data):
    net = symtrunc.construct(worked_data, cone="paper")
    assert symtrunc.verify(net, worked_data).invariants_checked
    assert_interpolates(net, worked_data)


def test_inadmissible_angle_is_refused(worked_data):
    with pytest.raises(symtrunc.HypothesisError, match="not admissible"):
        symtrunc.construct(worked_data, cone="paper", angles=["1/2", "1/2"])
