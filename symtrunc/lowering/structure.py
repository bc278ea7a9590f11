r"""Exact structure of square layer matrices: ``W = α I + U Vᵀ`` with ``U Vᵀ`` of small rank.

The hidden layers of the constructed networks have structure. With the rational cone,
``W^(l) = c_l (ε_l I + u h_lᵀ)`` (``u`` the all-ones vector), and since
``(ε I + u hᵀ)^{-1} = ε^{-1} (I - u hᵀ / (ε + hᵀu))``, every layerwise matrix
``W_l = W^(l) (W^(l-1))^{-1}`` is a sum of ``(c_l ε_l)/(c_{l-1} ε_{l-1}) I`` and terms
``u (·)ᵀ``: ``W_l = α I + u gᵀ``. Its off-diagonal entries are ``W_ij = g_j`` (constant down
each column) and its diagonal is ``W_jj = α + g_j``. With the paper cone,
``W^(l) = (λ I + (1 - λ) u uᵀ / M) R_l`` with Householder reflections ``R_l``, and
``W_l - α I`` has rank at most 3 (its columns lie in the span of ``u``, ``v_l``, ``v_{l-1}``).

:func:`detect_structure` finds such a decomposition ``W = α I + U Vᵀ`` with
``rank ≤ max_rank`` **exactly** from the rational entries (it never trusts the metadata) and
checks it by exact equality. The structured forward pass of
:class:`~symtrunc.lowering.float_network.FloatNetwork` then evaluates the layer as
``z = α x + (x V) Uᵀ + b`` in ``O(M k)`` instead of ``O(M²)`` per point.

Examples
--------
>>> from symtrunc.exact.matrix import qmatrix
>>> s = detect_structure(qmatrix([[4, 2, 5], [1, 5, 5], [1, 2, 8]]))    # 3 I + u (1, 2, 5)
>>> s.alpha, s.rank
(3, 1)
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import flint
import numpy as np

from symtrunc.exact.matrix import identity

__all__ = ["LayerStructure", "detect_structure"]


@dataclass(frozen=True)
class LayerStructure:
    """An exact decomposition ``W = α I + U Vᵀ`` of a square weight matrix.

    Attributes
    ----------
    alpha : flint.fmpq
        The scalar ``α``.
    U, V : flint.fmpq_mat
        Factors of shape ``(n, k)``; ``k`` is the rank of ``W - α I``.

    Examples
    --------
    >>> from symtrunc.exact.matrix import qmatrix
    >>> s = LayerStructure(flint.fmpq(2), qmatrix([[1], [1]]), qmatrix([["1/2"], [3]]))
    >>> s.rank, s.matrix()
    (1, [5/2, 3]
    [1/2, 5])
    """

    alpha: flint.fmpq
    U: flint.fmpq_mat
    V: flint.fmpq_mat

    @property
    def rank(self) -> int:
        """``k``, the number of columns of ``U`` and ``V``."""
        return self.U.ncols()

    @property
    def size(self) -> int:
        """``n``, the order of ``W``."""
        return self.U.nrows()

    def matrix(self) -> flint.fmpq_mat:
        """The exact matrix ``α I + U Vᵀ``."""
        A = self.alpha * identity(self.size)
        return A + self.U * self.V.transpose() if self.rank else A


def _sub(e: list, n: int, rows: list[int] | range, cols: list[int] | range) -> flint.fmpq_mat:
    """Submatrix of the row-major entries ``e`` of an ``n``-column matrix."""
    return flint.fmpq_mat(len(rows), len(cols), [e[i * n + j] for i in rows for j in cols])


def _pivots(R: flint.fmpq_mat, r: int) -> list[int]:
    """Pivot columns of the first ``r`` rows of a reduced row echelon form."""
    n = R.ncols()
    out, j = [], 0
    for i in range(r):
        while R[i, j] == 0:
            j += 1
        out.append(j)
    assert all(p < n for p in out)
    return out


def _u_structure(e: list, n: int) -> LayerStructure | None:
    """``W = α I + u gᵀ`` (``u`` all ones): off-diagonal entries constant down each column."""
    g = [e[(1 if j == 0 else 0) * n + j] for j in range(n)]
    for i in range(n):
        row = i * n
        for j in range(n):
            if i != j and e[row + j] != g[j]:
                return None
    alpha = e[0] - g[0]
    if any(e[j * n + j] - g[j] != alpha for j in range(1, n)):
        return None
    if all(v == 0 for v in g):
        return LayerStructure(alpha, flint.fmpq_mat(n, 0), flint.fmpq_mat(n, 0))
    return LayerStructure(alpha, flint.fmpq_mat(n, 1, [1] * n), flint.fmpq_mat(n, 1, g))


def _schur_alphas(e: list, n: int, first: range, second: range, r: int, limit: int = 3) -> list:
    """Candidates ``α = W_jj - W[j,T] W[S,T]^{-1} W[S,j]`` from an off-diagonal block of rank ``r``.

    If ``rank(W - α I) = r`` then every ``(r+1) x (r+1)`` submatrix of ``W - α I`` is singular;
    with ``S ⊂ first``, ``T ⊂ second`` (so ``W[S,T]`` is off-diagonal) and ``j ∈ first \\ S``
    the Schur complement of the invertible block ``W[S,T]`` gives ``α``.
    """
    if r == 0:
        return [e[j * n + j] for j in list(first)[:limit]]
    blk = _sub(e, n, first, second)
    Rc, _ = blk.rref()
    T = [second[c] for c in _pivots(Rc, r)]
    Rr, _ = blk.transpose().rref()
    S = [first[c] for c in _pivots(Rr, r)]
    inv = _sub(e, n, S, T).inv()
    out = []
    for j in (j for j in first if j not in S):
        val = (_sub(e, n, [j], T) * inv * _sub(e, n, S, [j]))[0, 0]
        out.append(e[j * n + j] - val)
        if len(out) >= limit:
            break
    return out


def detect_structure(W: flint.fmpq_mat, *, max_rank: int = 4) -> LayerStructure | None:
    """Find ``W = α I + U Vᵀ`` exactly, with ``rank(U Vᵀ) ≤ max_rank`` as small as possible.

    Parameters
    ----------
    W : flint.fmpq_mat
        A square exact matrix (non-square matrices have no structure here).
    max_rank : int
        Largest rank of ``W - α I`` that counts as structure (also capped at ``n - 1``).

    Returns
    -------
    LayerStructure or None
        The decomposition, checked by exact equality ``α I + U Vᵀ == W``, or ``None``.

    Notes
    -----
    Floats only choose ranks, blocks and pivots; every conclusion is exact.

    1. ``W = α I + u gᵀ`` with ``u`` all ones (every hidden layer of a rational-cone network) is
       recognized directly: off-diagonal entries constant down each column.
    2. The off-diagonal blocks ``W[:h, h:]`` and ``W[h:, :h]`` (``h = n // 2``) equal those of
       ``W - α I`` for every ``α``. A nonsingular ``(max_rank+1)``-minor in one of them proves
       that there is no structure (a dense random matrix is rejected this way).
    3. Otherwise, for ``r`` = the block's rank: with an exactly nonsingular ``r x r`` block
       ``W[S, T]`` and ``j ∉ S ∪ T``, ``rank(W - α I) = r`` forces the Schur complement
       ``W_jj - α - W[j, T] W[S, T]^{-1} W[S, j]`` to vanish, which gives ``α``. Then
       ``B = W - α I`` is factored in skeleton form ``B = B[:, P] B[S', P]^{-1} B[S', :]``
       (``U = B[:, P]``, ``Vᵀ = B[S', P]^{-1} B[S', :]``), with ``S'``, ``P`` chosen by
       pivoted Gram–Schmidt on a float copy so that ``|V| ≲ 1`` (mild cancellation in floats),
       and accepted only if ``U Vᵀ == B`` exactly. Ranks ``r`` and ``k = rank(B)`` are tried in
       increasing order, because the float ranks of badly scaled terms (paper cone) are
       unreliable.
    4. If the float guide is inconclusive, exact elimination takes over: block ranks, Schur
       candidates from the reduced row echelon form, ``α = 0`` and (``n ≤ 64``) the rational
       eigenvalues of multiplicity ``≥ n - max_rank`` of the exact characteristic polynomial;
       the ``α`` with the smallest ``rank(W - α I)`` wins.

    Examples
    --------
    >>> from symtrunc.exact.matrix import qmatrix
    >>> W = qmatrix([[4, 2, 5], [1, 5, 5], [1, 2, 8]])        # 3 I + u (1, 2, 5)
    >>> s = detect_structure(W)
    >>> s.alpha, s.V.transpose(), s.matrix() == W
    (3, [1, 2, 5], True)
    >>> detect_structure(qmatrix([[1, 2, 3], [4, 5, 6], [7, 8, 10]])) is None
    True
    """
    n = W.nrows()
    if W.ncols() != n or n < 2:
        return None
    max_rank = min(max_rank, n - 1)
    e = list(W.entries())
    found = _u_structure(e, n)
    if found is not None:
        return found
    fast = _guided_structure(W, e, n, max_rank)
    if fast is not None:
        return fast if isinstance(fast, LayerStructure) else None
    h = n // 2
    first, second = range(h), range(h, n)
    r1 = _sub(e, n, first, second).rank()
    r2 = _sub(e, n, second, first).rank()
    if max(r1, r2) > max_rank:
        return None
    cands: list = []
    if h > r1:
        cands += _schur_alphas(e, n, first, second, r1)
    if n - h > r2:
        cands += _schur_alphas(e, n, second, first, r2)
    ordered = [a for a, _ in Counter(cands).most_common()] + [flint.fmpq(0)]
    best = _best_alpha(W, n, ordered, max_rank)
    if best is None and n <= 64:
        p = W.charpoly()
        _, factors = p.factor()
        roots = [-f.coeffs()[0] / f.coeffs()[1] for f, m in factors if f.degree() == 1 and m >= n - max_rank]
        best = _best_alpha(W, n, roots, max_rank)
    if best is None:
        return None
    alpha, r, B = best
    if r == 0:
        out = LayerStructure(alpha, flint.fmpq_mat(n, 0), flint.fmpq_mat(n, 0))
    else:
        U, V = _factor(B, n, r)
        out = LayerStructure(alpha, U, V)
    return out if out.matrix() == W else None


_NO_STRUCTURE = "no structure"  # proved by a nonsingular off-diagonal minor


def _greedy_pivots(A: np.ndarray, steps: int) -> tuple[list[int], list[float]]:
    """First ``steps`` column pivots of a pivoted Gram–Schmidt (QR with column pivoting) on a
    float copy and the norms ``|R_ii|``: a guide for choosing blocks, all checks are exact."""
    A = np.array(A, dtype=np.float64)
    piv: list[int] = []
    diag: list[float] = []
    norms = np.einsum("ij,ij->j", A, A)
    for _ in range(min(steps, *A.shape)):
        j = int(np.argmax(norms))
        d = math.sqrt(norms[j])
        if not d > 0:
            break
        piv.append(j)
        diag.append(d)
        q = A[:, j] / d
        A -= np.outer(q, q @ A)
        norms = np.einsum("ij,ij->j", A, A)
        norms[piv] = 0
    return piv, diag


def _skeleton(A: np.ndarray, r: int) -> tuple[list[int], list[int]]:
    """Rows ``S`` and columns ``P`` (``r`` each) of a well-conditioned ``r x r`` block of ``A``."""
    P = sorted(_greedy_pivots(A, r)[0])
    S = sorted(_greedy_pivots(A[:, P].T, r)[0])
    return S, P


def _float_rank(A: np.ndarray, rtol: float, at_most: int) -> int:
    """Numerical rank of ``A``, counted up to ``at_most``."""
    d = _greedy_pivots(A, at_most)[1]
    return sum(1 for v in d if v > rtol * d[0]) if d else 0


def _guided_structure(W: flint.fmpq_mat, e: list, n: int, max_rank: int):
    """Fast path: choose ranks, blocks and pivots on a float copy, then prove everything exactly.

    Returns a :class:`LayerStructure` (verified by ``U Vᵀ == W - α I``), ``_NO_STRUCTURE`` (an
    off-diagonal ``(max_rank+1)``-minor is nonsingular, so ``rank(W - α I) > max_rank`` for every
    ``α``), or ``None`` when the float guide was inconclusive (the caller falls back to exact
    elimination). Costs a few small exact solves and one ``n x n`` exact comparison.
    """
    num, den = W.numer_denom()
    d = int(den)
    try:
        Wf = np.array([int(v) / d for v in num.entries()], dtype=np.float64).reshape(n, n)
    except OverflowError:
        return None
    if not np.all(np.isfinite(Wf)) or not np.any(Wf):
        return None
    h = n // 2
    first, second = list(range(h)), list(range(h, n))
    lows = []
    for rows, cols in ((first, second), (second, first)):
        blk = Wf[np.ix_(rows, cols)]
        if _float_rank(blk, 1e-10, max_rank + 1) > max_rank:  # prove it with a nonsingular (max_rank+1)-minor
            S, P = _skeleton(blk, max_rank + 1)
            minor = _sub(e, n, [rows[i] for i in S], [cols[j] for j in P])
            return _NO_STRUCTURE if minor.rank() == max_rank + 1 else None
        lows.append(_float_rank(blk, 1e-6, max_rank))
    # the float ranks of badly scaled low-rank parts are unreliable (singular values 1, 1e-6,
    # 1e-12 occur in paper-cone layers): try increasing ranks, each one checked exactly
    blk = Wf[np.ix_(first, second)]
    for r in range(max(lows), min(max_rank, h - 1) + 1):
        alpha = _guided_alpha(e, n, blk, first, second, r)
        if alpha is None:
            continue
        B = W - alpha * identity(n)
        Bf = Wf - float(alpha) * np.eye(n)
        if r == 0 and B == flint.fmpq_mat(n, n):
            return LayerStructure(alpha, flint.fmpq_mat(n, 0), flint.fmpq_mat(n, 0))
        b = list(B.entries())
        for k in range(max(r, 1), max_rank + 1):
            S, P = _skeleton(Bf, k)
            core = _sub(b, n, S, P)
            if core.rank() != k:
                continue
            U = _sub(b, n, range(n), P)
            Vt = core.solve(_sub(b, n, S, range(n)))
            if not _spot_check(b, n, U, Vt, k):  # cheap rejection of a wrong α or rank
                continue
            if U * Vt == B:  # any nonsingular k x k block of a rank-k matrix gives B exactly
                return LayerStructure(alpha, U, Vt.transpose())
    return None


def _spot_check(b: list, n: int, U: flint.fmpq_mat, Vt: flint.fmpq_mat, k: int, samples: int = 24) -> bool:
    """``B_ij == (U Vt)_ij`` at a few fixed pseudo-random positions (exact)."""
    rng = np.random.default_rng(n)
    for i, j in zip(rng.integers(0, n, samples).tolist(), rng.integers(0, n, samples).tolist()):
        if sum((U[i, t] * Vt[t, j] for t in range(k)), flint.fmpq(0)) != b[i * n + j]:
            return False
    return True


def _guided_alpha(e: list, n: int, blk: np.ndarray, first: list[int], second: list[int], r: int):
    """``α`` from the Schur complement of an exactly nonsingular ``r x r`` block ``W[S, T]``
    (``S ⊂ first``, ``T ⊂ second``, chosen on the float block ``blk``); ``None`` if two
    diagonal positions disagree."""
    if r == 0:
        alphas = {e[j * n + j] for j in first[:2]}
    else:
        Si, Pi = _skeleton(blk, r)
        S, T = [first[i] for i in Si], [second[j] for j in Pi]
        core = _sub(e, n, S, T)
        if core.rank() != r:
            return None
        js = [j for j in first if j not in S][:2]
        alphas = {e[j * n + j] - (_sub(e, n, [j], T) * core.solve(_sub(e, n, S, [j])))[0, 0] for j in js}
    return alphas.pop() if len(alphas) == 1 else None


def _factor(B: flint.fmpq_mat, n: int, r: int) -> tuple[flint.fmpq_mat, flint.fmpq_mat]:
    """Exact ``B = U Vᵀ`` for ``rank(B) = r``, with well-scaled factors for floats.

    Skeleton form ``B = B[:, P] B[S, P]^{-1} B[S, :]``: ``U = B[:, P]`` and
    ``Vᵀ = B[S, P]^{-1} B[S, :]``, exact whenever ``B[S, P]`` is invertible. ``P`` and ``S`` are
    picked by pivoted QR on a float copy (close to a maximum-volume block, so the entries of
    ``Vᵀ`` are about ``≤ 1`` and the float products ``(x V) Uᵀ`` do not cancel badly); if the
    float choice fails (checked exactly), the pivots of the reduced row echelon form are used.
    """
    b = list(B.entries())
    try:
        Bf = np.array([float(v) for v in b], dtype=np.float64).reshape(n, n)
        if not np.all(np.isfinite(Bf)):
            raise OverflowError
        S, P = _skeleton(Bf, r)
        core = _sub(b, n, S, P)
        if core.rank() == r:
            U = _sub(b, n, range(n), P)
            Vt = core.solve(_sub(b, n, S, range(n)))
            if U * Vt == B:
                return U, Vt.transpose()
    except (OverflowError, ValueError, ZeroDivisionError):
        pass
    R, _ = B.rref()
    piv = _pivots(R, r)
    U = _sub(b, n, range(n), piv)
    V = flint.fmpq_mat(r, n, [R[i, j] for i in range(r) for j in range(n)]).transpose()
    return U, V


def _best_alpha(W: flint.fmpq_mat, n: int, cands: list, max_rank: int):
    best = None
    seen = set()
    for alpha in cands:
        if alpha in seen:
            continue
        seen.add(alpha)
        B = W - alpha * identity(n)
        r = B.rank()
        if r <= max_rank and (best is None or r < best[1]):
            best = (alpha, r, B)
            if r <= 1:
                break
    return best
