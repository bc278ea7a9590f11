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
The hidden layers of the constructed networks have the exact structure ``W = α I + U Vᵀ``
with ``U Vᵀ`` of small rank, which :func:`~symtrunc.lowering.structure.detect_structure`
finds exactly (it never trusts the metadata). The structured forward pass evaluates such a
layer as ``z = α x + (x V) Uᵀ + b`` in ``O(M k)`` instead of ``O(M²)`` per point, as two skinny BLAS
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
data with the paper cone): float32 outputs may then be far from the exact ones, and labels
may be wrong. ``lower(net, dtype, data=...)`` therefore certifies the float network on the
training data in its own precision (:mod:`symtrunc.lowering.float_certificate`: every point in
its class under any IEEE evaluation order, with or without FMA, and the certified margin) and
refuses one it cannot certify; :func:`symtrunc.verify` proves the exact network.

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

from dataclasses import dataclass, field
from typing import Any

import flint
import numpy as np

from symtrunc.errors import DataError, FormatError, MissingDependencyError, UncertifiedError
from symtrunc.exact.matrix import identity, qmatrix, to_float
from symtrunc.exact.rounding import float_dtype, round_matrix, round_up
from symtrunc.exact.threads import blas_threads, check_threads
from symtrunc.lowering.float_certificate import FloatCertificate, certify_floats
from symtrunc.lowering.structure import detect_structure
from symtrunc.network import Layer, ReLUNetwork

__all__ = ["ExportLayers", "FloatNetwork", "FloatStructure", "balanced", "export_layers", "float_layers", "lower"]

STRUCTURES = ("auto", "dense", "structured")
ENGINES = ("auto", "numba", "numpy")
#: ``engine="auto"`` uses the compiled kernel from this many rows on (smaller inputs are fast on
#: the NumPy path and need not pay the one-time compilation of the kernel)
AUTO_NUMBA_MIN_ROWS = 4096
#: rows per call of the compiled kernel (it works on blocks of 32 points internally)
KERNEL_CHUNK = 1 << 14
#: bytes per activation buffer targeted by the automatic chunk size (fits in L2 cache)
CHUNK_BYTES = 1 << 19


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
    certificate : FloatCertificate or None
        What :meth:`certify` proved on the data given to :func:`lower` (``None``: nothing was
        certified; floats are then a filter, never a proof).
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    activations: tuple[str, ...]
    classes: tuple[Any, ...]
    dtype: np.dtype
    max_weight_error: float
    layer_structures: tuple[FloatStructure | None, ...] = ()
    targets: np.ndarray | None = None
    certificate: FloatCertificate | None = field(default=None, compare=False)
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
            ``numba`` package, ``pip install "symtrunc[fast]"``, else a
            :class:`~symtrunc.errors.MissingDependencyError`; the first call on a machine
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
        with blas_threads(threads):
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
            from symtrunc.lowering.kernels import compiled_forward  # lazy: numba is optional
        except ImportError:  # symtrunc.lowering.kernels blocked (tests simulate a missing numba this way)
            kernel = None
        else:
            kernel = compiled_forward()
        if kernel is None and engine == "numba":
            raise MissingDependencyError("numba", "fast", "engine='numba'")
        return kernel

    def _forward_compiled(
        self, kernel, X: np.ndarray, out: np.ndarray, chunk: int | None, threads: int | None
    ) -> np.ndarray:
        """Chunks of ``X`` through the compiled kernel, on ``threads`` worker threads."""
        from symtrunc.lowering.kernels import pack  # lazy: numba is optional

        check_threads(threads)
        if self._packed is None:
            ops = [
                ("dense", a == "relu", W, b) if s is None else ("structured", a == "relu", s.alpha, s.U, s.V, b)
                for W, b, a, s in zip(self.weights, self.biases, self.activations, self.layer_structures)
            ]
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

    def _program(self, n: int, mem: _Buffers, direct: bool) -> tuple:
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

    def certify(self, data: Any, labels: Any = None, *, label_matrix: Any = None) -> FloatCertificate:
        """Prove that every IEEE evaluation of this network in :attr:`dtype` classifies ``data`` right.

        See :func:`~symtrunc.lowering.float_certificate.certify_floats` (the evaluation model
        covers both engines of :meth:`forward`, ONNX ``Gemm``, ``nn.Linear`` and any other
        summation order, with or without FMA).

        >>> import symtrunc
        >>> data = symtrunc.LabeledData.from_arrays([[2, 0], [3, 0], [0, 2], [0, 3]], list("aabb"))
        >>> lower(symtrunc.construct(data), "float32").certify(data).certified
        True
        """
        return certify_floats(self, data, labels, label_matrix=label_matrix)

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


