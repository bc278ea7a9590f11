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
* **Data** (:class:`DataDigest`, :func:`data_sha256`), format 2 (:data:`DATA_DIGEST_VERSION`):
  ``SHA-256(header ‖ R ‖ T)`` with the header ``"symtrunc.data/2 N M\\n"``, ``R`` the SHA-256 of
  the coordinates (points in order, row by row) and ``T`` the SHA-256 of the labels (in point
  order). The coordinates are cut into blocks of 65536 (the last one shorter, whatever the
  chunks they are fed in); a block is encoded in the first class that holds all its exact values
  -- ``b"1"`` + ``uint8`` (integers in 0..255), ``b"2"`` + ``int16``, ``b"4"`` + ``int32``
  (little-endian), ``b"8"`` + ``float64`` (values a binary64 float represents exactly,
  ``+0.0`` for zero), else ``b"R"`` + one format-1 record per value. Byte data are thus hashed
  where they lie, one byte per coordinate. A label is its compact ASCII JSON (numpy scalars as
  Python numbers, whole floats as integers) after its length as a little-endian ``uint32``.
  ``R`` and ``T`` enter the outer hash as raw 32-byte digests (not hex).
* **Float weights** (:func:`float_weights_sha256`, the ``weights_sha256`` of a float certificate
  written by ``symtrunc verify FLOATFILE DATA --certificate``): ``SHA-256`` of the ASCII line
  ``"symtrunc.float_weights/2 DTYPE\\n"`` followed, per layer, by ``"W OUT IN\\n"`` and the
  little-endian bytes of ``W`` (row-major, ``(out, in)``), ``"b OUT\\n"`` and those of ``b``,
  the factors of a structured layer ``W ≈ α I + U Vᵀ`` that the forward pass uses
  (``"alpha\\n"`` and ``α`` in the dtype, ``"U OUT K\\n"`` and ``U``, ``"V IN K\\n"`` and
  ``V``), and ``"ACTIVATION\\n"``: every float the network runs with, so two files that hold the
  same floats (an ONNX graph, a ``.npz``) have the same digest. (Float certificates of
  version 1 carry an earlier layout, ``symtrunc.float_weights/1``: shapes as Python tuples, no
  structured factors.)
* Format 1 (certificates of version 1; ``DataDigest(1)`` re-checks them): header
  ``"symtrunc.data/1 N M\\n"``, one record per coordinate ``v = p/q`` (lowest terms): ``b"F"``
  and the float (little-endian, ``+0.0`` for zero) when a binary64 float represents ``v``
  exactly, else ``b"R" + uint32 length + "p/q"`` (ASCII); labels as in format 2.

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
from collections.abc import Mapping
from typing import Any

import flint
import numpy as np

from symtrunc.data.labeled import LabeledData, canonical_label, integer_label_offsets
from symtrunc.errors import FormatError
from symtrunc.exact.rational import to_q

__all__ = [
    "network_sha256",
    "float_weights_sha256",
    "data_sha256",
    "DataDigest",
    "canonical_label",
    "DATA_DIGEST_VERSION",
    "digest_version",
]

_FLOAT = np.dtype([("tag", "S1"), ("v", "<f8")])  # packed: 9 bytes, as struct "<cd"


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


def float_weights_sha256(fnet: Any) -> str:
    """SHA-256 (hex) of the floats a :class:`~symtrunc.lowering.float_network.FloatNetwork` runs
    with (see the module docstring).

    >>> from symtrunc.network import ReLUNetwork
    >>> from symtrunc.lowering.float_network import lower
    >>> net = ReLUNetwork.from_rows([([["1/2", 0], [0, 1]], [0, "1/3"], "relu"), ([[1, 1]], [0], "identity")])
    >>> a = float_weights_sha256(lower(net, "float32"))
    >>> a == float_weights_sha256(lower(net, "float32")), a == float_weights_sha256(lower(net))
    (True, False)
    """
    dt = np.dtype(fnet.dtype).newbyteorder("<")
    h = hashlib.sha256(f"symtrunc.float_weights/2 {np.dtype(fnet.dtype).name}\n".encode("ascii"))

    def put(name: str, arr: Any) -> None:
        a = np.ascontiguousarray(arr, dtype=dt)
        h.update(" ".join([name, *map(str, a.shape)]).encode("ascii") + b"\n")
        h.update(a.tobytes())

    structures = getattr(fnet, "layer_structures", None) or (None,) * len(fnet.weights)
    for W, b, act, st in zip(fnet.weights, fnet.biases, fnet.activations, structures):
        put("W", W)
        put("b", b)
        if st is not None:
            put("alpha", np.asarray(st.alpha))
            put("U", st.U)
            put("V", st.V)
        h.update(f"{act}\n".encode("ascii"))
    return h.hexdigest()


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


