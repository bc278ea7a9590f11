r"""Certified float networks: what every IEEE evaluation of a float network does on given points.

:func:`certify_floats` takes a :class:`~symtrunc.lowering.float_network.FloatNetwork` (its float
weights read as the exact dyadic rationals they are) and labeled points, and proves that *every*
evaluation of the network in its own precision puts every point in its class. It returns a
:class:`FloatCertificate` with the certified decision margin and a bound on the distance of the
outputs from the label vectors. :func:`symtrunc.lower` and :func:`symtrunc.io.export.export`
call it when they are given the training data.

What is certified
-----------------
Let ``u = 2^-24, λ = 2^-126`` (float32) or ``u = 2^-53, λ = 2^-1022`` (float64), ``λ`` the
smallest normal number, and ``γ_n = n u / (1 - n u)``. The certificate covers every
evaluation that follows this model:

* **Input.** Each coordinate ``x`` is rounded to the network's type by a *faithful* rounding:
  ``x`` itself when it is representable, else one of its two float neighbours (the nearest one,
  or its other neighbour, as when decimal data are read into float64 first and then cast to
  float32). The reference input ``x̃`` is the correctly rounded value, and
  ``|x̂ - x̃| ≤ spacing(x̃)``.
* **Layers.** A dense layer ``z = W̃ h + b̃`` is computed as one sum of ``k + 1`` terms per
  output (``k`` rounded products and the bias) in **any order** (any summation tree, blocked
  BLAS kernels, SIMD lanes), **with or without fused multiply-add**. A structured layer of
  :func:`~symtrunc.lowering.float_network.lower` is computed as ``t = Ṽᵀ h`` (sums of ``n``
  products) and ``z = α̃ h + Ũ t + b̃`` (sums of ``r + 2`` terms), in any order. ReLU is exact.
* **Rounding.** Every operation returns ``(a ∘ b)(1 + δ) + η`` with ``|δ| ≤ u`` and
  ``|η| ≤ λ``: round to nearest with gradual underflow, flush-to-zero or denormals-are-zero
  (a subnormal operand read as zero moves it by less than ``λ``). Hence a sum of ``n`` terms
  ``s_i`` is off by at most ``γ_n Σ|s_i| + 3nλ``.

Not covered (they do not evaluate the layers as written): reduced-precision matrix products
(TF32 on recent NVIDIA GPUs, the default bfloat16 passes of JAX on GPU/TPU: set
``jax.default_matmul_precision("highest")``), Strassen-type products, and compilers that
reassociate across layers.

Bounds
------
Write ``h*`` for the exact value (real arithmetic) of the float network on ``x̃``, ``h̃`` for
one evaluation that this module runs itself (NumPy, in the network's type: it obeys the
model), and ``ĥ`` for any evaluation. Layer by layer, a bound ``E`` with ``|ĥ - h*| ≤ E`` for
every evaluation is computed (so also ``|ĥ| ≤ |h̃| + 2E``):

*Local error* of layer ``l``: ``ẑ = A ĥ + b̃ + e`` with ``A = W̃`` (dense), and
``|e_i| ≤ ε_{l,i} := γ_{n_i}(|W̃|(|h̃| + 2E) + |b̃|)_i + 3(n_i+1)λ(1 + Σ_j |W̃_ij|)``, ``n_i`` the
number of nonzero terms of row ``i`` (products with a zero weight and additions of zero are
exact; a row that copies one input times ``±2^e`` has no rounding error at all); the last term
covers underflow and subnormal activations flushed to zero. A structured layer has
``A = α̃ I + Ũ Ṽᵀ`` exactly and ``e = Ũ δt + e₂`` with ``|δt| ≤ γ_n |Ṽ|ᵀ(|h̃| + 2E) + …`` and
``|e₂| ≤ γ_{r+2}(|α̃|(|h̃| + 2E) + |Ũ||t̂| + |b̃|) + …``.

*Running bound*: ``|ẑ - z*| ≤ |A| E + |e|``; ReLU is 1-Lipschitz.

*Composed bound*: where the sign of every neuron of layers ``m..l-1`` is certified for a point
(the same in every evaluation and in ``h*``: ``z̃ - 2F > 0`` or ``z̃ + 2F ≤ 0``), the errors
propagate linearly: ``ẑ_l - z*_l = Σ_m P_{l,m} e_m`` with
``P_{l,m} = A_l D_{l-1} A_{l-1} ⋯ A_{m+1} D_m`` (``D`` the 0/1 masks) and the input error
entering through ``A_1``. The products ``P_{l,m}`` (and ``P_{l,m} Ũ_m``) are computed **exactly**
(integer matrices times powers of two), once per mask pattern, and ``|P_{l,m}|`` is rounded up.
This matters: the constructed layers ``W_l = W^(l) (W^(l-1))^{-1}`` cancel heavily, so
``|W_l| |W_{l-1}| ⋯`` grows by orders of magnitude per layer while ``|W_l W_{l-1} ⋯|`` stays
moderate. A point collapsed to zero (certified inactive layer) carries no error further.
``F = min(running, composed)`` bounds ``|ẑ - z*|``; a certified inactive neuron has ``E = 0``.

All bounds are computed in float64 from nonnegative numbers, each result multiplied by
``1 + 2(n + 4) 2^-53`` (``≥ (1 - 2^-53)^{-(n+2)}``, ``n`` the length of the sum) and raised by
``2^-1000`` (float64 underflow), so they are upper bounds whatever order NumPy sums in.

*Decisions.* With targets one-hot the decision is the argmax: for a point of class ``r``,
``ŷ_r - ŷ_j ≥ ỹ_r - ỹ_j - 2(E_r + E_j)``; the certified margin of the point is the minimum
over ``j ≠ r`` of that lower bound (computed with directed rounding). With other label vectors
``t_j`` the decision is the nearest label vector, decided exactly (rationals) over the box
``[ỹ - 2E, ỹ + 2E]``. The certified distance of the outputs from the label vector is
``max_i |ỹ_i - t_i| + 2E_i``. If a partial sum could overflow the float type, the point is not
certified.

Examples
--------
>>> import symtrunc
>>> from symtrunc.lowering.float_network import lower
>>> data = symtrunc.LabeledData.from_arrays(
...     [[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]], list("aaaabbbb"))
>>> net = symtrunc.construct(data)
>>> cert = certify_floats(lower(net, "float32"), data)
>>> cert.certified, cert.n_points, cert.decision, 0.99 < cert.margin <= 1, cert.eps < 1e-5
(True, 8, 'argmax', True, True)
>>> print(cert.summary())                    # doctest: +ELLIPSIS
certified float32 (structured evaluation, any summation order, with or without FMA): all 8 points in their class by argmax, margin ≥ 0.99..., outputs within ... of the label vectors
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import flint
import numpy as np

from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError
from symtrunc.exact.rounding import round_matrix, round_up
from symtrunc.verification.digest import DATA_DIGEST_VERSION, data_sha256
from symtrunc.verification.targets import class_targets

if TYPE_CHECKING:
    from symtrunc.lowering.float_network import FloatNetwork

__all__ = ["FloatCertificate", "certify_floats", "unit_roundoff"]

#: points per block of the certification (bounds memory; exact products are shared by all blocks)
BLOCK = 8192
#: largest number of activation patterns per block that get the composed (exact product) bound
MAX_PATTERNS = 64
_GUARD = 2.0**-1000  # absorbs float64 underflow in the bound arithmetic
_U64 = 2.0**-53
_MAX_FAILURES = 5


def unit_roundoff(dtype: Any) -> tuple[float, float]:
    """``(u, λ)``: unit roundoff and smallest normal number of ``float32``/``float64``.

    >>> unit_roundoff("float32") == (2.0**-24, 2.0**-126)
    True
    """
    dt = np.dtype(dtype)
    return (2.0**-24, 2.0**-126) if dt == np.float32 else (2.0**-53, 2.0**-1022)


def _gamma(n: int, u: float) -> float:
    """``γ_n = n u / (1 - n u)`` rounded up (``u`` a power of two)."""
    uq = flint.fmpq(*u.as_integer_ratio())
    return round_up(n * uq / (1 - n * uq))


def _up(a: np.ndarray, n: int) -> np.ndarray:
    """An upper bound of the exact value of a float64 computation of ``n`` roundings on nonnegatives."""
    return a * (1.0 + 2 * (n + 4) * _U64) + _GUARD


def _shown(x: float, up: bool) -> str:
    """``x`` to three significant digits, rounded down (``up=False``) or up, so that a printed
    bound stays a bound.

    >>> _shown(0.99999, False), _shown(0.012341, True), _shown(1.0, False)
    ('0.999', '0.0124', '1')
    """
    if not math.isfinite(x) or x == 0:
        return f"{x:g}"
    k = 2 - math.floor(math.log10(abs(x)))
    scaled = x * 10.0**k
    v = (math.ceil(scaled) if up else math.floor(scaled)) / 10.0**k
    return f"{v:.3g}"


# ------------------------------------------------------------------------------ exact maps
@dataclass(frozen=True)
class _Exact:
    """The exact matrix ``A · 2^e`` (``A`` an integer matrix)."""

    A: flint.fmpz_mat
    e: int

    def __matmul__(self, other: _Exact) -> _Exact:
        return _Exact(self.A * other.A, self.e + other.e)

    def masked(self, keep: np.ndarray) -> _Exact:
        """``A D`` with ``D = diag(keep)`` (columns of dropped neurons set to zero)."""
        if keep.all():
            return self
        n, m = self.A.nrows(), self.A.ncols()
        vals = [int(v) for v in self.A.entries()]
        drop = np.nonzero(~keep)[0].tolist()
        for i in range(n):
            for j in drop:
                vals[i * m + j] = 0
        return _Exact(flint.fmpz_mat(n, m, vals), self.e)

    def is_zero(self) -> bool:
        return self.A.is_zero()

    def upper_abs(self) -> np.ndarray:
        """A float64 array ``≥ |A| 2^e`` entrywise."""
        n, m = self.A.nrows(), self.A.ncols()
        ints = [abs(int(v)) for v in self.A.entries()]
        e, shift = self.e, max(0, max((v.bit_length() for v in ints), default=0) - 1000)
        if shift:  # keep below the float range: round the integers up after the shift
            ints = [(v >> shift) + 1 for v in ints]
            e += shift
        vals = np.array([float(v) for v in ints], dtype=np.float64).reshape(n, m)
        vals *= 1.0 + 4 * _U64  # int -> float rounds to nearest
        with np.errstate(over="ignore", under="ignore"):
            out = np.ldexp(vals, e)
        out[(vals > 0) & (out < _GUARD)] = _GUARD  # rounded down below the normal range
        return out


def _exact(a: np.ndarray) -> _Exact:
    """The exact value of a float array (vector → column) as an integer matrix times ``2^e``."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    n, m = a.shape
    mant, ex = np.frexp(a)  # a = mant 2^ex, 1/2 <= |mant| < 1
    ints = (mant * 2.0**53).astype(np.int64)  # exact: 53-bit mantissas
    ex = ex.astype(np.int64) - 53
    nz = ints != 0
    e0 = int(ex[nz].min()) if nz.any() else 0
    shifts = np.where(nz, ex - e0, 0).ravel().tolist()
    vals = [int(v) << int(s) for v, s in zip(ints.ravel().tolist(), shifts)]
    return _Exact(flint.fmpz_mat(n, m, vals), e0)