def lower(
    network: ReLUNetwork,
    dtype: Any = "float64",
    *,
    structure: str = "auto",
    max_rank: int = 4,
    data: Any = None,
    labels: Any = None,
    force: bool = False,
) -> FloatNetwork:
    """Round an exact network to floats for fast evaluation; with ``data``, certify what runs.

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
    data : LabeledData, path or array, optional
        Training data: the returned network is certified on them in its own precision
        (:meth:`FloatNetwork.certify`: every point in its class under any IEEE evaluation order,
        with the certified margin) and carries the :attr:`~FloatNetwork.certificate`.
    labels : sequence, optional
        Labels for an array ``data``.
    force : bool
        Return the network even when ``data`` are given and it cannot be certified (its
        ``certificate`` then says what failed).

    Returns
    -------
    FloatNetwork

    Raises
    ------
    FormatError
        ``structure="structured"`` and no hidden layer is structured.
    DataError
        Unknown ``dtype`` or ``structure``, or a parameter overflows ``dtype``.
    UncertifiedError
        ``data`` given, the float network cannot be certified on them and ``force`` is False.

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
    >>> import symtrunc
    >>> data = symtrunc.LabeledData.from_arrays([[2, 0], [3, 0], [0, 2], [0, 3]], list("aabb"))
    >>> f = lower(symtrunc.construct(data), "float32", data=data)
    >>> f.certificate.certified, f.certificate.n_points
    (True, 4)
    """
    dt = float_dtype(dtype)
    if structure not in STRUCTURES:
        raise DataError(f"unknown structure {structure!r}; use one of {', '.join(STRUCTURES)}")
    network = balanced(network)
    arrays, worst = float_layers(network, dt)
    structs: list[FloatStructure | None] = []
    for k, layer in enumerate(network.layers, 1):
        exact = None if structure == "dense" else detect_structure(layer.W, max_rank=max_rank)
        if exact is None:
            structs.append(None)
            continue
        a, ea = round_matrix(flint.fmpq_mat(1, 1, [exact.alpha]), dt, f"layer {k} alpha")
        U, eU = round_matrix(exact.U, dt, f"layer {k} U")
        V, eV = round_matrix(exact.V, dt, f"layer {k} V")
        worst = max(worst, ea, eU, eV)
        structs.append(FloatStructure(float(a[0, 0]), U, V))
    hidden = [s for s, layer in zip(structs, network.layers) if layer.activation == "relu"]
    if structure == "structured" and not any(s is not None for s in hidden):
        raise FormatError(f"no hidden layer has the structure α I + U Vᵀ (rank ≤ {max_rank})")
    fnet = FloatNetwork(
        weights=tuple(W for W, _ in arrays),
        biases=tuple(b for _, b in arrays),
        activations=tuple(layer.activation for layer in network.layers),
        classes=tuple(network.classes),
        dtype=dt,
        max_weight_error=round_up(worst),
        layer_structures=tuple(structs),
        targets=_targets(network, dt),
    )
    if data is None:
        return fnet
    cert = fnet.certify(data, labels)
    if not cert.certified and not force:
        raise UncertifiedError(f"{cert.summary()} (force=True returns it anyway)")
    object.__setattr__(fnet, "certificate", cert)  # set once, before anyone else holds fnet
    return fnet


