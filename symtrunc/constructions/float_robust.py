r"""Float-robust Theorem 5.2 networks: the free parameters of the construction chosen for floats.

The network of Theorem 5.2 is not unique: the hyperplane normals ``h_l``, the base points
``p_l`` (their position ``t_l`` on the segment to the barycenter), the rational cone's ``ε_l``
and the coordinates are free. A float evaluation of the network loses about ``u / m_l``
(``u`` the unit roundoff) of the input at hidden layer ``l``, where ``m_l`` is the margin of the
``l``-th hyperplane relative to the size ``Σ_j |h_j| |x_j|`` of the sums that compute it, and the
next collapse needs its own margin to exceed that. The default search maximizes the margin for
``|h|_∞ ≤ 1`` in the data's own units, which leaves features of small magnitude with margins of
``1e-8`` of the sums on real data: enough for float64, not for float32 (``u = 6e-8``).

:func:`construct_float_robust` makes these choices, each checked exactly:

1. **Power-of-two coordinates**: ``x'_j = d_j x_j`` with ``d_j = 2^-e_j`` and
   ``2^e_j ≤ max_i |x_ij| < 2^(e_j+1)`` (exact), so every feature has magnitude about 1.
2. **Max-margin normals in the float-error norm**: each ``h'_l`` maximizes the margin of the
   hyperplane in the ``x'`` coordinates subject to ``Σ_j |h'_j| max_i |x'_ij| ≤ 1`` (a float LP,
   HiGHS, only a proposal), scaled to ``|h'|_∞ = 2^b`` and rounded to integers
   (``b = 12`` for float32, ``24`` for float64; more bits only if the rounded normal does not
   separate).
3. **Base points in the middle** of the admissible interval of ``t_l`` (the simplest rational of
   its middle fifth, computed exactly), and ``ε_l`` a dyadic number with an 8-bit mantissa
   between a quarter and a half of the float estimate of its exact bound.

The order is the one :func:`~symtrunc.geometry.separability.find_sls` finds for the ``x'``
data (or the imposed one), and :func:`~symtrunc.constructions.sls.construct_sls` builds and
verifies the network in the ``x'`` coordinates with these normals, ``t``'s and ``ε``'s (it checks
them exactly against Definition 5.1 and the cone bound). In the original coordinates the
cone of layer ``l`` is ``W^(l) = s_l (ε_l D + u h_lᵀ)`` with ``D = diag(d)``, the normal
``h_l = D h'_l``, the base point ``p_l = D^{-1} p'_l`` and the same ``t_l`` and offset: the first
layer takes ``D`` in, the other layers are unchanged. That is what the construction record holds
(:class:`~symtrunc.records.RationalRecipe` with its ``diagonal``), and the returned network is
checked again on the original data by :func:`~symtrunc.constructions.common.check_network`:
zero loss, proved (the scaled network's layer invariants were proved before; this check does
not require them).

What is and is not claimed: the exact network is a Theorem 5.2 network with zero loss, proved
exactly, like every construction. Its robustness in floats is a design goal, not a claim: the
float network that runs is certified (or refused) by :func:`symtrunc.lower` and
:func:`symtrunc.io.export.export` given the data (:mod:`symtrunc.lowering.float_certificate`).

Examples
--------
>>> import symtrunc
>>> wine = symtrunc.load_wine()
>>> net = construct_float_robust(wine)
>>> net.construction.hyperplanes, symtrunc.verify(net, wine).invariants_checked
('robust float32', True)
>>> symtrunc.lower(net, "float32", data=wine).certificate.certified
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import flint
import numpy as np

from symtrunc.constructions.common import check_network
from symtrunc.constructions.sls import construct_sls, order_indices
from symtrunc.data.labeled import LabeledData
from symtrunc.errors import DataError, HypothesisError
from symtrunc.exact.lp import simplest_between
from symtrunc.exact.matrix import to_float
from symtrunc.geometry.separability import find_sls
from symtrunc.network import Layer, ReLUNetwork
from symtrunc.progress import task
from symtrunc.records import RationalRecipe, SLSRecord

__all__ = ["ROBUST_DTYPES", "construct_float_robust", "dyadic_exponents"]

#: Float types a network can be made robust for, with the bits of its integer normals.
ROBUST_DTYPES = {"float32": 12, "float64": 24}
#: Largest number of bits tried for a normal whose rounding does not separate.
MAX_BITS = 60
#: Mantissa bits of the dyadic ``ε_l``.
EPSILON_BITS = 8


def dyadic_exponents(X: np.ndarray) -> list[int]:
    """``e_j`` with ``2^e_j ≤ max_i |x_ij| < 2^(e_j + 1)`` (``0`` for an all-zero feature).

    >>> dyadic_exponents(np.array([[3.0, 0.0, 0.25], [-9.0, 0.0, 0.1]]))
    [3, 0, -2]
    """
    top = np.abs(X).max(axis=0) if X.size else np.zeros(X.shape[1])
    return [math.frexp(v)[1] - 1 if v > 0 else 0 for v in top.tolist()]


def _power_of_two(e: int) -> flint.fmpq:
    """``2^e`` exactly."""
    return flint.fmpq(2**e) if e >= 0 else flint.fmpq(1, 2**-e)


def _scaled(data: LabeledData, d: Sequence[flint.fmpq]) -> LabeledData:
    """The data in the coordinates ``x'_j = d_j x_j`` (same labels, classes and label matrix)."""
    rows = data.X.tolist()
    Xs = flint.fmpq_mat(data.N, data.M, [v * d[j] for r in rows for j, v in enumerate(r)])
    return LabeledData.from_arrays(Xs, [data.classes[k] for k in data.y], classes=data.classes, Y=data.Y, check=False)


