"""``symtrunc convex fit|prune|path DATA --lam L``: convex training of two-layer ReLU networks.

DATA is a CSV file whose last column is the target (decimals are read exactly; an all-text
first row is a header). No bias column is added unless ``--bias`` is given, which appends a
column of ones to ``X`` and says so. The program uses every activation pattern (exact
enumeration, so the certificate is *global*) when there are at most ``--max-patterns`` of
them, else ``--gates`` sampled gates (the certificate is then relative to the sub-sampled
program, and the output says so).

``objective`` is the exact primal upper bound rounded up, ``gap`` the certified duality-gap
bound rounded up; the certificate (including, for ``"global": true``, the exact proof that no
activation pattern is missing) is re-checked before anything is printed. The optimal-set
description (``optimal_set_dimension``, ``unique_up_to_merge_split``, ``unique``) is a float
computation with tolerance ``1e-5`` and is marked ``"optimal_set_dimension_certified": false``;
``unique_up_to_merge_split`` is uniqueness once the blocks of one neuron split across chambers
are merged, ``unique`` the uniqueness of the convex weights themselves.

``prune`` returns a network whose minimality is *proved*
(:func:`~symtrunc.convex.minimal.prune_minimal`): ``activation_rank`` is the exact rank of its
activation columns and equals ``active_after`` (independent columns: Mishkin & Pilanci's
minimality, Prop. 3.6); ``objective_not_increased`` compares the exact objectives before and
after, and ``objective_increase_bound`` bounds the change by exact duality.

Exit codes: 0 success (whether or not the gap is certified: see ``certified``), 1 a certificate
failed its exact re-check, 2 bad input.

Examples
--------
>>> import argparse, tempfile, os, pathlib
>>> p = argparse.ArgumentParser(prog="symtrunc")
>>> register(p.add_subparsers(dest="command"))
>>> path = os.path.join(tempfile.mkdtemp(), "d.csv")
>>> _ = pathlib.Path(path).write_text("x1,x2,y\\n1,0,1\\n0,1,2\\n1,1,2\\n2,-1,0\\n")
>>> args = p.parse_args(["convex", "fit", path, "--lam", "0.5", "--json"])
>>> import contextlib, io, json
>>> buf = io.StringIO()
>>> with contextlib.redirect_stdout(buf):
...     code = args.func(args)
>>> out = json.loads(buf.getvalue())
>>> code, out["certified"], out["global"], out["active_neurons"], out["optimal_set_dimension"]
(0, True, True, 1, 0)
>>> out["optimal_set_dimension_certified"], out["optimal_set_tolerance"]
(False, 1e-05)
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from symtrunc.cli.app import add_command
from symtrunc.convex.certificate import certificate_scope, certify, certify_network, certify_weights
from symtrunc.convex.mapping import to_network
from symtrunc.convex.minimal import network_activation_rank, prune_minimal
from symtrunc.convex.optimal_set import float_optimal_set
from symtrunc.convex.path import lambda_max, regularization_path
from symtrunc.convex.patterns import enumerate_patterns, sample_patterns
from symtrunc.convex.program import ConvexProgram, lam_to_scnn
from symtrunc.convex.regression import RegressionData
from symtrunc.convex.solvers import solve
from symtrunc.errors import DataError
from symtrunc.exact.matrix import to_float
from symtrunc.exact.rational import to_q
from symtrunc.exact.rounding import round_up

__all__ = ["register", "cmd_convex"]

_OPTIMAL_SET_TOL = 1e-5


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``convex`` subcommand (``fit``, ``prune``, ``path``) to ``subparsers``."""
    cp = add_command(
        subparsers,
        "convex",
        description="Train a two-layer ReLU network with weight decay lambda through its convex "
        "reformulation (Pilanci & Ergen 2020; Mishkin & Pilanci 2023), certify global optimality "
        "by exact duality, describe the optimal set, prune optimally, or trace a regularization path. "
        "Objective: 1/2 ||f(X) - y||^2 + lambda/2 sum_j (||W1_j||^2 + w2_j^2) (scnn's lambda is lambda/n).",
    )
    sub = cp.add_subparsers(dest="action", required=True)
    for name, text in (
        ("fit", "solve, certify, report the optimal set"),
        (
            "prune",
            "solve, then prune to linearly independent activations (exact rank; Algorithm 1), optimal up to the certified gap",
        ),
        ("path", "regularization path from lambda_max down to --lam (warm starts)"),
    ):
        sp = sub.add_parser(name, help=text, description=text)
        sp.add_argument("data", help="CSV file; last column is the target")
        sp.add_argument(
            "--lam", required=True, help="lambda > 0, read exactly (for path: the smallest lambda of the grid)"
        )
        sp.add_argument("--bias", action="store_true", help="append a column of ones to X (explicitly)")
        sp.add_argument("--json", action="store_true", help="print one JSON object instead of text")
        sp.add_argument(
            "--solver",
            choices=("conic", "fista"),
            default="conic",
            help="conic: Clarabel interior point on working sets of blocks (default); fista: NumPy FISTA (warm starts on paths)",
        )
        sp.add_argument("--gated", action="store_true", help="gated-ReLU program (no cone constraints)")
        sp.add_argument(
            "--max-patterns",
            type=_positive_int,
            default=500,
            help="enumerate all patterns when Cover's bound allows at most this many (default 500), else sample",
        )
        sp.add_argument(
            "--gates", type=_positive_int, default=200, help="sampled gates when not enumerating (default 200)"
        )
        sp.add_argument("--seed", type=_nonnegative_int, default=0, help="seed for sampled gates")
        sp.add_argument(
            "--tol",
            type=_nonnegative_float,
            default=1e-6,
            help="certified if gap <= tol * max(1, objective) (default 1e-6)",
        )
        if name == "path":
            sp.add_argument(
                "--n-lams",
                type=_at_least_two,
                default=10,
                help="grid size >= 2: geometric from lambda_max down to --lam (default 10)",
            )
            sp.add_argument(
                "--min-norm",
                action="store_true",
                help="also report the min-norm optimal solution at each lambda (float, tolerance 1e-5)",
            )
            sp.add_argument(
                "--no-warm-start",
                action="store_true",
                help="with --solver fista: solve every lambda from zero instead of the previous solution",
            )
        sp.set_defaults(func=cmd_convex)


