"""Exact plane geometry of truncation maps: convex polygons, sections, linear and decision regions.

Everything here is exact (python-flint ``fmpq``); floats appear only in :meth:`Polygon.to_float`
and :attr:`Plane.scales`, which exist for drawing. The pictures of :mod:`symtrunc.plot` are
built from these objects.

* :class:`Polygon` is a convex polygon with rational vertices, cut by half-planes
  ``a·s + c ≥ 0`` (Sutherland–Hodgman clipping for one convex polygon and one half-plane).
* :class:`Plane` is the affine plane a picture lives in: ``R^2`` itself, or for ``M > 2`` a plane
  through named points (:meth:`Plane.through`, :meth:`Plane.through_means`), with an exact
  membership test. For ``M > 2`` a picture is an exact *section*: cones and regions are cut by
  the plane exactly; points are represented by their orthogonal projections, and every object
  records which points really lie in the plane.
* :func:`truncation_steps` gives, for every ReLU layer ``l``, the forward region
  ``{W^(l) x + b^(l) ≥ 0}`` and backward region ``{W^(l) x + b^(l) ≤ 0}`` of its truncation
  map (the cones ``S_+`` and ``S_-`` with apex ``p = -W^+ b`` when ``W^(l)`` is square;
  Lemma 2.1 of arXiv 2504.18710), the separating hyperplane of the construction, the
  truncated points before and after the step (Proposition 3.2 of arXiv 2405.07098) and their
  exact regions; for ``M > 2`` in the plane through the apex and the relevant class means
  (:func:`step_plane`).
* :func:`linear_regions` and :func:`decision_regions` subdivide a box of the plane exactly into
  the activation regions of a network and the regions where each output is largest;
  :func:`decision_section` adds the data and the network's exact prediction at each point;
  :func:`sections` is everything :func:`symtrunc.plot.plot_steps` draws.

Examples
--------
>>> from symtrunc.plot.polygon import Polygon
>>> square = Polygon.box(0, 2, 0, 2)
>>> half = square.clip([1, 1], -2)             # keep x + y - 2 ≥ 0
>>> half.vertices
((2, 0), (2, 2), (0, 2))
>>> half.area
2
>>> square.section([1, -1], 0)                 # the diagonal x = y inside the square
((0, 0), (2, 2))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import flint
import numpy as np

from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError
from symtrunc.exact.matrix import column, columns_matrix, identity, zeros
from symtrunc.exact.rational import to_q
from symtrunc.explanation import LayerExplanation, explain
from symtrunc.network import Layer, ReLUNetwork
from symtrunc.records import CollapseRecord

__all__ = [
    "Polygon",
    "Plane",
    "TruncationStep",
    "LinearRegion",
    "DecisionRegion",
    "DecisionSection",
    "bounding_box",
    "step_plane",
    "truncation_steps",
    "means_plane",
    "decision_section",
    "sections",
    "linear_regions",
    "decision_regions",
]

Point = tuple[flint.fmpq, flint.fmpq]


def _cross(o: Point, a: Point, b: Point) -> flint.fmpq:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _normalize(points: Sequence[Point]) -> tuple[Point, ...]:
    """Drop repeated and collinear vertices of a convex polygon given in order."""
    pts: list[Point] = []
    for p in points:
        if not pts or pts[-1] != p:
            pts.append(p)
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts.pop()
    changed = True
    while changed and len(pts) >= 3:
        changed = False
        for k in range(len(pts)):
            if _cross(pts[k - 1], pts[k], pts[(k + 1) % len(pts)]) == 0:
                del pts[k]
                changed = True
                break
    return tuple(pts) if len(pts) >= 3 else ()


@dataclass(frozen=True)
class Polygon:
    """A convex polygon with exact rational vertices, counterclockwise, without redundant vertices.

    The empty polygon has no vertices; degenerate (zero-area) pieces are empty.

    Attributes
    ----------
    vertices : tuple of (fmpq, fmpq)
    """

    vertices: tuple[Point, ...]

    @classmethod
    def box(cls, xmin: Any, xmax: Any, ymin: Any, ymax: Any) -> Polygon:
        """The rectangle ``[xmin, xmax] × [ymin, ymax]`` (numbers are read exactly).

        >>> Polygon.box(0, "1/2", 0, 1).vertices
        ((0, 0), (1/2, 0), (1/2, 1), (0, 1))
        """
        x0, x1, y0, y1 = (to_q(v) for v in (xmin, xmax, ymin, ymax))
        if not (x0 < x1 and y0 < y1):
            raise DataError(f"empty box [{x0}, {x1}] x [{y0}, {y1}]")
        return cls(((x0, y0), (x1, y0), (x1, y1), (x0, y1)))

    @property
    def is_empty(self) -> bool:
        """No interior."""
        return not self.vertices

    @property
    def area(self) -> flint.fmpq:
        """Exact area (shoelace formula)."""
        v = self.vertices
        twice = sum((v[k - 1][0] * v[k][1] - v[k][0] * v[k - 1][1] for k in range(len(v))), flint.fmpq(0))
        return twice / 2

    def value(self, a: Sequence[Any], c: Any, point: Point) -> flint.fmpq:
        """``a·point + c`` exactly."""
        return to_q(a[0]) * point[0] + to_q(a[1]) * point[1] + to_q(c)

    def clip(self, a: Sequence[Any], c: Any) -> Polygon:
        """The part where ``a[0] x + a[1] y + c ≥ 0``.

        >>> Polygon.box(0, 1, 0, 1).clip([-1, 0], "1/3").vertices
        ((0, 0), (1/3, 0), (1/3, 1), (0, 1))
        >>> Polygon.box(0, 1, 0, 1).clip([1, 1], -5).is_empty
        True
        """
        if self.is_empty:
            return self
        a0, a1, c = to_q(a[0]), to_q(a[1]), to_q(c)
        vals = [a0 * x + a1 * y + c for x, y in self.vertices]
        if min(vals) >= 0:  # the line does not cut the interior
            return self
        if max(vals) <= 0:
            return Polygon(())
        out: list[Point] = []
        n = len(self.vertices)
        for k in range(n):
            P, Q = self.vertices[k], self.vertices[(k + 1) % n]
            vP, vQ = vals[k], vals[(k + 1) % n]
            if vP >= 0:
                out.append(P)
            if (vP > 0 and vQ < 0) or (vP < 0 and vQ > 0):
                t = vP / (vP - vQ)
                out.append((P[0] + t * (Q[0] - P[0]), P[1] + t * (Q[1] - P[1])))
        return Polygon(_normalize(out))

    def clip_all(self, A: flint.fmpq_mat, c: flint.fmpq_mat, sign: int = 1) -> Polygon:
        """The part where every row satisfies ``sign · (A s + c) ≥ 0`` (``A`` is ``k x 2``)."""
        poly = self
        for i in range(A.nrows()):
            poly = poly.clip([sign * A[i, 0], sign * A[i, 1]], sign * c[i, 0])
        return poly

    def section(self, a: Sequence[Any], c: Any) -> tuple[Point, ...]:
        """The endpoints of the segment where the line ``a·s + c = 0`` meets the polygon.

        Returns ``()`` when they do not meet and one point when the line only touches a vertex.

        >>> Polygon.box(0, 1, 0, 1).section([1, 0], -2)
        ()
        """
        if to_q(a[0]) == 0 and to_q(a[1]) == 0:
            raise DataError("a line needs a nonzero normal")
        inside = self.clip(a, c)
        on = [v for v in inside.vertices if self.value(a, c, v) == 0]
        if not on and not inside.is_empty:
            return ()
        if inside.is_empty:  # the line may still touch the polygon along an edge or at a vertex
            on = [v for v in self.vertices if self.value(a, c, v) == 0]
        return tuple(on)

    def contains(self, point: Sequence[Any]) -> bool:
        """Whether the closed polygon contains ``point`` (exact).

        >>> Polygon.box(0, 1, 0, 1).contains(["1/2", 1]), Polygon.box(0, 1, 0, 1).contains([2, 0])
        (True, False)
        """
        p = (to_q(point[0]), to_q(point[1]))
        v = self.vertices
        return bool(v) and all(_cross(v[k - 1], v[k], p) >= 0 for k in range(len(v)))

    def to_float(self, scales: Sequence[float] = (1.0, 1.0)) -> np.ndarray:
        """Vertices as a float array of shape ``(k, 2)``, each coordinate times ``scales``."""
        return np.array([[float(x) * scales[0], float(y) * scales[1]] for x, y in self.vertices], dtype=float).reshape(
            -1, 2
        )


@dataclass(frozen=True)
class Plane:
    """An affine plane ``{origin + E s : s ∈ R^2}`` of ``R^M`` with orthogonal exact columns ``E``.

    Plane coordinates ``s`` are exact; drawing uses ``s_k · |e_k|`` (:attr:`scales`), so angles
    and lengths are shown undistorted (with an equal aspect ratio).

    Attributes
    ----------
    origin : flint.fmpq_mat
        ``M x 1``.
    basis : flint.fmpq_mat
        ``M x 2``, orthogonal columns.
    axes : tuple of str
        Axis labels.
    name : str
        What the plane is, for titles (``""`` for ``R^2`` itself).
    marks : tuple of (str, point)
        The named points the plane was built through, in exact plane coordinates.
    """

    origin: flint.fmpq_mat
    basis: flint.fmpq_mat
    axes: tuple[str, str] = ("$x_1$", "$x_2$")
    name: str = ""
    marks: tuple[tuple[str, Point], ...] = ()

    @classmethod
    def standard(cls) -> Plane:
        """``R^2`` itself."""
        return cls(zeros(2, 1), identity(2))

    @classmethod
    def through(cls, candidates: Sequence[tuple[str, flint.fmpq_mat]]) -> Plane:
        """The plane through the first three affinely independent named points of ``candidates``.

        The origin is the first point, the first axis points to the next point different from
        it, the second axis to the next point off that line (made orthogonal to the first axis
        by exact Gram–Schmidt, without normalization).

        >>> from symtrunc.exact.matrix import qvector
        >>> P = Plane.through([("A", qvector([0, 0, 1])), ("B", qvector([2, 0, 1])),
        ...                    ("C", qvector([4, 0, 1])), ("D", qvector([1, 1, 1]))])
        >>> P.name, P.marks
        ('plane through A, B and D', (('A', (0, 0)), ('B', (1, 0)), ('D', (1/2, 1))))
        >>> P.contains(qvector([5, 7, 1])), P.contains(qvector([0, 0, 0]))
        (True, False)
        """
        named = list(candidates)
        if not named:
            raise DataError("no points to span a plane")
        name_a, a = named[0]
        chosen: list[tuple[str, flint.fmpq_mat]] = [(name_a, a)]
        u = v = None
        for label, x in named[1:]:
            d = x - a
            if u is None:
                if any(e != 0 for e in d.entries()):
                    u = d
                    chosen.append((label, x))
                continue
            w = d - ((u.transpose() * d)[0, 0] / (u.transpose() * u)[0, 0]) * u
            if any(e != 0 for e in w.entries()):
                v = w
                chosen.append((label, x))
                break
        if u is None or v is None:
            raise DataError(f"the points {', '.join(n for n, _ in named)} do not span a plane")
        names = [n for n, _ in chosen]
        plane = cls(
            a,
            columns_matrix([u, v]),
            (f"{names[0]} → {names[1]}", f"{names[0]} → {names[2]} (orthogonalized)"),
            f"plane through {names[0]}, {names[1]} and {names[2]}",
        )
        S = plane.coordinates(columns_matrix([x for _, x in chosen]))
        return replace(plane, marks=tuple((n, (S[0, k], S[1, k])) for k, n in enumerate(names)))

    @classmethod
    def through_means(cls, data: LabeledData, i: Any, j: Any) -> Plane:
        """The plane through ``x̄``, ``x̄_i`` and ``x̄_j`` (classes given by label).

        The first axis points from ``x̄`` to ``x̄_i``; the second is ``x̄_j - x̄`` made orthogonal
        to it (exact Gram–Schmidt without normalization).

        >>> from symtrunc.data.labeled import LabeledData
        >>> d = LabeledData.from_arrays([[3, 0, 0], [0, 3, 0], [0, 0, 3]], list("abc"))
        >>> P = Plane.through_means(d, "a", "b")
        >>> P.basis.transpose()
        [2,  -1,   -1]
        [0, 3/2, -3/2]
        >>> P.coordinates(d.X.transpose())
        [1, -1/2, -1/2]
        [0,    1,   -1]
        >>> P.name
        'plane through x̄, the mean of a and the mean of b'
        """
        index = {c: k for k, c in enumerate(data.classes)}
        for c in (i, j):
            if c not in index:
                raise DataError(f"unknown class {c!r}; the classes are {', '.join(map(repr, data.classes))}")
        xbar = data.barycenter
        u = data.mean(index[i]) - xbar
        w = data.mean(index[j]) - xbar
        uu = (u.transpose() * u)[0, 0]
        if uu == 0:
            raise DataError(f"the mean of class {i!r} is the barycenter; choose another class")
        v = w - ((u.transpose() * w)[0, 0] / uu) * u
        if all(x == 0 for x in v.entries()):
            raise DataError(f"x̄, the means of {i!r} and {j!r} are collinear: they do not span a plane")
        return cls.through(
            [("x̄", xbar), (f"the mean of {i}", data.mean(index[i])), (f"the mean of {j}", data.mean(index[j]))]
        )

    @property
    def dim(self) -> int:
        """``M``, the dimension of the ambient space."""
        return self.basis.nrows()

    @property
    def scales(self) -> tuple[float, float]:
        """Float lengths ``|e_1|, |e_2|`` of the basis columns (for drawing only)."""
        return tuple(float(sum(v * v for v in column(self.basis, k).entries())) ** 0.5 for k in range(2))

    def coordinates(self, X: flint.fmpq_mat) -> flint.fmpq_mat:
        """Exact plane coordinates (``2 x N``) of the orthogonal projections of the columns of ``X``."""
        if X.nrows() != self.dim:
            raise DataError(f"points have dimension {X.nrows()}, the plane lives in R^{self.dim}")
        D = X - columns_matrix([self.origin] * X.ncols()) if X.ncols() else X
        G = self.basis.transpose() * D
        n = [(self.basis.transpose() * self.basis)[k, k] for k in range(2)]
        return flint.fmpq_mat(2, X.ncols(), [G[k, c] / n[k] for k in range(2) for c in range(X.ncols())])

    def point(self, s: Sequence[Any]) -> flint.fmpq_mat:
        """The point ``origin + E s`` of ``R^M`` (``M x 1``) with plane coordinates ``s``."""
        return self.origin + self.basis * flint.fmpq_mat(2, 1, [to_q(s[0]), to_q(s[1])])

    def contains(self, x: flint.fmpq_mat) -> bool:
        """Whether the point ``x`` (``M x 1``) lies in the plane, exactly."""
        if x.ncols() != 1:
            raise DataError(f"expected one point (an M x 1 column), got {x.nrows()} x {x.ncols()}")
        return self.contains_columns(x)[0]

    def contains_columns(self, X: flint.fmpq_mat) -> tuple[bool, ...]:
        """For every column of ``X`` (``M x N``): whether it lies in the plane, exactly."""
        if not X.ncols():
            return ()
        D = X - columns_matrix([self.origin] * X.ncols())
        R = D - self.basis * self.coordinates(X)  # the component orthogonal to the plane
        rows_ = R.tolist()
        return tuple(all(r[c] == 0 for r in rows_) for c in range(X.ncols()))

    def coincides(self, other: Plane) -> bool:
        """Whether ``other`` is the same affine plane (possibly in another frame), exactly."""
        if other.dim != self.dim:
            return False
        corners = columns_matrix(
            [other.origin, other.origin + column(other.basis, 0), other.origin + column(other.basis, 1)]
        )
        return all(self.contains_columns(corners))

    def in_frame_of(self, other: Plane) -> Plane:
        """The same plane in the frame (origin, axes) of the coinciding plane ``other``, keeping
        this plane's name and marks (re-expressed in the new coordinates).

        >>> from symtrunc.exact.matrix import qvector
        >>> A = Plane.through([("O", qvector([0, 0, 1])), ("X", qvector([1, 0, 1])), ("Y", qvector([0, 1, 1]))])
        >>> B = Plane.through([("P", qvector([2, 2, 1])), ("Q", qvector([2, 3, 1])), ("R", qvector([0, 0, 1]))])
        >>> B.in_frame_of(A).marks
        (('P', (2, 2)), ('Q', (2, 3)), ('R', (0, 0)))
        """
        if not self.coincides(other):
            raise DataError(f"{self.name or 'the plane'} and {other.name or 'the plane'} are different planes")
        points = [self.point(xy) for _, xy in self.marks]
        S = other.coordinates(columns_matrix(points)) if points else zeros(2, 0)
        marks = tuple((n, (S[0, k], S[1, k])) for k, (n, _) in enumerate(self.marks))
        return replace(other, name=self.name, marks=marks)

    def restrict(self, W: flint.fmpq_mat, b: flint.fmpq_mat) -> tuple[flint.fmpq_mat, flint.fmpq_mat]:
        """The affine map ``x ↦ W x + b`` in plane coordinates: ``(W E, W origin + b)``."""
        return W * self.basis, W * self.origin + b


def bounding_box(points: flint.fmpq_mat, margin: Any = "1/6") -> Polygon:
    """The box around the columns of ``points`` (``2 x N``), each side widened by ``margin`` times
    the extent in its direction.

    >>> from symtrunc.exact.matrix import qmatrix
    >>> bounding_box(qmatrix([[0, 6], [0, 3]])).vertices
    ((-1, -1/2), (7, -1/2), (7, 7/2), (-1, 7/2))
    """
    xs, ys = points.tolist()
    pads = []
    for v in (xs, ys):
        span = max(v) - min(v)
        pads.append(to_q(margin) * span if span > 0 else flint.fmpq(1))
    return Polygon.box(min(xs) - pads[0], max(xs) + pads[0], min(ys) - pads[1], max(ys) + pads[1])


def _balanced(box: Polygon, scales: Sequence[float], ratio: int = 3) -> Polygon:
    """``box`` with its shorter side (as drawn, lengths times ``scales``) widened about its middle
    until the drawn sides differ by at most a factor ``ratio`` (a drawing window: rational, not
    minimal)."""
    (x0, y0), (x1, y1) = box.vertices[0], box.vertices[2]
    w, h = float(x1 - x0) * scales[0], float(y1 - y0) * scales[1]
    if w > ratio * h:
        pad = to_q((w / ratio - h) / scales[1] / 2)
        return Polygon.box(x0, x1, y0 - pad, y1 + pad)
    if h > ratio * w:
        pad = to_q((h / ratio - w) / scales[0] / 2)
        return Polygon.box(x0 - pad, x1 + pad, y0, y1)
    return box


def _panel_box(plane: Plane, points: flint.fmpq_mat) -> Polygon:
    """The default drawing window: the plane coordinates of ``points`` (``M x N``) and of the
    plane's marks, with a margin, at most 3 times longer than wide as drawn."""
    S = plane.coordinates(points)
    xs, ys = S.tolist()
    xs += [m[1][0] for m in plane.marks]
    ys += [m[1][1] for m in plane.marks]
    return _balanced(bounding_box(flint.fmpq_mat(2, len(xs), xs + ys)), plane.scales)


