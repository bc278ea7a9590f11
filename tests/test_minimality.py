"""Exact output least squares, the 2^Q configurations of Theorems 2.4–2.5 and the local-minimality test."""

import flint
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synthetic import clustered_l2_data

import symtrunc
from symtrunc.claims.configurations import build_configuration, configurations, paper_values
from symtrunc.claims.minimality import _perturbed, hidden_gradient, local_minimality, refitted_cost
from symtrunc.constructions.deep_l2 import truncate
from symtrunc.errors import DataError, HypothesisError
from symtrunc.exact.matrix import columns_matrix, qmatrix, qvector
from symtrunc.exact.rational import to_q
from symtrunc.loss import fitted_objective, optimal_output_layer
from symtrunc.network import ReLUNetwork

SETTINGS = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------- output least squares (part 1)
def _sympy_min(F, data, bias, weights):
    """Independent reference: minimize the weighted sum of squares with sympy's exact solver."""
    A = sympy.Matrix(F.tolist()).applyfunc(lambda v: sympy.Rational(int(v.p), int(v.q)))
    if bias:
        A = A.col_join(sympy.ones(1, A.shape[1]))
    Y = sympy.Matrix(data.Y_ext.tolist()).applyfunc(lambda v: sympy.Rational(int(v.p), int(v.q)))
    D = sympy.diag(*weights)
    G = A * D * A.T
    Theta = Y * D * A.T * G.pinv()
    R = Theta * A - Y
    return sum((R[:, i].dot(R[:, i]) * weights[i] for i in range(A.shape[1])), sympy.Integer(0))


@SETTINGS
@given(seed=st.integers(0, 10**6), bias=st.booleans(), weighting=st.sampled_from(["class", "uniform"]))
def test_output_fit_matches_independent_least_squares(seed, bias, weighting):
    d = clustered_l2_data(2, 3, seed, M=3)
    w = [sympy.Rational(1, d.counts[j]) if weighting == "class" else 1 for j in d.y]
    fit = optimal_output_layer(d.X.transpose(), d, bias=bias, weighting=weighting)
    ref = _sympy_min(d.X.transpose(), d, bias, w)
    assert sympy.Rational(int(fit.objective.p), int(fit.objective.q)) == ref
    assert fit.with_bias is bias and (bias or all(v == 0 for v in fit.bias.entries()))
    # the fitted layer attains the objective, and the costs agree with it
    out = fit.outputs(d.X.transpose()) - d.Y_ext
    val = sum(
        (
            out[r, i] ** 2 * (flint.fmpq(1, d.counts[j]) if weighting == "class" else 1)
            for i, j in enumerate(d.y)
            for r in range(d.Q)
        ),
        flint.fmpq(0),
    )
    assert val == fit.objective == fitted_objective(d.X.transpose(), d, bias=bias, weighting=weighting)
    key = "class_weighted" if weighting == "class" else "half_squared"
    assert to_q(fit.costs[key]) == (fit.objective if weighting == "class" else fit.objective / 2)


def test_output_fit_singular_features_and_bad_input():
    d = clustered_l2_data(2, 3, seed=1)
    F = d.X.transpose()
    dup = flint.fmpq_mat(4, d.N, F.entries() + F.entries())  # repeated rows: singular normal matrix
    assert optimal_output_layer(dup, d).objective == optimal_output_layer(F, d).objective
    with pytest.raises(DataError, match="columns"):
        optimal_output_layer(F, clustered_l2_data(2, 4, seed=1))
    with pytest.raises(DataError, match="weighting"):
        optimal_output_layer(F, d, weighting="squared")


def test_bias_matters_d1():
    """With a free bias the minimum is below the bias-free one exactly when D1 says so."""
    d = clustered_l2_data(2, 4, seed=5)
    with_b = optimal_output_layer(d.X.transpose(), d).objective
    without = optimal_output_layer(d.X.transpose(), d, bias=False).objective
    vals = paper_values(d, (1, 1))
    assert without == vals["paper"] and with_b == vals["d1"] and with_b < without


