"""Compiled forward pass of a lowered network (optional, needs ``numba``: ``pip install "symtrunc[fast]"``).

:func:`forward_blocks` is compiled with ``numba`` when it is installed (``cache=True``: the
first call on a machine compiles it, 5-10 s per pair of input and network dtypes, later calls
load it from disk) and stays plain Python otherwise (same semantics, slow).
:func:`compiled_forward` returns the compiled function or ``None``, so that
:meth:`symtrunc.lowering.float_network.FloatNetwork.forward` falls back to its NumPy path without numba.

Layout
------
Points are processed in blocks of :data:`BLOCK` (32) points, held **feature-major** (struct of
arrays): the activations of a block are a ``(width, 32)`` array, so every inner loop runs over
the points of the block with unit stride and vectorizes (SIMD) without reordering any sum.
A structured layer ``y = relu(α x + U (Vᵀ x) + b)`` of rank ``k = 1`` costs one fused pass per
layer: for each feature row ``i`` it writes ``y_i = relu(α x_i + U_i s + b_i)`` in place and
accumulates the next layer's ``s' = Σ_i V'_i y_i`` on the fly. Rows are unrolled by four
(``s + g_0 x_0 + g_1 x_1 + ...``, evaluated left to right), which cuts the loads and stores of
the accumulators without changing the order of any sum. Other ranks take an unfused row loop;
dense layers compute two outputs per sweep over the block.

Everything sits in one function with locally allocated buffers, copied rather than swapped:
with helper functions or swapped array variables LLVM can no longer prove the buffers
distinct and stops vectorizing (measured 4-8x slower per layer).

Rounding
--------
Every sum is evaluated in the natural order ``(((s_0 + g_0 x_0) + g_1 x_1) + ...)``; the only
floating-point licence given to the compiler is ``contract`` (fused multiply-add, which rounds
once instead of twice), so each output obeys the same a-priori bound as the NumPy paths
(``|error| ≤ γ_t (|A| |x| + |b|)`` per layer with ``t = n + k + 2`` terms). No
``reassoc``/``nnan``/``ninf``: NaN and infinities propagate as in NumPy (the ReLU is
``0 if v < 0 else v``, which keeps NaN). Floats are a filter: proofs come from
:func:`symtrunc.verify`.

Plan format
-----------
``meta`` is an ``int64`` array with one row per layer
``(kind, relu, n_in, n_out, k, off_1, off_2, off_b)``, ``kind`` 0 (dense) or 1 (structured),
and ``params`` one flat array of the network's dtype. Dense: ``W`` (row-major ``(n_out, n_in)``)
at ``off_1``; structured: ``Uᵀ`` and ``Vᵀ`` (row-major ``(k, n)``) at ``off_1`` and ``off_2``;
the bias at ``off_b``. :func:`pack` builds them.

Examples
--------
>>> import numpy as np
>>> meta, alphas, params = pack([("structured", True, 2.0, np.ones((2, 1)), np.array([[1.0], [-1.0]]),
...                                np.array([0.0, -1.0])),
...                               ("dense", False, np.array([[1.0, 1.0]]), np.array([0.5]))], np.float64)
>>> X = np.array([[1.0, 0.0], [0.0, 3.0]])
>>> out = np.empty((2, 1))
>>> forward_blocks(X, out, meta, alphas, params, np.zeros(1))    # compiled when numba is installed
>>> out                      # relu(2x + (x_0 - x_1) u + b) summed, plus 1/2
array([[3.5],
       [2.5]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

try:  # optional: this module is imported lazily by symtrunc.lower, never by ``import symtrunc``
    import numba
except ImportError:  # pragma: no cover - depends on the environment
    numba = None

__all__ = ["BLOCK", "compiled_forward", "forward_blocks", "pack"]

#: points per block (measured fastest at M = 64: 32 > 16, 48 > 64 > 128)
BLOCK = 32


def pack(ops: list[tuple], dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``(meta, alphas, params)`` arrays of :func:`forward_blocks` for a list of layers.

    Parameters
    ----------
    ops : list of tuple
        ``("dense", relu, W, b)`` with ``W`` of shape ``(out, in)``, or
        ``("structured", relu, alpha, U, V, b)`` with ``U``, ``V`` of shape ``(n, k)``.
    dtype : np.dtype
        Dtype of ``params`` and ``alphas`` (float64 or float32).

    Examples
    --------
    >>> meta, alphas, params = pack([("dense", True, np.eye(2), np.zeros(2))], np.float32)
    >>> meta.tolist(), params.dtype
    ([[0, 1, 2, 2, 0, 0, 0, 4]], dtype('float32'))
    """
    meta = np.zeros((len(ops), 8), dtype=np.int64)
    alphas = np.zeros(len(ops), dtype=dtype)
    chunks: list[np.ndarray] = []
    off = 0

    def put(a: np.ndarray) -> int:
        nonlocal off
        start = off
        chunks.append(np.ascontiguousarray(a, dtype=dtype).ravel())
        off += chunks[-1].size
        return start

    for l, op in enumerate(ops):
        if op[0] == "dense":
            _, relu, W, b = op
            n_out, n_in = W.shape
            meta[l] = (0, relu, n_in, n_out, 0, put(W), 0, put(b))
        else:
            _, relu, alpha, U, V, b = op
            n, k = U.shape
            alphas[l] = alpha
            meta[l] = (1, relu, n, n, k, put(U.T), put(V.T), put(b))
    params = np.concatenate(chunks) if chunks else np.zeros(0, dtype=dtype)
    return meta, alphas, params