@dataclass(frozen=True)
class TruncationStep:
    """What one ReLU layer's truncation map does, drawn in a plane (exact plane coordinates).

    For ``M > 2`` the plane is a section of ``R^M``: the polygons are the exact intersections of
    the cones with it; points off the plane are represented by their orthogonal projections
    (``in_plane`` says which points lie in it), while their ``regions`` are those of the points
    themselves.

    Attributes
    ----------
    layer : int
        ``l`` (1-based).
    collapsed : tuple
        Labels of the classes this layer collapses (for Theorem 5.2 networks: class ``l`` of the
        order).
    forward, backward : Polygon
        ``{W^(l) x + b^(l) ≥ 0}`` and ``{W^(l) x + b^(l) ≤ 0}`` inside the box: the forward cone
        (kept) and the backward cone (collapsed to the apex), cut by the plane.
    apex : tuple of fmpq
        Plane coordinates of (the projection of) ``p = -W^+ b``.
    hyperplane : tuple of points
        Endpoints of the construction's separating hyperplane ``⟨h_l, x⟩ = c_l`` in the box,
        or ``()`` when the network carries no such metadata.
    before, after : flint.fmpq_mat
        Plane coordinates (``2 x N``) of (the projections of) the truncated points
        ``x^(τ,l-1)`` and ``x^(τ,l)``.
    regions : tuple of str
        ``"forward"``, ``"backward"`` or ``"face"`` for each point (exact, in ``R^M``).
    box : Polygon
        The box the polygons were clipped to.
    plane : Plane
        The plane of the picture.
    in_plane : tuple of bool
        For each point: whether ``x^(τ,l-1)`` lies in the plane (exact).
    apex_in_plane : bool
        Whether ``p`` lies in the plane.
    """

    layer: int
    collapsed: tuple[Any, ...]
    forward: Polygon
    backward: Polygon
    apex: Point
    hyperplane: tuple[Point, ...]
    before: flint.fmpq_mat = field(repr=False)
    after: flint.fmpq_mat = field(repr=False)
    regions: tuple[str, ...] = field(default=(), repr=False)
    box: Polygon | None = field(default=None, repr=False)
    plane: Plane = field(default_factory=Plane.standard, repr=False)
    in_plane: tuple[bool, ...] = field(default=(), repr=False)
    apex_in_plane: bool = field(default=True, repr=False)


