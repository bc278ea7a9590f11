"""``symtrunc convex fit|prune|path DATA --lam L``: convex training of two-layer ReLU networks.

DATA is a CSV file whose last column is the target (decimals are read exactly; an all-text
first row is a header). No bias column is added unless ``--bias`` is given, which appends a
column of ones to ``X`` and says so. The program uses every activation pattern (exact
enumeration, so the certificate is *global*) when there are at most ``--max-patterns`` of
them, else ``--gates`` sampled gates (the certificate is then relative to the sub-sampled
program, and the output says so).

Exit codes: 0 success (whether or not the gap is certified: see ``certified``), 2 bad input.

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
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from symtrunc.errors import DataError

__all__ = ["register", "cmd_convex"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``convex`` subcommand (``fit``, ``prune``, ``path``) to ``subparsers``."""
    cp = subparsers.add_parser(
        "convex", help="convex reformulation of two-layer ReLU networks (fit, prune, path)",
        description="Train a two-layer ReLU network with weight decay lambda through its convex "
        "reformulation (Pilanci & Ergen 2020; Mishkin & Pilanci 2023), certify global optimality "
        "by exact duality, describe the optimal set, prune optimally, or trace a regularization path. "
        "Objective: 1/2 ||f(X) - y||^2 + lambda/2 sum_j (||W1_j||^2 + w2_j^2) (scnn's lambda is lambda/n).")
    sub = cp.add_subparsers(dest="action", required=True)
    for name, text in (("fit", "solve, certify, report the optimal set"),
                       ("prune", "solve, then prune to a minimal optimal network (Algorithm 1)"),
                       ("path", "regularization path from lambda_max down to --lam (warm starts)")):
        sp = sub.add_parser(name, help=text, description=text)
        sp.add_argument("data", help="CSV file; last column is the target")
        sp.add_argument("--lam", required=True,
                        help="lambda > 0, read exactly (for path: the smallest lambda of the grid)")
        sp.add_argument("--bias", action="store_true", help="append a column of ones to X (explicitly)")
        sp.add_argument("--json", action="store_true", help="print one JSON object instead of text")
        sp.add_argument("--solver", choices=("conic", "fista"), default="conic",
                        help="cvxpy+Clarabel interior point (default) or NumPy FISTA (warm starts on paths)")
        sp.add_argument("--gated", action="store_true", help="gated-ReLU program (no cone constraints)")
        sp.add_argument("--max-patterns", type=int, default=500,
                        help="enumerate all patterns when Cover's bound allows at most this many (default 500), "
                        "else sample")
        sp.add_argument("--gates", type=int, default=200, help="sampled gates when not enumerating (default 200)")
        sp.add_argument("--seed", type=int, default=0, help="seed for sampled gates")
        sp.add_argument("--tol", type=float, default=1e-6,
                        help="certified if gap <= tol * max(1, objective) (default 1e-6)")
        if name == "path":
            sp.add_argument("--n-lams", type=int, default=10, help="grid size (default 10)")
        sp.set_defaults(func=cmd_convex)


def _program(args: argparse.Namespace):
    from symtrunc.convex.patterns import enumerate_patterns, sample_patterns
    from symtrunc.convex.program import ConvexProgram
    from symtrunc.convex.regression import RegressionData
    from symtrunc.exact.rational import to_q

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
    from symtrunc.convex.optimal_set import float_optimal_set
    S = float_optimal_set(sol) if sol.active else None
    return {
        "objective": float(cert.primal_upper),
        "gap": _round_up(cert.gap_bound),
        "certified": bool(cert.certified(tol)),
        "global": bool(cert.global_),
        "statement": cert.statement(tol),
        "active_neurons": len(sol.active),
        "optimal_set_dimension": S.dimension if S is not None else 0,
        "unique": S.unique if S is not None else True,
        "lambda": prog.lam,
        "lambda_scnn": prog.lam / prog.data.n,
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


def _network_dict(prog, W) -> dict[str, Any]:
    """The balanced network of the certified (exact, cone-feasible) weights, rounded to floats."""
    from symtrunc.convex.mapping import to_network
    from symtrunc.exact.matrix import to_float

    net = to_network(prog, to_float(W))
    return {"W1": net.W1.tolist(), "w2": net.w2.tolist()}


def _print(out: dict[str, Any], as_json: bool, extra_lines: list[str] | None = None) -> None:
    if as_json:
        print(json.dumps(out, indent=1))
        return
    if out.get("bias"):
        print("bias: a column of ones was appended to X (--bias)")
    for k in ("objective", "gap", "certified", "global", "active_neurons", "optimal_set_dimension", "unique",
              "lambda", "lambda_scnn", "patterns", "pattern_method", "solver", "solve_seconds",
              "active_before", "active_after", "fit_preserved", "penalty_preserved", "lambda_max"):
        if k in out:
            print(f"{k:22s} {out[k]}")
    print(out["statement"] if "statement" in out else "")
    for line in extra_lines or []:
        print(line)


def cmd_convex(args: argparse.Namespace) -> int:
    """Handler of ``symtrunc convex``."""
    from symtrunc.convex.certificate import certify, certify_weights
    from symtrunc.convex.solvers import solve

    data, prog = _program(args)
    if args.action == "path":
        from symtrunc.convex.path import regularization_path

        t0 = time.perf_counter()
        path = regularization_path(prog, n_lams=args.n_lams, ratio=min(1.0, prog.lam / _lmax(prog)),
                                   method=args.solver)
        path.check()
        pts = [{"lambda": p.lam, "objective": p.objective, "derivative": p.derivative, "gap": p.gap,
                "active_neurons": p.active} for p in path.points]
        out = {"lambda_max": path.lam_max, "points": pts, "checks": "concavity, derivative, continuity: ok",
               "bias": data.bias, "patterns": len(prog.patterns), "patterns_complete": prog.patterns.complete,
               "seconds": time.perf_counter() - t0}
        if args.json:
            print(json.dumps(out, indent=1))
        else:
            if data.bias:
                print("bias: a column of ones was appended to X (--bias)")
            print(f"lambda_max = {path.lam_max:.10g}; {len(prog.patterns)} patterns "
                  f"({'complete' if prog.patterns.complete else 'sampled'})")
            print(path.table())
            print(out["checks"])
        return 0
    sol = solve(prog, args.solver)
    cert = certify(sol)
    out = _summary(prog, sol, cert, args.tol)
    if args.action == "prune":
        from symtrunc.convex.pruning import prune_float

        res = prune_float(prog, sol.weights)
        cert2 = certify_weights(prog, res.weights)
        out.update({"active_before": len(sol.active), "active_after": len(res.active),
                    "active_neurons": len(res.active), "fit_preserved": res.fit_preserved,
                    "penalty_preserved": res.penalty_preserved,
                    "objective": float(cert2.primal_upper),
                    "gap": _round_up(cert2.gap_bound), "certified": bool(cert2.certified(args.tol)),
                    "statement": cert2.statement(args.tol), "network": _network_dict(prog, cert2.weights)})
    else:
        out["network"] = _network_dict(prog, cert.weights)
    _print(out, args.json)
    return 0


def _round_up(q) -> float:
    from symtrunc.exact.rounding import round_up

    return round_up(q)


def _lmax(prog) -> float:
    from symtrunc.convex.path import lambda_max

    return lambda_max(prog)[1]
