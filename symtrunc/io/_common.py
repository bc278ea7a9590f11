"""What every file format of :mod:`symtrunc.io` shares: rounding, atomic writes, exact metadata.

The package is layered so that no module imports another one inside a function:

1. :mod:`symtrunc.io.json` – the exact network JSON (no other ``io`` module);
2. this module – atomic writes (:func:`symtrunc.files.atomic_write`, re-exported), the exact network JSON embedded in a file's metadata, exact
   reading of float arrays, and the shared tail of every loader (:func:`finish`); the
   correctly rounded float layers come from
   :func:`symtrunc.lowering.float_network.float_layers`;
3. the format modules :mod:`~symtrunc.io.jax` (below :mod:`~symtrunc.io.npz`, which reads its
   layout), :mod:`~symtrunc.io.npz`, :mod:`~symtrunc.io.onnx`, :mod:`~symtrunc.io.safetensors`
   and :mod:`~symtrunc.io.torch`;
4. the dispatchers :func:`symtrunc.io.export.export` and
   :func:`symtrunc.io.trained.import_network`.

Optional packages (``onnx``, ``safetensors``, ``torch``) are imported by the format modules
only when used, through :func:`symtrunc.errors.require`.

Examples
--------
>>> from symtrunc.network import ReLUNetwork
>>> net = ReLUNetwork.from_rows([([["1/3"]], [0], "identity")])
>>> exact_from_json(exact_json(net)) == net
True
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flint
import numpy as np

from symtrunc.errors import FormatError
from symtrunc.files import atomic_write
from symtrunc.io.json import loads_network, network_to_dict
from symtrunc.lowering.float_network import ExportLayers, export_layers
from symtrunc.network import Layer, ReLUNetwork

__all__ = [
    "EXACT_KEY",
    "FLOAT_CERT_KEY",
    "ExportReport",
    "atomic_write",
    "bias_name",
    "certificate_json",
    "check_exact_matches",
    "exact_from_json",
    "exact_json",
    "finish",
    "first_line",
    "float_factors",
    "imported_info",
    "layer_keys",
    "layers_from_state_dict",
    "network_from_arrays",
    "rationalize",
    "report",
    "save_arrays",
    "sequential_keys",
    "stored_dtype",
]

#: metadata key under which a file carries the exact network JSON
EXACT_KEY = "symtrunc.network"
#: metadata key of the certificate of the file's floats (JSON, :func:`certificate_json`)
FLOAT_CERT_KEY = "symtrunc.float_certificate"
_NUM = re.compile(r"(\d+)")


# ------------------------------------------------------------------------- writing
@dataclass(frozen=True)
class ExportReport:
    """What :func:`symtrunc.io.export.export` wrote.

    Attributes
    ----------
    format : str
        One of :data:`symtrunc.io.export.FORMATS`.
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
    certificate : FloatCertificate or None
        What was certified about the float network in the file on the data given to
        :func:`~symtrunc.io.export.export` (``None``: no data, nothing certified).
    factored : bool
        Whether hidden layers were written factored (:class:`~symtrunc.lowering.float_network.ExportLayers`).
    """

    format: str
    path: Path
    dtype: str
    max_weight_error: flint.fmpq
    exact: bool
    parameters: int
    certificate: Any = None
    factored: bool = False

    @property
    def floats(self) -> str:
        """One line: what is known about the float network in the file."""
        if self.dtype == "exact":
            return "exact rationals, nothing rounded"
        cert = self.certificate
        if cert is None:
            return (
                f"the {self.dtype} network is NOT certified: no training data given "
                "(--data DATA / data= certifies it in its own precision)"
            )
        if cert.certified:
            return cert.summary()
        return f"UNCERTIFIED file (written with --force): {cert.summary()}"

    def __str__(self) -> str:
        err = self.max_weight_error
        err_text = "0 (every weight is representable)" if err == 0 else f"{float(err):.3g} (exact: {err})"
        if self.dtype == "exact":
            err_text = "0 (exact rationals)"
        exact = ", exact rationals included" if self.exact and self.dtype != "exact" else ""
        split = (
            "; the hidden layers of the form α I + U Vᵀ written factored as Linear [I; Vᵀ] then "
            "Linear [α I, U] + ReLU (the others dense)"
            if self.factored
            else ""
        )
        return (
            f"{self.format} {self.dtype}: {self.parameters} parameters to {self.path}{exact}; "
            f"max weight rounding error {err_text}{split}"
        )


def certificate_json(certificate: Any) -> str:
    """The float certificate of an export as compact JSON for a file's metadata."""
    return json.dumps(certificate.to_dict(), separators=(",", ":"), ensure_ascii=False)


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


