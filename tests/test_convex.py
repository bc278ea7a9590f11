"""The 18 checkable claims of Mishkin & Pilanci (reference notes) as tests, plus the checkers'
ability to refuse wrong input."""

from __future__ import annotations

import dataclasses
import itertools

import flint
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symtrunc.convex import (
    ConvexProgram,
    RegressionData,
    TwoLayerNetwork,
    certify,
    certify_network,
    certify_weights,
    cover_count,
    enumerate_patterns,
    exact_optimal_set,
    fits_independent,
    float_optimal_set,
    from_network,
    in_general_position,
    lambda_max,
    patterns_from_masks,
    plant,
    prune_approximate,
    prune_exact,
    prune_float,
    prune_network,
    regularization_path,
    sample_patterns,
    solve_conic,
    solve_fista,
    to_network,
)
from symtrunc.convex.optimal_set import OptimalSet
from symtrunc.convex.planted import correlation_vectors
from symtrunc.errors import UncertifiedError, VerificationError

SQUARE = [[1, 0], [0, 1], [-1, 0], [0, -1]]  # planted: optimal set of dimension 1
OCTAGON = [[1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1], [0, -1], [1, -1]]  # dimension 3
SMALL = [[1, 0], [0, 1], [1, 1], [2, -1]]


@pytest.fixture(scope="module")
def square():
    inst = plant(SQUARE, [1, 1, 1, 1])
    return inst, exact_optimal_set(inst.program, inst.weights)


@pytest.fixture(scope="module")
def octagon():
    inst = plant(OCTAGON, [1] * 8)
    return inst, exact_optimal_set(inst.program, inst.weights)


@pytest.fixture(scope="module")
def small_program():
    data = RegressionData.from_arrays(SMALL + [[-1, 2], [3, 1]], [1, 2, 2, 0, "0.5", -1])
    return ConvexProgram.create(data, "0.3")


# ---------------------------------------------------------------- 1. pattern count (Cover)
@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(3, 6), st.integers(0, 10**6))
def test_claim01_pattern_count_matches_cover(n, seed):
    rng = np.random.default_rng(seed)
    X = [r + [1] for r in rng.integers(-9, 10, (n, 2)).tolist()]
    if np.linalg.matrix_rank(np.array(X)) < 3:
        return
    data = RegressionData.from_arrays(X, [0] * n)
    if not in_general_position(data):
        return
    pats = enumerate_patterns(data)
    assert pats.chambers == cover_count(n, 3)
    assert len(pats) == cover_count(n, 3) - 1  # with a bias column the zero pattern always exists
    assert pats.check(data)
    sampled = {m.tobytes() for m in sample_patterns(data, 300, seed=seed).masks}
    assert sampled <= {m.tobytes() for m in pats.masks}


def test_claim01_count_drops_without_general_position():
    data = RegressionData.from_arrays([[0, 0, 1], [1, 1, 1], [2, 2, 1], [1, 0, 1]], [0] * 4)
    assert not in_general_position(data)
    assert enumerate_patterns(data).chambers < cover_count(4, 3)


def test_pattern_check_refuses_a_wrong_mask():
    data = RegressionData.from_arrays(SMALL, [0] * 4)
    pats = enumerate_patterns(data)
    masks = pats.masks.copy()
    masks[0, 0] = not masks[0, 0]
    assert not dataclasses.replace(pats, masks=masks).check(data)


def test_sweep_and_incremental_agree():
    data = RegressionData.from_arrays([[1, 0], [0, 1], [1, 1], [2, -1], [-1, 3]], [0] * 5)
    sweep = enumerate_patterns(data)
    assert sweep.method == "sweep"
    # the same arrangement embedded as a 3-column matrix with a zero column is rank 2 in R^3
    emb = RegressionData.from_arrays(
        [[a, b, a + b] for a, b in [[1, 0], [0, 1], [1, 1], [2, -1], [-1, 3]]] + [[0, 0, 1]], [0] * 6
    )
    assert enumerate_patterns(emb).method == "incremental"
    assert sweep.chambers == cover_count(5, 2)


# ---------------------------------------------------------------- 2. pattern identity
def test_claim02_pattern_identity_exact():
    data = RegressionData.from_arrays(SMALL, [0] * 4)
    pats = enumerate_patterns(data)
    X = data.X
    for mask, g in zip(pats.masks, pats.gates):
        for w in (g, tuple(3 * x for x in g)):
            Xw = (X * flint.fmpq_mat(2, 1, list(w))).entries()
            assert [max(v, 0) for v in Xw] == [v if m else 0 for v, m in zip(Xw, mask)]
    # outside the cone the identity fails: the witness of another pattern
    mask, g = pats.masks[0], pats.gates[1]
    Xw = (X * flint.fmpq_mat(2, 1, list(g))).entries()
    assert [max(v, 0) for v in Xw] != [v if m else 0 for v, m in zip(Xw, mask)]


