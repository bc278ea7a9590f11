"""``symtrunc construct`` (a verified zero-loss network for DATA) and ``symtrunc demo`` (the same
on the embedded UCI Wine data, everything printed).

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(prog="symtrunc")
>>> register(p.add_subparsers(dest="command"))
>>> args = p.parse_args(["construct", "d.csv", "-o", "net.json", "--method", "clustered", "--widths", "3,2"])
>>> construct_options(args)
{'cone': 'rational', 'widths': [3, 2]}
>>> construct_options(p.parse_args(["construct", "d.csv", "-o", "net.onnx", "--robust", "float32"]))
{'cone': 'rational', 'robust': 'float32'}
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from symtrunc.cli.app import add_command
from symtrunc.cli.files import check_outputs, read_label_matrix
from symtrunc.cli.info import describe_network, field_lines
from symtrunc.constructions import METHODS, construct
from symtrunc.constructions.common import CONES
from symtrunc.constructions.float_robust import ROBUST_DTYPES
from symtrunc.data.labeled import load_data
from symtrunc.datasets import load_wine, wine_path
from symtrunc.errors import DataError, HypothesisError
from symtrunc.files import write_files
from symtrunc.geometry.separability import NotSLSCertificate, SLSUndecidedError
from symtrunc.io.json import dumps_certificate
from symtrunc.io.network_files import check_network_output, write_network
from symtrunc.progress import reporting
from symtrunc.records import CollapseRecord
from symtrunc.verification import verify
from symtrunc.verification.digest import DATA_DIGEST_VERSION, data_sha256

__all__ = ["cmd_construct", "cmd_demo", "construct_options", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``construct`` and ``demo`` subcommands."""
    c = add_command(
        subparsers,
        "construct",
        description="Build a zero-loss network for DATA (.csv: features then label; .npz: "
        "arrays X, y), verify it exactly and save it (the extension of -o picks the format: .json exact, "
        ".onnx, .safetensors, .pt or .npz floats certified on DATA, with the exact rationals in the "
        "metadata). Methods: sls (Theorem 5.2 of "
        "arXiv 2405.07098), clustered (Proposition 4.1), deep_l2 (Theorem 2.3 of arXiv 2309.10639, "
        "M = Q) and nonseparable (Theorem 3.3 of arXiv 2504.18710, binary data).",
    )
    c.add_argument(
        "data", help="data file: .csv/.tsv (label in the last column), .npz (arrays X, y) or .npy (label last)"
    )
    c.add_argument(
        "-o", "--output", required=True, help="network file to write (.json, .onnx, .safetensors, .pt, .npz)"
    )
    c.add_argument("--method", choices=METHODS, default="sls", help="theorem to use (default: sls)")
    c.add_argument(
        "--cone", choices=CONES, default="rational", help="cone recipe: rational εI+uhᵀ (default) or the paper's W_θ R"
    )
    c.add_argument("--order", help="impose the collapse order, e.g. 'b,a,c' (sls only)")
    c.add_argument(
        "--robust",
        choices=tuple(ROBUST_DTYPES),
        help="choose the free parameters of Theorem 5.2 (coordinates, normals, base points, epsilon) for "
        "evaluation in this float type (sls, rational cone); a float file written with -o then holds "
        "this type and is certified on DATA in it, or nothing is written (exit 1)",
    )
    c.add_argument(
        "--layers", type=_hidden_layers, metavar="L", help="number of hidden layers L >= Q (deep_l2 only; default Q)"
    )
    c.add_argument(
        "--widths",
        help="hidden widths d_1,...,d_Q (clustered only; shrinking widths are "
        "accepted only after an exact run-time check)",
    )
    c.add_argument("--label-matrix", help="CSV with an invertible Q x Q label matrix (column j: target of class j)")
    c.add_argument(
        "--certificate",
        help="also write the verification certificate (JSON); for sls data proved "
        "not SLS, the exact refusal certificate (check it with 'symtrunc verify-certificate FILE DATA')",
    )
    c.add_argument(
        "--max-nodes",
        type=int,
        metavar="N",
        help="limit the exact SLS decision to N order prefixes "
        "(sls only; when hit, exit code 4: undecided, not a proof)",
    )
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing on success (no progress bar)")
    c.add_argument(
        "-v", "--verbose", action="store_true", help="one line per construction step with its time (standard error)"
    )
    c.set_defaults(func=cmd_construct)

    d = add_command(
        subparsers,
        "demo",
        description="The main job on the embedded UCI Wine data: find an SLS order, build the "
        "Theorem 5.2 network exactly, verify it, print everything.",
    )
    d.add_argument("-o", "--output", help="also save the network here (.json, .onnx, .safetensors, .pt, .npz)")
    d.add_argument("-v", "--verbose", action="store_true", help="one line per construction step with its time")
    d.add_argument("--cone", choices=CONES, default="rational", help="cone recipe (default: rational)")
    d.set_defaults(func=cmd_demo)


