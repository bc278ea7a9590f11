"""Command-line interface: ``symtrunc construct | verify | info | demo | export | import | explain |
latex | prove``.

Exit codes: 0 success; 1 the data do not meet a theorem's hypotheses or verification failed;
2 usage or input error. Errors are one line on standard error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from symtrunc.constructions import METHODS, construct
from symtrunc.constructions.common import CONES
from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError, HypothesisError, SymtruncError, UncertifiedError, VerificationError
from symtrunc.exact.matrix import qmatrix
from symtrunc.io.json import load_network, save_certificate, save_network
from symtrunc.network import ReLUNetwork
from symtrunc.verification import verify

__all__ = ["main", "build_parser", "describe_network"]

#: Modules ``symtrunc.cli.<name>`` whose ``register(subparsers)`` adds further subcommands.
_EXTENSIONS = ("io", "latex", "plot", "landscape", "claims", "convex")


class _Failure(Exception):
    """Internal: a check failed (exit code 1)."""


def _parse_label(text: str):
    try:
        return int(text)
    except ValueError:
        return text


def _load(args: argparse.Namespace, *, check: bool = True) -> LabeledData:
    kwargs = {}
    if getattr(args, "label_matrix", None) and args.command == "construct":
        kwargs["Y"] = _read_matrix(args.label_matrix)
    return load_data(args.data, check=check, **kwargs)


def _read_matrix(path: str):
    import csv

    p = Path(path)
    if not p.exists():
        raise DataError(f"no such file: {p}")
    with p.open(encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if r]
    return qmatrix(rows, name=f"label matrix {p.name}")


def describe_network(net: ReLUNetwork) -> str:
    """Human-readable summary: layers, widths, parameter counts, the theorem used.

    >>> from symtrunc.network import ReLUNetwork
    >>> print(describe_network(ReLUNetwork.from_rows([([[1, 2]], ["1/2"], "identity")])))
    theorem:     (none recorded)
    widths:      2 -> 1
    parameters:  2 weights + 1 biases = 3
    layer  shape  activation  weights  biases  largest entry (bits)
        1  1x2    identity          2       1  2
    """
    info = net.construction or {}
    count = net.parameter_count()
    lines = [f"theorem:     {info.get('theorem', '(none recorded)')}"]
    if info.get("method"):
        lines.append(f"method:      {info['method']} (cone recipe: {info.get('cone')})")
    if net.classes:
        lines.append(f"classes:     {', '.join(map(str, net.classes))} (output order)")
    if info.get("order"):
        lines.append(f"collapse:    {' -> '.join(map(str, info['order']))} (one hidden layer each)")
    lines.append(f"widths:      {' -> '.join(map(str, net.widths))}")
    lines.append(f"parameters:  {count.weights} weights + {count.biases} biases = {count.total}")
    M, Q = net.input_dim, net.output_dim
    if info.get("method") == "sls":
        lines.append(
            f"paper:       the minimizer is described by Q(M+2) = {Q * (M + 2)} numbers (θ_l, h_l, t_l); "
            f"the dense network has Q(M+1)² = {Q * (M + 1) ** 2} weights and biases"
        )
    elif info.get("method") == "clustered":
        lines.append(
            f"paper:       Corollary 4.2 (widths straight down to Q) counts Q(M+Q²) = {Q * (M + Q * Q)} "
            f"weights, Q(M+Q²+Q+1) = {Q * (M + Q * Q + Q + 1)} with biases; this network has "
            f"{count.weights} weights, {count.total} with biases"
        )
    lines.append("layer  shape  activation  weights  biases  largest entry (bits)")
    for k, layer in enumerate(net.layers, 1):
        o, i = layer.shape
        bits = max(max(abs(int(v.p)).bit_length(), int(v.q).bit_length())
                   for v in list(layer.W.entries()) + list(layer.b.entries()))
        lines.append(f"{k:5d}  {f'{o}x{i}':<5}  {layer.activation:<10}  {o * i:7d}  {o:6d}  {bits}")
    return "\n".join(lines)


def _construct_options(args: argparse.Namespace) -> dict:
    opts: dict = {"cone": args.cone}
    if args.order:
        if args.method != "sls":
            raise DataError("--order applies to --method sls (Proposition 4.1 uses the data order)")
        opts["order"] = [_parse_label(s.strip()) for s in args.order.split(",")]
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


def _cmd_construct(args: argparse.Namespace) -> int:
    # concentric data have dependent class means: no standing-assumption check for Cor. 3.2
    data = _load(args, check=args.method != "nonseparable")
    t0 = time.perf_counter()
    net = construct(data, args.method, **_construct_options(args))  # verified exactly inside
    elapsed = time.perf_counter() - t0
    save_network(net, args.output)
    if args.certificate:
        save_certificate(verify(net, data), args.certificate)
    if not args.quiet:
        print(f"data:      {data.summary()}")
        print(f"network:   {' -> '.join(map(str, net.widths))} "
              f"({net.parameter_count().total} exact parameters), {net.construction['theorem']}")
        if "order" in net.construction:
            print(f"order:     {' -> '.join(map(str, net.construction['order']))}")
        elif "inner_class" in net.construction:
            print(f"inner:     class {net.construction['inner_class']!r} inside the simplex "
                  f"{net.construction['simplex']}")
        checked = "zero loss" if args.method == "nonseparable" else "zero loss and all layer invariants"
        print(f"verified:  {checked}, exactly ({elapsed:.2f} s)")
        print(f"saved:     {args.output}")
    return 0


def _dask_client(address: str | None):
    if not address:
        return None
    try:
        from dask.distributed import Client
    except ImportError:
        raise DataError("--dask needs dask.distributed: pip install 'symtrunc[dask]'") from None
    return Client(address)


def _cmd_verify(args: argparse.Namespace) -> int:
    net = load_network(args.network)
    Y = _read_matrix(args.label_matrix) if args.label_matrix else None
    t0 = time.perf_counter()
    if args.certified:
        client = _dask_client(args.dask)
        try:
            cert = verify(net, args.data, method="certified", labels=args.labels, chunk_size=args.chunk_size,
                          client=client, progress=False if args.quiet else None,
                          invariants=not args.no_invariants, label_matrix=Y)
        finally:
            if client is not None:
                client.close()
        summary = f"{cert.n_points} points in R^{cert.input_dim}, streamed in chunks of {args.chunk_size}"
    else:
        if args.labels or args.dask:
            raise DataError("--labels and --dask go with --certified")
        data = _load(args, check=False)  # verification needs no standing assumption on the data
        cert = verify(net, data, invariants=not args.no_invariants, label_matrix=Y)
        summary = data.summary()
    elapsed = time.perf_counter() - t0
    if args.certificate:
        save_certificate(cert, args.certificate)
    if not args.quiet:
        print(f"data:      {summary}")
        print(f"theorem:   {cert.theorem or '(none recorded)'}")
        inv = "and every layer invariant " if cert.invariants_checked else ""
        how = "certified float filter + exact arithmetic" if args.certified else "exact arithmetic"
        print(f"verified:  zero loss {inv}({how}, {elapsed:.2f} s)")
        if args.certified:
            x = cert.extra
            print(f"points:    {x.get('points_float_certified', 0)} certified by rigorous float bounds, "
                  f"{x.get('points_exact', 0)} redone exactly; {x.get('patterns', 0)} activation patterns, "
                  f"{x.get('chunks', 0)} chunks")
        print(cert.table())
        print("costs:     " + ", ".join(f"{k} = {v}" for k, v in cert.costs.items()))
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    print(describe_network(load_network(args.network)))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from symtrunc.datasets import load_wine, wine_path

    data = load_wine()
    print("symtrunc demo: Theorem 5.2 of Chen & Muñoz Ewald (arXiv 2405.07098) on the embedded")
    print(f"UCI Wine data ({wine_path().name}): {data.summary()}")
    print("decimals are read exactly, e.g. alcohol of the first wine =", data.X[0, 0])
    t0 = time.perf_counter()
    net = construct(data, "sls", cone=args.cone)
    t1 = time.perf_counter()
    cert = verify(net, data)
    t2 = time.perf_counter()
    print(f"\n1. sequential linear separability: order {' -> '.join(net.construction['order'])}")
    for k, step in enumerate(net.construction["steps"], 1):
        t = step["t"]
        tf = float(qmatrix([[t]])[0, 0])
        print(f"   layer {k}: collapse {step['class']} onto p_{k} = t x̄ + (1-t) x̄_class, t = {tf:.6f} (exact: {t})")
    print(f"\n2. network (constructed and verified in {t1 - t0:.2f} s)")
    print("   " + describe_network(net).replace("\n", "\n   "))
    print(f"\n3. exact verification ({t2 - t1:.3f} s): zero loss on all {cert.n_points} points")
    print("   " + cert.table().replace("\n", "\n   "))
    print("   costs: " + ", ".join(f"{k} = {v}" for k, v in cert.costs.items()))
    if args.output:
        save_network(net, args.output)
        print(f"\nsaved the exact network to {args.output}; check it with: symtrunc verify {args.output} {wine_path()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used for ``--help``)."""
    p = argparse.ArgumentParser(
        prog="symtrunc",
        description="Exact deep-learning theory for ReLU networks: the zero-loss networks of Chen & "
        "Muñoz Ewald (construct, verify exactly or certified at scale, inspect, plot, export and import, "
        "explain, LaTeX reports, proofs), an exact tester for their L2 claims, the loss landscape of "
        "shallow networks (Cheridito, Jentzen & Rossmannek) and the convex reformulation of two-layer "
        "networks (Mishkin & Pilanci).",
        epilog="exit codes: 0 ok, 1 hypotheses not met or verification failed, 2 usage/input error",
    )
    p.add_argument("--version", action="version", version=f"symtrunc {__import__('symtrunc').__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    c = sub.add_parser("construct", help="build an exactly verified zero-loss network for DATA",
                       description="Build a zero-loss network for DATA (.csv: features then label; .npz: "
                       "arrays X, y), verify it exactly and save it as exact JSON. Methods: sls (Theorem 5.2 of "
                       "arXiv 2405.07098), clustered (Proposition 4.1), deep_l2 (Theorem 2.3 of arXiv 2309.10639, "
                       "M = Q) and nonseparable (Theorem 3.3 of arXiv 2504.18710, binary data).")
    c.add_argument("data", help="data file (.csv or .npz)")
    c.add_argument("-o", "--output", required=True, help="network JSON file to write")
    c.add_argument("--method", choices=METHODS, default="sls", help="theorem to use (default: sls)")
    c.add_argument("--cone", choices=CONES, default="rational",
                   help="cone recipe: rational εI+uhᵀ (default) or the paper's W_θ R")
    c.add_argument("--order", help="impose the collapse order, e.g. 'b,a,c' (sls only)")
    c.add_argument("--layers", type=int, metavar="L",
                   help="number of hidden layers L >= Q (deep_l2 only; default Q)")
    c.add_argument("--widths", help="hidden widths d_1,...,d_Q (clustered only; shrinking widths are "
                   "accepted only after an exact run-time check)")
    c.add_argument("--label-matrix", help="CSV with an invertible Q x Q label matrix (column j: target of class j)")
    c.add_argument("--certificate", help="also write the verification certificate (JSON)")
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    c.set_defaults(func=_cmd_construct)

    v = sub.add_parser("verify", help="prove zero loss and the layer invariants exactly",
                       description="Check in exact arithmetic that NETWORK maps every point of DATA to its "
                       "label, and (for constructed networks) every layer invariant of the proof.")
    v.add_argument("network", help="network JSON file")
    v.add_argument("data", help="data file (.csv or .npz)")
    v.add_argument("--label-matrix", help="CSV label matrix to check against, column j the target of "
                   "class j in sorted label order (default: the network's own targets)")
    v.add_argument("--no-invariants", action="store_true", help="check zero loss only")
    v.add_argument("--certified", action="store_true",
                   help="certified float64 filter with rigorous error bounds and exact fallback, streamed "
                   "in chunks: same proof, for millions of points (DATA may also be .npy, .npz or a "
                   "quoted pattern like 'part-*.npy')")
    v.add_argument("--chunk-size", type=int, default=65536, help="points per chunk with --certified")
    v.add_argument("--labels", help="labels (.npy) for a DATA .npy file without a label column (--certified)")
    v.add_argument("--dask", metavar="ADDRESS", help="run --certified on this Dask scheduler")
    v.add_argument("--certificate", help="write the certificate (JSON)")
    v.add_argument("-q", "--quiet", action="store_true", help="print nothing on success (no progress bar)")
    v.set_defaults(func=_cmd_verify)

    i = sub.add_parser("info", help="layers, widths, parameter counts and the theorem used",
                       description="Describe a network JSON file.")
    i.add_argument("network", help="network JSON file")
    i.set_defaults(func=_cmd_info)

    d = sub.add_parser("demo", help="construct and verify a network for the embedded Wine data",
                       description="The main job on the embedded UCI Wine data: find an SLS order, build the "
                       "Theorem 5.2 network exactly, verify it, print everything.")
    d.add_argument("-o", "--output", help="also save the network JSON here")
    d.add_argument("--cone", choices=CONES, default="rational", help="cone recipe (default: rational)")
    d.set_defaults(func=_cmd_demo)

    for name in _EXTENSIONS:
        importlib.import_module(f"symtrunc.cli.{name}").register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    try:
        return args.func(args)
    except (HypothesisError, VerificationError, UncertifiedError) as e:
        print(f"symtrunc: {e}", file=sys.stderr)
        return 1
    except SymtruncError as e:
        print(f"symtrunc: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:
        print(f"symtrunc: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("symtrunc: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