# ---------------------------------------------------------------- 3. solution mapping
def test_claim03_mapping_objectives_equal(small_program):
    sol = solve_conic(small_program)
    net = to_network(small_program, sol.weights)
    assert np.allclose(net.forward(small_program.data.Xf), sol.fit, atol=1e-12)
    assert abs(net.objective(small_program.data, small_program.lam) - sol.objective) < 1e-12 * max(1, sol.objective)
    assert np.allclose(np.linalg.norm(net.W1, axis=1), np.abs(net.w2))  # balanced neurons


def test_claim03_mapping_exact_on_planted(octagon):
    inst, _ = octagon
    prog = inst.program
    lam = sympy.sqrt(sympy.Rational(int(prog.lam_sq.p), int(prog.lam_sq.q)))
    X = sympy.Matrix(OCTAGON)
    y = sympy.Matrix([sympy.Rational(int(v.p), int(v.q)) for v in prog.data.y.entries()])
    f = sympy.zeros(8, 1)
    pen = 0
    for b in range(prog.n_blocks):
        w = sympy.Matrix([sympy.Rational(int(inst.weights[b, k].p), int(inst.weights[b, k].q)) for k in range(2)])
        nw = sympy.sqrt(w.dot(w))
        if nw == 0:
            continue
        W1, w2 = w / sympy.sqrt(nw), prog.signs[b] * sympy.sqrt(nw)
        f += (X * W1).applyfunc(lambda v: sympy.Max(v, 0)) * sympy.nsimplify(w2)
        pen += W1.dot(W1) + w2**2
    nc = ((f - y).dot(f - y)) / 2 + lam / 2 * pen
    assert sympy.simplify(nc - sympy.Rational(int(inst.optimal_value.p), int(inst.optimal_value.q))) == 0


# ---------------------------------------------------------------- 4. round trip NC -> C -> NC
@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10**6))
def test_claim04_round_trip(seed):
    data = RegressionData.from_arrays(SMALL + [[-1, 2]], [1, 2, 2, 0, 1])
    prog = ConvexProgram.create(data, 1)
    rng = np.random.default_rng(seed)
    net = TwoLayerNetwork(rng.standard_normal((4, 2)), rng.standard_normal(4))
    W = from_network(prog, net)
    assert np.allclose(prog.fit(W), net.forward(data.Xf), atol=1e-12)
    assert np.linalg.norm(W, axis=1).sum() <= (np.linalg.norm(net.W1, axis=1) * np.abs(net.w2)).sum() + 1e-12
    back = to_network(prog, W)
    assert np.allclose(back.forward(data.Xf), net.forward(data.Xf), atol=1e-12)
    assert back.objective(data, prog.lam) <= net.objective(data, prog.lam) + 1e-12


# ---------------------------------------------------------------- 5-7. gap, dual feasibility, hyperplane
def test_claim05_zero_gap_exact_on_planted(octagon):
    inst, S = octagon
    cert = certify_weights(inst.program, inst.weights)
    assert cert.gap_bound == 0 and cert.primal_upper == inst.optimal_value == cert.dual.value
    r = inst.residual
    yhat = inst.program.data.y - r
    assert inst.program.lam_sq * sum(inst.alphas.values()) == (r.transpose() * yhat)[0, 0]  # λΣ‖w_b‖ = ⟨r,ŷ⟩


@pytest.mark.slow
def test_claim05_gap_small_for_solvers(small_program):
    for sol in (solve_conic(small_program), solve_fista(small_program, tol=1e-9)):
        cert = certify(sol)
        cert.check(small_program)
        assert cert.global_ and cert.certified(1e-7)
        assert 0 <= float(cert.gap_bound) < 1e-6


def test_claim06_dual_feasibility_and_alignment(octagon, small_program):
    inst, _ = octagon
    cert = certify_weights(inst.program, inst.weights)
    assert cert.dual.bound_sq == inst.program.lam_sq and cert.dual.theta == 1
    vs = correlation_vectors(inst.program, inst.residual)
    for b in range(inst.program.n_blocks):
        w = [inst.weights[b, k] for k in range(2)]
        if any(w):  # w_b / ‖w_b‖ = v_b / λ  ⇔  w_b is a positive multiple of v_b (‖v_b‖ = λ)
            v = vs[b].entries()
            ratio = next(wi / vi for wi, vi in zip(w, v) if vi != 0)
            assert ratio > 0 and all(wi == ratio * vi for wi, vi in zip(w, v))
    sol = solve_conic(small_program)
    r = small_program.data.yf - sol.fit
    norms = small_program.dual_norms(r)
    assert abs(norms.max() - small_program.lam) < 1e-6
    S = small_program.correlations(r)
    from symtrunc.convex.cones import project_float

    for b in (b for b in sol.active if np.linalg.norm(sol.weights[b]) > 1e-6):
        v = project_float(small_program.cone_matrix(b), S[b])[0]
        assert np.allclose(sol.weights[b] / np.linalg.norm(sol.weights[b]), v / small_program.lam, atol=1e-5)


