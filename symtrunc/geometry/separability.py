"""Sequential linear separability (Definition 5.1 of arXiv 2405.07098), with certificates.

Data are *sequentially linearly separable* (SLS) if the classes can be ordered so that for
each class ``j`` in turn there is a point ``p_j = t_j x̄ + (1 - t_j) x̄_{0,j}`` with
``t_j ∈ (0, 1)`` and a hyperplane through ``p_j`` strictly separating the class from the
later classes and the earlier base points. Step ``j`` is possible exactly when the class is
strictly separable from ``F_j ∪ {x̄}`` (later classes, earlier base points, barycenter); the
hyperplane then meets the segment from the class mean to the barycenter in ``p_j``.

:func:`find_sls` searches orders depth-first with backtracking. Every step it returns is
an exact :class:`SLSStep`; every refusal carries exact overlap certificates.

Examples
--------
>>> from symtrunc.data.labeled import LabeledData
>>> d = LabeledData.from_arrays([[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]],
...                             [1, 1, 1, 1, 2, 2, 2, 2])
>>> cert = find_sls(d)
>>> cert.order, [s.base_point.transpose() for s in cert.steps]
((0, 1), [[11/6, 7/6], [7/6, 11/6]])
>>> cert.check(d)
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import flint
import numpy as np

from symtrunc.data.labeled import LabeledData
from symtrunc.errors import FormatError, HypothesisError, UncertifiedError
from symtrunc.exact.lp import (
    FLOAT_MAGNITUDE_BITS,
    OverlapCertificate,
    Separator,
    separate_rows,
    simplest_between,
    strictly_separate,
)
from symtrunc.exact.matrix import exact_rows, qmatrix
from symtrunc.exact.rational import to_q
from symtrunc.exact.row_sets import RowSet, bit_exponent
from symtrunc.geometry.base_points import ShadowCertificate, point_on_segment, separate_through, sup_t
from symtrunc.progress import task

__all__ = [
    "SLSStep",
    "SLSCertificate",
    "NotSLSCertificate",
    "SLSLimitStep",
    "SLSUndecidedError",
    "find_sls",
    "limit_sets",
    "sls_step",
]


@dataclass(frozen=True)
class SLSStep:
    """One peeling step: class ``class_index`` lies strictly on the negative side of
    ``⟨h, x⟩ = c``; later classes, earlier base points and the barycenter on the positive side.

    Attributes
    ----------
    class_index : int
    separator : Separator
        ``(h, c)``: ``⟨h, x⟩ < c`` on the class, ``> c`` on the rest.
    t : flint.fmpq
        Position of the base point on the segment, in ``(0, 1)``.
    base_point : flint.fmpq_mat
        ``p = t x̄ + (1 - t) x̄_{0,j}`` (``M x 1``); it lies on the hyperplane.
    """

    class_index: int
    separator: Separator
    t: flint.fmpq
    base_point: flint.fmpq_mat

    @property
    def normal(self) -> flint.fmpq_mat:
        """The hyperplane normal ``h`` (points away from the class)."""
        return self.separator.normal


@dataclass(frozen=True)
class SLSCertificate:
    """An exact witness that the data are SLS: an order and one :class:`SLSStep` per class."""

    order: tuple[int, ...]
    steps: tuple[SLSStep, ...]

    def check(self, data: LabeledData) -> bool:
        """Re-verify every condition of Definition 5.1 exactly."""
        if sorted(self.order) != list(range(data.Q)) or len(self.steps) != data.Q:
            return False
        for k, step in enumerate(self.steps):
            j = self.order[k]
            if step.class_index != j or not (0 < step.t < 1):
                return False
            p = step.t * data.barycenter + (1 - step.t) * data.mean(j)
            if p != step.base_point:
                return False
            h, c = step.separator.normal, step.separator.offset
            if (h.transpose() * p)[0, 0] != c:
                return False
            inside, outside = _row_sets(data, self.order[k:], [s.base_point for s in self.steps[:k]])
            if inside.first_violation(h, c, -1) is not None or outside.first_violation(h, c, 1) is not None:
                return False
        return True


@dataclass(frozen=True)
class SLSLimitStep:
    """A step of an order prefix taken at the supremum ``τ`` of its admissible ``t``.

    ``shadow`` proves ``t < τ`` for every admissible choice (``None`` when ``τ = 1``).
    """

    class_index: int
    tau: flint.fmpq
    shadow: ShadowCertificate | None


@dataclass(frozen=True)
class NotSLSCertificate:
    """An exact proof that no order (or the imposed ``order``) satisfies Definition 5.1.

    A node is a set of collapsed classes with the supremum ``τ_i`` of each one's ``t_i``
    (``key``: sorted ``(class, τ)`` pairs). For every class that may come next, ``nodes[key]``
    holds either an :class:`~symtrunc.exact.lp.OverlapCertificate` (the class meets the convex
    hull of the later classes, ``x̄`` and the points ``p_i(τ_i)``; outside rows in the order of
    :func:`limit_sets`) or an :class:`SLSLimitStep` whose child node is in ``nodes``.

    Why it is a proof for every admissible choice: ``t_i < τ_i`` (shadow certificate, valid
    because ``p_k(τ_k) ∈ [p_k(t_k), x̄]`` lies in the convex hull of the actual rest), and the
    same inclusion makes an overlap with ``p_i(τ_i)`` an overlap with the actual rest.
    """

    nodes: Mapping[tuple[tuple[int, flint.fmpq], ...], Mapping[int, OverlapCertificate | SLSLimitStep]]
    order: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "nodes", MappingProxyType({k: MappingProxyType(dict(v)) for k, v in self.nodes.items()})
        )

    def check(self, data: LabeledData) -> bool:
        """Re-check the whole proof exactly (every node reachable from the empty prefix)."""
        seen: set = set()

        def ok(key: tuple[tuple[int, flint.fmpq], ...]) -> bool:
            if key in seen:
                return True
            seen.add(key)
            done = [c for c, _ in key]
            if len(set(done)) != len(done) or any(not 0 <= c < data.Q for c in done):
                return False
            remaining = [c for c in range(data.Q) if c not in done]
            entry = self.nodes.get(key)
            if entry is None or not remaining:
                return False
            need = [self.order[len(key)]] if self.order is not None else remaining
            for j in need:
                ev = entry.get(j)
                X, R = limit_sets(data, j, remaining, key)
                if isinstance(ev, OverlapCertificate):
                    if not ev.check(X, _append(R, data.barycenter)):
                        return False
                elif isinstance(ev, SLSLimitStep):
                    if ev.class_index != j or not 0 < ev.tau <= 1:
                        return False
                    if ev.tau < 1 and (
                        ev.shadow is None
                        or ev.shadow.tau != ev.tau
                        or not ev.shadow.check(X, R, data.mean(j), data.barycenter)
                    ):
                        return False
                    if len(remaining) == 1 or not ok(_child(key, j, ev.tau)):
                        return False
                else:
                    return False
            return True

        if self.order is not None and sorted(self.order) != list(range(data.Q)):
            return False
        return ok(())

    def to_dict(self) -> dict:
        """A JSON-ready form (rationals as strings); :meth:`from_dict` reads it back.

        >>> from symtrunc.data.labeled import LabeledData
        >>> d = LabeledData.from_arrays([[0, 0, 1], [2, 2, 1], [2, 0, 1], [0, 2, 1], [2, 1, 1]], list("aabbb"))
        >>> try:
        ...     find_sls(d)
        ... except HypothesisError as e:
        ...     cert = e.certificate
        >>> NotSLSCertificate.from_dict(cert.to_dict()).check(d), cert.to_dict()["kind"]
        (True, 'symtrunc/not-sls')
        """

        def weights(w: Mapping[int, flint.fmpq]) -> dict[str, str]:
            return {str(i): str(v) for i, v in w.items()}

        nodes = []
        for key, entry in self.nodes.items():
            ev: dict[str, dict] = {}
            for j, v in entry.items():
                if isinstance(v, OverlapCertificate):
                    ev[str(j)] = {
                        "overlap": {
                            "class_weights": weights(v.first_weights),
                            "rest_weights": weights(v.second_weights),
                            "point": [str(x) for x in v.point.entries()],
                        }
                    }
                else:
                    ev[str(j)] = {
                        "tau": str(v.tau),
                        "shadow": None
                        if v.shadow is None
                        else {
                            "rest_weights": weights(v.shadow.rest_weights),
                            "class_weights": weights(v.shadow.class_weights),
                        },
                    }
            nodes.append({"collapsed": [[c, str(t)] for c, t in key], "next": ev})
        return {
            "kind": "symtrunc/not-sls",
            "version": 1,
            "statement": "no order" if self.order is None else "not in the imposed order",
            "order": None if self.order is None else list(self.order),
            "nodes": nodes,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> NotSLSCertificate:
        """Inverse of :meth:`to_dict` (raises :class:`~symtrunc.errors.FormatError` on bad input)."""

        def q(v: object) -> flint.fmpq:
            return to_q(str(v))

        def weights(w: Mapping) -> dict[int, flint.fmpq]:
            return {int(i): q(v) for i, v in w.items()}

        try:
            if d.get("kind") != "symtrunc/not-sls":
                raise FormatError("not a symtrunc/not-sls certificate")
            if d.get("version") != 1:
                raise FormatError(
                    f"unsupported not-SLS certificate version {d.get('version')!r} (this symtrunc reads 1)"
                )
            nodes: dict = {}
            for n in d["nodes"]:
                key = tuple((int(c), q(t)) for c, t in n["collapsed"])
                entry: dict[int, OverlapCertificate | SLSLimitStep] = {}
                for j, v in n["next"].items():
                    if "overlap" in v:
                        o = v["overlap"]
                        pt = [q(x) for x in o["point"]]
                        entry[int(j)] = OverlapCertificate(
                            weights(o["class_weights"]), weights(o["rest_weights"]), flint.fmpq_mat(len(pt), 1, pt)
                        )
                    else:
                        sh = v["shadow"]
                        tau = q(v["tau"])
                        entry[int(j)] = SLSLimitStep(
                            int(j),
                            tau,
                            None
                            if sh is None
                            else ShadowCertificate(tau, weights(sh["rest_weights"]), weights(sh["class_weights"])),
                        )
                nodes[key] = entry
            order = None if d.get("order") is None else tuple(int(c) for c in d["order"])
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            if isinstance(e, FormatError):
                raise
            raise FormatError(f"malformed not-SLS certificate: {e}") from None
        return cls(nodes, order)

    @property
    def complete(self) -> bool:
        """Always ``True``: a refusal is a proof (an undecided search raises :class:`SLSUndecidedError`)."""
        return True

    @property
    def blocked(self) -> dict[tuple[int, ...], dict[int, OverlapCertificate]]:
        """``{collapsed classes (sorted): {blocked class: overlap certificate}}``."""
        out: dict[tuple[int, ...], dict[int, OverlapCertificate]] = {}
        for key, entry in self.nodes.items():
            b = {j: v for j, v in entry.items() if isinstance(v, OverlapCertificate)}
            if b:
                out.setdefault(tuple(c for c, _ in key), {}).update(b)
        return out

    def first_step_blocked(self) -> dict[int, OverlapCertificate]:
        """Classes that cannot come first, with their certificates."""
        return self.blocked.get((), {})

    def reason(self, data: LabeledData) -> str:
        """One line: why (the first blocked classes of the proof)."""
        root = self.nodes.get((), {})
        names = [repr(data.classes[j]) for j, v in root.items() if isinstance(v, OverlapCertificate)]
        if self.order is not None:
            key: tuple = ()
            while True:
                j = self.order[len(key)]
                ev = self.nodes[key][j]
                if isinstance(ev, OverlapCertificate):
                    later = [repr(data.classes[c]) for c in self.order[len(key) + 1 :]]
                    return (
                        f"class {data.classes[j]!r} (step {len(key) + 1}) cannot be strictly separated "
                        f"from {', '.join(later) or 'no later class'}, the barycenter and the earlier base "
                        "points for any admissible t"
                    )
                key = _child(key, j, ev.tau)
        if len(names) == data.Q:
            return (
                f"no class can be collapsed first: each of {', '.join(names)} meets the convex hull of "
                "the other classes and the barycenter"
            )
        never = [
            repr(data.classes[j])
            for j in range(data.Q)
            if all(isinstance(e[j], OverlapCertificate) for e in self.nodes.values() if j in e)
        ]
        if len(never) >= 2:
            return (
                f"{' and '.join(never)} can be collapsed at no step of any order "
                f"({len(self.nodes)} order prefixes checked)"
            )
        return (
            f"every order is blocked at some step for every admissible choice of t "
            f"({len(self.nodes)} order prefixes checked)"
        )


class SLSUndecidedError(UncertifiedError):
    """The search hit the user's node limit before deciding: this is not a proof either way."""


