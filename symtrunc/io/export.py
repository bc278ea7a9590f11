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

``factored`` files (``layers="factored"``, or ``"auto"`` when only they can be certified) write
each hidden layer ``α I + U Vᵀ`` as two layers, see
:class:`~symtrunc.lowering.float_network.ExportLayers`; not for ``npz``.

Every file written here also carries the exact rationals (last column), so
:func:`symtrunc.io.trained.import_network` recovers the exact network from the file alone; other
tools simply ignore them.

What runs is the float network, not the exact one. Given the training data (``data=``, CLI
``--data``), :func:`export` certifies the float network it writes **in its own precision**
(:func:`symtrunc.lowering.float_certificate.certify_floats`: every training point lands in its
class under any IEEE evaluation of the layers as written, any summation order, with or without
FMA, and the certified margin is reported), stores the certificate in the file's metadata
(key ``"symtrunc.float_certificate"``) and refuses to write a file it cannot certify
(:class:`~symtrunc.errors.UncertifiedError`; ``force=True``, CLI ``--force``, writes it anyway and
the report says it is uncertified). Without data nothing is certified, and the report says so. Optional packages are imported only when needed: ``onnx`` for ONNX,
``safetensors`` for safetensors and ``torch`` for ``.pt`` (a missing one raises a one-line
:class:`~symtrunc.errors.MissingDependencyError` with the ``pip install`` command).

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

With the training data, the float network is certified before it is written:

>>> import symtrunc
>>> d = symtrunc.LabeledData.from_arrays([[2, 0], [3, 0], [0, 2], [0, 3]], list("aabb"))
>>> r = export(symtrunc.construct(d), os.path.join(os.path.dirname(path), "toy.onnx"), dtype="float32", data=d)
>>> r.certificate.certified, r.certificate.n_points
(True, 4)
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import flint

from symtrunc.errors import FormatError, UncertifiedError
from symtrunc.exact.rounding import DTYPES, float_dtype
from symtrunc.io import jax, npz, onnx, safetensors, torch
from symtrunc.io._common import ExportReport, atomic_write, certificate_json, sequential_keys
from symtrunc.io.json import dumps_network
from symtrunc.lowering.float_network import export_layers, float_layers
from symtrunc.network import ReLUNetwork

__all__ = [
    "FORMATS",
    "DTYPES",
    "LAYOUTS",
    "ExportReport",
    "export",
    "float_layers",
    "atomic_write",
    "sequential_keys",
    "format_from_suffix",
]

FORMATS = ("onnx", "safetensors", "torch", "jax", "npz", "json")
#: how the float layers are laid out in a file (see :func:`export`)
LAYOUTS = ("auto", "plain", "factored")
_SUFFIXES = {
    ".onnx": "onnx",
    ".safetensors": "safetensors",
    ".pt": "torch",
    ".pth": "torch",
    ".npz": "npz",
    ".json": "json",
}
_WRITERS = {"onnx": onnx.save, "safetensors": safetensors.save, "torch": torch.save, "jax": jax.save, "npz": npz.save}


def format_from_suffix(path: str | Path) -> str | None:
    """The export format a file name suggests (``None`` if the suffix is unknown).

    >>> format_from_suffix("net.safetensors"), format_from_suffix("a.txt")
    ('safetensors', None)
    """
    return _SUFFIXES.get(Path(path).suffix.lower())


# ---------------------------------------------------------------------------- dispatcher
def export(
    network: ReLUNetwork,
    path: str | Path,
    to: str | None = None,
    dtype: str = "float64",
    *,
    data: Any = None,
    labels: Any = None,
    force: bool = False,
    layers: str = "auto",
) -> ExportReport:
    """Write ``network`` to ``path`` in format ``to``; with ``data``, certify the floats first.

    Parameters
    ----------
    network : ReLUNetwork
    path : str or Path
    to : {"onnx", "safetensors", "torch", "jax", "npz", "json"}, optional
        Default: from the file suffix (``.onnx``, ``.safetensors``, ``.pt``/``.pth``,
        ``.npz`` (npz layout), ``.json``).
    dtype : {"float64", "float32"}
        Float type of the weights (ignored by ``json``, which is exact).
    data : LabeledData, path or array, optional
        Training data: the float network written (dense layers ``W̃ h + b̃``) is certified on
        them in ``dtype`` before anything is written (see the module docstring).
    labels : sequence, optional
        Labels for an array ``data``.
    force : bool
        Write the file even when the certification fails (the report says it is uncertified).
    layers : {"auto", "plain", "factored"}
        ``"plain"``: one ``Linear``/``Gemm`` per exact layer, its correct rounding.
        ``"factored"``: each hidden layer with exact structure ``α I + U Vᵀ`` as two
        (:class:`~symtrunc.lowering.float_network.ExportLayers`: the same function, much smaller
        float errors; not for ``npz``). ``"auto"``: plain, unless ``data`` are given, the plain
        floats cannot be certified and the factored ones can.

    Returns
    -------
    ExportReport
        ``certificate`` holds what was certified (``None`` without data).

    Raises
    ------
    FormatError
        Unknown format.
    MissingDependencyError
        The format needs an optional package that is not installed (one line, with the pip command).
    DataError
        A weight does not fit the float type, or the data do not fit the network.
    UncertifiedError
        ``data`` given and the float network cannot be certified on them (nothing is written,
        unless ``force``).
    """
    if to is None:
        to = format_from_suffix(path)
        if to is None:
            raise FormatError(
                f"cannot tell the export format from {Path(path).name!r}; "
                f"choose one with to= (CLI: --to): {', '.join(FORMATS)}"
            )
    to = str(to).lower()
    if to not in FORMATS:
        raise FormatError(f"unknown export format {to!r}; use one of {', '.join(FORMATS)}")
    dtype = float_dtype(dtype).name
    path = Path(path)
    if to == "json":
        atomic_write(path, dumps_network(network) + "\n")
        return ExportReport("json", path, "exact", flint.fmpq(0), True, network.parameter_count().total)
    if layers not in LAYOUTS:
        raise FormatError(f"unknown layer layout {layers!r}; use one of {', '.join(LAYOUTS)}")
    floats = export_layers(network, dtype, factored=layers == "factored")
    cert = None
    if data is not None:
        cert = floats.network(network.classes).certify(data, labels)
        if not cert.certified and layers == "auto" and to != "npz":
            split = export_layers(network, dtype, factored=True)
            if split.factored:
                second = split.network(network.classes).certify(data, labels)
                if second.n_certified > cert.n_certified:  # certified, or at least the better file
                    floats, cert = split, second
        if not cert.certified and not force:
            raise UncertifiedError(
                f"{path.name} not written: {cert.summary()} (--force / force=True writes it anyway, marked uncertified)"
            )
    written = _WRITERS[to](network, path, certificate=None if cert is None else certificate_json(cert), floats=floats)
    return replace(written, certificate=cert)