def _mean(X: flint.fmpq_mat, idx: Sequence[int]) -> flint.fmpq_mat:
    cols = [column(X, i) for i in idx]
    total = cols[0]
    for c in cols[1:]:
        total = total + c
    return total / len(cols)


def step_plane(layer: LayerExplanation, data: LabeledData, X: flint.fmpq_mat, earlier: Sequence[Any] = ()) -> Plane:
    """The plane a truncation step is drawn in for ``M > 2``: through the apex ``p_l`` and the
    means of the truncated points ``X = x^(τ,l-1)`` (``M x N``) of the relevant classes.

    The candidates, in order: ``p_l``; the means of the classes the layer collapses; of the
    classes not collapsed by an ``earlier`` layer; of the earlier ones; the mean of all points;
    ``p_l + e_k``. The first three affinely independent ones span the plane
    (:meth:`Plane.through`), so it contains the apex and, wherever the data allow, the means of
    the collapsing class and of the next classes; the cones are cut by it exactly.

    >>> import symtrunc
    >>> from symtrunc.explanation import explain
    >>> d = symtrunc.LabeledData.from_arrays(
    ...     [[6, 0, 0], [7, 0, 1], [0, 6, 0], [0, 7, 1], [0, 0, 6], [1, 0, 7]], list("aabbcc"))
    >>> net = symtrunc.construct(d)
    >>> layer = explain(net, d).layers[0]
    >>> step_plane(layer, d, d.X.transpose()).name
    'plane through $p_{1}$, the mean of a and the mean of b'
    """
    X_cols = X.ncols()
    labels = [data.classes[data.y[i]] for i in range(X_cols)]
    collapsed = [c.label for c in layer.classes if c.collapsed]
    order = (
        collapsed
        + [c for c in data.classes if c not in collapsed and c not in earlier]
        + [c for c in data.classes if c not in collapsed and c in earlier]
    )
    cands: list[tuple[str, flint.fmpq_mat]] = [(f"$p_{{{layer.index}}}$", layer.apex)]
    for c in order:
        idx = [i for i in range(X_cols) if labels[i] == c]
        if idx:
            cands.append((f"the mean of {c}", _mean(X, idx)))
    cands.append(("x̄", _mean(X, range(X_cols))))
    for k in range(X.nrows()):
        e = flint.fmpq_mat(X.nrows(), 1, [int(r == k) for r in range(X.nrows())])
        cands.append((f"$p_{{{layer.index}}} + e_{{{k + 1}}}$", layer.apex + e))
    return Plane.through(cands)


