"""Class targets for verification: the label matrix of the data or of the user, never of a network file.

The target of a class is a vector in the network's output space ``R^{d_L}``. It comes from

* the user's label matrix (``label_matrix=``): column ``j`` is the target of the ``j``-th class,
  or a mapping ``{label: target vector}``;
* else the data's label matrix ``Y`` (:attr:`LabeledData.Y <symtrunc.data.labeled.LabeledData>`,
  one-hot unless the data were built with another), whose row ``i`` is the coordinate of class
  ``i``. A network that lists its classes names the class of each output: output ``r`` is the
  coordinate of class ``network.classes[r]``, so the default targets are one-hot in the network's
  output order.

Metadata stored with a network (a ``label_matrix`` recorded by a construction) are never read:
a verifier must not let the object it checks choose what it is checked against. The targets
must be linearly independent (the label matrix invertible), or zero loss would not tell the
classes apart: an all-zero network maps every point exactly to an all-zero label matrix.

Examples
--------
>>> from symtrunc.network import ReLUNetwork
>>> net = ReLUNetwork.from_rows([([[1, 0], [0, 1]], [0, 0], "identity")], classes=("b", "a"))
>>> class_targets(net, ("a", "b"))
[(0, 1), (1, 0)]
>>> class_targets(net, ("a", "b"), label_matrix={"a": [2, 1], "b": [1, 1]})
[(2, 1), (1, 1)]
>>> class_targets(net, ("a", "b"), label_matrix=[[0, 0], [0, 0]])
Traceback (most recent call last):
...
symtrunc.errors.DataError: the label matrix is singular (rank 0 for 2 classes): the class targets must be linearly independent, or zero loss would not tell the classes apart
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import flint

from symtrunc.errors import DataError, FormatError
from symtrunc.exact.matrix import identity, qmatrix, qvector

__all__ = ["class_targets"]


def class_targets(
    network: Any,
    classes: Sequence[Any],
    *,
    label_matrix: Any = None,
    Y: flint.fmpq_mat | None = None,
) -> list[tuple[flint.fmpq, ...]]:
    """The target vector of each of ``classes``, checked linearly independent.

    Parameters
    ----------
    network : ReLUNetwork
        Only its output dimension and its list of ``classes`` are used.
    classes : sequence of labels
        The classes to give targets to, in the order of the result.
    label_matrix : array-like of shape (d_L, len(classes)) or mapping, optional
        The user's targets: column ``j`` for ``classes[j]``, or ``{label: vector}`` (every class
        must be a key; all its vectors must be independent). Overrides ``Y``.
    Y : fmpq_mat of shape (len(classes), len(classes)), optional
        The data's label matrix (default: the identity, one-hot targets).

    Returns
    -------
    list of tuple of fmpq
        One target per class, of length ``network.output_dim``.

    Raises
    ------
    DataError
        If a shape does not fit, a class is unknown to the network or to the mapping, or the
        targets are linearly dependent.
    FormatError
        If the network lists a class twice.
    """
    Q, n = network.output_dim, len(classes)
    if label_matrix is not None:
        T = _user_targets(Q, classes, label_matrix)
    else:
        Yd = identity(n) if Y is None else qmatrix(Y, name="label matrix Y")
        if Yd.nrows() != n or Yd.ncols() != n:
            raise DataError(f"label matrix Y must be {n} x {n}, got {Yd.nrows()} x {Yd.ncols()}")
        T = _data_targets(network, classes, Yd)
        _independent(T, n)
    return [tuple(T[r, j] for r in range(Q)) for j in range(n)]


def _user_targets(Q: int, classes: Sequence[Any], label_matrix: Any) -> flint.fmpq_mat:
    if isinstance(label_matrix, Mapping):
        vectors = {}
        for label, v in label_matrix.items():
            q = qvector(v)
            if q.nrows() != Q:
                raise DataError(f"the target of class {label!r} has {q.nrows()} entries, the network has {Q} outputs")
            vectors[label] = q
        _independent(_columns(Q, list(vectors.values())), len(vectors))
        missing = [c for c in classes if c not in vectors]
        if missing:
            raise DataError(f"the label matrix gives no target for class {missing[0]!r}")
        return _columns(Q, [vectors[c] for c in classes])
    Ym = qmatrix(label_matrix, name="label matrix")
    if Ym.nrows() != Q or Ym.ncols() != len(classes):
        raise DataError(f"the label matrix must be {Q} x {len(classes)}, got {Ym.nrows()} x {Ym.ncols()}")
    _independent(Ym, len(classes))
    return Ym


def _data_targets(network: Any, classes: Sequence[Any], Yd: flint.fmpq_mat) -> flint.fmpq_mat:
    Q, n = network.output_dim, len(classes)
    if not network.classes:
        if n != Q:
            raise DataError(f"the network has {Q} outputs but the data have {n} classes")
        return Yd
    if len(network.classes) != Q:
        raise FormatError(f"the network lists {len(network.classes)} classes for {Q} outputs")
    if len(set(network.classes)) != len(network.classes):
        twice = next(c for i, c in enumerate(network.classes) if c in network.classes[:i])
        raise FormatError(f"the network lists class {twice!r} twice")
    for c in classes:
        if c not in network.classes:
            raise DataError(
                f"the data have class {c!r}, which the network does not know (its classes: "
                f"{', '.join(map(repr, network.classes))})"
            )
    row = {c: i for i, c in enumerate(classes)}  # the data's coordinate of each class
    return flint.fmpq_mat(Q, n, [Yd[row[c], j] if c in row else 0 for c in network.classes for j in range(n)])


def _columns(Q: int, vectors: list[flint.fmpq_mat]) -> flint.fmpq_mat:
    return flint.fmpq_mat(Q, len(vectors), [v[r, 0] for r in range(Q) for v in vectors])


def _independent(T: flint.fmpq_mat, n: int) -> None:
    r = T.rank()
    if r < n:
        raise DataError(
            f"the label matrix is singular (rank {r} for {n} classes): the class targets must "
            "be linearly independent, or zero loss would not tell the classes apart"
        )
