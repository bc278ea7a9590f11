"""PyTorch export and import (needs ``torch``: ``pip install "symtrunc[torch]"``, CPU build is enough).

:func:`save` writes the ``state_dict`` of ``nn.Sequential(Linear, ReLU, ..., Linear)`` with
:func:`torch.save` (keys ``0.weight``, ``0.bias``, ``2.weight``, ...). The exact network JSON
rides along in the state dict's ``_metadata[""]["symtrunc.network"]`` (the place where
``nn.Module.state_dict`` keeps per-module versions), so ``model.load_state_dict`` accepts the
file unchanged and :func:`symtrunc.io.trained.import_network` recovers the exact network.

Modules in the file's dtype
---------------------------
:func:`load_sequential` reads a ``.pt`` or ``.safetensors`` file into a ready
``nn.Sequential`` **in the dtype the file stores** (a float64 file gives float64 modules), with
the layer layout recorded in the file (plain, or factored layers, see
:class:`~symtrunc.lowering.float_network.ExportLayers`). :func:`to_torch` builds one from an exact
network. Both models accept inputs of any real dtype: an input is converted to the model's dtype
first (``x.to(model dtype)``): float32 inputs of a float64 model are exact, float64 inputs of a
float32 model are rounded to nearest, which is the rounding a float certificate assumes
(:mod:`symtrunc.lowering.float_certificate`). The output has the model's dtype.

Loading by hand, without symtrunc: build the modules **in the file's dtype before loading**
(``load_state_dict`` copies into the existing parameters, so a float32 model silently rounds
float64 weights)::

    import torch
    sd = torch.load("net.pt", weights_only=True)                  # float64 file
    model = torch.nn.Sequential(torch.nn.Linear(13, 13, dtype=torch.float64), torch.nn.ReLU(), ...,
                                torch.nn.Linear(13, 3, dtype=torch.float64))
    model.load_state_dict(sd)
    y = model(x.double())

Import reads state dicts of Linear layers (also checkpoints ``{"state_dict": ...}`` or
``{"model_state_dict": ...}``) with ``torch.load(weights_only=True)``: no arbitrary pickles.
"""

from __future__ import annotations

import functools
import io
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from symtrunc.errors import FormatError, require
from symtrunc.io import safetensors as safetensors_format
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

__all__ = ["to_torch", "load_sequential", "state_dict", "save", "load"]


def _torch() -> Any:
    return require("torch", "torch", "PyTorch export and import")


def state_dict(
    network: ReLUNetwork,
    dtype: str = "float64",
    *,
    exact: bool = True,
    certificate: str | None = None,
    floats: ExportLayers | None = None,
):
    """The ``nn.Sequential`` state dict (an ``OrderedDict`` of tensors) and the exact maximal
    rounding error (``floats``: the float layers, default the plain roundings in ``dtype``)."""
    torch = _torch()
    floats = export_layers(network, dtype) if floats is None else floats
    acts = [a for _, _, a in floats.layers]
    sd: Any = OrderedDict()
    for (W, b, _), (wk, bk) in zip(floats.layers, layer_keys(floats)):
        sd[wk] = torch.from_numpy(W.copy())
        sd[bk] = torch.from_numpy(b.copy())
    meta: dict[str, dict[str, Any]] = OrderedDict()
    meta[""] = {"version": 1, "symtrunc.dtype": floats.dtype.name, "symtrunc.activations": ",".join(acts)}
    if exact:
        meta[""][EXACT_KEY] = exact_json(network, floats.factors)
    if certificate is not None:
        meta[""][FLOAT_CERT_KEY] = certificate
    n_modules = sum(2 if a == "relu" else 1 for a in acts)
    for k in range(n_modules):
        meta[str(k)] = {"version": 1}
    sd._metadata = meta
    return sd, floats.max_weight_error


def _cast_input(dtype: Any, module: Any, args: tuple) -> tuple:
    """Forward pre-hook: the input converted to the model's dtype (see the module docstring)."""
    return (args[0].to(dtype),) + tuple(args[1:])


