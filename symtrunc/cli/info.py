"""``symtrunc info``: layers, widths, parameter counts and the recorded construction of a network.

Examples
--------
>>> from symtrunc.network import ReLUNetwork
>>> print(describe_network(ReLUNetwork.from_rows([([[1, 2]], ["1/2"], "identity")])))
theorem:     (none recorded)
widths:      2 -> 1
parameters:  2 weights + 1 biases = 3
layer  shape  activation  weights  biases  largest entry (bits)
    1  1x2    identity          2       1  2
"""

from __future__ import annotations

import argparse

from symtrunc.cli.app import add_command
from symtrunc.io.network_files import network_format, read_float_network, read_network
from symtrunc.network import ReLUNetwork

__all__ = ["cmd_info", "describe_network", "field_lines", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``info`` subcommand."""
    i = add_command(
        subparsers,
        "info",
        description="Describe a network file: the recorded construction "
        "(theorem, recipe, collapse steps), widths, parameter counts (with the paper's counts) "
        "and every layer.",
    )
    i.add_argument(
        "network",
        help="network file (.json; .onnx, .safetensors, .pt, .npz: their float weights and the exact network they record)",
    )
    i.set_defaults(func=cmd_info)


def cmd_info(args: argparse.Namespace) -> int:
    """Handler of ``symtrunc info``."""
    if network_format(args.network) != "json":
        fnet = read_float_network(args.network)
        count = sum(W.size + b.size for W, b in zip(fnet.weights, fnet.biases))
        shapes = ", ".join(f"{W.shape[0]}x{W.shape[1]}" for W in fnet.weights)
        print(f"floats:      {fnet.dtype.name} weights, what runs: {count} float parameters in layers {shapes}")
        print("             (check them on data with: symtrunc verify FILE DATA)")
        print("exact network recorded in the file:")
    print(describe_network(read_network(args.network)))
    return 0


def field_lines(pairs, width: int = 12) -> list[str]:
    """``key: text`` lines with the texts aligned after ``width`` characters.

    >>> field_lines([("order", "a -> b"), ("hyperplanes", "search")], 10)
    ['order:     a -> b', 'hyperplanes: search']
    """
    return [f"{key + ':':<{width}} {text}" for key, text in pairs]


def describe_network(net: ReLUNetwork) -> str:
    """Human-readable summary: the recorded construction, widths, parameter counts, layers (``str(net)``)."""
    return str(net)
