"""Theorem 5.2 of arXiv 2405.07098: zero-loss networks for sequentially linearly separable data.

``Q`` hidden ReLU layers of width ``M`` and an affine output layer. Layer ``l`` is the cone
layer with apex ``p_l`` on the segment from the class mean to the barycenter and axis the
hyperplane normal ``h_l``; its truncation map collapses class ``l`` to ``p_l`` and fixes the later
classes and the earlier base points. The output layer is ``W^(Q+1) = Y [p_1 ... p_Q]^+``,
``b^(Q+1) = 0``.

Examples
--------
>>> from symtrunc.data.labeled import LabeledData
>>> d = LabeledData.from_arrays([[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]],
...                             [1, 1, 1, 1, 2, 2, 2, 2])
>>> net = construct_sls(d, normals=[[-1, 1], [1, -1]], t=["3/4", "3/4"])  # the dossier's §5.2 choice
>>> [layer.W for layer in net.layers][1]
[3, -2]
[2, -1]
>>> net.layers[2].W, net.layers[2].b.transpose()
([ 5/6, -1/2]
[-7/6,  3/2], [0, 1])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from symtrunc.constructions.common import assemble, build_cone, layer_sets
from symtrunc.data.labeled import LabeledData
from symtrunc.errors import DataError, HypothesisError
from symtrunc.exact.lp import Separator
from symtrunc.exact.matrix import qvector
from symtrunc.exact.rational import to_q
from symtrunc.exact.row_sets import RowSet
from symtrunc.geometry.separability import SLSStep, find_sls
from symtrunc.network import ReLUNetwork
from symtrunc.progress import task
from symtrunc.records import SLSRecord

__all__ = ["construct_sls", "order_indices", "THEOREM_SLS"]

THEOREM_SLS = "Theorem 5.2 (Chen & Muñoz Ewald, arXiv 2405.07098): SLS data, Q hidden layers of width M"


def _user_steps(data: LabeledData, order: Sequence[int], normals: Sequence[Any], ts: Sequence[Any]) -> list[SLSStep]:
    if len(normals) != data.Q or len(ts) != data.Q:
        raise HypothesisError(f"give one normal and one t per class ({data.Q} each)")
    steps: list[SLSStep] = []
    for k, (j, hv, tv) in enumerate(zip(order, normals, ts)):
        h, t = qvector(hv), to_q(tv)
        if h.nrows() != data.M:
            raise HypothesisError(f"normal {k + 1} has {h.nrows()} entries, expected {data.M}")
        if not 0 < t < 1:
            raise HypothesisError(f"t_{k + 1} = {t} is not in (0, 1)")
        p = t * data.barycenter + (1 - t) * data.mean(j)
        c = (h.transpose() * p)[0, 0]
        bwd = RowSet.of(*data.scaled_rows[:2], data.class_indices[j], bound=data.scaled_rows[2], F=data.float_rows)
        wrong = bwd.first_violation(h, c, -1)
        if wrong is not None:
            i, v = data.class_indices[j][wrong[0]], wrong[1]
            raise HypothesisError(
                f"step {k + 1}: point {i} of class {data.classes[j]!r} is not strictly on the "
                f"negative side of the hyperplane (⟨h, x - p⟩ = {v})"
            )
        bases = [s.base_point for s in steps]
        fwd, _ = layer_sets(data, order, k, bases)
        wrong = fwd.first_violation(h, c, 1)
        if wrong is not None:
            r, v = wrong
            n_points = len(fwd.index)
            what = (
                f"point {int(fwd.index[r])} of class {data.classes[data.y[int(fwd.index[r])]]!r}"
                if r < n_points
                else f"base point p_{r - n_points + 1}"
            )
            raise HypothesisError(
                f"step {k + 1}: {what} is not strictly on the positive side of the hyperplane (⟨h, x - p⟩ = {v})"
            )
        steps.append(SLSStep(j, Separator(h, c), t, p))
    return steps


def order_indices(data: LabeledData, order: Sequence[Any] | None) -> list[int] | None:
    """The class indices of a collapse ``order`` given by labels (``None`` stays ``None``).

    Raises
    ------
    DataError
        An unknown label, or an order that does not list every class exactly once.
    """
    if order is None:
        return None
    index = {c: j for j, c in enumerate(data.classes)}
    missing = [c for c in order if c not in index]
    if missing:
        raise DataError(f"unknown class {missing[0]!r} in the order")
    order_idx = [index[c] for c in order]
    if sorted(order_idx) != list(range(data.Q)):
        raise DataError("the order must list every class exactly once")
    return order_idx


def construct_sls(
    data: LabeledData,
    *,
    order: Sequence[Any] | None = None,
    cone: str = "rational",
    normals: Sequence[Any] | None = None,
    t: Sequence[Any] | None = None,
    angles: Sequence[Any] | None = None,
    epsilon: Sequence[Any] | None = None,
    max_nodes: int | None = None,
) -> ReLUNetwork:
    """Build the Theorem 5.2 network for SLS data.

    Parameters
    ----------
    data : LabeledData
    order : sequence of labels, optional
        Collapse order (default: found by :func:`symtrunc.geometry.separability.find_sls`).
    cone : {"rational", "paper"}
        ``"rational"``: ``W^(l) = ε_l I + u h_lᵀ`` (exact, small numbers). ``"paper"``: the paper's
        ``W_θ R_l`` with rational λ and a rational Householder reflection (signs certified).
    normals, t : sequences, optional
        The degenerate family: your own hyperplane normals ``h_l`` and positions ``t_l ∈ (0, 1)``
        (one per class in ``order``); they are checked exactly against Definition 5.1.
    angles : sequence, optional
        Opening angles ``θ_l`` for ``cone="paper"``.
    epsilon : sequence, optional
        ``ε_l`` for ``cone="rational"`` (each checked against its exact bound).
    max_nodes : int, optional
        Limit on the order prefixes of the exact SLS decision (default: none).

    Returns
    -------
    ReLUNetwork
        Its :class:`~symtrunc.records.SLSRecord` holds the order, base points, normals and cone
        parameters.

    Raises
    ------
    HypothesisError
        If the data are proved not SLS (in the given order), with the exact
        :class:`~symtrunc.geometry.separability.NotSLSCertificate`, or user parameters are inadmissible.
    SLSUndecidedError
        If ``max_nodes`` was hit before a decision (not a proof).
    """
    order_idx = order_indices(data, order)
    if normals is not None or t is not None:
        if normals is None or t is None:
            raise HypothesisError("give both normals and t (or neither)")
        steps = _user_steps(data, order_idx or list(range(data.Q)), normals, t)
        search = "user"
    else:
        cert = find_sls(data, order_idx, max_nodes=max_nodes)
        steps = list(cert.steps)
        search = "imposed order" if order_idx is not None else "search"
    order_idx = [s.class_index for s in steps]
    bases = [s.base_point for s in steps]
    layers = []
    with task("sls: cones", total=len(steps)) as progress:
        for k, step in enumerate(steps):
            fwd, bwd = layer_sets(data, order_idx, k, bases)
            layers.append(
                build_cone(
                    cone,
                    step.base_point,
                    step.normal,
                    fwd,
                    bwd,
                    epsilon=None if epsilon is None else to_q(epsilon[k]),
                    angle=None if angles is None else angles[k],
                )
            )
            progress.step(f"layer {k + 1} collapses class {data.classes[step.class_index]!r}")
    extras = [{"t": s.t, "offset": s.separator.offset} for s in steps]
    return assemble(
        data, order_idx, layers, bases, SLSRecord, extras, theorem=THEOREM_SLS, cone=cone, hyperplanes=search
    )
