"""Solvers for :class:`~symtrunc.convex.program.ConvexProgram`: conic (cvxpy + Clarabel) and NumPy FISTA.

* :func:`solve_conic` writes the second-order-cone program with cvxpy and solves it with
  Clarabel (interior point; ``pip install "symtrunc[convex]"``). Imported lazily.
* :func:`solve_fista` is dependency-light: accelerated proximal gradient with adaptive
  restart (O'Donoghue & Candès). The prox of ``λ‖·‖ + I_C`` on a polyhedral cone ``C`` is exact:
  ``prox(z) = (1 − tλ/‖Π_C z‖)_+ Π_C z`` (``Π_C`` by NNLS); for the gated program it is the
  group soft-threshold. It accepts a warm start (used by the regularization path).

Both return a :class:`~symtrunc.convex.program.ConvexSolution`; optimality is *certified*
separately (:mod:`symtrunc.convex.certificate`), never assumed from a solver's status.

Examples
--------
>>> from symtrunc.convex.regression import RegressionData
>>> from symtrunc.convex.program import ConvexProgram
>>> data = RegressionData.from_arrays([[1, 0], [0, 1], [1, 1], [2, -1]], [1, 2, 2, 0])
>>> prog = ConvexProgram.create(data, "0.5")
>>> a, b = solve_fista(prog, tol=1e-10), solve_conic(prog)
>>> abs(a.objective - b.objective) < 1e-6, a.gap < 1e-6
(True, True)
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from symtrunc.convex.cones import nnls, project_float
from symtrunc.convex.program import ConvexProgram, ConvexSolution
from symtrunc.errors import UncertifiedError, require

__all__ = ["solve", "solve_conic", "solve_fista"]

_CLEAN = 1e-9


def _clean(program: ConvexProgram, W: np.ndarray) -> np.ndarray:
    """Project each block onto its cone (interior-point iterates may be slightly outside) and
    zero the blocks below ``1e-9 · max(largest block, ‖y‖ / ‖X‖_F)``."""
    W = W.copy()
    if not program.gated:
        outside = ((np.where(program.block_masks, 1.0, -1.0) * (W @ program.data.Xf.T)) < 0).any(axis=1)
        for b in np.flatnonzero(outside):
            W[b] = project_float(program.cone_matrix(b), W[b])[0]
    norms = np.linalg.norm(W, axis=1)
    top = norms.max() if norms.size else 0.0
    scale = float(np.linalg.norm(program.data.yf) / max(np.linalg.norm(program.data.Xf), 1e-300))
    W[norms <= _CLEAN * max(top, scale, 1e-300)] = 0.0
    return W


def solve(program: ConvexProgram, method: str = "conic", **kwargs) -> ConvexSolution:
    """Dispatch to :func:`solve_conic` (``"conic"``) or :func:`solve_fista` (``"fista"``)."""
    if method == "conic":
        return solve_conic(program, **kwargs)
    if method == "fista":
        return solve_fista(program, **kwargs)
    raise ValueError(f"unknown method {method!r} (conic or fista)")


def solve_conic(program: ConvexProgram, *, eps: float = 1e-10) -> ConvexSolution:
    """Solve with cvxpy + Clarabel (second-order cones, linear cone constraints).

    Parameters
    ----------
    program : ConvexProgram
    eps : float
        Clarabel's absolute/relative gap and feasibility tolerances.

    Raises
    ------
    MissingDependencyError
        With an install hint when cvxpy or Clarabel is missing (also an ``ImportError``).
    UncertifiedError
        If the solver does not report an optimal (or almost optimal) status.
    """
    cp = require("cvxpy", "convex", "solve_conic")
    require("clarabel", "convex", "solve_conic")
    X, y = program.data.Xf, program.data.yf
    nb, d = program.n_blocks, program.data.d
    t0 = time.perf_counter()
    W = cp.Variable((nb, d))
    H = X @ W.T  # (n, n_blocks): column b is X w_b
    fit = cp.sum(cp.multiply((program.block_masks * program.signs[:, None]).T, H), axis=1)
    objective = 0.5 * cp.sum_squares(fit - y) + program.lam * cp.sum(cp.norm(W, 2, axis=1))
    constraints = [] if program.gated else [cp.multiply(np.where(program.block_masks, 1.0, -1.0).T, H) >= 0]
    prob = cp.Problem(cp.Minimize(objective), constraints)
    with warnings.catch_warnings():  # "optimal_inaccurate" is reported in ``solver``; the certificate decides
        warnings.simplefilter("ignore", UserWarning)
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=eps, tol_gap_rel=eps, tol_feas=eps, max_iter=500)
    if prob.status not in ("optimal", "optimal_inaccurate") or W.value is None:
        raise UncertifiedError(f"Clarabel did not solve the convex program (status {prob.status})")
    iters = int(prob.solver_stats.num_iters or 0)
    name = "clarabel" if prob.status == "optimal" else "clarabel (optimal_inaccurate)"
    return ConvexSolution(program, _clean(program, np.asarray(W.value)), name, iters, time.perf_counter() - t0)


def _prox(
    program: ConvexProgram,
    V: np.ndarray,
    t: float,
    cones: list[np.ndarray],
    passive: dict[int, np.ndarray] | None = None,
) -> np.ndarray:
    lam = program.lam
    if program.gated:
        P = V
    else:  # NNLS only for blocks outside their cone that can survive the shrinkage (‖Π_C v‖ <= ‖v‖)
        P = V.copy()
        inside = ((np.where(program.block_masks, 1.0, -1.0) * (V @ program.data.Xf.T)) >= 0).all(axis=1)
        small = np.linalg.norm(V, axis=1) <= t * lam
        P[small] = 0.0
        for b in np.flatnonzero(~inside & ~small):
            mu = nnls(-cones[b].T, V[b], None if passive is None else passive.get(int(b)))[0]
            if passive is not None:
                passive[int(b)] = mu > 0
            P[b] = V[b] + cones[b].T @ mu
    norms = np.linalg.norm(P, axis=1)
    scale = np.where(norms > t * lam, 1.0 - t * lam / np.maximum(norms, 1e-300), 0.0)
    return P * scale[:, None]


def solve_fista(
    program: ConvexProgram,
    *,
    tol: float = 1e-7,
    max_iter: int = 20000,
    warm_start: np.ndarray | None = None,
    check_every: int = 25,
) -> ConvexSolution:
    """Accelerated proximal gradient (FISTA with gradient-based adaptive restart), exact prox.

    Parameters
    ----------
    program : ConvexProgram
    tol : float
        Stop when the float duality gap is below ``tol * max(1, objective)``.
    max_iter : int
    warm_start : numpy.ndarray, optional
        Initial weights ``(n_blocks, d)`` (projected onto the cones first).
    check_every : int
        Iterations between duality-gap evaluations.
    """
    X, y = program.data.Xf, program.data.yf
    masks, signs = program.block_masks, program.signs
    cones = [] if program.gated else [program.cone_matrix(b) for b in range(program.n_blocks)]
    # Lipschitz constant of the gradient: ‖Z‖₂² with Z = [Z_1 … Z_B]
    Z = np.hstack([(signs[b] * masks[b])[:, None] * X for b in range(program.n_blocks)])
    L = float(np.linalg.norm(Z, 2) ** 2) or 1.0
    t = 1.0 / L
    t0 = time.perf_counter()
    nb, d = program.n_blocks, X.shape[1]
    W = np.zeros((nb, d)) if warm_start is None else _prox(program, warm_start, 0.0, cones)
    Yk, theta = W.copy(), 1.0
    passive: dict[int, np.ndarray] = {}  # warm starts of the NNLS projections
    it = 0
    for it in range(1, max_iter + 1):
        grad = (Z.T @ (Z @ Yk.ravel() - y)).reshape(nb, d)
        W_new = _prox(program, Yk - t * grad, t, cones, passive)
        if np.vdot(Yk - W_new, W_new - W) > 0:  # gradient-based adaptive restart
            theta = 1.0
        theta_new = 0.5 * (1 + np.sqrt(1 + 4 * theta**2))
        Yk = W_new + ((theta - 1) / theta_new) * (W_new - W)
        W, theta = W_new, theta_new
        if it % check_every == 0 and program.float_gap(W) <= tol * max(1.0, program.objective(W)):
            break
    return ConvexSolution(program, _clean(program, W), "fista", it, time.perf_counter() - t0)
