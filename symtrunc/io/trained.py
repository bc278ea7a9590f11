"""Import fully connected ReLU networks from ONNX, safetensors, PyTorch, npz or JSON files.

:func:`import_network` reads any fully connected ReLU network (not only symtrunc's) and returns
an exact :class:`~symtrunc.network.ReLUNetwork`:

- float weights are **rationalized exactly**: each float is the binary fraction it stores
  (``0.1`` becomes ``3602879701896397/36028797018963968``), so the imported network computes
  exactly what the float network computes in exact arithmetic;
- files written by :func:`symtrunc.io.export.export` carry the exact rationals as well
  (ONNX/safetensors metadata, the ``_metadata`` of a torch state dict, numerator/denominator
  arrays in npz); the exact network is recovered from the file alone, after checking that the
  file's float weights are the correct roundings of the exact ones.

A state dict (safetensors, ``.pt``, npz) holds no activations: every ``Linear`` layer but the
last is taken to be followed by ReLU, as in ``nn.Sequential(Linear, ReLU, ..., Linear)``.

Every problem (missing file, corrupt or truncated file, wrong shapes, NaN weights, an operator
that is not ``Gemm``/``MatMul``/``Add``/``Relu``) raises a one-line
:class:`~symtrunc.errors.FormatError` naming the file.

Examples
--------
>>> import os, tempfile
>>> import numpy as np
>>> p = os.path.join(tempfile.mkdtemp(), "trained.npz")
>>> np.savez(p, W0=np.array([[0.5, -1.0], [0.1, 2.0]]), b0=np.array([0.0, 0.25]),
...          W1=np.array([[1.0, 1.0]]), b1=np.array([-0.5]))
>>> net = import_network(p)
>>> net.widths, net.layers[0].W[1, 0]
((2, 2, 1), 3602879701896397/36028797018963968)
>>> import_network(os.path.join(os.path.dirname(p), "missing.onnx"))
Traceback (most recent call last):
...
symtrunc.errors.FormatError: no such file: ...missing.onnx
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import flint
import numpy as np

from symtrunc.errors import DataError, FormatError
from symtrunc.io.export import float_layers
from symtrunc.network import Layer, ReLUNetwork

__all__ = [
    "IMPORT_FORMATS",
    "import_network",
    "detect_format",
    "rationalize",
    "network_from_arrays",
    "layers_from_state_dict",
    "exact_from_json",
    "check_exact_matches",
]

IMPORT_FORMATS = ("onnx", "safetensors", "torch", "npz", "json")
EXACT_KEY = "symtrunc.network"   # metadata key holding the exact network JSON
_NUM = re.compile(r"(\d+)")


# ------------------------------------------------------------------------- exact conversion
def rationalize(array: Any, name: str) -> flint.fmpq_mat:
    """The exact rational matrix of a float/int array (floats read as their binary fractions).

    A 1-D array becomes a column. NaN or infinite entries raise :class:`FormatError`.

    >>> rationalize(np.array([0.5, -3.0]), "b").transpose()
    [1/2, -3]
    >>> rationalize(np.array([[1.0, np.nan]]), "0.weight")
    Traceback (most recent call last):
    ...
    symtrunc.errors.FormatError: tensor '0.weight' has a NaN or infinite entry at index (0, 1)
    """
    a = np.asarray(array)
    if a.dtype.kind not in "fiub":
        raise FormatError(f"tensor {name!r} has dtype {a.dtype}, expected floats or integers")
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise FormatError(f"tensor {name!r} has shape {tuple(np.shape(array))}, expected a matrix or vector")
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            if np.ndim(array) == 1:
                idx = idx[:1]
            raise FormatError(f"tensor {name!r} has a NaN or infinite entry at index {idx if len(idx) > 1 else idx[0]}")
        vals = [flint.fmpq(*v.as_integer_ratio()) for v in a.astype(np.float64).ravel().tolist()]
    else:
        vals = [flint.fmpq(int(v)) for v in a.ravel().tolist()]
    return flint.fmpq_mat(a.shape[0], a.shape[1], vals)


def network_from_arrays(
    layers: Sequence[tuple[str, Any, Any, str]],
    *,
    construction: Mapping[str, Any] | None = None,
    classes: Sequence[Any] = (),
) -> ReLUNetwork:
    """An exact network from float layers ``[(name, W (out, in), b (out,) or None, activation)]``.

    >>> net = network_from_arrays([("fc", np.eye(2), None, "relu"), ("out", np.ones((1, 2)), [0.5], "identity")])
    >>> net.widths, net.layers[1].b[0, 0]
    ((2, 2, 1), 1/2)
    >>> network_from_arrays([("a", np.eye(2), None, "relu"), ("b", np.ones((1, 3)), None, "identity")])
    Traceback (most recent call last):
    ...
    symtrunc.errors.FormatError: wrong shapes: layer 2 ('b') takes 3 inputs but layer 1 ('a') has 2 outputs
    """
    if not layers:
        raise FormatError("no layers found")
    out = []
    prev = None
    for k, (name, W, b, act) in enumerate(layers, 1):
        if isinstance(W, flint.fmpq_mat):  # already exact (e.g. composed ONNX nodes)
            if prev is not None and W.ncols() != prev[1]:
                raise FormatError(f"wrong shapes: layer {k} ({name!r}) takes {W.ncols()} inputs but layer "
                                  f"{k - 1} ({prev[0]!r}) has {prev[1]} outputs")
            out.append(Layer(W, b if b is not None else flint.fmpq_mat(W.nrows(), 1), act))
            prev = (name, W.nrows())
            continue
        Wa = np.asarray(W)
        if Wa.ndim != 2:
            raise FormatError(f"wrong shapes: weight {name!r} has shape {Wa.shape}, expected (out, in)")
        if prev is not None and Wa.shape[1] != prev[1]:
            raise FormatError(f"wrong shapes: layer {k} ({name!r}) takes {Wa.shape[1]} inputs but layer "
                              f"{k - 1} ({prev[0]!r}) has {prev[1]} outputs")
        Wq = rationalize(Wa, name)
        if b is None:
            bq = flint.fmpq_mat(Wa.shape[0], 1)
        else:
            ba = np.asarray(b)
            if ba.ndim == 2 and 1 in ba.shape:
                ba = ba.reshape(-1)
            if ba.ndim != 1 or ba.shape[0] != Wa.shape[0]:
                raise FormatError(f"wrong shapes: bias of layer {k} ({name!r}) has shape {ba.shape}, "
                                  f"expected ({Wa.shape[0]},)")
            bq = rationalize(ba, bias_name(name))
        out.append(Layer(Wq, bq, act))
        prev = (name, Wa.shape[0])
    return ReLUNetwork(tuple(out), tuple(classes), dict(construction or {}))


def bias_name(weight_name: str) -> str:
    """The conventional name of the bias that goes with a weight tensor.

    >>> bias_name("0.weight"), bias_name("W3"), bias_name("params/Dense_1/kernel"), bias_name("K")
    ('0.bias', 'b3', 'params/Dense_1/bias', 'K (bias)')
    """
    if weight_name == "weight":
        return "bias"
    for suffix in (".weight", "/weight", "/kernel"):
        if weight_name.endswith(suffix):
            return weight_name[: -len(suffix)] + suffix[0] + "bias"
    m = re.fullmatch(r"[Ww](\d+)", weight_name)
    if m:
        return f"b{m.group(1)}"
    return f"{weight_name} (bias)"


def _natural(key: str) -> list:
    return [int(t) if t.isdigit() else t for t in _NUM.split(key)]


def layers_from_state_dict(tensors: Mapping[str, Any]) -> list[tuple[str, Any, Any, str]]:
    """Linear layers of a state dict (``N.weight``/``N.bias`` keys) in natural key order.

    Every layer but the last gets ReLU (a state dict holds no activations). Checkpoints that
    wrap the state dict (``{"state_dict": {...}}``) must be unwrapped by the caller.

    >>> sd = {"0.weight": np.eye(2), "0.bias": np.zeros(2), "2.weight": np.ones((1, 2))}
    >>> [(name, act) for name, W, b, act in layers_from_state_dict(sd)]
    [('0.weight', 'relu'), ('2.weight', 'identity')]
    >>> layers_from_state_dict({"0.weight": np.eye(2), "1.mean": np.zeros(2)})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symtrunc.errors.FormatError: unsupported tensor '1.mean': only Linear layers ... can be imported
    """
    groups: dict[str, dict[str, Any]] = {}
    for key, value in tensors.items():
        prefix, dot, kind = key.rpartition(".")
        if kind not in ("weight", "bias") or (not dot and prefix):
            raise FormatError(f"unsupported tensor {key!r}: only Linear layers ('N.weight', 'N.bias') "
                              "followed by ReLU can be imported")
        groups.setdefault(prefix, {})[kind] = value
    if not groups:
        raise FormatError("no tensors found")
    names = sorted(groups, key=_natural)
    layers = []
    for k, name in enumerate(names):
        g = groups[name]
        if "weight" not in g:
            raise FormatError(f"bias {name + '.bias'!r} has no matching weight {name + '.weight'!r}")
        W = np.asarray(g["weight"])
        if W.ndim != 2:
            raise FormatError(f"wrong shapes: {name + '.weight'!r} has shape {W.shape}; only Linear "
                              "layers (2-D weights) can be imported")
        wname = f"{name}.weight" if name else "weight"  # a single nn.Linear has keys weight, bias
        layers.append((wname, W, g.get("bias"), "relu" if k < len(names) - 1 else "identity"))
    return layers


# ------------------------------------------------------------------------- exact metadata
def exact_from_json(text: str) -> ReLUNetwork:
    """The exact network stored as JSON text in a file's metadata."""
    from symtrunc.io.json import loads_network

    try:
        return loads_network(text)
    except FormatError as e:
        raise FormatError(f"the exact metadata {EXACT_KEY!r} is damaged ({e})") from None