def truncation_steps(
    net: ReLUNetwork, data: Any, plane: Plane | None = None, box: Polygon | None = None
) -> tuple[TruncationStep, ...]:
    """The exact picture of every ReLU layer of ``net`` acting on ``data``.

    Parameters
    ----------
    net : ReLUNetwork
    data : LabeledData or path
    plane : Plane, optional
        One plane for every step. Default: ``R^2`` for 2-D data; for ``M > 2`` each step gets
        its own :func:`step_plane` (through the apex and the relevant class means).
    box : Polygon, optional
        Region drawn, in plane coordinates. Default: with one plane, one box around the points,
        class means, barycenter and apexes; else, per step, around the (projected) points, the
        apex and the plane's marks.

    Returns
    -------
    tuple of TruncationStep

    Examples
    --------
    >>> import symtrunc
    >>> d = symtrunc.LabeledData.from_arrays(
    ...     [[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]], list("aaaabbbb"))
    >>> net = symtrunc.construct(d, normals=[[-1, 1], [1, -1]], t=["3/4", "3/4"])
    >>> s1 = truncation_steps(net, d, box=Polygon.box(-1, 4, -1, 4))[0]
    >>> s1.collapsed, s1.apex
    (('a',), (7/4, 5/4))
    >>> s1.backward.vertices
    ((-1, -1), (4, -1), (4, 5/4), (7/4, 5/4), (-1, -1/8))
    >>> s1.hyperplane
    ((-1/2, -1), (4, 7/2))
    >>> s1.after.tolist()[0][:4]                    # the four points of class a collapse to p_1
    [7/4, 7/4, 7/4, 7/4]
    """

    data = load_data(data)
    if plane is not None and plane.dim != data.M:
        raise DataError(f"the plane lives in R^{plane.dim} but the data in R^{data.M}")
    fixed = plane if plane is not None else Plane.standard() if data.M == 2 else None
    ex = explain(net, data)
    record = net.construction
    recorded = record.steps if isinstance(record, CollapseRecord) else ()
    X = data.X.transpose()
    for layer in ex.layers:
        if layer.lifted:
            raise DataError(
                f"layer {layer.index} widens the space to R^{layer.dim} (Lemma 2.2); its cones cannot be "
                "drawn in the input plane"
            )
    images = [layer.truncated for layer in ex.layers if layer.truncated is not None]  # x^(τ,l)
    inputs = [X] + images[:-1]  # x^(τ,l-1)
    planes = [fixed] * len(ex.layers) if fixed is not None else _step_planes(ex.layers, data, inputs)
    if box is None and planes and all(_same_frame(P, planes[0]) for P in planes):  # one box for every step
        extra = [data.barycenter] + [data.mean(j) for j in range(data.Q)] + [layer.apex for layer in ex.layers]
        box = _panel_box(planes[0], columns_matrix([column(X, i) for i in range(data.N)] + extra))
    out = []
    for k, layer in enumerate(ex.layers):
        P, X = planes[k], inputs[k]
        panel = box or _panel_box(P, columns_matrix([column(X, i) for i in range(data.N)] + [layer.apex]))
        A, c = P.restrict(layer.W, layer.b)
        forward = panel.clip_all(A, c, 1)
        backward = panel.clip_all(A, c, -1)
        apex_s = P.coordinates(layer.apex)
        hyper: tuple[Point, ...] = ()
        if k < len(recorded) and recorded[k].h.nrows() == data.M:
            h = recorded[k].h
            a = h.transpose() * P.basis
            if a[0, 0] != 0 or a[0, 1] != 0:
                offset = (h.transpose() * P.origin)[0, 0] - recorded[k].hyperplane_offset
                hyper = panel.section([a[0, 0], a[0, 1]], offset)
        collapsed = tuple(c.label for c in layer.classes if c.collapsed)
        out.append(
            TruncationStep(
                layer.index,
                collapsed,
                forward,
                backward,
                (apex_s[0, 0], apex_s[1, 0]),
                hyper,
                P.coordinates(X),
                P.coordinates(images[k]),
                layer.regions,
                panel,
                P,
                P.contains_columns(X),
                P.contains(layer.apex),
            )
        )
    return tuple(out)


