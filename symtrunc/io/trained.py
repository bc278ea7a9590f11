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

The exact network in a file's metadata is not what runs: :func:`load_float_network` returns the
float network the file holds (its float weights, read exactly, evaluated in the file's float
type), which :meth:`~symtrunc.lowering.float_network.FloatNetwork.certify` checks on data
(``symtrunc verify FILE DATA`` does this for any file that is not exact JSON).

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

import zipfile
from pathlib import Path

import numpy as np

from symtrunc.errors import DataError, FormatError
from symtrunc.io import npz, onnx, safetensors, torch
from symtrunc.io._common import (
    check_exact_matches,
    exact_from_json,
    layers_from_state_dict,
    network_from_arrays,
    rationalize,
)
from symtrunc.io.json import load_network
from symtrunc.lowering.float_network import FloatNetwork, float_layers
from symtrunc.network import ReLUNetwork
from symtrunc.records import ImportedRecord

__all__ = [
    "IMPORT_FORMATS",
    "import_network",
    "load_float_network",
    "detect_format",
    "rationalize",
    "network_from_arrays",
    "layers_from_state_dict",
    "exact_from_json",
    "check_exact_matches",
]

IMPORT_FORMATS = ("onnx", "safetensors", "torch", "npz", "json")
_READERS = {"onnx": onnx.load, "safetensors": safetensors.load, "torch": torch.load, "npz": npz.load}


# ------------------------------------------------------------------------- dispatcher
def detect_format(path: str | Path) -> str:
    """Guess the file format from the suffix, then from the first bytes.

    >>> detect_format("net.onnx"), detect_format("model.pth")
    ('onnx', 'torch')
    """
    p = Path(path)
    suffix = p.suffix.lower()
    by_suffix = {
        ".onnx": "onnx",
        ".safetensors": "safetensors",
        ".pt": "torch",
        ".pth": "torch",
        ".bin": "torch",
        ".npz": "npz",
        ".json": "json",
    }
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
    MissingDependencyError
        The format needs an optional package that is not installed (one line, with the pip command).
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
            if exact is False:
                raise FormatError("a JSON network is exact; exact=False does not apply")
            return load_network(p)
        net = _READERS[fmt](p, exact=exact)
    except FormatError as e:
        msg = str(e)
        if str(p) in msg or msg.startswith("no such file"):
            raise
        raise FormatError(f"{p}: {msg}") from None
    except DataError as e:  # e.g. exact metadata with weights too large for the file's float type
        raise FormatError(f"{p}: {e}") from None
    except MemoryError:
        raise FormatError(f"{p}: too large to read (out of memory)") from None
    return net


def load_float_network(path: str | Path, format: str | None = None) -> FloatNetwork:
    """The float network a file holds, as it runs: its float weights, read exactly, in dense layers.

    The classes come from the exact metadata when the file carries it (even when its floats were
    changed afterwards: the floats are what is evaluated); the float type is the file's.

    Parameters
    ----------
    path : str or Path
        Any file :func:`import_network` reads, except exact JSON.
    format : str, optional
        As for :func:`import_network`.

    Raises
    ------
    FormatError
        A JSON file (exact, nothing runs in floats), or a layer that is not a plain float affine
        map (e.g. an ONNX ``Gemm`` with ``alpha`` whose product is not a float of the file's type).

    Examples
    --------
    >>> import os, tempfile
    >>> import symtrunc
    >>> from symtrunc.io.export import export
    >>> d = symtrunc.LabeledData.from_arrays([[2, 0], [3, 0], [0, 2], [0, 3]], list("aabb"))
    >>> p = os.path.join(tempfile.mkdtemp(), "toy.npz")
    >>> _ = export(symtrunc.construct(d), p, dtype="float32")
    >>> f = load_float_network(p)
    >>> f.dtype, f.classes, f.structured, f.certify(d).certified
    (dtype('float32'), ('a', 'b'), False, True)
    """
    p = Path(path)
    fmt = (format or detect_format(p)).lower()
    if fmt == "json":
        raise FormatError(
            f"{p}: a JSON network is exact; nothing in it runs in floats (symtrunc.lower makes a float network of it)"
        )
    floats = import_network(p, fmt, exact=False)
    record = floats.construction
    dtype = record.dtype if isinstance(record, ImportedRecord) else "float64"
    arrays, err = float_layers(floats, dtype)
    if err != 0:
        raise FormatError(
            f"{p}: its layers are not plain {dtype} affine maps (a scaled Gemm or several added "
            f"biases); they cannot be evaluated as written in {dtype}"
        )
    classes: tuple = ()
    try:
        exact = import_network(p, fmt)
    except FormatError:  # metadata missing, damaged or stale: evaluate the floats without class names
        pass
    else:
        if not isinstance(exact.construction, ImportedRecord) and exact.output_dim == floats.output_dim:
            classes = exact.classes
    return FloatNetwork(
        weights=tuple(W for W, _ in arrays),
        biases=tuple(b for _, b in arrays),
        activations=tuple(layer.activation for layer in floats.layers),
        classes=tuple(classes),
        dtype=np.dtype(dtype),
        max_weight_error=0.0,
    )
