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

* **residues** (:class:`~symtrunc.exact.residues.Residues`): while ``4 B`` stays below a product of at most 24 primes
  ``p < 2^21``, the integers are held modulo each prime; a layer is one float64 BLAS product
  per prime (products below ``2^42``, sums of up to 1024 of them below ``2^52``: exact), and the
  signs for ReLU come from Garner's mixed-radix digits (one more small product per prime);
* **reduced rationals**: beyond that, one ``fmpz_mat`` product per layer on homogeneous integer
  rows, after which every value is reduced to the least common denominator, so the scales
  ``D_i`` (which multiply up layer after layer: thousands of bits on deep networks with large
  denominators) are replaced by the denominators the values really have.

:class:`~symtrunc.exact.affine_signs.AffineSigns` gives the exact signs of one integer affine map on many points (the
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
from symtrunc.exact.matrix import FrozenQMatrix, frozen
from symtrunc.exact.rational import to_q
from symtrunc.exact.residues import _MAX_PRIMES, Residues, _count, _mod, _modular_dot, _primes
from symtrunc.exact.scaled import EXACT_FLOAT_BOUND, Scaled

__all__ = [
    "Scaled",
    "integer_points",
    "integer_layers",
    "exact_values",
    "first_mismatch",
    "Residues",
    "exact_outputs",
    "exact_forward",
    "EXACT_FLOAT_BOUND",
]


# ----------------------------------------------------------------------------- values
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
    2. residues modulo up to 24 primes below ``2^21`` (:class:`Residues`, one float64 BLAS
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
