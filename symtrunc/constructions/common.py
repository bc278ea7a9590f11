"""Shared assembly of the constructions: cone layers → cumulative parameters → network."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import flint
import numpy as np

from symtrunc.data.labeled import LabeledData
from symtrunc.errors import HypothesisError, VerificationError
from symtrunc.exact.matrix import columns_matrix, exact_rows, pinv, qmatrix, rows
from symtrunc.exact.row_sets import RowSet
from symtrunc.geometry.cones import ConeLayer, paper_cone, rational_cone
from symtrunc.network import ReLUNetwork
from symtrunc.progress import timed
from symtrunc.records import CollapseRecord, ConeStep, as_rows, as_vector, cone_recipe_from_json
from symtrunc.verification.api import verify
from symtrunc.verification.exact import verify as verify_exact

__all__ = ["CONES", "build_cone", "layer_sets", "check_network", "assemble"]

CONES = ("rational", "paper")


def layer_sets(
    data: LabeledData, order: Sequence[int], k: int, bases: Sequence[flint.fmpq_mat]
) -> tuple[RowSet, RowSet]:
    """Forward points (later classes, earlier base points) and backward points (class ``order[k]``)."""
    A, s, bound = data.scaled_rows
    lab = data.labels
    later = [np.flatnonzero(lab == j) for j in order[k + 1 :]]
    fwd = RowSet.of(
        A,
        s,
        np.concatenate(later) if later else np.zeros(0, dtype=np.intp),
        exact_rows([p.entries() for p in bases[:k]], data.M),
        bound,
        data.float_rows,
    )
    return fwd, RowSet.of(A, s, np.flatnonzero(lab == order[k]), bound=bound, F=data.float_rows)


def build_cone(cone: str, p, h, fwd, bwd, *, epsilon=None, angle=None) -> ConeLayer:
    """Dispatch to :func:`rational_cone` or :func:`paper_cone` (points as ``fmpq_mat`` or
    :class:`~symtrunc.exact.row_sets.RowSet`)."""
    if cone == "rational":
        return rational_cone(p, h, fwd, bwd, epsilon=epsilon)
    if cone == "paper":
        fwd, bwd = (P.exact() if isinstance(P, RowSet) else P for P in (fwd, bwd))
        return paper_cone(p, h, fwd, bwd, angle=angle)
    raise HypothesisError(f"unknown cone recipe {cone!r}; use one of {', '.join(CONES)}")


def _cone_step(label: Any, layer: ConeLayer, **extra: Any) -> ConeStep:
    """The record of one cone layer collapsing class ``label`` (``extra``: ``t``, ``offset``, ...)."""
    return ConeStep(
        label,
        as_vector(layer.apex),
        as_vector(layer.normal),
        cone_recipe_from_json(layer.recipe, layer.parameters),
        **extra,
    )


#: From this many points the built-in verification of a construction runs
#: ``verify(..., method="certified")`` (:mod:`symtrunc.verification.certified`: a float filter with
#: rigorous error bounds, every undecided point in exact arithmetic; the same statement, proved):
#: faster than the exact pass on large data, slower on small data (it loads a compiled kernel).
CERTIFIED_FROM = 250_000


def check_network(network: ReLUNetwork, data: LabeledData, *, invariants: bool = False) -> None:
    """The check every construction runs on the network it hands out: zero loss, exactly; from
    :data:`CERTIFIED_FROM` points by the certified method (floats only filter, with rigorous
    bounds: the same guarantee). The certificate is not kept, so the check skips its digests.

    The layer invariants (one class collapsed per hidden layer) are checked wherever the layers
    have that structure, but the verifier falls back to zero loss alone when the data break
    them; with ``invariants=True`` (the constructions that promise them) that fallback is an
    error.

    Raises
    ------
    VerificationError
        With the first failing point (a bug: the constructions are proved), or with the broken
        invariant when ``invariants`` is true.
    """
    if data.N >= CERTIFIED_FROM:
        with timed("verify certified"):
            cert = verify(network, data, method="certified", progress=False, digests=False)
    else:
        with timed("verify"):
            cert = verify_exact(network, data, digests=False)
    if invariants and "invariants_failed" in cert.extra:
        raise VerificationError(f"the layer invariants fail: {cert.extra['invariants_failed']}")


def assemble(
    data: LabeledData,
    order: Sequence[int],
    layers: Sequence[ConeLayer],
    representatives: Sequence[flint.fmpq_mat],
    record: type[CollapseRecord],
    step_extras: Sequence[Mapping[str, Any]],
    widths: Sequence[int] | None = None,
    **fields: Any,
) -> ReLUNetwork:
    """Cumulative parameters → layers. Output layer ``W^(Q+1) = Y_ord R^+``, ``b^(Q+1) = 0``,
    where ``R`` holds the truncated class representatives in collapse order. The network is
    verified before it is returned.

    The network carries ``record(**fields)`` with the label matrix and one
    :class:`~symtrunc.records.ConeStep` per layer (``step_extras``: its ``t``, ``offset``, ...).
    ``widths`` (``d_1..d_Q``) keeps the first ``d_l`` rows of each ``W^(l)`` (``I(M, d_l) W``).
    The verification is exact, or from :data:`CERTIFIED_FROM` points the certified method (same
    guarantee).
    """
    cumulative = []
    for k, layer in enumerate(layers):
        W = layer.W
        if widths is not None and widths[k] < W.nrows():
            W = qmatrix(rows(W)[: widths[k]])
        cumulative.append((W, -(W * layer.apex)))
    R = columns_matrix(list(representatives))
    if R.rank() < data.Q:
        raise HypothesisError(
            "the collapsed points are linearly dependent, so no affine output layer with zero bias "
            "maps them to the labels"
        )
    Y_ord = flint.fmpq_mat(data.Q, data.Q, [data.Y[r, j] for r in range(data.Q) for j in order])
    W_out = Y_ord * pinv(R)
    cumulative.append((W_out, flint.fmpq_mat(data.Q, 1)))
    steps = tuple(_cone_step(data.classes[j], layer, **extra) for j, layer, extra in zip(order, layers, step_extras))
    construction = record(label_matrix=as_rows(data.Y), steps=steps, **fields)
    network = ReLUNetwork.from_cumulative(cumulative, classes=data.classes, construction=construction)
    try:
        check_network(network, data, invariants=True)
    except VerificationError as e:
        if widths is None:
            raise  # a bug: the constructions are proved; never hand out an unverified network
        raise HypothesisError(
            f"the network with shrinking widths {list(widths)} fails the exact run-time check ({e}); "
            "the paper's argument for shrinking widths has a gap (reference §6.2): use constant width",
            e.counterexample,
        ) from None
    return network
