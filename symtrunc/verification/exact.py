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
>>> from symtrunc.data.labeled import LabeledData
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
import numpy as np

from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError, FormatError, VerificationError
from symtrunc.exact.matrix import qvector
from symtrunc.network import Layer, ReLUNetwork
from symtrunc.geometry.truncation import relu
from symtrunc.verification.certificate import Certificate, Counterexample, LayerCheck
from symtrunc.loss import cost_table, targets_for

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
    network: ReLUNetwork,
    data: Any,
    *,
    invariants: bool = True,
    label_matrix: Any = None,
    method: str = "exact",
    **options: Any,
) -> Certificate:
    """Prove exactly that ``network`` maps every training point to its label.

    Parameters
    ----------
    network : ReLUNetwork
    data : LabeledData or path
        With ``method="certified"``: anything :func:`symtrunc.data.stream.open_source` accepts
        (arrays with ``labels=``, ``.npy``/``.npz``/``.csv`` files, shard patterns, dask arrays).
    invariants : bool
        Also check the layer invariants of the construction (when its metadata give them).
    label_matrix : array-like, optional
        Targets to check against instead of the network's own: column ``j`` is the target of
        the data's class ``j``.
    method : {"exact", "certified"}
        ``"exact"``: exact integer arithmetic on every point. ``"certified"``: a float64 filter
        with rigorous error bounds and exact fallback, streamed in chunks
        (:func:`symtrunc.verification.certified.verify_certified`; same guarantee, much faster on
        many points).
    **options
        For ``method="certified"``: ``labels``, ``chunk_size``, ``client``, ``progress``, ``tuning``.

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
    if method == "certified":
        from symtrunc.verification.certified import verify_certified

        return verify_certified(network, data, invariants=invariants, label_matrix=label_matrix, **options)
    if method != "exact":
        raise DataError(f"unknown verification method {method!r}; use 'exact' or 'certified'")
    if options:
        raise TypeError(f"verify() got unexpected keyword argument(s) for method='exact': "
                        f"{', '.join(sorted(options))}")
    data = load_data(data)
    targets = targets_for(network, data, label_matrix)
    plan = collapse_plan(network, data) if invariants else None
    if plan is None:
        checks = _verify_full(network, data, targets)
    else:
        projected = bool((network.construction or {}).get("widths_shrink"))
        checks = _verify_structured(network, data, targets, plan, check_points=not projected)
    N = data.N
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
    for k, values, scale in network.integer_pass(A, s):
        layer = network.layers[k]
        if k < network.depth - 1:
            checks.append(LayerCheck(k + 1, "truncation" if layer.activation == "relu" else "affine"))
            continue
        for j in range(data.Q):
            for r in range(layer.shape[0]):
                want = targets[j][r] * scale
                got = gathers[j](values[r * N:(r + 1) * N])
                if min(got) != want or max(got) != want:
                    bad = next(v for v in got if v != want)
                    raise _counterexample("zero loss", data, j, idx[j][got.index(bad)], k + 1, r,
                                          flint.fmpq(bad) / scale, str(targets[j][r]))
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


def _verify_structured(network, data, targets, plan, *, check_points: bool) -> list[LayerCheck]:
    """Zero loss and the layer invariants, proved by induction over the layers.

    If ReLU acted as the identity on a point in layers ``1..l-1`` (checked: pre-activations
    ``≥ 0``), its pre-activation at layer ``l`` is exactly ``W^(l) x + b^(l)`` (cumulative
    parameters computed from the layers). So the uncollapsed points are checked with the small
    cumulative maps applied to the raw integer inputs. A class whose pre-activations are all
    ``≤ 0`` has the zero activation vector at that layer, so from then on one exact
    representative stands for every point of the class.
    """
    inputs = _Inputs(data)
    idx = [np.array(ix, dtype=np.intp) for ix in data.class_indices]
    cumulative = network.cumulative()
    reps: dict[int, flint.fmpq_mat] = {}  # collapsed class -> exact activation after the layer
    order: list[int] = []
    checks: list[LayerCheck] = []
    for k, layer in enumerate(network.layers):
        out = layer.shape[0]
        for jj in order:  # collapsed classes: one exact representative each
            z = layer.W * reps[jj] + layer.b
            if layer.activation == "relu":
                neg = next((r for r in range(out) if z[r, 0] < 0), None)
                if neg is not None and k < len(plan):
                    raise _counterexample("identity sign", data, jj, data.class_indices[jj][0], k + 1,
                                          neg, z[neg, 0], ">= 0")
                z = relu(z)
            reps[jj] = z
        if k >= len(plan):
            if k == network.depth - 1:
                for jj in order:
                    for r in range(out):
                        if reps[jj][r, 0] != targets[jj][r]:
                            raise _counterexample("zero loss", data, jj, data.class_indices[jj][0], k + 1,
                                                  r, reps[jj][r, 0], str(targets[jj][r]))
                checks.append(LayerCheck(k + 1, "output"))
            else:
                checks.append(LayerCheck(k + 1, "truncation" if layer.activation == "relu" else "affine"))
            continue
        jc, _ = plan[k]
        Wc, bc = cumulative[k]
        G, de = Layer(Wc, bc).integer_form
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
                raise _counterexample(check, data, j, data.class_indices[j][i], k + 1, r,
                                      flint.fmpq(int(sub[r, i]), scale), expected)
        reps[jc] = flint.fmpq_mat(out, 1)
        order.append(jc)
        fixed = []
        if check_points:  # truncated representatives equal the base points: x^(l) = W^(l) p + b^(l)
            for jj, p in plan[: k + 1]:
                want = Wc * p + bc
                if reps[jj] != want:
                    r = next(i for i in range(out) if reps[jj][i, 0] != want[i, 0])
                    raise _counterexample("collapse point", data, jj, data.class_indices[jj][0], k + 1, r,
                                          reps[jj][r, 0], f"{want[r, 0]} (image of the base point)")
                if jj != jc:
                    fixed.append(data.classes[jj])
        checks.append(LayerCheck(k + 1, "truncation", data.classes[jc], data.counts[jc],
                                 sum(data.counts[j] for j in range(data.Q) if j != jc), tuple(fixed)))
    return checks
