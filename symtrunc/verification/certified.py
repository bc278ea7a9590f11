r"""Certified verification: a float64 filter with rigorous error bounds and an exact fallback.

:func:`verify_certified` proves the same statement as :func:`symtrunc.verify` (zero loss, and
the layer invariants of the construction when its metadata give them) for any number of
points, streamed in chunks (:mod:`symtrunc.data.stream`), locally or on a Dask cluster. No claim
rests on an uncertified float comparison:

1. **Float filter.** Each chunk goes through the hidden layers in float64 together with a
   rigorous upper bound ``Ê`` of the float error of every pre-activation (point and neuron).
   A neuron whose float value satisfies ``|z̃| > Ê`` has a *certified sign*. If every neuron of a
   point is certified, its exact activation pattern is known; otherwise the point is
   **ambiguous** and is evaluated again in exact integer arithmetic
   (:mod:`symtrunc.exact.evaluate`).
2. **Exact affine map per pattern.** On a fixed activation pattern the network is one affine
   map; it is composed exactly in python-flint (0/1 masks between the exact layers, cached per
   process). When its linear part is zero (every point of the constructed networks collapses)
   the output is a constant, compared exactly with each point's target; otherwise the points'
   outputs are computed exactly.
3. **Invariants.** The certified signs are exact facts, so the construction's sign invariants
   (class of collapse layer ``l``: all pre-activations ``≤ 0`` at layer ``l``, every other point
   ``≥ 0``) are checked per pattern. Points that collapsed carry the zero activation vector,
   whose later pre-activations are computed exactly.

Error bounds
------------
Let ``u = 2^-53`` and ``γ_n = n u / (1 - n u)``. IEEE-754 binary64 with round-to-nearest and
gradual underflow (NumPy's default) is assumed, and a BLAS whose dot products are ordinary sums
of rounded products in some order, with or without FMA (OpenBLAS, MKL; no Strassen). Every
exact matrix ``A`` is rounded entrywise to ``Ã = fl(A)``; ``ρ = max |A_ij - Ã_ij| / |Ã_ij|`` is
computed *exactly* from the rationals (so it does not depend on how ``fl`` rounds), as are
``δc_i = |c_i - c̃_i|``. The filter is only used when every nonzero ``|Ã_ij|`` lies in
``[2^-400, 2^400]`` and inputs are below ``2^400``; ``τ = 2^-600`` absorbs every underflow term.
A float ``↑q`` is a float ``≥ q``, obtained exactly from the rational ``q``.

*Affine step.* For ``z = A h + c`` computed as ``z̃ = fl(fl(h̃ Ãᵀ) + c̃)`` from a float input
``h̃`` with ``|h - h̃| ≤ E`` (entrywise, fan-in ``k``), the standard bound for a dot product of
``k + 1`` terms in any order (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1;
with gradual underflow ``fl(x·y) = xy(1+δ) + η``, ``|η| ≤ 2^-1075``, and sums have no ``η``, so
the underflow terms add at most ``2(k+1) 2^-1075``) gives

    |z - z̃| ≤ |A| E + |A - Ã| |h̃| + δc + γ_{k+1}(|Ã| |h̃| + |c̃|) + 2(k+1)2^-1075
            ≤ c₁ |Ã| (E + c₂' |h̃|) + δc + γ_{k+1}|c̃| + τ/2 =: B,

with ``c₁ = 1 + ρ`` and ``c₂' ≥ (ρ + γ_{k+1}) / c₁``, since ``|A| ≤ c₁|Ã|`` and
``|A - Ã| ≤ ρ|Ã|``.

*The bound computed in floats* ("running" kernel): ``V = fl(E + fl(c₂'|h̃|))``,
``Ê = fl(fl(V Gᵀ) + T)`` with ``G = fl(f' |Ã|)``, ``f' = ↑(c₁(1 + 2(k+3)u)/(1-u))`` and
``T = ↑((δc + γ_{k+1}|c̃| + τ)/(1-u))``. Every operation is on nonnegative numbers, so each
rounding loses at most a factor ``(1-u)`` plus ``2^-1075`` for a product that underflows:
``V ≥ (1-u)²(E + c₂'|h̃|) - 2^-1075``, ``fl(V Gᵀ) ≥ (1-u)^k V Gᵀ - k 2^-1075`` (any order) and
``Ê ≥ (1-u)(fl(V Gᵀ) + T)``. With ``G ≥ c₁|Ã|(1-u)^{-(k+3)}`` (because
``(1-u)^{-(k+3)} ≤ 1 + 2(k+3)u`` and ``fl(f'|Ã|) ≥ (1-u) f' |Ã|``, no underflow as
``|Ã_ij| ≥ 2^-400``) this yields ``Ê ≥ c₁|Ã|(E + c₂'|h̃|) + (1-u)T - (Σ_j G_ij + k + 1)2^-1075
≥ B``, as ``Σ_j G_ij ≤ k 2^401`` makes the last term smaller than ``τ/2``.

*The cheap bound* (for maps applied to the raw input): with ``m_p = max_j |x̃_pj|``,
``e_p ≥ max_j |x_pj - x̃_pj|`` and ``r_i = Σ_j |Ã_ij|``, ``|Ã||x̃_p| ≤ r_i m_p`` gives
``B ≤ ((1+ρ)e_p + (ρ+γ)m_p) r_i + δc_i + γ|c̃_i| + τ/2`` (``γ = γ_{k+1}``). It is computed as
``Ê = fl(fl(a_p R) + T)`` with ``a_p = fl(fl(κ₁e_p) + fl(κ₂m_p))``, ``κ₁ = ↑(1+ρ)``,
``κ₂ = ↑(ρ+γ)`` and either per neuron (``R = R_i``, ``T = T_i``) or, cheaper, one bound per
point for all its neurons (``R = max_i R_i``, ``T = max_i T_i``). Here
``R_i = fl(fl(Σ_j |Ã_ij|) · F) ≥ r_i (1+8u)`` with ``F = ↑((1 + 2(k+9)u)/(1-u))``: a float sum of
``k`` nonnegative terms is ``≥ (1-u)^(k-1)`` times the exact one, the product loses one more
factor, and ``(1 + 2(k+9)u)(1-u)^(k-1) ≥ 1 + 8u``. The bound has at most four roundings of
nonnegative numbers, covered by ``(1+8u) ≥ (1-u)^-4``, so ``Ê ≥ B``. A point is tried with the
per-point bound first, then per neuron, then with the running kernel applied to ``(Ã, c̃)``
and the raw input (the tight ``|Ã||x̃|``), before it is declared ambiguous.

*Through the layers.* ReLU is 1-Lipschitz, so ``|relu(z) - relu(z̃)| ≤ Ê`` on a neuron certified
positive, and both are exactly ``0`` on a neuron certified negative: the next layer starts from
``E = Ê · [z̃ > 0]``. Compounding through ``|W_l|`` is however pessimistic for the constructed
networks, whose layer matrices ``W_l = W^(l)(W^(l-1))^{-1}`` cancel heavily (the bound grows about
500x per layer on 64-dimensional SLS data). The filter therefore also uses the **composed map**:
if the signs of a point are certified on layers ``1..l-1`` (its *prefix*), its layer-``l``
pre-activation is exactly ``z = A x + c`` with ``(A, c)`` the exact composition of the first
``l`` layers with the prefix's 0/1 masks, evaluated from the raw input with one of the two
kernels above (error of a single affine map: no compounding). Points are grouped by prefix;
large groups use the composed map (for the constructed networks every uncollapsed point shares
the all-ones prefix and ``(A, c)`` is the cumulative layer ``(W^(l), b^(l))``), small groups the
running bound; a point certified by neither is ambiguous.

*Overflow.* ``Ê ≥ u|Ã||h̃|``, so ``max Ê < 2^900`` proves that no partial sum of ``z̃``
overflowed; otherwise (or if anything is NaN) the points concerned are ambiguous.

A sign is certified when ``|z̃| > Ê`` — an exact float comparison — so ``z`` and ``z̃`` have the
same strict sign. Exact zeros are never certified: they are resolved exactly. When the exact
integer evaluation of a whole chunk provably fits float64 (integers below ``2^53``, see
:mod:`symtrunc.exact.evaluate`), the chunk is simply evaluated exactly, at float speed.

Examples
--------
>>> import numpy as np, symtrunc
>>> X = np.array([[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]])
>>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
>>> net = symtrunc.construct(symtrunc.LabeledData.from_arrays(X, y.tolist()))
>>> cert = verify_certified(net, X, labels=y)
>>> cert.zero_loss, cert.method, cert.extra["points_float_certified"] + cert.extra["points_exact"]
(True, 'certified', 8)
"""

