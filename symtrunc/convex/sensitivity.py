"""Sensitivity of a minimal, unique optimum to ``λ`` (reference §11, an implicit-function argument).

Suppose the solution is unique with linearly independent active fits, strictly complementary
(``‖v_b‖ < λ`` off the support) and its active cone faces are stable. Then near ``λ`` the
support and the active constraint rows ``S_b`` of each block stay fixed, every ``w_b`` moves
in ``null(A_{S_b})`` (basis ``N_b``), and differentiating the stationarity condition
``N_b^T (Z_b^T (y − Z w) − λ u_b) = 0`` with ``u_b = w_b / ‖w_b‖`` gives the linear system::

    N_b^T ( Z_b^T Σ_a Z_a N_a ż_a + (λ / ‖w_b‖) (I − u_b u_b^T) N_b ż_b ) = − N_b^T u_b ,

``dw_b/dλ = N_b ż_b``. For the gated program ``N_b = I`` (the group-lasso formula). The
reference marks this as a hypothesis; the tests compare it with central finite differences.

Examples
--------
>>> from symtrunc.convex.regression import RegressionData
>>> from symtrunc.convex.program import ConvexProgram
>>> from symtrunc.convex.solvers import solve_conic
>>> data = RegressionData.from_arrays([[1, 0], [0, 1], [1, 1], [2, -1]], [1, 2, 2, 0])
>>> sol = solve_conic(ConvexProgram.create(data, "0.5"))
>>> dW = weight_derivative(sol)
>>> dW.shape, bool(abs(float((sol.weights * dW).sum())) > 0)
((14, 2), True)
"""

from __future__ import annotations

import numpy as np

from symtrunc.convex.program import ConvexSolution
from symtrunc.errors import UncertifiedError

__all__ = ["weight_derivative"]


def _null_basis(A: np.ndarray, d: int, tol: float) -> np.ndarray:
    if A.shape[0] == 0:
        return np.eye(d)
    _, s, Vt = np.linalg.svd(A)
    rank = int((s > tol * max(1.0, s.max() if s.size else 0.0)).sum())
    return Vt[rank:].T


def weight_derivative(solution: ConvexSolution, *, tol: float = 1e-7) -> np.ndarray:
    """``dW/dλ`` ``(n_blocks, d)`` at a unique, strictly complementary optimum (floats).

    Raises
    ------
    UncertifiedError
        If the linear system is singular (the solution is not unique / minimal there).
    """
    prog = solution.program
    W = solution.weights
    X = prog.data.Xf
    d = prog.data.d
    act = [b for b in solution.active]
    bases, Zs, us, norms = [], [], [], []
    for b in act:
        w = W[b]
        nw = float(np.linalg.norm(w))
        A = prog.cone_matrix(b)
        scale = float(np.abs(X).max()) * nw
        rows = A[np.abs(A @ w) <= tol * scale] if A.shape[0] else A
        bases.append(_null_basis(rows, d, tol))
        Zs.append((prog.signs[b] * prog.block_masks[b])[:, None] * X)
        us.append(w / nw)
        norms.append(nw)
    sizes = [N.shape[1] for N in bases]
    offs = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    K = np.zeros((offs[-1], offs[-1]))
    rhs = np.zeros(offs[-1])
    ZN = [Z @ N for Z, N in zip(Zs, bases)]
    for i in range(len(act)):
        Ni = bases[i]
        for j in range(len(act)):
            K[offs[i] : offs[i + 1], offs[j] : offs[j + 1]] += ZN[i].T @ ZN[j]
        u = us[i]
        K[offs[i] : offs[i + 1], offs[i] : offs[i + 1]] += (
            Ni.T @ ((prog.lam / norms[i]) * (np.eye(d) - np.outer(u, u))) @ Ni
        )
        rhs[offs[i] : offs[i + 1]] = -Ni.T @ u
    if K.size and np.linalg.cond(K) > 1e12:
        raise UncertifiedError("the sensitivity system is singular: the optimum is not unique/minimal here")
    z = np.linalg.solve(K, rhs) if K.size else np.zeros(0)
    dW = np.zeros_like(W)
    for i, b in enumerate(act):
        dW[b] = bases[i] @ z[offs[i] : offs[i + 1]]
    return dW
