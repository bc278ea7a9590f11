"""The fast exact paths of verification: certified sign filters, batched rational passes, blocks.

Every answer is checked against an independent ``fractions.Fraction`` computation
(tests/exact_reference.py), never against the code under test.
"""

from fractions import Fraction

import flint
import numpy as np
import pytest
from exact_reference import fraction, fraction_forward, fractions_of  # tests/ is on sys.path
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import random_data

import symtrunc
from symtrunc.errors import VerificationError
from symtrunc.exact.affine_signs import AffineSigns
from symtrunc.exact.evaluate import exact_values
from symtrunc.network import Layer, ReLUNetwork
from symtrunc.verification import exact as exact_verifier

BIG = 3**45  # beyond 2^53: integer forms that float64 cannot hold exactly


def _sign(v) -> int:
    return (v > 0) - (v < 0)


def _reference_signs(G, A, s) -> list[list[int]]:
    k = len(A[0])
    return [[_sign(sum(int(g) * int(a) for g, a in zip(row[:k], x)) + int(row[k]) * s) for row in G] for x in A]


# ----------------------------------------------------------------------------- AffineSigns
integers = st.one_of(st.integers(-5, 5), st.integers(-(2**70), 2**70), st.integers(-(2**61), 2**61))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_affine_signs_match_integer_arithmetic(data):
    k = data.draw(st.integers(1, 4))
    m = data.draw(st.integers(1, 3))
    n = data.draw(st.integers(1, 6))
    entry = data.draw(st.sampled_from([st.integers(-9, 9), st.integers(-(2**61), 2**61)]))
    A = [[data.draw(entry) for _ in range(k)] for _ in range(n)]
    G = [[data.draw(integers) for _ in range(k + 1)] for _ in range(m)]
    if data.draw(st.booleans()):  # a row vanishing exactly at the first point: the band case
        x = A[0] + [1]
        r = data.draw(st.integers(0, m - 1))
        G[r][-1] = 0
        G[r][-1] = -sum(g * a for g, a in zip(G[r], x[:k]))
    s = data.draw(st.sampled_from([1, 2, 7]))
    if any(row[-1] % s for row in G):
        G = [row[:-1] + [row[-1] * s] for row in G]
    bound = max(abs(v) for x in A for v in x)
    got = AffineSigns(G, s, bound)(np.array(A, dtype=np.int64))
    assert got.tolist() == _reference_signs(G, A, s)


def test_affine_signs_where_float64_cancels():
    # 2^60 + 1 - 2^60 rounds to 0 in float64: the band sends the point to exact arithmetic
    G = [[2**60 + 1, -(2**60), 0], [BIG, -BIG, -1], [BIG, -BIG, 0]]
    A = np.array([[1, 1], [5, 5], [6, 5]])
    signs = AffineSigns(G, 1, 6)
    assert not signs.exact
    assert signs(A).tolist() == _reference_signs(G, A.tolist(), 1) == [[1, -1, 0], [1, -1, 0], [1, 1, 1]]
    assert signs.value(0, [1, 1]) == 1


def test_affine_signs_of_huge_points_and_exact_floats():
    A = np.array([[2**70, -1], [3, 4]], dtype=object)  # beyond int64: python-flint
    G = [[1, 2**70, 0], [-1, 0, 5]]
    assert AffineSigns(G, 3, 2**70)(A).tolist() == _reference_signs(G, A.tolist(), 3)
    small = AffineSigns([[1, -2, 3]], 1, 10)
    assert small.exact and small(np.array([[2, 1], [0, 2]])).tolist() == [[1], [-1]]


# ----------------------------------------------------------------------------- exact_values
fractions = st.fractions(min_value=-3, max_value=3, max_denominator=9)


def _random_net(data, depth, width, dim, big):
    rows = []
    for k in range(depth):
        out = width if k < depth - 1 else 2
        inp = dim if k == 0 else width
        scale = Fraction(BIG, BIG + 2) if big else 1  # huge numerators and denominators
        W = [[data.draw(fractions) * scale for _ in range(inp)] for _ in range(out)]
        b = [data.draw(fractions) for _ in range(out)]
        rows.append((W, b, data.draw(st.sampled_from(["relu", "relu", "identity"])) if k < depth - 1 else "identity"))
    return ReLUNetwork.from_rows(rows)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_exact_values_match_fraction_forward(data):
    dim = data.draw(st.integers(1, 3))
    net = _random_net(data, data.draw(st.integers(1, 4)), data.draw(st.integers(1, 3)), dim, data.draw(st.booleans()))
    n = data.draw(st.integers(1, 5))
    A = [[data.draw(st.integers(-20, 20)) for _ in range(dim)] for _ in range(n)]
    s = data.draw(st.integers(1, 6))
    want = fraction_forward(net, [[Fraction(a, s) for a in x] for x in A])
    for points in (np.array(A, dtype=np.int64), np.array(A, dtype=object), flint.fmpz_mat(A)):
        out = exact_values(net, points, s)
        got = out if isinstance(out, flint.fmpq_mat) else out.to_fmpq_mat()
        assert fractions_of(got) == want


