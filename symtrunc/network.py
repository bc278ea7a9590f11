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

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import flint

from symtrunc.errors import FormatError
from symtrunc.exact.matrix import pinv, qmatrix, qvector
from symtrunc.exact.rational import to_q
from symtrunc.exact.evaluate import integer_pass_values
from symtrunc.data.labeled import LabeledData
from symtrunc.exact.evaluate import exact_forward

__all__ = ["Layer", "ReLUNetwork", "ParameterCount"]

ACTIVATIONS = ("relu", "identity")


@dataclass(frozen=True)
class Layer:
    """One exact affine layer followed by an activation.

    Attributes
    ----------
    W : flint.fmpq_mat
        Weights, shape ``(out, in)``.
    b : flint.fmpq_mat
        Bias, shape ``(out, 1)``.
    activation : {"relu", "identity"}
    """

    W: flint.fmpq_mat
    b: flint.fmpq_mat
    activation: str = "relu"

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise FormatError(f"unknown activation {self.activation!r}; use 'relu' or 'identity'")
        if self.b.ncols() != 1 or self.b.nrows() != self.W.nrows():
            raise FormatError(
                f"bias has shape {self.b.nrows()}x{self.b.ncols()}, expected {self.W.nrows()}x1"
            )

    def __reduce__(self):
        # python-flint matrices do not pickle; exact strings do (needed by multiprocessing/Dask)
        W, b = self.W, self.b
        return (_layer_from_strings, (W.nrows(), W.ncols(), [str(v) for v in W.entries()],
                                      [str(v) for v in b.entries()], self.activation))

    @property
    def shape(self) -> tuple[int, int]:
        """``(out, in)``."""
        return (self.W.nrows(), self.W.ncols())

    @cached_property
    def integer_form(self) -> tuple[flint.fmpz_mat, int]:
        """``([e·A | d·c], d·e)`` with ``W = A/d``, ``b = c/e`` integer: the homogeneous integer map."""
        A, d = self.W.numer_denom()
        c, e = self.b.numer_denom()
        d, e = int(d), int(e)
        out, inp = self.shape
        Ar, cr = A.tolist(), c.tolist()
        rows = [[v * e for v in Ar[i]] + [cr[i][0] * d] for i in range(out)]
        return flint.fmpz_mat(rows), d * e


def _layer_from_strings(m: int, n: int, W: list[str], b: list[str], activation: str) -> Layer:
    return Layer(flint.fmpq_mat(m, n, [to_q(v) for v in W]), flint.fmpq_mat(m, 1, [to_q(v) for v in b]),
                 activation)


@dataclass(frozen=True)
class ParameterCount:
    """Numbers of weights and biases of a network."""

    weights: int
    biases: int

    @property
    def total(self) -> int:
        """Weights plus biases."""
        return self.weights + self.biases


@dataclass(frozen=True)
class ReLUNetwork:
    """An exact fully connected ReLU network.

    Attributes
    ----------
    layers : tuple of Layer
        Hidden layers use ``"relu"``, the last layer ``"identity"``.
    classes : tuple
        Labels in output order (may be empty for a plain function).
    construction : Mapping
        Free-form, JSON-friendly metadata: theorem, order, base points, ...
    """

    layers: tuple[Layer, ...]
    classes: tuple[Any, ...] = ()
    construction: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not self.layers:
            raise FormatError("a network needs at least one layer")
        for k in range(1, len(self.layers)):
            if self.layers[k].W.ncols() != self.layers[k - 1].W.nrows():
                raise FormatError(
                    f"layer {k + 1} takes {self.layers[k].W.ncols()} inputs but layer {k} "
                    f"has {self.layers[k - 1].W.nrows()} outputs"
                )

    # -------------------------------------------------------------- building
    @classmethod
    def from_rows(cls, spec: Sequence[tuple[Any, Any, str]], **kwargs: Any) -> "ReLUNetwork":
        """Build from ``[(W rows, b entries, activation), ...]`` with exact-convertible numbers."""
        layers = tuple(Layer(qmatrix(W, name="W"), qvector(b), act) for W, b, act in spec)
        return cls(layers, **kwargs)

    @classmethod
    def from_cumulative(
        cls,
        cumulative: Sequence[tuple[flint.fmpq_mat, flint.fmpq_mat]],
        **kwargs: Any,
    ) -> "ReLUNetwork":
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
        prev_W = prev_b = None
        for k, (Wc, bc) in enumerate(cumulative):
            act = "identity" if k == len(cumulative) - 1 else "relu"
            if prev_W is None:
                W, b = Wc, bc
            else:
                square = prev_W.nrows() == prev_W.ncols() and prev_W.rank() == prev_W.nrows()
                # W_l = W^(l) (W^(l-1))^{-1}: solve (W^(l-1))^T W_l^T = W^(l)^T when invertible
                W = prev_W.transpose().solve(Wc.transpose()).transpose() if square else Wc * pinv(prev_W)
                b = bc - W * prev_b
            layers.append(Layer(W, b, act))
            prev_W, prev_b = Wc, bc
        return cls(tuple(layers), **kwargs)

    # ------------------------------------------------------------ structure
    @property
    def input_dim(self) -> int:
        """``d_0``."""
        return self.layers[0].W.ncols()

    @property
    def output_dim(self) -> int:
        """``d_L``."""
        return self.layers[-1].W.nrows()

    @property
    def widths(self) -> tuple[int, ...]:
        """``(d_0, d_1, ..., d_L)``."""
        return (self.input_dim,) + tuple(layer.W.nrows() for layer in self.layers)

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
        out = []
        W = b = None
        for layer in self.layers:
            if W is None:
                W, b = layer.W, layer.b
            else:
                W, b = layer.W * W, layer.W * b + layer.b
            out.append((W, b))
        return out

    def with_layer(self, k: int, layer: Layer) -> "ReLUNetwork":
        """A copy with layer ``k`` (0-based) replaced."""
        layers = list(self.layers)
        layers[k] = layer
        return ReLUNetwork(tuple(layers), self.classes, self.construction)

    # ------------------------------------------------------------ evaluation
    def integer_pass(
        self, A: flint.fmpz_mat, s: int
    ) -> Iterator[tuple[int, list, int]]:
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