# ----------------------------------------------------------------- configurations (part 3)
@SETTINGS
@given(seed=st.integers(0, 10**6), s=st.sampled_from(["00", "01", "10", "11"]))
def test_configuration_values_identities(seed, s):
    d = clustered_l2_data(2, 3, seed)
    c = build_configuration(d, s)
    assert c.tau_matches
    bits = [int(b) for b in s]
    tau = truncate(c.network, d)
    red = columns_matrix([d.mean(j) if bits[j] else _col(tau, d, j) for j in range(d.Q)])
    # (2.55) on truncated data: zero-bias minimum = Tr(Y B Yᵀ) from ((τX_0)^red)^{-1} Δ(τX_0)  (D1 identity)
    assert c.zero_bias == paper_values(d, bits, red)["paper"]
    assert c.affine <= c.zero_bias <= c.bound_tau
    if s == "11":
        assert c.zero_bias == c.paper and c.affine == c.d1 and c.affine <= c.paper <= c.bound
    if s == "00":
        assert c.affine == 0 and c.paper == 0


def _col(tau, d, j):
    i = d.class_indices[j][0]
    return flint.fmpq_mat(d.M, 1, [tau[k, i] for k in range(d.M)])


def test_configurations_all_and_bad_bits():
    d = clustered_l2_data(2, 3, seed=2)
    assert [c.bits for c in configurations(d)] == ["00", "01", "10", "11"]
    with pytest.raises(DataError, match="bits"):
        build_configuration(d, "012")
    with pytest.raises(HypothesisError, match="M = Q"):
        build_configuration(clustered_l2_data(2, 3, seed=2, M=3), "11")


# ----------------------------------------------------------------- local minimality (part 3)
def test_verdicts_q2():
    d = clustered_l2_data(2, 4, seed=11)
    verdicts = {c.bits: local_minimality(c.network, d, probes=2) for c in configurations(d)}
    assert verdicts["00"].verdict == "global minimum"
    ident = verdicts["11"]
    assert ident.verdict == "local minimum" and ident.critical and ident.gradient_norm_squared == 0
    assert ident.probes["decreased"] == 0
    for s in ("01", "10"):
        rep = verdicts[s]
        assert rep.verdict == "not a local minimum" and rep.critical is False and rep.gradient_norm_squared > 0
        assert rep.descent is not None


def test_descent_witness_is_exact():
    d = clustered_l2_data(2, 4, seed=11)
    c = build_configuration(d, "01")
    rep = local_minimality(c.network, d, probes=0)
    eps = to_q(rep.descent["epsilon"])
    direction = []
    for k in range(1, len(c.network.layers)):
        W = qmatrix(rep.descent["direction"][f"W{k}"])
        b = qvector(rep.descent["direction"][f"b{k}"])
        direction.append((W, b))
    after = refitted_cost(_perturbed(c.network, direction, eps), d)
    assert after == to_q(rep.descent["value_after"]) < rep.value
    assert rep.value - after == to_q(rep.descent["decrease"])


def test_gradient_matches_central_difference():
    d = clustered_l2_data(2, 4, seed=3)
    c = build_configuration(d, "10")
    grads, unique = hidden_gradient(c.network, d)
    assert unique
    d_dir = [
        (
            flint.fmpq_mat(W.nrows(), W.ncols(), [(-1) ** (i % 3) for i in range(W.nrows() * W.ncols())]),
            flint.fmpq_mat(b.nrows(), 1, [1] * b.nrows()),
        )
        for W, b in grads
    ]
    eps = flint.fmpq(1, 2**30)
    plus = refitted_cost(_perturbed(c.network, d_dir, eps), d)
    minus = refitted_cost(_perturbed(c.network, d_dir, -eps), d)
    directional = sum(
        (
            a * b
            for (gW, gb), (dW, db) in zip(grads, d_dir)
            for a, b in zip(gW.entries() + gb.entries(), dW.entries() + db.entries())
        ),
        flint.fmpq(0),
    )
    assert abs((plus - minus) / (2 * eps) - directional) < flint.fmpq(1, 10**12)


def test_region_boundary_one_sided():
    d = symtrunc.LabeledData.from_arrays([[3, 0], [4, 1], [0, 3], [1, 5], [2, 2]], [0, 0, 1, 1, 1])
    kink = ReLUNetwork.from_rows([([[1, 0], [0, 1]], [-2, -2], "relu"), ([[1, 0], [0, 1]], [0, 0], "identity")])
    rep = local_minimality(kink, d, probes=1)
    assert rep.verdict == "not a local minimum" and rep.critical is None and (1, 0, 4) in rep.boundary
    assert to_q(rep.descent["one_sided_derivative"]) < 0
    direction = [(qmatrix(rep.descent["direction"]["W1"]), qvector(rep.descent["direction"]["b1"]))]
    after = refitted_cost(_perturbed(kink, direction, to_q(rep.descent["epsilon"])), d)
    assert after == to_q(rep.descent["value_after"]) < rep.value
    # a zero pre-activation where no adjacent piece descends to first order: undecided, said so
    edge = ReLUNetwork.from_rows([([[1, 0], [0, 1]], [1, 0], "relu"), ([[1, 0], [0, 1]], [0, 0], "identity")])
    rep = local_minimality(edge, d, probes=2)
    assert rep.verdict == "undecided" and rep.boundary == ((1, 1, 0),) and "piecewise" in rep.reason


