r"""Rigorous IEEE-754 error bounds of the float filter: rounded affine maps and rounded inputs.

Every float the filter computes comes with an upper bound of its distance to the exact value;
this module rounds the exact maps and inputs and computes the constants of those bounds
exactly (from the rationals), so that a sign is certified only when it provably equals the
exact sign.

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
>>> import flint
>>> fa = float_affine(flint.fmpq_mat([[1, flint.fmpq(1, 3)]]), flint.fmpq_mat([[flint.fmpq(1, 10)]]))
>>> bool(0 < fa.T[0] < 1e-16), fa.struct is None    # δc + γ|c̃| is tiny; not square
(True, True)
>>> float_affine(flint.fmpq_mat([[flint.fmpq(1, 2**500)]]), flint.fmpq_mat([[0]])) is None   # out of range
True
"""

from __future__ import annotations

from dataclasses import dataclass

import flint
import numpy as np

from symtrunc.exact.evaluate import EXACT_FLOAT_BOUND
from symtrunc.exact.rational import to_q
from symtrunc.exact.rounding import round_up

__all__ = [
    "OVERFLOW_GUARD",
    "FloatAffine",
    "FloatBlock",
    "FloatInput",
    "RankOne",
    "certified_rows",
    "float_affine",
    "rank_one",
    "row_bound",
    "running",
    "structured_affine",
]

TAU = 2.0**-600
RANGE_HI = 2.0**400
RANGE_LO = 2.0**-400
OVERFLOW_GUARD = 2.0**900
_FQ_U = flint.fmpq(1, 2**53)


def _q(x: float) -> flint.fmpq:
    """The exact value of a float."""
    return flint.fmpq(*float(x).as_integer_ratio())


def _fl(v: flint.fmpq) -> float:
    """``fl(v)``, or an infinity when ``|v|`` is beyond float64 (the range checks then send the
    values to the exact path).

    >>> _fl(flint.fmpq(1, 3)) == 1 / 3, _fl(-flint.fmpq(10) ** 400)
    (True, -inf)
    """
    try:
        return float(v)
    except OverflowError:
        return float("inf") if v > 0 else float("-inf")


def _gamma(n: int) -> flint.fmpq:
    """``γ_n = n u / (1 - n u)``, exactly."""
    return n * _FQ_U / (1 - n * _FQ_U)


@dataclass(frozen=True)
class FloatAffine:
    """The float64 image of an exact affine map ``z = A x + c`` and the constants of its bounds."""

    Wt: np.ndarray  # (k, m) fl(A)ᵀ
    b: np.ndarray  # (m,) fl(c)
    Wt1: np.ndarray  # (k+1, m) [fl(A)ᵀ; fl(c)ᵀ] for homogeneous inputs
    G: np.ndarray  # (k, m) fl(f'|Ã|)ᵀ
    c2: float  # c₂'
    T: np.ndarray  # (m,)
    R: np.ndarray  # (m,)
    k1: float  # κ₁
    k2: float  # κ₂
    Rmax: float  # max R_i
    Tmax: float  # max T_i
    struct: RankOne | None  # A = αI + 1gᵀ: the structured kernel


@dataclass(frozen=True)
class RankOne:
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


def rank_one(A: flint.fmpq_mat, c: flint.fmpq_mat) -> RankOne | None:
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
    af = _fl(alpha)
    gf = [_fl(v) for v in g]
    cent = c.entries()
    cf = [_fl(v) for v in cent]
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
    return RankOne(
        alpha=af,
        g=np.array(gf),
        c=np.array(cf),
        k1=round_up(K1 * grow),
        k2=round_up(K2 * grow),
        T=round_up((T + _q(TAU)) / (1 - _FQ_U)),
    )


def structured_affine(A: flint.fmpq_mat, c: flint.fmpq_mat) -> RankOne | None:
    """:func:`rank_one` of ``(A, c)`` under the range conditions of :func:`float_affine` (every
    nonzero entry of ``fl(A)`` in ``[2^-400, 2^400]``, no nonzero entry rounded to zero), i.e.
    exactly when ``float_affine(A, c).struct`` exists, without rounding the other constants.

    >>> structured_affine(flint.fmpq_mat([[2, 1], [1, 2]]), flint.fmpq_mat([[0], [1]])).alpha
    1.0
    >>> structured_affine(flint.fmpq_mat([[2, flint.fmpq(1, 2**500)], [flint.fmpq(1, 2**500), 2]]),
    ...                   flint.fmpq_mat([[0], [1]])) is None    # an entry below 2^-400
    True
    """
    st = rank_one(A, c)
    if st is None:
        return None
    rows = A.tolist()
    k = len(rows)
    # A = αI + 1gᵀ: its entries are the g_j (off the diagonal, k >= 2) and the α + g_j
    for v in [rows[1][0]] + [rows[0][j] for j in range(1, k)] + [rows[j][j] for j in range(k)]:
        if v != 0:
            f = abs(_fl(v))
            if not RANGE_LO <= f <= RANGE_HI:  # also False for an infinity or a rounded-off zero
                return None
    return st


