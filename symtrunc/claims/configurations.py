r"""The ``2^Q`` configurations of Theorems 2.4–2.5 of arXiv 2309.10639 (paper A), built exactly.

For ``s ∈ {0,1}^Q`` and ``L = Q`` hidden layers, layer ``l`` is ``W_* R_l`` with
``μ_l ∈ I_0 = (-D, -2δ√Q)`` (``s_l = 0``: cluster ``l`` collapses to ``x̄_{0,l}[μ_l]``) or
``μ_l ∈ I_1 = (2δ√Q, ∞)`` (``s_l = 1``: identity on every current point), so (eq. 2.84)
``τ(X_0) = [… s_j X_{0,j} + (1 - s_j) x̄_{0,j}[μ_j] u_{N_j}ᵀ …]``. The output layer is the exact
least-squares fit with bias (:func:`~symtrunc.loss.optimal_output_layer`).

Three values are computed exactly (all squared; the paper's cost ``C_N`` is their square root):

* ``paper``: (2.71)/(2.85), ``Tr(Y B[s] Yᵀ)`` with ``Δ_1[s] = (X_0^red)^{-1} ΔX_0[s]``,
  ``Δ_2[s] = Δ_1[s] N^{-1} Δ_1[s]ᵀ``, ``B[s] = Δ_2[s](1 + Δ_2[s])^{-1}``;
* ``affine``: the true minimum over the output layer including its bias (``V_aff²``, reference D1);
* ``bound``: ``‖Y Δ_1[s]‖²_{L²_N}`` of (2.54).

Also ``zero_bias``, the minimum with the cumulative output bias forced to ``0`` (the reading
under which (2.71) is exact, reference D1).

Examples
--------
>>> from symtrunc.data.labeled import LabeledData
>>> d = LabeledData.from_arrays([[10, 0], [11, 1], [10, 1], [0, 10], [1, 11], [0, 11]], list("aaabbb"))
>>> c = build_configuration(d, "11")
>>> c.tau_matches, c.zero_bias == c.paper, c.affine <= c.paper <= c.bound
(True, True, True)
>>> build_configuration(d, "00").affine
0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import flint

from symtrunc.claims.minimality import region_state
from symtrunc.constructions.deep_l2 import (
    DeepL2Hypotheses,
    admissible_t,
    check_deep_l2,
    deep_l2_cones,
    mu_value,
    require_deep_l2,
    truncate,
)
from symtrunc.constructions.shallow_l2 import l2_values, noise_matrix
from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError
from symtrunc.exact.matrix import columns_matrix, identity, zeros
from symtrunc.loss import OutputFit, optimal_output_layer
from symtrunc.network import Layer, ReLUNetwork
from symtrunc.records import ConfigurationRecord

__all__ = [
    "Configuration",
    "build_configuration",
    "configurations",
    "paper_values",
    "parse_bits",
    "THEOREM_CONFIGURATIONS",
]

THEOREM_CONFIGURATIONS = "Theorems 2.4-2.5 (Chen & Muñoz Ewald, arXiv 2309.10639): 2^Q - 1 local minima"


def parse_bits(s: Any, Q: int) -> tuple[int, ...]:
    """``s`` as a tuple of ``Q`` bits (from ``"101"`` or a sequence of 0/1).

    >>> parse_bits("101", 3), parse_bits([1, 0], 2)
    ((1, 0, 1), (1, 0))
    """
    bits = tuple(int(c) for c in s) if isinstance(s, str) else tuple(int(v) for v in s)
    if len(bits) != Q or any(b not in (0, 1) for b in bits):
        raise DataError(f"a configuration is {Q} bits s_j ∈ {{0, 1}}, got {s!r}")
    return bits


def paper_values(data: LabeledData, bits: Sequence[int], red: flint.fmpq_mat | None = None) -> dict[str, flint.fmpq]:
    """Exact ``paper`` = (2.85)², ``bound`` = ``‖YΔ_1[s]‖²_{L²_N}`` and ``d1`` = the D1 closed form
    ``Tr(YBYᵀ) - |YBu|²/(uᵀBu)`` from ``B[s]`` (equal to ``V_aff²`` when ``τ(X_0)^red = X_0^red``).

    ``Δ_1[s] = red^{-1} ΔX_0[s]`` with ``red = X_0^red`` (eq. 2.81, default) or, for the
    definition (2.55) on truncated data, ``red = (τ(X_0))^red``.

    >>> from symtrunc.data.labeled import LabeledData
    >>> d = LabeledData.from_arrays([[2, 0], [4, 0], [0, 3], [0, 3]], [0, 0, 1, 1])
    >>> v = paper_values(d, (1, 1))
    >>> v["paper"], v["bound"], v["d1"]
    (1/10, 1/9, 0)
    """
    Xinv = (data.means if red is None else red).inv()
    _, bound, paper, d1 = l2_values(data, Xinv * noise_matrix(data, bits))
    return {"paper": paper, "bound": bound, "d1": d1}


@dataclass(frozen=True)
class Configuration:
    """One configuration ``s`` of Theorem 2.5, built and evaluated exactly.

    Attributes
    ----------
    bits : str
        ``s_1 … s_Q`` (``0``: collapse, ``1``: identity).
    network : ReLUNetwork
        ``Q`` hidden layers ``W_* R_l`` and the optimal output layer (with bias).
    hypotheses : DeepL2Hypotheses
    t, mu : tuple of str
        ``t_l`` (rational) and the exact ``μ_l`` (``-t_l|x̄ - x̄_{0,l}|`` or ``+t_l|…|``).
    tau_matches : bool
        ``τ(X_0)`` equals eq. (2.84) exactly.
    fit : OutputFit
        The optimal output layer on the hidden features.
    paper, affine, zero_bias, bound, d1 : fmpq
        Squared values (see the module docstring).
    bound_tau : fmpq or None
        ``‖YΔ_1^(L)‖²_{L²_N}`` with ``Δ_1^(L) = ((τ(X_0))^red)^{-1} Δ(τ(X_0))`` (eq. 2.55): an upper
        bound of ``zero_bias`` (output weight ``Y ((τ(X_0))^red)^{-1}``), hence of ``affine``.
    """

    bits: str
    network: ReLUNetwork
    hypotheses: DeepL2Hypotheses
    t: tuple[str, ...]
    mu: tuple[str, ...]
    tau_matches: bool
    fit: OutputFit
    paper: flint.fmpq
    affine: flint.fmpq
    zero_bias: flint.fmpq
    bound: flint.fmpq
    d1: flint.fmpq
    bound_tau: flint.fmpq | None


def build_configuration(
    data: Any,
    s: Any,
    *,
    t: Sequence[Any] | None = None,
    c0: Any = None,
    theta_star: Any = None,
    hypotheses: DeepL2Hypotheses | None = None,
    cone: str = "paper",
) -> Configuration:
    """Build configuration ``s`` (Theorem 2.5; ``s = 1…1`` is Theorem 2.4, ``s = 0…0`` Theorem 2.3).

    Parameters
    ----------
    data : LabeledData or path
        ``M = Q``; the hypotheses of Theorem 2.3 are checked (:func:`check_deep_l2`).
    s : str or sequence of 0/1
    t : sequence of rationals, optional
        ``t_l`` per layer: ``|μ_l| = t_l |x̄ - x̄_{0,l}|`` (certified admissible); default
        :func:`~symtrunc.constructions.deep_l2.admissible_t`.
    c0, theta_star, hypotheses
        See :func:`~symtrunc.constructions.deep_l2.check_deep_l2` (``hypotheses``: reuse a check).
    cone : {"paper", "rational"}
        See :func:`~symtrunc.constructions.deep_l2.deep_l2_cones`.

    Raises
    ------
    HypothesisError
        If a hypothesis of Theorem 2.3 fails.
    """
    data = load_data(data)
    hyp = hypotheses if hypotheses is not None else check_deep_l2(data, c0=c0, theta_star=theta_star)
    require_deep_l2(data, hyp)
    bits = parse_bits(s, data.Q)
    if t is not None and len(t) != data.Q:
        raise DataError(f"give one t per layer ({data.Q}), got {len(t)}")
    ts = [admissible_t(data, hyp, j, None if t is None else t[j], collapse=not bits[j]) for j in range(data.Q)]
    cones, apexes = deep_l2_cones(data, hyp, bits, ts, cone)
    hidden = [(c.W, c.b) for c in cones]
    Q = data.Q
    record = ConfigurationRecord(theorem=THEOREM_CONFIGURATIONS, s="".join(map(str, bits)), t=tuple(ts))
    net = ReLUNetwork.from_cumulative(hidden + [(identity(Q), zeros(Q, 1))], classes=data.classes, construction=record)
    features = region_state(net, data.X.transpose()).inputs[-1]
    fit = optimal_output_layer(features, data)
    net = net.with_layer(Q, Layer(fit.weight, fit.bias, "identity"))
    tau = truncate(net, data)
    expected = columns_matrix(
        [apexes[j] if not bits[j] else flint.fmpq_mat(data.M, 1, data.X.tolist()[i]) for i, j in enumerate(data.y)]
    )
    zero_bias = optimal_output_layer(tau, data, bias=False).objective
    vals = paper_values(data, bits)
    red = columns_matrix([data.mean(j) if bits[j] else apexes[j] for j in range(data.Q)])
    bound_tau = paper_values(data, bits, red)["bound"] if red.rank() == data.Q else None
    return Configuration(
        bits="".join(map(str, bits)),
        network=net,
        hypotheses=hyp,
        t=tuple(str(v) for v in ts),
        mu=tuple(mu_value(data, hyp, j, v, collapse=not bits[j]) for j, v in enumerate(ts)),
        tau_matches=tau == expected,
        fit=fit,
        paper=vals["paper"],
        affine=fit.objective,
        zero_bias=zero_bias,
        bound=vals["bound"],
        d1=vals["d1"],
        bound_tau=bound_tau,
    )


def configurations(data: Any, **options: Any) -> list[Configuration]:
    """All ``2^Q`` configurations, ``s = 0…0`` first (shares one hypothesis check)."""
    from itertools import product

    data = load_data(data)
    hyp = check_deep_l2(data, c0=options.pop("c0", None), theta_star=options.pop("theta_star", None))
    return [build_configuration(data, bits, hypotheses=hyp, **options) for bits in product((0, 1), repeat=data.Q)]
