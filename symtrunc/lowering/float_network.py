"""Lowering an exact network to floats, with a chunked, cache-friendly forward pass.

:func:`lower` rounds every weight and bias of a :class:`~symtrunc.network.ReLUNetwork` to
``float64`` or ``float32`` (correctly rounded, ties to even) and returns a
:class:`FloatNetwork`. Its :meth:`~FloatNetwork.forward` evaluates any number of points in
chunks of rows with preallocated buffers (``np.matmul(..., out=...)``, in-place bias and ReLU),
so memory stays bounded by the chunk size whatever ``N`` is (the input may be an
``np.memmap``), and it limits BLAS to one thread by default (``threadpoolctl``), which is much
faster than the default for these tall, skinny products on small machines.

Structured layers
-----------------
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
checks it by exact equality. The structured forward pass then evaluates the layer as
``z = α x + (x V) Uᵀ + b`` in ``O(M k)`` instead of ``O(M²)`` per point, as two skinny BLAS
products (the second one accumulates ``α x`` in place through ``gemm``'s ``beta``, the bias
riding along as an extra rank-one term) followed by an in-place ReLU.

Engines
-------
:meth:`FloatNetwork.forward` has two engines. ``engine="numpy"`` evaluates each structured
layer as two skinny BLAS products plus an in-place ReLU: three memory passes over the
activations per layer. ``engine="numba"`` (optional extra ``symtrunc[fast]``) runs the compiled
kernel of :mod:`symtrunc.lowering.kernels`: blocks of 32 points held feature-major, one fused pass per
rank-one layer (the next layer's projection ``Vᵀ x`` is accumulated while the ReLU output is
written), every sum in its natural order, only fused multiply-add allowed. ``"auto"`` (the
default) takes the kernel when numba is installed and the network is structured.

Performance and accuracy
------------------------
Measured on 2 shared cores (``benchmarks/bench_lower.py``, rational cone, M=64, 10 hidden
layers, float64, one thread, routes interleaved, CPU-time ratios): dense chunked about
0.35 M points/s (the GEMM runs near the core's peak), NumPy structured about 5x faster, the
numba kernel 10-15x faster (0.2-0.3 s per 10^6 points, of which reading the float64 input
costs about 0.05 s; the spread is memory contention on the shared machine). With numba the
gain grows with the width (35-40x at M=256, 70-80x at M=512). The constructed layers can be badly conditioned (``cond(W_l)`` up to ~1e9 on the wine
data with the paper cone): float32 outputs may then be far from the exact ones even when the
predicted labels are right. Use :func:`symtrunc.verify` for proofs; floats are for speed (a
filter, never a proof).

Examples
--------
>>> import numpy as np
>>> import symtrunc
>>> from symtrunc.lowering import lower
>>> data = symtrunc.LabeledData.from_arrays(
...     [[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]], list("aaaabbbb"))
>>> net = symtrunc.construct(data)
>>> fnet = lower(net)
>>> fnet.structured, 0 < fnet.max_weight_error < 1e-16    # biases such as -7/6 round
(True, True)
>>> [s.alpha for s in fnet.layer_structures[:2]]           # W_l = α I + u gᵀ
[1.0, 1.0]
>>> fnet.forward([[2, 0], [0, 3]]).round(12) + 0.0     # exact outputs: the one-hot labels
array([[1., 0.],
       [0., 1.]])
>>> fnet.predict(np.array([[3, 1], [1, 2]]))
array(['a', 'b'], dtype='<U1')
>>> fnet.forward([[2, 0]], engine="numpy").round(12) + 0.0    # the NumPy engine agrees
array([[1., 0.]])
"""

from __future__ import annotations

import math
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import flint
import numpy as np

from symtrunc.errors import DataError, FormatError
from symtrunc.exact.matrix import identity, qmatrix, to_float
from symtrunc.exact.rounding import round_matrix, round_up
from symtrunc.network import ReLUNetwork

__all__ = ["FloatNetwork", "FloatStructure", "LayerStructure", "detect_structure", "lower"]

