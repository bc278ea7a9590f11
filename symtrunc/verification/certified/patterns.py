"""Grouping of packed activation patterns: exact equality classes of bit rows, found by hashing.

Hashes only propose groups; every grouping is confirmed by comparing the rows exactly (on a
hash collision the rows are grouped by sorting instead), so no two different patterns ever
share a group.

Examples
--------
>>> import numpy as np
>>> keys, inv = unique_rows(np.array([[1, 0], [0, 1], [1, 0]], dtype=np.uint8))
>>> len(keys), inv.tolist()
(2, [1, 0, 1])
"""

from __future__ import annotations

import numpy as np

__all__ = ["count_patterns", "regroup", "unique_rows"]

_HASH_MULT = np.array(
    [
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD,
        0xC4CEB9FE1A85EC53,
        0x94D049BB133111EB,
        0xBF58476D1CE4E5B9,
    ],
    dtype=np.uint64,
)


def regroup(gid: np.ndarray, words: np.ndarray, keep: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """New prefix groups of the kept points: equal old group and equal layer bits (exactly).

    Returns the group of each kept point and a chunk row (from ``idx``) representing each group.
    """
    gid_k, words_k = gid[keep], words[keep]
    if gid_k.size == 0:
        return gid_k, np.zeros(0, dtype=np.int64)
    if (gid_k == gid_k[0]).all() and (words_k == words_k[0]).all():
        return np.zeros(gid_k.size, dtype=np.int64), idx[keep][:1].astype(np.int64)
    nw = words_k.shape[1]
    mult = np.resize(_HASH_MULT, nw)
    h = gid_k.astype(np.uint64) * np.uint64(0x2545F4914F6CDD1D)
    h ^= (words_k * mult).sum(axis=1, dtype=np.uint64)
    h ^= h >> np.uint64(29)
    _, first, inv = np.unique(h, return_index=True, return_inverse=True)
    inv = inv.ravel()
    same = (gid_k == gid_k[first][inv]) & (words_k == words_k[first][inv]).all(axis=1)
    if not same.all():  # a hash collision: group exactly instead
        keyarr = np.concatenate([gid_k[:, None].astype(np.uint64), words_k], axis=1)
        _, first, inv = np.unique(keyarr, axis=0, return_index=True, return_inverse=True)
        inv = inv.ravel()
    return inv.astype(np.int64), idx[keep][first].astype(np.int64)


def unique_rows(B: np.ndarray) -> tuple[list[bytes], np.ndarray]:
    """Distinct rows of a uint8 matrix (exactly) as bytes, and the group of each row.

    Rows are hashed (64-bit words, multiply-xor) and grouped by hash, then every row is compared
    with its group's first row; on a collision the rows are grouped by sorting them instead.
    """
    n = B.shape[0]
    if n == 0:
        return [], np.zeros(0, dtype=np.intp)
    B = np.ascontiguousarray(B)
    if (B == B[0]).all():
        return [B[0].tobytes()], np.zeros(n, dtype=np.intp)
    if B.shape[1] % 8 == 0:
        W = B.view(np.uint64)
        h = (W * np.resize(_HASH_MULT, W.shape[1])).sum(axis=1, dtype=np.uint64)
        h ^= h >> np.uint64(31)
        _, first, inv = np.unique(h, return_index=True, return_inverse=True)
        inv = inv.ravel()
        if (W == W[first][inv]).all():
            return [B[f].tobytes() for f in first.tolist()], inv
    V = B.view(np.dtype((np.void, B.shape[1]))).ravel()
    uniq, inv = np.unique(V, return_inverse=True)
    return [u.tobytes() for u in uniq], inv.ravel()


def count_patterns(P: np.ndarray, rows: np.ndarray, out: dict) -> None:
    """Add the number of ``rows`` with each packed pattern of ``P`` to ``out`` (pattern bytes -> count)."""
    keys, inv = unique_rows(P[rows])
    counts = np.bincount(inv, minlength=len(keys))
    for key, c in zip(keys, counts.tolist()):
        out[key] = out.get(key, 0) + c
