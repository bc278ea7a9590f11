"""Theorem 5.2 and Proposition 4.1 on generated data: every network verifies exactly, every
refusal carries an exact certificate."""

from fractions import Fraction

import pytest
from exact_reference import assert_interpolates
from hypothesis import HealthCheck, given, settings
from strategies import clustered_data, random_data
from synthetic import clustered_sls_data

import symtrunc
from symtrunc.constructions.clustered import check_clustered, construct_clustered
from symtrunc.errors import DataError, HypothesisError
from symtrunc.exact.lp import OverlapCertificate
from symtrunc.geometry.separability import NotSLSCertificate, find_sls

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(clustered_data())
def test_sls_on_clustered_data_verifies(data):
    net = symtrunc.construct(data)
    cert = symtrunc.verify(net, data)
    assert cert.invariants_checked
    assert_interpolates(net, data)
    assert net.widths == (data.M,) * (data.Q + 1) + (data.Q,)
    assert all(v == "0" for v in cert.costs.values())


@pytest.mark.slow
@SETTINGS
@given(clustered_data())
def test_paper_cone_on_clustered_data_verifies(data):
    net = symtrunc.construct(data, cone="paper")
    assert symtrunc.verify(net, data).invariants_checked
    assert_interpolates(net, data)


@pytest.mark.slow
@SETTINGS
@given(clustered_data())
def test_clustered_construction_verifies(data):
    hyp = check_clustered(data)
    if not hyp.holds or hyp.delta_squared == 0:
        with pytest.raises(HypothesisError):
            construct_clustered(data)
        return
    net = construct_clustered(data)
    cert = symtrunc.verify(net, data)
    assert cert.invariants_checked
    assert_interpolates(net, data)
    # base points sit at mu = (5/2) delta on the segment towards the barycenter
    for step, d2 in zip(net.construction["steps"], hyp.distances_squared):
        t = Fraction(step["t"])
        mu2 = t * t * Fraction(int(d2.p), int(d2.q))
        delta2 = Fraction(int(hyp.delta_squared.p), int(hyp.delta_squared.q))
        assert 4 * delta2 < mu2 < 9 * delta2


@pytest.mark.slow
@SETTINGS
@given(random_data())
def test_random_data_either_verifies_or_is_refused_with_certificate(data):
    try:
        net = symtrunc.construct(data)
    except HypothesisError as e:
        cert = e.certificate
        assert isinstance(cert, NotSLSCertificate)
        assert cert.blocked, "a refusal names the blocked classes"
        for prefix, blocked in cert.blocked.items():
            for j, overlap in blocked.items():
                assert isinstance(overlap, OverlapCertificate)
                if prefix == ():  # re-check the first-step certificates against the data exactly
                    from symtrunc.geometry.separability import _sets

                    order = [j] + [k for k in range(data.Q) if k != j]
                    inside, outside = _sets(data, order, [])
                    assert overlap.check(inside, outside)
        return
    symtrunc.verify(net, data)  # raises unless zero loss
    assert_interpolates(net, data)


def _xor_data():
    # conv(class a) meets conv(class b): no class can be peeled first
    X = [[0, 0, 1], [2, 2, 1], [2, 0, 1], [0, 2, 1], [2, 1, 1]]
    return symtrunc.LabeledData.from_arrays(X, ["a", "a", "b", "b", "b"])


def test_not_sls_gives_exact_certificate():
    data = _xor_data()
    with pytest.raises(HypothesisError, match="not sequentially linearly separable") as info:
        symtrunc.construct(data)
    cert = info.value.certificate
    assert cert.complete and set(cert.first_step_blocked()) == {0, 1}
    overlap = cert.first_step_blocked()[0]
    from symtrunc.geometry.separability import _sets

    inside, outside = _sets(data, [0, 1], [])
    assert overlap.check(inside, outside)
    # the common point is a convex combination of both sides
    assert sum(overlap.first_weights.values()) == 1 and sum(overlap.second_weights.values()) == 1


ORDER_X = [[0, 0, 1, 0], [0, 1, 1, 0], [10, 0, 1, 0], [10, 1, 1, 0], [5, 0, 1, 1], [5, 0, 1, -1], [5, -1, 1, 0]]
ORDER_Y = ["a", "a", "b", "b", "c", "c", "c"]


def test_order_matters_and_can_be_imposed():
    # conv(class c) contains (5, 0, 1, 0), the midpoint of two points of a and b: c cannot go first
    data = symtrunc.LabeledData.from_arrays(ORDER_X, ORDER_Y)
    net = symtrunc.construct(data)
    assert net.construction["order"][0] != "c"
    with pytest.raises(HypothesisError, match="imposed order") as info:
        symtrunc.construct(data, order=["c", "a", "b"])
    assert 2 in info.value.certificate.blocked[()]
    net = symtrunc.construct(data, order=["b", "a", "c"])
    assert net.construction["order"] == ["b", "a", "c"]
    assert symtrunc.verify(net, data).invariants_checked
    assert_interpolates(net, data)


def test_search_reports_blocked_classes_when_it_must_backtrack():
    data = symtrunc.LabeledData.from_arrays(ORDER_X, ORDER_Y, classes=["c", "a", "b"])
    cert = find_sls(data)  # tries c first (index 0), is blocked, backtracks to another class
    assert cert.check(data)
    assert data.classes[cert.order[0]] != "c"


