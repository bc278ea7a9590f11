"""The one reader and the one writer of network files, chosen by the file's extension.

================  ===========  ==================================================================
extension         format       what is stored
================  ===========  ==================================================================
``.json``         exact JSON   the exact network (:mod:`symtrunc.io.json`)
``.onnx``         ONNX         float weights + the exact rationals in ``metadata_props``
``.safetensors``  safetensors  float weights + the exact rationals in the metadata
``.pt``           PyTorch      state dict + the exact rationals in ``_metadata`` (also ``.pth``)
``.npz``          npz          float weights ``W0, b0, ...`` + exact numerators/denominators
================  ===========  ==================================================================

:func:`read_network` returns the exact network a file holds (for float files written by
symtrunc, the exact rationals of its metadata; for other float files, the binary fractions its
floats store, see :func:`symtrunc.io.trained.import_network`); :func:`write_network` writes
one, through :func:`symtrunc.io.export.export` for float formats (which certifies the floats
on ``data`` first) and :func:`symtrunc.files.write_files` (atomic, together with any other
files of the same command). An unknown extension, or a file whose contents do not match its
extension (JSON in ``net.onnx``), is a one-line :class:`~symtrunc.errors.FormatError` naming
the file; every command of the CLI reads and writes networks here.

Examples
--------
>>> import os, tempfile
>>> from symtrunc.network import ReLUNetwork
>>> net = ReLUNetwork.from_rows([([[1, "1/3"]], ["1/2"], "identity")], classes=("a",))
>>> folder = tempfile.mkdtemp()
>>> _ = write_network(net, os.path.join(folder, "net.npz"))
>>> read_network(os.path.join(folder, "net.npz")) == net
True
>>> network_format("net.txt")
Traceback (most recent call last):
...
symtrunc.errors.FormatError: net.txt: unknown network file extension '.txt'; use .json, .onnx, .safetensors, .pt or .npz
>>> _ = write_network(net, os.path.join(folder, "exact.json"))
>>> os.rename(os.path.join(folder, "exact.json"), os.path.join(folder, "exact.onnx"))
>>> read_network(os.path.join(folder, "exact.onnx"))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
symtrunc.errors.FormatError: ...exact.onnx: the file holds exact JSON, not ONNX as its extension .onnx says; rename it to .json
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import flint

from symtrunc.errors import FormatError, UncertifiedError, require
from symtrunc.files import write_files
from symtrunc.io._common import ExportReport
from symtrunc.io.export import export
from symtrunc.io.json import dumps_network
from symtrunc.io.trained import IMPORT_FORMATS, import_network, load_float_network
from symtrunc.lowering.float_network import FloatNetwork
from symtrunc.network import ReLUNetwork
from symtrunc.progress import task

__all__ = [
    "NETWORK_SUFFIXES",
    "check_network_output",
    "network_format",
    "read_float_network",
    "read_network",
    "write_network",
]

#: file extension -> format of :func:`symtrunc.io.trained.import_network` / :func:`symtrunc.io.export.export`
NETWORK_SUFFIXES = {
    ".json": "json",
    ".onnx": "onnx",
    ".safetensors": "safetensors",
    ".pt": "torch",
    ".pth": "torch",
    ".npz": "npz",
}
_NAMES = {"json": "exact JSON", "onnx": "ONNX", "safetensors": "safetensors", "torch": "PyTorch", "npz": "npz"}
_SUFFIX_OF = {"json": ".json", "onnx": ".onnx", "safetensors": ".safetensors", "torch": ".pt", "npz": ".npz"}
#: optional package each float format needs: (module, extra, feature)
_NEEDS = {
    "onnx": ("onnx", "onnx", "ONNX export and import"),
    "safetensors": ("safetensors", "safetensors", "safetensors export and import"),
    "torch": ("torch", "torch", "PyTorch export and import"),
}


def network_format(path: str | Path) -> str:
    """The format the extension of ``path`` names (:data:`NETWORK_SUFFIXES`).

    >>> network_format("model.PT"), network_format("net.json")
    ('torch', 'json')

    Raises
    ------
    FormatError
        Unknown extension (one line naming the file).
    """
    p = Path(path)
    fmt = NETWORK_SUFFIXES.get(p.suffix.lower())
    if fmt is None:
        what = f"extension {p.suffix!r}" if p.suffix else "extension (none)"
        raise FormatError(f"{p}: unknown network file {what}; use .json, .onnx, .safetensors, .pt or .npz")
    return fmt


def _contents(p: Path) -> str | None:
    """The format the first bytes of ``p`` show, or ``None`` when they show none (unreadable, damaged
    or unrecognized: the reader of the extension's format then says what is wrong)."""
    try:
        with p.open("rb") as f:
            head = f.read(16)
        size = p.stat().st_size
    except OSError:
        return None
    # safetensors: an 8-byte little-endian header length, then the JSON header (its length can
    # make the first byte look like a pickle's 0x80 or JSON's "{": tested first)
    if len(head) >= 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") <= size - 8:
        return "safetensors"
    if head.lstrip()[:1] == b"{":
        return "json"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(p) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, OSError):
            return None  # damaged: the reader says how
        return "npz" if any(n.endswith(".npy") for n in names) else "torch"
    if head[:1] == b"\x80":  # a legacy (non-zip) torch.save pickle
        return "torch"
    if head[:1] == b"\x08":  # an ONNX ModelProto opens with field 1 (ir_version, a varint)
        return "onnx"
    return None