def test_claim07_hyperplane(octagon):
    inst, S = octagon
    r = inst.residual
    for j in range(S.n_directions):
        c = flint.fmpq_mat(8, 1, [S.columns[i, j] for i in range(8)])
        assert (r.transpose() * c)[0, 0] == inst.program.lam_sq


# ---------------------------------------------------------------- 8. lambda_max
def test_claim08_lambda_max(small_program):
    lmax_sq, lmax = lambda_max(small_program)
    at = ConvexProgram(small_program.data, small_program.patterns, lmax_sq)
    cert = certify_weights(at, np.zeros((at.n_blocks, 2)))
    assert cert.gap_bound == 0  # w = 0 is exactly optimal at λ_max
    below = small_program.with_lam(f"{0.99 * lmax:.6f}")
    assert solve_conic(below).active
    assert certify_weights(below, np.zeros((below.n_blocks, 2))).gap_bound > 0
    assert not solve_conic(small_program.with_lam(f"{1.01 * lmax:.6f}")).active


# ---------------------------------------------------------------- 9. value derivative
def test_claim09_value_derivative(small_program):
    lam, h = 0.3, 1e-4
    p = {s: solve_conic(small_program.with_lam(f"{lam + s * h:.6f}")).objective for s in (-1, 1)}
    deriv = solve_conic(small_program).penalty_sum
    assert abs((p[1] - p[-1]) / (2 * h) - deriv) < 1e-4 * max(1, deriv)


# ---------------------------------------------------------------- 10. invariance on P
def test_claim10_objective_constant_on_polytope(octagon):
    inst, S = octagon
    verts = S.vertices()
    assert len(verts) >= 2
    for a in verts:
        assert S.contains_alpha(a)
        assert sum(a, flint.fmpq(0)) == S.penalty_sum_alpha
        cert = certify_weights(inst.program, S.weights(a))
        assert cert.gap_bound == 0 and cert.primal_upper == inst.optimal_value
    mid = [(x + y) / 2 for x, y in zip(verts[0], verts[1])]
    assert certify_weights(inst.program, S.weights(mid)).primal_upper == inst.optimal_value


# ---------------------------------------------------------------- 11-13. pruning, minimality, uniqueness
def test_claim11_exact_pruning(octagon):
    inst, S = octagon
    prog = inst.program
    assert not fits_independent(prog, inst.weights)
    res = prune_exact(prog, inst.weights)
    assert len(res.active) <= prog.data.n and fits_independent(prog, res.weights)
    assert res.fit_preserved and res.penalty_preserved
    assert prog.exact_fit(res.weights) == prog.exact_fit(inst.weights)
    assert certify_weights(prog, res.weights).primal_upper == inst.optimal_value
    for step in res.steps:
        assert step.removed
        bmax = max(step.beta.values(), key=abs)
        assert bmax > 0 and all(0 <= 1 - b / bmax <= 2 for b in step.beta.values())


@pytest.mark.slow
def test_claim11_float_pruning(small_program):
    sol = solve_fista(small_program, tol=1e-10)
    res = prune_float(small_program, sol.weights)
    assert fits_independent(small_program, res.weights)
    assert res.fit_preserved and res.penalty_preserved
    assert certify_weights(small_program, res.weights).certified(1e-6)
    net = prune_network(small_program, to_network(small_program, sol.weights))
    assert net.active_neurons == len(res.active)
    approx = prune_approximate(small_program, sol.weights, 1)
    assert len(approx.active) <= 1


def test_claim12_minimal_iff_vertex(octagon):
    inst, S = octagon
    verts = S.vertices()
    for a in verts:
        assert fits_independent(inst.program, S.weights(a))
    mid = [(x + y) / 2 for x, y in zip(verts[0], verts[1])]
    assert not fits_independent(inst.program, S.weights(mid))


def test_claim13_uniqueness():
    inst = plant([[1, 0, 1], [0, 1, 1], [1, 1, 1], [2, 3, 1], [-1, 2, 1]], [1, -1, 1, -1, 1])
    S = exact_optimal_set(inst.program, inst.weights)
    assert len(S.blocks) > S.n_directions and S.unique  # split neurons merged; then unique
    assert S.split_directions == 2 and not S.unique_weights  # ... but only up to merge/split
    merged = S.weights(S.vertices()[0])
    assert len(S.vertices()) == 1
    assert prune_exact(inst.program, merged).steps == ()


