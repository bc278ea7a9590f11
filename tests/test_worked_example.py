"""The hand-checkable 2-D example of the reference dossier (§5.2), layer by layer."""

import pytest

import symtrunc
from symtrunc.exact.matrix import qmatrix, qvector
from symtrunc.geometry.truncation import TruncationMap

POINTS = [[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]]
LABELS = [1, 1, 1, 1, 2, 2, 2, 2]
# the dossier's choices: h_1 ∝ (-1, 1), h_2 ∝ (1, -1), t_1 = t_2 = 3/4
REFERENCE = dict(normals=[[-1, 1], [1, -1]], t=["3/4", "3/4"])


@pytest.fixture(scope="module")
def data():
    return symtrunc.LabeledData.from_arrays(POINTS, LABELS)


def test_means_barycenter_and_sls_steps(data):
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


def test_rational_variant_exact_layers(data):
    net = symtrunc.construct(data, **REFERENCE)
    (W1, b1), (W2, b2), (W3, b3) = net.cumulative()
    assert W1 == qmatrix([[0, 1], [-1, 2]]) and b1 == qvector(["-5/4", "-3/4"])
    assert W2 == qmatrix([[2, -1], [1, 0]]) and b2 == qvector(["-3/4", "-5/4"])
    assert W3 == qmatrix([["7/6", "-5/6"], ["-5/6", "7/6"]]) and b3 == qvector([0, 0])
    L1, L2, L3 = net.layers
    assert L1.W == qmatrix([[0, 1], [-1, 2]]) and L1.b == qvector(["-5/4", "-3/4"])
    assert L2.W == qmatrix([[3, -2], [2, -1]]) and L2.b == qvector(["3/2", "1/2"])
    assert L3.W == qmatrix([["5/6", "-1/2"], ["-7/6", "3/2"]]) and L3.b == qvector([0, 1])
    assert net.forward(POINTS) == qmatrix([[1, 0]] * 4 + [[0, 1]] * 4)


def test_truncation_view(data):
    net = symtrunc.construct(data, **REFERENCE)
    (W1, b1), (W2, b2), _ = net.cumulative()
    tau1, tau2 = TruncationMap(W1, b1), TruncationMap(W2, b2)
    for x, label in zip(POINTS, LABELS):
        v = qvector(x)
        after1 = tau1(v)
        assert after1 == (qvector(["7/4", "5/4"]) if label == 1 else v)
        after2 = tau2(after1)
        assert after2 == (qvector(["7/4", "5/4"]) if label == 1 else qvector(["5/4", "7/4"]))


def test_paper_recipe_with_lambda_one(data):
    # θ in (θ_min ≈ 1.176, θ_2 = π/2): λ(θ, θ_2) = 1 and W_θ = I; R_l are the Householder reflections
    net = symtrunc.construct(data, cone="paper", angles=["3/2", "3/2"], **REFERENCE)
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
    assert symtrunc.verify(net, data).zero_loss


def test_paper_recipe_default_angle_is_certified(data):
    net = symtrunc.construct(data, cone="paper")
    cert = symtrunc.verify(net, data)
    assert cert.invariants_checked and cert.zero_loss


def test_inadmissible_angle_is_refused(data):
    with pytest.raises(symtrunc.HypothesisError, match="not admissible"):
        symtrunc.construct(data, cone="paper", angles=["1/2", "1/2"])