def test_user_supplied_degenerate_family(worked_data):
    data = worked_data
    for t in (["3/5", "3/5"], ["3/4", "9/10"], ["0.6", "0.99"]):
        net = symtrunc.construct(data, normals=[[-1, 1], [1, -1]], t=t)
        assert [s["t"] for s in net.construction["steps"]] == [str(Fraction(v)) for v in t]
        assert symtrunc.verify(net, data).invariants_checked
        assert_interpolates(net, data)
    with pytest.raises(HypothesisError, match="not in"):
        symtrunc.construct(data, normals=[[-1, 1], [1, -1]], t=[0, "1/2"])
    with pytest.raises(HypothesisError, match="point 2 of class 1 is not strictly on the negative side"):
        symtrunc.construct(data, normals=[[-1, 1], [1, -1]], t=["1/2", "3/4"])  # (2, 1) on the plane
    with pytest.raises(HypothesisError, match="negative side"):
        symtrunc.construct(data, normals=[[1, -1], [1, -1]], t=["3/4", "3/4"])
    net = symtrunc.construct(data, epsilon=["1/2", "1/3"])
    assert [s["epsilon"] for s in net.construction["steps"]] == ["1/2", "1/3"]
    with pytest.raises(HypothesisError, match="not admissible"):
        symtrunc.construct(data, epsilon=[100, 1])


def test_custom_label_matrix():
    X = [[2, 0], [3, 0], [0, 2], [0, 3]]
    Y = [["2", "1/3"], ["-1", "1"]]
    data = symtrunc.LabeledData.from_arrays(X, ["a", "a", "b", "b"], Y=Y)
    net = symtrunc.construct(data)
    out = net.forward(X)
    from symtrunc.exact.matrix import qmatrix

    assert out == qmatrix([[2, -1], [2, -1], ["1/3", 1], ["1/3", 1]])
    symtrunc.verify(net, data)  # raises unless zero loss
    assert_interpolates(net, data)  # the columns of Y


def test_clustered_hypotheses_fail_cleanly():
    wide = [[0, 0], [6, 0], [0, 10], [1, 10]]
    data = symtrunc.LabeledData.from_arrays(wide, ["a", "a", "b", "b"])
    with pytest.raises(HypothesisError, match=r"\(4\.2\)") as info:
        construct_clustered(data)
    assert not info.value.certificate.condition_4_2
    single = symtrunc.LabeledData.from_arrays([[1, 0], [0, 1]], ["a", "b"])
    with pytest.raises(HypothesisError, match="δ = 0"):
        construct_clustered(single)
    net = symtrunc.construct(single)  # SLS still works
    symtrunc.verify(net, single)
    assert_interpolates(net, single)


def test_clustered_shrinking_widths_runtime_checked():
    X, y = [], []
    for j in range(3):
        for e in (-1, 0, 1):
            x = [0] * 5
            x[j] = 20
            x[(j + 1) % 5] += e
            x[4] = 3
            X.append(x)
            y.append(j)
    data = symtrunc.LabeledData.from_arrays(X, y)
    for widths in ([5, 5, 5], [4, 4, 3], [3, 3, 3]):
        net = construct_clustered(data, widths=widths)
        assert net.widths == (5, *widths, 3)
        symtrunc.verify(net, data)  # raises unless zero loss
        assert_interpolates(net, data)
    with pytest.raises(DataError, match="widths"):
        construct_clustered(data, widths=[3, 4, 3])
    net = construct_clustered(data, mu=["21/10", "29/10", "5/2"])
    steps = net.construction.steps
    assert [str(s.mu_over_delta_target) for s in steps] == ["21/10", "29/10", "5/2"]
    # the record holds the realised (μ/δ)² (issue 17), recomputed here from the base points with Fractions
    from fractions import Fraction

    Xf = [[Fraction(v) for v in row] for row in X]
    means = {}
    for j in set(y):
        pts = [x for x, c in zip(Xf, y) if c == j]
        means[j] = [sum(col) / len(pts) for col in zip(*pts)]
    delta2 = max(sum((a - b) ** 2 for a, b in zip(x, means[c])) for x, c in zip(Xf, y))
    for s in steps:
        mean = means[s.label]
        mu2 = sum((Fraction(str(p)) - m) ** 2 for p, m in zip(s.base_point, mean))
        assert Fraction(str(s.mu_over_delta_squared)) == mu2 / delta2
        assert 4 < mu2 / delta2 < 9  # μ strictly inside (2δ, 3δ)
    with pytest.raises(HypothesisError, match="between 2 and 3"):
        construct_clustered(data, mu=[3, 2, 2])


def test_wine_sls():
    data = symtrunc.load_wine()
    net = symtrunc.construct(data)
    cert = symtrunc.verify(net, data)
    assert cert.n_points == 178
    assert_interpolates(net, data)
    assert [row.collapsed_points for row in cert.layers[:3]] == [
        data.counts[data.classes.index(c)] for c in net.construction["order"]
    ]


@pytest.mark.slow
def test_many_clustered_points_construct_and_verify():
    data = clustered_sls_data(300, 16, 5, seed=3)
    net = symtrunc.construct(data)
    cert = symtrunc.verify(net, data)
    assert cert.invariants_checked and cert.n_points == 300
    assert_interpolates(net, data)


def test_float_proposals_give_short_rational_normals():
    """The float LP proposal must not drown in solver tolerances (data scaled to magnitude 1 once
    made every rounded normal fail, and the exact fallback returned 341-bit normals)."""
    sklearn = pytest.importorskip("sklearn.datasets")
    b = sklearn.load_breast_cancer()
    data = symtrunc.LabeledData.from_arrays([[repr(float(v)) for v in r] for r in b.data], b.target.tolist())
    net = symtrunc.construct(data)
    bits = max(max(int(v.p).bit_length(), int(v.q).bit_length()) for s in net.construction.steps for v in s.normal)
    assert bits <= 32
    assert_interpolates(net, data)
