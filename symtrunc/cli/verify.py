"""``symtrunc verify``: prove zero loss (and the layer invariants) exactly, or certified at scale.

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(prog="symtrunc")
>>> register(p.add_subparsers(dest="command"))
>>> args = p.parse_args(["verify", "net.json", "big.npy", "--certified", "--chunk-size", "1024"])
>>> args.certified, args.chunk_size, args.dask_timeout, args.func is cmd_verify
(True, 1024, 60.0, True)
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import time
from collections.abc import Iterator

from symtrunc.cli.app import add_command
from symtrunc.cli.files import check_outputs, read_label_matrix
from symtrunc.data.labeled import load_data
from symtrunc.data.stream import DASK_TIMEOUT, dask_client
from symtrunc.errors import DataError, UncertifiedError
from symtrunc.io.export import atomic_write
from symtrunc.io.json import save_certificate
from symtrunc.io.network_files import network_format, read_float_network, read_network
from symtrunc.progress import reporting
from symtrunc.verification import verify
from symtrunc.verification.digest import float_weights_sha256

__all__ = ["cmd_verify", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``verify`` subcommand."""
    v = add_command(
        subparsers,
        "verify",
        description="Check in exact arithmetic that NETWORK maps every point of DATA to its "
        "label, and (for constructed networks) every layer invariant of the proof. A float file "
        "(ONNX, safetensors, .pt, .npz) is checked as it runs: its float weights, read exactly, are "
        "certified in their own precision (every point in its class under any IEEE evaluation "
        "order, with or without FMA), not the exact rationals stored in its metadata.",
    )
    v.add_argument(
        "network",
        help="network file: exact .json, or a float file (.onnx, .safetensors, .pt, .npz) to certify as it runs",
    )
    v.add_argument(
        "data",
        help="data file: .csv/.tsv (label in the last column), .npz (arrays X, y) or .npy (label in the "
        "last column); with --certified also a quoted pattern of shards",
    )
    v.add_argument(
        "--label-matrix",
        help="CSV label matrix to check against (invertible), column j the target "
        "of class j in sorted label order (default: one-hot in the network's class order; a "
        "matrix recorded in the network file is never used)",
    )
    v.add_argument("--no-invariants", action="store_true", help="check zero loss only")
    v.add_argument(
        "--certified",
        action="store_true",
        help="certified float64 filter with rigorous error bounds and exact fallback, streamed "
        "in chunks: same proof, for millions of points (DATA may also be .npy, .npz or a "
        "quoted pattern like 'part-*.npy')",
    )
    v.add_argument("--chunk-size", type=int, default=65536, help="points per chunk with --certified")
    v.add_argument("--labels", help="labels (.npy) for a DATA .npy file without a label column (--certified)")
    v.add_argument("--dask", metavar="ADDRESS", help="run --certified on this Dask scheduler")
    v.add_argument(
        "--dask-timeout",
        type=float,
        default=DASK_TIMEOUT,
        metavar="SECONDS",
        help="with --dask: give up when the scheduler does not answer or no worker is left for "
        f"SECONDS (default {DASK_TIMEOUT:g}; raise it for clusters that start workers on demand)",
    )
    v.add_argument("--certificate", help="write the certificate (JSON)")
    v.add_argument("-q", "--quiet", action="store_true", help="print nothing on success (no progress bar)")
    v.set_defaults(func=cmd_verify)


@contextlib.contextmanager
def _cluster(address: str | None, timeout: float) -> Iterator:
    """The Dask client for ``--dask`` (None without it), closed afterwards; Dask's own log lines
    are kept off standard error (the command reports a lost cluster in one line)."""
    if not address:
        yield None
        return
    if timeout <= 0:
        raise DataError("--dask-timeout must be positive")
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)  # Dask logs per module at its own levels: silence them all
    try:
        client = dask_client(address, timeout=timeout)
        try:
            yield client
        except BaseException:
            with contextlib.suppress(Exception):  # the cluster is gone: the error that says so wins
                # gathers abandoned on the lost cluster end with exceptions nobody retrieves, which
                # asyncio would log at exit ("Task exception was never retrieved"): not here
                client.loop.asyncio_loop.set_exception_handler(lambda loop, context: None)
            with contextlib.suppress(Exception):
                client.close(timeout=timeout)
            gc.collect()  # while Dask's logging is still off
            raise
        client.close(timeout=timeout)
    finally:
        logging.disable(previous)


