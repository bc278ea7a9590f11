"""Exact conversion of user numbers to rationals (python-flint ``fmpq``).

Decimal strings are read exactly (``"0.1"`` is 1/10), floats are converted to
the binary fraction they store, and anything inexact or non-finite is refused.

Strings are read by symtrunc's own parser, not Python's ``int``/``Decimal``: only ASCII
decimals ``[+-]digits[.digits][e[+-]digits]`` and fractions ``[+-]digits/digits``, with no
limit on the length of integers that Python's 4,300-digit ``int`` conversion limit would
impose. To refuse hostile input up front (``"1e999999999"`` is 15 bytes but would expand
to a billion digits), a number may have at most :attr:`ParseLimits.max_digits` digits and
an exponent of at most :attr:`ParseLimits.max_exponent` in absolute value (defaults 100,000
and 10,000; raise them with :func:`parse_limits` or the environment variables
``SYMTRUNC_MAX_DIGITS`` and ``SYMTRUNC_MAX_EXPONENT``).

Examples
--------
>>> from symtrunc.exact.rational import to_q, q_str
>>> to_q("0.1"), to_q("-3/4"), to_q("1e-3"), to_q(0.5)
(1/10, -3/4, 1/1000, 1/2)
>>> q_str(to_q("2.50"))
'5/2'
>>> to_q(0.1) == to_q("0.1")   # a float is read as the binary number it holds
False
>>> to_q("1e999999999")
Traceback (most recent call last):
...
symtrunc.errors.DataError: '1e999999999': exponent 999999999 is beyond the limit of ±10000 (raise it with SYMTRUNC_MAX_EXPONENT or symtrunc.exact.rational.parse_limits)
"""

from __future__ import annotations

import functools
import numbers
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import flint

from symtrunc.errors import DataError

__all__ = [
    "to_q",
    "q_str",
    "q_to_sympy",
    "q_to_fraction",
    "is_number_syntax",
    "ParseLimits",
    "parse_limits",
    "current_parse_limits",
]

_DECIMAL_RE = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?", re.ASCII)
_FRACTION_RE = re.compile(r"([+-]?)(\d+)\s*/\s*(\d+)", re.ASCII)
_NON_FINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


