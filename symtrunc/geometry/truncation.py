"""Truncation maps and their polyhedral cones.

For ``W`` (``m x n``, surjective) and ``b`` the truncation map (Def. 3.1 of arXiv 2405.07098) is
``τ_{W,b}(x) = W^+ (σ(W x + b) - b)``, an endomorphism of input space. With the base point
``p = -W^+ b`` and edges ``v_i = W^+ e_i`` (Lemma 2.1 of arXiv 2504.18710), ``τ`` is the
identity on the forward cone ``S_+ = {p + Σ a_i v_i : a ≥ 0}`` (up to the projector
``W^+ W``), sends the backward cone ``S_- = {p + Σ a_i v_i : a ≤ 0}`` to ``W^+ W p`` and
projects every other point onto a face.

Examples
--------
>>> from symtrunc.geometry.truncation import TruncationMap
>>> from symtrunc.exact.matrix import qmatrix, qvector
>>> tau = TruncationMap(qmatrix([[0, 1], [-1, 2]]), qvector(["-5/4", "-3/4"]))
>>> tau.cone().apex.transpose()
[7/4, 5/4]
>>> tau(qvector([2, 0])).transpose()                 # a class-1 point collapses to p
[7/4, 5/4]
>>> tau(qvector([0, 2])).transpose()                 # a class-2 point is unchanged
[0, 2]
>>> tau.cone().region(qvector([0, 2])), tau.cone().region(qvector([2, 0]))
('forward', 'backward')

Maps and cones are immutable: they hold read-only copies of their matrices, so the cached
``W^+`` always belongs to ``W``.

>>> tau.W[0, 0] = 3
Traceback (most recent call last):
...
TypeError: exact matrices held by symtrunc objects are read-only; copy with flint.fmpq_mat(M)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import flint

from symtrunc.errors import FormatError
from symtrunc.exact.matrix import column, frozen, pinv

__all__ = ["TruncationMap", "PolyhedralCone", "relu"]


def relu(v: flint.fmpq_mat) -> flint.fmpq_mat:
    """Componentwise ``max(x, 0)`` of an exact matrix.

    >>> from symtrunc.exact.matrix import qvector
    >>> relu(qvector([-1, "1/2"])).transpose()
    [0, 1/2]
    """
    return flint.fmpq_mat(v.nrows(), v.ncols(), [x if x > 0 else 0 for x in v.entries()])


@dataclass(frozen=True)
class TruncationMap:
    """``τ_{W,b}(x) = W^+(σ(Wx + b) - b)`` for exact ``W`` (``m x n``) and ``b`` (``m x 1``).

    ``W`` and ``b`` are stored as read-only copies.
    """

    W: flint.fmpq_mat
    b: flint.fmpq_mat

    def __post_init__(self) -> None:
        object.__setattr__(self, "W", frozen(self.W))
        object.__setattr__(self, "b", frozen(self.b))

    @cached_property
    def W_pinv(self) -> flint.fmpq_mat:
        """The Moore–Penrose pseudo-inverse ``W^+`` (read-only)."""
        return frozen(pinv(self.W))

    def __call__(self, x: flint.fmpq_mat) -> flint.fmpq_mat:
        """Apply ``τ`` to a column (or to the columns of a matrix)."""
        B = flint.fmpq_mat(self.b.nrows(), x.ncols(), [v for v in self.b.entries() for _ in range(x.ncols())])
        return self.W_pinv * (relu(self.W * x + B) - B)

    def cone(self) -> PolyhedralCone:
        """The polyhedral cone ``(p, V)`` with ``p = -W^+ b`` and ``V = W^+``."""
        return PolyhedralCone(-(self.W_pinv * self.b), self.W_pinv)

    @classmethod
    def from_cone(cls, cone: PolyhedralCone) -> TruncationMap:
        """The map with ``W^+ = V`` and ``b = -W p`` (``W = V^+``)."""
        W = pinv(cone.edges)
        return cls(W, -(W * cone.apex))


@dataclass(frozen=True)
class PolyhedralCone:
    """Apex ``p`` (``n x 1``) and linearly independent edges: the columns of ``edges`` (``n x m``).

    ``apex`` and ``edges`` are stored as read-only copies.
    """

    apex: flint.fmpq_mat
    edges: flint.fmpq_mat

    def __post_init__(self) -> None:
        object.__setattr__(self, "apex", frozen(self.apex))
        object.__setattr__(self, "edges", frozen(self.edges))
        if self.edges.rank() != self.edges.ncols():
            raise FormatError("the cone's edges must be linearly independent")

    def edge(self, i: int) -> flint.fmpq_mat:
        """Edge ``v_i`` as a column."""
        return column(self.edges, i)

    def coordinates(self, x: flint.fmpq_mat) -> flint.fmpq_mat:
        """Coordinates ``a`` of ``x - p`` along the edges (``a = V^+ (x - p)``)."""
        return pinv(self.edges) * (x - self.apex)

    def region(self, x: flint.fmpq_mat) -> str:
        """``"forward"`` (all ``a_i ≥ 0``), ``"backward"`` (all ``a_i ≤ 0``) or ``"face"``.

        The apex itself is reported as ``"forward"`` and ``"backward"`` alike; this
        returns ``"forward"`` for it.
        """
        a = self.coordinates(x).entries()
        if all(v >= 0 for v in a):
            return "forward"
        if all(v <= 0 for v in a):
            return "backward"
        return "face"