def test_exact_values_on_huge_denominators_reduce_and_stay_exact():
    # 12 layers whose weights carry 80-bit denominators: the rational stage, reduced per layer
    rng = np.random.default_rng(1)
    d = 2**40 * 3**25
    rows = [
        (
            [[Fraction(int(v) * 3**20 + 1, d) for v in r] for r in rng.integers(-(2**20), 2**20, (3, 3))],
            [Fraction(1, 7)] * 3,
            "relu",
        )
        for _ in range(12)
    ]
    rows.append(([[Fraction(1)] * 3], [Fraction(0)], "identity"))
    net = ReLUNetwork.from_rows(rows)
    A = rng.integers(-50, 50, (20, 3))
    out = exact_values(net, A, 4)
    assert isinstance(out, flint.fmpq_mat)
    assert fractions_of(out) == fraction_forward(net, [[Fraction(int(a), 4) for a in x] for x in A])


# ----------------------------------------------------------------------------- verify
def _scaled(net: ReLUNetwork, factors) -> ReLUNetwork:
    """The same function with neuron ``i`` of hidden layer ``k`` scaled by ``factors[k][i] > 0``
    (the next layer's column divided by it): ReLU commutes with positive scaling."""
    layers = list(net.layers)
    for k, c in enumerate(factors):
        D = flint.fmpq_mat(len(c), len(c), [c[i] if i == j else 0 for i in range(len(c)) for j in range(len(c))])
        Dinv = flint.fmpq_mat(len(c), len(c), [1 / c[i] if i == j else 0 for i in range(len(c)) for j in range(len(c))])
        L, nxt = layers[k], layers[k + 1]
        layers[k] = Layer(D * L.W, D * L.b, L.activation)
        layers[k + 1] = Layer(nxt.W * Dinv, nxt.b, nxt.activation)
    return ReLUNetwork(tuple(layers), net.classes)


def _two_class():
    """Data and a network with the collapse structure (class a collapses at layer 1, b at 2)."""
    # the last point lies on a hyperplane of layer 1 (pre-activation exactly 0): the float filter
    # cannot decide its sign, exact arithmetic does
    X = [[2, 0], [3, 0], [0, 2], [0, 3], ["5/2", "1/3"], [2, "5/4"]]
    data = symtrunc.LabeledData.from_arrays(X, ["a", "a", "b", "b", "a", "a"])
    net = ReLUNetwork.from_rows(
        [
            ([[0, 1], [-1, 2]], ["-5/4", "-3/4"], "relu"),
            ([[3, -2], [2, -1]], ["3/2", "1/2"], "relu"),
            ([["5/6", "-1/2"], ["-7/6", "3/2"]], [0, 1], "identity"),
        ],
        classes=("a", "b"),
    )
    return data, net


def _huge(net: ReLUNetwork) -> ReLUNetwork:
    """``net`` rescaled with huge rationals: integer forms far beyond 2^53."""
    return _scaled(
        net, [[flint.fmpq(BIG + i, 7**20 + k) for i in range(L.shape[0])] for k, L in enumerate(net.layers[:-1])]
    )


def _first_failure(net, data, Y=None):
    """``(point, neuron, value)`` of the first point (data order) whose output misses its target."""
    Y = fractions_of(data.Y if Y is None else Y)
    for i, (out, j) in enumerate(zip(fraction_forward(net, data.X), data.y)):
        for r, v in enumerate(out):
            if v != Y[r][j]:
                return i, r, v
    return None


def test_structured_path_with_huge_integer_forms():
    data, net = _two_class()
    huge = _huge(net)
    cert = symtrunc.verify(huge, data)
    assert cert.invariants_checked and cert.layers == symtrunc.verify(net, data).layers
    assert [r.collapses for r in cert.layers] == ["a", "b", None]
    assert _first_failure(huge, data) is None


