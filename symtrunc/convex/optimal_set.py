"""The optimal set of the convex program: a polytope (Mishkin & Pilanci 2023, Cor. 4.1; reference §5).

With the unique dual solution ``r* = y − ŷ`` and ``v_b = Π_{C_b}(Z_b^T r*)``::

    W*(λ) = { w : w_b = α_b v_b,  α >= 0,  α_b = 0 unless ‖v_b‖ = λ,  Σ_b α_b Z_b v_b = ŷ }

so the optimal set is the image of ``P = {α >= 0 : M α = ŷ}`` with fit columns
``c_b = Z_b v_b`` (``b ∈ E_λ``, the equicorrelation set). Blocks with the same sign and the same
direction ``v_b`` (one neuron split across several chamber cones: the merge/split symmetry)
have identical columns and are merged into one *direction* before the dimension is measured.

* exact (:func:`exact_optimal_set`): from exactly optimal rational weights (certified gap 0);
  ``E``, the support ``S_λ`` (one exact LP per direction), ranks, vertices and the min-norm
  point are exact;
* float (:func:`float_optimal_set`): from a solver's solution with explicit tolerances.

Examples
--------
>>> from symtrunc.convex.planted import plant
>>> inst = plant([[1, 0, 1], [0, 1, 1], [1, 1, 1], [2, 3, 1], [-1, 2, 1]], [1, -1, 1, -1, 1])
>>> S = exact_optimal_set(inst.program, inst.weights)
>>> len(S.blocks), S.n_directions, S.dimension, S.unique, S.split_directions, S.unique_weights
(10, 2, 0, True, 2, False)
>>> S.penalty_sum_alpha == sum(inst.alphas.values())
True
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb
from typing import Any

import flint
import numpy as np

from symtrunc.convex.certificate import certify_weights
from symtrunc.convex.cones import project_float
from symtrunc.convex.planted import correlation_vectors
from symtrunc.convex.program import ConvexProgram, ConvexSolution
from symtrunc.errors import DataError, UncertifiedError
from symtrunc.exact.matrix import pinv
from symtrunc.exact.rational import q_to_sympy, to_q

__all__ = ["OptimalSet", "exact_optimal_set", "float_optimal_set"]

_VERTEX_LIMIT = 20000


@dataclass(frozen=True, eq=False)
class OptimalSet:
    """``W*(λ)`` as the polytope ``P = {α >= 0 : M α = ŷ}`` over the equicorrelation blocks.

    Attributes
    ----------
    program : ConvexProgram
    exact : bool
        Exact rational description (else float with tolerances).
    blocks : tuple of int
        ``E_λ`` (unmerged), the blocks with ``‖v_b‖ = λ``.
    directions : tuple of tuple of int
        The blocks of ``E_λ`` grouped by identical ``(sign, v_b)``.
    vectors : list
        ``v_b`` for each block of ``blocks`` (``fmpq_mat`` columns or float arrays).
    columns : flint.fmpq_mat or numpy.ndarray
        ``M``: one fit column ``c = Z_b v_b`` per *direction*, shape ``(n, k)``.
    fit : flint.fmpq_mat or numpy.ndarray
        The unique optimal fit ``ŷ``.
    support : tuple of int
        Directions in ``S_λ`` (used by some optimal solution).
    rank : int
        ``rank M_S``.
    residual : flint.fmpq_mat or numpy.ndarray
        The dual solution ``r* = y − ŷ``.
    """

    program: ConvexProgram
    exact: bool
    blocks: tuple[int, ...]
    directions: tuple[tuple[int, ...], ...]
    vectors: list[Any]
    columns: Any
    fit: Any
    support: tuple[int, ...]
    rank: int
    residual: Any

    @property
    def n_directions(self) -> int:
        """Number of distinct directions ``k``."""
        return len(self.directions)

    @property
    def dimension(self) -> int:
        """``dim P = |S| − rank M_S`` (after merging split neurons)."""
        return len(self.support) - self.rank

    @property
    def unique(self) -> bool:
        """Unique solution *up to merge/split of neurons* (``rank M_S = |S|``): the network is
        unique once the blocks of one direction (a neuron split across chambers) are merged."""
        return self.dimension == 0

    @property
    def split_directions(self) -> int:
        """Directions of the support carried by more than one block (each block of such a
        direction can take any share of its weight)."""
        return sum(1 for g in self.support if len(self.directions[g]) > 1)

    @property
    def unique_weights(self) -> bool:
        """The convex weights themselves are unique: :attr:`unique` and no split direction."""
        return self.unique and self.split_directions == 0

    @property
    def penalty_sum_alpha(self) -> Any:
        """``Σ α = ⟨r*, ŷ⟩ / λ²``, the same for every point of ``P``."""
        if self.exact:
            return (self.residual.transpose() * self.fit)[0, 0] / self.program.lam_sq
        return float(self.residual @ self.fit) / float(self.program.lam_sq)

    def weights(self, alpha: Any) -> Any:
        """Block weights ``(n_blocks, d)`` of a direction vector ``α`` (each direction's weight
        on its first block)."""
        d = self.program.data.d
        if self.exact:
            rows = [[flint.fmpq(0)] * d for _ in range(self.program.n_blocks)]
            for g, grp in enumerate(self.directions):
                b = grp[0]
                v = self.vectors[self.blocks.index(b)]
                rows[b] = [alpha[g] * v[k, 0] for k in range(d)]
            return flint.fmpq_mat(self.program.n_blocks, d, [x for r in rows for x in r])
        W = np.zeros((self.program.n_blocks, d))
        for g, grp in enumerate(self.directions):
            b = grp[0]
            W[b] = alpha[g] * self.vectors[self.blocks.index(b)]
        return W

    def contains_alpha(self, alpha: Any) -> bool:
        """Whether ``α >= 0`` and ``M α = ŷ`` (exactly, or to ``1e-9`` relative for floats)."""
        if self.exact:
            a = flint.fmpq_mat(self.n_directions, 1, list(alpha))
            return all(x >= 0 for x in alpha) and self.columns * a == self.fit
        a = np.asarray(alpha, dtype=float)
        scale = max(1.0, float(np.abs(self.fit).max()))
        return bool((a >= -1e-12).all() and np.abs(self.columns @ a - self.fit).max() <= 1e-9 * scale)

    def vertices(self) -> list[Any]:
        """All extreme points of ``P`` (the minimal solutions), by basis enumeration.

        Raises
        ------
        DataError
            When there are more than 20000 candidate bases.
        """
        S, r = list(self.support), self.rank
        if comb(len(S), r) > _VERTEX_LIMIT:
            raise DataError(f"too many candidate bases ({comb(len(S), r)}) to enumerate vertices")
        out, seen = [], set()
        for B in combinations(S, r):
            alpha = self._basic_solution(B)
            if alpha is None:
                continue
            key = tuple(alpha) if self.exact else tuple(np.round(alpha, 9))
            if key not in seen:
                seen.add(key)
                out.append(alpha)
        return out

    def _basic_solution(self, B: tuple[int, ...]) -> Any:
        k = self.n_directions
        if self.exact:
            MB = flint.fmpq_mat(
                self.columns.nrows(), len(B), [self.columns[i, g] for i in range(self.columns.nrows()) for g in B]
            )
            if MB.rank() < len(B):
                return None
            sol = pinv(MB) * self.fit
            if MB * sol != self.fit or any(x < 0 for x in sol.entries()):
                return None
            alpha = [flint.fmpq(0)] * k
            for g, x in zip(B, sol.entries()):
                alpha[g] = x
            return alpha
        MB = self.columns[:, list(B)]
        if np.linalg.matrix_rank(MB) < len(B):
            return None
        sol = np.linalg.lstsq(MB, self.fit, rcond=None)[0]
        if np.abs(MB @ sol - self.fit).max() > 1e-9 * max(1.0, np.abs(self.fit).max()) or (sol < -1e-12).any():
            return None
        alpha = np.zeros(k)
        alpha[list(B)] = np.maximum(sol, 0)
        return alpha

    def min_norm_alpha(self) -> Any:
        """``argmin ‖w‖`` over ``W*(λ)``, as per-*block* weights ``α`` over ``blocks``.

        ``‖w‖² = λ² Σ_b α_b²``, so this is the strictly convex QP ``min ‖α‖²`` over the
        unmerged polytope (a split direction shares its weight equally). Exact: the active set
        is guessed in floats and the KKT conditions are verified in rationals.
        """
        cols = [self.directions.index(next(g for g in self.directions if b in g)) for b in self.blocks]
        if self.exact:
            Mf = np.array([[float(self.columns[i, g]) for g in cols] for i in range(self.columns.nrows())])
            yf = np.array([float(v) for v in self.fit.entries()])
        else:
            Mf, yf = self.columns[:, cols], self.fit
        a = _min_norm_float(Mf, yf)
        if not self.exact:
            return a
        n = self.columns.nrows()
        for tol in (1e-7, 1e-9, 1e-5, 1e-11, 1e-3):
            T = [j for j in range(len(cols)) if a[j] > tol * max(1.0, a.max())]
            if not T:
                continue
            MT = flint.fmpq_mat(n, len(T), [self.columns[i, cols[j]] for i in range(n) for j in T])
            aT = pinv(MT) * self.fit
            if MT * aT != self.fit or any(x <= 0 for x in aT.entries()):
                continue
            nu = pinv(MT.transpose()) * aT
            if MT.transpose() * nu != aT:
                continue
            ok = all(
                sum((self.columns[i, cols[j]] * nu[i, 0] for i in range(n)), flint.fmpq(0)) <= 0
                for j in range(len(cols))
                if j not in T
            )
            if ok:
                alpha = [flint.fmpq(0)] * len(cols)
                for j, x in zip(T, aT.entries()):
                    alpha[j] = x
                return alpha
        raise UncertifiedError("could not verify the min-norm solution exactly")

    def min_norm_weights(self) -> Any:
        """The min-norm optimal weights ``w_b = α_b v_b`` ``(n_blocks, d)``."""
        alpha = self.min_norm_alpha()
        d = self.program.data.d
        if self.exact:
            rows = {b: [alpha[j] * self.vectors[j][k, 0] for k in range(d)] for j, b in enumerate(self.blocks)}
            return flint.fmpq_mat(
                self.program.n_blocks,
                d,
                [x for b in range(self.program.n_blocks) for x in rows.get(b, [flint.fmpq(0)] * d)],
            )
        W = np.zeros((self.program.n_blocks, d))
        for j, b in enumerate(self.blocks):
            W[b] = alpha[j] * self.vectors[j]
        return W


def _min_norm_float(M: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``argmin ‖α‖² s.t. M α = y, α >= 0`` by a semismooth Newton method on the dual
    ``min_ν ½‖(M^T ν)_+‖² − ⟨ν, y⟩`` (then ``α = (M^T ν)_+``), with backtracking."""

    def phi(nu):
        a = np.maximum(M.T @ nu, 0.0)
        return 0.5 * a @ a - nu @ y

    nu = np.zeros(M.shape[0])
    scale = max(1.0, float(np.abs(y).max()))
    for _ in range(200):
        z = M.T @ nu
        g = M @ np.maximum(z, 0.0) - y
        if np.abs(g).max() <= 1e-14 * scale:
            break
        T = z >= 0
        step = -np.linalg.pinv(M[:, T] @ M[:, T].T) @ g
        t, f0, slope = 1.0, phi(nu), float(g @ step)
        while phi(nu + t * step) > f0 + 1e-4 * t * slope and t > 1e-12:
            t *= 0.5
        nu = nu + t * step
    return np.maximum(M.T @ nu, 0.0)


