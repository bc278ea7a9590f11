"""Exact objects are immutable, so no cached exact result can go stale.

Expected values come from an independent ``fractions.Fraction`` forward pass, never from
symtrunc's evaluator.
"""

from fractions import Fraction

import flint
import pytest

from symtrunc.data.labeled import LabeledData
from symtrunc.exact.evaluate import exact_forward
from symtrunc.exact.lp import strictly_separate
from symtrunc.exact.matrix import qmatrix, qvector
from symtrunc.geometry.truncation import PolyhedralCone, TruncationMap
from symtrunc.network import Layer, ReLUNetwork

SPEC = [
    ([[-1, 0], [0, 1]], ["7/4", "-5/4"], "relu"),
    ([[-1, 0], [0, -1]], ["1/2", "1/2"], "relu"),
    ([["7/6", "5/6"], ["-5/6", "-7/6"]], [0, 1], "identity"),
]

READ_ONLY = "read-only"


def fraction_forward(spec, x):
    """``x^(l) = σ(W_l x^(l-1) + b_l)`` in plain Fractions (identity on the last layer)."""
    h = [Fraction(v) for v in x]
    for W, b, act in spec:
        z = [sum((Fraction(w) * v for w, v in zip(row, h)), Fraction(0)) + Fraction(c) for row, c in zip(W, b)]
        h = [max(v, Fraction(0)) for v in z] if act == "relu" else z
    return h


def as_fractions(M):
    return [[Fraction(int(v.p), int(v.q)) for v in row] for row in M.tolist()]


def test_repro_layer_mutation_is_impossible_and_forward_stays_exact():
    net = ReLUNetwork.from_rows(
        [
            ([[-1, 0], [0, 1]], ["7/4", "-5/4"], "relu"),
            ([[-1, 0], [0, -1]], ["1/2", "1/2"], "relu"),
            ([["7/6", "5/6"], ["-5/6", "-7/6"]], [0, 1], "identity"),
        ]
    )  # noqa: E501
    net.forward([[2, 0]])
    with pytest.raises(TypeError, match=READ_ONLY):
        net.layers[0].W[0, 0] += 1000
    assert as_fractions(net.forward([[2, 0]])) == [fraction_forward(SPEC, [2, 0])]
    with pytest.raises(TypeError, match=READ_ONLY):
        net.layers[0].b[1, 0] = 3
    assert as_fractions(net.forward([[2, 0], [0, 2]])) == [
        fraction_forward(SPEC, [2, 0]),
        fraction_forward(SPEC, [0, 2]),
    ]


def test_changed_copy_of_a_layer_is_evaluated_afresh():
    net = ReLUNetwork.from_rows(SPEC)
    net.forward([[2, 0]])  # caches the evaluation plan of the original layers
    W = flint.fmpq_mat(net.layers[0].W)  # a writable copy
    W[0, 0] += 1000
    changed = net.with_layer(0, Layer(W, net.layers[0].b, "relu"))
    spec = [([[999, 0], [0, 1]], ["7/4", "-5/4"], "relu")] + SPEC[1:]
    for x in ([2, 0], [0, 2], ["1/3", "-2"]):
        assert as_fractions(changed.forward([x])) == [fraction_forward(spec, x)]
        assert as_fractions(net.forward([x])) == [fraction_forward(SPEC, x)]


def test_layer_keeps_its_own_copy_of_the_matrices_it_was_built_from():
    W, b = qmatrix(SPEC[0][0]), qvector(SPEC[0][1])
    net = ReLUNetwork((Layer(W, b, "relu"),) + ReLUNetwork.from_rows(SPEC).layers[1:])
    before = net.forward([[2, 0]])
    W[0, 0] = 1000
    b[0, 0] = -5
    assert net.forward([[2, 0]]) == before
    assert as_fractions(before) == [fraction_forward(SPEC, [2, 0])]
    assert as_fractions(net.layers[0].W) == [[-1, 0], [0, 1]]
    assert as_fractions(net.layers[0].b) == [[Fraction(7, 4)], [Fraction(-5, 4)]]


@pytest.mark.parametrize(
    "attempt",
    [
        lambda M: M.__setitem__((0, 0), 1),
        lambda M: M.rref(inplace=True),
        lambda M: M.__init__(1, 1, [7]),
        lambda M: setattr(M, "_sealed", False),
    ],
)
def test_every_in_place_mutator_of_a_layer_matrix_raises(attempt):
    layer = ReLUNetwork.from_rows(SPEC).layers[2]
    for M in (layer.W, layer.b):
        with pytest.raises(TypeError, match=READ_ONLY):
            attempt(M)
    assert as_fractions(layer.W) == [[Fraction(7, 6), Fraction(5, 6)], [Fraction(-5, 6), Fraction(-7, 6)]]


