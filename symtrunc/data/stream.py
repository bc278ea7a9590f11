"""Points streamed in chunks: arrays, memory-mapped ``.npy`` files, ``.npz``, CSV, shard
patterns and Dask arrays, with bounded memory for any number of points.

A source yields :class:`Chunk` objects. ``Chunk.X`` holds the points with their *exact*
values: a numeric NumPy array (every int and float is read as the exact binary number it
stores) or an object array of python-flint rationals (for :class:`~symtrunc.data.labeled.LabeledData`).
:func:`map_chunks` runs a function over the chunks, locally or on a Dask cluster
(:func:`dask_client` connects to one). A cluster that loses its scheduler, or has no worker for
``timeout`` seconds, ends the run with one :class:`~symtrunc.errors.SymtruncError` line instead
of waiting forever.

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

import functools
import gc
import glob
import mmap
import queue
import struct
import time
import zipfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from symtrunc.data.labeled import ARCHIVE_ERRORS, LabeledData, load_data
from symtrunc.errors import DataError, SymtruncError, require

__all__ = [
    "Chunk",
    "ArraySource",
    "ShardSource",
    "DaskSource",
    "DASK_TIMEOUT",
    "dask_client",
    "open_source",
    "dimension_mismatch",
    "map_chunks",
    "progress_bar",
    "check_chunk_size",
]

#: Seconds a Dask run waits for a scheduler that does not answer or a cluster without workers.
DASK_TIMEOUT = 60.0
_POLL = 1.0  # seconds between checks of the cluster while no chunk finishes


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
    #: Name of the file whose last column was read as the labels (``None``: labels given apart).
    labels_from_last_column: str | None = None

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
        """Consecutive chunks of at most ``size`` points (only one chunk in memory at a time).

        A memory-mapped array is read in place; the pages of chunks two behind the current
        one are released from this process (``madvise``; read-only file pages, so nothing is
        lost: they are read again if used), which keeps the resident memory of a run
        proportional to the chunk size however large the file is.
        """
        trim = _Trimmer(self.X)
        for a in range(0, self.n_points, size):
            X = np.asarray(self.X[a : a + size])
            _check_finite(X, start + a)
            yield Chunk(start + a, X, np.asarray(self.labels[a : a + size]))
            trim.release(a - 2 * size, a - size)
        trim.release(0, self.n_points)


def _check_finite(X: np.ndarray, first: int) -> None:
    """Refuse NaN and infinite coordinates, naming the first such point (global index ``first + row``)."""
    if X.dtype.kind != "f" or not X.size:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        total = X.sum(dtype=np.float64)  # one pass: finite unless a coordinate is not (or the sum overflows)
    if np.isfinite(total):
        return
    bad = ~np.isfinite(X)
    if bad.any():
        raise DataError(f"point {first + int(np.argwhere(bad)[0][0])} has a NaN or infinite coordinate")


class _Trimmer:
    """Releases the pages of rows of a memory-mapped array from the process (``MADV_DONTNEED``).

    Only for read-only shared file mappings (``np.load(..., mmap_mode="r")``), whose pages are
    read again from the file on the next access: releasing never changes what is read. A no-op
    for other arrays and on systems without ``madvise``.
    """

    def __init__(self, X: Any) -> None:
        self.mm = None
        mm = getattr(X, "_mmap", None)  # numpy's memmap keeps its mmap object here
        if (
            isinstance(X, np.memmap)
            and X.mode == "r"
            and isinstance(mm, mmap.mmap)
            and hasattr(mm, "madvise")
            and hasattr(mmap, "MADV_DONTNEED")
            and X.ndim == 2
        ):
            base = np.frombuffer(mm, dtype=np.uint8)  # the mapping's first byte
            begin = X.__array_interface__["data"][0] - base.__array_interface__["data"][0]
            del base
            if 0 <= begin < len(mm) and X.strides[0] > 0:
                self.mm, self.begin, self.stride = mm, begin, X.strides[0]

    def release(self, a: int, b: int) -> None:
        """Release the whole pages inside rows ``a:b`` (clipped to the mapping)."""
        if self.mm is None or b <= max(a, 0):
            return
        page = mmap.PAGESIZE
        lo = self.begin + max(a, 0) * self.stride
        hi = min(self.begin + b * self.stride, len(self.mm))
        lo = -(-lo // page) * page
        hi = hi // page * page
        if hi > lo:
            try:
                self.mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
            except (OSError, ValueError):  # pragma: no cover - not supported here: keep the pages
                self.mm = None


class ShardSource:
    """Several sources one after the other (e.g. ``part-*.npy`` shards)."""

    def __init__(self, sources: Sequence[ArraySource]) -> None:
        if not sources:
            raise DataError("no shards found")
        dims = {s.dim for s in sources}
        if len(dims) != 1:
            raise DataError(f"shards have different dimensions: {sorted(dims)}")
        self.sources = list(sources)
        self.labels_from_last_column = sources[0].labels_from_last_column

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
    except ARCHIVE_ERRORS as e:
        raise DataError(f"cannot read {path} as .npy: {e}") from None
    if labels is None:
        if arr.ndim != 2 or arr.shape[1] < 2:
            raise DataError(f"{path}: expected a 2-D array whose last column is the label")
        src = ArraySource(arr[:, :-1], arr[:, -1])
        src.labels_from_last_column = path.name
        return src
    return ArraySource(arr, _labels(labels))


def _npz_source(path: Path) -> ArraySource | _CompressedSource:
    """Points ``X`` and labels ``y`` of an ``.npz`` archive, streamed: a member stored without
    compression (``np.savez``) is memory-mapped in place like a ``.npy`` file, a compressed one
    (``np.savez_compressed``) is decompressed chunk by chunk, in order (its CRC is checked at
    the end, as ``np.load`` does). Labels are read whole."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = {n[:-4] if n.endswith(".npy") else n: n for n in zf.namelist()}
            if "X" not in names or "y" not in names:
                raise DataError(f"{path} must contain arrays 'X' and 'y'")
            members = {key: zf.getinfo(names[key]) for key in ("X", "y")}
            with zf.open(members["y"]) as fh:
                y = np.lib.format.read_array(fh, allow_pickle=False)
            X = _stored_member(path, members["X"])
            if X is None:
                with zf.open(members["X"]) as fh:
                    shape, fortran, dtype = _npy_header(fh)
                if fortran or len(shape) != 2:  # not readable by rows as a stream: read it whole
                    with zf.open(members["X"]) as fh:
                        return ArraySource(np.lib.format.read_array(fh, allow_pickle=False), y)
                return _CompressedSource(path, names["X"], shape, dtype, y)
            return ArraySource(X, y)
    except ARCHIVE_ERRORS as e:
        if isinstance(e, DataError):
            raise
        raise DataError(f"cannot read {path} as .npz: {e or type(e).__name__}") from None