def test_claim13_nonunique(square, octagon):
    assert square[1].dimension == 1 and octagon[1].dimension == 3


# ---------------------------------------------------------------- 14. min-norm
def test_claim14_min_norm(octagon):
    inst, S = octagon
    a = S.min_norm_alpha()
    W = S.min_norm_weights()
    cert = certify_weights(inst.program, W)
    assert cert.gap_bound == 0
    norm_sq = sum((x * x for x in a), flint.fmpq(0))
    for v in S.vertices():
        assert norm_sq <= sum((x * x for x in v), flint.fmpq(0))


def test_claim14_min_norm_differs_from_pseudoinverse():
    M = flint.fmpq_mat(2, 3, [1, 1, 1, 0, 1, 10])
    y = flint.fmpq_mat(2, 1, [1, flint.fmpq(1, 10)])
    S = OptimalSet(None, True, (0, 1, 2), ((0,), (1,), (2,)), [None] * 3, M, y, (0, 1, 2), 2, None)
    pinv_sol = np.linalg.pinv(np.array([[1, 1, 1], [0, 1, 10]], float)) @ np.array([1, 0.1])
    assert pinv_sol.min() < 0
    a = S.min_norm_alpha()
    assert all(x >= 0 for x in a) and S.contains_alpha(a)


# ---------------------------------------------------------------- 15. gated <= relu
def test_claim15_gated_below_relu(small_program):
    gated = ConvexProgram(small_program.data, small_program.patterns, small_program.lam_sq, gated=True)
    relu_sol = solve_conic(small_program)
    g_sol = solve_conic(gated)
    assert g_sol.objective <= relu_sol.objective + 1e-9
    p = small_program.p
    UH = relu_sol.weights[:p] - relu_sol.weights[p:]
    assert certify_weights(gated, UH).primal_upper <= certify(relu_sol).primal_upper
    assert certify(g_sol).certified(1e-6)


# ---------------------------------------------------------------- 17. stationary points
def test_claim17_stationary_point_is_optimal_for_its_patterns():
    from scipy.optimize import minimize

    data = RegressionData.from_arrays(SMALL + [[-1, 2], [3, 1]], [1, 2, 2, 0, 3, -1])
    lam = 0.3
    prog = ConvexProgram.create(data, "0.3")

    def f(theta):
        W1, w2 = theta[:2].reshape(1, 2), theta[2:]
        H = data.Xf @ W1.T
        r = np.maximum(H, 0) @ w2 - data.yf
        act = (H > 0).astype(float)
        g2 = np.maximum(H, 0).T @ r + lam * w2
        g1 = ((r[:, None] * act * w2[None, :]).T @ data.Xf) + lam * W1
        return 0.5 * r @ r + 0.5 * lam * (W1**2).sum() + 0.5 * lam * w2 @ w2, np.concatenate([g1.ravel(), g2])

    res = minimize(f, np.array([1.0, -1.0, 1.0]), jac=True, method="BFGS", options={"gtol": 1e-12})
    net = TwoLayerNetwork(res.x[:2].reshape(1, 2), res.x[2:])
    mask = (data.Xf @ net.W1[0] >= 0)[None, :]
    local = ConvexProgram(data, patterns_from_masks(mask, data), prog.lam_sq)
    assert certify_network(local, net).certified(1e-6)  # optimal for its sub-sampled program
    glob = certify_network(prog, net)
    assert glob.global_ and not glob.certified(1e-6)  # but not globally: one neuron is too few
    best = certify(solve_conic(prog))
    assert best.primal_upper < glob.primal_upper


# ---------------------------------------------------------------- 18. planted instances
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(-3, 3), min_size=5, max_size=5).filter(any))
def test_claim18_planted_recovered(r):
    X = [[1, 0, 1], [0, 1, 1], [1, 1, 1], [2, 3, 1], [-1, 2, 1]]
    inst = plant(X, r, patterns=_PATTERNS5)
    cert = certify_weights(inst.program, inst.weights)
    assert cert.gap_bound == 0 and cert.primal_upper == inst.optimal_value
    sol = solve_conic(inst.program)
    assert abs(sol.objective - float(inst.optimal_value)) <= 1e-7 * max(1, float(inst.optimal_value))
    c2 = certify(sol)
    assert c2.dual.value <= inst.optimal_value <= c2.primal_upper


_PATTERNS5 = enumerate_patterns(
    RegressionData.from_arrays([[1, 0, 1], [0, 1, 1], [1, 1, 1], [2, 3, 1], [-1, 2, 1]], [0] * 5)
)