def _jit(fn: Callable) -> Callable:
    """``numba.njit`` (cached on disk, no GIL, fused multiply-add only) when numba is installed."""
    if numba is None:
        return fn
    return numba.njit(cache=True, nogil=True, fastmath={"contract"})(fn)


# One function on purpose (see the module notes on vectorization).
@_jit
def forward_blocks(X, out, meta, alphas, P, zero_arr):
    """Write the network's outputs for the rows of ``X`` into ``out`` (see the module notes).

    ``X`` is C-contiguous of any real dtype (converted on the fly), ``out`` C-contiguous of the
    network's dtype, ``zero_arr`` a one-element array of that dtype (a typed zero). Compiled by
    numba when it is installed, plain Python otherwise (slow, same semantics): use
    :func:`compiled_forward` to get the compiled version or ``None``.
    """
    zero = zero_arr[0]
    N, d0 = X.shape
    L = meta.shape[0]
    wmax, kmax = d0, 1
    for l in range(L):
        wmax = max(wmax, meta[l, 3])
        kmax = max(kmax, meta[l, 4])
    dt = zero_arr.dtype
    xa = np.empty((wmax, BLOCK), dtype=dt)  # the activations of a block, feature-major
    xb = np.empty((wmax + 1, BLOCK), dtype=dt)  # output of a dense layer, copied back into xa
    S = np.empty((kmax, BLOCK), dtype=dt)  # s = Vᵀ x for rank k != 1
    s = np.empty(BLOCK, dtype=dt)  # s = Vᵀ x for rank 1
    sn = np.empty(BLOCK, dtype=dt)  # the next layer's s, accumulated on the fly
    acc = np.empty(BLOCK, dtype=dt)
    acc2 = np.empty(BLOCK, dtype=dt)
    for p0 in range(0, N, BLOCK):
        nb = min(BLOCK, N - p0)
        for p in range(nb):
            for i in range(d0):
                xa[i, p] = X[p0 + p, i]
        have_s = False
        for l in range(L):
            kind, relu, n, n_out, k = meta[l, 0], meta[l, 1] != 0, meta[l, 2], meta[l, 3], meta[l, 4]
            o1, o2, ob = meta[l, 5], meta[l, 6], meta[l, 7]
            last = l == L - 1
            n4 = n - n % 4
            if kind == 1 and not have_s:  # S_t = Σ_i V_it x_i (s for rank one)
                for t in range(k):
                    ov = o2 + t * n
                    for p in range(nb):
                        acc[p] = zero
                    for i in range(0, n4, 4):
                        g0, g1, g2, g3 = P[ov + i], P[ov + i + 1], P[ov + i + 2], P[ov + i + 3]
                        for p in range(nb):
                            acc[p] = acc[p] + g0 * xa[i, p] + g1 * xa[i + 1, p] + g2 * xa[i + 2, p] + g3 * xa[i + 3, p]
                    for i in range(n4, n):
                        g0 = P[ov + i]
                        for p in range(nb):
                            acc[p] = acc[p] + g0 * xa[i, p]
                    for p in range(nb):
                        S[t, p] = acc[p]
                if k == 1:
                    for p in range(nb):
                        s[p] = S[0, p]
            if kind == 1 and k == 1:  # fused: x_i <- relu(α x_i + u_i s + b_i), s' = Σ_i h_i x_i
                a = alphas[l]
                fuse = not last and meta[l + 1, 0] == 1 and meta[l + 1, 4] == 1
                oh = meta[l + 1, 6] if fuse else 0
                for p in range(nb):
                    sn[p] = zero
                for i in range(0, n4, 4):
                    u0, u1, u2, u3 = P[o1 + i], P[o1 + i + 1], P[o1 + i + 2], P[o1 + i + 3]
                    c0, c1, c2, c3 = P[ob + i], P[ob + i + 1], P[ob + i + 2], P[ob + i + 3]
                    h0 = h1 = h2 = h3 = zero
                    if fuse:
                        h0, h1, h2, h3 = P[oh + i], P[oh + i + 1], P[oh + i + 2], P[oh + i + 3]
                    for p in range(nb):
                        sp = s[p]
                        v0 = a * xa[i, p] + u0 * sp + c0
                        v1 = a * xa[i + 1, p] + u1 * sp + c1
                        v2 = a * xa[i + 2, p] + u2 * sp + c2
                        v3 = a * xa[i + 3, p] + u3 * sp + c3
                        if relu:
                            v0 = zero if v0 < zero else v0
                            v1 = zero if v1 < zero else v1
                            v2 = zero if v2 < zero else v2
                            v3 = zero if v3 < zero else v3
                        xa[i, p] = v0
                        xa[i + 1, p] = v1
                        xa[i + 2, p] = v2
                        xa[i + 3, p] = v3
                        sn[p] = sn[p] + h0 * v0 + h1 * v1 + h2 * v2 + h3 * v3
                for i in range(n4, n):
                    u0, c0 = P[o1 + i], P[ob + i]
                    h0 = P[oh + i] if fuse else zero
                    for p in range(nb):
                        v0 = a * xa[i, p] + u0 * s[p] + c0
                        if relu:
                            v0 = zero if v0 < zero else v0
                        xa[i, p] = v0
                        sn[p] = sn[p] + h0 * v0
                for p in range(nb):  # a copy, not a swap (see above)
                    s[p] = sn[p]
                have_s = fuse
            elif kind == 1:  # rank k != 1: x_i <- relu(α x_i + b_i + Σ_t U_it S_t)
                a = alphas[l]
                for i in range(n):
                    c0 = P[ob + i]
                    for p in range(nb):
                        acc[p] = a * xa[i, p] + c0
                    for t in range(k):
                        u0 = P[o1 + t * n + i]
                        for p in range(nb):
                            acc[p] = acc[p] + u0 * S[t, p]
                    for p in range(nb):
                        v0 = acc[p]
                        xa[i, p] = zero if relu and v0 < zero else v0
                have_s = False
            else:  # dense: y_o = relu(b_o + Σ_i W_oi x_i), two outputs per sweep over x
                for o in range(0, n_out, 2):
                    two = o + 1 < n_out
                    w, w2 = o1 + o * n, o1 + (o + 1) * n if two else o1 + o * n
                    c0, c1 = P[ob + o], P[ob + o + 1] if two else zero
                    for p in range(nb):
                        acc[p] = c0
                        acc2[p] = c1
                    for i in range(0, n4, 4):
                        w0, w1, w2_, w3 = P[w + i], P[w + i + 1], P[w + i + 2], P[w + i + 3]
                        e0, e1, e2, e3 = P[w2 + i], P[w2 + i + 1], P[w2 + i + 2], P[w2 + i + 3]
                        for p in range(nb):
                            x0, x1, x2, x3 = xa[i, p], xa[i + 1, p], xa[i + 2, p], xa[i + 3, p]
                            acc[p] = acc[p] + w0 * x0 + w1 * x1 + w2_ * x2 + w3 * x3
                            acc2[p] = acc2[p] + e0 * x0 + e1 * x1 + e2 * x2 + e3 * x3
                    for i in range(n4, n):
                        w0, e0 = P[w + i], P[w2 + i]
                        for p in range(nb):
                            acc[p] = acc[p] + w0 * xa[i, p]
                            acc2[p] = acc2[p] + e0 * xa[i, p]
                    if relu:
                        for p in range(nb):
                            v0, v1 = acc[p], acc2[p]
                            acc[p] = zero if v0 < zero else v0
                            acc2[p] = zero if v1 < zero else v1
                    if last:
                        for p in range(nb):
                            out[p0 + p, o] = acc[p]
                        if two:
                            for p in range(nb):
                                out[p0 + p, o + 1] = acc2[p]
                    else:
                        for p in range(nb):
                            xb[o, p] = acc[p]
                            xb[o + 1, p] = acc2[p]
                if not last:
                    for i in range(n_out):
                        for p in range(nb):
                            xa[i, p] = xb[i, p]
                have_s = False
            if last and kind == 1:  # a structured output layer: transpose back
                for p in range(nb):
                    for i in range(n):
                        out[p0 + p, i] = xa[i, p]


def compiled_forward() -> Callable | None:
    """:func:`forward_blocks` compiled by ``numba`` (no GIL, cached on disk), or ``None``.

    Returns ``None`` when ``numba`` cannot be imported. Only ``fastmath={"contract"}`` (fused
    multiply-add) is enabled: no reordering of sums, NaN and infinities behave as in NumPy.

    >>> f = compiled_forward()
    >>> f is None or callable(f)
    True
    """
    return None if numba is None else forward_blocks