def _npy_header(fh: Any) -> tuple[tuple[int, ...], bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` of the ``.npy`` stream ``fh``, positioned at its data;
    object arrays are refused (no pickles)."""
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    if dtype.hasobject:
        raise DataError("object arrays are not read (they would need pickle)")
    return shape, fortran, dtype


def _stored_member(path: Path, info: zipfile.ZipInfo) -> np.memmap | None:
    """The array of an uncompressed, unencrypted ``.npy`` member memory-mapped in place, else None."""
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        return None
    with path.open("rb") as fh:
        fh.seek(info.header_offset)
        head = fh.read(30)
        if len(head) != 30 or head[:4] != b"PK\x03\x04":
            raise DataError(f"{path}: damaged local header of member {info.filename}")
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        fh.seek(start)
        shape, fortran, dtype = _npy_header(fh)
        offset = fh.tell()
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if offset - start + nbytes != info.file_size:
        raise DataError(f"{path}: member {info.filename} does not hold the array its header describes")
    if nbytes == 0:
        return None  # nothing to map (mmap refuses empty mappings): read it the ordinary way
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")


class _CompressedSource:
    """Points of a compressed ``.npz`` member, decompressed in order, one chunk at a time."""

    labels_from_last_column: str | None = None

    def __init__(self, path: Path, member: str, shape: tuple[int, ...], dtype: np.dtype, labels: Any) -> None:
        if dtype.kind not in "biuf":
            raise DataError(f"points must be numeric, got dtype {dtype}")
        labels = np.asarray(labels)
        if labels.shape != (shape[0],):
            raise DataError(f"{shape[0]} points but labels of shape {labels.shape}")
        self.path, self.member, self.shape, self.dtype, self.labels = path, member, shape, dtype, labels

    @property
    def n_points(self) -> int:
        """Number of points."""
        return int(self.shape[0])

    @property
    def dim(self) -> int:
        """Dimension ``M``."""
        return int(self.shape[1])

    def chunks(self, size: int, start: int = 0) -> Iterator[Chunk]:
        """Consecutive chunks of at most ``size`` points, decompressed as they are needed."""
        n, m = self.shape
        dtype = self.dtype
        try:
            with zipfile.ZipFile(self.path) as zf, zf.open(self.member) as fh:
                _npy_header(fh)
                for a in range(0, n, size):
                    rows = min(size, n - a)
                    want = rows * m * dtype.itemsize
                    buf = fh.read(want)
                    if len(buf) != want:
                        raise EOFError(f"member {self.member} ends early")
                    if a + rows == n:
                        fh.read()  # to the end: the CRC is checked there
                    X = np.frombuffer(buf, dtype=dtype).reshape(rows, m)
                    _check_finite(X, start + a)
                    yield Chunk(start + a, X, np.asarray(self.labels[a : a + rows]))
        except ARCHIVE_ERRORS as e:
            if isinstance(e, DataError):
                raise
            raise DataError(f"cannot read {self.path} as .npz: {e or type(e).__name__}") from None


def dimension_mismatch(source: Any, expected: int) -> str:
    """The message for points of dimension ``source.dim`` given to a network expecting ``expected``.

    When the labels were read from the last column of a ``.npy`` file, it says so, and when
    that column is the one missing it suggests passing the labels separately.

    >>> src = ArraySource(np.zeros((2, 2)), [0, 1])
    >>> src.labels_from_last_column = "X.npy"
    >>> dimension_mismatch(src, 3)  # doctest: +NORMALIZE_WHITESPACE
    'the network expects inputs of dimension 3, the data have dimension 2: the last column of X.npy
    was taken as the label; if X.npy holds only the points, give the labels separately
    (--labels y.npy, or labels= in Python)'
    """
    msg = f"the network expects inputs of dimension {expected}, the data have dimension {source.dim}"
    name = getattr(source, "labels_from_last_column", None)
    if name is None:
        return msg
    msg += f": the last column of {name} was taken as the label"
    if source.dim + 1 == expected:
        msg += f"; if {name} holds only the points, give the labels separately (--labels y.npy, or labels= in Python)"
    return msg


def _labels(labels: Any) -> np.ndarray:
    if isinstance(labels, (str, Path)):
        try:
            return np.load(labels, mmap_mode="r", allow_pickle=False)
        except ARCHIVE_ERRORS as e:
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
        if labels is not None:
            raise DataError("LabeledData holds its own labels; do not pass labels with it")
        names = np.empty(obj.Q, dtype=object)
        names[:] = list(obj.classes)  # element-wise: a class label may itself be a tuple
        point_labels = names[obj.labels]
        ints = obj.integer_array
        if ints is not None:
            A, s = ints
            if s == 1:
                return ArraySource(A, point_labels)  # the integers themselves
            if s & (s - 1) == 0 and s < 2**1000 and obj.scaled_rows[2] <= 2**53:
                return ArraySource(A / float(s), point_labels)  # A / 2^k: every value a float exactly
        X = np.empty((obj.N, obj.M), dtype=object)
        X[:, :] = obj.X.tolist()
        return ArraySource(X, point_labels)
    if type(obj).__module__.startswith("dask"):
        if labels is None:
            raise DataError("labels are required with a dask array")
        return DaskSource(obj, labels)
    if isinstance(obj, (str, Path)):
        text = str(obj)
        shards = any(ch in text for ch in "*?[")
        if labels is not None and (shards or not text.lower().endswith(".npy")):
            raise DataError(f"{text} holds its own labels; separate labels go only with a single .npy file of points")
        if shards:
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
            return _npz_source(path)
        return open_source(load_data(path, check=False))  # verification needs no standing assumption
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
    timeout: float | None = DASK_TIMEOUT,
    threads: int = 1,
    on_read: Callable[[Chunk], None] | None = None,
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
    desc : str
        Label of the progress bar.
    timeout : float or None
        With ``client``: seconds to wait while the scheduler is unreachable or the cluster has no
        worker (``None``: forever). Chunks that are being computed may take as long as they need.
    threads : int
        Locally: chunks computed at once on a thread pool (``fn`` must be thread-safe; at most
        ``threads + 1`` chunks are held at a time).
    on_read : callable, optional
        Locally: called with each chunk in source order as it is read, before ``fn``.

    Raises
    ------
    SymtruncError
        With ``client``: the scheduler was lost, the cluster had no worker for ``timeout``
        seconds, or the workers computing a chunk kept dying (one line naming the scheduler).
    """
    bar = progress_bar(source.n_points, desc, progress)
    try:
        if client is None:
            return _map_local(fn, source.chunks(chunk_size), threads, on_read, bar)
        if isinstance(source, DaskSource):
            import dask

            tasks = [dask.delayed(_run_block)(fn, start, xb, yb) for start, xb, yb in source.blocks(chunk_size)]
            futures = client.compute(tasks)
        else:
            futures = [client.submit(fn, chunk, pure=False) for chunk in source.chunks(chunk_size)]
        return _gather(client, futures, bar, timeout)
    finally:
        bar.close()


def check_chunk_size(size: Any) -> int:
    """``size`` if it is a positive integer (points per chunk).

    Raises
    ------
    DataError
        Anything else (booleans included).
    """
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise DataError(f"chunk_size must be a positive integer, got {size!r}")
    return int(size)


def _map_local(fn: Callable[[Chunk], Any], chunks: Any, threads: int, on_read: Any, bar: Any) -> list[Any]:
    """``[fn(chunk) for chunk in chunks]`` on ``threads`` threads, in order (see :func:`map_chunks`);
    one thread: in the calling thread."""
    out: list[Any] = []
    running: deque[tuple[Future, int]] = deque()

    def collect(keep: int) -> None:  # the oldest results, in source order, until ``keep`` run
        while len(running) > keep:
            f, n = running.popleft()
            out.append(f.result())
            bar.update(n)

    pool = ThreadPoolExecutor(threads) if threads > 1 else None
    try:
        for chunk in chunks:
            if on_read is not None:
                on_read(chunk)
            if pool is None:
                done: Future = Future()
                done.set_result(fn(chunk))
                running.append((done, len(chunk)))
            else:
                running.append((pool.submit(fn, chunk), len(chunk)))
            collect(threads if pool is not None else 0)
        collect(0)
    finally:
        for f, _ in running:  # an error: the chunks not started are dropped
            f.cancel()
        if pool is not None:
            pool.shutdown()
    return out


def dask_client(address: str, timeout: float | None = DASK_TIMEOUT) -> Any:
    """A ``dask.distributed.Client`` connected to the scheduler at ``address`` (close it when done).

    Raises
    ------
    DataError
        ``address`` is not a scheduler address.
    SymtruncError
        No scheduler answered at ``address`` within ``timeout`` seconds.
    MissingDependencyError
        ``distributed`` is not installed.
    """
    distributed = require("dask.distributed", "dask", "--dask", package="distributed")
    error: SymtruncError
    try:
        return distributed.Client(address, timeout=timeout, set_as_default=False)
    except ValueError as e:
        error = DataError(f"not a Dask scheduler address: {address!r} ({_first_line(e)})")
    except OSError as e:  # TimeoutError, connection refused
        error = SymtruncError(f"cannot connect to the Dask scheduler at {address}: {_first_line(e)}")
    gc.collect()  # the half-built client stops its event loop now, not with a traceback at exit
    raise error


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _cluster_problem(client: Any, where: str) -> str | None:
    """Why the cluster cannot run chunks now (no scheduler, no worker), or None."""
    if client.status != "running":
        return f"no connection to the Dask scheduler {where}"
    info = client.scheduler_info()
    if not info.get("n_workers", len(info.get("workers", ()))):
        return f"the Dask scheduler {where} has had no worker"
    return None


class _Watch:
    """Waits in steps of :data:`_POLL` seconds, checking the cluster whenever nothing happened."""

    def __init__(self, client: Any, timeout: float | None, where: str, total: int) -> None:
        self.client, self.timeout, self.where, self.total = client, timeout, where, total
        self.stuck_since: float | None = None
        self.left = total

    def until(self, step: Callable[[], Any], idle: type[Exception]) -> Any:
        """``step()``, repeated while it raises ``idle`` (nothing happened) and the cluster is fine."""
        while True:
            try:
                out = step()
            except idle:
                self._check()
                continue
            self.stuck_since = None
            return out

    def _check(self) -> None:
        problem = _cluster_problem(self.client, self.where)
        if problem is None:
            self.stuck_since = None
        elif self.stuck_since is None:
            self.stuck_since = time.monotonic()
        elif self.timeout is not None and time.monotonic() - self.stuck_since > self.timeout:
            raise SymtruncError(
                f"{problem} for {self.timeout:g} s; gave up with {self.left} of {self.total} "
                "chunks unfinished (timeout=, on the command line --dask-timeout, sets this time)"
            )


def _gather(client: Any, futures: list[Any], bar: Any, timeout: float | None) -> list[Any]:
    """The results of ``futures`` in order; a lost or empty cluster raises one :class:`SymtruncError`."""
    from dask.distributed import KilledWorker  # lazy: dask is optional

    where = f"at {client.scheduler.address}" if client.scheduler is not None else "of the client"
    finished: queue.SimpleQueue = queue.SimpleQueue()
    for f in futures:
        f.add_done_callback(finished.put)
    index = {f.key: i for i, f in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    watch = _Watch(client, timeout, where, len(futures))
    while watch.left:
        future = watch.until(functools.partial(finished.get, timeout=_POLL), queue.Empty)
        try:  # the result may have to be fetched again from a worker (or recomputed)
            result = watch.until(functools.partial(future.result, timeout=_POLL), TimeoutError)
        except KilledWorker as e:
            raise SymtruncError(f"the Dask workers {where} died while computing a chunk ({_first_line(e)})") from None
        except CancelledError:
            raise SymtruncError(f"lost the Dask scheduler {where} during the run (its chunks were cancelled)") from None
        except OSError as e:  # the connection to the scheduler closed or was reset (CommClosedError is one)
            raise SymtruncError(f"lost the Dask scheduler {where} during the run ({_first_line(e)})") from None
        results[index[future.key]] = result
        bar.update(_result_len(result))
        watch.left -= 1
    return results


def _run_block(fn: Callable[[Chunk], Any], start: int, X: Any, y: Any) -> Any:
    return fn(Chunk(start, np.asarray(X), np.asarray(y)))


def _result_len(result: Any) -> int:
    return int(getattr(result, "n_points", 0))
