"""JAX export: Flax-style and equinox-style parameter trees in one ``.npz`` (JAX not needed).

Layout written by :func:`save` (layer ``k = 0 .. L-1``; ``d_0`` inputs, ``d_L`` outputs)::

    params/Dense_{k}/kernel   (d_k, d_{k+1})   Flax linen ``nn.Dense`` kernel, (in, out): y = x @ kernel + bias
    params/Dense_{k}/bias     (d_{k+1},)
    layers/{k}/weight         (d_{k+1}, d_k)   equinox ``eqx.nn.Linear`` weight, (out, in): y = weight @ x + bias
    layers/{k}/bias           (d_{k+1},)
    widths                    int64 (L+1,)     (d_0, ..., d_L)
    activations               unicode (L,)     "relu" or "identity" per layer ("identity" last)
    symtrunc.network          0-d unicode      the exact network JSON (:mod:`symtrunc.io.json`)
    symtrunc.float_certificate 0-d unicode     the float certificate, when the export had data

Both trees hold the same correctly rounded numbers (factored files have more layers, with
``"identity"`` between the two halves of a hidden layer).

JAX and float64: with ``jax_enable_x64`` off (JAX's default), ``jnp.asarray`` of a float64 array
**silently rounds it to float32**, so a float64 file would run as a different, uncertified
float32 network. :func:`load_jax` refuses that with a one-line error; by hand, enable x64 first::

    import numpy as np, jax, jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)      # before creating any array; float64 files only
    z = np.load("net_jax.npz")
    L = len(z["activations"])
    params = {"params": {f"Dense_{k}": {"kernel": jnp.asarray(z[f"params/Dense_{k}/kernel"]),
                                        "bias": jnp.asarray(z[f"params/Dense_{k}/bias"])}
                         for k in range(L)}}
    dtype = params["params"]["Dense_0"]["kernel"].dtype  # check: the file's dtype

    def mlp(params, x):                      # x: (N, d_0); the same as flax.linen Dense + relu
        x = jnp.asarray(x, dtype=dtype)      # inputs in the file's dtype
        for k in range(L):
            p = params["params"][f"Dense_{k}"]
            x = x @ p["kernel"] + p["bias"]
            if z["activations"][k] == "relu":
                x = jax.nn.relu(x)
        return x

On GPU/TPU, JAX multiplies float32 matrices in reduced precision by default; a float certificate
covers IEEE float32 products, so run with ``jax.default_matmul_precision("highest")`` there.

    # equinox: weight (out, in) as in eqx.nn.Linear
    # model = eqx.tree_at(lambda m: [l.weight for l in m.layers], model,
    #                     [jnp.asarray(z[f"layers/{k}/weight"]) for k in range(L)])

Import (:func:`symtrunc.io.trained.import_network`) reads this layout back (exactly, via the JSON
string) and also plain Flax trees saved as ``params/Dense_k/kernel`` or equinox trees saved as
``layers/k/weight`` without the exact string.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from symtrunc.errors import DataError, FormatError, require
from symtrunc.io._common import EXACT_KEY, FLOAT_CERT_KEY, ExportReport, exact_json, finish, save_arrays
from symtrunc.lowering.float_network import ExportLayers, export_layers
from symtrunc.network import ReLUNetwork

__all__ = ["arrays", "save", "is_jax_layout", "load_arrays", "load_jax", "check_x64"]

_FLAX = re.compile(r"^(?:params/)?Dense_(\d+)/(kernel|bias)$")
_EQX = re.compile(r"^layers/(\d+)/(weight|bias)$")


def arrays(
    network: ReLUNetwork, dtype: str = "float64", *, floats: ExportLayers | None = None
) -> tuple[dict[str, np.ndarray], Any]:
    """The arrays of the JAX layout and the exact maximal rounding error (``floats``: the float
    layers, default the plain roundings in ``dtype``).

    >>> from symtrunc.network import ReLUNetwork
    >>> net = ReLUNetwork.from_rows([([[1, 2, 3]], [0], "identity")])
    >>> a, err = arrays(net)
    >>> a["params/Dense_0/kernel"].shape, a["layers/0/weight"].shape
    ((3, 1), (1, 3))
    """
    floats = export_layers(network, dtype) if floats is None else floats
    out: dict[str, np.ndarray] = {}
    for k, (W, b, _) in enumerate(floats.layers):
        out[f"params/Dense_{k}/kernel"] = np.ascontiguousarray(W.T)
        out[f"params/Dense_{k}/bias"] = b.copy()
        out[f"layers/{k}/weight"] = W.copy()
        out[f"layers/{k}/bias"] = b.copy()
    widths = [floats.layers[0][0].shape[1]] + [W.shape[0] for W, _, _ in floats.layers]
    out["widths"] = np.array(widths, dtype=np.int64)
    out["activations"] = np.array([a for _, _, a in floats.layers])
    out[EXACT_KEY] = np.array(exact_json(network, floats.factors))
    return out, floats.max_weight_error


def save(
    network: ReLUNetwork,
    path: str | Path,
    dtype: str = "float64",
    *,
    certificate: str | None = None,
    floats: ExportLayers | None = None,
) -> ExportReport:
    """Write the float layers ``floats`` of ``network`` in the JAX layout as ``.npz`` (atomically, no pickle)."""
    floats = export_layers(network, dtype) if floats is None else floats
    data, _ = arrays(network, floats=floats)
    return save_arrays(network, path, "jax", floats, data, certificate)


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
    known = {"widths", "activations", EXACT_KEY, FLOAT_CERT_KEY}
    unknown = sorted(k for k in z if k not in known and not (_FLAX.match(k) or _EQX.match(k)))
    if unknown:
        raise FormatError(f"unexpected array {unknown[0]!r} in a JAX-layout file")
    flax = _tree(z, _FLAX, "kernel")
    eqx = _tree(z, _EQX, "weight")
    if eqx:
        floats = [(f"layers/{k}/weight", np.asarray(eqx[k]["weight"]), eqx[k].get("bias")) for k in range(len(eqx))]
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


def check_x64(dtype: str, x64: bool, path: str | Path = "the file") -> None:
    """Refuse to run float64 weights in JAX without ``jax_enable_x64`` (they would become float32).

    >>> check_x64("float32", False); check_x64("float64", True)
    >>> check_x64("float64", False, "net.npz")
    Traceback (most recent call last):
    ...
    symtrunc.errors.DataError: net.npz holds float64 weights but JAX runs in float32 (jax_enable_x64 is off) and would round them silently: call jax.config.update("jax_enable_x64", True) first, or export with --dtype float32
    """
    if dtype == "float64" and not x64:
        raise DataError(
            f"{path} holds float64 weights but JAX runs in float32 (jax_enable_x64 is off) and would "
            'round them silently: call jax.config.update("jax_enable_x64", True) first, or export '
            "with --dtype float32"
        )


def load_jax(path: str | Path) -> tuple[dict[str, Any], Any]:
    """A Flax-layout parameter tree of JAX arrays **in the file's dtype** and ``apply(params, x)``.

    ``apply`` converts ``x`` to the file's dtype (float64 inputs of a float32 file are rounded to
    nearest, the rounding a float certificate assumes) and runs ``x @ kernel + bias`` (+ ReLU)
    layer by layer, as ``flax.linen.Dense``. Needs ``jax``.

    Raises
    ------
    DataError
        A float64 file while ``jax_enable_x64`` is off (:func:`check_x64`).
    FormatError
        Not a JAX-layout file.
    """
    jax = require("jax", "jax", "loading a JAX file")
    jnp = require("jax.numpy", "jax", "loading a JAX file")
    p = Path(path)
    try:
        with np.load(p, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise FormatError(f"{p}: not a readable .npz file ({e})") from None
    flax = _tree(data, _FLAX, "kernel")
    if not flax:
        raise FormatError(f"{p}: no Flax-layout arrays params/Dense_k/kernel")
    kernels = [np.asarray(flax[k]["kernel"]) for k in range(len(flax))]
    dtype = "float64" if any(K.dtype == np.float64 for K in kernels) else "float32"
    check_x64(dtype, bool(jax.config.read("jax_enable_x64")), p)
    L = len(kernels)
    acts = (
        [str(v) for v in np.asarray(data["activations"]).reshape(-1).tolist()]
        if "activations" in data
        else ["relu"] * (L - 1) + ["identity"]
    )
    params = {
        "params": {
            f"Dense_{k}": {
                "kernel": jnp.asarray(kernels[k], dtype=dtype),
                "bias": jnp.asarray(
                    np.zeros(kernels[k].shape[1]) if "bias" not in flax[k] else flax[k]["bias"], dtype=dtype
                ),
            }
            for k in range(L)
        }
    }

    def apply(params: dict[str, Any], x: Any) -> Any:
        x = jnp.asarray(x, dtype=dtype)
        for k in range(L):
            q = params["params"][f"Dense_{k}"]
            x = x @ q["kernel"] + q["bias"]
            if acts[k] == "relu":
                x = jax.nn.relu(x)
        return x

    return params, apply