DTYPES = ("float64", "float32")
STRUCTURES = ("auto", "dense", "structured")
ENGINES = ("auto", "numba", "numpy")
#: ``engine="auto"`` uses the compiled kernel from this many rows on (smaller inputs are fast on
#: the NumPy path and need not pay the one-time compilation of the kernel)
AUTO_NUMBA_MIN_ROWS = 4096
#: rows per call of the compiled kernel (it works on blocks of 32 points internally)
KERNEL_CHUNK = 1 << 14
#: bytes per activation buffer targeted by the automatic chunk size (fits in L2 cache)
CHUNK_BYTES = 1 << 19


# ============================================================================ exact structure
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


# ============================================================================ rounding
def _check_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise DataError(f"unsupported dtype {dtype!r}; use 'float64' or 'float32'") from None
    if dt.name not in DTYPES:
        raise DataError(f"unsupported dtype {dtype!r}; use 'float64' or 'float32'")
    return dt


# ============================================================================ float network
@dataclass(frozen=True, eq=False)
class FloatStructure:
    """Float factors of a structured layer ``W ≈ α I + U Vᵀ`` (each factor correctly rounded).

    Attributes
    ----------
    alpha : float
    U : np.ndarray
        Shape ``(out, k)``.
    V : np.ndarray
        Shape ``(in, k)``.
    """

    alpha: float
    U: np.ndarray
    V: np.ndarray

    @property
    def rank(self) -> int:
        """``k``."""
        return self.U.shape[1]


@dataclass(frozen=True)
class _DenseOp:
    Wt: np.ndarray  # (in, out), C-contiguous
    b: np.ndarray | None  # (out,), None when zero
    relu: bool


@dataclass(frozen=True)
class _StructOp:
    alpha: float
    Vaug: np.ndarray  # (in, k+1), C-contiguous, last column zero
    Uaug: np.ndarray  # (out, k+1), Fortran order, last column the bias
    k: int
    relu: bool


@dataclass(frozen=True)
class _Buffers:
    act: list  # two flat activation buffers (ping-pong for dense layers)
    zeros: np.ndarray  # flat zeros for the ReLU
    t: np.ndarray | None  # flat (n, k+1) buffer of the structured layers


