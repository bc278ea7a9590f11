"""SHA-256 digests of what a certificate speaks about: the network's function and the exact data.

A certificate names the digest of the network and of the data it was proved for, so it can be
re-checked later against files (:func:`symtrunc.verification.recheck.recheck_certificate`).
Both digests are taken over canonical serializations of *exact values*: the same rationals give
the same digest however they were stored (a CSV decimal, an ``int16`` or ``float64`` array, a
python-flint rational).

* **Network** (:func:`network_sha256`): the compact, key-sorted ASCII JSON of
  ``{"format": "symtrunc.function", "version": 1, "classes": [...], "layers": [{"shape": [out, in],
  "W": [["p/q", ...], ...], "b": [...], "activation": ...}, ...]}`` -- the layers and the class
  list, which are everything verification computes with. Metadata (``construction``) are left
  out: they play no part in a proof.
* **Data** (:class:`DataDigest`, :func:`data_sha256`): ``SHA-256(header ‖ R ‖ T)`` with the header
  ``"symtrunc.data/1 N M\\n"``, ``R`` the SHA-256 of the coordinates (points in order, row by
  row) and ``T`` the SHA-256 of the labels (in point order). A coordinate ``v = p/q`` (lowest
  terms) that a binary64 float represents exactly is encoded as ``b"F"`` and that float
  (little-endian, ``+0.0`` for zero), any other as ``b"R" + uint32 length + "p/q"`` (ASCII). A
  label is its compact ASCII JSON (numpy scalars as Python numbers, whole floats as integers)
  after a ``uint32`` length. Float and integer arrays are encoded vectorized, at memory speed.

Examples
--------
>>> import numpy as np
>>> from symtrunc.data.labeled import LabeledData
>>> d = LabeledData.from_arrays([["0.5", 3], [1, "1/3"]], ["a", "b"])
>>> h = data_sha256(d)
>>> len(h), h == data_sha256(LabeledData.from_arrays([["1/2", "3.0"], [1, "1/3"]], ["a", "b"]))
(64, True)
>>> h == data_sha256(LabeledData.from_arrays([["0.5", 3], [1, "1/3"]], ["a", "c"]))
False
>>> dig = DataDigest()
>>> dig.update(np.array([[0.5, 3.0]]), np.array(["a"]))
>>> dig.update(np.array([[1, 2]], dtype=np.int16), np.array(["b"]))
>>> dig.hexdigest() == data_sha256(LabeledData.from_arrays([["1/2", 3], [1, 2]], ["a", "b"]))
True
"""

from __future__ import annotations

import hashlib
import json
import struct
from typing import Any

import flint
import numpy as np

from symtrunc.data.labeled import LabeledData
from symtrunc.exact.rational import to_q

__all__ = ["network_sha256", "data_sha256", "DataDigest", "canonical_label"]

_FLOAT = np.dtype([("tag", "S1"), ("v", "<f8")])  # packed: 9 bytes, as struct "<cd"


def canonical_label(label: Any) -> Any:
    """A label as a plain Python value: numpy scalars unwrapped, whole floats as ints.

    >>> canonical_label(np.int16(3)), canonical_label(2.0), canonical_label("a")
    (3, 2, 'a')
    """
    if isinstance(label, np.generic):
        label = label.item()
    if isinstance(label, float) and label.is_integer():
        return int(label)
    return label


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=repr)


def network_sha256(network: Any) -> str:
    """SHA-256 (hex) of the network's layers and classes (see the module docstring).

    >>> from symtrunc.network import ReLUNetwork
    >>> a = ReLUNetwork.from_rows([([["1/2", 0]], [0], "identity")], classes=("x",))
    >>> b = ReLUNetwork(a.layers, a.classes, {"theorem": "metadata are not hashed"})
    >>> network_sha256(a) == network_sha256(b)
    True
    >>> network_sha256(a) == network_sha256(ReLUNetwork.from_rows([([["1/2", 0]], [0], "relu")], classes=("x",)))
    False
    """
    doc = {
        "format": "symtrunc.function",
        "version": 1,
        "classes": [canonical_label(c) for c in network.classes],
        "layers": [
            {
                "shape": list(layer.shape),
                "W": _entry_strings(layer.W),
                "b": [row[0] for row in _entry_strings(layer.b)],
                "activation": layer.activation,
            }
            for layer in network.layers
        ],
    }
    return hashlib.sha256(_json(doc).encode("ascii")).hexdigest()