@dataclass(frozen=True, eq=False)
class ExportLayers:
    """The dense float layers a file holds: plain roundings of the exact layers, or *factored*.

    Factored: every hidden layer with exact structure ``W = α I + U Vᵀ`` (rank ``k ≥ 1``) is
    written as two layers, ``h -> [h; Ṽᵀ h]`` (weights ``[I; Ṽᵀ]``, no bias, no activation) and
    ``relu([α̃ I, Ũ] [h; t] + b̃)``. Their product is the exact factorization rounded factor by factor,
    so the file computes the same function up to rounding, and a float evaluation costs the
    rounding of a short sum ``α̃ h_i + Ũ_i t + b̃_i`` per neuron instead of a long dot product whose
    large common part cancels (what makes float32 exports of the constructed networks fail).

    Attributes
    ----------
    layers : tuple of (W, b, activation)
        ``W`` of shape ``(out, in)``, ``b`` of shape ``(out,)``, in ``dtype``.
    dtype : np.dtype
    max_weight_error : flint.fmpq
        The exact largest rounding error over every stored parameter (``α``, ``U``, ``V`` included).
    factors : tuple of int
        Per exact layer, the rank ``k`` of its split (``0``: written as one layer).
    """

    layers: tuple[tuple[np.ndarray, np.ndarray, str], ...]
    dtype: np.dtype
    max_weight_error: flint.fmpq
    factors: tuple[int, ...]

    @property
    def factored(self) -> bool:
        """Whether some layer is split."""
        return any(self.factors)

    def network(self, classes: tuple = ()) -> FloatNetwork:
        """The dense :class:`FloatNetwork` of these layers (what a runtime evaluates)."""
        return FloatNetwork(
            tuple(W for W, _, _ in self.layers),
            tuple(b for _, b, _ in self.layers),
            tuple(a for _, _, a in self.layers),
            tuple(classes),
            self.dtype,
            round_up(self.max_weight_error),
        )


def export_layers(
    network: ReLUNetwork, dtype: Any = "float64", *, factored: bool = False, max_rank: int = 4
) -> ExportLayers:
    """The dense float layers of ``network`` for a file, plain or factored (:class:`ExportLayers`).

    Examples
    --------
    >>> from symtrunc.network import ReLUNetwork
    >>> net = ReLUNetwork.from_rows([([[4, 2, 5], [1, 5, 5], [1, 2, 8]], [0, 0, "1/3"], "relu"),
    ...                              ([[1, 1, 1]], [0], "identity")])
    >>> plain = export_layers(net)
    >>> [W.shape for W, _, _ in plain.layers], plain.factors
    ([(3, 3), (1, 3)], (0, 0))
    >>> split = export_layers(net, factored=True)            # W = 3 I + u (1, 2, 5), detected exactly
    >>> [(W.shape, a) for W, _, a in split.layers], split.factors
    ([((4, 3), 'identity'), ((3, 4), 'relu'), ((1, 3), 'identity')], (1, 0))
    >>> x = np.array([[1.0, -2.0, 0.5]])
    >>> bool(np.allclose(split.network().forward(x), plain.network().forward(x)))
    True
    """
    dt = float_dtype(dtype)
    network = balanced(network)
    layers: list[tuple[np.ndarray, np.ndarray, str]] = []
    factors: list[int] = []
    worst = flint.fmpq(0)
    for k, layer in enumerate(network.layers, 1):
        b, eb = round_matrix(layer.b, dt, f"layer {k} bias")
        b = b.reshape(-1)
        s = detect_structure(layer.W, max_rank=max_rank) if factored and layer.activation == "relu" else None
        if s is None or s.rank == 0:
            W, eW = round_matrix(layer.W, dt, f"layer {k} weights")
            layers.append((W, b, layer.activation))
            factors.append(0)
            worst = max(worst, eW, eb)
            continue
        a, ea = round_matrix(flint.fmpq_mat(1, 1, [s.alpha]), dt, f"layer {k} alpha")
        U, eU = round_matrix(s.U, dt, f"layer {k} U")
        V, eV = round_matrix(s.V, dt, f"layer {k} V")
        n = s.size
        layers.append((np.vstack([np.eye(n, dtype=dt), V.T]), np.zeros(n + s.rank, dtype=dt), "identity"))
        layers.append((np.hstack([a[0, 0] * np.eye(n, dtype=dt), U]), b, layer.activation))
        factors.append(s.rank)
        worst = max(worst, ea, eU, eV, eb)
    for W, b, _ in layers:
        W.setflags(write=False)
        b.setflags(write=False)
    return ExportLayers(tuple(layers), dt, worst, tuple(factors))


