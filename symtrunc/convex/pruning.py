"""Optimal pruning (Mishkin & Pilanci 2023, Algorithm 1) and approximate pruning (Algorithm 2).

Algorithm 1: while the active block fits ``q_b = Z_b w_b`` are linearly dependent, take a
null vector ``β`` (``Σ_b β_b q_b = 0``), flip it so its entry of largest modulus is positive,
and scale every block by ``1 − β_b / β_max ∈ [0, 2]``. The fit is unchanged, each block keeps
its direction (so cone feasibility and the KKT alignment are kept), at least one block
becomes zero, and at an optimum the penalty is unchanged too, because
``λ Σ_b β_b ‖w_b‖ = ⟨r*, Σ_b β_b q_b⟩ = 0``. The result has linearly independent fits, hence
at most ``n`` active blocks: a vertex of the optimal polytope, i.e. a *minimal* network.

* :func:`prune_exact` runs it in rationals (null vectors from the exact RREF) and verifies
  "same fit" exactly and "same penalty" exactly in ``Q(√m, …)`` (:mod:`~symtrunc.convex.radicals`);
* :func:`prune_float` is the float version (null vectors from the SVD). It proves nothing: its
  rank test has a fixed tolerance, and a solver's noise can make dependent fits look
  independent (then it stops with more blocks than a minimal network has).
  :func:`~symtrunc.convex.minimal.prune_minimal` prunes a solver's solution with the structure
  decided exactly and *proves* the result minimal;
* :func:`prune_approximate` is Algorithm 2: prune down to a target width, each step
  replacing the lowest-scoring neuron by its least-squares reconstruction from the others.

Examples
--------
>>> from symtrunc.convex.planted import plant
>>> inst = plant([[1, 0], [0, 1], [-1, 0], [0, -1]], [1, 1, 1, 1])
>>> res = prune_exact(inst.program, inst.weights)
>>> len(active_blocks(inst.weights)), len(res.active), res.fit_preserved, res.penalty_preserved
(4, 2, True, True)
>>> fits_independent(inst.program, res.weights)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import flint
import numpy as np

from symtrunc.convex.mapping import TwoLayerNetwork, from_network, to_network
from symtrunc.convex.program import ConvexProgram
from symtrunc.convex.radicals import radical_sum
from symtrunc.errors import DataError, UncertifiedError

__all__ = [
    "PruningStep",
    "PruningResult",
    "prune_exact",
    "prune_float",
    "prune_approximate",
    "prune_network",
    "active_blocks",
    "fits_independent",
]


@dataclass(frozen=True)
class PruningStep:
    """One step: the null vector ``β`` (by block) and the blocks it zeroed."""

    beta: dict[int, Any]
    removed: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class PruningResult:
    """Output of a pruning algorithm.

    Attributes
    ----------
    weights : flint.fmpq_mat or numpy.ndarray
        Pruned ``(n_blocks, d)`` weights.
    steps : tuple of PruningStep
    active : tuple of int
        Non-zero blocks after pruning.
    fit_preserved : bool
        Exactly (``prune_exact``) or to ``1e-9`` relative (float versions).
    penalty_preserved : bool or None
        ``Σ‖w_b‖`` unchanged (exactly for ``prune_exact``; ``None`` if undecidable).
    """

    weights: Any
    steps: tuple[PruningStep, ...]
    active: tuple[int, ...]
    fit_preserved: bool
    penalty_preserved: bool | None


def active_blocks(W: Any) -> tuple[int, ...]:
    """Indices of non-zero rows of ``W`` (exact or float)."""
    if isinstance(W, np.ndarray):
        return tuple(int(b) for b in np.flatnonzero(np.linalg.norm(W, axis=1) > 0))
    return tuple(b for b in range(W.nrows()) if any(W[b, k] != 0 for k in range(W.ncols())))


def _exact_fits(program: ConvexProgram, W: flint.fmpq_mat, A: tuple[int, ...]) -> flint.fmpq_mat:
    n = program.data.n
    F = (program.data.X * W.transpose()).tolist()
    m, s = program.block_masks, program.signs
    return flint.fmpq_mat(
        n, len(A), [(F[i][b] if s[b] > 0 else -F[i][b]) if m[b, i] else flint.fmpq(0) for i in range(n) for b in A]
    )


def fits_independent(program: ConvexProgram, W: Any, tol: float = 1e-9) -> bool:
    """Whether the active block fits are linearly independent (exact rank, or SVD for floats)."""
    A = active_blocks(W)
    if not A:
        return True
    if isinstance(W, np.ndarray):
        Q = program.block_fits(W)[:, list(A)]
        return int(np.linalg.matrix_rank(Q, tol=tol * max(1.0, np.abs(Q).max()))) == len(A)
    return _exact_fits(program, W, A).rank() == len(A)


def _null_vector(Q: flint.fmpq_mat) -> list[flint.fmpq] | None:
    R, rank = Q.rref()
    k = Q.ncols()
    pivots = []
    for i in range(rank):
        pivots.append(next(j for j in range(k) if R[i, j] != 0))
    free = [j for j in range(k) if j not in pivots]
    if not free:
        return None
    f = free[0]
    beta = [flint.fmpq(0)] * k
    beta[f] = flint.fmpq(1)
    for i, pj in enumerate(pivots):
        beta[pj] = -R[i, f] / R[i, pj]
    return beta


def _scale_rows(W: Any, factors: dict[int, Any]) -> Any:
    if isinstance(W, np.ndarray):
        W = W.copy()
        for b, f in factors.items():
            W[b] = 0.0 if f == 0 else W[b] * f
        return W
    d = W.ncols()
    vals = [W[b, k] * factors.get(b, 1) for b in range(W.nrows()) for k in range(d)]
    return flint.fmpq_mat(W.nrows(), d, vals)


def _step(beta: list[Any], A: tuple[int, ...]) -> tuple[dict[int, Any], PruningStep]:
    i = max(range(len(beta)), key=lambda j: abs(beta[j]))
    if beta[i] < 0:  # flip so that the entry of largest modulus is positive
        beta = [-x for x in beta]
    bmax = beta[i]
    factors = {b: 1 - x / bmax for b, x in zip(A, beta)}
    factors[A[i]] = 0 * bmax
    removed = tuple(b for b, f in factors.items() if f == 0)
    return factors, PruningStep({b: x for b, x in zip(A, beta)}, removed)


def prune_exact(program: ConvexProgram, W: flint.fmpq_mat) -> PruningResult:
    """Algorithm 1 in exact rational arithmetic.

    Parameters
    ----------
    program : ConvexProgram
    W : flint.fmpq_mat
        Exact weights ``(n_blocks, d)`` (an optimal solution for the penalty to be kept).
    """
    if isinstance(W, np.ndarray):
        raise DataError("prune_exact needs exact weights (flint.fmpq_mat); use prune_float for floats")
    steps = []
    cur = W
    while True:
        A = active_blocks(cur)
        beta = _null_vector(_exact_fits(program, cur, A)) if A else None
        if beta is None:
            break
        factors, step = _step(beta, A)
        cur = _scale_rows(cur, factors)
        steps.append(step)
    fit_ok = program.exact_fit(cur) == program.exact_fit(W)
    d = W.ncols()
    sq = [sum((M[b, k] * M[b, k] for k in range(d)), flint.fmpq(0)) for M in (W, cur) for b in range(W.nrows())]
    nb = W.nrows()
    try:
        pen_ok: bool | None = radical_sum([(1, q) for q in sq[nb:]] + [(-1, q) for q in sq[:nb]]) == {}
    except UncertifiedError:
        pen_ok = None
    return PruningResult(cur, tuple(steps), active_blocks(cur), fit_ok, pen_ok)


def prune_float(program: ConvexProgram, W: np.ndarray, *, tol: float = 1e-9) -> PruningResult:
    """Algorithm 1 in float64: null vectors from the SVD, singular values below
    ``tol · σ_max`` count as zero (a float heuristic: solver noise above ``tol`` is taken for
    independence; use :func:`~symtrunc.convex.minimal.prune_minimal` for a proved minimal network)."""
    steps = []
    cur = W.copy()
    while True:
        A = active_blocks(cur)
        if not A:
            break
        Q = program.block_fits(cur)[:, list(A)]
        U, s, Vt = np.linalg.svd(Q)
        smax = s[0] if s.size else 0.0
        if len(A) <= Q.shape[0] and s[-1] > tol * max(smax, 1e-300):
            break
        beta = list(Vt[-1])
        factors, step = _step(beta, A)
        factors = {b: (0.0 if abs(f) <= 1e-14 else max(f, 0.0)) for b, f in factors.items()}
        cur = _scale_rows(cur, factors)
        steps.append(PruningStep(step.beta, tuple(b for b, f in factors.items() if f == 0)))
    return _float_result(program, W, cur, steps)


def _float_result(program: ConvexProgram, W: np.ndarray, cur: np.ndarray, steps: list[PruningStep]) -> PruningResult:
    f0, f1 = program.fit(W), program.fit(cur)
    scale = max(1.0, float(np.abs(f0).max()))
    p0, p1 = np.linalg.norm(W, axis=1).sum(), np.linalg.norm(cur, axis=1).sum()
    return PruningResult(
        cur,
        tuple(steps),
        active_blocks(cur),
        bool(np.abs(f1 - f0).max() <= 1e-9 * scale),
        bool(abs(p1 - p0) <= 1e-9 * max(1.0, p0)),
    )


def prune_approximate(program: ConvexProgram, W: np.ndarray, target: int, *, score: Any = None) -> PruningResult:
    """Algorithm 2: prune to at most ``target`` active blocks.

    Parameters
    ----------
    program : ConvexProgram
    W : numpy.ndarray
    target : int
        Desired number of active blocks (``>= 0``).
    score : callable, optional
        ``score(w_b) -> float``; the lowest-scoring block is pruned (default ``‖w_b‖``).
    """
    if target < 0:
        raise DataError("target must be >= 0")
    score = score or (lambda w: float(np.linalg.norm(w)))
    steps = []
    cur = W.copy()
    while len(active_blocks(cur)) > target:
        A = list(active_blocks(cur))
        j = min(A, key=lambda b: score(cur[b]))
        others = [b for b in A if b != j]
        Q = program.block_fits(cur)
        coef = np.linalg.lstsq(Q[:, others], Q[:, j], rcond=None)[0] if others else np.zeros(0)
        beta = [float(c) for c in coef] + [-1.0]
        factors, step = _step(beta, tuple(others) + (j,))
        factors = {b: max(f, 0.0) for b, f in factors.items()}
        factors[j] = 0.0
        cur = _scale_rows(cur, factors)
        steps.append(PruningStep(step.beta, tuple(b for b, f in factors.items() if f == 0)))
    return _float_result(program, W, cur, steps)


def prune_network(program: ConvexProgram, net: TwoLayerNetwork, *, tol: float = 1e-9) -> TwoLayerNetwork:
    """Optimal pruning of a network: map to convex weights, Algorithm 1 in floats, map back
    (equivalently each pair ``(W1_j, w2_j)`` is scaled by ``√(1 − t β_j)``)."""
    return to_network(program, prune_float(program, from_network(program, net), tol=tol).weights)
