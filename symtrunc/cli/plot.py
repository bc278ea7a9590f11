"""``symtrunc plot``: a multi-panel picture of every truncation step of a network.

:func:`register` adds the subcommand to the ``symtrunc`` argument parser. The picture is drawn
by :func:`symtrunc.plot.plot_steps` (needs the ``plot`` extra, matplotlib); the format follows
the output file's extension (``.png``, ``.pdf``, ``.svg``, ...).

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(prog="symtrunc")
>>> register(p.add_subparsers(dest="command"))
>>> args = p.parse_args(["plot", "net.json", "data.csv", "-o", "steps.png", "--classes", "a,b"])
>>> args.output, args.classes
('steps.png', 'a,b')
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from symtrunc.cli.app import add_command
from symtrunc.cli.files import check_outputs
from symtrunc.data.labeled import load_data
from symtrunc.errors import DataError
from symtrunc.files import atomic_write
from symtrunc.io.network_files import read_network
from symtrunc.plot.figures import _figure_class, plot_steps

__all__ = ["cmd_plot", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``plot`` subcommand to ``subparsers``."""
    pp = add_command(
        subparsers,
        "plot",
        description="Draw one panel per ReLU layer (the exact forward and backward cones of its "
        "truncation map, the separating hyperplane, every point with its exact region and an arrow to "
        "where the layer sends it, the class collapsing to its base point) and a panel with the exact "
        "decision regions, all with an equal aspect ratio. 2-D data are drawn as they are. For M > 2 "
        "each panel is an exact section of R^M by the plane named in its title (default: through the "
        "layer's base point and the means of the collapsing and the next class; the decision regions "
        "through the class means; --classes picks one plane for all panels); filled markers lie in "
        "the plane, hollow ones are projections of points off it, drawn with the class and region of "
        'the point itself. Needs matplotlib: pip install "symtrunc[plot]".',
    )
    pp.add_argument("network", help="network file (.json, .onnx, .safetensors, .pt, .npz)")
    pp.add_argument("data", help="data (.csv, .npz or .npy)")
    pp.add_argument("-o", "--output", required=True, help="image file; the extension picks the format")
    pp.add_argument(
        "--classes",
        help="for M > 2: draw every panel in the plane through the barycenter "
        "and the means of these two classes, 'a,b' (default: a plane per panel, see above)",
    )
    pp.add_argument("--ncols", type=int, help="panels per row (default: 2 for four panels, otherwise up to 3)")
    pp.add_argument("--dpi", type=int, default=120, help="resolution of raster formats (default 120)")
    pp.set_defaults(func=cmd_plot)


def _label(text: str, classes: tuple) -> object:
    for c in classes:
        if str(c) == text:
            return c
    raise DataError(f"unknown class {text!r}; the classes are {', '.join(map(str, classes))}")


def cmd_plot(args: argparse.Namespace) -> int:
    """Run ``symtrunc plot``; returns the exit code."""
    _figure_class()  # one clear line before any work when matplotlib is missing
    check_outputs({"-o": args.output}, [args.network, args.data])
    net = read_network(args.network)
    data = load_data(args.data)
    if data.M != net.input_dim:
        raise DataError(f"the data have dimension {data.M} but the network expects {net.input_dim}")
    classes = None
    if args.classes:
        parts = [s.strip() for s in args.classes.split(",")]
        if len(parts) != 2:
            raise DataError("--classes needs exactly two labels, e.g. --classes a,b")
        classes = [_label(s, data.classes) for s in parts]
    if args.ncols is not None and args.ncols < 1:
        raise DataError("--ncols must be at least 1")
    fig = plot_steps(net, data, classes=classes, ncols=args.ncols)
    out = Path(args.output)
    image = io.BytesIO()
    try:  # rendered in memory, then written atomically
        fig.savefig(image, format=out.suffix[1:] or None, dpi=args.dpi)
    except ValueError as e:  # unknown extension
        raise DataError(f"cannot write {out}: {e}") from None
    atomic_write(out, image.getvalue())
    print(f"wrote {out} ({sum(ax.get_visible() for ax in fig.axes)} panels)")
    return 0
