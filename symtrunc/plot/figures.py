"""Pictures of truncation maps: cones, collapsing classes, hyperplanes and decision regions.

The geometry is exact (:mod:`symtrunc.plot.polygon`); only the drawing is in floats. matplotlib is
imported when a function here is called (install the ``plot`` extra: ``pip install
symtrunc[plot]``). Figures are created with :class:`matplotlib.figure.Figure` directly, so no
pyplot state is touched: save them with ``fig.savefig(...)`` or let Jupyter display them.

* :func:`plot_steps` — one panel per ReLU layer (forward cone kept, backward cone collapsed to
  its apex, the separating hyperplane, the points before and after the step) and a last panel
  with the exact decision regions of the network.
* :func:`plot_step`, :func:`plot_decision_regions` — single panels on a given ``Axes``.

For ``M > 2`` the pictures live in the plane through the barycenter and two class means
(:meth:`symtrunc.plot.polygon.Plane.through_means`): points are projected orthogonally onto it and the
cones and decision regions are cut by it.

Examples
--------
>>> import symtrunc
>>> from symtrunc.plot import plot_steps
>>> d = symtrunc.LabeledData.from_arrays(
...     [[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]], list("aaaabbbb"))
>>> fig = plot_steps(symtrunc.construct(d), d)
>>> len(fig.axes)
3
>>> [ax.get_title() for ax in fig.axes][0]
'layer 1: class a collapses'
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError, SymtruncError
from symtrunc.network import ReLUNetwork
from symtrunc.plot.polygon import (
    Plane,
    Polygon,
    TruncationStep,
    bounding_box,
    decision_regions,
    truncation_steps,
)

__all__ = ["plot_steps", "plot_step", "plot_decision_regions", "class_colors"]

_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
            "#17becf", "#bcbd22", "#7f7f7f")


def class_colors(labels: Sequence[Any]) -> dict[Any, str]:
    """One color per class label (a fixed colorblind-friendly cycle).

    >>> class_colors(["a", "b"])
    {'a': '#1f77b4', 'b': '#d62728'}
    """
    return {c: _PALETTE[k % len(_PALETTE)] for k, c in enumerate(labels)}


def _figure_class():
    """matplotlib's ``Figure``, or one clear error line when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise SymtruncError("plotting needs matplotlib: pip install 'symtrunc[plot]'") from None
    return Figure


