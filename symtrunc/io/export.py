"""Export exact networks to ONNX, safetensors, PyTorch, JAX, npz or exact JSON.

:func:`export` rounds every weight and bias of an exact network to the requested float type
(correctly rounded, ties to even) and writes the file atomically (a temporary file in the
same directory, then :func:`os.replace`). The returned :class:`ExportReport` records the
largest rounding error ``max |q - fl(q)|`` over all weights and biases, exactly.

============  ==========================  =========================================  ============
``to``        file                        layout                                     exact copy
============  ==========================  =========================================  ============
onnx          ``.onnx``                   ``Gemm(transB=1)`` + ``Relu``, opset 17     metadata
safetensors   ``.safetensors``            ``nn.Sequential`` keys ``0.weight``, ...    metadata
torch         ``.pt``                     ``state_dict`` of ``nn.Sequential``         ``_metadata``
jax           ``.npz``                    Flax ``params/Dense_k/kernel`` (in, out)    JSON string
                                          and equinox ``layers/k/weight`` (out, in)
npz           ``.npz``                    ``W0, b0, ...`` (out, in) floats            num/den
json          ``.json``                   :mod:`symtrunc.io.json`                     itself
============  ==========================  =========================================  ============

Every file written here also carries the exact rationals (last column), so
:func:`symtrunc.io.trained.import_network` recovers the exact network from the file alone; other
tools simply ignore them. Optional packages are imported only when needed: ``onnx`` for ONNX,
``safetensors`` for safetensors and ``torch`` for ``.pt`` (a missing one gives a one-line error
with the ``pip install`` command).

Examples
--------
>>> import os, tempfile
>>> from symtrunc.network import ReLUNetwork
>>> net = ReLUNetwork.from_rows([([[1, "1/3"], [0, 1]], ["1/2", 0], "relu"),
...                              ([[1, -1]], [0], "identity")])
>>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
>>> report = export(net, path, to="npz")
>>> report.format, report.dtype, report.exact
('npz', 'float64', True)
>>> report.max_weight_error                     # |1/3 - fl(1/3)| = 2^-54 / 3
1/54043195528445952
>>> from symtrunc.io.trained import import_network
>>> import_network(path) == net
True
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flint
import numpy as np

from symtrunc.errors import DataError, FormatError
from symtrunc.exact.rounding import round_matrix
from symtrunc.network import ReLUNetwork

__all__ = [
    "FORMATS",
    "DTYPES",
    "ExportReport",
    "export",
    "float_layers",
    "atomic_write",
    "sequential_keys",
    "format_from_suffix",
    "missing_package",
]

FORMATS = ("onnx", "safetensors", "torch", "jax", "npz", "json")
DTYPES = ("float64", "float32")
_SUFFIXES = {".onnx": "onnx", ".safetensors": "safetensors", ".pt": "torch", ".pth": "torch",
             ".npz": "npz", ".json": "json"}
_EXTRAS = {"onnx": "onnx", "onnxruntime": "onnx", "safetensors": "safetensors", "torch": "torch"}


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export` wrote.

    Attributes
    ----------
    format : str
        One of :data:`FORMATS`.
    path : pathlib.Path
    dtype : str
        ``"float64"`` or ``"float32"`` (``"exact"`` for JSON).
    max_weight_error : flint.fmpq
        ``max |q - fl(q)|`` over all weights and biases, exact (0 when every entry is
        representable, e.g. dyadic rationals with few bits).
    exact : bool
        Whether the file also carries the exact rationals.
    parameters : int
        Number of weights and biases written.
    """

    format: str
    path: Path
    dtype: str
    max_weight_error: flint.fmpq
    exact: bool
    parameters: int

    def __str__(self) -> str:
        err = self.max_weight_error
        err_text = "0 (every weight is representable)" if err == 0 else f"{float(err):.3g} (exact: {err})"
        if self.dtype == "exact":
            err_text = "0 (exact rationals)"
        exact = ", exact rationals included" if self.exact and self.dtype != "exact" else ""
        return (f"{self.format} {self.dtype}: {self.parameters} parameters to {self.path}{exact}; "
                f"max weight rounding error {err_text}")


# ---------------------------------------------------------------------------- helpers
def missing_package(package: str, what: str) -> FormatError:
    """The one-line error for a missing optional dependency.

    >>> print(missing_package("onnx", "ONNX export"))
    ONNX export needs the 'onnx' package: pip install "symtrunc[onnx]"
    """
    extra = _EXTRAS.get(package, package)
    return FormatError(f"{what} needs the {package!r} package: pip install \"symtrunc[{extra}]\"")


def format_from_suffix(path: str | Path) -> str | None:
    """The export format a file name suggests (``None`` if the suffix is unknown).

    >>> format_from_suffix("net.safetensors"), format_from_suffix("a.txt")
    ('safetensors', None)
    """
    return _SUFFIXES.get(Path(path).suffix.lower())


