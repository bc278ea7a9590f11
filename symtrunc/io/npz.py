"""NumPy ``.npz`` export and import: float arrays plus the exact rationals, no pickle.

Layout written by :func:`save` (layer ``k = 0 .. L-1``, torch ``(out, in)`` orientation)::

    W{k}                  float64/float32 (d_{k+1}, d_k)   correctly rounded weights
    b{k}                  float64/float32 (d_{k+1},)       correctly rounded biases
    W{k}_num, W{k}_den    exact numerators and (positive) denominators, same shape as W{k}
    b{k}_num, b{k}_den    the same for b{k}
    symtrunc.meta         0-d unicode string: JSON {"format": "symtrunc.npz", "version": 1,
                          "dtype", "activations", "classes", "construction"}
    symtrunc.float_certificate   0-d unicode string, when the export was given data: the
                          certificate of the float network (:mod:`symtrunc.lowering.float_certificate`)

The ``_num``/``_den`` arrays are ``int64`` when every entry fits, else unicode arrays of decimal
integer strings (``np.load`` reads both with ``allow_pickle=False``); read them with
``int(v)`` either way. Exact value of an entry: ``Fraction(int(num), int(den))``.

Import (:func:`load`) also reads plain float files: ``W0, b0, W1, b1, ...`` (``(out, in)``
weights; biases optional), state dicts saved with ``np.savez(**{"0.weight": ..., ...})`` and
the JAX layout of :mod:`symtrunc.io.jax`.

Examples
--------
>>> import os, tempfile
>>> from symtrunc.network import ReLUNetwork
>>> net = ReLUNetwork.from_rows([([["1/3"]], [1], "identity")])
>>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
>>> _ = save(net, path)
>>> z = np.load(path)
>>> z["W0"], z["W0_num"], z["W0_den"]
(array([[0.33333333]]), array([[1]]), array([[3]]))
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import flint
import numpy as np

from symtrunc.errors import FormatError
from symtrunc.io import jax as jax_layout
from symtrunc.io._common import (
    ExportReport,
    check_exact_matches,
    finish,
    first_line,
    imported_info,
    layers_from_state_dict,
    network_from_arrays,
    save_arrays,
    stored_dtype,
)
from symtrunc.io.json import network_to_dict
from symtrunc.lowering.float_network import ExportLayers, export_layers
from symtrunc.network import Layer, ReLUNetwork

__all__ = ["META_KEY", "exact_arrays", "save", "load", "read_arrays"]

META_KEY = "symtrunc.meta"
FORMAT_NPZ = "symtrunc.npz"
_INT64 = 2**63 - 1
_PLAIN = re.compile(r"^([Wwb])(\d+)$")


def exact_arrays(M: flint.fmpq_mat) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator arrays of an exact matrix (int64 if they fit, else strings).

    >>> num, den = exact_arrays(flint.fmpq_mat(1, 2, [flint.fmpq(-1, 3), 2]))
    >>> num, den
    (array([[-1,  2]]), array([[3, 1]]))
    >>> exact_arrays(flint.fmpq_mat(1, 1, [flint.fmpq(1, 2**70)]))[1]
    array([['1180591620717411303424']], dtype='<U22')
    """
    vals = M.entries()
    nums = [int(q.p) for q in vals]
    dens = [int(q.q) for q in vals]
    shape = (M.nrows(), M.ncols())
    if all(abs(v) <= _INT64 for v in nums + dens):
        return np.array(nums, dtype=np.int64).reshape(shape), np.array(dens, dtype=np.int64).reshape(shape)
    return (np.array([str(v) for v in nums]).reshape(shape), np.array([str(v) for v in dens]).reshape(shape))


def arrays(
    network: ReLUNetwork, dtype: str = "float64", *, floats: ExportLayers | None = None
) -> tuple[dict[str, np.ndarray], Any]:
    """The ``.npz`` arrays of ``network`` and the exact maximal rounding error (``floats``: the
    plain float roundings, default in ``dtype``; this layout holds one float array per exact layer,
    so factored layers do not fit it)."""
    floats = export_layers(network, dtype) if floats is None else floats
    if floats.factored:
        raise FormatError(
            "the npz layout stores one float array per exact layer; factored layers need "
            "onnx, safetensors, torch or jax"
        )
    dtype = floats.dtype.name
    out: dict[str, np.ndarray] = {}
    for k, ((W, b, _), layer) in enumerate(zip(floats.layers, network.layers)):
        out[f"W{k}"], out[f"b{k}"] = W.copy(), b.copy()
        out[f"W{k}_num"], out[f"W{k}_den"] = exact_arrays(layer.W)
        bn, bd = exact_arrays(layer.b)
        out[f"b{k}_num"], out[f"b{k}_den"] = bn.reshape(-1), bd.reshape(-1)
    d = network_to_dict(network)
    meta = {
        "format": FORMAT_NPZ,
        "version": 1,
        "dtype": dtype,
        "activations": [layer.activation for layer in network.layers],
        "classes": d["classes"],
        "construction": d["construction"],
    }
    out[META_KEY] = np.array(json.dumps(meta, ensure_ascii=False))
    return out, floats.max_weight_error


def save(
    network: ReLUNetwork,
    path: str | Path,
    dtype: str = "float64",
    *,
    certificate: str | None = None,
    floats: ExportLayers | None = None,
) -> ExportReport:
    """Write ``network`` with its float layers ``floats`` as ``.npz`` (atomically, no pickle)."""
    floats = export_layers(network, dtype) if floats is None else floats
    data, _ = arrays(network, floats=floats)
    return save_arrays(network, path, "npz", floats, data, certificate)


