"""Deterministic synthetic sequentially linearly separable (SLS) data for benchmarks and tests.

Import-light (numpy + symtrunc only)::

    from benchmarks.synthetic import sls_data
    data = sls_data(2000, 64, 10, seed=0)      # symtrunc.LabeledData

Recipe: ``Q`` integer cluster centers drawn uniformly from ``[3, 13]^M`` (rejection-sampled
so that they are pairwise far apart and linearly independent), and ``N`` points split evenly
across the classes (the first ``N mod Q`` classes get one extra point), each a center plus
integer noise in ``[-noise, noise]^M``, clipped to ``0..16``. For ``M`` large compared to the
noise (``noise=1``, ``M >= 16``; the benchmark uses ``M = 64``) the clusters are vertices of the
configuration, far from the other clusters and the barycenter, so the data are SLS; this is not
a theorem for every seed, but :func:`symtrunc.construct` (or :func:`symtrunc.find_sls`) certifies
it exactly (and raises ``HypothesisError`` otherwise). In small dimension (``M < 16``) an
occasional seed may fail to be SLS.
"""

from __future__ import annotations

import numpy as np

import symtrunc

__all__ = ["sls_data", "sls_arrays", "clustered_arrays"]

LOW, HIGH = 0, 16  # feature range
CENTER_LOW, CENTER_HIGH = 3, 13


def sls_arrays(N: int, M: int, Q: int, seed: int = 0, *, noise: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The raw arrays ``(X, y)``: ``X`` int64 of shape ``(N, M)`` in ``0..16``, ``y`` int64 labels ``0..Q-1``.

    Deterministic in ``(N, M, Q, seed, noise)``. Points are grouped by class (class 0 first).
    """
    if Q < 2 or Q > M:
        raise ValueError(f"need 2 <= Q <= M, got Q={Q}, M={M}")
    if N < Q:
        raise ValueError(f"need at least one point per class, got N={N} < Q={Q}")
    if noise < 0:
        raise ValueError("noise must be >= 0")
    rng = np.random.default_rng(seed)
    # centers: linearly independent and far apart -- pairwise distance at least twice the
    # noise diameter 2 noise sqrt(M) when possible; the requirement is relaxed (10% every 100
    # draws) for small M, where random centers in [3, 13]^M cannot be that far apart
    min_dist = max(4.0 * noise * np.sqrt(M), 2.0)
    for attempt in range(2000):
        C = rng.integers(CENTER_LOW, CENTER_HIGH + 1, size=(Q, M))
        diff = (C[:, None, :] - C[None, :, :]).astype(float)
        d = np.sqrt((diff**2).sum(-1)) + np.eye(Q) * 1e9
        if d.min() >= min_dist and np.linalg.matrix_rank(C.astype(float)) == Q:
            break
        if attempt % 100 == 99:
            min_dist *= 0.9
    else:  # pragma: no cover - only for absurd parameters
        raise ValueError(f"could not draw {Q} independent centers in dimension {M}")
    counts = [N // Q + (1 if j < N % Q else 0) for j in range(Q)]
    y = np.repeat(np.arange(Q), counts)
    X = C[y] + rng.integers(-noise, noise + 1, size=(N, M))
    np.clip(X, LOW, HIGH, out=X)
    return X.astype(np.int64), y.astype(np.int64)


def sls_data(N: int, M: int, Q: int, seed: int = 0, *, noise: int = 1) -> symtrunc.LabeledData:
    """Synthetic SLS data as :class:`symtrunc.LabeledData` (integer features in ``0..16``,
    ``N`` points split evenly across ``Q`` classes labeled ``0..Q-1``, one-hot targets).

    >>> d = sls_data(40, 8, 4, seed=1)
    >>> d.N, d.M, d.Q, d.counts
    (40, 8, 4, (10, 10, 10, 10))
    """
    X, y = sls_arrays(N, M, Q, seed, noise=noise)
    return symtrunc.LabeledData.from_arrays(X, y.tolist())


def clustered_arrays(N: int, M: int, Q: int, seed: int = 0, *, spread: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Data for Proposition 4.1: the :func:`sls_arrays` points with the cluster centers moved
    ``spread`` times further apart (``x = spread · c + noise``), so that ``16 δ² < min_j |x̄_j - x̄|²``.

    >>> X, y = clustered_arrays(40, 16, 4, seed=1)
    >>> X.shape, int(X.max()) <= 8 * 16 + 1
    ((40, 16), True)
    """
    X, y = sls_arrays(N, M, Q, seed, noise=0)
    noise = np.random.default_rng(seed + 1).integers(-1, 2, size=X.shape)
    return X * spread + noise, y
