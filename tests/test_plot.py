"""Tests of the exact plane geometry (:mod:`symtrunc.plot.polygon`) and the pictures (:mod:`symtrunc.plot`).

Polygon vertices are compared exactly; the pictures are rendered with the Agg backend into memory.
"""

from __future__ import annotations

import io
import subprocess
import sys
from fractions import Fraction

import flint
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symtrunc
from symtrunc.cli.app import main
from symtrunc.errors import DataError
from symtrunc.exact.matrix import qmatrix
from symtrunc.network import ReLUNetwork
from symtrunc.plot.polygon import Plane, Polygon, decision_regions, linear_regions, truncation_steps

SQUARES = symtrunc.LabeledData.from_arrays(
    [[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]], list("aaaabbbb"))
BOX = Polygon.box(-1, 4, -1, 4)
q = flint.fmpq

coords = st.fractions(min_value=-3, max_value=3, max_denominator=6)


# ------------------------------------------------------------------ polygons
def test_clip_exact_vertices():
    tri = Polygon.box(0, 1, 0, 1).clip([-1, -1], 1)          # x + y ≤ 1
    assert tri.vertices == ((q(0), q(0)), (q(1), q(0)), (q(0), q(1)))
    assert tri.area == q(1, 2)
    # a line through a vertex leaves no duplicate or collinear vertices
    assert Polygon.box(0, 2, 0, 2).clip([1, -1], 0).vertices == ((q(0), q(0)), (q(2), q(0)), (q(2), q(2)))
    # a line along an edge keeps the whole box on one side and an empty polygon on the other
    assert Polygon.box(0, 1, 0, 1).clip([1, 0], 0) == Polygon.box(0, 1, 0, 1)
    assert Polygon.box(0, 1, 0, 1).clip([-1, 0], 0).is_empty
    assert Polygon.box(0, 1, 0, 1).section([1, 0], 0) == ((q(0), q(0)), (q(0), q(1)))
    assert Polygon.box(0, 1, 0, 1).section([1, 1], -2) == ((q(1), q(1)),)   # touches a corner


def test_bad_polygon_input():
    with pytest.raises(DataError, match="empty box"):
        Polygon.box(1, 0, 0, 1)
    with pytest.raises(DataError, match="nonzero normal"):
        Polygon.box(0, 1, 0, 1).section([0, 0], 1)
    assert not Polygon.box(0, 1, 0, 1).contains([q(1, 2), q(-1, 1000)])


@given(a=coords, b=coords, c=coords)
@settings(max_examples=60, deadline=None)
def test_clipping_splits_the_area_exactly(a, b, c):
    box = Polygon.box(-2, 3, -1, 2)
    plus, minus = box.clip([a, b], c), box.clip([-a, -b], -c)
    if a == b == 0:   # a constant: all or nothing (both sides when it is 0)
        assert plus.area == (box.area if c >= 0 else 0) and minus.area == (box.area if c <= 0 else 0)
        return
    assert plus.area + minus.area == box.area
    for v in plus.vertices:
        assert box.contains(v) and box.value([a, b], c, v) >= 0


@given(st.lists(st.tuples(coords, coords, coords), min_size=1, max_size=4),
       st.tuples(coords, coords))
@settings(max_examples=40, deadline=None)
def test_linear_regions_tile_the_box_and_match_the_network(rows, point):
    """The pieces cover the box exactly and, on each, the network is the recorded affine map."""
    W1 = [[r[0], r[1]] for r in rows]
    b1 = [r[2] for r in rows]
    net = ReLUNetwork.from_rows([(W1, b1, "relu"), ([[1] * len(rows), [1] + [-1] * (len(rows) - 1)],
                                                     [0, 1], "identity")])
    box = Polygon.box(-3, 3, -3, 3)
    regions = linear_regions(net, box)
    assert sum((r.polygon.area for r in regions), q(0)) == box.area
    x = (q(point[0].numerator, point[0].denominator), q(point[1].numerator, point[1].denominator))
    out = net.forward([[x[0], x[1]]])
    hits = [r for r in regions if r.polygon.contains(x)]
    assert hits
    for r in hits:
        assert [(r.A[k, 0] * x[0] + r.A[k, 1] * x[1] + r.c[k, 0]) for k in range(2)] == [out[0, 0], out[0, 1]]