def _new_axes(n: int, ncols: int | None = None, size: float = 4.0):
    Figure = _figure_class()
    ncols = ncols or (2 if n == 4 else min(n, 3))
    nrows = -(-n // ncols)
    fig = Figure(figsize=(size * ncols, size * nrows + 1.5), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, list(axes[:n])


def _xy(points, scales) -> tuple[list[float], list[float]]:
    rows = points.tolist()
    return [float(v) * scales[0] for v in rows[0]], [float(v) * scales[1] for v in rows[1]]


def _on_box_side(p, q, box: Polygon) -> bool:
    xs = {v[0] for v in box.vertices}
    ys = {v[1] for v in box.vertices}
    return (p[0] == q[0] and p[0] in xs) or (p[1] == q[1] and p[1] in ys)


def _fill(ax, poly: Polygon, box: Polygon, scales, color: str, alpha: float, label: str | None,
          hatch: str | None = None) -> None:
    """Fill an exact polygon; outline only its edges inside the box (the cone boundary rays)."""
    if poly.is_empty:
        return
    xy = poly.to_float(scales)
    ax.fill(xy[:, 0], xy[:, 1], facecolor=color, alpha=alpha, edgecolor="none", label=label,
            hatch=hatch, zorder=0)
    v = poly.vertices
    for k in range(len(v)):
        p, q = v[k - 1], v[k]
        if not _on_box_side(p, q, box):
            ax.plot([float(p[0]) * scales[0], float(q[0]) * scales[0]],
                    [float(p[1]) * scales[1], float(q[1]) * scales[1]],
                    color=color, lw=1.2, zorder=1)


def _frame(ax, box: Polygon, plane: Plane) -> None:
    xy = box.to_float(plane.scales)
    ax.set_xlim(xy[:, 0].min(), xy[:, 0].max())
    ax.set_ylim(xy[:, 1].min(), xy[:, 1].max())
    ax.set_aspect("equal" if plane.dim == 2 else "auto")
    ax.set_xlabel(plane.axes[0], fontsize=8)
    ax.set_ylabel(plane.axes[1], fontsize=8)
    ax.tick_params(labelsize=7)


def _scatter_classes(ax, points, data: LabeledData, scales, colors, *, size: float = 22,
                     label: bool = True) -> None:
    xs, ys = _xy(points, scales)
    for j, c in enumerate(data.classes):
        idx = data.class_indices[j]
        ax.scatter([xs[i] for i in idx], [ys[i] for i in idx], s=size, color=colors[c],
                   edgecolors="white", linewidths=0.5, zorder=3, label=f"class {c}" if label else None)


def plot_step(
    step: TruncationStep,
    data: LabeledData,
    ax: Any = None,
    *,
    plane: Plane | None = None,
    box: Polygon | None = None,
    colors: dict[Any, str] | None = None,
) -> Any:
    """Draw one truncation step on ``ax`` (a new figure when ``None``); returns the ``Axes``.

    The backward cone (points there collapse to the apex ``p_l``) is shaded in the color of the
    collapsing class, the forward cone (points there are kept) in grey; the dashed line is the
    construction's separating hyperplane; arrows show where the truncation map sends each
    point that moves; hollow markers are the points before the step.
    """
    own = ax is None
    if own:
        _, (ax,) = _new_axes(1)
    plane = plane or Plane.standard()
    colors = colors or class_colors(data.classes)
    if box is None:
        box = bounding_box(step.before)
    sc = plane.scales
    tint = colors[step.collapsed[0]] if step.collapsed else "#555555"
    _fill(ax, step.backward, box, sc, tint, 0.16, "backward cone $S_-$ (collapsed)", hatch=None)
    _fill(ax, step.forward, box, sc, "#7f7f7f", 0.10, "forward cone $S_+$ (kept)")
    if len(step.hyperplane) == 2:
        (p, q) = step.hyperplane
        ax.plot([float(p[0]) * sc[0], float(q[0]) * sc[0]], [float(p[1]) * sc[1], float(q[1]) * sc[1]],
                ls="--", color="black", lw=1, zorder=2, label="separating hyperplane")
    bx, by = _xy(step.before, sc)
    ax_, ay = _xy(step.after, sc)
    moved = [i for i in range(len(bx)) if (bx[i], by[i]) != (ax_[i], ay[i])]
    if moved:  # one quiver artist for all arrows (hundreds of annotations render slowly)
        ax.quiver([bx[i] for i in moved], [by[i] for i in moved],
                  [ax_[i] - bx[i] for i in moved], [ay[i] - by[i] for i in moved],
                  color=[colors[data.classes[data.y[i]]] for i in moved], angles="xy", scale_units="xy",
                  scale=1, width=0.004, headwidth=4, headlength=5, headaxislength=4.5, alpha=0.5, zorder=2)
    ax.scatter([bx[i] for i in moved], [by[i] for i in moved], s=18, facecolors="none",
               edgecolors=[colors[data.classes[data.y[i]]] for i in moved], linewidths=0.7, zorder=3,
               label="before the step (moved)" if moved else None)
    _scatter_classes(ax, step.after, data, sc, colors)
    apex = (float(step.apex[0]) * sc[0], float(step.apex[1]) * sc[1])
    ax.scatter([apex[0]], [apex[1]], marker="*", s=170, color=tint, edgecolors="black",
               linewidths=0.7, zorder=4, label=f"apex $p_{{{step.layer}}}$")
    ax.annotate(f"$p_{{{step.layer}}}$", apex, xytext=(6, 5), textcoords="offset points", fontsize=10)
    if step.collapsed:
        title = f"layer {step.layer}: class {', '.join(map(str, step.collapsed))} collapses"
    else:
        title = f"layer {step.layer}: no class collapses entirely"
    ax.set_title(title, fontsize=10)
    _frame(ax, box, plane)
    if own:
        _side_legend(ax)
    return ax


def plot_decision_regions(
    net: ReLUNetwork,
    data: LabeledData | None = None,
    ax: Any = None,
    *,
    plane: Plane | None = None,
    box: Polygon | None = None,
    colors: dict[Any, str] | None = None,
) -> Any:
    """Fill the exact decision regions (argmax of the outputs) of ``net``; returns the ``Axes``.

    Parameters
    ----------
    net : ReLUNetwork
    data : LabeledData, optional
        Drawn on top; also sets the default box and plane.
    ax : matplotlib Axes, optional
    plane : Plane, optional
        Needed for networks with more than 2 inputs (default through the first two class means).
    box : Polygon, optional
        In plane coordinates.
    colors : dict, optional
        Class label to color.
    """
    own = ax is None
    if own:
        _, (ax,) = _new_axes(1)
    labels = tuple(net.classes or range(net.output_dim))
    colors = colors or class_colors(labels)
    if plane is None:
        if net.input_dim == 2:
            plane = Plane.standard()
        elif data is not None:
            plane = Plane.through_means(data, data.classes[0], data.classes[1])
        else:
            raise DataError(f"the network has {net.input_dim} inputs: give data or a Plane")
    if box is None:
        if data is None:
            raise DataError("give data or a box to draw the decision regions in")
        box = bounding_box(plane.coordinates(data.X.transpose()))
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import to_rgb

    sc = plane.scales
    regions = decision_regions(net, box, plane, labels)
    # opaque pale colors: the convex pieces of one region do not show seams where they meet
    pale = {c: tuple(0.25 * v + 0.75 for v in to_rgb(colors.get(c, "#7f7f7f"))) for c in labels}
    face = [pale[r.label] for r in regions]
    ax.add_collection(PolyCollection([r.polygon.to_float(sc) for r in regions], facecolors=face,
                                     edgecolors=face, linewidths=0.6, zorder=0))
    for c in dict.fromkeys(r.label for r in regions):   # legend entries, in output order
        ax.fill([], [], facecolor=pale[c], edgecolor="none", label=f"predicted {c}")
    if data is not None:
        _scatter_classes(ax, plane.coordinates(data.X.transpose()), data, sc, colors)
    ax.set_title("the network: decision regions (exact)", fontsize=10)
    _frame(ax, box, plane)
    if own:
        _side_legend(ax)
    return ax


def _side_legend(ax) -> None:
    """A legend to the right of a single panel."""
    ax.figure.set_size_inches(6.4, 4.2)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)


def plot_steps(
    net: ReLUNetwork,
    data: Any,
    *,
    classes: Sequence[Any] | None = None,
    plane: Plane | None = None,
    box: Polygon | None = None,
    ncols: int | None = None,
) -> Any:
    """A multi-panel figure: every truncation step, then the decision regions.

    Parameters
    ----------
    net : ReLUNetwork
    data : LabeledData or path
    classes : pair of labels, optional
        For ``M > 2``: draw in the plane through the barycenter and these two class means
        (default: the first two classes).
    plane : Plane, optional
        Any other plane (overrides ``classes``).
    box : Polygon, optional
        In plane coordinates; default: all points, means, barycenter and apexes with a margin.
    ncols : int, optional
        Panels per row (default: 2 for four panels, otherwise up to 3).

    Returns
    -------
    matplotlib.figure.Figure
    """
    _figure_class()  # fail fast, before the exact geometry, when matplotlib is missing
    data = load_data(data)
    unknown = [c for c in data.classes if net.classes and c not in net.classes]
    if unknown:
        raise DataError(f"the data have class {unknown[0]!r}, which the network does not know (its classes: "
                        f"{', '.join(map(repr, net.classes))})")
    if plane is None:
        if data.M == 2 and classes is None:
            plane = Plane.standard()
        else:
            if classes is None:
                classes = data.classes[:2]
            if len(classes) != 2:
                raise DataError("give exactly two classes to span the drawing plane")
            plane = Plane.through_means(data, classes[0], classes[1])
    steps = truncation_steps(net, data, plane, box)
    if box is None:
        box = steps[0].box if steps else bounding_box(plane.coordinates(data.X.transpose()))
    colors = class_colors(data.classes)
    fig, axes = _new_axes(len(steps) + 1, ncols)
    for step, ax in zip(steps, axes):
        plot_step(step, data, ax, plane=plane, box=box, colors=colors)
    plot_decision_regions(net, data, axes[-1], plane=plane, box=box, colors=colors)
    _mark_means(axes[-1], data, plane)
    labels = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab.startswith("apex"):
                lab = "apex $p_l$ (base point)"
            labels.setdefault(lab, h)
    cols = fig.axes[0].get_gridspec().ncols
    title = f"{net.construction.get('theorem', 'ReLU network').split(':')[0]}: {data.summary()}"
    if data.M > 2:
        title += (". Drawn in the plane through the barycenter x̄ and two class means: points projected "
                  "orthogonally, cones and regions cut by the plane")
    fig.suptitle(textwrap.fill(title, 46 * cols + 14 * (cols == 1)), fontsize=10)
    fig.legend(list(labels.values()), list(labels.keys()), loc="outside lower center",
               ncols=max(2, min(len(labels), 2 * cols)), fontsize=8, frameon=False)
    return fig


def _mark_means(ax, data: LabeledData, plane: Plane) -> None:
    sc = plane.scales
    xb = plane.coordinates(data.barycenter)
    ax.scatter([float(xb[0, 0]) * sc[0]], [float(xb[1, 0]) * sc[1]], marker="X", s=60, color="black",
               zorder=4, label="barycenter $\\bar{x}$")