def _same_frame(P: Plane, Q: Plane) -> bool:
    return P.origin == Q.origin and P.basis == Q.basis


def _step_planes(
    layers: Sequence[LayerExplanation], data: LabeledData, inputs: Sequence[flint.fmpq_mat]
) -> list[Plane]:
    """:func:`step_plane` of every layer; a plane that coincides with an earlier one is drawn in the
    earlier one's frame (the same axes, so panels of one plane line up)."""
    planes: list[Plane] = []
    earlier: list[Any] = []
    for layer, X in zip(layers, inputs):
        P = step_plane(layer, data, X, earlier)
        same = next((Q for Q in planes if Q.coincides(P)), None)
        planes.append(P.in_frame_of(same) if same is not None else P)
        earlier += [c.label for c in layer.classes if c.collapsed]
    return planes


@dataclass(frozen=True)
class DecisionSection:
    """The exact decision regions of a network in a plane, and the data drawn on them.

    Attributes
    ----------
    plane : Plane
    box : Polygon
    regions : tuple of DecisionRegion
        The argmax regions cut by the plane (exact).
    points : flint.fmpq_mat
        Plane coordinates (``2 x N``) of (the projections of) the data points.
    in_plane : tuple of bool
        For each point: whether it lies in the plane (exact).
    labels : tuple
        Each point's class.
    winners : tuple of tuple
        Each point's largest outputs (labels), computed exactly at the point itself (not at its
        projection).
    """

    plane: Plane
    box: Polygon
    regions: tuple[DecisionRegion, ...] = field(repr=False)
    points: flint.fmpq_mat = field(repr=False)
    in_plane: tuple[bool, ...] = field(repr=False)
    labels: tuple[Any, ...] = field(repr=False)
    winners: tuple[tuple[Any, ...], ...] = field(repr=False)

    @property
    def misclassified(self) -> tuple[int, ...]:
        """Indices of the points whose class is not the unique largest output (exact)."""
        return tuple(i for i, (c, w) in enumerate(zip(self.labels, self.winners)) if w != (c,))