def _verify_float_file(args: argparse.Namespace) -> int:
    """``symtrunc verify FILE DATA`` for a float file: certify the float network that runs."""
    if args.certified or args.labels or args.dask:
        raise DataError(
            "--certified, --labels and --dask apply to exact JSON networks; a float file is "
            "certified in its own precision"
        )
    fnet = read_float_network(args.network)
    data = load_data(args.data, check=False)
    Y = read_label_matrix(args.label_matrix) if args.label_matrix else None
    cert = fnet.certify(data, label_matrix=Y)
    what = (
        f"{args.network}: the {fnet.dtype.name} weights stored in the file (what runs), read exactly "
        "(exact rationals in its metadata, if any, are not used)"
    )
    if not cert.certified:  # nothing is written: the one line says what failed
        raise UncertifiedError(f"{what}: {cert.summary()}")
    if args.certificate:  # the float certificate, tied to the weights that were checked
        doc = {**cert.to_dict(), "weights_sha256": float_weights_sha256(fnet)}
        atomic_write(args.certificate, json.dumps(doc, indent=1) + "\n")
    if not args.quiet:
        print(f"network:   {what}")
        print(f"data:      {data.summary()}")
        print(f"verified:  {cert.summary()} ({cert.seconds:.2f} s)")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Handler of ``symtrunc verify``."""
    check_outputs({"--certificate": args.certificate}, [args.network, args.data, args.labels, args.label_matrix])
    if network_format(args.network) != "json":
        return _verify_float_file(args)
    net = read_network(args.network)
    Y = read_label_matrix(args.label_matrix) if args.label_matrix else None
    t0 = time.perf_counter()
    if args.certified:
        with _cluster(args.dask, args.dask_timeout) as client:
            cert = verify(
                net,
                args.data,
                method="certified",
                labels=args.labels,
                chunk_size=args.chunk_size,
                client=client,
                timeout=args.dask_timeout,
                progress=False if args.quiet else None,
                invariants=not args.no_invariants,
                label_matrix=Y,
            )
        summary = f"{cert.n_points} points in R^{cert.input_dim}, streamed in chunks of {args.chunk_size}"
    else:
        if args.labels or args.dask:
            raise DataError("--labels and --dask go with --certified")
        data = load_data(args.data, check=False)  # verification needs no standing assumption on the data
        with reporting(bar=False if args.quiet else None):
            cert = verify(net, data, invariants=not args.no_invariants, label_matrix=Y)
        summary = data.summary()
    elapsed = time.perf_counter() - t0
    if args.certificate:
        save_certificate(cert, args.certificate)
    if not args.quiet:
        print(f"data:      {summary}")
        record = net.construction
        if record is not None and record.theorem:  # metadata: shown, never used by the proof
            print(f"recorded:  {record.theorem} (the file's construction record; not checked)")
        how = "certified float filter + exact arithmetic" if args.certified else "exact arithmetic"
        if cert.invariants_checked:
            print(f"verified:  zero loss and every layer invariant ({how}, {elapsed:.2f} s)")
        else:
            failed = cert.extra.get("invariants_failed")
            why = (
                "not requested (--no-invariants)"
                if args.no_invariants
                else f"do not hold on these data: {failed}"
                if failed
                else "not checked: the layers do not have the collapse structure of a truncation network"
            )
            print(f"verified:  zero loss ({how}, {elapsed:.2f} s); layer invariants {why}")
        if args.certified:
            x = cert.extra
            print(
                f"points:    {x.get('points_float_certified', 0)} certified by rigorous float bounds, "
                f"{x.get('points_exact', 0)} redone exactly; {x.get('patterns', 0)} activation patterns, "
                f"{x.get('chunks', 0)} chunks"
            )
        print(cert.table())
        print("costs:     " + ", ".join(f"{k} = {v}" for k, v in cert.costs.items()))
    return 0