from __future__ import annotations

import hashlib
import pickle
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import flint
import numpy as np

from symtrunc.errors import DataError, VerificationError
from symtrunc.exact.evaluate import EXACT_FLOAT_BOUND, _integer_layer, integer_layers, integer_points
from symtrunc.exact.matrix import identity
from symtrunc.network import Layer, ReLUNetwork
from symtrunc.verification.certificate import Certificate, Counterexample, LayerCheck

__all__ = ["verify_certified"]

U = 2.0**-53
TAU = 2.0**-600
RANGE_HI = 2.0**400
RANGE_LO = 2.0**-400
OVERFLOW_GUARD = 2.0**900
_FQ_U = flint.fmpq(1, 2**53)
ZERO_COSTS = {"half_squared": "0", "class_weighted": "0", "class_weighted_sqrt": "0", "mean_squared": "0"}

DEFAULT_TUNING = {
    "composed": "auto",      # "auto" | "always" | "never": use composed maps for prefix groups
    "composed_min_group": 64,  # in "auto", groups at least this large use the composed map
    "composed_max_groups": 16,  # ... and all groups when there are at most this many
    "retry_max_groups": 256,  # running-bound failures retried with composed maps up to this many groups
    "shortcut": True,        # evaluate exactly in float64 when the whole integer plan fits 2^53
    "batch_exact_groups": 32,  # more non-constant pattern groups than this: evaluate those points exactly
    "block": 4096,           # rows per float block (cache-sized buffers)
    "threads": 1,            # BLAS threads inside a chunk (None: leave as is)
    "structured": True,      # rank-one kernel for composed maps A = αI + 1gᵀ (rational cones)
}


# ---------------------------------------------------------------------------- rounding
def _q(x: float) -> flint.fmpq:
    """The exact value of a float."""
    return flint.fmpq(*float(x).as_integer_ratio())


def _up(q: flint.fmpq) -> float:
    """A float ``≥ q`` (the nearest one above or equal)."""
    f = float(q)
    if _q(f) < q:
        f = float(np.nextafter(f, np.inf))
    return f


def _gamma(n: int) -> flint.fmpq:
    return n * _FQ_U / (1 - n * _FQ_U)


# ---------------------------------------------------------------------------- float maps
@dataclass(frozen=True)
class _FloatAffine:
    """The float64 image of an exact affine map ``z = A x + c`` and the constants of its bounds."""

    ok: bool                 # floats applicable (entries in range)
    zero: bool               # A == 0
    Wt: np.ndarray | None = None  # (k, m) fl(A)ᵀ
    b: np.ndarray | None = None   # (m,) fl(c)
    Wt1: np.ndarray | None = None  # (k+1, m) [fl(A)ᵀ; fl(c)ᵀ] for homogeneous inputs
    G: np.ndarray | None = None   # (k, m) fl(f'|Ã|)ᵀ
    c2: float = 0.0          # c₂'
    T: np.ndarray | None = None   # (m,)
    R: np.ndarray | None = None   # (m,)
    k1: float = 0.0          # κ₁
    k2: float = 0.0          # κ₂
    Rmax: float = 0.0        # max R_i
    Tmax: float = 0.0        # max T_i
    struct: "_RankOne | None" = None  # A = αI + 1gᵀ: the structured kernel


@dataclass(frozen=True)
class _RankOne:
    """``A = α I + 1 gᵀ`` (square): ``z = α x + (g·x) 1 + c`` in ``O(k)`` per point.

    Float algorithm: ``t̃ = fl(x̃ · g̃)``, ``z̃_i = fl(fl(fl(α̃ x̃_i) + t̃) + c̃_i)``. With
    ``|x̃_pj| ≤ m_p`` and ``|x_pj - x̃_pj| ≤ e_p``, ``|t̃ - g̃·x̃| ≤ γ_k ‖g̃‖₁ m_p`` and the last three
    roundings ``≤ γ_3(|α̃| m_p + |t̃| + |c̃_i|)`` (a sum of three terms whose first is a rounded
    product), so

        |z_i - z̃_i| ≤ K₁ m_p + K₂ e_p + δc_i + γ_3 |c̃_i| + τ/2,
        K₁ = |α-α̃| + ‖g-g̃‖₁ + γ_k ‖g̃‖₁ + γ_3(|α̃| + (1+γ_k)‖g̃‖₁),
        K₂ = |α-α̃| + |α̃| + ‖g-g̃‖₁ + ‖g̃‖₁,

    all computed exactly. The per-point bound ``fl(fl(fl(k₁ m_p) + fl(k₂ e_p)) + T)`` uses
    ``k_i = ↑(K_i (1+8u))`` and ``T = ↑((max_i(δc_i + γ_3|c̃_i|) + τ)/(1-u))`` (four roundings of
    nonnegative numbers, as for the cheap bound). ``γ_3(|α̃| + ‖g̃‖₁) m_p`` is at least
    ``u`` times every partial sum, so the overflow guard applies unchanged.
    """

    alpha: float
    g: np.ndarray
    c: np.ndarray
    k1: float
    k2: float
    T: float


def _rank_one(A: flint.fmpq_mat, c: flint.fmpq_mat) -> _RankOne | None:
    """The structured kernel when ``A = α I + 1 gᵀ`` exactly (every rational-cone map), else None."""
    m, k = A.nrows(), A.ncols()
    if m != k or k < 2:
        return None
    rows = A.tolist()
    g = [rows[1][0]] + [rows[0][j] for j in range(1, k)]
    alpha = rows[0][0] - g[0]
    for i in range(k):
        r = rows[i]
        for j in range(k):
            if r[j] != (g[j] + alpha if i == j else g[j]):
                return None
    af = float(alpha)
    gf = [float(v) for v in g]
    cent = c.entries()
    cf = [float(v) for v in cent]
    if not all(np.isfinite(gf + cf + [af])) or max(map(abs, gf + cf + [af])) > RANGE_HI:
        return None
    aq, gq = _q(af), [_q(v) for v in gf]
    g1 = sum((abs(v) for v in gq), flint.fmpq(0))
    dg = sum((abs(a - b) for a, b in zip(g, gq)), flint.fmpq(0))
    da = abs(alpha - aq)
    gk, g3 = _gamma(k), _gamma(3)
    K1 = da + dg + gk * g1 + g3 * (abs(aq) + (1 + gk) * g1)
    K2 = da + abs(aq) + dg + g1
    T = max((abs(cv - _q(f)) + g3 * abs(_q(f)) for cv, f in zip(cent, cf)), default=flint.fmpq(0))
    grow = 1 + 8 * _FQ_U
    return _RankOne(af, np.array(gf), np.array(cf), _up(K1 * grow), _up(K2 * grow),
                    _up((T + _q(TAU)) / (1 - _FQ_U)))


