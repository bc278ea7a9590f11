"""Exact claims tester: one :class:`Claim` record per tested statement of a paper.

:func:`check_claims` gathers every claim of the L² papers (Chen & Muñoz Ewald, arXiv 2309.10639
Theorems 2.3–2.5, arXiv 2309.10370 shallow bounds, arXiv 2504.18710 non-separable data, and the
two-layer side result of the reference notes) that applies to the data, tests each exactly and
returns the records; a family whose hypotheses the data do not meet is reported as one
``"not applicable"`` record with the reason, never as a crash.

Examples
--------
>>> c = Claim("C_N = 0 (A, Thm 2.3)", "", "0", "0", "holds")
>>> c.to_json()["verdict"]
'holds'
>>> from symtrunc.data.labeled import LabeledData
>>> d = LabeledData.from_arrays([[10, 0], [11, 1], [10, 1], [0, 10], [1, 11], [0, 11]], list("aaabbb"))
>>> claims = check_claims(d, families=("deep",), probes=1)
>>> [(c.configuration, c.verdict) for c in claims if c.claim.startswith("degenerate local minimum")]
[('01', 'fails'), ('10', 'fails'), ('11', 'holds')]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from symtrunc.claims.configurations import build_configuration, parse_bits
from symtrunc.claims.minimality import local_minimality
from symtrunc.claims.nonseparable import nonseparable_claims
from symtrunc.claims.record import (
    FAMILIES,
    MAX_CONFIGURATIONS,
    Claim,
    TooManyConfigurations,
    _not_applicable,
)
from symtrunc.claims.shallow import shallow_claims
from symtrunc.claims.two_layer import two_layer_claims
from symtrunc.constructions.deep_l2 import (
    check_deep_l2,
    construct_deep_l2,
    degeneracy,
    require_deep_l2,
)
from symtrunc.data.labeled import load_data
from symtrunc.errors import DataError, HypothesisError, UncertifiedError
from symtrunc.exact.rational import to_q
from symtrunc.loss import _sqrt_str

__all__ = ["check_claims", "deep_claims", "claims_table"]


def _selected_configurations(
    Q: int, configurations: Sequence[Any] | None, max_configurations: int | None
) -> list[tuple[int, ...]]:
    """The configurations ``s`` to test, in the order ``0…0`` first (all ``2^Q`` by default)."""
    from itertools import product

    if configurations is None:
        if max_configurations is not None and 2**Q > max_configurations:
            raise TooManyConfigurations(
                f"the deep family would test all 2^{Q} = {2**Q} configurations s (each built and tested "
                f"exactly), more than the limit {max_configurations}: choose some with --configurations "
                f"(e.g. {'1' * Q},{'0' * (Q - 1)}1; Python: configurations=[...]), raise --max-configurations, "
                "or leave the deep family out with --family"
            )
        return list(product((0, 1), repeat=Q))
    chosen = [parse_bits(s, Q) for s in configurations]
    if not chosen:
        raise DataError("no configuration s given")
    return sorted(set(chosen))


def deep_claims(
    data: Any,
    *,
    c0: Any = None,
    theta_star: Any = None,
    cone: str = "paper",
    probes: int = 4,
    seed: int = 0,
    configurations: Sequence[Any] | None = None,
    max_configurations: int | None = MAX_CONFIGURATIONS,
    progress: Callable[[str], None] | None = None,
) -> list[Claim]:
    """The claims of arXiv 2309.10639 (paper A), Theorems 2.3–2.5, tested exactly.

    Parameters
    ----------
    data : LabeledData or path
    c0, theta_star, cone
        See :func:`~symtrunc.constructions.deep_l2.construct_deep_l2`.
    probes, seed
        Random exact perturbation probes of :func:`~symtrunc.claims.minimality.local_minimality`.
    configurations : sequence of bit strings, optional
        The configurations ``s`` to test (default all ``2^Q``). With a subset the count claim
        "2^Q - 1 local minima" is ``"fails"`` if a tested ``s ≠ 0`` is not a local minimum and
        ``"undecided"`` otherwise.
    max_configurations : int or None
        Refuse (:class:`TooManyConfigurations`) to enumerate more than this many configurations
        when ``configurations`` is not given (``None``: no limit).
    progress : callable, optional
        Called with a short message before each configuration.

    Raises
    ------
    HypothesisError
        If ``M ≠ Q`` or a hypothesis of Theorem 2.3 fails (the caller reports it).
    TooManyConfigurations
        See ``max_configurations``.
    """

    data = load_data(data)
    hyp = check_deep_l2(data, c0=c0, theta_star=theta_star)
    out = []
    try:
        require_deep_l2(data, hyp)
    except HypothesisError as e:
        # the paper claims nothing for data outside its hypotheses (as for the other families)
        out.append(
            Claim(
                "A Thm 2.3: hypotheses (2.12), (2.14), (2.52), D > 2δ√Q",
                "",
                None,
                None,
                "not applicable",
                {"summary": str(e), **hyp.to_json()},
            )
        )
        return out
    out.append(
        Claim(
            "A Thm 2.3: hypotheses (2.12), (2.14), (2.52), D > 2δ√Q",
            "",
            None,
            None,
            "holds",
            {"summary": f"θ_* = {hyp.theta_star}, D ∈ [{hyp.D[0]}, {hyp.D[1]}]", **hyp.to_json()},
        )
    )
    Q = data.Q
    selected = _selected_configurations(Q, configurations, max_configurations)
    first, second = degeneracy(data, c0=c0, theta_star=theta_star, cone=cone)
    zeros = "0" * Q
    out.append(
        Claim(
            "A Thm 2.3 (2.59): τ(X_0) = X̄_0[μ]",
            zeros,
            None,
            str(first.tau_matches),
            "holds" if first.tau_matches else "fails",
            {"summary": f"μ = ({', '.join(first.mu)})", "mu": list(first.mu)},
        )
    )
    value = first.costs["class_weighted_sqrt"]
    out.append(
        Claim(
            "A Thm 2.3 (2.57): min C_N = 0 for L = Q",
            zeros,
            "0",
            value,
            "holds" if value == "0" else "fails",
            {"summary": f"L = {Q}", "t": list(first.t)},
        )
    )
    deeper = construct_deep_l2(data, layers=Q + 1, t=list(first.t), c0=c0, theta_star=theta_star, cone=cone)
    value = deeper.costs["class_weighted_sqrt"]
    out.append(
        Claim(
            "A Thm 2.3 (2.57): min C_N = 0 for L > Q (extra identity layers)",
            zeros,
            "0",
            value,
            "holds" if value == "0" and deeper.tau_matches else "fails",
            {"summary": f"L = {Q + 1}"},
        )
    )
    ok = first.mu != second.mu and first.costs["class_weighted"] == second.costs["class_weighted"] == "0"
    out.append(
        Claim(
            "A Thm 2.3: degenerate (two admissible μ both give C_N = 0)",
            zeros,
            "0",
            second.costs["class_weighted_sqrt"],
            "holds" if ok else "fails",
            {
                "summary": f"μ = ({', '.join(first.mu)}) and ({', '.join(second.mu)})",
                "mu_a": list(first.mu),
                "mu_b": list(second.mu),
            },
        )
    )
    outcomes: list[tuple[str, str]] = []  # (s, verdict of local_minimality) for every tested s ≠ 0
    for k, bits in enumerate(selected, 1):
        if progress is not None:
            progress(f"configuration {k}/{len(selected)}: s = {''.join(map(str, bits))}")
        conf = build_configuration(data, bits, hypotheses=hyp, cone=cone)
        s = conf.bits
        if s == zeros:
            rep = local_minimality(conf.network, data, probes=probes, seed=seed)
            out.append(
                Claim(
                    "A Thm 2.5, s = 0: global minimum",
                    s,
                    "0",
                    _sqrt_str(rep.value),
                    "holds" if rep.verdict == "global minimum" else "fails",
                    {"summary": rep.reason, **rep.witness()},
                )
            )
            continue
        eq = "(2.71)" if "0" not in s else "(2.85)"
        out.append(
            Claim(
                "τ(X_0) as in (2.84)",
                s,
                None,
                str(conf.tau_matches),
                "holds" if conf.tau_matches else "fails",
                {"summary": f"t = ({', '.join(conf.t)})"},
            )
        )
        out.append(
            Claim(
                f"{eq} = min C_N over the output layer (with bias)",
                s,
                _sqrt_str(conf.paper),
                _sqrt_str(conf.affine),
                "holds" if conf.paper == conf.affine else "fails",
                {
                    "summary": f"C_N² paper {conf.paper} vs exact {conf.affine}",
                    "paper_squared": str(conf.paper),
                    "exact_squared": str(conf.affine),
                    "output_weight": [[str(v) for v in r] for r in conf.fit.weight.tolist()],
                    "output_bias": [str(v) for v in conf.fit.bias.entries()],
                },
            )
        )
        out.append(
            Claim(
                f"{eq} = min C_N with cumulative output bias 0 (D1 reading)",
                s,
                _sqrt_str(conf.paper),
                _sqrt_str(conf.zero_bias),
                "holds" if conf.paper == conf.zero_bias else "fails",
                {"summary": f"C_N² paper {conf.paper} vs exact {conf.zero_bias}"},
            )
        )
        out.append(
            Claim(
                "min C_N ≤ ‖YΔ_1[s]‖_{L²_N}, Δ_1[s] = (X_0^red)^{-1}ΔX_0[s] (2.54), (2.81)",
                s,
                _sqrt_str(conf.bound),
                _sqrt_str(conf.affine),
                "holds" if conf.affine <= conf.bound else "fails",
                {"summary": f"C_N² {conf.affine} vs bound² {conf.bound}"},
            )
        )
        if conf.bound_tau is not None:
            out.append(
                Claim(
                    "min C_N ≤ ‖YΔ_1^(L)‖_{L²_N}, Δ_1^(L) from τ(X_0) (2.54), (2.55)",
                    s,
                    _sqrt_str(conf.bound_tau),
                    _sqrt_str(conf.affine),
                    "holds" if conf.affine <= conf.bound_tau else "fails",
                    {"summary": f"C_N² {conf.affine} vs bound² {conf.bound_tau}"},
                )
            )
        rep = local_minimality(conf.network, data, probes=probes, seed=seed)
        verdict = {"local minimum": "holds", "global minimum": "fails", "not a local minimum": "fails"}.get(
            rep.verdict, "undecided"
        )
        outcomes.append((s, rep.verdict))
        wit = rep.witness()
        summary = rep.reason
        if rep.descent is not None:
            drop = to_q(rep.descent["decrease"])
            summary = f"descent direction -∇F, step ε = {rep.descent['epsilon']} lowers C_N² by " + (
                str(drop) if len(str(drop)) <= 24 else f"≈{float(drop):.3g} (exact: descent.decrease)"
            )
        out.append(
            Claim(
                f"degenerate local minimum, not global (A Thm {'2.4' if eq == '(2.71)' else '2.5'})",
                s,
                _sqrt_str(conf.paper),
                _sqrt_str(rep.value),
                verdict,
                {"summary": summary, **wit},
            )
        )
    out.append(_count_claim(Q, outcomes))
    return out


def _count_claim(Q: int, outcomes: list[tuple[str, str]]) -> Claim:
    """The aggregate record of Theorem 2.5, "2^Q - 1 non-global degenerate local minima", from
    the per-configuration verdicts of :func:`~symtrunc.claims.minimality.local_minimality`.

    A global minimum (``C_N = 0``) *is* a local minimum; it fails the claim only because the
    claim says "non-global", and the record says so rather than calling it "not a local minimum".

    >>> c = _count_claim(2, [("01", "global minimum"), ("10", "not a local minimum"), ("11", "local minimum")])
    >>> c.verdict, c.exact_value, c.witness["local_minima"], c.witness["failing"]
    ('fails', '1', 2, ['01', '10'])
    >>> print(c.witness["summary"])
    local minima: 2 of 3 (1 non-global); global minimum (C_N = 0, so a local minimum, but not a non-global one): s = 01; not a local minimum: s = 10
    """
    tested = len(outcomes)
    local = [s for s, v in outcomes if v == "local minimum"]
    global_ = [s for s, v in outcomes if v == "global minimum"]
    not_local = [s for s, v in outcomes if v == "not a local minimum"]
    open_ = [s for s, v in outcomes if v not in ("local minimum", "global minimum", "not a local minimum")]
    missing = 2**Q - 1 - tested
    parts = [
        f"local minima: {len(local) + len(global_)} of {tested}{' tested' if missing else ''} ({len(local)} non-global)"
    ]
    if global_:
        parts.append(
            f"global minimum (C_N = 0, so a local minimum, but not a non-global one): s = {', '.join(global_)}"
        )
    if not_local:
        parts.append(f"not a local minimum: s = {', '.join(not_local)}")
    if open_:
        parts.append(f"undecided: s = {', '.join(open_)}")
    if missing:
        parts.append(f"{missing} configurations not tested")
    failing = sorted(global_ + not_local)
    if failing:
        verdict = "fails"
    elif open_ or missing:
        verdict = "undecided"
    else:
        verdict = "holds"
        parts = ["every s ≠ 0 is a local minimum, none of them global"]
    return Claim(
        "A: 2^Q - 1 non-global degenerate local minima (Thm 2.5)",
        "",
        str(2**Q - 1),
        str(len(local)) if not missing else f"{len(local)} (of {tested} tested)",
        verdict,
        {
            "summary": "; ".join(parts),
            "failing": failing,
            "global_minimum": global_,
            "not_local_minimum": not_local,
            "undecided": open_,
            "tested": tested,
            "local_minima": len(local) + len(global_),
            "non_global_local_minima": len(local),
        },
    )


def check_claims(
    data: Any,
    *,
    families: Sequence[str] | None = None,
    probes: int = 4,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> list[Claim]:
    """Test every applicable claim of the L² papers exactly on ``data``.

    Parameters
    ----------
    data : LabeledData or path
        A path is read without the standing-assumption check of :meth:`LabeledData.validate`
        (concentric binary data have dependent class means); the families that need those
        assumptions (deep, shallow, two_layer) report ``"not applicable"`` with the reason.
    families : sequence of str, optional
        Subset of :data:`FAMILIES` (default all).
    probes, seed
        Random exact perturbation probes of the local-minimality test (:func:`~symtrunc.claims.minimality.local_minimality`).
    progress : callable, optional
        Called with short messages (``"deep: configuration 3/8: s = 010"``).
    **options
        ``c0``, ``theta_star``, ``cone``, ``configurations``, ``max_configurations`` for the deep
        family (see :func:`deep_claims`).

    Returns
    -------
    list of Claim
        A family whose hypotheses fail gives one ``"not applicable"`` record with the reason.

    Raises
    ------
    TooManyConfigurations
        If the deep family applies and ``2^Q`` exceeds ``max_configurations`` (default
        :data:`MAX_CONFIGURATIONS`) without an explicit ``configurations`` list.
    """

    data = load_data(data, check=False)
    chosen = FAMILIES if families is None else tuple(families)
    unknown = [f for f in chosen if f not in FAMILIES]
    if unknown:
        raise DataError(f"unknown claim family {unknown[0]!r}; use {', '.join(FAMILIES)}")
    if data.Q < 2:
        raise DataError(f"only {data.Q} class found; at least 2 classes are needed")
    if "deep" in chosen and options.get("configurations") is not None:  # bad bits are a usage error
        _selected_configurations(data.Q, options["configurations"], None)
    try:
        data.validate()
        standing = None
    except DataError as e:
        standing = f"the data do not meet the standing assumptions: {e}"
    out: list[Claim] = []
    for family in chosen:
        if progress is not None:
            progress(f"{family}: started")
        try:
            if family != "nonseparable" and standing is not None:
                raise HypothesisError(standing)
            if family == "deep":
                if data.M != data.Q:
                    raise HypothesisError(f"paper A (Theorems 2.3-2.5) needs M = Q; here M = {data.M}, Q = {data.Q}")
                report = None if progress is None else (lambda msg: progress(f"deep: {msg}"))
                out += deep_claims(data, probes=probes, seed=seed, progress=report, **options)
            elif family == "shallow":
                out += shallow_claims(data)
            elif family == "nonseparable":
                out += nonseparable_claims(data)
            else:
                out += two_layer_claims(data)
        except TooManyConfigurations:
            raise
        except (HypothesisError, DataError, UncertifiedError) as e:
            out.append(_not_applicable(family, str(e)))
    return out


def _cell(text: Any, width: int) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _short_value(v: str | None) -> str:
    """Exact value, or a 6-digit decimal marked ``≈`` when the exact string is long."""
    if v is None:
        return "—"
    if len(v) <= 24:
        return v
    try:
        import sympy

        return f"≈{float(sympy.sympify(v)):.6g}"
    except (TypeError, ValueError, SyntaxError, sympy.SympifyError):
        return v[:23] + "…"


def claims_table(claims: Sequence[Claim], *, width: int = 200) -> str:
    """A plain-text table: claim, s, paper's value, exact value, verdict, witness summary.

    Long exact values are shown as ``≈`` decimals (the exact strings are in ``--json``).

    >>> print(claims_table([Claim("C_N = 0", "00", "0", "0", "holds", {"summary": "ok"})]))
    claim    s   paper  exact  verdict  witness
    C_N = 0  00  0      0      holds    ok
    """
    rows = [("claim", "s", "paper", "exact", "verdict", "witness")]
    for c in claims:
        if isinstance(c.witness, dict) and "summary" in c.witness:
            w = c.witness["summary"]
        else:
            w = (
                ""
                if c.witness is None
                else c.witness
                if isinstance(c.witness, str)
                else json.dumps(c.witness, ensure_ascii=False)
            )
        rows.append(
            (
                _cell(c.claim, 64),
                c.configuration,
                _short_value(c.paper_value),
                _short_value(c.exact_value),
                c.verdict,
                str(w),
            )
        )
    widths = [max(len(r[k]) for r in rows) for k in range(5)]
    lines = []
    for r in rows:
        line = "  ".join(r[k].ljust(widths[k]) for k in range(5)) + "  " + r[5]
        lines.append(_cell(line.rstrip(), width))
    return "\n".join(lines)
