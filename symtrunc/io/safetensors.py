"""safetensors export and import (needs the ``safetensors`` package: ``pip install "symtrunc[safetensors]"``).

The tensors are the state dict of ``nn.Sequential(Linear, ReLU, Linear, ..., Linear)``:
``0.weight`` ``(d_1, d_0)``, ``0.bias`` ``(d_1,)``, ``2.weight``, ``2.bias``, ... (the ReLUs take
the odd indices). The metadata (strings only) holds ``"format": "pt"`` (what transformers-style
loaders expect), ``"symtrunc.dtype"`` and the exact network JSON under ``"symtrunc.network"``,
so :func:`symtrunc.io.trained.import_network` recovers the exact network from the file alone.

Loading into PyTorch (no symtrunc needed)::

    import torch
    from safetensors.torch import load_file
    model = torch.nn.Sequential(torch.nn.Linear(13, 13), torch.nn.ReLU(), ..., torch.nn.Linear(13, 3))
    model.load_state_dict(load_file("net.safetensors"))
    model.double()      # for a float64 file

Import also reads safetensors files written by other tools, as long as every tensor is a
``N.weight``/``N.bias`` pair of a Linear layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from symtrunc.errors import FormatError, require
from symtrunc.io._common import (
    EXACT_KEY,
    FLOAT_CERT_KEY,
    ExportReport,
    atomic_write,
    exact_json,
    finish,
    first_line,
    layer_keys,
    layers_from_state_dict,
    report,
)
from symtrunc.lowering.float_network import ExportLayers, export_layers
from symtrunc.network import ReLUNetwork

__all__ = ["to_bytes", "save", "load", "read_layers"]


_FEATURE = "safetensors export and import"


def _numpy_api() -> Any:
    return require("safetensors.numpy", "safetensors", _FEATURE)


def to_bytes(
    network: ReLUNetwork,
    dtype: str = "float64",
    *,
    exact: bool = True,
    certificate: str | None = None,
    floats: ExportLayers | None = None,
):
    """The safetensors file contents and the exact maximal rounding error (``floats``: the float
    layers, default the plain roundings in ``dtype``)."""
    st = _numpy_api()
    floats = export_layers(network, dtype) if floats is None else floats
    tensors = {}
    for (W, b, _), (wk, bk) in zip(floats.layers, layer_keys(floats)):
        tensors[wk], tensors[bk] = np.ascontiguousarray(W), np.ascontiguousarray(b)
    metadata = {
        "format": "pt",
        "symtrunc.dtype": floats.dtype.name,
        "symtrunc.activations": ",".join(a for _, _, a in floats.layers),
    }
    if exact:
        metadata[EXACT_KEY] = exact_json(network, floats.factors)
    if certificate is not None:
        metadata[FLOAT_CERT_KEY] = certificate
    return st.save(tensors, metadata=metadata), floats.max_weight_error


def save(
    network: ReLUNetwork,
    path: str | Path,
    dtype: str = "float64",
    *,
    certificate: str | None = None,
    floats: ExportLayers | None = None,
) -> ExportReport:
    """Write the float layers ``floats`` of ``network`` as a safetensors file (atomically)."""
    floats = export_layers(network, dtype) if floats is None else floats
    data, _ = to_bytes(network, certificate=certificate, floats=floats)
    return report(network, atomic_write(path, data), "safetensors", floats)


def _read(p: Path) -> tuple[list[tuple[str, Any, Any, str]], dict[str, str]]:
    """The Linear layers of a safetensors file (activations as recorded) and its metadata."""
    safetensors = require("safetensors", "safetensors", _FEATURE)
    try:
        with safetensors.safe_open(str(p), framework="np") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # SafetensorError, TypeError for unsupported dtypes (e.g. bfloat16)
        raise FormatError(f"not a valid safetensors file ({first_line(e)})") from None
    layers = layers_from_state_dict(tensors)
    acts = metadata.get("symtrunc.activations")
    if acts:
        acts_list = acts.split(",")
        if len(acts_list) == len(layers) and all(a in ("relu", "identity") for a in acts_list):
            layers = [(n, W, b, a) for (n, W, b, _), a in zip(layers, acts_list)]
    return layers, metadata


def read_layers(path: str | Path) -> list[tuple[str, Any, Any, str]]:
    """The Linear layers ``[(name, W (out, in), b, activation)]`` of a safetensors file, as stored."""
    return _read(Path(path))[0]


def load(path: str | Path, exact: bool | None = None) -> ReLUNetwork:
    """Read a safetensors state dict of Linear layers as an exact network."""
    p = Path(path)
    layers, metadata = _read(p)
    return finish(metadata.get(EXACT_KEY), layers, exact=exact, path=p, fmt="safetensors")
