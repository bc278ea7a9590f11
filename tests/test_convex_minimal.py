"""Proved-minimal pruning (issue 17): the 7-point example, checked independently in Fractions."""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction
from math import isqrt

import flint
import pytest
import sympy

from symtrunc.cli.app import main
from symtrunc.convex import ConvexProgram, RegressionData, plant, prune_float, prune_minimal, solve_conic
from symtrunc.convex.minimal import minimality_certificate
from symtrunc.errors import VerificationError

# 7 points in the plane, a bias column, λ = 3/10: Clarabel's solution has 13 active blocks; the float
# Algorithm 1 (SVD tolerance 1e-9 σ_max) stops at 7 neurons, which lie in only 4 (sign, direction)
# classes: its activation columns have singular values 6.7, 2.4, 1.4, 0.47 and then 1.6e-6, 8.3e-7,
# 2.5e-7 (solver noise). A minimal network has 4 neurons.
X7 = [[0, 2], [1, 0], [2, -3], [1, 3], [-3, 1], [2, 1], [3, 2]]
Y7 = [4, 2, -3, 3, 3, 1, -2]
LAM = Fraction(3, 10)


@pytest.fixture(scope="module")
def seven():
    data = RegressionData.from_arrays(X7, Y7, bias=True)
    prog = ConvexProgram.create(data, "3/10")
    sol = solve_conic(prog)
    return prog, sol, prune_minimal(prog, sol.weights)


def _fr(q) -> Fraction:
    return Fraction(int(q.p), int(q.q))


def _rows(W) -> list[list[Fraction]]:
    return [[_fr(W[b, k]) for k in range(W.ncols())] for b in range(W.nrows())]


def _sqrt_bounds(q: Fraction, bits: int = 200) -> tuple[Fraction, Fraction]:
    s = isqrt(q.numerator * q.denominator << (2 * bits))
    return Fraction(s, q.denominator << bits), Fraction(s + 1, q.denominator << bits)


def _independent_objective(W, n_patterns: int) -> tuple[Fraction, Fraction]:
    """``½‖f(X) − y‖² + λ Σ ‖w_b‖`` of the network with one neuron ``s_b (x·w_b)_+`` per non-zero
    row (``s_b = +1`` for the first ``n_patterns`` rows), in Fractions, with rigorous square roots."""
    X = [[Fraction(v) for v in r] + [Fraction(1)] for r in X7]
    rows = _rows(W)
    f = [
        sum(
            (
                (1 if b < n_patterns else -1) * max(sum(x * w for x, w in zip(xj, wb)), Fraction(0))
                for b, wb in enumerate(rows)
                if any(wb)
            ),
            Fraction(0),
        )
        for xj in X
    ]
    loss = sum((fj - yj) ** 2 for fj, yj in zip(f, Y7)) / 2
    lo = hi = loss
    for wb in rows:
        if any(wb):
            a, c = _sqrt_bounds(LAM * LAM * sum(w * w for w in wb))
            lo, hi = lo + a, hi + c
    return lo, hi


def test_seven_points_prune_to_the_minimal_four(seven):
    prog, sol, res = seven
    assert len(prune_float(prog, sol.weights).active) > 4  # the old, float-tolerance pruning
    assert res.neurons == 4 and res.minimality.rank == 4 and res.minimality.independent
    assert res.neurons_before == len(sol.active) and res.directions < res.neurons_before  # split neurons merged
    res.check(prog)  # the library's own exact re-check
    # independent: exact rank of the activation columns (x_j · w_b)_+ in sympy over Q
    X = [[Fraction(v) for v in r] + [Fraction(1)] for r in X7]
    live = [wb for wb in _rows(res.weights) if any(wb)]
    A = sympy.Matrix([[max(sum(x * w for x, w in zip(xj, wb)), Fraction(0)) for wb in live] for xj in X])
    assert len(live) == 4 and A.rank() == 4
    # each neuron lies in the closed cone of its block, so the network's fit is the program's fit
    for b, wb in enumerate(_rows(res.weights)):
        if any(wb):
            pre = [sum(x * w for x, w in zip(xj, wb)) for xj in X]
            assert all(v >= 0 if m else v <= 0 for v, m in zip(pre, prog.block_masks[b]))
    # same objective: not increased, proved with independent Fraction arithmetic, and within the
    # certified gap of the optimum
    before = _independent_objective(res.before.weights, prog.p)
    after = _independent_objective(res.weights, prog.p)
    assert after[1] <= before[0] and res.objective_not_increased is True
    assert after[1] - _fr(res.lower_bound) <= _fr(res.gap_bound) <= Fraction(1, 10**8)
    assert float(after[0]) == pytest.approx(sol.objective, rel=1e-9)
    assert "exact rank 4" in res.statement() and "not increased (proved exactly)" in res.statement()


