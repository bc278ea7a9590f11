"""Pictures of truncation maps: cones, collapsing classes, hyperplanes and decision regions.

The geometry is exact (:mod:`symtrunc.plot.polygon`); only the drawing is in floats. matplotlib is
imported when a function here is called (install the ``plot`` extra: ``pip install
"symtrunc[plot]"``). Figures are created with :class:`matplotlib.figure.Figure` directly, so no
pyplot state is touched: save them with ``fig.savefig(...)`` or let Jupyter display them.

* :func:`plot_steps` — one panel per ReLU layer (forward cone kept, backward cone collapsed to
  its apex, the separating hyperplane, every point with its exact region and an arrow to where
  the layer sends it) and a last panel with the exact decision regions of the network.
* :func:`plot_step`, :func:`plot_decision_regions` — single panels on a given ``Axes``.

The pictures do not lie about the geometry:

* every panel has an equal aspect ratio (plane coordinates are drawn as ``s_k |e_k|`` with an
  orthogonal basis), so cone angles and distances are true;
* for ``M > 2`` a panel is an exact *section* of ``R^M`` by the plane named in its title (by
  default through the layer's apex ``p_l`` and the means of the collapsing and the next classes,
  :func:`~symtrunc.plot.polygon.step_plane`; for the decision regions through the class means,
  :func:`~symtrunc.plot.polygon.means_plane`): the cones and regions drawn are the exact
  intersections of the true ones with that plane;
* a filled marker is a point that lies in the plane (exact test), so it sits in the region it is
  drawn in; a hollow marker is the orthogonal projection of a point off the plane, drawn with
  the class and the region (marker shape) of the point itself, which its projection need not
  share;
* every color has a legend entry.

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
from symtrunc.errors import DataError, require
from symtrunc.network import ReLUNetwork
from symtrunc.plot.polygon import (
    DecisionSection,
    Plane,
    Polygon,
    TruncationStep,
    bounding_box,
    decision_regions,
    decision_section,
    sections,
)

__all__ = ["plot_steps", "plot_step", "plot_decision_regions", "class_colors", "REGION_MARKERS"]

_PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)
_GREY = "#7f7f7f"  # the forward cone
_KEY = "#555555"  # legend keys for marker shapes (not a drawing color)

#: Marker shape of a point by its exact region at a truncation step.
REGION_MARKERS = {"forward": "o", "backward": "v", "face": "s"}
_REGION_TEXT = {
    "forward": "in $S_+$: kept",
    "backward": "in $S_-$: collapsed to the apex",
    "face": "elsewhere: projected onto a face of $S_+$",
}


def class_colors(labels: Sequence[Any]) -> dict[Any, str]:
    """One color per class label (a fixed colorblind-friendly cycle).

    >>> class_colors(["a", "b"])
    {'a': '#1f77b4', 'b': '#d62728'}
    """
    return {c: _PALETTE[k % len(_PALETTE)] for k, c in enumerate(labels)}


def _figure_class():
    """matplotlib's ``Figure`` (a one-line :class:`~symtrunc.errors.MissingDependencyError` without matplotlib)."""
    return require("matplotlib.figure", "plot", "plotting").Figure