def test_nonunique_output_fit_is_undecided():
    d = symtrunc.LabeledData.from_arrays([[3, 0], [4, 1], [0, 3], [1, 5], [2, 2]], [0, 0, 1, 1, 1])
    flat = ReLUNetwork.from_rows([([[1, 0], [1, 0]], [1, 1], "relu"), ([[1, 0], [0, 1]], [0, 0], "identity")])
    rep = local_minimality(flat, d, probes=1)
    assert rep.verdict == "undecided" and "not unique" in rep.reason


def test_dimension_mismatch():
    net = ReLUNetwork.from_rows([([[1, 0, 0]], [0], "relu"), ([[1]], [0], "identity")])
    with pytest.raises(DataError, match="dimension"):
        local_minimality(net, clustered_l2_data(2, 2, seed=0))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), per=st.integers(3, 5))
def test_verdicts_on_random_clustered_data(seed, per):
    """Thm 2.4 holds (value V_aff, not (2.71)); the mixed configurations of Thm 2.5 are not critical."""
    d = clustered_l2_data(2, per, seed)
    for c in configurations(d)[1:]:
        rep = local_minimality(c.network, d, probes=1)
        if c.bits == "11":
            assert rep.verdict == "local minimum" and rep.value == c.affine == c.d1 <= c.paper
        elif c.affine == 0:  # degenerate data (e.g. a collinear cluster): the configuration interpolates
            assert rep.verdict == "global minimum"
        else:
            assert rep.verdict == "not a local minimum" and rep.gradient_norm_squared > 0


# ----------------------------------------------------------------- independent route: sympy differentiation
def _sym(v):
    return sympy.Rational(int(v.p), int(v.q))


def _sympy_directional_derivative(network, data, direction, *, bias=True, weighting="class"):
    """d/dt F(θ + t d) at t = 0, from sympy's derivative of the piecewise-affine hidden features.

    The activation pattern is frozen at θ (valid inside the region); sympy differentiates the
    features A(t) (polynomial in t), and F' follows from the full derivative of the least-squares
    solution Θ(t) = B(t) G(t)^{-1} (no envelope theorem, no back-propagation): shares no code
    with ``hidden_gradient``.
    """
    t = sympy.Symbol("t")
    X = sympy.Matrix(data.X.transpose().tolist()).applyfunc(_sym)
    n = data.N
    for layer, (dW, db) in zip(network.layers[:-1], direction):
        W = sympy.Matrix(layer.W.tolist()).applyfunc(_sym) + t * sympy.Matrix(dW.tolist()).applyfunc(_sym)
        b = sympy.Matrix(layer.b.tolist()).applyfunc(_sym) + t * sympy.Matrix(db.tolist()).applyfunc(_sym)
        Z = (W * X + b * sympy.ones(1, n)).applyfunc(sympy.expand)
        X = Z.multiply_elementwise(Z.subs(t, 0).applyfunc(lambda z: 1 if z > 0 else 0))
    A = X.col_join(sympy.ones(1, n)) if bias else X
    A0, A1 = A.subs(t, 0), A.diff(t).subs(t, 0)
    w = [sympy.Rational(1, data.counts[j]) if weighting == "class" else 1 for j in data.y]
    D = sympy.diag(*w)
    Y = sympy.Matrix(data.Y_ext.tolist()).applyfunc(_sym)
    G0, G1 = A0 * D * A0.T, A1 * D * A0.T + A0 * D * A1.T
    B0, B1 = Y * D * A0.T, Y * D * A1.T
    Gi = G0.inv()
    Theta0 = B0 * Gi
    Theta1 = B1 * Gi - B0 * Gi * G1 * Gi
    R0, R1 = Theta0 * A0 - Y, Theta1 * A0 + Theta0 * A1
    return sum((2 * w[i] * R0[:, i].dot(R1[:, i]) for i in range(n)), sympy.Integer(0))


