r"""Exact first-order test of local minimality for ReLU networks with a refitted output layer.

For a network whose last layer is affine, let ``F(θ) = min_{W, b} Σ_i w_i |W x^(L)_i(θ) + b - y_i|²``
be the cost after refitting the output layer exactly (``C_N²`` for ``weighting="class"``), as a
function of the hidden parameters ``θ = (W_l, b_l)_{l ≤ L}``. Inside an activation region (no
pre-activation is exactly ``0`` on a training point) the hidden features are polynomial in
``θ``; if the normal matrix of the output fit is invertible the optimal output layer is unique
and by the envelope theorem

``∂F/∂θ = 2 Σ_i w_i r_iᵀ W* ∂x^(L)_i/∂θ``  (``r_i`` the residual, ``W*`` the optimal output weight),

computed here by exact rational back-propagation. Verdicts:

* ``C_N = 0``: a global minimum (``F ≥ 0``);
* gradient ``≠ 0``: not a critical point, hence not a local minimum; ``-∇F`` is a descent
  direction and an exact rational step ``ε`` with ``F(θ - ε∇F) < F(θ)`` (same activation region)
  is the witness;
* every pre-activation ``> 0`` (identity regime), ``W^(L)`` invertible and the output bias free
  (``bias=True``): on a neighbourhood the features are an invertible affine image of the data,
  so ``F`` is locally constant: a degenerate local minimum (proved);
* on a region boundary (a pre-activation exactly ``0``) ``F`` is only piecewise smooth; a
  negative exact one-sided directional derivative (see :func:`local_minimality`) proves "not a
  local minimum", otherwise the verdict is ``undecided``;
* otherwise (critical but not in the identity regime, or the output fit not unique) the verdict
  is ``undecided``, with the exact perturbation probes reported.

Exact rational perturbation probes (seeded random directions ``±ε d``, inside the region) are
run in every case.

Examples
--------
>>> from symtrunc.data.labeled import LabeledData
>>> from symtrunc.network import ReLUNetwork
>>> d = LabeledData.from_arrays([[3, 0], [4, 1], [0, 3], [1, 5], [2, 2]], [0, 0, 1, 1, 1])
>>> net = ReLUNetwork.from_rows([([[1, 0], [0, 1]], [1, 1], "relu"), ([[1, 0], [0, 1]], [0, 0], "identity")])
>>> rep = local_minimality(net, d, probes=2)
>>> rep.verdict, rep.critical, rep.reason
('local minimum', True, 'identity regime with invertible W^(L): the refitted cost is locally constant')
>>> kink = ReLUNetwork.from_rows([([[1, 0], [0, 1]], ["-1/2", "-1/2"], "relu"), ([[1, 0], [0, 1]], [0, 0], "identity")])
>>> rep = local_minimality(kink, d, probes=2)
>>> rep.verdict, rep.critical, rep.descent["epsilon"]
('not a local minimum', False, '1/2')
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, overload

import flint

from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError
from symtrunc.loss import column_weights, fitted_objective, optimal_output_layer
from symtrunc.network import Layer, ReLUNetwork

__all__ = [
    "RegionState",
    "MinimalityReport",
    "refitted_cost",
    "region_state",
    "hidden_gradient",
    "ray_pattern",
    "local_minimality",
]

VERDICTS = ("global minimum", "local minimum", "not a local minimum", "undecided")


@dataclass(frozen=True)
class RegionState:
    """Exact forward pass of the hidden layers.

    Attributes
    ----------
    inputs : list of fmpq_mat
        ``X^(0) = X_0ᵀ`` and the activations ``X^(l)`` (columns = points), ``l = 1..L``.
    pattern : tuple
        Per hidden layer, the tuple of signs (``1`` active, ``0`` inactive) in row-major
        ``(neuron, point)`` order.
    boundary : tuple of (layer, neuron, point)
        Pre-activations exactly ``0`` (1-based layer).
    """

    inputs: list[flint.fmpq_mat]
    pattern: tuple[tuple[int, ...], ...]
    boundary: tuple[tuple[int, int, int], ...]


@overload
def region_state(network: ReLUNetwork, X: flint.fmpq_mat) -> RegionState: ...
@overload
def region_state(
    network: ReLUNetwork, X: flint.fmpq_mat, target: tuple[tuple[int, ...], ...]
) -> RegionState | None: ...


def region_state(
    network: ReLUNetwork, X: flint.fmpq_mat, target: tuple[tuple[int, ...], ...] | None = None
) -> RegionState | None:
    """Forward the columns ``X`` through the hidden layers exactly; record pattern and zeros.

    With ``target`` (a pattern): ``None`` as soon as a layer has a pre-activation ``0`` or a
    pattern other than ``target``'s (the later layers are not computed).
    """
    n = X.ncols()
    ones = flint.fmpq_mat(1, n, [1] * n)
    inputs, pattern, boundary = [X], [], []
    for k, layer in enumerate(network.layers[:-1]):
        Z = layer.W * inputs[-1] + layer.b * ones
        ent = Z.entries()
        signs = tuple(1 if v > 0 else 0 for v in ent)
        zeros = [(k + 1, idx // n, idx % n) for idx, v in enumerate(ent) if v == 0]
        if target is not None and (zeros or signs != target[k]):
            return None
        pattern.append(signs)
        boundary += zeros
        inputs.append(flint.fmpq_mat(Z.nrows(), n, [v if s else 0 for v, s in zip(ent, signs)]))
    return RegionState(inputs, tuple(pattern), tuple(boundary))


def refitted_cost(
    network: ReLUNetwork, data: LabeledData, *, bias: bool = True, weighting: str = "class"
) -> flint.fmpq:
    """``F(θ)``: the exact minimum of the weighted squared cost over the output layer."""
    feats = region_state(network, data.X.transpose()).inputs[-1]
    return fitted_objective(feats, data, bias=bias, weighting=weighting)


def hidden_gradient(
    network: ReLUNetwork,
    data: LabeledData,
    *,
    bias: bool = True,
    weighting: str = "class",
    state: RegionState | None = None,
) -> tuple[list[tuple[flint.fmpq_mat, flint.fmpq_mat]], bool]:
    """Exact ``(∂F/∂W_l, ∂F/∂b_l)`` for every hidden layer, and whether the output fit is unique.

    Valid inside an activation region (see :class:`RegionState`), with a unique output fit.
    """
    state = state or region_state(network, data.X.transpose())
    feats = state.inputs[-1]
    fit = optimal_output_layer(feats, data, bias=bias, weighting=weighting)
    n = data.N
    w = column_weights(data, weighting)
    R = fit.outputs(feats) - data.Y_ext
    Rw = flint.fmpq_mat(R.nrows(), n, [2 * R[r, i] * w[i] for r in range(R.nrows()) for i in range(n)])
    G = fit.weight.transpose() * Rw  # ∂F/∂X^(L)
    grads = []
    ones = flint.fmpq_mat(n, 1, [1] * n)
    for k in range(len(network.layers) - 2, -1, -1):
        mask = state.pattern[k]
        delta = flint.fmpq_mat(G.nrows(), n, [g if m else 0 for g, m in zip(G.entries(), mask)])
        grads.append((delta * state.inputs[k].transpose(), delta * ones))
        G = network.layers[k].W.transpose() * delta
    return grads[::-1], fit.unique


def _perturbed(
    network: ReLUNetwork, direction: list[tuple[flint.fmpq_mat, flint.fmpq_mat]], eps: flint.fmpq
) -> ReLUNetwork:
    layers = (
        tuple(
            Layer(layer.W + eps * dW, layer.b + eps * db, layer.activation)
            for layer, (dW, db) in zip(network.layers, direction)
        )
        + network.layers[len(direction) :]
    )
    return ReLUNetwork(layers, network.classes, network.construction)


def _named(direction: list[tuple[flint.fmpq_mat, flint.fmpq_mat]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, (dW, db) in enumerate(direction, 1):
        out[f"W{k}"] = [[str(v) for v in r] for r in dW.tolist()]
        out[f"b{k}"] = [str(v) for v in db.entries()]
    return out


@dataclass(frozen=True)
class MinimalityReport:
    """The exact first-order analysis of one parameter point.

    Attributes
    ----------
    value : fmpq
        ``F(θ)`` (``C_N²`` for the class weighting).
    verdict : str
        ``"global minimum"``, ``"local minimum"`` (proved), ``"not a local minimum"`` (exact
        descent witness) or ``"undecided"``.
    critical : bool or None
        Exact gradient is zero (``None``: gradient not defined or not established — on a
        region boundary, or the output fit is not unique).
    reason : str
    gradient_norm_squared : fmpq or None
    boundary : tuple
        Zero pre-activations ``(layer, neuron, point)``.
    descent : dict or None
        ``{"epsilon", "value_after", "decrease", "direction"}`` (exact strings, ``direction = -∇F``).
    probes : dict
        ``{"count", "decreased", "best_decrease"}`` of the random rational probes.
    """

    value: flint.fmpq
    verdict: str
    critical: bool | None
    reason: str
    gradient_norm_squared: flint.fmpq | None
    boundary: tuple[tuple[int, int, int], ...]
    descent: dict[str, Any] | None
    probes: dict[str, Any] = field(default_factory=dict)

    def witness(self) -> dict[str, Any]:
        """JSON-friendly evidence (exact numbers as strings)."""
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "reason": self.reason,
            "critical": self.critical,
            "value_squared": str(self.value),
            "gradient_norm_squared": None if self.gradient_norm_squared is None else str(self.gradient_norm_squared),
            "probes": self.probes,
        }
        if self.boundary:
            out["boundary"] = [list(b) for b in self.boundary[:10]]
        if self.descent is not None:
            out["descent"] = self.descent
        return out


def ray_pattern(
    network: ReLUNetwork, state: RegionState, direction: list[tuple[flint.fmpq_mat, flint.fmpq_mat]]
) -> tuple[tuple[int, ...], ...] | None:
    """The activation pattern on ``θ + εd`` for every small ``ε > 0``, to first order.

    A pre-activation that is exactly ``0`` at ``θ`` becomes active iff its first-order change
    ``ż`` along ``d`` is positive; returns ``None`` if some such ``ż`` is ``0`` (higher order needed).
    """
    X0 = state.inputs[0]
    n = X0.ncols()
    ones = flint.fmpq_mat(1, n, [1] * n)
    zero_at = set(state.boundary)
    xdot = flint.fmpq_mat(X0.nrows(), n)
    pattern = []
    for k, layer in enumerate(network.layers[:-1]):
        dW, db = direction[k]
        zdot = dW * state.inputs[k] + layer.W * xdot + db * ones
        mask = []
        for idx, (p, zd) in enumerate(zip(state.pattern[k], zdot.entries())):
            if (k + 1, idx // n, idx % n) in zero_at:
                if zd == 0:
                    return None
                mask.append(1 if zd > 0 else 0)
            else:
                mask.append(p)
        xdot = flint.fmpq_mat(zdot.nrows(), n, [v if m else 0 for v, m in zip(zdot.entries(), mask)])
        pattern.append(tuple(mask))
    return tuple(pattern)


def _dot_params(a, b) -> flint.fmpq:
    return sum(
        (
            x * y
            for (aW, ab), (bW, bb) in zip(a, b)
            for x, y in zip(aW.entries() + ab.entries(), bW.entries() + bb.entries())
        ),
        flint.fmpq(0),
    )


def local_minimality(
    network: Any,
    data: Any,
    *,
    bias: bool = True,
    weighting: str = "class",
    probes: int = 6,
    seed: int = 0,
    max_halvings: int = 80,
) -> MinimalityReport:
    """Decide exactly whether the hidden parameters of ``network`` are a local minimum of ``F``.

    On a region boundary (some pre-activation exactly ``0``) ``F`` is only piecewise smooth:
    for each adjacent piece obtained by treating the zero units as all inactive or all active,
    ``d = -∇F_piece`` is followed, the piece the ray ``θ + εd`` really enters is found to first
    order (:func:`ray_pattern`), and the exact one-sided directional derivative ``F'(θ; d)`` is
    computed there; a negative value proves that ``θ`` is not a local minimum.

    Parameters
    ----------
    network : ReLUNetwork
        Its last layer is replaced by the optimal output layer (only the hidden layers matter).
    data : LabeledData or path
    bias, weighting
        The output fit (see :func:`~symtrunc.loss.optimal_output_layer`).
    probes : int
        Number of random exact rational perturbation directions (each tried with ``±ε``).
    seed : int
    max_halvings : int
        Step ``ε = 2^{-k}``, ``k ≤ max_halvings``, when searching a step inside a region.
    """
    data = load_data(data)
    if network.input_dim != data.M:
        raise DataError(f"the network expects inputs of dimension {network.input_dim}, the data have {data.M}")
    X = data.X.transpose()
    state = region_state(network, X)
    value = fitted_objective(state.inputs[-1], data, bias=bias, weighting=weighting)
    hidden = len(network.layers) - 1
    n = data.N

    def step(direction, target, need_decrease: bool) -> tuple[flint.fmpq, flint.fmpq] | None:
        """The largest ``ε = 2^-k`` whose perturbed pattern is ``target`` (no zeros), with a decrease if asked."""
        eps = flint.fmpq(1)
        for _ in range(max_halvings):
            st = region_state(_perturbed(network, direction, eps), X, target)
            if st is not None:
                v = fitted_objective(st.inputs[-1], data, bias=bias, weighting=weighting)
                if v < value or not need_decrease:
                    return eps, v
            eps /= 2
        return None

    # exact random rational probes
    rng = random.Random(seed)
    decreased, best, skipped = 0, flint.fmpq(0), 0
    for _ in range(probes):
        direction = [
            (
                flint.fmpq_mat(
                    layer.W.nrows(),
                    layer.W.ncols(),
                    [flint.fmpq(rng.randint(-4, 4), 4) for _ in range(layer.W.nrows() * layer.W.ncols())],
                ),
                flint.fmpq_mat(layer.b.nrows(), 1, [flint.fmpq(rng.randint(-4, 4), 4) for _ in range(layer.b.nrows())]),
            )
            for layer in network.layers[:hidden]
        ]
        for sign in (1, -1):
            signed = [(sign * dW, sign * db) for dW, db in direction]
            target = ray_pattern(network, state, signed)
            found = None if target is None else step(signed, target, False)
            if found is None:
                skipped += 1
            elif found[1] < value:
                decreased += 1
                best = max(best, value - found[1])
    probe_info = {"count": 2 * probes, "decreased": decreased, "best_decrease": str(best)}
    if skipped:
        probe_info["inconclusive"] = skipped

    def report(verdict, critical, reason, gnorm=None, descent=None):
        return MinimalityReport(value, verdict, critical, reason, gnorm, state.boundary, descent, probe_info)

    def witness(direction, target, **extra):
        found = step(direction, target, True)
        if found is None:  # pragma: no cover - a negative directional derivative gives a decrease
            return None
        return {
            "epsilon": str(found[0]),
            "value_after": str(found[1]),
            "decrease": str(value - found[1]),
            **extra,
            "direction": _named(direction),
        }

    if value == 0:
        return report("global minimum", None, "the refitted cost is 0, the least possible value")
    if state.boundary:
        zero_at = set(state.boundary)
        for treat in (0, 1):
            piece = tuple(
                tuple(treat if (k + 1, idx // n, idx % n) in zero_at else p for idx, p in enumerate(pat))
                for k, pat in enumerate(state.pattern)
            )
            grads, unique = hidden_gradient(
                network, data, bias=bias, weighting=weighting, state=RegionState(state.inputs, piece, state.boundary)
            )
            if not unique:
                break
            direction = [(-dW, -db) for dW, db in grads]
            ray = ray_pattern(network, state, direction)
            if ray is None:
                continue
            g_ray, _ = hidden_gradient(
                network, data, bias=bias, weighting=weighting, state=RegionState(state.inputs, ray, state.boundary)
            )
            deriv = _dot_params(g_ray, direction)
            if deriv < 0:
                return report(
                    "not a local minimum",
                    None,
                    f"on a region boundary ({len(state.boundary)} zero pre-activation(s)): the exact "
                    f"one-sided directional derivative along -∇F of an adjacent piece is {deriv} < 0",
                    None,
                    witness(direction, ray, one_sided_derivative=str(deriv)),
                )
        return report(
            "undecided",
            None,
            f"{len(state.boundary)} pre-activation(s) exactly 0: F is only piecewise "
            "smooth here and no negative one-sided derivative was found along the piece gradients; "
            "probes reported",
        )
    grads, unique = hidden_gradient(network, data, bias=bias, weighting=weighting, state=state)
    gnorm = _dot_params(grads, grads)
    if not unique:
        return report(
            "undecided",
            None,
            "the optimal output layer is not unique (singular normal matrix): "
            "the envelope-theorem gradient does not apply",
            gnorm,
        )
    if gnorm != 0:
        direction = [(-dW, -db) for dW, db in grads]
        return report(
            "not a local minimum",
            False,
            "the exact gradient of the refitted cost is nonzero",
            gnorm,
            witness(direction, state.pattern),
        )
    all_active = all(all(p) for p in state.pattern)
    Wc = network.cumulative()[hidden - 1][0]
    # with the output bias free, W(W^(L) x + b^(L)) + b ranges over all affine maps of x: F is locally
    # constant; without it the features' offset b^(L) matters and the argument does not apply
    if bias and all_active and Wc.nrows() == Wc.ncols() and Wc.rank() == Wc.nrows():
        return report(
            "local minimum", True, "identity regime with invertible W^(L): the refitted cost is locally constant", gnorm
        )
    return report("undecided", True, "critical point (exact zero gradient); second-order behaviour not decided", gnorm)