def _hidden_layers(text: str) -> int:
    """``--layers``: a positive number of hidden layers (argparse reports anything else as a usage error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of hidden layers, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"the number of hidden layers must be at least 1 (Theorem 2.3 needs L >= Q), got {value}"
        )
    return value


def _parse_label(text: str):
    try:
        return int(text)
    except ValueError:
        return text


def construct_options(args: argparse.Namespace) -> dict:
    """The options of :func:`symtrunc.construct` given on the command line."""
    opts: dict = {"cone": args.cone}
    if args.order:
        if args.method != "sls":
            raise DataError("--order applies to --method sls (Proposition 4.1 uses the data order)")
        opts["order"] = [_parse_label(s.strip()) for s in args.order.split(",")]
    if getattr(args, "robust", None):
        if args.method != "sls":
            raise DataError("--robust applies to --method sls (Theorem 5.2)")
        if args.cone != "rational":
            raise DataError("--robust uses the rational cone; drop --cone paper")
        opts["robust"] = args.robust
    if getattr(args, "max_nodes", None) is not None:
        if args.method != "sls":
            raise DataError("--max-nodes applies to --method sls")
        opts["max_nodes"] = args.max_nodes
    if args.widths:
        if args.method != "clustered":
            raise DataError("--widths applies to --method clustered")
        try:
            opts["widths"] = [int(w) for w in args.widths.split(",")]
        except ValueError:
            raise DataError(f"--widths must be comma-separated integers, got {args.widths!r}") from None
    if args.layers is not None:
        if args.method != "deep_l2":
            raise DataError("--layers applies to --method deep_l2 (Theorem 2.3 allows L >= Q hidden layers)")
        opts["layers"] = args.layers
    return opts


def cmd_construct(args: argparse.Namespace) -> int:
    """Handler of ``symtrunc construct``: nothing is written unless everything succeeds."""
    check_outputs({"-o": args.output, "--certificate": args.certificate}, [args.data, args.label_matrix])
    check_network_output(args.output)  # unknown extension or missing extra: one line before any work
    kwargs = {"Y": read_label_matrix(args.label_matrix)} if args.label_matrix else {}
    # concentric data have dependent class means: no standing-assumption check for Cor. 3.2
    data = load_data(args.data, check=args.method != "nonseparable", **kwargs)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    try:
        with reporting(bar=False if args.quiet else None, verbose=args.verbose, timings=timings):
            net = construct(data, args.method, **construct_options(args))  # verified exactly inside
    except SLSUndecidedError as e:
        print(f"symtrunc: {e}", file=sys.stderr)
        return 4
    except HypothesisError as e:  # proved not SLS: the refusal certificate is written, then exit 1
        if args.certificate and isinstance(e.certificate, NotSLSCertificate):
            doc = {
                **e.certificate.to_dict(),
                "data_sha256": data_sha256(data),
                "data_digest_version": DATA_DIGEST_VERSION,
            }  # the data it speaks about
            write_files({args.certificate: json.dumps(doc, indent=1) + "\n"})
        raise
    elapsed = time.perf_counter() - t0
    with reporting(bar=False if args.quiet else None, verbose=args.verbose):
        also = {args.certificate: dumps_certificate(verify(net, data)) + "\n"} if args.certificate else {}
        written = write_network(net, args.output, data=data, dtype=args.robust or "float64", also=also)
    if not args.quiet:
        record = net.construction
        print(f"data:      {data.summary()}")
        print(
            f"network:   {' -> '.join(map(str, net.widths))} "
            f"({net.parameter_count().total} exact parameters), {record.theorem}"
        )
        for line in field_lines(record.describe(), 10):
            print(line)
        checked = "zero loss" if args.method == "nonseparable" else "zero loss and all layer invariants"
        how = "certified float filter + exact arithmetic" if "verify certified" in timings else "exactly"
        spent = timings.get("verify", 0.0) + timings.get("verify certified", 0.0)
        print(f"verified:  {checked}, {how} ({spent:.2f} s; construction {elapsed - spent:.2f} s)")
        if written.dtype != "exact":
            print(f"floats:    {written.floats}")
        print(f"saved:     {args.output}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Handler of ``symtrunc demo``."""
    check_outputs({"-o": args.output}, [wine_path()])
    if args.output:
        check_network_output(args.output)
    data = load_wine()
    print("symtrunc demo: Theorem 5.2 of Chen & Muñoz Ewald (arXiv 2405.07098) on the embedded")
    print(f"UCI Wine data ({wine_path().name}): {data.summary()}")
    print("decimals are read exactly, e.g. alcohol of the first wine =", data.X[0, 0])
    t0 = time.perf_counter()
    with reporting(verbose=args.verbose):
        net = construct(data, "sls", cone=args.cone)
    t1 = time.perf_counter()
    cert = verify(net, data)
    t2 = time.perf_counter()
    record: CollapseRecord = net.construction  # an SLSRecord: order and steps
    print(f"\n1. sequential linear separability: order {' -> '.join(map(str, record.order))}")
    for k, step in enumerate(record.steps, 1):
        print(
            f"   layer {k}: collapse {step.label} onto p_{k} = t x̄ + (1-t) x̄_class, t = {float(step.t):.6f} "
            f"(exact: {step.t})"
        )
    print(f"\n2. network (constructed and verified in {t1 - t0:.2f} s)")
    print("   " + describe_network(net).replace("\n", "\n   "))
    print(f"\n3. exact verification ({t2 - t1:.3f} s): zero loss on all {cert.n_points} points")
    print("   " + cert.table().replace("\n", "\n   "))
    print("   costs: " + ", ".join(f"{k} = {v}" for k, v in cert.costs.items()))
    if args.output:
        with reporting(verbose=args.verbose):
            written = write_network(net, args.output, data=data)
        if written.dtype != "exact":
            print(f"\nfloats: {written.floats}")
        print(f"\nsaved the network to {args.output}; check it with: symtrunc verify {args.output} {wine_path()}")
    return 0
