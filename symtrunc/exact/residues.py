"""Integers held modulo small primes: exact layers by float64 BLAS, one product per prime.

While the a-priori bound ``4 B`` of a layer's integers stays below a product of at most 24
primes ``p < 2^21``, the values are held as residues: a layer is one float64 BLAS product per
prime (products below ``2^42``, sums of up to 1024 of them below ``2^52``: exact), and the signs
for ReLU come from Garner's mixed-radix digits. Used by
:func:`symtrunc.exact.evaluate.exact_values`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import flint
import numpy as np

from symtrunc.exact.scaled import Scaled

__all__ = ["Residues"]

_PRIME_BITS = 21  # residues below 2^21: products below 2^42, sums of 1024 of them below 2^52
_MAX_PRIMES = 24  # beyond (integers over ~500 bits) the reduced rational stage is faster
_DOT_CHUNK = 2**52 // 2 ** (2 * _PRIME_BITS)  # terms per exact float64 dot product of residues


@functools.cache
def _primes() -> tuple[int, ...]:
    """The largest primes below ``2^21``, descending (enough for :data:`_MAX_PRIMES`)."""
    out: list[int] = []
    p = 2**_PRIME_BITS - 1
    while len(out) < 2 * _MAX_PRIMES:
        if flint.fmpz(p).is_prime():
            out.append(p)
        p -= 2
    return tuple(out)


def _count(bound: int) -> int:
    """How many primes make a product above ``4 bound`` (residues then fix a value below ``bound``)."""
    P, t = 1, 0
    for p in _primes():
        if P > 4 * bound and t:
            return t
        P, t = P * p, t + 1
    return t + 1  # more than the list holds: callers compare with _MAX_PRIMES


def _mod(x: np.ndarray, p: int) -> np.ndarray:
    """``x mod p`` in ``[0, p)`` as float64, for float64 integers of absolute value below ``2^52``
    or any int64 array.

    ``q = floor(x / p)`` is off by at most one (``x / p`` is rounded), and ``x - q p`` is exact
    (integers below ``2^53``): one correction each way gives the remainder.
    """
    if x.dtype != np.float64:
        return np.mod(x, p).astype(np.float64)
    r = x - np.floor(x * (1.0 / p)) * p
    r[r < 0] += p
    r[r >= p] -= p
    return r


class Residues:
    """Exact integers ``H`` (points as rows) held by their residues modulo primes ``p_0 .. p_{t-1}``
    (below ``2^21``) whose product ``P`` exceeds ``4 max |H|``: the values are ``H[:, j] / scales[j]``.

    Residues are float64 arrays of integers, so the products of a layer are float64 BLAS and exact.
    Signs and values come from the mixed-radix (Garner) digits of ``H mod P``.

    Attributes
    ----------
    residues : list of numpy.ndarray
        ``H mod p_i``, one ``(n, m)`` float64 array per prime.
    primes : tuple of int
    scales : tuple of int
        Positive integer scale of each column.
    bounds : tuple of int
        A-priori bounds of ``|H|`` per column.
    """

    __slots__ = ("residues", "primes", "scales", "bounds", "_digits")

    def __init__(self, residues: list[np.ndarray], primes: Sequence[int], scales: Sequence[int], bounds: Sequence[int]):
        self.residues, self.primes = residues, tuple(primes)
        self.scales, self.bounds = tuple(scales), tuple(bounds)
        self._digits: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, m)``."""
        n, m = self.residues[0].shape
        return n, m

    def digits(self) -> tuple[np.ndarray, np.ndarray]:
        """``(C, negative)``: ``H mod P = Σ_i C[..., i] p_0 ⋯ p_{i-1}`` (Garner's mixed-radix
        digits, shape ``(n, m, t)``) and the mask ``H < 0``.

        Digit ``i`` needs ``(Σ_{j<i} C_j p_0 ⋯ p_{j-1}) mod p_i``: one float64 product with the
        weights ``p_0 ⋯ p_{j-1} mod p_i`` (sums of ``t`` terms below ``2^42``, exact).
        """
        if self._digits is None:
            R, ps = self.residues, self.primes
            n, m = self.shape
            C = np.empty((n, m, len(ps)))
            C[..., 0] = R[0]
            for i in range(1, len(ps)):
                p = ps[i]
                v = _mod(C[..., :i] @ np.array([math.prod(ps[:j]) % p for j in range(i)], dtype=np.float64), p)
                inv = pow(math.prod(ps[:i]) % p, -1, p)
                C[..., i] = _mod(_mod(R[i] - v, p) * inv, p)
            half = (math.prod(ps) - 1) // 2  # H < 0 iff H mod P > half: compare digits from the top
            h = []
            for p in ps:
                half, d = divmod(half, p)
                h.append(d)
            above = np.zeros((n, m), dtype=bool)
            tie = np.ones((n, m), dtype=bool)
            for i in reversed(range(len(ps))):
                above |= tie & (C[..., i] > h[i])
                tie &= C[..., i] == h[i]
            self._digits = (C, above)
        return self._digits

    def signs(self) -> np.ndarray:
        """Signs of ``H`` as an ``int8`` array."""
        C, neg = self.digits()
        return (C != 0).any(axis=2).astype(np.int8) - 2 * neg.astype(np.int8)

    def relu(self) -> None:
        """Set every negative ``H`` to zero, in place (residues and digits)."""
        C, neg = self.digits()
        if neg.any():
            for R in self.residues:
                R[neg] = 0
            C[neg] = 0
            neg[:] = False

    def residue(self, q: int) -> np.ndarray:
        """``H mod q`` for any prime ``q < 2^21`` (from the digits when ``q`` is new)."""
        if q in self.primes:
            return self.residues[self.primes.index(q)]
        C, neg = self.digits()
        w = np.array([math.prod(self.primes[:j]) % q for j in range(len(self.primes))], dtype=np.float64)
        return _mod(_mod(C @ w, q) - (math.prod(self.primes) % q) * neg, q)

    def integers(self) -> flint.fmpz_mat:
        """``H`` exactly, as a python-flint integer matrix."""
        (n, m), (C, neg) = self.shape, self.digits()
        H, M = flint.fmpz_mat(n, m), 1
        for i, p in enumerate(self.primes):
            H += flint.fmpz_mat(n, m, C[..., i].astype(np.int64).ravel().tolist()) * M
            M *= p
        return H - flint.fmpz_mat(n, m, neg.astype(np.int64).ravel().tolist()) * M

    def to_fmpq_mat(self) -> flint.fmpq_mat:
        """The exact values as an ``(n, m)`` rational matrix."""
        return Scaled(self.integers(), self.scales).to_fmpq_mat()

    def value(self, i: int, j: int) -> flint.fmpq:
        """Exact value of point ``i``, column ``j``."""
        P = math.prod(self.primes)
        x = sum(int(R[i, j]) * (P // p) * pow(P // p % p, -1, p) for R, p in zip(self.residues, self.primes)) % P
        return flint.fmpq(x - P if x > P // 2 else x, self.scales[j])

    def wrong(self, j: int, targets: Sequence[Any], labels: np.ndarray) -> np.ndarray:
        """Mask of the points whose column ``j`` differs from ``targets[labels[i]]`` (exact)."""
        out = np.zeros(len(labels), dtype=bool)
        for c, t in enumerate(targets):
            v = flint.fmpq(t) * self.scales[j]
            rows = labels == c
            if v.q != 1 or abs(int(v.p)) > self.bounds[j]:  # no integer within the bound equals it
                out |= rows
                continue
            for R, p in zip(self.residues, self.primes):  # equal mod P > 4 bound: equal
                out |= rows & (R[:, j] != int(v.p) % p)
        return out


def _modular_dot(R: np.ndarray, G: Sequence[Sequence[int]], beta: Sequence[int], p: int) -> np.ndarray:
    """``(R Gᵀ + β) mod p`` for residues ``R`` (float64 BLAS, exact: chunks of ``_DOT_CHUNK`` terms)."""
    k = R.shape[1]
    Gm = np.array([[g % p for g in row] for row in G], dtype=np.float64).reshape(len(G), k).T
    Z = np.array([c % p for c in beta], dtype=np.float64)
    for lo in range(0, k, _DOT_CHUNK):
        Z = _mod(R[:, lo : lo + _DOT_CHUNK] @ Gm[lo : lo + _DOT_CHUNK] + Z, p)
    return Z
