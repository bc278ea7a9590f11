"""Seeded exact clustered data for the L² tests (paper A needs M = Q and small clusters).

>>> d = clustered_l2_data(3, 4, seed=1)
>>> d.M, d.Q, d.counts
(3, 3, (4, 4, 4))
"""

from __future__ import annotations

import random
from fractions import Fraction

from symtrunc.data.labeled import LabeledData

__all__ = ["clustered_l2_data"]


def clustered_l2_data(Q: int = 3, per_class: int = 4, seed: int = 0, *, spread: Fraction = Fraction(1, 2),
                      scale: int = 10, M: int | None = None) -> LabeledData:
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