def means_plane(data: LabeledData) -> Plane:
    """The plane through the first three affinely independent class means (for two classes, or
    collinear means: then ``x̄``, then the first data point off their line).

    >>> import symtrunc
    >>> d = symtrunc.LabeledData.from_arrays([[6, 0, 0], [0, 6, 0], [0, 0, 6], [1, 1, 1]], list("abbc"),
    ...                                      check=False)
    >>> means_plane(d).name
    'plane through the mean of a, the mean of b and the mean of c'
    """
    cands = [(f"the mean of {c}", data.mean(j)) for j, c in enumerate(data.classes)]
    cands.append(("x̄", data.barycenter))
    X = data.X.transpose()
    cands += [(f"the point $x_{{{i + 1}}}$ (class {data.classes[data.y[i]]})", column(X, i)) for i in range(data.N)]
    return Plane.through(cands)


def decision_section(
    net: ReLUNetwork, data: Any, plane: Plane | None = None, box: Polygon | None = None
) -> DecisionSection:
    """The exact decision regions of ``net`` in a plane, with the data.

    Parameters
    ----------
    net : ReLUNetwork
    data : LabeledData or path
    plane : Plane, optional
        Default: ``R^2`` for 2-D data, else :func:`means_plane`.
    box : Polygon, optional
        In plane coordinates; default around the (projected) points and the plane's marks.

    Examples
    --------
    >>> import symtrunc
    >>> d = symtrunc.LabeledData.from_arrays(
    ...     [[6, 0, 0], [7, 0, 1], [0, 6, 0], [0, 7, 1], [0, 0, 6], [1, 0, 7]], list("aabbcc"))
    >>> sec = decision_section(symtrunc.construct(d), d)
    >>> sec.plane.name, sec.in_plane, sec.misclassified
    ('plane through the mean of a, the mean of b and the mean of c', (False, False, False, False, False, False), ())
    """
    data = load_data(data)
    if data.M != net.input_dim:
        raise DataError(f"the data have dimension {data.M} but the network expects {net.input_dim}")
    if plane is None:
        plane = Plane.standard() if data.M == 2 else means_plane(data)
    X = data.X.transpose()
    if box is None:
        box = _panel_box(plane, X)
    outputs = tuple(net.classes or range(net.output_dim))
    values = net.forward(data.X).tolist()
    winners = tuple(tuple(outputs[k] for k, v in enumerate(row) if v == max(row)) for row in values)
    return DecisionSection(
        plane,
        box,
        decision_regions(net, box, plane, outputs),
        plane.coordinates(X),
        plane.contains_columns(X),
        tuple(data.classes[j] for j in data.y),
        winners,
    )


