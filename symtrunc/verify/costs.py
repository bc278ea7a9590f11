"""Exact costs of a network on labeled data (Chen & Muñoz Ewald, eq. 2.11 and Remark 2.1).

Examples
--------
>>> from symtrunc.data import LabeledData
>>> from symtrunc.network import ReLUNetwork
>>> d = LabeledData.from_arrays([[1, 0], [0, 1], [0, 2]], ["a", "b", "b"])
>>> net = ReLUNetwork.from_rows([([[1, 0], [0, 1]], [0, 0], "identity")], classes=("a", "b"))
>>> costs(net, d)
{'half_squared': '1/2', 'class_weighted': '1/2', 'class_weighted_sqrt': 'sqrt(2)/2', 'mean_squared': '1/3'}
"""

from __future__ import annotations

from typing import Any

import flint

from symtrunc.data import LabeledData, load_data
from symtrunc.errors import DataError, FormatError
from symtrunc.exact.matrix import identity, qmatrix

__all__ = ["costs", "cost_table", "targets_for"]


def targets_for(network: Any, data: LabeledData, label_matrix: Any = None) -> list[list[flint.fmpq]]:
    """Target vector of each data class (by data class index), as the network defines them.

    The network's ``classes`` map labels to output columns of its label matrix (metadata key
    ``label_matrix``, default the identity). A network without classes uses the data's ``Y``.
    An explicit ``label_matrix`` (column ``j`` for data class ``j``) overrides both.

    Raises
    ------
    DataError
        If the data contain a label the network does not know, or the dimensions differ.
    """
    if network.input_dim != data.M:
        raise DataError(
            f"the network expects inputs of dimension {network.input_dim}, the data have dimension {data.M}"
        )
    Q = network.output_dim
    if label_matrix is not None:
        Y = qmatrix(label_matrix, name="label matrix")
        if Y.nrows() != Q or Y.ncols() != data.Q:
            raise DataError(f"the label matrix must be {Q} x {data.Q}, got {Y.nrows()} x {Y.ncols()}")
        return [[Y[r, j] for r in range(Q)] for j in range(data.Q)]
    if not network.classes:
        if data.Q != Q:
            raise DataError(f"the network has {Q} outputs but the data have {data.Q} classes")
        Y = data.Y
        return [[Y[r, j] for r in range(Q)] for j in range(data.Q)]
    Y = network.construction.get("label_matrix")
    try:
        Y = identity(Q) if Y is None else qmatrix(Y, name="label matrix")
    except (DataError, TypeError) as e:
        raise FormatError(f"construction metadata: invalid label_matrix ({e})") from None
    if Y.nrows() != Q or Y.ncols() != Q:
        raise FormatError(f"construction metadata: label_matrix must be {Q} x {Q}")
    index = {c: k for k, c in enumerate(network.classes)}
    out = []
    for c in data.classes:
        if c not in index:
            raise DataError(
                f"the data have class {c!r}, which the network does not know (its classes: "
                f"{', '.join(map(repr, network.classes))})"
            )
        out.append([Y[r, index[c]] for r in range(Q)])
    return out


def cost_table(outputs: flint.fmpq_mat, data: LabeledData, targets: list[list[flint.fmpq]]) -> dict[str, str]:
    """Exact costs from outputs (rows, shape ``(N, Q)``) and per-class targets.

    Returns ``half_squared`` = ½‖X^(L) − Y^ext‖², ``class_weighted`` = C_N = Σ_j (1/N_j) Σ_i |·|²,
    ``class_weighted_sqrt`` = √C_N (exact, sympy form) and ``mean_squared`` = (1/N) Σ |·|².
    """
    per_class = [flint.fmpq(0)] * data.Q
    rows = outputs.tolist()
    for i, j in enumerate(data.y):
        per_class[j] += sum(((v - t) ** 2 for v, t in zip(rows[i], targets[j])), flint.fmpq(0))
    total = sum(per_class, flint.fmpq(0))
    weighted = sum((s / n for s, n in zip(per_class, data.counts)), flint.fmpq(0))
    root = _sqrt_str(weighted)
    return {
        "half_squared": str(total / 2),
        "class_weighted": str(weighted),
        "class_weighted_sqrt": root,
        "mean_squared": str(total / data.N),
    }


def costs(network: Any, data: Any) -> dict[str, str]:
    """Exact costs of ``network`` on ``data`` (any network, not only constructed ones)."""
    data = load_data(data)
    return cost_table(network.forward(data), data, targets_for(network, data))


def _sqrt_str(q: flint.fmpq) -> str:
    """Exact square root as a string: rational when ``q`` is a square, else sympy's radical form.

    >>> _sqrt_str(flint.fmpq(9, 4)), _sqrt_str(flint.fmpq(1, 2))
    ('3/2', 'sqrt(2)/2')
    """
    from math import isqrt

    p, d = int(q.p), int(q.q)
    if isqrt(p) ** 2 == p and isqrt(d) ** 2 == d:
        return str(flint.fmpq(isqrt(p), isqrt(d)))
    import sympy

    return str(sympy.sqrt(sympy.Rational(p, d)))