def _log2_max(W: flint.fmpq_mat, b: flint.fmpq_mat) -> int | None:
    """``⌊log2 max |entry|⌋`` up to one (``None`` when every entry is zero)."""
    sizes = [abs(int(v.p)).bit_length() - int(v.q).bit_length() for v in (*W.entries(), *b.entries()) if v != 0]
    return max(sizes) if sizes else None


def balanced(network: ReLUNetwork, *, limit: int = 64) -> ReLUNetwork:
    """The same function with each hidden layer scaled by a power of two when its weights are out of range.

    A hidden layer whose largest weight or bias is above ``2^limit`` or below ``2^-limit`` gets
    its rows multiplied by ``2^s`` so that it lies in ``(1/2, 2)``, and the next layer's columns by
    ``2^-s``; ReLU commutes with positive scaling, so the network computes exactly the same
    function (a construction may scale a cone layer by a huge integer, which no float type
    holds). Powers of two round like the numbers they scale, so nothing else changes in floats.
    Layers already in range are left alone, and the output layer is never scaled.

    Examples
    --------
    >>> net = ReLUNetwork.from_rows([([[2**200, 0], [0, 2**201]], [2**199, 0], "relu"),
    ...                              ([[2**-200, 2**-201]], [0], "identity")])
    >>> b = balanced(net)
    >>> b.layers[0].W, b.layers[1].W
    ([1/2, 0]
    [  0, 1], [2, 1])
    >>> b.forward([[3, 1]]) == net.forward([[3, 1]])
    True
    >>> balanced(b) is b
    True
    """
    layers = list(network.layers)
    changed = False
    for k in range(len(layers) - 1):
        layer = layers[k]
        if layer.activation != "relu":
            continue
        e = _log2_max(layer.W, layer.b)
        if e is None or -limit <= e <= limit:
            continue
        scale = flint.fmpq(2) ** -e
        nxt = layers[k + 1]
        layers[k] = Layer(layer.W * scale, layer.b * scale, layer.activation)
        layers[k + 1] = Layer(nxt.W / scale, nxt.b, nxt.activation)
        changed = True
    return ReLUNetwork(tuple(layers), network.classes, network.construction) if changed else network


def float_layers(
    network: ReLUNetwork, dtype: Any = "float64"
) -> tuple[list[tuple[np.ndarray, np.ndarray]], flint.fmpq]:
    """Correctly rounded ``(W, b)`` arrays (``W`` of shape ``(out, in)``, ``b`` of shape ``(out,)``).

    Returns the arrays and the exact maximal rounding error over all entries.

    Raises
    ------
    DataError
        Unknown ``dtype``, or a parameter overflows it.

    Examples
    --------
    >>> from symtrunc.network import ReLUNetwork
    >>> net = ReLUNetwork.from_rows([([["1/4", 1]], ["1/10"], "identity")])
    >>> arrays, err = float_layers(net)
    >>> arrays[0][0], err
    (array([[0.25, 1.  ]]), 1/180143985094819840)
    """
    dt = float_dtype(dtype)
    out, worst = [], flint.fmpq(0)
    for k, layer in enumerate(network.layers, 1):
        W, eW = round_matrix(layer.W, dt, f"layer {k} weights")
        b, eb = round_matrix(layer.b, dt, f"layer {k} bias")
        out.append((W, b.reshape(-1)))
        worst = max(worst, eW, eb)
    return out, worst


def _targets(network: ReLUNetwork, dt: np.dtype) -> np.ndarray | None:
    """The label matrix from the construction metadata when it is not the identity."""
    rows = network.construction.label_matrix if network.construction is not None else None
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
