"""The convex reformulation of a two-layer ReLU network with weight decay (Pilanci & Ergen 2020).

Convention (reference §0; the ½ factors matter)::

    (C)   min_w  ½ ‖Σ_b Z_b w_b − y‖² + λ Σ_b ‖w_b‖₂    s.t.  w_b ∈ C_b

with one *block* ``b = (i, ±)`` per pattern ``D_i`` and sign: ``Z_(i,+) = D_i X``,
``Z_(i,−) = −D_i X`` and the cone ``C_b = K_i = {w : (2 D_i − I) X w >= 0}`` (C-ReLU), or
one block per pattern with ``Z_i = D_i X`` and no cone (C-GReLU, ``gated=True``). It equals
the non-convex problem ``½‖Σ_j (X W1_j)_+ w2_j − y‖² + (λ/2) Σ_j (‖W1_j‖² + w2_j²)``
(see :mod:`symtrunc.convex.mapping`). scnn divides the data term by ``n``:
``λ_scnn = λ / n`` (:func:`lam_to_scnn`).

Weights are stored as an ``(n_blocks, d)`` array (block ``b`` is row ``b``): the ``+`` blocks
``0..p-1`` then the ``−`` blocks ``p..2p-1``.

Examples
--------
>>> from symtrunc.convex.regression import RegressionData
>>> data = RegressionData.from_arrays([[1, 0], [0, 1], [1, 1]], [1, 2, 2])
>>> prog = ConvexProgram.create(data, "0.5")
>>> prog.n_blocks, prog.lam, prog.block(0), prog.block(5)
(10, 0.5, (0, 1), (0, -1))
>>> prog.objective(np.zeros((10, 2)))
4.5
>>> ConvexProgram.create(data, 0)
Traceback (most recent call last):
...
symtrunc.errors.DataError: lambda must be positive, got 0
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import flint
import numpy as np

from symtrunc.convex.cones import project_float
from symtrunc.convex.patterns import ActivationPatterns, enumerate_patterns
from symtrunc.convex.regression import RegressionData
from symtrunc.errors import DataError
from symtrunc.exact.rational import to_q

__all__ = ["ConvexProgram", "ConvexSolution", "lam_to_scnn", "lam_from_scnn"]


def lam_to_scnn(lam: float, n: int) -> float:
    """``λ`` of this convention to scnn's (data term ``1/(2n)``): ``λ / n``.

    >>> lam_to_scnn(0.5, 10)
    0.05
    """
    return lam / n


def lam_from_scnn(lam_scnn: float, n: int) -> float:
    """scnn's ``λ`` to this convention: ``n λ_scnn``.

    >>> lam_from_scnn(0.05, 10)
    0.5
    """
    return lam_scnn * n


@dataclass(frozen=True, eq=False)
class ConvexProgram:
    """One instance of C-ReLU (or C-GReLU) for squared loss.

    Attributes
    ----------
    data : RegressionData
    patterns : ActivationPatterns
    lam_sq : flint.fmpq
        ``λ²`` exactly (``λ`` itself may be irrational, e.g. for planted instances).
    gated : bool
        ``True`` for the gated-ReLU program (no cone constraints).
    """

    data: RegressionData
    patterns: ActivationPatterns
    lam_sq: flint.fmpq
    gated: bool = False

    def __post_init__(self) -> None:
        if self.lam_sq <= 0:
            raise DataError("lambda must be positive")
        if self.patterns.masks.shape[1] != self.data.n:
            raise DataError("patterns do not match the data (wrong number of rows)")
        if len(self.patterns) == 0:
            raise DataError("no non-zero activation pattern (every g has X g < 0 somewhere?)")

    @classmethod
    def create(
        cls, data: RegressionData, lam: Any, patterns: ActivationPatterns | None = None, *, gated: bool = False
    ) -> ConvexProgram:
        """Build the program for a rational ``λ > 0`` (all patterns enumerated when not given).

        Raises
        ------
        DataError
            If ``λ <= 0`` or is not a number.
        """
        q = to_q(lam)
        if q <= 0:
            raise DataError(f"lambda must be positive, got {q}")
        if not flint.fmpq(1, 10**100) <= q <= 10**100:
            raise DataError("lambda is outside [1e-100, 1e100], the range the float solvers can handle")
        return cls(data, patterns if patterns is not None else enumerate_patterns(data), q * q, gated)

    def with_lam(self, lam: Any) -> ConvexProgram:
        """The same program for another ``λ``."""
        return ConvexProgram.create(self.data, lam, self.patterns, gated=self.gated)

    @property
    def lam(self) -> float:
        """``λ`` in float64."""
        return float(np.sqrt(float(self.lam_sq)))

    @property
    def p(self) -> int:
        """Number of patterns."""
        return len(self.patterns)

    @property
    def n_blocks(self) -> int:
        """``2p`` (ReLU) or ``p`` (gated)."""
        return self.p if self.gated else 2 * self.p

    def block(self, b: int) -> tuple[int, int]:
        """``(pattern index, sign)`` of block ``b``."""
        return (b, 1) if b < self.p else (b - self.p, -1)

    @cached_property
    def signs(self) -> np.ndarray:
        """Sign ``±1`` of every block."""
        return np.array([self.block(b)[1] for b in range(self.n_blocks)], dtype=float)

    @cached_property
    def block_masks(self) -> np.ndarray:
        """``(n_blocks, n)`` boolean: the diagonal of ``D`` of every block."""
        m = self.patterns.masks
        return m if self.gated else np.vstack([m, m])

    def cone_matrix(self, b: int) -> np.ndarray:
        """``(2 D_i − I) X`` of block ``b`` (float; empty for gated programs)."""
        if self.gated:
            return np.zeros((0, self.data.d))
        m = self.block_masks[b]
        return np.where(m[:, None], 1.0, -1.0) * self.data.Xf

    @cached_property
    def _signed_rows(self) -> tuple[list[list[flint.fmpq]], list[list[flint.fmpq]]]:
        """The rows of ``X`` and of ``−X`` as lists of exact entries (built once)."""
        rows = self.data.X.tolist()
        return rows, [[-v for v in row] for row in rows]

    def cone_matrix_exact(self, b: int) -> flint.fmpq_mat:
        """``(2 D_i − I) X`` of block ``b`` exactly."""
        n, d = self.data.n, self.data.d
        if self.gated:
            return flint.fmpq_mat(0, d)
        m = self.block_masks[b]
        pos, neg = self._signed_rows
        return flint.fmpq_mat(n, d, [v for j in range(n) for v in (pos[j] if m[j] else neg[j])])

    def cone_bound_sq(self, b: int, s: flint.fmpq_mat, mu: dict[int, flint.fmpq]) -> flint.fmpq:
        """``‖s + A_b^T μ‖²`` exactly (``A_b`` the cone matrix of block ``b``), touching only the
        rows named by ``μ``: an upper bound on ``‖Π_{C_b}(s)‖²`` for every ``μ >= 0``.

        Raises
        ------
        ValueError
            If some multiplier is negative or names no data row.
        """
        if any(m < 0 for m in mu.values()):
            raise ValueError("cone multipliers must be non-negative")
        if any(not 0 <= j < self.data.n for j in mu):
            raise ValueError("a cone multiplier names no data row")
        pos, neg = self._signed_rows
        mask = self.block_masks[b]
        v = s.entries()
        for j, m in mu.items():
            row = pos[j] if mask[j] else neg[j]
            v = [a + m * x for a, x in zip(v, row)]
        return sum((x * x for x in v), flint.fmpq(0))

    def signed_products(self, W: flint.fmpq_mat, blocks: list[int]) -> dict[int, list[flint.fmpq]]:
        """``(2 D_b − I) X w_b`` exactly for the given blocks (one exact product ``X W_S^T``)."""
        if not blocks:
            return {}
        d = self.data.d
        WS = flint.fmpq_mat(d, len(blocks), [W[b, k] for k in range(d) for b in blocks])
        F = (self.data.X * WS).tolist()
        out = {}
        for i, b in enumerate(blocks):
            mask = self.block_masks[b]
            out[b] = [row[i] if mask[j] else -row[i] for j, row in enumerate(F)]
        return out

    def exact_fit(self, W: flint.fmpq_mat) -> flint.fmpq_mat:
        """``ŷ = Σ_b Z_b w_b`` exactly, for exact weights ``(n_blocks, d)``; an ``(n, 1)`` column."""
        n, d = self.data.n, self.data.d
        nz = [b for b in range(self.n_blocks) if any(W[b, k] != 0 for k in range(d))]
        zero = flint.fmpq(0)
        if not nz:
            return flint.fmpq_mat(n, 1, [zero] * n)
        WS = flint.fmpq_mat(d, len(nz), [W[b, k] for k in range(d) for b in nz])
        F = (self.data.X * WS).tolist()  # (n, len(nz))
        masks, signs = self.block_masks, self.signs
        vals = [
            sum((F[j][i] if signs[b] > 0 else -F[j][i] for i, b in enumerate(nz) if masks[b, j]), zero)
            for j in range(n)
        ]
        return flint.fmpq_mat(n, 1, vals)

    def exact_correlations(self, r: flint.fmpq_mat) -> list[flint.fmpq_mat]:
        """``Z_b^T r`` for every block, exactly, as ``(d, 1)`` columns."""
        masks = self.patterns.masks
        p, n, d = self.p, self.data.n, self.data.d
        rv = r.entries()
        zero = flint.fmpq(0)
        P = flint.fmpq_mat(p, n, [rv[j] if masks[i, j] else zero for i in range(p) for j in range(n)])
        cols = [flint.fmpq_mat(d, 1, row) for row in (P * self.data.X).tolist()]
        return cols if self.gated else cols + [-c for c in cols]

    def block_fits(self, W: np.ndarray) -> np.ndarray:
        """``(n, n_blocks)``: column ``b`` is ``Z_b w_b``."""
        return (self.data.Xf @ W.T) * self.block_masks.T * self.signs[None, :]

    def fit(self, W: np.ndarray) -> np.ndarray:
        """``ŷ = Σ_b Z_b w_b``."""
        return self.block_fits(W).sum(axis=1)

    def objective(self, W: np.ndarray) -> float:
        """``½‖ŷ − y‖² + λ Σ_b ‖w_b‖`` in float64."""
        r = self.data.yf - self.fit(W)
        return float(0.5 * r @ r + self.lam * np.linalg.norm(W, axis=1).sum())

    def correlations(self, r: np.ndarray) -> np.ndarray:
        """``(n_blocks, d)``: ``Z_b^T r`` for every block."""
        return (self.block_masks * self.signs[:, None] * r[None, :]) @ self.data.Xf

    def dual_norms(self, r: np.ndarray) -> np.ndarray:
        """``‖Π_{C_b}(Z_b^T r)‖`` per block (float NNLS); dual feasibility is ``<= λ``."""

        S = self.correlations(r)
        if self.gated:
            return np.linalg.norm(S, axis=1)
        return np.array([np.linalg.norm(project_float(self.cone_matrix(b), S[b])[0]) for b in range(self.n_blocks)])

    def float_gap(self, W: np.ndarray) -> float:
        """Float duality gap ``P(W) − D(θ r)`` with ``r = y − ŷ`` scaled to dual feasibility
        (a diagnostic; :func:`symtrunc.convex.certificate.certify` is the rigorous version)."""
        r = self.data.yf - self.fit(W)
        M = float(self.dual_norms(r).max())
        theta = 1.0 if M <= self.lam else self.lam / M
        rr = float(r @ r)
        if rr > 0:
            theta = min(theta, float(r @ self.data.yf) / rr)
        dual = theta * float(r @ self.data.yf) - 0.5 * theta**2 * rr
        return self.objective(W) - dual


@dataclass(frozen=True, eq=False)
class ConvexSolution:
    """A float solution of a :class:`ConvexProgram`.

    Attributes
    ----------
    program : ConvexProgram
    weights : numpy.ndarray
        ``(n_blocks, d)``; blocks with norm below ``1e-9`` of the largest are set to zero.
    solver : str
        ``"clarabel"`` or ``"fista"``.
    iterations : int
    seconds : float
        Wall-clock solve time.
    """

    program: ConvexProgram
    weights: np.ndarray
    solver: str
    iterations: int
    seconds: float

    @property
    def fit(self) -> np.ndarray:
        """``ŷ``."""
        return self.program.fit(self.weights)

    @property
    def objective(self) -> float:
        """Objective value in float64."""
        return self.program.objective(self.weights)

    @property
    def norms(self) -> np.ndarray:
        """``‖w_b‖`` per block."""
        return np.linalg.norm(self.weights, axis=1)

    @property
    def penalty_sum(self) -> float:
        """``Σ_b ‖w_b‖`` (the derivative ``p*'(λ)`` at an optimum)."""
        return float(self.norms.sum())

    @property
    def active(self) -> tuple[int, ...]:
        """Indices of the non-zero blocks."""
        return tuple(int(b) for b in np.flatnonzero(self.norms > 0))

    @property
    def gap(self) -> float:
        """Float duality gap (diagnostic)."""
        return self.program.float_gap(self.weights)
