"""The driver of certified verification: sources, chunking, the Dask client, aggregation.

:func:`verify_certified` opens the source, builds the :class:`~.plan.ChunkPlan` (label index,
exact targets, collapse order), maps a :class:`~.worker.ChunkTask` over the chunks
(:func:`symtrunc.data.stream.map_chunks`, locally or on a Dask cluster), and adds up the
chunk results into one :class:`~symtrunc.verification.certificate.Certificate`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from symtrunc.data.stream import (
    DASK_TIMEOUT,
    DaskSource,
    ShardSource,
    check_chunk_size,
    dimension_mismatch,
    map_chunks,
    open_source,
)
from symtrunc.errors import DataError, VerificationError
from symtrunc.exact.threads import blas_threads
from symtrunc.network import ReLUNetwork
from symtrunc.verification.certificate import ZERO_COSTS, Certificate, LayerCheck
from symtrunc.verification.certified import kernel
from symtrunc.verification.certified.plan import ChunkPlan, Tuning
from symtrunc.verification.certified.worker import ChunkTask, plain
from symtrunc.verification.collapse import ZeroPaths, collapse_order, fixed_base_points
from symtrunc.verification.digest import DataDigest, network_sha256
from symtrunc.verification.targets import class_targets

__all__ = ["verify_certified"]


def _all_labels(source: Any) -> list:
    """Sorted distinct labels of a source (the data's classes, as :class:`LabeledData` orders them)."""
    if isinstance(source, ShardSource):
        parts = [np.asarray(s.labels) for s in source.sources]
    elif isinstance(source, DaskSource):
        lab = source.labels
        if type(lab).__module__.startswith("dask"):
            import dask.array as da  # lazy: dask is optional

            lab = da.unique(lab).compute()
        parts = [np.asarray(lab)]
    else:
        parts = [np.asarray(source.labels)]
    present: set = set()
    for p in parts:
        try:
            present.update(np.unique(p).tolist())
        except TypeError:
            present.update(p.tolist())
    try:
        return sorted(present)
    except TypeError:
        return sorted(present, key=repr)


def verify_certified(
    network: ReLUNetwork,
    source: Any,
    *,
    labels: Any = None,
    chunk_size: int = 65536,
    client: Any = None,
    timeout: float | None = DASK_TIMEOUT,
    progress: bool | None = False,
    label_matrix: Any = None,
    invariants: bool = True,
    tuning: dict | None = None,
    digests: bool = True,
) -> Certificate:
    """Prove zero loss (and the construction's invariants) with a certified float filter.

    Same guarantee as :func:`symtrunc.verify`, for any number of points, in bounded memory:
    every activation sign used is either certified by a rigorous float64 error bound or
    computed exactly, and every output is compared exactly (see the module docstring).

    Parameters
    ----------
    network : ReLUNetwork
    source : array, LabeledData, path (.npy, .npz, .csv), shard pattern or dask array
        Anything :func:`symtrunc.data.stream.open_source` accepts; numeric arrays are read exactly.
    labels : array-like or path, optional
        Labels for array sources (``.npy`` files default to their last column).
    chunk_size : int
        Points per chunk (memory is proportional to ``chunk_size × width``).
    client : dask.distributed.Client, optional
        Run the chunks on this cluster (the chunk worker is picklable).
    timeout : float or None
        With ``client``: give up (:class:`~symtrunc.errors.SymtruncError`) when the scheduler is
        lost or no worker is left for this many seconds (:func:`symtrunc.data.stream.map_chunks`).
    progress : bool or None
        tqdm progress bar (``None``: only on terminals).
    label_matrix : array-like or mapping, optional
        The targets (:func:`~symtrunc.verification.targets.class_targets`, must be invertible):
        column ``j`` for the ``j``-th label in sorted order, or ``{label: vector}``. Default:
        one-hot in the network's output order (never a matrix stored in the network's metadata).
    invariants : bool
        Also prove the collapse structure when the layers have it
        (:func:`~symtrunc.verification.collapse.collapse_order`; metadata are never read).
    tuning : dict, optional
        Advanced knobs (tests, benchmarks), the fields of
        :class:`~symtrunc.verification.certified.plan.Tuning`: ``composed`` (``"auto"``,
        ``"always"``, ``"never"``), ``shortcut`` (bool), ``composed_min_group``,
        ``composed_max_groups``, ``retry_max_groups``, ``batch_exact_groups``, ``block``,
        ``threads``, ``structured``, ``kernel`` (bool: the structured kernel of
        :mod:`~symtrunc.verification.certified.kernel`), ``kernel_threads`` (threads of the kernel
        inside one chunk, default 1), ``chunk_threads`` (chunks checked at once in this process,
        default one per core; the data digest runs beside them), ``class_order`` (the kernel
        visits a chunk's points class by class, default ``True``), ``compiled`` (numba's kernel; default: once loaded, or
        from ``kernel.COMPILED_FROM`` points).
    digests : bool
        ``False``: skip the SHA-256 digests of the network and the data (a certificate nobody
        keeps, e.g. a construction's own check); its ``network_sha256`` and ``data_sha256`` are
        then empty and it cannot be re-checked.

    Returns
    -------
    Certificate
        ``method == "certified"``; ``extra`` holds the statistics: ``points_float_certified``,
        ``points_exact``, ``patterns``, ``chunks``, ``chunk_size``, ``seconds``.

    Raises
    ------
    VerificationError
        With a :class:`~symtrunc.verification.certificate.Counterexample`: the failing point with the
        smallest index in the source, its label, its first failing layer and neuron, the exact
        value and what was expected (exact verification may name another failing point).
    DataError
        If the data do not fit the network (dimension, unknown labels), or a tuning option is unknown.
    SymtruncError
        With ``client``: the Dask cluster was lost (see ``timeout``).

    Notes
    -----
    Labels are matched to the network's classes by value. When the network has classes, the
    data need not contain all of them; the invariants are then checked for the points present
    (exact :func:`symtrunc.verify` checks invariants only when the data have exactly the
    network's classes). When the layers have the collapse structure but the data do not follow
    it, zero loss is decided alone (a second pass) and ``extra["invariants_failed"]`` names the
    first point that breaks it. ``n_classes`` counts the labels present. The costs are all ``"0"``:
    they are exactly zero once zero loss holds.
    """
    t0 = time.perf_counter()
    tun = Tuning.from_options(tuning)
    src = source if hasattr(source, "chunks") and hasattr(source, "n_points") else open_source(source, labels)
    if src.dim != network.input_dim:
        raise DataError(dimension_mismatch(src, network.input_dim))
    try:
        n_known: int | None = int(src.n_points)
    except (TypeError, ValueError):  # a dask array of unknown length
        n_known = None
    where = f"{source}: " if isinstance(source, (str, Path)) else ""
    no_points = f"{where}the data have no points; give at least one labeled point"
    if n_known == 0:
        raise DataError(no_points)
    if tun.compiled is None:  # load numba only where it pays (see kernel.COMPILED_FROM)
        big = n_known is None or n_known >= kernel.COMPILED_FROM
        tun = replace(tun, compiled=kernel.compiled_loaded() or big)
    check_chunk_size(chunk_size)
    if isinstance(label_matrix, Mapping):
        classes = list(label_matrix)
    elif network.classes and label_matrix is None:
        classes = list(network.classes)
    else:
        classes = _all_labels(src)
        if not classes:  # a source of unknown length
            raise DataError(no_points)
    targets = class_targets(network, classes, label_matrix=label_matrix)
    paths = ZeroPaths(network)
    order = collapse_order(network, targets, paths) if invariants else None
    # locally the data digest runs on a second thread while the chunks are checked (hashing and
    # the compiled kernel release the GIL); the digest updates stay in chunk order. The network
    # digest and the base points of the summary are computed on a third thread meanwhile.
    side = ThreadPoolExecutor(max_workers=1)
    summary = ThreadPoolExecutor(max_workers=1)
    try:
        net_sha = summary.submit(network_sha256, network) if digests else None
        fixed = summary.submit(fixed_base_points, network, order, None, paths) if order is not None else None
        digest = DataDigest() if digests else None
        run = (network, src, classes, targets, tun, chunk_size, client, timeout, progress, side)
        results, hashing = _run(*run, order, digest)
        fails = [r.failure for r in results if r.failure is not None]
        broken = [f for f in fails if f.check != "zero loss"]
        broken_at = ""
        if order is not None and broken:  # the data do not follow the layers' collapse order: zero loss alone
            broken_at = str(min(broken, key=lambda f: (f.point, f.layer)))
            order, digest = None, DataDigest() if digests else None
            results, hashing = _run(*run, order, digest)
            fails = [r.failure for r in results if r.failure is not None]
        if fails:
            c = min(fails, key=lambda f: (f.point, f.layer))
            raise VerificationError(str(c), c)
        if client is not None and digest is not None:  # the cluster read the chunks: hash them here, in order
            for chunk in src.chunks(chunk_size):
                digest.update(chunk.X, chunk.labels)
        # the summary while the last chunks are hashed
        N = sum(r.n_points for r in results)
        counts = np.zeros(len(classes), dtype=np.int64)
        patterns: dict[bytes, int] = {}
        for r in results:
            counts += np.asarray(r.class_counts, dtype=np.int64)
            for key, c in r.patterns.items():
                patterns[key] = patterns.get(key, 0) + c
        present = [j for j in range(len(classes)) if counts[j] > 0]
        checks = _layer_checks(
            network, classes, order, [] if order is None or fixed is None else fixed.result(), counts, N
        )
        for f in hashing:
            f.result()
    finally:
        side.shutdown(wait=True, cancel_futures=True)
        summary.shutdown(wait=True, cancel_futures=True)
    n_float = sum(r.n_float for r in results)
    n_exact = sum(r.n_exact for r in results)
    return Certificate(
        zero_loss=True,
        n_points=N,
        input_dim=network.input_dim,
        n_classes=len(present),
        widths=network.widths,
        invariants_checked=order is not None,
        layers=tuple(checks),
        costs=dict(ZERO_COSTS),
        method="certified",
        extra={
            "method": "certified",
            **({"invariants_failed": broken_at} if broken_at else {}),
            "points_float_certified": n_float,
            "points_exact": n_exact,
            "patterns": len(patterns),
            "chunks": len(results),
            "chunk_size": chunk_size,
            "composed_evaluations": sum(r.composed_evaluations for r in results),
            "structured_evaluations": sum(r.structured_evaluations for r in results),
            "running_rows": sum(r.running_rows for r in results),
            "seconds": round(time.perf_counter() - t0, 6),
        },
        network_sha256=net_sha.result() if net_sha is not None else "",
        data_sha256=digest.hexdigest() if digest is not None else "",
        targets=tuple((plain(c), tuple(str(v) for v in t)) for c, t in zip(classes, targets)),
    )


#: chunks the data digest may lag behind the checks (each is held in memory until hashed)
DIGEST_LAG = 2


def _run(
    network, src, classes, targets, tuning, chunk_size, client, timeout, progress, side, order, digest
) -> tuple[list, list[Future]]:
    """The chunk results of one pass and the digest updates still running on ``side`` (a local
    pass feeds the chunks to ``digest`` there, in order; ``None``: no digest)."""
    collapse = [-1] * len(classes)
    for k, j in enumerate(order or ()):
        collapse[j] = k
    task = ChunkTask(
        network,
        ChunkPlan(
            label_index={c: j for j, c in enumerate(classes)},
            targets=tuple(tuple(str(v) for v in t) for t in targets),  # picklable exact strings
            collapse=tuple(collapse) if order is not None else (),
            n_plan=len(order) if order else 0,
            tuning=tuning if client is not None else replace(tuning, threads=None),  # BLAS: set once, below
        ),
    )
    if client is not None:
        results = map_chunks(
            task, src, chunk_size=chunk_size, client=client, progress=progress, desc="certified", timeout=timeout
        )
        return results, []
    pending: list[Future] = []

    def hash_next(chunk: Any) -> None:  # called in source order as each chunk is read
        while len(pending) >= DIGEST_LAG:  # at most DIGEST_LAG chunks wait for the digest: bounded memory
            pending.pop(0).result()
        pending.append(side.submit(digest.update, chunk.X, chunk.labels))

    with blas_threads(tuning.threads):  # set once here: the chunks run on several threads at once
        results = map_chunks(
            task,
            src,
            chunk_size=chunk_size,
            progress=progress,
            desc="certified",
            threads=tuning.chunk_workers,
            on_read=hash_next if digest is not None else None,
        )
    return results, pending


def _layer_checks(network, classes, order, fixed, counts, N) -> list[LayerCheck]:
    """Per-layer summary: the class each collapse layer collapses, the base points it keeps fixed
    (``fixed``: :func:`~symtrunc.verification.collapse.fixed_base_points` of ``order``)."""
    m = len(order) if order is not None else 0
    checks: list[LayerCheck] = []
    for k, layer in enumerate(network.layers):
        if k < m:
            jc = order[k]
            checks.append(
                LayerCheck(
                    k + 1,
                    "truncation",
                    classes[jc],
                    int(counts[jc]),
                    int(N - counts[jc]),
                    tuple(classes[jj] for jj in fixed[k] if counts[jj] > 0),
                )
            )
            continue
        kind = "output" if k == network.depth - 1 else ("truncation" if layer.activation == "relu" else "affine")
        checks.append(LayerCheck(k + 1, kind))
    return checks
