"""Activation patterns ``D = diag(1[X g >= 0])`` of a data matrix (chambers of a hyperplane arrangement).

The patterns of the *open* chambers of the central arrangement ``{g : x_j^T g = 0}`` are
enough for the convex reformulation (every ``w`` lies in the closure of one of them, and
then ``(X w)_+ = D X w``). :func:`enumerate_patterns` lists all of them exactly:

* rank 2 data: an exact angular sweep of the ``2n`` boundary rays;
* otherwise: the arrangement is built one hyperplane at a time; a side of a new
  hyperplane inside a cell is either witnessed for free (exact perturbation of the cell's
  witness) or decided by :func:`symtrunc.exact.lp.strictly_separate` (the origin against
  the signed rows), which returns an exact witness or an exact Gordan certificate
  ``0 ∈ conv{s_j x_j}`` that the side is empty.

Every pattern carries an integer *witness* ``g`` with ``(2D - I) X g > 0`` checked
exactly. :func:`sample_patterns` draws integer Gaussian gates (scnn's "sub-sampled" convex
program); its patterns use the ``>= 0`` convention and are exact too. The all-zero pattern
is dropped (it contributes nothing) but its existence is recorded, so the count can be
compared with Cover's formula :func:`cover_count`.

Examples
--------
>>> from symtrunc.convex.regression import RegressionData
>>> data = RegressionData.from_arrays([[1, 0], [0, 1], [1, 1]], [0, 0, 0])
>>> pats = enumerate_patterns(data)
>>> pats.chambers, cover_count(3, 2), len(pats)
(6, 6, 5)
>>> pats.complete, pats.masks.astype(int).tolist()[:2]
(True, [[0, 1, 0], [0, 1, 1]])
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cmp_to_key
from itertools import combinations
from math import comb, gcd

import flint
import numpy as np

from symtrunc.convex.regression import RegressionData
from symtrunc.errors import DataError, UncertifiedError, VerificationError
from symtrunc.exact.lp import Separator, strictly_separate

__all__ = [
    "ActivationPatterns",
    "enumerate_patterns",
    "sample_patterns",
    "patterns_from_masks",
    "count_chambers",
    "cover_count",
    "in_general_position",
]

_ENUMERATION_LIMIT = 20000  # chambers; above this use sample_patterns


@dataclass(frozen=True, eq=False)
class ActivationPatterns:
    """A list of activation patterns ``D_1, ..., D_p`` of ``X`` with exact witnesses.

    Attributes
    ----------
    masks : numpy.ndarray of bool, shape ``(p, n)``
        ``masks[i, j]`` is the diagonal entry ``(D_i)_{jj}``.
    gates : tuple of tuple of int
        Witness ``g_i`` per pattern with ``mask_i = 1[X g_i >= 0]`` (exact).
    open : bool
        Every witness is strict: ``(2 D_i - I) X g_i > 0`` (open chambers).
    complete : bool
        The list is every non-zero open-chamber pattern of ``X`` (exact enumeration);
        only then does a dual certificate prove *global* optimality.
    chambers : int
        Number of open chambers found, including the all-zero pattern when it exists.
    certificates : int
        Number of empty cell sides proved by exact Gordan certificates.
    method : str
        ``"sweep"``, ``"incremental"``, ``"sampled"`` or ``"given"``.
    """

    masks: np.ndarray
    gates: tuple[tuple[int, ...], ...]
    open: bool
    complete: bool
    chambers: int
    certificates: int
    method: str

    def __len__(self) -> int:
        return self.masks.shape[0]

    def check(self, data: RegressionData) -> bool:
        """Exact re-check of every witness: ``mask_i = 1[X g_i >= 0]`` (strict when ``open``).

        >>> data = RegressionData.from_arrays([[1, 0], [0, 1]], [1, 1])
        >>> enumerate_patterns(data).check(data)
        True
        """
        if not self.gates:
            return True
        if self.masks.shape != (len(self.gates), data.n):
            return False
        rows = data.integer_rows
        S = _products(rows, self.gates)  # (n, p) exact integers x_j^T g_i
        if ((S >= 0).T != self.masks).any():
            return False
        nonzero = np.array([any(r) for r in rows], dtype=bool)
        return not (self.open and ((S == 0) & nonzero[:, None]).any())

    def verify_complete(self, data: RegressionData) -> None:
        """Prove exactly that the list is *every* non-zero open-chamber pattern of ``X``.

        Independent of how the list was produced: every witness is re-checked strictly, the
        masks are distinct (so they name distinct chambers), and their number (plus the dropped
        all-negative chamber, which exists iff its antipode, the all-positive chamber, is listed)
        equals the number of chambers given by Zaslavsky's theorem (:func:`count_chambers`).
        As many distinct chambers as there are: none is missing.

        Raises
        ------
        VerificationError
            When a witness fails or chambers are missing, with ``{"listed": k, "chambers": N}``.

        >>> data = RegressionData.from_arrays([[1, 0], [0, 1], [1, 1]], [0, 0, 0])
        >>> pats = enumerate_patterns(data)
        >>> pats.verify_complete(data)
        >>> import dataclasses
        >>> dataclasses.replace(pats, masks=pats.masks[1:], gates=pats.gates[1:]).verify_complete(data)
        Traceback (most recent call last):
        ...
        symtrunc.errors.VerificationError: pattern list is incomplete: 5 chambers listed, 6 exist (Zaslavsky)
        """

        if not self.open or not self.check(data):
            raise VerificationError("a pattern's witness is not strictly inside its chamber", {"patterns": self.method})
        keys = {m.tobytes() for m in self.masks}
        if len(keys) != len(self):
            raise VerificationError("the pattern list has repeated masks", {"listed": len(self)})
        zero_rows = np.array([not any(a) for a in data.integer_rows], dtype=bool)
        # chambers come in antipodal pairs (g, -g): the all-negative one exists iff the all-positive
        # one does, and the all-positive one, when it exists, must be listed (it is never dropped)
        dropped = np.ones(data.n, dtype=bool).tobytes() in keys and zero_rows.tobytes() not in keys
        listed = len(self) + int(dropped)
        total = count_chambers(data)
        if listed != total:
            raise VerificationError(
                f"pattern list is incomplete: {listed} chambers listed, {total} exist (Zaslavsky)",
                {"listed": listed, "chambers": total},
            )


def count_chambers(data: RegressionData) -> int:
    """Number of open chambers of the central arrangement ``{g : x_j^T g = 0}`` (``x_j ≠ 0``).

    Zaslavsky's theorem: the number of regions is ``Σ_F |μ(F)|`` over the intersection lattice
    (flats ``F`` = intersections of hyperplanes, ``μ`` its Möbius function). The flats are
    built rank by rank from exact integer ranks, so the count is exact and independent of
    :func:`enumerate_patterns`; in general position it is Cover's count.

    >>> count_chambers(RegressionData.from_arrays([[1, 0, 1], [0, 1, 1], [1, 1, 1], [2, 3, 1]], [0] * 4))
    14
    >>> count_chambers(RegressionData.from_arrays([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1]], [0] * 4))
    12
    """
    rows = data.integer_rows
    H = [rows[j] for j, (rep, _) in enumerate(_row_classes(rows)) if rep == j]
    if not H:
        return 1
    d = data.d

    def rank(idx) -> int:
        return flint.fmpz_mat(len(idx), d, [x for i in idx for x in H[i]]).rank()

    r = rank(range(len(H)))
    if r == 1:
        return 2
    # rank 1: the distinct hyperplanes themselves, μ = −1 each
    mu: dict[frozenset[int], int] = {frozenset(): 1, **{frozenset([h]): -1 for h in range(len(H))}}
    level: dict[frozenset[int], tuple[int, ...]] = {frozenset([h]): (h,) for h in range(len(H))}  # flat -> basis
    total = 1 + len(H)
    for k in range(2, r):
        nxt: dict[frozenset[int], tuple[int, ...]] = {}
        for F, basis in level.items():
            seen: set[int] = set(F)
            for h in range(len(H)):
                if h in seen:
                    continue
                b2 = basis + (h,)
                G = frozenset(j for j in range(len(H)) if j in F or j == h or rank(b2 + (j,)) == k)
                seen |= G
                nxt.setdefault(G, b2)
        for G in nxt:
            mu[G] = -sum(m for F, m in mu.items() if F < G)
            total += abs(mu[G])
        level = nxt
    return total + abs(sum(mu.values()))  # the top flat (rank r): μ = −Σ of all others


def cover_count(n: int, r: int) -> int:
    """Cover's count ``2 Σ_{k<r} C(n-1, k)`` of chambers of ``n`` central hyperplanes in general
    position in rank ``r``.

    >>> cover_count(6, 3), cover_count(7, 3), cover_count(5, 1)
    (32, 44, 2)
    """
    return 2 * sum(comb(n - 1, k) for k in range(r))


def in_general_position(data: RegressionData) -> bool:
    """Exact test that every ``min(n, d)`` rows of ``X`` are linearly independent.

    >>> in_general_position(RegressionData.from_arrays([[1, 0], [0, 1], [1, 1]], [0, 0, 0]))
    True
    >>> in_general_position(RegressionData.from_arrays([[1, 0], [0, 1], [2, 0]], [0, 0, 0]))
    False
    """
    k = min(data.n, data.d)
    rows = [[data.X[i, j] for j in range(data.d)] for i in range(data.n)]
    return all(
        flint.fmpq_mat(k, data.d, [v for i in sub for v in rows[i]]).rank() == k
        for sub in combinations(range(data.n), k)
    )


def _finish(
    data: RegressionData,
    cells: list[tuple[list[int], tuple[int, ...]]],
    method: str,
    certificates: int,
    complete: bool,
    strict: bool,
) -> ActivationPatterns:
    seen: dict[bytes, tuple[int, ...]] = {}
    chambers = 0
    for signs, g in cells:
        mask = np.array([s > 0 for s in signs], dtype=bool)
        key = mask.tobytes()
        if key not in seen:
            chambers += 1
            seen[key] = g
    zero = np.zeros(data.n, dtype=bool).tobytes()
    keys = sorted(k for k in seen if k != zero)
    masks = np.array([np.frombuffer(k, dtype=bool) for k in keys], dtype=bool).reshape(len(keys), data.n)
    return ActivationPatterns(masks, tuple(seen[k] for k in keys), strict, complete, chambers, certificates, method)


def _separate_from_origin(pts: list[list[int]], d: int):
    """:func:`~symtrunc.exact.lp.strictly_separate` of the origin from integer points, each point
    first scaled exactly to max-norm 1 (a positive scaling changes neither answer, and keeps the
    float LP proposal well conditioned when the data have many decimals)."""
    rows = [[flint.fmpq(x, max(abs(v) for v in p)) for x in p] for p in pts]
    return strictly_separate(flint.fmpq_mat(1, d), flint.fmpq_mat(len(rows), d, [x for r in rows for x in r]))


def _int_vector(h: flint.fmpq_mat) -> tuple[int, ...]:
    return tuple(int(v) for v in h.numer_denom()[0].entries())


def _dot(a: list[int], g: tuple[int, ...]) -> int:
    return sum(x * y for x, y in zip(a, g))


def _row_classes(A: list[list[int]]) -> list[tuple[int, int]]:
    """For each row: (index of the first row on the same line, +1/-1 orientation), or (-1, 0) for 0."""
    out: list[tuple[int, int]] = []
    first: dict[tuple[int, ...], tuple[int, int]] = {}  # primitive direction up to sign -> (row, its sign)
    for j, a in enumerate(A):
        if not any(a):
            out.append((-1, 0))
            continue
        g = gcd(*a)
        lead = next(x for x in a if x != 0)
        sign = 1 if lead > 0 else -1
        key = tuple(sign * x // g for x in a)  # a = sign · g · key: proportional rows share the key
        if key in first:
            k, sk = first[key]
            out.append((k, sign * sk))
        else:
            first[key] = (j, sign)
            out.append((j, 1))
    return out


def _sweep(A: list[list[int]]) -> list[tuple[int, ...]]:
    """Witnesses of the open chambers of a rank-2 arrangement in the plane (exact angular sweep)."""
    rays = []
    for a in A:
        if any(a):
            rays += [(-a[1], a[0]), (a[1], -a[0])]

    def half(t):
        return 0 if (t[1] > 0 or (t[1] == 0 and t[0] > 0)) else 1

    def cmp(s, t):
        hs, ht = half(s), half(t)
        if hs != ht:
            return hs - ht
        c = s[0] * t[1] - s[1] * t[0]
        return -1 if c > 0 else (1 if c < 0 else 0)

    rays.sort(key=cmp_to_key(cmp))
    uniq = [t for k, t in enumerate(rays) if k == 0 or cmp(rays[k - 1], t) != 0]
    out = []
    for k, t in enumerate(uniq):
        s = uniq[(k + 1) % len(uniq)]
        if t[0] * s[1] - t[1] * s[0] <= 0:
            raise UncertifiedError("angular sweep met an arc of angle >= pi (data of rank < 2)")
        out.append((t[0] + s[0], t[1] + s[1]))
    return out


def enumerate_patterns(data: RegressionData, *, limit: int = _ENUMERATION_LIMIT) -> ActivationPatterns:
    """All non-zero open-chamber activation patterns of ``X``, exactly, with witnesses.

    Parameters
    ----------
    data : RegressionData
    limit : int
        Refuse with :class:`~symtrunc.errors.DataError` when more chambers than this appear or
        (incremental method) when Cover's bound for the distinct hyperplanes exceeds it (use
        :func:`sample_patterns` for large data). The incremental method makes ``O(n p)`` exact
        LP calls (about 7 s for ``n = 20, d = 3, p = 382``).

    Returns
    -------
    ActivationPatterns
        ``complete=True``, ``open=True``.

    Examples
    --------
    >>> data = RegressionData.from_arrays([[1, 0, 1], [0, 1, 1], [1, 1, 1], [2, 3, 1]], [0] * 4)
    >>> p = enumerate_patterns(data)
    >>> p.method, p.chambers, cover_count(4, 3), in_general_position(data)
    ('incremental', 14, 14, True)
    """
    A = data.integer_rows
    r = data.X.rank()
    if r == 2 and data.d == 2:
        cells = [([], g) for g in _sweep(A)]  # signs are computed exactly by _checked
        if len(cells) > limit:
            raise DataError(f"more than {limit} activation patterns; use sample_patterns for data this large")
        return _finish(data, _checked(cells, A), "sweep", 0, True, True)
    classes = _row_classes(A)
    lines = sum(1 for j, (rep, _) in enumerate(classes) if rep == j)
    if cover_count(lines, r) > limit:  # Cover's count bounds the chambers of any arrangement
        raise DataError(
            f"up to {cover_count(lines, r)} activation patterns (Cover's bound) > {limit}; "
            "use sample_patterns for data this large"
        )
    cells: list[tuple[list[int], tuple[int, ...]]] = [([], tuple([0] * data.d))]
    certificates = 0
    for k, a in enumerate(A):
        rep, orient = classes[k]
        if rep != k:  # zero row, or a line already present: the sign is forced
            cells = [(s + [1 if rep < 0 else orient * s[rep]], g) for s, g in cells]
            continue
        new = []
        for s, g in cells:
            v = _dot(a, g)
            if v == 0:
                others = [abs(_dot(A[j], tuple(a))) for j in range(k) if s[j] != 0]
                vals = [abs(_dot(A[j], g)) for j in range(k) if s[j] != 0]
                M = 1 + max((o // max(w, 1) + 1 for o, w in zip(others, vals)), default=0)
                for sign in (1, -1):
                    new.append((s + [sign], tuple(M * gi + sign * ai for gi, ai in zip(g, a))))
                continue
            side = 1 if v > 0 else -1
            new.append((s + [side], g))
            pts = [[s[j] * x for x in A[j]] for j in range(k) if classes[j][0] == j] + [[-side * x for x in a]]
            res = _separate_from_origin(pts, data.d)
            if isinstance(res, Separator):
                new.append((s + [-side], _int_vector(res.normal)))
            else:
                certificates += 1
        cells = new
        if len(cells) > limit:
            raise DataError(f"more than {limit} activation patterns; use sample_patterns for data this large")
    return _finish(data, _checked(cells, A), "incremental", certificates, True, True)


def _checked(
    cells: list[tuple[list[int], tuple[int, ...]]], A: list[list[int]]
) -> list[tuple[list[int], tuple[int, ...]]]:
    """Recompute each sign vector from its witness exactly; zero rows get sign +1 (``>= 0``).

    The products ``x_j^T g`` are exact integers: int64 NumPy when ``d · max|x| · max|g| < 2^62``,
    python-flint integer matrices otherwise."""
    if not cells:
        return []
    S = _products(A, [g for _, g in cells])
    zero = np.array([not any(a) for a in A])
    if ((S == 0) & ~zero[:, None]).any():
        raise UncertifiedError("internal: a chamber witness lies on a hyperplane")
    signs = np.where(S >= 0, 1, -1)
    return [(signs[:, c].tolist(), g) for c, (_, g) in enumerate(cells)]


def _products(A: list[list[int]], gates) -> np.ndarray:
    """``(n, p)`` exact integers ``x_j^T g_i``: int64 NumPy when ``d · max|x| · max|g| < 2^62``,
    python-flint integer matrices otherwise."""
    n, d = len(A), len(A[0])
    amax = max(abs(x) for a in A for x in a)
    gmax = max(abs(x) for g in gates for x in g)
    if d * amax * gmax < 2**62:
        return np.array(A, dtype=np.int64) @ np.array(gates, dtype=np.int64).reshape(len(gates), d).T
    Am = flint.fmpz_mat(n, d, [x for a in A for x in a])
    G = flint.fmpz_mat(d, len(gates), [g[k] for k in range(d) for g in gates])
    return np.array([[int(v) for v in row] for row in (Am * G).tolist()], dtype=object).reshape(n, len(gates))


def sample_patterns(data: RegressionData, n_gates: int, *, seed: int = 0, bits: int = 20) -> ActivationPatterns:
    """Patterns ``1[X g >= 0]`` of random integer Gaussian gates ``g`` (de-duplicated, zero dropped).

    Parameters
    ----------
    data : RegressionData
    n_gates : int
        Number of gates drawn (the number of distinct patterns is at most this).
    seed : int
        NumPy seed.
    bits : int
        Gates are ``rint(2**bits * N(0, I))`` integers, so every sign is exact.

    Examples
    --------
    >>> data = RegressionData.from_arrays([[1, 0], [0, 1], [1, 1]], [0, 0, 0])
    >>> p = sample_patterns(data, 50, seed=1)
    >>> p.complete, len(p) <= 5, p.check(data)
    (False, True, True)
    """
    if n_gates < 1:
        raise DataError("n_gates must be positive")
    rng = np.random.default_rng(seed)
    G = np.rint(rng.standard_normal((n_gates, data.d)) * 2.0**bits).astype(np.int64)
    gates = [tuple(int(x) for x in G[i]) for i in range(n_gates)]
    S = _products(data.integer_rows, gates)  # (n, n_gates) exact integers x_j^T g_i
    cells = []
    strict = True
    zeros = [not any(a) for a in data.integer_rows]
    for i in range(n_gates):
        col = S[:, i]
        strict = strict and all(v != 0 for v, zero in zip(col, zeros) if not zero)
        cells.append(([1 if v >= 0 else -1 for v in col], gates[i]))
    pats = _finish(data, cells, "sampled", 0, False, strict)
    return ActivationPatterns(pats.masks, pats.gates, pats.open, False, pats.chambers, 0, "sampled")


def patterns_from_masks(masks: np.ndarray, data: RegressionData) -> ActivationPatterns:
    """Wrap given 0/1 patterns (e.g. from another library); each must be a realizable pattern.

    The realizability of each mask (``∃ g: 1[X g >= 0] = mask``) is decided exactly; a mask
    that is not a pattern raises :class:`~symtrunc.errors.DataError`.

    >>> data = RegressionData.from_arrays([[1, 0], [0, 1]], [1, 1])
    >>> patterns_from_masks(np.array([[1, 0]]), data).gates
    ((1, -1),)
    >>> patterns_from_masks(np.array([[1, 1], [0, 0]]), data)
    Traceback (most recent call last):
    ...
    symtrunc.errors.DataError: mask 1 is the zero pattern (it contributes nothing); drop it
    """
    masks = np.asarray(masks).astype(bool)
    if masks.ndim != 2 or masks.shape[1] != data.n:
        raise DataError(f"masks must have shape (p, {data.n})")
    gates = []
    strict = True
    for i, m in enumerate(masks):
        if not m.any():
            raise DataError(f"mask {i} is the zero pattern (it contributes nothing); drop it")
        g = _realize(data.integer_rows, m)
        if g is None:
            raise DataError(f"mask {i} is not an activation pattern of X (exact LP certificate)")
        gates.append(g)
        strict = strict and all((_dot(a, g) > 0) == bool(m[j]) for j, a in enumerate(data.integer_rows) if any(a))
    return ActivationPatterns(masks.copy(), tuple(gates), strict, False, len(gates), 0, "given")


def _realize(rows, mask: np.ndarray) -> tuple[int, ...] | None:
    """An integer ``g`` with ``x_j^T g > 0`` where mask=1 (open) if possible, else ``>= 0``/``< 0``
    (``rows``: the integer rows of ``X``)."""
    n, d = len(rows), len(rows[0])
    pts = [[(1 if mask[j] else -1) * x for x in rows[j]] for j in range(n) if any(rows[j])]
    res = _separate_from_origin(pts, d)
    if isinstance(res, Separator):
        return _int_vector(res.normal)
    # a face pattern: 1[Xg >= 0] with ties; search g with negatives strict and positives >= 0
    from scipy.optimize import linprog

    Af = np.array([[float(x) for x in r] for r in rows])
    neg = ~mask
    if not neg.any():
        return tuple([0] * d)
    A_ub = np.vstack([-Af[mask], Af[neg]]) if mask.any() else Af[neg]
    b_ub = np.concatenate([np.zeros(int(mask.sum())), -np.ones(int(neg.sum()))])
    sol = linprog(np.zeros(d), A_ub=A_ub, b_ub=b_ub, bounds=[(None, None)] * d, method="highs")
    if sol.status != 0:
        return None
    for bits in (0, 8, 16, 30, 52):
        g = tuple(int(v) for v in np.rint(sol.x * 2.0**bits))
        if all((_dot(rows[j], g) >= 0) == bool(mask[j]) for j in range(n)):
            return g
    raise UncertifiedError("could not realize a face pattern exactly")
