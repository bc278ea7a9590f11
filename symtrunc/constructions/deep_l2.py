r"""Theorem 2.3 of Chen & Muñoz Ewald, arXiv 2309.10639 (paper A): deep global L² minimizers.

Input dimension ``M = Q``, ``L ≥ Q`` hidden layers of width ``Q``. Layer ``l ≤ Q`` has the
cumulative parameters ``W^(l) = W_* R_l`` (eq. 2.63) and
``b^(l) = -W^(l) x̄_{0,l} + μ_l R_l f_l`` (eq. 2.65), so its truncation map collapses cluster
``l`` to ``x̄_{0,l}[μ_l] = x̄_{0,l} - μ_l f_l`` and fixes everything else; the output layer is
``W_{L+1} = Y (X_0^red[μ])^{-1} (W^(L))^{-1}`` with cumulative output bias ``0`` (4.73–4.75).
Layers ``Q+1..L`` are the identity ``(1, 0)`` (their inputs are ``≥ 0``).

Hypotheses (checked exactly, or with certified arb intervals where angles enter):

* ``M = Q`` and every cluster has spread, ``ΔX_{0,j} ≠ 0`` (2.12);
* (2.14) ``δ < c_0 min_j |x̄_{0,j} - x̄|`` with ``c_0 < 1/4`` (exact, squared);
* (2.52) ``max_j θ_{*,j} < π``, decided exactly as ``⟨x̄_{0,j'} - x̄_{0,j}, f_j⟩ > 4δ`` for all
  ``j ≠ j'``; the angles ``θ_{*,j} = 2 max_{j'} [∠(x̄_{0,j'} - x̄_{0,j}, f_j) + arcsin(4δ/|x̄_{0,j'} - x̄_{0,j}|)]``
  are reported as certified intervals;
* ``θ_* = θ_0 + max_j θ_{*,j} < π`` and ``D`` of (4.26). For a circular cone the ball-in-cone
  condition is linear in the apex shift, which gives the closed form (derived here)
  ``D = min_{j ≠ j'} [h_{jj'} - (δ + ρ_{jj'} cos(θ_*/2)) / sin(θ_*/2)]`` with ``h_{jj'}`` and ``ρ_{jj'}``
  the axial and radial parts of ``x̄_{0,j'} - x̄_{0,j}`` along ``f_j``; ``μ_l ∈ (-D, -2δ√Q)`` (2.58).

Exactness: ``f_l`` and ``μ_l`` are irrational, the collapsed points are not. Paper A's ``μ_l`` is
parametrized here by the rational fraction ``t_l`` of the way from ``x̄_{0,l}`` to ``x̄``:
``x̄_{0,l}[μ_l] = x̄_{0,l} + t_l (x̄ - x̄_{0,l})``, ``μ_l = -t_l |x̄ - x̄_{0,l}|`` (exact sympy number).
``W_* R_l`` is built by :func:`~symtrunc.geometry.cones.paper_cone` (rational Householder
``R_l``, rational ``λ ≤ λ(θ_*, θ_Q)``), and every sign Lemma 4.1 needs is then checked exactly;
the network is verified exactly (zero loss, layer invariants) before it is returned.

Examples
--------
>>> from symtrunc.data.labeled import LabeledData
>>> d = LabeledData.from_arrays([[10, 0], [11, 0], [0, 10], [0, 11]], ["a", "a", "b", "b"])
>>> res = construct_deep_l2(d)
>>> res.network.widths, res.t
((2, 2, 2, 2), ('1/2', '1/2'))
>>> res.mu[0]
'-21*sqrt(2)/8'
>>> res.tau_matches, res.costs["class_weighted"]
(True, '0')
>>> construct_deep_l2(d, layers=3).network.widths
(2, 2, 2, 2, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, cast

import flint

from symtrunc.constructions.clustered import _dot
from symtrunc.constructions.common import assemble, build_cone, check_network
from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError, HypothesisError, UncertifiedError
from symtrunc.exact.lp import float_exponent, scaled_floats, simplest_between
from symtrunc.exact.matrix import columns_matrix, exact_rows, identity, zeros
from symtrunc.exact.rational import to_q
from symtrunc.geometry.cones import ConeLayer
from symtrunc.geometry.truncation import TruncationMap
from symtrunc.loss import costs
from symtrunc.network import Layer, ReLUNetwork
from symtrunc.records import DeepL2Record

__all__ = [
    "DeepL2Hypotheses",
    "DeepL2Network",
    "check_deep_l2",
    "construct_deep_l2",
    "deep_l2_network",
    "degeneracy",
    "truncate",
    "THEOREM_DEEP_L2",
]

THEOREM_DEEP_L2 = "Theorem 2.3 (Chen & Muñoz Ewald, arXiv 2309.10639): deep global L2 minimizers, M = Q"

_PREC = 128


@contextmanager
def _precision(bits: int = _PREC):
    old = flint.ctx.prec
    flint.ctx.prec = bits
    try:
        yield
    finally:
        flint.ctx.prec = old


def _arb(q: flint.fmpq) -> flint.arb:
    return flint.arb(q)


def _interval(x: flint.arb, digits: int = 12) -> tuple[str, str]:
    """Certified enclosure ``[lo, hi]`` of an arb ball, as decimal strings rounded outwards.

    >>> _interval(flint.arb(flint.fmpq(1, 3)))
    ('0.333333333333', '0.333333333334')
    >>> _interval(flint.arb(flint.fmpq(1, 3 * 10**400)))
    ('0.333333333333e-400', '0.333333333334e-400')
    """
    lo, hi = _lower(x), _upper(x)
    big = max(abs(lo), abs(hi))
    # below 1e-6, keep `digits` significant digits: '0.123456789012e-400' (else tiny D and 2δ√Q
    # would both round to 0.000000000000 and the interval test would fail for scaled-down data)
    shift = len(str(big.q // big.p)) - 1 if 0 < big < flint.fmpq(1, 10**6) else 0
    scale = flint.fmpz(10) ** (digits + shift)
    lo, hi = lo * scale, hi * scale
    lo_i, hi_i = int(lo.p) // int(lo.q), -(-int(hi.p) // int(hi.q))
    suffix = f"e-{shift}" if shift else ""
    return _decimal(lo_i, digits) + suffix, _decimal(hi_i, digits) + suffix


def _decimal(n: int, digits: int) -> str:
    sign, n = ("-" if n < 0 else ""), abs(n)
    whole, frac = divmod(n, 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}"


def _lower(x: flint.arb) -> flint.fmpq:
    m, e = x.lower().man_exp()
    return flint.fmpq(int(m)) * flint.fmpq(2) ** int(e)


def _upper(x: flint.arb) -> flint.fmpq:
    m, e = x.upper().man_exp()
    return flint.fmpq(int(m)) * flint.fmpq(2) ** int(e)


@dataclass(frozen=True)
class DeepL2Hypotheses:
    """The hypotheses of Theorem 2.3 evaluated on data (exact booleans, certified intervals).

    Attributes
    ----------
    delta_squared : fmpq
        ``δ²``.
    distances_squared : tuple of fmpq
        ``|x̄_{0,j} - x̄|²``.
    c0 : fmpq or None
        The constant of (2.14) that was tested (``None``: "some ``c_0 < 1/4``").
    condition_2_14 : bool
        ``δ < c_0 min_j |x̄_{0,j} - x̄|`` (``16 δ² < min_j |x̄_{0,j} - x̄|²`` when ``c0`` is ``None``).
    spread : tuple of bool
        ``ΔX_{0,j} ≠ 0`` per class (2.12).
    condition_2_52 : bool
        ``max_j θ_{*,j} < π`` (exact).
    failing_pair : tuple of int or None
        ``(j, j')`` violating (2.52).
    theta_star_j : tuple
        Certified enclosures ``(lo, hi)`` of ``θ_{*,j}`` in radians (``None`` where undefined).
    theta_star : str or None
        The exact rational ``θ_*`` used (radians), with ``max_j θ_{*,j} < θ_* < π`` certified.
    D : tuple of str or None
        Certified enclosure of ``D`` (4.26) for that ``θ_*``.
    mu_threshold : tuple of str or None
        Certified enclosure of ``2δ√Q`` (the other end of the admissible interval of ``|μ|``).
    """

    delta_squared: flint.fmpq
    distances_squared: tuple[flint.fmpq, ...]
    c0: flint.fmpq | None
    condition_2_14: bool
    spread: tuple[bool, ...]
    condition_2_52: bool
    failing_pair: tuple[int, int] | None
    theta_star_j: tuple[tuple[str, str] | None, ...]
    theta_star: str | None
    D: tuple[str, str] | None
    mu_threshold: tuple[str, str] | None

    @property
    def holds(self) -> bool:
        """(2.12), (2.14), (2.52) hold and the admissible interval ``(-D, -2δ√Q)`` is non-empty."""
        return (
            all(self.spread)
            and self.condition_2_14
            and self.condition_2_52
            and self.D is not None
            and self.mu_threshold is not None
            and _dec_lt(self.mu_threshold[1], self.D[0])
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly summary (exact numbers as strings)."""
        return {
            "delta_squared": str(self.delta_squared),
            "distances_squared": [str(v) for v in self.distances_squared],
            "c0": None if self.c0 is None else str(self.c0),
            "condition_2_12": list(self.spread),
            "condition_2_14": self.condition_2_14,
            "condition_2_52": self.condition_2_52,
            "theta_star_j": [None if v is None else list(v) for v in self.theta_star_j],
            "theta_star": self.theta_star,
            "D": None if self.D is None else list(self.D),
            "two_delta_sqrt_Q": None if self.mu_threshold is None else list(self.mu_threshold),
        }


def _dec_lt(a: str, b: str) -> bool:
    return to_q(a) < to_q(b)


def check_deep_l2(data: Any, *, c0: Any = None, theta_star: Any = None) -> DeepL2Hypotheses:
    """Evaluate the hypotheses of Theorem 2.3.

    Parameters
    ----------
    data : LabeledData or path
    c0 : rational, optional
        Test (2.14) with this constant (must satisfy ``0 < c0 < 1/4``).
    theta_star : rational, optional
        ``θ_*`` in radians; default a simple rational midway between ``max_j θ_{*,j}`` and ``π``.

    Raises
    ------
    HypothesisError
        If ``M ≠ Q``, ``c0`` is not in ``(0, 1/4)`` or ``theta_star`` is not in ``(max_j θ_{*,j}, π)``.

    >>> from symtrunc.data.labeled import LabeledData
    >>> d = LabeledData.from_arrays([[10, 0], [11, 0], [0, 10], [0, 11]], ["a", "a", "b", "b"])
    >>> h = check_deep_l2(d)
    >>> h.condition_2_14, h.condition_2_52, h.holds
    (True, True, True)
    >>> check_deep_l2(d, c0="1/4")
    Traceback (most recent call last):
    ...
    symtrunc.errors.HypothesisError: (2.14) needs a constant 0 < c_0 < 1/4, got c_0 = 1/4
    """
    data = load_data(data)
    if data.M != data.Q:
        raise HypothesisError(
            f"Theorem 2.3 of arXiv 2309.10639 needs input dimension M = Q, got M = {data.M}, Q = {data.Q}"
        )
    if c0 is not None:
        c0 = to_q(c0)
        if not 0 < c0 < flint.fmpq(1, 4):
            raise HypothesisError(f"(2.14) needs a constant 0 < c_0 < 1/4, got c_0 = {c0}")
    d2 = data.delta_squared
    means = [data.mean(j).entries() for j in range(data.Q)]
    xbar = data.barycenter.entries()
    g = [[a - b for a, b in zip(xbar, m)] for m in means]
    dist2 = tuple(_dot(v, v) for v in g)
    spread = tuple(any(v != 0 for v in data.deviations(j).entries()) for j in range(data.Q))
    cond214 = (c0 * c0 * min(dist2) > d2) if c0 is not None else 16 * d2 < min(dist2)
    failing = None
    pairs: dict[tuple[int, int], tuple[flint.fmpq, flint.fmpq]] = {}  # (j, j') -> (⟨c, g_j⟩, |c|²)
    for j in range(data.Q):
        for jj in range(data.Q):
            if jj == j:
                continue
            c = [a - b for a, b in zip(means[jj], means[j])]
            lhs, cc = _dot(c, g[j]), _dot(c, c)
            pairs[j, jj] = (lhs, cc)
            if failing is None and not (lhs > 0 and lhs * lhs > 16 * d2 * dist2[j]):
                failing = (j, jj)
    with _precision():
        delta = _arb(d2).sqrt()
        thetas: list[flint.arb | None] = []
        for j in range(data.Q):
            worst = None
            for jj in range(data.Q):
                if jj == j:
                    continue
                lhs, cc = pairs[j, jj]
                if not (16 * d2 < cc and lhs > 0):
                    worst = None  # the apex is in the 4δ-ball or the ball is behind it: θ_{*,j} ≥ π
                    break
                # ∠(c, f_j) = atan(ρ/h) and arcsin(4δ/|c|) = atan(4δ/√(|c|² - 16δ²)), ρ², h² exact
                rho2 = (cc * dist2[j] - lhs * lhs) / dist2[j]
                h = _arb(lhs) / _arb(dist2[j]).sqrt()
                ang = (_arb(rho2).sqrt() / h).atan() + (4 * delta / _arb(cc - 16 * d2).sqrt()).atan()
                worst = ang if worst is None else _amax(worst, ang)
            thetas.append(None if worst is None else 2 * worst)
        theta_q = None
        D = threshold = None
        defined = [t for t in thetas if t is not None]
        if failing is None and len(defined) == len(thetas):
            tmax = defined[0]
            for t in defined[1:]:
                tmax = _amax(tmax, t)
            pi = flint.arb.pi()
            if theta_star is None:
                if not _upper(tmax) < _lower(pi):
                    raise UncertifiedError(
                        "max_j θ_(*,j) < π holds exactly but could not be separated from π "
                        "with certified intervals; pass theta_star"
                    )
                theta_q = simplest_between(
                    _upper(tmax) + (_lower(pi) - _upper(tmax)) / 4, _upper(tmax) + 3 * (_lower(pi) - _upper(tmax)) / 4
                )
            else:
                theta_q = to_q(theta_star)
                if not (tmax < _arb(theta_q) and _arb(theta_q) < pi):
                    raise HypothesisError(
                        f"θ_* = {theta_q} is not certified to lie in (max_j θ_(*,j), π) = ({_interval(tmax)[1]}, π)"
                    )
            half = _arb(theta_q) / 2
            sa, ca = half.sin(), half.cos()
            for (j, _), (lhs, cc) in pairs.items():
                h = _arb(lhs) / _arb(dist2[j]).sqrt()
                rho = _arb((cc * dist2[j] - lhs * lhs) / dist2[j]).sqrt()
                val = h - (delta + rho * ca) / sa
                D = val if D is None else _amin(D, val)
            threshold = 2 * delta * flint.arb(data.Q).sqrt()
    return DeepL2Hypotheses(
        delta_squared=d2,
        distances_squared=dist2,
        c0=c0,
        condition_2_14=cond214,
        spread=spread,
        condition_2_52=failing is None,
        failing_pair=failing,
        theta_star_j=tuple(None if t is None else _interval(t) for t in thetas),
        theta_star=None if theta_q is None else str(theta_q),
        D=None if D is None else _interval(D),
        mu_threshold=None if threshold is None else _interval(threshold),
    )


def _amax(a: flint.arb, b: flint.arb) -> flint.arb:
    """Enclosure of ``max(a, b)``."""
    if a > b:
        return a
    if b > a:
        return b
    return a.union(b)


def _amin(a: flint.arb, b: flint.arb) -> flint.arb:
    """Enclosure of ``min(a, b)``."""
    if a < b:
        return a
    if b < a:
        return b
    return a.union(b)


def require_deep_l2(data: LabeledData, hyp: DeepL2Hypotheses) -> None:
    """Raise a one-line :class:`HypothesisError` (certificate ``hyp``) naming the first failed hypothesis."""
    if not all(hyp.spread):
        j = hyp.spread.index(False)
        raise HypothesisError(f"(2.12) fails: class {data.classes[j]!r} has no spread (ΔX_0,j = 0)", hyp)
    if not hyp.condition_2_14:
        bound = "c_0² min_j |x̄_j - x̄|²" if hyp.c0 is not None else "min_j |x̄_j - x̄|²/16"
        raise HypothesisError(
            f"(2.14) fails: δ² = {hyp.delta_squared} is not below {bound} "
            f"(min_j |x̄_j - x̄|² = {min(hyp.distances_squared)}): the data are not clustered enough",
            hyp,
        )
    if hyp.failing_pair is not None:  # (2.52) fails exactly when a pair fails it
        j, jj = hyp.failing_pair
        raise HypothesisError(
            f"(2.52) fails: θ_(*,j) ≥ π for class {data.classes[j]!r} (the 4δ-ball around the mean of "
            f"class {data.classes[jj]!r} is not strictly ahead of it towards the barycenter)",
            hyp,
        )
    if not hyp.holds:
        # (2.14) and (2.52) hold, so Q ≥ 2 and every θ_(*,j) is defined: check_deep_l2 enclosed D and 2δ√Q
        assert hyp.D is not None and hyp.mu_threshold is not None
        raise HypothesisError(
            f"the admissible interval of |μ| is empty: 2δ√Q ∈ [{hyp.mu_threshold[0]}, {hyp.mu_threshold[1]}] "
            f"is not below D ∈ [{hyp.D[0]}, {hyp.D[1]}] (4.26)",
            hyp,
        )


def admissible_t(
    data: LabeledData,
    hyp: DeepL2Hypotheses,
    j: int,
    t: Any = None,
    *,
    collapse: bool = True,
) -> flint.fmpq:
    """A rational ``t`` with ``|μ_j| = t |x̄ - x̄_{0,j}|`` certified inside the admissible interval.

    ``collapse=True``: ``|μ_j| ∈ (2δ√Q, D)`` (``I_0``, eq. 2.58); ``False``: ``μ_j > 2δ√Q``
    (``I_1`` of Theorem 2.5; the collapsed point is then ``x̄_{0,j} - t (x̄ - x̄_{0,j})``).
    Default ``t``: a simple rational in the middle third of the certified interval (capped at 1
    for a collapse when possible, so the collapsed point stays on the segment to ``x̄``).
    """
    dist2 = hyp.distances_squared[j]
    lo2 = 4 * hyp.delta_squared * data.Q  # (2δ√Q)²
    with _precision():
        dist = _arb(dist2).sqrt()
        D = None  # the upper end of the admissible |μ|, needed for a collapse only
        if collapse:
            if hyp.D is None:
                raise HypothesisError("no admissible |μ| for a collapse: D (4.26) is undefined", hyp)
            D = _arb(to_q(hyp.D[0]))
        if t is None:
            lo = _upper(_arb(lo2).sqrt() / dist)
            if D is not None:
                hi = _lower(D / dist)
                if lo < 1 < hi:
                    hi = flint.fmpq(1)
            else:
                hi = 2 * lo + 1
            if not lo < hi:
                raise UncertifiedError("could not certify a μ in the admissible interval")
            t = simplest_between(lo + (hi - lo) / 3, lo + 2 * (hi - lo) / 3)
        t = to_q(t)
        if not (t > 0 and t * t * dist2 > lo2):
            raise HypothesisError(f"t = {t} gives |μ| = t|x̄ - x̄_j| ≤ 2δ√Q (need |μ| > 2δ√Q, eq. 2.58)")
        if D is not None and not (_arb(t) * dist < D):
            raise HypothesisError(f"t = {t} gives |μ| = t|x̄ - x̄_j| not certified below D (eq. 2.58, 4.26)")
    return t


def mu_value(data: LabeledData, hyp: DeepL2Hypotheses, j: int, t: flint.fmpq, *, collapse: bool = True) -> str:
    """The exact ``μ_j`` (sympy string): ``-t|x̄ - x̄_{0,j}|`` for a collapse, ``+t|…|`` for the identity."""
    import sympy

    d2 = hyp.distances_squared[j]
    mu = sympy.Rational(int(t.p), int(t.q)) * sympy.sqrt(sympy.Rational(int(d2.p), int(d2.q)))
    return str(-mu if collapse else mu)


def truncate(network: ReLUNetwork, data: LabeledData, layers: int | None = None) -> flint.fmpq_mat:
    """``τ_{W^(l),b^(l)} ∘ … ∘ τ_{W^(1),b^(1)}(X_0)`` (eq. 2.42), columns in data order.

    Uses the cumulative parameters of the first ``layers`` hidden layers (default all).
    """
    hidden = network.depth - 1 if layers is None else layers
    X = data.X.transpose()
    for W, b in network.cumulative()[:hidden]:
        X = TruncationMap(W, b)(X)
    return X


@dataclass(frozen=True)
class DeepL2Network:
    """A Theorem 2.3 network with the evidence of its properties.

    Attributes
    ----------
    network : ReLUNetwork
        Verified exactly (zero loss and layer invariants).
    hypotheses : DeepL2Hypotheses
    t : tuple of str
        ``t_l``: collapsed point ``x̄_{0,l} + t_l (x̄ - x̄_{0,l})``.
    mu : tuple of str
        Exact ``μ_l = -t_l |x̄ - x̄_{0,l}|`` (sympy strings).
    collapsed_points : tuple of fmpq_mat
        ``x̄_{0,l}[μ_l]``.
    tau_matches : bool
        ``τ(X_0) = X̄_0[μ]`` exactly (eq. 2.59–2.60).
    costs : dict of str
        Exact costs of the network (C_N = 0).
    """

    network: ReLUNetwork
    hypotheses: DeepL2Hypotheses
    t: tuple[str, ...]
    mu: tuple[str, ...]
    collapsed_points: tuple[flint.fmpq_mat, ...]
    tau_matches: bool
    costs: dict[str, str]


def sphere_axis(direction: flint.fmpq_mat, denominator: int = 32) -> flint.fmpq_mat:
    """A rational point ``h`` with ``|h|² = M`` whose direction approximates ``direction``.

    Inverse stereographic projection (from the pole ``∓u``, ``u = (1, …, 1)``) of a rounded
    rational point of the tangent plane, so ``|h| = |u|`` exactly and the Householder reflection
    ``R = I - 2vvᵀ/vᵀv`` with ``v = h - u`` is rational, exactly orthogonal and maps ``h`` exactly
    to ``u`` (``R_l f_l ≈ u/√Q``, eq. 2.64, with small denominators).

    >>> h = sphere_axis(flint.fmpq_mat(3, 1, [1, 2, 2]))
    >>> sum(v * v for v in h.entries())
    3
    """
    M = direction.nrows()
    d = scaled_floats(direction, float_exponent(direction))[:, 0].tolist()  # direction only: any scale fits
    norm = sum(v * v for v in d) ** 0.5
    if norm == 0:
        raise DataError("the cone axis must be nonzero")
    z = [v / norm * M**0.5 for v in d]  # target on the sphere of radius √M
    sign = -1 if sum(z) >= 0 else 1  # pole P = sign·u, the one farther from z
    zp = sign * sum(z)
    scale = M / (M - zp)
    y = [flint.fmpq(round((sign + scale * (v - sign)) * denominator), denominator) for v in z]
    shift = sum(y, flint.fmpq(0)) / M  # make y ⊥ P exactly
    y = [v - shift for v in y]
    yy = sum((v * v for v in y), flint.fmpq(0))
    t = flint.fmpq(2 * M) / (yy + M)
    return flint.fmpq_mat(M, 1, [sign + t * (v - sign) for v in y])


def deep_l2_cones(
    data: LabeledData, hyp: DeepL2Hypotheses, bits: Sequence[int], ts: Sequence[flint.fmpq], cone: str = "paper"
) -> tuple[list[ConeLayer], list[flint.fmpq_mat]]:
    """Cone layers ``W_* R_l`` (apex ``x̄_{0,l} - μ_l f_l``) for the configuration ``bits``.

    ``cone="paper"``: ``W_* R_l`` with the common angle ``θ_*``; ``cone="rational"``: the exact
    rational variant ``c(εI + u h̃ᵀ)`` with the same apex and axis (reference §5.2, step 4).

    ``bits[l] = 0``: layer ``l`` collapses cluster ``l`` (the points stay fixed otherwise);
    ``bits[l] = 1``: every current point is in the identity regime. Returns the layers and the
    apexes (the collapsed points for ``bits[l] = 0``).
    """
    order = list(range(data.Q))
    apexes = []
    for j, (s, t) in enumerate(zip(bits, ts)):
        sign = -1 if s else 1
        apexes.append(data.mean(j) + sign * t * (data.barycenter - data.mean(j)))
    X = data.X.tolist()
    layers = []
    collapsed: list[tuple[int, flint.fmpq_mat]] = []  # (class, collapsed point)
    for k in order:
        done = {c for c, _ in collapsed}
        # forward: every point not yet collapsed (except cluster k when it collapses) and the collapsed points
        fwd = exact_rows(
            [X[i] for j in order if j not in done and (bits[k] or j != k) for i in data.class_indices[j]]
            + [p.entries() for _, p in collapsed],
            data.M,
        )
        bwd = exact_rows([] if bits[k] else [X[i] for i in data.class_indices[k]], data.M)
        try:
            layers.append(
                build_cone(
                    cone, apexes[k], sphere_axis(data.barycenter - data.mean(k)), fwd, bwd, angle=to_q(hyp.theta_star)
                )
            )
        except HypothesisError as e:
            raise HypothesisError(
                f"layer {k + 1}: the {cone} cone with θ_* = {hyp.theta_star} does not keep every other "
                f"current point in its forward cone ({e}); reference §1.6 D3",
                hyp,
            ) from None
        if not bits[k]:
            collapsed.append((k, apexes[k]))
    return layers, apexes


def construct_deep_l2(
    data: Any,
    *,
    layers: int | None = None,
    t: Sequence[Any] | None = None,
    c0: Any = None,
    theta_star: Any = None,
    cone: str = "paper",
) -> DeepL2Network:
    """Build and verify the Theorem 2.3 global minimizer with ``C_N = 0``.

    Parameters
    ----------
    data : LabeledData or path
        ``M = Q`` required.
    layers : int, optional
        Number ``L ≥ Q`` of hidden layers (default ``Q``); layers ``Q+1..L`` are ``(1, 0)``.
    t : sequence of rationals, optional
        ``t_l`` per class (collapsed point ``x̄_{0,l} + t_l (x̄ - x̄_{0,l})``, ``μ_l = -t_l|x̄ - x̄_{0,l}|``),
        each certified to give ``μ_l ∈ (-D, -2δ√Q)``. Default: see :func:`admissible_t`.
    c0, theta_star
        See :func:`check_deep_l2`.
    cone : {"paper", "rational"}
        ``W_* R_l`` (default) or the rational variant (see :func:`deep_l2_cones`).

    Raises
    ------
    HypothesisError
        If a hypothesis fails (``M ≠ Q``, unclustered data, ``c0 ≥ 1/4``, ``L < Q``, ``t`` not admissible).
    """
    data = load_data(data)
    hyp = check_deep_l2(data, c0=c0, theta_star=theta_star)
    require_deep_l2(data, hyp)
    L = data.Q if layers is None else int(layers)
    if L < data.Q:
        raise HypothesisError(f"Theorem 2.3 needs L ≥ Q hidden layers, got L = {L} < Q = {data.Q}")
    if t is not None and len(t) != data.Q:
        raise DataError(f"give one t per class ({data.Q}), got {len(t)}")
    ts = [admissible_t(data, hyp, j, None if t is None else t[j]) for j in range(data.Q)]
    cones, points = deep_l2_cones(data, hyp, [0] * data.Q, ts, cone)
    mus = [mu_value(data, hyp, j, v) for j, v in enumerate(ts)]
    extras = [{"t": v, "mu": mu} for v, mu in zip(ts, mus)]
    net = assemble(
        data,
        list(range(data.Q)),
        cones,
        points,
        DeepL2Record,
        extras,
        theorem=THEOREM_DEEP_L2,
        cone=cone,
        hypotheses=hyp.to_json(),
    )
    if L > data.Q:
        extra = tuple(Layer(identity(data.Q), zeros(data.Q, 1), "relu") for _ in range(L - data.Q))
        net = ReLUNetwork(
            net.layers[:-1] + extra + net.layers[-1:],
            net.classes,
            replace(cast(DeepL2Record, net.construction), extra_identity_layers=L - data.Q),
        )
        check_network(net, data, invariants=True)
    tau = truncate(net, data)
    expected = columns_matrix([points[j] for j in data.y])
    return DeepL2Network(
        network=net,
        hypotheses=hyp,
        t=tuple(str(v) for v in ts),
        mu=tuple(mus),
        collapsed_points=tuple(points),
        tau_matches=tau == expected,
        costs=costs(net, data),
    )


def deep_l2_network(data: Any, **options: Any) -> ReLUNetwork:
    """The network of :func:`construct_deep_l2` (the ``construct(method="deep_l2")`` entry point)."""
    return construct_deep_l2(data, **options).network


def degeneracy(
    data: Any, t_a: Sequence[Any] | None = None, t_b: Sequence[Any] | None = None, **options: Any
) -> tuple[DeepL2Network, DeepL2Network]:
    """Two Theorem 2.3 minimizers with different admissible ``μ``, both with ``C_N = 0`` (degeneracy).

    Default: the default ``t`` and, for ``t_b``, a second admissible choice per class.

    >>> from symtrunc.data.labeled import LabeledData
    >>> d = LabeledData.from_arrays([[10, 0], [11, 0], [0, 10], [0, 11]], ["a", "a", "b", "b"])
    >>> a, b = degeneracy(d)
    >>> a.mu != b.mu, a.costs["class_weighted"], b.costs["class_weighted"]
    (True, '0', '0')
    """
    data = load_data(data)
    first = construct_deep_l2(data, t=t_a, **options)
    if t_b is None:
        hyp = first.hypotheses
        assert hyp.D is not None  # construct_deep_l2 required hyp.holds, which needs D
        t_b = []
        for j in range(data.Q):
            ta = to_q(first.t[j])
            lo = admissible_t(data, hyp, j, ta)  # certified admissible
            with _precision():
                hi = _lower(_arb(to_q(hyp.D[0])) / _arb(hyp.distances_squared[j]).sqrt())
            if lo < 1 < hi:
                hi = flint.fmpq(1)
            t_b.append(simplest_between(lo, (lo + hi) / 2) if lo < hi else lo)
    second = construct_deep_l2(data, t=t_b, **options)
    return first, second