@pytest.mark.parametrize("bits", ["01", "10", "11"])
def test_gradient_matches_sympy_differentiation(bits):
    """The exact back-propagated gradient equals sympy's derivative of F along random rational directions."""
    d = clustered_l2_data(2, 3, seed=7)
    net = build_configuration(d, bits).network
    grads, unique = hidden_gradient(net, d)
    assert unique
    import random

    rng = random.Random(bits)
    for _ in range(2):

        def rand(r, c):
            return flint.fmpq_mat(r, c, [flint.fmpq(rng.randint(-3, 3), 2) for _ in range(r * c)])

        direction = [(rand(W.nrows(), W.ncols()), rand(b.nrows(), 1)) for W, b in grads]
        exact = sum(
            (
                a * v
                for (gW, gb), (dW, db) in zip(grads, direction)
                for a, v in zip(gW.entries() + gb.entries(), dW.entries() + db.entries())
            ),
            flint.fmpq(0),
        )
        assert _sym(exact) == _sympy_directional_derivative(net, d, direction)
    if bits == "11":  # Theorem 2.4's configuration is critical; the mixed ones are not
        assert all(v == 0 for gW, gb in grads for v in gW.entries() + gb.entries())
    else:
        assert any(v != 0 for gW, gb in grads for v in gW.entries() + gb.entries())


def test_gradient_matches_sympy_without_bias_and_uniform_weights():
    d = symtrunc.LabeledData.from_arrays([[3, 0], [4, 1], [0, 3], [1, 5], [2, 2]], [0, 0, 1, 1, 1])
    net = ReLUNetwork.from_rows(
        [([[1, "1/2"], [0, 1], [1, -1]], [1, "-1/2", 1], "relu"), ([[1, 0, 0], [0, 1, 1]], [0, 0], "identity")]
    )
    direction = [(qmatrix([[1, -1], ["1/2", 0], [0, 2]]), qvector([1, "-1/3", 0]))]
    for bias in (True, False):
        grads, unique = hidden_gradient(net, d, bias=bias, weighting="uniform")
        assert unique
        exact = sum(
            (
                a * v
                for a, v in zip(
                    grads[0][0].entries() + grads[0][1].entries(), direction[0][0].entries() + direction[0][1].entries()
                )
            ),
            flint.fmpq(0),
        )
        assert _sym(exact) == _sympy_directional_derivative(net, d, direction, bias=bias, weighting="uniform")


def test_identity_regime_without_output_bias_is_not_called_a_minimum():
    """Without the output bias the offset b^(L) matters: the identity-regime argument must not be used."""
    d = symtrunc.LabeledData.from_arrays([[3, 0], [4, 1], [0, 3], [1, 5], [2, 2]], [0, 0, 1, 1, 1])
    net = ReLUNetwork.from_rows([([[1, 0], [0, 1]], [1, 1], "relu"), ([[1, 0], [0, 1]], [0, 0], "identity")])
    assert local_minimality(net, d, probes=0).verdict == "local minimum"
    assert local_minimality(net, d, bias=False, probes=0).verdict == "not a local minimum"


def test_the_step_search_state_is_the_region_state_or_nothing():
    # region_state with a target (the step search) must accept exactly the states whose pattern
    # is the target with no zero pre-activation, and give the same activations then
    from symtrunc.claims.minimality import region_state

    d = symtrunc.LabeledData.from_arrays([[3, 0], [4, 1], [0, 3], [1, 5], [2, 2]], [0, 0, 1, 1, 1])
    X = d.X.transpose()
    nets = [
        ReLUNetwork.from_rows([([[1, -1], [0, 1]], [1, "-1/2"], "relu"), ([[1, 0], [0, 1]], [0, 0], "identity")]),
        ReLUNetwork.from_rows([([[1, 0], [0, 1]], ["-1", "-1"], "relu"), ([[1, 0], [0, 1]], [0, 0], "identity")]),
    ]
    for net in nets:
        st = region_state(net, X)
        got = region_state(net, X, st.pattern)
        if st.boundary:
            assert got is None
        else:
            assert got is not None and [M.entries() for M in got.inputs] == [M.entries() for M in st.inputs]
        flipped = tuple(tuple(1 - p for p in layer) for layer in st.pattern)
        assert region_state(net, X, flipped) is None
