"""JAX export: Flax-style and equinox-style parameter trees in one ``.npz`` (JAX not needed).

Layout written by :func:`save` (layer ``k = 0 .. L-1``; ``d_0`` inputs, ``d_L`` outputs)::

    params/Dense_{k}/kernel   (d_k, d_{k+1})   Flax linen ``nn.Dense`` kernel, (in, out): y = x @ kernel + bias
    params/Dense_{k}/bias     (d_{k+1},)
    layers/{k}/weight         (d_{k+1}, d_k)   equinox ``eqx.nn.Linear`` weight, (out, in): y = weight @ x + bias
    layers/{k}/bias           (d_{k+1},)
    widths                    int64 (L+1,)     (d_0, ..., d_L)
    activations               unicode (L,)     "relu" after every hidden layer, "identity" last
    symtrunc.network          0-d unicode      the exact network JSON (:mod:`symtrunc.io.json`)

Both trees hold the same correctly rounded numbers. Loader snippet (float64 needs
``jax_enable_x64``)::

    import numpy as np, jax, jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    z = np.load("net_jax.npz")
    L = len(z["activations"])
    params = {"params": {f"Dense_{k}": {"kernel": jnp.asarray(z[f"params/Dense_{k}/kernel"]),
                                        "bias": jnp.asarray(z[f"params/Dense_{k}/bias"])}
                         for k in range(L)}}

    def mlp(params, x):                      # x: (N, d_0); the same as flax.linen Dense + relu
        for k in range(L):
            p = params["params"][f"Dense_{k}"]
            x = x @ p["kernel"] + p["bias"]
            if z["activations"][k] == "relu":
                x = jax.nn.relu(x)
        return x

    # equinox: weight (out, in) as in eqx.nn.Linear
    # model = eqx.tree_at(lambda m: [l.weight for l in m.layers], model,
    #                     [jnp.asarray(z[f"layers/{k}/weight"]) for k in range(L)])

Import (:func:`symtrunc.io.trained.import_network`) reads this layout back (exactly, via the JSON
string) and also plain Flax trees saved as ``params/Dense_k/kernel`` or equinox trees saved as
``layers/k/weight`` without the exact string.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from symtrunc.errors import FormatError
from symtrunc.io.export import ExportReport, float_layers, save_arrays
from symtrunc.io.trained import EXACT_KEY, finish
from symtrunc.network import ReLUNetwork

__all__ = ["arrays", "save", "is_jax_layout", "load_arrays"]

_FLAX = re.compile(r"^(?:params/)?Dense_(\d+)/(kernel|bias)$")
_EQX = re.compile(r"^layers/(\d+)/(weight|bias)$")


def arrays(network: ReLUNetwork, dtype: str = "float64") -> tuple[dict[str, np.ndarray], Any]:
    """The arrays of the JAX layout and the exact maximal rounding error.

    >>> from symtrunc.network import ReLUNetwork
    >>> net = ReLUNetwork.from_rows([([[1, 2, 3]], [0], "identity")])
    >>> a, err = arrays(net)
    >>> a["params/Dense_0/kernel"].shape, a["layers/0/weight"].shape
    ((3, 1), (1, 3))
    """
    from symtrunc.io.json import network_to_dict

    floats, err = float_layers(network, dtype)
    out: dict[str, np.ndarray] = {}
    for k, (W, b) in enumerate(floats):
        out[f"params/Dense_{k}/kernel"] = np.ascontiguousarray(W.T)
        out[f"params/Dense_{k}/bias"] = b
        out[f"layers/{k}/weight"] = W
        out[f"layers/{k}/bias"] = b.copy()
    out["widths"] = np.array(network.widths, dtype=np.int64)
    out["activations"] = np.array([layer.activation for layer in network.layers])
    out[EXACT_KEY] = np.array(json.dumps(network_to_dict(network), separators=(",", ":"), ensure_ascii=False))
    return out, err


def save(network: ReLUNetwork, path: str | Path, dtype: str = "float64") -> ExportReport:
    """Write the JAX layout as ``.npz`` (atomically, no pickle)."""
    data, err = arrays(network, dtype)
    return save_arrays(network, path, "jax", dtype, data, err)


def is_jax_layout(z: dict[str, np.ndarray]) -> bool:
    """Whether ``.npz`` arrays follow the Flax or equinox key layout."""
    return any(_FLAX.match(k) or _EQX.match(k) for k in z)


def _tree(z: dict[str, np.ndarray], pattern: re.Pattern, wname: str) -> dict[int, dict[str, np.ndarray]]:
    tree: dict[int, dict[str, np.ndarray]] = {}
    for key, value in z.items():
        m = pattern.match(key)
        if m:
            tree.setdefault(int(m.group(1)), {})[m.group(2)] = value
    if tree and sorted(tree) != list(range(len(tree))):
        raise FormatError(f"layers must be numbered 0..{len(tree) - 1} without gaps, found {sorted(tree)}")
    for k, d in tree.items():
        if wname not in d:
            raise FormatError(f"layer {k} has a bias but no {wname}")
    return tree


def load_arrays(z: dict[str, np.ndarray], *, exact: bool | None, path: Path) -> ReLUNetwork:
    """Rebuild a network from JAX-layout arrays (see the module docstring)."""
    known = {"widths", "activations", EXACT_KEY}
    unknown = sorted(k for k in z if k not in known and not (_FLAX.match(k) or _EQX.match(k)))
    if unknown:
        raise FormatError(f"unexpected array {unknown[0]!r} in a JAX-layout file")
    flax = _tree(z, _FLAX, "kernel")
    eqx = _tree(z, _EQX, "weight")
    if eqx:
        floats = [(f"layers/{k}/weight", np.asarray(eqx[k]["weight"]), eqx[k].get("bias"))
                  for k in range(len(eqx))]
        if flax:
            if len(flax) != len(eqx) or not all(
                np.asarray(flax[k]["kernel"]).T.shape == W.shape and np.array_equal(np.asarray(flax[k]["kernel"]).T, W)
                for k, (_, W, _) in enumerate(floats)
            ):
                raise FormatError("the Flax and equinox trees hold different weights")
    else:
        floats = []
        for k in range(len(flax)):
            K = np.asarray(flax[k]["kernel"])
            if K.ndim != 2:
                raise FormatError(f"wrong shapes: kernel of Dense_{k} has shape {K.shape}, expected (in, out)")
            floats.append((f"Dense_{k}/kernel", K.T, flax[k].get("bias")))
    L = len(floats)
    acts = ["relu"] * (L - 1) + ["identity"]
    if "activations" in z:
        a = [str(v) for v in np.asarray(z["activations"]).reshape(-1).tolist()]
        if len(a) != L or not all(v in ("relu", "identity") for v in a):
            raise FormatError(f"'activations' must list 'relu'/'identity' for each of the {L} layers")
        acts = a
    layers = [(name, W, b, act) for (name, W, b), act in zip(floats, acts)]
    exact_text = None
    if EXACT_KEY in z:
        try:
            exact_text = str(np.asarray(z[EXACT_KEY])[()])
        except (TypeError, IndexError):
            raise FormatError(f"the {EXACT_KEY!r} entry must be a single string") from None
    return finish(exact_text, layers, exact=exact, path=path, fmt="jax")
