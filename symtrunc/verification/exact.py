"""The exact checker: zero loss, and the collapse structure when the layers have it.

:func:`verify` proves in exact integer arithmetic that every training point is mapped exactly to
its target (zero loss). It trusts nothing in the network but the layers it computes with (and the
class list naming the outputs): the targets come from the data or the user
(:mod:`symtrunc.verification.targets`, one-hot by default, checked invertible), never from
metadata stored with the network.

**The structured shortcut.** When the layers themselves have the collapse structure of Theorem 5.2
and Proposition 4.1 (:func:`~symtrunc.verification.collapse.collapse_order`: hidden layers
``1..Q`` are ReLU layers and the zero vector after layer ``l`` is mapped exactly to the target
of one class ``j_l``), :func:`verify` proves, in that order,

* at hidden layer ``l`` every pre-activation of class ``j_l`` is ``≤ 0``, so the class collapses:
  its activation is the zero vector, whose output is the target of ``j_l``,
* every pre-activation of every other remaining point is ``≥ 0`` (ReLU is the identity, so the
  point's pre-activation at the next layer is given by the cumulative affine map), and the
  zero vectors of the classes collapsed earlier stay ``≥ 0`` as well,

which together give zero loss. It also reports which base points (truncated representatives of
the collapsed classes) stay fixed. A network without the structure gets a plain exact forward
pass of every point; so does every network with ``invariants=False``, and a network whose
layers have the structure while the data do not follow it (then the certificate says
``invariants_checked=False`` and ``extra["invariants_failed"]`` names the first sign that breaks
it). Only zero loss decides between success and failure.

Examples
--------
>>> from symtrunc.data.labeled import LabeledData
>>> from symtrunc.network import Layer, ReLUNetwork
>>> d = LabeledData.from_arrays([[2, 0], [3, 0], [0, 2], [0, 3]], ["a", "a", "b", "b"])
>>> net = ReLUNetwork.from_rows([
...     ([[0, 1], [-1, 2]], ["-5/4", "-3/4"], "relu"),
...     ([[3, -2], [2, -1]], ["3/2", "1/2"], "relu"),
...     ([["5/6", "-1/2"], ["-7/6", "3/2"]], [0, 1], "identity")], classes=("a", "b"))
>>> cert = verify(net, d)  # a returned certificate is the proof; failures raise
>>> cert.invariants_checked, [r.collapses for r in cert.layers]
(True, ['a', 'b', None])
>>> bad = net.with_layer(2, Layer(net.layers[2].W, net.layers[2].b * 2, "identity"))
>>> verify(bad, d)
Traceback (most recent call last):
...
symtrunc.errors.VerificationError: zero loss fails at point 0 (class 'a'), layer 3, neuron 1: value 1, expected 0

An identity activation where the structure needs a ReLU is no shortcut: the forward pass finds
that class ``a`` no longer collapses.

>>> L1 = net.layers[0]
>>> verify(net.with_layer(0, Layer(L1.W, L1.b, "identity")), d)
Traceback (most recent call last):
...
symtrunc.errors.VerificationError: zero loss fails at point 0 (class 'a'), layer 3, neuron 0: value 7/3, expected 1
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import flint
import numpy as np

from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError, VerificationError
from symtrunc.loss import cost_table
from symtrunc.network import Layer, ReLUNetwork
from symtrunc.progress import task
from symtrunc.verification.certificate import Certificate, Counterexample, LayerCheck
from symtrunc.verification.collapse import collapse_order, fixed_base_points
from symtrunc.verification.digest import data_sha256, network_sha256
from symtrunc.verification.targets import class_targets

__all__ = ["verify"]


def _gather(idx: tuple[int, ...]):
    g = itemgetter(*idx)
    return (lambda row: (g(row),)) if len(idx) == 1 else g


def verify(
    network: ReLUNetwork,
    data: Any,
    *,
    invariants: bool = True,
    label_matrix: Any = None,
) -> Certificate:
    """Prove exactly that ``network`` maps every training point to its target.

    Exact integer arithmetic on every point; :func:`symtrunc.verify`
    (:mod:`symtrunc.verification.api`) also offers the certified float filter.

    Parameters
    ----------
    network : ReLUNetwork
        Its layers and class list are used; metadata (``construction``) are never read.
    data : LabeledData or path
    invariants : bool
        Also prove the collapse structure when the layers have it (see the module docstring);
        ``False``: zero loss only, by a plain forward pass.
    label_matrix : array-like or mapping, optional
        The targets (:func:`~symtrunc.verification.targets.class_targets`): column ``j`` for the
        data's class ``j``, or ``{label: vector}``. Default: the data's label matrix ``Y``
        (one-hot unless the data were built with another). Must be invertible.

    Returns
    -------
    Certificate
        Returned only on success; it names the SHA-256 of the network and of the data.

    Raises
    ------
    VerificationError
        With ``.counterexample`` (:class:`Counterexample`): the first failing point, layer,
        neuron and exact value.
    DataError
        If the data do not fit the network (dimension, unknown labels), or the label matrix
        has the wrong shape or is singular.
    FormatError
        If the network lists a class twice or a wrong number of classes.
    """
    data = load_data(data)
    if network.input_dim != data.M:
        raise DataError(
            f"the network expects inputs of dimension {network.input_dim}, the data have dimension {data.M}"
        )
    targets = class_targets(network, data.classes, label_matrix=label_matrix, Y=data.Y)
    order = collapse_order(network, targets) if invariants else None
    checks, broken = None, ""
    if order is not None:
        try:
            checks = _verify_structured(network, data, order)
        except VerificationError as e:  # the data do not follow the layers' collapse order
            order, broken = None, str(e)
    if checks is None:
        checks = _verify_full(network, data, targets)
    N = data.N
    outputs = flint.fmpq_mat(N, network.output_dim, [t for j in data.y for t in targets[j]])
    return Certificate(
        zero_loss=True,
        n_points=N,
        input_dim=data.M,
        n_classes=data.Q,
        widths=network.widths,
        invariants_checked=order is not None,
        layers=tuple(checks),
        costs=cost_table(outputs, data, [list(t) for t in targets]),
        extra={"invariants_failed": broken} if broken else {},
        network_sha256=network_sha256(network),
        data_sha256=data_sha256(data),
        targets=tuple((c, tuple(str(v) for v in t)) for c, t in zip(data.classes, targets)),
    )


def _counterexample(check, data, cls, point, layer, neuron, value, expected) -> VerificationError:
    c = Counterexample(check, point, data.classes[cls], layer, neuron, str(value), expected)
    return VerificationError(str(c), c)


def _verify_full(network: ReLUNetwork, data: LabeledData, targets) -> list[LayerCheck]:
    """Zero loss by a full exact forward pass of every point (any network)."""
    A, s = data.integer_points
    N = data.N
    idx = data.class_indices
    gathers = [_gather(ix) for ix in idx]
    checks = []
    with task("verify: exact forward pass", total=network.depth) as progress:
        for k, values, scale in network.integer_pass(A, s):
            layer = network.layers[k]
            progress.step(f"layer {k + 1}")
            if k < network.depth - 1:
                checks.append(LayerCheck(k + 1, "truncation" if layer.activation == "relu" else "affine"))
                continue
            for j in range(data.Q):
                for r in range(layer.shape[0]):
                    want = targets[j][r] * scale
                    got = gathers[j](values[r * N : (r + 1) * N])
                    if min(got) != want or max(got) != want:
                        bad = next(v for v in got if v != want)
                        raise _counterexample(
                            "zero loss",
                            data,
                            j,
                            idx[j][got.index(bad)],
                            k + 1,
                            r,
                            flint.fmpq(bad) / scale,
                            str(targets[j][r]),
                        )
            checks.append(LayerCheck(k + 1, "output"))
    return checks


class _Inputs:
    """The data as homogeneous integer columns ``[A; s]`` (``X^T = A/s``), as int64 when small."""

    def __init__(self, data: LabeledData) -> None:
        A, s = data.integer_points
        self.s = s
        rows = [list(map(int, r)) for r in A.tolist()] + [[s] * data.N]
        self.bound = max(max((abs(v) for v in r), default=0) for r in rows)
        self.fmpz = flint.fmpz_mat(rows)
        self.int64 = np.array(rows, dtype=np.int64) if self.bound < 2**62 else None

    def affine(self, G: flint.fmpz_mat) -> np.ndarray:
        """``G [A; s]`` exactly: an int64 array when every entry provably fits, else objects."""
        Gl = [list(map(int, r)) for r in G.tolist()]
        row_bound = max(sum(abs(v) for v in r) for r in Gl) * self.bound
        if self.int64 is not None and row_bound < 2**62:
            return np.array(Gl, dtype=np.int64) @ self.int64
        H = G * self.fmpz
        return np.array([list(map(int, r)) for r in H.tolist()], dtype=object)


def _verify_structured(network: ReLUNetwork, data: LabeledData, order: tuple[int, ...]) -> list[LayerCheck]:
    """The collapse structure, proved by induction over the layers (it implies zero loss).

    If ReLU acted as the identity on a point in layers ``1..l-1`` (checked: pre-activations
    ``≥ 0``), its pre-activation at layer ``l`` is exactly ``W^(l) x + b^(l)`` (cumulative
    parameters computed from the layers). So the remaining points are checked with the small
    cumulative maps applied to the raw integer inputs. A class whose pre-activations at a ReLU
    layer are all ``≤ 0`` has the zero activation vector there, so from then on one exact
    representative stands for every point of the class; :func:`collapse_order` chose the order
    so that this representative leaves the network exactly at the class's target.
    """
    inputs = _Inputs(data)
    idx = [np.array(ix, dtype=np.intp) for ix in data.class_indices]
    cumulative = network.cumulative()
    reps: dict[int, flint.fmpq_mat] = {}  # collapsed class -> exact activation after the layer
    checks: list[LayerCheck] = []
    fixed = fixed_base_points(network, order)
    with task("verify: exact collapse checks", total=len(order)) as progress:
        for k, jc in enumerate(order):
            layer = network.layers[k]  # a ReLU layer (collapse_order checked it)
            for jj in reps:  # collapsed classes: one exact representative each, kept by ReLU
                z = layer.W * reps[jj] + layer.b
                neg = next((r for r in range(z.nrows()) if z[r, 0] < 0), None)
                if neg is not None:
                    raise _counterexample(
                        "identity sign", data, jj, data.class_indices[jj][0], k + 1, neg, z[neg, 0], ">= 0"
                    )
                reps[jj] = z
            G, de = Layer(*cumulative[k]).integer_form
            scale = de * inputs.s
            H = inputs.affine(G)
            for j in [jc] + [j for j in range(data.Q) if j != jc and j not in reps]:
                sub = H[:, idx[j]]
                if j == jc:
                    pos = np.argwhere(sub > 0)
                    check, expected = "collapse sign", "<= 0"
                else:
                    pos = np.argwhere(sub < 0)
                    check, expected = "identity sign", ">= 0"
                if len(pos):
                    r, i = int(pos[0][0]), int(pos[0][1])
                    raise _counterexample(
                        check, data, j, data.class_indices[j][i], k + 1, r, flint.fmpq(int(sub[r, i]), scale), expected
                    )
            reps[jc] = flint.fmpq_mat(layer.shape[0], 1)
            checks.append(
                LayerCheck(
                    k + 1,
                    "truncation",
                    data.classes[jc],
                    data.counts[jc],
                    sum(data.counts[j] for j in range(data.Q) if j != jc),
                    tuple(data.classes[j] for j in fixed[k]),
                )
            )
            progress.step(f"layer {k + 1} collapses class {data.classes[jc]!r}")
    for k in range(len(order), network.depth):
        kind = (
            "output"
            if k == network.depth - 1
            else ("truncation" if network.layers[k].activation == "relu" else "affine")
        )
        checks.append(LayerCheck(k + 1, kind))
    return checks
