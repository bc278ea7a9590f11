"""An independent exact reference: a plain ``fractions.Fraction`` forward pass.

Tests check symtrunc's answers with these helpers, never by re-asking the code under test
(``verify(...)`` raises on failure, so ``verify(...).zero_loss`` is always ``True`` and tests
nothing). Only the entries of ``net.layers`` and of the data are used, each converted with
``Fraction(str(v))`` (floats: their exact binary value); no symtrunc arithmetic is involved.

>>> from symtrunc.network import ReLUNetwork
>>> net = ReLUNetwork.from_rows([([[1, -1]], ["1/2"], "relu"), ([[2], [-1]], [0, 1], "identity")])
>>> fraction_forward(net, [[1, 3], ["1/4", 0]])
[[Fraction(0, 1), Fraction(1, 1)], [Fraction(3, 2), Fraction(1, 4)]]
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

__all__ = ["fraction", "fractions_of", "fraction_forward", "assert_interpolates"]


def fraction(v: Any) -> Fraction:
    """``v`` exactly: ``Fraction(str(v))`` for exact numbers (int, str, Fraction, ``flint.fmpq``),
    the exact binary value for floats (``str`` of a float is a rounded decimal).

    >>> fraction("-5/4"), fraction(2.0**-60) == Fraction(1, 2**60)
    (Fraction(-5, 4), True)
    """
    if isinstance(v, float | np.floating):
        return Fraction(float(v))
    return Fraction(str(v))


def fractions_of(rows: Any) -> list[list[Fraction]]:
    """A matrix (``flint.fmpq_mat``, numpy array or nested sequences) as rows of :func:`fraction`."""
    if hasattr(rows, "tolist"):
        rows = rows.tolist()
    return [[fraction(v) for v in row] for row in rows]


def fraction_forward(net: Any, X: Any) -> list[list[Fraction]]:
    """Outputs of ``net`` on the rows of ``X``: ``x ↦ σ(W x + b)`` layer by layer, with ``σ`` the
    ReLU on ``"relu"`` layers and the identity on ``"identity"`` layers."""
    layers = [
        (fractions_of(layer.W), [row[0] for row in fractions_of(layer.b)], layer.activation) for layer in net.layers
    ]
    out = []
    for x in fractions_of(X):
        for W, b, activation in layers:
            assert len(x) == len(W[0]), f"a layer with {len(W[0])} inputs gets {len(x)} values"
            z = [sum((w * v for w, v in zip(row, x)), Fraction(0)) + c for row, c in zip(W, b)]
            if activation == "relu":
                x = [max(v, Fraction(0)) for v in z]
            else:
                assert activation == "identity", activation
                x = z
        out.append(x)
    return out


def assert_interpolates(net: Any, data: Any, label_matrix: Any = None) -> list[list[Fraction]]:
    """Assert that ``net`` maps every point of ``data`` exactly to its target; return the outputs.

    The target of a point of class ``j`` is column ``j`` of ``label_matrix`` (default the data's
    label matrix ``data.Y``, whose columns follow ``data.classes``).
    """
    Y = fractions_of(data.Y if label_matrix is None else label_matrix)
    outputs = fraction_forward(net, data.X)
    assert len(outputs) == len(data.y)
    for i, (out, j) in enumerate(zip(outputs, data.y)):
        target = [row[j] for row in Y]
        assert out == target, f"point {i} (class {data.classes[j]!r}): output {out}, target {target}"
    return outputs