@dataclass(frozen=True, eq=False)
class FloatNetwork:
    """A float version of an exact network with a chunked, bounded-memory forward pass.

    Attributes
    ----------
    weights : tuple of np.ndarray
        Correctly rounded weights, shape ``(out, in)`` per layer.
    biases : tuple of np.ndarray
        Correctly rounded biases, shape ``(out,)`` per layer.
    activations : tuple of str
        ``"relu"`` or ``"identity"`` per layer.
    classes : tuple
        Labels in output order (may be empty).
    dtype : np.dtype
        ``float64`` or ``float32``.
    max_weight_error : float
        Rigorous upper bound (computed exactly, rounded up) on ``|exact - float|`` over every
        stored float parameter: all weights and biases and, for structured layers, ``α``,
        ``U`` and ``V``. Zero when every parameter is exactly representable.
    structured : bool
        Whether :meth:`forward` uses the structured path for at least one layer.
    layer_structures : tuple of FloatStructure or None
        Per layer, the float factors used by the structured path (``None``: dense path).
    targets : np.ndarray or None
        Label matrix ``Y`` (column ``j`` the target of class ``j``) when it is not the identity;
        :meth:`predict` then decodes by nearest target instead of argmax.
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    activations: tuple[str, ...]
    classes: tuple[Any, ...]
    dtype: np.dtype
    max_weight_error: float
    layer_structures: tuple[FloatStructure | None, ...] = ()
    targets: np.ndarray | None = None
    structured: bool = field(init=False)
    _plan: tuple = field(init=False, repr=False, compare=False)
    _packed: tuple | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        dt = np.dtype(self.dtype)
        object.__setattr__(self, "dtype", dt)
        L = len(self.weights)
        structs = tuple(self.layer_structures) or (None,) * L
        if not L or len(self.biases) != L or len(self.activations) != L or len(structs) != L:
            raise FormatError("weights, biases, activations and layer_structures need one entry per layer")
        object.__setattr__(self, "layer_structures", structs)
        object.__setattr__(self, "structured", any(s is not None for s in structs))
        plan = []
        for k, (W, b, act, s) in enumerate(zip(self.weights, self.biases, self.activations, structs)):
            relu = act == "relu"
            if b.shape != (W.shape[0],) or (k and W.shape[1] != self.weights[k - 1].shape[0]):
                raise FormatError(f"layer {k + 1}: weights {W.shape} and bias {b.shape} do not fit")
            if s is None:
                plan.append(_DenseOp(np.ascontiguousarray(W.T, dtype=dt), b.astype(dt) if np.any(b) else None, relu))
            else:
                n, r = W.shape[0], s.rank
                if W.shape != (n, n) or s.U.shape != (n, r) or s.V.shape != (n, r):
                    raise FormatError(f"layer {k + 1}: structured factors need a square layer, U and V of shape (n, k)")
                Vaug = np.zeros((n, r + 1), dtype=dt)
                Vaug[:, :r] = s.V
                Uaug = np.asfortranarray(np.concatenate([s.U, b.reshape(-1, 1)], axis=1), dtype=dt)
                plan.append(_StructOp(float(s.alpha), Vaug, Uaug, r, relu))
        for arr in (*self.weights, *self.biases):
            arr.setflags(write=False)
        object.__setattr__(self, "_plan", tuple(plan))
        object.__setattr__(self, "_packed", None)

    def __repr__(self) -> str:
        ranks = [None if s is None else s.rank for s in self.layer_structures]
        return (
            f"FloatNetwork(widths={self.widths}, dtype={self.dtype.name}, structured={self.structured}, "
            f"structure_ranks={ranks}, max_weight_error={self.max_weight_error:.3g}, classes={self.classes!r})"
        )

    # ---------------------------------------------------------------- shape
    @property
    def widths(self) -> tuple[int, ...]:
        """``(d_0, d_1, ..., d_L)``."""
        return (self.weights[0].shape[1],) + tuple(W.shape[0] for W in self.weights)

    @property
    def input_dim(self) -> int:
        """``d_0``."""
        return self.weights[0].shape[1]

    @property
    def output_dim(self) -> int:
        """``d_L``."""
        return self.weights[-1].shape[0]

    def chunk_rows(self, chunk: int | None = None) -> int:
        """Rows per chunk: ``chunk``, or automatically about 512 KiB per activation buffer.

        >>> from symtrunc.network import ReLUNetwork
        >>> lower(ReLUNetwork.from_rows([([[1] * 64] * 64, [0] * 64, "identity")])).chunk_rows()
        1024
        """
        if chunk is None:
            return int(min(65536, max(64, CHUNK_BYTES // (max(self.widths) * self.dtype.itemsize))))
        if not isinstance(chunk, (int, np.integer)) or isinstance(chunk, bool) or chunk < 1:
            raise DataError(f"chunk must be a positive integer, got {chunk!r}")
        return int(chunk)

    # ---------------------------------------------------------------- evaluation
    def forward(
        self,
        X: Any,
        *,
        chunk: int | None = None,
        threads: int | None = 1,
        out: np.ndarray | None = None,
        engine: str = "auto",
    ) -> np.ndarray:
        """Float outputs of the network for points given as rows.

        Parameters
        ----------
        X : array-like of shape (N, d_0)
            Integer or float entries (an ``np.memmap`` works: it is read chunk by chunk and
            converted to :attr:`dtype` per chunk).
        chunk : int, optional
            Rows per chunk; default :meth:`chunk_rows` (about 512 KiB per buffer, measured
            fastest on a 2-core machine). Memory use is ``O(chunk · max width)`` besides ``out``.
        threads : int or None
            NumPy engine: BLAS threads (via ``threadpoolctl`` when it is installed); ``None``
            leaves the current setting alone. Numba engine: worker threads, each running the
            compiled kernel on its own chunks (``None``: one).
        out : np.ndarray of shape (N, d_L), optional
            Where to write the outputs (may be a memmap).
        engine : {"auto", "numba", "numpy"}
            ``"numba"``: the compiled fused kernel of :mod:`symtrunc.lowering.kernels` (needs the
            ``numba`` package, ``pip install symtrunc[fast]``; the first call on a machine
            compiles it, a few seconds, then it is cached on disk); ``"numpy"``: chunked BLAS
            calls (the structured layers as two skinny products); ``"auto"``: ``"numba"`` when
            numba is installed, the network is :attr:`structured` and there are at least
            :data:`AUTO_NUMBA_MIN_ROWS` points, else ``"numpy"``. Both
            engines obey the same a-priori rounding bound (they sum in different orders, so
            their outputs differ in the last bits).

        Returns
        -------
        np.ndarray
            Shape ``(N, d_L)``; ``out`` when given.

        Examples
        --------
        >>> from symtrunc.network import ReLUNetwork
        >>> net = ReLUNetwork.from_rows([([[1, -1]], ["1/2"], "relu"), ([[2]], [0], "identity")])
        >>> lower(net).forward([[0, 0], [1, 3], [2, 1]], chunk=2)
        array([[1.],
               [0.],
               [3.]])
        """
        X = _as_points(X, self.input_dim)
        N = X.shape[0]
        dL = self.output_dim
        if out is None:
            out = np.empty((N, dL), dtype=self.dtype)
        elif not isinstance(out, np.ndarray) or out.shape != (N, dL):
            raise DataError(f"out must be an array of shape {(N, dL)}, got {getattr(out, 'shape', type(out))}")
        elif not np.issubdtype(out.dtype, np.floating):  # an integer out would truncate silently
            raise DataError(f"out must have a floating dtype (the network is {self.dtype}), got {out.dtype}")
        kernel = self._kernel(engine, N)
        if N == 0:
            return out
        if kernel is not None:
            return self._forward_compiled(kernel, X, out, chunk, threads)
        rows = min(self.chunk_rows(chunk), N)
        dt = self.dtype
        wmax = max(self.widths)
        kmax = max((op.k for op in self._plan if isinstance(op, _StructOp)), default=-1)
        mem = _Buffers(
            [np.empty(rows * wmax, dtype=dt), np.empty(rows * wmax, dtype=dt)],
            np.zeros(rows * wmax, dtype=dt),  # np.maximum(z, zeros) is ~2x faster than (z, 0)
            np.empty(rows * (kmax + 1), dtype=dt) if kmax >= 0 else None,
        )
        gemm = _gemm(dt) if kmax >= 0 else None
        direct = out.dtype == dt and out.flags.c_contiguous and isinstance(self._plan[-1], _DenseOp)
        programs: dict[int, tuple] = {}
        with _limit_threads(threads):
            for s in range(0, N, rows):
                e = min(N, s + rows)
                n = e - s
                if n not in programs:  # at most two: full chunks and the last one
                    programs[n] = self._program(n, mem, direct)
                inp, steps, result = programs[n]
                np.copyto(inp, X[s:e], casting="unsafe")
                for step in steps:
                    if step[0]:  # structured: cur <- relu(alpha cur + [cur V, 1] [U, b]^T), in place
                        _, cur, V, t, ones, U, tT, alpha, cT, zero = step
                        np.matmul(cur, V, out=t)
                        ones[...] = 1
                        res = gemm(1.0, U, tT, beta=alpha, c=cT, overwrite_c=1)
                        if res is not cT:  # pragma: no cover - f2py copied: cannot happen for F-ordered c
                            cT[...] = res
                    else:
                        _, cur, Wt, z, b, zero = step
                        if z is None:
                            z = out[s:e]
                        np.matmul(cur, Wt, out=z)
                        if b is not None:
                            z += b
                        cur = z
                    if zero is not None:
                        np.maximum(cur, zero, out=cur)
                if not direct:
                    out[s:e] = result
        return out

    __call__ = forward

    def _kernel(self, engine: str, n_rows: int):
        """The compiled kernel for ``engine`` on ``n_rows`` points, or ``None`` for the NumPy path
        (the one place where ``engine="auto"`` is decided)."""
        if engine not in ENGINES:
            raise DataError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
        if engine == "numpy" or (engine == "auto" and (not self.structured or n_rows < AUTO_NUMBA_MIN_ROWS)):
            return None
        try:
            from symtrunc.lowering.kernels import compiled_forward
        except ImportError:  # symtrunc.lowering.kernels blocked (tests simulate a missing numba this way)
            kernel = None
        else:
            kernel = compiled_forward()
        if kernel is None and engine == "numba":
            raise DataError("engine='numba' needs the 'numba' package: pip install 'symtrunc[fast]'")
        return kernel

    def _forward_compiled(self, kernel, X: np.ndarray, out: np.ndarray, chunk: int | None, threads: int | None) -> np.ndarray:
        """Chunks of ``X`` through the compiled kernel, on ``threads`` worker threads."""
        from symtrunc.lowering.kernels import pack

        _check_threads(threads)
        if self._packed is None:
            ops = [("dense", a == "relu", W, b) if s is None else ("structured", a == "relu", s.alpha, s.U, s.V, b)
                   for W, b, a, s in zip(self.weights, self.biases, self.activations, self.layer_structures)]
            object.__setattr__(self, "_packed", (*pack(ops, self.dtype), np.zeros(1, dtype=self.dtype)))
        meta, alphas, params, zero = self._packed
        N, dt = X.shape[0], self.dtype
        rows = min(N, KERNEL_CHUNK if chunk is None else self.chunk_rows(chunk))
        direct_out = out.dtype == dt and out.flags.c_contiguous
        direct_in = X.dtype in (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.uint8))

        def run(s: int) -> None:
            e = min(N, s + rows)
            x = np.asarray(X[s:e])  # a memmap slice becomes a plain view
            if not (direct_in and x.flags.c_contiguous):
                x = np.ascontiguousarray(x, dtype=dt)  # other dtypes: one compiled variant less
            o = np.asarray(out[s:e]) if direct_out else np.empty((e - s, out.shape[1]), dtype=dt)
            kernel(x, o, meta, alphas, params, zero)
            if not direct_out:
                out[s:e] = o

        starts = range(0, N, rows)
        if threads is None or threads == 1 or len(starts) == 1:
            for s in starts:
                run(s)
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=int(threads)) as pool:
                list(pool.map(run, starts))
        return out

    def _program(self, n: int, mem: "_Buffers", direct: bool) -> tuple:
        """Views and operands of every step for chunks of ``n`` rows (built once per size)."""
        widths = self.widths
        cur_i = 0
        cur = mem.act[0][: n * widths[0]].reshape(n, widths[0])
        inp = cur
        steps = []
        last = len(self._plan) - 1
        for k, op in enumerate(self._plan):
            w = widths[k + 1]
            zero = mem.zeros[: n * w].reshape(n, w) if op.relu else None
            if isinstance(op, _StructOp):
                t = mem.t[: n * (op.k + 1)].reshape(n, op.k + 1)
                steps.append((True, cur, op.Vaug, t, t[:, op.k], op.Uaug, t.T, op.alpha, cur.T, zero))
            else:
                if k == last and direct:
                    z = None
                else:
                    cur_i = 1 - cur_i
                    z = mem.act[cur_i][: n * w].reshape(n, w)
                steps.append((False, cur, op.Wt, z, op.b, zero))
                cur = z
        return inp, tuple(steps), cur

    def predict(self, X: Any, **kwargs: Any) -> np.ndarray:
        """Class labels: argmax of the outputs mapped to :attr:`classes` (index when none).

        With a non-identity label matrix (:attr:`targets`) the nearest target wins instead.
        Keyword arguments go to :meth:`forward`.
        """
        Z = self.forward(X, **kwargs)
        if self.targets is None:
            idx = np.argmax(Z, axis=1)
        else:
            T = self.targets.astype(np.float64)
            idx = np.argmin((T * T).sum(axis=0) - 2 * (Z.astype(np.float64) @ T), axis=1)
        if not self.classes:
            return idx
        kinds = {type(c) for c in self.classes}
        if len(kinds) == 1 and next(iter(kinds)) in (int, str, float, bool):
            labels = np.asarray(self.classes)
        else:
            labels = np.empty(len(self.classes), dtype=object)
            labels[:] = list(self.classes)
        return labels[idx]


def _as_points(X: Any, d0: int) -> np.ndarray:
    if not isinstance(X, np.ndarray):
        try:
            X = np.asarray(X)
        except (TypeError, ValueError) as e:
            raise DataError(f"points must be an array of shape (N, {d0}): {e}") from None
    if X.dtype.kind not in "biuf":
        try:
            X = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(f"points must be real numbers, got dtype {X.dtype}") from None
    if X.ndim != 2 or X.shape[1] != d0:
        raise DataError(f"points must have shape (N, {d0}), got {X.shape}")
    return X


def _gemm(dt: np.dtype):
    from scipy.linalg.blas import get_blas_funcs

    return get_blas_funcs("gemm", dtype=dt)


def _check_threads(threads: int | None) -> int | None:
    if threads is not None and (not isinstance(threads, (int, np.integer)) or isinstance(threads, bool) or threads < 1):
        raise DataError(f"threads must be a positive integer or None, got {threads!r}")
    return threads


_CONTROLLER: list = []


def _limit_threads(threads: int | None) -> AbstractContextManager:
    """``threadpoolctl`` BLAS limit, or a no-op when ``threads`` is None or it is not installed."""
    if _check_threads(threads) is None:
        return nullcontext()
    if not _CONTROLLER:
        try:
            import scipy.linalg.blas  # noqa: F401  (load scipy's BLAS before inspecting the libraries)
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _CONTROLLER.append(None)
        else:
            _CONTROLLER.append(ThreadpoolController())
    ctl = _CONTROLLER[0]
    return nullcontext() if ctl is None else ctl.limit(limits=int(threads), user_api="blas")


# ============================================================================ lower
def lower(
    network: ReLUNetwork,
    dtype: Any = "float64",
    *,
    structure: str = "auto",
    max_rank: int = 4,
) -> FloatNetwork:
    """Round an exact network to floats for fast evaluation.

    Parameters
    ----------
    network : ReLUNetwork
    dtype : {"float64", "float32"} or np.dtype
    structure : {"auto", "dense", "structured"}
        ``"auto"``: evaluate every layer with an exactly detected structure
        ``W = α I + U Vᵀ`` (:func:`detect_structure`) by the structured path, the others
        densely; ``"dense"``: every layer densely; ``"structured"``: like ``"auto"`` but raise
        if no hidden layer has structure.
    max_rank : int
        Largest rank of ``U Vᵀ`` that counts as structure.

    Returns
    -------
    FloatNetwork

    Raises
    ------
    FormatError
        ``structure="structured"`` and no hidden layer is structured.
    DataError
        Unknown ``dtype`` or ``structure``, or a parameter overflows ``dtype``.

    Examples
    --------
    >>> from symtrunc.network import ReLUNetwork
    >>> net = ReLUNetwork.from_rows([([[1, "1/3"], [2, 5]], [0, "1/10"], "relu"),
    ...                              ([[1, 1]], [0], "identity")])
    >>> f = lower(net, structure="dense")
    >>> f.structured, f.max_weight_error > 0
    (False, True)
    >>> lower(net, "float32").weights[0].dtype
    dtype('float32')
    """
    dt = _check_dtype(dtype)
    if structure not in STRUCTURES:
        raise DataError(f"unknown structure {structure!r}; use one of {', '.join(STRUCTURES)}")
    worst = flint.fmpq(0)
    weights, biases, structs = [], [], []
    for k, layer in enumerate(network.layers, 1):
        W, eW = round_matrix(layer.W, dt, f"layer {k} weights")
        b, eb = round_matrix(layer.b, dt, f"layer {k} bias")
        worst = max(worst, eW, eb)
        weights.append(W)
        biases.append(b.reshape(-1))
        s = None
        if structure != "dense":
            exact = detect_structure(layer.W, max_rank=max_rank)
            if exact is not None:
                a, ea = round_matrix(flint.fmpq_mat(1, 1, [exact.alpha]), dt, f"layer {k} alpha")
                U, eU = round_matrix(exact.U, dt, f"layer {k} U")
                V, eV = round_matrix(exact.V, dt, f"layer {k} V")
                worst = max(worst, ea, eU, eV)
                s = FloatStructure(float(a[0, 0]), U, V)
        structs.append(s)
    hidden = [s for s, layer in zip(structs, network.layers) if layer.activation == "relu"]
    if structure == "structured" and not any(s is not None for s in hidden):
        raise FormatError("no hidden layer has the structure α I + U Vᵀ (rank ≤ %d)" % max_rank)
    return FloatNetwork(
        weights=tuple(weights),
        biases=tuple(biases),
        activations=tuple(layer.activation for layer in network.layers),
        classes=tuple(network.classes),
        dtype=dt,
        max_weight_error=round_up(worst),
        layer_structures=tuple(structs),
        targets=_targets(network, dt),
    )


def _targets(network: ReLUNetwork, dt: np.dtype) -> np.ndarray | None:
    """The label matrix from the construction metadata when it is not the identity."""
    rows = network.construction.get("label_matrix") if network.construction else None
    if not rows:
        return None
    try:
        Y = qmatrix(rows, name="label matrix")
    except Exception:  # malformed metadata: fall back to argmax
        return None
    Q = Y.nrows()
    if Y.ncols() != Q or Q != network.output_dim or Y == identity(Q):
        return None
    return to_float(Y, dt)
