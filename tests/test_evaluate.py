"""The fast exact evaluator agrees with a plain rational forward pass, on every backend."""

from fractions import Fraction

import flint
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symtrunc.exact.evaluate import exact_forward, exact_outputs, integer_layers, integer_points
from symtrunc.network import Layer, ReLUNetwork


def reference_forward(net: ReLUNetwork, X) -> flint.fmpq_mat:
    """The definition: x ← σ(W x + b) in exact rationals, one point at a time."""
    rows = []
    for x in X:
        h = flint.fmpq_mat(
            len(x),
            1,
            [
                flint.fmpq(v.numerator, v.denominator)
                if isinstance(v, Fraction)
                else flint.fmpq(*float(v).as_integer_ratio())
                if isinstance(v, float)
                else flint.fmpq(int(v))
                for v in x
            ],
        )
        for layer in net.layers:
            h = layer.W * h + layer.b
            if layer.activation == "relu":
                h = flint.fmpq_mat(h.nrows(), 1, [v if v > 0 else 0 for v in h.entries()])
        rows.append(h.entries())
    return flint.fmpq_mat(len(rows), net.output_dim, [v for r in rows for v in r])


fractions = st.fractions(min_value=-6, max_value=6, max_denominator=12)


@st.composite
def networks(draw, max_depth=4, max_width=5, entries=fractions, out_dim=None):
    widths = [draw(st.integers(1, max_width)) for _ in range(draw(st.integers(1, max_depth)) + 1)]
    if out_dim is not None:
        widths[-1] = out_dim
    spec = []
    for k in range(len(widths) - 1):
        W = [[draw(entries) for _ in range(widths[k])] for _ in range(widths[k + 1])]
        b = [draw(entries) for _ in range(widths[k + 1])]
        spec.append((W, b, "identity" if k == len(widths) - 2 else "relu"))
    return ReLUNetwork.from_rows(spec)


@st.composite
def net_and_points(draw, entries=fractions, coords=fractions):
    net = draw(networks(entries=entries))
    n = draw(st.integers(1, 6))
    X = [[draw(coords) for _ in range(net.input_dim)] for _ in range(n)]
    return net, X


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(net_and_points())
def test_random_networks_match_the_definition(case):
    net, X = case
    want = reference_forward(net, X)
    obj = np.array(X, dtype=object)
    assert exact_forward(net, obj) == want
    assert net.forward(X) == want  # ReLUNetwork.forward goes through the fast evaluator


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(net_and_points(coords=st.integers(-20, 20).map(lambda v: v / 8)))
def test_float_inputs_are_read_exactly(case):
    net, X = case
    Xf = np.array(X, dtype=np.float64)
    assert exact_forward(net, Xf) == reference_forward(net, Xf.tolist())


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(net_and_points(entries=st.fractions(min_value=-(10**12), max_value=10**12, max_denominator=10**9)))
def test_big_rationals_take_the_flint_path(case):
    net, X = case
    backends = {Z.backend for _, Z in integer_layers(net, np.array(X, dtype=object))}
    assert exact_forward(net, np.array(X, dtype=object)) == reference_forward(net, X)
    assert backends <= {"float64", "flint"}


def test_a_network_beyond_2_53_is_exact_on_flint():
    # the integers of the second layer exceed 2^53: float64 would round, flint does not
    big = 2**60 + 1
    net = ReLUNetwork.from_rows([([[big, 1]], [-big], "relu"), ([["1/3"]], [0], "identity")])
    X = np.array([[1, 1], [1, 2], [3, 0]])
    out = exact_outputs(net, X)
    assert out.backend == "flint"
    assert out.to_fmpq_mat() == reference_forward(net, X.tolist())
    assert out.to_fmpq_mat()[1, 0] == flint.fmpq(2, 3)
    # the plain float64 pass gets it wrong
    Wf = np.array([[float(big), 1.0]])
    z = np.maximum(X @ Wf.T - float(big), 0) / 3
    assert z[1, 0] != 2 / 3


def test_small_networks_stay_in_float64():
    net = ReLUNetwork.from_rows([([[1, -2], [3, 4]], ["1/2", 0], "relu"), ([[1, 1]], ["1/4"], "identity")])
    layers = list(integer_layers(net, np.array([[1, 2], [3, -4]], dtype=np.int64)))
    assert [Z.backend for _, Z in layers] == ["float64", "float64"]
    assert layers[-1][1].to_fmpq_mat() == reference_forward(net, [[1, 2], [3, -4]])


@pytest.mark.parametrize(
    "X, want_s",
    [
        (np.array([[0.5, 0.25], [3.0, -1.0]]), 4),
        (np.array([[1, 2], [3, 4]], dtype=np.uint8), 1),
        (np.array([[2.0**-1074, 1e300]]), 2**1074),
        (np.array([[2**62 + 1, 1]], dtype=np.int64), 1),
        (np.array([[Fraction(1, 3), Fraction(-2, 7)]], dtype=object), 21),
        (np.array([["0.1", 2]], dtype=object), 10),
    ],
    ids=["dyadic", "uint8", "subnormal-and-huge", "int64-big", "fractions", "decimal-strings"],
)
def test_integer_points_are_exact(X, want_s):
    A, s = integer_points(X)
    assert s == want_s
    rows = A.tolist() if isinstance(A, np.ndarray) else [[int(v) for v in r] for r in A.tolist()]
    from symtrunc.exact.rational import to_q

    for r_int, r_x in zip(rows, X.tolist()):
        for a, x in zip(r_int, r_x):
            assert flint.fmpq(int(a), s) == to_q(x)


def test_integer_pass_contract_is_kept():
    net = ReLUNetwork.from_rows([([[1, "1/3"], [-1, 2]], ["1/5", "-1/2"], "relu"), ([["2/7", 1]], [0], "identity")])
    X = [[1, 2], [Fraction(1, 2), 3], [-4, 1]]
    A, s = (
        flint.fmpq_mat(
            [[flint.fmpq(v.numerator, v.denominator) if isinstance(v, Fraction) else v for v in r] for r in X]
        )
        .transpose()
        .numer_denom()
    )
    want = reference_forward(net, X)
    *_, (k, values, scale) = net.integer_pass(A, int(s))
    assert k == 1
    assert flint.fmpq_mat(1, 3, values) / scale == want.transpose()


def test_single_affine_map_as_a_layer_list():
    layer = Layer(flint.fmpq_mat([[1, 2]]), flint.fmpq_mat([["1/3"]]), "identity")
    out = exact_outputs([layer], np.array([[1, 1], [0, 0]]))
    assert out.to_fmpq_mat() == flint.fmpq_mat([[flint.fmpq(10, 3)], [flint.fmpq(1, 3)]])
    assert out.equals([flint.fmpq(10, 3)]).tolist() == [True, False]
