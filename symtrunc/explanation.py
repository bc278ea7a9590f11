"""Read a ReLU network through the truncation-map lens: which points each layer keeps or collapses.

By Proposition 3.2 of Chen & Muñoz Ewald (arXiv 2405.07098) a ReLU network acts on input space
through truncation maps ``τ_l = τ_{W^(l), b^(l)}`` built from the cumulative parameters
``(W^(l), b^(l))``, applied to the truncated points ``x^(τ,l-1) = τ_{l-1} ∘ ... ∘ τ_1 (x)``.
Lemma 2.1 of Muñoz Ewald (arXiv 2504.18710) describes ``τ_l`` completely when ``W = W^(l)`` is
surjective: with the base point ``p = -W^+ b`` and edges ``v_i = W^+ e_i`` write
``x = p + x̃ + Σ a_i v_i`` (``x̃ ∈ ker W``); then

- ``a = W x + b`` (since ``W W^+ = 1``): the cone coordinates are the layer's pre-activations,
- ``τ(x) = W^+W p + Σ_{a_i > 0} a_i v_i``: the point is **unchanged** (up to the projector
  ``W^+W``) on the forward cone ``S_+`` (all ``a_i ≥ 0``), **collapsed** to the base point on the
  backward cone ``S_-`` (all ``a_i ≤ 0``) and **projected** onto a face of ``S_+`` otherwise.

:func:`explain` computes all of this exactly for every ReLU layer and every class of the data:
the counts of points in the forward cone, the backward cone and on a face, and how far each
class is from collapse: the largest cone coordinate ``max_i a_i`` over its points (the class is
entirely collapsed iff it is ``≤ 0``). The apex itself (``a = 0``) counts as forward, as in
:meth:`symtrunc.geometry.truncation.PolyhedralCone.region`.

Widening layers (``d_l`` larger than the current input-space dimension ``n``, so ``W^(l)`` is
injective but not surjective) are handled with Lemma 2.2 of arXiv 2504.18710: ``W^(l) = W̃ ι``
with ``ι x = (x, 0)`` and ``W̃ = [W^(l) | N]`` invertible, where the columns of ``N`` span the
orthogonal complement of the range of ``W^(l)``; then ``σ(W^(l) x + b) = W̃ τ_{W̃,b}(ι x) + b``
and the analysis continues in the lifted space ``R^{d_l}``. (The coordinates ``a`` and the
regions do not depend on the choice of ``N``; the apex and edges do.) A cumulative matrix that
is neither surjective nor injective (a bottleneck followed by a wider layer) has no
truncation-map description and is refused.

Examples
--------
>>> import symtrunc
>>> from symtrunc.data.labeled import LabeledData
>>> data = LabeledData.from_arrays([[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]],
...                                list("aaaabbbb"))
>>> net = symtrunc.construct(data)
>>> ex = explain(net, data)
>>> [(c.label, c.forward, c.backward, c.face) for c in ex.layers[0].classes]
[('a', 0, 4, 0), ('b', 4, 0, 0)]
>>> ex.layers[0].classes[0].reach, ex.layers[0].classes[0].collapsed
(-1/6, True)
>>> print(ex.to_text())
truncation-map view of a 2 -> 2 -> 2 -> 2 network on 8 points, 2 classes
forward: unchanged (all a_i >= 0); backward: collapsed to the apex p = -W^+ b (all a_i <= 0);
face: projected onto a face; a = W^(l) x^(tau,l-1) + b^(l) (the layer's pre-activations)
layer 1: 2 ReLU neurons on R^2
  class  points  forward  backward  face  max a_i  status
  a           4        0         4     0     -1/6  collapsed
  b           4        4         0     0     11/2  unchanged
layer 2: 2 ReLU neurons on R^2
  class  points  forward  backward  face  max a_i  status
  a           4        4         0     0        2  unchanged
  b           4        0         4     0     -1/6  collapsed
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flint

from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError, HypothesisError
from symtrunc.exact.matrix import identity, pinv
from symtrunc.geometry.truncation import PolyhedralCone
from symtrunc.network import ReLUNetwork

__all__ = ["ClassRegions", "LayerExplanation", "Explanation", "explain"]


@dataclass(frozen=True)
class ClassRegions:
    """Where the (truncated) points of one class lie relative to one layer's cones.

    Attributes
    ----------
    label : object
        The class label.
    points : int
    forward, backward, face : int
        Points in the forward cone (unchanged), in the backward cone (collapsed to the apex) and
        elsewhere (projected onto a face of the forward cone).
    reach : flint.fmpq
        ``max_i a_i`` over the class's points: the largest cone coordinate (= pre-activation).
        The class is entirely collapsed iff ``reach ≤ 0``; a positive value is how far (in the
        layer's coordinates) the class sticks out of the backward cone.
    floor : flint.fmpq
        ``min_i a_i`` over the class's points; the class is entirely unchanged iff ``floor ≥ 0``.
    """

    label: Any
    points: int
    forward: int
    backward: int
    face: int
    reach: flint.fmpq
    floor: flint.fmpq

    @property
    def collapsed(self) -> bool:
        """Every point of the class is collapsed to the apex."""
        return self.backward == self.points and self.points > 0

    @property
    def unchanged(self) -> bool:
        """Every point of the class is in the forward cone."""
        return self.forward == self.points

    @property
    def status(self) -> str:
        """``"collapsed"``, ``"unchanged"`` or ``"mixed"``."""
        return "collapsed" if self.collapsed else "unchanged" if self.unchanged else "mixed"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, exact numbers as strings."""
        return {
            "class": self.label,
            "points": self.points,
            "forward": self.forward,
            "backward": self.backward,
            "face": self.face,
            "reach": str(self.reach),
            "floor": str(self.floor),
            "status": self.status,
        }


@dataclass(frozen=True)
class LayerExplanation:
    """One ReLU layer's truncation map ``τ_{W^(l), b^(l)}`` and the classes' regions.

    Attributes
    ----------
    index : int
        The layer number ``l`` (1-based, as in the paper).
    width : int
        Number of ReLU neurons ``d_l``.
    dim : int
        Dimension of the space the truncation map acts on (``d_0``, or larger after a widening
        layer lifted it by Lemma 2.2).
    lifted : bool
        Whether this layer widened the space (Lemma 2.2).
    W, b : flint.fmpq_mat
        The cumulative parameters in that space (``W`` is ``W̃`` for a lifted layer).
    apex : flint.fmpq_mat
        ``p = -W^+ b``.
    edges : flint.fmpq_mat
        ``W^+``; column ``i`` is ``v_i = W^+ e_i``.
    classes : tuple of ClassRegions
    regions : tuple of str
        ``"forward"``, ``"backward"`` or ``"face"`` for every data point, in data order.
    truncated : flint.fmpq_mat
        The truncated points ``x^(τ,l) = τ(x^(τ,l-1))`` as columns (shape ``(dim, N)``).
    """

    index: int
    width: int
    dim: int
    lifted: bool
    W: flint.fmpq_mat = field(repr=False)
    b: flint.fmpq_mat = field(repr=False)
    apex: flint.fmpq_mat = field(repr=False)
    edges: flint.fmpq_mat = field(repr=False)
    classes: tuple[ClassRegions, ...] = ()
    regions: tuple[str, ...] = field(default=(), repr=False)
    truncated: flint.fmpq_mat | None = field(default=None, repr=False)

    def cone(self) -> PolyhedralCone:
        """The polyhedral cone ``(p, [v_1 ... v_m])``."""
        return PolyhedralCone(self.apex, self.edges)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, exact numbers as strings."""
        return {
            "layer": self.index,
            "width": self.width,
            "dim": self.dim,
            "lifted": self.lifted,
            "apex": [str(v) for v in self.apex.entries()],
            "classes": [c.to_dict() for c in self.classes],
        }


@dataclass(frozen=True)
class Explanation:
    """Result of :func:`explain`: one :class:`LayerExplanation` per ReLU layer."""

    widths: tuple[int, ...]
    n_points: int
    class_labels: tuple[Any, ...]
    layers: tuple[LayerExplanation, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, exact numbers as strings."""
        return {
            "format": "symtrunc.explanation",
            "version": 1,
            "widths": list(self.widths),
            "points": self.n_points,
            "classes": list(self.class_labels),
            "layers": [layer.to_dict() for layer in self.layers],
        }

    def collapse_order(self) -> list[list[Any]]:
        """For each ReLU layer, the labels of the classes it collapses entirely."""
        return [[c.label for c in layer.classes if c.collapsed] for layer in self.layers]

    def to_text(self) -> str:
        """A plain-text table per layer (exact values when short, else ``≈`` decimals)."""
        lines = [
            f"truncation-map view of a {' -> '.join(map(str, self.widths))} network on "
            f"{self.n_points} points, {len(self.class_labels)} classes",
            "forward: unchanged (all a_i >= 0); backward: collapsed to the apex p = -W^+ b (all a_i <= 0);",
            "face: projected onto a face; a = W^(l) x^(tau,l-1) + b^(l) (the layer's pre-activations)",
        ]
        lw = max([5] + [len(str(c)) for c in self.class_labels])
        for layer in self.layers:
            how = " (lifted by Lemma 2.2)" if layer.lifted else ""
            lines.append(f"layer {layer.index}: {layer.width} ReLU neurons on R^{layer.dim}{how}")
            reach = [_short(c.reach) for c in layer.classes]
            rw = max([7] + [len(r) for r in reach])
            lines.append(f"  {'class':<{lw}}  points  forward  backward  face  {'max a_i':>{rw}}  status")
            for c, r in zip(layer.classes, reach):
                lines.append(
                    f"  {str(c.label):<{lw}}  {c.points:6d}  {c.forward:7d}  {c.backward:8d}  "
                    f"{c.face:4d}  {r:>{rw}}  {c.status}"
                )
        if not self.layers:
            lines.append("(no ReLU layers)")
        return "\n".join(lines)


def _short(q: flint.fmpq) -> str:
    s = str(q)
    return s if len(s) <= 12 else f"≈{float(q):.6g}"


def _left_null(W: flint.fmpq_mat) -> flint.fmpq_mat:
    """Columns spanning ``{y : W^T y = 0}`` (the orthogonal complement of ``range(W)``)."""
    A = W.transpose()  # n x m
    R, r = A.rref()
    m = A.ncols()
    pivots = []
    row = 0
    for j in range(m):
        if row < r and R[row, j] != 0:
            pivots.append(j)
            row += 1
    free = [j for j in range(m) if j not in pivots]
    cols = []
    for f in free:
        v = [flint.fmpq(0)] * m
        v[f] = flint.fmpq(1)
        for i, pj in enumerate(pivots):
            v[pj] = -R[i, f]
        cols.append(v)
    return flint.fmpq_mat(m, len(free), [cols[c][i] for i in range(m) for c in range(len(free))])


def _hstack(A: flint.fmpq_mat, B: flint.fmpq_mat) -> flint.fmpq_mat:
    rows_a, rows_b = A.tolist(), B.tolist()
    return flint.fmpq_mat(A.nrows(), A.ncols() + B.ncols(), [v for ra, rb in zip(rows_a, rows_b) for v in ra + rb])


def _lift(X: flint.fmpq_mat, dim: int) -> flint.fmpq_mat:
    """``ι``: append zero coordinates to the columns of ``X``."""
    n, N = X.nrows(), X.ncols()
    return flint.fmpq_mat(dim, N, list(X.entries()) + [0] * ((dim - n) * N))


def explain(network: ReLUNetwork, data: Any) -> Explanation:
    """Exact truncation-map analysis of every ReLU layer of ``network`` on ``data``.

    Parameters
    ----------
    network : ReLUNetwork
        Any exact network, e.g. one imported from a trained float model with
        :func:`symtrunc.io.trained.import_network`.
    data : LabeledData or path
        Labeled points; the classes are the data's classes.

    Returns
    -------
    Explanation

    Raises
    ------
    DataError
        If the data dimension differs from the network's input dimension.
    HypothesisError
        If a cumulative weight matrix is neither surjective nor injective, so the layer is not
        a truncation map on any input space (Lemmas 2.1–2.2 of arXiv 2504.18710).
    """
    data = data if isinstance(data, LabeledData) else load_data(data)
    if data.M != network.input_dim:
        raise DataError(f"the data have dimension {data.M} but the network expects {network.input_dim}")
    X = data.X.transpose()  # points as columns, x^(τ,0)
    N = data.N
    dim = network.input_dim
    Wc: flint.fmpq_mat = identity(dim)  # cumulative W^(l-1) on the current space
    bc: flint.fmpq_mat = flint.fmpq_mat(dim, 1)
    out = []
    for l, layer in enumerate(network.layers, 1):
        W = layer.W * Wc
        b = layer.W * bc + layer.b
        if layer.activation != "relu":
            Wc, bc = W, b
            continue
        m = W.nrows()
        rank = W.rank()
        lifted = False
        if rank == m:
            Wp = pinv(W)
        elif rank == dim and m > dim:
            W = _hstack(W, _left_null(W))  # W̃ = [W | N], invertible (Lemma 2.2)
            X = _lift(X, m)
            dim, lifted = m, True
            Wp = W.inv()
        else:
            raise HypothesisError(
                f"layer {l}: the cumulative weight matrix W^({l}) ({m}x{dim}) has rank {rank}, neither "
                f"surjective (rank {m}, Lemma 2.1) nor injective (rank {dim}, Lemma 2.2 of arXiv "
                "2504.18710), so this layer is not a truncation map (a narrower layer before it "
                "lost information)"
            )
        B = flint.fmpq_mat(m, N, [v for v in b.entries() for _ in range(N)])
        A = W * X + B  # cone coordinates a = W x^(τ,l-1) + b
        a_rows = A.tolist()
        regions = []
        per_class: list[list[Any]] = [[0, 0, 0, None, None] for _ in range(data.Q)]
        for i in range(N):
            col = [a_rows[r][i] for r in range(m)]
            hi, lo = max(col), min(col)
            region = "forward" if lo >= 0 else "backward" if hi <= 0 else "face"
            regions.append(region)
            s = per_class[data.y[i]]
            s[("forward", "backward", "face").index(region)] += 1
            s[3] = hi if s[3] is None or hi > s[3] else s[3]
            s[4] = lo if s[4] is None or lo < s[4] else s[4]
        classes = tuple(
            ClassRegions(
                data.classes[j],
                data.counts[j],
                s[0],
                s[1],
                s[2],
                s[3] if s[3] is not None else flint.fmpq(0),
                s[4] if s[4] is not None else flint.fmpq(0),
            )
            for j, s in enumerate(per_class)
        )
        relu_A = flint.fmpq_mat(m, N, [v if v > 0 else 0 for v in A.entries()])
        X = Wp * (relu_A - B)  # x^(τ,l) = W^+ (σ(a) - b)
        out.append(LayerExplanation(l, m, dim, lifted, W, b, -(Wp * b), Wp, classes, tuple(regions), X))
        Wc, bc = W, b
    return Explanation(network.widths, N, data.classes, tuple(out))