def _append(P: flint.fmpq_mat, v: flint.fmpq_mat) -> flint.fmpq_mat:
    rows = P.tolist() + [v.entries()]
    return flint.fmpq_mat(len(rows), v.nrows(), [x for r in rows for x in r])


def _child(key, j, tau):
    return tuple(sorted(key + ((j, tau),)))


def limit_sets(data: LabeledData, j: int, remaining: Sequence[int], key) -> tuple[flint.fmpq_mat, flint.fmpq_mat]:
    """Rows of class ``j``, and the rest: the other ``remaining`` classes (by index, data order)
    then the limit base points ``p_i(τ_i)`` of ``key`` (sorted by class). ``x̄`` is not included."""
    rows = data.X.tolist()
    inside = exact_rows([rows[i] for i in data.class_indices[j]], data.M)
    out = [rows[i] for r in sorted(remaining) if r != j for i in data.class_indices[r]]
    out += [point_on_segment(tau, data.mean(i), data.barycenter).entries() for i, tau in key]
    return inside, exact_rows(out, data.M)


def _row_sets(data: LabeledData, remaining: Sequence[int], earlier: Sequence[flint.fmpq_mat]) -> tuple[RowSet, RowSet]:
    """Class ``remaining[0]``, and the rest: the later classes (in the given order), the earlier
    base points and the barycenter."""
    A, s, bound = data.scaled_rows
    lab = data.labels
    inside = RowSet.of(A, s, np.flatnonzero(lab == remaining[0]), bound=bound, F=data.float_rows)
    rest = [np.flatnonzero(lab == r) for r in remaining[1:]]
    extra = qmatrix([p.entries() for p in earlier] + [data.barycenter.entries()])
    out = np.concatenate(rest) if rest else np.zeros(0, dtype=np.intp)
    return inside, RowSet.of(A, s, out, extra, bound, data.float_rows)


