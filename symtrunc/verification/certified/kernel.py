r"""The structured filter kernel: certified sign patterns of rank-one networks in one pass per point.

For the rational-cone networks every point whose signs are all positive on layers ``< l``
has the layer-``l`` pre-activation ``z = α_l x + (g_l · x) 1 + c_l``: the composed map of
the all-ones prefix is ``A = α_l I + 1 g_lᵀ``
(:class:`~symtrunc.verification.certified.bounds.RankOne`, recognized exactly from the
rationals). :func:`structured_codes` evaluates these maps straight from the raw input,
layer after layer, with the per-point bound of :class:`~.bounds.RankOne`, and gives each
point a **code**:

* ``l`` (``0 ≤ l < L``): the signs of layers ``< l`` are certified all positive and those of
  layer ``l`` all negative (the point collapses at layer ``l``: its pattern is all ones before
  ``l``, all zeros from ``l`` on, as the general filter records it);
* ``L`` (the number of layers given): every layer certified all positive;
* ``-1``: anything else (a mixed or uncertified layer, an input out of the range of the
  bounds, a 64-bit integer that float64 may not represent): the point goes to the general
  filter (:mod:`~symtrunc.verification.certified.float_filter`), which may still certify it
  or send it to the exact path.

Float algorithm and bound (exactly those of :class:`~.bounds.RankOne`, with inputs exact in
float64, ``e_p = 0``, or rounded with error ``≤ e_p``): ``m_p = max_j |x̃_pj|``,
``t̃ = fl(g̃ · x̃)`` summed in index order (any order is covered by the bound),
``z̃_i = fl(fl(fl(α̃ x̃_i) + c̃_i) + t̃)`` (the three-term sum of :class:`~.bounds.RankOne` in
another order, covered by its bound) and ``Ê = fl(fl(fl(k₁ m_p) + fl(k₂ e_p)) + T)``; a layer
is certified positive when ``min_i z̃_i > Ê`` and negative when ``max_i z̃_i < -Ê``, and only
when ``Ê < 2^900`` (no partial sum overflowed), ``m_p ≤ 2^400`` and ``t̃`` is not NaN (a NaN
coordinate makes ``t̃`` NaN, an infinite one ``m_p`` infinite; with finite inputs in range
every ``z̃_i`` is finite, so the minimum and maximum are the ordinary ones). Rounding is
monotone, so ``min_i z̃_i = fl(min_i fl(fl(α̃ x̃_i) + c̃_i) + t̃)`` (and the same for the
maximum): the kernel adds ``t̃`` once per point and layer, not once per coordinate.

Float model (as in :mod:`~symtrunc.verification.certified.bounds`): IEEE-754 binary64, round to
nearest, gradual underflow. The bound holds for ``t̃`` summed in any order and with or
without fused multiply-adds (an FMA rounds once where the formulas round twice; the ``γ_n``
bounds cover both), and for the three-term sum of ``z̃_i`` in any order. The compiled kernel
is built with numba **without** fast-math: fast-math would allow the compiler to assume that
no NaN or infinity occurs (dropping the ``t̃ = t̃`` test and the range checks) and to use
approximate operations, which the bound does not cover. :func:`numpy_codes` computes the
same codes with NumPy when numba is not installed (``t̃`` by a BLAS product: another summation
order, covered by the bound).

Points are processed in blocks of :data:`BLOCK` held feature-major (one row per coordinate),
so that every inner loop runs over the points of a block with unit stride and vectorizes;
a block stops at the layer where its last point leaves.

Examples
--------
>>> import numpy as np
>>> chain = StructuredChain(alphas=np.array([1.0]), G=np.array([[1.0, 1.0]]), C=np.array([[-1.0, 0.0]]),
...     K1=np.array([1e-15]), K2=np.array([1e-15]), T=np.array([1e-300]), layers=1)
>>> X = np.array([[2, 1], [0, 0], [0, 1]], dtype=np.uint8)   # z = (2x0 + x1 - 1, x0 + 2x1)
>>> numpy_codes(chain, X, None).tolist()                   # all > 0; mixed; mixed (z_0 = 0 exactly)
[1, -1, -1]
>>> bool((structured_codes(chain, X, None) == numpy_codes(chain, X, None)).all())
True
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from symtrunc.exact.jit import lazy_njit
from symtrunc.verification.certified.bounds import OVERFLOW_GUARD, RANGE_HI

__all__ = ["BLOCK", "StructuredChain", "compiled_codes", "numpy_codes", "structured_codes"]

#: points per block of the compiled kernel
BLOCK = 64
#: rows per block of the NumPy version (cache-sized temporaries)
NUMPY_BLOCK = 2048
#: 64-bit integers from this magnitude on may not be exact in float64: such points go to the general filter
INT_EXACT = 2.0**53
_NO_ERRORS = np.zeros(0)


@dataclass(frozen=True, eq=False)
class StructuredChain:
    """The rank-one maps of the all-ones prefixes of layers ``0 .. layers-1`` (one row per layer).

    ``alphas``, ``K1``, ``K2``, ``T`` have shape ``(layers,)``; ``G`` and ``C`` shape
    ``(layers, M)``: the fields ``alpha``, ``k1``, ``k2``, ``T``, ``g``, ``c`` of the layers'
    :class:`~symtrunc.verification.certified.bounds.RankOne`.
    """

    alphas: np.ndarray
    G: np.ndarray
    C: np.ndarray
    K1: np.ndarray
    K2: np.ndarray
    T: np.ndarray
    layers: int


def _codes_blocks(X, ex, rows, alphas, G, C, K1, K2, T, check_int, codes):  # pragma: no cover - compiled
    """Fill ``codes[r]`` for the rows ``r`` of ``rows``, taken in that order (see the module
    docstring); ``ex`` has length 0 when the inputs are exact.

    One pass over the coordinates per layer: ``w̃_i = fl(fl(α̃ x̃_i) + c̃_i)`` and their minimum
    ``w_min`` are computed (two coordinates per step), and the next layer's ``t̃`` is
    accumulated on the way. A layer is certified positive when ``fl(w_min + t̃) > Ê``, which is
    ``min_i z̃_i > Ê`` for ``z̃_i = fl(w̃_i + t̃)`` (rounding is monotone); a point that is not
    positive gets ``w_max`` in a pass of its own (once per point), negative when
    ``fl(w_max + t̃) < -Ê``. The running minimum lives in two alternating rows (read one, write
    the other), so that the compiler emits a vector minimum, not a masked store; the row
    maximum ``m_p`` is kept in two accumulators with selects, not branches.
    """
    n = rows.shape[0]
    M = X.shape[1]
    L = alphas.shape[0]
    has_ex = ex.shape[0] > 0
    row = np.zeros(BLOCK, dtype=np.int64)
    xa = np.empty((M, BLOCK))
    m = np.empty(BLOCK)
    t = np.empty(BLOCK)
    tn = np.empty(BLOCK)
    run = np.empty((2, BLOCK))  # running minimum: read one row, write the other
    alive = np.empty(BLOCK, dtype=np.bool_)
    for p0 in range(0, n, BLOCK):
        nb = min(BLOCK, n - p0)
        for p in range(nb):
            r = rows[p0 + p]
            row[p] = r
            m0 = 0.0
            m1 = 0.0
            i = 0
            while i + 1 < M:
                v0 = np.float64(X[r, i])
                v1 = np.float64(X[r, i + 1])
                xa[i, p] = v0
                xa[i + 1, p] = v1
                a0 = abs(v0)
                a1 = abs(v1)
                m0 = a0 if a0 > m0 else m0  # a NaN is skipped here: it makes t̃ NaN
                m1 = a1 if a1 > m1 else m1
                i += 2
            if i < M:
                v0 = np.float64(X[r, i])
                xa[i, p] = v0
                a0 = abs(v0)
                m0 = a0 if a0 > m0 else m0
            m[p] = m1 if m1 > m0 else m0
        for p in range(nb, BLOCK):  # unused lanes of the last block
            m[p] = 0.0
            for i in range(M):
                xa[i, p] = 0.0
        n_alive = 0
        for p in range(BLOCK):
            ok = p < nb and m[p] <= RANGE_HI and not (check_int and m[p] >= INT_EXACT)
            alive[p] = ok
            if p < nb:
                codes[row[p]] = -1
            if ok:
                n_alive += 1
        for p in range(BLOCK):  # t̃ of layer 0; each later one is accumulated in the previous pass
            t[p] = 0.0
        for i in range(M):
            g = G[0, i]
            for p in range(BLOCK):
                t[p] = t[p] + g * xa[i, p]
        for l in range(L):
            if n_alive == 0:
                break
            a_l = alphas[l]
            nxt = l + 1 if l + 1 < L else l
            for p in range(BLOCK):
                run[0, p] = np.inf
                tn[p] = 0.0
            s = 0
            i = 0
            while i < M:
                two = i + 1 < M
                c0 = C[l, i]
                g0 = G[nxt, i]
                c1 = C[l, i + 1] if two else c0
                g1 = G[nxt, i + 1] if two else 0.0
                j = i + 1 if two else i
                src = run[s]
                dst = run[1 - s]
                for p in range(BLOCK):
                    x0 = xa[i, p]
                    x1 = xa[j, p]
                    w0 = a_l * x0 + c0
                    w1 = a_l * x1 + c1
                    w = w0 if w0 < w1 else w1
                    q = src[p]
                    dst[p] = w if w < q else q
                    tn[p] = tn[p] + g0 * x0 + g1 * x1
                s = 1 - s
                i += 2
            k1, k2, T_l = K1[l], K2[l], T[l]
            for p in range(nb):
                if not alive[p]:
                    continue
                b = k1 * m[p]
                if has_ex:
                    b = b + k2 * ex[row[p]]
                b = b + T_l
                good = b < OVERFLOW_GUARD and t[p] == t[p]
                if good and run[s, p] + t[p] > b:
                    continue  # all positive: on to the next layer
                alive[p] = False
                n_alive -= 1
                if good:
                    top = -np.inf
                    for i in range(M):
                        w = a_l * xa[i, p] + C[l, i]
                        top = w if w > top else top
                    if top + t[p] < -b:
                        codes[row[p]] = l  # collapses here
            for p in range(BLOCK):
                t[p] = tn[p]
        for p in range(nb):
            if alive[p]:
                codes[row[p]] = L


_COMPILED: list = []  # [the compiled kernel] or [None] without numba, after the first call

#: A run on fewer points uses the NumPy version unless the compiled kernel is already loaded:
#: importing numba and loading the cached kernel costs about 0.9 s once, the NumPy version
#: about 0.1 s more per 10^5 points (measured: 10^5 uint8 points, M = 64, 10 layers).
COMPILED_FROM = 500_000


def compiled_loaded() -> bool:
    """Whether the compiled kernel is loaded in this process (numba imported, kernel created).

    >>> saved = list(_COMPILED)
    >>> _COMPILED[:] = [None]  # as after a first call without numba
    >>> compiled_loaded()
    False
    >>> _COMPILED[:] = [len]  # any loaded kernel
    >>> compiled_loaded()
    True
    >>> _COMPILED[:] = saved
    """
    return bool(_COMPILED) and _COMPILED[0] is not None


def compiled_codes() -> Callable | None:
    """The kernel compiled by numba (no GIL, cached on disk, no fast-math), or ``None`` without numba.

    >>> f = compiled_codes()
    >>> f is None or callable(f)
    True
    """
    return lazy_njit(_COMPILED, _codes_blocks)


def _needs_int_check(X: np.ndarray) -> bool:
    """Whether some integer of ``X``'s dtype may be inexact in float64 (64-bit integers)."""
    return X.dtype.kind in "iu" and X.dtype.itemsize >= 8


