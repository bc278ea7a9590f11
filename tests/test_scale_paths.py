"""The vectorized exact paths behind large data: common-denominator arrays, row sets, the
rational cone's ε bound and the constraint-generation LP, each checked against an independent
``fractions.Fraction`` computation."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import flint
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symtrunc
from symtrunc.constructions import common
from symtrunc.errors import HypothesisError
from symtrunc.exact import lp
from symtrunc.exact.common_denominator import from_numpy
from symtrunc.exact.matrix import qmatrix, qvector
from symtrunc.exact.row_sets import RowSet, bit_exponent
from symtrunc.geometry.cones import rational_cone
from symtrunc.progress import reporting
from symtrunc.verification.digest import _entry_strings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.synthetic import clustered_arrays, sls_arrays  # noqa: E402
from tests.exact_reference import assert_interpolates  # noqa: E402


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=1, max_size=12))
def test_floats_in_common_denominator_form_are_their_exact_values(values):
    X = np.array(values).reshape(1, -1)
    form = from_numpy(X)
    exact = [Fraction(v) for v in values]
    if form is None:  # only when an entry of A would reach 2^62
        s = max(f.denominator for f in exact)
        assert max(abs(f) * s for f in exact) >= 2**62
        return
    A, s = form
    assert [Fraction(int(a), s) for a in A.ravel()] == exact
    assert not A.flags.writeable


def test_data_from_arrays_and_from_lists_are_equal():
    X = np.array([[0.5, 3.0], [1.25, -2.0], [7.0, 0.125]])
    a = symtrunc.LabeledData.from_arrays(X, ["a", "b", "b"])
    b = symtrunc.LabeledData.from_arrays(X.tolist(), ["a", "b", "b"])
    assert a.scaled_points is not None and b.scaled_points is None
    assert a == b and a.X == b.X and a.barycenter == b.barycenter and a.delta_squared == b.delta_squared
    with pytest.raises(ValueError):
        a.integer_array[0][0, 0] = 5  # read-only: the cached means stay true


def test_duplicate_point_under_two_labels_is_named_on_integer_arrays():
    X = np.array([[1, 2], [3, 4], [5, 6], [3, 4]])
    with pytest.raises(symtrunc.DataError, match=r"point 3 \(3, 4\) appears under two labels: 'b' and 'c'"):
        symtrunc.LabeledData.from_arrays(X, ["a", "b", "c", "c"])


@given(st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=20), st.integers(1, 10**6))
def test_bit_exponent_matches_fractions(values, s):
    A = np.array(values, dtype=np.int64).reshape(1, -1)
    ref = [Fraction(v, s) for v in values if v]
    expected = max((f.numerator.bit_length() - f.denominator.bit_length() for f in ref), default=None)
    assert bit_exponent(A, s) == expected


def _reference_epsilon(p, h, forward, backward):
    """The ε bound of the rational cone, point by point in Fractions."""
    best = None
    for sign, pts in ((1, forward), (-1, backward)):
        for x in pts:
            g = sign * sum(hi * (xi - pi) for hi, xi, pi in zip(h, x, p))
            assert g > 0
            w = max(sign * (pi - xi) for xi, pi in zip(x, p))
            if w > 0:
                best = g / w if best is None else min(best, g / w)
    return best


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from([1, 3, 8, 10**15, 2**70]))
def test_rational_cone_bound_on_row_sets_matches_fractions(seed, scale):
    rng = np.random.default_rng(seed)
    M = int(rng.integers(2, 6))
    h = [int(v) for v in rng.integers(-5, 6, size=M)]
    h[0] = h[0] or 1
    p = [Fraction(int(v), 7) for v in rng.integers(-20, 20, size=M)]
    hp = sum(a * b for a, b in zip(h, p))
    pts = [[Fraction(int(v), 1) for v in rng.integers(-30, 30, size=M)] for _ in range(60)]
    pts = [[v * scale for v in x] for x in pts]  # large entries: int64 and object paths
    side = [sum(a * b for a, b in zip(h, x)) - hp for x in pts]
    forward = [x for x, g in zip(pts, side) if g > 0]
    backward = [x for x, g in zip(pts, side) if g < 0]
    if not forward or not backward:
        return
    P, H = qvector([str(v) for v in p]), qvector(h)
    fwd = RowSet.from_matrix(qmatrix([[str(v) for v in x] for x in forward]))
    bwd = RowSet.from_matrix(qmatrix([[str(v) for v in x] for x in backward]))
    layer = rational_cone(P, H, fwd, bwd)
    bound = _reference_epsilon(p, h, forward, backward)
    eps = Fraction(layer.parameters["epsilon"])
    assert 0 < eps <= bound and eps > bound / 2 - Fraction(1, 10**30)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from([1, 3, 2**40]))
def test_rational_cone_is_the_same_with_and_without_the_float_copy(seed, s):
    # the float copy F (BLAS products, float filters) must not change any exact answer, for row
    # sets covering most of the rows (products over all rows) or few of them (gathered rows)
    rng = np.random.default_rng(seed)
    N, M = 400, int(rng.integers(2, 6))
    A = rng.integers(-50, 50, size=(N, M))
    F = A.astype(np.float64)
    h = qvector([int(v) or 1 for v in rng.integers(-5, 6, size=M)])
    p = qvector([str(Fraction(int(v), 7 * s)) for v in rng.integers(-20, 20, size=M)])
    hp = (h.transpose() * p)[0, 0]
    vals = (qmatrix(A.tolist()) * h).entries()
    fwd_all = np.array([i for i in range(N) if vals[i] / s > hp])
    bwd_all = np.array([i for i in range(N) if vals[i] / s < hp])
    if len(fwd_all) < 20 or len(bwd_all) < 20:
        return
    for fwd, bwd in ((fwd_all, bwd_all), (fwd_all[:30], bwd_all[:30])):
        layers = [rational_cone(p, h, RowSet.of(A, s, fwd, F=G), RowSet.of(A, s, bwd, F=G)) for G in (None, F)]
        assert layers[0].parameters == layers[1].parameters
    wrong = RowSet.of(A, s, np.concatenate([fwd_all[:5], bwd_all[:1]]), F=F)  # a backward point among them
    with pytest.raises(HypothesisError):
        rational_cone(p, h, wrong, RowSet.of(A, s, bwd_all, F=F))


def test_rational_cone_names_the_first_point_on_the_wrong_side():
    P, H = qvector([0, 0]), qvector([1, 0])
    fwd = RowSet.of(np.array([[5, 1], [3, 0], [-1, 2], [-2, 2]]), 1, [0, 1, 2, 3])
    bwd = RowSet.of(np.array([[-1, 0]]), 1, [0])
    with pytest.raises(HypothesisError, match=r"forward point 2 has ⟨h, x - p⟩ = -1"):
        rational_cone(P, H, fwd, bwd)


def test_working_set_lp_separates_large_sets_exactly_and_refuses_overlap(monkeypatch):
    monkeypatch.setattr(lp, "WORKING_SET_ROWS", 50)  # force constraint generation on small sets
    X, y = sls_arrays(400, 8, 2, seed=3)
    A = X.astype(np.int64)
    inside, outside = RowSet.of(A, 1, np.flatnonzero(y == 0)), RowSet.of(A, 1, np.flatnonzero(y == 1))
    sep = lp.separate_rows(inside, outside, 0)
    assert isinstance(sep, lp.Separator)
    h = [Fraction(str(v)) for v in sep.normal.entries()]
    c = Fraction(str(sep.offset))
    values = [sum(a * int(b) for a, b in zip(h, x)) for x in X]
    assert all((v < c) if lab == 0 else (v > c) for v, lab in zip(values, y))
    # overlapping hulls: a point of class 1 also in the first set
    B = np.vstack([A, A[np.flatnonzero(y == 1)[7]][None, :]])
    inside = RowSet.of(B, 1, np.r_[np.flatnonzero(y == 0), len(A)])
    cert = lp.separate_rows(inside, RowSet.of(B, 1, np.flatnonzero(y == 1)), 0)
    assert isinstance(cert, lp.OverlapCertificate)
    assert cert.check(inside.exact(), RowSet.of(B, 1, np.flatnonzero(y == 1)).exact())


def test_construction_with_working_sets_interpolates(monkeypatch):
    monkeypatch.setattr(lp, "WORKING_SET_ROWS", 100)
    X, y = sls_arrays(600, 16, 4, seed=5)
    data = symtrunc.LabeledData.from_arrays(X, y)
    net = symtrunc.construct(data)
    assert_interpolates(net, _as_lists(X, y))  # checked on the exact values, read independently
    Xc, y = clustered_arrays(600, 16, 4, seed=5)
    net2 = symtrunc.construct(symtrunc.LabeledData.from_arrays(Xc, y), method="clustered")
    assert_interpolates(net2, _as_lists(Xc, y))


def _as_lists(X, y):
    """The data read from Python lists (the exact-matrix path, not the integer-array one)."""
    return symtrunc.LabeledData.from_arrays(X.tolist(), y.tolist())


def test_huge_integers_take_the_python_integer_path():
    big = 2**70
    X = [[big, 0], [big + 1, 0], [0, big], [0, big + 1]]
    data = symtrunc.LabeledData.from_arrays(X, ["a", "a", "b", "b"])
    assert data.integer_array is None and data.scaled_rows[0].dtype == object
    net = symtrunc.construct(data)
    assert_interpolates(net, data)
    assert flint.fmpq(big) in data.X.entries()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.fractions(max_denominator=10**9), min_size=1, max_size=12),
    st.sampled_from([1, 2**70]),
)
def test_network_digest_strings_are_the_exact_rationals(values, scale):
    # the fast common-denominator strings of the network digest equal python-flint's own
    vals = [flint.fmpq(v.numerator, v.denominator) * scale for v in values]
    M = flint.fmpq_mat(1, len(vals), vals)
    assert _entry_strings(M) == [[str(v) for v in vals]]
    assert [Fraction(s) for s in _entry_strings(M)[0]] == [Fraction(int(v.p), int(v.q)) for v in vals]


def test_large_constructions_verify_by_the_certified_method(monkeypatch):
    # from CERTIFIED_FROM points the built-in proof is the certified one (same statement)
    monkeypatch.setattr(common, "CERTIFIED_FROM", 1)
    X, y = sls_arrays(300, 8, 3, seed=2)
    times: dict[str, float] = {}
    with reporting(bar=False, timings=times):
        net = symtrunc.construct(symtrunc.LabeledData.from_arrays(X, y))
    assert "verify certified" in times and "verify" not in times
    assert_interpolates(net, _as_lists(X, y))