def check_exact_matches(exact: ReLUNetwork, arrays: Sequence[tuple[Any, Any]], dtype: str) -> None:
    """Check that float ``(W, b)`` arrays are the correct roundings of ``exact``'s weights.

    Raises
    ------
    FormatError
        If the file's float weights were changed after export (then its exact copy is stale).
    """
    hint = ("its float weights differ from the exact rationals stored with them (changed after "
            "export?); import with exact=False (CLI: --floats) to use the float weights")
    if len(arrays) != exact.depth:
        raise FormatError(f"{hint} ({len(arrays)} float layers, {exact.depth} exact)")
    rounded, _ = float_layers(exact, dtype)
    for k, ((W, b), (Wr, br)) in enumerate(zip(arrays, rounded), 1):
        if not isinstance(W, np.ndarray):
            raise FormatError(f"layer {k}: {hint}")
        W = np.asarray(W)
        b = np.zeros(W.shape[0]) if b is None else np.asarray(b).reshape(-1)
        if W.shape != Wr.shape or b.shape != br.shape or not (
            np.array_equal(W.astype(np.float64), Wr.astype(np.float64))
            and np.array_equal(b.astype(np.float64), br.astype(np.float64))
        ):
            raise FormatError(f"layer {k}: {hint}")


def float_dtype(arrays: Sequence[Any]) -> str:
    """``"float32"`` if every array is float32 (or narrower), else ``"float64"``."""
    kinds = {np.asarray(a).dtype for a in arrays if isinstance(a, (np.ndarray, list, tuple))}
    return "float32" if kinds and all(k.kind == "f" and k.itemsize <= 4 for k in kinds) else "float64"


