"""Exact costs of a network on labeled data (Chen & Muñoz Ewald, eq. 2.11 and Remark 2.1).

Examples
--------
>>> from symtrunc.data.labeled import LabeledData
>>> from symtrunc.network import ReLUNetwork
>>> d = LabeledData.from_arrays([[1, 0], [0, 1], [0, 2]], ["a", "b", "b"])
>>> net = ReLUNetwork.from_rows([([[1, 0], [0, 1]], [0, 0], "identity")], classes=("a", "b"))
>>> costs(net, d)
{'half_squared': '1/2', 'class_weighted': '1/2', 'class_weighted_sqrt': 'sqrt(2)/2', 'mean_squared': '1/3'}

The best affine output layer on given features (exact weighted least squares):

>>> fit = optimal_output_layer(d.X.transpose(), d)
>>> fit.objective, fit.costs["class_weighted"]
(0, '0')
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import flint

from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError, FormatError
from symtrunc.exact.matrix import identity, pinv, qmatrix

__all__ = [
    "costs",
    "cost_table",
    "targets_for",
    "OutputFit",
    "optimal_output_layer",
    "fitted_objective",
    "column_weights",
    "WEIGHTINGS",
]

#: Column weightings of the least-squares objective: ``"class"`` weighs a point of class ``j``
#: by ``1/N_j`` (the paper's C_N², CE23a eq. 2.36); ``"uniform"`` weighs every point by 1
#: (``2 × ½‖·‖²`` of CE24 eq. 2.11, and ``N ×`` the mean squared cost).
WEIGHTINGS = ("class", "uniform")


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
    rows = network.construction.label_matrix if network.construction is not None else None
    Y = identity(Q) if rows is None else qmatrix(rows, name="label matrix")  # exact rationals (the record)
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


def column_weights(data: LabeledData, weighting: str = "class") -> list[flint.fmpq]:
    """Weight of each point (data order) in the least-squares objective of ``weighting``.

    >>> from symtrunc.data.labeled import LabeledData
    >>> column_weights(LabeledData.from_arrays([[1, 0], [0, 1], [0, 2]], [0, 1, 1]))
    [1, 1/2, 1/2]
    """
    if weighting not in WEIGHTINGS:
        raise DataError(f"unknown weighting {weighting!r}; use one of {', '.join(WEIGHTINGS)}")
    if weighting == "uniform":
        return [flint.fmpq(1)] * data.N
    return [flint.fmpq(1, data.counts[j]) for j in data.y]


@dataclass(frozen=True)
class OutputFit:
    """An exact optimal affine output layer ``x ↦ W x + b`` on given features.

    Attributes
    ----------
    weight : flint.fmpq_mat
        ``W``, shape ``(Q, d)`` (``(out, in)`` layout).
    bias : flint.fmpq_mat
        ``b``, shape ``(Q, 1)``; the zero vector when the fit was made without a bias.
    with_bias : bool
        Whether the bias was a free parameter of the fit.
    weighting : {"class", "uniform"}
        The objective minimized (see :data:`WEIGHTINGS`).
    objective : flint.fmpq
        The exact minimum of the weighted sum of squares ``Σ_i w_i |W f_i + b - y_{j(i)}|²``:
        ``C_N²`` for ``"class"``, ``‖·‖²`` for ``"uniform"``.
    costs : dict of str
        All four exact costs of the fitted outputs (:func:`cost_table` keys).
    unique : bool
        The normal matrix ``A D Aᵀ`` is invertible, so the minimizer is unique.
    """

    weight: flint.fmpq_mat
    bias: flint.fmpq_mat
    with_bias: bool
    weighting: str
    objective: flint.fmpq
    costs: dict[str, str]
    unique: bool = True

    def outputs(self, features: flint.fmpq_mat) -> flint.fmpq_mat:
        """``W F + b u_Nᵀ`` for features as columns, shape ``(Q, N)``."""
        n = features.ncols()
        return self.weight * features + self.bias * flint.fmpq_mat(1, n, [1] * n)


def optimal_output_layer(features: Any, data: Any, *, bias: bool = True, weighting: str = "class") -> OutputFit:
    """The exact (weighted) least-squares output layer on the features of the last hidden layer.

    Minimizes ``Σ_i w_i |W f_i + b - y_{j(i)}|²`` over ``W`` (and ``b`` when ``bias``), with the
    weights of :func:`column_weights`; ``y_j`` is column ``j`` of ``data.Y``. The normal equations
    ``Θ (A D Aᵀ) = Y^ext D Aᵀ`` (``A = [F; u_Nᵀ]`` with a bias, ``A = F`` without, ``D = diag(w)``)
    are solved exactly; when ``A D Aᵀ`` is singular the minimum-norm solution
    ``Θ = Y^ext D Aᵀ (A D Aᵀ)^+`` is returned (the minimum value is the same for every solution).

    Parameters
    ----------
    features : fmpq_mat or array-like, shape (d, N)
        The exact outputs of the last hidden layer, one column per point, in data order.
    data : LabeledData or anything :func:`~symtrunc.data.labeled.load_data` reads
    bias : bool
        Fit ``b`` too (default); ``False`` forces ``b = 0`` (the cumulative output bias of
        CE23a eq. 2.54/2.71, reference D1).
    weighting : {"class", "uniform"}

    Returns
    -------
    OutputFit

    Raises
    ------
    DataError
        If the number of feature columns differs from the number of points, or the weighting is unknown.

    Examples
    --------
    >>> from symtrunc.data.labeled import LabeledData
    >>> d = LabeledData.from_arrays([[1, 0], [3, 0], [0, 1], [0, 2]], [0, 0, 1, 1])
    >>> fit = optimal_output_layer(d.X.transpose(), d, bias=False)
    >>> fit.objective, fit.costs["class_weighted_sqrt"]
    (3/10, 'sqrt(30)/10')
    >>> fit = optimal_output_layer(d.X.transpose(), d)
    >>> fit.objective < optimal_output_layer(d.X.transpose(), d, bias=False).objective
    True
    """
    data = load_data(data)
    Theta, out, objective, unique = _least_squares(features, data, bias, weighting)
    Q, d = data.Y.nrows(), Theta.ncols() - (1 if bias else 0)
    W = flint.fmpq_mat(Q, d, [Theta[r, k] for r in range(Q) for k in range(d)])
    b = flint.fmpq_mat(Q, 1, [Theta[r, d] if bias else flint.fmpq(0) for r in range(Q)])
    targets = [[data.Y[r, j] for r in range(Q)] for j in range(data.Q)]
    return OutputFit(W, b, bias, weighting, objective, cost_table(out.transpose(), data, targets), unique)


def fitted_objective(features: Any, data: LabeledData, *, bias: bool = True, weighting: str = "class") -> flint.fmpq:
    """Only the exact minimum :attr:`OutputFit.objective` of :func:`optimal_output_layer` (faster).

    >>> from symtrunc.data.labeled import LabeledData
    >>> d = LabeledData.from_arrays([[1, 0], [3, 0], [0, 1], [0, 2]], [0, 0, 1, 1])
    >>> fitted_objective(d.X.transpose(), d, bias=False)
    3/10
    """
    return _least_squares(features, data, bias, weighting)[2]


def _least_squares(features: Any, data: LabeledData, bias: bool, weighting: str):
    """``(Θ, Θ A, objective, unique)`` of the weighted least-squares output fit."""
    F = qmatrix(features, name="features")
    if F.ncols() != data.N:
        raise DataError(f"the features have {F.ncols()} columns but the data have {data.N} points")
    w = column_weights(data, weighting)
    d, n = F.nrows(), data.N
    A = flint.fmpq_mat(d + 1, n, F.entries() + [flint.fmpq(1)] * n) if bias else F
    AD = flint.fmpq_mat(A.nrows(), n, [A[r, i] * w[i] for r in range(A.nrows()) for i in range(n)])
    G = AD * A.transpose()
    R = data.Y_ext * AD.transpose()
    unique = G.rank() == G.nrows()
    if unique:
        Theta = G.transpose().solve(R.transpose()).transpose()
    else:
        Theta = R * pinv(G)
    out = Theta * A
    res = out - data.Y_ext
    objective = sum((w[i] * res[r, i] ** 2 for i in range(n) for r in range(res.nrows())), flint.fmpq(0))
    return Theta, out, objective, unique


def _sqrt_str(q: flint.fmpq) -> str:
    """Exact square root as a string: rational when ``q`` is a square, else sympy's radical form.

    >>> _sqrt_str(flint.fmpq(9, 4)), _sqrt_str(flint.fmpq(1, 2))
    ('3/2', 'sqrt(2)/2')
    """
    return _sqrt_of_ratio(int(q.p), int(q.q))


@lru_cache(maxsize=4096)
def _sqrt_of_ratio(p: int, d: int) -> str:
    """:func:`_sqrt_str` of ``p/d`` (lowest terms), kept: reports print the same values many
    times, and sympy's radical form factors the integers."""
    from math import isqrt

    if isqrt(p) ** 2 == p and isqrt(d) ** 2 == d:
        return str(flint.fmpq(isqrt(p), isqrt(d)))
    import sympy

    return str(sympy.sqrt(sympy.Rational(p, d)))
