"""Minimal networks, proved exactly: prune a solver's solution to independent activations.

Mishkin & Pilanci (Prop. 3.6, reference §9): an optimal two-layer ReLU network is *minimal* (no
optimal network uses a strict subset of its neurons) iff its activation columns ``(X W1_j)_+``
are linearly independent, and Algorithm 1 reaches such a network from any optimal one. A float
solver's solution carries noise of the order of its tolerance, and a float rank test with a
tight tolerance takes that noise for independence (7 neurons in 4 distinct directions, columns
of numerical rank 4, "pruned" to 7). :func:`prune_minimal` decides the structure exactly:

1. the solver's weights are certified (:func:`~symtrunc.convex.certificate.certify_weights`),
   which gives an exact rational residual ``r``;
2. each active block's direction becomes its exact correlation vector ``v_b = Π_{C_b}(Z_b^T r)``
   (exact cone projection), so the blocks of one neuron split across several chambers get the
   *same* rational vector: "same sign, positively parallel" is decided exactly, and they merge;
3. Algorithm 1 removes dependent neurons, guided by the float singular values of the merged
   columns (relative tolerance ``tol``) and then by exact null vectors (``fmpq_mat.rref``);
4. the remaining neurons get the weights ``α_g v_g`` with ``α`` the exact minimizer of the
   objective over these neurons' scales (a linear system; ``λ‖v_g‖`` rounded to ``2^-96``).

The result is proved, not estimated: the activation matrix of the pruned network has exact rank
equal to its number of neurons (:class:`MinimalityCertificate`, re-checkable), and its objective
is certified by exact duality, with a certified bound on how much it exceeds the solver's. The
floats of step 3 only choose *which* neurons to keep. (Prop. 3.6 speaks of optimal networks; the
pruned one is optimal up to its certified gap, and the result says exactly that: independent
activations, proved exactly, and the gap, certified.)

Examples
--------
>>> from symtrunc.convex.planted import plant
>>> inst = plant([[1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1], [0, -1], [1, -1]], [1] * 8)
>>> res = prune_minimal(inst.program, inst.weights)
>>> res.neurons_before, res.neurons, res.minimality.rank         # optimal set of dimension 3
(8, 5, 5)
>>> res.certificate.gap_bound == 0, res.objective_not_increased    # exactly optimal, as before
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import flint
import numpy as np

from symtrunc.convex.certificate import OptimalityCertificate, certificate_scope, certify_weights, primal_bounds
from symtrunc.convex.cones import project_exact
from symtrunc.convex.mapping import TwoLayerNetwork
from symtrunc.convex.program import ConvexProgram
from symtrunc.convex.radicals import sqrt_bounds
from symtrunc.errors import VerificationError
from symtrunc.exact.matrix import to_float
from symtrunc.exact.rational import to_q

__all__ = [
    "MinimalityCertificate",
    "MinimalPruning",
    "activation_matrix",
    "minimality_certificate",
    "network_activation_rank",
    "prune_minimal",
]

_EQUICORRELATION_TOL = 1e-5  # a block whose ‖v_b‖ is below λ(1 − this) is in no optimal solution (float guide)


def activation_matrix(program: ConvexProgram, W: flint.fmpq_mat, blocks: tuple[int, ...]) -> flint.fmpq_mat:
    """The ``(n, k)`` activation columns of the neurons of ``blocks``, exactly: ``(X w_b)_+`` for
    a ReLU program, ``D_b X w_b`` (fixed gate) for a gated one. The neuron of block ``b`` has
    first-layer weights ``w_b / √‖w_b‖``, a positive multiple of ``w_b``, so its activation
    column is a positive multiple of this one.

    >>> from symtrunc.convex.regression import RegressionData
    >>> prog = ConvexProgram.create(RegressionData.from_arrays([[1, 0], [0, 1], [1, 1]], [1, 1, 1]), 1)
    >>> W = flint.fmpq_mat(prog.n_blocks, 2); W[0, 1] = 2; W[1, 0] = -1
    >>> activation_matrix(prog, W, (0, 1)).tolist()
    [[0, 0], [2, 0], [2, 0]]
    """
    n = program.data.n
    H = (program.data.X * W.transpose()).tolist()  # (n, n_blocks): x_j^T w_b
    zero = flint.fmpq(0)
    if program.gated:
        m = program.block_masks
        return flint.fmpq_mat(n, len(blocks), [H[j][b] if m[b, j] else zero for j in range(n) for b in blocks])
    return flint.fmpq_mat(n, len(blocks), [max(H[j][b], zero) for j in range(n) for b in blocks])


def network_activation_rank(net: TwoLayerNetwork, X: flint.fmpq_mat) -> int:
    """Exact rank of the activation columns ``(X W1_j)_+`` of a network's neurons with
    ``w2_j ≠ 0`` (floats are read as the binary numbers they hold).

    >>> net = TwoLayerNetwork(np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]]), np.array([1.0, -1.0, 0.5]))
    >>> network_activation_rank(net, flint.fmpq_mat(3, 2, [1, 0, 0, 1, 1, 1]))  # neurons 0, 1 parallel
    2
    """
    W1, w2 = net.exact_weights()
    live = [j for j in range(W1.nrows()) if w2[j] != 0]
    H = (X * W1.transpose()).tolist()
    zero = flint.fmpq(0)
    A = flint.fmpq_mat(X.nrows(), len(live), [max(H[i][j], zero) for i in range(X.nrows()) for j in live])
    return A.rank() if live else 0


def _active(W: flint.fmpq_mat) -> tuple[int, ...]:
    return tuple(b for b in range(W.nrows()) if any(W[b, k] != 0 for k in range(W.ncols())))


def _null_vector(A: flint.fmpq_mat) -> list[flint.fmpq] | None:
    """A non-zero exact ``β`` with ``A β = 0`` (from the RREF), or ``None`` for independent columns."""
    R, rank = A.rref()
    k = A.ncols()
    pivots = [next(j for j in range(k) if R[i, j] != 0) for i in range(rank)]
    free = [j for j in range(k) if j not in pivots]
    if not free:
        return None
    beta = [flint.fmpq(0)] * k
    beta[free[0]] = flint.fmpq(1)
    for i, pj in enumerate(pivots):
        beta[pj] = -R[i, free[0]] / R[i, pj]
    return beta


@dataclass(frozen=True, eq=False)
class MinimalityCertificate:
    """Exact proof that the neurons of some weights have linearly independent activations.

    Attributes
    ----------
    blocks : tuple of int
        The active blocks, one neuron each.
    activations : flint.fmpq_mat
        Their ``(n, k)`` activation columns (:func:`activation_matrix`).
    rank : int
        The exact rank of ``activations`` over ``Q``.
    """

    blocks: tuple[int, ...]
    activations: flint.fmpq_mat
    rank: int

    @property
    def neurons(self) -> int:
        """Number of neurons ``k``."""
        return len(self.blocks)

    @property
    def independent(self) -> bool:
        """``rank == k``: no neuron's activation is a combination of the others'."""
        return self.rank == self.neurons

    def statement(self) -> str:
        """One line saying exactly what the rank proves."""
        if not self.independent:
            return (
                f"NOT minimal: the {self.neurons} activation columns have exact rank {self.rank} "
                f"< {self.neurons}, so Algorithm 1 can remove a neuron"
            )
        return (
            f"minimal in the sense of Mishkin & Pilanci Prop. 3.6: the {self.neurons} activation columns "
            f"(X W1_j)_+ are linearly independent (exact rank {self.rank} over Q), so no neuron can be "
            "removed while keeping the fit"
        )

    def check(self, program: ConvexProgram, W: flint.fmpq_mat) -> None:
        """Recompute everything from ``W`` exactly and require linear independence.

        Raises
        ------
        VerificationError
            If the blocks, the columns or the rank differ from the stated ones, or the columns
            are dependent; the counterexample is an exact null vector ``β`` (by block) with
            ``Σ_b β_b (X w_b)_+ = 0``.
        """
        if not isinstance(W, flint.fmpq_mat) or (W.nrows(), W.ncols()) != (program.n_blocks, program.data.d):
            raise VerificationError(f"weights must be an exact ({program.n_blocks}, {program.data.d}) matrix")
        blocks = _active(W)
        if blocks != self.blocks:
            raise VerificationError(
                f"the active blocks are {list(blocks)}, not the stated {list(self.blocks)}", {"blocks": blocks}
            )
        A = activation_matrix(program, W, blocks)
        if A != self.activations:
            raise VerificationError("the stated activation columns differ from the recomputed ones")
        rank = A.rank() if blocks else 0
        if rank != self.rank:
            raise VerificationError(f"stated rank {self.rank} differs from the exact rank {rank}", {"rank": rank})
        beta = _null_vector(A) if blocks else None
        if beta is not None:
            null = {b: x for b, x in zip(blocks, beta) if x != 0}
            raise VerificationError(
                f"not minimal: the {len(blocks)} activation columns have exact rank {rank}; "
                f"Σ β_b (X w_b)_+ = 0 for β = {{{', '.join(f'{b}: {x}' for b, x in null.items())}}}",
                {"null_vector": null, "rank": rank},
            )


def minimality_certificate(program: ConvexProgram, W: flint.fmpq_mat) -> MinimalityCertificate:
    """The activation columns of the active blocks of exact weights ``W`` and their exact rank
    (whether or not they are independent: see :attr:`MinimalityCertificate.independent`)."""
    blocks = _active(W)
    A = activation_matrix(program, W, blocks)
    return MinimalityCertificate(blocks, A, A.rank() if blocks else 0)


@dataclass(frozen=True, eq=False)
class MinimalPruning:
    """Result of :func:`prune_minimal`.

    Attributes
    ----------
    weights : flint.fmpq_mat
        Exact pruned block weights ``(n_blocks, d)``, one neuron per non-zero row.
    minimality : MinimalityCertificate
        Their activation columns and exact rank (``rank == neurons``).
    certificate : OptimalityCertificate
        Duality certificate of ``weights``.
    before : OptimalityCertificate
        Duality certificate of the solver's weights (read exactly, repaired into the cones).
    neurons_before : int
        Active blocks of the solver's weights.
    directions : int
        Distinct exact ``(sign, direction)`` classes among them, after replacing each direction
        by its exact correlation vector (blocks of one split neuron share one class).
    removed : int
        Neurons removed by Algorithm 1 after merging (``directions − neurons``, counting also
        neurons whose least-squares weight came out ``<= 0``).
    objective_before, objective_after : tuple of flint.fmpq
        Exact rational bounds ``(lo, hi)`` of the objective of the solver's and the pruned weights.
    """

    weights: flint.fmpq_mat
    minimality: MinimalityCertificate
    certificate: OptimalityCertificate
    before: OptimalityCertificate
    neurons_before: int
    directions: int
    removed: int
    objective_before: tuple[flint.fmpq, flint.fmpq]
    objective_after: tuple[flint.fmpq, flint.fmpq]

    @property
    def neurons(self) -> int:
        """Number of neurons after pruning."""
        return self.minimality.neurons

    @property
    def lower_bound(self) -> flint.fmpq:
        """The better of the two dual values: a lower bound on the optimal value."""
        return max(self.before.dual.value, self.certificate.dual.value)

    @property
    def gap_bound(self) -> flint.fmpq:
        """``P_after − lower_bound >= P_after − p*``: the pruned objective is within this of the optimum."""
        return self.objective_after[1] - self.lower_bound

    @property
    def increase_bound(self) -> flint.fmpq:
        """Certified bound on ``P_after − P_before`` (``P_before >= p* >= lower_bound``); it equals
        :attr:`gap_bound`, and a negative value would prove a decrease."""
        return self.gap_bound

    @property
    def objective_not_increased(self) -> bool | None:
        """``True``: ``P_after <= P_before`` proved exactly; ``False``: ``P_after > P_before``
        proved (by at most :attr:`increase_bound`); ``None``: the two agree to ``2^-96``, the
        rounding of the square roots."""
        if self.objective_after[1] <= self.objective_before[0]:
            return True
        if self.objective_after[0] > self.objective_before[1]:
            return False
        return None

    def check(self, program: ConvexProgram) -> None:
        """Exact re-verification of both certificates, the objective bounds and the minimality.

        Raises
        ------
        VerificationError
            Naming the failing part.
        """
        self.before.check(program)
        self.certificate.check(program)
        if self.certificate.weights != self.weights or self.before.weights is None:
            raise VerificationError("the optimality certificates are not about the weights before and after pruning")
        for name, W, stated in (
            ("before", self.before.weights, self.objective_before),
            ("after", self.weights, self.objective_after),
        ):
            if primal_bounds(program, W) != stated:
                raise VerificationError(f"stated objective bounds {name} pruning differ from the recomputed ones")
        self.minimality.check(program, self.weights)

    def certified(self, rel_tol: float = 1e-6) -> bool:
        """``gap_bound <= rel_tol · max(1, P_after)`` (exact comparison)."""
        return self.gap_bound <= to_q(rel_tol) * max(flint.fmpq(1), abs(self.objective_after[1]))

    def statement(self, rel_tol: float = 1e-6) -> str:
        """What was proved, in one paragraph."""
        scope = certificate_scope(self.certificate.global_, self.certificate.dual.gated)
        change = {
            True: "not increased (proved exactly)",
            False: f"increased, by at most {float(self.increase_bound):.3e} (certified)",
            None: f"unchanged to 2^-96 (certified change <= {float(self.increase_bound):.3e})",
        }
        if self.gap_bound == 0:
            optimal = f"exactly optimal over {scope} (certified gap 0)"
        else:
            optimal = (
                f"{'certified optimal' if self.certified(rel_tol) else 'NOT certified'}: objective within "
                f"{float(self.gap_bound):.3e} of the optimum over {scope}"
            )
        return (
            f"{self.neurons_before} active neurons in {self.directions} distinct directions -> "
            f"{self.neurons} neurons; {self.minimality.statement()}; objective "
            f"{change[self.objective_not_increased]}; {optimal}"
        )


def _direction(program: ConvexProgram, b: int, S: list[flint.fmpq_mat], w: flint.fmpq_mat) -> flint.fmpq_mat:
    """The exact correlation vector ``Π_{C_b}(Z_b^T r)``, or the block's own exact weight ``w``
    (a ``(d, 1)`` column in the cone) when the projection cannot be verified exactly."""
    if program.gated:
        v = S[b]
    else:
        proj = project_exact(program.cone_matrix_exact(b), S[b], Af=program.cone_matrix(b))
        v = proj.point if proj.exact else w
    return v if any(x != 0 for x in v.entries()) else w


def _ray(sign: int, v: flint.fmpq_mat) -> tuple[Any, ...]:
    """An exact key of the open ray of ``v`` (``v`` scaled so its first non-zero entry is ``±1``)."""
    e = v.entries()
    k = next(x for x in e if x != 0)
    a = abs(k)
    return (sign,) + tuple(x / a for x in e)


def _step(alpha: np.ndarray, T: list[int], beta: list[float], vnorm: list[float]) -> None:
    """One step of Algorithm 1 on ``α`` (in place) along ``Σ_{g ∈ T} β_g c_g ≈ 0``: the sign of
    ``β`` is chosen so the penalty ``Σ α_g ‖v_g‖`` does not grow, then ``α ← α − tβ`` with the
    largest ``t`` keeping ``α >= 0``; the block reaching 0 is set to exactly 0."""
    b = np.array(beta, dtype=float)
    if float(b @ np.array([vnorm[g] for g in T])) < 0 or not (b > 0).any():
        b = -b
    pos = np.flatnonzero(b > 0)
    ratios = alpha[T][pos] / b[pos]
    j = int(pos[np.argmin(ratios)])
    alpha[T] = np.maximum(alpha[T] - ratios.min() * b, 0.0)
    alpha[T[j]] = 0.0


def _float_guide(C: np.ndarray, alpha: np.ndarray, vnorm: list[float], tol: float) -> None:
    """Algorithm 1 in floats (in place on ``α``) while the normalized fits ``α_g c_g`` have a
    singular value below ``tol`` times the largest."""
    while True:
        T = [int(g) for g in np.flatnonzero(alpha > 0)]
        if not T:
            return
        F = C[:, T] * alpha[T]
        norms = np.linalg.norm(F, axis=0)
        _, s, Vt = np.linalg.svd(F / norms, full_matrices=True)
        if len(T) <= F.shape[0] and s[-1] > tol * s[0]:
            return
        _step(alpha, T, list(Vt[-1] / norms * alpha[T]), vnorm)  # Σ_g β_g c_g ≈ 0 in α units


def prune_minimal(program: ConvexProgram, W: Any, *, tol: float = 1e-6) -> MinimalPruning:
    """Prune a (float or exact) solution to a network with exactly independent activations.

    Parameters
    ----------
    program : ConvexProgram
    W : numpy.ndarray or flint.fmpq_mat
        Block weights ``(n_blocks, d)``, e.g. a solver's solution.
    tol : float
        Float guide only: normalized activation columns with a singular value below ``tol``
        times the largest are pruned by Algorithm 1 (solver noise is far below it, genuine
        independence far above). What is *claimed* is exact either way.

    Returns
    -------
    MinimalPruning
        With :attr:`MinimalPruning.minimality` independent (``rank == neurons``).
    """
    before = certify_weights(program, W)
    W0 = before.weights
    if W0 is None:  # certify_weights always certifies its (repaired, exact) weights
        raise VerificationError("internal: the certificate of the weights to prune has no weights")
    r = before.dual.residual
    blocks = _active(W0)
    d = program.data.d
    S = program.exact_correlations(r)
    groups: dict[tuple[Any, ...], list[int]] = {}
    vecs: dict[tuple[Any, ...], flint.fmpq_mat] = {}
    for b in blocks:
        w = flint.fmpq_mat(d, 1, [W0[b, k] for k in range(d)])
        v = _direction(program, b, S, w)
        key = _ray(program.block(b)[1], v)
        groups.setdefault(key, []).append(b)
        vecs.setdefault(key, v)
    keys = list(groups)
    n = program.data.n
    X = program.data.X
    cols = []  # exact column c_g = Z_b v_g = sign · (activation of v_g), the same for every block of g
    for key in keys:
        b = groups[key][0]
        Xv = (X * vecs[key]).entries()
        s, m = program.block(b)[1], program.block_masks[b]
        cols.append([s * Xv[j] if m[j] else flint.fmpq(0) for j in range(n)])
    W0f = to_float(W0)
    vnorm = [float(np.sqrt(float((vecs[k].transpose() * vecs[k])[0, 0]))) for k in keys]
    alpha = np.array([sum(float(np.linalg.norm(W0f[b])) for b in groups[k]) / vn for k, vn in zip(keys, vnorm)])
    alpha[np.array(vnorm) < program.lam * (1 - _EQUICORRELATION_TOL)] = 0.0  # in no optimal solution
    if keys:
        _float_guide(np.array([[float(c[j]) for c in cols] for j in range(n)]), alpha, vnorm, tol)
    T = [g for g in range(len(keys)) if alpha[g] > 0]
    # λ‖v_g‖ to 2^-96 (the gradient of the penalty λ Σ α_g ‖v_g‖ in α)
    pen = [sqrt_bounds(program.lam_sq * (vecs[k].transpose() * vecs[k])[0, 0])[1] for k in keys]
    a: list[flint.fmpq] = []
    while T:
        M = flint.fmpq_mat(n, len(T), [cols[g][j] for j in range(n) for g in T])
        beta = _null_vector(M)
        if beta is not None:  # exact dependence left: one more step of Algorithm 1
            _step(alpha, T, [float(x) for x in beta], vnorm)
            T = [g for g in T if alpha[g] > 0]
            continue
        # the weights minimizing ½‖M α − y‖² + λ Σ α_g ‖v_g‖ on these neurons (M^T M is invertible)
        Mt = M.transpose()
        a = ((Mt * M).inv() * (Mt * program.data.y - flint.fmpq_mat(len(T), 1, [pen[g] for g in T]))).entries()
        if all(x > 0 for x in a):
            break
        del T[a.index(min(a))]  # a neuron with weight <= 0: drop it and refit
        a = []
    rows = [[flint.fmpq(0)] * d for _ in range(program.n_blocks)]
    for g, x in zip(T, a):
        key = keys[g]
        rows[groups[key][0]] = [x * vecs[key][k, 0] for k in range(d)]
    Wp = flint.fmpq_mat(program.n_blocks, d, [x for row in rows for x in row])
    cert = certify_weights(program, Wp)
    if cert.weights != Wp:  # v_g lies in the cone of its block, so no repair may happen
        raise VerificationError("internal: a pruned neuron left its cone")
    return MinimalPruning(
        Wp,
        minimality_certificate(program, Wp),
        cert,
        before,
        len(blocks),
        len(keys),
        len(keys) - len(T),
        primal_bounds(program, W0),
        primal_bounds(program, Wp),
    )
