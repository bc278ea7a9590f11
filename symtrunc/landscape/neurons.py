r"""Types of hidden neurons, decided exactly from the pre-activations at the interval ends.

With z_lo = w lo + b and z_hi = w hi + b (reference §3, on [lo, hi] as in §6.6):

==============  ===============================  ====================================
type            condition                        meaning on [lo, hi]
==============  ===============================  ====================================
inactive        max(z_lo, z_hi) < 0              dead: output 0 near φ too
semi-inactive   max(z_lo, z_hi) = 0              output 0, but touching the kink
semi-active     z_lo · z_hi < 0                  kink t = −b/w inside (lo, hi)
active          min ≥ 0 and max > 0              affine on all of [lo, hi]
==============  ===============================  ====================================

plus the attributes *degenerate* (w = 0) and *flat* (v = 0; otherwise *live*), and for a
semi-active neuron its facing: right ("R", w > 0, active on (t, hi]) or left ("L").
The names are the reconstruction's (the paper's body was not available); the partition is
exhaustive and disjoint.

Examples
--------
>>> from symtrunc.landscape.params import ShallowParams, Interval
>>> phi = ShallowParams.from_values([1, -1, 0, 2, 1], [-2, 0, 0, -1, 0], [5, 1, 1, 0, 1], 0)
>>> [n.kind for n in neuron_types(phi)]
['inactive', 'semi-inactive', 'semi-inactive', 'semi-active', 'active']
>>> t = neuron_types(phi)[3]
>>> t.facing, t.breakpoint, t.flat, t.label()
('R', 1/2, True, 'semi-active R at 1/2, flat')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import flint

from symtrunc.exact.rational import q_str, to_q
from symtrunc.landscape.params import Interval, ShallowParams, default_interval

__all__ = ["KINDS", "NeuronType", "neuron_type", "neuron_types"]

#: The four exclusive types.
KINDS = ("inactive", "semi-inactive", "semi-active", "active")


@dataclass(frozen=True)
class NeuronType:
    """The exact type of one hidden neuron.

    Attributes
    ----------
    index : int
        1-based neuron number.
    kind : str
        One of :data:`KINDS`.
    z_lo, z_hi : fmpq
        Pre-activations at lo and hi.
    degenerate, flat : bool
        w = 0; v = 0.
    facing : str or None
        "R" (w > 0) or "L" (w < 0) for a non-degenerate neuron, else None.
    breakpoint : fmpq or None
        t = −b/w for a non-degenerate neuron.
    """

    index: int
    kind: str
    z_lo: flint.fmpq
    z_hi: flint.fmpq
    degenerate: bool
    flat: bool
    facing: str | None
    breakpoint: flint.fmpq | None

    @property
    def live(self) -> bool:
        """v ≠ 0."""
        return not self.flat

    def label(self) -> str:
        """Short human-readable description."""
        s = self.kind
        if self.kind == "semi-active":
            s += f" {self.facing} at {self.breakpoint}"
        elif self.kind == "semi-inactive" and not self.degenerate:
            s += f" (kink at {'hi' if self.facing == 'R' else 'lo'})"
        if self.degenerate:
            s += ", degenerate"
        s += ", flat" if self.flat else ""
        return s

    def to_dict(self) -> dict[str, Any]:
        """JSON form (numbers as ``"p/q"`` strings)."""
        return {
            "index": self.index,
            "type": self.kind,
            "z_lo": q_str(self.z_lo),
            "z_hi": q_str(self.z_hi),
            "degenerate": self.degenerate,
            "flat": self.flat,
            "facing": self.facing,
            "breakpoint": None if self.breakpoint is None else q_str(self.breakpoint),
        }


def neuron_type(w: Any, b: Any, v: Any, interval: Interval | None = None, index: int = 1) -> NeuronType:
    """Type of the neuron x ↦ v σ(w x + b) on ``interval`` (default [0, 1]).

    >>> neuron_type(0, 1, 0).label()
    'active, degenerate, flat'
    """
    iv = default_interval(interval)
    w, b, v = to_q(w), to_q(b), to_q(v)
    zl, zh = w * iv.lo + b, w * iv.hi + b
    hi_, lo_ = max(zl, zh), min(zl, zh)
    if hi_ < 0:
        kind = "inactive"
    elif hi_ == 0:
        kind = "semi-inactive"
    elif lo_ < 0:
        kind = "semi-active"
    else:
        kind = "active"
    facing = None if w == 0 else ("R" if w > 0 else "L")
    return NeuronType(index, kind, zl, zh, w == 0, v == 0, facing, None if w == 0 else -b / w)


def neuron_types(phi: ShallowParams, interval: Interval | None = None) -> list[NeuronType]:
    """The type of every hidden neuron of φ."""
    return [neuron_type(*phi.neuron(j), interval, j + 1) for j in range(phi.width)]
