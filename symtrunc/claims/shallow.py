"""Exact tester of the shallow-network claims of arXiv 2309.10370 (see :mod:`symtrunc.constructions.shallow_l2`).

>>> from symtrunc.data.labeled import LabeledData
>>> d = LabeledData.from_arrays([[4, 0], [6, 0], [0, 3], [1, 5], [-1, 4]], list("aabbb"))
>>> [(c.verdict, c.exact_value) for c in shallow_claims(d)][:3]
[('holds', 'sqrt(390)/60'), ('holds', 'sqrt(390)/60'), ('fails', 'sqrt(66)/44')]
"""

from __future__ import annotations

from typing import Any

import flint

from symtrunc.claims.record import Claim
from symtrunc.constructions.shallow_l2 import (
    _short,
    barycentric_noise,
    construct_shallow_upper,
    identity_regime_features,
    opnorm_bound,
)
from symtrunc.data.labeled import load_data
from symtrunc.errors import HypothesisError
from symtrunc.exact.matrix import str_rows
from symtrunc.loss import _sqrt_str, costs, optimal_output_layer

__all__ = ["shallow_claims"]


def _opnorm_string(Y: flint.fmpq_mat) -> str:
    """``‖Y‖_op`` exactly, as a sympy string (the largest root of the characteristic polynomial of YᵀY)."""
    import sympy

    G = Y.transpose() * Y
    S = sympy.Matrix(G.nrows(), G.ncols(), lambda i, j: sympy.Rational(int(G[i, j].p), int(G[i, j].q)))
    x = sympy.Symbol("x")
    top = sympy.Poly(S.charpoly(x).as_expr(), x).real_roots()[-1]
    return str(sympy.sqrt(top))