# ---------------------------------------------------------------------------- import
def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` file, without pickle; corrupt files raise :class:`FormatError`."""
    data = path.read_bytes()
    if not data.startswith(b"PK"):
        raise FormatError("not a valid .npz file (not a zip archive; corrupt or truncated?)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError as e:
        if "allow_pickle" in str(e):
            raise FormatError(
                "the .npz holds object arrays, which need pickle; symtrunc reads numeric and string arrays only"
            ) from None
        raise FormatError(f"not a valid .npz file ({first_line(e)})") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise FormatError(f"not a valid .npz file (corrupt or truncated: {first_line(e)})") from None


def _exact_matrix(num: np.ndarray, den: np.ndarray, shape: tuple[int, ...], name: str) -> flint.fmpq_mat:
    if num.shape != den.shape or num.shape != shape:
        raise FormatError(f"{name}_num/{name}_den have shapes {num.shape}/{den.shape}, expected {shape}")
    try:
        nums = [int(v) for v in num.ravel().tolist()]
        dens = [int(v) for v in den.ravel().tolist()]
    except (TypeError, ValueError):
        raise FormatError(f"{name}_num/{name}_den must hold integers") from None
    if any(d <= 0 for d in dens):
        raise FormatError(f"{name}_den has a zero or negative denominator")
    rows = shape[0]
    cols = shape[1] if len(shape) == 2 else 1
    return flint.fmpq_mat(rows, cols, [flint.fmpq(n, d) for n, d in zip(nums, dens)])


def _load_ours(z: dict[str, np.ndarray], exact: bool | None, path: Path) -> ReLUNetwork:
    try:
        meta = json.loads(str(z[META_KEY][()]))
    except (ValueError, TypeError, IndexError, RecursionError):  # RecursionError: nested too deeply
        raise FormatError(f"the {META_KEY!r} entry is not valid JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NPZ:
        raise FormatError(f"the {META_KEY!r} entry does not describe a {FORMAT_NPZ} file")
    if meta.get("version") != 1:
        raise FormatError(f"unsupported {FORMAT_NPZ} version {meta.get('version')!r}; upgrade symtrunc")
    acts = meta.get("activations")
    if not isinstance(acts, list) or not acts:
        raise FormatError("the metadata lists no activations")
    floats = []
    for k, act in enumerate(acts):
        for key in (f"W{k}", f"b{k}"):
            if key not in z:
                raise FormatError(f"array {key!r} is missing")
        floats.append((f"W{k}", z[f"W{k}"], z[f"b{k}"], act))
    if exact is False:
        dtype = stored_dtype([W for _, W, _, _ in floats])
        return network_from_arrays(floats, construction=imported_info(path, "npz", dtype))
    layers = []
    for k, (_, W, b, act) in enumerate(floats):
        for key in (f"W{k}_num", f"W{k}_den", f"b{k}_num", f"b{k}_den"):
            if key not in z:
                raise FormatError(f"array {key!r} is missing")
        Wq = _exact_matrix(z[f"W{k}_num"], z[f"W{k}_den"], W.shape, f"W{k}")
        bq = _exact_matrix(z[f"b{k}_num"], z[f"b{k}_den"], b.shape, f"b{k}")
        layers.append(Layer(Wq, bq, act))
    classes = meta.get("classes") or []
    construction = meta.get("construction") or {}
    if not isinstance(classes, list) or not isinstance(construction, dict):
        raise FormatError("the metadata 'classes' must be a list and 'construction' an object")
    net = ReLUNetwork(tuple(layers), tuple(classes), construction)
    if net.classes and len(net.classes) != net.output_dim:
        raise FormatError(f"{len(net.classes)} classes listed for {net.output_dim} outputs")
    check_exact_matches(net, [(W, b) for _, W, b, _ in floats], stored_dtype([W for _, W, _, _ in floats]))
    return net


def _plain_layers(z: dict[str, np.ndarray]) -> list[tuple[str, Any, Any, str]]:
    Ws: dict[int, str] = {}
    bs: dict[int, str] = {}
    for key in z:
        m = _PLAIN.match(key)
        if not m:
            raise FormatError(f"unexpected array {key!r} next to plain weights W0, b0, ...")
        (bs if m.group(1) == "b" else Ws)[int(m.group(2))] = key
    L = len(Ws)
    if sorted(Ws) != list(range(L)):
        raise FormatError(f"weights must be numbered W0..W{L - 1} without gaps, found {sorted(Ws.values())}")
    extra = sorted(set(bs) - set(Ws))
    if extra:
        raise FormatError(f"bias 'b{extra[0]}' has no weight 'W{extra[0]}'")
    return [(Ws[k], z[Ws[k]], z[bs[k]] if k in bs else None, "relu" if k < L - 1 else "identity") for k in range(L)]


def load(path: str | Path, exact: bool | None = None) -> ReLUNetwork:
    """Read an ``.npz`` network (ours, JAX layout, plain ``W0, b0, ...`` or a state dict)."""
    p = Path(path)
    z = read_arrays(p)
    if not z:
        raise FormatError("the .npz file holds no arrays")
    if META_KEY in z:
        return _load_ours(z, exact, p)
    if jax_layout.is_jax_layout(z):
        return jax_layout.load_arrays(z, exact=exact, path=p)
    if any(_PLAIN.match(k) for k in z):
        layers = _plain_layers(z)
    elif all(k.endswith((".weight", ".bias")) for k in z):
        layers = layers_from_state_dict(z)
    else:
        raise FormatError(
            "no recognizable weights: expected arrays W0, b0, W1, ... (out, in), state-dict keys "
            f"'N.weight'/'N.bias' or the JAX layout 'params/Dense_k/kernel'; found {', '.join(sorted(z)[:6])}"
        )
    return finish(None, layers, exact=exact, path=p, fmt="npz")