# ---------------------------------------------------------------- the certificate refuses wrong input
def test_certificate_refuses_non_optimal_network(small_program):
    net = TwoLayerNetwork(np.array([[1.0, 0.5], [-0.2, 1.0]]), np.array([1.0, -0.5]))
    cert = certify_network(small_program, net)
    cert.check(small_program)
    assert not cert.certified(1e-6)
    with pytest.raises(VerificationError, match="not certified optimal") as e:
        cert.require(small_program)
    assert e.value.counterexample["gap_bound"] == cert.gap_bound


def test_certificate_refuses_wrong_dual(octagon):
    inst, _ = octagon
    prog = inst.program
    cert = certify_weights(prog, inst.weights)
    cert.require(prog)
    d = cert.dual
    bad = [
        dataclasses.replace(d, theta=d.theta * 2),  # infeasible dual point
        dataclasses.replace(d, value=d.value + 1),  # wrong value
        dataclasses.replace(d, bound_sq=d.bound_sq / 2),  # understated bound
        dataclasses.replace(d, residual=d.residual * 3),  # another r: bound no longer matches
        dataclasses.replace(d, multipliers=tuple({0: flint.fmpq(-1)} for _ in d.multipliers)),
    ]
    for wrong in bad:
        with pytest.raises(VerificationError):
            dataclasses.replace(cert, dual=wrong).check(prog)
    with pytest.raises(VerificationError, match="primal"):
        dataclasses.replace(cert, primal_upper=cert.primal_upper - 1).check(prog)


def test_certificate_refuses_infeasible_weights(octagon):
    inst, _ = octagon
    cert = certify_weights(inst.program, inst.weights)
    W = inst.weights
    b = next(b for b in range(W.nrows()) if any(W[b, k] != 0 for k in range(2)))
    bad = flint.fmpq_mat(W.nrows(), 2, [(-W[i, k] if i == b else W[i, k]) for i in range(W.nrows()) for k in range(2)])
    with pytest.raises(VerificationError, match="cone"):
        dataclasses.replace(cert, weights=bad).check(inst.program)


def test_exact_optimal_set_needs_exact_optimum(small_program):
    with pytest.raises(UncertifiedError):
        exact_optimal_set(small_program, certify(solve_conic(small_program)).weights)


def test_float_optimal_set_matches_exact(square):
    inst, S = square
    fl = float_optimal_set(solve_conic(inst.program))
    assert fl.dimension == S.dimension and fl.n_directions == S.n_directions


# ---------------------------------------------------------------- path
def test_path_checks_and_warm_starts(small_program):
    path = regularization_path(small_program, n_lams=6, min_norm=True)
    path.check()
    assert path.points[0].active == 0 and path.points[-1].active > 0
    derivs = [p.derivative for p in path.points]
    assert all(a >= b - 1e-6 for a, b in zip(derivs[1:], derivs))  # Σ‖w‖ grows as λ decreases
    for p in path.points[1:]:
        assert np.linalg.norm(p.min_norm) <= np.linalg.norm(p.weights) + 1e-6
    broken = dataclasses.replace(
        path,
        points=tuple(dataclasses.replace(p, objective=p.objective * (1 + (i % 2))) for i, p in enumerate(path.points)),
    )
    with pytest.raises(VerificationError):
        broken.check()


def test_fista_path_with_warm_starts_matches_conic_path(small_program):
    gated = ConvexProgram(small_program.data, small_program.patterns, small_program.lam_sq, gated=True)
    warm = regularization_path(gated, n_lams=5, method="fista", tol=1e-10)
    cold = regularization_path(gated, n_lams=5)
    warm.check()
    for a, b in zip(warm.points, cold.points):
        assert a.lam == b.lam and abs(a.objective - b.objective) < 1e-7
    assert sum(p.iterations for p in warm.points) < sum(
        solve_fista(gated.with_lam(f"{p.lam:.7g}"), tol=1e-10).iterations for p in warm.points
    )


@pytest.mark.slow
def test_fista_agrees_with_conic_gated_and_relu(small_program):
    gated = ConvexProgram(small_program.data, small_program.patterns, small_program.lam_sq, gated=True)
    for prog in (small_program, gated):
        a, b = solve_fista(prog, tol=1e-10), solve_conic(prog)
        assert abs(a.objective - b.objective) < 1e-7


def test_planted_vertices_enumerated_exactly(square):
    inst, S = square
    verts = S.vertices()
    assert all(len([x for x in v if x != 0]) <= S.rank for v in verts)
    assert len(verts) == len({tuple(v) for v in verts})
    assert sorted(itertools.chain.from_iterable(S.directions)) == sorted(S.blocks)  # a partition of E