def sequential_keys(n_layers: int, activations: list[str] | None = None) -> list[tuple[str, str]]:
    """``nn.Sequential(Linear, ReLU, Linear, ...)`` state-dict keys: each ReLU takes an index.

    >>> sequential_keys(3)
    [('0.weight', '0.bias'), ('2.weight', '2.bias'), ('4.weight', '4.bias')]
    >>> sequential_keys(3, ["relu", "identity", "identity"])
    [('0.weight', '0.bias'), ('2.weight', '2.bias'), ('3.weight', '3.bias')]
    """
    acts = activations or ["relu"] * (n_layers - 1) + ["identity"]
    keys, idx = [], 0
    for act in acts[:n_layers]:
        keys.append((f"{idx}.weight", f"{idx}.bias"))
        idx += 2 if act == "relu" else 1
    return keys


def _check_dtype(dtype: Any) -> str:
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if name not in DTYPES:
        raise DataError(f"unsupported dtype {dtype!r}; use 'float64' or 'float32'")
    return name


def float_layers(
    network: ReLUNetwork, dtype: str = "float64"
) -> tuple[list[tuple[np.ndarray, np.ndarray]], flint.fmpq]:
    """Correctly rounded ``(W, b)`` arrays (``W`` of shape ``(out, in)``, ``b`` of shape ``(out,)``).

    Returns the arrays and the exact maximal rounding error over all entries.

    >>> from symtrunc.network import ReLUNetwork
    >>> net = ReLUNetwork.from_rows([([["1/4", 1]], ["1/10"], "identity")])
    >>> arrays, err = float_layers(net)
    >>> arrays[0][0], err
    (array([[0.25, 1.  ]]), 1/180143985094819840)
    """
    dtype = _check_dtype(dtype)
    out, worst = [], flint.fmpq(0)
    for k, layer in enumerate(network.layers, 1):
        try:
            W, eW = round_matrix(layer.W, dtype)
            b, eb = round_matrix(layer.b, dtype)
        except DataError as e:
            raise DataError(f"layer {k}: {e}") from None
        out.append((W, b.reshape(-1)))
        worst = max(worst, eW, eb)
    return out, worst


def save_arrays(network: ReLUNetwork, path: str | Path, fmt: str, dtype: str,
                arrays: dict[str, np.ndarray], err: flint.fmpq) -> ExportReport:
    """Write ``arrays`` as an uncompressed ``.npz`` (atomically, no pickle) and report it."""
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    written = atomic_write(path, buf.getvalue())
    return ExportReport(fmt, Path(written), dtype, err, True, network.parameter_count().total)


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file in the same directory, then rename.

    A reader never sees a half-written file, and an existing file is kept if writing fails.
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FormatError(f"cannot write {path}: no such directory {directory}")
    tmp = directory / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    # os.open with mode 0o666 honours the umask (mkstemp would leave the file private, 0o600)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


# ---------------------------------------------------------------------------- dispatcher
def export(network: ReLUNetwork, path: str | Path, to: str | None = None,
           dtype: str = "float64") -> ExportReport:
    """Write ``network`` to ``path`` in format ``to``.

    Parameters
    ----------
    network : ReLUNetwork
    path : str or Path
    to : {"onnx", "safetensors", "torch", "jax", "npz", "json"}, optional
        Default: from the file suffix (``.onnx``, ``.safetensors``, ``.pt``/``.pth``,
        ``.npz`` (npz layout), ``.json``).
    dtype : {"float64", "float32"}
        Float type of the weights (ignored by ``json``, which is exact).

    Returns
    -------
    ExportReport

    Raises
    ------
    FormatError
        Unknown format, or a missing optional package (one line, with the pip command).
    DataError
        A weight does not fit the float type.
    """
    if to is None:
        to = format_from_suffix(path)
        if to is None:
            raise FormatError(f"cannot tell the export format from {Path(path).name!r}; "
                              f"choose one with to= (CLI: --to): {', '.join(FORMATS)}")
    to = str(to).lower()
    if to not in FORMATS:
        raise FormatError(f"unknown export format {to!r}; use one of {', '.join(FORMATS)}")
    dtype = _check_dtype(dtype)
    path = Path(path)
    if to == "json":
        from symtrunc.io.json import dumps_network

        atomic_write(path, dumps_network(network) + "\n")
        return ExportReport("json", path, "exact", flint.fmpq(0), True, network.parameter_count().total)
    if to == "onnx":
        from symtrunc.io import onnx as mod
    elif to == "safetensors":
        from symtrunc.io import safetensors as mod
    elif to == "torch":
        from symtrunc.io import torch as mod
    elif to == "jax":
        from symtrunc.io import jax as mod
    else:
        from symtrunc.io import npz as mod
    return mod.save(network, path, dtype=dtype)