def sections(
    net: ReLUNetwork, data: Any, plane: Plane | None = None, box: Polygon | None = None
) -> tuple[tuple[TruncationStep, ...], DecisionSection]:
    """The exact content of every panel of :func:`symtrunc.plot.plot_steps`: the truncation steps
    and the decision regions.

    With a ``plane`` (or 2-D data) every panel lives in that plane and, without a ``box``, in one
    window. Otherwise the steps get their :func:`step_plane` and the decision regions the
    :func:`means_plane`; panels whose planes coincide share one frame (and, when all do, one
    window).

    >>> import symtrunc
    >>> d = symtrunc.LabeledData.from_arrays(
    ...     [[6, 0, 1], [7, 0, 1], [0, 6, 1], [0, 7, 1], [-5, -5, 1], [-5, -6, 1]], list("aabbcc"))
    >>> steps, regions = sections(symtrunc.construct(d), d)
    >>> [s.plane.name for s in steps][1]
    'plane through $p_{2}$, the mean of b and the mean of c'
    >>> all(s.plane.origin == regions.plane.origin and s.box == regions.box for s in steps)
    True
    >>> all(all(s.in_plane) for s in steps), all(regions.in_plane)     # every point lies in z = 1
    (True, True)
    """
    data = load_data(data)
    steps = truncation_steps(net, data, plane, box)
    if plane is None and data.M > 2:
        plane = means_plane(data)
        same = next((s.plane for s in steps if s.plane.coincides(plane)), None)
        if same is not None:
            plane = plane.in_frame_of(same)
            if box is None and all(_same_frame(s.plane, plane) for s in steps):
                box = steps[0].box
    elif box is None and steps:
        box = steps[0].box
    return steps, decision_section(net, data, plane, box)


@dataclass(frozen=True)
class LinearRegion:
    """A piece of the plane on which the network is one affine map.

    Attributes
    ----------
    polygon : Polygon
    pattern : tuple of tuple of bool
        Which ReLU neurons are active (pre-activation ``≥ 0``), layer by layer.
    A, c : flint.fmpq_mat
        The network's output on the piece is ``A s + c`` (``A`` is ``d_L x 2``).
    """

    polygon: Polygon
    pattern: tuple[tuple[bool, ...], ...]
    A: flint.fmpq_mat = field(repr=False)
    c: flint.fmpq_mat = field(repr=False)


