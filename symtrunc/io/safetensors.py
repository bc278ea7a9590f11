"""safetensors export and import (needs the ``safetensors`` package: ``pip install symtrunc[safetensors]``).

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

from symtrunc.errors import FormatError
from symtrunc.io.export import ExportReport, atomic_write, float_layers, missing_package, sequential_keys
from symtrunc.io.trained import EXACT_KEY, finish, first_line, json_dumps_compact, layers_from_state_dict
from symtrunc.network import ReLUNetwork

__all__ = ["to_bytes", "save", "load"]


def _numpy_api():
    try:
        import safetensors.numpy as st
    except ImportError:
        raise missing_package("safetensors", "safetensors export and import") from None
    return st


def to_bytes(network: ReLUNetwork, dtype: str = "float64", *, exact: bool = True):
    """The safetensors file contents and the exact maximal rounding error."""
    st = _numpy_api()
    from symtrunc.io.json import network_to_dict

    arrays, err = float_layers(network, dtype)
    tensors = {}
    for (W, b), (wk, bk) in zip(arrays, sequential_keys(network.depth, [layer.activation for layer in network.layers])):
        tensors[wk], tensors[bk] = W, b
    metadata = {"format": "pt", "symtrunc.dtype": dtype,
                "symtrunc.activations": ",".join(layer.activation for layer in network.layers)}
    if exact:
        metadata[EXACT_KEY] = json_dumps_compact(network_to_dict(network))
    return st.save(tensors, metadata=metadata), err


def save(network: ReLUNetwork, path: str | Path, dtype: str = "float64") -> ExportReport:
    """Write ``network`` as a safetensors file (atomically)."""
    data, err = to_bytes(network, dtype)
    path = atomic_write(path, data)
    return ExportReport("safetensors", Path(path), dtype, err, True, network.parameter_count().total)


def load(path: str | Path, exact: bool | None = None) -> ReLUNetwork:
    """Read a safetensors state dict of Linear layers as an exact network."""
    _numpy_api()
    import safetensors

    p = Path(path)
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
    return finish(metadata.get(EXACT_KEY), layers, exact=exact, path=p, fmt="safetensors")
