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

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import flint
import numpy as np

from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError, VerificationError
from symtrunc.exact.affine_signs import AffineSigns
from symtrunc.exact.common_denominator import affine_form
from symtrunc.exact.evaluate import exact_values, first_mismatch
from symtrunc.network import ReLUNetwork
from symtrunc.progress import task
from symtrunc.verification.certificate import ZERO_COSTS, Certificate, Counterexample, LayerCheck
from symtrunc.verification.collapse import ZeroPaths, collapse_order, fixed_base_points
from symtrunc.verification.digest import data_sha256, network_sha256
from symtrunc.verification.targets import class_targets

__all__ = ["verify"]

_BLOCK = 1 << 19  # entries per block of points (points x widest layer) held at a time


def verify(
    network: ReLUNetwork,
    data: Any,
    *,
    invariants: bool = True,
    label_matrix: Any = None,
    digests: bool = True,
) -> Certificate:
    """Prove exactly that ``network`` maps every training point to its target.

    Exact integer arithmetic on every point (float64 BLAS only where every integer provably fits,
    or as a filter with a rigorous error bound whose undecided points are computed exactly:
    :mod:`symtrunc.exact.evaluate`); :func:`symtrunc.verify`
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
    digests : bool
        ``False``: skip the SHA-256 digests of the network and the data; the certificate then
        names neither and cannot be re-checked against files (for a check whose certificate is
        not kept, such as the one every construction runs).

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
    paths = ZeroPaths(network)
    order = collapse_order(network, targets, paths) if invariants else None
    checks, broken = None, ""
    with ThreadPoolExecutor(1) as pool:  # the digests on a second thread (hashlib releases the GIL)
        hashed = pool.submit(lambda: (network_sha256(network), data_sha256(data)) if digests else ("", ""))
        if order is not None:
            try:
                checks = _verify_structured(network, data, order, paths)
            except VerificationError as e:  # the data do not follow the layers' collapse order
                order, broken = None, str(e)
        if checks is None:
            checks = _verify_full(network, data, targets)
        network_digest, data_digest = hashed.result()
    return Certificate(
        zero_loss=True,
        n_points=data.N,
        input_dim=data.M,
        n_classes=data.Q,
        widths=network.widths,
        invariants_checked=order is not None,
        layers=tuple(checks),
        costs=dict(ZERO_COSTS),  # every output equals its target exactly
        extra={"invariants_failed": broken} if broken else {},
        network_sha256=network_digest,
        data_sha256=data_digest,
        targets=tuple((c, tuple(str(v) for v in t)) for c, t in zip(data.classes, targets)),
    )


def _counterexample(check, data, cls, point, layer, neuron, value, expected) -> VerificationError:
    c = Counterexample(check, point, data.classes[cls], layer, neuron, str(value), expected)
    return VerificationError(str(c), c)


def _verify_full(network: ReLUNetwork, data: LabeledData, targets) -> list[LayerCheck]:
    """Zero loss by a full exact forward pass of every point (any network), block by block.

    :func:`~symtrunc.exact.evaluate.exact_values` runs each block of points through the layers
    (float64 BLAS while provably exact, then one python-flint product per layer). The
    counterexample is the first failing point in data order, at its first wrong output.
    """
    A, s, _ = data.scaled_rows
    labels = data.labels
    N, L = data.N, network.depth
    step = max(1, _BLOCK // max(network.widths))
    with task("verify: exact forward pass", total=-(-N // step)) as progress:
        for lo in range(0, N, step):
            out = exact_values(network, A[lo : lo + step], s)
            bad = first_mismatch(out, labels[lo : lo + step], targets)
            if bad is not None:
                i, r, value = bad
                j = int(labels[lo + i])
                raise _counterexample("zero loss", data, j, lo + i, L, r, value, str(targets[j][r]))
            progress.step(f"points {lo + 1}..{min(lo + step, N)}")
    kinds = ["truncation" if layer.activation == "relu" else "affine" for layer in network.layers[:-1]]
    return [LayerCheck(k + 1, kind) for k, kind in enumerate(kinds + ["output"])]


def _collapse_signs(
    network: ReLUNetwork, data: LabeledData, order: tuple[int, ...], cumulative: list
) -> list[tuple | None]:
    """For each collapse layer ``k``: the first sign that breaks the collapse structure, as
    ``(check, class, point, neuron, value, expected)``, or ``None``.

    At layer ``k`` the points of the classes not collapsed before are checked: the
    pre-activations of class ``order[k]`` must be ``≤ 0``, the others ``≥ 0``; they are the
    cumulative integer map applied to the integer inputs, whose signs
    :class:`~symtrunc.exact.affine_signs.AffineSigns` proves (blocks of points, every layer per block).
    The first failure is searched in a fixed order: class ``order[k]`` first, then the other
    classes by index; within a class the lowest neuron, then the first point.
    """
    A, s, bound = data.scaled_rows
    F = data.float_rows  # A as float64 (exact), when every entry is below 2^53
    labels = data.labels
    rank = np.empty(data.Q, dtype=np.intp)
    rank[list(order)] = np.arange(len(order))
    point_rank = rank[labels]
    forms = [affine_form(W, b) for W, b in cumulative[: len(order)]]
    signs = [AffineSigns(G, s, bound) for G, _ in forms]
    first: list[dict[tuple[int, int], int]] = [{} for _ in order]  # (class, neuron) -> first point
    step = max(1, _BLOCK // (data.M + 1))
    for lo in range(0, data.N, step):
        blk, pr, lab = A[lo : lo + step], point_rank[lo : lo + step], labels[lo : lo + step]
        Af = None if blk.dtype == object else F[lo : lo + step] if F is not None else blk.astype(np.float64)
        for k, jc in enumerate(order):
            rows = np.flatnonzero(pr >= k)
            if not rows.size:
                break
            full = rows.size == len(blk)
            sg = signs[k](blk if full else blk[rows], Af if full or Af is None else Af[rows])
            lk = lab if full else lab[rows]
            collapse = lk == jc
            broken = np.where(collapse, sg.max(axis=1) > 0, sg.min(axis=1) < 0)
            if broken.any():
                bad = np.where(collapse[:, None], sg > 0, sg < 0)
                for j in np.unique(lk[broken]).tolist():
                    sel = np.flatnonzero(lk == j)
                    cols = bad[sel]
                    for r in np.flatnonzero(cols.any(axis=0)).tolist():
                        first[k].setdefault((j, r), lo + int(rows[sel[int(np.argmax(cols[:, r]))]]))
    out: list[tuple | None] = []
    for k, jc in enumerate(order):
        if not first[k]:
            out.append(None)
            continue
        j = min({c for c, _ in first[k]}, key=lambda c: (c != jc, c))
        r = min(n for c, n in first[k] if c == j)
        i = first[k][(j, r)]
        value = flint.fmpq(signs[k].value(r, A[i].tolist()), forms[k][1] * s)
        check, expected = ("collapse sign", "<= 0") if j == jc else ("identity sign", ">= 0")
        out.append((check, j, i, r, value, expected))
    return out


def _verify_structured(
    network: ReLUNetwork, data: LabeledData, order: tuple[int, ...], paths: ZeroPaths
) -> list[LayerCheck]:
    """The collapse structure, proved by induction over the layers (it implies zero loss).

    If ReLU acted as the identity on a point in layers ``1..l-1`` (checked: pre-activations
    ``≥ 0``), its pre-activation at layer ``l`` is exactly ``W^(l) x + b^(l)`` (cumulative
    parameters computed from the layers). So the remaining points are checked with the small
    cumulative maps applied to the raw integer inputs (exact signs: float64 BLAS, exact or as a
    certified filter with an exact python-flint fallback). A class whose pre-activations at a
    ReLU layer are all ``≤ 0`` has the zero activation vector there, so from then on one exact
    representative stands for every point of the class (``paths``: the zero vector followed
    through the later layers); :func:`collapse_order` chose the order so that this
    representative leaves the network exactly at the class's target.
    """
    checks: list[LayerCheck] = []
    cumulative = network.cumulative()
    fixed = fixed_base_points(network, order, cumulative, paths)
    signs = _collapse_signs(network, data, order, cumulative)
    with task("verify: exact collapse checks", total=len(order)) as progress:
        for k, jc in enumerate(order):
            for l in range(k):  # collapsed classes: one exact representative each, kept by ReLU
                z = paths[l][k - l - 1]
                neg = next((r for r, v in enumerate(z.entries()) if v < 0), None)
                if neg is not None:
                    jj = order[l]
                    raise _counterexample(
                        "identity sign", data, jj, data.class_indices[jj][0], k + 1, neg, z[neg, 0], ">= 0"
                    )
            broken = signs[k]
            if broken is not None:
                check, j, i, r, value, expected = broken
                raise _counterexample(check, data, j, i, k + 1, r, value, expected)
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