def _new_axes(n: int, ncols: int | None = None, size: float = 4.0):
    Figure = _figure_class()
    ncols = ncols or (2 if n == 4 else min(n, 3))
    nrows = -(-n // ncols)
    fig = Figure(figsize=(size * ncols, size * nrows + 2.0), layout="constrained")
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


def _fill(ax, poly: Polygon, box: Polygon, scales, color: str, alpha: float, label: str | None) -> None:
    """Fill an exact polygon; outline only its edges inside the box (the cone boundary rays)."""
    if poly.is_empty:
        return
    xy = poly.to_float(scales)
    ax.fill(xy[:, 0], xy[:, 1], facecolor=color, alpha=alpha, edgecolor="none", label=label, zorder=0)
    v = poly.vertices
    for k in range(len(v)):
        p, q = v[k - 1], v[k]
        if not _on_box_side(p, q, box):
            ax.plot(
                [float(p[0]) * scales[0], float(q[0]) * scales[0]],
                [float(p[1]) * scales[1], float(q[1]) * scales[1]],
                color=color,
                lw=1.2,
                zorder=1,
            )


def _frame(ax, box: Polygon, plane: Plane, title: str) -> None:
    xy = box.to_float(plane.scales)
    ax.set_xlim(xy[:, 0].min(), xy[:, 0].max())
    ax.set_ylim(xy[:, 1].min(), xy[:, 1].max())
    ax.set_aspect("equal")
    ax.set_xlabel(textwrap.fill(plane.axes[0], 60), fontsize=7)
    ax.set_ylabel(textwrap.fill(plane.axes[1], 30), fontsize=7)
    ax.tick_params(labelsize=7)
    if plane.name:
        title += "\n" + textwrap.fill(f"section: {plane.name}", 44)
    ax.set_title(title, fontsize=9 if plane.name else 10)


def _points(
    ax, points, scales, colors: Sequence[str], markers: Sequence[str], filled: Sequence[bool], size: float = 24
) -> None:
    """Scatter points grouped by (color, marker, filled): filled markers lie in the plane, hollow
    ones are projections."""
    xs, ys = _xy(points, scales)
    groups: dict[tuple[str, str, bool], list[int]] = {}
    for i in range(len(xs)):
        groups.setdefault((colors[i], markers[i], filled[i]), []).append(i)
    for (color, marker, full), idx in groups.items():
        ax.scatter(
            [xs[i] for i in idx],
            [ys[i] for i in idx],
            s=size,
            marker=marker,
            facecolors=color if full else "none",
            edgecolors="white" if full else color,
            linewidths=0.5 if full else 0.9,
            zorder=3,
        )


def _key(ax, label: str, marker: str = "o", color: str = _KEY, filled: bool = True) -> None:
    """A legend entry without data."""
    ax.scatter(
        [],
        [],
        s=24,
        marker=marker,
        facecolors=color if filled else "none",
        edgecolors="white" if filled else color,
        linewidths=0.5 if filled else 0.9,
        label=label,
    )


def _class_keys(ax, labels: Sequence[Any], colors: dict[Any, str]) -> None:
    for c in labels:
        _key(ax, f"class {c}", color=colors[c])


def _projection_keys(ax, filled: Sequence[bool]) -> None:
    if not all(filled):
        _key(ax, "filled: a point in the plane", filled=True)
        _key(ax, "hollow: projection of a point off the plane", filled=False)


def _marks(ax, plane: Plane, colors: dict[Any, str], skip: Sequence[Any] = ()) -> None:
    """The named points the plane goes through (class means in their class color, others black)."""
    sc = plane.scales
    keyed = False
    for name, (x, y) in plane.marks:
        if (x, y) in skip:
            continue
        label = next((c for c in colors if name == f"the mean of {c}"), None)
        color = colors[label] if label is not None else "black"
        key = name if label is None else None if keyed else "class mean (in the plane)"
        keyed = keyed or label is not None
        ax.scatter(
            [float(x) * sc[0]],
            [float(y) * sc[1]],
            marker="D" if label is not None else "X",
            s=55,
            color=color,
            edgecolors="black",
            linewidths=0.8,
            zorder=4,
            label=key,
        )


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
    construction's separating hyperplane. Every input point ``x^(τ,l-1)`` of the layer is drawn in
    its class color with the marker of its exact region (:data:`REGION_MARKERS`), and an arrow
    shows where the truncation map sends each point that moves. For ``M > 2``, hollow markers are
    projections of points off the plane (see the module notes).

    Parameters
    ----------
    step : TruncationStep
    data : LabeledData
    ax : matplotlib Axes, optional
    plane : Plane, optional
        Default ``step.plane``.
    box : Polygon, optional
        Default ``step.box``.
    colors : dict, optional
        Class label to color.
    """
    own = ax is None
    if own:
        _, (ax,) = _new_axes(1)
    plane = plane or step.plane
    colors = colors or class_colors(data.classes)
    box = box or step.box or bounding_box(step.before)
    sc = plane.scales
    tint = colors[step.collapsed[0]] if step.collapsed else "#555555"
    which = f" (class {', '.join(map(str, step.collapsed))} collapses)" if step.collapsed else ""
    _fill(ax, step.backward, box, sc, tint, 0.16, f"backward cone $S_-${which}")
    _fill(ax, step.forward, box, sc, _GREY, 0.10, "forward cone $S_+$ (kept)")
    if len(step.hyperplane) == 2:
        (p, q) = step.hyperplane
        ax.plot(
            [float(p[0]) * sc[0], float(q[0]) * sc[0]],
            [float(p[1]) * sc[1], float(q[1]) * sc[1]],
            ls="--",
            color="black",
            lw=1,
            zorder=2,
            label="separating hyperplane",
        )
    point_colors = [colors[data.classes[j]] for j in data.y]
    bx, by = _xy(step.before, sc)
    ax_, ay = _xy(step.after, sc)
    moved = [
        i for i in range(len(bx)) if (step.before[0, i], step.before[1, i]) != (step.after[0, i], step.after[1, i])
    ]
    if moved:  # one quiver artist for all arrows (hundreds of annotations render slowly)
        ax.quiver(
            [bx[i] for i in moved],
            [by[i] for i in moved],
            [ax_[i] - bx[i] for i in moved],
            [ay[i] - by[i] for i in moved],
            color=[point_colors[i] for i in moved],
            angles="xy",
            scale_units="xy",
            scale=1,
            width=0.004,
            headwidth=4,
            headlength=5,
            headaxislength=4.5,
            alpha=0.45,
            zorder=2,
        )
        ax.plot(
            [],
            [],
            color=_KEY,
            marker=">",
            markersize=4,
            lw=1,
            alpha=0.6,
            label="where the layer sends a point" + (" (projected)" if not all(step.in_plane) else ""),
        )
    filled = step.in_plane or (True,) * data.N
    _points(ax, step.before, sc, point_colors, [REGION_MARKERS[r] for r in step.regions], filled)
    _class_keys(ax, data.classes, colors)
    for region in dict.fromkeys(step.regions):
        _key(ax, _REGION_TEXT[region], REGION_MARKERS[region])
    _projection_keys(ax, filled)
    apex = (float(step.apex[0]) * sc[0], float(step.apex[1]) * sc[1])
    ax.scatter(
        [apex[0]],
        [apex[1]],
        marker="*",
        s=170,
        facecolors=tint if step.apex_in_plane else "none",
        edgecolors="black" if step.apex_in_plane else tint,
        linewidths=0.7 if step.apex_in_plane else 1.2,
        zorder=4,
        label=f"apex $p_{{{step.layer}}}$" + ("" if step.apex_in_plane else " (projected)"),
    )
    ax.annotate(f"$p_{{{step.layer}}}$", apex, xytext=(6, 5), textcoords="offset points", fontsize=10)
    _marks(ax, plane, colors, skip=[step.apex])
    if step.collapsed:
        title = f"layer {step.layer}: class {', '.join(map(str, step.collapsed))} collapses"
    else:
        title = f"layer {step.layer}: no class collapses entirely"
    _frame(ax, box, plane, title)
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
    section: DecisionSection | None = None,
) -> Any:
    """Fill the exact decision regions (argmax of the outputs) of ``net``; returns the ``Axes``.

    Data points are drawn in their class color; a black cross marks a point whose class is not
    the network's unique largest output at the point itself (exact). For ``M > 2`` the panel is
    the section by ``plane`` (default :func:`~symtrunc.plot.polygon.means_plane`): filled
    markers lie in it, hollow ones are projections.

    Parameters
    ----------
    net : ReLUNetwork
    data : LabeledData, optional
        Drawn on top; also sets the default box and plane.
    ax : matplotlib Axes, optional
    plane : Plane, optional
        Needed for networks with more than 2 inputs when no data are given.
    box : Polygon, optional
        In plane coordinates (needed when no data are given).
    colors : dict, optional
        Class label to color.
    section : DecisionSection, optional
        The exact content, when already computed (:func:`~symtrunc.plot.polygon.decision_section`
        of ``net`` and ``data``); overrides ``plane`` and ``box``.
    """
    own = ax is None
    if own:
        _, (ax,) = _new_axes(1)
    outputs = tuple(net.classes or range(net.output_dim))
    colors = colors or class_colors(outputs)
    if section is None and data is not None:
        section = decision_section(net, data, plane, box)
    if section is not None:
        plane, box, regions = section.plane, section.box, section.regions
    else:
        plane = plane or (Plane.standard() if net.input_dim == 2 else None)
        if plane is None:
            raise DataError(f"the network has {net.input_dim} inputs: give data or a Plane")
        if box is None:
            raise DataError("give data or a box to draw the decision regions in")
        regions = decision_regions(net, box, plane, outputs)
    from matplotlib.collections import PolyCollection  # lazy: optional dependency (plot extra)
    from matplotlib.colors import to_rgb  # lazy: optional dependency (plot extra)

    sc = plane.scales
    # opaque pale colors: the convex pieces of one region do not show seams where they meet
    pale = {c: tuple(0.25 * v + 0.75 for v in to_rgb(colors.get(c, _GREY))) for c in outputs}
    face = [pale[r.label] for r in regions]
    ax.add_collection(
        PolyCollection(
            [r.polygon.to_float(sc) for r in regions], facecolors=face, edgecolors=face, linewidths=0.6, zorder=0
        )
    )
    for c in dict.fromkeys(r.label for r in regions):  # legend entries, in output order
        ax.fill([], [], facecolor=pale[c], edgecolor="none", label=f"predicted {c}")
    if section is not None:
        _points(
            ax,
            section.points,
            sc,
            [colors.get(c, _GREY) for c in section.labels],
            ["o"] * len(section.labels),
            section.in_plane,
        )
        _class_keys(ax, list(dict.fromkeys(section.labels)), colors)
        _projection_keys(ax, section.in_plane)
        wrong = section.misclassified
        if wrong:
            xs, ys = _xy(section.points, sc)
            ax.scatter(
                [xs[i] for i in wrong],
                [ys[i] for i in wrong],
                marker="x",
                s=30,
                color="black",
                linewidths=1,
                zorder=4,
                label="class is not the unique largest output (exact, at the point)",
            )
        _marks(ax, plane, colors)
    _frame(ax, box, plane, "the network: decision regions (exact)")
    if own:
        _side_legend(ax)
    return ax


def _side_legend(ax) -> None:
    """A legend to the right of a single panel."""
    ax.figure.set_size_inches(7.4, 4.4)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7, frameon=False)


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
        Draw every panel in the plane through the barycenter and these two class means
        (:meth:`~symtrunc.plot.polygon.Plane.through_means`). Default for ``M > 2``: each step
        in the plane through its apex and the relevant class means, the decision regions in the
        plane through the class means.
    plane : Plane, optional
        Any other plane for every panel (overrides ``classes``).
    box : Polygon, optional
        In plane coordinates (with a fixed plane); default: every panel around its points.
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
        raise DataError(
            f"the data have class {unknown[0]!r}, which the network does not know (its classes: "
            f"{', '.join(map(repr, net.classes))})"
        )
    if plane is None and classes is not None:
        if len(classes) != 2:
            raise DataError("give exactly two classes to span the drawing plane")
        plane = Plane.through_means(data, classes[0], classes[1])
    steps, section = sections(net, data, plane, box)
    colors = class_colors(data.classes)
    fig, axes = _new_axes(len(steps) + 1, ncols)
    for step, ax in zip(steps, axes):
        plot_step(step, data, ax, colors=colors)
    plot_decision_regions(net, data, axes[-1], section=section, colors=colors)
    if data.M == 2 and plane is None:
        _mark_barycenter(axes[-1], data)
    labels: dict[str, Any] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab.startswith("apex"):
                lab = "apex $p_l$ (base point)" + (" (projected)" if lab.endswith("(projected)") else "")
            labels.setdefault(lab, h)
    cols = fig.axes[0].get_gridspec().ncols
    theorem = net.construction.theorem if net.construction is not None else ""
    title = f"{(theorem or 'ReLU network').split(':')[0]}: {data.summary()}"
    if data.M > 2:
        title += (
            f". Each panel is an exact section of R^{data.M} by the plane in its title: cones and "
            "regions are cut exactly; filled markers lie in the plane, hollow ones are orthogonal "
            "projections of points off it, drawn with the class and region of the point itself"
        )
    title = textwrap.fill(title, 52 * cols + 14 * (cols == 1))
    fig.suptitle(title, fontsize=10)
    per_row = max(1, min(len(labels), int(4.0 * cols / 0.055) // (max(map(len, labels)) + 8)))
    fig.legend(
        list(labels.values()), list(labels.keys()), loc="outside lower center", ncols=per_row, fontsize=7, frameon=False
    )
    _fit_height(fig, axes, cols, size=4.0, extra=0.3 * title.count("\n") + 0.8 + 0.17 * -(-len(labels) // per_row))
    return fig


def _fit_height(fig, axes, cols: int, size: float, extra: float) -> None:
    """Rows as tall as their flattest-but-one panel needs (equal aspect leaves flat panels short)."""
    heights = []
    for r in range(0, len(axes), cols):
        row = [ax.get_ylim()[1] - ax.get_ylim()[0] for ax in axes[r : r + cols]]
        wide = [ax.get_xlim()[1] - ax.get_xlim()[0] for ax in axes[r : r + cols]]
        lines = max(ax.get_title().count("\n") + 1 for ax in axes[r : r + cols])
        heights.append((size - 0.8) * min(1.0, max(h / w for h, w in zip(row, wide))) + 0.7 + 0.17 * lines)
    fig.set_size_inches(size * cols, sum(heights) + extra)


def _mark_barycenter(ax, data: LabeledData) -> None:
    xb = data.barycenter
    ax.scatter(
        [float(xb[0, 0])], [float(xb[1, 0])], marker="X", s=60, color="black", zorder=4, label="barycenter $\\bar{x}$"
    )
