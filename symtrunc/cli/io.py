"""Subcommands ``export``, ``import`` and ``explain`` of the ``symtrunc`` command line.

:func:`register` adds them to the sub-parsers of :func:`symtrunc.cli.app.build_parser`::

    symtrunc export net.json --to onnx -o net.onnx [--dtype float64|float32] [--data DATA [--force]]
    symtrunc import trained.onnx -o net.json [--format onnx] [--floats]
    symtrunc explain net.json wine.csv [--json explanation.json]

Handlers return the exit code (0) and raise :class:`~symtrunc.errors.SymtruncError`
subclasses on errors, which :func:`symtrunc.cli.main` prints as one line (exit code 2 for
input errors, 1 for a network outside the hypotheses of the truncation-map lemmas).
"""

from __future__ import annotations

import argparse
import json

from symtrunc.cli.app import add_command
from symtrunc.cli.files import check_outputs
from symtrunc.data.labeled import load_data
from symtrunc.errors import FormatError
from symtrunc.explanation import explain
from symtrunc.io.export import DTYPES, FORMATS, LAYOUTS, atomic_write, export
from symtrunc.io.network_files import check_network_output, network_format, read_network, write_network
from symtrunc.io.trained import IMPORT_FORMATS
from symtrunc.records import ImportedRecord

__all__ = ["register"]


def _cmd_export(args: argparse.Namespace) -> int:
    check_outputs({"-o": args.output}, [args.network, args.data])
    named = network_format(args.output)  # an unknown extension is refused (one line naming the file)
    if args.to is not None and args.to != named and not (args.to == "jax" and named == "npz"):
        raise FormatError(f"{args.output}: the extension names {named}, but --to asks for {args.to}; make them agree")
    net = read_network(args.network)
    data = load_data(args.data, check=False) if args.data else None
    report = export(net, args.output, to=args.to, dtype=args.dtype, data=data, force=args.force, layers=args.layers)
    if not args.quiet:
        print(f"exported:  {report}")
        print(f"floats:    {report.floats}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    check_outputs({"-o": args.output}, [args.file])
    check_network_output(args.output)
    exact = False if args.floats else None
    net = read_network(args.file, format=args.format, exact=exact)
    report = write_network(net, args.output)
    if not args.quiet:
        record = net.construction
        how = (
            f"rationalized {record.dtype} weights exactly"
            if isinstance(record, ImportedRecord)
            else "recovered the exact rationals stored in the file, not the float weights that run "
            "('symtrunc verify FILE DATA' certifies those)"
        )
        print(f"network:   {' -> '.join(map(str, net.widths))} ({net.parameter_count().total} parameters), {how}")
        print(f"saved:     {report.path}")
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    check_outputs({"--json": args.json}, [args.network, args.data])
    net = read_network(args.network)
    data = load_data(args.data)
    ex = explain(net, data)
    if args.json:
        atomic_write(args.json, json.dumps(ex.to_dict(), indent=1, ensure_ascii=False) + "\n")
    if not args.quiet:
        print(ex.to_text())
    return 0


def _format_choice(value: str) -> str:
    v = value.lower()
    if v not in FORMATS:
        raise argparse.ArgumentTypeError(f"invalid choice {value!r} (choose from {', '.join(FORMATS)})")
    return v


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export``, ``import`` and ``explain`` subcommands."""
    e = add_command(
        subparsers,
        "export",
        description="Round the exact weights of NETWORK to float64/float32 (correctly rounded) and write "
        "them in an interchange format, atomically. ONNX: Gemm+Relu graph (opset 17, IR 10); "
        "safetensors and torch: nn.Sequential(Linear, ReLU, ...) state-dict keys 0.weight, 0.bias, "
        "2.weight, ...; jax: Flax params/Dense_k/kernel (in, out) and equinox layers/k/weight (out, in) "
        "in one .npz; npz: W0, b0, ... plus exact numerator/denominator arrays. Every format also "
        "stores the exact rationals, so 'symtrunc import' recovers the exact network. Prints the "
        "largest weight rounding error. With --data, the float network is first certified on the data in "
        "its own precision (every point in its class under any IEEE evaluation order, with or without FMA; "
        "the certified margin is printed and stored in the file); a file that cannot be certified is not "
        "written (exit 1) unless --force.",
    )
    e.add_argument("network", help="network file (exact JSON, or any file 'symtrunc import' reads)")
    e.add_argument(
        "--to",
        type=_format_choice,
        metavar="{" + ",".join(FORMATS) + "}",
        help="output format (default: from the suffix of -o: .onnx, .safetensors, .pt, .npz, .json)",
    )
    e.add_argument("--dtype", choices=DTYPES, default="float64", help="float type of the weights (default float64)")
    e.add_argument("-o", "--output", required=True, help="file to write")
    e.add_argument("--data", help="training data (.csv or .npz) to certify the float network on before writing")
    e.add_argument(
        "--force",
        action="store_true",
        help="with --data: write the file even if it cannot be certified (reported as uncertified)",
    )
    e.add_argument(
        "--layers",
        choices=LAYOUTS,
        default="auto",
        help="plain: one Linear per layer; factored: each hidden layer αI + UVᵀ as two Linear layers "
        "[I; Vᵀ] and [αI, U] (same function, far smaller float errors; not for npz); auto (default): "
        "plain unless --data shows that only the factored floats can be certified",
    )
    e.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    e.set_defaults(func=_cmd_export)

    i = add_command(
        subparsers,
        "import",
        description="Read FILE (ONNX Gemm/MatMul+Add/Relu chain, safetensors or PyTorch state dict of "
        "Linear layers, .npz with W0, b0, ... or the JAX layout) and save it as exact JSON. Float "
        "weights become the exact binary fractions they store; files written by 'symtrunc export' "
        "give back the exact rationals.",
    )
    i.add_argument("file", help="network file to read")
    i.add_argument(
        "-o",
        "--output",
        required=True,
        help="network file to write (.json exact; .onnx, .safetensors, "
        ".pt, .npz floats with the exact rationals in the metadata)",
    )
    i.add_argument(
        "--format",
        choices=IMPORT_FORMATS,
        help="file format (default: from the extension, which "
        "must then be .json, .onnx, .safetensors, .pt/.pth or .npz)",
    )
    i.add_argument(
        "--floats",
        action="store_true",
        help="ignore exact rationals stored in the file and rationalize its float weights",
    )
    i.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    i.set_defaults(func=_cmd_import)

    x = add_command(
        subparsers,
        "explain",
        description="For every ReLU layer l and class, count the training points in the forward cone "
        "(unchanged), the backward cone (collapsed to the apex p = -W^+ b) or elsewhere (projected onto "
        "a face), computed exactly from the cumulative parameters W^(l), b^(l) and the truncated points "
        "(Lemma 2.1 of arXiv 2504.18710; widening layers by Lemma 2.2), and how far each class is from "
        "collapse (its largest cone coordinate max a_i; collapsed iff <= 0).",
    )
    x.add_argument("network", help="network file (exact JSON, or any file 'symtrunc import' reads)")
    x.add_argument("data", help="data file (.csv: features then label; .npz: arrays X, y)")
    x.add_argument("--json", help="also write the exact explanation as JSON")
    x.add_argument("-q", "--quiet", action="store_true", help="print nothing (with --json)")
    x.set_defaults(func=_cmd_explain)