def float_affine(A: flint.fmpq_mat, c: flint.fmpq_mat) -> FloatAffine | None:
    """The rounded map ``(fl(A), fl(c))`` and the exact constants of its bounds; ``None`` when
    an entry is outside the range of the bounds (the points concerned are then ambiguous)."""
    m, k = A.nrows(), A.ncols()
    ent = A.entries()
    Af = np.array([_fl(v) for v in ent], dtype=np.float64).reshape(m, k)
    cent = c.entries()
    cf = np.array([_fl(v) for v in cent], dtype=np.float64)
    absA = np.abs(Af)
    nz = absA[absA != 0]
    if (
        not np.all(np.isfinite(Af))
        or not np.all(np.isfinite(cf))
        or (nz.size and (nz.min() < RANGE_LO or nz.max() > RANGE_HI))
        or np.abs(cf).max(initial=0.0) > RANGE_HI
        or sum(1 for v in ent if v != 0) != nz.size
    ):
        return None
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
    c2 = round_up((gamma + rho) / c1)
    fprime = round_up(c1 * (1 + 2 * (k + 3) * _FQ_U) / (1 - _FQ_U))
    G = np.ascontiguousarray((absA * fprime).T)
    T = np.array(
        [
            round_up((abs(cv - _q(cfv)) + gamma * abs(_q(cfv)) + _q(TAU)) / (1 - _FQ_U))
            for cv, cfv in zip(cent, cf.tolist())
        ],
        dtype=np.float64,
    )
    # R_i >= r_i (1 + 8u): the float row sum of k nonnegative terms (any order) is
    # >= r_i (1-u)^(k-1), the product loses one more factor (1-u), and
    # (1 + 2(k+9)u)(1-u)^(k-1) >= 1 + 8u (no underflow: entries are >= 2^-400)
    R = absA.sum(axis=1) * round_up((1 + 2 * (k + 9) * _FQ_U) / (1 - _FQ_U))
    Wt1 = np.ascontiguousarray(np.vstack([Af.T, cf[None, :]]))
    return FloatAffine(
        Wt=np.ascontiguousarray(Af.T),
        b=cf,
        Wt1=Wt1,
        G=G,
        c2=c2,
        T=T,
        R=R,
        k1=round_up(1 + rho),
        k2=round_up(rho + gamma),
        Rmax=float(R.max(initial=0.0)),
        Tmax=float(T.max(initial=0.0)),
        struct=rank_one(A, c),
    )


def running(fa: FloatAffine, H: np.ndarray, E: np.ndarray | None, signed: bool) -> tuple[np.ndarray, np.ndarray]:
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


def row_bound(fa: FloatAffine, mx: np.ndarray, ex: np.ndarray | None) -> np.ndarray:
    """Per-point bound ``fl(fl(a_p R_max) + T_max)`` of the outer kernel (valid for every neuron)."""
    a = mx * fa.k2
    if ex is not None:
        a += ex * fa.k1
    a *= fa.Rmax
    a += fa.Tmax
    return a


def certified_rows(Z: np.ndarray, Eb: np.ndarray) -> np.ndarray:
    """Points whose every sign is certified (``|z̃| > Ê``) and whose sums provably did not overflow."""
    return (np.abs(Z) > Eb).all(axis=1) & (Eb.max(axis=1) < OVERFLOW_GUARD)


@dataclass(frozen=True)
class FloatBlock:
    """A block of points for the filter, with bounds of their rounding errors."""

    X: np.ndarray  # (n, M) points, exact in float64 or already rounded
    mx: np.ndarray  # (n,) max_j |x̃_pj|
    ex: np.ndarray | None  # (n,) max_j |x_pj - x̃_pj|, None when every x̃ is exact
    E0: np.ndarray | None  # (n, M) entrywise |x - x̃|, None when every x̃ is exact


