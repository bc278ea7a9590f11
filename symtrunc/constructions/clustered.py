"""Proposition 4.1 of arXiv 2405.07098: zero-loss networks for small, well separated clusters.

Hypotheses, checked exactly (squared distances, no square roots):

* (4.2) ``δ < c0 · min_j |x̄_{0,j} - x̄|`` for some ``c0 < 1/4``, i.e. ``16 δ² < min_j |x̄_{0,j} - x̄|²``;
* (4.6) ``max_j θ_{*,j} < π``: for every ``j`` and ``j' ≠ j`` the ball ``B_{4δ}(x̄_{0,j'})`` lies in the
  open half-space ahead of ``x̄_{0,j}`` in direction ``f_j``, i.e.
  ``⟨x̄_{0,j'} - x̄_{0,j}, x̄ - x̄_{0,j}⟩ > 4δ |x̄ - x̄_{0,j}|``.

Layer ``l`` collapses class ``l`` to ``p_l = x̄_{0,l} + μ_l f_l`` with ``μ_l ∈ (2δ, 3δ)``, i.e.
``t_l = μ_l / |x̄ - x̄_{0,l}|`` on the segment to the barycenter, with axis ``f_l``.

Examples
--------
>>> from symtrunc.data.labeled import LabeledData
>>> d = LabeledData.from_arrays([[10, 0], [11, 0], [0, 10], [0, 11]], ["a", "a", "b", "b"])
>>> hyp = check_clustered(d)
>>> hyp.delta_squared, hyp.condition_4_2, hyp.condition_4_6
(1/4, True, True)
>>> net = construct_clustered(d)
>>> s = net.construction.steps[0]
>>> s.mu_over_delta_target, s.mu_over_delta_squared   # asked for 5/2; realised μ/δ ≈ 2.4942
(5/2, 815409/131072)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import flint

from symtrunc.constructions.common import assemble, build_cone, layer_sets
from symtrunc.data.labeled import LabeledData
from symtrunc.errors import DataError, HypothesisError
from symtrunc.exact.matrix import qmatrix, rows
from symtrunc.exact.rational import to_q
from symtrunc.geometry.truncation import TruncationMap
from symtrunc.network import ReLUNetwork
from symtrunc.progress import task
from symtrunc.records import ClusteredRecord

__all__ = ["ClusteredHypotheses", "check_clustered", "construct_clustered", "THEOREM_CLUSTERED"]

THEOREM_CLUSTERED = "Proposition 4.1 (Chen & Muñoz Ewald, arXiv 2405.07098): clustered data"


def _dot(a: list, b: list) -> flint.fmpq:
    return sum((x * y for x, y in zip(a, b)), flint.fmpq(0))


@dataclass(frozen=True)
class ClusteredHypotheses:
    """Exact evaluation of the hypotheses of Proposition 4.1.

    Attributes
    ----------
    delta_squared : fmpq
        ``δ²``.
    distances_squared : tuple of fmpq
        ``|x̄_{0,j} - x̄|²`` per class.
    condition_4_2 : bool
        ``16 δ² < min_j |x̄_{0,j} - x̄|²``.
    condition_4_6 : bool
        ``max_j θ_{*,j} < π``.
    failing_pair : tuple or None
        ``(j, j')`` violating (4.6), if any.
    theta_star : tuple of float or None
        ``θ_{*,j}`` (float annotations, radians; ``None`` where undefined).
    """

    delta_squared: flint.fmpq
    distances_squared: tuple[flint.fmpq, ...]
    condition_4_2: bool
    condition_4_6: bool
    failing_pair: tuple[int, int] | None
    theta_star: tuple[float | None, ...]

    @property
    def holds(self) -> bool:
        """Both conditions hold."""
        return self.condition_4_2 and self.condition_4_6


def check_clustered(data: LabeledData) -> ClusteredHypotheses:
    """Evaluate (4.2) and (4.6) exactly."""
    import math

    d2 = data.delta_squared
    means = [data.mean(j).entries() for j in range(data.Q)]
    xbar = data.barycenter.entries()
    f = [[a - b for a, b in zip(xbar, m)] for m in means]
    dist2 = tuple(_dot(v, v) for v in f)
    cond42 = 16 * d2 < min(dist2)
    failing = None
    thetas: list[float | None] = []
    for j in range(data.Q):
        worst = 0.0
        for jj in range(data.Q):
            if jj == j:
                continue
            c = [a - b for a, b in zip(means[jj], means[j])]
            lhs = _dot(c, f[j])
            ok = lhs > 0 and lhs * lhs > 16 * d2 * dist2[j]
            if not ok and failing is None:
                failing = (j, jj)
            cc = _dot(c, c)
            if 16 * d2 < cc:  # |c| > 4δ; angles from scale-free exact ratios (any magnitude fits a float)
                cos = math.sqrt(float(lhs * lhs / (cc * dist2[j])))
                ang = math.acos(max(-1.0, min(1.0, cos if lhs >= 0 else -cos)))
                worst = max(worst, 2 * (ang + math.asin(math.sqrt(float(16 * d2 / cc)))))
            else:
                thetas.append(None)  # the 4δ-ball contains the apex: θ_* undefined
                break
        else:
            thetas.append(worst)
    return ClusteredHypotheses(d2, dist2, cond42, failing is None, failing, tuple(thetas))


def _admissible_t(data: LabeledData, j: int, dist2: flint.fmpq, fraction: flint.fmpq) -> flint.fmpq:
    """Rational ``t`` with ``μ = t |x̄ - x̄_{0,j}|`` strictly inside ``(2δ, 3δ)``, near ``(2 + fraction) δ``."""
    from math import isqrt

    d2 = data.delta_squared
    target2 = (2 + fraction) ** 2 * d2 / dist2  # t² for μ = (2 + fraction) δ
    lo2, hi2 = 4 * d2 / dist2, 9 * d2 / dist2
    for bits in (4, 8, 16, 32, 64, 128):
        den = 1 << bits
        t = flint.fmpq(isqrt(int(target2.p) * den * den // int(target2.q)), den)
        if lo2 < t * t < hi2:
            return t
    raise HypothesisError("could not find a rational μ in (2δ, 3δ)")  # pragma: no cover


def construct_clustered(
    data: LabeledData,
    *,
    cone: str = "rational",
    mu: Sequence[Any] | None = None,
    widths: Sequence[int] | None = None,
    check_hypotheses: bool = True,
) -> ReLUNetwork:
    """Build the Proposition 4.1 network: class ``l`` collapses at layer ``l`` (data order).

    Parameters
    ----------
    data : LabeledData
    cone : {"rational", "paper"}
        Cone recipe (see :mod:`symtrunc.geometry.cones`); ``"paper"`` uses one common angle
        ``θ* ∈ [π/2, π)`` above ``max_j θ_{*,j}`` in every layer, as the proposition does.
    mu : sequence, optional
        ``μ_l / δ ∈ (2, 3)`` per class (rational); default ``5/2``. Exposes the degenerate family.
    widths : sequence of int, optional
        Hidden widths ``d_1 ≥ ... ≥ d_Q ≥ Q`` (default ``M`` each). Shrinking widths are built
        with ``W^(l) = I(M, d_l) W`` and pseudo-inverses, and accepted only if the exact
        run-time check passes (the paper's proof has a gap there, reference §6.2).
    check_hypotheses : bool
        Refuse data violating (4.2) or (4.6) (default). With ``False`` the construction is still
        verified exactly, so it either works or raises.

    Raises
    ------
    HypothesisError
        If (4.2) or (4.6) fails (certificate: :class:`ClusteredHypotheses`), ``δ = 0``, or the
        shrinking-width run-time check fails.
    """
    import math

    hyp = check_clustered(data)
    if check_hypotheses and not hyp.condition_4_2:
        raise HypothesisError(
            f"condition (4.2) fails: need 16 δ² < min_j |x̄_j - x̄|², but δ² = {hyp.delta_squared} "
            f"and min_j |x̄_j - x̄|² = {min(hyp.distances_squared)} (clusters too wide for their "
            "separation; try --method sls)",
            hyp,
        )
    if check_hypotheses and hyp.failing_pair is not None:  # (4.6) fails exactly when a pair fails it
        j, jj = hyp.failing_pair
        raise HypothesisError(
            f"condition (4.6) fails: the 4δ-ball around the mean of class {data.classes[jj]!r} is not "
            f"strictly ahead of class {data.classes[j]!r} in the direction of the barycenter, so "
            "θ_* ≥ π (try --method sls)",
            hyp,
        )
    if hyp.delta_squared == 0:
        raise HypothesisError(
            "δ = 0 (every class is a single point): the interval (2δ, 3δ) for μ is empty, so "
            "Proposition 4.1 gives no network; use --method sls",
            hyp,
        )
    if widths is not None:
        widths = [int(w) for w in widths]
        if len(widths) != data.Q or any(a < b for a, b in zip([data.M] + widths, widths)) or widths[-1] < data.Q:
            raise DataError(f"widths must be {data.Q} numbers with M = {data.M} ≥ d_1 ≥ ... ≥ d_Q ≥ Q = {data.Q}")
    fractions_ = [flint.fmpq(1, 2)] * data.Q
    if mu is not None:
        if len(mu) != data.Q:
            raise HypothesisError(f"give one μ/δ per class ({data.Q})")
        fractions_ = [to_q(m) - 2 for m in mu]
        if any(not 0 < f < 1 for f in fractions_):
            raise HypothesisError("each μ/δ must lie strictly between 2 and 3")
    order = list(range(data.Q))
    bases, normals, ts = [], [], []
    for j in order:
        t = _admissible_t(data, j, hyp.distances_squared[j], fractions_[j])
        bases.append(t * data.barycenter + (1 - t) * data.mean(j))
        normals.append(data.barycenter - data.mean(j))
        ts.append(t)
    theta = None
    if cone == "paper":
        finite = [v for v in hyp.theta_star if v is not None]
        theta = max(math.pi / 2, (max(finite, default=0.0) + math.pi) / 2)
    layers = []
    with task("clustered: cones", total=len(order)) as progress:
        for k in order:
            fwd, bwd = layer_sets(data, order, k, bases)
            layers.append(build_cone(cone, bases[k], normals[k], fwd, bwd, angle=theta))
            progress.step(f"layer {k + 1} collapses class {data.classes[k]!r}")
    hypotheses = {
        "delta_squared": str(hyp.delta_squared),
        "distances_squared": [str(v) for v in hyp.distances_squared],
        "condition_4_2": hyp.condition_4_2,
        "condition_4_6": hyp.condition_4_6,
        "theta_star": list(hyp.theta_star),
    }
    shrink = tuple(widths) if widths is not None and widths != [data.M] * data.Q else None
    # the realised μ_l/δ = t_l |x̄ - x̄_{0,l}| / δ, exact as a square (t_l only approximates the target)
    extras = [
        {
            "t": t,
            "mu_over_delta_squared": t * t * hyp.distances_squared[j] / hyp.delta_squared,
            "mu_over_delta_target": 2 + f,
        }
        for j, (t, f) in enumerate(zip(ts, fractions_))
    ]
    return assemble(
        data,
        order,
        layers,
        _representatives(data, layers, bases, widths),
        ClusteredRecord,
        extras,
        widths,
        theorem=THEOREM_CLUSTERED,
        cone=cone,
        hypotheses=hypotheses,
        widths_shrink=shrink,
    )


def _representatives(data, layers, bases, widths):
    """Truncated class representatives ``(X0^red)^(τ,Q)``: the base points for constant width;
    with shrinking widths, the class means pushed through the actual truncation maps."""
    if widths is None or widths == [data.M] * data.Q:
        return bases

    maps = []
    for layer, w in zip(layers, widths):
        W = qmatrix(rows(layer.W)[:w])
        maps.append(TruncationMap(W, -(W * layer.apex)))
    reps = []
    for j in range(data.Q):
        x = data.mean(j)
        for tau in maps:
            x = tau(x)
        reps.append(x)
    return reps
