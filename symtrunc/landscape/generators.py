r"""Exact critical points of every kind, to explore the landscape.

* :func:`global_minimum` — N^φ = f on [lo, hi] (one active neuron, the rest dead);
* :func:`sawtooth` — the (B_k) critical point with k equally spaced knots, loss
  α²(hi−lo)²/(12(k+1)⁴): a saddle for k ≥ 2; for k = 0 the constant realization, a
  non-global local minimum when every extra neuron is dead (or dead-like);
* extra neurons on request: ``split`` live neurons per knot (Σ v_j w_j shared equally),
  a ``flat`` neuron (v = 0) at every knot facing the right way, ``dead`` inactive neurons and
  ``deadlike`` semi-inactive neurons with v w α < 0;
* :func:`b0_saddle` — the (B_0) saddles with one escape neuron (semi-inactive with v w α > 0,
  degenerate with b = 0, or degenerate flat with b > 0).

Examples
--------
>>> from symtrunc.landscape.params import Target
>>> from symtrunc.landscape.critical import classify
>>> phi = sawtooth(Target(1, 0), 2)
>>> phi.w, phi.b, phi.v, phi.c
((1, -1), (-1/3, 2/3), (2/3, -2/3), 1/2)
>>> r = classify(phi, Target(1, 0)); r.verdict, r.loss == sawtooth_loss(Target(1, 0), 2)
('saddle', True)
>>> classify(sawtooth(Target(1, 0), 0, dead=2, deadlike=1), Target(1, 0)).verdict
'local_min'
"""

from __future__ import annotations

import flint

from symtrunc.errors import DataError
from symtrunc.exact.rational import q_to_sympy
from symtrunc.landscape.activations import Activation
from symtrunc.landscape.params import Interval, ShallowParams, Target, default_interval
from symtrunc.landscape.piecewise import pieces, residual

__all__ = ["b0_saddle", "dead_neuron", "global_minimum", "sawtooth", "sawtooth_loss"]


def sawtooth_loss(target: Target, k: int, interval: Interval | None = None) -> flint.fmpq:
    """α²(hi − lo)²/(12(k+1)⁴), the loss of the (B_k) critical points.

    >>> sawtooth_loss(Target(1, 0), 4)
    1/7500
    """
    iv = default_interval(interval)
    return target.alpha**2 * iv.length**2 / (12 * (k + 1) ** 4)


def dead_neuron(interval: Interval | None = None, v: int = 1) -> tuple[flint.fmpq, flint.fmpq, flint.fmpq]:
    """(w, b, v) of an inactive neuron: w = 1, b = −hi − 1 (so max z = −1 < 0)."""
    iv = default_interval(interval)
    return flint.fmpq(1), -iv.hi - 1, flint.fmpq(v)


def global_minimum(
    target: Target, interval: Interval | None = None, width: int = 1, activation: Activation | None = None
) -> ShallowParams:
    """A zero-loss network: one active neuron w = 1, b = 1 − lo, v = α, then ``width − 1`` dead ones.

    >>> from symtrunc.landscape.objective import loss
    >>> loss(global_minimum(Target(3, -2), width=3), Target(3, -2))
    0
    """
    if width < 1:
        raise DataError("a global minimum needs width ≥ 1")
    iv = default_interval(interval)
    w, b, v = [flint.fmpq(1)], [1 - iv.lo], [target.alpha]
    for _ in range(width - 1):
        dw, db, dv = dead_neuron(iv)
        w.append(dw)
        b.append(db)
        v.append(dv)
    act = activation or Activation.relu()
    if act.name == "quadratic":
        raise DataError("global_minimum builds ReLU-type networks; the square needs two neurons of opposite sign")
    return ShallowParams(w, b, v, target.beta - target.alpha * b[0], act)


