"""Exact ReLU networks: layers ``(W_l, b_l)`` in ``(out, in)`` layout and cumulative parameters.

A network with ``L`` layers computes (Chen & Muñoz Ewald, eq. 2.1)::

    x^(l) = σ(W_l x^(l-1) + b_l),  l = 1..L-1      (hidden, ReLU)
    x^(L) = W_L x^(L-1) + b_L                        (output, affine)

The cumulative parameters (eqs. 3.4–3.5) are ``W^(l) = W_l W^(l-1)`` and
``b^(l) = W_l b^(l-1) + b_l``; :meth:`ReLUNetwork.from_cumulative` inverts this with
``W_l = W^(l) (W^(l-1))^+`` and ``b_l = b^(l) - W_l b^(l-1)``.

Examples
--------
>>> from symtrunc.network import Layer, ReLUNetwork
>>> net = ReLUNetwork.from_rows([
...     ([[-1, 0], [0, 1]], ["7/4", "-5/4"], "relu"),
...     ([[-1, 0], [0, -1]], ["1/2", "1/2"], "relu"),
...     ([["7/6", "5/6"], ["-5/6", "-7/6"]], [0, 1], "identity"),
... ])
>>> net.widths
(2, 2, 2, 2)
>>> net.forward([[2, 0], [0, 2]])
[1, 0]
[0, 1]
>>> W3, b3 = net.cumulative()[2]
>>> W3
[ 7/6, -5/6]
[-5/6,  7/6]
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import flint

from symtrunc.data.labeled import LabeledData
from symtrunc.errors import FormatError
from symtrunc.exact.evaluate import exact_forward, integer_pass_values
from symtrunc.exact.matrix import frozen, pinv, qmatrix, qvector
from symtrunc.exact.rational import to_q
from symtrunc.records import ConstructionRecord, PaperCount, record_from_json

__all__ = ["Layer", "ReLUNetwork", "ParameterCount"]

ACTIVATIONS = ("relu", "identity")


@dataclass(frozen=True, repr=False)
class Layer:
    """One exact affine layer followed by an activation.

    The layer keeps read-only copies of ``W`` and ``b``
    (:class:`~symtrunc.exact.matrix.FrozenQMatrix`): changing the matrices it was built from
    does not change it, and its own matrices refuse item assignment, so every evaluation plan
    cached for it stays valid. Build a changed layer instead
    (:meth:`ReLUNetwork.with_layer`).

    Attributes
    ----------
    W : flint.fmpq_mat
        Weights, shape ``(out, in)`` (read-only).
    b : flint.fmpq_mat
        Bias, shape ``(out, 1)`` (read-only).
    activation : {"relu", "identity"}

    Examples
    --------
    >>> from symtrunc.exact.matrix import qmatrix
    >>> W = qmatrix([[1, 2]])
    >>> layer = Layer(W, qmatrix([[0]]), "identity")
    >>> W[0, 0] = 5                     # the layer holds its own copy
    >>> layer.W
    [1, 2]
    >>> layer.W[0, 0] += 1
    Traceback (most recent call last):
    ...
    TypeError: exact matrices held by symtrunc objects are read-only; copy with flint.fmpq_mat(M)
    """

    W: flint.fmpq_mat
    b: flint.fmpq_mat
    activation: str = "relu"

    def __post_init__(self) -> None:
        object.__setattr__(self, "W", frozen(qmatrix(self.W, name="W")))
        object.__setattr__(self, "b", frozen(qmatrix(self.b, name="b")))
        if self.activation not in ACTIVATIONS:
            raise FormatError(f"unknown activation {self.activation!r}; use 'relu' or 'identity'")
        if self.b.ncols() != 1 or self.b.nrows() != self.W.nrows():
            raise FormatError(f"bias has shape {self.b.nrows()}x{self.b.ncols()}, expected {self.W.nrows()}x1")

    def __reduce__(self):
        # python-flint matrices do not pickle; exact strings do (needed by multiprocessing/Dask)
        W, b = self.W, self.b
        return (
            _layer_from_strings,
            (W.nrows(), W.ncols(), [str(v) for v in W.entries()], [str(v) for v in b.entries()], self.activation),
        )

    @property
    def shape(self) -> tuple[int, int]:
        """``(out, in)``."""
        return (self.W.nrows(), self.W.ncols())

    def __repr__(self) -> str:
        """Shape and activation only; ``str(layer)`` adds the exact ``W`` and ``b``.

        >>> layer = Layer(qmatrix([[1, "1/2"]]), qmatrix([[0]]), "identity")
        >>> layer
        Layer(shape=(1, 2), activation='identity')
        >>> print(layer)
        Layer(shape=(1, 2), activation='identity')
        W:
        [1, 1/2]
        b:
        [0]
        """
        return f"Layer(shape={self.shape}, activation={self.activation!r})"

    def __str__(self) -> str:
        return f"{self!r}\nW:\n{self.W}\nb:\n{self.b}"


def _layer_from_strings(m: int, n: int, W: list[str], b: list[str], activation: str) -> Layer:
    return Layer(flint.fmpq_mat(m, n, [to_q(v) for v in W]), flint.fmpq_mat(m, 1, [to_q(v) for v in b]), activation)


@dataclass(frozen=True)
class ParameterCount:
    """Numbers of weights and biases of a network."""

    weights: int
    biases: int

    @property
    def total(self) -> int:
        """Weights plus biases."""
        return self.weights + self.biases


@dataclass(frozen=True, repr=False)
class ReLUNetwork:
    """An exact fully connected ReLU network.

    ``repr(net)`` is one short line (widths, number of classes, method, theorem); ``str(net)``
    (``print(net)``, ``symtrunc info``) describes the construction, widths, parameter counts and
    every layer. The exact weights are ``net.layers[k].W`` and ``net.layers[k].b``.

    Attributes
    ----------
    layers : tuple of Layer
        Hidden layers use ``"relu"``, the last layer ``"identity"``. Layers are immutable, so a
        network is too.
    classes : tuple
        Labels in output order (may be empty for a plain function).
    construction : ConstructionRecord or None
        The typed, immutable record of the theorem that built the network
        (:mod:`symtrunc.records`: theorem, label matrix, collapse steps, ...). A JSON-shaped
        mapping, as in network files, is read with :func:`~symtrunc.records.record_from_json`.
    """

    layers: tuple[Layer, ...]
    classes: tuple[Any, ...] = ()
    construction: ConstructionRecord | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "classes", tuple(self.classes))
        if isinstance(self.construction, Mapping):  # the JSON form (files, older callers)
            object.__setattr__(self, "construction", record_from_json(self.construction))
        if not self.layers:
            raise FormatError("a network needs at least one layer")
        for k, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise FormatError(f"layer {k + 1} is a {type(layer).__name__}, not a Layer")
        for k in range(1, len(self.layers)):
            if self.layers[k].shape[1] != self.layers[k - 1].shape[0]:
                raise FormatError(
                    f"layer {k + 1} takes {self.layers[k].shape[1]} inputs but layer {k} "
                    f"has {self.layers[k - 1].shape[0]} outputs"
                )
        if self.construction is not None:
            self.construction.check_fits(self.input_dim, self.output_dim)

    # -------------------------------------------------------------- building
    @classmethod
    def from_rows(cls, spec: Sequence[tuple[Any, Any, str]], **kwargs: Any) -> ReLUNetwork:
        """Build from ``[(W rows, b entries, activation), ...]`` with exact-convertible numbers."""
        layers = tuple(Layer(qmatrix(W, name="W"), qvector(b), act) for W, b, act in spec)
        return cls(layers, **kwargs)

    @classmethod
    def from_cumulative(
        cls,
        cumulative: Sequence[tuple[flint.fmpq_mat, flint.fmpq_mat]],
        **kwargs: Any,
    ) -> ReLUNetwork:
        """Recover layers from cumulative parameters ``(W^(l), b^(l))``, ``l = 1..L``.

        The last pair is the output layer (identity activation), the others are ReLU
        layers. Uses ``W_l = W^(l) (W^(l-1))^+`` (the inverse when square) and
        ``b_l = b^(l) - W_l b^(l-1)`` (Ewa25 eqs. 3.15–3.16).

        >>> from symtrunc.exact.matrix import qmatrix
        >>> cum = [(qmatrix([[0, 1], [-1, 2]]), qmatrix([["-5/4"], ["-3/4"]])),
        ...        (qmatrix([[2, -1], [1, 0]]), qmatrix([["-3/4"], ["-5/4"]]))]
        >>> net = ReLUNetwork.from_cumulative(cum)
        >>> net.layers[1].W, net.layers[1].b.transpose()
        ([3, -2]
        [2, -1], [3/2, 1/2])
        """
        layers = []
        prev: tuple[flint.fmpq_mat, flint.fmpq_mat] | None = None  # (W^(l-1), b^(l-1))
        for k, (Wc, bc) in enumerate(cumulative):
            act = "identity" if k == len(cumulative) - 1 else "relu"
            if prev is None:
                W, b = Wc, bc
            else:
                prev_W, prev_b = prev
                square = prev_W.nrows() == prev_W.ncols() and prev_W.rank() == prev_W.nrows()
                # W_l = W^(l) (W^(l-1))^{-1} when invertible: with W^(l-1) = A/d and W^(l) = B/e,
                # W_l^T = (d/e) X for the integer system A^T X = B^T (python-flint's fmpz solve)
                if square:
                    (A, d), (B, e) = prev_W.numer_denom(), Wc.numer_denom()
                    X = cast(flint.fmpq_mat, A.transpose().solve(B.transpose()))
                    W = X.transpose() * flint.fmpq(int(d), int(e))
                else:
                    W = Wc * pinv(prev_W)
                b = bc - W * prev_b
            layers.append(Layer(W, b, act))
            prev = Wc, bc
        return cls(tuple(layers), **kwargs)

    # ------------------------------------------------------------ structure
    @property
    def input_dim(self) -> int:
        """``d_0``."""
        return self.layers[0].shape[1]

    @property
    def output_dim(self) -> int:
        """``d_L``."""
        return self.layers[-1].shape[0]

    @property
    def widths(self) -> tuple[int, ...]:
        """``(d_0, d_1, ..., d_L)``."""
        return (self.input_dim,) + tuple(layer.shape[0] for layer in self.layers)

    @property
    def depth(self) -> int:
        """Number of layers ``L`` (hidden layers plus the output layer)."""
        return len(self.layers)

    def parameter_count(self) -> ParameterCount:
        """Numbers of weights and biases.

        >>> ReLUNetwork.from_rows([([[1, 2]], [0], "identity")]).parameter_count()
        ParameterCount(weights=2, biases=1)
        """
        return ParameterCount(
            weights=sum(a * b for a, b in (layer.shape for layer in self.layers)),
            biases=sum(layer.shape[0] for layer in self.layers),
        )

    def cumulative(self) -> list[tuple[flint.fmpq_mat, flint.fmpq_mat]]:
        """Cumulative parameters ``(W^(l), b^(l))`` for ``l = 1..L`` (eqs. 3.4–3.5)."""
        out: list[tuple[flint.fmpq_mat, flint.fmpq_mat]] = []
        for layer in self.layers:
            if not out:
                W, b = layer.W, layer.b
            else:
                W_prev, b_prev = out[-1]
                W, b = layer.W * W_prev, layer.W * b_prev + layer.b
            out.append((W, b))
        return out

    def with_layer(self, k: int, layer: Layer) -> ReLUNetwork:
        """A copy with layer ``k`` (0-based) replaced."""
        layers = list(self.layers)
        layers[k] = layer
        return ReLUNetwork(tuple(layers), self.classes, self.construction)

    # ------------------------------------------------------------ display
    def __repr__(self) -> str:
        """``ReLUNetwork(widths=..., classes=Q, method=..., theorem=...)``, one line.

        >>> ReLUNetwork.from_rows([([[1, 2]], ["1/2"], "identity")])
        ReLUNetwork(widths=(2, 1))
        """
        parts = [f"widths={self.widths}"]
        if self.classes:
            parts.append(f"classes={len(self.classes)}")
        record = self.construction
        if record is not None and record.method:
            parts.append(f"method={record.method!r}")
        if record is not None and record.theorem:
            parts.append(f"theorem={_short_theorem(record.theorem)!r}")
        return f"ReLUNetwork({', '.join(parts)})"

    def __str__(self) -> str:
        """The recorded construction, widths, parameter counts and every layer (``symtrunc info``).

        >>> print(ReLUNetwork.from_rows([([[1, 2]], ["1/2"], "identity")]))
        theorem:     (none recorded)
        widths:      2 -> 1
        parameters:  2 weights + 1 biases = 3
        layer  shape  activation  weights  biases  largest entry (bits)
            1  1x2    identity          2       1  2
        """
        record = self.construction
        count = self.parameter_count()
        pairs = [("theorem", record.theorem if record is not None and record.theorem else "(none recorded)")]
        pairs += list(record.describe()) if record is not None else []
        if self.classes:
            pairs.append(("classes", f"{', '.join(map(str, self.classes))} (output order)"))
        pairs.append(("widths", " -> ".join(map(str, self.widths))))
        pairs.append(("parameters", f"{count.weights} weights + {count.biases} biases = {count.total}"))
        if record is not None:
            pairs += [("paper", _paper_count(c, count)) for c in record.parameter_counts()]
        lines = [f"{key + ':':<12} {text}" for key, text in pairs]
        lines.append("layer  shape  activation  weights  biases  largest entry (bits)")
        for k, layer in enumerate(self.layers, 1):
            o, i = layer.shape
            bits = max(
                max(abs(int(v.p)).bit_length(), int(v.q).bit_length())
                for v in list(layer.W.entries()) + list(layer.b.entries())
            )
            lines.append(f"{k:5d}  {f'{o}x{i}':<5}  {layer.activation:<10}  {o * i:7d}  {o:6d}  {bits}")
        return "\n".join(lines)

    # ------------------------------------------------------------ evaluation
    def integer_pass(self, A: flint.fmpz_mat, s: int) -> Iterator[tuple[int, list, int]]:
        """Exact forward pass on integer-scaled columns, layer by layer.

        ReLU commutes with positive scaling, so with inputs ``X^T = A/s`` every layer is an
        integer affine map. Yields ``(k, values, scale)`` for ``k = 0..L-1``, where ``values``
        is the row-major list of the integer pre-activations ``H`` (shape ``(d_{k+1}, N)``) and
        the exact pre-activations are ``H / scale``.

        Parameters
        ----------
        A : flint.fmpz_mat
            Integer numerators of the input points as columns, shape ``(d_0, N)``.
        s : int
            Positive common denominator.
        """

        if A.nrows() != self.input_dim:
            raise FormatError(f"points have dimension {A.nrows()}, the network expects {self.input_dim}")
        # fast exact evaluator: per-neuron integer scales, float64 BLAS while provably exact
        yield from integer_pass_values(self, A, int(s))

    def forward(self, points: Any) -> flint.fmpq_mat:
        """Exact outputs for points given as rows (shape ``(N, d_0)``); returns ``(N, d_L)``.

        Parameters
        ----------
        points : LabeledData, fmpq_mat or array-like of shape (N, d_0)
        """

        if isinstance(points, LabeledData):
            X = points.X
        else:
            X = qmatrix(points, name="points")
        if X.ncols() != self.input_dim:
            raise FormatError(f"points have dimension {X.ncols()}, the network expects {self.input_dim}")
        # integer scaling with a-priori bounds: float64 BLAS while provably exact, else flint
        return exact_forward(self, X)

    __call__ = forward


def _short_theorem(theorem: str) -> str:
    """The theorem's name without its source and hypotheses.

    >>> _short_theorem("Theorem 5.2 (Chen & Muñoz Ewald, arXiv 2405.07098): SLS data, Q hidden layers of width M")
    'Theorem 5.2'
    """
    return re.sub(r"\s*\([^)]*\)", "", theorem).split(":")[0].strip()


def _paper_count(c: PaperCount, count: ParameterCount) -> str:
    text = f"{c.formula} = {c.value} {c.counts} ({c.source})"
    if c.kind in ("weights", "total"):
        text += f"; this network: {getattr(count, c.kind)}"
    return text