def exact_json(network: ReLUNetwork, factors: Sequence[int] = ()) -> str:
    """The exact network JSON (:mod:`symtrunc.io.json`), compact, for a file's metadata; with
    ``factors`` (the ranks of :attr:`ExportLayers.factors`, when some layer is split) under the
    extra key ``"float_factors"``, so that the floats can be checked against the exact network."""
    d = network_to_dict(network)
    if any(factors):
        d["float_factors"] = [int(k) for k in factors]
    return json.dumps(d, separators=(",", ":"), ensure_ascii=False)


def save_arrays(
    network: ReLUNetwork,
    path: str | Path,
    fmt: str,
    floats: ExportLayers,
    arrays: dict[str, np.ndarray],
    certificate: str | None = None,
) -> ExportReport:
    """Write ``arrays`` as an uncompressed ``.npz`` (atomically, no pickle) and report it;
    ``certificate`` (JSON) rides along as the 0-d string array :data:`FLOAT_CERT_KEY`."""
    if certificate is not None:
        arrays = {**arrays, FLOAT_CERT_KEY: np.array(certificate)}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    written = atomic_write(path, buf.getvalue())
    return report(network, written, fmt, floats)


def report(network: ReLUNetwork, path: str | Path, fmt: str, floats: ExportLayers) -> ExportReport:
    """The :class:`ExportReport` of a float file just written (parameters as stored)."""
    count = sum(W.size + b.size for W, b, _ in floats.layers)
    return ExportReport(
        fmt, Path(path), floats.dtype.name, floats.max_weight_error, True, count, factored=floats.factored
    )


def layer_keys(floats: ExportLayers) -> list[tuple[str, str]]:
    """The ``nn.Sequential`` state-dict keys of the float layers (see :func:`sequential_keys`)."""
    return sequential_keys(len(floats.layers), [a for _, _, a in floats.layers])


# ------------------------------------------------------------------------- reading
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
                raise FormatError(
                    f"wrong shapes: layer {k} ({name!r}) takes {W.ncols()} inputs but layer "
                    f"{k - 1} ({prev[0]!r}) has {prev[1]} outputs"
                )
            out.append(Layer(W, b if b is not None else flint.fmpq_mat(W.nrows(), 1), act))
            prev = (name, W.nrows())
            continue
        Wa = np.asarray(W)
        if Wa.ndim != 2:
            raise FormatError(f"wrong shapes: weight {name!r} has shape {Wa.shape}, expected (out, in)")
        if prev is not None and Wa.shape[1] != prev[1]:
            raise FormatError(
                f"wrong shapes: layer {k} ({name!r}) takes {Wa.shape[1]} inputs but layer "
                f"{k - 1} ({prev[0]!r}) has {prev[1]} outputs"
            )
        Wq = rationalize(Wa, name)
        if b is None:
            bq = flint.fmpq_mat(Wa.shape[0], 1)
        else:
            ba = np.asarray(b)
            if ba.ndim == 2 and 1 in ba.shape:
                ba = ba.reshape(-1)
            if ba.ndim != 1 or ba.shape[0] != Wa.shape[0]:
                raise FormatError(
                    f"wrong shapes: bias of layer {k} ({name!r}) has shape {ba.shape}, expected ({Wa.shape[0]},)"
                )
            bq = rationalize(ba, bias_name(name))
        out.append(Layer(Wq, bq, act))
        prev = (name, Wa.shape[0])
    return ReLUNetwork(tuple(out), tuple(classes), dict(construction or {}))


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
            raise FormatError(
                f"unsupported tensor {key!r}: only Linear layers ('N.weight', 'N.bias') "
                "followed by ReLU can be imported"
            )
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
            raise FormatError(
                f"wrong shapes: {name + '.weight'!r} has shape {W.shape}; only Linear "
                "layers (2-D weights) can be imported"
            )
        wname = f"{name}.weight" if name else "weight"  # a single nn.Linear has keys weight, bias
        layers.append((wname, W, g.get("bias"), "relu" if k < len(names) - 1 else "identity"))
    return layers