def shallow_claims(data: Any, *, rotation: Any = None, W1: Any = None, b1: Any = None) -> list[Claim]:
    """Test the shallow-network claims of arXiv 2309.10370 exactly on ``data``.

    Claims (the last four only when ``M = Q``):

    1. the upper-bound network has ``C_N = ‖Y (X^red)^+ ΔX_0‖_{L²_N}``;
    2. ``‖Y Δ_1‖_{L²_N} ≤ √Q ‖Y‖_op δ_P``;
    3. (2.71) ``‖Y |Δ_2|^{1/2} (1 + Δ_2)^{-1/2}‖_HS`` is the minimum over the output layer
       ``(W_2, b_2)`` (expected to fail unless every ``uᵀ (X^red)^{-1} Δx = 0``: D1; the witness is
       the exact optimal output layer);
    4. (2.71) is the minimum with the cumulative output bias fixed to ``0``;
    5. (2.71) ``≤ ‖Y Δ_1‖_{L²_N}`` (the sharp value is below the upper bound);
    6. the identity-regime configuration is a degenerate local minimum: every pre-activation is
       ``> 0`` (an open condition), so nearby hidden layers are invertible affine maps of the
       data and the refitted value is constant. A given ``(W1, b1)`` outside the identity regime
       makes this claim ``"not applicable"`` (witness: the point, neuron and pre-activation), and
       claims 3–5 are then tested at the default hidden layer.

    Parameters
    ----------
    data : LabeledData or path
    rotation : array-like, optional
        See :func:`construct_shallow_upper`.
    W1, b1 : array-like, optional
        See :func:`construct_shallow_local`.

    Returns
    -------
    list of Claim
        Values are ``C_N`` (not squared), exact.

    Raises
    ------
    HypothesisError
        If the class means are linearly dependent (a singular or non-positive ``W1`` only makes claim 6
        ``"not applicable"``).
    """
    data = load_data(data)
    M, Q = data.M, data.Q
    noise = barycentric_noise(data)
    conf = ""  # no configuration s here; the setting goes into each witness
    setting = f"M={M}, Q={Q}"
    out = []
    net = construct_shallow_upper(data, rotation=rotation)
    cn2 = flint.fmpq(costs(net, data)["class_weighted"])
    ok = cn2 == noise.upper_squared
    out.append(
        Claim(
            "shallow upper-bound network: C_N = ‖Y (X^red)^+ ΔX_0‖_{L²_N} (2309.10370, ref. §2.2)",
            conf,
            _sqrt_str(noise.upper_squared),
            _sqrt_str(cn2),
            "holds" if ok else "fails",
            {
                "summary": f"{setting}: C_N² = {_short(cn2)}, bound² = {_short(noise.upper_squared)}",
                "C_N^2": str(cn2),
                "bound^2": str(noise.upper_squared),
                "beta": str(net.construction.beta),
            },
        )
    )
    dec = opnorm_bound(noise.upper_squared, Q * noise.delta_P_squared, data.Y)
    import sympy

    paper = str(sympy.sympify(f"({_sqrt_str(Q * noise.delta_P_squared)})*({_opnorm_string(data.Y)})"))
    out.append(
        Claim(
            "‖Y Δ_1‖_{L²_N} ≤ √Q ‖Y‖_op δ_P (2309.10370, ref. §2.2)",
            conf,
            paper,
            _sqrt_str(noise.upper_squared),
            "holds" if dec.holds else "fails",
            {
                "summary": f"{setting}: δ_P² = {_short(noise.delta_P_squared)}",
                "delta_P^2": str(noise.delta_P_squared),
                **dec.witness,
            },
        )
    )
    if M != Q:
        return out
    try:
        W, _, feats = identity_regime_features(data, W1=W1, b1=b1)
        regime = {"min_preactivation": str(min(feats.entries()))}
    except HypothesisError as e:  # the given hidden layer is not in the identity regime
        regime = {"not_identity_regime": e.certificate if e.certificate is not None else str(e)}
        W, _, feats = identity_regime_features(data)
    fit = optimal_output_layer(feats, data)
    # cumulative output bias W_2 b_1 + b_2 = 0: the output is W_2 W_1 X_0, a linear fit on W_1 X_0
    fit0 = optimal_output_layer(W * data.X.transpose(), data, bias=False)
    ok = fit.objective == noise.paper_squared
    wit = {
        "summary": f"{setting}: C_N² minimum with bias {_short(fit.objective)} vs paper {_short(noise.paper_squared)}",
        "V_aff^2": str(fit.objective),
        "V_paper^2": str(noise.paper_squared),
    }
    if not ok:
        wit.update(
            {
                "W2": str_rows(fit.weight),
                "b2": [str(v) for v in fit.bias.entries()],
                "u^T (X^red)^{-1} Δx": [
                    str(sum((noise.delta1[r, i] for r in range(Q)), flint.fmpq(0))) for i in range(data.N)
                ],
            }
        )
    out.append(
        Claim(
            "(2.71) ‖Y|Δ_2|^{1/2}(1+Δ_2)^{-1/2}‖ is the minimum over the output layer (W_2, b_2) "
            "(2309.10370 Thm 3.2 as cited by 2309.10639)",
            conf,
            _sqrt_str(noise.paper_squared),
            _sqrt_str(fit.objective),
            "holds" if ok else "fails",
            wit,
        )
    )
    ok = fit0.objective == noise.paper_squared
    out.append(
        Claim(
            "(2.71) is the minimum over W_2 with the cumulative output bias fixed to 0 (ref. D1)",
            conf,
            _sqrt_str(noise.paper_squared),
            _sqrt_str(fit0.objective),
            "holds" if ok else "fails",
            {
                "summary": f"{setting}: C_N² minimum {_short(fit0.objective)} vs paper {_short(noise.paper_squared)}",
                "minimum^2": str(fit0.objective),
                "V_paper^2": str(noise.paper_squared),
            },
        )
    )
    ok = noise.paper_squared <= noise.upper_squared
    rel = 1 - noise.paper_squared / noise.upper_squared if noise.upper_squared else flint.fmpq(0)
    out.append(
        Claim(
            "(2.71) ≤ ‖Y Δ_1‖_{L²_N}, relative gap O(δ_P²) (2309.10639 (2.54))",
            conf,
            _sqrt_str(noise.upper_squared),
            _sqrt_str(noise.paper_squared),
            "holds" if ok else "fails",
            {
                "summary": f"{setting}: 1 - V_paper²/bound² = {_short(rel)}",
                "1 - V_paper^2/bound^2": str(rel),
                "delta_P^2": str(noise.delta_P_squared),
            },
        )
    )
    out.append(
        Claim(
            "identity-regime configuration is a degenerate local minimum (2309.10370 Thm 3.2)",
            conf,
            None,
            _sqrt_str(fit.objective),
            "holds" if "min_preactivation" in regime else "not applicable",
            {
                "summary": f"{setting}: "
                + (
                    f"every pre-activation ≥ {regime['min_preactivation']} > 0 (open condition)"
                    if "min_preactivation" in regime
                    else "the given W1, b1 are not in the identity regime"
                ),
                **regime,
            },
        )
    )
    return out
