"""Exact regression data ``(X, y)`` for the convex reformulation of two-layer ReLU networks.

``X`` is ``(n, d)`` and ``y`` has ``n`` entries, both exact rationals (decimals are read
exactly: ``"0.1"`` is 1/10). No bias column is ever added implicitly: pass ``bias=True`` to
append a column of ones explicitly (the column is then named ``"bias"``).

Examples
--------
>>> data = RegressionData.from_arrays([[1, "0.5"], [0, 1], [2, 1]], ["0.1", 2, 3])
>>> data.n, data.d, data.y[0, 0]
(3, 2, 1/10)
>>> RegressionData.from_arrays([[1], [2]], [1, 2], bias=True).feature_names
('x0', 'bias')
>>> RegressionData.from_arrays([[1, 2], [2, 4]], [1, 2])
Traceback (most recent call last):
...
symtrunc.errors.DataError: X has rank 1 < d = 2 (linearly dependent columns); remove redundant features
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import flint
import numpy as np

from symtrunc.errors import DataError
from symtrunc.exact.matrix import qmatrix, to_float
from symtrunc.exact.rational import to_q

__all__ = ["RegressionData", "load_regression_csv"]


@dataclass(frozen=True)
class RegressionData:
    """Exact regression data: rows of ``X`` are the inputs, ``y`` the scalar targets.

    Attributes
    ----------
    X : flint.fmpq_mat
        Inputs, shape ``(n, d)``, full column rank.
    y : flint.fmpq_mat
        Targets as an ``(n, 1)`` column.
    feature_names : tuple of str
        One name per column of ``X`` (``"bias"`` for an explicitly added ones column).
    bias : bool
        Whether a ones column was appended by ``bias=True``.
    """

    X: flint.fmpq_mat
    y: flint.fmpq_mat
    feature_names: tuple[str, ...]
    bias: bool = False

    def __post_init__(self) -> None:
        n, d = self.X.nrows(), self.X.ncols()
        if n == 0 or d == 0:
            raise DataError("empty data: need at least one row and one feature column")
        if self.y.nrows() != n or self.y.ncols() != 1:
            raise DataError(f"y must have {n} entries (one per row of X), got {self.y.nrows()}")
        r = self.X.rank()
        if r < d:
            few = f" (only n = {n} rows for d = {d} columns)" if n < d else ""
            raise DataError(f"X has rank {r} < d = {d} (linearly dependent columns){few}; remove redundant features")

    @classmethod
    def from_arrays(
        cls, X: Any, y: Sequence[Any], *, bias: bool = False, feature_names: Sequence[str] | None = None
    ) -> RegressionData:
        """Build from nested rows ``X`` and targets ``y`` (exact conversion of every entry).

        >>> RegressionData.from_arrays([], [])
        Traceback (most recent call last):
        ...
        symtrunc.errors.DataError: empty data: need at least one row and one feature column
        """
        if len(X) == 0:
            raise DataError("empty data: need at least one row and one feature column")
        Xq = qmatrix(X, name="X")
        yv = [to_q(v) for v in (y.tolist() if hasattr(y, "tolist") else y)]
        names = tuple(feature_names) if feature_names is not None else tuple(f"x{j}" for j in range(Xq.ncols()))
        if bias:
            n, d = Xq.nrows(), Xq.ncols()
            Xq = flint.fmpq_mat(n, d + 1, [Xq[i, j] if j < d else 1 for i in range(n) for j in range(d + 1)])
            names = names + ("bias",)
        return cls(Xq, flint.fmpq_mat(len(yv), 1, yv), names, bias)

    @classmethod
    def from_csv(cls, path: str | Path, *, bias: bool = False) -> RegressionData:
        """Read a CSV file whose last column is the target; an all-text first row is a header.

        Raises
        ------
        DataError
            For a missing or empty file, ragged rows, a single column, or a non-numeric cell
            (the message names its row and column).
        """
        p = Path(path)
        if not p.is_file():
            raise DataError(f"no such data file: {p}")
        try:
            with p.open(newline="", encoding="utf-8") as fh:
                rows = [[c.strip() for c in r] for r in csv.reader(fh) if any(c.strip() for c in r)]
        except (UnicodeDecodeError, csv.Error) as e:
            raise DataError(f"{p}: not a UTF-8 CSV text file ({e.__class__.__name__})") from None
        return cls.from_rows(rows, bias=bias, source=str(p))

    @classmethod
    def from_rows(cls, rows: list[list[str]], *, bias: bool = False, source: str = "data") -> RegressionData:
        """Parse string rows (last column the target), with an optional header row.

        >>> RegressionData.from_rows([["a", "t"], ["1", "2"], ["x", "3"]])
        Traceback (most recent call last):
        ...
        symtrunc.errors.DataError: data: row 3, column 1: not a number: 'x'
        """
        names = None
        if rows and all(not _is_number(c) for c in rows[0]):
            names, rows = rows[0], rows[1:]
        if not rows:
            raise DataError(f"{source}: empty data (no numeric rows)")
        width = len(rows[0])
        if width < 2:
            raise DataError(f"{source}: need at least 2 columns (features, then the target)")
        values = []
        for i, r in enumerate(rows):
            if len(r) != width:
                raise DataError(f"{source}: row {i + 1 + (names is not None)} has {len(r)} columns, expected {width}")
            qs = []
            for j, c in enumerate(r):
                try:
                    qs.append(to_q(c))
                except DataError as e:
                    raise DataError(f"{source}: row {i + 1 + (names is not None)}, column {j + 1}: {e}") from None
            values.append(qs)
        X = [v[:-1] for v in values]
        y = [v[-1] for v in values]
        fnames = tuple(names[:-1]) if names is not None else None
        return cls.from_arrays(X, y, bias=bias, feature_names=fnames)

    @property
    def n(self) -> int:
        """Number of samples."""
        return self.X.nrows()

    @property
    def d(self) -> int:
        """Number of input features (including an explicit bias column)."""
        return self.X.ncols()

    @cached_property
    def Xf(self) -> np.ndarray:
        """``X`` rounded to float64 (for solvers; never for exact claims)."""
        return to_float(self.X)

    @cached_property
    def yf(self) -> np.ndarray:
        """``y`` rounded to float64, shape ``(n,)``."""
        return to_float(self.y).ravel()

    @cached_property
    def X_integer(self) -> tuple[flint.fmpz_mat, int]:
        """``(L X, L)`` with ``L`` the least common denominator: exact signs of ``X g`` come
        from the integer matrix ``L X`` (``L > 0``)."""
        A, L = self.X.numer_denom()
        return A, int(L)

    @cached_property
    def integer_rows(self) -> tuple[tuple[int, ...], ...]:
        """The rows of ``L X`` (:attr:`X_integer`) as tuples of Python integers."""
        return tuple(tuple(int(v) for v in row) for row in self.X_integer[0].tolist())


def load_regression_csv(path: str | Path, *, bias: bool = False) -> RegressionData:
    """Shorthand for :meth:`RegressionData.from_csv`."""
    return RegressionData.from_csv(path, bias=bias)


def _is_number(cell: str) -> bool:
    try:
        to_q(cell)
    except DataError:
        return False
    return True
