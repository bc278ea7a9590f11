"""Parity with the authors' library scnn (PyPI ``pyscnn``), skipped when it is not installed (claim 16)."""

from __future__ import annotations

import numpy as np
import pytest

from symtrunc.convex import ConvexProgram, RegressionData, certify_weights, lam_to_scnn, solve_conic

pytest.importorskip("scnn")
pytest.importorskip("ecos")


def test_claim16_scnn_parity():
    from symtrunc.convex.scnn_bridge import solve_with_scnn

    rng = np.random.default_rng(3)
    X = rng.integers(-4, 5, (10, 2)).tolist()
    y = rng.integers(-3, 4, 10).tolist()
    prog = ConvexProgram.create(RegressionData.from_arrays([r + [1] for r in X], y), "0.8")
    ours = solve_conic(prog)
    theirs = solve_with_scnn(prog, solver="ecos")
    assert theirs.lam_scnn == pytest.approx(lam_to_scnn(0.8, 10))
    # same objective after converting scnn's λ/n scaling (ECOS is less accurate than Clarabel)
    assert abs(theirs.objective - ours.objective) <= 1e-5 * max(1.0, ours.objective)
    # our rigorous certificate accepts scnn's solution with a small gap
    assert float(certify_weights(prog, theirs.weights).gap_bound) <= 1e-4 * max(1.0, ours.objective)