def _exact_float(q: flint.fmpq) -> float | None:
    """The binary64 float that represents ``q`` exactly (``+0.0`` for zero), or ``None``."""
    p, d = int(q.p), int(q.q)
    if d & (d - 1) == 0 and p.bit_length() <= 1100:  # dyadic and not far beyond the float range
        try:
            f = p / d  # correctly rounded; exact when a float represents q
        except OverflowError:  # |q| rounds to 2^1024 or more: no float represents q
            return None
        if f.as_integer_ratio() == (p, d):
            return f + 0.0
    return None


def _value_bytes(q: flint.fmpq) -> bytes:
    f = _exact_float(q)
    if f is not None:
        return struct.pack("<cd", b"F", f)
    text = f"{q.p}/{q.q}".encode("ascii")
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
    """Feed ``h`` the format-1 records of the exact values of ``X`` (row-major; an ``fmpq_mat``,
    a list of rationals or an array)."""
    if isinstance(X, (flint.fmpq_mat, list)):
        h.update(b"".join(_value_bytes(v) for v in (X.entries() if isinstance(X, flint.fmpq_mat) else X)))
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
    labels = np.asarray(labels).ravel()
    found = integer_label_offsets(labels)
    if found is not None:  # small integers (whole floats too): found by counting, indexed by value
        lo, inv = found
        present = np.flatnonzero(np.bincount(inv)).tolist()
        enc = {v: _label_bytes(v + lo) for v in present}
    else:
        try:
            uniq, inv = np.unique(labels, return_inverse=True)
        except TypeError:  # unorderable objects
            return b"".join(_label_bytes(v) for v in labels.tolist())
        enc = dict(enumerate(map(_label_bytes, uniq.tolist())))
    inv = np.asarray(inv).ravel()
    if len({len(e) for e in enc.values()}) == 1:  # records of one length (e.g. the classes 0..9): gathered by NumPy
        width = len(next(iter(enc.values())))
        table = np.zeros((max(enc) + 1, width), dtype=np.uint8)
        for v, e in enc.items():
            table[v] = np.frombuffer(e, dtype=np.uint8)
        return np.take(table, inv, axis=0).tobytes()
    return b"".join([enc[i] for i in inv.tolist()])


def _label_bytes(label: Any) -> bytes:
    text = _json(canonical_label(label)).encode("ascii")
    return struct.pack("<I", len(text)) + text


#: the data digest format written by this symtrunc (1 is still computed, to re-check old certificates)
DATA_DIGEST_VERSION = 2
_VERSIONS = (1, 2)  # the formats this symtrunc computes
_V2_BLOCK = 1 << 16  # coordinates per block of format 2
_V2_TAGS = (b"1", b"2", b"4", b"8", b"R")  # the block classes, each a superset of the one before
_V2_INTS = (np.dtype("u1"), np.dtype("<i2"), np.dtype("<i4"))
_F8 = np.dtype("<f8")

#: a run of coordinates: a flat numeric NumPy array, or a list of python-flint rationals
_Piece = Any


def _piece(X: Any) -> _Piece:
    """The coordinates of ``X`` (rows of a chunk) in row-major order, as one :data:`_Piece`."""
    if isinstance(X, flint.fmpq_mat):
        return list(X.entries())
    X = np.asarray(X)
    if X.dtype.kind == "f" and X.size and X.dtype.itemsize <= 8:  # bytes held as floats: narrowed in one pass
        narrow = _cast_exact(X, np.uint8)
        if narrow is not None:
            return narrow.reshape(-1)  # the same values: the same blocks
    if X.dtype.kind in "biuf" and X.dtype.itemsize <= 8:
        return X.reshape(-1)
    return [to_q(v) for v in X.reshape(-1).tolist()]