def _nonnegative_int(text: str, least: int = 0) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, got {v}")
    return v


def _positive_int(text: str) -> int:
    return _nonnegative_int(text, 1)


def _at_least_two(text: str) -> int:
    v = _positive_int(text)
    if v < 2:
        raise argparse.ArgumentTypeError(f"a path needs at least 2 lambdas, got {v}")
    return v


def _nonnegative_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not v >= 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return v


def _program(args: argparse.Namespace):
    lam = to_q(args.lam)
    if lam <= 0:
        raise DataError(f"--lam must be positive, got {args.lam}")
    data = RegressionData.from_csv(args.data, bias=args.bias)
    try:
        pats = enumerate_patterns(data, limit=args.max_patterns)
    except DataError:
        pats = sample_patterns(data, args.gates, seed=args.seed)
    return data, ConvexProgram.create(data, lam, pats, gated=args.gated)


def _summary(prog, sol, cert, tol: float) -> dict[str, Any]:
    S = float_optimal_set(sol, tol=_OPTIMAL_SET_TOL) if sol.active else None
    return {
        "objective": round_up(cert.primal_upper),
        "gap": round_up(cert.gap_bound),
        "certified": bool(cert.certified(tol)),
        "global": bool(cert.global_),
        "statement": cert.statement(tol),
        "active_neurons": len(sol.active),
        "optimal_set_dimension": S.dimension if S is not None else 0,
        "unique_up_to_merge_split": S.unique if S is not None else True,
        "unique": S.unique_weights if S is not None else True,
        "split_directions": S.split_directions if S is not None else 0,
        "optimal_set_dimension_certified": False,  # float computation (solver output, tolerance below)
        "optimal_set_tolerance": _OPTIMAL_SET_TOL,
        "lambda": prog.lam,
        "lambda_scnn": lam_to_scnn(prog.lam, prog.data.n),
        "n": prog.data.n,
        "d": prog.data.d,
        "bias": prog.data.bias,
        "patterns": len(prog.patterns),
        "pattern_method": prog.patterns.method,
        "patterns_complete": prog.patterns.complete,
        "gated": prog.gated,
        "solver": sol.solver,
        "solve_seconds": sol.seconds,
    }


def _network_dict(prog, W, tol: float) -> dict[str, Any]:
    """The balanced network of the certified (exact, cone-feasible) weights, rounded to floats,
    with its own certificate: the printed float network itself (read exactly) against the dual."""
    net = to_network(prog, to_float(W))
    out: dict[str, Any] = {"W1": net.W1.tolist(), "w2": net.w2.tolist()}
    if not prog.gated:
        cert = certify_network(prog, net)
        cert.check(prog)
        out.update(
            {
                "objective": round_up(cert.primal_upper),
                "gap": round_up(cert.gap_bound),
                "certified": bool(cert.certified(tol)),
            }
        )
    return out


