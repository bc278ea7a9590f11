"""Exact core: pseudo-inverse, truncation maps, cumulative parameters, separation certificates."""

from fractions import Fraction

import flint
import pytest
from exact_reference import fraction_forward, fractions_of
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from symtrunc.exact.lp import OverlapCertificate, Separator, simplest_between, strictly_separate
from symtrunc.exact.matrix import identity, pinv, qmatrix
from symtrunc.geometry.truncation import PolyhedralCone, TruncationMap, relu
from symtrunc.network import Layer, ReLUNetwork

small = st.fractions(min_value=-5, max_value=5, max_denominator=6)


def matrices(m, n):
    return st.lists(st.lists(small, min_size=n, max_size=n), min_size=m, max_size=m).map(qmatrix)


@st.composite
def square_invertible(draw, n=None):
    n = n or draw(st.integers(1, 4))
    W = draw(matrices(n, n))
    assume(W.rank() == n)
    return W


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.data())
def test_pinv_penrose_equations(m, n, data):
    A = data.draw(matrices(m, n))
    P = pinv(A)
    assert A * P * A == A and P * A * P == P
    assert (A * P).transpose() == A * P and (P * A).transpose() == P * A


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.data())
def test_truncation_idempotent_scaling_invariant_and_cone_view(data):
    n = data.draw(st.integers(1, 4))
    m = data.draw(st.integers(1, n))
    W = data.draw(matrices(m, n))
    assume(W.rank() == m)  # surjective
    b = data.draw(matrices(m, 1))
    x = data.draw(matrices(n, 1))
    tau = TruncationMap(W, b)
    assert tau(tau(x)) == tau(x)
    c = data.draw(st.fractions(min_value=Fraction(1, 10), max_value=10))
    cq = flint.fmpq(c.numerator, c.denominator)
    assert TruncationMap(cq * W, cq * b)(x) == tau(x)
    # Lemma 2.1 (arXiv 2504.18710): τ(x) = W⁺W p + Σ_{a_i>0} a_i v_i with a = W(x - p)
    cone = tau.cone()
    a = W * (x - cone.apex)
    expected = tau.W_pinv * W * cone.apex + tau.W_pinv * relu(a)
    assert tau(x) == expected
    if m == n:
        region = cone.region(x)
        if region == "forward":
            assert tau(x) == x
        elif region == "backward":
            assert tau(x) == cone.apex
        back = TruncationMap.from_cone(PolyhedralCone(cone.apex, cone.edges))
        assert back(x) == tau(x)


@st.composite
def invertible_networks(draw):
    n = draw(st.integers(1, 3))
    depth = draw(st.integers(1, 3))
    layers = []
    for _ in range(depth):
        W = draw(square_invertible(n))
        layers.append(Layer(W, draw(matrices(n, 1)), "relu"))
    layers.append(Layer(draw(matrices(2, n)), draw(matrices(2, 1)), "identity"))
    return ReLUNetwork(tuple(layers))


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(invertible_networks(), st.data())
def test_cumulative_roundtrip_and_proposition_3_2(net, data):
    cum = net.cumulative()
    assert ReLUNetwork.from_cumulative(cum).layers == net.layers
    x = data.draw(matrices(net.input_dim, 1))
    # X^(l) = W^(l) x^(τ,l) + b^(l) with x^(τ,l) = τ_l ∘ ... ∘ τ_1 (x)
    act, xt = x, x
    for k, layer in enumerate(net.layers[:-1]):
        act = relu(layer.W * act + layer.b)
        Wc, bc = cum[k]
        xt = TruncationMap(Wc, bc)(xt)
        assert act == Wc * xt + bc
    Wc, bc = cum[-1]
    out = net.layers[-1].W * act + net.layers[-1].b
    assert out == Wc * xt + bc
    assert net.forward(x.transpose()) == out.transpose()


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(invertible_networks(), st.data())
def test_integer_scaled_forward_matches_fractions(net, data):
    X = data.draw(matrices(data.draw(st.integers(1, 5)), net.input_dim))
    assert fractions_of(net.forward(X)) == fraction_forward(net, X)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3), st.data())
def test_separation_answer_is_always_exactly_checkable(M, data):
    A = data.draw(matrices(data.draw(st.integers(1, 5)), M))
    B = data.draw(matrices(data.draw(st.integers(1, 5)), M))
    res = strictly_separate(A, B)
    assert isinstance(res, (Separator, OverlapCertificate))
    assert res.check(A, B)


def test_simplest_between():
    q = flint.fmpq
    assert simplest_between(q(1, 3), q(1, 2)) == q(2, 5)
    assert simplest_between(q(-1, 2), q(1, 2)) == 0
    assert simplest_between(q(3), q(7, 2)) == q(10, 3)
    assert simplest_between(q(-7, 2), q(-3)) == q(-10, 3)


def test_identity_helpers():
    assert identity(2) * pinv(identity(2)) == identity(2)


def test_exact_simplex_fallback_with_huge_integers():
    """Regression: the float LP gives up at this scale and sympy's simplex returns plain ints."""
    import flint

    from symtrunc.exact.lp import Separator, strictly_separate

    B = flint.fmpq_mat(
        2,
        3,
        [
            -452521690558187456,
            14411518807585588,
            288230376151711744,
            334347236335985600,
            391993311566328000,
            -288230376151711744,
        ],
    )
    res = strictly_separate(flint.fmpq_mat(1, 3), B)
    assert isinstance(res, Separator)
