"""The chunk worker: certified patterns checked exactly, ambiguous points evaluated exactly.

A :class:`ChunkTask` is what :func:`symtrunc.data.stream.map_chunks` runs on every chunk,
locally or on a Dask worker (it is picklable: the network travels pickled once with its
content hash, :mod:`symtrunc.verification.certified.maps`). Per chunk it

1. runs the float filter (:func:`~symtrunc.verification.certified.float_filter.filter_chunk`)
   unless the exact integer evaluation of the chunk provably fits float64;
2. checks each certified pattern exactly: the construction's sign invariants per pattern,
   the constant output (or the exact outputs of the pattern's affine map) against the targets;
3. evaluates the ambiguous points exactly (:mod:`symtrunc.exact.evaluate`);
4. explains the failing point with the smallest index by an exact evaluation.

Examples
--------
>>> import numpy as np
>>> from symtrunc.data.stream import open_source
>>> from symtrunc.network import ReLUNetwork
>>> net = ReLUNetwork.from_rows([([[1, -1]], [0], "relu"), ([[1]], [0], "identity")])
>>> plan = ChunkPlan(label_index={"a": 0}, targets=(("1",),), collapse=(), n_plan=0, tuning=Tuning(shortcut=False))
>>> chunk = next(open_source(np.array([[2, 1], [3, 3]]), ["a", "a"]).chunks(10))
>>> res = ChunkTask(net, plan)(chunk)
>>> res.n_float, res.n_exact, res.failure.check, res.failure.point, res.failure.value
(1, 1, 'zero loss', 1, '0')
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import flint
import numpy as np

from symtrunc.data.labeled import integer_label_offsets
from symtrunc.errors import DataError
from symtrunc.exact.evaluate import EXACT_FLOAT_BOUND, Scaled, _integer_layer, integer_layers, integer_points
from symtrunc.exact.rational import to_q
from symtrunc.network import Layer, ReLUNetwork
from symtrunc.verification.certificate import Counterexample
from symtrunc.verification.certified.bounds import FloatInput
from symtrunc.verification.certified.float_filter import filter_chunk
from symtrunc.verification.certified.maps import PatternInfo, Prepared, payload, prepared, prepared_local
from symtrunc.verification.certified.patterns import count_patterns, unique_rows
from symtrunc.verification.certified.plan import ChunkPlan, ChunkResult, Tuning

__all__ = ["ChunkPlan", "ChunkResult", "ChunkTask", "Tuning", "plain"]


@dataclass(frozen=True)
class _Chunk:
    """One chunk inside the worker: its points, class ids, packed patterns and findings."""

    prep: Prepared
    X: np.ndarray
    cls: np.ndarray  # class id of each row
    P: np.ndarray  # packed activation pattern of each row
    failing: list[int]  # rows known to fail some check (appended to)
    res: ChunkResult


class ChunkTask:
    """The picklable chunk worker: ``task(chunk) -> ChunkResult`` (see :func:`verify_certified`).

    ``network`` is the network object of this process; a task received pickled carries
    ``shipped = (pickled network, content hash)`` instead.
    """

    def __init__(self, network: ReLUNetwork | None, plan: ChunkPlan, shipped: tuple[bytes, str] | None = None) -> None:
        self._network = network
        self._shipped = shipped
        self.plan = plan
        self._targets_q = [tuple(to_q(v) for v in row) for row in plan.targets]
        self._fits_memo: dict[tuple[int, int], bool] = {}

    def __reduce__(self):
        # shipped to another process: the network travels pickled once (bytes) with a content
        # hash, so each process unpickles it and composes its exact maps only once
        shipped = payload(self._network) if self._network is not None else self._shipped
        return (ChunkTask, (None, self.plan, shipped))

    @property
    def prep(self) -> Prepared:
        """The per-process state of the network."""
        if self._network is not None:
            return prepared_local(self._network)
        token_data = self._shipped
        assert token_data is not None
        return prepared(token_data[1], token_data[0])

    def _class_ids(self, labels: np.ndarray, start: int) -> np.ndarray:
        labels = np.asarray(labels)
        fast = self._class_ids_by_table(labels)
        if fast is not None:
            return fast
        index = self.plan.label_index
        try:
            values, inv = np.unique(labels, return_inverse=True)
            uniq = values.tolist()
        except TypeError:  # unorderable objects
            seen: dict = {}
            inv = np.array([seen.setdefault(v, len(seen)) for v in labels.tolist()], dtype=np.intp)
            uniq = list(seen)
        ids = np.empty(len(uniq), dtype=np.intp)
        for j, v in enumerate(uniq):
            cid = index.get(v)
            if cid is None:
                bad = int(np.argmax(inv == j))
                raise DataError(
                    f"point {start + bad} has label {v!r}, which the network does not know "
                    f"(known labels: {', '.join(map(repr, index))})"
                )
            ids[j] = cid
        return ids[np.asarray(inv).ravel()]

    def _class_ids_by_table(self, labels: np.ndarray) -> np.ndarray | None:
        """Class ids of integer-valued numeric labels by a lookup table (no sort), or None
        (other labels, or an unknown one: the general path finds it and explains)."""
        found = integer_label_offsets(labels)
        if found is None:
            return None
        lo, offsets = found
        hi = lo + int(offsets.max())
        ints = {}
        for v, cid in self.plan.label_index.items():  # a label equals an int key exactly when its value does
            if isinstance(v, (int, np.integer)) or (isinstance(v, (float, np.floating)) and float(v).is_integer()):
                ints[int(v)] = cid
        table = np.full(hi - lo + 1, -1, dtype=np.intp)
        for v, cid in ints.items():
            if lo <= v <= hi:
                table[v - lo] = cid
        ids = table[offsets]
        return None if (ids < 0).any() else ids

    def __call__(self, chunk: Any) -> ChunkResult:
        prep = self.prep
        net = prep.network
        X = chunk.X
        n = len(chunk)
        res = ChunkResult(int(chunk.start), n)
        if X.ndim != 2 or X.shape[1] != net.input_dim:
            raise DataError(
                f"points have dimension {X.shape[1] if X.ndim == 2 else '?'}, the network expects {net.input_dim}"
            )
        cls = self._class_ids(chunk.labels, chunk.start)
        n_cls = len(self.plan.targets)
        counts = np.bincount(cls, minlength=n_cls)
        res.class_counts = counts.tolist()
        # the points class by class (a stable radix sort): each class's first point, and the
        # order in which the kernel visits the points (the points of a class leave at one layer)
        order = np.argsort(cls.astype(np.uint16) if n_cls <= 1 << 16 else cls, kind="stable")
        first = np.full(n_cls, -1, dtype=np.int64)
        present = np.flatnonzero(counts)
        first[present] = order[(np.cumsum(counts) - counts)[present]] + chunk.start
        res.class_first = first.tolist()
        if n == 0:
            return res
        c = _Chunk(prep, X, cls, np.zeros((n, prep.nbytes), dtype=np.uint8), [], res)
        exact_rows = np.arange(n)
        tun = self.plan.tuning
        kernel = tun.uses_kernel and prep.structured_chain() is not None
        # the shortcut (a dense exact evaluation in float64) is slower than the structured kernel
        if prep.float_ok and not (tun.shortcut and not kernel and self._fits_float(X)):
            codes = np.empty(n, dtype=np.int32)
            with np.errstate(over="ignore", invalid="ignore", under="ignore"):
                amb = filter_chunk(prep, tun, FloatInput(X), c.P, res, codes, order if tun.class_order else None)
            exact_rows = np.flatnonzero(amb)
            res.n_float = n - int(exact_rows.size)
            kernel_rows = np.flatnonzero(codes >= 0)
            if kernel_rows.size:  # settled by the structured kernel: grouped by their code
                kc = codes[kernel_rows]
                top = int(kc.max())
                self._check_groups(c, kernel_rows, [prep.code_key(k) for k in range(top + 1)], kc)
            cert_rows = np.flatnonzero(~amb & (codes < 0))
            if cert_rows.size:
                keys, inv = unique_rows(c.P[cert_rows])
                self._check_groups(c, cert_rows, keys, inv)
        if exact_rows.size:
            res.n_exact = int(exact_rows.size)
            self._check_exact(c, exact_rows)
            count_patterns(c.P, exact_rows, res.patterns)
        if c.failing:
            row = min(c.failing)
            res.failure = self._explain(prep, X[row : row + 1], int(cls[row]), int(chunk.start) + row)
        return res

    def _fits_float(self, X: np.ndarray) -> bool:
        """Whether the exact integer evaluation of this chunk runs entirely in float64.

        Decided once per network first: when even integer inputs of magnitude at most 1 do
        not fit (e.g. the ~100-bit weights of constructed networks), no chunk is tested (the
        shortcut only saves time; the filter and the exact path decide the same).
        """
        if X.dtype == object or X.dtype.kind not in "biuf" or X.dtype.itemsize > 8:
            return False
        if not self._plan_fits(1, 1):
            return False
        if X.dtype.kind in "biu":
            s, bound = 1, (max(abs(int(X.min())), abs(int(X.max()))) if X.size else 0)
        else:
            try:
                A, s = integer_points(X)
            except DataError:
                return False
            if not isinstance(A, np.ndarray):
                return False
            bound = int(np.abs(A).max()) if A.size else 0
        return self._plan_fits(int(s), bound.bit_length())

    def _plan_fits(self, s: int, bits: int) -> bool:
        """Whether the integer plan of inputs ``A / s`` with ``|A| < 2^bits`` stays below ``2^53`` (memoized)."""
        key = (s, bits)
        memo = self._fits_memo
        if key not in memo:
            M = self.prep.network.input_dim
            bounds = [2**bits] * M  # a uniform bound: the cheap a-priori recursion
            scales = (s,) * M
            fits = True
            for layer in self.prep.network.layers:
                plan = _integer_layer(layer, scales)
                bounds = plan.bounds(bounds)
                if plan.Gt_float is None or max(bounds, default=0) > EXACT_FLOAT_BOUND:
                    fits = False
                    break
                scales = plan.scales
            memo[key] = fits
        return memo[key]

    # -- checks on certified patterns ---------------------------------------------------
    def _check_groups(self, c: _Chunk, rows: np.ndarray, keys: list[bytes], inv: np.ndarray) -> None:
        """Check certified points exactly, by pattern: ``rows[i]`` has the pattern ``keys[inv[i]]``.

        Per pattern and class present: the sign invariants and the constant output; points of
        a non-constant pattern have their outputs computed exactly.
        """
        tq = self._targets_q
        n_cls = len(tq)
        cls = c.cls[rows]
        counts = np.bincount(inv.astype(np.int64) * n_cls + cls, minlength=len(keys) * n_cls).reshape(len(keys), n_cls)
        bad = np.zeros((len(keys), n_cls), dtype=bool)
        nonconst: list[tuple[flint.fmpq_mat, flint.fmpq_mat, int]] = []
        for g, key in enumerate(keys):
            total = int(counts[g].sum())
            if total == 0:
                continue
            c.res.patterns[key] = c.res.patterns.get(key, 0) + total
            info = c.prep.pattern(key)
            for cid in np.flatnonzero(counts[g]).tolist():
                if not self._pattern_invariants_ok(info, cid) or (
                    info.constant is not None and tuple(info.constant) != tq[cid]
                ):
                    bad[g, cid] = True
            if info.A is not None and info.c is not None:  # not constant: the pattern's output map
                nonconst.append((info.A, info.c, g))
        if bad.any():
            c.failing.append(int(rows[bad[inv, cls]].min()))
        if not nonconst:
            return
        groups = [(A, b, rows[inv == g]) for A, b, g in nonconst]
        if len(groups) > self.plan.tuning.batch_exact_groups:
            allrows = np.concatenate([g for _, _, g in groups])
            self._compare_outputs(c, _last(integer_layers(c.prep.network, c.X[allrows])), allrows)
            return
        for A, b, grp in groups:
            out = _last(integer_layers([Layer(A, b, "identity")], c.X[grp]))
            self._compare_outputs(c, out, grp)

    def _pattern_invariants_ok(self, info: PatternInfo, cid: int) -> bool:
        c = self.plan.collapse[cid] if self.plan.collapse else -1
        if c < 0:
            return True
        for k in range(self.plan.n_plan):
            s = info.status[k]
            if k == c:
                if s not in ("neg", "le", "zero"):
                    return False
            elif s not in ("pos", "ge", "zero"):
                return False
        return True

    def _compare_outputs(self, c: _Chunk, out: Scaled, rows: np.ndarray) -> None:
        sub = c.cls[rows]
        for cid in np.unique(sub).tolist():
            sel = np.flatnonzero(sub == cid)
            ok = _take(out, sel).equals(self._targets_q[cid])
            if not ok.all():
                c.failing.append(int(rows[sel[~ok]].min()))

    # -- exact path ---------------------------------------------------------------------
    def _check_exact(self, c: _Chunk, rows: np.ndarray) -> None:
        """Exact evaluation of ``rows``: invariants, outputs, and their patterns (for statistics)."""
        net = c.prep.network
        collapse = self.plan.collapse
        sub = c.cls[rows]
        own = (
            np.array([collapse[j] for j in sub.tolist()], dtype=np.int64)
            if collapse
            else np.full(rows.size, -1, dtype=np.int64)
        )
        alive = np.ones(rows.size, dtype=bool)
        bad = np.zeros(rows.size, dtype=bool)
        for k, Z in integer_layers(net, c.X[rows]):
            if k == net.depth - 1:
                ok = np.ones(rows.size, dtype=bool)
                for cid in np.unique(sub).tolist():
                    sel = np.flatnonzero(sub == cid)
                    ok[sel] = _take(Z, sel).equals(self._targets_q[cid])
                bad |= ~ok
                break
            S = Z.signs()
            pos = S > 0
            if k < self.plan.n_plan:
                mine = own == k
                bad |= (mine & (S > 0).any(axis=1)) | (~mine & (own >= 0) & (S < 0).any(axis=1))
            pos &= alive[:, None]
            packed = np.packbits(pos, axis=1)
            off = c.prep.offsets[k]
            c.P[rows, off : off + packed.shape[1]] = packed
            alive &= pos.any(axis=1)
        if bad.any():
            c.failing.append(int(rows[bad].min()))

    def _explain(self, prep: Prepared, x: np.ndarray, cid: int, point: int) -> Counterexample:
        """The first failing check of one point, with its exact value (exact evaluation)."""
        net = prep.network
        label = plain(self._label_of(cid))
        own = self.plan.collapse[cid] if self.plan.collapse else -1
        for k, Z in integer_layers(net, x):
            vals = Z.to_fmpq_mat().entries()
            if k == net.depth - 1:
                t = self._targets_q[cid]
                for r, (v, w) in enumerate(zip(vals, t)):
                    if v != w:
                        return Counterexample("zero loss", point, label, k + 1, r, str(v), str(w))
                break
            if own >= 0 and k < self.plan.n_plan:
                for r, v in enumerate(vals):
                    if k == own and v > 0:
                        return Counterexample("collapse sign", point, label, k + 1, r, str(v), "<= 0")
                    if k != own and v < 0:
                        return Counterexample("identity sign", point, label, k + 1, r, str(v), ">= 0")
        raise AssertionError(f"point {point} was flagged but passes every exact check")  # pragma: no cover

    def _label_of(self, cid: int) -> Any:
        for v, c in self.plan.label_index.items():
            if c == cid:
                return v
        return cid  # pragma: no cover


def plain(v: Any) -> Any:
    """A NumPy scalar label as the Python value (labels are reported as the user gave them)."""
    return v.item() if isinstance(v, np.generic) else v


def _last(layers: Iterable[tuple[int, Scaled]]) -> Scaled:
    """The values of the last layer of an exact pass (:func:`~symtrunc.exact.evaluate.integer_layers`)."""
    return deque(layers, maxlen=1)[0][1]


def _take(S: Scaled, sel: np.ndarray) -> Scaled:
    """Rows ``sel`` of a :class:`~symtrunc.exact.evaluate.Scaled`."""
    N = S.numerators
    if isinstance(N, np.ndarray):
        return Scaled(N[sel], S.scales)
    m = N.ncols()
    rows = N.tolist()
    return Scaled(flint.fmpz_mat(len(sel), m, [v for i in sel.tolist() for v in rows[i]]), S.scales)
