"""Tests of the exact plane geometry (:mod:`symtrunc.plot.polygon`) and the pictures (:mod:`symtrunc.plot`).

Polygon vertices are compared exactly; the pictures are rendered with the Agg backend into memory.
"""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import replace
from fractions import Fraction

import flint
import pytest
from exact_reference import fraction, fraction_forward, fractions_of
from hypothesis import given, settings
from hypothesis import strategies as st
from synthetic import clustered_sls_data

import symtrunc
from symtrunc.cli.app import main
from symtrunc.errors import DataError
from symtrunc.exact.matrix import qmatrix
from symtrunc.network import ReLUNetwork
from symtrunc.plot.polygon import Plane, Polygon, decision_regions, linear_regions, sections, truncation_steps

BOX = Polygon.box(-1, 4, -1, 4)
q = flint.fmpq

coords = st.fractions(min_value=-3, max_value=3, max_denominator=6)


# ------------------------------------------------------------------ polygons
def test_clip_exact_vertices():
    tri = Polygon.box(0, 1, 0, 1).clip([-1, -1], 1)  # x + y ≤ 1
    assert tri.vertices == ((q(0), q(0)), (q(1), q(0)), (q(0), q(1)))
    assert tri.area == q(1, 2)
    # a line through a vertex leaves no duplicate or collinear vertices
    assert Polygon.box(0, 2, 0, 2).clip([1, -1], 0).vertices == ((q(0), q(0)), (q(2), q(0)), (q(2), q(2)))
    # a line along an edge keeps the whole box on one side and an empty polygon on the other
    assert Polygon.box(0, 1, 0, 1).clip([1, 0], 0) == Polygon.box(0, 1, 0, 1)
    assert Polygon.box(0, 1, 0, 1).clip([-1, 0], 0).is_empty
    assert Polygon.box(0, 1, 0, 1).section([1, 0], 0) == ((q(0), q(0)), (q(0), q(1)))
    assert Polygon.box(0, 1, 0, 1).section([1, 1], -2) == ((q(1), q(1)),)  # touches a corner


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
    if a == b == 0:  # a constant: all or nothing (both sides when it is 0)
        assert plus.area == (box.area if c >= 0 else 0) and minus.area == (box.area if c <= 0 else 0)
        return
    assert plus.area + minus.area == box.area
    for v in plus.vertices:
        assert box.contains(v) and box.value([a, b], c, v) >= 0


@given(st.lists(st.tuples(coords, coords, coords), min_size=1, max_size=4), st.tuples(coords, coords))
@pytest.mark.slow
@settings(max_examples=40, deadline=None)
def test_linear_regions_tile_the_box_and_match_the_network(rows, point):
    """The pieces cover the box exactly and, on each, the network is the recorded affine map."""
    W1 = [[r[0], r[1]] for r in rows]
    b1 = [r[2] for r in rows]
    net = ReLUNetwork.from_rows(
        [(W1, b1, "relu"), ([[1] * len(rows), [1] + [-1] * (len(rows) - 1)], [0, 1], "identity")]
    )
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
    spec = [
        (
            [[draw(coords) for _ in range(w[k])] for _ in range(w[k + 1])],
            [draw(coords) for _ in range(w[k + 1])],
            "identity" if k == len(w) - 2 else "relu",
        )
        for k in range(len(w) - 1)
    ]
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


@pytest.mark.slow
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


def test_decision_regions_agree_with_exact_argmax(worked_net):
    net = worked_net
    regions = decision_regions(net, BOX)
    assert sum((r.polygon.area for r in regions), q(0)) >= BOX.area  # ties are counted twice
    for i in range(-4, 17):
        for j in range(-4, 17):
            x = (q(i, 4), q(j, 4))
            out = net.forward([[x[0], x[1]]])
            best = max(out[0, k] for k in range(2))
            labels = {r.label for r in regions if r.polygon.contains(x)}
            winners = {net.classes[k] for k in range(2) if out[0, k] == best}
            assert labels <= winners and labels, (x, labels, winners)
    # a wrong region is caught: the region of class 1 does not contain a point of class 2
    regions_1 = [r for r in regions if r.label == 1]
    assert regions_1 and not any(r.polygon.contains((q(0), q(3))) for r in regions_1)


