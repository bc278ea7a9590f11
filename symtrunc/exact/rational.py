"""Exact conversion of user numbers to rationals (python-flint ``fmpq``).

Decimal strings are read exactly (``"0.1"`` is 1/10), floats are converted to
the binary fraction they store, and anything inexact or non-finite is refused.

Examples
--------
>>> from symtrunc.exact.rational import to_q, q_str
>>> to_q("0.1"), to_q("-3/4"), to_q("1e-3"), to_q(0.5)
(1/10, -3/4, 1/1000, 1/2)
>>> q_str(to_q("2.50"))
'5/2'
>>> to_q(0.1) == to_q("0.1")   # a float is read as the binary number it holds
False
"""

from __future__ import annotations

import numbers
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

import flint

from symtrunc.errors import DataError

__all__ = ["to_q", "q_str", "q_to_sympy", "q_to_fraction"]
_FRACTION_RE = re.compile(r"^\s*([+-]?\d+)\s*/\s*(\d+)\s*$")


def _from_str(s: str) -> flint.fmpq:
    m = _FRACTION_RE.match(s)
    if m:
        num, den = int(m.group(1)), int(m.group(2))
        if den == 0:
            raise DataError(f"zero denominator in {s!r}")
        return flint.fmpq(num, den)
    try:
        d = Decimal(s.strip())
    except InvalidOperation:
        raise DataError(f"not a number: {s!r}") from None
    if not d.is_finite():
        raise DataError(f"not a finite number: {s!r} (NaN and infinity are not allowed)")
    num, den = d.as_integer_ratio()
    return flint.fmpq(num, den)


def to_q(x: Any) -> flint.fmpq:
    """Convert ``x`` exactly to a python-flint rational.

    Parameters
    ----------
    x : int, str, float, Fraction, Decimal, sympy Rational, numpy number or fmpq
        The number. Strings may be integers, decimals (``"1.25"``, ``"1e-3"``)
        or fractions (``"7/4"``).

    Returns
    -------
    flint.fmpq
        The exact value.

    Raises
    ------
    DataError
        If ``x`` is NaN, infinite, boolean, irrational or not a number.

    Examples
    --------
    >>> import sympy
    >>> to_q(sympy.Rational(7, 4)), to_q(3)
    (7/4, 3)
    >>> to_q("abc")
    Traceback (most recent call last):
    ...
    symtrunc.errors.DataError: not a number: 'abc'
    """
    if isinstance(x, flint.fmpq):
        return x
    if isinstance(x, bool):
        raise DataError(f"a boolean is not a number: {x!r}")
    if isinstance(x, (int, flint.fmpz)):
        return flint.fmpq(int(x))
    if isinstance(x, str):
        return _from_str(x)
    if isinstance(x, Fraction):
        return flint.fmpq(x.numerator, x.denominator)
    if isinstance(x, Decimal):
        if not x.is_finite():
            raise DataError(f"not a finite number: {x!r}")
        return flint.fmpq(*x.as_integer_ratio())
    if isinstance(x, numbers.Integral):  # numpy integers
        return flint.fmpq(int(x))
    if isinstance(x, numbers.Real) and not _is_sympy(x):  # float, numpy floats
        f = float(x)
        if f != f or f in (float("inf"), float("-inf")):
            raise DataError(f"not a finite number: {x!r} (NaN and infinity are not allowed)")
        return flint.fmpq(*f.as_integer_ratio())
    if _is_sympy(x):
        import sympy

        if isinstance(x, sympy.Rational):
            return flint.fmpq(int(x.p), int(x.q))
        if isinstance(x, sympy.Float):
            if not x.is_finite:
                raise DataError(f"not a finite number: {x!r}")
            return to_q(sympy.Rational(x))
        raise DataError(f"not a rational number: {x!r} (symtrunc data must be rational)")
    raise DataError(f"not a number: {x!r} (type {type(x).__name__})")


def _is_sympy(x: Any) -> bool:
    return type(x).__module__.startswith("sympy")


def q_str(q: flint.fmpq) -> str:
    """Format a rational as ``"p/q"`` or ``"p"`` (the JSON number format).

    >>> q_str(to_q("-0.75")), q_str(to_q(4))
    ('-3/4', '4')
    """
    return str(q)


def q_to_sympy(q: flint.fmpq):
    """Return ``q`` as a ``sympy.Rational``.

    >>> q_to_sympy(to_q("1/3"))
    1/3
    """
    import sympy

    return sympy.Rational(int(q.p), int(q.q))


def q_to_fraction(q: flint.fmpq) -> Fraction:
    """Return ``q`` as a :class:`fractions.Fraction`.

    >>> q_to_fraction(to_q("0.25"))
    Fraction(1, 4)
    """
    return Fraction(int(q.p), int(q.q))
