"""Rigorous optimality certificates by convex duality, in exact rational arithmetic.

For squared loss the dual of the convex program (reference §4) is::

    max_r  ⟨r, y⟩ − ½‖r‖²    s.t.  ‖Π_{C_b}(Z_b^T r)‖ <= λ   for every block b,

and for every ``r`` that is dual feasible over **all** open-chamber patterns,
``D(r) <= ½‖f(X) − y‖² + λ Σ_j |w2_j| ‖W1_j‖`` for *every* two-layer ReLU network of any
width (each ``W1_j`` lies in the closure of a chamber cone, where ``(X W1_j)_+ = D X W1_j``).
So a primal value ``P`` and a dual-feasible ``r`` prove ``P − p* <= P − D(r)``.

The certificate is built from a float candidate and then *everything is rational*:

1. the primal weights are read exactly and repaired into the cones (``w_b + δ g_b`` with the
   chamber witness ``g_b``), the fit and ``½‖ŷ − y‖²`` are exact and the norms
   ``λ‖w_b‖ = √(λ²‖w_b‖²)`` are rounded *up* (:func:`~symtrunc.convex.radicals.sqrt_bounds`);
2. ``r = y − ŷ``; for each block, rational multipliers ``μ_b >= 0`` give the exact bound
   ``‖Π_{C_b}(Z_b^T r)‖² <= ‖Z_b^T r + A_b^T μ_b‖² =: B_b`` (Moreau);
3. ``θ`` is a rational with ``θ² max_b B_b <= λ²`` so ``θ r`` is dual feasible, and
   ``D(θ r) = θ⟨r, y⟩ − θ²‖r‖²/2`` is exact.

:meth:`OptimalityCertificate.check` re-verifies every inequality from the stored data and
raises :class:`~symtrunc.errors.VerificationError` with the failing block or value.

Examples
--------
>>> from symtrunc.convex.regression import RegressionData
>>> from symtrunc.convex.program import ConvexProgram
>>> from symtrunc.convex.solvers import solve_conic
>>> data = RegressionData.from_arrays([[1, 0], [0, 1], [1, 1], [2, -1]], [1, 2, 2, 0])
>>> prog = ConvexProgram.create(data, "0.5")
>>> cert = certify(solve_conic(prog))
>>> cert.check(prog); cert.certified(1e-6), cert.global_
(True, True)
>>> cert0 = certify_weights(prog, np.zeros((prog.n_blocks, 2)))     # w = 0 is far from optimal
>>> cert0.certified(1e-6), float(cert0.gap_bound) > 1
(False, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import flint
import numpy as np

from symtrunc.convex.cones import project_exact, project_float, rationalize_multipliers
from symtrunc.convex.mapping import TwoLayerNetwork
from symtrunc.convex.program import ConvexProgram, ConvexSolution
from symtrunc.convex.radicals import sqrt_bounds, sqrt_lower
from symtrunc.errors import VerificationError
from symtrunc.exact.matrix import to_float
from symtrunc.exact.rational import to_q

__all__ = [
    "DualCertificate",
    "OptimalityCertificate",
    "certify",
    "certify_weights",
    "certify_network",
    "certificate_scope",
    "dual_certificate",
    "exact_weights",
    "primal_bounds",
    "repair_weights",
]


@dataclass(frozen=True, eq=False)
class DualCertificate:
    """A dual-feasible point ``θ r`` with its exact value.

    Attributes
    ----------
    residual : flint.fmpq_mat
        ``r`` as an ``(n, 1)`` column.
    theta : flint.fmpq
        Scale ``θ >= 0``; the dual point is ``θ r``.
    multipliers : tuple of dict
        Per block, the non-zero cone multipliers ``μ_b >= 0`` (empty for gated programs).
    bound_sq : flint.fmpq
        ``max_b ‖Z_b^T r + A_b^T μ_b‖²`` (exact).
    value : flint.fmpq
        ``D(θ r) = θ ⟨r, y⟩ − θ² ‖r‖² / 2``, a lower bound on the optimal value.
    complete : bool
        A ReLU program with all open-chamber patterns, so the bound holds for every two-layer
        ReLU network (not only for the sub-sampled or gated program).
    gated : bool
        The bound is for the gated-ReLU program.
    """

    residual: flint.fmpq_mat
    theta: flint.fmpq
    multipliers: tuple[dict[int, flint.fmpq], ...]
    bound_sq: flint.fmpq
    value: flint.fmpq
    complete: bool
    gated: bool = False

    def check(self, program: ConvexProgram) -> None:
        """Exact re-verification; raises :class:`VerificationError` naming the failure."""
        if (
            not isinstance(self.residual, flint.fmpq_mat)
            or len(self.multipliers) != program.n_blocks
            or (self.residual.nrows(), self.residual.ncols()) != (program.data.n, 1)
        ):
            raise VerificationError("dual certificate does not match the program's size (or r is not exact)")
        _require_rational(theta=self.theta, bound_sq=self.bound_sq, value=self.value)
        if self.theta < 0:
            raise VerificationError(f"dual scale θ = {self.theta} is negative", {"theta": self.theta})
        S = program.exact_correlations(self.residual)
        worst = flint.fmpq(0)
        for b in range(program.n_blocks):
            mu = self.multipliers[b]
            if any(not isinstance(j, int) or not 0 <= j < program.data.n for j in mu):
                raise VerificationError(f"block {b}: a cone multiplier names no data row", {"block": b})
            _require_rational(**{f"multiplier {j} of block {b}": m for j, m in mu.items()})
            if any(m < 0 for m in mu.values()):
                raise VerificationError(f"block {b}: a cone multiplier is negative", {"block": b})
            if program.gated and mu:
                raise VerificationError(f"block {b}: a gated program has no cone multipliers", {"block": b})
            worst = max(worst, program.cone_bound_sq(b, S[b], mu))
        if worst != self.bound_sq:
            raise VerificationError(
                f"stated bound {self.bound_sq} differs from the recomputed {worst}", {"bound_sq": worst}
            )
        if self.theta * self.theta * self.bound_sq > program.lam_sq:
            raise VerificationError(
                "dual point θ r is not feasible: θ² max_b B_b > λ²",
                {"theta": self.theta, "bound_sq": self.bound_sq, "lam_sq": program.lam_sq},
            )
        if self.value != _dual_value(program, self.residual, self.theta):
            raise VerificationError("stated dual value differs from θ⟨r, y⟩ − θ²‖r‖²/2", {"value": self.value})
        if self.gated != program.gated:
            raise VerificationError("certificate and program disagree on gated vs ReLU")
        if self.complete:
            if program.gated or not program.patterns.complete:
                raise VerificationError("certificate claims a global bound but the program is gated or sub-sampled")
            program.patterns.verify_complete(program.data)  # every chamber is among the blocks checked above


def _require_rational(**values) -> None:
    """Every number of the chain must be an exact rational (a float would make the check vacuous)."""
    for name, v in values.items():
        if not isinstance(v, (flint.fmpq, flint.fmpz, int)) or isinstance(v, bool):
            raise VerificationError(f"{name} is not an exact rational: {v!r}", {name: v})


@dataclass(frozen=True, eq=False)
class OptimalityCertificate:
    """Primal upper bound, dual lower bound and the certified gap ``P − D >= P − p*``.

    Attributes
    ----------
    primal_upper : flint.fmpq
        Rational upper bound on the primal value of ``weights`` (or ``network``).
    dual : DualCertificate
    weights : flint.fmpq_mat or None
        Exact, cone-feasible block weights ``(n_blocks, d)`` the primal value refers to.
    network : TwoLayerNetwork or None
        Or the network whose non-convex objective it refers to.
    """

    primal_upper: flint.fmpq
    dual: DualCertificate
    weights: flint.fmpq_mat | None = None
    network: TwoLayerNetwork | None = None

    @property
    def gap_bound(self) -> flint.fmpq:
        """``P_upper − D``: the objective is at most this above the optimum."""
        return self.primal_upper - self.dual.value

    @property
    def global_(self) -> bool:
        """Whether the dual bound covers every two-layer ReLU network (complete patterns)."""
        return self.dual.complete

    def certified(self, rel_tol: float = 1e-6) -> bool:
        """``gap_bound <= rel_tol · max(1, P_upper)`` (exact comparison)."""
        tol = to_q(rel_tol) * max(flint.fmpq(1), abs(self.primal_upper))
        return self.gap_bound <= tol

    def require(self, program: ConvexProgram, rel_tol: float = 1e-6) -> OptimalityCertificate:
        """Check the certificate and that it proves optimality within ``rel_tol``.

        Raises
        ------
        VerificationError
            With the certified gap as counterexample when the gap is too large.
        """
        self.check(program)
        if not self.certified(rel_tol):
            raise VerificationError(
                f"not certified optimal: duality gap bound {float(self.gap_bound):.3g} > "
                f"{rel_tol:g} · max(1, objective)",
                {"gap_bound": self.gap_bound},
            )
        return self

    def check(self, program: ConvexProgram) -> None:
        """Exact re-verification of the primal value and the dual certificate."""
        self.dual.check(program)
        _require_rational(primal_upper=self.primal_upper)
        if self.weights is not None:
            if not isinstance(self.weights, flint.fmpq_mat) or (self.weights.nrows(), self.weights.ncols()) != (
                program.n_blocks,
                program.data.d,
            ):
                raise VerificationError(f"weights must be an exact ({program.n_blocks}, {program.data.d}) matrix")
            value = _primal_upper_weights(program, self.weights)
        elif self.network is not None:
            value = _primal_upper_network(program, self.network)
        else:
            raise VerificationError("certificate has no primal point")
        if value != self.primal_upper:
            raise VerificationError(
                f"stated primal bound {self.primal_upper} differs from the recomputed {value}", {"primal_upper": value}
            )

    def statement(self, rel_tol: float = 1e-6) -> str:
        """One-line human-readable conclusion."""
        scope = certificate_scope(self.global_, self.dual.gated)
        if self.gap_bound == 0:
            return f"exactly optimal over {scope} (certified gap 0)"
        verdict = "certified optimal" if self.certified(rel_tol) else "NOT certified"
        return f"{verdict}: objective within {float(self.gap_bound):.3e} of the optimum over {scope}"


def certificate_scope(global_: bool, gated: bool) -> str:
    """What a dual bound covers: every network (complete ReLU patterns), or only its program."""
    return (
        "every two-layer ReLU network"
        if global_
        else "the gated-ReLU convex program"
        if gated
        else "the sub-sampled convex program"
    )


def _dual_value(program: ConvexProgram, r: flint.fmpq_mat, theta: flint.fmpq) -> flint.fmpq:
    ry = (r.transpose() * program.data.y)[0, 0]
    rr = (r.transpose() * r)[0, 0]
    return theta * ry - theta * theta * rr / 2


def exact_weights(W: np.ndarray) -> flint.fmpq_mat:
    """Float weights read exactly (binary values)."""
    return flint.fmpq_mat(W.shape[0], W.shape[1], [to_q(float(v)) for v in W.ravel()])


def repair_weights(program: ConvexProgram, W: flint.fmpq_mat) -> flint.fmpq_mat:
    """Make exact weights cone-feasible: ``w_b + δ g_b`` with the pattern's witness ``g_b``
    (``(2D − I) X g_b > 0``) and the least ``δ >= 0`` that fixes every violated row; a block that
    cannot be repaired this way (a tie of a non-open witness) is set to zero."""
    if program.gated:
        return W
    nb, d = W.shape if isinstance(W, np.ndarray) else (W.nrows(), W.ncols())
    rows = []
    for b in range(nb):
        w = flint.fmpq_mat(d, 1, [W[b, k] for k in range(d)])
        if all(v == 0 for v in w.entries()):
            rows.append(w.entries())
            continue
        A = program.cone_matrix_exact(b)
        Aw = (A * w).entries()
        bad = [j for j, v in enumerate(Aw) if v < 0]
        if bad:
            i, _ = program.block(b)
            g = flint.fmpq_mat(d, 1, list(program.patterns.gates[i]))
            Ag = (A * g).entries()
            if any(Ag[j] <= 0 for j in bad):
                rows.append([flint.fmpq(0)] * d)
                continue
            delta = max(-Aw[j] / Ag[j] for j in bad)
            w = w + g * delta
        rows.append(w.entries())
    return flint.fmpq_mat(nb, d, [v for r in rows for v in r])


def _half_sq(v: flint.fmpq_mat) -> flint.fmpq:
    return (v.transpose() * v)[0, 0] / 2


def _primal_upper_weights(program: ConvexProgram, W: flint.fmpq_mat) -> flint.fmpq:
    return primal_bounds(program, W)[1]


def primal_bounds(program: ConvexProgram, W: flint.fmpq_mat) -> tuple[flint.fmpq, flint.fmpq]:
    """Rationals ``lo <= ½‖ŷ − y‖² + λ Σ_b ‖w_b‖ <= hi`` for exact, cone-feasible weights ``W``
    (the norms are the only irrational part; ``hi − lo <= 2^-96`` per block).

    Raises
    ------
    VerificationError
        If a block of a ReLU program lies outside its cone (then ``W`` is not a network's weights).

    >>> from symtrunc.convex.regression import RegressionData
    >>> prog = ConvexProgram.create(RegressionData.from_arrays([[1, 0], [0, 1]], [1, 1]), "1/2")
    >>> W = flint.fmpq_mat(prog.n_blocks, 2); W[1, 0] = 1                   # pattern 1 is [1, 0]
    >>> primal_bounds(prog, W)                                              # ½·1 + ½·1
    (1, 1)
    """
    d = program.data.d
    nonzero = [b for b in range(program.n_blocks) if any(W[b, k] != 0 for k in range(d))]
    for b, Aw in ({} if program.gated else program.signed_products(W, nonzero)).items():
        if any(v < 0 for v in Aw):
            raise VerificationError(f"block {b} violates its cone constraint", {"block": b})
    r = program.data.y - program.exact_fit(W)
    lo = hi = _half_sq(r)
    for b in range(program.n_blocks):
        sq = sum((W[b, k] * W[b, k] for k in range(d)), flint.fmpq(0))
        if sq != 0:
            a, c = sqrt_bounds(program.lam_sq * sq)
            lo, hi = lo + a, hi + c
    return lo, hi


def _primal_upper_network(program: ConvexProgram, net: TwoLayerNetwork) -> flint.fmpq:
    W1, w2 = net.exact_weights()
    r = program.data.y - net.exact_forward(program.data.X)
    sq = sum((v * v for v in W1.entries()), flint.fmpq(0)) + sum((v * v for v in w2), flint.fmpq(0))
    return _half_sq(r) + sqrt_bounds(program.lam_sq)[1] * sq / 2


def dual_certificate(program: ConvexProgram, r: flint.fmpq_mat) -> DualCertificate:
    """Scale the residual ``r`` to a dual-feasible point with exact multipliers and value.

    The multipliers come from an exact projection when its active set can be verified,
    otherwise from the rationalized float NNLS solution (still a valid bound). ``θ`` also
    maximizes ``θ⟨r, y⟩ − θ²‖r‖²/2`` below the feasibility limit. When the program's patterns
    are flagged complete, their completeness is proved first
    (:meth:`~symtrunc.convex.patterns.ActivationPatterns.verify_complete`), so a *global*
    certificate never rests on the flag alone.

    Raises
    ------
    VerificationError
        If the patterns are flagged complete but a chamber is missing.
    """
    S = program.exact_correlations(r)
    mults, bounds = _multipliers(program, r, S)
    worst = max(bounds, default=flint.fmpq(0))
    theta = flint.fmpq(1)
    if worst > program.lam_sq:
        theta = sqrt_lower(program.lam_sq / worst)  # θ² worst <= λ² exactly
    ry = (r.transpose() * program.data.y)[0, 0]
    rr = (r.transpose() * r)[0, 0]
    if rr > 0 and 0 <= ry / rr < theta:
        theta = ry / rr
    complete = program.patterns.complete and not program.gated
    if complete:
        program.patterns.verify_complete(program.data)  # a global claim only with every chamber proved present
    return DualCertificate(r, theta, tuple(mults), worst, _dual_value(program, r, theta), complete, program.gated)


def _multipliers(
    program: ConvexProgram, r: flint.fmpq_mat, S: list[flint.fmpq_mat]
) -> tuple[list[dict[int, flint.fmpq]], list[flint.fmpq]]:
    """Cone multipliers ``μ_b`` and exact bounds ``B_b = ‖Z_b^T r + A_b^T μ_b‖²`` per block.

    The largest bound (the only one that enters ``θ``) is the same as if every block had the
    multipliers of its exact projection (:func:`~symtrunc.convex.cones.project_exact`): a float
    projection ranks the blocks; the blocks near the top get the exact projection, every other
    block the rationalized float multipliers (any ``μ >= 0`` gives a valid bound), and a block
    whose bound so obtained reaches the largest exact one is projected exactly as well."""
    n = program.n_blocks
    if program.gated:
        return [{} for _ in range(n)], [program.cone_bound_sq(b, S[b], {}) for b in range(n)]
    Sf = program.correlations(to_float(r).ravel())
    floats = [project_float(program.cone_matrix(b), Sf[b]) for b in range(n)]
    norms = np.array([float(np.linalg.norm(v)) for v, _ in floats])
    top = float(norms.max(initial=0.0))
    exact = [False] * n
    mults: list[dict[int, flint.fmpq]] = [{} for _ in range(n)]
    bounds = [flint.fmpq(0)] * n

    def project(b: int) -> None:
        mults[b] = project_exact(program.cone_matrix_exact(b), S[b], Af=program.cone_matrix(b)).multipliers
        bounds[b] = program.cone_bound_sq(b, S[b], mults[b])
        exact[b] = True

    for i in np.flatnonzero(norms >= (1 - _NEAR_TOP) * top):
        project(int(i))
    for b in range(n):
        if not exact[b]:
            mults[b] = rationalize_multipliers(floats[b][1])
            bounds[b] = program.cone_bound_sq(b, S[b], mults[b])
    while True:
        worst = max((bounds[b] for b in range(n) if exact[b]), default=flint.fmpq(0))
        pending = [b for b in range(n) if not exact[b] and bounds[b] >= worst]
        if not pending:
            return mults, bounds
        for b in pending:
            project(b)


_NEAR_TOP = 1e-3  # blocks within this (relative) of the largest float projection are projected exactly


def certify_weights(program: ConvexProgram, W) -> OptimalityCertificate:
    """Certificate for convex weights (float array or exact ``fmpq_mat``), repaired into the cones."""
    Wq = exact_weights(W) if isinstance(W, np.ndarray) else W
    Wq = repair_weights(program, Wq)
    r = program.data.y - program.exact_fit(Wq)
    return OptimalityCertificate(_primal_upper_weights(program, Wq), dual_certificate(program, r), weights=Wq)


def certify(solution: ConvexSolution) -> OptimalityCertificate:
    """Certificate for a solver's solution (see :func:`certify_weights`)."""
    return certify_weights(solution.program, solution.weights)


def certify_network(program: ConvexProgram, net: TwoLayerNetwork) -> OptimalityCertificate:
    """Certificate for a two-layer network's non-convex objective
    ``½‖f(X) − y‖² + (λ/2) Σ(‖W1_j‖² + w2_j²)`` against the program's dual (global when the
    program's patterns are complete)."""
    if program.gated:
        raise VerificationError("networks are certified against the ReLU program (gated=False)")
    r = program.data.y - net.exact_forward(program.data.X)
    return OptimalityCertificate(_primal_upper_network(program, net), dual_certificate(program, r), network=net)