def imported_info(path: Path, fmt: str, dtype: str) -> dict[str, Any]:
    """The ``construction`` record of a network rationalized from float weights."""
    return {
        "imported_from": path.name,
        "format": fmt,
        "dtype": dtype,
        "rationalized": f"{dtype} weights read exactly as the binary fractions they store",
    }


# ------------------------------------------------------------------------- dispatcher
def detect_format(path: str | Path) -> str:
    """Guess the file format from the suffix, then from the first bytes.

    >>> detect_format("net.onnx"), detect_format("model.pth")
    ('onnx', 'torch')
    """
    p = Path(path)
    suffix = p.suffix.lower()
    by_suffix = {".onnx": "onnx", ".safetensors": "safetensors", ".pt": "torch", ".pth": "torch",
                 ".bin": "torch", ".npz": "npz", ".json": "json"}
    if suffix in by_suffix:
        return by_suffix[suffix]
    try:
        with p.open("rb") as f:
            head = f.read(16)
    except OSError:
        return "json"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(p) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, OSError):
            return "npz"
        return "npz" if any(n.endswith(".npy") for n in names) else "torch"
    if head.lstrip()[:1] == b"{":
        return "json"
    if len(head) >= 9 and head[8:9] == b"{":
        return "safetensors"
    return "onnx"