# ------------------------------------------------------------------ truncation steps
def test_steps_of_the_worked_example_exactly(worked_net, worked_data):
    s1, s2 = truncation_steps(worked_net, worked_data, box=BOX)
    assert s1.collapsed == (1,) and s2.collapsed == (2,)
    assert s1.apex == (q(7, 4), q(5, 4))
    assert s1.backward.vertices == (
        (q(-1), q(-1)),
        (q(4), q(-1)),
        (q(4), q(5, 4)),
        (q(7, 4), q(5, 4)),
        (q(-1), q(-1, 8)),
    )
    assert s1.hyperplane == ((q(-1, 2), q(-1)), (q(4), q(7, 2)))
    # after step 1 class 1 sits at p_1, class 2 is unchanged; step 2 starts from there
    assert s1.after.tolist()[0][:4] == [q(7, 4)] * 4 and s1.after.tolist()[1][4:] == [2, 3, 2, 3]
    assert s2.before == s1.after
    assert s2.after.tolist()[0][4:] == [s2.apex[0]] * 4


def test_cone_polygons_agree_with_exact_regions():
    """Each point's exact region (explain) is the polygon that contains it."""
    d = symtrunc.LabeledData.from_arrays(
        [[5, 1], [6, 2], [5, 3], [1, 5], [2, 6], [0, 6], [-4, -3], [-5, -5]],
        list("aaabbbcc"),
        Y=[[1, 0, 0], [0, 1, 0], [0, 0, 1]],
        check=False,
    )
    net = ReLUNetwork.from_rows([([[1, -1], [1, 2]], [-1, 3], "relu"), ([[1, 0], [0, 1]], [0, 0], "identity")])
    (s,) = truncation_steps(net, d, box=Polygon.box(-6, 7, -6, 7))
    assert s.collapsed == ("c",) and s.hyperplane == ()  # no construction metadata
    for i, region in enumerate(s.regions):
        x = (s.before[0, i], s.before[1, i])
        assert s.forward.contains(x) == (region == "forward")
        assert s.backward.contains(x) == (region == "backward")


def test_plane_through_means_in_higher_dimension():
    d = symtrunc.LabeledData.from_arrays(
        [[6, 0, 0], [7, 0, 1], [0, 6, 0], [0, 7, 1], [0, 0, 6], [1, 0, 7]], list("aabbcc")
    )
    P = Plane.through_means(d, "a", "c")
    assert (P.basis.transpose() * P.basis)[0, 1] == 0  # orthogonal axes
    S = P.coordinates(qmatrix([[d.means[k, j] for j in range(3)] for k in range(3)]))
    assert S[0, 0] == 1 and S[1, 0] == 0 and S[1, 2] == 1  # x̄_a = x̄ + e_1, x̄_c = x̄ + a e_1 + e_2
    net = symtrunc.construct(d)
    steps = truncation_steps(net, d, P)
    assert len(steps) == 3 and all(not s.forward.is_empty for s in steps)
    with pytest.raises(DataError, match="unknown class"):
        Plane.through_means(d, "a", "z")
    with pytest.raises(DataError, match="collinear"):
        Plane.through_means(
            symtrunc.LabeledData.from_arrays([[1, 0, 0], [2, 0, 0], [4, 0, 0]], list("abc"), check=False), "a", "c"
        )


# ------------------------------------------------------------------ pictures
def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    return buf.getvalue()


