r"""Shallow networks and the L² cost (Chen & Muñoz Ewald, arXiv 2309.10370, as cited by arXiv 2309.10639).

One hidden ReLU layer ``R^M → R^M → R^Q`` with ``Q ≤ M`` and the paper's class-weighted cost
``C_N = ‖X^(2) - Y^ext‖_{L²_N}`` (``C_N² = Σ_j (1/N_j) Σ_i |·|²``). With the barycentric noise
``Δ_1 = (X^red)^+ ΔX_0`` (``Q x N``), ``Δ_2 = Δ_1 N^{-1} Δ_1ᵀ``, ``δ_P = max_{j,i} |Δ_1 e_{j,i}|`` and
``B = Δ_2 (1 + Δ_2)^{-1}``:

* **upper bound** (reference §2.2): the network ``W_1 = R P`` (``P = X^red (X^red)^+``, ``R``
  orthogonal), ``b_1 = β u`` (``σ = id`` on the data), ``W_2 = Y (X^red)^+ Rᵀ``, ``b_2 = -W_2 b_1``
  maps ``x_{j,i}`` to ``y_j + Y Δ_1 e_{j,i}``, so ``C_N = ‖Y Δ_1‖_{L²_N} ≤ √Q ‖Y‖_op δ_P``;
* **identity regime, M = Q** (reference §2.3): with all pre-activations positive the network is
  affine on the data; the paper's value (2.71) is ``V_paper² = Tr(Y B Yᵀ)``, the minimum over the
  output layer *with the cumulative output bias fixed to 0*; the true minimum over ``(W_2, b_2)``
  is ``V_aff² = Tr(Y B Yᵀ) - |Y B u|² / (uᵀ B u)`` (discrepancy D1).

Everything is exact; inequalities with square roots are decided on squares, and the operator
norm ``‖Y‖_op`` through an exact positive-definiteness test (Sylvester's criterion).

Examples
--------
>>> from symtrunc.data.labeled import LabeledData
>>> d = LabeledData.from_arrays([[4, 0], [6, 0], [0, 3], [1, 5], [-1, 4]], list("aabbb"))
>>> n = barycentric_noise(d)
>>> n.delta_P_squared, n.upper_squared, n.paper_squared, n.affine_squared
(41/400, 13/120, 136/1333, 3/88)
>>> net = construct_shallow_upper(d)
>>> net.widths
(2, 2, 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import flint

from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError, HypothesisError
from symtrunc.exact.lp import float_exponent, scaled_floats
from symtrunc.exact.matrix import identity, pinv, qmatrix, qvector
from symtrunc.exact.rational import to_q
from symtrunc.loss import column_weights, optimal_output_layer
from symtrunc.network import Layer, ReLUNetwork
from symtrunc.records import ShallowLocalRecord, ShallowUpperRecord, as_rows

__all__ = [
    "BarycentricNoise",
    "OpNormBound",
    "barycentric_noise",
    "opnorm_bound",
    "noise_matrix",
    "l2_values",
    "construct_shallow_upper",
    "construct_shallow_local",
    "identity_regime_features",
    "THEOREM_SHALLOW_UPPER",
    "THEOREM_SHALLOW_LOCAL",
]

THEOREM_SHALLOW_UPPER = "Upper bound (Chen & Muñoz Ewald, arXiv 2309.10370): shallow network, Q <= M"
THEOREM_SHALLOW_LOCAL = "Theorem 3.2 (Chen & Muñoz Ewald, arXiv 2309.10370): identity regime, M = Q"


def _trace(A: flint.fmpq_mat) -> flint.fmpq:
    return sum((A[i, i] for i in range(A.nrows())), flint.fmpq(0))


@dataclass(frozen=True)
class BarycentricNoise:
    """The noise of the data in barycentric coordinates of the class means, and the L² values.

    Attributes
    ----------
    delta1 : flint.fmpq_mat
        ``Δ_1 = (X^red)^+ ΔX_0``, shape ``(Q, N)`` (columns in data order).
    delta2 : flint.fmpq_mat
        ``Δ_2 = Δ_1 N^{-1} Δ_1ᵀ``, shape ``(Q, Q)``.
    delta_P_squared : fmpq
        ``δ_P² = max_{j,i} |Δ_1 e_{j,i}|²``.
    upper_squared : fmpq
        ``‖Y Δ_1‖²_{L²_N}``, the square of the upper bound.
    paper_squared : fmpq
        ``V_paper² = Tr(Y B Yᵀ)``, ``B = Δ_2 (1 + Δ_2)^{-1}`` (the square of CE23a (2.71)).
    affine_squared : fmpq
        ``V_aff² = Tr(Y B Yᵀ) - |Y B u|² / (uᵀ B u)`` (``Tr(Y B Yᵀ)`` when ``uᵀ B u = 0``).
    """

    delta1: flint.fmpq_mat
    delta2: flint.fmpq_mat
    delta_P_squared: flint.fmpq
    upper_squared: flint.fmpq
    paper_squared: flint.fmpq
    affine_squared: flint.fmpq


def barycentric_noise(data: Any) -> BarycentricNoise:
    """Compute ``Δ_1``, ``Δ_2``, ``δ_P²`` and the three L² values exactly.

    Parameters
    ----------
    data : LabeledData or anything :func:`~symtrunc.data.labeled.load_data` reads
        The class means must be linearly independent (``X^red`` of rank ``Q``).

    Raises
    ------
    HypothesisError
        If the class means are linearly dependent.

    >>> from symtrunc.data.labeled import LabeledData
    >>> n = barycentric_noise(LabeledData.from_arrays([[1, 0], [3, 0], [0, 2]], [0, 0, 1]))
    >>> n.delta1, n.delta_P_squared
    ([-1/2, 1/2, 0]
    [   0,   0, 0], 1/4)
    """
    data = load_data(data)
    Xr = data.means
    if Xr.rank() < data.Q:
        raise HypothesisError("the class means are linearly dependent, so (X^red)^+ X^red ≠ 1")
    D1 = pinv(Xr) * noise_matrix(data)
    D2, upper, paper, affine = l2_values(data, D1)
    norms = [sum((D1[r, i] ** 2 for r in range(data.Q)), flint.fmpq(0)) for i in range(data.N)]
    return BarycentricNoise(D1, D2, max(norms), upper, paper, affine)


def noise_matrix(data: LabeledData, bits: Any = None) -> flint.fmpq_mat:
    """``ΔX_0[s]``: the deviations ``x_{j,i} - x̄_{0,j}`` as columns in data order, shape ``(M, N)``;
    the columns of a class with ``s_j = 0`` are zero (``bits=None``: every ``s_j = 1``, ``ΔX_0``).

    >>> from symtrunc.data.labeled import LabeledData
    >>> d = LabeledData.from_arrays([[1, 0], [3, 0], [0, 2]], [0, 0, 1])
    >>> noise_matrix(d), noise_matrix(d, (0, 1))
    ([-1, 1, 0]
    [ 0, 0, 0], [0, 0, 0]
    [0, 0, 0])
    """
    M, Xr = data.M, data.means
    keep = [1] * data.Q if bits is None else bits
    return flint.fmpq_mat(
        M, data.N, [data.X[i, k] - Xr[k, j] if keep[j] else 0 for k in range(M) for i, j in enumerate(data.y)]
    )


def l2_values(data: LabeledData, delta1: flint.fmpq_mat) -> tuple[flint.fmpq_mat, flint.fmpq, flint.fmpq, flint.fmpq]:
    """``(Δ_2, ‖YΔ_1‖²_{L²_N}, Tr(Y B Yᵀ), Tr(Y B Yᵀ) - |Y B u|²/(uᵀ B u))`` from ``Δ_1`` (``Q x N``),
    with ``Δ_2 = Δ_1 N^{-1} Δ_1ᵀ`` and ``B = Δ_2 (1 + Δ_2)^{-1}``; the last value is ``Tr(Y B Yᵀ)``
    when ``uᵀ B u = 0``. Shared by :func:`barycentric_noise` and
    :func:`~symtrunc.claims.configurations.paper_values`.
    """
    Q, N, Y = data.Q, data.N, data.Y
    w = column_weights(data)
    D1w = flint.fmpq_mat(Q, N, [delta1[r, i] * w[i] for r in range(Q) for i in range(N)])
    D2 = D1w * delta1.transpose()
    YD1 = Y * delta1
    upper = sum((w[i] * YD1[r, i] ** 2 for r in range(Q) for i in range(N)), flint.fmpq(0))
    B = D2 * (identity(Q) + D2).inv()
    paper = _trace(Y * B * Y.transpose())
    u = flint.fmpq_mat(Q, 1, [1] * Q)
    uBu = (u.transpose() * B * u)[0, 0]
    YBu = Y * B * u
    affine = paper - (YBu.transpose() * YBu)[0, 0] / uBu if uBu != 0 else paper
    return D2, upper, paper, affine


@dataclass(frozen=True)
class OpNormBound:
    """Exact decision of ``√lhs² ≤ √factor² · ‖Y‖_op``.

    Attributes
    ----------
    holds : bool
    witness : dict
        If it holds: a rational vector ``v`` with ``|Y v|² · factor² ≥ lhs² |v|²`` (so
        ``‖Y‖_op² ≥ lhs²/factor²``), or the first leading principal minor ``≤ 0`` of
        ``t I - YᵀY`` (``t = lhs²/factor²``: not positive definite). If it fails: all leading
        principal minors of ``t I - YᵀY``, all ``> 0`` (Sylvester: ``‖Y‖_op² < t``).
    """

    holds: bool
    witness: dict[str, Any]


def _short(q: flint.fmpq) -> str:
    """An exact rational for a summary line, as ``≈`` decimal when long (the exact string is in the witness).

    >>> _short(flint.fmpq(1, 3)), _short(flint.fmpq(10**30 + 1, 3 * 10**30))
    ('1/3', '≈0.333333')
    """
    text = str(q)
    return text if len(text) <= 24 else f"≈{float(q):.6g}"


def opnorm_bound(lhs_squared: Any, factor_squared: Any, Y: Any) -> OpNormBound:
    """Decide ``√lhs_squared ≤ √factor_squared · ‖Y‖_op`` exactly.

    >>> opnorm_bound(2, 1, [[1, 1], [0, 1]]).holds      # ‖Y‖² = (3 + √5)/2 ≈ 2.618
    True
    >>> bad = opnorm_bound(3, 1, [[1, 1], [0, 1]])
    >>> bad.holds, bad.witness["leading_minors"]
    (False, ['2', '1'])
    """

    lhs, fac, Y = to_q(lhs_squared), to_q(factor_squared), qmatrix(Y, name="Y")
    if lhs < 0 or fac < 0:
        raise DataError("squared quantities must be nonnegative")
    if fac == 0 or lhs == 0:
        return OpNormBound(lhs == 0, {"lhs_squared": str(lhs), "factor_squared": str(fac)})
    t = lhs / fac
    G = Y.transpose() * Y
    n = G.nrows()
    A = t * identity(n) - G
    minors = [flint.fmpq_mat(k, k, [A[i, j] for i in range(k) for j in range(k)]).det() for k in range(1, n + 1)]
    if all(m > 0 for m in minors):
        return OpNormBound(False, {"t": str(t), "leading_minors": [str(m) for m in minors]})
    v = _top_singular_vector(Y)
    if v is not None and ((Y * v).transpose() * (Y * v))[0, 0] >= t * (v.transpose() * v)[0, 0]:
        return OpNormBound(True, {"t": str(t), "vector": [str(x) for x in v.entries()]})
    k = next(i for i, m in enumerate(minors) if m <= 0)
    return OpNormBound(True, {"t": str(t), "nonpositive_leading_minor": [k + 1, str(minors[k])]})


def _top_singular_vector(Y: flint.fmpq_mat) -> flint.fmpq_mat | None:
    """A rational approximation of the top right singular vector (a proposal, checked by the caller)."""
    import numpy as np

    _, _, vt = np.linalg.svd(scaled_floats(Y, float_exponent(Y)))  # singular vectors: any scale fits
    v = vt[0]
    if not np.all(np.isfinite(v)):
        return None
    return qvector([flint.fmpq(int(round(x * 2**30)), 2**30) for x in v])


def _check_rotation(R: Any, M: int) -> flint.fmpq_mat:
    R = qmatrix(R, name="rotation")
    if R.nrows() != M or R.ncols() != M or R * R.transpose() != identity(M):
        raise DataError(f"the rotation must be an exactly orthogonal {M} x {M} rational matrix")
    return R


def construct_shallow_upper(data: Any, *, rotation: Any = None) -> ReLUNetwork:
    """The shallow network attaining the upper bound ``C_N = ‖Y (X^red)^+ ΔX_0‖_{L²_N}``.

    Parameters
    ----------
    data : LabeledData or path
        ``Q ≤ M``, linearly independent class means.
    rotation : array-like, optional
        An exactly orthogonal rational ``M x M`` matrix ``R`` (default the identity); the
        network is ``W_1 = R P``, ``b_1 = β u``, ``W_2 = Y (X^red)^+ Rᵀ``, ``b_2 = -W_2 b_1`` with
        ``β ≥ 0`` the smallest integer making every pre-activation nonnegative on the data.

    Returns
    -------
    ReLUNetwork
        Widths ``(M, M, Q)``; its :class:`~symtrunc.records.ShallowUpperRecord` holds ``beta``
        and the label matrix.

    >>> from symtrunc.data.labeled import LabeledData
    >>> d = LabeledData.from_arrays([[2, 0], [3, 0], [0, 2], [0, 3]], ["a", "a", "b", "b"])
    >>> from symtrunc.loss import costs
    >>> costs(construct_shallow_upper(d, rotation=[[0, 1], [1, 0]]), d)["class_weighted"]
    '2/25'
    """
    data = load_data(data)
    M = data.M
    R = identity(M) if rotation is None else _check_rotation(rotation, M)
    Xr = data.means
    Xp = pinv(Xr)
    W1 = R * Xr * Xp
    Z = W1 * data.X.transpose()
    worst = max([-v for v in Z.entries()] + [flint.fmpq(0)])
    beta = flint.fmpq(-((-worst.p) // worst.q))  # ceiling: σ = id on the data
    b1 = flint.fmpq_mat(M, 1, [beta] * M)
    W2 = data.Y * Xp * R.transpose()
    b2 = -(W2 * b1)
    record = ShallowUpperRecord(theorem=THEOREM_SHALLOW_UPPER, label_matrix=as_rows(data.Y), beta=beta)
    return ReLUNetwork((Layer(W1, b1, "relu"), Layer(W2, b2, "identity")), classes=data.classes, construction=record)


def identity_regime_features(data: LabeledData, *, W1: Any = None, b1: Any = None):
    """``(W_1, b_1, F)`` with ``F = W_1 X_0 + b_1 u_Nᵀ > 0`` entrywise (the identity regime, M = Q).

    Default ``W_1 = 1`` and ``b_1 = β u`` with the smallest integer ``β ≥ 0`` making every
    pre-activation ``≥ 1``.

    Raises
    ------
    HypothesisError
        If ``M ≠ Q``, ``W_1`` is singular, or a pre-activation is ``≤ 0`` (certificate: the point,
        neuron and value).

    >>> from symtrunc.data.labeled import LabeledData
    >>> d = LabeledData.from_arrays([[2, -1], [3, 0], [0, 2]], [0, 0, 1])
    >>> W, b, F = identity_regime_features(d)
    >>> b.transpose(), min(F.entries())
    ([2, 2], 1)
    >>> identity_regime_features(d, b1=[0, 0])
    Traceback (most recent call last):
    ...
    symtrunc.errors.HypothesisError: not the identity regime: point 2, neuron 1 has pre-activation 0 ≤ 0
    """
    M, Q = data.M, data.Q
    if M != Q:
        raise HypothesisError(f"the identity-regime minimum (Theorem 3.2) needs M = Q, got M = {M}, Q = {Q}")
    if W1 is None:
        W = identity(M)
    else:
        W = qmatrix(W1, name="W1")
        if W.nrows() != M or W.ncols() != M:
            raise DataError(f"W1 must be {M} x {M}")
        if W.rank() < M:
            raise HypothesisError("W1 is singular; Theorem 3.2 needs W_1 ∈ GL(Q)")
    Z = W * data.X.transpose()
    if b1 is None:
        worst = max(-v for v in Z.entries()) + 1
        beta = flint.fmpq(max(-(int(-worst.p) // int(worst.q)), 0))
        b = flint.fmpq_mat(M, 1, [beta] * M)
    else:
        b = qvector(b1)
        if b.nrows() != M:
            raise DataError(f"b1 must have {M} entries")
    F = Z + b * flint.fmpq_mat(1, data.N, [1] * data.N)
    for k, v in enumerate(F.entries()):
        if v <= 0:
            i, r = k % data.N, k // data.N
            raise HypothesisError(
                f"not the identity regime: point {i}, neuron {r + 1} has pre-activation {v} ≤ 0",
                {"point": i, "neuron": r + 1, "value": str(v)},
            )
    return W, b, F


def construct_shallow_local(data: Any, *, W1: Any = None, b1: Any = None, bias: bool = True) -> ReLUNetwork:
    """The M = Q identity-regime network with the exact optimal output layer.

    Parameters
    ----------
    data : LabeledData or path
        ``M = Q``.
    W1, b1 : array-like, optional
        An invertible hidden layer with ``W_1 x + b_1 > 0`` on every data point (checked exactly).
        Default ``W_1 = 1`` and ``b_1 = β u`` with the smallest integer ``β`` making every
        pre-activation ``≥ 1``.
    bias : bool
        Fit the output bias (the true minimum ``V_aff``, default) or force the cumulative output
        bias ``W_2 b_1 + b_2`` to ``0`` (then the cost is the paper's value (2.71), ``V_paper``).

    Raises
    ------
    HypothesisError
        If ``M ≠ Q``, ``W_1`` is singular, or a pre-activation is ``≤ 0`` (not the identity regime;
        the certificate gives the point, neuron and value).

    >>> from symtrunc.data.labeled import LabeledData
    >>> d = LabeledData.from_arrays([[4, 0], [6, 0], [0, 3], [1, 5], [-1, 4]], list("aabbb"))
    >>> from symtrunc.loss import costs
    >>> costs(construct_shallow_local(d), d)["class_weighted"], barycentric_noise(d).affine_squared
    ('3/88', 3/88)
    >>> costs(construct_shallow_local(d, bias=False), d)["class_weighted"], barycentric_noise(d).paper_squared
    ('136/1333', 136/1333)
    """
    data = load_data(data)
    W, b, F = identity_regime_features(data, W1=W1, b1=b1)
    if bias:
        fit = optimal_output_layer(F, data)
        W2, b2 = fit.weight, fit.bias
    else:  # cumulative output bias W_2 b_1 + b_2 = 0: the output is W_2 W_1 X_0, a linear fit
        W2 = optimal_output_layer(W * data.X.transpose(), data, bias=False).weight
        b2 = -(W2 * b)
    record = ShallowLocalRecord(
        theorem=THEOREM_SHALLOW_LOCAL,
        label_matrix=as_rows(data.Y),
        output_bias=bias,
        min_preactivation=min(F.entries()),
    )
    return ReLUNetwork((Layer(W, b, "relu"), Layer(W2, b2, "identity")), classes=data.classes, construction=record)
