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
below ``2^53``, which float64 represents exactly. :func:`integer_layers` then goes to
python-flint (``fmpz_mat`` products in homogeneous coordinates). There is no int64 path: NumPy's
integer products are not BLAS (7–29x slower than float64).

:func:`exact_values` (the forward pass of verification and of :func:`exact_forward`) has two
more exact routes for the layers beyond ``2^53``, all vectorized:

* **residues** (:class:`Residues`): while ``4 B`` stays below a product of at most 24 primes
  ``p < 2^21``, the integers are held modulo each prime; a layer is one float64 BLAS product
  per prime (products below ``2^42``, sums of up to 1024 of them below ``2^52``: exact), and the
  signs for ReLU come from Garner's mixed-radix digits (one more small product per prime);
* **reduced rationals**: beyond that, one ``fmpz_mat`` product per layer on homogeneous integer
  rows, after which every value is reduced to the least common denominator, so the scales
  ``D_i`` (which multiply up layer after layer: thousands of bits on deep networks with large
  denominators) are replaced by the denominators the values really have.

:class:`AffineSigns` gives the exact signs of one integer affine map on many points (the
structured verifier's cumulative maps) with float64 BLAS: exact when the integers fit, else as a
filter with a rigorous error bound and an exact python-flint fallback for the undecided points.

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

import functools
import math
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import flint
import numpy as np

from symtrunc.errors import DataError, FormatError
from symtrunc.exact.common_denominator import INT64_LIMIT
from symtrunc.exact.matrix import FrozenQMatrix, frozen
from symtrunc.exact.rational import to_q

__all__ = [
    "Scaled",
    "integer_points",
    "integer_layers",
    "exact_values",
    "first_mismatch",
    "Residues",
    "exact_outputs",
    "exact_forward",
    "AffineSigns",
    "EXACT_FLOAT_BOUND",
]

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


# ----------------------------------------------------------------------------- residues
_PRIME_BITS = 21  # residues below 2^21: products below 2^42, sums of 1024 of them below 2^52
_MAX_PRIMES = 24  # beyond (integers over ~500 bits) the reduced rational stage is faster
_DOT_CHUNK = 2**52 // 2 ** (2 * _PRIME_BITS)  # terms per exact float64 dot product of residues


@functools.cache
def _primes() -> tuple[int, ...]:
    """The largest primes below ``2^21``, descending (enough for :data:`_MAX_PRIMES`)."""
    out: list[int] = []
    p = 2**_PRIME_BITS - 1
    while len(out) < 2 * _MAX_PRIMES:
        if flint.fmpz(p).is_prime():
            out.append(p)
        p -= 2
    return tuple(out)


def _count(bound: int) -> int:
    """How many primes make a product above ``4 bound`` (residues then fix a value below ``bound``)."""
    P, t = 1, 0
    for p in _primes():
        if P > 4 * bound and t:
            return t
        P, t = P * p, t + 1
    return t + 1  # more than the list holds: callers compare with _MAX_PRIMES


def _mod(x: np.ndarray, p: int) -> np.ndarray:
    """``x mod p`` in ``[0, p)`` as float64, for float64 integers of absolute value below ``2^52``
    or any int64 array.

    ``q = floor(x / p)`` is off by at most one (``x / p`` is rounded), and ``x - q p`` is exact
    (integers below ``2^53``): one correction each way gives the remainder.
    """
    if x.dtype != np.float64:
        return np.mod(x, p).astype(np.float64)
    r = x - np.floor(x * (1.0 / p)) * p
    r[r < 0] += p
    r[r >= p] -= p
    return r


class Residues:
    """Exact integers ``H`` (points as rows) held by their residues modulo primes ``p_0 .. p_{t-1}``
    (below ``2^22``) whose product ``P`` exceeds ``4 max |H|``: the values are ``H[:, j] / scales[j]``.

    Residues are float64 arrays of integers, so the products of a layer are float64 BLAS and exact.
    Signs and values come from the mixed-radix (Garner) digits of ``H mod P``.

    Attributes
    ----------
    residues : list of numpy.ndarray
        ``H mod p_i``, one ``(n, m)`` float64 array per prime.
    primes : tuple of int
    scales : tuple of int
        Positive integer scale of each column.
    bounds : tuple of int
        A-priori bounds of ``|H|`` per column.
    """

    __slots__ = ("residues", "primes", "scales", "bounds", "_digits")

    def __init__(self, residues: list[np.ndarray], primes: Sequence[int], scales: Sequence[int], bounds: Sequence[int]):
        self.residues, self.primes = residues, tuple(primes)
        self.scales, self.bounds = tuple(scales), tuple(bounds)
        self._digits: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, m)``."""
        n, m = self.residues[0].shape
        return n, m

    def digits(self) -> tuple[np.ndarray, np.ndarray]:
        """``(C, negative)``: ``H mod P = Σ_i C[..., i] p_0 ⋯ p_{i-1}`` (Garner's mixed-radix
        digits, shape ``(n, m, t)``) and the mask ``H < 0``.

        Digit ``i`` needs ``(Σ_{j<i} C_j p_0 ⋯ p_{j-1}) mod p_i``: one float64 product with the
        weights ``p_0 ⋯ p_{j-1} mod p_i`` (sums of ``t`` terms below ``2^42``, exact).
        """
        if self._digits is None:
            R, ps = self.residues, self.primes
            n, m = self.shape
            C = np.empty((n, m, len(ps)))
            C[..., 0] = R[0]
            for i in range(1, len(ps)):
                p = ps[i]
                v = _mod(C[..., :i] @ np.array([math.prod(ps[:j]) % p for j in range(i)], dtype=np.float64), p)
                inv = pow(math.prod(ps[:i]) % p, -1, p)
                C[..., i] = _mod(_mod(R[i] - v, p) * inv, p)
            half = (math.prod(ps) - 1) // 2  # H < 0 iff H mod P > half: compare digits from the top
            h = []
            for p in ps:
                half, d = divmod(half, p)
                h.append(d)
            above = np.zeros((n, m), dtype=bool)
            tie = np.ones((n, m), dtype=bool)
            for i in reversed(range(len(ps))):
                above |= tie & (C[..., i] > h[i])
                tie &= C[..., i] == h[i]
            self._digits = (C, above)
        return self._digits

    def signs(self) -> np.ndarray:
        """Signs of ``H`` as an ``int8`` array."""
        C, neg = self.digits()
        return (C != 0).any(axis=2).astype(np.int8) - 2 * neg.astype(np.int8)

    def relu(self) -> None:
        """Set every negative ``H`` to zero, in place (residues and digits)."""
        C, neg = self.digits()
        if neg.any():
            for R in self.residues:
                R[neg] = 0
            C[neg] = 0
            neg[:] = False

    def residue(self, q: int) -> np.ndarray:
        """``H mod q`` for any prime ``q < 2^21`` (from the digits when ``q`` is new)."""
        if q in self.primes:
            return self.residues[self.primes.index(q)]
        C, neg = self.digits()
        w = np.array([math.prod(self.primes[:j]) % q for j in range(len(self.primes))], dtype=np.float64)
        return _mod(_mod(C @ w, q) - (math.prod(self.primes) % q) * neg, q)

    def integers(self) -> flint.fmpz_mat:
        """``H`` exactly, as a python-flint integer matrix."""
        (n, m), (C, neg) = self.shape, self.digits()
        H, M = flint.fmpz_mat(n, m), 1
        for i, p in enumerate(self.primes):
            H += flint.fmpz_mat(n, m, C[..., i].astype(np.int64).ravel().tolist()) * M
            M *= p
        return H - flint.fmpz_mat(n, m, neg.astype(np.int64).ravel().tolist()) * M

    def to_fmpq_mat(self) -> flint.fmpq_mat:
        """The exact values as an ``(n, m)`` rational matrix."""
        return Scaled(self.integers(), self.scales).to_fmpq_mat()

    def value(self, i: int, j: int) -> flint.fmpq:
        """Exact value of point ``i``, column ``j``."""
        P = math.prod(self.primes)
        x = sum(int(R[i, j]) * (P // p) * pow(P // p % p, -1, p) for R, p in zip(self.residues, self.primes)) % P
        return flint.fmpq(x - P if x > P // 2 else x, self.scales[j])

    def wrong(self, j: int, targets: Sequence[Any], labels: np.ndarray) -> np.ndarray:
        """Mask of the points whose column ``j`` differs from ``targets[labels[i]]`` (exact)."""
        out = np.zeros(len(labels), dtype=bool)
        for c, t in enumerate(targets):
            v = flint.fmpq(t) * self.scales[j]
            rows = labels == c
            if v.q != 1 or abs(int(v.p)) > self.bounds[j]:  # no integer within the bound equals it
                out |= rows
                continue
            for R, p in zip(self.residues, self.primes):  # equal mod P > 4 bound: equal
                out |= rows & (R[:, j] != int(v.p) % p)
        return out


def _modular_dot(R: np.ndarray, G: Sequence[Sequence[int]], beta: Sequence[int], p: int) -> np.ndarray:
    """``(R Gᵀ + β) mod p`` for residues ``R`` (float64 BLAS, exact: chunks of ``_DOT_CHUNK`` terms)."""
    k = R.shape[1]
    Gm = np.array([[g % p for g in row] for row in G], dtype=np.float64).reshape(len(G), k).T
    Z = np.array([c % p for c in beta], dtype=np.float64)
    for lo in range(0, k, _DOT_CHUNK):
        Z = _mod(R[:, lo : lo + _DOT_CHUNK] @ Gm[lo : lo + _DOT_CHUNK] + Z, p)
    return Z


# ----------------------------------------------------------------------------- fast rows
def _as_points(A: Any) -> tuple[np.ndarray | None, flint.fmpz_mat | None, int, int]:
    """``(H, Z, n, m)``: integer points as a float64 array when every entry is ``≤ 2^53`` in
    absolute value, an ``int64`` array below ``2^62``, else as an ``fmpz_mat`` (``H`` is ``None``)."""
    if isinstance(A, flint.fmpz_mat):
        return None, A, A.nrows(), A.ncols()
    A = np.asarray(A)
    if A.ndim != 2:
        raise DataError(f"points must form a 2-dimensional array, got shape {A.shape}")
    n, m = A.shape
    if A.dtype.kind in "biuf" and A.dtype.itemsize <= 8:
        top = float(np.abs(A).max()) if A.size else 0.0  # float rounding is harmless at these margins
        if top <= EXACT_FLOAT_BOUND:
            return A.astype(np.float64), None, n, m
        if A.dtype.kind in "iu" and top < 2.0**62:
            return A.astype(np.int64), None, n, m
    return None, flint.fmpz_mat(n, m, [int(v) for v in A.ravel().tolist()]), n, m


def _homogeneous(vals: list[Any], n: int, m: int, last: Any) -> flint.fmpz_mat:
    """``[Z | last]`` for ``Z`` given by its row-major entries ``vals`` (``n`` rows, ``m`` columns)."""
    out: list[Any] = [last] * (n * (m + 1))
    for j in range(m):
        out[j :: m + 1] = vals[j::m]
    return flint.fmpz_mat(n, m + 1, out)


def _rational_stage(layers: Sequence[Any], X: flint.fmpz_mat, scales: Sequence[int]) -> flint.fmpq_mat:
    """The remaining layers on homogeneous integer rows ``X`` (column ``j`` holds the values times
    ``scales[j]``; the last column holds the value 1), one ``fmpz_mat`` product per layer.

    After each product the values are reduced to their least common denominator (python-flint
    cancels every entry, then ``numer_denom``), so the integers stay as small as the exact values
    allow: without the reduction the scales multiply up layer after layer.
    """
    n = X.nrows()
    Z: flint.fmpq_mat | None = None
    for k, layer in enumerate(layers):
        m = layer.shape[0]
        Wh = flint.fmpq_mat(layer.shape[1] + 1, m, layer.W.transpose().entries() + layer.b.entries())
        if len(set(scales)) == 1:
            Wh = Wh / scales[0] if scales[0] != 1 else Wh
        else:
            q = len(scales)
            Wh = (
                flint.fmpq_mat(q, q, [flint.fmpq(1, scales[i]) if i == j else 0 for i in range(q) for j in range(q)])
                * Wh
            )
        Wn, c = Wh.numer_denom()
        Z = flint.fmpq_mat(X * Wn) / c  # exact values, each entry in lowest terms
        if k + 1 < len(layers):
            num, d = Z.numer_denom()
            vals: list[Any] = num.entries()
            if layer.activation == "relu":
                vals = [v if v > 0 else 0 for v in vals]
            X, scales = _homogeneous(vals, n, m, d), (int(d),) * (m + 1)
    if Z is None:
        raise FormatError("a network needs at least one layer")
    return Z


def exact_values(network: Any, A: Any, s: int) -> Scaled | Residues | flint.fmpq_mat:
    """Exact outputs of ``network`` on the points ``A / s`` (rows), the fastest exact way.

    Each layer takes the first route that is provably exact (see the module docstring for the
    integer form and its a-priori bounds ``B``):

    1. float64 BLAS on the integers while ``B ≤ 2^53``;
    2. residues modulo up to 24 primes below ``2^22`` (:class:`Residues`, one float64 BLAS
       product per prime) while ``B`` needs no more, signs for ReLU from Garner's digits;
    3. then one python-flint ``fmpz_mat`` product per layer on homogeneous integer rows, reduced
       to the least common denominator after each layer (the scales no longer multiply up).

    Parameters
    ----------
    network : ReLUNetwork or sequence of Layer
    A : numpy.ndarray or flint.fmpz_mat
        Integer numerators, shape ``(n, d_0)``: an integer array, a float64 array of integers,
        an object array of Python integers or an ``fmpz_mat``.
    s : int
        Positive common denominator.

    Returns
    -------
    Scaled, Residues or flint.fmpq_mat
        The exact outputs in the form the last layer was computed in (each has ``to_fmpq_mat``
        but the ``fmpq_mat``; :func:`first_mismatch` compares any of them with targets).

    >>> from symtrunc.network import ReLUNetwork
    >>> net = ReLUNetwork.from_rows([([["1/3", -1]], ["1/7"], "relu"), ([[2]], [0], "identity")])
    >>> exact_values(net, np.array([[3, 0]]), 1).to_fmpq_mat()
    [16/7]
    >>> wide = ReLUNetwork.from_rows([([[f"1/{3**40}", -1]], [0], "relu"), ([[2]], [0], "identity")])
    >>> out = exact_values(wide, np.array([[3**39, 0], [0, 1]]), 1)
    >>> type(out).__name__, out.to_fmpq_mat().entries()
    ('Residues', [2/3, 0])
    >>> exact_values(wide, np.array([[3**40, 0], [0, 1]], dtype=object), 1)
    [2]
    [0]
    """
    layers = _layers_of(network)
    if not layers:
        raise FormatError("a network needs at least one layer")
    H, Z, n, dim = _as_points(A)
    if dim != layers[0].W.ncols():
        raise FormatError(f"points have dimension {dim}, the network expects {layers[0].W.ncols()}")
    s = int(s)
    if H is None:
        return _rational_stage(layers, _homogeneous(Z.entries(), n, dim, s), (s,) * (dim + 1))  # type: ignore[union-attr]
    scales: tuple[int, ...] = (s,) * dim
    bounds = [int(v) for v in np.abs(H).max(axis=0)] if n else [0] * dim
    state: np.ndarray | Residues = H
    for k, layer in enumerate(layers):
        plan = _integer_layer(layer, scales)
        out_bounds = plan.bounds(bounds)
        top = max(out_bounds, default=0)
        last = k + 1 == len(layers)
        if (
            isinstance(state, np.ndarray)
            and state.dtype == np.float64
            and plan.Gt_float is not None
            and top <= EXACT_FLOAT_BOUND
        ):
            Zf = state @ plan.Gt_float
            Zf += plan.beta_float
            if last:
                return Scaled(Zf, plan.scales)
            state = np.maximum(Zf, 0.0) if layer.activation == "relu" else Zf
        else:
            t = _count(top)
            if t > _MAX_PRIMES:
                ints: list[Any] = (
                    state.integers().entries()
                    if isinstance(state, Residues)
                    else state.astype(np.int64).ravel().tolist()
                )
                X = _homogeneous(ints, n, len(scales), 1)
                return _rational_stage(layers[k:], X, scales + (1,))
            ps = _primes()[:t]
            if isinstance(state, Residues):
                get = state.residue
            else:
                get = functools.partial(_mod, state)
            out = Residues([_modular_dot(get(q), plan.G, plan.beta, q) for q in ps], ps, plan.scales, out_bounds)
            if last:
                return out
            if layer.activation == "relu":
                out.relu()
            state = out
        scales, bounds = plan.scales, out_bounds
    raise AssertionError("unreachable")  # pragma: no cover


def first_mismatch(
    out: Scaled | Residues | flint.fmpq_mat, labels: np.ndarray, targets: Sequence[Sequence[Any]]
) -> tuple[int, int, flint.fmpq] | None:
    """The first output (row-major) that differs from its target, exactly.

    Parameters
    ----------
    out : Scaled, Residues or flint.fmpq_mat
        Exact outputs (:func:`exact_values`), points as rows.
    labels : numpy.ndarray
        Class of each row.
    targets : sequence of sequences
        ``targets[c]``: the exact target vector of class ``c``.

    Returns
    -------
    tuple or None
        ``(row, column, exact value)``, or ``None`` when every output equals its target.

    >>> from symtrunc.network import ReLUNetwork
    >>> net = ReLUNetwork.from_rows([([[1, 0], [0, "1/3"]], [0, 0], "identity")])
    >>> out = exact_values(net, np.array([[1, 0], [0, 3], [0, 1]]), 1)
    >>> first_mismatch(out, np.array([0, 1, 1]), [(1, 0), (0, 1)])
    (2, 1, 1/3)
    """
    if isinstance(out, flint.fmpq_mat):
        n, d = out.nrows(), out.ncols()
        T = flint.fmpq_mat(n, d, [t for j in labels.tolist() for t in targets[j]])
        if out == T:
            return None
        got, expected = out.entries(), T.entries()
        e = next(e for e in range(n * d) if got[e] != expected[e])
        return e // d, e % d, got[e]
    n, d = out.shape
    wrong = np.zeros((n, d), dtype=bool)
    for r in range(d):
        if isinstance(out, Residues):
            wrong[:, r] = out.wrong(r, [t[r] for t in targets], labels)
            continue
        want: list[float] = []
        for t in targets:
            v = flint.fmpq(t[r]) * out.scales[r]  # an integer numerator below 2^53, or no match
            want.append(float(int(v.p)) if v.q == 1 and abs(int(v.p)) <= EXACT_FLOAT_BOUND else np.nan)
        wrong[:, r] = out.numerators[:, r] != np.array(want)[labels]
    rows = np.flatnonzero(wrong.any(axis=1))
    if not rows.size:
        return None
    i = int(rows[0])
    r = int(np.flatnonzero(wrong[i])[0])
    return i, r, out.value(i, r)


# ----------------------------------------------------------------------------- signs
_U = 2.0**-53  # unit roundoff of float64
_SIGN_BLOCK = 1 << 21  # entries of the float64 work arrays per block (16 MiB each)


def _scaled_float(v: int, e: int) -> float:
    """``v / 2^e`` as a float within ``2u |v / 2^e| + 2^-1074`` (the top 53 bits of ``v``, scaled)."""
    t = max(v.bit_length() - 53, 0)
    return math.ldexp(float(v >> t), t - e)


def _flint_signs(G: list[list[int]], A: np.ndarray) -> np.ndarray:
    """Exact signs of ``[A | 1] Gᵀ`` by one python-flint product (``A``: integer rows)."""
    n, k = A.shape
    m = len(G)
    rows = np.ones((n, k + 1), dtype=A.dtype if A.dtype == object else np.int64)
    rows[:, :k] = A
    X = flint.fmpz_mat(n, k + 1, rows.ravel().tolist())
    Gt = flint.fmpz_mat(k + 1, m, [G[r][j] for j in range(k + 1) for r in range(m)])
    vals = (X * Gt).entries()
    return np.fromiter(((v > 0) - (v < 0) for v in vals), dtype=np.int8, count=n * m).reshape(n, m)


class AffineSigns:
    """Exact signs of the integers ``H = [A | s] Gᵀ`` for blocks of integer points ``A``: entry
    ``(i, r)`` is the sign of ``Σ_j G[r][j] A[i, j] + G[r][k] s`` (``A`` has ``k`` columns).

    Computed with float64 BLAS. When every integer involved provably stays below ``2^53`` the
    float products are exact. Otherwise each row of ``G`` is scaled by a power of two and rounded
    to float64, and the float values are a *filter*: with ``T_r = Σ_j |ĝ_rj| a_j`` (``a_j`` a
    bound on ``|A_ij|``), the computed value ``ĥ`` is within
    ``E_r = 2(k+5)u T_r + 2^-1000 (k+1+Σ_j a_j)`` of the exact scaled value (``u = 2^-53``:
    rounding of ``G`` and ``A``, any summation order, underflow), so ``|ĥ| > E_r`` proves the
    sign; the few points with an entry inside the band are evaluated exactly with python-flint,
    and so are integers beyond ``int64`` (object arrays).

    Parameters
    ----------
    G : sequence of sequences of int
        ``m`` rows of ``k + 1`` integers (weights, then the coefficient of ``s``).
    s : int
        The homogeneous coordinate (any integer).
    bound : int
        A bound on ``|A_ij|`` for every block passed in.

    Examples
    --------
    >>> big = 2**80
    >>> signs = AffineSigns([[1, -1, 0], [big, -big, 1]], 1, bound=5)
    >>> signs(np.array([[3, 3], [2, 5]])).tolist()
    [[0, 1], [-1, -1]]
    >>> signs.exact  # the float values are a filter here
    False
    """

    def __init__(self, G: Sequence[Sequence[int]], s: int, bound: int) -> None:
        rows = [[int(v) for v in row] for row in G]
        self.k = k = len(rows[0]) - 1 if rows else 0
        self.G = [row[:k] + [row[k] * int(s)] for row in rows]  # weights on the inputs [A | 1]
        m = len(self.G)
        a = [int(bound)] * k + [1]
        gmax = [max(map(abs, row)) for row in self.G]
        top = max(gmax, default=0)
        exact = top <= EXACT_FLOAT_BOUND and int(bound) <= EXACT_FLOAT_BOUND
        if exact and top * sum(a) > EXACT_FLOAT_BOUND:  # the quick bound fails: the exact one
            exact = max(sum(abs(g) * b for g, b in zip(row, a)) for row in self.G) <= EXACT_FLOAT_BOUND
        self.exact = exact
        self.Gt: np.ndarray | None = None  # None: every block goes to python-flint
        if int(bound) >= INT64_LIMIT:  # only object arrays hold such points
            return
        if exact:
            Gt = np.array(self.G, dtype=np.float64).reshape(m, k + 1).T
            self.E = np.zeros(m)
        else:
            e = [g.bit_length() for g in gmax]
            Gt = np.array([[_scaled_float(v, e[r]) for v in self.G[r]] for r in range(m)]).reshape(m, k + 1).T
            af = np.array(a, dtype=np.float64) * (1 + 4 * _U)  # upper bounds of the |A_ij|
            T = np.abs(Gt).T @ af
            self.E = 2 * (k + 5) * _U * T * (1 + 4 * (k + 2) * _U) + 2.0**-1000 * (k + 1 + float(af.sum()))
        self.Gt = np.ascontiguousarray(Gt)

    def __call__(self, A: np.ndarray, Af: np.ndarray | None = None) -> np.ndarray:
        """``int8`` signs, shape ``(n, m)``, of the points ``A`` (rows, ``|A_ij| ≤ bound``).

        ``Af``, optional: ``A`` as float64 (converted here when not given).
        """
        A = np.asarray(A)
        n, m = A.shape[0], len(self.G)
        if self.Gt is None or A.dtype.kind not in "biu" or A.dtype.itemsize > 8:
            return _flint_signs(self.G, A)
        out = np.empty((n, m), dtype=np.int8)
        step = max(1, _SIGN_BLOCK // max(m, self.k + 1))
        for lo in range(0, n, step):
            blk = A[lo : lo + step]
            H = (blk.astype(np.float64) if Af is None else Af[lo : lo + step]) @ self.Gt[: self.k]
            H += self.Gt[self.k]
            sg = np.sign(H).astype(np.int8)
            if not self.exact:
                band = np.flatnonzero((np.abs(H) <= self.E).any(axis=1))
                if band.size:
                    sg[band] = _flint_signs(self.G, blk[band])
            out[lo : lo + step] = sg
        return out

    def value(self, r: int, x: Sequence[int]) -> int:
        """The exact integer ``H`` of neuron ``r`` at the point ``x`` (one row of ``A``)."""
        return sum(g * int(v) for g, v in zip(self.G[r], x)) + self.G[r][self.k]


def exact_outputs(network: Any, X: Any) -> Scaled:
    """Exact outputs of ``network`` on points ``X`` (rows), as integers over per-column scales."""
    out = None
    for _, Z in integer_layers(network, X):
        out = Z
    if out is None:
        raise FormatError("a network needs at least one layer")
    return out


def exact_forward(network: Any, X: Any) -> flint.fmpq_mat:
    """Exact outputs of ``network`` on points ``X`` (rows) as an ``(N, d_L)`` rational matrix
    (:func:`exact_values`)."""
    out = exact_values(network, *integer_points(X))
    return out if isinstance(out, flint.fmpq_mat) else out.to_fmpq_mat()


def integer_pass_values(network: Any, A: flint.fmpz_mat, s: int) -> Iterator[tuple[int, list, int]]:
    """:meth:`ReLUNetwork.integer_pass` on the fast evaluator: columns ``A / s`` in, yields
    ``(k, values, scale)`` with ``values`` the row-major ``(d_{k+1}, N)`` integers over a
    common ``scale``."""
    rows = A.transpose()
    for k, Z in _run(_layers_of(network), _shrink(rows), int(s)):
        values, C = Z.common_scale_rows()
        yield k, values, C
