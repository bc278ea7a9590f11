"""Float-robust Theorem 5.2 networks: the construction's free parameters chosen for float32.

The network of Theorem 5.2 is not unique: the hyperplane normals ``h_l``, the base points
``p_l`` (their position ``t_l`` on the segment), the rational cone's ``ε`` and the coordinates
are free. The float error of a hidden layer is about ``u / m`` in the input space (``u`` the unit
roundoff, ``m`` the margin of its hyperplane relative to ``Σ_j |h_j| |x_j|``), and the next
collapse needs its own margin to exceed that, so float32 (``u = 6e-8``) needs margins far larger
than the default search gives (it maximizes the margin for ``|h|_∞ ≤ 1`` and rounds ``h`` to
``2^24``-scale integers: relative margins of 1e-8 on the breast-cancer data).

:func:`robust_network` makes three choices, all checked exactly by the construction:

1. **Dyadic coordinates**: feature ``j`` is scaled by ``2^-e_j``, ``2^e_j ≤ max |x_j| < 2^(e_j+1)``
   (exact; the cone ``ε I + u hᵀ`` of the scaled data is ``ε S⁻¹ + u hᵀ S⁻¹`` in the original
   coordinates, and ``S⁻¹`` is folded into the first layer, exactly);
2. **Max-margin normals in the float-error norm**: each ``h_l`` maximizes the margin subject to
   ``Σ_j |h_j| max_i |x'_ij| ≤ 1`` (a float LP, HiGHS), rounded to ``bits``-bit integers;
3. **Base points** in the middle of the admissible interval of ``t_l``.

The result is an exact network (verified exactly by :func:`symtrunc.construct`'s machinery and
again on the original data) whose float32 exports can be certified
(:mod:`symtrunc.lowering.float_certificate`) where the default one's cannot. Its construction
record is dropped: the recorded base points and normals would be those of the scaled data.

This lives here until the constructions offer these choices as an option.

Examples
--------
>>> import symtrunc
>>> net = robust_network(symtrunc.load_wine())
>>> symtrunc.lower(net, "float32", structure="dense", data=symtrunc.load_wine()).certificate.certified
True
"""

from __future__ import annotations

import math

import flint
import numpy as np
from scipy.optimize import linprog

import symtrunc
from symtrunc.constructions.sls import construct_sls
from symtrunc.exact.lp import simplest_between
from symtrunc.exact.matrix import to_float
from symtrunc.geometry.separability import find_sls
from symtrunc.network import Layer, ReLUNetwork

__all__ = ["dyadic_exponents", "robust_network"]


def dyadic_exponents(X: np.ndarray) -> list[int]:
    """``e_j`` with ``2^e_j ≤ max_i |x_ij| < 2^(e_j + 1)`` (``0`` for an all-zero feature).

    >>> dyadic_exponents(np.array([[3.0, 0.0, 0.25], [-9.0, 0.0, 0.1]]))
    [3, 0, -2]
    """
    top = np.abs(X).max(axis=0)
    return [int(math.floor(math.log2(v))) if v > 0 else 0 for v in top.tolist()]


def _scale(e: int) -> flint.fmpq:
    return flint.fmpq(1, 2**e) if e >= 0 else flint.fmpq(2**-e)


def _margin_normal(inside: np.ndarray, outside: np.ndarray, weights: np.ndarray) -> np.ndarray | None:
    """The normal of a max-margin separator with ``Σ_j |h_j| w_j ≤ 1`` (float LP), or ``None``."""
    na, nb, M = inside.shape[0], outside.shape[0], inside.shape[1]
    A = np.zeros((na + nb + 1, 2 * M + 2))
    A[:na, :M], A[:na, M : 2 * M], A[:na, 2 * M], A[:na, 2 * M + 1] = inside, -inside, -1, 1
    A[na : na + nb, :M], A[na : na + nb, M : 2 * M], A[na : na + nb, 2 * M], A[na : na + nb, 2 * M + 1] = (
        -outside,
        outside,
        1,
        1,
    )
    A[-1, :M] = A[-1, M : 2 * M] = weights
    rhs = np.zeros(na + nb + 1)
    rhs[-1] = 1
    cost = np.zeros(2 * M + 2)
    cost[-1] = -1
    res = linprog(cost, A_ub=A, b_ub=rhs, bounds=[(0, None)] * (2 * M) + [(None, None), (None, 1)], method="highs")
    if res.status != 0 or res.x[-1] <= 0:
        return None
    return res.x[:M] - res.x[M : 2 * M]


