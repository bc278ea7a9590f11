"""Labeled training data with exact rational coordinates.

:class:`LabeledData` holds the points of ``Q`` classes in ``R^M`` exactly, the label
matrix ``Y`` (column ``j`` is the target ``y_j`` of class ``j``) and the derived
quantities of Chen & Muñoz Ewald (arXiv 2405.07098, §2): class means, the barycenter
of the means, deviations and δ.

Examples
--------
>>> from symtrunc.data.labeled import LabeledData
>>> d = LabeledData.from_arrays([[2, 0], [3, 0], [0, 2], [0, 3]], ["a", "a", "b", "b"])
>>> d.N, d.M, d.Q, d.classes
(4, 2, 2, ('a', 'b'))
>>> d.mean(0).transpose(), d.barycenter.transpose()
([5/2, 0], [5/4, 5/4])
>>> d.delta_squared
1/4
>>> LabeledData.from_arrays([["0.1", 1], [1, "0.1"]], [0, 1]).X[0, 0]
1/10

The data are immutable: ``X``, ``Y`` and the derived matrices are read-only, so the cached
means, barycenter and integer points always describe the data.

>>> d.X[0, 0] = 7
Traceback (most recent call last):
...
TypeError: exact matrices held by symtrunc objects are read-only; copy with flint.fmpq_mat(M)
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import flint
import numpy as np

from symtrunc.errors import DataError
from symtrunc.exact.common_denominator import from_fmpq_mat, from_numpy, read_only, to_fmpq_mat
from symtrunc.exact.matrix import frozen, identity, qmatrix
from symtrunc.exact.rational import is_number_syntax, to_q

__all__ = ["LabeledData", "load_data", "MAX_FEATURES", "ARCHIVE_ERRORS", "canonical_label", "integer_label_offsets"]


@dataclass(frozen=True, repr=False, eq=False)
class LabeledData:
    """Exact labeled data: points ``X`` (N x M), class indices ``y`` and label matrix ``Y``.

    Build instances with :meth:`from_arrays`, :meth:`from_csv`, :meth:`from_npz` or
    :func:`load_data`; they validate the input and the standing assumptions.

    ``repr(data)`` is one short line (``N``, ``M``, ``Q``, the classes); ``str(data)``
    (``print(data)``) adds the class sizes, the feature names and the label matrix.

    Instances are immutable: ``X``, ``Y`` and every derived matrix are read-only
    (:func:`~symtrunc.exact.matrix.frozen`); copy with ``flint.fmpq_mat(M)`` to change one.

    Points given as a numeric NumPy array are held as :attr:`integer_array` (``X = A / s`` with an
    ``int64`` array ``A``); the ``fmpq_mat`` :attr:`X` is then built only when something asks for
    it, so the vectorized paths (construction, verification) handle millions of points.

    Attributes
    ----------
    y : tuple of int
        Class index (``0..Q-1``) of each point.
    classes : tuple
        The user's labels in output order: class ``j`` has label ``classes[j]``.
    Y : flint.fmpq_mat
        Invertible ``(Q, Q)`` label matrix; column ``j`` is the target of class ``j``.
    feature_names : tuple of str or None
        Column names when the source had a header or was a pandas ``DataFrame``.
    exact_points, scaled_points : flint.fmpq_mat or (numpy.ndarray, int) or None
        How the points are stored (exactly one is given); read them through :attr:`X`,
        :attr:`integer_array` or :attr:`scaled_rows`.
    """

    y: tuple[int, ...]
    classes: tuple[Any, ...]
    Y: flint.fmpq_mat
    feature_names: tuple[str, ...] | None = None
    exact_points: flint.fmpq_mat | None = field(default=None, repr=False)
    scaled_points: tuple[np.ndarray, int] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.exact_points is None) == (self.scaled_points is None):
            raise TypeError("give the points either as exact_points or as scaled_points")
        if self.exact_points is not None:
            object.__setattr__(self, "exact_points", frozen(qmatrix(self.exact_points, name="points")))
        else:
            A, s = self.scaled_points  # type: ignore[misc]
            object.__setattr__(self, "scaled_points", (read_only(A), int(s)))
        object.__setattr__(self, "Y", frozen(qmatrix(self.Y, name="label matrix Y")))
        object.__setattr__(self, "y", tuple(self.y))
        object.__setattr__(self, "classes", tuple(self.classes))
        if self.feature_names is not None:
            object.__setattr__(self, "feature_names", tuple(self.feature_names))

    def __eq__(self, other: object) -> bool:
        """Equal points (exactly), labels, classes and label matrices (feature names are not compared)."""
        if not isinstance(other, LabeledData):
            return NotImplemented
        if (self.y, self.classes) != (other.y, other.classes):
            return False
        if self.Y != other.Y or (self.N, self.M) != (other.N, other.M):
            return False
        a, b = self.integer_array, other.integer_array
        if a is not None and b is not None:  # normalized forms: equal iff the matrices are
            return a[1] == b[1] and bool(np.array_equal(a[0], b[0]))
        return bool(self.X == other.X)

    __hash__ = None  # type: ignore[assignment]

    @cached_property
    def X(self) -> flint.fmpq_mat:
        """The points as rows, shape ``(N, M)`` (read-only)."""
        if self.exact_points is not None:
            return self.exact_points
        return frozen(to_fmpq_mat(*self.scaled_points))  # type: ignore[misc]

    @cached_property
    def integer_array(self) -> tuple[np.ndarray, int] | None:
        """``(A, s)`` with ``X = A / s``: a read-only ``int64`` array ``A`` (N x M) and the least
        common denominator ``s``; ``None`` when an entry of ``A`` reaches ``2**62``.

        >>> A, s = LabeledData.from_arrays([["0.5", 1], [2, "0.25"]], ["a", "b"]).integer_array
        >>> A.tolist(), s
        ([[2, 4], [8, 1]], 4)
        """
        if self.scaled_points is not None:
            return self.scaled_points
        return from_fmpq_mat(self.X)

    @cached_property
    def scaled_rows(self) -> tuple[np.ndarray, int, int]:
        """``(A, s, max|A|)`` with ``X = A / s`` for every data set: :attr:`integer_array` when it
        exists, else an ``object`` array of Python integers (read-only)."""
        ints = self.integer_array
        if ints is None:
            Z, s = self.X.numer_denom()
            A = np.array([int(v) for v in Z.entries()], dtype=object).reshape(self.N, self.M)
            ints = (read_only(A), int(s))
        A = ints[0]
        return A, ints[1], int(np.abs(A).max()) if A.size else 0

    @cached_property
    def float_rows(self) -> np.ndarray | None:
        """The ``A`` of :attr:`scaled_rows` as a read-only ``float64`` array, when that is exact
        (``max|A| < 2^53``), else ``None``: for float64 BLAS products that are exact (integer
        weights with ``max|A| Σ|h| < 2^53``) and for float proposals."""
        A, _, bound = self.scaled_rows
        if A.dtype == object or bound >= 2**53:
            return None
        return read_only(A.astype(np.float64))

    @cached_property
    def labels(self) -> np.ndarray:
        """The class index of each point as a read-only ``intp`` array."""
        return read_only(np.array(self.y, dtype=np.intp))

    # ------------------------------------------------------------------ building
    @classmethod
    def from_arrays(
        cls,
        X: Any,
        y: Sequence[Any],
        *,
        classes: Sequence[Any] | None = None,
        Y: Any = None,
        feature_names: Sequence[str] | None = None,
        check: bool = True,
    ) -> LabeledData:
        """Build data from points and labels.

        Parameters
        ----------
        X : array-like of shape (N, M)
            Numbers of any exact-convertible type: int, str decimals (read exactly),
            Fraction, sympy Rational, float (its exact binary value), numpy arrays, or a
            pandas ``DataFrame`` (its string column names become :attr:`feature_names`; float
            columns are their exact binary values, so read decimals exactly with
            ``pandas.read_csv(path, dtype=str)`` or :meth:`from_csv`).
        y : sequence of hashable labels, length N
            A list, numpy array or pandas ``Series``. Whole float labels are integer labels
            (``2.0`` is the class ``2``, as in the data digest).
        classes : sequence, optional
            Output order of the labels (default: sorted order of the labels present).
            Every listed class must have at least one point.
        Y : array-like of shape (Q, Q), optional
            Label matrix, column ``j`` the target of ``classes[j]``; default the identity
            (one-hot labels). Must be invertible.
        feature_names : sequence of str, optional
            Default: the column names of a ``DataFrame`` ``X`` (when they are all strings).
        check : bool
            Validate the standing assumptions (at least 2 classes, Q <= M, linearly
            independent class means, no point under two labels).

        Raises
        ------
        DataError
            With a one-line explanation of what is wrong.

        >>> LabeledData.from_arrays([[1, 0], [0, 1]], [0, 0])
        Traceback (most recent call last):
        ...
        symtrunc.errors.DataError: only 1 class found; at least 2 classes are needed
        """
        if hasattr(X, "columns"):  # a pandas DataFrame (duck-typed: pandas is optional)
            X, names = _frame_points(X)
            feature_names = names if feature_names is None else feature_names
        if hasattr(y, "to_numpy"):  # a pandas Series
            y = y.to_numpy()
        Xq, scaled = _points(X)
        labels = list(np.asarray(y).tolist()) if isinstance(y, np.ndarray) else list(y)
        n_points = Xq.nrows() if Xq is not None else scaled[0].shape[0]  # type: ignore[index]
        if len(labels) != n_points:
            raise DataError(f"{n_points} points but {len(labels)} labels")
        try:
            present = set(labels)
        except TypeError:
            raise DataError("labels y must be a flat sequence of hashable labels (one per point)") from None
        if any(isinstance(c, float) and c.is_integer() for c in present):  # whole floats are integer labels
            labels = [canonical_label(v) for v in labels]
            present = set(labels)
        if classes is None:
            try:
                classes = sorted(present)
            except TypeError:
                classes = sorted(present, key=repr)
        classes = tuple(classes)
        if len(set(classes)) != len(classes):
            raise DataError("the list of classes has repeated labels")
        missing = [c for c in classes if c not in present]
        if missing:
            raise DataError(f"class {missing[0]!r} has no points (empty class)")
        unknown = present - set(classes)
        if unknown:
            raise DataError(f"label {sorted(map(repr, unknown))[0]} is not in the list of classes")
        index = {c: j for j, c in enumerate(classes)}
        Q = len(classes)
        Yq = identity(Q) if Y is None else qmatrix(Y, name="label matrix Y")
        data = cls(
            exact_points=Xq,
            scaled_points=scaled,
            y=tuple(index[c] for c in labels),
            classes=classes,
            Y=Yq,
            feature_names=tuple(feature_names) if feature_names is not None else None,
        )
        if check:
            data.validate()
        return data

    @classmethod
    def from_csv(cls, path: str | Path, **kwargs: Any) -> LabeledData:
        """Read a CSV file: feature columns, then the label in the last column.

        The first row is a header when none of its feature cells is written as a number
        (:func:`~symtrunc.exact.rational.is_number_syntax`), so a data row with one bad cell is
        reported, not skipped. Decimal strings are read exactly. Labels are compared as the
        strings they are: one written as a plain integer (``7``, ``-3``; not ``07``, ``+7`` or
        ``1_0``) is read as that ``int``, any other stays a string. Files with more than
        :data:`MAX_FEATURES` feature columns are refused after reading the first row. Keyword
        arguments go to :meth:`from_arrays`.

        Fields are separated by tabs in ``.tsv`` and ``.tab`` files; otherwise the separator
        (comma, semicolon or tab) is detected from the first lines. In a semicolon-separated
        file, numbers may be written with decimal commas (``14,23``, read exactly as 1423/100);
        a file that mixes decimal commas and decimal points is refused as ambiguous.

        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "d.csv")
        >>> with open(p, "w") as f: _ = f.write("u,v,label\\n0.1,0,x\\n0,0.1,y\\n")
        >>> d = LabeledData.from_csv(p)
        >>> d.feature_names, d.classes, d.X[0, 0]
        (('u', 'v'), ('x', 'y'), 1/10)
        """
        path = Path(path)
        delimiter, rows, lines = _csv_rows(path)
        if not rows:
            raise DataError(f"{path} has no data rows")
        if delimiter == ";":
            rows = _decimal_commas(path, rows, lines)
        header = None
        if _is_header(rows[0]):
            header, rows, lines = rows[0], rows[1:], lines[1:]
            if not rows:
                raise DataError(f"{path} has a header but no data rows")
        width = len(rows[0])
        if width < 2:
            raise DataError(f"{path}: need at least one feature column and a label column")
        for i, r in enumerate(rows):
            if len(r) != width:
                raise DataError(f"{path}, line {lines[i]}: {len(r)} columns, expected {width} (ragged rows)")
        X: np.ndarray | list[list[flint.fmpq]] | None = _integer_cells(rows)
        if X is None:
            X = []
            for i, r in enumerate(rows):
                row = []
                for k, cell in enumerate(r[:-1]):
                    try:
                        row.append(to_q(cell.strip()))
                    except DataError as e:
                        raise DataError(f"{path}, line {lines[i]}, column {k + 1}: {e}") from None
                X.append(row)
        labels = [_label(r[-1]) for r in rows]
        names = tuple(h.strip() for h in header[:-1]) if header else None
        kwargs.setdefault("feature_names", names)
        return cls.from_arrays(X, labels, **kwargs)

    @classmethod
    def from_npz(cls, path: str | Path, **kwargs: Any) -> LabeledData:
        """Read arrays ``X`` (N x M) and ``y`` (N) from an ``.npz`` file (no pickle).

        Float arrays are converted exactly (binary fractions).
        """
        path = Path(path)
        try:
            # our own handle: numpy leaves its file open when the zip directory is damaged
            with path.open("rb") as fh, np.load(fh, allow_pickle=False) as z:
                if "X" not in z or "y" not in z:
                    raise DataError(f"{path} must contain arrays 'X' and 'y' (found {sorted(z)})")
                X, y = z["X"], z["y"]
        except ARCHIVE_ERRORS as e:
            if isinstance(e, DataError):
                raise
            raise DataError(f"cannot read {path} as .npz: {e or type(e).__name__}") from None
        if X.ndim != 2:
            raise DataError(f"{path}: X must be 2-dimensional, got shape {X.shape}")
        if X.shape[1] > MAX_FEATURES:
            raise DataError(
                f"{path}: X has {X.shape[1]:,} columns, more than symtrunc reads (MAX_FEATURES = {MAX_FEATURES:,})"
            )
        if y.ndim != 1:
            raise DataError(f"{path}: y must be 1-dimensional, got shape {y.shape}")
        return cls.from_arrays(X, y.tolist(), **kwargs)

    @classmethod
    def from_npy(cls, path: str | Path, **kwargs: Any) -> LabeledData:
        """Read a 2-D ``.npy`` array whose last column is the label (no pickle)."""
        path = Path(path)
        try:
            with path.open("rb") as fh:
                arr = np.load(fh, allow_pickle=False)
        except ARCHIVE_ERRORS as e:
            raise DataError(f"cannot read {path} as .npy: {e or type(e).__name__}") from None
        if arr.ndim != 2 or arr.shape[1] < 2:
            raise DataError(f"{path}: expected a 2-D array whose last column is the label")
        if arr.shape[1] - 1 > MAX_FEATURES:
            raise DataError(
                f"{path}: {arr.shape[1] - 1:,} feature columns, more than symtrunc reads "
                f"(MAX_FEATURES = {MAX_FEATURES:,})"
            )
        labels = arr[:, -1]
        if labels.dtype.kind == "f" and np.all(np.isfinite(labels)) and np.all(labels == np.round(labels)):
            labels = labels.astype(np.int64)  # a float column of whole numbers holds integer labels
        return cls.from_arrays(arr[:, :-1], labels.tolist(), **kwargs)

    # ---------------------------------------------------------------- validation
    def validate(self) -> None:
        """Check the standing assumptions of the constructions.

        Raises
        ------
        DataError
            If there are fewer than 2 classes, a point carries two labels, Q > M,
            the class means are linearly dependent or Y is singular.
        """
        Q, M = self.Q, self.M
        if Q < 2:
            raise DataError(f"only {Q} class found; at least 2 classes are needed")
        if self.Y.nrows() != Q or self.Y.ncols() != Q:
            raise DataError(f"label matrix Y must be {Q} x {Q}, got {self.Y.nrows()} x {self.Y.ncols()}")
        if self.Y.rank() < Q:
            raise DataError("label matrix Y is singular; the class targets must be linearly independent")
        bad = self._conflicting_point()
        if bad is not None:
            i, j = bad
            coords = ", ".join(str(v) for v in self._row(i))
            raise DataError(
                f"point {i} ({coords}) appears under two labels: {self.classes[j]!r} and {self.classes[self.y[i]]!r}"
            )
        if Q > M:
            raise DataError(
                f"{Q} classes in dimension {M}: the theorems need Q <= M, because the Q class "
                "means (and the Q collapsed points the output layer maps to the labels) must be "
                "linearly independent"
            )
        if self.means.rank() < Q:
            raise DataError(
                "the class means are linearly dependent: the constructions collapse each class to "
                "a point on the segment from its mean to the barycenter and the output layer must "
                "map these Q points to Q independent labels, so the means must be linearly "
                "independent (tip: append a constant feature 1 to make affinely independent means "
                "linearly independent)"
            )

    def _conflicting_point(self) -> tuple[int, int] | None:
        """The first point ``i`` equal to an earlier point of another class ``j``, as ``(i, j)``."""
        ints = self.integer_array
        if ints is None:
            seen: dict[tuple, int] = {}
            Z, _ = self.X.numer_denom()  # integer rows hash fast (fmpz) and identify points exactly
            for i, row in enumerate(Z.tolist()):
                j = seen.setdefault(tuple(row), self.y[i])
                if j != self.y[i]:
                    return i, j
            return None
        A = np.ascontiguousarray(ints[0])
        order, start = _equal_row_groups(A)
        first = order[np.maximum.accumulate(np.where(start, np.arange(len(order)), 0))]
        lab = self.labels
        clash = lab[order] != lab[first]
        if not clash.any():
            return None
        i = int(order[clash].min())
        return i, int(lab[first[np.flatnonzero(order == i)[0]]])

    def _row(self, i: int) -> list[flint.fmpq]:
        ints = self.integer_array
        if ints is None:
            return [self.X[i, k] for k in range(self.M)]
        return [flint.fmpq(int(v), ints[1]) for v in ints[0][i]]

    # ----------------------------------------------------------------- geometry
    @property
    def N(self) -> int:
        """Number of points."""
        return len(self.y)

    @property
    def M(self) -> int:
        """Input dimension."""
        return self.X.ncols() if self.scaled_points is None else self.scaled_points[0].shape[1]

    @property
    def Q(self) -> int:
        """Number of classes."""
        return len(self.classes)

    @cached_property
    def class_indices(self) -> tuple[tuple[int, ...], ...]:
        """Row indices of each class, in class order."""
        lab = self.labels
        return tuple(tuple(np.flatnonzero(lab == j).tolist()) for j in range(self.Q))

    @property
    def counts(self) -> tuple[int, ...]:
        """Number of points ``N_j`` per class."""
        return tuple(len(v) for v in self.class_indices)

    def points(self, j: int) -> flint.fmpq_mat:
        """The points of class ``j`` as an ``(N_j, M)`` matrix."""
        ints = self.integer_array
        if ints is not None:
            return to_fmpq_mat(ints[0][np.asarray(self.class_indices[j], dtype=np.intp)], ints[1])
        rows = self.X.tolist()
        return qmatrix([rows[i] for i in self.class_indices[j]])

    @cached_property
    def _class_sums(self) -> tuple[list[list[int]], int] | None:
        """Exact integer column sums ``Σ A_i`` of each class and ``s`` (``None``: no int64 form)."""
        ints = self.integer_array
        if ints is None:
            return None
        A, s = ints
        big = self.scaled_rows[2]
        sums = []
        for idx in self.class_indices:
            rows = A[np.asarray(idx, dtype=np.intp)]
            if big * len(idx) < 2**63:
                sums.append([int(v) for v in rows.sum(axis=0)])
            else:
                sums.append([int(v) for v in rows.astype(object).sum(axis=0)])
        return sums, s

    @cached_property
    def _mean_columns(self) -> tuple[tuple[flint.fmpq, ...], ...]:
        """The class means as tuples of coordinates, one per class."""
        sums = self._class_sums
        if sums is not None:
            return tuple(tuple(flint.fmpq(v, n * sums[1]) for v in col) for col, n in zip(sums[0], self.counts))
        rows = self.X.tolist()
        return tuple(
            tuple(sum((rows[i][k] for i in idx), flint.fmpq(0)) / len(idx) for k in range(self.M))
            for idx in self.class_indices
        )

    @cached_property
    def means(self) -> flint.fmpq_mat:
        """Class means as columns: ``X0^red = [x̄_{0,1} ... x̄_{0,Q}]``, shape ``(M, Q)`` (read-only)."""
        cols = self._mean_columns
        return frozen(flint.fmpq_mat(self.M, self.Q, [cols[j][k] for k in range(self.M) for j in range(self.Q)]))

    def mean(self, j: int) -> flint.fmpq_mat:
        """Mean of class ``j`` as an ``(M, 1)`` column."""
        return flint.fmpq_mat(self.M, 1, list(self._mean_columns[j]))

    @cached_property
    def barycenter(self) -> flint.fmpq_mat:
        """Barycenter of the class means ``x̄ = (1/Q) Σ_j x̄_{0,j}`` (not the mean of all points; read-only)."""
        cols = self._mean_columns
        return frozen(
            flint.fmpq_mat(self.M, 1, [sum((c[k] for c in cols), flint.fmpq(0)) / self.Q for k in range(self.M)])
        )

    @cached_property
    def delta_squared(self) -> flint.fmpq:
        """``δ²``: the largest squared distance of a point from its class mean (exact)."""
        sums = self._class_sums
        if sums is not None:
            return self._delta_squared_scaled(*sums)
        cols = self._mean_columns
        best = flint.fmpq(0)
        for i, row in enumerate(self.X.tolist()):
            m = cols[self.y[i]]
            d2 = sum(((row[k] - m[k]) ** 2 for k in range(self.M)), flint.fmpq(0))
            best = max(best, d2)
        return best

    def _delta_squared_scaled(self, sums: list[list[int]], s: int) -> flint.fmpq:
        """``δ²`` from the int64 form: ``|x - x̄_j|² = |n_j A_i - S_j|² / (n_j s)²``, the squares
        summed in int64 when they provably fit, else in Python integers."""
        A = self.integer_array[0]  # type: ignore[index]
        best = flint.fmpq(0)
        for j, idx in enumerate(self.class_indices):
            n, S = len(idx), sums[j]
            rows = A[np.asarray(idx, dtype=np.intp)]
            reach = n * (int(np.abs(rows).max()) if rows.size else 0) + max(map(abs, S), default=0)
            if reach * reach * self.M < 2**63:
                D = rows * n - np.array(S, dtype=np.int64)
                top = int((D * D).sum(axis=1).max())
            else:
                D = rows.astype(object) * n - np.array(S, dtype=object)
                top = max(int(v) for v in (D * D).sum(axis=1))
            best = max(best, flint.fmpq(top, (n * s) ** 2))
        return best

    @property
    def delta(self):
        """``δ`` as an exact sympy number (a square root of :attr:`delta_squared`)."""
        import sympy

        return sympy.sqrt(sympy.Rational(int(self.delta_squared.p), int(self.delta_squared.q)))

    def deviations(self, j: int) -> flint.fmpq_mat:
        """Deviations ``x - x̄_{0,j}`` of class ``j`` as rows, shape ``(N_j, M)``."""
        m = self._mean_columns[j]
        return qmatrix([[v - m[k] for k, v in enumerate(r)] for r in self.points(j).tolist()])

    @cached_property
    def Y_ext(self) -> flint.fmpq_mat:
        """Targets of every point as columns: ``Y^ext``, shape ``(Q, N)`` (read-only)."""
        Yr = self.Y.tolist()
        return frozen(flint.fmpq_mat(self.Q, self.N, [Yr[k][j] for k in range(self.Q) for j in self.y]))

    @cached_property
    def integer_points(self) -> tuple[flint.fmpz_mat, int]:
        """``(A, s)`` with ``X^T = A / s``: the points as integer columns, shape ``(M, N)`` (read-only)."""
        ints = self.integer_array
        if ints is not None:
            return frozen(flint.fmpz_mat(self.M, self.N, ints[0].T.ravel().tolist())), ints[1]
        Z, s = self.X.transpose().numer_denom()
        return frozen(Z), int(s)

    def summary(self) -> str:
        """One line describing the data.

        >>> LabeledData.from_arrays([[1, 0], [0, 1]], ["a", "b"]).summary()
        '2 points in R^2, 2 classes (a: 1, b: 1)'
        """
        per = ", ".join(f"{c}: {n}" for c, n in zip(self.classes, self.counts))
        return f"{self.N} points in R^{self.M}, {self.Q} classes ({per})"

    def __repr__(self) -> str:
        """One line: sizes and classes (at most six shown).

        >>> LabeledData.from_arrays([[1, 0], [0, 1]], ["a", "b"])
        LabeledData(N=2, M=2, Q=2, classes=('a', 'b'))
        """
        shown = ", ".join(map(repr, self.classes[:6] if self.Q <= 6 else self.classes[:5]))
        more = ", ..." if self.Q > 6 else ("," if self.Q == 1 else "")
        return f"LabeledData(N={self.N}, M={self.M}, Q={self.Q}, classes=({shown}{more}))"

    def __str__(self) -> str:
        """The summary, the feature names and the label matrix.

        >>> print(LabeledData.from_arrays([[1, 0], [0, 1]], ["a", "b"], feature_names=["u", "v"]))
        2 points in R^2, 2 classes (a: 1, b: 1)
        features:     u, v
        label matrix: identity (one-hot labels)
        """
        lines = [self.summary()]
        if self.feature_names is not None:
            lines.append(f"features:     {', '.join(self.feature_names)}")
        if self.Y == identity(self.Q):
            lines.append("label matrix: identity (one-hot labels)")
        else:
            lines.append("label matrix: " + str(self.Y).replace("\n", "\n" + " " * 14))
        return "\n".join(lines)


def load_data(source: Any, y: Sequence[Any] | None = None, **kwargs: Any) -> LabeledData:
    """Load data from a path (``.csv``, ``.tsv``, ``.npz``, ``.npy``), from arrays or a pandas
    ``DataFrame``, or pass ``LabeledData`` through.

    Parameters
    ----------
    source : LabeledData, str, Path or array-like
    y : sequence, optional
        Labels when ``source`` is an array.
    **kwargs
        Passed to :meth:`LabeledData.from_arrays` (``classes``, ``Y``, ...).
    """
    if isinstance(source, LabeledData):
        return source
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise DataError(f"no such file: {path}")
        suffix = path.suffix.lower()
        if suffix == ".npz":
            return LabeledData.from_npz(path, **kwargs)
        if suffix == ".npy":
            return LabeledData.from_npy(path, **kwargs)
        if suffix in (".csv", ".tsv", ".tab", ".txt", ""):
            return LabeledData.from_csv(path, **kwargs)
        raise DataError(f"{path}: unknown data format {suffix!r}: use a .csv, .tsv, .npz or .npy file")
    if y is None:
        raise DataError("labels y are required when data are given as an array")
    return LabeledData.from_arrays(source, y, **kwargs)


# ---------------------------------------------------------------------- helpers
def _points(X: Any) -> tuple[flint.fmpq_mat | None, tuple[np.ndarray, int] | None]:
    """The points as an exact matrix, or (numeric NumPy arrays) in common-denominator form."""
    if isinstance(X, (flint.fmpq_mat, flint.fmpz_mat)):
        return qmatrix(X), None
    if isinstance(X, np.ndarray):
        if X.ndim != 2:
            raise DataError(f"points must form a 2-dimensional array, got shape {X.shape}")
        if X.dtype.kind == "f" and not np.all(np.isfinite(X)):
            i = int(np.argwhere(~np.isfinite(X))[0][0])
            raise DataError(f"point {i} has a NaN or infinite coordinate")
        if X.dtype.kind not in "biufO":
            raise DataError(f"points must be numeric, got an array of dtype {X.dtype}")
        if X.shape[0] == 0:
            raise DataError("no points given")
        if X.shape[1] == 0:
            raise DataError("points have no coordinates")
        scaled = from_numpy(X) if X.dtype.kind in "biuf" else None
        if scaled is not None:
            return None, scaled
        X = X.tolist()
    try:
        rows = [list(r) if not isinstance(r, (str, bytes)) else [r] for r in X]
    except TypeError:
        raise DataError("points must be a 2-dimensional array-like (a sequence of rows)") from None
    if not rows:
        raise DataError("no points given")
    if len(rows[0]) == 0:
        raise DataError("points have no coordinates")
    try:
        return qmatrix(rows, name="points"), None
    except DataError as e:
        raise DataError(str(e).replace("matrix: ", "")) from None


def _is_header(row: list[str]) -> bool:
    # A header has no feature cell written as a number ("nan" and "1/0" count as numbers: bad
    # ones, reported with their line); one number-like cell makes the row data.
    return not any(is_number_syntax(cell) for cell in row[:-1])


_CANONICAL_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,3999})", re.ASCII)


_INTEGER_CELLS = re.compile(r"(?:[-+]?[0-9]{1,18}\n)*[-+]?[0-9]{1,18}")


def _integer_cells(rows: list[list[str]]) -> np.ndarray | None:
    """The feature cells as an ``int64`` array when every one is a plain decimal integer of at
    most 18 digits (one regular-expression match and one NumPy conversion instead of a parse per
    cell), else ``None`` (the general reader, which reads any exact number and names a bad cell).

    >>> _integer_cells([["1", " -2", "a"], ["+3", "04", "b"]]).tolist()
    [[1, -2], [3, 4]]
    >>> _integer_cells([["1", "0.5", "a"]]) is None
    True
    """
    flat = [c.strip() for r in rows for c in r[:-1]]
    if not flat or _INTEGER_CELLS.fullmatch("\n".join(flat)) is None:
        return None
    return np.array(flat, dtype=np.int64).reshape(len(rows), -1)


def _label(cell: str) -> Any:
    # distinct strings stay distinct labels: only the canonical spelling of an int becomes one
    s = cell.strip()
    return int(s) if _CANONICAL_INT.fullmatch(s) and s != "-0" else s


MAX_FEATURES = 100_000
"""Most feature columns a data file may have. Every construction builds layers of width ``M``
(``M x M`` weights), so wider data are refused up front instead of after minutes of parsing."""

ARCHIVE_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)
"""What numpy raises on a damaged or truncated ``.npy``/``.npz`` file."""

_SNIFF_CHARS = 1 << 16  # the delimiter is detected from at most this much of the file's start


def _csv_rows(path: Path) -> tuple[str, list[list[str]], list[int]]:
    """The delimiter, the nonblank rows (cells as strings) and their line numbers, read as a
    stream; every failure is a one-line :class:`DataError` naming the file."""
    reader = None
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            head = f.read(_SNIFF_CHARS)
            if len(head) == _SNIFF_CHARS and "\n" in head.rstrip("\r\n"):
                head = head[: head.rstrip("\r\n").rindex("\n") + 1]  # whole lines only
            delimiter = _delimiter(path, head)
            f.seek(0)
            reader = csv.reader(f, delimiter=delimiter)
            rows, lines = [], []
            for r in reader:
                if r and any(c.strip() for c in r):
                    if len(r) - 1 > MAX_FEATURES:
                        raise DataError(
                            f"{path}, line {reader.line_num}: {len(r) - 1:,} feature columns, more than "
                            f"symtrunc reads (MAX_FEATURES = {MAX_FEATURES:,}): its networks have width "
                            "M in every hidden layer"
                        )
                    rows.append(r)
                    lines.append(reader.line_num)
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a UTF-8 text CSV file") from None
    except csv.Error as e:
        where = f"{path}, line {reader.line_num}" if reader is not None else str(path)
        if "field larger than field limit" in str(e):
            raise DataError(
                f"{where}: a field is longer than {csv.field_size_limit():,} characters, the CSV reader's limit"
            ) from None
        raise DataError(f"{where}: not a valid CSV file ({e})") from None
    return delimiter, rows, lines


def _frame_points(frame: Any) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """The values of a pandas ``DataFrame`` (an object array: every column keeps its own values,
    read exactly later) and its column names when they are all strings."""
    names = tuple(frame.columns)
    return frame.to_numpy(dtype=object), (names if all(isinstance(c, str) for c in names) else None)


_DELIMITERS = ",;\t"
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
_DECIMAL_POINT = re.compile(r"[+-]?\d*\.\d*(?:[eE][+-]?\d+)?")


def _delimiter(path: Path, text: str) -> str:
    """The field separator of a data file: a tab for ``.tsv``/``.tab``, else the one of ``,``, ``;``
    and tab that :class:`csv.Sniffer` finds in the first lines, checked: it must split them into
    rows of one width (at least 2) with numbers in the feature cells of the last line read.

    >>> _delimiter(Path("d.csv"), "14,23;1,71;a\\n13,2;1,78;b\\n")
    ';'
    """
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    sample = [line for line in itertools.islice(io.StringIO(text), 64) if line.strip()]
    try:
        sniffed = csv.Sniffer().sniff("".join(sample), delimiters=_DELIMITERS).delimiter
    except csv.Error:
        sniffed = ","
    for delimiter in dict.fromkeys(sniffed + _DELIMITERS):
        rows = list(csv.reader(sample, delimiter=delimiter))
        if (
            len({len(r) for r in rows}) == 1
            and len(rows[0]) >= 2
            and all(_is_number(c.strip(), delimiter) for c in rows[-1][:-1])
        ):
            return delimiter
    return sniffed


def _is_number(cell: str, delimiter: str) -> bool:
    if delimiter == ";" and _DECIMAL_COMMA.fullmatch(cell):
        return True
    try:
        to_q(cell)
    except DataError:
        return False
    return True


def _decimal_commas(path: Path, rows: list[list[str]], lines: list[int]) -> list[list[str]]:
    """The rows of a semicolon file with its decimal commas (``14,23``) written as decimal points.

    A file that also has decimal points is refused: ``1.065`` could mean 1065 there.
    """
    if not any(_DECIMAL_COMMA.fullmatch(c.strip()) for r in rows for c in r[:-1]):
        return rows
    for i, r in enumerate(rows):
        for k, cell in enumerate(r[:-1]):
            if _DECIMAL_POINT.fullmatch(cell.strip()) and "." in cell:
                raise DataError(
                    f"{path}, line {lines[i]}, column {k + 1}: {cell.strip()!r} has a decimal point, "
                    "but other numbers of this semicolon-separated file have decimal commas; "
                    "write every decimal the same way"
                )
    return [[c.replace(",", ".") if _DECIMAL_COMMA.fullmatch(c.strip()) else c for c in r[:-1]] + r[-1:] for r in rows]


def _equal_row_groups(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(order, start)``: a stable order of the rows of the ``int64`` array ``A`` in which equal
    rows are adjacent (in data order), and ``start[k]`` whether row ``order[k]`` differs from
    ``order[k - 1]``.

    Rows are sorted by a 64-bit hash (a product with fixed odd multipliers, wrapping modulo
    ``2^64``); whether rows with equal hashes are equal is then checked exactly. On a hash
    collision between different rows (rare) the rows themselves are sorted as bytes.

    >>> _equal_row_groups(np.array([[1, 2], [3, 4], [1, 2]]))[1].tolist()
    [True, False, True]
    """
    n, M = A.shape
    mult = np.random.default_rng(0x5EED).integers(1, 2**62, size=M, dtype=np.int64) | 1
    with np.errstate(over="ignore"):
        keys = A @ mult  # wraps modulo 2^64: a hash, not a value
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    same = np.flatnonzero(sk[1:] == sk[:-1])  # adjacent pairs with equal hashes
    equal = (A[order[same]] == A[order[same + 1]]).all(axis=1)
    if equal.all():
        start = np.ones(n, dtype=bool)
        start[same + 1] = False
        return order, start
    rows = A.view(np.dtype((np.void, A.dtype.itemsize * M))).ravel()  # a collision: exact sort
    order = np.argsort(rows, kind="stable")
    sr = rows[order]
    start = np.ones(n, dtype=bool)
    start[1:] = sr[1:] != sr[:-1]
    return order, start


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


