"""Planted instances of the convex program with exactly known optima (reference §C).

Pick integer (or rational) data ``X`` and a rational dual point ``r``. Every block's
correlation vector ``v_b = Π_{C_b}(Z_b^T r)`` is rational (exact cone projection), so
``λ² := max_b ‖v_b‖²`` is rational; let ``E`` be the blocks attaining it. For weights
``α_b >= 0`` on ``E`` put ``w_b = α_b v_b`` and ``y := Σ_b α_b Z_b v_b + r``. Then ``w`` is
optimal and ``r`` is the (unique) dual solution, by the KKT conditions, and the optimal value
``½‖r‖² + λ² Σ_b α_b`` is rational even when ``λ`` is not.

Examples
--------
>>> inst = plant([[1, 0], [0, 1], [1, 1], [2, -1]], [1, -1, 0, 1])
>>> inst.program.lam_sq, inst.optimal_value, len(inst.equicorrelation)
(10, 23/2, 1)
>>> from symtrunc.convex.certificate import certify_weights
>>> cert = certify_weights(inst.program, inst.weights)
>>> cert.gap_bound, cert.primal_upper == inst.optimal_value
(0, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import flint

from symtrunc.convex.cones import project_exact
from symtrunc.convex.patterns import ActivationPatterns, enumerate_patterns
from symtrunc.convex.program import ConvexProgram
from symtrunc.convex.regression import RegressionData
from symtrunc.errors import DataError, UncertifiedError
from symtrunc.exact.matrix import qmatrix
from symtrunc.exact.rational import to_q

__all__ = ["PlantedInstance", "plant", "correlation_vectors"]


@dataclass(frozen=True, eq=False)
class PlantedInstance:
    """A convex program with a known exact optimum.

    Attributes
    ----------
    program : ConvexProgram
    weights : flint.fmpq_mat
        An exactly optimal ``(n_blocks, d)`` solution ``w_b = α_b v_b``.
    alphas : dict of int to fmpq
        The planted ``α_b`` (blocks in ``E``).
    residual : flint.fmpq_mat
        The dual solution ``r* = y − ŷ``.
    optimal_value : flint.fmpq
        ``p* = ½‖r‖² + λ² Σ α_b``.
    equicorrelation : tuple of int
        ``E = {b : ‖v_b‖ = λ}``.
    """

    program: ConvexProgram
    weights: flint.fmpq_mat
    alphas: dict[int, flint.fmpq]
    residual: flint.fmpq_mat
    optimal_value: flint.fmpq
    equicorrelation: tuple[int, ...]


def correlation_vectors(program: ConvexProgram, r: flint.fmpq_mat) -> list[flint.fmpq_mat]:
    """Exact ``v_b = Π_{C_b}(Z_b^T r)`` for every block (``Z_b^T r`` itself when gated).

    Raises
    ------
    UncertifiedError
        If some projection's active set could not be verified exactly.
    """
    out = []
    for b, s in enumerate(program.exact_correlations(r)):
        if program.gated:
            out.append(s)
            continue
        proj = project_exact(program.cone_matrix_exact(b), s, Af=program.cone_matrix(b))
        if not proj.exact:
            raise UncertifiedError(f"block {b}: exact cone projection not found")
        out.append(proj.point)
    return out


def plant(
    X: Any,
    r: Sequence[Any],
    alphas: Mapping[int, Any] | None = None,
    *,
    gated: bool = False,
    patterns: ActivationPatterns | None = None,
) -> PlantedInstance:
    """Build a planted instance from data ``X`` and dual point ``r``.

    Parameters
    ----------
    X : nested rows
        ``(n, d)`` data of full column rank.
    r : sequence
        The dual point (``n`` rationals, not all zero on the patterns).
    alphas : mapping, optional
        ``α_b`` for blocks in ``E`` (default ``α_b = 1`` for every ``b ∈ E``).
    gated : bool
        Plant for the gated program instead.
    patterns : ActivationPatterns, optional
        Default: all patterns (exact enumeration).

    Raises
    ------
    DataError
        If ``r`` is orthogonal to every block (``λ`` would be 0), or an ``α`` is negative or
        on a block outside ``E``.
    """
    Xq = qmatrix(X, name="X")
    rq = flint.fmpq_mat(Xq.nrows(), 1, [to_q(v) for v in r])
    if rq.nrows() != Xq.nrows():
        raise DataError("r must have one entry per row of X")
    shape_data = RegressionData(Xq, rq, tuple(f"x{j}" for j in range(Xq.ncols())))
    pats = patterns if patterns is not None else enumerate_patterns(shape_data)
    probe = ConvexProgram(shape_data, pats, flint.fmpq(1), gated)
    vs = correlation_vectors(probe, rq)
    sq = [(v.transpose() * v)[0, 0] for v in vs]
    lam_sq = max(sq)
    if lam_sq == 0:
        raise DataError("r is orthogonal to every block: λ_max = 0")
    E = tuple(b for b, q in enumerate(sq) if q == lam_sq)
    al = {b: flint.fmpq(1) for b in E} if alphas is None else {int(b): to_q(a) for b, a in alphas.items()}
    for b, a in al.items():
        if b not in E or a < 0:
            raise DataError(f"alpha for block {b} must be >= 0 and b in E = {E}")
    d = Xq.ncols()
    W = flint.fmpq_mat(probe.n_blocks, d, [al.get(b, 0) * vs[b][k, 0] for b in range(probe.n_blocks) for k in range(d)])
    yhat = probe.exact_fit(W)
    data = RegressionData(Xq, yhat + rq, shape_data.feature_names)
    program = ConvexProgram(data, pats, lam_sq, gated)
    value = (rq.transpose() * rq)[0, 0] / 2 + lam_sq * sum(al.values(), flint.fmpq(0))
    return PlantedInstance(program, W, al, rq, value, E)