def _sequential(layers: Sequence[tuple[Any, Any, str]], dtype: str) -> Any:
    """``nn.Sequential`` of ``Linear`` (+ ``ReLU``) modules holding ``[(W (out, in), b, activation)]``
    in ``dtype``, in eval mode, converting its input to ``dtype``."""
    torch = _torch()
    tdt = getattr(torch, dtype)
    mods: list[Any] = []
    with torch.no_grad():
        for W, b, act in layers:
            W = np.asarray(W)
            lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=tdt)
            lin.weight.copy_(torch.from_numpy(np.array(W, dtype=dtype)))
            lin.bias.copy_(
                torch.from_numpy(
                    np.zeros(W.shape[0], dtype=dtype) if b is None else np.array(b, dtype=dtype).reshape(-1)
                )
            )
            mods.append(lin)
            if act == "relu":
                mods.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*mods)
    model.register_forward_pre_hook(functools.partial(_cast_input, tdt))
    return model.eval()


def to_torch(network: ReLUNetwork, dtype: str = "float64", *, factored: bool = False) -> Any:
    """A ready ``torch.nn.Sequential(Linear, ReLU, ..., Linear)`` with the rounded weights.

    The modules hold ``dtype``; inputs of any real dtype are converted to it (module docstring).
    The last layer gets a ReLU too if its activation is ``"relu"``. ``factored=True`` writes
    each hidden layer ``α I + U Vᵀ`` as two ``Linear`` modules
    (:class:`~symtrunc.lowering.float_network.ExportLayers`), the float32-robust layout.
    """
    floats = export_layers(network, dtype, factored=factored)
    return _sequential(floats.layers, floats.dtype.name)


def load_sequential(path: str | Path) -> Any:
    """Read a ``.pt`` or ``.safetensors`` file of Linear layers into an ``nn.Sequential`` in the
    file's dtype (float64 files give float64 modules; inputs are converted, see the module docstring).

    The activations recorded by symtrunc are used (factored files have ``Linear`` modules
    without ``ReLU`` in between); other files get a ``ReLU`` after every layer but the last.

    Raises
    ------
    FormatError
        Another suffix, or a file that is not a state dict of Linear layers.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".safetensors":
        layers = safetensors_format.read_layers(p)
    elif suffix in (".pt", ".pth", ".bin"):
        layers, _ = _read_layers(p)
    else:
        raise FormatError(f"{p}: load_sequential reads .pt/.pth and .safetensors files, not {suffix or 'this file'}")
    kinds = {np.asarray(W).dtype for _, W, _, _ in layers}
    dtype = "float64" if np.dtype(np.float64) in kinds else "float32"
    return _sequential([(W, b, a) for _, W, b, a in layers], dtype)


def save(
    network: ReLUNetwork,
    path: str | Path,
    dtype: str = "float64",
    *,
    certificate: str | None = None,
    floats: ExportLayers | None = None,
) -> ExportReport:
    """Write the float layers ``floats`` of ``network`` as a state dict with :func:`torch.save` (atomically)."""
    floats = export_layers(network, dtype) if floats is None else floats
    torch = _torch()
    sd, _ = state_dict(network, certificate=certificate, floats=floats)
    buf = io.BytesIO()
    torch.save(sd, buf)
    return report(network, atomic_write(path, buf.getvalue()), "torch", floats)


def _read_layers(p: Path) -> tuple[list[tuple[str, Any, Any, str]], str | None]:
    """The Linear layers of a ``.pt`` file (activations as recorded) and its exact JSON, if any."""
    torch = _torch()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's own deprecation chatter must not become an error
            obj = torch.load(io.BytesIO(p.read_bytes()), map_location="cpu", weights_only=True)
    except Exception as e:  # RuntimeError (bad zip), UnpicklingError (not a plain state dict), EOFError
        if "weights only" in str(e).lower():
            raise FormatError(
                "not a plain state dict of tensors: torch.load(weights_only=True) refused it "
                "(the file is corrupt, or it pickles whole modules or other objects)"
            ) from None
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
    return layers, exact_text if isinstance(exact_text, str) else None


def load(path: str | Path, exact: bool | None = None) -> ReLUNetwork:
    """Read a state dict of Linear layers (``torch.load(weights_only=True)``) as an exact network."""
    p = Path(path)
    layers, exact_text = _read_layers(p)
    return finish(exact_text, layers, exact=exact, path=p, fmt="torch")