def integer_label_offsets(labels: Any, span: int = 1 << 16) -> tuple[int, np.ndarray] | None:
    """For labels that are integers (or whole floats) spanning at most ``span + 1`` values: the
    smallest ``lo`` and the offsets ``labels - lo`` as an index array (a table lookup by value,
    no sort); ``None`` for any other labels (strings, booleans, fractional or huge numbers).

    >>> lo, off = integer_label_offsets(np.array([7, 5, 9], dtype=np.uint8))
    >>> lo, off.tolist(), integer_label_offsets(np.array([0.5, 1.0])), integer_label_offsets(np.array(["a"]))
    (5, [2, 0, 4], None, None)
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not labels.size or labels.dtype.kind not in "iuf" or labels.dtype.itemsize > 8:
        return None
    if labels.dtype.kind == "f":
        with np.errstate(invalid="ignore"):  # NaN and huge floats do not come back
            as_int = labels.astype(np.int64)
        if not np.array_equal(as_int, labels):
            return None
        labels = as_int
    lo, hi = int(labels.min()), int(labels.max())
    if hi - lo > span or lo <= -(2**62) or hi >= 2**62:
        return None
    if lo == 0 and labels.dtype != np.uint64:  # (NumPy does not index or count with uint64)
        return 0, labels
    return lo, labels.astype(np.intp) - lo
