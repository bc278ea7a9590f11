"""Solve the same program with the authors' library ``scnn`` (PyPI ``pyscnn``) for comparison.

scnn minimizes ``(1/(2n)) ‖ŷ − y‖² + λ_s Σ‖·‖`` (one output), i.e. this package's objective
divided by ``n`` with ``λ_s = λ / n`` (:func:`~symtrunc.convex.program.lam_to_scnn`). We hand
scnn the program's own pattern witnesses as gate vectors, check that scnn's patterns
``1[X G > 0]`` are exactly ours, and convert its convex weights ``(U, H)`` back to our block
layout, so the objective (and even our certificate) can be evaluated on scnn's solution.

``scnn`` is optional and imported lazily; it needs ``torch``.

Examples
--------
>>> scnn_available() in (True, False)
True
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from symtrunc.convex.program import ConvexProgram, lam_to_scnn
from symtrunc.errors import DataError

__all__ = ["ScnnSolution", "scnn_available", "solve_with_scnn"]


def scnn_available() -> bool:
    """Whether ``scnn`` (package ``pyscnn``) can be imported (any failure of its import, e.g. a
    broken torch install, counts as "not available")."""
    try:
        import scnn  # noqa: F401
    except Exception:
        return False
    return True


@dataclass(frozen=True, eq=False)
class ScnnSolution:
    """scnn's solution in this package's conventions.

    Attributes
    ----------
    weights : numpy.ndarray
        ``(n_blocks, d)`` block weights (``+`` blocks then ``−`` blocks).
    objective : float
        Our objective of ``weights`` (``n`` times scnn's objective).
    lam_scnn : float
        The ``λ`` passed to scnn.
    seconds : float
        scnn's wall-clock time (``optimize_model``).
    solver : str
    """

    weights: np.ndarray
    objective: float
    lam_scnn: float
    seconds: float
    solver: str


def solve_with_scnn(program: ConvexProgram, *, solver: str = "ecos") -> ScnnSolution:
    """Solve ``program`` with scnn: ``solver="ecos"`` (its CVXPY interface) or ``"al"``
    (its augmented-Lagrangian R-FISTA solver, default tolerances).

    Raises
    ------
    ImportError
        If scnn is not installed.
    DataError
        For gated programs, or if scnn's patterns differ from the program's.
    """
    from scnn.metrics import Metrics
    from scnn.models import ConvexReLU
    from scnn.optimize import optimize_model
    from scnn.regularizers import NeuronGL1
    from scnn.solvers import AL, CVXPYSolver

    if program.gated:
        raise DataError("the scnn comparison is implemented for the ReLU program")
    X, y, n = program.data.Xf, program.data.yf, program.data.n
    G = np.array(program.patterns.gates, dtype=float).T  # (d, p)
    rows = np.abs(X).sum(axis=1) > 0  # zero rows of X never matter
    if not np.array_equal((X @ G > 0)[rows], program.patterns.masks.T[rows]):
        raise DataError("scnn's patterns 1[XG > 0] differ from the program's (ties or float rounding of the gates)")
    model = ConvexReLU(G, c=1)
    opt = CVXPYSolver(model, solver) if solver != "al" else AL(model)
    lam_s = lam_to_scnn(program.lam, n)
    t0 = time.perf_counter()
    with warnings.catch_warnings():  # scnn/cvxpy accuracy notes are reported through our own checks
        warnings.simplefilter("ignore")
        fitted, _ = optimize_model(
            model,
            opt,
            Metrics(),
            X,
            y.reshape(-1, 1),
            regularizer=NeuronGL1(lam_s),
            unitize_data=False,
            dtype="float64",
            return_convex=True,
        )
    secs = time.perf_counter() - t0
    U, H = (np.asarray(p) for p in fitted.parameters)
    W = np.vstack([U[0], H[0]])
    return ScnnSolution(W, program.objective(W), lam_s, secs, f"scnn-{solver}")