def _print(out: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(out, indent=1))
        return
    if out.get("bias"):
        print("bias: a column of ones was appended to X (--bias)")
    floats = ("optimal_set_dimension", "unique_up_to_merge_split", "unique", "split_directions")
    for k in (
        "objective",
        "gap",
        "certified",
        "global",
        "active_neurons",
        *floats,
        "lambda",
        "lambda_scnn",
        "patterns",
        "pattern_method",
        "solver",
        "solve_seconds",
        "active_before",
        "directions_before",
        "active_after",
        "activation_rank",
        "minimal",
        "objective_before",
        "objective_not_increased",
        "objective_increase_bound",
        "lambda_max",
    ):
        if k in out:
            note = (
                f"   (float computation, tolerance {out['optimal_set_tolerance']:g}; not certified)"
                if k in floats
                else "   (exact)"
                if k in ("activation_rank", "minimal")
                else ""
            )
            print(f"{k:26s} {out[k]}{note}")
    print(out["statement"] if "statement" in out else "")
    net = out.get("network", {})
    if "gap" in net:
        print(
            f"the float network of --json ({len(net['w2'])} neurons), read exactly, has its own certified gap "
            f"{net['gap']:.3e}: {'certified' if net['certified'] else 'NOT certified'}"
            + (f"; its activation columns have exact rank {net['activation_rank']}" if "activation_rank" in net else "")
        )


def cmd_convex(args: argparse.Namespace) -> int:
    """Handler of ``symtrunc convex``."""
    data, prog = _program(args)
    if args.action == "path":
        t0 = time.perf_counter()
        lmax = lambda_max(prog)[1]
        if prog.lam >= lmax:
            raise DataError(
                f"--lam {args.lam} >= lambda_max = {lmax:.10g}: w = 0 is optimal there; give a smaller --lam for a path"
            )
        path = regularization_path(
            prog,
            n_lams=args.n_lams,
            ratio=prog.lam / lmax,
            method=args.solver,
            warm_start=not args.no_warm_start,
            min_norm=args.min_norm,
        )
        path.check()
        pts = []
        for p in path.points:
            prog_p = prog.with_lam(to_q(p.lam))
            cert = certify_weights(prog_p, p.weights)
            cert.check(prog_p)
            row = {
                "lambda": p.lam,
                "objective": round_up(cert.primal_upper),
                "gap": round_up(cert.gap_bound),
                "certified": bool(cert.certified(args.tol)),
                "derivative": p.derivative,
                "active_neurons": p.active,
                "iterations": p.iterations,
            }
            if p.min_norm is not None:
                row["min_norm_l2"] = float(np.linalg.norm(p.min_norm))
                row["min_norm_active"] = int((np.linalg.norm(p.min_norm, axis=1) > 0).sum())
            pts.append(row)
        out = {
            "lambda_max": path.lam_max,
            "points": pts,
            "checks": "concavity, derivative, continuity: ok (float checks with the float gaps)",
            "global": bool(prog.patterns.complete and not prog.gated),
            "solver": args.solver,
            "warm_start": args.solver == "fista" and not args.no_warm_start,
            "bias": data.bias,
            "patterns": len(prog.patterns),
            "patterns_complete": prog.patterns.complete,
            "seconds": time.perf_counter() - t0,
        }
        if args.json:
            print(json.dumps(out, indent=1))
        else:
            if data.bias:
                print("bias: a column of ones was appended to X (--bias)")
            print(
                f"lambda_max = {path.lam_max:.10g}; {len(prog.patterns)} patterns "
                f"({'complete' if prog.patterns.complete else 'sampled'}); solver {args.solver}"
                f"{', warm starts' if out['warm_start'] else ''}"
            )
            print(f"gaps are certified over {certificate_scope(out['global'], prog.gated)}")
            cols = ["lambda", "objective", "gap", "certified", "derivative", "active_neurons"]
            if args.min_norm:
                cols += ["min_norm_l2", "min_norm_active"]
            print(" ".join(f"{c:>14}" for c in cols))
            for row in pts:
                print(" ".join(f"{row[c]:>14.8g}" if isinstance(row[c], float) else f"{row[c]!s:>14}" for c in cols))
            print("gap: certified duality-gap bound (exact, rounded up); " + out["checks"])
        return 0
    sol = solve(prog, args.solver)
    cert = certify(sol)
    cert.check(prog)  # exact re-check, including the completeness of the patterns for a global claim
    out = _summary(prog, sol, cert, args.tol)
    if args.action == "prune":
        res = prune_minimal(prog, sol.weights)
        res.check(prog)  # exact re-check: both certificates, the objective bounds, the activation rank
        net = _network_dict(prog, res.weights, args.tol)
        net["activation_rank"] = network_activation_rank(to_network(prog, to_float(res.weights)), prog.data.X)
        out.update(
            {
                "active_before": res.neurons_before,
                "directions_before": res.directions,
                "active_after": res.neurons,
                "active_neurons": res.neurons,
                "activation_rank": res.minimality.rank,
                "minimal": res.minimality.independent,
                "minimality": res.minimality.statement(),
                "objective_before": round_up(res.objective_before[1]),
                "objective": round_up(res.objective_after[1]),
                "objective_not_increased": res.objective_not_increased,
                "objective_increase_bound": round_up(res.increase_bound),
                "gap": round_up(res.gap_bound),
                "certified": bool(res.certified(args.tol)),
                "statement": res.statement(args.tol),
                "network": net,
            }
        )
    else:
        out["network"] = _network_dict(prog, cert.weights, args.tol)
    _print(out, args.json)
    return 0
