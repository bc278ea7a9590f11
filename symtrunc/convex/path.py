"""Regularization paths ``λ ↦ W*(λ)`` with warm starts, ``λ_max``, value derivative and checks.

Facts used (squared loss; reference §10):

* ``λ_max = max_b ‖Π_{C_b}(Z_b^T y)‖`` and ``w = 0`` is optimal iff ``λ >= λ_max``
  (:func:`lambda_max` computes ``λ_max²`` exactly);
* ``p*(λ)`` is concave and non-decreasing (a minimum of functions affine in ``λ``), with
  ``p*'(λ) = Σ_b ‖w_b*‖``, the same for every optimal ``w``;
* the fit is Lipschitz: ``‖ŷ(λ) − ŷ(λ')‖ <= |λ − λ'| (‖r*(λ)‖ + ‖y‖) / λ`` because
  ``r*(λ) = λ Π_{F}(y/λ)`` is a scaled projection onto a fixed convex set containing 0;
  an ``ε``-suboptimal point has ``‖ŷ − ŷ*‖ <= √(2ε)``.

:meth:`RegularizationPath.check` tests concavity, the derivative (secant slopes between the
endpoint derivatives) and the continuity bound, and raises
:class:`~symtrunc.errors.VerificationError` naming the first violated pair.

Examples
--------
>>> from symtrunc.convex.regression import RegressionData
>>> from symtrunc.convex.program import ConvexProgram, ConvexSolution
>>> data = RegressionData.from_arrays([[1, 0], [0, 1], [1, 1], [2, -1]], [1, 2, 2, 0])
>>> prog = ConvexProgram.create(data, 1)
>>> lambda_max(prog)
(25, 5.0)
>>> path = regularization_path(prog, n_lams=6)
>>> path.points[0].active, path.check() is None
(0, True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import flint
import numpy as np

from symtrunc.convex.optimal_set import float_optimal_set
from symtrunc.convex.planted import correlation_vectors
from symtrunc.convex.program import ConvexProgram, ConvexSolution
from symtrunc.convex.solvers import solve
from symtrunc.errors import VerificationError
from symtrunc.exact.rational import to_q

__all__ = ["PathPoint", "RegularizationPath", "lambda_max", "regularization_path"]


def lambda_max(program: ConvexProgram) -> tuple[flint.fmpq, float]:
    """``(λ_max², λ_max)``: exact square and float value of the smallest ``λ`` with ``w* = 0``."""

    sq = max((v.transpose() * v)[0, 0] for v in correlation_vectors(program, program.data.y))
    return sq, float(np.sqrt(float(sq)))


@dataclass(frozen=True, eq=False)
class PathPoint:
    """One solved ``λ`` of a path.

    Attributes
    ----------
    lam, objective, derivative, gap : float
        ``λ``, ``p(λ)``, ``Σ_b ‖w_b‖`` (``= p*'(λ)``) and the float duality gap.
    active : int
        Non-zero blocks.
    weights : numpy.ndarray
    fit : numpy.ndarray
    min_norm : numpy.ndarray or None
        Min-norm optimal weights (when requested).
    seconds : float
    iterations : int
    """

    lam: float
    objective: float
    derivative: float
    gap: float
    active: int
    weights: np.ndarray
    fit: np.ndarray
    min_norm: np.ndarray | None
    seconds: float
    iterations: int


@dataclass(frozen=True, eq=False)
class RegularizationPath:
    """Solutions on a decreasing ``λ`` grid (``points[0]`` is the largest ``λ``)."""

    points: tuple[PathPoint, ...]
    lam_max: float
    y: np.ndarray

    @property
    def y_norm(self) -> float:
        """``‖y‖``."""
        return float(np.linalg.norm(self.y))

    def check(self, tol: float = 1e-6) -> None:
        """Concavity, derivative and continuity checks (relative tolerance ``tol``).

        Raises
        ------
        VerificationError
            With ``{"pair": (λ1, λ2), ...}`` as counterexample.
        """
        pts = sorted(self.points, key=lambda p: p.lam)
        for a, b in zip(pts, pts[1:]):
            dl = b.lam - a.lam
            if dl <= 0:
                continue
            slack = tol * max(1.0, abs(a.objective), abs(b.objective)) + a.gap + b.gap
            secant = (b.objective - a.objective) / dl
            if b.objective < a.objective - slack:
                raise VerificationError(
                    f"p*(λ) decreases between λ={a.lam:.4g} and {b.lam:.4g}", {"pair": (a.lam, b.lam)}
                )
            dtol = slack / dl + tol * max(1.0, a.derivative)
            if not (b.derivative - dtol <= secant <= a.derivative + dtol):
                raise VerificationError(
                    f"derivative check failed on [{a.lam:.4g}, {b.lam:.4g}]: secant {secant:.6g} not between "
                    f"Σ‖w‖ = {b.derivative:.6g} and {a.derivative:.6g}",
                    {"pair": (a.lam, b.lam), "secant": secant},
                )
            r_a = float(np.linalg.norm(self.y - a.fit))
            bound = dl * (r_a + self.y_norm) / a.lam + np.sqrt(2 * max(a.gap, 0)) + np.sqrt(2 * max(b.gap, 0))
            jump = float(np.linalg.norm(b.fit - a.fit))
            if jump > bound * (1 + tol) + tol:
                raise VerificationError(
                    f"fit jumps by {jump:.3g} > {bound:.3g} between λ={a.lam:.4g} and {b.lam:.4g}",
                    {"pair": (a.lam, b.lam), "jump": jump, "bound": bound},
                )

    def table(self) -> str:
        """A plain-text table of the path (``float gap``: the float duality gap, a diagnostic;
        :func:`~symtrunc.convex.certificate.certify_weights` gives the rigorous one)."""
        lines = [f"{'lambda':>12} {'objective':>14} {'dp/dlambda':>12} {'float gap':>10} {'active':>6}"]
        for p in self.points:
            lines.append(f"{p.lam:12.6g} {p.objective:14.8g} {p.derivative:12.6g} {p.gap:10.2e} {p.active:6d}")
        return "\n".join(lines)


def regularization_path(
    program: ConvexProgram,
    lams=None,
    *,
    n_lams: int = 20,
    ratio: float = 1e-2,
    method: str = "conic",
    warm_start: bool = True,
    min_norm: bool = False,
    tol: float = 1e-7,
) -> RegularizationPath:
    """Solve on a decreasing ``λ`` grid (default: ``n_lams`` geometric points from ``λ_max``
    down to ``ratio · λ_max``). With ``method="fista"`` each solve is warm-started from the
    previous solution; the default interior-point method (Clarabel) has no warm start but is
    much faster on small problems.

    Parameters
    ----------
    program : ConvexProgram
        Its ``λ`` is ignored; the data and patterns are used.
    lams : sequence, optional
        Explicit ``λ`` values (rationals or decimal strings are read exactly).
    min_norm : bool
        Also compute the min-norm optimal weights at each ``λ`` (float optimal set).
    """
    lmax_sq, lmax = lambda_max(program)
    if lams is None:
        grid = [to_q(f"{v:.6e}") for v in lmax * np.geomspace(1.0, ratio, n_lams)]
        while grid and grid[0] * grid[0] < lmax_sq:  # start exactly at w = 0: the first λ >= λ_max
            grid[0] = to_q(f"{float(grid[0]) * (1 + 1e-6):.6e}")
    else:
        grid = sorted((to_q(v) for v in lams), reverse=True)
    pts = []
    W = None
    for lam in grid:
        prog = program.with_lam(lam)
        t0 = time.perf_counter()
        kwargs = {"tol": tol} if method == "fista" else {}
        if method == "fista" and warm_start and W is not None:
            kwargs["warm_start"] = W
        if prog.lam_sq >= lmax_sq:  # w = 0 is exactly optimal: no solver needed
            sol = ConvexSolution(prog, np.zeros((prog.n_blocks, prog.data.d)), "exact (λ >= λ_max)", 0, 0.0)
        else:
            sol = solve(prog, method, **kwargs)
        secs = time.perf_counter() - t0
        W = sol.weights
        mn = None
        if min_norm:
            mn = float_optimal_set(sol).min_norm_weights() if sol.active else np.zeros_like(W)
        pts.append(
            PathPoint(
                prog.lam, sol.objective, sol.penalty_sum, sol.gap, len(sol.active), W, sol.fit, mn, secs, sol.iterations
            )
        )
    return RegularizationPath(tuple(pts), lmax, program.data.yf)