def test_minimality_check_refuses_dependent_neurons():
    inst = plant([[1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1], [0, -1], [1, -1]], [1] * 8)
    prog = inst.program
    cert = minimality_certificate(prog, inst.weights)  # 8 exactly optimal neurons, rank 5
    assert (cert.neurons, cert.rank, cert.independent) == (8, 5, False)
    with pytest.raises(VerificationError, match="not minimal") as e:
        cert.check(prog, inst.weights)
    beta = e.value.counterexample["null_vector"]  # the counterexample: Σ β_b (X w_b)_+ = 0, checked here
    X = [[Fraction(v) for v in r] for r in [[1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1], [0, -1], [1, -1]]]
    rows = _rows(inst.weights)
    assert beta and all(any(rows[b]) for b in beta)
    for xj in X:
        assert sum(_fr(x) * max(sum(a * w for a, w in zip(xj, rows[b])), Fraction(0)) for b, x in beta.items()) == 0
    with pytest.raises(VerificationError, match="stated rank"):
        dataclasses.replace(cert, rank=8).check(prog, inst.weights)
    res = prune_minimal(prog, inst.weights)
    assert res.neurons == 5 and res.certificate.gap_bound == 0
    res.check(prog)
    with pytest.raises(VerificationError, match="active blocks"):  # the certificate is about other weights
        res.minimality.check(prog, inst.weights)
    forged = flint.fmpq_mat(res.weights)
    b = res.minimality.blocks[0]
    forged[b, 0] = forged[b, 0] * 2
    with pytest.raises(VerificationError):
        dataclasses.replace(res, weights=forged).check(prog)


def test_cli_prune_reports_the_proof(tmp_path, capsys):
    path = tmp_path / "seven.csv"
    path.write_text("x1,x2,y\n" + "".join(f"{a},{b},{y}\n" for (a, b), y in zip(X7, Y7)))
    assert main(["convex", "prune", str(path), "--lam", "3/10", "--bias", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["active_after"] == d["activation_rank"] == d["active_neurons"] == 4 and d["minimal"] is True
    # the solver's optimum may split neurons across chambers; pruning merges and removes them
    assert d["active_before"] > 4 and d["directions_before"] <= d["active_before"]
    assert d["network"]["activation_rank"] == len(d["network"]["w2"]) == 4  # the printed network, read exactly
    assert d["objective_not_increased"] is True and d["objective"] <= d["objective_before"]
    assert d["certified"] and d["gap"] < 1e-7 and "exact rank 4" in d["minimality"]
    assert "fit_preserved" not in d  # no float "checks" any more
    assert main(["convex", "prune", str(path), "--lam", "3/10", "--bias"]) == 0
    text = capsys.readouterr().out
    assert "activation_rank" in text and "(exact)" in text and "linearly independent" in text
    # fit: the active blocks (more than 7 in R^7) are unique only up to merge/split of neurons, and it says so
    assert main(["convex", "fit", str(path), "--lam", "3/10", "--bias", "--json"]) == 0
    f = json.loads(capsys.readouterr().out)
    assert f["active_neurons"] > 7 and f["unique_up_to_merge_split"] is True
    assert f["unique"] is False and f["split_directions"] >= 1


@pytest.mark.parametrize("tol", [1e-12, 1e-9, 1e-4])
def test_the_count_does_not_rest_on_the_float_tolerance(seven, tol):
    """The split neurons are merged by exact equality of their correlation vectors, so the float
    guide's tolerance (which only chooses among dependent neurons) does not change the answer."""
    prog, sol, res = seven
    other = prune_minimal(prog, sol.weights, tol=tol)
    assert other.neurons == 4 and other.minimality.independent
    assert other.minimality.blocks == res.minimality.blocks and other.weights == res.weights
