"""The exact checker: zero loss and the layer invariants of the constructions.

For a network built by Theorem 5.2 or Proposition 4.1 (its metadata gives the collapse order
and the base points ``p_l``), :func:`verify` proves in exact integer arithmetic that

* at hidden layer ``l`` every pre-activation of class ``l`` is ``≤ 0`` (the class collapses:
  its activation is the zero vector and its truncated representative is ``p_l``),
* every pre-activation of every other point is ``≥ 0`` (ReLU is the identity: later classes are
  unchanged and earlier base points stay fixed),
* after each layer the truncated representative ``(W^(l))^+ (x^(l) - b^(l))`` of each collapsed
  class equals its base point (for networks whose widths shrink, where the paper's argument
  has a gap, only the signs and zero loss are certified),
* every training point is mapped exactly to its label (zero loss).

Any network can be checked for zero loss; the invariants are checked when the metadata allow.

Examples
--------
>>> from symtrunc.data import LabeledData
>>> from symtrunc.network import ReLUNetwork
>>> d = LabeledData.from_arrays([[2, 0], [3, 0], [0, 2], [0, 3]], ["a", "a", "b", "b"])
>>> net = ReLUNetwork.from_rows([
...     ([[0, 1], [-1, 2]], ["-5/4", "-3/4"], "relu"),
...     ([[3, -2], [2, -1]], ["3/2", "1/2"], "relu"),
...     ([["5/6", "-1/2"], ["-7/6", "3/2"]], [0, 1], "identity")], classes=("a", "b"))
>>> verify(net, d).zero_loss
True
>>> bad = net.with_layer(2, net.layers[2].__class__(net.layers[2].W, net.layers[2].b * 2, "identity"))
>>> verify(bad, d)
Traceback (most recent call last):
...
symtrunc.errors.VerificationError: zero loss fails at point 0 (class 'a'), layer 3, neuron 1: value 1, expected 0
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import flint

from symtrunc.data import LabeledData, load_data
from symtrunc.errors import DataError, FormatError, VerificationError
from symtrunc.exact.matrix import pinv, qvector
from symtrunc.network import ReLUNetwork
from symtrunc.verify.certificate import Certificate, Counterexample, LayerCheck
from symtrunc.verify.costs import cost_table, targets_for

__all__ = ["verify", "collapse_plan"]


def collapse_plan(network: ReLUNetwork, data: LabeledData) -> list[tuple[int, flint.fmpq_mat]] | None:
    """``[(data class index, base point), ...]`` in collapse order, from the network's metadata.

    Returns ``None`` when the metadata do not describe a collapse order for these data.
    """
    info = network.construction or {}
    order, steps = info.get("order"), info.get("steps")
    if not order or not steps or len(order) != len(steps):
        return None
    index = {c: j for j, c in enumerate(data.classes)}
    if sorted(map(repr, order)) != sorted(map(repr, data.classes)) or any(c not in index for c in order):
        return None
    if len(order) > network.depth - 1:
        return None
    plan = []
    for k, (c, step) in enumerate(zip(order, steps), 1):
        try:
            p = qvector(step["base_point"])
        except (KeyError, TypeError, DataError) as e:
            raise FormatError(f"construction metadata, step {k}: no valid base point ({e})") from None
        if p.nrows() != data.M:
            raise FormatError(f"construction metadata, step {k}: base point has {p.nrows()} "
                              f"coordinates, expected {data.M}")
        plan.append((index[c], p))
    return plan


def _gather(idx: tuple[int, ...]):
    g = itemgetter(*idx)
    return (lambda row: (g(row),)) if len(idx) == 1 else g


def verify(
    network: ReLUNetwork, data: Any, *, invariants: bool = True, label_matrix: Any = None
) -> Certificate:
    """Prove exactly that ``network`` maps every training point to its label.

    Parameters
    ----------
    network : ReLUNetwork
    data : LabeledData or path
    invariants : bool
        Also check the layer invariants of the construction (when its metadata give them).
    label_matrix : array-like, optional
        Targets to check against instead of the network's own: column ``j`` is the target of
        the data's class ``j``.

    Returns
    -------
    Certificate

    Raises
    ------
    VerificationError
        With ``.counterexample`` (:class:`Counterexample`): the first failing point, layer,
        neuron and exact value.
    DataError
        If the data do not fit the network (dimension, unknown labels).
    FormatError
        If the network's construction metadata are malformed.
    """
    data = load_data(data)
    targets = targets_for(network, data, label_matrix)
    plan = collapse_plan(network, data) if invariants else None
    A, s = data.integer_points
    N = data.N
    idx = data.class_indices
    gathers = [_gather(ix) for ix in idx]
    cumulative = network.cumulative() if plan else None
    projected = bool((network.construction or {}).get("widths_shrink"))
    checks: list[LayerCheck] = []

    def fail(check: str, cls: int, row: list, layer: int, neuron: int, m, scale: int, expected: str):
        pos = next(i for i in idx[cls] if row[i] == m)
        value = str(flint.fmpq(m) / scale)
        c = Counterexample(check, pos, data.classes[cls], layer, neuron, value, expected)
        raise VerificationError(str(c), c)

    for k, values, scale in network.integer_pass(A, s):
        layer = network.layers[k]
        out = layer.shape[0]
        rows = [values[r * N:(r + 1) * N] for r in range(out)]
        if layer.activation == "identity" and k == network.depth - 1:
            for j in range(data.Q):
                for r in range(out):
                    want = targets[j][r] * scale
                    got = gathers[j](rows[r])
                    if min(got) != want or max(got) != want:
                        bad = next(v for v in got if v != want)
                        pos = idx[j][got.index(bad)]
                        c = Counterexample("zero loss", pos, data.classes[j], k + 1, r,
                                           str(flint.fmpq(bad) / scale), str(targets[j][r]))
                        raise VerificationError(str(c), c)
            checks.append(LayerCheck(k + 1, "output"))
            continue
        if plan is None or k >= len(plan):
            checks.append(LayerCheck(k + 1, "truncation" if layer.activation == "relu" else "affine"))
            continue
        jc, _ = plan[k]
        for r in range(out):
            row = rows[r]
            m = max(gathers[jc](row))
            if m > 0:
                fail("collapse sign", jc, row, k + 1, r, m, scale, "<= 0")
            for j in range(data.Q):
                if j != jc:
                    m = min(gathers[j](row))
                    if m < 0:
                        fail("identity sign", j, row, k + 1, r, m, scale, ">= 0")
        fixed = []
        if projected:  # shrinking widths: only signs and zero loss are certified
            checks.append(LayerCheck(k + 1, "truncation", data.classes[jc], data.counts[jc], N - data.counts[jc]))
            continue
        # truncated representatives of the collapsed classes equal their base points
        Wc, bc = cumulative[k]
        Wp = pinv(Wc)
        for jj, p in plan[: k + 1]:
            first = idx[jj][0]
            act = flint.fmpq_mat(out, 1, [max(rows[r][first], 0) for r in range(out)]) / scale
            rep = Wp * (act - bc)
            want = Wp * (Wc * p)
            if rep != want:
                diff = next(i for i in range(rep.nrows()) if rep[i, 0] != want[i, 0])
                c = Counterexample("collapse point", first, data.classes[jj], k + 1, diff,
                                   str(rep[diff, 0]), f"{want[diff, 0]} (base point coordinate)")
                raise VerificationError(str(c), c)
            if jj != jc:
                fixed.append(data.classes[jj])
        checks.append(LayerCheck(
            k + 1, "truncation", data.classes[jc], data.counts[jc], N - data.counts[jc], tuple(fixed)
        ))
    outputs = flint.fmpq_mat(N, data.Q, [t for j in data.y for t in targets[j]])
    return Certificate(
        zero_loss=True,
        n_points=N,
        input_dim=data.M,
        n_classes=data.Q,
        widths=network.widths,
        invariants_checked=plan is not None,
        layers=tuple(checks),
        costs=cost_table(outputs, data, targets),
        theorem=str((network.construction or {}).get("theorem", "")),
    )