def robust_network(data: symtrunc.LabeledData, *, bits: int = 12) -> ReLUNetwork:
    """The Theorem 5.2 network of ``data`` with the float-robust choices of the module docstring.

    Parameters
    ----------
    data : LabeledData
    bits : int
        Size of the integer normals (``|h|_∞ = 2^bits``).

    Returns
    -------
    ReLUNetwork
        Verified exactly on ``data`` (zero loss); no construction record.
    """
    e = dyadic_exponents(to_float(data.X))
    sc = [_scale(k) for k in e]
    M = data.M
    rows = data.X.tolist()
    Xs = flint.fmpq_mat(data.N, M, [v * sc[j] for r in rows for j, v in enumerate(r)])
    sdata = symtrunc.LabeledData.from_arrays(Xs, [data.classes[k] for k in data.y], check=False)
    order = list(find_sls(sdata).order)
    Xf = to_float(Xs)
    weights = np.abs(Xf).max(axis=0)
    weights[weights == 0] = 1.0
    y = np.array(sdata.y)
    bary = sdata.barycenter
    normals: list[list[int]] = []
    ts: list[flint.fmpq] = []
    bases: list[flint.fmpq_mat] = []
    for k, j in enumerate(order):
        inside = Xf[y == j]
        rest = (
            [Xf[np.isin(y, order[k + 1 :])]] + [to_float(p.transpose()) for p in bases] + [to_float(bary.transpose())]
        )
        h = _margin_normal(inside, np.vstack(rest), weights)
        if h is None:
            raise symtrunc.HypothesisError(f"no separating hyperplane found for class {data.classes[j]!r}")
        hq = flint.fmpq_mat(M, 1, [int(v) for v in np.round(h / np.abs(h).max() * 2**bits)])
        vin = (sdata.points(j) * hq).entries()
        others = [sdata.points(r) for r in order[k + 1 :]]
        vout = [v for P in others for v in (P * hq).entries()]
        vout += [(p.transpose() * hq)[0, 0] for p in bases] + [(bary.transpose() * hq)[0, 0]]
        hm, hb = (sdata.mean(j).transpose() * hq)[0, 0], (bary.transpose() * hq)[0, 0]
        lo, hi = (max(vin) - hm) / (hb - hm), (min(vout) - hm) / (hb - hm)
        if not (hb > hm and lo < hi):
            raise symtrunc.HypothesisError(
                f"the rounded normal of class {data.classes[j]!r} does not separate; use more bits"
            )
        t = simplest_between(lo + (hi - lo) * flint.fmpq(2, 5), hi - (hi - lo) * flint.fmpq(2, 5))
        normals.append([int(v) for v in hq.entries()])
        ts.append(t)
        bases.append(t * bary + (1 - t) * sdata.mean(j))
    snet = construct_sls(sdata, order=[data.classes[j] for j in order], normals=normals, t=ts)
    first = snet.layers[0]
    W = flint.fmpq_mat(first.W.nrows(), M, [first.W[i, j] * sc[j] for i in range(first.W.nrows()) for j in range(M)])
    net = ReLUNetwork((Layer(W, first.b, "relu"),) + snet.layers[1:], snet.classes)
    symtrunc.verify(net, data, invariants=False)  # raises if anything went wrong (it cannot: exact)
    return net
