r"""Critical points of the true loss: exact decision and classification with certificates.

``classify`` decides exactly whether the generalized gradient vanishes and, if so, whether φ
is a global minimum, a non-global local minimum or a saddle point, each with an exact
certificate (:mod:`symtrunc.landscape.certificates`):

* global minimum: L(φ) = 0 (and L ≥ 0);
* saddle: a descent ray (L(φ + εu) is an exact polynomial in ε with negative lowest
  coefficient) or a negative-curvature direction in the C² coordinates (uᵀHu < 0 with
  ∇L = 0), each with a concrete rational step where L(φ + εu) < L(φ) exactly;
* non-global local minimum (ReLU only): the reconstruction's Theorem R'.2 condition, checked
  one by one — no neuron has a kink inside the interval, c = f(mid) and every neuron is
  inactive or semi-inactive, non-degenerate with v w α < 0 ("dead-like"). Then every small
  perturbation changes N by δc plus switched-on ramps g_j whose sign makes ∫ r g_j ≥ 0, so
  ΔL = 2∫ r Σg_j + ∫(δc + Σg_j)² ≥ 0 (non-strict).

A local maximum is never reported: L(φ + εe_c) = L(φ) + 2ε∫r dμ + ε² is strictly convex in ε.
For the ReLU the verdict is compared with the reconstructed Theorem R (the (B_k) sawtooth
conditions); disagreements are listed in ``notes`` and the exact computation wins. For leaky
ReLU and the square, a critical point with L > 0 is a saddle when a certificate is found and
``unclassified`` otherwise (the journal version states there are no non-global local minima
for these activations; no exact argument for that is implemented here).

Examples
--------
>>> from symtrunc.landscape.params import ShallowParams, Target
>>> tv4 = ShallowParams.from_values([1, -1], [-2, "-1/2"], [5, -7], "1/2")      # all dead
>>> res = classify(tv4, Target(1, 0))
>>> res.verdict, str(res.loss), res.certificate["kind"]
('local_min', '1/12', 'dead_neuron_local_min')
>>> tv8 = ShallowParams.from_values([1, -1], ["-1/3", "2/3"], ["2/3", "-2/3"], "1/2")
>>> res = classify(tv8, Target(1, 0))
>>> res.verdict, res.k, res.certificate["kind"]
('saddle', 2, 'descent_ray')
>>> classify(ShallowParams.from_values([1], ["-1/2"], [1], 0), Target(2, 1)).verdict
'not_critical'
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import flint

from symtrunc.exact.rational import q_str, to_q
from symtrunc.landscape.certificates import (
    check_descent_ray,
    check_negative_curvature,
    descent_ray,
    negative_curvature,
    smooth_coordinates,
)
from symtrunc.landscape.neurons import NeuronType, neuron_types
from symtrunc.landscape.objective import (
    Smoothness,
    directional_derivative,
    gradient,
    loss,
    smoothness,
)
from symtrunc.landscape.params import Interval, ShallowParams, Target, default_interval

__all__ = [
    "VERDICTS",
    "Classification",
    "check_certificate",
    "classify",
    "local_min_conditions",
    "theorem_r_checks",
]

#: Possible verdicts.
VERDICTS = ("global_min", "local_min", "saddle", "not_critical", "unclassified")
_Q0 = flint.fmpq(0)


@dataclass(frozen=True)
class Classification:
    """Everything ``classify`` found about φ.

    Attributes
    ----------
    verdict : str
        One of :data:`VERDICTS`.
    critical : bool
        The generalized gradient (activation's σ'(0) convention) vanishes.
    smooth : Smoothness
        Exact differentiability / C² decision; ``critical and smooth.differentiable`` is
        criticality in the Fréchet sense.
    loss : fmpq
    gradient : list of fmpq
    neurons : list of NeuronType
    roles : list of str
        Role of each neuron at a critical point (reference §5), else its type.
    k : int or None
        Number of distinct kinks of semi-active neurons (the k of (B_k)), ReLU critical points.
    certificate : dict
        JSON-ready exact certificate of the verdict.
    theorem_checks : list of (str, bool)
        The reconstruction's Theorem R conditions at a ReLU critical point with L > 0.
    notes : tuple of str
    one_sided : dict of str to fmpq
        Where L is not differentiable: the exact one-sided directional derivatives along ±e_w
        and ±e_b of every live neuron with w = b = 0 (keys like ``"w1+"``, ``"b1-"``).
    """

    verdict: str
    critical: bool
    smooth: Smoothness
    loss: flint.fmpq
    gradient: list[flint.fmpq]
    neurons: list[NeuronType]
    roles: list[str]
    k: int | None
    certificate: dict[str, Any]
    theorem_checks: list[tuple[str, bool]] = field(default_factory=list)
    notes: tuple[str, ...] = ()
    one_sided: dict[str, flint.fmpq] = field(default_factory=dict)

    def to_dict(self, phi: ShallowParams | None = None) -> dict[str, Any]:
        """The JSON document of ``symtrunc landscape --json``."""
        neurons = []
        for t, role in zip(self.neurons, self.roles):
            d = t.to_dict()
            d["role"] = role
            neurons.append(d)
        out: dict[str, Any] = {
            "loss": q_str(self.loss),
            "gradient": [q_str(g) for g in self.gradient],
            "critical": self.critical,
            "verdict": self.verdict,
            "neurons": neurons,
            "certificate": self.certificate,
            "differentiable": self.smooth.differentiable,
            "twice_differentiable": self.smooth.twice_differentiable,
            "smoothness_notes": list(self.smooth.reasons),
            "k": self.k,
            "theorem_R_checks": [{"condition": c, "holds": h} for c, h in self.theorem_checks],
            "notes": list(self.notes),
            "one_sided_derivatives": {k: q_str(x) for k, x in self.one_sided.items()},
        }
        if phi is not None:
            out["coordinates"] = phi.coordinate_names()
            out["activation"] = phi.activation.describe()
        return out


def _knots(types: list[NeuronType]) -> list[flint.fmpq]:
    """The distinct kinks of the semi-active neurons, sorted."""
    return sorted({t.breakpoint for t in types if t.kind == "semi-active"})


def _ray(size: int, entries: dict[int, Any]) -> list[flint.fmpq]:
    """The direction with ``size`` coordinates, zero except for ``entries`` (index: value)."""
    u = [_Q0] * size
    for i, x in entries.items():
        u[i] = to_q(x)
    return u


def theorem_r_checks(
    phi: ShallowParams, target: Target, interval: Interval, value: flint.fmpq, types: list[NeuronType]
) -> tuple[int, list[tuple[str, bool]]]:
    """The (B_k) conditions of the reconstructed Theorem R, each evaluated exactly.

    Returns k (distinct kinks of semi-active neurons) and the list of (condition, holds).
    """
    a, iv = target.alpha, interval
    semi = [t for t in types if t.kind == "semi-active"]
    K = _knots(types)
    k = len(K)
    knots = [iv.lo + iv.length * flint.fmpq(i, k + 1) for i in range(1, k + 1)]
    checks = [(f"k = {k} is even", k % 2 == 0), (f"kinks at lo + (hi-lo) i/(k+1), i = 1..{k}", K == knots)]
    facing_ok = all(t.facing == ("R" if (K.index(t.breakpoint) + 1) % 2 else "L") for t in semi)
    checks.append(("semi-active neurons face R at odd knots and L at even knots", facing_ok))
    sums = {s: _Q0 for s in K}
    for t in semi:
        sums[t.breakpoint] += phi.v[t.index - 1] * phi.w[t.index - 1]
    checks.append(
        (f"Σ v_j w_j = 2α/(k+1) = {2 * a / (k + 1)} at every knot", all(x == 2 * a / (k + 1) for x in sums.values()))
    )
    checks.append(("no non-degenerate active neuron", not any(t.kind == "active" and not t.degenerate for t in types)))
    checks.append(
        (
            "degenerate neurons with b > 0 are flat",
            all(t.flat for t in types if t.degenerate and phi.b[t.index - 1] > 0),
        )
    )
    checks.append((f"c = f(mid) = {target(iv.midpoint)}", phi.c == target(iv.midpoint)))
    expected = a * a * iv.length**2 / (12 * (k + 1) ** 4)
    checks.append((f"L = α²(hi-lo)²/(12(k+1)⁴) = {expected}", value == expected))
    return k, checks


def local_min_conditions(
    phi: ShallowParams, target: Target, interval: Interval, types: list[NeuronType]
) -> list[tuple[str, bool]]:
    """The dead-neuron local-minimum conditions (reference Theorem R'.2), each exactly."""
    a = target.alpha
    out = [
        ("ReLU activation", phi.activation.name == "relu"),
        ("α ≠ 0", a != 0),
        (f"c = f(mid) = {target(interval.midpoint)}", phi.c == target(interval.midpoint)),
    ]
    for t in types:
        j = t.index - 1
        if t.kind == "inactive":
            out.append((f"neuron {t.index} inactive (max(z_lo, z_hi) = {max(t.z_lo, t.z_hi)} < 0)", True))
        elif t.kind == "semi-inactive" and not t.degenerate:
            vwa = phi.v[j] * phi.w[j] * a
            out.append((f"neuron {t.index} semi-inactive, dead-like: v w α = {vwa} < 0", vwa < 0))
        else:
            out.append((f"neuron {t.index} inactive or semi-inactive dead-like (it is {t.label()})", False))
    return out


def _roles(phi: ShallowParams, target: Target, types: list[NeuronType], knots: list[flint.fmpq]) -> list[str]:
    out = []
    for t in types:
        w, _, v = phi.neuron(t.index - 1)
        if t.kind == "semi-active":
            i = knots.index(t.breakpoint) + 1 if t.breakpoint in knots else 0
            out.append(f"knot-{'flat' if t.flat else 'live'}({i}, {t.facing})")
        elif t.kind == "inactive":
            out.append("degenerate-dead" if t.degenerate else "inactive")
        elif t.kind == "semi-inactive":
            if t.degenerate:
                out.append("degenerate-zero")
            else:
                out.append("semi-inactive-deadlike" if v * w * target.alpha < 0 else "semi-inactive-escape")
        else:
            out.append(
                "degenerate-flat-const"
                if t.degenerate and t.flat
                else ("degenerate-const" if t.degenerate else "active")
            )
    return out


def _escape_rays(phi: ShallowParams, target: Target, interval: Interval) -> list[list[flint.fmpq]]:
    """Candidate descent rays: switch on a (semi-)inactive or degenerate neuron, move c, b or v."""
    n, P = phi.width, 3 * phi.width + 1
    sa = 1 if target.alpha >= 0 else -1
    rays = []
    for j in range(n):
        w, b, _ = phi.neuron(j)
        zl, zh = w * interval.lo + b, w * interval.hi + b
        for sv in (0, 1, -1):
            if w != 0 and max(zl, zh) == 0:  # semi-inactive: move the kink inside
                rays.append(_ray(P, {n + j: w if w > 0 else -w, 2 * n + j: sv}))
            if w == 0 and b == 0:  # degenerate zero: switch on at the midpoint, facing either way
                m = interval.midpoint
                rays.append(_ray(P, {j: 1, n + j: -m, 2 * n + j: sv}))
                rays.append(_ray(P, {j: -1, n + j: m, 2 * n + j: sv}))
            if w == 0 and b > 0 and sv != 0:  # degenerate constant: add a small slope
                rays.append(_ray(P, {j: sa, 2 * n + j: sv, 3 * n: -sv * b}))
    for i in range(n, P):  # b, v and c coordinates
        rays.append(_ray(P, {i: 1}))
        rays.append(_ray(P, {i: -1}))
    return rays


def _saddle_certificate(
    phi: ShallowParams, target: Target, interval: Interval, prefer_curvature: bool
) -> dict[str, Any] | None:
    n = phi.width
    smooth = smooth_coordinates(phi, interval)
    bvc = [i for i in smooth if i >= n]

    def curvature_rays() -> dict[str, Any] | None:
        cert = negative_curvature(phi, target, interval, bvc)
        if cert is not None:  # b, v, c only: the kinks move affinely, so the ray certificate applies
            ray = descent_ray(phi, target, interval, cert["direction"])
            if ray is not None:
                ray["from"] = "negative curvature in (b, v, c): uᵀHu = " + cert["uHu"]
                return ray
        return negative_curvature(phi, target, interval)

    def escape() -> dict[str, Any] | None:
        for u in _escape_rays(phi, target, interval):
            cert = descent_ray(phi, target, interval, u)
            if cert is not None:
                return cert
        return None

    def generic() -> dict[str, Any] | None:  # last resort: every ray (u_w, u_b, u_v) ∈ {-1, 0, 1}³ of one neuron
        for j in range(n):
            for uw, ub, uv in itertools.product((1, -1, 0), repeat=3):
                if uw == ub == uv == 0:
                    continue
                cert = descent_ray(phi, target, interval, _ray(3 * n + 1, {j: uw, n + j: ub, 2 * n + j: uv}))
                if cert is not None:
                    return cert
        return None

    order: list[Callable[[], dict[str, Any] | None]] = (
        [curvature_rays, escape, generic] if prefer_curvature else [escape, curvature_rays, generic]
    )
    for f in order:
        cert = f()
        if cert is not None:
            return cert
    return None


def one_sided_derivatives(
    phi: ShallowParams, target: Target, interval: Interval | None = None
) -> dict[str, flint.fmpq]:
    """Exact one-sided derivatives along ±e_w, ±e_b of each live neuron with w = b = 0.

    >>> from symtrunc.landscape.params import ShallowParams, Target
    >>> {k: str(x) for k, x in one_sided_derivatives(ShallowParams.from_values([0], [0], [1], "1/2"),
    ...                                               Target(1, 0)).items()}
    {'w1+': '-1/6', 'w1-': '0', 'b1+': '0', 'b1-': '0'}
    """
    iv = default_interval(interval)
    n, out = phi.width, {}
    for j in range(n):
        w, b, v = phi.neuron(j)
        if w != 0 or b != 0 or v == 0:
            continue
        for name, i in (("w", j), ("b", n + j)):
            for sign in (1, -1):
                u = [0] * (3 * n + 1)
                u[i] = sign
                out[f"{name}{j + 1}{'+' if sign > 0 else '-'}"] = directional_derivative(phi, target, u, iv)
    return out


def classify(phi: ShallowParams, target: Target, interval: Interval | None = None) -> Classification:
    """Decide criticality and classify φ exactly (see the module docstring).

    Parameters
    ----------
    phi : ShallowParams
        The network (its activation carries the σ'(0) convention).
    target : Target
        f(x) = αx + β.
    interval : Interval, optional
        The input interval with the uniform measure (default [0, 1]).

    Returns
    -------
    Classification

    Examples
    --------
    Reference TV6 (degenerate neuron w = b = 0): critical with σ'(0) := 0 but not
    differentiable; a saddle. With σ'(0) := 1 it is not critical.

    >>> from symtrunc.landscape.params import ShallowParams, Target
    >>> from symtrunc.landscape.activations import Activation
    >>> r = classify(ShallowParams.from_values([0], [0], [1], "1/2"), Target(1, 0))
    >>> r.verdict, r.critical, r.smooth.differentiable
    ('saddle', True, False)
    >>> classify(ShallowParams.from_values([0], [0], [1], "1/2", Activation.relu(1)), Target(1, 0)).verdict
    'not_critical'
    """
    iv = default_interval(interval)
    value = loss(phi, target, iv)
    grad = gradient(phi, target, iv)
    smooth = smoothness(phi, target, iv)
    types = neuron_types(phi, iv)
    names = phi.coordinate_names()
    notes: list[str] = []
    one_sided: dict[str, flint.fmpq] = {}
    if not smooth.differentiable:
        notes.append(
            f"L is not differentiable at φ; the gradient is the generalized one with σ'(0) := "
            f"{phi.activation.derivative_at_zero} (one-sided derivatives in one_sided)"
        )
        one_sided = one_sided_derivatives(phi, target, iv)
    nz = next((i for i, g in enumerate(grad) if g != 0), None)
    if nz is not None:
        return Classification(
            "not_critical",
            False,
            smooth,
            value,
            grad,
            types,
            [t.kind for t in types],
            None,
            {"kind": "nonzero_gradient", "coordinate": names[nz], "value": q_str(grad[nz])},
            [],
            tuple(notes),
            one_sided,
        )
    if value == 0:
        return Classification(
            "global_min",
            True,
            smooth,
            value,
            grad,
            types,
            [t.kind for t in types],
            None,
            {"kind": "zero_loss", "loss": "0"},
            [],
            tuple(notes),
            one_sided,
        )
    if phi.width == 0:  # L(c) = L(c*) + (c − c*)²: the critical point is the global minimum over R¹
        return Classification(
            "global_min",
            True,
            smooth,
            value,
            grad,
            types,
            [],
            None,
            {
                "kind": "width_zero",
                "loss": q_str(value),
                "argument": "N = 0: L(c) is the convex quadratic (c - f(mid))² + Var f",
            },
            [],
            tuple(notes),
            one_sided,
        )
    k, checks = None, []
    roles = [t.kind for t in types]
    if phi.activation.name == "relu":
        k, checks = theorem_r_checks(phi, target, iv, value, types)
        roles = _roles(phi, target, types, _knots(types))
        failed = [c for c, h in checks if not h]
        if failed:
            notes.append("the exact computation disagrees with the reconstructed Theorem R: " + "; ".join(failed))
        lm = local_min_conditions(phi, target, iv, types)
        if all(h for _, h in lm):
            cert = _saddle_certificate(phi, target, iv, prefer_curvature=False)
            if cert is None:
                return Classification(
                    "local_min",
                    True,
                    smooth,
                    value,
                    grad,
                    types,
                    roles,
                    k,
                    {
                        "kind": "dead_neuron_local_min",
                        "loss": q_str(value),
                        "conditions": [{"condition": c, "holds": h} for c, h in lm],
                        "argument": "no kink inside; every perturbation adds δc and ramps g_j with ∫ r g_j ≥ 0, "
                        "so ΔL = 2∫ r Σ g_j + ∫ (δc + Σ g_j)² ≥ 0 (non-strict, not global: L > 0)",
                    },
                    checks,
                    tuple(notes),
                    one_sided,
                )
            notes.append(
                "the local-minimum conditions hold but an exact descent was found: the exact computation wins"
            )  # pragma: no cover - would refute the reconstruction
    cert = _saddle_certificate(phi, target, iv, prefer_curvature=bool(k))
    if cert is not None:
        return Classification(
            "saddle", True, smooth, value, grad, types, roles, k, cert, checks, tuple(notes), one_sided
        )
    if phi.activation.name != "relu":
        notes.append(
            f"critical with L > 0 for {phi.activation.name}: the journal version states that no "
            "non-global local minima exist, but no exact certificate was found"
        )
    else:
        notes.append("no exact certificate found for this critical point")
    return Classification(
        "unclassified", True, smooth, value, grad, types, roles, k, {"kind": "none"}, checks, tuple(notes), one_sided
    )


def check_certificate(
    phi: ShallowParams, target: Target, interval: Interval | None, verdict: str, cert: dict[str, Any]
) -> bool:
    """Re-check a verdict and its certificate from scratch, exactly.

    >>> from symtrunc.landscape.params import ShallowParams, Target
    >>> tv5b = ShallowParams.from_values([1], [-1], [-1], "1/2")
    >>> r = classify(tv5b, Target(1, 0)); r.verdict
    'local_min'
    >>> check_certificate(tv5b, Target(1, 0), None, "local_min", r.certificate)
    True
    >>> tv5 = ShallowParams.from_values([1], [-1], [1], "1/2")          # v w α > 0: not dead-like
    >>> check_certificate(tv5, Target(1, 0), None, "local_min", r.certificate)
    False
    """
    iv = default_interval(interval)
    if not isinstance(cert, dict):
        return False
    grad = gradient(phi, target, iv)
    value = loss(phi, target, iv)
    kind = cert.get("kind")
    if verdict == "not_critical":
        names = phi.coordinate_names()
        if cert.get("coordinate") not in names:
            return False
        i = names.index(cert["coordinate"])
        return grad[i] != 0 and q_str(grad[i]) == cert.get("value")
    if any(g != 0 for g in grad):
        return False
    if verdict == "global_min":
        return value == 0 or (phi.width == 0 and kind == "width_zero")
    if verdict == "local_min":
        return (
            kind == "dead_neuron_local_min"
            and value > 0
            and all(h for _, h in local_min_conditions(phi, target, iv, neuron_types(phi, iv)))
        )
    if verdict == "saddle":
        if kind == "descent_ray":
            return check_descent_ray(phi, target, iv, cert)
        if kind == "negative_curvature":
            return check_negative_curvature(phi, target, iv, cert)
    return False