@st.composite
def deep_nets_and_planes(draw):
    """Random exact networks d_0 -> (1..3) -> [(1..3)] -> 3 with d_0 in {2, 3}, and for d_0 = 3 a
    random plane (exact Gram–Schmidt of two random directions)."""
    d0 = draw(st.sampled_from([2, 3]))
    w = [d0] + [draw(st.integers(1, 3)) for _ in range(draw(st.integers(1, 2)))] + [3]
    spec = [([[draw(coords) for _ in range(w[k])] for _ in range(w[k + 1])], [draw(coords) for _ in range(w[k + 1])],
             "identity" if k == len(w) - 2 else "relu") for k in range(len(w) - 1)]
    if d0 == 2:
        return ReLUNetwork.from_rows(spec), Plane.standard()
    u, v = (qmatrix([[draw(coords)] for _ in range(3)]) for _ in range(2))
    if all(e == 0 for e in u.entries()):
        u = qmatrix([[1], [0], [0]])
    v = v - ((u.transpose() * v)[0, 0] / (u.transpose() * u)[0, 0]) * u
    if all(e == 0 for e in v.entries()):
        v = qmatrix([[-u[1, 0]], [u[0, 0]], [0]]) if (u[0, 0], u[1, 0]) != (0, 0) else qmatrix([[1], [0], [0]])
    basis = flint.fmpq_mat(3, 2, [x for k in range(3) for x in (u[k, 0], v[k, 0])])
    return ReLUNetwork.from_rows(spec), Plane(qmatrix([[draw(coords)] for _ in range(3)]), basis)


@given(deep_nets_and_planes(), st.lists(st.tuples(coords, coords), min_size=1, max_size=5))
@settings(max_examples=40, deadline=None)
def test_regions_of_random_deep_networks_match_the_exact_outputs(net_plane, points):
    """Independent route: at random rational points of the plane, the linear piece that contains the
    point reproduces ``net.forward`` and its decision region is a winner of the exact argmax."""
    net, plane = net_plane
    box = Polygon.box(-3, 3, -3, 3)
    pieces = linear_regions(net, box, plane)
    assert sum((r.polygon.area for r in pieces), q(0)) == box.area
    regions = decision_regions(net, box, plane)
    for s in points:
        x = (q(s[0].numerator, s[0].denominator), q(s[1].numerator, s[1].denominator))
        point = plane.origin + plane.basis * qmatrix([[x[0]], [x[1]]])
        out = net.forward(point.transpose())
        values = [out[0, k] for k in range(3)]
        for r in pieces:
            if r.polygon.contains(x):
                assert [r.A[k, 0] * x[0] + r.A[k, 1] * x[1] + r.c[k, 0] for k in range(3)] == values
        winners = {k for k in range(3) if values[k] == max(values)}
        labels = {r.label for r in regions if r.polygon.contains(x)}
        assert labels and labels <= winners, (x, labels, winners)


def test_decision_regions_agree_with_exact_argmax():
    net = symtrunc.construct(SQUARES)
    regions = decision_regions(net, BOX)
    assert sum((r.polygon.area for r in regions), q(0)) >= BOX.area   # ties are counted twice
    for i in range(-4, 17):
        for j in range(-4, 17):
            x = (q(i, 4), q(j, 4))
            out = net.forward([[x[0], x[1]]])
            best = max(out[0, k] for k in range(2))
            labels = {r.label for r in regions if r.polygon.contains(x)}
            winners = {net.classes[k] for k in range(2) if out[0, k] == best}
            assert labels <= winners and labels, (x, labels, winners)
    # a wrong region is caught: the region of 'a' does not contain a point of class b
    a_regions = [r for r in regions if r.label == "a"]
    assert not any(r.polygon.contains((q(0), q(3))) for r in a_regions)


# ------------------------------------------------------------------ truncation steps
def test_steps_of_the_worked_example_exactly():
    net = symtrunc.construct(SQUARES, normals=[[-1, 1], [1, -1]], t=["3/4", "3/4"])
    s1, s2 = truncation_steps(net, SQUARES, box=BOX)
    assert s1.collapsed == ("a",) and s2.collapsed == ("b",)
    assert s1.apex == (q(7, 4), q(5, 4))
    assert s1.backward.vertices == ((q(-1), q(-1)), (q(4), q(-1)), (q(4), q(5, 4)), (q(7, 4), q(5, 4)),
                                    (q(-1), q(-1, 8)))
    assert s1.hyperplane == ((q(-1, 2), q(-1)), (q(4), q(7, 2)))
    # after step 1 class a sits at p_1, class b is unchanged; step 2 starts from there
    assert s1.after.tolist()[0][:4] == [q(7, 4)] * 4 and s1.after.tolist()[1][4:] == [2, 3, 2, 3]
    assert s2.before == s1.after
    assert s2.after.tolist()[0][4:] == [s2.apex[0]] * 4