def sawtooth(
    target: Target,
    k: int,
    interval: Interval | None = None,
    *,
    split: int = 1,
    flat: bool = False,
    dead: int = 0,
    deadlike: int = 0,
) -> ShallowParams:
    """The (B_k) sawtooth critical point (ReLU), with optional split, flat, dead and dead-like neurons.

    Parameters
    ----------
    target : Target
    k : int
        Even number of knots lo + (hi − lo) i/(k+1), i = 1..k.
    interval : Interval, optional
    split : int
        Live neurons per knot (each with v_j w_j = 2α/((k+1)·split)).
    flat : bool
        Add a flat neuron at every knot (facing R at odd, L at even knots).
    dead, deadlike : int
        Numbers of inactive neurons and of semi-inactive neurons at hi with v w α < 0.

    >>> phi = sawtooth(Target(2, 1), 2, split=2, flat=True, dead=1)
    >>> phi.width
    7
    """
    if k < 0 or k % 2:
        raise DataError(f"k must be a non-negative even integer, got {k}")
    if split < 1:
        raise DataError("split must be ≥ 1")
    iv = default_interval(interval)
    a = target.alpha
    w: list[flint.fmpq] = []
    b: list[flint.fmpq] = []
    v: list[flint.fmpq] = []
    for i in range(1, k + 1):
        s = iv.lo + iv.length * flint.fmpq(i, k + 1)
        sign = 1 if i % 2 else -1
        for m in range(split):
            wj = flint.fmpq(sign * (m + 1))
            w.append(wj)
            b.append(-wj * s)
            v.append(2 * a / ((k + 1) * split) / wj)
        if flat:
            w.append(flint.fmpq(sign))
            b.append(-sign * s)
            v.append(flint.fmpq(0))
    for _ in range(dead):
        dw, db, dv = dead_neuron(iv)
        w.append(dw)
        b.append(db)
        v.append(dv)
    for _ in range(deadlike):
        w.append(flint.fmpq(1))
        b.append(-iv.hi)
        v.append(flint.fmpq(-1 if a > 0 else 1))
    return ShallowParams(w, b, v, target(iv.midpoint))


def b0_saddle(target: Target, interval: Interval | None = None, kind: str = "semi-inactive") -> ShallowParams:
    """A (B_0) saddle: the constant realization f(mid) with one escape neuron.

    ``kind``: ``"semi-inactive"`` (kink at hi, v w α > 0; reference TV5), ``"degenerate-zero"``
    (w = b = 0, v = 1; TV6: L is not differentiable there) or ``"degenerate-const"``
    (w = 0, b = 1, v = 0; TV7).

    >>> from symtrunc.landscape.critical import classify
    >>> [classify(b0_saddle(Target(1, 0), kind=k), Target(1, 0)).verdict
    ...  for k in ("semi-inactive", "degenerate-zero", "degenerate-const")]
    ['saddle', 'saddle', 'saddle']
    """
    iv = default_interval(interval)
    sa = 1 if target.alpha >= 0 else -1
    if kind == "semi-inactive":
        nb = (1, -iv.hi, sa)
    elif kind == "degenerate-zero":
        nb = (0, 0, 1)
    elif kind == "degenerate-const":
        nb = (0, 1, 0)
    else:
        raise DataError(f"unknown kind {kind!r}; use semi-inactive, degenerate-zero or degenerate-const")
    return ShallowParams([nb[0]], [nb[1]], [nb[2]], target(iv.midpoint))


def flat_neuron_positions(target: Target, k: int, facing: str, interval: Interval | None = None) -> list:
    """Every kink position t ∈ [lo, hi] where a flat neuron facing ``facing`` keeps (B_k) critical.

    A flat neuron (v = 0) with kink t changes only ∂L/∂v = 2∫ r σ(±(x − t)) dμ, a piecewise
    cubic in t; its real zeros are found exactly (sympy ``real_roots`` per piece). The
    reconstruction (reference §8) says: the odd knots for "R", the even knots for "L", plus
    hi (R) or lo (L), where the neuron is semi-inactive.

    >>> flat_neuron_positions(Target(1, 0), 2, "R"), flat_neuron_positions(Target(1, 0), 2, "L")
    ([1/3, 1], [0, 2/3])
    """
    import sympy

    if facing not in ("R", "L"):
        raise DataError(f"facing must be 'R' or 'L', got {facing!r}")
    iv = default_interval(interval)
    phi = sawtooth(target, k, iv)
    t, x = sympy.symbols("t x")
    ps = [
        (
            q_to_sympy(P.lo),
            q_to_sympy(P.hi),
            sum((q_to_sympy(c) * x**e for e, c in enumerate(residual(phi, target, P))), sympy.Integer(0)),
        )
        for P in pieces(phi, iv)
    ]
    roots: set = set()
    for i, (a, b, _) in enumerate(ps):  # t in piece i
        if facing == "R":
            parts = [(t, b, ps[i][2])] + [(p, q, r) for p, q, r in ps[i + 1 :]]
            F = sum((sympy.integrate((x - t) * r, (x, lo_, hi_)) for lo_, hi_, r in parts), sympy.Integer(0))
        else:
            parts = [(p, q, r) for p, q, r in ps[:i]] + [(a, t, ps[i][2])]
            F = sum((sympy.integrate((t - x) * r, (x, lo_, hi_)) for lo_, hi_, r in parts), sympy.Integer(0))
        poly = sympy.Poly(sympy.expand(F), t)
        if poly.is_zero:
            raise DataError(f"every t in [{a}, {b}] works")  # pragma: no cover - not the case for affine targets
        for z in poly.real_roots():
            if a <= z <= b:
                roots.add(z)
    return sorted(roots)
