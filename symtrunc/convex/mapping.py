"""Two-layer ReLU networks and the solution mappings to and from the convex program.

The non-convex model is ``f(X) = Σ_j (X W1_j)_+ w2_j`` with weight decay
``(λ/2) Σ_j (‖W1_j‖² + w2_j²)``; weights use the ``(out, in)`` layout: ``W1`` is ``(m, d)``.

* convex → network (:func:`to_network`): each non-zero block ``w_b`` gives the *balanced*
  neuron ``W1 = w_b / √‖w_b‖``, ``w2 = s_b √‖w_b‖``; fits and objectives agree.
* network → convex (:func:`from_network`): neuron ``j`` adds ``W1_j |w2_j|`` to the block
  ``(D(j), sign w2_j)`` whose closed cone contains ``W1_j``; the fit is kept and the penalty
  does not increase (merging neurons is the triangle inequality); dead neurons (zero
  pattern) are dropped.

Examples
--------
>>> from symtrunc.convex.regression import RegressionData
>>> from symtrunc.convex.program import ConvexProgram
>>> data = RegressionData.from_arrays([[1, 0], [0, 1], [1, 1]], [1, 2, 2])
>>> prog = ConvexProgram.create(data, 1)
>>> W = np.zeros((prog.n_blocks, 2)); W[3] = [4.0, 0.0]          # pattern 3 is [1, 0, 1]
>>> net = to_network(prog, W)
>>> net.W1.tolist(), net.w2.tolist()
([[2.0, 0.0]], [2.0])
>>> net.objective(data, prog.lam) == prog.objective(W)
True
>>> bool(np.allclose(from_network(prog, net), W))
True
"""

from __future__ import annotations

from dataclasses import dataclass

import flint
import numpy as np

from symtrunc.convex.program import ConvexProgram
from symtrunc.convex.regression import RegressionData
from symtrunc.errors import DataError
from symtrunc.exact.rational import to_q

__all__ = ["TwoLayerNetwork", "to_network", "from_network"]


@dataclass(frozen=True, eq=False)
class TwoLayerNetwork:
    """A scalar-output two-layer ReLU network without biases (add a ones column to ``X``).

    Attributes
    ----------
    W1 : numpy.ndarray
        ``(m, d)`` first layer (float64, or ``object`` with exact rationals).
    w2 : numpy.ndarray
        ``(m,)`` second layer.
    """

    W1: np.ndarray
    w2: np.ndarray

    def __post_init__(self) -> None:
        if self.W1.ndim != 2 or self.w2.shape != (self.W1.shape[0],):
            raise DataError("W1 must be (m, d) and w2 (m,)")

    @property
    def width(self) -> int:
        """Number of neurons ``m``."""
        return self.W1.shape[0]

    @property
    def active_neurons(self) -> int:
        """Neurons with ``W1_j ≠ 0`` and ``w2_j ≠ 0``."""
        return int(sum(1 for j in range(self.width) if any(v != 0 for v in self.W1[j]) and self.w2[j] != 0))

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Float forward pass ``(X W1^T)_+ w2``."""
        W1 = np.asarray(self.W1, dtype=float)
        return np.maximum(X @ W1.T, 0.0) @ np.asarray(self.w2, dtype=float)

    def objective(self, data: RegressionData, lam: float) -> float:
        """``½‖f(X) − y‖² + (λ/2) Σ_j (‖W1_j‖² + w2_j²)`` in float64."""
        r = self.forward(data.Xf) - data.yf
        W1 = np.asarray(self.W1, dtype=float)
        w2 = np.asarray(self.w2, dtype=float)
        return float(0.5 * r @ r + 0.5 * lam * ((W1**2).sum() + (w2**2).sum()))

    def exact_weights(self) -> tuple[flint.fmpq_mat, list[flint.fmpq]]:
        """``W1`` and ``w2`` as exact rationals (a float is read as the binary number it holds)."""
        m, d = self.W1.shape
        return flint.fmpq_mat(m, d, [to_q(v) for v in self.W1.ravel()]), [to_q(v) for v in self.w2]

    def exact_forward(self, X: flint.fmpq_mat) -> flint.fmpq_mat:
        """Exact ``(X W1^T)_+ w2`` as an ``(n, 1)`` column.

        >>> net = TwoLayerNetwork(np.array([[1.0, -1.0]]), np.array([0.5]))
        >>> net.exact_forward(flint.fmpq_mat(2, 2, [3, 1, 0, 1])).entries()
        [1, 0]
        """
        W1, w2 = self.exact_weights()
        H = (X * W1.transpose()).tolist()
        vals = [sum((max(h, flint.fmpq(0)) * a for h, a in zip(row, w2)), flint.fmpq(0)) for row in H]
        return flint.fmpq_mat(len(vals), 1, vals)


def to_network(program: ConvexProgram, W: np.ndarray) -> TwoLayerNetwork:
    """Balanced network of a convex solution: one neuron per non-zero block."""
    norms = np.linalg.norm(W, axis=1)
    act = np.flatnonzero(norms > 0)
    root = np.sqrt(norms[act])
    return TwoLayerNetwork(W[act] / root[:, None], program.signs[act] * root)


def from_network(program: ConvexProgram, net: TwoLayerNetwork, *, tol: float = 1e-9) -> np.ndarray:
    """Convex weights ``(n_blocks, d)`` of a network (neurons with the same block are summed).

    Raises
    ------
    DataError
        If a neuron's activation pattern is not among the program's patterns (possible
        for sampled patterns) or the program is gated.
    """
    if program.gated:
        raise DataError("from_network maps to the ReLU program (gated=False)")
    X = program.data.Xf
    W = np.zeros((program.n_blocks, program.data.d))
    scale = float(np.abs(X).max())
    W1 = np.asarray(net.W1, dtype=float)
    w2 = np.asarray(net.w2, dtype=float)
    for j in range(net.width):
        u = W1[j] * abs(w2[j])
        if not u.any():
            continue
        z = X @ u
        slack = tol * scale * np.linalg.norm(u)
        if (z <= slack).all():  # a dead neuron (zero pattern): no contribution to the fit
            continue
        ok = np.all((np.where(program.patterns.masks, 1.0, -1.0) * z[None, :]) >= -slack, axis=1)
        cand = np.flatnonzero(ok)
        if cand.size == 0:
            raise DataError(f"neuron {j}: its activation pattern is not among the program's patterns")
        i = int(cand[0])
        W[i if w2[j] > 0 else i + program.p] += u
    return W
