r"""Activations of the shallow networks: ReLU, leaky ReLU and the square.

Each activation is described exactly by what the integration needs on an interval where the
pre-activation ``z`` has a fixed sign: the activation and its first two derivatives as
polynomials in ``z``, and the jump ``κ = σ'(0+) − σ'(0−)`` of the derivative at the kink
(0 for a smooth activation), which gives the Dirac terms of the Hessian.

Examples
--------
>>> relu = Activation.relu()
>>> relu.sigma(3), relu.sigma(-2), relu.kink
(3, 0, 1)
>>> leaky = Activation.leaky_relu("1/10")
>>> leaky.sigma(-2), leaky.derivative_at_zero, leaky.kink
(-1/5, 1/10, 9/10)
>>> Activation.quadratic().sigma(-3)
9
>>> Activation.from_name("tanh")
Traceback (most recent call last):
...
symtrunc.errors.DataError: unknown activation 'tanh'; use relu, leaky_relu or quadratic
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import flint

from symtrunc.errors import DataError
from symtrunc.exact.rational import to_q

__all__ = ["ACTIVATIONS", "Activation"]

#: Names accepted by :meth:`Activation.from_name` (and in PARAMS.json).
ACTIVATIONS = ("relu", "leaky_relu", "quadratic")

_Q0, _Q1 = flint.fmpq(0), flint.fmpq(1)


@dataclass(frozen=True)
class Activation:
    """A scalar activation σ, exact.

    Parameters
    ----------
    name : {"relu", "leaky_relu", "quadratic"}
        ``relu``: σ(z) = max(z, 0); ``leaky_relu``: σ(z) = z for z > 0 and ``slope``·z
        otherwise; ``quadratic``: σ(z) = z².
    slope : fmpq
        The negative-side slope of the leaky ReLU (0 for ReLU; unused for the square).
    derivative_at_zero : fmpq
        The convention for σ'(0) in the generalized gradient. It matters only for a neuron
        whose pre-activation vanishes identically (w = b = 0). Default: the left derivative
        (0 for ReLU, ``slope`` for leaky ReLU); for the square σ'(0) = 0 is forced.
    """

    name: str
    slope: flint.fmpq = _Q0
    derivative_at_zero: flint.fmpq = _Q0

    def __post_init__(self) -> None:
        if self.name not in ACTIVATIONS:
            raise DataError(f"unknown activation {self.name!r}; use {', '.join(ACTIVATIONS[:-1])} or {ACTIVATIONS[-1]}")
        object.__setattr__(self, "slope", to_q(self.slope))
        object.__setattr__(self, "derivative_at_zero", to_q(self.derivative_at_zero))
        if self.name == "leaky_relu" and self.slope == 1:
            raise DataError("a leaky ReLU with slope 1 is the identity; use a slope different from 1")
        if self.name == "relu" and self.slope != 0:
            raise DataError("the ReLU has slope 0 on the negative side; use leaky_relu for another slope")
        if self.name == "quadratic" and (self.slope != 0 or self.derivative_at_zero != 0):
            raise DataError("the quadratic activation takes no slope and has σ'(0) = 0")
        lo, hi = min(self.slope, _Q1), max(self.slope, _Q1)
        if self.name != "quadratic" and not lo <= self.derivative_at_zero <= hi:
            raise DataError(
                f"σ'(0) = {self.derivative_at_zero} is not a one-sided derivative or a convex "
                f"combination of them; use a value in [{lo}, {hi}]"
            )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def relu(cls, derivative_at_zero: Any = 0) -> Activation:
        """The ReLU σ(z) = max(z, 0) with the given σ'(0) convention (default 0)."""
        return cls("relu", _Q0, to_q(derivative_at_zero))

    @classmethod
    def leaky_relu(cls, slope: Any = "1/100", derivative_at_zero: Any = None) -> Activation:
        """The leaky ReLU with negative-side ``slope``; σ'(0) defaults to ``slope``."""
        s = to_q(slope)
        return cls("leaky_relu", s, s if derivative_at_zero is None else to_q(derivative_at_zero))

    @classmethod
    def quadratic(cls) -> Activation:
        """The square σ(z) = z²."""
        return cls("quadratic")

    @classmethod
    def from_name(cls, name: str, slope: Any = None, derivative_at_zero: Any = None) -> Activation:
        """Build an activation from its PARAMS.json name (``slope`` only for ``leaky_relu``)."""
        if name == "relu":
            if slope not in (None, 0, "0"):
                raise DataError("the ReLU takes no slope; use leaky_relu")
            return cls.relu(0 if derivative_at_zero is None else derivative_at_zero)
        if name == "leaky_relu":
            return cls.leaky_relu("1/100" if slope is None else slope, derivative_at_zero)
        if name == "quadratic":
            if slope is not None or derivative_at_zero not in (None, 0, "0"):
                raise DataError("the quadratic activation takes no slope and has σ'(0) = 0")
            return cls.quadratic()
        raise DataError(f"unknown activation {name!r}; use {', '.join(ACTIVATIONS[:-1])} or {ACTIVATIONS[-1]}")

    # ------------------------------------------------------------------ exact pieces
    @property
    def has_kink(self) -> bool:
        """Whether σ is piecewise linear with a kink at 0 (ReLU, leaky ReLU)."""
        return self.name != "quadratic"

    @property
    def kink(self) -> flint.fmpq:
        """The jump σ'(0+) − σ'(0−) (0 for the square)."""
        return _Q1 - self.slope if self.has_kink else _Q0

    def sigma(self, z: Any) -> flint.fmpq:
        """σ(z), exactly."""
        z = to_q(z)
        if self.name == "quadratic":
            return z * z
        return z if z > 0 else self.slope * z

    def branch(self, sign: int) -> tuple[tuple[flint.fmpq, ...], tuple[flint.fmpq, ...], flint.fmpq]:
        """Coefficients (in z) of σ and σ' and the constant σ'' where ``sign(z) = sign``.

        ``sign = 0`` means z vanishes identically; σ' is then the σ'(0) convention.

        >>> Activation.relu().branch(1)
        ((0, 1, 0), (1, 0), 0)
        >>> Activation.quadratic().branch(-1)
        ((0, 0, 1), (0, 2), 2)
        """
        if self.name == "quadratic":
            return (_Q0, _Q0, _Q1), (_Q0, flint.fmpq(2)), flint.fmpq(2)
        if sign > 0:
            return (_Q0, _Q1, _Q0), (_Q1, _Q0), _Q0
        if sign < 0:
            return (_Q0, self.slope, _Q0), (self.slope, _Q0), _Q0
        return (_Q0, _Q0, _Q0), (self.derivative_at_zero, _Q0), _Q0

    def describe(self) -> str:
        """One-line description including the σ'(0) convention.

        >>> Activation.relu().describe()
        "relu σ(z) = max(z, 0), σ'(0) := 0"
        """
        if self.name == "relu":
            return f"relu σ(z) = max(z, 0), σ'(0) := {self.derivative_at_zero}"
        if self.name == "leaky_relu":
            return f"leaky_relu σ(z) = z (z > 0), {self.slope}·z (z ≤ 0), σ'(0) := {self.derivative_at_zero}"
        return "quadratic σ(z) = z²"
