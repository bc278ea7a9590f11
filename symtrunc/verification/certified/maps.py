r"""Exact affine maps per activation pattern, and the per-process state of a network.

On a fixed activation pattern the network is one affine map. :class:`Prepared` composes it
exactly in python-flint (0/1 masks between the exact layers): the *prefix maps*
``z_l = A x + c`` of the points whose signs on layers ``< l`` are a given prefix (with their
float images, :func:`~symtrunc.verification.certified.bounds.float_affine`), and per complete
pattern its outcome (:class:`PatternInfo`): the first layer where the activation is exactly
zero, the sign status of every hidden layer, and the output map or constant.

Caches
------
Everything here is cached per process, and every cache is sound:

* :class:`Prepared` is built for one network object and caches only values computed from it.
* ``_NETWORKS`` (the state of networks received pickled, on Dask workers) is keyed by the
  SHA-256 hash of the pickled network: equal keys mean equal contents.
* ``_PAYLOADS`` (pickled network and hash) and ``_LOCAL`` (the state of a network of this
  process) are keyed by ``id(network)`` and store a weak reference to the network; a hit
  requires ``ref() is network``, so a recycled ``id`` of a dead network never matches. The
  same live object always has the same contents because networks are immutable
  (:class:`~symtrunc.network.ReLUNetwork` and its :class:`~symtrunc.network.Layer` are frozen
  dataclasses whose exact matrices are read-only copies), so a hit is never stale.

Examples
--------
>>> from symtrunc.network import ReLUNetwork
>>> net = ReLUNetwork.from_rows([([[1, 0], [0, 1]], [0, -1], "relu"), ([[1, 1]], [0], "identity")])
>>> prep = prepared_local(net)
>>> prep is prepared_local(net), prep.nbytes
(True, 8)
>>> info = prep.pattern(bytes([0b11000000]) + bytes(7))    # both hidden neurons positive
>>> info.term, info.status, info.A, info.c
(None, ('pos',), [1, 1], [-1])
"""

from __future__ import annotations

import hashlib
import pickle
import weakref
from dataclasses import dataclass
from typing import Any

import flint
import numpy as np

from symtrunc.network import ReLUNetwork
from symtrunc.verification.certified.bounds import FloatAffine, float_affine, structured_affine
from symtrunc.verification.certified.kernel import StructuredChain

__all__ = ["PatternInfo", "Prepared", "payload", "prepared", "prepared_local"]

#: per-process state of networks received pickled, by content hash
_NETWORKS: dict[str, Prepared] = {}