def _group(keys: list[Any]) -> tuple[tuple[int, ...], ...]:
    groups: dict[Any, list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault(k, []).append(i)
    return tuple(tuple(g) for g in groups.values())


def exact_optimal_set(program: ConvexProgram, W: flint.fmpq_mat) -> OptimalSet:
    """The exact optimal set from exactly optimal rational weights.

    Raises
    ------
    UncertifiedError
        If ``W`` is not certified optimal with gap exactly 0, or a projection is not exact.
    """

    cert = certify_weights(program, W)
    if cert.gap_bound != 0:
        raise UncertifiedError(
            "the exact optimal set needs exactly optimal weights (certified gap 0); "
            f"this gap bound is {float(cert.gap_bound):.3g}: use float_optimal_set"
        )
    r = cert.dual.residual
    vs = correlation_vectors(program, r)
    E = tuple(b for b, v in enumerate(vs) if (v.transpose() * v)[0, 0] == program.lam_sq)
    dirs_local = _group([(program.block(b)[1], tuple(vs[b].entries())) for b in E])
    directions = tuple(tuple(E[i] for i in g) for g in dirs_local)
    n = program.data.n
    X = program.data.X
    cols = []
    for grp in directions:
        b = grp[0]
        Xv = (X * vs[b]).entries()
        s = program.block(b)[1]
        m = program.block_masks[b]
        cols.append([s * Xv[i] if m[i] else flint.fmpq(0) for i in range(n)])
    M = flint.fmpq_mat(n, len(cols), [cols[g][i] for i in range(n) for g in range(len(cols))])
    yhat = program.data.y - r
    support = tuple(g for g in range(len(cols)) if _exact_max_coordinate(M, yhat, g) > 0)
    MS = (
        flint.fmpq_mat(n, len(support), [M[i, g] for i in range(n) for g in support])
        if support
        else flint.fmpq_mat(n, 0)
    )
    rank = MS.rank() if support else 0
    return OptimalSet(program, True, E, directions, [vs[b] for b in E], M, yhat, support, rank, r)


def _exact_max_coordinate(M: flint.fmpq_mat, y: flint.fmpq_mat, g: int) -> flint.fmpq:
    """``max {α_g : M α = y, α >= 0}`` by sympy's exact simplex."""
    import sympy
    from sympy.solvers.simplex import linprog

    n, k = M.nrows(), M.ncols()
    A = sympy.Matrix(n, k, lambda i, j: q_to_sympy(M[i, j]))
    b = sympy.Matrix([q_to_sympy(v) for v in y.entries()])
    c = sympy.Matrix([[-1 if j == g else 0 for j in range(k)]])
    # (sympy 1.14 needs an inequality block when A_eq is given: add the trivial 0 <= 0)
    val, _ = linprog(c, A=sympy.zeros(1, k), b=sympy.Matrix([0]), A_eq=A, b_eq=b)
    return to_q(-val)


def float_optimal_set(solution: ConvexSolution, *, tol: float = 1e-5) -> OptimalSet:
    """The optimal set from a float solution: ``E = {‖v_b‖ >= λ(1 − tol)}``, directions merged
    when ``‖v_a − v_b‖ <= tol λ``, supports by HiGHS LPs on ``|M α − ŷ| <= tol``, ranks by SVD
    (relative ``tol``)."""
    from scipy.optimize import linprog

    program = solution.program
    r = program.data.yf - solution.fit
    S = program.correlations(r)
    vs = (
        S
        if program.gated
        else np.vstack([project_float(program.cone_matrix(b), S[b])[0] for b in range(program.n_blocks)])
    )
    lam = program.lam
    E = tuple(int(b) for b in np.flatnonzero(np.linalg.norm(vs, axis=1) >= lam * (1 - tol)))
    keys: list[Any] = []
    reps: list[tuple[int, np.ndarray]] = []
    for b in E:
        s = program.block(b)[1]
        for idx, (s2, v2) in enumerate(reps):
            if s2 == s and np.linalg.norm(vs[b] - v2) <= tol * lam:
                keys.append(idx)
                break
        else:
            reps.append((s, vs[b]))
            keys.append(len(reps) - 1)
    directions = tuple(tuple(E[i] for i in g) for g in _group(keys))
    X = program.data.Xf
    M = (
        np.column_stack([program.signs[g[0]] * program.block_masks[g[0]] * (X @ vs[g[0]]) for g in directions])
        if directions
        else np.zeros((program.data.n, 0))
    )
    yhat = solution.fit
    eps = tol * max(1.0, float(np.abs(yhat).max()))  # M α = ŷ up to ±eps (the float data are inexact)
    A_ub = np.vstack([M, -M])
    b_ub = np.concatenate([yhat + eps, eps - yhat])
    support = []
    for g in range(M.shape[1]):
        c = np.zeros(M.shape[1])
        c[g] = -1.0
        res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        if res.status == 0 and -res.fun > tol:
            support.append(g)
    MS = M[:, support]
    rank = int(np.linalg.matrix_rank(MS, tol=tol * max(1.0, np.abs(MS).max()))) if support else 0
    return OptimalSet(program, False, E, directions, [vs[b] for b in E], M, yhat, tuple(support), rank, r)