@pytest.mark.parametrize("invariants", [True, False])
def test_wrong_label_gives_the_first_failing_point(invariants):
    data, net = _two_class()
    huge = _huge(net)
    y = list(data.y)
    for i in (3, 1):  # two wrong labels: the first in data order is reported
        y[i] = 1 - y[i]
    wrong = symtrunc.LabeledData.from_arrays(data.X, [data.classes[j] for j in y])
    i, r, v = _first_failure(huge, wrong)
    assert i == 1
    with pytest.raises(VerificationError) as info:
        symtrunc.verify(huge, wrong, invariants=invariants)
    c = info.value.counterexample
    assert (c.check, c.point, c.layer, c.neuron) == ("zero loss", i, huge.depth, r)
    assert fraction(c.value) == v


def test_wrong_network_in_every_block(monkeypatch):
    data, net = _two_class()
    huge = _huge(net)
    layer = huge.layers[-1]
    b = flint.fmpq_mat(layer.b)
    b[1, 0] += flint.fmpq(1, BIG)
    bad = huge.with_layer(huge.depth - 1, Layer(layer.W, b, "identity"))
    i, r, v = _first_failure(bad, data)
    assert (i, r) == (0, 1)
    for block in (1 << 19, 1):  # one block, or one point per block
        monkeypatch.setattr(exact_verifier, "_BLOCK", block)
        with pytest.raises(VerificationError) as info:
            symtrunc.verify(bad, data, invariants=False)
        c = info.value.counterexample
        assert (c.point, c.neuron, fraction(c.value)) == (i, r, v)


def test_broken_identity_sign_is_found_in_blocks(monkeypatch):
    # a first-layer neuron made negative everywhere (then rescaled by huge factors): class b's
    # points are truncated at layer 1, zero loss still holds, and the structure check names the
    # first broken sign with its exact value, whatever the block size
    data, net = _two_class()
    L1 = net.layers[0]
    b = flint.fmpq_mat(L1.b)
    b[0, 0] = b[0, 0] - 100
    widths = [L.shape[0] for L in net.layers[:-1]]
    bad = _scaled(
        net.with_layer(0, Layer(L1.W, b, "relu")), [[flint.fmpq(BIG, 5**30 + i) for i in range(w)] for w in widths]
    )
    W, b0 = fractions_of(bad.layers[0].W), fraction(bad.layers[0].b[0, 0])
    z = sum(w * x for w, x in zip(W[0], [0, 2])) + b0
    assert z < 0 and _first_failure(bad, data) is None
    for block in (1 << 19, 1):
        monkeypatch.setattr(exact_verifier, "_BLOCK", block)
        cert = symtrunc.verify(bad, data)
        assert not cert.invariants_checked
        assert cert.extra["invariants_failed"] == (
            f"identity sign fails at point 2 (class 'b'), layer 1, neuron 0: value {z}, expected >= 0"
        )


@settings(max_examples=15, deadline=None)
@given(random_data(), st.data())
def test_random_networks_fail_at_the_right_point(data, draw):
    net = _random_net(
        draw, draw.draw(st.integers(1, 3)), draw.draw(st.integers(1, 3)), data.M, draw.draw(st.booleans())
    )
    net = ReLUNetwork(net.layers[:-1] + (_output(net.layers[-1], data.Q),), data.classes)
    bad = _first_failure(net, data)
    assume(bad is not None)
    i, r, v = bad
    with pytest.raises(VerificationError) as info:
        symtrunc.verify(net, data, invariants=draw.draw(st.booleans()))
    c = info.value.counterexample
    assert (c.check, c.point, c.layer, c.neuron, fraction(c.value)) == ("zero loss", i, net.depth, r, v)


def _output(layer: Layer, Q: int) -> Layer:
    """``layer`` cut or padded (zero rows) to ``Q`` outputs."""
    m = layer.shape[1]
    W = [[layer.W[min(r, layer.shape[0] - 1), j] if r < layer.shape[0] else 0 for j in range(m)] for r in range(Q)]
    b = [[layer.b[r, 0] if r < layer.shape[0] else 0] for r in range(Q)]
    return Layer(flint.fmpq_mat(W), flint.fmpq_mat(b), "identity")


def test_affine_signs_with_a_homogeneous_coordinate_beyond_int64():
    # s = 3^45 > 2^62 with a zero bias column: the homogeneous coordinate s itself leaves int64
    # although every entry of G is small (the bound once looked at max|G[:, -1]| s only)
    s = 3**45
    G = np.array([[1, -1, 0], [2, 0, 0], [0, 1, 0]])
    A = [[3, 2], [1, 5], [0, 0]]
    got = AffineSigns(G, s, 10)(np.array(A, dtype=np.int64))
    assert got.tolist() == _reference_signs(G.tolist(), A, s)
