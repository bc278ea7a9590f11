"""Solvers for :class:`~symtrunc.convex.program.ConvexProgram`: conic (Clarabel) and NumPy FISTA.

* :func:`solve_conic` builds compact second-order-cone programs on a working set of blocks as
  sparse matrices and solves them with Clarabel (interior point; ``pip install
  "symtrunc[convex]"``), adding blocks and cone rows until the whole program is feasible and
  dual feasible; ``formulation="cvxpy"`` writes the whole program with cvxpy instead. Imported
  lazily.
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
import scipy.linalg
import scipy.sparse as sp

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
            W[b] = project_float(program.cone_matrix(int(b)), W[b])[0]
    norms = np.linalg.norm(W, axis=1)
    top = float(norms.max()) if norms.size else 0.0
    scale = float(np.linalg.norm(program.data.yf)) / max(float(np.linalg.norm(program.data.Xf)), 1e-300)
    W[norms <= _CLEAN * max(top, scale, 1e-300)] = 0.0
    return W


def solve(program: ConvexProgram, method: str = "conic", **kwargs) -> ConvexSolution:
    """Dispatch to :func:`solve_conic` (``"conic"``) or :func:`solve_fista` (``"fista"``)."""
    if method == "conic":
        return solve_conic(program, **kwargs)
    if method == "fista":
        return solve_fista(program, **kwargs)
    raise ValueError(f"unknown method {method!r} (conic or fista)")


def solve_conic(program: ConvexProgram, *, eps: float = 1e-10, formulation: str = "working-set") -> ConvexSolution:
    """Solve with Clarabel (interior point; second-order cones, linear cone constraints).

    ``formulation="working-set"`` (default) hands Clarabel compact restricted programs built
    directly as sparse matrices: only a working set of blocks, the data term compressed by a
    QR factorization of their design (``½‖R w − Qᵀy‖²``) and, per block, only the cone rows near
    its direction. After each solve every other block is screened for dual feasibility
    (``‖Π_{C_b}(Z_bᵀ r)‖ <= λ``) and every block's omitted rows for feasibility; violators join
    and the program is solved again. It stops when the restricted optimum is feasible and dual
    feasible for the whole program, i.e. optimal for it up to the solver's tolerance (the
    certificate decides, see :mod:`symtrunc.convex.certificate`). ``formulation="cvxpy"`` is the
    previous route (the whole program through cvxpy; slow and memory-hungry for large ``n``).

    Parameters
    ----------
    program : ConvexProgram
    eps : float
        Clarabel's absolute/relative gap and feasibility tolerances.
    formulation : str
        ``"working-set"`` or ``"cvxpy"``.

    Raises
    ------
    MissingDependencyError
        With an install hint when Clarabel (or, for ``"cvxpy"``, cvxpy) is missing.
    UncertifiedError
        If the solver does not report an optimal (or almost optimal) status.
    """
    if formulation == "cvxpy":
        return _solve_cvxpy(program, eps=eps)
    if formulation != "working-set":
        raise ValueError(f"unknown formulation {formulation!r} (working-set or cvxpy)")
    clarabel = require("clarabel", "convex", "solve_conic")
    t0 = time.perf_counter()
    ws = _WorkingSet(program)
    W = np.zeros((program.n_blocks, program.data.d))
    status, iters, tight = "", 0, False
    for _ in range(_MAX_ROUNDS):
        changed = ws.update(W)
        if not changed and (tight or not ws.blocks):  # no block at all: w = 0 is dual feasible
            break
        # loose solves while the working set moves, one tight solve once it has settled
        tight = not changed
        W, status, k = _solve_restricted(clarabel, program, ws, eps if tight else max(eps, _LOOSE))
        iters += k
        if tight and status != "optimal":  # Clarabel stalled at eps: once more at 10 eps
            W2, status2, k = _solve_restricted(clarabel, program, ws, 10 * eps)
            iters += k
            if status2 == "optimal":
                W, status = W2, status2
        ws.drop_zeros(W)
    else:
        raise UncertifiedError(f"the working set did not settle in {_MAX_ROUNDS} rounds")
    name = "clarabel" if status == "optimal" else f"clarabel ({status})"
    return ConvexSolution(program, _clean(program, W), name, iters, time.perf_counter() - t0)


_MAX_ROUNDS = 30
_LOOSE = 1e-6
_ROW_TOL = 1e-7  # an omitted cone row joins when violated by more than this (relative); smaller
#                  violations are removed by projecting the block into its cone (``_clean``)  # Clarabel's tolerance while the working set still changes
_SCREEN_TOL = 1e-7  # a block outside the working set joins when ‖Π_C(Z_bᵀ r)‖ > λ (1 + this)


class _WorkingSet:
    """Blocks handed to Clarabel, with the cone rows kept per block (all other rows are checked
    after each solve); projections are cached and reused through the bound
    ``‖Π(s')‖ <= ‖Π(s)‖ + ‖s' − s‖`` (projection onto a convex cone is 1-Lipschitz)."""

    def __init__(self, program: ConvexProgram) -> None:
        self.program = program
        self.blocks: list[int] = []
        self.dropped: set[int] = set()
        self.rows: dict[int, np.ndarray] = {}
        self.cache: dict[int, tuple[np.ndarray, float, np.ndarray]] = {}  # b -> (s, ‖Π s‖, Π s)
        X = program.data.Xf
        self.row_norms = np.maximum(np.linalg.norm(X, axis=1), 1e-300)
        self.n_rows = max(4 * program.data.d, 40)

    def _cone(self, b: int) -> np.ndarray:
        return np.where(self.program.block_masks[b], 1.0, -1.0)[:, None] * self.program.data.Xf

    def _near(self, b: int, u: np.ndarray) -> np.ndarray:
        """The rows of block ``b``'s cone closest to the direction ``u`` (and all it violates)."""
        marg = (self._cone(b) @ u) / (self.row_norms * max(float(np.linalg.norm(u)), 1e-300))
        m = min(self.n_rows, marg.size)
        near = np.argpartition(marg, m - 1)[:m]
        return np.union1d(near, np.flatnonzero(marg <= 1e-3))

    def _projection(self, b: int, s: np.ndarray) -> tuple[float, np.ndarray | None]:
        """``‖Π_{C_b}(s)‖`` (or an upper bound below the screening level from the cache)."""
        lam = self.program.lam
        if self.program.gated:
            return float(np.linalg.norm(s)), s
        hit = self.cache.get(b)
        if hit is not None and hit[1] + float(np.linalg.norm(s - hit[0])) <= lam * (1 + _SCREEN_TOL):
            return hit[1] + float(np.linalg.norm(s - hit[0])), None
        v = project_float(self._cone(b), s)[0]
        nv = float(np.linalg.norm(v))
        self.cache[b] = (s, nv, v)
        return nv, v

    def drop_zeros(self, W: np.ndarray) -> None:
        """Leave out the blocks that are zero in ``W`` (each block at most once, so no cycling)."""
        norms = np.linalg.norm(W, axis=1)
        tiny = 1e-6 * float(norms.max(initial=0.0))
        out = [b for b in self.blocks if norms[b] <= tiny and b not in self.dropped]
        self.dropped.update(out)
        self.blocks = [b for b in self.blocks if b not in set(out)]

    def update(self, W: np.ndarray) -> bool:
        """Add the violating blocks and rows for the current weights; ``True`` if anything changed."""
        program, lam = self.program, self.program.lam
        changed = False
        if not program.gated:
            for b in self.blocks:
                if W[b].any():
                    marg = (self._cone(b) @ W[b]) / (self.row_norms * float(np.linalg.norm(W[b])))
                    bad = np.setdiff1d(np.flatnonzero(marg < -_ROW_TOL), self.rows[b])
                    if bad.size:
                        self.rows[b] = np.union1d(self.rows[b], np.union1d(bad, self._near(b, W[b])))
                        changed = True
        S = program.correlations(program.data.yf - program.fit(W))
        norms = np.linalg.norm(S, axis=1)
        inside = set(self.blocks)
        budget = max(20, len(self.blocks))  # the working set at most doubles per round
        viol: list[tuple[float, int, np.ndarray]] = []
        for b in np.argsort(-norms):
            b = int(b)
            if norms[b] <= lam * (1 + _SCREEN_TOL):
                break
            if b in inside:
                continue
            nv, v = self._projection(b, S[b])
            if nv > lam * (1 + _SCREEN_TOL) and v is not None:
                viol.append((nv, b, v))
        viol.sort(key=lambda t: -t[0])
        for _, b, v in viol[:budget]:
            self.blocks.append(b)
            if not program.gated:
                self.rows[b] = self._near(b, v)
            changed = True
        return changed


def _solve_restricted(clarabel, program: ConvexProgram, ws: _WorkingSet, eps: float) -> tuple[np.ndarray, str, int]:
    """One Clarabel solve of the program restricted to the working set (variables ``w``, ``t``,
    ``e``: ``min ½‖e‖² + λ Σ t_b`` with ``e = R w − Qᵀy``, ``‖w_b‖ <= t_b``, kept cone rows)."""
    X, y = program.data.Xf, program.data.yf
    d = X.shape[1]
    B = np.array(sorted(ws.blocks), dtype=int)
    k = B.size
    nw = k * d
    Z = np.hstack([(program.signs[b] * program.block_masks[b])[:, None] * X for b in B])
    R, c = _compress(Z, y)
    m = R.shape[0]
    nv = nw + k + m
    mats = [sp.hstack([sp.csc_matrix(-R), sp.csc_matrix((m, k)), sp.identity(m, format="csc")])]
    cones = [clarabel.ZeroConeT(m)]
    rhs = [-c]
    if not program.gated:
        rr, cc, vv = [], [], []
        off = 0
        for i, b in enumerate(B):
            J = ws.rows[int(b)]
            sig = np.where(program.block_masks[b][J], 1.0, -1.0)
            rr.append(off + np.repeat(np.arange(J.size), d))
            cc.append(np.tile(i * d + np.arange(d), J.size))
            vv.append((-(sig[:, None] * X[J])).ravel())
            off += J.size
        mats.append(sp.csc_matrix((np.concatenate(vv), (np.concatenate(rr), np.concatenate(cc))), shape=(off, nv)))
        cones.append(clarabel.NonnegativeConeT(off))
        rhs.append(np.zeros(off))
    cols = np.arange(k)[:, None] * d + np.arange(-1, d)[None, :]
    cols[:, 0] = nw + np.arange(k)
    mats.append(sp.csc_matrix((-np.ones(k * (d + 1)), (np.arange(k * (d + 1)), cols.ravel())), shape=(k * (d + 1), nv)))
    cones += [clarabel.SecondOrderConeT(d + 1)] * k
    rhs.append(np.zeros(k * (d + 1)))
    e = nw + k + np.arange(m)
    P = sp.csc_matrix((np.ones(m), (e, e)), shape=(nv, nv))
    q = np.concatenate([np.zeros(nw), np.full(k, program.lam), np.zeros(m)])
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = eps
    settings.max_iter = 500
    try:  # the supernodal factorization (dense blocks through BLAS) when this Clarabel has it
        settings.direct_solve_method = "faer"
        solver = clarabel.DefaultSolver(P, q, sp.vstack(mats).tocsc(), np.concatenate(rhs), cones, settings)
    except BaseException:
        settings.direct_solve_method = "qdldl"
        solver = clarabel.DefaultSolver(P, q, sp.vstack(mats).tocsc(), np.concatenate(rhs), cones, settings)
    sol = solver.solve()
    status = {"Solved": "optimal", "AlmostSolved": "optimal_inaccurate"}.get(str(sol.status))
    if status is None:
        raise UncertifiedError(f"Clarabel did not solve the convex program (status {sol.status})")
    W = np.zeros((program.n_blocks, d))
    W[B] = np.asarray(sol.x)[:nw].reshape(k, d)
    return W, status, int(sol.iterations)


def _compress(Z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(R, c)`` with ``‖Z w − y‖² = ‖R w − c‖² + const``: Cholesky of ``ZᵀZ`` when it is well
    conditioned (fast), else a QR factorization of ``Z``."""
    try:
        L = np.linalg.cholesky(Z.T @ Z)
        diag = np.diag(L)
        if diag.size and diag.min() > 1e-6 * diag.max():
            return L.T, scipy.linalg.solve_triangular(L, Z.T @ y, lower=True)
    except np.linalg.LinAlgError:
        pass
    Q, R = np.linalg.qr(Z)
    return R, Q.T @ y


def _solve_cvxpy(program: ConvexProgram, *, eps: float) -> ConvexSolution:
    """The whole program written with cvxpy and solved by Clarabel (the previous route)."""
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
