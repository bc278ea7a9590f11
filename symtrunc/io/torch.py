"""PyTorch export and import (needs ``torch``: ``pip install symtrunc[torch]``, CPU build is enough).

:func:`save` writes the ``state_dict`` of ``nn.Sequential(Linear, ReLU, ..., Linear)`` with
:func:`torch.save` (keys ``0.weight``, ``0.bias``, ``2.weight``, ...). The exact network JSON
rides along in the state dict's ``_metadata[""]["symtrunc.network"]`` (the place where
``nn.Module.state_dict`` keeps per-module versions), so ``model.load_state_dict`` accepts the
file unchanged and :func:`symtrunc.io.trained.import_network` recovers the exact network.
:func:`to_torch` returns a ready ``nn.Sequential``.

Loading without symtrunc::

    import torch
    sd = torch.load("net.pt", weights_only=True)
    model = torch.nn.Sequential(torch.nn.Linear(13, 13), torch.nn.ReLU(), ..., torch.nn.Linear(13, 3)).double()
    model.load_state_dict(sd)

Import reads state dicts of Linear layers (also checkpoints ``{"state_dict": ...}`` or
``{"model_state_dict": ...}``) with ``torch.load(weights_only=True)``: no arbitrary pickles.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

from symtrunc.errors import FormatError
from symtrunc.io.export import ExportReport, atomic_write, float_layers, missing_package, sequential_keys
from symtrunc.io.trained import EXACT_KEY, finish, first_line, json_dumps_compact, layers_from_state_dict
from symtrunc.network import ReLUNetwork

__all__ = ["to_torch", "state_dict", "save", "load"]


def _torch():
    try:
        import torch
    except ImportError:
        raise missing_package("torch", "PyTorch export and import") from None
    return torch


def state_dict(network: ReLUNetwork, dtype: str = "float64", *, exact: bool = True):
    """The ``nn.Sequential`` state dict (an ``OrderedDict`` of tensors) and the exact maximal rounding error."""
    torch = _torch()
    from collections import OrderedDict

    from symtrunc.io.json import network_to_dict

    arrays, err = float_layers(network, dtype)
    sd: Any = OrderedDict()
    for (W, b), (wk, bk) in zip(arrays, sequential_keys(network.depth, [layer.activation for layer in network.layers])):
        sd[wk] = torch.from_numpy(W.copy())
        sd[bk] = torch.from_numpy(b.copy())
    meta: dict[str, dict[str, Any]] = OrderedDict()
    meta[""] = {"version": 1, "symtrunc.dtype": dtype,
                "symtrunc.activations": ",".join(layer.activation for layer in network.layers)}
    if exact:
        meta[""][EXACT_KEY] = json_dumps_compact(network_to_dict(network))
    n_modules = sum(2 if layer.activation == "relu" else 1 for layer in network.layers)
    for k in range(n_modules):
        meta[str(k)] = {"version": 1}
    sd._metadata = meta
    return sd, err


def to_torch(network: ReLUNetwork, dtype: str = "float64") -> Any:
    """A ready ``torch.nn.Sequential(Linear, ReLU, ..., Linear)`` with the rounded weights.

    The last layer gets a ReLU too if its activation is ``"relu"``.
    """
    torch = _torch()
    sd, _ = state_dict(network, dtype, exact=False)
    mods: list[Any] = []
    for layer in network.layers:
        out, inp = layer.shape
        mods.append(torch.nn.Linear(inp, out, dtype=getattr(torch, dtype)))
        if layer.activation == "relu":
            mods.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*mods)
    model.load_state_dict(sd)  # the keys follow the module indices (sequential_keys)
    return model.eval()


def save(network: ReLUNetwork, path: str | Path, dtype: str = "float64") -> ExportReport:
    """Write the state dict with :func:`torch.save` (atomically)."""
    torch = _torch()
    sd, err = state_dict(network, dtype)
    buf = io.BytesIO()
    torch.save(sd, buf)
    path = atomic_write(path, buf.getvalue())
    return ExportReport("torch", Path(path), dtype, err, True, network.parameter_count().total)


def load(path: str | Path, exact: bool | None = None) -> ReLUNetwork:
    """Read a state dict of Linear layers (``torch.load(weights_only=True)``) as an exact network."""
    torch = _torch()
    p = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's own deprecation chatter must not become an error
            obj = torch.load(io.BytesIO(p.read_bytes()), map_location="cpu", weights_only=True)
    except Exception as e:  # RuntimeError (bad zip), UnpicklingError (not a plain state dict), EOFError
        if "weights only" in str(e).lower():
            raise FormatError("not a plain state dict of tensors: torch.load(weights_only=True) refused it "
                              "(the file is corrupt, or it pickles whole modules or other objects)") from None
        raise FormatError(f"not a readable PyTorch state dict ({first_line(e)})") from None
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict):
        raise FormatError(f"expected a state dict (a dict of tensors), found {type(obj).__name__}")
    tensors = {}
    for k, v in obj.items():
        if not isinstance(v, torch.Tensor):
            raise FormatError(f"entry {k!r} is a {type(v).__name__}, not a tensor")
        if v.dtype not in (torch.float64, torch.float32, torch.float16):
            if v.dtype == torch.bfloat16:
                v = v.to(torch.float32)  # exact: every bfloat16 is a float32
            else:
                raise FormatError(f"tensor {k!r} has dtype {v.dtype}, expected floats")
        tensors[k] = v.detach().cpu().numpy()
    layers = layers_from_state_dict(tensors)
    meta = (getattr(obj, "_metadata", None) or {}).get("", {}) if hasattr(obj, "_metadata") else {}
    acts = meta.get("symtrunc.activations") if isinstance(meta, dict) else None
    if isinstance(acts, str):
        acts_list = acts.split(",")
        if len(acts_list) == len(layers) and all(a in ("relu", "identity") for a in acts_list):
            layers = [(n, W, b, a) for (n, W, b, _), a in zip(layers, acts_list)]
    exact_text = meta.get(EXACT_KEY) if isinstance(meta, dict) else None
    return finish(exact_text if isinstance(exact_text, str) else None, layers, exact=exact, path=p, fmt="torch")