class Prepared:
    """Per-process state for one network: float layers, composed maps, pattern outcomes."""

    def __init__(self, network: ReLUNetwork) -> None:
        self.network = network
        self.widths = [layer.shape[0] for layer in network.layers]
        # per hidden layer: byte offset of its packed bits (8-byte aligned blocks)
        self.offsets = []
        off = 0
        for k in range(network.depth - 1):
            self.offsets.append(off)
            off += 8 * ((self.widths[k] + 63) // 64)
        self.nbytes = max(off, 8)
        self._layer_float: dict[int, FloatAffine | None] = {}
        # the filter reasons about ReLU patterns: hidden identity layers go to the exact path
        self.float_ok = all(layer.activation == "relu" for layer in network.layers[:-1])
        self.prefix_maps: dict[tuple[int, bytes], tuple[flint.fmpq_mat, flint.fmpq_mat]] = {}
        self.prefix_float: dict[tuple[int, bytes], FloatAffine | None] = {}
        self.patterns: dict[bytes, PatternInfo] = {}
        self.zero_chain: dict[int, list[list[flint.fmpq]]] = {}
        self._chain: list[StructuredChain | None] = []  # [chain] once computed

    # the all-positive prefixes and the structured kernel -------------------------------
    def ones_prefix(self, l: int) -> bytes:
        """The packed signs of layers ``< l`` when all are positive, as the filter records them."""
        out = b""
        for k in range(l):
            m = self.widths[k]
            block = np.packbits(np.ones(m, dtype=bool)).tobytes()
            out += block + bytes(8 * ((m + 63) // 64) - len(block))
        return out

    def code_key(self, code: int) -> bytes:
        """The packed pattern of the kernel code ``code``
        (:mod:`~symtrunc.verification.certified.kernel`): all positive before layer ``code``,
        zero from there on."""
        pre = self.ones_prefix(code)
        return pre + bytes(self.nbytes - len(pre))

    def structured_chain(self) -> StructuredChain | None:
        """The rank-one maps of the all-positive prefixes of the first hidden layers, as far as
        they exist (:func:`~symtrunc.verification.certified.bounds.structured_affine`); ``None``
        when the first has none. Computed on first use."""
        if not self._chain:
            sts = []
            if self.float_ok:
                for l in range(self.network.depth - 1):
                    st = structured_affine(*self.prefix_map(l, self.ones_prefix(l)))
                    if st is None:
                        break
                    sts.append(st)
            self._chain.append(
                StructuredChain(
                    alphas=np.array([s.alpha for s in sts]),
                    G=np.array([s.g for s in sts]),
                    C=np.array([s.c for s in sts]),
                    K1=np.array([s.k1 for s in sts]),
                    K2=np.array([s.k2 for s in sts]),
                    T=np.array([s.T for s in sts]),
                    layers=len(sts),
                )
                if sts
                else None
            )
        return self._chain[0]

    # exact composed maps -------------------------------------------------------------
    def prefix_map(self, l: int, prefix: bytes) -> tuple[flint.fmpq_mat, flint.fmpq_mat]:
        """Exact ``(A, c)`` with ``z_l = A x + c`` for points whose signs on layers ``< l`` are ``prefix``."""
        key = (l, prefix)
        hit = self.prefix_maps.get(key)
        if hit is not None:
            return hit
        layer = self.network.layers[l]
        if l == 0:
            out = (layer.W, layer.b)
        else:
            A, c = self.prefix_map(l - 1, prefix[: self.offsets[l - 1]])
            bits = self.layer_bits(prefix, l - 1)
            m = len(bits)
            D = flint.fmpq_mat(m, m, [1 if (i == j and bits[i]) else 0 for i in range(m) for j in range(m)])
            WD = layer.W * D
            out = (WD * A, WD * c + layer.b)
        if len(self.prefix_maps) > 100_000:
            self.prefix_maps.clear()
            self.prefix_float.clear()
        self.prefix_maps[key] = out
        return out

    def layer_float(self, l: int) -> FloatAffine | None:
        """Float image of layer ``l`` itself (for the running kernel), computed on first use."""
        if l not in self._layer_float:
            layer = self.network.layers[l]
            self._layer_float[l] = float_affine(layer.W, layer.b)
        return self._layer_float[l]

    def prefix_float_map(self, l: int, prefix: bytes) -> FloatAffine | None:
        """Float image of :meth:`prefix_map`, computed on first use."""
        key = (l, prefix)
        if key not in self.prefix_float:
            self.prefix_float[key] = float_affine(*self.prefix_map(l, prefix))
        return self.prefix_float[key]

    def layer_bits(self, pattern: bytes, l: int) -> list[bool]:
        """The bits (``z > 0``) of hidden layer ``l`` in a packed pattern."""
        m = self.widths[l]
        block = np.frombuffer(pattern, dtype=np.uint8, count=(m + 7) // 8, offset=self.offsets[l])
        return np.unpackbits(block, count=m).astype(bool).tolist()

    def chain_after_zero(self, l: int) -> list[list[flint.fmpq]]:
        """Exact pre-activations of layers ``l+1 .. L-1`` when the activation after layer ``l`` is 0."""
        hit = self.zero_chain.get(l)
        if hit is None:
            layers = self.network.layers
            h = flint.fmpq_mat(layers[l].shape[0], 1)
            hit = []
            for j in range(l + 1, len(layers)):
                z = layers[j].W * h + layers[j].b
                hit.append(z.entries())
                h = flint.fmpq_mat(z.nrows(), 1, [v if v > 0 else 0 for v in z.entries()])
            self.zero_chain[l] = hit
        return hit

    def pattern(self, key: bytes) -> PatternInfo:
        """What the packed pattern ``key`` implies (cached)."""
        hit = self.patterns.get(key)
        if hit is None:
            hit = self.patterns[key] = self._pattern(key)
        return hit

    def _pattern(self, key: bytes) -> PatternInfo:
        n_hidden = self.network.depth - 1
        status = []  # per hidden layer: "pos" (all > 0), "neg" (all < 0), "ge", "le", "zero", "mixed"
        term = None
        for l in range(n_hidden):
            bits = self.layer_bits(key, l)
            if all(bits):
                status.append("pos")
            elif not any(bits):
                status.append("neg")
                term = l
                break
            else:
                status.append("mixed")
        if term is not None:
            chain = self.chain_after_zero(term)
            for vals in chain[:-1]:
                ge, le = all(v >= 0 for v in vals), all(v <= 0 for v in vals)
                status.append("zero" if ge and le else "ge" if ge else "le" if le else "mixed")
            return PatternInfo(term, tuple(status), tuple(chain[-1]), None, None)
        L = self.network.depth - 1
        A, c = self.prefix_map(L, key[: self.offsets[L - 1] + 8 * ((self.widths[L - 1] + 63) // 64)] if L > 0 else b"")
        if all(v == 0 for v in A.entries()):
            return PatternInfo(None, tuple(status), tuple(c.entries()), None, None)
        return PatternInfo(None, tuple(status), None, A, c)


@dataclass(frozen=True)
class PatternInfo:
    """What a complete activation pattern implies, exactly."""

    term: int | None  # first hidden layer whose activation is exactly 0
    status: tuple[str, ...]  # per hidden layer
    constant: tuple[flint.fmpq, ...] | None  # the output when the linear part is zero
    A: flint.fmpq_mat | None  # else the output map
    c: flint.fmpq_mat | None


#: pickled network and its hash, by id(network) with a weak reference (see the module docstring)
_PAYLOADS: dict[int, tuple[Any, bytes, str]] = {}
#: per-process state of a network of this process, by id(network) with a weak reference
_LOCAL: dict[int, tuple[Any, Prepared]] = {}


def payload(network: ReLUNetwork) -> tuple[bytes, str]:
    """The pickled network and its content hash (cached per network object)."""
    hit = _PAYLOADS.get(id(network))
    if hit is not None and hit[0]() is network:  # the same live object: the same (immutable) contents
        return hit[1], hit[2]
    data = pickle.dumps(network)
    token = hashlib.sha256(data).hexdigest()
    if len(_PAYLOADS) > 64:
        _PAYLOADS.clear()
    _PAYLOADS[id(network)] = (weakref.ref(network), data, token)
    return data, token


def prepared(token: str, data: bytes) -> Prepared:
    """The per-process state of a pickled network ``data``, by its content hash ``token``."""
    hit = _NETWORKS.get(token)
    if hit is None:
        if len(_NETWORKS) > 8:
            _NETWORKS.clear()
        hit = _NETWORKS[token] = Prepared(pickle.loads(data))
    return hit


def prepared_local(network: ReLUNetwork) -> Prepared:
    """The per-process state of a network object of this process (no pickling)."""
    hit = _LOCAL.get(id(network))
    if hit is not None and hit[0]() is network:  # the same live object: the same (immutable) contents
        return hit[1]
    if len(_LOCAL) > 8:
        _LOCAL.clear()
    prep = Prepared(network)
    _LOCAL[id(network)] = (weakref.ref(network), prep)
    return prep
