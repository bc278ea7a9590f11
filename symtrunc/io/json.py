"""Exact, versioned JSON for networks and certificates.

Numbers are strings ``"p/q"`` or ``"p"`` (JSON numbers are accepted on reading and read as
exact decimals), so a network round-trips exactly. Layout::

    {"format": "symtrunc.network", "version": 1, "input_dim": M, "output_dim": Q,
     "classes": [labels in output order],
     "layers": [{"W": [["p/q", ...], ...], "b": ["p/q", ...], "activation": "relu"}, ...,
                {"W": ..., "b": ..., "activation": "identity"}],
     "construction": {... theorem, order, base points ...}}   (symtrunc.records)

Examples
--------
>>> from symtrunc.network import ReLUNetwork
>>> net = ReLUNetwork.from_rows([([["1/3", 0]], ["-1/2"], "identity")], classes=("a",))
>>> text = dumps_network(net)
>>> loads_network(text) == net
True
>>> loads_network('{"format": "other"}')
Traceback (most recent call last):
...
symtrunc.errors.FormatError: not a symtrunc network file (format is 'other', expected 'symtrunc.network')
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from symtrunc.errors import DataError, FormatError
from symtrunc.exact.matrix import qmatrix, qvector
from symtrunc.files import atomic_write
from symtrunc.network import Layer, ReLUNetwork
from symtrunc.records import is_label, record_from_json

__all__ = [
    "FORMAT_NETWORK",
    "FORMAT_VERSION",
    "network_to_dict",
    "network_from_dict",
    "dumps_network",
    "loads_network",
    "save_network",
    "load_network",
    "save_certificate",
    "dumps_certificate",
]

FORMAT_NETWORK = "symtrunc.network"
FORMAT_VERSION = 1


def network_to_dict(network: ReLUNetwork) -> dict[str, Any]:
    """The JSON-ready dictionary of ``network``."""
    return {
        "format": FORMAT_NETWORK,
        "version": FORMAT_VERSION,
        "input_dim": network.input_dim,
        "output_dim": network.output_dim,
        "classes": list(network.classes),
        "layers": [
            {
                "W": [[str(v) for v in row] for row in layer.W.tolist()],
                "b": [str(v) for v in layer.b.entries()],
                "activation": layer.activation,
            }
            for layer in network.layers
        ],
        "construction": network.construction.to_json() if network.construction is not None else {},
    }


def network_from_dict(d: Any) -> ReLUNetwork:
    """Rebuild a network from :func:`network_to_dict` output, validating everything.

    Raises
    ------
    FormatError
        With a one-line description of the first problem.
    """
    if not isinstance(d, dict):
        raise FormatError("not a symtrunc network file (the top level is not a JSON object)")
    if d.get("format") != FORMAT_NETWORK:
        raise FormatError(f"not a symtrunc network file (format is {d.get('format')!r}, expected {FORMAT_NETWORK!r})")
    if d.get("version") != FORMAT_VERSION:
        raise FormatError(
            f"unsupported network format version {d.get('version')!r} (this symtrunc reads version "
            f"{FORMAT_VERSION}); upgrade symtrunc"
        )
    layers_json = d.get("layers")
    if not isinstance(layers_json, list) or not layers_json:
        raise FormatError("the network file has no 'layers' list")
    classes = d.get("classes") or []
    if isinstance(classes, list):  # float labels (JSON numbers with a point) as the floats written
        classes = [float(c) if isinstance(c, Decimal) else c for c in classes]
    if not isinstance(classes, list) or not all(is_label(c) for c in classes):
        raise FormatError("'classes' must be a list of labels (strings, numbers or booleans)")
    construction = record_from_json(_plain(d.get("construction") or {}))
    layers = []
    for k, L in enumerate(layers_json, 1):
        if not isinstance(L, dict) or "W" not in L or "b" not in L:
            raise FormatError(f"layer {k} needs 'W' and 'b'")
        W_json, b_json = L["W"], L["b"]
        if not isinstance(b_json, list) or not isinstance(W_json, list) or not all(isinstance(r, list) for r in W_json):
            raise FormatError(f"layer {k}: 'W' must be a list of rows and 'b' a list of numbers")
        try:
            W = qmatrix(L["W"], name=f"layer {k} W")
            b = qvector(L["b"])
        except (DataError, TypeError) as e:
            raise FormatError(f"layer {k}: {e}") from None
        layers.append(Layer(W, b, L.get("activation", "relu")))
    net = ReLUNetwork(tuple(layers), tuple(classes), construction)
    for key, value in (("input_dim", net.input_dim), ("output_dim", net.output_dim)):
        if key in d and d[key] != value:
            raise FormatError(f"{key} is {d[key]} but the layers give {value}")
    if net.classes and len(net.classes) != net.output_dim:
        raise FormatError(f"{len(net.classes)} classes listed for {net.output_dim} outputs")
    return net


def _plain(value: Any) -> Any:
    """Free-form metadata: JSON numbers back to Python floats/ints (weights are read exactly)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def dumps_network(network: ReLUNetwork) -> str:
    """Serialize to a JSON string."""
    return json.dumps(network_to_dict(network), indent=1, ensure_ascii=False)


def loads_network(text: str) -> ReLUNetwork:
    """Parse a JSON string."""
    try:
        # a JSON number 0.1 is read as exactly 1/10; integers past Python's 4,300-digit int()
        # limit as Decimal too (to_q then bounds digits and exponents: no 1e999999999 expansion)
        d = json.loads(text, parse_float=Decimal, parse_int=_json_int)
        return network_from_dict(d)
    except json.JSONDecodeError as e:
        raise FormatError(
            f"not a symtrunc network file (expected JSON; not valid JSON: {e.msg} at line {e.lineno})"
        ) from None
    except RecursionError:
        raise FormatError("not a symtrunc network file (JSON nested too deeply)") from None


def _json_int(s: str) -> int | Decimal:
    return int(s) if len(s) <= 4000 else Decimal(s)


def save_network(network: ReLUNetwork, path: str | Path) -> None:
    """Write ``network`` to ``path`` as exact JSON (atomically: :func:`symtrunc.files.atomic_write`)."""
    atomic_write(path, dumps_network(network) + "\n")


def load_network(path: str | Path) -> ReLUNetwork:
    """Read a network written by :func:`save_network`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormatError(f"no such file: {p}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise FormatError(f"cannot read {p}: {e}") from None
    try:
        return loads_network(text)
    except FormatError as e:  # name the file: "wine.csv: not a symtrunc network file (...)"
        raise FormatError(f"{p}: {e}") from None


def dumps_certificate(certificate: Any) -> str:
    """The JSON text of a :class:`~symtrunc.verification.Certificate` (format ``symtrunc.certificate``)."""
    return json.dumps(certificate.to_dict(), indent=1, ensure_ascii=False)


def save_certificate(certificate: Any, path: str | Path) -> None:
    """Write a :class:`~symtrunc.verification.Certificate` as JSON (atomically, like :func:`save_network`)."""
    atomic_write(path, dumps_certificate(certificate) + "\n")