def import_network(path: str | Path, format: str | None = None, *, exact: bool | None = None) -> ReLUNetwork:
    """Read a fully connected ReLU network exactly.

    Parameters
    ----------
    path : str or Path
    format : {"onnx", "safetensors", "torch", "npz", "json"}, optional
        Default: from the suffix, then from the file's first bytes. JAX-layout ``.npz`` files
        are read by ``"npz"``.
    exact : bool, optional
        ``None`` (default): use the exact rationals when the file carries them, else rationalize
        the floats. ``True``: require them. ``False``: ignore them and rationalize the floats.

    Raises
    ------
    FormatError
        One line naming the file and the problem.
    """
    p = Path(path)
    if not p.exists():
        raise FormatError(f"no such file: {p}")
    if p.is_dir():
        raise FormatError(f"{p} is a directory, not a network file")
    fmt = (format or detect_format(p)).lower()
    if fmt == "jax":
        fmt = "npz"
    if fmt not in IMPORT_FORMATS:
        raise FormatError(f"unknown import format {fmt!r}; use one of {', '.join(IMPORT_FORMATS)}")
    try:
        if p.stat().st_size == 0:
            raise FormatError("the file is empty")
        if fmt == "json":
            from symtrunc.io.json import load_network

            if exact is False:
                raise FormatError("a JSON network is exact; exact=False does not apply")
            return load_network(p)
        if fmt == "onnx":
            from symtrunc.io import onnx as mod
        elif fmt == "safetensors":
            from symtrunc.io import safetensors as mod
        elif fmt == "torch":
            from symtrunc.io import torch as mod
        else:
            from symtrunc.io import npz as mod
        net = mod.load(p, exact=exact)
    except FormatError as e:
        msg = str(e)
        if str(p) in msg or msg.startswith("no such file") or "needs the '" in msg:
            raise
        raise FormatError(f"{p}: {msg}") from None
    except DataError as e:  # e.g. exact metadata with weights too large for the file's float type
        raise FormatError(f"{p}: {e}") from None
    except MemoryError:
        raise FormatError(f"{p}: too large to read (out of memory)") from None
    return net


def finish(exact_text: str | None, arrays: list[tuple[str, Any, Any, str]], *, exact: bool | None,
           path: Path, fmt: str) -> ReLUNetwork:
    """Shared tail of the loaders: exact copy (checked against the floats) or rationalized floats."""
    if exact is True and exact_text is None:
        raise FormatError("the file carries no exact rationals (it was not written by symtrunc); "
                          "import without exact=True to rationalize its float weights")
    if exact_text is not None and exact is not False:
        net = exact_from_json(exact_text)
        dtype = float_dtype([W for _, W, _, _ in arrays])
        check_exact_matches(net, [(W, b) for _, W, b, _ in arrays], dtype)
        return net
    dtype = float_dtype([W for _, W, _, _ in arrays] + [b for _, _, b, _ in arrays])
    return network_from_arrays(arrays, construction=imported_info(path, fmt, dtype))


def first_line(e: BaseException) -> str:
    """The first non-empty line of an exception message (third-party errors can be long)."""
    text = str(e).strip() or type(e).__name__
    line = text.splitlines()[0].strip()
    if len(line) > 120 and ". " in line:  # keep the first sentence of chatty messages
        line = line.split(". ")[0]
    return line[:200]


def json_dumps_compact(obj: Any) -> str:
    """Compact JSON for file metadata."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
