"""The checker fails on wrong networks, with the right counterexample."""

import flint
import pytest
from exact_reference import assert_interpolates  # tests/ is on sys.path

import symtrunc
from symtrunc.errors import DataError, VerificationError
from symtrunc.network import Layer, ReLUNetwork


@pytest.fixture(scope="module")
def wine():
    data = symtrunc.load_wine()
    return data, symtrunc.construct(data)


def _perturb(net: ReLUNetwork, k: int, i: int, j: int, delta) -> ReLUNetwork:
    layer = net.layers[k]
    W = flint.fmpq_mat(layer.W)
    W[i, j] = W[i, j] + delta
    return net.with_layer(k, Layer(W, layer.b, layer.activation))


# (layers 1 and 2 perturbed by 1e-9 keep every point's collapse and the zero vectors' outputs, so
# the network still interpolates and verifies: tests/test_verify_trust.py checks that independently)
@pytest.mark.parametrize("k", [2, 3])
def test_one_weight_perturbed_by_1e9_is_caught(wine, k):
    data, net = wine
    bad = _perturb(net, k, 0, 0, flint.fmpq(1, 10**9))
    with pytest.raises(VerificationError) as info:
        symtrunc.verify(bad, data)
    c = info.value.counterexample
    assert c.layer >= k + 1 and 0 <= c.point < data.N and c.label in data.classes
    assert str(c.point) in str(info.value) and f"layer {c.layer}" in str(info.value)


def test_bias_perturbation_is_caught(wine):
    data, net = wine
    layer = net.layers[-1]
    b = flint.fmpq_mat(layer.b)
    b[1, 0] = b[1, 0] - flint.fmpq(1, 10**9)
    with pytest.raises(VerificationError, match="zero loss fails") as info:
        symtrunc.verify(net.with_layer(len(net.layers) - 1, Layer(layer.W, b, "identity")), data)
    c = info.value.counterexample
    assert c.check == "zero loss" and c.neuron == 1 and c.layer == 4
    # the value reported is the exact wrong output
    assert flint.fmpq(int(c.value.split("/")[0]), int(c.value.split("/")[1])) == -flint.fmpq(1, 10**9) + (
        1 if data.classes[1] == c.label else 0
    )


def test_metadata_are_not_read(worked_data, worked_net):
    # a record that lies about the order and the base points changes nothing: the collapse order
    # is read off the layers (tests/test_verify_trust.py has more)
    data, net = worked_data, worked_net
    meta = net.construction.to_json()
    steps = [dict(s) for s in reversed(meta["steps"])]
    steps[0]["base_point"] = ["7/4", "6/4"]
    lying = ReLUNetwork(net.layers, net.classes, dict(meta, order=[2, 1], steps=steps))
    assert symtrunc.verify(lying, data).layers == symtrunc.verify(net, data).layers


def test_identity_sign_violation_is_reported():
    # a network that interpolates but whose first layer truncates a point of the later class
    X = [[2, 0], [3, 0], [0, 2], [0, 3]]
    data = symtrunc.LabeledData.from_arrays(X, ["a", "a", "b", "b"])
    net = symtrunc.construct(data)
    layer = net.layers[0]
    b = flint.fmpq_mat(layer.b)
    b[0, 0] = b[0, 0] - 100  # neuron 0 becomes negative everywhere
    bad = net.with_layer(0, Layer(layer.W, b, "relu"))
    # zero loss still holds (class b collapses at layer 2 anyway), so verification succeeds but
    # does not claim the layer invariants, and says which sign breaks them
    cert = symtrunc.verify(bad, data)
    assert not cert.invariants_checked
    assert cert.extra["invariants_failed"].startswith("identity sign fails at point 2 (class 'b'), layer 1, neuron 0")
    assert_interpolates(bad, data)


def test_data_that_do_not_fit():
    X = [[2, 0], [3, 0], [0, 2], [0, 3]]
    data = symtrunc.LabeledData.from_arrays(X, ["a", "a", "b", "b"])
    net = symtrunc.construct(data)
    other = symtrunc.LabeledData.from_arrays([[1, 0, 0], [0, 1, 0]], ["a", "b"])
    with pytest.raises(DataError, match="dimension"):
        symtrunc.verify(net, other)
    unknown = symtrunc.LabeledData.from_arrays([[1, 0], [0, 1]], ["a", "z"])
    with pytest.raises(DataError, match="does not know"):
        symtrunc.verify(net, unknown)