# ---------------------------------------------------------------- sensitivity (reference §11, a hypothesis)
def test_sensitivity_matches_finite_differences(small_program):
    from symtrunc.convex.program import ConvexSolution
    from symtrunc.convex.sensitivity import weight_derivative

    h = 1e-4
    gated = ConvexProgram(small_program.data, small_program.patterns, small_program.lam_sq, gated=True)
    dW = weight_derivative(solve_conic(gated))
    fd = (solve_conic(gated.with_lam("0.3001")).weights - solve_conic(gated.with_lam("0.2999")).weights) / (2 * h)
    assert np.abs(fd - dW).max() <= 1e-3 * max(1.0, np.abs(dW).max())
    sol = solve_conic(small_program)
    with pytest.raises(UncertifiedError):  # split neurons: not minimal, the system is singular
        weight_derivative(sol)
    minimal = ConvexSolution(small_program, prune_float(small_program, sol.weights).weights, "pruned", 0, 0.0)
    dfit = small_program.fit(weight_derivative(minimal))
    fd_fit = (solve_conic(small_program.with_lam("0.3001")).fit - solve_conic(small_program.with_lam("0.2999")).fit) / (
        2 * h
    )
    assert np.abs(fd_fit - dfit).max() <= 1e-3 * max(1.0, np.abs(dfit).max())


def test_pruning_reports_a_changed_penalty_off_the_optimum(square):
    inst, S = square
    prog = inst.program
    # a feasible, non-optimal point: each block set to its chamber witness (n = 4, so the fits of
    # 2p > 4 blocks are dependent; the norms are unrelated radicals)
    W = flint.fmpq_mat(
        prog.n_blocks, 2, [g for b in range(prog.n_blocks) for g in prog.patterns.gates[prog.block(b)[0]]]
    )
    res = prune_exact(prog, W)
    assert res.fit_preserved and len(res.active) <= 4
    assert res.penalty_preserved is False  # Σ β_b ‖w_b‖ ≠ 0 away from the optimum
    assert not S.contains_alpha([flint.fmpq(1)] * (S.n_directions - 1) + [flint.fmpq(5)])


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(-6, 6), min_size=8, max_size=8), st.integers(1, 4))
def test_every_dual_certificate_is_a_lower_bound(r, scale):
    """Weak duality, exactly: any residual, scaled to feasibility, bounds the planted optimum."""
    from symtrunc.convex.certificate import dual_certificate

    inst = _OCTAGON_INSTANCE
    rq = flint.fmpq_mat(8, 1, [flint.fmpq(v, scale) for v in r])
    cert = dual_certificate(inst.program, rq)
    cert.check(inst.program)
    assert cert.value <= inst.optimal_value
    assert (cert.value == inst.optimal_value) == (rq * cert.theta == inst.residual)  # r* is unique


_OCTAGON_INSTANCE = plant(OCTAGON, [1] * 8)


# ---------------------------------------------------------------- every ingredient of the certificate is checked
def test_certificate_tampering_each_ingredient_is_caught(small_program):
    """Each number of the chain "objective − p* <= gap" is tampered in turn; ``check`` must refuse."""
    prog = small_program
    cert = certify(solve_conic(prog))
    cert.check(prog)
    assert cert.global_ and prog.patterns.complete
    d = cert.dual
    b = next(i for i, mu in enumerate(d.multipliers) if mu)
    j, m = next(iter(d.multipliers[b].items()))

    def with_mu(new):
        return tuple(new if i == b else mu for i, mu in enumerate(d.multipliers))

    r = d.residual
    r2 = flint.fmpq_mat(r.nrows(), 1, [v + (1 if i == 0 else 0) for i, v in enumerate(r.entries())])
    tampered = {
        "residual": dataclasses.replace(d, residual=r2),
        "residual shape": dataclasses.replace(d, residual=flint.fmpq_mat(r.nrows() - 1, 1)),
        "theta too large": dataclasses.replace(d, theta=d.theta * 2),
        "theta negative": dataclasses.replace(d, theta=-d.theta),
        "theta float": dataclasses.replace(d, theta=float(d.theta)),
        "bound understated": dataclasses.replace(d, bound_sq=d.bound_sq * flint.fmpq(99, 100)),
        "bound float": dataclasses.replace(d, bound_sq=float(d.bound_sq)),
        "value": dataclasses.replace(d, value=d.value + flint.fmpq(1, 10**12)),
        "value float": dataclasses.replace(d, value=float(d.value)),
        "multiplier changed": dataclasses.replace(d, multipliers=with_mu({**d.multipliers[b], j: m * 2})),
        "multiplier negative": dataclasses.replace(d, multipliers=with_mu({**d.multipliers[b], j: -m})),
        "multiplier float": dataclasses.replace(d, multipliers=with_mu({**d.multipliers[b], j: float(m)})),
        "multiplier row": dataclasses.replace(d, multipliers=with_mu({prog.data.n + 3: m})),
        "multipliers missing": dataclasses.replace(d, multipliers=d.multipliers[:-1]),
        "gated flag": dataclasses.replace(d, gated=True),
    }
    for name, wrong in tampered.items():
        with pytest.raises(VerificationError):
            dataclasses.replace(cert, dual=wrong).check(prog)
            pytest.fail(f"tampered {name} was accepted")
    W = cert.weights
    W2 = flint.fmpq_mat(W.nrows(), W.ncols(), [v * 2 for v in W.entries()])
    less = cert.primal_upper - flint.fmpq(1, 10**15)
    for name, wrong in {
        "primal understated": dataclasses.replace(cert, primal_upper=less),
        "primal float": dataclasses.replace(cert, primal_upper=float(cert.primal_upper)),
        "weights changed": dataclasses.replace(cert, weights=W2),
        "weights shape": dataclasses.replace(cert, weights=flint.fmpq_mat(1, W.ncols())),
        "weights float": dataclasses.replace(cert, weights=np.zeros((W.nrows(), W.ncols()))),
        "no primal point": dataclasses.replace(cert, weights=None),
    }.items():
        with pytest.raises(VerificationError):
            wrong.check(prog)
            pytest.fail(f"tampered {name} was accepted")