def _checked(path: str | Path, format: str | None) -> tuple[Path, str]:
    """``path`` and its format, after checking the extension (unless ``format`` is given) and contents."""
    p = Path(path)
    if format is not None:
        fmt = format.lower()
        if fmt == "jax":
            fmt = "npz"
        if fmt not in IMPORT_FORMATS:
            raise FormatError(f"unknown network format {format!r}; use one of {', '.join(IMPORT_FORMATS)}")
        return p, fmt
    fmt = network_format(p)
    if p.is_file() and p.stat().st_size > 0:
        found = _contents(p)
        if found is not None and found != fmt:
            raise FormatError(
                f"{p}: the file holds {_NAMES[found]}, not {_NAMES[fmt]} as its extension {p.suffix} "
                f"says; rename it to {_SUFFIX_OF[found]}"
            )
    return p, fmt


def read_network(path: str | Path, format: str | None = None, *, exact: bool | None = None) -> ReLUNetwork:
    """The exact network in ``path``, whatever its format (by extension).

    Parameters
    ----------
    path : str or Path
    format : str, optional
        Override the extension (``symtrunc import --format``): then the extension is not checked.
    exact : bool, optional
        As for :func:`symtrunc.io.trained.import_network`.

    Raises
    ------
    FormatError
        Unknown or mismatched extension, missing, empty or corrupt file (one line naming the file).
    MissingDependencyError
        The format needs an optional package that is not installed.
    """
    p, fmt = _checked(path, format)
    return import_network(p, fmt, exact=exact)


def read_float_network(path: str | Path) -> FloatNetwork:
    """The float network a float file (not ``.json``) holds, as it runs (:func:`~symtrunc.io.trained.load_float_network`)."""
    p, fmt = _checked(path, None)
    return load_float_network(p, fmt)


def check_network_output(path: str | Path) -> str:
    """The format :func:`write_network` will write to ``path``, checked before any work.

    Raises
    ------
    FormatError
        Unknown extension.
    MissingDependencyError
        The format's optional package is not installed (one line with the pip command).
    """
    fmt = network_format(path)
    if fmt in _NEEDS:
        require(*_NEEDS[fmt])
    return fmt


def write_network(
    network: ReLUNetwork,
    path: str | Path,
    *,
    data: Any = None,
    dtype: str = "float64",
    also: Mapping[str | Path, str | bytes] | None = None,
) -> ExportReport:
    """Write ``network`` to ``path`` in the format of its extension, atomically with the files ``also``.

    Parameters
    ----------
    network : ReLUNetwork
    path : str or Path
        ``.json`` (exact), ``.onnx``, ``.safetensors``, ``.pt`` or ``.npz`` (float weights,
        correctly rounded to ``dtype``, plus the exact rationals in the metadata).
    data : LabeledData, optional
        For float formats: the float network is certified on these data before anything is
        written (:func:`symtrunc.io.export.export`).
    dtype : {"float64", "float32"}
    also : mapping, optional
        Further files ``{path: text or bytes}`` written in the same step
        (:func:`symtrunc.files.write_files`): all or none.

    Raises
    ------
    FormatError
        Unknown extension.
    MissingDependencyError
        The format's optional package is missing.
    UncertifiedError
        ``data`` given and the float network cannot be certified on them (nothing is written).
    """
    p = Path(path)
    fmt = check_network_output(p)
    extra = dict(also or {})
    if fmt == "json":
        write_files({p: dumps_network(network) + "\n", **extra})
        return ExportReport("json", p, "exact", flint.fmpq(0), True, network.parameter_count().total)
    with tempfile.TemporaryDirectory(prefix="symtrunc-") as folder:
        staged = Path(folder) / p.name  # rendered here first, then written with the other files in one step
        try:
            with task(f"write {p.name}", total=1) as progress:
                report = export(network, staged, to=fmt, dtype=dtype, data=data)
                progress.step(f"{dtype} weights rounded" + (", certified on the data" if data is not None else ""))
        except UncertifiedError as e:  # export's message offers --force, which this writer does not have
            summary = str(e).split(" not written: ", 1)[-1].split(" (--force", 1)[0]
            raise UncertifiedError(
                f"{p} not written: its {dtype} weights cannot be certified on the data ({summary}); "
                f"write the exact network (-o {p.stem}.json), then 'symtrunc export {p.stem}.json -o {p.name} "
                "--force' writes the floats marked uncertified"
            ) from None
        write_files({p: staged.read_bytes(), **extra})
    return replace(report, path=p)