@pytest.mark.slow
def test_plot_steps_renders_2d_and_projected(worked_net, worked_data):
    pytest.importorskip("matplotlib")
    from symtrunc.plot.figures import plot_decision_regions, plot_step, plot_steps

    fig = plot_steps(worked_net, worked_data)
    assert [ax.get_title() for ax in fig.axes] == [
        "layer 1: class 1 collapses",
        "layer 2: class 2 collapses",
        "the network: decision regions (exact)",
    ]
    assert _png(fig).startswith(b"\x89PNG")
    wine = symtrunc.load_wine()
    fig = plot_steps(symtrunc.construct(wine), wine, classes=["cultivar_2", "cultivar_3"], ncols=2)
    assert len(fig.axes) == 4 and "exact section of R^13" in fig._suptitle.get_text()
    assert all(
        "plane through x̄, the mean of cultivar_2 and the mean of cultivar_3" in _flat(ax.get_title()) for ax in fig.axes
    )
    assert all(ax.get_aspect() == 1.0 for ax in fig.axes)
    assert _png(fig).startswith(b"\x89PNG")
    step = truncation_steps(worked_net, worked_data)[0]
    assert plot_step(step, worked_data).get_title() == "layer 1: class 1 collapses"
    assert plot_decision_regions(worked_net, worked_data).get_aspect() == 1.0
    with pytest.raises(DataError, match="exactly two classes"):
        plot_steps(symtrunc.construct(wine), wine, classes=["cultivar_1"])


# ------------------------------------------------------------------ M = 3: exact sections
def _flat(text: str) -> str:
    return " ".join(text.split())


def _preactivations(net, x) -> list[list[Fraction]]:
    """Independent: the pre-activations of every ReLU layer at ``x`` (plain Fraction forward pass)."""
    x = [fraction(v) for v in x]
    out = []
    for layer in net.layers:
        W, b = fractions_of(layer.W), [r[0] for r in fractions_of(layer.b)]
        z = [sum((w * v for w, v in zip(row, x)), Fraction(0)) + c for row, c in zip(W, b)]
        if layer.activation == "relu":
            out.append(z)
            x = [max(v, Fraction(0)) for v in z]
        else:
            x = z
    return out


def _cumulative(net) -> list[tuple[list[list[Fraction]], list[Fraction]]]:
    """Independent: ``(W^(l), b^(l))`` of every ReLU layer (products of the layers, in Fractions)."""
    M = net.input_dim
    W = [[Fraction(int(i == j)) for j in range(M)] for i in range(M)]
    b = [Fraction(0)] * M
    out = []
    for layer in net.layers:
        L, c = fractions_of(layer.W), [r[0] for r in fractions_of(layer.b)]
        W = [[sum((row[k] * W[k][j] for k in range(len(W))), Fraction(0)) for j in range(M)] for row in L]
        b = [sum((row[k] * b[k] for k in range(len(b))), Fraction(0)) + ci for row, ci in zip(L, c)]
        if layer.activation == "relu":
            out.append((W, b))
    return out


def _lift(plane, s) -> list[Fraction]:
    """Independent: the point ``origin + E s`` of R^M, in Fractions."""
    E, o = fractions_of(plane.basis), [r[0] for r in fractions_of(plane.origin)]
    return [o[r] + E[r][0] * fraction(s[0]) + E[r][1] * fraction(s[1]) for r in range(len(o))]


def _region(a) -> str:
    return "forward" if min(a) >= 0 else "backward" if max(a) <= 0 else "face"


