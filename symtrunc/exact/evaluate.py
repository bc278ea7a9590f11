"""Exact evaluation of ReLU networks at speed: integer scaling, a-priori bounds, float64 BLAS.

ReLU commutes with positive scaling, so a network can be evaluated on integers. Neuron ``i`` of
layer ``l`` carries its own positive integer scale ``D_i``: if the inputs of the layer are
``h_j = H_j / S_j`` (integers ``H_j``), row ``i`` of ``z = W h + b`` is

    z_i = (G_i · H + β_i) / D_i,    G_ij = D_i W_ij / S_j,   β_i = D_i b_i,

with ``D_i`` the least common denominator of the rationals ``W_ij / S_j`` and ``b_i`` (the
smallest scale that makes row ``i`` integer, so bias denominators never multiply the other rows).
The integers are bounded *a priori* with Python integers,

    |G_i · H + β_i| ≤ B_i = Σ_j |G_ij| B_j + |β_i|,

and this bound also covers every partial sum of the dot product, whatever the summation order.
So when every ``B_i`` and ``|G_ij|`` is ``≤ 2^53`` the layer is computed with float64 BLAS
(``numpy.matmul``) and the result is still exact: every product and partial sum is an integer
below ``2^53``, which float64 represents exactly. Otherwise the layer goes to python-flint
(``fmpz_mat`` products in homogeneous coordinates). There is no int64 path: NumPy's integer
products are not BLAS (7–29x slower than float64), and int64 would only cover the bounds between
``2^53`` and ``2^63``, which go to python-flint.

The integer form of a layer is cached per pair of weight and bias matrices, and only when both
are read-only (:func:`~symtrunc.exact.matrix.frozen`, as every :class:`~symtrunc.network.Layer`
holds them): a matrix that can change in place is converted afresh on every call, so a cached
form never outlives the values it was computed from.

Inputs may be numeric NumPy arrays (integers, or floats read as the exact binary numbers they
store: a common power of two makes them integers), object arrays of exact rationals
(``flint.fmpq``, ``Fraction``, ints, decimal strings) or python-flint matrices.

Examples
--------
>>> import numpy as np
>>> from symtrunc.network import ReLUNetwork
>>> net = ReLUNetwork.from_rows([
...     ([[-1, 0], [0, 1]], ["7/4", "-5/4"], "relu"),
...     ([[-1, 0], [0, -1]], ["1/2", "1/2"], "relu"),
...     ([["7/6", "5/6"], ["-5/6", "-7/6"]], [0, 1], "identity")])
>>> out = exact_outputs(net, np.array([[2, 0], [0, 2], [0.5, 0.25]]))
>>> out.backend, out.scales
('float64', (24, 24))
>>> out.to_fmpq_mat()
[   1,    0]
[   0,    1]
[5/12, 5/12]
>>> exact_forward(net, np.array([[2, 0]])) == net.forward([[2, 0]])
True
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import flint
import numpy as np

from symtrunc.errors import DataError, FormatError
from symtrunc.exact.matrix import FrozenQMatrix, frozen
from symtrunc.exact.rational import to_q

__all__ = ["Scaled", "integer_points", "integer_layers", "exact_outputs", "exact_forward", "EXACT_FLOAT_BOUND"]

EXACT_FLOAT_BOUND = 2**53
"""Integers of absolute value ``≤ 2^53`` (and all sums of them below it) are exact in float64."""


# ----------------------------------------------------------------------------- values
class Scaled:
    """Exact rationals ``numerators[:, j] / scales[j]``: points as rows, one scale per column.

    Attributes
    ----------
    numerators : numpy.ndarray or flint.fmpz_mat
        Shape ``(n, m)``: a float64 array holding exact integers of absolute value ``≤ 2^53``
        (``backend == "float64"``), or a python-flint integer matrix (``"flint"``).
    scales : tuple of int
        Positive integer scale of each column.
    """

    __slots__ = ("numerators", "scales")

    def __init__(self, numerators: Any, scales: Sequence[int]) -> None:
        self.numerators = numerators
        self.scales = tuple(int(s) for s in scales)

    @property
    def backend(self) -> str:
        """``"float64"`` or ``"flint"``."""
        return "float64" if isinstance(self.numerators, np.ndarray) else "flint"

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, m)``."""
        N = self.numerators
        return tuple(N.shape) if isinstance(N, np.ndarray) else (N.nrows(), N.ncols())

    def __len__(self) -> int:
        return self.shape[0]

    def integer_rows(self) -> list[list[int]]:
        """The numerators as Python integers, row by row."""
        N = self.numerators
        if isinstance(N, np.ndarray):
            return N.astype(np.int64).tolist()
        return [[int(v) for v in r] for r in N.tolist()]

    def fmpz(self) -> flint.fmpz_mat:
        """The numerators as a python-flint integer matrix."""
        N = self.numerators
        if isinstance(N, np.ndarray):
            n, m = N.shape
            return flint.fmpz_mat(n, m, N.astype(np.int64).ravel().tolist())
        return N

    def to_fmpq_mat(self) -> flint.fmpq_mat:
        """The exact values as an ``(n, m)`` rational matrix."""
        n, m = self.shape
        Z = flint.fmpq_mat(self.fmpz())
        if all(s == 1 for s in self.scales):
            return Z
        D = flint.fmpq_mat(m, m, [flint.fmpq(1, self.scales[i]) if i == j else 0 for i in range(m) for j in range(m)])
        return Z * D

    def value(self, i: int, j: int) -> flint.fmpq:
        """Exact value of point ``i``, column ``j``."""
        N = self.numerators
        v = int(N[i, j]) if isinstance(N, np.ndarray) else int(N[i, j])
        return flint.fmpq(v, self.scales[j])

    def signs(self) -> np.ndarray:
        """Signs of the values (``-1, 0, 1``) as an ``int8`` array of shape ``(n, m)``."""
        N = self.numerators
        if isinstance(N, np.ndarray):
            return np.sign(N).astype(np.int8)
        n, m = self.shape
        vals = N.entries()
        return np.fromiter(((v > 0) - (v < 0) for v in vals), dtype=np.int8, count=n * m).reshape(n, m)

    def equals(self, targets: Sequence[flint.fmpq]) -> np.ndarray:
        """Boolean mask of the points whose values equal ``targets`` (one per column) exactly."""
        n, m = self.shape
        if len(targets) != m:
            raise DataError(f"{len(targets)} targets for {m} outputs")
        ok = np.ones(n, dtype=bool)
        want = []
        for j, t in enumerate(targets):
            scaled = flint.fmpq(t) * self.scales[j]
            if scaled.q != 1:  # the numerators are integers: no point can match
                return np.zeros(n, dtype=bool)
            want.append(int(scaled.p))
        N = self.numerators
        if isinstance(N, np.ndarray):
            for j, w in enumerate(want):
                if abs(w) > EXACT_FLOAT_BOUND:  # |numerators| <= 2^53 in this backend
                    return np.zeros(n, dtype=bool)
                ok &= N[:, j] == float(w)
            return ok
        vals = N.entries()
        for j, w in enumerate(want):
            col = vals[j::m]
            ok &= np.fromiter((v == w for v in col), dtype=bool, count=n)
        return ok

    def common_scale_rows(self) -> tuple[list, int]:
        """``(values, C)``: the transposed values ``(m, n)`` row-major over a common scale ``C``."""
        n, m = self.shape
        C = math.lcm(*self.scales) if self.scales else 1
        Zt = self.fmpz().transpose()
        if any(C != s for s in self.scales):
            D = flint.fmpz_mat(m, m, [C // self.scales[i] if i == j else 0 for i in range(m) for j in range(m)])
            Zt = D * Zt
        return Zt.entries(), C


# ----------------------------------------------------------------------------- inputs
def _float_integer_scaling(X: np.ndarray) -> tuple[np.ndarray | None, int, np.ndarray | None]:
    """``(A, s, big)`` with ``X = A / s`` for a float array: ``s`` a power of two, ``A`` float64
    integers, or ``big`` an object array of Python integers when ``A`` exceeds ``2^53`` (then
    ``A`` is ``None``); ``(None, 0, None)`` for long doubles, which need exact rationals."""
    X = np.asarray(X)
    if X.dtype.itemsize > 8:  # long double: go through exact rationals
        return None, 0, None
    Xd = X.astype(np.float64)
    nz = Xd[Xd != 0]
    if nz.size == 0:
        return np.zeros(X.shape), 1, None
    mant, expo = np.frexp(nz)  # nz = mant * 2^expo, 0.5 <= |mant| < 1, mant * 2^53 an integer
    mi = np.abs(np.ldexp(mant, 53)).astype(np.int64)
    low = mi & -mi  # lowest set bit
    tz = np.frexp(low.astype(np.float64))[1] - 1
    frac_bits = int(np.max(53 - expo - tz))
    k = max(frac_bits, 0)
    top = int(np.frexp(np.max(np.abs(nz)))[1])  # max |x| < 2^top
    if top + k <= 53:  # max |x| 2^k <= 2^53: exact float64 integers (power-of-two scaling is exact)
        return np.ldexp(Xd, k), 2**k, None
    big = np.array(
        [int(f.as_integer_ratio()[0] * 2**k // f.as_integer_ratio()[1]) if f else 0 for f in Xd.ravel().tolist()],
        dtype=object,
    ).reshape(Xd.shape)
    return None, 2**k, big


def integer_points(X: Any) -> tuple[np.ndarray | flint.fmpz_mat, int]:
    """Exact integer scaling of points given as rows: ``(A, s)`` with ``X = A / s``.

    ``A`` is a float64 array of exact integers when they all have absolute value ``≤ 2^53``,
    else a python-flint ``fmpz_mat``; ``s`` is a positive integer.

    Parameters
    ----------
    X : numpy.ndarray, flint.fmpq_mat or flint.fmpz_mat
        Numeric arrays are read exactly (a float is the binary fraction it stores); object
        arrays may hold ``flint.fmpq``, ``Fraction``, ints or decimal strings.

    Examples
    --------
    >>> A, s = integer_points(np.array([[0.5, 3], [0.25, -1]]))
    >>> A, s
    (array([[ 2., 12.],
           [ 1., -4.]]), 4)
    >>> from fractions import Fraction
    >>> integer_points(np.array([[Fraction(1, 3), 2]], dtype=object))
    (array([[1., 6.]]), 3)
    """
    if isinstance(X, flint.fmpz_mat):
        return _shrink(X), 1
    if isinstance(X, flint.fmpq_mat):
        num, den = X.numer_denom()
        return _shrink(num), int(den)
    X = np.asarray(X)
    if X.ndim != 2:
        raise DataError(f"points must form a 2-dimensional array, got shape {X.shape}")
    kind = X.dtype.kind
    if kind == "b":
        return X.astype(np.float64), 1
    if kind in "iu":
        if X.size == 0:
            return X.astype(np.float64), 1
        lo, hi = int(X.min()), int(X.max())
        if max(-lo, hi) <= EXACT_FLOAT_BOUND:
            return X.astype(np.float64), 1
        n, m = X.shape
        return flint.fmpz_mat(n, m, [int(v) for v in X.ravel().tolist()]), 1
    if kind == "f":
        if not np.all(np.isfinite(X)):
            raise DataError("points must be finite (no NaN or infinity)")
        A, s, big = _float_integer_scaling(X)
        if A is not None:
            return A, s
        if big is not None:
            n, m = X.shape
            return flint.fmpz_mat(n, m, big.ravel().tolist()), s
        X = X.astype(object)  # long double: exact through rationals below
    if X.dtype == object or kind in "f":
        n, m = X.shape
        Q = flint.fmpq_mat(n, m, [to_q(v) for v in X.ravel().tolist()])
        num, den = Q.numer_denom()
        return _shrink(num), int(den)
    raise DataError(f"points must be numeric or exact rationals, got dtype {X.dtype}")


def _shrink(A: flint.fmpz_mat) -> np.ndarray | flint.fmpz_mat:
    """A float64 array when every entry is ``≤ 2^53`` in absolute value, else ``A`` itself."""
    n, m = A.nrows(), A.ncols()
    vals = [int(v) for v in A.entries()]
    if not vals:
        return np.zeros((n, m))
    if max(max(vals), -min(vals)) <= EXACT_FLOAT_BOUND:
        return np.array(vals, dtype=np.float64).reshape(n, m)
    return A


# ----------------------------------------------------------------------------- layers
@dataclass(frozen=True)
class _IntegerLayer:
    """One layer in integer form for given input scales (see the module docstring); read-only
    throughout (tuples, non-writeable arrays, a frozen matrix), as it is cached."""

    G: tuple[tuple[int, ...], ...]  # (m, k) integer weights
    beta: tuple[int, ...]  # (m,) integer biases
    scales: tuple[int, ...]  # output scales D_i
    abs_rowsum: tuple[int, ...]  # Σ_j |G_ij|
    Gt_float: np.ndarray | None  # (k, m) float64 when every |G_ij| <= 2^53
    beta_float: np.ndarray | None
    hom_T: flint.fmpz_mat  # (k+1, m): [Gᵀ; βᵀ] for homogeneous flint products

    def bounds(self, B: Sequence[int]) -> list[int]:
        """A-priori bounds ``Σ_j |G_ij| B_j + |β_i|`` of the output integers (and partial sums)."""
        if len(set(B)) == 1:
            b0 = B[0]
            return [r * b0 + abs(c) for r, c in zip(self.abs_rowsum, self.beta)]
        return [sum(abs(g) * b for g, b in zip(row, B)) + abs(c) for row, c in zip(self.G, self.beta)]


_PLAN_CACHE: dict[tuple[int, int, tuple[int, ...]], tuple[Any, Any, _IntegerLayer]] = {}
_PLAN_CACHE_MAX = 4096


def _integer_layer(layer: Any, scales: tuple[int, ...]) -> _IntegerLayer:
    """The integer form of ``layer`` for input scales ``scales``.

    Cached per (weights, bias) pair when both are read-only matrices, checked by identity
    through weak references (so a recycled ``id`` never hits).
    """
    W, b = layer.W, layer.b
    cacheable = isinstance(W, FrozenQMatrix) and isinstance(b, FrozenQMatrix)
    key = (id(W), id(b), scales)
    hit = _PLAN_CACHE.get(key) if cacheable else None
    if hit is not None and hit[0]() is W and hit[1]() is b:
        return hit[2]
    m, k = W.nrows(), W.ncols()
    if len(scales) != k:
        raise FormatError(f"layer takes {k} inputs, got {len(scales)} scales")
    Wl = W.tolist()
    bl = [v for (v,) in b.tolist()]
    G, beta, D = [], [], []
    for i in range(m):
        row = [Wl[i][j] / scales[j] if scales[j] != 1 else Wl[i][j] for j in range(k)]
        d = math.lcm(int(bl[i].q), *(int(v.q) for v in row))
        G.append([int((v * d).p) for v in row])
        beta.append(int((bl[i] * d).p))
        D.append(d)
    amax = max((abs(v) for r in G for v in r), default=0)
    Gt: np.ndarray | None
    bf: np.ndarray | None
    if amax <= EXACT_FLOAT_BOUND and max((abs(c) for c in beta), default=0) <= EXACT_FLOAT_BOUND:
        Gt = np.array(G, dtype=np.float64).reshape(m, k).T.copy()
        bf = np.array(beta, dtype=np.float64)
        Gt.flags.writeable = bf.flags.writeable = False
    else:
        Gt = bf = None
    hom = frozen(flint.fmpz_mat(k + 1, m, [G[i][j] for j in range(k) for i in range(m)] + beta))
    plan = _IntegerLayer(
        tuple(map(tuple, G)), tuple(beta), tuple(D), tuple(sum(abs(v) for v in r) for r in G), Gt, bf, hom
    )
    if cacheable:
        if len(_PLAN_CACHE) >= _PLAN_CACHE_MAX:
            _PLAN_CACHE.clear()
        _PLAN_CACHE[key] = (weakref.ref(W), weakref.ref(b), plan)
    return plan


class _State:
    """Exact activations of a layer: float64 integers ``(n, k)`` or flint ``(n, k+1)`` with a
    trailing column of ones (homogeneous coordinates)."""

    __slots__ = ("H", "hom", "scales", "bounds", "n")

    def __init__(self, H: Any, hom: Any, scales: tuple[int, ...], bounds: list[int], n: int) -> None:
        self.H, self.hom, self.scales, self.bounds, self.n = H, hom, scales, bounds, n

    @classmethod
    def from_points(cls, A: Any, s: int) -> _State:
        if isinstance(A, np.ndarray):
            n, k = A.shape
            bounds = [int(v) for v in (np.abs(A).max(axis=0) if n else np.zeros(k))]
            return cls(A, None, (int(s),) * k, bounds, n)
        n, k = A.nrows(), A.ncols()
        rows = A.tolist()
        bounds = [max((abs(int(r[j])) for r in rows), default=0) for j in range(k)]
        hom = flint.fmpz_mat(n, k + 1, [v for r in rows for v in list(r) + [1]])
        return cls(None, hom, (int(s),) * k, bounds, n)

    def to_flint(self) -> flint.fmpz_mat:
        if self.hom is None:
            n, k = self.H.shape
            Hh = np.ones((n, k + 1), dtype=np.int64)
            Hh[:, :k] = self.H
            self.hom = flint.fmpz_mat(n, k + 1, Hh.ravel().tolist())
        return self.hom


def _apply(plan: _IntegerLayer, state: _State) -> tuple[Scaled, list[int]]:
    """Pre-activations of one layer, exactly; and their a-priori bounds."""
    bounds = plan.bounds(state.bounds)
    if state.hom is None and plan.Gt_float is not None and max(bounds, default=0) <= EXACT_FLOAT_BOUND:
        Z = state.H @ plan.Gt_float
        Z += plan.beta_float
        return Scaled(Z, plan.scales), bounds
    return Scaled(state.to_flint() * plan.hom_T, plan.scales), bounds


def _relu_state(Z: Scaled, bounds: list[int]) -> _State:
    N = Z.numerators
    if isinstance(N, np.ndarray):
        return _State(np.maximum(N, 0.0), None, Z.scales, bounds, N.shape[0])
    n, m = N.nrows(), N.ncols()
    vals = N.entries()
    out: list[Any] = [1] * (n * (m + 1))
    relu = [v if v > 0 else 0 for v in vals]
    for j in range(m):
        out[j :: m + 1] = relu[j::m]
    return _State(None, flint.fmpz_mat(n, m + 1, out), Z.scales, bounds, n)


def _layers_of(network: Any) -> tuple[Any, ...]:
    return tuple(network.layers) if hasattr(network, "layers") else tuple(network)


def _run(layers: Sequence[Any], A: Any, s: int) -> Iterator[tuple[int, Scaled]]:
    state = _State.from_points(A, s)
    if layers and state.H is not None and state.H.shape[1] != layers[0].W.ncols():
        raise FormatError(f"points have dimension {state.H.shape[1]}, the network expects {layers[0].W.ncols()}")
    if layers and state.hom is not None and state.hom.ncols() - 1 != layers[0].W.ncols():
        raise FormatError(f"points have dimension {state.hom.ncols() - 1}, the network expects {layers[0].W.ncols()}")
    for k, layer in enumerate(layers):
        plan = _integer_layer(layer, state.scales)
        Z, bounds = _apply(plan, state)
        if layer.activation == "relu":
            yield k, Z
            state = _relu_state(Z, bounds)
        else:
            yield k, Z
            if k + 1 < len(layers):
                state = (
                    _State(Z.numerators, None, Z.scales, bounds, len(Z))
                    if Z.backend == "float64"
                    else _State(None, _hom_from(Z), Z.scales, bounds, len(Z))
                )


def _hom_from(Z: Scaled) -> flint.fmpz_mat:
    N = Z.numerators
    n, m = N.nrows(), N.ncols()
    vals = N.entries()
    out: list[Any] = [1] * (n * (m + 1))
    for j in range(m):
        out[j :: m + 1] = vals[j::m]
    return flint.fmpz_mat(n, m + 1, out)


def integer_layers(network: Any, X: Any) -> Iterator[tuple[int, Scaled]]:
    """Exact pre-activations of every layer: yields ``(k, Scaled)`` for ``k = 0 .. L-1``.

    Parameters
    ----------
    network : ReLUNetwork or sequence of Layer
    X : points as rows (see :func:`integer_points`)

    >>> from symtrunc.network import ReLUNetwork
    >>> net = ReLUNetwork.from_rows([([[1, -1]], ["1/3"], "relu"), ([[2]], [0], "identity")])
    >>> [(k, z.to_fmpq_mat()[0, 0]) for k, z in integer_layers(net, np.array([[1, 2]]))]
    [(0, -2/3), (1, 0)]
    """
    A, s = integer_points(X)
    yield from _run(_layers_of(network), A, s)


def exact_outputs(network: Any, X: Any) -> Scaled:
    """Exact outputs of ``network`` on points ``X`` (rows), as integers over per-column scales."""
    out = None
    for _, Z in integer_layers(network, X):
        out = Z
    if out is None:
        raise FormatError("a network needs at least one layer")
    return out


def exact_forward(network: Any, X: Any) -> flint.fmpq_mat:
    """Exact outputs of ``network`` on points ``X`` (rows) as an ``(N, d_L)`` rational matrix."""
    return exact_outputs(network, X).to_fmpq_mat()


def integer_pass_values(network: Any, A: flint.fmpz_mat, s: int) -> Iterator[tuple[int, list, int]]:
    """:meth:`ReLUNetwork.integer_pass` on the fast evaluator: columns ``A / s`` in, yields
    ``(k, values, scale)`` with ``values`` the row-major ``(d_{k+1}, N)`` integers over a
    common ``scale``."""
    rows = A.transpose()
    for k, Z in _run(_layers_of(network), _shrink(rows), int(s)):
        values, C = Z.common_scale_rows()
        yield k, values, C