def test_global_claim_needs_every_pattern(small_program):
    """A program missing one chamber but flagged complete: the global certificate is refused, with
    the count as counterexample; flagged incomplete, the certificate is honestly not global."""
    prog = small_program
    pats = prog.patterns
    partial = dataclasses.replace(pats, masks=pats.masks[1:], gates=pats.gates[1:])
    lying = ConvexProgram(prog.data, partial, prog.lam_sq)
    sol = solve_conic(lying)
    with pytest.raises(VerificationError, match="incomplete") as e:  # refused when built ...
        certify(sol)
    assert e.value.counterexample == {"listed": pats.chambers - 1, "chambers": pats.chambers}
    honest = ConvexProgram(prog.data, dataclasses.replace(partial, complete=False), prog.lam_sq)
    forged = certify_weights(honest, sol.weights)
    forged = dataclasses.replace(forged, dual=dataclasses.replace(forged.dual, complete=True))
    with pytest.raises(VerificationError, match="incomplete"):  # ... and when checked
        forged.check(lying)
    cert = certify(solve_conic(honest))
    cert.check(honest)
    assert not cert.global_ and "sub-sampled" in cert.statement()
    with pytest.raises(VerificationError, match="global"):  # the flag cannot be forged either
        dataclasses.replace(cert, dual=dataclasses.replace(cert.dual, complete=True)).check(honest)
    keep = [i for i, m in enumerate(pats.masks) if not m.all()]  # drop the all-positive chamber
    no_pos = dataclasses.replace(pats, masks=pats.masks[keep], gates=tuple(pats.gates[i] for i in keep))
    with pytest.raises(VerificationError, match="incomplete") as e:
        no_pos.verify_complete(prog.data)  # ... and with it its antipode
    assert e.value.counterexample == {"listed": pats.chambers - 2, "chambers": pats.chambers}
    wrong_witness = dataclasses.replace(pats, gates=(tuple(-g for g in pats.gates[0]),) + pats.gates[1:])
    with pytest.raises(VerificationError, match="witness"):
        wrong_witness.verify_complete(prog.data)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 4), st.lists(st.lists(st.integers(-2, 2), min_size=4, max_size=4), min_size=3, max_size=7))