def _margin_normal(inside: np.ndarray, outside: np.ndarray, weights: np.ndarray) -> np.ndarray | None:
    """The normal of a max-margin separator of the rows ``inside`` (negative side) from ``outside``
    with ``Σ_j |h_j| w_j ≤ 1`` (a float LP; ``None`` when it finds no positive margin).

    >>> h = _margin_normal(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]), np.ones(2))
    >>> np.round(h, 6).tolist()
    [0.5, 0.5]
    """
    from scipy.optimize import linprog  # lazy: scipy is slow to import

    na, nb, M = inside.shape[0], outside.shape[0], inside.shape[1]
    # variables h+ (M), h- (M), offset c, margin δ: ⟨h, a⟩ + δ ≤ c ≤ ⟨h, b⟩ - δ, Σ w (h+ + h-) ≤ 1
    A = np.zeros((na + nb + 1, 2 * M + 2))
    A[:na, :M], A[:na, M : 2 * M], A[:na, 2 * M], A[:na, 2 * M + 1] = inside, -inside, -1, 1
    A[na:-1, :M], A[na:-1, M : 2 * M], A[na:-1, 2 * M], A[na:-1, 2 * M + 1] = -outside, outside, 1, 1
    A[-1, :M] = A[-1, M : 2 * M] = weights
    rhs = np.zeros(na + nb + 1)
    rhs[-1] = 1
    cost = np.zeros(2 * M + 2)
    cost[-1] = -1
    bounds = [(0, None)] * (2 * M) + [(None, None), (None, 1)]
    res = linprog(cost, A_ub=A, b_ub=rhs, bounds=bounds, method="highs")
    if res.status != 0 or res.x[-1] <= 0:
        return None
    return res.x[:M] - res.x[M : 2 * M]


def _dyadic_below(x: float, bits: int = EPSILON_BITS) -> flint.fmpq:
    """The largest positive ``m 2^k`` ``≤ x`` with ``m < 2^bits`` (``x > 0``).

    >>> _dyadic_below(0.3), _dyadic_below(1000.0, 4)
    (153/512, 960)
    """
    _, e = math.frexp(x)  # x = f 2^e, 1/2 <= f < 1
    k = e - bits
    m = math.floor(x / 2.0**k)
    return flint.fmpq(m) * _power_of_two(k)


