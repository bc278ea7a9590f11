"""Exact rational matrices: thin helpers around python-flint's ``fmpq_mat``.

All matrices are ``flint.fmpq_mat``; vectors are ``n x 1`` columns. Products are
written ``A * B`` (python-flint has no ``@``).

Examples
--------
>>> from symtrunc.exact.matrix import qmatrix, pinv, qvector
>>> A = qmatrix([["1", "0", "0"], ["0", "1/2", "0"]])
>>> pinv(A)
[1, 0]
[0, 2]
[0, 0]
>>> A * pinv(A) == identity(2)
True
>>> entries(qvector(["0.5", 3]))
[1/2, 3]

Exact objects keep their matrices :func:`frozen`: read-only, so no cached result derived from
them can go stale.

>>> F = frozen(A)
>>> F[0, 0] = 5
Traceback (most recent call last):
...
TypeError: exact matrices held by symtrunc objects are read-only; copy with flint.fmpq_mat(M)
>>> F == A, frozen(F) is F
(True, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import flint
import numpy as np

from symtrunc.errors import DataError
from symtrunc.exact.rational import to_q

__all__ = [
    "FrozenQMatrix",
    "FrozenZMatrix",
    "frozen",
    "qmatrix",
    "qvector",
    "exact_rows",
    "identity",
    "str_rows",
    "zeros",
    "entries",
    "rows",
    "column",
    "columns_matrix",
    "rank",
    "pinv",
    "to_float",
]


class _ReadOnly:
    """Mixin for python-flint matrix types: item assignment, in-place ``rref``, re-initialisation
    and attribute changes raise ``TypeError``; everything that builds a new matrix works.

    python-flint's generic ``entries``/``tolist``/iteration index element by element, which is
    slow through a Python subclass, so they read a plain copy (a fast C-level copy) instead.
    """

    __slots__ = ()
    _BASE: type

    def _refuse(self) -> TypeError:
        name = self._BASE.__name__
        return TypeError(f"exact matrices held by symtrunc objects are read-only; copy with flint.{name}(M)")

    def _plain(self) -> Any:
        return self._BASE(self)

    def __init__(self, *args: Any) -> None:
        if getattr(self, "_sealed", False):
            raise self._refuse()
        super().__init__(*args)
        object.__setattr__(self, "_sealed", True)

    def __setattr__(self, name: str, value: Any) -> None:
        raise self._refuse()

    def __delattr__(self, name: str) -> None:
        raise self._refuse()

    def __setitem__(self, index: Any, value: Any) -> None:
        raise self._refuse()

    def rref(self, inplace: bool = False) -> Any:
        """Reduced row echelon form of a copy (``inplace=True`` raises ``TypeError``)."""
        if inplace:
            raise self._refuse()
        return self._plain().rref()

    def entries(self) -> list[Any]:
        """Entries in row-major order."""
        return self._plain().entries()

    def tolist(self) -> list[list[Any]]:
        """Entries as a list of rows."""
        return self._plain().tolist()

    table = tolist

    def __iter__(self) -> Iterator[Any]:
        return iter(self._plain())


class FrozenQMatrix(_ReadOnly, flint.fmpq_mat):
    """A read-only ``fmpq_mat``. Arithmetic, entries and copies (``flint.fmpq_mat(M)``) give
    ordinary, writable results. Build with :func:`frozen`."""

    __slots__ = ("_sealed", "__weakref__")
    _BASE = flint.fmpq_mat


class FrozenZMatrix(_ReadOnly, flint.fmpz_mat):
    """A read-only ``fmpz_mat`` (see :class:`FrozenQMatrix`)."""

    __slots__ = ("_sealed", "__weakref__")
    _BASE = flint.fmpz_mat


@overload
def frozen(A: flint.fmpq_mat) -> flint.fmpq_mat: ...


@overload
def frozen(A: flint.fmpz_mat) -> flint.fmpz_mat: ...


def frozen(A: Any) -> Any:
    """A read-only copy of an exact matrix (``A`` itself when it is already read-only).

    Exact objects (layers, data, truncation maps, certificates) store their matrices through
    this, so the matrices they hand out cannot be changed in place.

    Parameters
    ----------
    A : flint.fmpq_mat or flint.fmpz_mat

    Returns
    -------
    FrozenQMatrix or FrozenZMatrix

    >>> Z = frozen(flint.fmpz_mat([[1, 2]]))
    >>> type(Z).__name__, Z * flint.fmpz_mat([[1], [1]])
    ('FrozenZMatrix', [3])
    """
    if isinstance(A, (FrozenQMatrix, FrozenZMatrix)):
        return A
    if isinstance(A, flint.fmpq_mat):
        return FrozenQMatrix(A)
    if isinstance(A, flint.fmpz_mat):
        return FrozenZMatrix(A)
    raise TypeError(f"expected a python-flint fmpq_mat or fmpz_mat, got {type(A).__name__}")


def qmatrix(data: Any, *, name: str = "matrix") -> flint.fmpq_mat:
    """Build an exact matrix from nested rows (or return an ``fmpq_mat`` unchanged).

    Parameters
    ----------
    data : fmpq_mat, sympy Matrix, numpy array or sequence of sequences
        Entries are converted with :func:`symtrunc.exact.rational.to_q`.
    name : str
        Used in error messages.

    Raises
    ------
    DataError
        On ragged rows or entries that are not finite rational numbers.

    >>> qmatrix([[1, 2], [3]])
    Traceback (most recent call last):
    ...
    symtrunc.errors.DataError: matrix: row 1 has 1 entries, expected 2 (ragged rows)
    """
    if isinstance(data, flint.fmpq_mat):
        return data
    if isinstance(data, flint.fmpz_mat):
        return flint.fmpq_mat(data)
    if hasattr(data, "tolist") and not isinstance(data, np.ndarray):  # sympy matrices
        data = data.tolist()
    if isinstance(data, (str, bytes)) or any(isinstance(r, (str, bytes)) or not hasattr(r, "__iter__") for r in data):
        raise DataError(f"{name}: expected a list of rows of numbers")
    rows_ = [list(r) for r in data]
    if not rows_:
        raise DataError(f"{name}: empty")
    n = len(rows_[0])
    for i, r in enumerate(rows_):
        if len(r) != n:
            raise DataError(f"{name}: row {i} has {len(r)} entries, expected {n} (ragged rows)")
    flat = [v for r in rows_ for v in r]
    if all(type(v) is flint.fmpq or type(v) is int for v in flat):  # fast path: already exact
        return flint.fmpq_mat(len(rows_), n, flat)
    return flint.fmpq_mat(len(rows_), n, [to_q(v) for v in flat])


def exact_rows(rows_: Sequence[Sequence[Any]], ncols: int) -> flint.fmpq_mat:
    """Fast build from rows whose entries are already ``fmpq``/``int`` (no validation).

    >>> exact_rows([[flint.fmpq(1, 2), 1]], 2)
    [1/2, 1]
    >>> exact_rows([], 3).nrows()
    0
    """
    return flint.fmpq_mat(len(rows_), ncols, [v for r in rows_ for v in r])


def qvector(values: Iterable[Any]) -> flint.fmpq_mat:
    """Build an exact column vector.

    >>> qvector([1, "1/2"]).nrows()
    2
    """
    if isinstance(values, (str, bytes)):
        raise DataError(f"expected a list of numbers, got the string {values!r}")
    vals = [to_q(v) for v in values]
    return flint.fmpq_mat(len(vals), 1, vals)


def identity(n: int) -> flint.fmpq_mat:
    """The ``n x n`` identity matrix.

    >>> identity(2)
    [1, 0]
    [0, 1]
    """
    out = flint.fmpq_mat(n, n)
    for i in range(n):
        out[i, i] = 1
    return out


def zeros(m: int, n: int) -> flint.fmpq_mat:
    """The ``m x n`` zero matrix.

    >>> zeros(1, 2)
    [0, 0]
    """
    return flint.fmpq_mat(m, n)


def entries(A: flint.fmpq_mat) -> list[flint.fmpq]:
    """Entries in row-major order (for a column vector: its coordinates)."""
    return list(A.entries())


def rows(A: flint.fmpq_mat) -> list[list[flint.fmpq]]:
    """Entries as a list of rows.

    >>> rows(identity(2))
    [[1, 0], [0, 1]]
    """
    return [list(r) for r in A.tolist()]


def str_rows(A: flint.fmpq_mat) -> list[list[str]]:
    """Entries as rows of exact strings ``"p/q"`` (the JSON form).

    >>> str_rows(qmatrix([["1/2", 3]]))
    [['1/2', '3']]
    """
    return [[str(v) for v in r] for r in rows(A)]


def column(A: flint.fmpq_mat, j: int) -> flint.fmpq_mat:
    """Column ``j`` of ``A`` as an ``m x 1`` matrix.

    >>> column(qmatrix([[1, 2], [3, 4]]), 1)
    [2]
    [4]
    """
    return flint.fmpq_mat(A.nrows(), 1, [A[i, j] for i in range(A.nrows())])


def columns_matrix(cols: Sequence[flint.fmpq_mat]) -> flint.fmpq_mat:
    """Stack column vectors side by side.

    >>> columns_matrix([qvector([1, 2]), qvector([3, 4])])
    [1, 3]
    [2, 4]
    """
    m = cols[0].nrows()
    return flint.fmpq_mat(m, len(cols), [c[i, 0] for i in range(m) for c in cols])


def rank(A: flint.fmpq_mat) -> int:
    """Exact rank.

    >>> rank(qmatrix([[1, 2], [2, 4]]))
    1
    """
    return A.rank()


def pinv(A: flint.fmpq_mat) -> flint.fmpq_mat:
    """Exact Moore–Penrose pseudo-inverse.

    Uses ``A^{-1}`` for invertible ``A``, ``A^T (A A^T)^{-1}`` for full row rank, ``(A^T A)^{-1} A^T`` for full column
    rank, and a rank factorization ``A = C F`` (``A^+ = F^+ C^+``) otherwise.

    >>> pinv(qmatrix([[1, 1], [1, 1]]))
    [1/4, 1/4]
    [1/4, 1/4]
    """
    m, n = A.nrows(), A.ncols()
    r = A.rank()
    At = A.transpose()
    if r == 0:
        return zeros(n, m)
    if r == m == n:
        return A.inv()
    if r == m:
        return At * (A * At).inv()
    if r == n:
        return (At * A).inv() * At
    R, _ = A.rref()
    pivots = []
    for i in range(r):
        pivots.append(next(j for j in range(n) if R[i, j] != 0))
    F = flint.fmpq_mat(r, n, [R[i, j] for i in range(r) for j in range(n)])
    C = flint.fmpq_mat(m, r, [A[i, j] for i in range(m) for j in pivots])
    return pinv(F) * pinv(C)


def to_float(A: flint.fmpq_mat, dtype: Any = np.float64) -> np.ndarray:
    """Round an exact matrix to a NumPy float array (for proposals and display only).

    >>> to_float(qmatrix([["1/4", 1]]))
    array([[0.25, 1.  ]])
    """
    return np.array([[float(v) for v in r] for r in A.tolist()], dtype=dtype).reshape(A.nrows(), A.ncols())