def _sets(data: LabeledData, remaining: Sequence[int], earlier: Sequence[flint.fmpq_mat]):
    inside, outside = _row_sets(data, remaining, earlier)
    return inside.exact(), outside.exact()


def float_scale(data: LabeledData) -> int:
    """The exponent ``k`` of :func:`~symtrunc.exact.lp.float_exponent` for the points of ``data``
    (computed on the integer array)."""
    A, s, _ = data.scaled_rows
    e = bit_exponent(A, s)
    return 0 if e is None else e - FLOAT_MAGNITUDE_BITS


def sls_step(
    data: LabeledData,
    j: int,
    remaining: Sequence[int],
    earlier: Sequence[flint.fmpq_mat],
    *,
    k: int | None = None,
) -> SLSStep | OverlapCertificate:
    """Try to peel class ``j`` given the classes still present and the earlier base points.

    ``k``, optional, is :func:`float_scale` of ``data`` (computed when not given): the LP
    proposals see every point divided by ``2**k`` (base points and barycenter lie in the hull of
    the data, so they fit too), whatever the magnitude of the data.

    Returns an exact :class:`SLSStep`, or an :class:`OverlapCertificate` proving that the class
    meets the convex hull of the rest (later classes, earlier base points, barycenter).
    """
    order = [j] + [r for r in remaining if r != j]
    inside, outside = _row_sets(data, order, earlier)
    result = separate_rows(inside, outside, float_scale(data) if k is None else k)
    if isinstance(result, OverlapCertificate):
        return result
    h = result.normal
    hm = (h.transpose() * data.mean(j))[0, 0]
    hb = (h.transpose() * data.barycenter)[0, 0]
    # every offset c in (max_class ⟨h,x⟩, min_rest ⟨h,x⟩) separates; c <-> t is affine. Take the
    # simplest t in the middle half of its interval: small denominators, margin >= 1/4 of the gap
    lo = (inside.extremes(h)[1] - hm) / (hb - hm)
    hi = (outside.extremes(h)[0] - hm) / (hb - hm)
    t = simplest_between(lo + (hi - lo) / 4, hi - (hi - lo) / 4)
    p = t * data.barycenter + (1 - t) * data.mean(j)
    return SLSStep(j, Separator(h, hm + t * (hb - hm)), t, p)