def float_factors(text: str) -> tuple[int, ...]:
    """The ``"float_factors"`` recorded with the exact JSON (empty when no layer was split).

    >>> float_factors('{"float_factors": [1, 0]}'), float_factors('{"format": "symtrunc.network"}')
    ((1, 0), ())
    """
    try:
        value = json.loads(text).get("float_factors", [])
    except (ValueError, AttributeError):
        return ()
    if not isinstance(value, list) or not all(isinstance(k, int) and k >= 0 for k in value):
        raise FormatError(f"the exact metadata {EXACT_KEY!r} has a malformed 'float_factors' entry")
    return tuple(value)


def exact_from_json(text: str) -> ReLUNetwork:
    """The exact network stored as JSON text in a file's metadata (see :func:`exact_json`)."""
    try:
        return loads_network(text)
    except FormatError as e:
        raise FormatError(f"the exact metadata {EXACT_KEY!r} is damaged ({e})") from None


def check_exact_matches(
    exact: ReLUNetwork, arrays: Sequence[tuple[Any, Any]], dtype: str, factors: Sequence[int] = ()
) -> None:
    """Check that float ``(W, b)`` arrays are the correct roundings of ``exact``'s weights
    (factored as recorded by ``factors``, see :class:`~symtrunc.lowering.float_network.ExportLayers`).

    Raises
    ------
    FormatError
        If the file's float weights were changed after export (then its exact copy is stale).
    """
    hint = (
        "its float weights differ from the exact rationals stored with them (changed after "
        "export?); import the float weights with exact=False (CLI: symtrunc import --floats)"
    )
    expected = export_layers(exact, dtype, factored=any(factors))
    if tuple(factors or (0,) * exact.depth) != expected.factors:
        raise FormatError(f"{hint} (the recorded factorization does not fit the exact layers)")
    rounded = [(W, b) for W, b, _ in expected.layers]
    if len(arrays) != len(rounded):
        raise FormatError(f"{hint} ({len(arrays)} float layers, {len(rounded)} expected)")
    for k, ((W, b), (Wr, br)) in enumerate(zip(arrays, rounded), 1):
        if not isinstance(W, np.ndarray):
            raise FormatError(f"layer {k}: {hint}")
        W = np.asarray(W)
        b = np.zeros(W.shape[0]) if b is None else np.asarray(b).reshape(-1)
        if (
            W.shape != Wr.shape
            or b.shape != br.shape
            or not (
                np.array_equal(W.astype(np.float64), Wr.astype(np.float64))
                and np.array_equal(b.astype(np.float64), br.astype(np.float64))
            )
        ):
            raise FormatError(f"layer {k}: {hint}")


def stored_dtype(arrays: Sequence[Any]) -> str:
    """The float type a file stores: ``"float32"`` if every array is float32 (or narrower), else ``"float64"``.

    >>> stored_dtype([np.zeros(2, np.float32), np.zeros(1, np.float16)]), stored_dtype([np.zeros(2), None])
    ('float32', 'float64')
    """
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


def finish(
    exact_text: str | None, arrays: list[tuple[str, Any, Any, str]], *, exact: bool | None, path: Path, fmt: str
) -> ReLUNetwork:
    """Shared tail of the loaders: exact copy (checked against the floats) or rationalized floats."""
    if exact is True and exact_text is None:
        raise FormatError(
            "the file carries no exact rationals (it was not written by symtrunc); "
            "import without exact=True to rationalize its float weights"
        )
    if exact_text is not None and exact is not False:
        net = exact_from_json(exact_text)
        dtype = stored_dtype([W for _, W, _, _ in arrays])
        check_exact_matches(net, [(W, b) for _, W, b, _ in arrays], dtype, float_factors(exact_text))
        return net
    dtype = stored_dtype([W for _, W, _, _ in arrays] + [b for _, _, b, _ in arrays])
    return network_from_arrays(arrays, construction=imported_info(path, fmt, dtype))


def first_line(e: BaseException) -> str:
    """The first non-empty line of an exception message (third-party errors can be long).

    >>> first_line(ValueError("bad header\\n  at byte 8"))
    'bad header'
    """
    text = str(e).strip() or type(e).__name__
    line = text.splitlines()[0].strip()
    if len(line) > 120 and ". " in line:  # keep the first sentence of chatty messages
        line = line.split(". ")[0]
    return line[:200]
