"""Points streamed in chunks: arrays, memory-mapped ``.npy`` files, ``.npz``, CSV, shard
patterns and Dask arrays, with bounded memory for any number of points.

A source yields :class:`Chunk` objects. ``Chunk.X`` holds the points with their *exact*
values: a numeric NumPy array (every int and float is read as the exact binary number it
stores) or an object array of python-flint rationals (for :class:`~symtrunc.data.labeled.LabeledData`).
:func:`map_chunks` runs a function over the chunks, locally or on a Dask cluster.

Layout of a single ``.npy`` file: a 2-D array whose last column is the (integer) label, as in
CSV files; or pass the labels separately (``labels=`` a path or an array).

Examples
--------
>>> import numpy as np
>>> src = open_source(np.arange(12).reshape(6, 2), labels=[0, 0, 0, 1, 1, 1])
>>> src.n_points, src.dim
(6, 2)
>>> [(c.start, len(c)) for c in src.chunks(4)]
[(0, 4), (4, 2)]
>>> map_chunks(lambda c: int(c.X.sum()), src, chunk_size=4)
[28, 38]
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError

__all__ = ["Chunk", "ArraySource", "ShardSource", "DaskSource", "open_source", "map_chunks", "progress_bar"]


@dataclass(frozen=True)
class Chunk:
    """Consecutive points ``start .. start + len - 1`` of a source.

    Attributes
    ----------
    start : int
        Index of the first point in the whole source.
    X : numpy.ndarray
        Shape ``(n, M)``: numeric (exact as stored) or ``object`` holding ``flint.fmpq``.
    labels : numpy.ndarray
        Shape ``(n,)``: the raw labels.
    """

    start: int
    X: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return self.X.shape[0]

    @property
    def is_rational(self) -> bool:
        """Whether ``X`` holds exact rationals that floats may not represent."""
        return self.X.dtype == object


class _RowSource:
    """A source whose points are the rows of ``self.X``."""

    X: Any

    @property
    def n_points(self) -> int:
        """Number of points."""
        return int(self.X.shape[0])

    @property
    def dim(self) -> int:
        """Dimension ``M``."""
        return int(self.X.shape[1])


class ArraySource(_RowSource):
    """Points from an in-memory or memory-mapped array (rows) and labels."""

    def __init__(self, X: Any, labels: Any) -> None:
        if X.ndim != 2:
            raise DataError(f"points must form a 2-dimensional array, got shape {X.shape}")
        if X.dtype != object and X.dtype.kind not in "biuf":
            raise DataError(f"points must be numeric, got dtype {X.dtype}")
        labels = np.asarray(labels)
        if labels.shape != (X.shape[0],):
            raise DataError(f"{X.shape[0]} points but labels of shape {labels.shape}")
        self.X, self.labels = X, labels

    def chunks(self, size: int, start: int = 0) -> Iterator[Chunk]:
        """Consecutive chunks of at most ``size`` points (only one chunk in memory at a time)."""
        for a in range(0, self.n_points, size):
            X = np.asarray(self.X[a:a + size])
            if X.dtype.kind == "f" and not np.all(np.isfinite(X)):
                bad = a + int(np.argwhere(~np.isfinite(X))[0][0])
                raise DataError(f"point {start + bad} has a NaN or infinite coordinate")
            yield Chunk(start + a, X, np.asarray(self.labels[a:a + size]))


class ShardSource:
    """Several sources one after the other (e.g. ``part-*.npy`` shards)."""

    def __init__(self, sources: Sequence[ArraySource]) -> None:
        if not sources:
            raise DataError("no shards found")
        dims = {s.dim for s in sources}
        if len(dims) != 1:
            raise DataError(f"shards have different dimensions: {sorted(dims)}")
        self.sources = list(sources)

    @property
    def n_points(self) -> int:
        """Total number of points."""
        return sum(s.n_points for s in self.sources)

    @property
    def dim(self) -> int:
        """Dimension ``M``."""
        return self.sources[0].dim

    def chunks(self, size: int) -> Iterator[Chunk]:
        """Chunks of each shard in turn (a chunk never spans two shards)."""
        offset = 0
        for s in self.sources:
            yield from s.chunks(size, start=offset)
            offset += s.n_points


class DaskSource(_RowSource):
    """Points in a ``dask.array`` (rows), labels in a dask or NumPy array."""

    def __init__(self, X: Any, labels: Any) -> None:
        if X.ndim != 2:
            raise DataError(f"points must form a 2-dimensional array, got shape {X.shape}")
        if X.shape[0] != len(labels):
            raise DataError(f"{X.shape[0]} points but {len(labels)} labels")
        self.X, self.labels = X, labels

    def blocks(self, size: int):
        """``(start, X block, label block)`` as delayed objects, rechunked to ``size`` rows."""
        import dask.array as da

        X = self.X.rechunk((size, self.dim))
        y = da.asarray(self.labels).rechunk((size,))
        starts = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]])
        return list(zip(starts.tolist(), X.to_delayed().ravel(), y.to_delayed().ravel()))

    def chunks(self, size: int) -> Iterator[Chunk]:
        """Chunks computed one at a time on the local scheduler."""
        for start, xb, yb in self.blocks(size):
            yield Chunk(start, np.asarray(xb.compute()), np.asarray(yb.compute()))


def _npy_source(path: Path, labels: Any) -> ArraySource:
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read {path} as .npy: {e}") from None
    if labels is None:
        if arr.ndim != 2 or arr.shape[1] < 2:
            raise DataError(f"{path}: expected a 2-D array whose last column is the label")
        return ArraySource(arr[:, :-1], arr[:, -1])
    return ArraySource(arr, _labels(labels))


def _labels(labels: Any) -> np.ndarray:
    if isinstance(labels, (str, Path)):
        try:
            return np.load(labels, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as e:
            raise DataError(f"cannot read labels from {labels}: {e}") from None
    return np.asarray(labels)


def open_source(obj: Any, labels: Any = None):
    """A chunked source for ``obj``.

    Parameters
    ----------
    obj : path, glob pattern, numpy array, LabeledData or dask array
        ``.npy`` files are memory-mapped (last column the label unless ``labels`` is given);
        a pattern such as ``"shards/part-*.npy"`` opens the sorted matching shards; ``.npz``
        needs arrays ``X`` and ``y``; ``.csv`` goes through :class:`~symtrunc.data.labeled.LabeledData`.
    labels : array-like or path, optional
        Labels for array inputs or label-less ``.npy`` files.

    Raises
    ------
    DataError
        If the input cannot be read or has the wrong shape.
    """
    if isinstance(obj, LabeledData):
        X = np.empty((obj.N, obj.M), dtype=object)
        X[:, :] = obj.X.tolist()
        return ArraySource(X, np.array([obj.classes[j] for j in obj.y], dtype=object))
    if type(obj).__module__.startswith("dask"):
        if labels is None:
            raise DataError("labels are required with a dask array")
        return DaskSource(obj, labels)
    if isinstance(obj, (str, Path)):
        text = str(obj)
        if any(ch in text for ch in "*?["):
            paths = sorted(glob.glob(text))
            if not paths:
                raise DataError(f"no files match {text!r}")
            return ShardSource([_npy_source(Path(p), None) for p in paths])
        path = Path(obj)
        if not path.exists():
            raise DataError(f"no such file: {path}")
        if path.suffix.lower() == ".npy":
            return _npy_source(path, labels)
        if path.suffix.lower() == ".npz":
            try:
                with np.load(path, allow_pickle=False) as z:
                    if "X" not in z or "y" not in z:
                        raise DataError(f"{path} must contain arrays 'X' and 'y'")
                    return ArraySource(z["X"], z["y"])
            except (OSError, ValueError) as e:
                if isinstance(e, DataError):
                    raise
                raise DataError(f"cannot read {path} as .npz: {e}") from None
        return open_source(load_data(path))
    if labels is None:
        raise DataError("labels are required when points are given as an array")
    return ArraySource(np.asarray(obj) if not hasattr(obj, "shape") else obj, _labels(labels))


def progress_bar(total: int, desc: str, enabled: bool | None = None):
    """A tqdm progress bar (off when not a terminal or when ``enabled`` is False); a no-op
    object when tqdm is not installed.

    >>> bar = progress_bar(10, "demo", enabled=False)
    >>> bar.update(5); bar.close()
    """
    if enabled is not False:
        try:
            from tqdm import tqdm

            return tqdm(total=total, desc=desc, unit="pt", disable=None if enabled is None else not enabled)
        except ImportError:
            pass
    return _NoBar()


class _NoBar:
    def update(self, n: int = 1) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""


def map_chunks(
    fn: Callable[[Chunk], Any],
    source: Any,
    *,
    chunk_size: int = 65536,
    client: Any = None,
    progress: bool | None = False,
    desc: str = "points",
) -> list[Any]:
    """``[fn(chunk) for chunk in source]``, locally or on a Dask cluster, in source order.

    Parameters
    ----------
    fn : callable
        Applied to each :class:`Chunk`; must be picklable when ``client`` is given.
    source : a source from :func:`open_source`
    chunk_size : int
    client : dask.distributed.Client, optional
        Run the chunks as tasks on this cluster. Dask sources are read by the workers
        themselves; other sources are read here and sent chunk by chunk.
    progress : bool or None
        Progress bar: ``None`` shows it on terminals only, ``False`` never.
    """
    bar = progress_bar(source.n_points, desc, progress)
    try:
        if client is None:
            out = []
            for chunk in source.chunks(chunk_size):
                out.append(fn(chunk))
                bar.update(len(chunk))
            return out
        from dask.distributed import as_completed

        if isinstance(source, DaskSource):
            import dask

            tasks = [dask.delayed(_run_block)(fn, start, xb, yb) for start, xb, yb in source.blocks(chunk_size)]
            futures = client.compute(tasks)
        else:
            futures = [client.submit(fn, chunk, pure=False) for chunk in source.chunks(chunk_size)]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(futures)
        for future, result in as_completed(futures, with_results=True):
            results[index[future.key]] = result
            bar.update(_result_len(result))
        return results
    finally:
        bar.close()


def _run_block(fn: Callable[[Chunk], Any], start: int, X: Any, y: Any) -> Any:
    return fn(Chunk(start, np.asarray(X), np.asarray(y)))


def _result_len(result: Any) -> int:
    return int(getattr(result, "n_points", 0))