def _float_affine(A: flint.fmpq_mat, c: flint.fmpq_mat) -> _FloatAffine:
    m, k = A.nrows(), A.ncols()
    ent = A.entries()
    zero = all(v == 0 for v in ent)
    Af = np.array([float(v) for v in ent], dtype=np.float64).reshape(m, k)
    cent = c.entries()
    cf = np.array([float(v) for v in cent], dtype=np.float64)
    absA = np.abs(Af)
    nz = absA[absA != 0]
    if (not np.all(np.isfinite(Af)) or not np.all(np.isfinite(cf))
            or (nz.size and (nz.min() < RANGE_LO or nz.max() > RANGE_HI))
            or np.abs(cf).max(initial=0.0) > RANGE_HI
            or sum(1 for v in ent if v != 0) != nz.size):
        return _FloatAffine(False, zero)
    rho = flint.fmpq(0)
    for v, f in zip(ent, Af.ravel().tolist()):
        if v != 0:
            q = int(v.q)
            if q & (q - 1) == 0 and abs(int(v.p)).bit_length() <= 53:
                continue  # a dyadic rational with a 53-bit numerator: fl(v) == v
            fq = _q(f)
            if fq != v:
                r = abs(v - fq) / abs(fq)
                if r > rho:
                    rho = r
    gamma = _gamma(k + 1)
    c1 = 1 + rho
    c2 = _up((gamma + rho) / c1)
    fprime = _up(c1 * (1 + 2 * (k + 3) * _FQ_U) / (1 - _FQ_U))
    G = np.ascontiguousarray((absA * fprime).T)
    T = np.array([_up((abs(cv - _q(cfv)) + gamma * abs(_q(cfv)) + _q(TAU)) / (1 - _FQ_U))
                  for cv, cfv in zip(cent, cf.tolist())], dtype=np.float64)
    # R_i >= r_i (1 + 8u): the float row sum of k nonnegative terms (any order) is
    # >= r_i (1-u)^(k-1), the product loses one more factor (1-u), and
    # (1 + 2(k+9)u)(1-u)^(k-1) >= 1 + 8u (no underflow: entries are >= 2^-400)
    R = absA.sum(axis=1) * _up((1 + 2 * (k + 9) * _FQ_U) / (1 - _FQ_U))
    Wt1 = np.ascontiguousarray(np.vstack([Af.T, cf[None, :]]))
    return _FloatAffine(True, zero, np.ascontiguousarray(Af.T), cf, Wt1, G, c2, T, R, _up(1 + rho),
                        _up(rho + gamma), float(R.max(initial=0.0)), float(T.max(initial=0.0)),
                        _rank_one(A, c))


def _running(fa: _FloatAffine, H: np.ndarray, E: np.ndarray | None, signed: bool):
    """``(z̃, Ê)`` from float activations ``H`` with error bounds ``E`` (see the module docstring)."""
    Z = H @ fa.Wt
    Z += fa.b
    V = np.abs(H) if signed else H.copy()
    V *= fa.c2
    if E is not None:
        V += E
    Eb = V @ fa.G
    Eb += fa.T
    return Z, Eb


def _row_bound(fa: _FloatAffine, mx: np.ndarray, ex: np.ndarray | None) -> np.ndarray:
    """Per-point bound ``fl(fl(a_p R_max) + T_max)`` of the outer kernel (valid for every neuron)."""
    a = mx * fa.k2
    if ex is not None:
        a += ex * fa.k1
    a *= fa.Rmax
    a += fa.Tmax
    return a


class _Scratch:
    """Preallocated float buffers of one chunk (views of the leading rows are handed out)."""

    def __init__(self, rows: int, width: int, xwidth: int) -> None:
        self.xw = xwidth
        self.X = [np.empty(rows * xwidth), np.empty(rows * xwidth)]
        self.Z = np.empty(rows * width)
        self.A = np.empty(rows * width)
        self.P = np.empty(rows * width, dtype=bool)

    def x(self, side: int, n: int) -> np.ndarray:
        return self.X[side][: n * self.xw].reshape(n, self.xw)

    def z(self, n: int, m: int) -> np.ndarray:
        return self.Z[: n * m].reshape(n, m)

    def a(self, n: int, m: int) -> np.ndarray:
        return self.A[: n * m].reshape(n, m)

    def p(self, n: int, m: int) -> np.ndarray:
        return self.P[: n * m].reshape(n, m)


def _certified_matrix(Z: np.ndarray, Eb: np.ndarray) -> np.ndarray:
    return (np.abs(Z) > Eb).all(axis=1) & (Eb.max(axis=1) < OVERFLOW_GUARD)


_CONTROLLER: list = []


class _blas_threads:
    """Limit BLAS threads (skinny products are fastest on one thread); no-op without threadpoolctl.

    The library scan of threadpoolctl is done once per process (it costs ~20 ms).
    """

    def __init__(self, n: int | None) -> None:
        self.n, self.ctx = n, None

    def __enter__(self):
        if self.n:
            if not _CONTROLLER:
                try:
                    from threadpoolctl import ThreadpoolController

                    _CONTROLLER.append(ThreadpoolController())
                except ImportError:  # pragma: no cover
                    _CONTROLLER.append(None)
            if _CONTROLLER[0] is not None:
                self.ctx = _CONTROLLER[0].limit(limits=self.n, user_api="blas")
        return self

    def __exit__(self, *exc):
        if self.ctx is not None:
            self.ctx.restore_original_limits()
        return False


# ---------------------------------------------------------------------------- per process cache
_NETWORKS: dict[str, "_Prepared"] = {}


