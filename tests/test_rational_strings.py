"""Strings read by ``to_q``: integers and fractions of any length give the exact value that
``fractions.Fraction`` gives, and malformed text is refused (both the short fast path and the
general regular-expression route)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symtrunc.errors import DataError
from symtrunc.exact.rational import to_q

digits = st.text("0123456789", min_size=1, max_size=30)


@given(st.sampled_from(["", "-", "+"]), digits, st.none() | digits, st.sampled_from(["", " ", "\t"]))
def test_integers_and_fractions_read_exactly(sign, num, den, pad):
    text = f"{pad}{sign}{num}" + ("" if den is None else f"/{den}") + pad
    if den is not None and int(den) == 0:
        with pytest.raises(DataError, match="zero denominator"):
            to_q(text)
        return
    q = to_q(text)
    expected = Fraction(int(sign + num), 1 if den is None else int(den))
    assert (int(q.p), int(q.q)) == (expected.numerator, expected.denominator)


@pytest.mark.parametrize("bad", ["1_0", "١٢", "+-1", "-", "/3", "1/", "1/-2", "--1", "1/2/3", "0x10", "²"])
def test_malformed_numbers_are_refused(bad):
    with pytest.raises(DataError, match="not a number"):
        to_q(bad)
