"""The collapse structure of a network, read off its layers (never off its metadata).

The networks of Theorem 5.2 and Proposition 4.1 collapse one class per hidden layer: at hidden
layer ``l`` every pre-activation of the points of class ``j_l`` is ``≤ 0``, so their activation
is the zero vector, while ReLU acts as the identity on every remaining point. A point that
collapses at layer ``l`` leaves the network at the output of the zero vector after layer ``l``,

    c_l = N_{l+1..L}(0)   (the later layers applied to 0, with their own activations),

so with zero loss ``c_l`` is the target of ``j_l``. :func:`collapse_order` reads the order off
the layers this way: hidden layers ``1..m`` (``m`` classes) must be ReLU layers and each
``c_l`` must be the target of exactly one class, a different class for each layer. Nothing
but the layers and the targets is used, so a network file cannot claim a structure its layers
do not have. Whether the data really collapse in this order is then proved sign by sign by the
verifiers; a network without the structure, or whose data do not follow it, is checked by a
plain exact forward pass.

Examples
--------
>>> from symtrunc.network import ReLUNetwork
>>> net = ReLUNetwork.from_rows([
...     ([[0, 1], [-1, 2]], ["-5/4", "-3/4"], "relu"),
...     ([[3, -2], [2, -1]], ["3/2", "1/2"], "relu"),
...     ([["5/6", "-1/2"], ["-7/6", "3/2"]], [0, 1], "identity")])
>>> one_hot = [(1, 0), (0, 1)]
>>> collapse_order(net, one_hot)
(0, 1)
>>> base_points(net, (0, 1))[0].transpose()
[7/4, 5/4]
>>> fixed_base_points(net, (0, 1))
[(), (0,)]

With the first hidden layer turned into an identity layer the zero vector no longer stands for
the first class, so the network has no collapse structure:

>>> from symtrunc.network import Layer
>>> L1 = net.layers[0]
>>> collapse_order(net.with_layer(0, Layer(L1.W, L1.b, "identity")), one_hot) is None
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flint

from symtrunc.exact.matrix import frozen, pinv
from symtrunc.geometry.truncation import relu

__all__ = ["collapse_order", "zero_outputs", "ZeroPaths", "base_points", "fixed_base_points"]


def zero_outputs(network: Any, l: int) -> list[flint.fmpq_mat]:
    """Pre-activations of layers ``l+1 .. L`` (0-based ``l``) when the activation after layer ``l`` is 0.

    The last entry is the output ``c_l``.
    """
    h = flint.fmpq_mat(network.layers[l].shape[0], 1)
    out = []
    for layer in network.layers[l + 1 :]:
        z = layer.W * h + layer.b
        out.append(z)
        h = relu(z) if layer.activation == "relu" else z
    return out


class ZeroPaths:
    """:func:`zero_outputs` of one network for each layer ``l``, computed on first use and kept.

    The collapse order, the identity signs of collapsed classes and the fixed base points all
    follow the zero vector through the later layers; one verification computes each path once.
    The network is immutable and the paths are read-only, so they stay valid as long as this
    object lives.

    >>> from symtrunc.network import ReLUNetwork
    >>> net = ReLUNetwork.from_rows([([[1]], [-1], "relu"), ([[2]], [3], "identity")])
    >>> paths = ZeroPaths(net)
    >>> paths[0], paths[0] is paths[0]
    (([3],), True)
    """

    def __init__(self, network: Any) -> None:
        self._network = network
        self._paths: dict[int, tuple[flint.fmpq_mat, ...]] = {}

    def __getitem__(self, l: int) -> tuple[flint.fmpq_mat, ...]:
        if l not in self._paths:
            self._paths[l] = tuple(frozen(z) for z in zero_outputs(self._network, l))
        return self._paths[l]


def collapse_order(
    network: Any, targets: Sequence[Sequence[flint.fmpq]], paths: ZeroPaths | None = None
) -> tuple[int, ...] | None:
    """The class collapsed by each hidden layer ``1..m`` (``m = len(targets)``), or ``None``.

    Parameters
    ----------
    network : ReLUNetwork
    targets : sequence of target vectors, one per class (linearly independent, hence distinct)
    paths : ZeroPaths, optional
        The network's zero paths, when the caller shares them.

    Returns
    -------
    tuple of int or None
        ``order[l]`` is the index of the class whose target is ``c_l``; ``None`` when the network
        has fewer than ``m`` hidden layers, one of the first ``m`` is not a ReLU layer, or the
        ``c_l`` are not the ``m`` targets in some order.
    """
    m = len(targets)
    if m == 0 or m > network.depth - 1 or any(network.layers[l].activation != "relu" for l in range(m)):
        return None
    paths = ZeroPaths(network) if paths is None else paths
    index = {tuple(t): j for j, t in enumerate(targets)}
    order = []
    for l in range(m):
        out = paths[l][-1]
        j = index.get(tuple(out.entries()))
        if j is None or j in order:
            return None
        order.append(j)
    return tuple(order)


def base_points(network: Any, order: Sequence[int]) -> list[flint.fmpq_mat]:
    """The base point ``p_l = (W^(l))^+ (0 - b^(l))`` of each collapse layer: the truncated
    representative of the zero activation, in input space (cumulative parameters ``W^(l), b^(l)``).
    """
    return [_base_point(W, b)[0] for W, b in network.cumulative()[: len(order)]]


def _base_point(W: flint.fmpq_mat, b: flint.fmpq_mat) -> tuple[flint.fmpq_mat, bool]:
    """``(W^+ (-b), full)``, exactly, with ``full`` whether ``W`` has full column rank: a linear
    solve when it has (``W^{-1}`` when square, ``W^+ = (WᵀW)^{-1}Wᵀ`` when tall), else the
    pseudo-inverse."""
    if W.nrows() == W.ncols():
        try:
            return W.solve(-b), True
        except ZeroDivisionError:  # singular
            return pinv(W) * (-b), False
    if W.rank() == W.ncols():
        Wt = W.transpose()
        return (Wt * W).solve(Wt * (-b)), True
    return pinv(W) * (-b), False


def fixed_base_points(
    network: Any, order: Sequence[int], cumulative: Sequence | None = None, paths: ZeroPaths | None = None
) -> list[tuple[int, ...]]:
    """For each collapse layer ``k``, the earlier collapsed classes whose truncated representative
    ``(W^(k))^+ (x^(k) - b^(k))`` equals their base point (exact comparison).

    ``x^(k)`` is the class's activation after layer ``k``, computed from the zero vector at its
    collapse layer through the layers in between. With invertible cumulative maps every base
    point stays fixed once the later ReLUs act as the identity on it; with shrinking widths, where
    the paper's argument has a gap, the comparison may fail and the class is not listed.
    ``cumulative`` and ``paths``, when given, are the network's cumulative parameters and
    :class:`ZeroPaths`, computed once by the caller.
    """
    cumulative = network.cumulative() if cumulative is None else cumulative
    paths = ZeroPaths(network) if paths is None else paths
    points, full = zip(*(_base_point(W, b) for W, b in cumulative[: len(order)])) if order else ((), ())
    fixed = []
    for k in range(len(order)):
        W, b = cumulative[k]
        fixed.append(
            tuple(order[l] for l in range(k) if _pseudo_equal(W, relu(paths[l][k - l - 1]) - b, points[l], full[k]))
        )
    return fixed


def _pseudo_equal(W: flint.fmpq_mat, y: flint.fmpq_mat, p: flint.fmpq_mat, full_rank: bool) -> bool:
    """Whether ``W^+ y = p``, exactly. With full column rank (``full_rank``) ``W^+ = (WᵀW)^{-1}Wᵀ``,
    so this is ``Wᵀ (y - W p) = 0`` (products only, no inverse); otherwise with the pseudo-inverse."""
    if full_rank and W.nrows() == W.ncols():  # invertible: W^+ y = p iff y = W p
        return bool(y == W * p)
    if full_rank:
        r = W.transpose() * (y - W * p)
        return all(v == 0 for v in r.entries())
    return bool(pinv(W) * y == p)