def _steps_along(data: LabeledData, order: Sequence[int], delta: flint.fmpq | None, k: int) -> list[SLSStep] | None:
    """Exact steps along ``order``. ``delta=None``: the max-margin hyperplane and the simplest ``t`` in
    the middle half of its interval (robust). Otherwise ``t`` is pushed to within ``delta`` of the
    supremum ``τ`` of the admissible ``t`` (relative to the max-margin ``t``)."""
    steps: list[SLSStep] = []
    for n, j in enumerate(order):
        earlier = [s.base_point for s in steps]
        res = sls_step(data, j, list(order[n:]), earlier, k=k)
        if isinstance(res, OverlapCertificate):
            return None
        if delta is not None and n < len(order) - 1:
            X, R = _sets(data, order[n:], earlier)
            tau, _ = sup_t(X, R, data.mean(j), data.barycenter)
            gap = tau - res.t
            t = simplest_between(tau - delta * gap, tau - delta * gap / 2) if gap > 0 else res.t
            p = point_on_segment(t, data.mean(j), data.barycenter)
            sep = separate_through(X, R, p)
            if isinstance(sep, OverlapCertificate):  # pragma: no cover - t lies in the admissible interval
                raise UncertifiedError("a t below the supremum was not admissible (please report this)")
            res = SLSStep(j, sep, t, p)
        steps.append(res)
    return steps