def test_new_points_are_checked_exactly():
    # the network is exact on its training data but not on an arbitrary new point
    X = [[2, 0], [3, 0], [0, 2], [0, 3]]
    data = symtrunc.LabeledData.from_arrays(X, ["a", "a", "b", "b"])
    net = symtrunc.construct(data)
    # (1/10, 3) lies in the same cones as class b and is classified exactly; (1, 1) does not
    near = symtrunc.LabeledData.from_arrays([[2, 0], [3, 0], [0, 2], ["1/10", 3]], ["a", "a", "b", "b"])
    symtrunc.verify(net, near)  # raises unless zero loss
    assert_interpolates(net, near)
    moved = symtrunc.LabeledData.from_arrays([[2, 0], [3, 0], [0, 2], [1, 1]], ["a", "a", "b", "b"])
    with pytest.raises(VerificationError) as info:
        symtrunc.verify(net, moved)
    assert info.value.counterexample.point == 3


def test_certificate_contents(wine):
    data, net = wine
    cert = symtrunc.verify(net, data)
    d = cert.to_dict()
    assert d["format"] == "symtrunc.certificate" and d["version"] == 2
    assert d["costs"] == {"half_squared": "0", "class_weighted": "0", "class_weighted_sqrt": "0", "mean_squared": "0"}
    assert [row["kind"] for row in d["layers"]] == ["truncation"] * 3 + ["output"]
    assert d["layers"][2]["fixed_base_points"] == list(net.construction.order[:2])
    assert len(d["network_sha256"]) == len(d["data_sha256"]) == 64 and d["theorem"] == ""


def test_costs_of_any_network():
    data = symtrunc.LabeledData.from_arrays([[1, 0], [0, 1], [0, 2]], ["a", "b", "b"])
    zero = ReLUNetwork.from_rows([([[0, 0], [0, 0]], [0, 0], "identity")], classes=("a", "b"))
    c = symtrunc.costs(zero, data)
    # every point misses its one-hot label by 1: ½·3, C_N = 1/1 + 2/2 = 2, mean 1
    assert c == {"half_squared": "3/2", "class_weighted": "2", "class_weighted_sqrt": "sqrt(2)", "mean_squared": "1"}


def test_a_collapsed_class_whose_zero_vector_turns_negative_is_reported():
    # the zero vector of class a (collapsed at layer 1) gets a negative pre-activation at layer 2;
    # the output layer is re-solved so that the zero paths still end at the targets (the network
    # keeps the collapse order), but the structure is broken at the representative, not at a point
    X = [[2, 0], [3, 0], [0, 2], [0, 3]]
    data = symtrunc.LabeledData.from_arrays(X, ["a", "a", "b", "b"])
    net = symtrunc.construct(data)
    L2, L3 = net.layers[1], net.layers[2]
    b2 = flint.fmpq_mat(L2.b)
    b2[0, 0] = -1  # the first neuron of layer 2 now sees -1 at the zero vector
    v = b2[1, 0]
    assert v > 0  # ReLU keeps the other neuron, which carries the path to the target
    W3 = flint.fmpq_mat(L3.W)
    target_a = [1, 0] if net.classes[0] == "a" else [0, 1]
    for r in range(2):  # W3 relu(b2) + b3 = one-hot(a), with relu(b2) = (0, v)
        W3[r, 1] = (target_a[r] - L3.b[r, 0]) / v
    bad = ReLUNetwork((net.layers[0], Layer(L2.W, b2, "relu"), Layer(W3, L3.b, "identity")), net.classes)
    cert = symtrunc.verify(bad, data)  # the exact forward pass decides zero loss
    assert not cert.invariants_checked
    assert cert.extra["invariants_failed"] == (
        "identity sign fails at point 0 (class 'a'), layer 2, neuron 0: value -1, expected >= 0"
    )
    certified = symtrunc.verify(bad, data, method="certified")
    assert not certified.invariants_checked