def test_network_holds_a_tuple_of_layers():
    layers = list(ReLUNetwork.from_rows(SPEC).layers)
    net = ReLUNetwork(layers)
    layers[0] = Layer(qmatrix([[5, 5], [5, 5]]), qvector([0, 0]), "relu")
    assert isinstance(net.layers, tuple)
    assert as_fractions(net.forward([[2, 0]])) == [fraction_forward(SPEC, [2, 0])]


class _PlainLayer:
    """A duck-typed, weak-referenceable layer whose matrices can change."""

    def __init__(self, W, b, activation):
        self.W, self.b, self.activation = W, b, activation


def test_duck_typed_layers_with_writable_matrices_are_never_served_from_the_cache():
    layer = _PlainLayer(qmatrix([[1, 2]]), qvector([0]), "identity")
    assert as_fractions(exact_forward([layer], qmatrix([[1, 1]]))) == [[Fraction(3)]]
    layer.W[0, 0] = 10
    assert as_fractions(exact_forward([layer], qmatrix([[1, 1]]))) == [[Fraction(12)]]


# ----------------------------------------------------------------------------- data
def test_labeled_data_is_immutable_and_its_cached_values_stay_exact():
    rows = [["2", "0"], ["3", "0"], ["0", "2"], ["0", "5/2"]]
    X = qmatrix(rows)
    data = LabeledData.from_arrays(X, ["a", "a", "b", "b"])
    means = data.means  # cached
    X[0, 0] = 100  # the source matrix: the data hold their own copy
    for M in (data.X, data.Y, data.means, data.barycenter, data.Y_ext, data.integer_points[0]):
        with pytest.raises(TypeError, match=READ_ONLY):
            M[0, 0] = 7
    F = [[Fraction(v) for v in r] for r in rows]
    assert as_fractions(data.X) == F
    want = [[(F[0][k] + F[1][k]) / 2, (F[2][k] + F[3][k]) / 2] for k in range(2)]
    assert as_fractions(data.means) == want and as_fractions(means) == want
    assert as_fractions(data.barycenter) == [[(w[0] + w[1]) / 2] for w in want]
    A, s = data.integer_points
    assert [[Fraction(int(v), s) for v in r] for r in A.tolist()] == [list(c) for c in zip(*F)]
    net = ReLUNetwork.from_rows(SPEC)
    assert as_fractions(net.forward(data)) == [fraction_forward(SPEC, r) for r in rows]


# ----------------------------------------------------------------------------- geometry
def test_truncation_map_is_immutable_and_its_pseudo_inverse_stays_valid():
    W, b = qmatrix([[0, 1], [-1, 2]]), qvector(["-5/4", "-3/4"])
    tau = TruncationMap(W, b)
    pinv_before = tau.W_pinv  # cached
    W[0, 0] = 9
    for M in (tau.W, tau.b, tau.W_pinv):
        with pytest.raises(TypeError, match=READ_ONLY):
            M[0, 0] += 1

    def tau_fraction(x):
        # W = [[0, 1], [-1, 2]] is invertible with W^{-1} = [[2, -1], [1, 0]]
        Wf, bf, inv = [[0, 1], [-1, 2]], [Fraction(-5, 4), Fraction(-3, 4)], [[2, -1], [1, 0]]
        z = [max(sum(w * v for w, v in zip(row, x)) + c, Fraction(0)) - c for row, c in zip(Wf, bf)]
        return [[sum(w * v for w, v in zip(row, z))] for row in inv]

    for x in ([2, 0], [0, 2], [Fraction(1, 3), Fraction(-1, 2)]):
        assert as_fractions(tau(qvector(x))) == tau_fraction([Fraction(v) for v in x])
    cone = tau.cone()
    for M in (cone.apex, cone.edges):
        with pytest.raises(TypeError, match=READ_ONLY):
            M[0, 0] = 0
    assert as_fractions(cone.apex) == [[Fraction(7, 4)], [Fraction(5, 4)]]
    assert as_fractions(tau.W_pinv) == as_fractions(pinv_before) == [[2, -1], [1, 0]]


def test_cone_keeps_its_own_copy():
    apex, edges = qvector([0, 0]), qmatrix([[1, 0], [0, 1]])
    cone = PolyhedralCone(apex, edges)
    edges[0, 0] = -1
    assert cone.region(qvector([1, 1])) == "forward"


def test_separation_certificates_are_immutable():
    A, B = qmatrix([[2, 0], [3, 0]]), qmatrix([[0, 2], [0, 3]])
    sep = strictly_separate(A, B)
    with pytest.raises(TypeError, match=READ_ONLY):
        sep.normal[0, 0] = 0
    assert sep.check(A, B)
    A2, B2 = qmatrix([[0, 0], [2, 2]]), qmatrix([[0, 2], [2, 0]])
    cert = strictly_separate(A2, B2)
    with pytest.raises(TypeError):
        cert.first_weights[0] = flint.fmpq(1)
    with pytest.raises(TypeError, match=READ_ONLY):
        cert.point[0, 0] = 5
    assert cert.check(A2, B2)