@dataclass(frozen=True)
class DecisionRegion:
    """A convex piece of the plane where output ``index`` (class ``label``) is a largest output."""

    polygon: Polygon
    index: int
    label: Any


def _restricted_layers(net: ReLUNetwork, plane: Plane | None) -> tuple[Layer, ...]:
    plane = plane or (Plane.standard() if net.input_dim == 2 else None)
    if plane is None:
        raise DataError(f"the network has {net.input_dim} inputs: give a Plane to draw it on")
    if plane.dim != net.input_dim:
        raise DataError(f"the plane lives in R^{plane.dim} but the network has {net.input_dim} inputs")
    first = net.layers[0]
    W, b = plane.restrict(first.W, first.b)
    return (Layer(W, b, first.activation),) + net.layers[1:]


def linear_regions(net: ReLUNetwork, box: Polygon, plane: Plane | None = None) -> tuple[LinearRegion, ...]:
    """Exact subdivision of ``box`` into the pieces where ``net`` is affine.

    Every ReLU neuron's pre-activation is affine on the current piece; the piece is cut along
    its zero line into an active and an inactive part (zero-area parts are dropped).

    Parameters
    ----------
    net : ReLUNetwork
    box : Polygon
        In plane coordinates.
    plane : Plane, optional
        Required when the network has more than 2 inputs.

    Examples
    --------
    >>> from symtrunc.network import ReLUNetwork
    >>> relu_x = ReLUNetwork.from_rows([([[1, 0]], [0], "relu"), ([[1]], [0], "identity")])
    >>> [(r.polygon.vertices, r.pattern) for r in linear_regions(relu_x, Polygon.box(-1, 1, 0, 1))]
    [(((0, 0), (1, 0), (1, 1), (0, 1)), ((True,),)), (((-1, 0), (0, 0), (0, 1), (-1, 1)), ((False,),))]
    """
    layers = _restricted_layers(net, plane)
    # (polygon, pattern, A, c): the current value is A s + c on the polygon
    pieces: list[tuple[Polygon, tuple[tuple[bool, ...], ...], flint.fmpq_mat, flint.fmpq_mat]] = [
        (box, (), identity(2), zeros(2, 1))
    ]
    for layer in layers:
        new = []
        for poly, pattern, A, c in pieces:
            Z, z = layer.W * A, layer.W * c + layer.b
            if layer.activation != "relu":
                new.append((poly, pattern, Z, z))
                continue
            parts: list[tuple[Polygon, tuple[bool, ...]]] = [(poly, ())]
            for i in range(Z.nrows()):
                split = []
                constant = Z[i, 0] == 0 and Z[i, 1] == 0
                for part, pat in parts:
                    # a constant pre-activation does not cut: one side only (ReLU(0) = 0 either way)
                    for active in (z[i, 0] >= 0,) if constant else (True, False):
                        s = 1 if active else -1
                        piece = part.clip([s * Z[i, 0], s * Z[i, 1]], s * z[i, 0])
                        if not piece.is_empty:
                            split.append((piece, pat + (active,)))
                parts = split
            for part, pat in parts:
                D = flint.fmpq_mat(
                    Z.nrows(), Z.nrows(), [int(i == j and pat[i]) for i in range(Z.nrows()) for j in range(Z.nrows())]
                )
                new.append((part, pattern + (pat,), D * Z, D * z))
        pieces = new
    return tuple(LinearRegion(p, pat, A, c) for p, pat, A, c in pieces)


def decision_regions(
    net: ReLUNetwork, box: Polygon, plane: Plane | None = None, labels: Sequence[Any] | None = None
) -> tuple[DecisionRegion, ...]:
    """Exact pieces of ``box`` where each output of ``net`` is a largest one (argmax regions).

    Parameters
    ----------
    net : ReLUNetwork
    box : Polygon
        In plane coordinates.
    plane : Plane, optional
        Required when the network has more than 2 inputs.
    labels : sequence, optional
        Output labels (default ``net.classes``, else ``0..d_L-1``).

    Examples
    --------
    >>> from symtrunc.network import ReLUNetwork
    >>> net = ReLUNetwork.from_rows([([[1, 0], [-1, 0]], [0, 0], "identity")], classes=("R", "L"))
    >>> [(r.label, r.polygon.vertices) for r in decision_regions(net, Polygon.box(-1, 1, 0, 1))]
    [('R', ((0, 0), (1, 0), (1, 1), (0, 1))), ('L', ((-1, 0), (0, 0), (0, 1), (-1, 1)))]
    """
    labels = tuple(labels if labels is not None else (net.classes or range(net.output_dim)))
    out = []
    for region in linear_regions(net, box, plane):
        A, c = region.A, region.c
        for k in range(A.nrows()):
            poly = region.polygon
            for j in range(A.nrows()):
                if j != k:
                    poly = poly.clip([A[k, 0] - A[j, 0], A[k, 1] - A[j, 1]], c[k, 0] - c[j, 0])
            if not poly.is_empty:
                out.append(DecisionRegion(poly, k, labels[k]))
    return tuple(out)