def _epsilon(P: np.ndarray, p: np.ndarray, h: np.ndarray, forward: np.ndarray) -> flint.fmpq:
    """A dyadic ``ε`` in ``(bound/4, bound/2]`` for the float estimate of the exact bound of the
    rational cone (:func:`~symtrunc.geometry.cones.rational_cone`): ``ε max_i(∓(x - p)_i) ≤
    ±⟨h, x - p⟩`` on the forward (upper sign) and backward points (``1`` when nothing bounds it;
    :func:`~symtrunc.constructions.sls.construct_sls` checks it against the exact bound).

    >>> _epsilon(np.array([[2.0, -1.0], [-1.0, 0.0]]), np.zeros(2), np.array([1.0, 1.0]), np.array([True, False]))
    1/2
    """
    D = P - p
    g = D @ h
    sign = np.where(forward, 1.0, -1.0)
    worst = (-sign[:, None] * D).max(axis=1)
    ok = worst > 0
    bound = float(((sign * g)[ok] / worst[ok]).min()) if ok.any() else 2.0
    return _dyadic_below(bound / 2)


def _step_choice(
    sdata: LabeledData,
    Xf: np.ndarray,
    weights: np.ndarray,
    order: Sequence[int],
    k: int,
    bases: Sequence[flint.fmpq_mat],
    bits: int,
) -> tuple[list[int], flint.fmpq, flint.fmpq, flint.fmpq_mat]:
    """Normal (integers), ``t``, ``ε`` and base point of step ``k`` in the scaled coordinates."""
    j = order[k]
    y = sdata.labels
    label = sdata.classes[j]
    bary = sdata.barycenter
    later = np.isin(y, list(order[k + 1 :]))
    extra = [to_float(p.transpose()) for p in bases] + [to_float(bary.transpose())]
    h = _margin_normal(Xf[y == j], np.vstack([Xf[later], *extra]), weights)
    if h is None:
        raise HypothesisError(
            f"the float LP found no separating hyperplane for class {label!r} at step {k + 1} "
            "(the data are SLS in this order, but too close to degenerate for the float-robust choice; "
            "build without robust=...)"
        )
    mean = sdata.mean(j)
    others = [sdata.points(r) for r in order[k + 1 :]]
    while True:
        H = flint.fmpq_mat(sdata.M, 1, [int(v) for v in np.round(h / np.abs(h).max() * 2**bits)])
        hm, hb = (mean.transpose() * H)[0, 0], (bary.transpose() * H)[0, 0]
        vin = (sdata.points(j) * H).entries()
        vout = [v for P in others for v in (P * H).entries()]
        vout += [(p.transpose() * H)[0, 0] for p in bases] + [hb]
        if hb > hm:
            lo, hi = (max(vin) - hm) / (hb - hm), (min(vout) - hm) / (hb - hm)
            if lo < hi:
                break
        if bits >= MAX_BITS:
            raise HypothesisError(
                f"the rounded max-margin normal of class {label!r} does not separate at {MAX_BITS} bits"
            )
        bits += 4
    gap = hi - lo
    t = simplest_between(lo + gap * flint.fmpq(2, 5), hi - gap * flint.fmpq(2, 5))
    p = t * bary + (1 - t) * mean
    fwd_rows = np.concatenate([np.flatnonzero(later), np.flatnonzero(y == j)])
    P = np.vstack([Xf[fwd_rows], *extra[:-1]])
    forward = np.concatenate([np.ones(int(later.sum()), bool), np.zeros(int((y == j).sum()), bool)])
    forward = np.concatenate([forward, np.ones(len(bases), bool)])
    eps = _epsilon(P, to_float(p.transpose())[0], to_float(H)[:, 0], forward)
    while eps + sum(H.entries(), flint.fmpq(0)) == 0:  # ε I + u hᵀ would be singular
        eps /= 2
    return [int(v) for v in H.entries()], t, eps, p