def _cast_exact(x: np.ndarray, dtype: Any) -> np.ndarray | None:
    """``x`` cast to ``dtype`` when that gives every value back exactly (a look at the first 64
    values first), else ``None``."""
    with np.errstate(invalid="ignore"):  # NaN and out-of-range values: not given back
        if not np.array_equal(x.flat[:64].astype(dtype), x.flat[:64]):
            return None
        out = x.astype(dtype)
    return out if np.array_equal(out, x) else None


def _int_class(lo: int, hi: int) -> int:
    """The narrowest integer class holding ``[lo, hi]``, or 3 (floats) if none does."""
    if 0 <= lo and hi <= 255:
        return 0
    if -(2**15) <= lo and hi < 2**15:
        return 1
    if -(2**31) <= lo and hi < 2**31:
        return 2
    return 3


def _is_float(v: int) -> bool:
    """Whether a binary64 float represents the integer ``v`` (int == float compares exactly)."""
    try:
        return float(v) == v
    except OverflowError:
        return False


def _classify(p: _Piece) -> tuple[int, Any]:
    """The class of a piece's values (index into ``_V2_TAGS``) and, when it was computed on the
    way, the piece encoded in that class (else ``None``)."""
    if isinstance(p, list):
        if all(q.q == 1 for q in p):
            ints = [int(q.p) for q in p]
            c = _int_class(min(ints), max(ints)) if ints else 0
            if c < 3 or all(_is_float(v) for v in ints if abs(v) > 2**53):
                return c, None
            return 4, None
        return (3 if all(_exact_float(q) is not None for q in p) else 4), None
    if p.dtype == np.uint8 or p.dtype.kind == "b" or not p.size:
        return 0, None
    if p.dtype.kind in "iu":
        lo, hi = p.min(), p.max()
        c = _int_class(int(lo), int(hi))
        if c < 3 or max(-int(lo), int(hi)) <= 2**53 or all(_is_float(v) for v in p.tolist()):
            return c, None
        return 4, None
    for c, dt in enumerate(_V2_INTS):  # floats: the first integer class whose cast gives them back
        enc = _cast_exact(p, dt)
        if enc is not None:
            return c, enc
    return 3, None


def _encode(p: _Piece, c: int) -> Any:
    """The bytes of a piece in class ``c < 4`` (at least its own class)."""
    if isinstance(p, list):
        if c == 3:
            return np.array([_exact_float(q) for q in p], dtype=_F8).tobytes()
        return np.array([int(q.p) for q in p], dtype=_V2_INTS[c]).tobytes()
    if c == 3:
        return p.astype(_F8) + 0.0  # -0.0 becomes +0.0: one encoding per value
    if p.dtype == _V2_INTS[c]:
        return np.ascontiguousarray(p)  # no copy: hashed where it lies
    return p.astype(_V2_INTS[c])