def _section_problems(net, data, steps, section) -> list[str]:
    """Everything a picture could lie about, checked against an independent Fraction forward pass
    and the exact polygons: [] when the sections are honest."""
    X = fractions_of(data.X)
    pre = [_preactivations(net, x) for x in X]
    cumulative = _cumulative(net)
    problems = []
    for k, step in enumerate(steps):
        W, b = cumulative[k]
        for i in range(data.N):
            a = pre[i][k]
            if step.regions[i] != _region(a):  # the marker shape claims the point's region
                problems.append(f"layer {k + 1}, point {i}: drawn as {step.regions[i]}, is {_region(a)}")
            if not step.in_plane[i]:
                continue
            s = (step.before[0, i], step.before[1, i])
            y = _lift(step.plane, s)  # a filled marker claims: x^(τ,l-1) lies here
            if [sum((w * v for w, v in zip(row, y)), Fraction(0)) + c for row, c in zip(W, b)] != a:
                problems.append(f"layer {k + 1}, point {i}: drawn in the plane, but it is not there")
            if step.forward.contains(s) != (min(a) >= 0) or step.backward.contains(s) != (max(a) <= 0):
                problems.append(f"layer {k + 1}, point {i}: the cone polygons disagree with its region")
        base = [fraction(v) for v in net.construction.steps[k].base_point]
        named = dict(step.plane.marks)
        if f"$p_{{{k + 1}}}$" in named and _lift(step.plane, named[f"$p_{{{k + 1}}}$"]) != base:
            problems.append(f"layer {k + 1}: the plane does not go through the base point it names")
        for c in data.classes:  # the classes not collapsed before this layer sit where they started
            if f"the mean of {c}" in named and c not in net.construction.order[:k]:
                mean = [
                    sum(col) / len(col) for col in zip(*(X[i] for i in range(data.N) if data.classes[data.y[i]] == c))
                ]
                if _lift(step.plane, named[f"the mean of {c}"]) != mean:
                    problems.append(f"layer {k + 1}: the plane does not go through the mean of {c}")
    outputs = fraction_forward(net, data.X)
    for i in range(data.N):
        label = data.classes[data.y[i]]
        winners = {net.classes[j] for j, v in enumerate(outputs[i]) if v == max(outputs[i])}
        if (i in section.misclassified) != (winners != {label}):
            problems.append(f"point {i}: misclassification mark wrong")
        if section.in_plane[i]:
            s = (section.points[0, i], section.points[1, i])
            if _lift(section.plane, s) != X[i]:
                problems.append(f"point {i}: drawn in the decision plane, but it is not there")
            inside = {r.label for r in section.regions if r.polygon.contains(s)}
            if not inside or not inside <= winners:
                problems.append(f"point {i}: lies in regions {inside}, the network's largest outputs are {winners}")
    return problems


def _three_d_data():
    """Points in the plane z = 1 (exactly where the class means are) and symmetric pairs off it."""
    pts = [
        (6, 0, 1),
        (7, 0, 1),
        (6, 1, 1),
        (7, 1, 2),
        (7, 1, 0),
        (0, 6, 1),
        (0, 7, 1),
        (1, 6, 1),
        (1, 7, 3),
        (1, 7, -1),
        (-5, -5, 1),
        (-6, -5, 1),
        (-5, -6, 2),
        (-5, -6, 0),
    ]
    return symtrunc.LabeledData.from_arrays(pts, list("aaaaabbbbbcccc"))


@pytest.mark.parametrize("which", ["coplanar", "generic"])
def test_sections_in_three_dimensions_are_exact(which):
    """M = 3: every filled point lies in the plane and in the polygon of its exact region; every
    marker shows the region and class of the point itself; the planes go through what they name."""
    data = _three_d_data() if which == "coplanar" else clustered_sls_data(24, 3, 3, seed=2)
    net = symtrunc.construct(data)
    steps, section = sections(net, data)
    assert _section_problems(net, data, steps, section) == []
    filled = sum(sum(s.in_plane) for s in steps) + sum(section.in_plane)
    hollow = sum(len(s.in_plane) - sum(s.in_plane) for s in steps) + len(section.in_plane) - sum(section.in_plane)
    assert filled and hollow  # both kinds are exercised
    if which == "coplanar":  # z = 1 holds the means and the base points: one frame
        assert all(s.plane.origin == section.plane.origin and s.box == section.box for s in steps)
        # 8 points lie in z = 1; then class a sits at p_1 (in it), then class b at p_2
        assert [sum(s.in_plane) for s in steps] == [8, 10, 12] and sum(section.in_plane) == 8
    # the checker catches pictures that lie: a projected point drawn as if it were in the plane,
    # a point drawn with the wrong region
    off = next(k for k, s in enumerate(steps) if not all(s.in_plane))
    lying = list(steps)
    lying[off] = replace(steps[off], in_plane=(True,) * data.N)
    assert any("not there" in p for p in _section_problems(net, data, lying, section))
    swapped = {"forward": "backward", "backward": "forward", "face": "forward"}
    lying = [replace(steps[0], regions=tuple(swapped[r] for r in steps[0].regions))] + list(steps[1:])
    assert any("drawn as" in p for p in _section_problems(net, data, lying, section))
    lying_plane = replace(section, in_plane=(True,) * data.N)
    assert _section_problems(net, data, steps, lying_plane)


