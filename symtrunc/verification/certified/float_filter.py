"""The float filter of one chunk: certified activation signs, block by block, layer by layer.

:func:`filter_chunk` certifies the activation pattern of every point it can (the bounds are
those of :mod:`symtrunc.verification.certified.bounds`) and marks the others ambiguous; the
worker evaluates those exactly. Per layer the active points (certified so far, not collapsed)
are grouped by their certified prefix: large groups go through the composed exact map of their
prefix (rank-one kernel or one matmul, a per-point bound), the others through the running
bound of the layer; uncertified points get a second chance with the per-neuron and the tight
bound of their composed map.

Examples
--------
>>> import numpy as np
>>> from symtrunc.network import ReLUNetwork
>>> from symtrunc.verification.certified.maps import prepared_local
>>> net = ReLUNetwork.from_rows([([[1, -1]], [0], "relu"), ([[1]], [0], "identity")])
>>> prep = prepared_local(net)
>>> X = np.array([[2, 1], [1, 2], [1, 1]])
>>> P = np.zeros((3, prep.nbytes), dtype=np.uint8)
>>> amb = filter_chunk(prep, Tuning(), FloatInput(X), P, ChunkResult(0, 3))
>>> amb.tolist(), P[:, 0].tolist()             # z = 1, -1 certified; the exact zero is not
([False, False, True], [128, 0, 0])
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from symtrunc.exact.threads import blas_threads
from symtrunc.verification.certified.bounds import (
    OVERFLOW_GUARD,
    FloatAffine,
    FloatBlock,
    FloatInput,
    certified_rows,
    row_bound,
    running,
)
from symtrunc.verification.certified.kernel import structured_codes
from symtrunc.verification.certified.maps import Prepared
from symtrunc.verification.certified.patterns import regroup
from symtrunc.verification.certified.plan import ChunkResult, Tuning

__all__ = ["filter_chunk"]


def filter_chunk(
    prep: Prepared,
    tuning: Tuning,
    floats: FloatInput,
    P: np.ndarray,
    res: ChunkResult,
    codes: np.ndarray | None = None,
    order: np.ndarray | None = None,
) -> np.ndarray:
    """Certify activation patterns; fills ``P`` (packed bits) and returns the ambiguous mask.

    When the network's first layers have rank-one all-positive prefix maps
    (:meth:`~symtrunc.verification.certified.maps.Prepared.structured_chain`), every point first
    goes through the structured kernel (:mod:`~symtrunc.verification.certified.kernel`); the
    points it does not settle go through the general filter below. With ``codes`` (an int
    array of one entry per point), the points settled by the kernel get their kernel code
    there and their rows of ``P`` are left alone (their pattern is
    :meth:`~symtrunc.verification.certified.maps.Prepared.code_key` of the code); every other
    point gets ``-1`` and its pattern in ``P``. ``order`` is the order in which the kernel visits
    the points (:func:`~symtrunc.verification.certified.kernel.structured_codes`). Adds its
    statistics to ``res``.
    """
    n = floats.X.shape[0]
    chain = prep.structured_chain() if tuning.uses_kernel else None
    kin = floats.kernel_input() if chain is not None and n else None
    if chain is None or kin is None:
        if codes is not None:
            codes[:] = -1
        return _general(prep, tuning, floats, P, res)
    with blas_threads(tuning.threads):  # the NumPy version's BLAS product, when numba is missing
        kc = structured_codes(
            chain, kin[0], kin[1], threads=tuning.kernel_parts, compiled=tuning.compiled is not False, order=order
        )
    res.structured_evaluations += chain.layers
    settled = (kc >= 0) if chain.layers == prep.network.depth - 1 else (kc >= 0) & (kc < chain.layers)
    if codes is not None:
        np.copyto(codes, np.where(settled, kc, -1))
    else:
        table = np.frombuffer(b"".join(prep.code_key(c) for c in range(chain.layers + 1)), dtype=np.uint8)
        rows = np.flatnonzero(settled)
        P[rows] = table.reshape(chain.layers + 1, prep.nbytes)[kc[rows]]
    amb = np.zeros(n, dtype=bool)
    rest = np.flatnonzero(~settled)
    if rest.size:
        sub = FloatInput(floats.X[rest])
        Psub = np.zeros((rest.size, prep.nbytes), dtype=np.uint8)
        amb[rest] = _general(prep, tuning, sub, Psub, res)
        P[rest] = Psub
    return amb


def _general(prep: Prepared, tuning: Tuning, floats: FloatInput, P: np.ndarray, res: ChunkResult) -> np.ndarray:
    """The general filter: every point ambiguous when out of range, else block by block.

    Works on blocks of ``tuning.block`` rows with preallocated buffers, so that the float
    arrays stay in cache and no block-sized array is allocated per layer (fresh multi-MB
    allocations cost page faults that would dominate the arithmetic).
    """
    n, M = floats.X.shape
    if not floats.ok:
        return np.ones(n, dtype=bool)
    amb = np.zeros(n, dtype=bool)
    B = max(int(tuning.block), 1)
    w = max(prep.widths[:-1] + [M + 1])
    run = _ChunkFilter(prep, tuning, P, amb, res, _Scratch(min(B, n), w, M + 1))
    with blas_threads(tuning.threads):
        for a in range(0, n, B):
            run.block(a, floats.block(a, min(a + B, n)))
    return amb


class _Scratch:
    """Preallocated float buffers of one chunk (views of the leading rows are handed out)."""

    def __init__(self, rows: int, width: int, xwidth: int) -> None:
        self.xw = xwidth
        self.X = [np.empty(rows * xwidth), np.empty(rows * xwidth)]
        self.Z = np.empty(rows * width)
        self.A = np.empty(rows * width)
        self.P = np.empty(rows * width, dtype=bool)

    def x(self, side: int, n: int) -> np.ndarray:
        return self.X[side][: n * self.xw].reshape(n, self.xw)

    def z(self, n: int, m: int) -> np.ndarray:
        return self.Z[: n * m].reshape(n, m)

    def a(self, n: int, m: int) -> np.ndarray:
        return self.A[: n * m].reshape(n, m)

    def p(self, n: int, m: int) -> np.ndarray:
        return self.P[: n * m].reshape(n, m)


@dataclass(frozen=True)
class _Active:
    """The points of a block still in the filter: every sign so far certified, not collapsed."""

    idx: np.ndarray  # chunk rows
    X1: np.ndarray  # (n, M+1) homogeneous inputs [x̃, 1]: the bias rides in the matmul
    mx: np.ndarray  # (n,) max_j |x̃_pj|
    ex: np.ndarray | None  # (n,) max input error (None: exact inputs)
    E0: np.ndarray | None  # (n, M) entrywise input errors (None: exact inputs)
    gid: np.ndarray  # prefix group of each point
    reps: np.ndarray  # a chunk row representing each group

    def subset(self, keep: np.ndarray, gid: np.ndarray, reps: np.ndarray, out: np.ndarray) -> _Active:
        """The kept points, regrouped (``gid``, ``reps``), their inputs compressed into ``out``."""
        return _Active(
            self.idx[keep],
            np.compress(keep, self.X1, axis=0, out=out),
            self.mx[keep],
            None if self.ex is None else self.ex[keep],
            None if self.E0 is None else self.E0[keep],
            gid,
            reps,
        )


class _ChunkFilter:
    """The filter state of one chunk: network state, knobs, outputs (``P``, ``amb``, ``res``), buffers."""

    def __init__(
        self, prep: Prepared, tuning: Tuning, P: np.ndarray, amb: np.ndarray, res: ChunkResult, scratch: _Scratch
    ) -> None:
        self.prep, self.tuning, self.P, self.amb, self.res, self.scratch = prep, tuning, P, amb, res, scratch

    def block(self, a0: int, blk: FloatBlock) -> None:
        """Certify the points of chunk rows ``a0, a0 + 1, ...`` layer by layer."""
        nb, M = blk.X.shape
        X1 = self.scratch.x(0, nb)
        X1[:, :M] = blk.X
        X1[:, M] = 1.0
        act = _Active(
            np.arange(a0, a0 + nb),
            X1,
            blk.mx,
            blk.ex,
            blk.E0,
            np.zeros(nb, dtype=np.int64),
            np.array([a0], dtype=np.int64),
        )
        xside = 0
        prev = None  # (Z, bound, pos) of the previous layer, for the running kernel
        tun = self.tuning
        for l in range(self.prep.network.depth - 1):
            if act.idx.size == 0:
                break
            maps = self._composed_maps(l, act)
            Z, bound, ok = self._evaluate(l, act, maps, prev)
            if not ok.all():
                self._second_chance(l, act, maps, ok, Z, bound)
                self.amb[act.idx[~ok]] = True
            pos, words = self._record(l, act, Z)
            nw = words.shape[1]
            keep = ok & (words != 0).any(axis=1) if nw > 1 else ok & (words[:, 0] != 0)
            gid, reps = regroup(act.gid, words, keep, act.idx)
            need_prev = tun.composed == "never" or (tun.composed == "auto" and reps.size > tun.composed_max_groups)
            if need_prev:  # the running kernel of the next layer continues from these floats
                prev = (Z.copy(), bound.copy(), pos.copy()) if keep.all() else (Z[keep], bound[keep], pos[keep])
            else:
                prev = None
            if keep.all():
                act = replace(act, gid=gid, reps=reps)
            else:
                xside = 1 - xside
                act = act.subset(keep, gid, reps, self.scratch.x(xside, int(np.count_nonzero(keep))))

    def _composed_maps(self, l: int, act: _Active) -> dict[int, FloatAffine | None]:
        """Float composed maps of layer ``l`` for the prefix groups that use them (None: out of range)."""
        tun = self.tuning
        ngroups = act.reps.size
        if l == 0 or tun.composed == "always" or (tun.composed == "auto" and ngroups <= tun.composed_max_groups):
            composed = np.ones(ngroups, dtype=bool)
        elif tun.composed == "never":
            composed = np.zeros(ngroups, dtype=bool)
        else:
            composed = np.bincount(act.gid, minlength=ngroups) >= tun.composed_min_group
        prep, P = self.prep, self.P
        maps = {
            int(g): prep.prefix_float_map(l, P[act.reps[g]].tobytes()[: prep.offsets[l]])
            for g in np.flatnonzero(composed)
        }
        self.res.composed_evaluations += len(maps)
        return maps

    def _evaluate(self, l: int, act: _Active, maps: dict[int, FloatAffine | None], prev: tuple | None):
        """``(z̃, Ê, certified)`` of layer ``l``: ``Ê`` per point (1-D) or per neuron (2-D)."""
        na, m = act.idx.size, self.prep.widths[l]
        M = act.X1.shape[1] - 1
        X1, ma, ea = act.X1, act.mx, act.ex
        fa = maps.get(0) if act.reps.size == 1 else None
        if fa is not None:
            # the common case: one prefix group, one matmul (or the rank-one kernel), a per-point bound
            st = fa.struct if self.tuning.structured else None
            if st is not None:
                self.res.structured_evaluations += 1
                Xv = X1[:, :M]
                t = Xv @ st.g
                Z = np.multiply(Xv, st.alpha, out=self.scratch.z(na, m))
                Z += t[:, None]
                Z += st.c
                bound = ma * st.k1
                if ea is not None:
                    bound += ea * st.k2
                bound += st.T
            else:
                Z = np.matmul(X1, fa.Wt1, out=self.scratch.z(na, m))
                bound = row_bound(fa, ma, ea)
            absZ = np.abs(Z, out=self.scratch.a(na, m))
            return Z, bound, (np.minimum.reduce(absZ.T, axis=0) > bound) & (bound < OVERFLOW_GUARD)
        Z = np.empty((na, m))
        bound = np.empty((na, m))
        done = np.zeros(na, dtype=bool)
        for g, fg in maps.items():
            if fg is None:
                continue
            rows = np.flatnonzero(act.gid == g)
            Z[rows] = X1[rows] @ fg.Wt1
            bound[rows] = row_bound(fg, ma[rows], None if ea is None else ea[rows])[:, None]
            done[rows] = True
        rr = np.flatnonzero(~done)
        if rr.size:
            self.res.running_rows += int(rr.size)
            fl = self.prep.layer_float(l)
            if fl is not None and l == 0:
                Z[rr], bound[rr] = running(fl, X1[rr, :M], None if act.E0 is None else act.E0[rr], True)
            elif fl is not None and prev is not None:
                pZ, pB, ppos = prev
                E = (pB[rr, None] if pB.ndim == 1 else pB[rr]) * ppos[rr]
                Z[rr], bound[rr] = running(fl, np.maximum(pZ[rr], 0.0), E, False)
            else:  # no float route: exact fallback
                Z[rr], bound[rr] = 0.0, np.inf
        return Z, bound, certified_rows(Z, bound)

    def _record(self, l: int, act: _Active, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Write the bits ``z̃ > 0`` of layer ``l`` into ``P``; return them and their 64-bit words."""
        na, m = Z.shape
        pos = np.greater(Z, 0.0, out=self.scratch.p(na, m))
        packed = np.packbits(pos, axis=1)
        nw = (m + 63) // 64
        if packed.shape[1] != 8 * nw:
            padded = np.zeros((na, 8 * nw), dtype=np.uint8)
            padded[:, : packed.shape[1]] = packed
            packed = padded
        off = self.prep.offsets[l]
        self.P[act.idx, off : off + 8 * nw] = packed
        return pos, packed.view(np.uint64)

    def _second_chance(
        self,
        l: int,
        act: _Active,
        maps: dict[int, FloatAffine | None],
        ok: np.ndarray,
        Z: np.ndarray,
        bound: np.ndarray,
    ) -> None:
        """Uncertified points: per-neuron bound of the composed map, then its tight (matmul) bound.

        Updates ``Z``, ``bound`` (a per-point bound is replaced by the row maximum of the
        per-neuron bound, still an upper bound) and ``ok`` in place.
        """
        fail = np.flatnonzero(~ok)
        groups = np.unique(act.gid[fail])
        if groups.size > self.tuning.retry_max_groups or self.tuning.composed == "never":
            return
        X1, ma, ea, E0a = act.X1, act.mx, act.ex, act.E0
        M = X1.shape[1] - 1
        prep = self.prep
        for g in groups.tolist():
            rows = fail[act.gid[fail] == g]
            if g in maps:
                fa = maps[g]
            else:
                fa = prep.prefix_float_map(l, self.P[act.reps[g]].tobytes()[: prep.offsets[l]])
                self.res.composed_evaluations += 1
            if fa is None:
                continue
            # per-neuron outer bound
            z = X1[rows] @ fa.Wt1
            a = ma[rows] * fa.k2
            if ea is not None:
                a += ea[rows] * fa.k1
            e = np.multiply.outer(a, fa.R)
            e += fa.T
            good = certified_rows(z, e)
            if not good.all():  # the tight bound: |Ã| |x̃| by a matmul
                bad = ~good
                zt, et = running(fa, X1[rows[bad], :M], None if E0a is None else E0a[rows[bad]], True)
                good_t = certified_rows(zt, et)
                z[bad], e[bad] = zt, et
                good[bad] = good_t
            if good.any():
                r = rows[good]
                Z[r] = z[good]
                bound[r] = e[good].max(axis=1) if bound.ndim == 1 else e[good]
                ok[r] = True