class DataDigest:
    """Incremental SHA-256 of labeled points fed in order, in chunks of any size.

    ``update(X, labels)`` takes the points of a chunk as rows (a numeric NumPy array, an object
    array of exact numbers or an ``fmpq_mat``) and their labels. ``version`` is the format
    (:data:`DATA_DIGEST_VERSION` unless an old certificate is re-checked); the digest does not
    depend on how the points are split into chunks.
    """

    def __init__(self, version: int = DATA_DIGEST_VERSION) -> None:
        if version not in _VERSIONS:
            raise FormatError(f"unknown data digest version {version!r} (this symtrunc knows 1 and 2)")
        self.version = version
        self._rows = hashlib.sha256()
        self._labels = hashlib.sha256()
        self._pending: list[_Piece] = []  # format 2: the start of a block not yet full
        self._pending_n = 0
        self.n_points = 0
        self.dim: int | None = None

    def update(self, X: Any, labels: Any) -> None:
        """Feed the next points (rows of ``X``) and their labels."""
        n, dim = (X.nrows(), X.ncols()) if isinstance(X, flint.fmpq_mat) else np.shape(X)
        if self.dim is None:
            self.dim = dim
        if self.version == 1:
            _hash_values(self._rows, X)
        else:
            self._feed(_piece(X))
        self._labels.update(_labels_bytes(labels))
        self.n_points += n

    def _feed(self, p: _Piece) -> None:
        pos, size = 0, len(p)
        if self._pending_n:
            pos = min(_V2_BLOCK - self._pending_n, size)
            self._pending_n += pos
            if self._pending_n < _V2_BLOCK:
                self._pending.append(_kept(p))
                return
            self._pending.append(p[:pos])
            _hash_block(self._rows, self._pending)
            self._pending, self._pending_n = [], 0
        for lo in range(pos, size - _V2_BLOCK + 1, _V2_BLOCK):
            _hash_block(self._rows, [p[lo : lo + _V2_BLOCK]])
            pos = lo + _V2_BLOCK
        if pos < size:
            self._pending, self._pending_n = [_kept(p[pos:])], size - pos

    def hexdigest(self) -> str:
        """The digest of everything fed so far."""
        rows = self._rows
        if self._pending:  # the last, shorter block (the state stays open for more points)
            rows = rows.copy()
            _hash_block(rows, self._pending)
        head = f"symtrunc.data/{self.version} {self.n_points} {self.dim or 0}\n".encode("ascii")
        return hashlib.sha256(head + rows.digest() + self._labels.digest()).hexdigest()


def _kept(p: _Piece) -> _Piece:
    """A piece that outlives the caller's buffer (which may be reused for the next chunk)."""
    return p if isinstance(p, list) else p.copy()


def digest_version(doc: Any) -> int:
    """The data digest format a saved certificate (mapping) names: ``data_digest_version``, or 1
    for certificates written before the field existed.

    >>> digest_version({"data_sha256": "ab" * 32}), digest_version({"data_digest_version": 2})
    (1, 2)
    >>> digest_version({"data_digest_version": "2"})
    Traceback (most recent call last):
    ...
    symtrunc.errors.FormatError: data_digest_version must be 1 or 2 (an integer), got '2'

    Raises
    ------
    FormatError
        If the field is there but is not the integer 1 or 2.
    """
    if not isinstance(doc, Mapping) or "data_digest_version" not in doc:
        return 1
    v = doc["data_digest_version"]
    if isinstance(v, bool) or not isinstance(v, int) or v not in _VERSIONS:
        raise FormatError(f"data_digest_version must be 1 or 2 (an integer), got {v!r}")
    return v


def _hash_block(h: Any, pieces: list[_Piece]) -> None:
    """Feed ``h`` one block of format 2: its class tag, then its coordinates in that class."""
    classes = [_classify(p) for p in pieces]
    c = max(k for k, _ in classes)
    h.update(_V2_TAGS[c])
    for p, (k, enc) in zip(pieces, classes):
        if c == 4:
            _hash_values(h, p)  # format-1 records
        else:
            h.update(enc if k == c and enc is not None else _encode(p, c))


_CHUNK_ROWS = 1 << 16


def data_sha256(data: LabeledData, version: int = DATA_DIGEST_VERSION) -> str:
    """SHA-256 (hex) of exact labeled data: the points in order and their labels (format
    ``version``)."""
    dig = DataDigest(version)
    names = np.empty(data.Q, dtype=object)
    names[:] = list(data.classes)  # element-wise: a class label may itself be a tuple
    labels = names[data.labels]
    ints = data.integer_array
    # integers A with X = A/s, in chunks (no full-size temporaries): as they are when s = 1, else
    # A/s in float64, exact when s is a power of two and |A| <= 2^53
    if ints is not None and (
        ints[1] == 1 or (ints[1] & (ints[1] - 1) == 0 and (not ints[0].size or int(np.abs(ints[0]).max()) <= 2**53))
    ):
        A, scale = ints
        for lo in range(0, max(len(A), 1), _CHUNK_ROWS):
            part = A[lo : lo + _CHUNK_ROWS]
            dig.update(part if scale == 1 else part / float(scale), labels[lo : lo + _CHUNK_ROWS])
    else:
        dig.update(data.X, labels)
    return dig.hexdigest()