def structured_codes(
    chain: StructuredChain,
    X: np.ndarray,
    ex: np.ndarray | None,
    *,
    threads: int = 1,
    compiled: bool = True,
    order: np.ndarray | None = None,
) -> np.ndarray:
    """The code of every row of ``X`` (see the module docstring): compiled kernel, else NumPy.

    ``X`` is a numeric array (its values exact in float64 unless ``ex`` bounds their rounding
    errors, per row); 64-bit integers of magnitude ``≥ 2^53`` make their row ``-1``. The
    compiled kernel runs on ``threads`` parts of the rows at once (it releases the GIL) and
    visits the rows in ``order`` (a permutation; default: as they are): rows that leave at the
    same layer (points of one class) should share blocks, since a block runs until its last
    point leaves. The codes do not depend on the order. ``compiled=False`` asks for the NumPy
    version.

    >>> chain = StructuredChain(alphas=np.array([1.0]), G=np.array([[1.0, 1.0]]), C=np.array([[-1.0, 0.0]]),
    ...     K1=np.array([1e-15]), K2=np.array([1e-15]), T=np.array([1e-300]), layers=1)
    >>> X = np.array([[2, 1], [0, 0], [0, 1]], dtype=np.uint8)
    >>> structured_codes(chain, X, None, order=np.array([2, 0, 1])).tolist()
    [1, -1, -1]
    """
    kernel = compiled_codes() if compiled else None
    if kernel is None:
        return numpy_codes(chain, X, ex)
    X = np.asarray(X)
    if not X.dtype.isnative:  # e.g. a big-endian .npy file: numba reads native byte order only
        X = X.astype(X.dtype.newbyteorder("="))
    if X.dtype.kind == "b":
        X = X.view(np.uint8)
    elif X.dtype == np.float16:  # not a numba type: widened exactly
        X = X.astype(np.float32)
    if X.ndim != 2 or (X.shape[1] > 1 and X.strides[1] != X.itemsize):  # rows must be contiguous
        X = np.ascontiguousarray(X)
    if X.flags.writeable:  # one compiled variant for writable and read-only (memory-mapped) inputs
        X = X.view()
        X.flags.writeable = False
    n = X.shape[0]
    codes = np.full(n, -1, dtype=np.int32)  # a row ``order`` left out stays unsettled (-1), never garbage
    exv = _NO_ERRORS if ex is None else np.ascontiguousarray(ex, dtype=np.float64)
    check = _needs_int_check(X)
    rows = np.arange(n, dtype=np.int64) if order is None else np.asarray(order, dtype=np.int64)

    def run(a: int, b: int) -> None:  # the parts write disjoint rows of codes
        kernel(X, exv, rows[a:b], chain.alphas, chain.G, chain.C, chain.K1, chain.K2, chain.T, check, codes)

    parts = max(1, min(int(threads), n // (8 * BLOCK)))
    if parts == 1:
        run(0, n)
        return codes
    cuts = [n * k // parts for k in range(parts + 1)]
    with ThreadPoolExecutor(max_workers=parts) as pool:
        for f in [pool.submit(run, cuts[k], cuts[k + 1]) for k in range(parts)]:
            f.result()
    return codes


def numpy_codes(chain: StructuredChain, X: np.ndarray, ex: np.ndarray | None) -> np.ndarray:
    """The codes computed with NumPy: the same floats except ``t̃`` (a BLAS product: another
    summation order, covered by the bound).

    Blocks of :data:`NUMPY_BLOCK` rows are converted into preallocated buffers; points leave
    a block by compression into a second buffer, so no block-sized array is allocated per layer.
    """
    n, M = X.shape
    L = chain.layers
    codes = np.full(n, -1, dtype=np.int32)
    if n == 0 or L == 0:
        return codes
    check_int = _needs_int_check(X)
    GT = np.ascontiguousarray(chain.G.T)  # (M, L)
    B = min(NUMPY_BLOCK, n)
    bufs = [np.empty(B * M), np.empty(B * M)]
    zbuf = np.empty(B * M)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for a in range(0, n, B):
            nb = min(B, n - a)
            side = 0
            Xb = bufs[0][: nb * M].reshape(nb, M)
            Xb[...] = X[a : a + nb]  # the one float64 conversion of these rows
            if M:
                A = np.abs(Xb, out=zbuf[: nb * M].reshape(nb, M))
                m = np.maximum.reduce(A.T, axis=0)  # max |x|, NaN-propagating
            else:
                m = np.zeros(nb)
            ok = m <= RANGE_HI
            if check_int:
                ok &= m < INT_EXACT
            rows = np.arange(a, a + nb)
            exb = None if ex is None else np.asarray(ex[a : a + nb], dtype=np.float64)
            if not ok.all():
                side = 1
                Xb = np.compress(ok, Xb, axis=0, out=bufs[1][: int(ok.sum()) * M].reshape(-1, M))
                rows, m = rows[ok], m[ok]
                exb = None if exb is None else exb[ok]
            Tt = Xb @ GT  # (rows, L): t̃ of every layer
            for l in range(L):
                r = rows.size
                if r == 0:
                    break
                t = Tt[:, l]
                bound = m * chain.K1[l]
                if exb is not None:
                    bound += exb * chain.K2[l]
                bound += chain.T[l]
                Z = np.multiply(Xb, chain.alphas[l], out=zbuf[: r * M].reshape(r, M))
                Z += t[:, None]
                Z += chain.C[l]
                good = (bound < OVERFLOW_GUARD) & (t == t)
                pos = good & (np.minimum.reduce(Z.T, axis=0) > bound) if M else good
                if pos.all():
                    continue
                neg = good & ~pos & (np.maximum.reduce(Z.T, axis=0) < -bound) if M else np.zeros(r, dtype=bool)
                codes[rows[neg]] = l
                side = 1 - side
                k = int(pos.sum())
                Xb = np.compress(pos, Xb, axis=0, out=bufs[side][: k * M].reshape(k, M))
                rows, m, Tt = rows[pos], m[pos], Tt[pos]
                exb = None if exb is None else exb[pos]
            codes[rows] = L
    return codes