def test_cone_sections_match_the_true_cones_at_random_plane_points():
    """The polygons are the exact intersections of the true cones with the plane: at rational points
    of the plane, polygon membership equals the sign pattern of W^(l) y + b^(l) (Fractions)."""
    data = clustered_sls_data(24, 3, 3, seed=2)
    net = symtrunc.construct(data)
    steps = truncation_steps(net, data)
    cumulative = _cumulative(net)
    for k, step in enumerate(steps):
        W, b = cumulative[k]
        (x0, y0), (x1, y1) = step.box.vertices[0], step.box.vertices[2]
        for i in range(9):
            for j in range(9):
                s = (x0 + (x1 - x0) * q(i, 8), y0 + (y1 - y0) * q(j, 8))
                a = [sum((w * v for w, v in zip(row, _lift(step.plane, s))), Fraction(0)) + c for row, c in zip(W, b)]
                assert step.forward.contains(s) == (min(a) >= 0)
                assert step.backward.contains(s) == (max(a) <= 0)


def _legend_colors(fig) -> set[str]:
    from matplotlib.colors import to_hex

    out = set()
    for h in fig.legends[0].legend_handles:
        if hasattr(h, "get_facecolors"):
            out |= {to_hex(c[:3]) for arr in (h.get_facecolors(), h.get_edgecolors()) for c in arr if c[3] > 0}
        elif hasattr(h, "get_facecolor") and not hasattr(h, "get_xdata"):
            out.add(to_hex(h.get_facecolor()[:3]))
        else:
            out.add(to_hex(h.get_color()))
    return out


def _drawn_colors(ax) -> set[str]:
    from matplotlib.colors import to_hex

    out = set()
    for coll in ax.collections:
        if len(coll.get_offsets()) == 0 and not coll.get_paths():
            continue  # a legend key without data
        if type(coll).__name__ == "PathCollection" and len(coll.get_offsets()) == 0:
            continue
        out |= {to_hex(c[:3]) for arr in (coll.get_facecolors(), coll.get_edgecolors()) for c in arr if c[3] > 0}
    out |= {to_hex(p.get_facecolor()[:3]) for p in ax.patches if p.get_facecolor()[3] > 0 and len(p.get_xy()) > 1}
    out |= {to_hex(line.get_color()) for line in ax.lines if len(line.get_xdata())}
    return out - {"#ffffff"}


def _filled_points(ax) -> list[tuple[float, float]]:
    """Offsets of the filled data markers (zorder 3) of a panel."""
    out = []
    for coll in ax.collections:
        if type(coll).__name__ == "PathCollection" and coll.get_zorder() == 3 and len(coll.get_offsets()):
            if len(coll.get_facecolors()) and coll.get_facecolors()[0][3] > 0:
                out += [tuple(p) for p in coll.get_offsets()]
    return sorted(out)