def _entry_strings(M: flint.fmpq_mat) -> list[list[str]]:
    """``[[str(v) for v in row] for row in M.tolist()]``, computed from the common-denominator form
    (one gcd per entry in ``int64``) when the integers fit: the same strings (``p/q`` in lowest
    terms with ``q > 0``, or ``p``), much faster than python-flint's per-entry ``str``."""
    Z, den = M.numer_denom()
    d = int(den)
    ints = [int(v) for v in Z.entries()]
    if d >= 2**62 or (ints and max(max(ints), -min(ints)) >= 2**62):
        return [[str(v) for v in row] for row in M.tolist()]
    A = np.array(ints, dtype=np.int64)
    g = np.gcd(A, np.int64(d))
    g[g == 0] = 1  # a zero entry: 0/d reduces to 0/1
    ps, qs = (A // g).tolist(), (np.int64(d) // g).tolist()
    flat = [f"{p}/{q}" if q != 1 else str(p) for p, q in zip(ps, qs)]
    n = M.ncols()
    return [flat[i : i + n] for i in range(0, len(flat), n)]


def _value_bytes(q: flint.fmpq) -> bytes:
    p, d = int(q.p), int(q.q)
    if d & (d - 1) == 0 and p.bit_length() <= 1100:  # dyadic and not far beyond the float range
        try:
            f = p / d  # correctly rounded; exact when a float represents q
        except OverflowError:  # |q| rounds to 2^1024 or more: no float represents q
            pass
        else:
            if f.as_integer_ratio() == (p, d):
                return struct.pack("<cd", b"F", f + 0.0)
    text = f"{p}/{d}".encode("ascii")
    return b"R" + struct.pack("<I", len(text)) + text


_BLOCK = 1 << 15  # coordinates encoded at a time: the 9-byte records stay in cache while hashed


def _hash_numbers(h: Any, x: np.ndarray) -> None:
    """Feed ``h`` the records ``b"F" + float64`` of the values of ``x`` (floats, or integers of
    magnitude at most ``2^53``: exact as floats), through one reused block buffer (no full-size
    temporaries: encoding costs a fraction of the hashing)."""
    x = x.ravel()
    out = np.empty(min(x.size, _BLOCK), dtype=_FLOAT)
    out["tag"] = b"F"
    v = out["v"]
    for lo in range(0, x.size, _BLOCK):
        part = x[lo : lo + _BLOCK]
        if x.dtype.kind == "f":
            np.add(part, 0.0, out=v[: part.size])  # -0.0 becomes +0.0: one encoding per value
        else:
            v[: part.size] = part
        h.update(out[: part.size])


def _hash_values(h: Any, X: Any) -> None:
    """Feed ``h`` the canonical bytes of the exact values of ``X`` (row-major)."""
    if isinstance(X, flint.fmpq_mat):
        h.update(b"".join(_value_bytes(v) for v in X.entries()))
        return
    X = np.asarray(X)
    if X.dtype.kind == "f" and X.dtype.itemsize <= 8:
        _hash_numbers(h, X)  # float16/32 widen exactly
        return
    if X.dtype.kind in "biu" and X.dtype.itemsize <= 8:
        big = X.size and (X.max() > 2**53 or (X.dtype.kind == "i" and X.min() < -(2**53)))
        if not big:
            _hash_numbers(h, X)  # |v| <= 2^53: exact as a float
            return
    h.update(b"".join(_value_bytes(to_q(v)) for v in X.ravel().tolist()))


def _labels_bytes(labels: Any) -> bytes:
    labels = np.asarray(labels)
    try:
        uniq, inv = np.unique(labels, return_inverse=True)
    except TypeError:  # unorderable objects
        return b"".join(_label_bytes(v) for v in labels.tolist())
    enc = [_label_bytes(v) for v in uniq.tolist()]
    inv = np.asarray(inv).ravel()
    if len({len(e) for e in enc}) == 1:  # records of one length (e.g. the classes 0..9): gathered by NumPy
        table = np.frombuffer(b"".join(enc), dtype=np.uint8).reshape(len(enc), -1)
        return table[inv].tobytes()
    return b"".join([enc[i] for i in inv.tolist()])


def _label_bytes(label: Any) -> bytes:
    text = _json(canonical_label(label)).encode("ascii")
    return struct.pack("<I", len(text)) + text


class DataDigest:
    """Incremental SHA-256 of labeled points fed in order, in chunks of any size.

    ``update(X, labels)`` takes the points of a chunk as rows (a numeric NumPy array, an object
    array of exact numbers or an ``fmpq_mat``) and their labels.
    """

    def __init__(self) -> None:
        self._rows = hashlib.sha256()
        self._labels = hashlib.sha256()
        self.n_points = 0
        self.dim: int | None = None

    def update(self, X: Any, labels: Any) -> None:
        """Feed the next points (rows of ``X``) and their labels."""
        n, dim = (X.nrows(), X.ncols()) if isinstance(X, flint.fmpq_mat) else np.shape(X)
        if self.dim is None:
            self.dim = dim
        _hash_values(self._rows, X)
        self._labels.update(_labels_bytes(labels))
        self.n_points += n

    def hexdigest(self) -> str:
        """The digest of everything fed so far."""
        head = f"symtrunc.data/1 {self.n_points} {self.dim or 0}\n".encode("ascii")
        return hashlib.sha256(head + self._rows.digest() + self._labels.digest()).hexdigest()


_CHUNK_ROWS = 1 << 16


def data_sha256(data: LabeledData) -> str:
    """SHA-256 (hex) of exact labeled data: the points in order and their labels."""
    dig = DataDigest()
    names = np.empty(data.Q, dtype=object)
    names[:] = list(data.classes)  # element-wise: a class label may itself be a tuple
    labels = names[data.labels]
    ints = data.integer_array
    if ints is not None and ints[1] & (ints[1] - 1) == 0 and (not ints[0].size or int(np.abs(ints[0]).max()) <= 2**53):
        A, scale = ints[0], float(ints[1])
        for lo in range(0, max(len(A), 1), _CHUNK_ROWS):  # in chunks: no full-size temporaries
            dig.update(A[lo : lo + _CHUNK_ROWS] / scale, labels[lo : lo + _CHUNK_ROWS])  # A/s exact: same bytes
    else:
        dig.update(data.X, labels)
    return dig.hexdigest()
