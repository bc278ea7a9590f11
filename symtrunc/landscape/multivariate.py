r"""Input dimension d > 1: exact loss and gradient over a box by exact polytope integration.

N^φ(x) = c + Σ_j v_j σ(w_j·x + b_j) for x uniform on the box Π[lo_k, hi_k], target
f(x) = α·x + β, σ ReLU or leaky ReLU. The hyperplanes w_j·x + b_j = 0 cut the box into
convex cells (:func:`cells`, exact vertex enumeration by successive splitting); on a cell the
residual r is affine, so every integrand of the loss and gradient is a product of at most
two affine functions. Each cell is triangulated exactly (cone from a vertex over the facets,
recursively) and integrated with the formulas, exact for degree ≤ 2 on a simplex Δ with
vertices v_0..v_d and centroid g:

.. math:: \int_Δ ℓ = |Δ|\,ℓ(g), \qquad
          \int_Δ ℓ_1ℓ_2 = \frac{|Δ|}{(d+1)(d+2)}\Big(\sum_i ℓ_1(v_i)ℓ_2(v_i) + (d+1)^2 ℓ_1(g)ℓ_2(g)\Big).

No classification is claimed for d > 1 (the theory is one-dimensional).

sympy's ``polytope_integrate`` is *not* used: on 2-D polygons it returns the integral with
the sign of the vertex orientation (−1/6 for ∫_{[0,1]²}(x+y−1)² on a counter-clockwise
square; reference §6.7 also reports a wrong value for an unexpanded integrand). The tests
compare with it on clockwise, expanded input, where it is right.

Examples
--------
>>> from symtrunc.landscape.multivariate import MultiParams, box_loss, box_gradient
>>> phi = MultiParams.from_values(W=[[1, 1]], b=[-1], v=[1], c=0)
>>> box_loss(phi, alpha=[0, 0], beta=0, lo=[0, 0], hi=[1, 1])        # ∫ relu(x+y-1)² = 1/12
1/12
>>> box_gradient(phi, alpha=[0, 0], beta=0, lo=[0, 0], hi=[1, 1])[-1]  # ∂c = 2∫ relu(x+y-1) = 1/3
1/3
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import flint

from symtrunc.errors import DataError
from symtrunc.exact.rational import to_q
from symtrunc.landscape.activations import Activation

__all__ = ["MultiParams", "Polytope", "box", "box_gradient", "box_loss", "cells", "integrate", "simplices"]

_Q0 = flint.fmpq(0)
Vec = tuple[flint.fmpq, ...]


def _dot(a: Sequence[flint.fmpq], x: Sequence[flint.fmpq]) -> flint.fmpq:
    return sum((p * q for p, q in zip(a, x)), _Q0)


def _mean(points: Sequence[Vec]) -> Vec:
    return tuple(sum((v[k] for v in points), _Q0) / len(points) for k in range(len(points[0])))


def _unit(k: int, d: int) -> Vec:
    """The k-th standard basis vector of Q^d."""
    return tuple(flint.fmpq(int(i == k)) for i in range(d))


def _affine_rank(points: Sequence[Vec]) -> int:
    if len(points) <= 1:
        return 0
    p0 = points[0]
    rows = [[a - b for a, b in zip(p, p0)] for p in points[1:]]
    return flint.fmpq_mat(len(rows), len(p0), [x for r in rows for x in r]).rank()


@dataclass(frozen=True)
class Polytope:
    """A full-dimensional convex polytope: its vertices and inequalities a·x ≤ β (exact)."""

    vertices: tuple[Vec, ...]
    inequalities: tuple[tuple[Vec, flint.fmpq], ...]

    @property
    def dim(self) -> int:
        """The ambient dimension d."""
        return len(self.vertices[0])

    def centroid(self) -> Vec:
        """Mean of the vertices (an interior point)."""
        return _mean(self.vertices)

    def split(self, a: Sequence[flint.fmpq], b: flint.fmpq) -> tuple[Polytope | None, Polytope | None]:
        """The parts with a·x + b ≤ 0 and ≥ 0 (None where a part is not full-dimensional)."""
        s = [_dot(a, v) + b for v in self.vertices]
        if all(x >= 0 for x in s):
            return None, self
        if all(x <= 0 for x in s):
            return self, None
        tight = [
            frozenset(i for i, (aa, bb) in enumerate(self.inequalities) if _dot(aa, v) == bb) for v in self.vertices
        ]
        new = []
        d = self.dim
        for i in range(len(self.vertices)):
            for k in range(i):
                if (s[i] < 0 < s[k]) or (s[k] < 0 < s[i]):
                    common = tight[i] & tight[k]
                    if len(common) < d - 1:
                        continue
                    A = flint.fmpq_mat(len(common), d, [x for c in common for x in self.inequalities[c][0]])
                    if A.rank() != d - 1:
                        continue
                    lam = s[i] / (s[i] - s[k])
                    vi, vk = self.vertices[i], self.vertices[k]
                    new.append(tuple(p + lam * (q - p) for p, q in zip(vi, vk)))
        a = tuple(a)
        neg = Polytope(
            tuple(v for v, x in zip(self.vertices, s) if x <= 0) + tuple(new), self.inequalities + ((a, -b),)
        )
        pos = Polytope(
            tuple(v for v, x in zip(self.vertices, s) if x >= 0) + tuple(new),
            self.inequalities + ((tuple(-x for x in a), b),),
        )
        return neg, pos


def box(lo: Sequence[Any], hi: Sequence[Any]) -> Polytope:
    """The box Π[lo_k, hi_k] (needs lo_k < hi_k for every k)."""
    lo, hi = tuple(map(to_q, lo)), tuple(map(to_q, hi))
    if len(lo) != len(hi) or not lo:
        raise DataError(f"lo and hi must be non-empty and of the same length, got {len(lo)} and {len(hi)}")
    if any(not a < b for a, b in zip(lo, hi)):
        raise DataError("empty box: need lo_k < hi_k in every coordinate")
    d = len(lo)
    verts = tuple(tuple(hi[k] if bits[k] else lo[k] for k in range(d)) for bits in product((0, 1), repeat=d))
    ineqs = []
    for k in range(d):
        e = _unit(k, d)
        ineqs.append((e, hi[k]))
        ineqs.append((tuple(-x for x in e), -lo[k]))
    return Polytope(verts, tuple(ineqs))


def cells(region: Polytope, hyperplanes: Sequence[tuple[Sequence[flint.fmpq], flint.fmpq]]) -> list[Polytope]:
    """The full-dimensional cells of the arrangement {a·x + b = 0} inside ``region``.

    >>> len(cells(box([0, 0], [1, 1]), [((1, 1), -1), ((1, -1), 0)]))
    4
    """
    out = [region]
    for a, b in hyperplanes:
        if all(x == 0 for x in a):
            continue
        nxt = []
        for P in out:
            nxt += [Q for Q in P.split(a, b) if Q is not None]
        out = nxt
    return out


def simplices(P: Polytope) -> list[tuple[Vec, ...]]:
    """An exact triangulation of P (cone from a vertex over the facets, recursively).

    >>> sum(len(simplices(box([0] * d, [1] * d))) for d in (2, 3))
    8
    """
    V = P.vertices
    tight = [frozenset(i for i, (a, b) in enumerate(P.inequalities) if _dot(a, v) == b) for v in V]

    def rec(face: list[int], dim: int) -> list[list[int]]:
        if len(face) == dim + 1:
            return [face]
        v0 = face[0]
        out, seen = [], set()
        for c in set().union(*(tight[i] for i in face)) - tight[v0]:
            F = [i for i in face if c in tight[i]]
            key = frozenset(F)
            if key in seen or len(F) < dim or _affine_rank([V[i] for i in F]) != dim - 1:
                continue
            seen.add(key)
            out += [[v0, *s] for s in rec(F, dim - 1)]
        return out

    # merge duplicate vertices (several edges may produce the same intersection point)
    return [tuple(V[i] for i in s) for s in rec(_distinct(V), P.dim)]


def _distinct(V: Sequence[Vec]) -> list[int]:
    seen: dict[Vec, int] = {}
    for i, v in enumerate(V):
        seen.setdefault(v, i)
    return sorted(seen.values())


def _volume(S: Sequence[Vec]) -> flint.fmpq:
    d = len(S[0])
    M = flint.fmpq_mat(d, d, [a - b for v in S[1:] for a, b in zip(v, S[0])])
    return abs(M.det()) / math.factorial(d)


Affine = tuple[Vec, flint.fmpq]  # x ↦ a·x + e


def _ev(h: Affine, x: Sequence[flint.fmpq]) -> flint.fmpq:
    return _dot(h[0], x) + h[1]


_Simplex = tuple[flint.fmpq, tuple[Vec, ...], Vec]  # (volume, vertices, centroid)


def integrate(P: Polytope, f: Affine, g: Affine | None = None) -> flint.fmpq:
    """∫_P f (or ∫_P f g) for affine f, g, exactly.

    >>> integrate(box([0, 0], [1, 1]), ((1, 1), -1), ((1, 1), -1))      # ∫ (x+y-1)² = 1/6
    1/6
    """
    return _integrate(_triangulation(P), f, g)


def _triangulation(P: Polytope) -> list[_Simplex]:
    """(volume, vertices, centroid) of every simplex of :func:`simplices` (P)."""
    return [(_volume(S), S, _mean(S)) for S in simplices(P)]


def _integrate(T: list[_Simplex], f: Affine, g: Affine | None = None) -> flint.fmpq:
    """:func:`integrate` over a triangulated polytope (several integrals, one triangulation)."""
    total = _Q0
    for vol, S, cen in T:
        if g is None:
            total += vol * _ev(f, cen)
        else:
            d1 = len(S)  # d + 1
            s = sum((_ev(f, v) * _ev(g, v) for v in S), _Q0) + d1**2 * _ev(f, cen) * _ev(g, cen)
            total += vol * s / (d1 * (d1 + 1))
    return total


@dataclass(frozen=True)
class MultiParams:
    """Shallow network with d inputs: W (N×d, rows w_j), b, v (length N), c, activation."""

    W: tuple[Vec, ...]
    b: Vec
    v: Vec
    c: flint.fmpq
    activation: Activation = field(default_factory=Activation.relu)

    @classmethod
    def from_values(
        cls,
        W: Sequence[Sequence[Any]],
        b: Sequence[Any],
        v: Sequence[Any],
        c: Any,
        activation: Activation | None = None,
    ) -> MultiParams:
        """Build from numbers in any exact format; checks the shapes."""
        Wq = tuple(tuple(map(to_q, row)) for row in W)
        if len({len(r) for r in Wq}) > 1:
            raise DataError("W has rows of different lengths")
        if not len(Wq) == len(b) == len(v):
            raise DataError(f"W, b and v must have N rows/entries, got {len(Wq)}, {len(b)}, {len(v)}")
        act = activation or Activation.relu()
        if not act.has_kink:
            raise DataError("d > 1 supports relu and leaky_relu (integrands of degree ≤ 2)")
        return cls(Wq, tuple(map(to_q, b)), tuple(map(to_q, v)), to_q(c), act)


def _prepare(phi: MultiParams, alpha: Sequence[Any], beta: Any, lo: Sequence[Any], hi: Sequence[Any]):
    region = box(lo, hi)
    al = tuple(map(to_q, alpha))
    if len(al) != region.dim or any(len(w) != region.dim for w in phi.W):
        raise DataError(f"the box has dimension {region.dim}; alpha and every row of W need that length")
    vol = _Q0 + 1
    for a, bb in zip(region.vertices[-1], region.vertices[0]):
        vol *= a - bb
    return region, al, to_q(beta), vol


def _cell_data(phi: MultiParams, P: Polytope, al: Vec, beta: flint.fmpq):
    """Per neuron (σ slope, σ' on the cell) and the residual as an affine function."""
    g = P.centroid()
    act = phi.activation
    slopes, ders = [], []
    a = [-x for x in al]
    e = phi.c - beta
    for w, bj, vj in zip(phi.W, phi.b, phi.v):
        z = _dot(w, g) + bj
        if z > 0:
            s, ds = flint.fmpq(1), flint.fmpq(1)
        elif z < 0 or any(x != 0 for x in w) or bj != 0:
            s, ds = act.slope, act.slope
        else:
            s, ds = _Q0, act.derivative_at_zero
        slopes.append(s)
        ders.append(ds)
        a = [x + vj * s * wk for x, wk in zip(a, w)]
        e += vj * s * bj
    return slopes, ders, (tuple(a), e)


def box_loss(phi: MultiParams, alpha: Sequence[Any], beta: Any, lo: Sequence[Any], hi: Sequence[Any]) -> flint.fmpq:
    """The exact loss (1/vol) ∫_box (N^φ − f)², uniform measure on the box."""
    region, al, be, vol = _prepare(phi, alpha, beta, lo, hi)
    total = _Q0
    for P in cells(region, list(zip(phi.W, phi.b))):
        _, _, r = _cell_data(phi, P, al, be)
        total += integrate(P, r, r)
    return total / vol


def box_gradient(
    phi: MultiParams, alpha: Sequence[Any], beta: Any, lo: Sequence[Any], hi: Sequence[Any]
) -> list[flint.fmpq]:
    """The exact generalized gradient, ordered W (row-major), b, v, c."""
    region, al, be, vol = _prepare(phi, alpha, beta, lo, hi)
    n, d = len(phi.W), region.dim
    gW = [[_Q0] * d for _ in range(n)]
    gb, gv, gc = [_Q0] * n, [_Q0] * n, _Q0
    coordinates = [(_unit(k, d), _Q0) for k in range(d)]  # x ↦ x_k
    for P in cells(region, list(zip(phi.W, phi.b))):
        slopes, ders, r = _cell_data(phi, P, al, be)
        T = _triangulation(P)
        I0 = _integrate(T, r)
        Ix = [_integrate(T, r, x_k) for x_k in coordinates]
        gc += I0
        for j in range(n):
            gv[j] += slopes[j] * (_dot(phi.W[j], Ix) + phi.b[j] * I0)
            f = phi.v[j] * ders[j]
            gb[j] += f * I0
            for k in range(d):
                gW[j][k] += f * Ix[k]
    s = 2 / vol
    return [s * x for x in [*(x for row in gW for x in row), *gb, *gv, gc]]