def test_pictures_in_three_dimensions():
    """The figure draws the exact sections: equal aspect, the plane named in every title, filled
    markers exactly at the in-plane points, and a legend entry for every color drawn."""
    pytest.importorskip("matplotlib")
    from symtrunc.plot.figures import plot_steps

    data = clustered_sls_data(24, 3, 3, seed=2)
    net = symtrunc.construct(data)
    steps, section = sections(net, data)
    fig = plot_steps(net, data)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == len(steps) + 1
    for ax, panel in zip(axes, list(steps) + [section]):
        assert ax.get_aspect() == 1.0
        assert f"section: {panel.plane.name}" in _flat(ax.get_title())
        pts = panel.before if hasattr(panel, "before") else panel.points
        sc = panel.plane.scales
        expected = sorted(
            (float(pts[0, i]) * sc[0], float(pts[1, i]) * sc[1]) for i in range(data.N) if panel.in_plane[i]
        )
        assert len(_filled_points(ax)) == len(expected)
        assert [c for p in _filled_points(ax) for c in p] == pytest.approx([c for p in expected for c in p])
        assert _drawn_colors(ax) <= _legend_colors(fig), _drawn_colors(ax) - _legend_colors(fig)
    assert "exact section of R^3" in fig._suptitle.get_text()
    assert _png(fig).startswith(b"\x89PNG")


def test_planes_through_named_points():
    def pt(*v):
        return qmatrix([[x] for x in v])

    P = Plane.through([("A", pt(0, 0, 1)), ("B", pt(0, 0, 1)), ("C", pt(2, 0, 1)), ("D", pt(1, 1, 1))])
    assert P.name == "plane through A, C and D" and P.contains(pt(5, -3, 1))
    assert P.contains_columns(qmatrix([[1, 1], [1, 1], [1, 2]])) == (True, False)
    with pytest.raises(DataError, match="do not span a plane"):
        Plane.through([("A", pt(0, 0, 1)), ("B", pt(1, 1, 1)), ("C", pt(2, 2, 1))])
    Q = Plane.through([("E", pt(3, 4, 1)), ("F", pt(0, 1, 1)), ("G", pt(7, 0, 1))])
    other = Plane.through([("O", pt(0, 0, 0)), ("X", pt(1, 0, 0)), ("Z", pt(0, 0, 1))])
    assert Q.coincides(P) and not Q.coincides(other)
    R = Q.in_frame_of(P)
    assert R.origin == P.origin and R.basis == P.basis and R.name == Q.name
    assert all(R.point(m[1]) == Q.point(n[1]) for m, n in zip(R.marks, Q.marks))
    with pytest.raises(DataError, match="different planes"):
        Q.in_frame_of(other)


def test_cli_plot(tmp_path, capsys, worked_csv):
    pytest.importorskip("matplotlib")
    data = worked_csv
    net = tmp_path / "net.json"
    assert main(["construct", str(data), "-o", str(net)]) == 0
    out = tmp_path / "steps.png"
    assert main(["plot", str(net), str(data), "-o", str(out), "--dpi", "30"]) == 0
    assert out.read_bytes().startswith(b"\x89PNG")
    capsys.readouterr()
    assert main(["plot", str(net), str(data), "-o", str(tmp_path / "x.svg"), "--classes", "1"]) == 2
    assert "exactly two labels" in capsys.readouterr().err
    assert main(["plot", str(net), str(data), "-o", str(tmp_path / "x.nope")]) == 2
    assert "cannot write" in capsys.readouterr().err
    other = tmp_path / "other.csv"  # the right dimension, but labels the network does not know
    other.write_text(data.read_text().replace(",1\n", ",3\n"))
    assert main(["plot", str(net), str(other), "-o", str(out)]) == 2
    assert "class 3, which the network does not know" in capsys.readouterr().err


def test_import_symtrunc_does_not_import_matplotlib():
    code = "import sys, symtrunc, symtrunc.plot, symtrunc.plot.polygon; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_fraction_input_is_exact():
    assert Polygon.box(Fraction(1, 3), 1, 0, 1).vertices[0] == (q(1, 3), q(0))