def _identity(n: int) -> _Exact:
    return _Exact(flint.fmpz_mat(n, n, [int(i == j) for i in range(n) for j in range(n)]), 0)


def _structured_exact(alpha: float, U: np.ndarray, V: np.ndarray) -> _Exact:
    """``α̃ I + Ũ Ṽᵀ`` exactly."""
    n = U.shape[0]
    a = _exact(np.array([[alpha]]))
    uv = _exact(U) @ _Exact(_exact(V).A.transpose(), _exact(V).e)
    e = min(a.e, uv.e)
    av = int(a.A[0, 0]) << (a.e - e)
    s = uv.e - e
    vals = [int(v) << s for v in uv.A.entries()]
    for i in range(n):
        vals[i * n + i] += av
    return _Exact(flint.fmpz_mat(n, n, vals), e)


# ------------------------------------------------------------------------------ layers
@dataclass(frozen=True, eq=False)
class _Dense:
    """A dense float layer with what its bounds need (float64 copies are exact: floats ≤ 64 bits)."""

    relu: bool
    b: np.ndarray  # (out,) in the network's dtype
    absb: np.ndarray  # |b| float64
    exact: _Exact  # the exact linear part A = W̃
    W: np.ndarray  # (out, in) in dtype
    absWt: np.ndarray  # |W|ᵀ float64 (in, out)
    sub_W: np.ndarray | None  # (in, out) λ where a weight is subnormal (denormals-are-zero)
    gammas: np.ndarray  # (out,) γ_n per row, n its number of nonzero terms (0: exact row)
    tiny: np.ndarray  # (out,) underflow allowance per row