class _Prepared:
    """Per-process state for one network: float layers, composed maps, pattern outcomes."""

    def __init__(self, network: ReLUNetwork) -> None:
        self.network = network
        self.hidden = [k for k, layer in enumerate(network.layers[:-1])]
        self.widths = [layer.shape[0] for layer in network.layers]
        # per hidden layer: byte offset of its packed bits (8-byte aligned blocks)
        self.offsets = []
        off = 0
        for k in range(network.depth - 1):
            self.offsets.append(off)
            off += 8 * ((self.widths[k] + 63) // 64)
        self.nbytes = max(off, 8)
        self._layer_float: dict[int, _FloatAffine] = {}
        # the filter reasons about ReLU patterns: hidden identity layers go to the exact path
        self.float_ok = all(layer.activation == "relu" for layer in network.layers[:-1])
        self.prefix_maps: dict[tuple[int, bytes], tuple[flint.fmpq_mat, flint.fmpq_mat]] = {}
        self.prefix_float: dict[tuple[int, bytes], _FloatAffine] = {}
        self.patterns: dict[bytes, "_PatternInfo"] = {}
        self.zero_chain: dict[int, list[list[flint.fmpq]]] = {}

    # exact composed maps -------------------------------------------------------------
    def prefix_map(self, l: int, prefix: bytes) -> tuple[flint.fmpq_mat, flint.fmpq_mat]:
        """Exact ``(A, c)`` with ``z_l = A x + c`` for points whose signs on layers ``< l`` are ``prefix``."""
        key = (l, prefix)
        hit = self.prefix_maps.get(key)
        if hit is not None:
            return hit
        layer = self.network.layers[l]
        if l == 0:
            out = (layer.W, layer.b)
        else:
            A, c = self.prefix_map(l - 1, prefix[: self.offsets[l - 1]])
            bits = self.layer_bits(prefix, l - 1)
            m = len(bits)
            D = flint.fmpq_mat(m, m, [1 if (i == j and bits[i]) else 0 for i in range(m) for j in range(m)])
            WD = layer.W * D
            out = (WD * A, WD * c + layer.b)
        if len(self.prefix_maps) > 100_000:
            self.prefix_maps.clear()
            self.prefix_float.clear()
        self.prefix_maps[key] = out
        return out

    def layer_float(self, l: int) -> _FloatAffine:
        """Float image of layer ``l`` itself (for the running kernel), computed on first use."""
        hit = self._layer_float.get(l)
        if hit is None:
            layer = self.network.layers[l]
            hit = self._layer_float[l] = _float_affine(layer.W, layer.b)
        return hit

    def prefix_float_map(self, l: int, prefix: bytes) -> _FloatAffine:
        key = (l, prefix)
        hit = self.prefix_float.get(key)
        if hit is None:
            hit = self.prefix_float[key] = _float_affine(*self.prefix_map(l, prefix))
        return hit

    def layer_bits(self, pattern: bytes, l: int) -> list[bool]:
        m = self.widths[l]
        block = np.frombuffer(pattern, dtype=np.uint8, count=(m + 7) // 8, offset=self.offsets[l])
        return np.unpackbits(block, count=m).astype(bool).tolist()

    def chain_after_zero(self, l: int) -> list[list[flint.fmpq]]:
        """Exact pre-activations of layers ``l+1 .. L-1`` when the activation after layer ``l`` is 0."""
        hit = self.zero_chain.get(l)
        if hit is None:
            layers = self.network.layers
            h = flint.fmpq_mat(layers[l].shape[0], 1)
            hit = []
            for j in range(l + 1, len(layers)):
                z = layers[j].W * h + layers[j].b
                hit.append(z.entries())
                h = flint.fmpq_mat(z.nrows(), 1, [v if v > 0 else 0 for v in z.entries()])
            self.zero_chain[l] = hit
        return hit

    def pattern(self, key: bytes) -> "_PatternInfo":
        hit = self.patterns.get(key)
        if hit is None:
            hit = self.patterns[key] = self._pattern(key)
        return hit

    def _pattern(self, key: bytes) -> "_PatternInfo":
        n_hidden = self.network.depth - 1
        status = []  # per hidden layer: "pos" (all > 0), "neg" (all < 0), "ge", "le", "zero", "mixed"
        term = None
        for l in range(n_hidden):
            bits = self.layer_bits(key, l)
            if all(bits):
                status.append("pos")
            elif not any(bits):
                status.append("neg")
                term = l
                break
            else:
                status.append("mixed")
        if term is not None:
            chain = self.chain_after_zero(term)
            for vals in chain[:-1]:
                ge, le = all(v >= 0 for v in vals), all(v <= 0 for v in vals)
                status.append("zero" if ge and le else "ge" if ge else "le" if le else "mixed")
            return _PatternInfo(term, tuple(status), tuple(chain[-1]), None, None)
        L = self.network.depth - 1
        A, c = self.prefix_map(L, key[: self.offsets[L - 1] + 8 * ((self.widths[L - 1] + 63) // 64)]
                               if L > 0 else b"")
        if all(v == 0 for v in A.entries()):
            return _PatternInfo(None, tuple(status), tuple(c.entries()), None, None)
        return _PatternInfo(None, tuple(status), None, A, c)


@dataclass(frozen=True)
class _PatternInfo:
    term: int | None                 # first hidden layer whose activation is exactly 0
    status: tuple[str, ...]          # per hidden layer
    constant: tuple[flint.fmpq, ...] | None  # the output when the linear part is zero
    A: flint.fmpq_mat | None         # else the output map
    c: flint.fmpq_mat | None


_PAYLOADS: dict[int, tuple[Any, bytes, str]] = {}


def _payload(network: ReLUNetwork) -> tuple[bytes, str]:
    """The pickled network and its content hash (cached per network object)."""
    import weakref

    hit = _PAYLOADS.get(id(network))
    if hit is not None and hit[0]() is network:
        return hit[1], hit[2]
    payload = pickle.dumps(network)
    token = hashlib.sha256(payload).hexdigest()
    if len(_PAYLOADS) > 64:
        _PAYLOADS.clear()
    _PAYLOADS[id(network)] = (weakref.ref(network), payload, token)
    return payload, token


def _prepared(token: str, payload: bytes) -> _Prepared:
    """The per-process state of a pickled network, by content hash."""
    hit = _NETWORKS.get(token)
    if hit is None:
        if len(_NETWORKS) > 8:
            _NETWORKS.clear()
        hit = _NETWORKS[token] = _Prepared(pickle.loads(payload))
    return hit


_LOCAL: dict[int, tuple[Any, _Prepared]] = {}


def _prepared_local(network: ReLUNetwork) -> _Prepared:
    """The per-process state of a network object of this process (no pickling)."""
    import weakref

    hit = _LOCAL.get(id(network))
    if hit is not None and hit[0]() is network:
        return hit[1]
    if len(_LOCAL) > 8:
        _LOCAL.clear()
    prep = _Prepared(network)
    _LOCAL[id(network)] = (weakref.ref(network), prep)
    return prep


# ---------------------------------------------------------------------------- chunk worker
@dataclass
class _ChunkResult:
    start: int
    n_points: int
    n_float: int = 0
    n_exact: int = 0
    patterns: dict[bytes, int] = field(default_factory=dict)
    class_counts: list[int] = field(default_factory=list)
    class_first: list[int] = field(default_factory=list)
    failure: Counterexample | None = None
    composed_evaluations: int = 0
    structured_evaluations: int = 0
    running_rows: int = 0


def _task_from_state(state: dict) -> "_ChunkTask":
    task = _ChunkTask.__new__(_ChunkTask)
    task.__dict__.update(state)
    task._network = None
    return task


class _ChunkTask:
    """The picklable chunk worker: ``task(chunk) -> _ChunkResult`` (see :func:`verify_certified`)."""

    def __init__(self, network: ReLUNetwork, label_index: dict, targets: list, collapse: list,
                 n_plan: int, tuning: dict) -> None:
        self._network = network
        self.label_index = label_index
        self.targets = [tuple(str(v) for v in t) for t in targets]  # picklable exact strings
        self.collapse = collapse      # class id -> collapse layer (0-based) or -1
        self.n_plan = n_plan
        self.tuning = tuning

    def __reduce__(self):
        # shipped to another process: the network travels pickled once (bytes) with a content
        # hash, so each process unpickles it and composes its exact maps only once
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        if self._network is not None:
            state["payload"], state["token"] = _payload(self._network)
        else:
            state["payload"], state["token"] = self.payload, self.token
        return (_task_from_state, (state,))

    # -- helpers ---------------------------------------------------------------------
    @property
    def prep(self) -> _Prepared:
        if self._network is not None:
            return _prepared_local(self._network)
        return _prepared(self.token, self.payload)

    def _targets_q(self) -> list[tuple[flint.fmpq, ...]]:
        t = self.__dict__.get("_tq")
        if t is None:
            from symtrunc.exact.rational import to_q

            t = self.__dict__["_tq"] = [tuple(to_q(v) for v in row) for row in self.targets]
        return t

    def _class_ids(self, labels: np.ndarray, start: int) -> np.ndarray:
        labels = np.asarray(labels)
        try:
            uniq, inv = np.unique(labels, return_inverse=True)
            uniq = uniq.tolist()
        except TypeError:  # unorderable objects
            seen: dict = {}
            inv = np.array([seen.setdefault(v, len(seen)) for v in labels.tolist()], dtype=np.intp)
            uniq = list(seen)
        ids = np.empty(len(uniq), dtype=np.intp)
        for j, v in enumerate(uniq):
            cid = self.label_index.get(v)
            if cid is None:
                bad = int(np.argmax(inv == j))
                raise DataError(f"point {start + bad} has label {v!r}, which the network does not know "
                                f"(known labels: {', '.join(map(repr, self.label_index))})")
            ids[j] = cid
        return ids[np.asarray(inv).ravel()]

    def __call__(self, chunk: Any) -> _ChunkResult:
        prep = self.prep
        net = prep.network
        X = chunk.X
        n = len(chunk)
        res = _ChunkResult(int(chunk.start), n)
        if X.ndim != 2 or X.shape[1] != net.input_dim:
            raise DataError(f"points have dimension {X.shape[1] if X.ndim == 2 else '?'}, "
                            f"the network expects {net.input_dim}")
        cls = self._class_ids(chunk.labels, chunk.start)
        n_cls = len(self.targets)
        res.class_counts = np.bincount(cls, minlength=n_cls).tolist()
        first = np.full(n_cls, -1, dtype=np.int64)
        u, fi = np.unique(cls, return_index=True)
        first[u] = fi + chunk.start
        res.class_first = first.tolist()
        if n == 0:
            return res
        failing: list[int] = []  # chunk rows known to fail some check
        P = np.zeros((n, prep.nbytes), dtype=np.uint8)
        exact_rows = np.arange(n)
        if prep.float_ok and not (self.tuning["shortcut"] and self._fits_float(X)):
            floats = _FloatInput(X)
            if floats.ok:
                with np.errstate(over="ignore", invalid="ignore", under="ignore"):
                    amb = self._filter(prep, floats, P, res)
                exact_rows = np.flatnonzero(amb)
                cert_rows = np.flatnonzero(~amb)
                res.n_float = int(cert_rows.size)
                if cert_rows.size:
                    self._check_patterns(prep, X, P, cert_rows, cls, failing, res)
        if exact_rows.size:
            res.n_exact = int(exact_rows.size)
            self._check_exact(prep, X, exact_rows, cls, P, failing)
            _count_patterns(P, exact_rows, res.patterns)
        if failing:
            row = min(failing)
            res.failure = self._explain(prep, X[row:row + 1], int(cls[row]), int(chunk.start) + row)
        return res

    def _fits_float(self, X: np.ndarray) -> bool:
        """Whether the exact integer evaluation of this chunk runs entirely in float64."""
        if X.dtype == object or X.dtype.kind not in "biuf" or X.dtype.itemsize > 8:
            return False
        if X.dtype.kind in "biu":
            s, bound = 1, (max(abs(int(X.min())), abs(int(X.max()))) if X.size else 0)
        else:
            try:
                A, s = integer_points(X)
            except DataError:
                return False
            if not isinstance(A, np.ndarray):
                return False
            bound = int(np.abs(A).max()) if A.size else 0
        key = (int(s), bound.bit_length())
        memo = self.__dict__.setdefault("_fits_memo", {})
        if key not in memo:
            bounds = [2 ** key[1]] * X.shape[1]  # a uniform bound: the cheap a-priori recursion
            scales = (int(s),) * X.shape[1]
            fits = True
            for layer in self.prep.network.layers:
                plan = _integer_layer(layer, scales)
                bounds = plan.bounds(bounds)
                if plan.Gt_float is None or max(bounds, default=0) > EXACT_FLOAT_BOUND:
                    fits = False
                    break
                scales = plan.scales
            memo[key] = fits
        return memo[key]

    # -- the float filter -------------------------------------------------------------
    def _filter(self, prep: _Prepared, floats: "_FloatInput", P: np.ndarray, res: _ChunkResult) -> np.ndarray:
        """Certify activation patterns; fills ``P`` (packed bits) and returns the ambiguous mask.

        Works on blocks of ``tuning["block"]`` rows with preallocated buffers, so that the float
        arrays stay in cache and no block-sized array is allocated per layer (fresh multi-MB
        allocations cost page faults that would dominate the arithmetic).
        """
        n = floats.X.shape[0]
        amb = np.zeros(n, dtype=bool)
        B = max(int(self.tuning["block"]), 1)
        M = floats.X.shape[1]
        w = max(prep.widths[:-1] + [M + 1])
        scratch = _Scratch(min(B, n), w, M + 1)
        with _blas_threads(self.tuning["threads"]):
            for a in range(0, n, B):
                Xb, mx, ex, E0 = floats.block(a, min(a + B, n))
                self._filter_block(prep, a, Xb, mx, ex, E0, P, amb, res, scratch)
        return amb

    def _filter_block(self, prep, a0, Xb, ma, ea, E0a, P, amb, res, scratch) -> None:
        tun = self.tuning
        nb, M = Xb.shape
        idx = np.arange(a0, a0 + nb)  # chunk rows of the active points
        X1 = scratch.x(0, nb)   # homogeneous inputs: the bias rides in the matmul
        X1[:, :M] = Xb
        X1[:, M] = 1.0
        xside = 0
        gid = np.zeros(nb, dtype=np.int64)   # prefix group of each active point
        reps = np.array([a0], dtype=np.int64)  # a chunk row representing each group
        prev = None  # (Z, bound, pos) of the previous layer, for the running kernel
        mode = tun["composed"]
        for l in range(prep.network.depth - 1):
            if idx.size == 0:
                break
            na, m = idx.size, prep.widths[l]
            ngroups = reps.size
            if l == 0 or mode == "always" or (mode == "auto" and ngroups <= tun["composed_max_groups"]):
                composed = np.ones(ngroups, dtype=bool)
            elif mode == "never":
                composed = np.zeros(ngroups, dtype=bool)
            else:
                composed = np.bincount(gid, minlength=ngroups) >= tun["composed_min_group"]
            maps = {int(g): prep.prefix_float_map(l, P[reps[g]].tobytes()[: prep.offsets[l]])
                    for g in np.flatnonzero(composed)}
            res.composed_evaluations += len(maps)
            if ngroups == 1 and composed[0] and maps[0].ok:
                # the common case: one prefix group, one matmul (or the rank-one kernel), a
                # per-point bound
                fa = maps[0]
                st = fa.struct if tun["structured"] else None
                if st is not None:
                    res.structured_evaluations += 1
                    Xv = X1[:, :M]
                    t = Xv @ st.g
                    Z = np.multiply(Xv, st.alpha, out=scratch.z(na, m))
                    Z += t[:, None]
                    Z += st.c
                    bound = ma * st.k1
                    if ea is not None:
                        bound += ea * st.k2
                    bound += st.T
                else:
                    Z = np.matmul(X1, fa.Wt1, out=scratch.z(na, m))
                    bound = _row_bound(fa, ma, ea)
                absZ = np.abs(Z, out=scratch.a(na, m))
                ok = (np.minimum.reduce(absZ.T, axis=0) > bound) & (bound < OVERFLOW_GUARD)
            else:
                Z = np.empty((na, m))
                bound = np.empty((na, m))
                done = np.zeros(na, dtype=bool)
                for g, fa in maps.items():
                    if not fa.ok:
                        continue
                    rows = np.flatnonzero(gid == g)
                    Z[rows] = X1[rows] @ fa.Wt1
                    bound[rows] = _row_bound(fa, ma[rows], None if ea is None else ea[rows])[:, None]
                    done[rows] = True
                rr = np.flatnonzero(~done)
                if rr.size:
                    res.running_rows += int(rr.size)
                    fa = prep.layer_float(l)
                    if not fa.ok or (l > 0 and prev is None):  # no float route: exact fallback
                        Z[rr], bound[rr] = 0.0, np.inf
                    elif l == 0:
                        z, e = _running(fa, X1[rr, :M], None if E0a is None else E0a[rr], True)
                        Z[rr], bound[rr] = z, e
                    else:
                        pZ, pB, ppos = prev
                        E = (pB[rr, None] if pB.ndim == 1 else pB[rr]) * ppos[rr]
                        z, e = _running(fa, np.maximum(pZ[rr], 0.0), E, False)
                        Z[rr], bound[rr] = z, e
                ok = _certified_matrix(Z, bound)
            if not ok.all():
                self._second_chance(prep, l, P, idx, X1, ma, ea, E0a, gid, reps, maps, ok, Z, bound, res)
                amb[idx[~ok]] = True
            pos = np.greater(Z, 0.0, out=scratch.p(na, m))
            packed = np.packbits(pos, axis=1)
            nw = (m + 63) // 64
            if packed.shape[1] != 8 * nw:
                padded = np.zeros((na, 8 * nw), dtype=np.uint8)
                padded[:, :packed.shape[1]] = packed
                packed = padded
            words = packed.view(np.uint64)
            off = prep.offsets[l]
            P[idx, off:off + 8 * nw] = packed
            keep = ok & (words != 0).any(axis=1) if nw > 1 else ok & (words[:, 0] != 0)
            gid, reps = _regroup(gid, words, keep, idx)
            need_prev = mode == "never" or (mode == "auto" and reps.size > tun["composed_max_groups"])
            if need_prev:  # the running kernel of the next layer continues from these floats
                prev = (Z.copy(), bound.copy(), pos.copy()) if keep.all() else (Z[keep], bound[keep], pos[keep])
            else:
                prev = None
            if not keep.all():
                nk = int(np.count_nonzero(keep))
                xside = 1 - xside
                X1 = np.compress(keep, X1, axis=0, out=scratch.x(xside, nk))
                idx, ma = idx[keep], ma[keep]
                ea = None if ea is None else ea[keep]
                E0a = None if E0a is None else E0a[keep]

    def _second_chance(self, prep, l, P, idx, X1, ma, ea, E0a, gid, reps, maps, ok, Z, bound, res) -> None:
        """Uncertified points: per-neuron bound of the composed map, then its tight (matmul) bound.

        Updates ``Z``, ``bound`` (a per-point bound is replaced by the row maximum of the
        per-neuron bound, still an upper bound) and ``ok`` in place.
        """
        fail = np.flatnonzero(~ok)
        groups = np.unique(gid[fail])
        if groups.size > self.tuning["retry_max_groups"] or self.tuning["composed"] == "never":
            return
        M = X1.shape[1] - 1
        for g in groups.tolist():
            rows = fail[gid[fail] == g]
            fa = maps.get(g)
            if fa is None:
                fa = prep.prefix_float_map(l, P[reps[g]].tobytes()[: prep.offsets[l]])
                res.composed_evaluations += 1
            if not fa.ok:
                continue
            # per-neuron outer bound
            z = X1[rows] @ fa.Wt1
            a = ma[rows] * fa.k2
            if ea is not None:
                a += ea[rows] * fa.k1
            e = np.multiply.outer(a, fa.R)
            e += fa.T
            good = _certified_matrix(z, e)
            if not good.all():  # the tight bound: |Ã| |x̃| by a matmul
                bad = ~good
                zt, et = _running(fa, X1[rows[bad], :M], None if E0a is None else E0a[rows[bad]], True)
                good_t = _certified_matrix(zt, et)
                z[bad], e[bad] = zt, et
                good[bad] = good_t
            if good.any():
                r = rows[good]
                Z[r] = z[good]
                bound[r] = e[good].max(axis=1) if bound.ndim == 1 else e[good]
                ok[r] = True

    # -- checks on certified patterns ---------------------------------------------------
    def _check_patterns(self, prep, X, P, rows, cls, failing, res) -> None:
        keys, inv = _unique_rows(P[rows])
        tq = self._targets_q()
        nonconst: list[tuple[_PatternInfo, np.ndarray]] = []
        for g, key in enumerate(keys):
            grp = rows[inv == g]
            res.patterns[key] = res.patterns.get(key, 0) + int(grp.size)
            info = prep.pattern(key)
            classes = np.unique(cls[grp])
            for cid in classes.tolist():
                if not self._pattern_invariants_ok(info, cid) or (
                        info.constant is not None and tuple(info.constant) != tq[cid]):
                    failing.append(int(grp[cls[grp] == cid].min()))
            if info.constant is None:
                nonconst.append((info, grp))
        if len(nonconst) > self.tuning["batch_exact_groups"]:
            allrows = np.concatenate([g for _, g in nonconst])
            self._check_outputs_exact(prep, X, allrows, cls, failing)
            return
        for info, grp in nonconst:
            out = _last(integer_layers([Layer(info.A, info.c, "identity")], X[grp]))
            self._compare_outputs(out, grp, cls, failing)

    def _pattern_invariants_ok(self, info: _PatternInfo, cid: int) -> bool:
        c = self.collapse[cid] if self.collapse else -1
        if c < 0:
            return True
        for k in range(self.n_plan):
            s = info.status[k]
            if k == c:
                if s not in ("neg", "le", "zero"):
                    return False
            elif s not in ("pos", "ge", "zero"):
                return False
        return True

    def _compare_outputs(self, out, rows, cls, failing) -> None:
        tq = self._targets_q()
        sub = cls[rows]
        for cid in np.unique(sub).tolist():
            sel = np.flatnonzero(sub == cid)
            part = _take(out, sel)
            ok = part.equals(tq[cid])
            if not ok.all():
                failing.append(int(rows[sel[~ok]].min()))

    def _check_outputs_exact(self, prep, X, rows, cls, failing) -> None:
        out = _last(integer_layers(prep.network, X[rows]))
        self._compare_outputs(out, rows, cls, failing)

    # -- exact path ---------------------------------------------------------------------
    def _check_exact(self, prep, X, rows, cls, P, failing) -> None:
        """Exact evaluation of ``rows``: invariants, outputs, and their patterns (for statistics)."""
        net = prep.network
        sub = cls[rows]
        own = np.array([self.collapse[c] for c in sub.tolist()], dtype=np.int64) if self.collapse \
            else np.full(rows.size, -1, dtype=np.int64)
        alive = np.ones(rows.size, dtype=bool)
        bad = np.zeros(rows.size, dtype=bool)
        for k, Z in integer_layers(net, X[rows]):
            if k == net.depth - 1:
                ok = np.ones(rows.size, dtype=bool)
                tq = self._targets_q()
                for cid in np.unique(sub).tolist():
                    sel = np.flatnonzero(sub == cid)
                    ok[sel] = _take(Z, sel).equals(tq[cid])
                bad |= ~ok
                break
            S = Z.signs()
            pos = S > 0
            if k < self.n_plan:
                mine = own == k
                bad |= (mine & (S > 0).any(axis=1)) | (~mine & (own >= 0) & (S < 0).any(axis=1))
            pos &= alive[:, None]
            packed = np.packbits(pos, axis=1)
            off = prep.offsets[k]
            P[rows, off:off + packed.shape[1]] = packed
            alive &= pos.any(axis=1)
        if bad.any():
            failing.append(int(rows[bad].min()))

    def _explain(self, prep, x: np.ndarray, cid: int, point: int) -> Counterexample:
        """The first failing check of one point, with its exact value (exact evaluation)."""
        net = prep.network
        label = _plain(self._label_of(cid))
        own = self.collapse[cid] if self.collapse else -1
        for k, Z in integer_layers(net, x):
            vals = Z.to_fmpq_mat().entries()
            if k == net.depth - 1:
                t = self._targets_q()[cid]
                for r, (v, w) in enumerate(zip(vals, t)):
                    if v != w:
                        return Counterexample("zero loss", point, label, k + 1, r, str(v), str(w))
                break
            if own >= 0 and k < self.n_plan:
                for r, v in enumerate(vals):
                    if k == own and v > 0:
                        return Counterexample("collapse sign", point, label, k + 1, r, str(v), "<= 0")
                    if k != own and v < 0:
                        return Counterexample("identity sign", point, label, k + 1, r, str(v), ">= 0")
        raise AssertionError(f"point {point} was flagged but passes every exact check")  # pragma: no cover

    def _label_of(self, cid: int) -> Any:
        for v, c in self.label_index.items():
            if c == cid:
                return v
        return cid  # pragma: no cover


# ---------------------------------------------------------------------------- helpers
def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _last(it):
    out = None
    for _, out in it:
        pass
    return out


def _take(S, sel: np.ndarray):
    """Rows ``sel`` of a :class:`~symtrunc.exact.evaluate.Scaled`."""
    from symtrunc.exact.evaluate import Scaled

    N = S.numerators
    if isinstance(N, np.ndarray):
        return Scaled(N[sel], S.scales)
    m = N.ncols()
    rows = N.tolist()
    return Scaled(flint.fmpz_mat(len(sel), m, [v for i in sel.tolist() for v in rows[i]]), S.scales)


_HASH_MULT = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                       0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
                      dtype=np.uint64)


def _regroup(gid: np.ndarray, words: np.ndarray, keep: np.ndarray, idx: np.ndarray):
    """New prefix groups of the kept points: equal old group and equal layer bits (exactly)."""
    gid_k, words_k = gid[keep], words[keep]
    if gid_k.size == 0:
        return gid_k, np.zeros(0, dtype=np.int64)
    if (gid_k == gid_k[0]).all() and (words_k == words_k[0]).all():
        return np.zeros(gid_k.size, dtype=np.int64), idx[keep][:1].astype(np.int64)
    nw = words_k.shape[1]
    mult = np.resize(_HASH_MULT, nw)
    h = gid_k.astype(np.uint64) * np.uint64(0x2545F4914F6CDD1D)
    h ^= (words_k * mult).sum(axis=1, dtype=np.uint64)
    h ^= h >> np.uint64(29)
    _, first, inv = np.unique(h, return_index=True, return_inverse=True)
    inv = inv.ravel()
    same = (gid_k == gid_k[first][inv]) & (words_k == words_k[first][inv]).all(axis=1)
    if not same.all():  # a hash collision: group exactly instead
        keyarr = np.concatenate([gid_k[:, None].astype(np.uint64), words_k], axis=1)
        _, first, inv = np.unique(keyarr, axis=0, return_index=True, return_inverse=True)
        inv = inv.ravel()
    return inv.astype(np.int64), idx[keep][first].astype(np.int64)


def _unique_rows(B: np.ndarray) -> tuple[list[bytes], np.ndarray]:
    """Distinct rows of a uint8 matrix (exactly) as bytes, and the group of each row.

    Rows are hashed (64-bit words, multiply-xor) and grouped by hash, then every row is compared
    with its group's first row; on a collision the rows are grouped by sorting them instead.
    """
    n = B.shape[0]
    if n == 0:
        return [], np.zeros(0, dtype=np.intp)
    B = np.ascontiguousarray(B)
    if (B == B[0]).all():
        return [B[0].tobytes()], np.zeros(n, dtype=np.intp)
    if B.shape[1] % 8 == 0:
        W = B.view(np.uint64)
        h = (W * np.resize(_HASH_MULT, W.shape[1])).sum(axis=1, dtype=np.uint64)
        h ^= h >> np.uint64(31)
        _, first, inv = np.unique(h, return_index=True, return_inverse=True)
        inv = inv.ravel()
        if (W == W[first][inv]).all():
            return [B[f].tobytes() for f in first.tolist()], inv
    V = B.view(np.dtype((np.void, B.shape[1]))).ravel()
    uniq, inv = np.unique(V, return_inverse=True)
    return [u.tobytes() for u in uniq], inv.ravel()


def _count_patterns(P: np.ndarray, rows: np.ndarray, out: dict) -> None:
    keys, inv = _unique_rows(P[rows])
    counts = np.bincount(inv, minlength=len(keys))
    for key, c in zip(keys, counts.tolist()):
        out[key] = out.get(key, 0) + c


class _FloatInput:
    """The chunk's points for the float filter, block by block: ``block(a, b)`` returns
    ``(X̃, m, e, E0)``: float64 points, per-point ``max |x̃|``, per-point max input error (or
    ``None``) and entrywise input errors (or ``None``).

    Numeric arrays are converted block by block (no chunk-sized temporaries); their values
    are exact in float64 when integers are at most ``2^53`` in absolute value (else the
    rounding error ``|x - fl(x)| ≤ 2u|fl(x)|`` is carried). Exact rationals are rounded
    once, and each rounding error is bounded exactly.
    """

    def __init__(self, X: np.ndarray) -> None:
        self.X = X
        self.pre = None
        self.ok = True
        self.unsigned = X.dtype.kind in "bu"
        kind = X.dtype.kind
        if X.dtype != object and kind in "biu":
            hi = max(abs(int(X.min())), abs(int(X.max()))) if X.size else 0
            if hi > EXACT_FLOAT_BOUND:
                Xf = X.astype(np.float64)
                if np.abs(Xf).max() > RANGE_HI:
                    self.ok = False
                    return
                E0 = np.abs(Xf) * 2.0**-52  # |x - fl(x)| <= 2u|fl(x)|, exact power-of-two scaling
                self.pre = (Xf, np.abs(Xf).max(axis=1), E0.max(axis=1), E0)
            return
        if X.dtype != object and kind == "f" and X.dtype.itemsize <= 8:
            if X.size and max(-float(X.min()), float(X.max())) > RANGE_HI:
                self.ok = False
            return
        # exact rationals (or long doubles): round, and bound each rounding error exactly
        from symtrunc.exact.rational import to_q

        vals = [to_q(v) for v in X.ravel().tolist()]
        fl = [float(v) for v in vals]
        err = [_up(abs(v - _q(f))) if _q(f) != v else 0.0 for v, f in zip(vals, fl)]
        Xf = np.array(fl, dtype=np.float64).reshape(X.shape)
        if not np.all(np.isfinite(Xf)) or (Xf.size and np.abs(Xf).max() > RANGE_HI):
            self.ok = False
            return
        E0 = np.array(err, dtype=np.float64).reshape(X.shape)
        mx = np.abs(Xf).max(axis=1) if Xf.shape[1] else np.zeros(Xf.shape[0])
        if not E0.any():
            self.pre = (Xf, mx, None, None)
        else:
            self.pre = (Xf, mx, E0.max(axis=1), E0)

    def block(self, a: int, b: int):
        if self.pre is not None:
            Xf, mx, ex, E0 = self.pre
            return Xf[a:b], mx[a:b], None if ex is None else ex[a:b], None if E0 is None else E0[a:b]
        Xb = self.X[a:b]
        if Xb.shape[1] == 0:
            return Xb.astype(np.float64), np.zeros(b - a), None, None
        if self.unsigned:
            mx = Xb.max(axis=1).astype(np.float64)
        else:  # max(-min, max) in float64: no overflow of abs() on the most negative integer
            mx = np.maximum(-Xb.min(axis=1).astype(np.float64), Xb.max(axis=1).astype(np.float64))
        return Xb, mx, None, None


# ---------------------------------------------------------------------------- driver
def _all_labels(source: Any) -> list:
    """Sorted distinct labels of a source (the data's classes, as :class:`LabeledData` orders them)."""
    from symtrunc.data.stream import DaskSource, ShardSource

    if isinstance(source, ShardSource):
        parts = [np.asarray(s.labels) for s in source.sources]
    elif isinstance(source, DaskSource):
        lab = source.labels
        if type(lab).__module__.startswith("dask"):
            import dask.array as da

            lab = da.unique(lab).compute()
        parts = [np.asarray(lab)]
    else:
        parts = [np.asarray(source.labels)]
    present: set = set()
    for p in parts:
        try:
            present.update(np.unique(p).tolist())
        except TypeError:
            present.update(p.tolist())
    try:
        return sorted(present)
    except TypeError:
        return sorted(present, key=repr)


def verify_certified(
    network: ReLUNetwork,
    source: Any,
    *,
    labels: Any = None,
    chunk_size: int = 65536,
    client: Any = None,
    progress: bool | None = False,
    label_matrix: Any = None,
    invariants: bool = True,
    tuning: dict | None = None,
) -> Certificate:
    """Prove zero loss (and the construction's invariants) with a certified float filter.

    Same guarantee as :func:`symtrunc.verify`, for any number of points, in bounded memory:
    every activation sign used is either certified by a rigorous float64 error bound or
    computed exactly, and every output is compared exactly (see the module docstring).

    Parameters
    ----------
    network : ReLUNetwork
    source : array, LabeledData, path (.npy, .npz, .csv), shard pattern or dask array
        Anything :func:`symtrunc.data.stream.open_source` accepts; numeric arrays are read exactly.
    labels : array-like or path, optional
        Labels for array sources (``.npy`` files default to their last column).
    chunk_size : int
        Points per chunk (memory is proportional to ``chunk_size × width``).
    client : dask.distributed.Client, optional
        Run the chunks on this cluster (the chunk worker is picklable).
    progress : bool or None
        tqdm progress bar (``None``: only on terminals).
    label_matrix : array-like, optional
        Targets instead of the network's own: column ``j`` for the ``j``-th label in sorted order.
    invariants : bool
        Also check the construction's layer invariants when its metadata give them.
    tuning : dict, optional
        Advanced knobs (tests, benchmarks): ``composed`` (``"auto"``, ``"always"``,
        ``"never"``), ``shortcut`` (bool), ``composed_min_group``, ``composed_max_groups``,
        ``retry_max_groups``, ``batch_exact_groups``.

    Returns
    -------
    Certificate
        ``method == "certified"``; ``extra`` holds the statistics: ``points_float_certified``,
        ``points_exact``, ``patterns``, ``chunks``, ``chunk_size``, ``seconds``.

    Raises
    ------
    VerificationError
        With a :class:`~symtrunc.verification.certificate.Counterexample`: the failing point with the
        smallest index in the source, its label, its first failing layer and neuron, the exact
        value and what was expected (exact verification may name another failing point).
    DataError
        If the data do not fit the network (dimension, unknown labels).

    Notes
    -----
    Labels are matched to the network's classes by value. When the network has classes, the
    data need not contain all of them; the invariants are then checked for the points present
    (exact :func:`symtrunc.verify` checks invariants only when the data have exactly the
    network's classes). ``n_classes`` counts the labels present. The costs are all ``"0"``:
    they are exactly zero once zero loss holds.
    """
    from symtrunc.data.stream import map_chunks, open_source
    from symtrunc.loss import targets_for
    from symtrunc.verification.exact import collapse_plan

    t0 = time.perf_counter()
    tun = dict(DEFAULT_TUNING)
    if tuning:
        unknown = set(tuning) - set(tun)
        if unknown:
            raise DataError(f"unknown tuning option(s): {', '.join(sorted(unknown))}")
        tun.update(tuning)
    src = source if hasattr(source, "chunks") and hasattr(source, "n_points") else open_source(source, labels)
    if src.dim != network.input_dim:
        raise DataError(f"the network expects inputs of dimension {network.input_dim}, "
                        f"the data have dimension {src.dim}")
    if chunk_size < 1:
        raise DataError("chunk_size must be positive")
    if network.classes and label_matrix is None:
        classes = list(network.classes)
    else:
        classes = _all_labels(src)
        if not classes:
            raise DataError("the data have no points")
    fake = SimpleNamespace(M=src.dim, Q=len(classes), classes=tuple(classes), Y=identity(len(classes)))
    targets = targets_for(network, fake, label_matrix)
    plan = collapse_plan(network, fake) if invariants else None
    collapse = [-1] * len(classes)
    if plan is not None:
        for k, (j, _) in enumerate(plan):
            collapse[j] = k
    task = _ChunkTask(network, {c: j for j, c in enumerate(classes)}, targets,
                      collapse if plan is not None else [], len(plan) if plan else 0, tun)
    results = map_chunks(task, src, chunk_size=chunk_size, client=client, progress=progress,
                         desc="certified")
    fails = [r.failure for r in results if r.failure is not None]
    if fails:
        c = min(fails, key=lambda f: (f.point, f.layer))
        raise VerificationError(str(c), c)
    N = sum(r.n_points for r in results)
    counts = np.zeros(len(classes), dtype=np.int64)
    first = np.full(len(classes), -1, dtype=np.int64)
    patterns: dict[bytes, int] = {}
    for r in results:
        counts += np.asarray(r.class_counts, dtype=np.int64)
        for j, f in enumerate(r.class_first):
            if f >= 0 and (first[j] < 0 or f < first[j]):
                first[j] = f
        for key, c in r.patterns.items():
            patterns[key] = patterns.get(key, 0) + c
    present = [j for j in range(len(classes)) if counts[j] > 0]
    checks = _layer_checks(network, classes, plan, counts, first, N)
    n_float = sum(r.n_float for r in results)
    n_exact = sum(r.n_exact for r in results)
    return Certificate(
        zero_loss=True,
        n_points=N,
        input_dim=network.input_dim,
        n_classes=len(present),
        widths=network.widths,
        invariants_checked=plan is not None,
        layers=tuple(checks),
        costs=dict(ZERO_COSTS),
        theorem=str((network.construction or {}).get("theorem", "")),
        method="certified",
        extra={
            "method": "certified",
            "points_float_certified": n_float,
            "points_exact": n_exact,
            "patterns": len(patterns),
            "chunks": len(results),
            "chunk_size": chunk_size,
            "composed_evaluations": sum(r.composed_evaluations for r in results),
            "structured_evaluations": sum(r.structured_evaluations for r in results),
            "running_rows": sum(r.running_rows for r in results),
            "seconds": round(time.perf_counter() - t0, 6),
        },
    )


def _layer_checks(network, classes, plan, counts, first, N) -> list[LayerCheck]:
    """Per-layer summary; also the data-independent "collapse point" check of the metadata."""
    from symtrunc.geometry.truncation import relu

    checks: list[LayerCheck] = []
    if plan is None:
        for k, layer in enumerate(network.layers):
            kind = "output" if k == network.depth - 1 else ("truncation" if layer.activation == "relu" else "affine")
            checks.append(LayerCheck(k + 1, kind))
        return checks
    check_points = not bool((network.construction or {}).get("widths_shrink"))
    cumulative = network.cumulative()
    reps: dict[int, flint.fmpq_mat] = {}
    order: list[int] = []
    for k, layer in enumerate(network.layers):
        for jj in order:
            z = layer.W * reps[jj] + layer.b
            reps[jj] = relu(z) if layer.activation == "relu" else z
        if k >= len(plan):
            kind = "output" if k == network.depth - 1 else ("truncation" if layer.activation == "relu" else "affine")
            checks.append(LayerCheck(k + 1, kind))
            continue
        jc, _ = plan[k]
        reps[jc] = flint.fmpq_mat(layer.shape[0], 1)
        order.append(jc)
        fixed = []
        if check_points:
            Wc, bc = cumulative[k]
            for jj, p in plan[: k + 1]:
                if counts[jj] == 0:
                    continue
                want = Wc * p + bc
                if reps[jj] != want:
                    r = next(i for i in range(want.nrows()) if reps[jj][i, 0] != want[i, 0])
                    c = Counterexample("collapse point", int(first[jj]), _plain(classes[jj]), k + 1, r,
                                       str(reps[jj][r, 0]), f"{want[r, 0]} (image of the base point)")
                    raise VerificationError(str(c), c)
                if jj != jc:
                    fixed.append(classes[jj])
        checks.append(LayerCheck(k + 1, "truncation", classes[jc], int(counts[jc]), int(N - counts[jc]),
                                 tuple(fixed)))
    return checks
