r"""Zero loss with two hidden layers for clustered data (reference notes §4, I15).

Chen & Muñoz Ewald (arXiv 2309.10639, Theorem 2.3) attain ``min C_N = 0`` with ``L ≥ Q`` hidden
layers. Two hidden layers suffice whenever the class means are affinely independent and every
cluster is small compared to their separation, so ``L ≥ Q`` is sufficient, not necessary:

1. ``z = W_1 x + b_1 ∈ R^Q`` is the affine map with ``x̄_{0,j} ↦ s e_j - θ u`` (``s > θ > 0``;
   the minimum-norm solution through the pseudo-inverse of ``[X^red; uᵀ]``), then ReLU. The
   hypothesis, checked exactly on every point ``x`` of class ``j``: ``z_j > 0`` and ``z_k ≤ 0``
   for ``k ≠ j``, so ``σ(z) = z_j e_j``.
2. ``W_2 = -c (u uᵀ - 1)``, ``b_2 = β u`` with ``c · min z_j > β``: ``σ(W_2 z_j e_j + β u) = β e_j``.
3. ``W_3 = Y / β``, ``b_3 = 0``: class ``j`` is mapped to ``y_j`` exactly.

Examples
--------
>>> from symtrunc.data.labeled import LabeledData
>>> d = LabeledData.from_arrays([[12, 0, 0], [11, 1, 0], [0, 12, 0], [1, 11, 1], [0, 0, 12], [0, 1, 11]],
...                             list("aabbcc"))
>>> net = construct_two_layer(d)
>>> net.widths, net.construction.c
((3, 3, 3, 3), 2)
"""

from __future__ import annotations

from typing import Any

import flint

from symtrunc.constructions.common import check_network
from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError, HypothesisError
from symtrunc.exact.matrix import identity, pinv
from symtrunc.exact.rational import to_q
from symtrunc.network import Layer, ReLUNetwork
from symtrunc.records import TwoLayerRecord, as_rows

__all__ = ["first_layer", "construct_two_layer", "THEOREM_TWO_LAYER"]

THEOREM_TWO_LAYER = "Two hidden layers for clustered data (symtrunc reference §4; L >= Q is not necessary)"


def first_layer(data: LabeledData, s: Any = 2, theta: Any = 1) -> tuple[flint.fmpq_mat, flint.fmpq_mat, flint.fmpq]:
    """``(W_1, b_1, min_j z_j)``: the affine map ``x̄_{0,j} ↦ s e_j - θ u``, its signs checked exactly.

    Raises
    ------
    HypothesisError
        If the class means are affinely dependent, or a point of class ``j`` has ``z_j ≤ 0`` or
        ``z_k > 0`` for some ``k ≠ j`` (certificate: point, class, neuron, value).

    >>> d = LabeledData.from_arrays([[4, 0], [0, 4], [5, -1]], [0, 1, 1])
    >>> first_layer(d)
    Traceback (most recent call last):
    ...
    symtrunc.errors.HypothesisError: the clusters are too wide for two layers: point 2 (class 1) has z_1 = 7/3 > 0
    """
    s, theta = to_q(s), to_q(theta)
    if not s > theta > 0:
        raise DataError(f"need s > θ > 0, got s = {s}, θ = {theta}")
    Q, M = data.Q, data.M
    A = flint.fmpq_mat(M + 1, Q, data.means.entries() + [1] * Q)
    if A.rank() < Q:
        raise HypothesisError("the class means are affinely dependent: no affine map sends them to s e_j - θ u")
    T = flint.fmpq_mat(Q, Q, [(s if r == j else 0) - theta for r in range(Q) for j in range(Q)])
    Wb = T * pinv(A)
    W1 = flint.fmpq_mat(Q, M, [Wb[r, k] for r in range(Q) for k in range(M)])
    b1 = flint.fmpq_mat(Q, 1, [Wb[r, M] for r in range(Q)])
    Z = W1 * data.X.transpose() + b1 * flint.fmpq_mat(1, data.N, [1] * data.N)
    for i, j in enumerate(data.y):
        for k in range(Q):
            v = Z[k, i]
            if (k == j and v <= 0) or (k != j and v > 0):
                rel = "≤" if k == j else ">"
                raise HypothesisError(
                    f"the clusters are too wide for two layers: point {i} (class {data.classes[j]!r}) has "
                    f"z_{k + 1} = {v} {rel} 0",
                    {"point": i, "class": data.classes[j], "neuron": k + 1, "value": str(v)},
                )
    low = min(Z[j, i] for i, j in enumerate(data.y))  # LabeledData has at least one point
    return W1, b1, low


def construct_two_layer(data: Any, *, s: Any = 2, theta: Any = 1, beta: Any = 1, c: Any = None) -> ReLUNetwork:
    """Build the two-hidden-layer zero-loss network ``R^M → R^Q → R^Q → R^Q`` (verified exactly).

    Parameters
    ----------
    data : LabeledData or path
    s, theta : rational
        Targets ``s e_j - θ u`` of the class means in the first layer (``s > θ > 0``).
    beta : rational
        ``b_2 = β u`` (``β > 0``).
    c : rational, optional
        ``W_2 = -c(u uᵀ - 1)``; default the smallest integer with ``c · min_j z_j > β``.

    Raises
    ------
    HypothesisError
        If the means are affinely dependent, a cluster is too wide (see :func:`first_layer`), or
        ``c`` is too small (certificate: ``min z_j``).
    """

    data = load_data(data)
    net = _network(data, s, theta, beta, c)
    check_network(net, data)  # never hand out an unverified network
    return net


def _network(data: LabeledData, s: Any, theta: Any, beta: Any, c: Any) -> ReLUNetwork:
    """The three layers, hypotheses checked (not yet verified)."""
    W1, b1, low = first_layer(data, s, theta)
    beta = to_q(beta)
    if beta <= 0:
        raise DataError(f"need β > 0, got {beta}")
    ratio = beta / low
    c = flint.fmpq(ratio.p // ratio.q + 1) if c is None else to_q(c)
    if not c * low > beta:
        raise HypothesisError(
            f"c = {c} is too small: need c · min_j z_j > β, min_j z_j = {low}, β = {beta}", {"min_z": str(low)}
        )
    Q = data.Q
    u = flint.fmpq_mat(Q, Q, [1] * (Q * Q))
    W2 = -c * (u - identity(Q))
    b2 = flint.fmpq_mat(Q, 1, [beta] * Q)
    W3 = data.Y / beta
    record = TwoLayerRecord(
        theorem=THEOREM_TWO_LAYER, label_matrix=as_rows(data.Y), s=to_q(s), theta=to_q(theta), beta=beta, c=c, min_z=low
    )
    return ReLUNetwork(
        (Layer(W1, b1, "relu"), Layer(W2, b2, "relu"), Layer(W3, flint.fmpq_mat(Q, 1), "identity")),
        classes=data.classes,
        construction=record,
    )