@dataclass(frozen=True, eq=False)
class _Structured:
    """A structured layer ``α̃ h + Ũ (Ṽᵀ h) + b̃`` of :func:`~symtrunc.lowering.float_network.lower`."""

    relu: bool
    b: np.ndarray
    absb: np.ndarray
    exact: _Exact  # α̃ I + Ũ Ṽᵀ, exactly
    alpha: float
    U: np.ndarray  # (out, r) in dtype
    V: np.ndarray  # (in, r) in dtype
    absUt: np.ndarray  # |U|ᵀ float64
    absV: np.ndarray  # |V| float64
    exact_U: _Exact


def _row_gammas(W: np.ndarray, b: np.ndarray, dt: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """``γ_n`` per output row, ``n`` = its nonzero terms (products with a zero weight and additions
    of zero are exact); ``0`` for a row that copies one input times a power of two (exact), and
    the underflow allowance ``3(n+1)λ(1 + Σ_j |W_ij|)`` per row."""
    u, lam = unit_roundoff(dt)
    nz = W != 0
    n = nz.sum(axis=1) + (b != 0)
    cache: dict[int, float] = {}
    gammas = np.array([cache.setdefault(int(v), _gamma(int(v), u)) if v else 0.0 for v in n.tolist()])
    single = (n == 1) & (b == 0)
    if single.any():
        w = np.abs(W[single].astype(np.float64)).max(axis=1)
        mant, _ = np.frexp(w)
        gammas[np.nonzero(single)[0][mant == 0.5]] = 0.0  # w = ±2^e: w h is exact
    tiny = 3 * (n + 1) * lam * (1.0 + np.abs(W.astype(np.float64)).sum(axis=1))
    return gammas, tiny


def _layers(network: FloatNetwork) -> list[_Dense | _Structured]:
    out: list[_Dense | _Structured] = []
    dt = network.dtype
    _, lam = unit_roundoff(dt)
    for W, b, act, s in zip(network.weights, network.biases, network.activations, network.layer_structures):
        b = np.asarray(b, dtype=dt)
        absb = np.abs(b.astype(np.float64))
        if s is None:
            W = np.asarray(W, dtype=dt)
            Wt = np.abs(W.astype(np.float64)).T.copy()
            sub = np.where((Wt > 0) & (Wt < lam), lam, 0.0)
            gammas, tiny = _row_gammas(W, b, dt)
            out.append(_Dense(act == "relu", b, absb, _exact(W), W, Wt, sub if sub.any() else None, gammas, tiny))
        else:
            U = np.asarray(s.U, dtype=dt)
            V = np.asarray(s.V, dtype=dt)
            alpha = float(dt.type(s.alpha))
            out.append(
                _Structured(
                    act == "relu",
                    b,
                    absb,
                    _structured_exact(alpha, U, V),
                    alpha,
                    U,
                    V,
                    np.abs(U.astype(np.float64)).T.copy(),
                    np.abs(V.astype(np.float64)),
                    _exact(U),
                )
            )
    return out


# ------------------------------------------------------------------------------ certificate
@dataclass(frozen=True)
class FloatCertificate:
    """What :func:`certify_floats` proved about a float network on labeled points.

    Attributes
    ----------
    dtype : str
        ``"float32"`` or ``"float64"``: the precision of every evaluation covered.
    evaluation : str
        ``"dense"`` (every layer ``W̃ h + b̃``, as ONNX ``Gemm``, ``nn.Linear``, ``x @ kernel + bias``)
        or ``"structured"`` (the structured layers of :func:`~symtrunc.lowering.float_network.lower`).
    n_points : int
    n_certified : int
        Points proved to land in their class in every evaluation.
    n_wrong : int
        Points that one actual IEEE evaluation (NumPy, in ``dtype``) puts in another class: real
        counterexamples, a subset of the uncertified points.
    decision : str
        ``"argmax"`` (one-hot label vectors) or ``"nearest label vector"``.
    margin : float
        The smallest certified decision margin over the points: a lower bound of
        ``ŷ_r - max_{j≠r} ŷ_j`` (argmax) over every point of class ``r`` and every evaluation;
        negative when some point is not certified.
    eps : float
        An upper bound of ``max_i |ŷ_i - t_i|`` over every point, its label vector ``t`` and every
        evaluation (``inf`` when a bound overflowed).
    failures : tuple of str
        The first uncertified points, one line each.
    data_sha256 : str
        Digest of the exact data (:func:`symtrunc.verification.digest.data_sha256`).
    seconds : float
        Time spent certifying.
    """

    dtype: str
    evaluation: str
    n_points: int
    n_certified: int
    n_wrong: int
    decision: str
    margin: float
    eps: float
    failures: tuple[str, ...] = ()
    data_sha256: str = ""
    seconds: float = field(default=0.0, compare=False)

    @property
    def certified(self) -> bool:
        """Every point is proved to land in its class."""
        return self.n_certified == self.n_points

    def summary(self) -> str:
        """One line: what was certified, or why not."""
        how = f"{self.dtype} ({self.evaluation} evaluation, any summation order, with or without FMA)"
        if self.certified:
            return (
                f"certified {how}: all {self.n_points} points in their class by {self.decision}, "
                f"margin ≥ {_shown(self.margin, False)}, outputs within {_shown(self.eps, True)} of the "
                "label vectors"
            )
        wrong = (
            f", {self.n_wrong} misclassified by symtrunc's {self.dtype} evaluation (other runtimes "
            "sum in other orders and may differ)"
            if self.n_wrong
            else ""
        )
        first = f"; first: {self.failures[0]}" if self.failures else ""
        return (
            f"NOT certified {how}: {self.n_points - self.n_certified} of {self.n_points} points not proved "
            f"in their class{wrong}{first}"
        )

    __str__ = summary

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (floats as decimal strings that round-trip)."""
        return {
            "format": "symtrunc.float_certificate",
            "version": 2,  # 2: data_sha256 in data digest format 2 (named by data_digest_version)
            "certified": self.certified,
            "dtype": self.dtype,
            "evaluation": self.evaluation,
            "decision": self.decision,
            "points": self.n_points,
            "points_certified": self.n_certified,
            "points_wrong": self.n_wrong,
            "margin": repr(self.margin),
            "eps": repr(self.eps),
            "data_sha256": self.data_sha256,
            "data_digest_version": DATA_DIGEST_VERSION,
            "model": "IEEE-754 round to nearest in dtype, any summation order, with or without FMA, "
            "gradual underflow or flush-to-zero; inputs rounded faithfully to dtype",
        }


# ------------------------------------------------------------------------------ the bound
_IDENTITY = object()  # the identity map of a local error at its own layer


class _Bounds:
    """Layer-by-layer bounds for blocks of points; exact products are cached across blocks."""

    def __init__(self, network: FloatNetwork) -> None:
        self.dt = network.dtype
        self.u, self.lam = unit_roundoff(self.dt)
        self.big = float(np.finfo(self.dt).max) / 4
        self.layers = _layers(network)
        self._chain: dict[tuple, Any] = {}
        self._abs: dict[tuple, np.ndarray | None] = {}

    def _product(self, l: int, inj: tuple[int, str], masks: tuple[bytes, ...]) -> Any:
        """``P_{l,m} B`` exactly: ``B`` is ``I`` (``kind="z"``), ``Ũ_m`` (``"t"``) or ``A_0`` (the
        input error); ``masks`` are those of layers ``m..l-1``. ``None`` when the product is zero."""
        key = (l, inj, masks)
        if key in self._chain:
            return self._chain[key]
        m, kind = inj
        if not masks:
            own = self.layers[m]
            C: Any = {
                "input": self.layers[0].exact,
                "z": _IDENTITY,
                "t": own.exact_U if isinstance(own, _Structured) else None,
            }[kind]
        else:
            merge = len(masks) >= 2 and not self.layers[l - 1].relu  # skip an affine layer: A_l A_{l-1}
            keep = np.frombuffer(masks[-2 if merge else -1], dtype=bool)
            prev = self._product(l - 2 if merge else l - 1, inj, masks[:-2] if merge else masks[:-1])
            if prev is None or not keep.any():
                C = None
            else:
                A = (self._merged(l) if merge else self.layers[l].exact).masked(keep)
                C = A if prev is _IDENTITY else A @ prev
                if C.is_zero():
                    C = None
        self._chain[key] = C
        return C

    def _merged(self, l: int) -> _Exact:
        """``A_l A_{l-1}`` for an affine layer ``l - 1`` (e.g. the first half of a factored layer)."""
        key = ("merged", l)
        if key not in self._chain:
            self._chain[key] = self.layers[l].exact @ self.layers[l - 1].exact
        return self._chain[key]

    def _chain_abs(self, l: int, inj: tuple[int, str], masks: tuple[bytes, ...]) -> np.ndarray | None:
        """``|P_{l,m} B|`` rounded up (``None``: zero)."""
        key = (l, inj, masks)
        if key not in self._abs:
            C = self._product(l, inj, masks)
            self._abs[key] = None if C is None else C.upper_abs()
        return self._abs[key]

    def run(self, X: np.ndarray, E0: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Reference outputs ``ỹ`` (float64 copy), their bounds ``E`` and a per-point flag ``ok``
        (False: a bound is not finite or a partial sum could overflow the float type)."""
        n = X.shape[0]
        H = np.asarray(X, dtype=self.dt)
        E = np.zeros(H.shape) if E0 is None else np.asarray(E0, dtype=np.float64)
        ok = np.ones(n, dtype=bool)
        pattern = np.zeros(n, dtype=np.int64)  # per point: its mask pattern (-1: not all signs certified)
        masks: list[tuple[bytes, ...]] = [()]  # per pattern: the masks of the layers so far
        injections: list[tuple[int, str, np.ndarray]] = []  # (layer m, kind, bound of the error)
        if E0 is not None and np.any(E0):
            injections.append((0, "input", E.copy()))
        for l, layer in enumerate(self.layers):
            absH = _up(np.abs(H.astype(np.float64)) + 2 * E, 2)
            Z, local, dt, extra, lin, partial = self._layer(layer, H, absH, E)
            F = _up(local + extra + lin, 2)
            if layer.relu or l == len(self.layers) - 1:  # an inner affine layer decides no sign
                F = self._composed(l, F, _up(local + extra, 1), pattern, masks, injections)
            ok &= np.all(np.isfinite(F), axis=1) & (partial.max(axis=1, initial=0.0) < self.big)
            ok &= np.all(np.isfinite(Z), axis=1)
            injections.append((l, "z", local))
            if dt is not None:
                injections.append((l, "t", dt))
            if layer.relu:
                Zf = Z.astype(np.float64)
                twoF = 2 * F * (1.0 + 4 * _U64)
                active, inactive = Zf > twoF, -Zf >= twoF
                E = np.where(inactive, 0.0, F)
                certain = np.all(active | inactive, axis=1)
                H = np.maximum(Z, self.dt.type(0))
            else:  # an affine layer: every neuron passes (mask of ones)
                E, H = F, Z
                active = np.ones(Z.shape, dtype=bool)
                certain = np.ones(n, dtype=bool)
            index: dict[tuple[int, bytes], int] = {}
            new_pattern = np.full(n, -1, dtype=np.int64)
            new_masks: list[tuple[bytes, ...]] = []
            for i in np.nonzero((pattern >= 0) & certain)[0].tolist():
                key = (int(pattern[i]), active[i].tobytes())
                if key not in index:
                    index[key] = len(new_masks)
                    new_masks.append(masks[key[0]] + (key[1],))
                new_pattern[i] = index[key]
            pattern, masks = new_pattern, new_masks
        return H.astype(np.float64), E, ok

    def _layer(self, layer: _Dense | _Structured, H: np.ndarray, absH: np.ndarray, E: np.ndarray):
        """One layer: reference pre-activations ``Z``, the bound of its local error (z level),
        the bound of ``δt`` (structured, else ``None``) and ``|Ũ| δt``, the running propagation
        ``|A| E`` and a bound of every partial sum."""
        u, lam = self.u, self.lam
        if isinstance(layer, _Dense):
            k = layer.W.shape[1]
            Z = H @ layer.W.T
            Z += layer.b
            S = _up(absH @ layer.absWt, k) + layer.absb
            local = _up(S * layer.gammas, 1) + layer.tiny
            if layer.sub_W is not None:  # denormals-are-zero may drop subnormal weights
                local += _up(absH @ layer.sub_W, k)
            lin = _up(E @ layer.absWt, k)
            return Z, local, None, np.zeros_like(local), lin, S
        nin, r = layer.V.shape
        t = H @ layer.V
        Z = layer.alpha * H + t @ layer.U.T
        Z += layer.b
        T = _up(absH @ layer.absV, nin)
        dt = _up(T * _gamma(nin, u), 1) + 3 * (nin + 1) * lam * (1.0 + layer.absV.sum(axis=0))
        # |t̂| ≤ |t̃| + 2(|Ṽ|ᵀE + δt): t̃ is an evaluation too, so |Ṽᵀ h*| ≤ |t̃| + |δt̃| + |Ṽ|ᵀE
        tabs = _up(np.abs(t.astype(np.float64)) + 2 * (_up(E @ layer.absV, nin) + dt), 3)
        S = _up(abs(layer.alpha) * absH + tabs @ layer.absUt, r + 2) + layer.absb
        local = _up(S * _gamma(r + 2, u), 1) + 3 * (r + 2) * lam * (1.0 + abs(layer.alpha))
        lin = _up(abs(layer.alpha) * E + _up(E @ layer.absV, nin) @ layer.absUt, r + 2)
        extra = _up(dt @ layer.absUt, r)
        partial = np.maximum(S, T.max(axis=1, initial=0.0)[:, None])
        return Z, local, dt, extra, lin, partial

    def _composed(
        self,
        l: int,
        F: np.ndarray,
        own: np.ndarray,
        pattern: np.ndarray,
        masks: list[tuple[bytes, ...]],
        injections: list[tuple[int, str, np.ndarray]],
    ) -> np.ndarray:
        """``min(F, own + Σ_inj |P_{l,m} B| bound)`` for the points whose signs are all certified
        on the earlier layers (the largest :data:`MAX_PATTERNS` patterns): one product per pattern
        of the stacked bounds with the stacked ``|P_{l,m} B|ᵀ``."""
        ids, counts = np.unique(pattern[pattern >= 0], return_counts=True)
        if not ids.size or not injections:
            return F
        bounds = np.hstack([bound for _, _, bound in injections])
        starts = np.cumsum([0] + [bound.shape[1] for _, _, bound in injections])
        for pid in ids[np.argsort(-counts)[:MAX_PATTERNS]].tolist():
            rows = np.nonzero(pattern == pid)[0]
            cols, mats = [], []
            for (m, kind, _), a, b in zip(injections, starts[:-1], starts[1:]):
                absC = self._chain_abs(l, (m, kind), masks[pid][m:])
                if absC is not None:
                    cols.append(np.arange(a, b))
                    mats.append(absC.T)
            total = own[rows]
            if mats:
                Ct = np.vstack(mats)
                total = total + _up(bounds[np.ix_(rows, np.concatenate(cols))] @ Ct, Ct.shape[0])
            F[rows] = np.minimum(F[rows], total)
        return F


# ------------------------------------------------------------------------------ decisions
def _rounded_points(X: flint.fmpq_mat, dt: np.dtype) -> tuple[np.ndarray, np.ndarray | None]:
    """The correctly rounded points and ``|x̂ - x̃|`` bounds of faithful roundings (``None``: exact)."""
    Xr, err = round_matrix(X, dt, "data")
    if err == 0:
        E0 = np.zeros(Xr.shape)
    else:
        num, den = X.numer_denom()
        d = int(den)
        inexact = []
        for p, f in zip(num.entries(), Xr.ravel().tolist()):
            a, c = f.as_integer_ratio()
            inexact.append(a * d != int(p) * c)
        mask = np.array(inexact, dtype=bool).reshape(Xr.shape)
        E0 = np.where(mask, np.spacing(np.abs(Xr)).astype(np.float64), 0.0)
    _, lam = unit_roundoff(dt)
    tiny = (Xr != 0) & (np.abs(Xr) < lam)  # denormals-are-zero reads them as 0
    E0 = np.where(tiny, np.maximum(E0, np.abs(Xr.astype(np.float64))), E0)
    return Xr, (E0 if E0.any() else None)


def _onehot(targets: Sequence[tuple[flint.fmpq, ...]]) -> list[int] | None:
    """The output index of each class when every target is a distinct standard basis vector."""
    idx = []
    for t in targets:
        ones = [i for i, v in enumerate(t) if v != 0]
        if len(ones) != 1 or t[ones[0]] != 1:
            return None
        idx.append(ones[0])
    return idx if len(set(idx)) == len(idx) else None


def _argmax_decisions(Y: np.ndarray, E: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point: certified margin (lower bound), certified distance to the one-hot target
    (upper bound) and whether the reference outputs themselves rank the label first."""
    n, q = Y.shape
    rows = np.arange(n)
    Yr, Er = Y[rows, r][:, None], E[rows, r][:, None]
    diff = Yr - Y
    s = _up(2 * (Er + E), 1)
    low = (diff - s) - 4 * _U64 * (np.abs(diff) + s)
    low[rows, r] = np.inf
    right = np.ones(n, dtype=bool) if q == 1 else np.all((Yr > Y) | (np.arange(q)[None, :] == r[:, None]), axis=1)
    T = np.zeros_like(Y)
    T[rows, r] = 1.0
    dev = _up(np.abs(Y - T) * (1 + 2 * _U64) + 2 * E, 2).max(axis=1)
    margin = low.min(axis=1) if q > 1 else np.full(n, np.inf)
    margin[~np.isfinite(margin) & (q > 1)] = -np.inf
    return margin, dev, right


def _nearest_decisions(
    Y: np.ndarray, E: np.ndarray, cls: np.ndarray, targets: Sequence[tuple[flint.fmpq, ...]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same for nearest-label-vector decisions, computed exactly (rationals)."""
    n, dl = Y.shape
    margin = np.full(n, np.inf)
    dev = np.zeros(n)
    right = np.ones(n, dtype=bool)
    q = lambda v: flint.fmpq(*float(v).as_integer_ratio())  # noqa: E731
    for p in range(n):
        if not (np.all(np.isfinite(Y[p])) and np.all(np.isfinite(E[p]))):
            margin[p], dev[p], right[p] = -np.inf, np.inf, False
            continue
        y = [q(v) for v in Y[p]]
        e = [q(v) for v in E[p]]
        tr = targets[cls[p]]
        nr = sum((v * v for v in tr), flint.fmpq(0))
        worst = None
        for j, tj in enumerate(targets):
            if j == cls[p]:
                continue
            d = [a - b for a, b in zip(tr, tj)]
            c = (nr - sum((v * v for v in tj), flint.fmpq(0))) / 2
            val = sum((yi * di for yi, di in zip(y, d)), flint.fmpq(0)) - c
            right[p] &= bool(val > 0)
            low = val - 2 * sum((ei * abs(di) for ei, di in zip(e, d)), flint.fmpq(0))
            worst = low if worst is None or low < worst else worst
        if worst is not None:
            margin[p] = -round_up(-worst)
        dev[p] = round_up(max(abs(yi - ti) + 2 * ei for yi, ti, ei in zip(y, tr, e)))
    return margin, dev, right


def certify_floats(
    network: FloatNetwork, data: Any, labels: Any = None, *, label_matrix: Any = None, block: int = BLOCK
) -> FloatCertificate:
    """Prove that every IEEE evaluation of ``network`` in its own precision classifies ``data`` right.

    Parameters
    ----------
    network : FloatNetwork
        Its arrays are the float network (dense layers, or the structured layers of
        :func:`~symtrunc.lowering.float_network.lower`); its ``classes`` name the outputs.
    data : LabeledData, path or array
        The points and their labels (:func:`symtrunc.data.labeled.load_data`; an array needs
        ``labels``). Coordinates are read exactly and rounded to the network's type (any faithful
        rounding is covered, see the module docstring).
    labels : sequence, optional
        Labels for an array ``data``.
    label_matrix : optional
        Targets, as for :func:`symtrunc.verify` (default: the data's, one-hot in the network's
        class order).
    block : int
        Points per block.

    Returns
    -------
    FloatCertificate
        ``certified`` is True when every point is proved to land in its class.

    Raises
    ------
    DataError
        Data that do not fit the network (dimension, unknown class).
    """
    t0 = time.perf_counter()
    d = data if isinstance(data, LabeledData) else load_data(data, labels, check=False)
    if d.M != network.input_dim:
        raise DataError(f"the data have dimension {d.M}, the network expects {network.input_dim}")
    targets = class_targets(network, d.classes, label_matrix=label_matrix, Y=d.Y)
    onehot = _onehot(targets)
    X, E0 = _rounded_points(d.X, network.dtype)
    cls = np.array(d.y, dtype=np.int64)
    bounds = _Bounds(network)
    margins, devs, right, oks = [], [], [], []
    for a in range(0, d.N, block):
        b = min(d.N, a + block)
        Y, E, ok = bounds.run(X[a:b], None if E0 is None else E0[a:b])
        if onehot is not None:
            m, dv, rt = _argmax_decisions(Y, E, np.array(onehot, dtype=np.int64)[cls[a:b]])
        else:
            m, dv, rt = _nearest_decisions(Y, E, cls[a:b], targets)
        m[~ok] = -np.inf
        dv[~ok] = np.inf
        margins.append(m)
        devs.append(dv)
        right.append(rt)
        oks.append(ok)
    margin, dev = np.concatenate(margins), np.concatenate(devs)
    rt, ok = np.concatenate(right), np.concatenate(oks)
    good = margin > 0
    failures = []
    bad = np.nonzero(~good)[0]
    bad = np.concatenate([bad[~rt[bad]], bad[rt[bad]]])  # actual misclassifications first
    for p in bad[:_MAX_FAILURES].tolist():
        label = d.classes[int(cls[p])]
        if not ok[p]:
            why = f"a partial sum or bound may overflow {network.dtype.name}"
        elif not rt[p]:
            why = f"an actual {network.dtype.name} evaluation puts it in another class"
        else:
            why = f"margin lower bound {margin[p]:.3g} (its float outputs are right, but rounding could flip them)"
        failures.append(f"point {p} (label {label!r}): {why}")
    return FloatCertificate(
        dtype=network.dtype.name,
        evaluation="structured" if network.structured else "dense",
        n_points=d.N,
        n_certified=int(good.sum()),
        n_wrong=int((~rt).sum()),
        decision="argmax" if onehot is not None else "nearest label vector",
        margin=float(margin.min(initial=np.inf)) if d.N else math.inf,
        eps=float(dev.max(initial=0.0)),
        failures=tuple(failures),
        data_sha256=data_sha256(d),
        seconds=time.perf_counter() - t0,
    )