def test_enumeration_matches_zaslavsky_on_degenerate_data(d, rows):
    """Two independent routes to the chamber count: the exact enumeration (sweep or incremental
    LP) and Zaslavsky's formula on the intersection lattice; small integers make many data
    degenerate (parallel rows, zero rows, non-general position)."""
    from symtrunc.convex.patterns import count_chambers
    from symtrunc.errors import DataError

    X = [r[:d] for r in rows]
    try:
        data = RegressionData.from_arrays(X, [0] * len(X))
    except DataError:
        return
    pats = enumerate_patterns(data)
    assert pats.chambers == count_chambers(data)
    pats.verify_complete(data)
    if in_general_position(data):
        assert count_chambers(data) == cover_count(len(X), d)  # no parallel rows in general position


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(1, 3).flatmap(
        lambda m: st.tuples(
            st.lists(st.lists(st.integers(-3, 3), min_size=2, max_size=2), min_size=m, max_size=m),
            st.lists(st.integers(-3, 3), min_size=m, max_size=m),
        )
    ),
    st.integers(1, 4),
)
@pytest.mark.slow
def test_global_dual_bound_below_every_network_sympy(small_program, net, scale):
    """The global certificate's dual value is a lower bound on the non-convex objective of every
    two-layer ReLU network (weak duality across the reformulation). The networks' objectives are
    computed independently in sympy; small integers put neurons on the data's hyperplanes (ties)."""
    cert = _SMALL_CERT.setdefault("cert", certify(solve_conic(small_program)))
    W1, w2 = net
    X = sympy.Matrix([[sympy.Rational(str(small_program.data.X[i, k])) for k in range(2)] for i in range(6)])
    y = [sympy.Rational(str(small_program.data.y[i, 0])) for i in range(6)]
    lam = sympy.Rational(3, 10)
    W1 = [[sympy.Rational(v, scale) for v in row] for row in W1]
    f = [sum(max(sum(X[i, k] * w[k] for k in range(2)), 0) * a for w, a in zip(W1, w2)) for i in range(6)]
    obj = sum((fi - yi) ** 2 for fi, yi in zip(f, y)) / 2 + lam / 2 * (
        sum(v * v for w in W1 for v in w) + sum(a * a for a in w2)
    )
    assert cert.global_
    assert sympy.Rational(str(cert.dual.value)) <= obj


_SMALL_CERT: dict = {}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-4, 4), st.integers(0, 50), st.integers(1, 12)), min_size=1, max_size=5))
def test_radicals_against_sympy(terms):
    """Outward-rounded square roots bracket √q exactly; the exact radical-sum decision agrees with
    sympy's own canonical form of Σ c_k √(a_k / b_k)."""
    from symtrunc.convex.radicals import radical_sum, sqrt_bounds

    for _, a, b in terms:
        lo, hi = sqrt_bounds(flint.fmpq(a, b))
        assert lo * lo <= flint.fmpq(a, b) <= hi * hi and (lo == hi) == sympy.sqrt(sympy.Rational(a, b)).is_rational
    ours = radical_sum([(c, flint.fmpq(a, b)) for c, a, b in terms])
    expr = sympy.expand(sum(c * sympy.sqrt(sympy.Rational(a, b)) for c, a, b in terms))
    assert (ours == {}) == (expr == 0)
    assert sympy.expand(sum(sympy.Rational(str(v)) * sympy.sqrt(m) for m, v in ours.items()) - expr) == 0


# ------------------------------------------------------- working-set solver and the filtered certificate
def _sampled_program(n: int = 40, d: int = 4, lam: str = "2"):
    rng = np.random.default_rng(3)
    X = [[int(v) for v in row] + [1] for row in rng.integers(-9, 10, size=(n, d - 1))]
    y = [int(v) for v in rng.integers(-5, 6, size=n)]
    data = RegressionData.from_arrays(X, y)
    return ConvexProgram.create(data, lam, sample_patterns(data, 30, seed=2))


def test_working_set_matches_the_whole_program_and_certifies():
    prog = _sampled_program()
    ws, full = solve_conic(prog), solve_conic(prog, formulation="cvxpy")
    assert ws.solver == "clarabel" and abs(ws.objective - full.objective) <= 1e-7 * max(1.0, full.objective)
    certify(ws).require(prog, 1e-6)


def test_filtered_multipliers_give_the_bound_of_exact_projections_everywhere():
    """Only blocks near the top are projected exactly; the largest bound (hence θ and the gap)
    must equal the one obtained by projecting every block exactly."""
    from symtrunc.convex.cones import project_exact

    prog = _sampled_program()
    cert = certify(solve_conic(prog))
    S = prog.exact_correlations(cert.dual.residual)
    every = max(
        prog.cone_bound_sq(b, S[b], project_exact(prog.cone_matrix_exact(b), S[b]).multipliers)
        for b in range(prog.n_blocks)
    )
    assert cert.dual.bound_sq == every


def test_a_wrong_solution_fails_the_certificate():
    prog = _sampled_program()
    sol = solve_conic(prog)
    W = sol.weights.copy()
    b = sol.active[0]
    W[b] *= 1.5  # a wrong (feasible) point: far from optimal
    cert = certify_weights(prog, W)
    cert.check(prog)  # the certificate itself is valid ...
    assert not cert.certified(1e-6)  # ... but proves nothing near optimality
    with pytest.raises(VerificationError, match="not certified optimal"):
        cert.require(prog, 1e-6)
    forged = dataclasses.replace(cert.dual, bound_sq=cert.dual.bound_sq / 4)  # a smaller (false) bound
    with pytest.raises(VerificationError):
        dataclasses.replace(cert, dual=forged).check(prog)
