r"""Float gradient descent on the true loss, and exact snapping of its limits.

:func:`gradient_descent` runs plain GD in float64 (NumPy, seeded) on the true loss of a
shallow ReLU network, with the integrals done by the midpoint rule on a fine grid. Its limit
is only approximately critical; :func:`snap` turns it into an exact candidate: inner weights
are rounded to small-denominator rationals (kinks, signs and dead neurons kept), then the
outer weights (v, c) are the exact least-squares solution for those inner weights (the loss
is quadratic in (v, c): θ = G⁺h with the exact Gram matrix). The result is then classified
exactly by :func:`symtrunc.landscape.critical.classify`; nothing about it rests on floats.

Examples
--------
>>> from symtrunc.landscape.params import Target
>>> from symtrunc.landscape.critical import classify
>>> w, b, v, c = gradient_descent([-1.0], [-0.5], [0.3], 0.0, Target(1, 0), steps=300, lr=0.5)
>>> phi = snap(w, b, v, c, Target(1, 0))
>>> phi.c, classify(phi, Target(1, 0)).verdict            # the dead neuron traps GD at α²/12
(1/2, 'local_min')
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import flint
import numpy as np

from symtrunc.exact.matrix import pinv
from symtrunc.landscape.objective import gradient, hessian
from symtrunc.landscape.params import Interval, ShallowParams, Target, default_interval

__all__ = ["gradient_descent", "random_start", "snap"]


def random_start(width: int, seed: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Seeded standard-normal initial parameters (w, b, v, c)."""
    rng = np.random.default_rng(seed)
    w, b, v = (scale * rng.standard_normal(width) for _ in range(3))
    return w, b, v, float(scale * rng.standard_normal())


def gradient_descent(
    w: Sequence[float],
    b: Sequence[float],
    v: Sequence[float],
    c: float,
    target: Target,
    interval: Interval | None = None,
    *,
    steps: int = 2000,
    lr: float = 0.1,
    grid: int = 4096,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Plain float64 GD on the ReLU true loss; returns the final (w, b, v, c)."""
    iv = default_interval(interval)
    lo, hi = float(iv.lo), float(iv.hi)
    x = lo + (hi - lo) * (np.arange(grid) + 0.5) / grid
    f = float(target.alpha) * x + float(target.beta)
    w, b, v = (np.array(a, dtype=float) for a in (w, b, v))
    c = float(c)
    for _ in range(steps):
        z = np.outer(w, x) + b[:, None]
        act = np.maximum(z, 0.0)
        ind = (z > 0).astype(float)
        r = c + v @ act - f
        gc = 2 * r.mean()
        gv = 2 * (act * r).mean(axis=1)
        gb = 2 * v * (ind * r).mean(axis=1)
        gw = 2 * v * (ind * (r * x)).mean(axis=1)
        w, b, v, c = w - lr * gw, b - lr * gb, v - lr * gv, c - lr * gc
    return w, b, v, c


def _q(x: float, den: int) -> flint.fmpq:
    fr = Fraction(float(x)).limit_denominator(den)
    return flint.fmpq(fr.numerator, fr.denominator)


def snap(
    w: Sequence[float],
    b: Sequence[float],
    v: Sequence[float],
    c: float,
    target: Target,
    interval: Interval | None = None,
    *,
    tol: float = 1e-3,
    den: int = 60,
) -> ShallowParams:
    """An exact network near the float point (w, b, v, c), with exactly optimal (v, c).

    Neurons whose largest endpoint pre-activation is below −tol stay exactly dead; those
    within tol of 0 are put exactly at the kink (semi-inactive); w, b within tol of 0 become
    exactly 0; otherwise the kink −b/w and w are rounded to denominators ≤ ``den``.
    """
    iv = default_interval(interval)
    lo, hi = float(iv.lo), float(iv.hi)
    W, B, dead = [], [], []
    for wj, bj in zip(w, b):
        zmax = max(wj * lo + bj, wj * hi + bj)
        if abs(wj) <= tol and abs(bj) <= tol:
            W.append(flint.fmpq(0))
            B.append(flint.fmpq(0))
            dead.append(False)
            continue
        if zmax < -tol:
            qw, qb = _q(wj, den), _q(bj, den)
            if max(qw * iv.lo + qb, qw * iv.hi + qb) < 0:
                W.append(qw)
                B.append(qb)
                dead.append(True)
                continue
        qw = _q(wj, den) if abs(wj) > tol else flint.fmpq(0)
        if qw == 0:
            W.append(qw)
            B.append(_q(bj, den))
        else:
            end = iv.hi if qw > 0 else iv.lo
            t = end if abs(zmax) <= tol else _q(-bj / wj, den)
            W.append(qw)
            B.append(-qw * t)
        dead.append(False)
    n = len(W)
    V = [(_q(vj, den) if d else flint.fmpq(0)) for vj, d in zip(v, dead)]
    base = ShallowParams(W, B, V, 0)
    # L is quadratic in θ = (v, c): ∇_θ L = H_θθ θ − h with h = −∇_θ L(θ = 0) on the live block
    live = [2 * n + j for j in range(n) if not dead[j]] + [3 * n]
    H = hessian(base, target, iv)
    g0 = gradient(base, target, iv)
    Hs = flint.fmpq_mat(len(live), len(live), [H[i, k] for i in live for k in live])
    hs = flint.fmpq_mat(len(live), 1, [-g0[i] for i in live])
    theta = pinv(Hs) * hs
    vec = base.vector()
    for k, i in enumerate(live):
        vec[i] = theta[k, 0]
    return base.with_vector(vec)