def test_cone_polygons_agree_with_exact_regions():
    """Each point's exact region (explain) is the polygon that contains it."""
    d = symtrunc.LabeledData.from_arrays(
        [[5, 1], [6, 2], [5, 3], [1, 5], [2, 6], [0, 6], [-4, -3], [-5, -5]], list("aaabbbcc"),
        Y=[[1, 0, 0], [0, 1, 0], [0, 0, 1]], check=False)
    net = ReLUNetwork.from_rows([([[1, -1], [1, 2]], [-1, 3], "relu"), ([[1, 0], [0, 1]], [0, 0], "identity")])
    (s,) = truncation_steps(net, d, box=Polygon.box(-6, 7, -6, 7))
    assert s.collapsed == ("c",) and s.hyperplane == ()          # no construction metadata
    for i, region in enumerate(s.regions):
        x = (s.before[0, i], s.before[1, i])
        assert s.forward.contains(x) == (region == "forward")
        assert s.backward.contains(x) == (region == "backward")


def test_plane_through_means_in_higher_dimension():
    d = symtrunc.LabeledData.from_arrays(
        [[6, 0, 0], [7, 0, 1], [0, 6, 0], [0, 7, 1], [0, 0, 6], [1, 0, 7]], list("aabbcc"))
    P = Plane.through_means(d, "a", "c")
    assert (P.basis.transpose() * P.basis)[0, 1] == 0        # orthogonal axes
    S = P.coordinates(qmatrix([[d.means[k, j] for j in range(3)] for k in range(3)]))
    assert S[0, 0] == 1 and S[1, 0] == 0 and S[1, 2] == 1    # x̄_a = x̄ + e_1, x̄_c = x̄ + a e_1 + e_2
    net = symtrunc.construct(d)
    steps = truncation_steps(net, d, P)
    assert len(steps) == 3 and all(not s.forward.is_empty for s in steps)
    with pytest.raises(DataError, match="unknown class"):
        Plane.through_means(d, "a", "z")
    with pytest.raises(DataError, match="collinear"):
        Plane.through_means(symtrunc.LabeledData.from_arrays(
            [[1, 0, 0], [2, 0, 0], [4, 0, 0]], list("abc"), check=False), "a", "c")


# ------------------------------------------------------------------ pictures
def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    return buf.getvalue()


def test_plot_steps_renders_2d_and_projected():
    pytest.importorskip("matplotlib")
    from symtrunc.plot.figures import plot_decision_regions, plot_step, plot_steps

    fig = plot_steps(symtrunc.construct(SQUARES), SQUARES)
    assert [ax.get_title() for ax in fig.axes] == [
        "layer 1: class a collapses", "layer 2: class b collapses", "the network: decision regions (exact)"]
    assert _png(fig).startswith(b"\x89PNG")
    wine = symtrunc.load_wine()
    fig = plot_steps(symtrunc.construct(wine), wine, classes=["cultivar_2", "cultivar_3"], ncols=2)
    assert len(fig.axes) == 4 and "plane through the barycenter" in fig._suptitle.get_text()
    assert _png(fig).startswith(b"\x89PNG")
    step = truncation_steps(symtrunc.construct(SQUARES), SQUARES)[0]
    assert plot_step(step, SQUARES).get_title() == "layer 1: class a collapses"
    assert plot_decision_regions(symtrunc.construct(SQUARES), SQUARES).get_aspect() == 1.0
    with pytest.raises(DataError, match="exactly two classes"):
        plot_steps(symtrunc.construct(wine), wine, classes=["cultivar_1"])


def test_cli_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    data = tmp_path / "d.csv"
    data.write_text("2,0,a\n3,0,a\n2,1,a\n3,1,a\n0,2,b\n0,3,b\n1,2,b\n1,3,b\n")
    net = tmp_path / "net.json"
    assert main(["construct", str(data), "-o", str(net)]) == 0
    out = tmp_path / "steps.png"
    assert main(["plot", str(net), str(data), "-o", str(out), "--dpi", "30"]) == 0
    assert out.read_bytes().startswith(b"\x89PNG")
    capsys.readouterr()
    assert main(["plot", str(net), str(data), "-o", str(tmp_path / "x.svg"), "--classes", "a"]) == 2
    assert "exactly two labels" in capsys.readouterr().err
    assert main(["plot", str(net), str(data), "-o", str(tmp_path / "x.nope")]) == 2
    assert "cannot write" in capsys.readouterr().err
    other = tmp_path / "other.csv"   # the right dimension, but labels the network does not know
    other.write_text(data.read_text().replace(",a", ",c"))
    assert main(["plot", str(net), str(other), "-o", str(out)]) == 2
    assert "class 'c', which the network does not know" in capsys.readouterr().err


def test_import_symtrunc_does_not_import_matplotlib():
    code = "import sys, symtrunc, symtrunc.plot, symtrunc.plot.polygon; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_fraction_input_is_exact():
    assert Polygon.box(Fraction(1, 3), 1, 0, 1).vertices[0] == (q(1, 3), q(0))