def find_sls(
    data: LabeledData,
    order: Sequence[int] | None = None,
    *,
    max_nodes: int | None = None,
) -> SLSCertificate:
    """Decide sequential linear separability (Definition 5.1) exactly, with a certificate both ways.

    Parameters
    ----------
    data : LabeledData
    order : sequence of int, optional
        Impose the order of the classes (class indices). Default: search all orders.
    max_nodes : int, optional
        Bound on the order prefixes examined by the exact decision (default: none). When it is
        hit, :class:`SLSUndecidedError` is raised: that is not a proof.

    Returns
    -------
    SLSCertificate
        Verified exactly (:meth:`SLSCertificate.check`).

    Raises
    ------
    HypothesisError
        Proved: the data are not SLS (in the imposed order); ``.certificate`` is a
        :class:`NotSLSCertificate`, re-checkable with :meth:`NotSLSCertificate.check`.
    SLSUndecidedError
        The node limit was hit.

    Notes
    -----
    Theorem used (proved in the module ``symtrunc.geometry.base_points`` and the note of issue
    15): for a fixed order let ``τ_ℓ`` be the supremum of the admissible ``t_ℓ`` when every
    earlier base point sits at ``p_i(τ_i)``. The order works iff every step is strictly feasible
    in this limit configuration. (Only if: moving ``p_i`` towards ``x̄`` keeps it on the far
    side of every later hyperplane, since ``x̄`` is strictly there, so admissible sets only grow
    and ``t_i < τ_i``. If: strict feasibility is open in all the ``t``'s, so ``t_i`` slightly
    below ``τ_i`` work, chosen from the last step backwards.) The search is depth-first over
    prefixes, memoized on the limit configuration ``{(class, τ)}``. A fast path tries the
    robust max-margin choice first; when the exact decision finds an order, ``t``'s are pushed
    towards the ``τ``'s (margins ``1/2, 1/4, 1/16, …`` of the gap) until every step is exact.
    """
    k = float_scale(data)
    all_classes = tuple(range(data.Q))
    if order is not None:
        order = tuple(int(c) for c in order)
        if sorted(order) != list(all_classes):
            raise HypothesisError(f"the order must be a permutation of the class indices 0..{data.Q - 1}")
    # fast path: the robust greedy peel (max-margin hyperplanes, middle t), no backtracking
    if order is not None:
        steps = _steps_along(data, order, None, k)
    else:
        steps, remaining = [], list(all_classes)
        with task("sls: order search", total=data.Q) as progress:
            while remaining:
                for j in remaining:
                    res = sls_step(data, j, remaining, [s.base_point for s in steps], k=k)
                    if isinstance(res, SLSStep):
                        steps.append(res)
                        remaining.remove(j)
                        progress.step(f"class {data.classes[j]!r} separated")
                        break
                else:
                    steps = None
                    break
    if steps is not None:
        return SLSCertificate(tuple(s.class_index for s in steps), tuple(steps))

    # exact decision over the limit configurations
    nodes: dict[tuple, dict[int, OverlapCertificate | SLSLimitStep]] = {}
    blocked_alone: dict[tuple[int, frozenset[int]], OverlapCertificate] = {}
    count = 0

    def search(key: tuple) -> tuple[int, ...] | None:
        nonlocal count
        done = [c for c, _ in key]
        remaining = [c for c in all_classes if c not in done]
        if key in nodes:
            return None
        if max_nodes is not None and count >= max_nodes:
            raise SLSUndecidedError(
                f"SLS undecided: the search limit of {max_nodes} order prefixes was hit before a decision "
                "(this is not a proof either way; raise --max-nodes or drop it)"
            )
        count += 1
        decision.step(f"order prefix {'/'.join(str(data.classes[c]) for c, _ in key) or '(empty)'}")
        entry: dict[int, OverlapCertificate | SLSLimitStep] = {}
        nodes[key] = entry
        for j in [order[len(key)]] if order is not None else remaining:
            X, R = limit_sets(data, j, remaining, key)
            alone = blocked_alone.get((j, frozenset(remaining)))
            if alone is None:
                n_later = sum(len(data.class_indices[r]) for r in remaining if r != j)
                rows = R.tolist()[:n_later] + [data.barycenter.entries()]
                res = strictly_separate(X, exact_rows(rows, data.M))
                if isinstance(res, OverlapCertificate):  # blocked whatever the earlier base points
                    alone = res
                    blocked_alone[(j, frozenset(remaining))] = res
            if alone is not None:  # re-index x̄ (row n_later) to its place after the limit points
                n_later = sum(len(data.class_indices[r]) for r in remaining if r != j)
                entry[j] = OverlapCertificate(
                    alone.first_weights,
                    {(R.nrows() if i == n_later else i): w for i, w in alone.second_weights.items()},
                    alone.point,
                )
                continue
            res = strictly_separate(X, _append(R, data.barycenter))
            if isinstance(res, OverlapCertificate):
                entry[j] = res
                continue
            tau, shadow = sup_t(X, R, data.mean(j), data.barycenter)
            entry[j] = SLSLimitStep(j, tau, shadow)
            if len(remaining) == 1:
                return (j,)
            rest = search(_child(key, j, tau))
            if rest is not None:
                return (j,) + rest
        return None

    with task("sls: exact order decision") as decision:
        found = search(())
    if found is None:
        cert = NotSLSCertificate(nodes, order)
        if not cert.check(data):  # pragma: no cover - every piece was checked when made
            raise UncertifiedError("the non-SLS proof failed its exact re-check (please report this)")
        what = "in the imposed order" if order is not None else ""
        raise HypothesisError(
            f"the data are not sequentially linearly separable (not SLS){' ' + what if what else ''}: "
            f"{cert.reason(data)} (exact proof in the error's certificate; the CLI writes it with --certificate FILE)",
            cert,
        )
    delta = flint.fmpq(1, 2)
    for _ in range(64):
        steps = _steps_along(data, found, delta, k)
        if steps is not None:
            cert_yes = SLSCertificate(found, tuple(steps))
            if cert_yes.check(data):
                return cert_yes
        delta = delta * delta / 2 if delta < flint.fmpq(1, 4) else delta / 2
    raise UncertifiedError(  # pragma: no cover - the limit argument guarantees termination
        "the exact decision found an SLS order but no exact t's were certified (please report this)"
    )
