"""``symtrunc landscape``: exact loss, gradient, neuron types and critical-point verdict.

:func:`register` adds the subcommand; errors about files and options raise
:class:`~symtrunc.errors.SymtruncError` subclasses, which ``symtrunc.cli.main`` reports in
one line (exit code 2).

Examples
--------
>>> import argparse, json, tempfile, os
>>> p = argparse.ArgumentParser(prog="symtrunc")
>>> sub = p.add_subparsers(dest="command")
>>> register(sub)
>>> path = os.path.join(tempfile.mkdtemp(), "p.json")
>>> with open(path, "w") as fh:
...     json.dump({"w": ["1", "-1"], "b": ["-1/3", "2/3"], "v": ["2/3", "-2/3"], "c": "1/2"}, fh)
>>> args = p.parse_args(["landscape", path, "--target", "1,0", "--json"])
>>> args.func(args)                                  # doctest: +ELLIPSIS
{"loss": "1/972", "gradient": ["0", "0", "0", "0", "0", "0", "0"], "critical": true, "verdict": "saddle", ...
0
"""

from __future__ import annotations

import argparse
import json
import re

from symtrunc.cli.app import add_command
from symtrunc.landscape.critical import classify
from symtrunc.landscape.formulas import landscape_fragment
from symtrunc.landscape.params import Interval, Target, load_params

__all__ = ["cmd_landscape", "register"]

#: Values such as ``-1,0``, ``-3/2,1/5`` or ``-0.5`` (an argument starting with "-" and a digit or ".").
_NEGATIVE_VALUE = re.compile(r"^-\.?\d")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``landscape`` subcommand to ``subparsers``."""
    lp = add_command(
        subparsers,
        "landscape",
        description="For a one-hidden-layer network x -> c + sum_j v_j sigma(w_j x + b_j) (PARAMS.json: "
        '{"w": [...], "b": [...], "v": [...], "c": "p/q", "activation": "relu"}) and the affine target '
        "f(x) = ALPHA x + BETA under the uniform measure on [LO, HI]: exact loss, generalized gradient, "
        "neuron types, and whether the point is critical: global minimum, non-global local minimum or "
        "saddle (Cheridito, Jentzen & Rossmannek), each with an exact certificate.",
    )
    lp.add_argument("params", metavar="PARAMS.json", help="network parameters (numbers as strings 'p/q' or integers)")
    # argparse reads "-1,0" as an option (its negative-number pattern knows only "-1" and "-1.5");
    # no option of this subcommand starts with "-<digit>", so "--target -1,0" can be a value
    lp._negative_number_matcher = _NEGATIVE_VALUE
    lp.add_argument(
        "--target",
        required=True,
        metavar="ALPHA,BETA",
        help="affine target f(x) = ALPHA x + BETA, e.g. --target -3/2,1",
    )
    lp.add_argument(
        "--interval", default="0,1", metavar="LO,HI", help="input interval (default 0,1), e.g. --interval -1,2"
    )
    lp.add_argument(
        "--sigma-prime-at-zero",
        metavar="S",
        help="convention for sigma'(0) in the generalized gradient (default 0 for relu, the slope for leaky_relu)",
    )
    out = lp.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the result as JSON (numbers as 'p/q' strings)")
    out.add_argument("--latex", action="store_true", help="print the formulas as a LaTeX fragment")
    lp.set_defaults(func=cmd_landscape)


def cmd_landscape(args: argparse.Namespace) -> int:
    """Handler of ``symtrunc landscape``."""
    target = Target.parse(args.target)
    interval = Interval.parse(args.interval)
    phi = load_params(args.params, args.sigma_prime_at_zero)
    res = classify(phi, target, interval)
    if args.json:
        print(json.dumps(res.to_dict(phi)))
        return 0
    if args.latex:
        print(landscape_fragment(phi, target, interval, res).render("latex"))
        return 0
    names = phi.coordinate_names()
    print(f"network:     N = {phi.width}, {phi.activation.describe()}")
    print(f"target:      f(x) = {target.alpha} x + {target.beta} on [{interval.lo}, {interval.hi}] (uniform)")
    print(f"loss:        {res.loss}")
    print("gradient:    " + ", ".join(f"{n} = {g}" for n, g in zip(names, res.gradient)))
    print(
        f"smoothness:  differentiable: {'yes' if res.smooth.differentiable else 'no'}, "
        f"C² near φ: {'yes' if res.smooth.twice_differentiable else 'no'}"
    )
    for r in res.smooth.reasons:
        print(f"             {r}")
    if res.one_sided:
        print("one-sided:   " + ", ".join(f"D_{k} = {x}" for k, x in res.one_sided.items()))
    print("neurons:")
    for t, role in zip(res.neurons, res.roles):
        print(f"  {t.index:3d}  {t.label():<45}  role: {role}")
    print(
        f"critical:    {'yes' if res.critical else 'no'} (generalized gradient, σ'(0) := {phi.activation.derivative_at_zero})"
    )
    print(f"verdict:     {res.verdict}" + (f" (k = {res.k})" if res.k is not None else ""))
    print("certificate: " + json.dumps(res.certificate))
    for c, h in res.theorem_checks:
        print(f"  Theorem R: {c}: {'yes' if h else 'NO'}")
    for note in res.notes:
        print(f"note:        {note}")
    return 0
