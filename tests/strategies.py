"""Hypothesis strategies for random exact data sets."""

from fractions import Fraction

from hypothesis import strategies as st

import symtrunc
from symtrunc.errors import DataError


@st.composite
def clustered_data(draw, max_q=4, max_m=5, spread=Fraction(1, 2)):
    """Q classes in R^M, class j near 12·e_j (plus a shared offset), small rational noise."""
    Q = draw(st.integers(2, max_q))
    M = draw(st.integers(Q, max_m))
    noise = st.fractions(min_value=-spread, max_value=spread, max_denominator=8)
    X, y = [], []
    for j in range(Q):
        center = [12 if k == j else 0 for k in range(M)]
        for _ in range(draw(st.integers(1, 5))):
            X.append([c + draw(noise) for c in center])
            y.append(f"c{j}")
    try:
        return symtrunc.LabeledData.from_arrays(X, y)
    except DataError:  # e.g. a duplicate point under two labels: impossible here, kept for safety
        from hypothesis import assume

        assume(False)


@st.composite
def random_data(draw, max_q=3, max_m=4):
    """Small random rational data: SLS or not, anything goes (valid LabeledData only)."""
    from hypothesis import assume

    Q = draw(st.integers(2, max_q))
    M = draw(st.integers(Q, max_m))
    coord = st.fractions(min_value=-4, max_value=4, max_denominator=4)
    X, y = [], []
    for j in range(Q):
        for _ in range(draw(st.integers(1, 4))):
            X.append([draw(coord) for _ in range(M)])
            y.append(j)
    try:
        return symtrunc.LabeledData.from_arrays(X, y)
    except DataError:
        assume(False)
