"""Seeded synthetic data for the tests, deterministic in the arguments.

* :func:`clustered_sls_arrays` / :func:`clustered_sls_data`: integer clusters that are sequentially
  linearly separable by construction, for tests that need many points (certified verification,
  lowering, the CLI's streaming).
* :func:`clustered_l2_data`: exact rational clusters for the L² constructions (paper A needs
  ``M = Q`` and small clusters).

The benchmarks keep their own generator (``benchmarks/synthetic.py``: image-like features in
``0..16`` at benchmark scale); tests do not import from ``benchmarks/``.

>>> d = clustered_sls_data(40, 8, 4, seed=1)
>>> d.N, d.M, d.Q, d.counts
(40, 8, 4, (10, 10, 10, 10))
>>> d = clustered_l2_data(3, 4, seed=1)
>>> d.M, d.Q, d.counts
(3, 3, (4, 4, 4))
"""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np

from symtrunc.data.labeled import LabeledData

__all__ = ["clustered_sls_arrays", "clustered_sls_data", "clustered_l2_data"]


def clustered_sls_arrays(
    N: int, M: int, Q: int, seed: int = 0, *, scale: int = 10, noise: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: ``N`` integer points of ``R^M`` (int64, in ``0..scale + 2 noise``) and labels ``0..Q-1``.

    Class ``j`` is ``noise·1 + scale·e_j`` plus integer noise in ``[-noise, noise]`` per
    coordinate; the ``N`` points are split evenly (the first ``N mod Q`` classes get one more)
    and grouped by class. Coordinate ``j`` is ``>= scale`` on class ``j`` and ``<= 2 noise`` on
    every other class, so each class is strictly separated from all the others (the data are
    SLS in any order) when ``scale > 2 noise``; the class means are independent when
    ``Q·noise < scale``.
    """
    if not 2 <= Q <= M or N < Q or not 0 <= 2 * noise < scale or Q * noise >= scale:
        raise ValueError(f"need 2 <= Q <= M, N >= Q and Q·noise < scale, got {N=}, {M=}, {Q=}, {scale=}, {noise=}")
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(Q), [N // Q + (1 if j < N % Q else 0) for j in range(Q)])
    X = noise + scale * np.eye(Q, M, dtype=np.int64)[y] + rng.integers(-noise, noise + 1, size=(N, M))
    return X.astype(np.int64), y.astype(np.int64)


def clustered_sls_data(N: int, M: int, Q: int, seed: int = 0, **kwargs: int) -> LabeledData:
    """:func:`clustered_sls_arrays` as :class:`~symtrunc.data.labeled.LabeledData` (class ``j`` labeled ``j``)."""
    X, y = clustered_sls_arrays(N, M, Q, seed, **kwargs)
    return LabeledData.from_arrays(X, y.tolist())


def clustered_l2_data(
    Q: int = 3,
    per_class: int = 4,
    seed: int = 0,
    *,
    spread: Fraction = Fraction(1, 2),
    scale: int = 10,
    M: int | None = None,
) -> LabeledData:
    """``Q`` clusters around ``scale·e_j + 1`` in ``R^M`` (``M = Q`` by default), rational noise in
    ``[-spread, spread]`` per coordinate with denominators up to 8; class ``j`` is labeled ``j``.
    A class whose points all coincide gets one point moved by ``spread`` (hypothesis (2.12))."""
    rng = random.Random(seed)
    M = Q if M is None else M
    X, y = [], []
    for j in range(Q):
        center = [Fraction(scale if k == j else 0) + 1 for k in range(M)]
        pts = [[c + spread * Fraction(rng.randint(-8, 8), 8) for c in center] for _ in range(per_class)]
        if all(p == pts[0] for p in pts):  # (2.12): every cluster must have spread
            pts[-1][0] += spread if pts[-1][0] <= center[0] else -spread
        X += pts
        y += [j] * per_class
    return LabeledData.from_arrays(X, y)
