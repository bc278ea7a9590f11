"""A naive reference implementation of the Theorem 5.2 construction, for benchmarks only.

What a user writing the construction from the paper would do: every per-point quantity in exact
rationals (python-flint ``fmpq``), one at a time, in Python loops; one float LP (HiGHS) over all
points per class to propose the hyperplane normal; the cone ``ε I + u hᵀ`` with ``ε`` below the
exact bound. It does not verify the network (symtrunc's timings include a verification, so the
baseline is flattered). It uses nothing of symtrunc's
vectorized machinery, so it is the baseline the construction's speed is measured against.

>>> import numpy as np
>>> X = np.array([[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]])
>>> layers = naive_construct(X, np.array([0, 0, 0, 0, 1, 1, 1, 1]))
>>> len(layers)
3
"""

from __future__ import annotations

import flint
import numpy as np
from scipy.optimize import linprog

__all__ = ["naive_construct"]


def _dot(a, b):
    return sum((x * y for x, y in zip(a, b)), flint.fmpq(0))


def _normal(inside: np.ndarray, outside: np.ndarray) -> list[int] | None:
    M = inside.shape[1]
    A_ub = np.vstack(
        [
            np.hstack([inside, -np.ones((len(inside), 1)), np.ones((len(inside), 1))]),
            np.hstack([-outside, np.ones((len(outside), 1)), np.ones((len(outside), 1))]),
        ]
    )
    cost = np.zeros(M + 2)
    cost[-1] = -1
    res = linprog(cost, A_ub=A_ub, b_ub=np.zeros(len(A_ub)), bounds=[(-1, 1)] * M + [(None, None), (0, None)])
    if res.status != 0 or res.x[-1] <= 0:
        return None
    return [int(v) for v in np.rint(res.x[:M] * 2**24)]


def naive_construct(X: np.ndarray, y: np.ndarray) -> list[tuple[list[list[flint.fmpq]], list[flint.fmpq]]]:
    """The cumulative parameters ``(W^(l), b^(l))`` of the Theorem 5.2 network (one-hot targets;
    ``symtrunc.ReLUNetwork.from_cumulative`` turns them into layers); raises ``ValueError`` if
    the greedy order fails. No verification pass (symtrunc's construct includes one)."""
    rows = [[flint.fmpq(int(v)) for v in r] for r in X.tolist()]
    labels = y.tolist()
    Q, M = int(y.max()) + 1, X.shape[1]
    members = [[i for i in range(len(rows)) if labels[i] == j] for j in range(Q)]
    means = [[sum((rows[i][k] for i in idx), flint.fmpq(0)) / len(idx) for k in range(M)] for idx in members]
    xbar = [sum((m[k] for m in means), flint.fmpq(0)) / Q for k in range(M)]
    remaining, bases, order, normals = list(range(Q)), [], [], []
    while remaining:
        for j in remaining:
            rest = [i for r in remaining if r != j for i in members[r]]
            outside = [rows[i] for i in rest] + bases + [xbar]
            h = _normal(X[members[j]].astype(float), np.array([[float(v) for v in r] for r in outside]))
            if h is None:
                continue
            top = max(_dot(h, rows[i]) for i in members[j])
            bottom = min(_dot(h, x) for x in outside)
            hm, hb = _dot(h, means[j]), _dot(h, xbar)
            if top < bottom and hm < hb:
                t = ((top + bottom) / 2 - hm) / (hb - hm)
                bases.append([t * a + (1 - t) * b for a, b in zip(xbar, means[j])])
                order.append(j)
                normals.append(h)
                remaining.remove(j)
                break
        else:
            raise ValueError("the greedy order failed")
    cumulative = []
    for k, j in enumerate(order):
        p, h = bases[k], normals[k]
        forward = [rows[i] for r in order[k + 1 :] for i in members[r]] + bases[:k]
        bound = None
        for sign, pts in ((1, forward), (-1, [rows[i] for i in members[j]])):
            for x in pts:
                g = sign * (_dot(h, x) - _dot(h, p))
                w = max(sign * (a - b) for a, b in zip(p, x))
                if w > 0:
                    bound = g / w if bound is None or g / w < bound else bound
        eps = bound / 2 if bound is not None else flint.fmpq(1)
        W = [[(eps if r == c else 0) + h[c] for c in range(M)] for r in range(M)]
        cumulative.append((W, [-_dot(row, p) for row in W]))
    R = flint.fmpq_mat(M, Q, [bases[c][r] for r in range(M) for c in range(Q)])
    Yo = flint.fmpq_mat(Q, Q, [1 if order[c] == r else 0 for r in range(Q) for c in range(Q)])
    Rt = R.transpose()
    W_out = Yo * (Rt * R).inv() * Rt  # maps the base point of class order[k] to its label
    return cumulative + [(W_out.tolist(), [flint.fmpq(0)] * Q)]