@dataclass(frozen=True)
class ParseLimits:
    """Bounds on the numbers :func:`to_q` reads from text (strings and ``Decimal``).

    Attributes
    ----------
    max_digits : int
        Most digits in a decimal's mantissa, or in each of a fraction's numerator and
        denominator; at least 20 (shorter numbers are read without looking the limits up).
    max_exponent : int
        Largest absolute value of a decimal's exponent (``"1e5"``: 5).
    """

    max_digits: int = 100_000
    max_exponent: int = 10_000

    def __post_init__(self) -> None:
        for name, least in (("max_digits", 20), ("max_exponent", 1)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < least:
                raise DataError(f"{name} must be an integer >= {least}, got {v!r}")


_LIMITS: ContextVar[ParseLimits | None] = ContextVar("symtrunc_parse_limits", default=None)


def current_parse_limits() -> ParseLimits:
    """The limits in force: set by :func:`parse_limits`, else from the environment variables
    (read once, when first needed), else the defaults.

    >>> current_parse_limits()
    ParseLimits(max_digits=100000, max_exponent=10000)
    """
    limits = _LIMITS.get()
    return limits if limits is not None else _environment_limits()


@functools.cache
def _environment_limits() -> ParseLimits:
    env = {}
    for name, var in (("max_digits", "SYMTRUNC_MAX_DIGITS"), ("max_exponent", "SYMTRUNC_MAX_EXPONENT")):
        raw = os.environ.get(var)
        if raw is not None:
            if not raw.strip().isascii() or not raw.strip().isdigit():
                raise DataError(f"{var} must be a whole number, got {raw!r}")
            env[name] = int(raw)
    return ParseLimits(**env)


@contextmanager
def parse_limits(*, max_digits: int | None = None, max_exponent: int | None = None) -> Iterator[ParseLimits]:
    """Change the parsing limits inside a ``with`` block (thread- and task-local).

    >>> with parse_limits(max_exponent=400_000):
    ...     to_q("1e300000") == 10 ** 300000
    True
    """
    base = current_parse_limits()
    limits = ParseLimits(
        max_digits if max_digits is not None else base.max_digits,
        max_exponent if max_exponent is not None else base.max_exponent,
    )
    token = _LIMITS.set(limits)
    try:
        yield limits
    finally:
        _LIMITS.reset(token)


def _show(s: str) -> str:
    return repr(s) if len(s) <= 40 else repr(s[:30]) + f"... ({len(s)} characters)"


def _too_many_digits(s: str, n: int, limits: ParseLimits) -> DataError:
    return DataError(
        f"{_show(s)}: {n} digits is beyond the limit of {limits.max_digits} (raise it with "
        "SYMTRUNC_MAX_DIGITS or symtrunc.exact.rational.parse_limits)"
    )


def _too_large_exponent(s: str, exponent: str | int, limits: ParseLimits) -> DataError:
    return DataError(
        f"{_show(s)}: exponent {exponent} is beyond the limit of ±{limits.max_exponent} "
        "(raise it with SYMTRUNC_MAX_EXPONENT or symtrunc.exact.rational.parse_limits)"
    )


def _int(sign: str, digits: str) -> int:
    # int() is fastest but refuses more than 4,300 digits; python-flint reads any length
    v = int(digits) if len(digits) <= 4000 else int(flint.fmpz(digits))
    return -v if sign == "-" else v


def _from_str(s: str) -> flint.fmpq:
    t = s.strip()
    # fast path: an ASCII integer or fraction of at most 20 digits a part (within any limits;
    # network files are mostly these); everything else goes through the regular expressions
    num, slash, den = t.partition("/")
    body = num[1:] if num.startswith(("-", "+")) else num
    if t.isascii() and 0 < len(body) <= 20 and body.isdigit():
        if not slash:
            return flint.fmpq(int(num))
        if 0 < len(den) <= 20 and den.isdigit() and den.strip("0"):
            return flint.fmpq(int(num), int(den))
    m = _DECIMAL_RE.fullmatch(t)
    if m and (m.group(2) or m.group(3)):
        sign, whole, frac, exp = m.groups()
        digits = whole + frac if frac else whole
        e = -len(frac) if frac else 0
        if exp or len(digits) > 20:  # short plain decimals are within any limits
            limits = current_parse_limits()
            if len(digits) > limits.max_digits:
                raise _too_many_digits(s, len(digits), limits)
            if exp:
                body = exp.lstrip("+-").lstrip("0")
                if len(body) > len(str(limits.max_exponent)) or int(body or "0") > limits.max_exponent:
                    raise _too_large_exponent(s, exp.lstrip("+") if len(exp) <= 20 else exp[:20] + "...", limits)
                e += int(exp)
        mantissa = _int(sign, digits)
        return flint.fmpq(mantissa * 10**e) if e >= 0 else flint.fmpq(mantissa, 10**-e)
    limits = current_parse_limits()
    m = _FRACTION_RE.fullmatch(t)
    if m:
        sign, num, den = m.groups()
        n = max(len(num), len(den))
        if n > limits.max_digits:
            raise _too_many_digits(s, n, limits)
        q = _int("", den)
        if q == 0:
            raise DataError(f"zero denominator in {_show(s)}")
        return flint.fmpq(_int(sign, num), q)
    if t.lower() in _NON_FINITE:
        raise DataError(f"not a finite number: {_show(s)} (NaN and infinity are not allowed)")
    raise DataError(f"not a number: {_show(s)}")


def is_number_syntax(s: str) -> bool:
    """Whether ``s`` is written as a number (a decimal, a fraction, NaN or infinity), readable or
    not: a CSV header is a row none of whose feature cells is (``"1/0"`` and ``"nan"`` are bad
    numbers of a data row, not column names).

    >>> [is_number_syntax(c) for c in ("x", "0x10", "1_0", "1e999999999", "nan", "1/0", " 2.5 ")]
    [False, False, False, True, True, True, True]
    """
    t = s.strip()
    m = _DECIMAL_RE.fullmatch(t)
    return bool(m and (m.group(2) or m.group(3))) or bool(_FRACTION_RE.fullmatch(t)) or t.lower() in _NON_FINITE


def _from_decimal(x: Decimal) -> flint.fmpq:
    """A finite ``Decimal`` within the limits (its written form is gone: the same bounds on the
    value as for strings, digits ``<= max_digits`` and ``-max_exponent - max_digits <=`` exponent
    ``<= max_exponent``)."""
    if not x.is_finite():
        raise DataError(f"not a finite number: {x!r} (NaN and infinity are not allowed)")
    limits = current_parse_limits()
    _, digits, exp = x.as_tuple()
    exponent = int(exp)  # an int for finite values ('n', 'N', 'F' only for NaN and infinity)
    if len(digits) > limits.max_digits:
        raise _too_many_digits(str(x), len(digits), limits)
    if not -limits.max_exponent - limits.max_digits <= exponent <= limits.max_exponent:
        raise _too_large_exponent(str(x), exponent, limits)
    return flint.fmpq(*x.as_integer_ratio())


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
    if isinstance(x, str):
        return _from_str(x)
    if isinstance(x, flint.fmpq):
        return x
    if isinstance(x, bool):
        raise DataError(f"a boolean is not a number: {x!r}")
    if isinstance(x, (int, flint.fmpz)):
        return flint.fmpq(int(x))
    if isinstance(x, Fraction):
        return flint.fmpq(x.numerator, x.denominator)
    if isinstance(x, Decimal):
        return _from_decimal(x)
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
