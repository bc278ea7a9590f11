r"""Parameters φ = (w, b, v, c) of a shallow network, the affine target and the interval.

The realization is N^φ(x) = c + Σ_j v_j σ(w_j x + b_j) (scalar input and output, N hidden
neurons, parameter space R^{3N+1}, coordinates ordered w_1..w_N, b_1..b_N, v_1..v_N, c as in
Cheridito, Jentzen & Rossmannek). The target is f(x) = αx + β and the input is uniform on
[lo, hi]. Every number is an exact rational (python-flint ``fmpq``); decimal strings are read
exactly.

Examples
--------
>>> phi = ShallowParams.from_values(w=[1, -2], b=["-1/2", 1], v=[3, "0.5"], c="-1/4")
>>> phi.width, phi.vector()
(2, [1, -2, -1/2, 1, 3, 1/2, -1/4])
>>> phi.with_vector([0] * 7).c
0
>>> Target.parse("1, 0"), Interval.parse("-1,2")
(Target(alpha=1, beta=0), Interval(lo=-1, hi=2))
>>> Interval.parse("1,1")
Traceback (most recent call last):
...
symtrunc.errors.DataError: empty interval [1, 1]: need lo < hi
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flint

from symtrunc.errors import DataError, FormatError
from symtrunc.exact.rational import q_str, to_q
from symtrunc.landscape.activations import Activation

__all__ = ["Interval", "ShallowParams", "Target", "default_interval", "load_params", "params_from_dict", "parse_pair"]


def parse_pair(text: str, what: str) -> tuple[flint.fmpq, flint.fmpq]:
    """Read ``"A,B"`` as two exact rationals (``what`` names the option in errors).

    >>> parse_pair("0.1, 3/4", "--target")
    (1/10, 3/4)
    >>> parse_pair("1", "--target")
    Traceback (most recent call last):
    ...
    symtrunc.errors.DataError: --target must be two numbers A,B, got '1'
    """
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 2 or not all(parts):
        raise DataError(f"{what} must be two numbers A,B, got {text!r}")
    try:
        return to_q(parts[0]), to_q(parts[1])
    except DataError as e:
        raise DataError(f"{what}: {e}") from None


@dataclass(frozen=True)
class Target:
    """The affine target f(x) = αx + β (exact)."""

    alpha: flint.fmpq
    beta: flint.fmpq

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha", to_q(self.alpha))
        object.__setattr__(self, "beta", to_q(self.beta))

    @classmethod
    def parse(cls, text: str) -> Target:
        """Read ``"ALPHA,BETA"``."""
        return cls(*parse_pair(text, "--target"))

    def __call__(self, x: Any) -> flint.fmpq:
        return self.alpha * to_q(x) + self.beta


@dataclass(frozen=True)
class Interval:
    """The input interval [lo, hi] with the uniform probability measure (lo < hi)."""

    lo: flint.fmpq = field(default_factory=lambda: flint.fmpq(0))
    hi: flint.fmpq = field(default_factory=lambda: flint.fmpq(1))

    def __post_init__(self) -> None:
        lo, hi = to_q(self.lo), to_q(self.hi)
        if not lo < hi:
            raise DataError(f"empty interval [{lo}, {hi}]: need lo < hi")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    @classmethod
    def parse(cls, text: str) -> Interval:
        """Read ``"LO,HI"``."""
        return cls(*parse_pair(text, "--interval"))

    @property
    def length(self) -> flint.fmpq:
        """hi − lo."""
        return self.hi - self.lo

    @property
    def midpoint(self) -> flint.fmpq:
        """(lo + hi)/2."""
        return (self.lo + self.hi) / 2


def default_interval(interval: Interval | None) -> Interval:
    """``interval``, or [0, 1] for None (the default of every landscape function)."""
    return interval if interval is not None else Interval()


def _qs(values: Sequence[Any], name: str) -> tuple[flint.fmpq, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise DataError(f"{name} must be a list of numbers, got {values!r}")
    try:
        return tuple(to_q(x) for x in values)
    except DataError as e:
        raise DataError(f"{name}: {e}") from None


@dataclass(frozen=True)
class ShallowParams:
    """φ = (w, b, v, c) ∈ Q^{3N+1} and the activation σ.

    Parameters
    ----------
    w, b, v : tuple of fmpq, each of length N
        Inner weights, inner biases and outer weights.
    c : fmpq
        Output bias.
    activation : Activation
        Default: ReLU with σ'(0) := 0.
    """

    w: tuple[flint.fmpq, ...]
    b: tuple[flint.fmpq, ...]
    v: tuple[flint.fmpq, ...]
    c: flint.fmpq
    activation: Activation = field(default_factory=Activation.relu)

    def __post_init__(self) -> None:
        w, b, v = _qs(self.w, "w"), _qs(self.b, "b"), _qs(self.v, "v")
        if not len(w) == len(b) == len(v):
            raise DataError(f"w, b and v must have the same length, got {len(w)}, {len(b)}, {len(v)}")
        object.__setattr__(self, "w", w)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "v", v)
        object.__setattr__(self, "c", to_q(self.c))
        if not isinstance(self.activation, Activation):
            raise DataError(f"activation must be an Activation, got {self.activation!r}")

    @classmethod
    def from_values(
        cls, w: Sequence[Any], b: Sequence[Any], v: Sequence[Any], c: Any, activation: Activation | None = None
    ) -> ShallowParams:
        """Build φ from numbers in any exact format (``"p/q"``, decimals, ints, Fractions)."""
        return cls(w, b, v, c, activation or Activation.relu())

    @property
    def width(self) -> int:
        """The number N of hidden neurons."""
        return len(self.w)

    def vector(self) -> list[flint.fmpq]:
        """φ as a vector (w_1..w_N, b_1..b_N, v_1..v_N, c)."""
        return [*self.w, *self.b, *self.v, self.c]

    def with_vector(self, values: Sequence[Any]) -> ShallowParams:
        """The parameters with coordinates ``values`` (same layout as :meth:`vector`)."""
        n = self.width
        if len(values) != 3 * n + 1:
            raise DataError(f"need {3 * n + 1} coordinates, got {len(values)}")
        return ShallowParams(values[:n], values[n : 2 * n], values[2 * n : 3 * n], values[3 * n], self.activation)

    def as_direction(self, values: Sequence[Any]) -> list[flint.fmpq]:
        """``values`` as an exact direction u in the parameter space (refused unless of length 3N+1).

        >>> ShallowParams.from_values([1], [0], [1], 0).as_direction([1, 0])
        Traceback (most recent call last):
        ...
        symtrunc.errors.DataError: direction needs 4 coordinates, got 2
        """
        u = [to_q(x) for x in values]
        if len(u) != 3 * self.width + 1:
            raise DataError(f"direction needs {3 * self.width + 1} coordinates, got {len(u)}")
        return u

    def shifted(self, direction: Sequence[Any], step: Any) -> ShallowParams:
        """φ + step·direction."""
        s = to_q(step)
        return self.with_vector([p + s * to_q(d) for p, d in zip(self.vector(), direction, strict=True)])

    def neuron(self, j: int) -> tuple[flint.fmpq, flint.fmpq, flint.fmpq]:
        """(w_j, b_j, v_j) (0-based j)."""
        return self.w[j], self.b[j], self.v[j]

    def realization(self, x: Any) -> flint.fmpq:
        """N^φ(x), exactly.

        >>> ShallowParams.from_values([1], ["-1/2"], [1], 0).realization("3/4")
        1/4
        """
        x = to_q(x)
        sig = self.activation.sigma
        return self.c + sum((vj * sig(wj * x + bj) for wj, bj, vj in zip(self.w, self.b, self.v)), flint.fmpq(0))

    def coordinate_names(self) -> list[str]:
        """Names of the coordinates, e.g. ``['w1', 'b1', 'v1', 'c']`` for N = 1 (in vector order)."""
        n = self.width
        return [f"{p}{j + 1}" for p in "wbv" for j in range(n)] + ["c"]

    def to_dict(self) -> dict[str, Any]:
        """The PARAMS.json document (numbers as ``"p/q"`` strings)."""
        d: dict[str, Any] = {
            "w": [q_str(x) for x in self.w],
            "b": [q_str(x) for x in self.b],
            "v": [q_str(x) for x in self.v],
            "c": q_str(self.c),
            "activation": self.activation.name,
        }
        if self.activation.name == "leaky_relu":
            d["slope"] = q_str(self.activation.slope)
        return d


_KEYS = {"w", "b", "v", "c", "activation", "slope", "sigma_prime_at_zero"}


def params_from_dict(doc: Any, derivative_at_zero: Any = None) -> ShallowParams:
    """Read a PARAMS.json document (a dict), refusing anything malformed.

    Keys: ``w``, ``b``, ``v`` (lists), ``c`` and optionally ``activation`` (``relu`` by
    default, ``leaky_relu`` or ``quadratic``), ``slope`` (leaky ReLU) and
    ``sigma_prime_at_zero``. Numbers are strings ``"p/q"``, decimal strings or integers.

    >>> params_from_dict({"w": ["1"], "b": ["-1/2"], "v": [1], "c": "0"}).b
    (-1/2,)
    >>> params_from_dict({"w": [1, 2], "b": [0], "v": [1, 1], "c": 0})
    Traceback (most recent call last):
    ...
    symtrunc.errors.DataError: w, b and v must have the same length, got 2, 1, 2
    >>> params_from_dict({"w": [1], "b": [0], "v": [1]})
    Traceback (most recent call last):
    ...
    symtrunc.errors.FormatError: PARAMS is missing the key 'c'
    """
    if not isinstance(doc, dict):
        raise FormatError(f"PARAMS must be a JSON object, got {type(doc).__name__}")
    for k in ("w", "b", "v", "c"):
        if k not in doc:
            raise FormatError(f"PARAMS is missing the key {k!r}")
    extra = sorted(set(doc) - _KEYS)
    if extra:
        raise FormatError(
            f"PARAMS has unknown key(s) {', '.join(map(repr, extra))}; allowed: {', '.join(sorted(_KEYS))}"
        )
    for k in ("w", "b", "v"):
        if not isinstance(doc[k], list):
            raise DataError(f"{k} must be a list of numbers, got {doc[k]!r}")
    for k in ("w", "b", "v"):
        for x in doc[k]:
            if isinstance(x, float):
                raise DataError(
                    f"{k}: write numbers as strings 'p/q', decimal strings or integers, got the float {x!r}"
                )
    if isinstance(doc["c"], (list, dict, float)):
        raise DataError(f"c must be one number (a string 'p/q' or an integer), got {doc['c']!r}")
    name = doc.get("activation", "relu")
    if not isinstance(name, str):
        raise DataError(f"activation must be a string, got {name!r}")
    s0 = derivative_at_zero if derivative_at_zero is not None else doc.get("sigma_prime_at_zero")
    act = Activation.from_name(name, doc.get("slope"), s0)
    return ShallowParams(doc["w"], doc["b"], doc["v"], doc["c"], act)


def load_params(path: str | Path, derivative_at_zero: Any = None) -> ShallowParams:
    """Read PARAMS.json from ``path`` (see :func:`params_from_dict`)."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"no such file: {p}")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise FormatError(f"{p.name} is not valid JSON: {e}") from None
    return params_from_dict(doc, derivative_at_zero)