def construct_float_robust(
    data: LabeledData,
    dtype: str = "float32",
    *,
    order: Sequence[Any] | None = None,
    max_nodes: int | None = None,
) -> ReLUNetwork:
    """The Theorem 5.2 network of ``data`` with its free parameters chosen for ``dtype`` evaluation.

    Parameters
    ----------
    data : LabeledData
    dtype : {"float32", "float64"}
        The float type the network is meant to run in: it sets the bits of the integer normals
        (:data:`ROBUST_DTYPES`).
    order : sequence of labels, optional
        Collapse order (default: found by :func:`~symtrunc.geometry.separability.find_sls` on the
        rescaled data).
    max_nodes : int, optional
        Limit of the exact SLS decision, as for :func:`~symtrunc.constructions.sls.construct_sls`.

    Returns
    -------
    ReLUNetwork
        Zero loss on ``data`` proved (exactly, or by the certified method on many points); its
        :class:`~symtrunc.records.SLSRecord` holds the cones in the original coordinates
        (``hyperplanes = "robust float32"``). Certify the floats that run with
        :func:`symtrunc.lower` or :func:`symtrunc.io.export.export` and the data.

    Raises
    ------
    DataError
        Unknown ``dtype`` or class in ``order``.
    HypothesisError
        The data are proved not SLS (in ``order``), with the certificate, or the float LP finds
        no separating hyperplane for a step (then build without ``robust``).
    """
    if dtype not in ROBUST_DTYPES:
        raise DataError(f"robust={dtype!r}: use one of {', '.join(ROBUST_DTYPES)}")
    order_idx = order_indices(data, order)
    d = [_power_of_two(-e) for e in dyadic_exponents(to_float(data.X))]
    sdata = _scaled(data, d)
    found = list(find_sls(sdata, order_idx, max_nodes=max_nodes).order)
    Xf = to_float(sdata.X)
    weights = np.abs(Xf).max(axis=0)
    weights[weights == 0] = 1.0
    normals: list[list[int]] = []
    ts: list[flint.fmpq] = []
    epsilons: list[flint.fmpq] = []
    bases: list[flint.fmpq_mat] = []
    with task("robust: hyperplanes", total=data.Q) as progress:
        for k in range(data.Q):
            h, t, eps, p = _step_choice(sdata, Xf, weights, found, k, bases, ROBUST_DTYPES[dtype])
            normals.append(h)
            ts.append(t)
            epsilons.append(eps)
            bases.append(p)
            progress.step(f"step {k + 1}: class {data.classes[found[k]]!r}")
    labels = [data.classes[j] for j in found]
    snet = construct_sls(sdata, order=labels, normals=normals, t=ts, epsilon=epsilons)
    return _original_coordinates(snet, data, d, dtype)


def _original_coordinates(snet: ReLUNetwork, data: LabeledData, d: Sequence[flint.fmpq], dtype: str) -> ReLUNetwork:
    """The network of the scaled data ``x' = D x`` as a network of ``x``: the first layer takes
    ``D`` in (``W_1 D``), and the record holds ``h = D h'``, ``p = D^{-1} p'`` and ``diag(d)``."""
    first = snet.layers[0]
    n, M = first.W.nrows(), first.W.ncols()
    W = flint.fmpq_mat(n, M, [first.W[i, j] * d[j] for i in range(n) for j in range(M)])
    record = snet.construction
    if not isinstance(record, SLSRecord):  # pragma: no cover - construct_sls always records one
        raise TypeError("construct_sls returned no SLSRecord")
    steps = []
    for s in record.steps:
        if not isinstance(s.recipe, RationalRecipe):  # pragma: no cover - the rational cone is used
            raise TypeError("the float-robust construction uses the rational cone")
        steps.append(
            replace(
                s,
                base_point=tuple(v / dj for v, dj in zip(s.base_point, d)),
                normal=tuple(v * dj for v, dj in zip(s.normal, d)),
                recipe=RationalRecipe(s.recipe.epsilon, s.recipe.scale, tuple(d)),
            )
        )
    construction = replace(record, steps=tuple(steps), hyperplanes=f"robust {dtype}")
    net = ReLUNetwork((Layer(W, first.b, first.activation),) + snet.layers[1:], snet.classes, construction)
    check_network(net, data)  # in the original coordinates: raises if a point misses its target (it cannot)
    return net