class FloatInput:
    """The chunk's points for the float filter, block by block (:meth:`block`).

    Numeric arrays are converted block by block (no chunk-sized temporaries); their values
    are exact in float64 when integers are at most ``2^53`` in absolute value (else the
    rounding error ``|x - fl(x)| ≤ 2u|fl(x)|`` is carried). Exact rationals are rounded
    once, and each rounding error is bounded exactly. ``ok`` is False when the points are
    outside the range of the bounds (the chunk then goes to the exact path). Both are
    computed on first use: the structured kernel (:meth:`kernel_input`) reads numeric
    arrays as they are and checks every row itself.
    """

    def __init__(self, X: np.ndarray) -> None:
        self.X = X
        self.unsigned = X.dtype.kind in "bu"
        self._state: tuple[bool, FloatBlock | None] | None = None

    @property
    def ok(self) -> bool:
        """Whether the points are in the range of the bounds."""
        return self._prepared()[0]

    @property
    def pre(self) -> FloatBlock | None:
        """The whole chunk rounded to float64 with its error bounds, when it had to be rounded."""
        return self._prepared()[1]

    def kernel_input(self) -> tuple[np.ndarray, np.ndarray | None] | None:
        """``(points, per-row input error bound or None)`` for the structured kernel
        (:mod:`~symtrunc.verification.certified.kernel`), or None when out of range.

        Numeric arrays go as they are (the kernel checks the range of every row and sends
        64-bit integers that float64 may not represent to the general filter); exact rationals
        go rounded, with the row maximum of their exact rounding errors.
        """
        X = self.X
        if X.dtype != object and X.dtype.kind in "biuf" and X.dtype.itemsize <= 8:
            return X, None
        if not self.ok or self.pre is None:
            return None
        return self.pre.X, self.pre.ex

    def _prepared(self) -> tuple[bool, FloatBlock | None]:
        if self._state is None:
            self._state = self._prepare()
        return self._state

    def _prepare(self) -> tuple[bool, FloatBlock | None]:
        X = self.X
        kind = X.dtype.kind
        if X.dtype != object and kind in "biu":
            hi = max(abs(int(X.min())), abs(int(X.max()))) if X.size else 0
            if hi > EXACT_FLOAT_BOUND:
                Xf = X.astype(np.float64)
                if np.abs(Xf).max() > RANGE_HI:
                    return False, None
                E0 = np.abs(Xf) * 2.0**-52  # |x - fl(x)| <= 2u|fl(x)|, exact power-of-two scaling
                return True, FloatBlock(Xf, np.abs(Xf).max(axis=1), E0.max(axis=1), E0)
            return True, None
        if X.dtype != object and kind == "f" and X.dtype.itemsize <= 8:
            return not (X.size and max(-float(X.min()), float(X.max())) > RANGE_HI), None
        # exact rationals (or long doubles): round, and bound each rounding error exactly
        vals = [to_q(v) for v in X.ravel().tolist()]
        fl = [_fl(v) for v in vals]
        Xf = np.array(fl, dtype=np.float64).reshape(X.shape)
        if not np.all(np.isfinite(Xf)) or (Xf.size and np.abs(Xf).max() > RANGE_HI):
            return False, None
        err = [round_up(abs(v - _q(f))) if _q(f) != v else 0.0 for v, f in zip(vals, fl)]
        E0 = np.array(err, dtype=np.float64).reshape(X.shape)
        mx = np.abs(Xf).max(axis=1) if X.shape[1] else np.zeros(X.shape[0])
        return True, FloatBlock(Xf, mx, None, None) if not E0.any() else FloatBlock(Xf, mx, E0.max(axis=1), E0)

    def block(self, a: int, b: int) -> FloatBlock:
        """Rows ``a:b`` as float64-compatible points with their error bounds."""
        p = self.pre
        if p is not None:
            return FloatBlock(
                p.X[a:b], p.mx[a:b], None if p.ex is None else p.ex[a:b], None if p.E0 is None else p.E0[a:b]
            )
        Xb = self.X[a:b]
        if Xb.shape[1] == 0:
            return FloatBlock(Xb.astype(np.float64), np.zeros(b - a), None, None)
        if self.unsigned:
            mx = Xb.max(axis=1).astype(np.float64)
        else:  # max(-min, max) in float64: no overflow of abs() on the most negative integer
            mx = np.maximum(-Xb.min(axis=1).astype(np.float64), Xb.max(axis=1).astype(np.float64))
        return FloatBlock(Xb, mx, None, None)
