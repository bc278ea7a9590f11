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

from collections.abc import Sequence
from dataclasses import dataclass

import flint
import numpy as np

from symtrunc.data.labeled import LabeledData
from symtrunc.errors import HypothesisError
from symtrunc.exact.lp import OverlapCertificate, Separator, simplest_between, strictly_separate
from symtrunc.exact.matrix import exact_rows, qmatrix, to_float

__all__ = ["SLSStep", "SLSCertificate", "NotSLSCertificate", "find_sls", "sls_step"]


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
            inside, outside = _sets(data, self.order[k:], [s.base_point for s in self.steps[:k]])
            if not Separator(h, c).check(inside, outside):
                return False
        return True


@dataclass(frozen=True)
class NotSLSCertificate:
    """Why the search failed: for each class that could not be peeled at some step, the exact
    overlap certificate, keyed by the already peeled prefix of the order.

    Attributes
    ----------
    blocked : dict
        ``{(prefix order tuple): {class index: OverlapCertificate}}``.
    orders_tried : int
        Number of search nodes expanded.
    complete : bool
        ``True`` when no order can work at all: at the first step every class is blocked,
        or the search exhausted every order with this choice of base points.
    """

    blocked: dict[tuple[int, ...], dict[int, OverlapCertificate]]
    orders_tried: int
    complete: bool

    def first_step_blocked(self) -> dict[int, OverlapCertificate]:
        """Classes that cannot come first, with their certificates."""
        return self.blocked.get((), {})


def _sets(data: LabeledData, remaining: Sequence[int], earlier: Sequence[flint.fmpq_mat]):
    rows = data.X.tolist()
    j = remaining[0]
    inside = exact_rows([rows[i] for i in data.class_indices[j]], data.M)
    out_rows = [rows[i] for r in remaining[1:] for i in data.class_indices[r]]
    out_rows += [p.entries() for p in earlier] + [data.barycenter.entries()]
    return inside, exact_rows(out_rows, data.M)


def sls_step(
    data: LabeledData,
    j: int,
    remaining: Sequence[int],
    earlier: Sequence[flint.fmpq_mat],
    *,
    floats: np.ndarray | None = None,
) -> SLSStep | OverlapCertificate:
    """Try to peel class ``j`` given the classes still present and the earlier base points.

    Returns an exact :class:`SLSStep`, or an :class:`OverlapCertificate` proving that the class
    meets the convex hull of the rest (later classes, earlier base points, barycenter).
    """
    order = [j] + [r for r in remaining if r != j]
    inside, outside = _sets(data, order, earlier)
    fl = None
    if floats is not None:
        rest = [i for r in order[1:] for i in data.class_indices[r]]
        extra = to_float(qmatrix([p.entries() for p in earlier] + [data.barycenter.entries()]))
        fl = (floats[list(data.class_indices[j])], np.vstack([floats[rest], extra]))
    result = strictly_separate(inside, outside, floats=fl)
    if isinstance(result, OverlapCertificate):
        return result
    h = result.normal
    hm = (h.transpose() * data.mean(j))[0, 0]
    hb = (h.transpose() * data.barycenter)[0, 0]
    # every offset c in (max_class ⟨h,x⟩, min_rest ⟨h,x⟩) separates; c <-> t is affine. Take the
    # simplest t in the middle half of its interval: small denominators, margin >= 1/4 of the gap
    lo = (max((inside * h).entries()) - hm) / (hb - hm)
    hi = (min((outside * h).entries()) - hm) / (hb - hm)
    t = simplest_between(lo + (hi - lo) / 4, hi - (hi - lo) / 4)
    p = t * data.barycenter + (1 - t) * data.mean(j)
    return SLSStep(j, Separator(h, hm + t * (hb - hm)), t, p)


def find_sls(
    data: LabeledData,
    order: Sequence[int] | None = None,
    *,
    max_nodes: int = 10_000,
) -> SLSCertificate:
    """Decide sequential linear separability and return an exact certificate.

    Parameters
    ----------
    data : LabeledData
    order : sequence of int, optional
        Impose the order of the classes (class indices). Default: search.
    max_nodes : int
        Bound on the number of search nodes (each costs one LP per candidate class).

    Returns
    -------
    SLSCertificate

    Raises
    ------
    HypothesisError
        When no order is found; ``.certificate`` is a :class:`NotSLSCertificate`.

    Notes
    -----
    The search is depth-first over orders with backtracking and memoizes peeled sets that led
    to dead ends. The base point of each step is where a max-margin separating hyperplane
    crosses the segment. Since later steps depend
    on these choices, a failed search proves non-separability only when the first step is
    blocked for every class (``complete=True``), which the certificate states. Each base point
    uses the simplest rational ``t`` in the middle half of the admissible interval.
    """
    floats = to_float(data.X)
    blocked: dict[tuple[int, ...], dict[int, OverlapCertificate]] = {}
    dead: set[frozenset[int]] = set()
    nodes = 0
    all_classes = tuple(range(data.Q))
    if order is not None:
        order = tuple(int(k) for k in order)
        if sorted(order) != list(all_classes):
            raise HypothesisError(f"the order must be a permutation of the class indices 0..{data.Q - 1}")

    def search(prefix: tuple[int, ...], steps: tuple[SLSStep, ...]) -> tuple[SLSStep, ...] | None:
        nonlocal nodes
        remaining = [k for k in all_classes if k not in prefix]
        if not remaining:
            return steps
        if frozenset(prefix) in dead or nodes >= max_nodes:
            return None
        nodes += 1
        candidates = [order[len(prefix)]] if order is not None else remaining
        for j in candidates:
            res = sls_step(data, j, remaining, [s.base_point for s in steps], floats=floats)
            if isinstance(res, OverlapCertificate):
                blocked.setdefault(prefix, {})[j] = res
                continue
            found = search(prefix + (j,), steps + (res,))
            if found is not None:
                return found
        dead.add(frozenset(prefix))
        return None

    steps = search((), ())
    if steps is not None:
        return SLSCertificate(tuple(s.class_index for s in steps), steps)
    first = blocked.get((), {})
    complete = order is None and len(first) == data.Q
    cert = NotSLSCertificate(blocked, nodes, complete)
    names = [repr(data.classes[j]) for j in sorted(first)]
    if order is not None:
        where = next(iter(blocked))
        j = next(iter(blocked[where]))
        msg = (
            f"the data are not SLS in the imposed order: class {data.classes[j]!r} (step "
            f"{len(where) + 1}) cannot be strictly separated from the later classes, earlier "
            "base points and barycenter (exact overlap certificate attached)"
        )
    elif complete:
        msg = (
            "the data are not sequentially linearly separable: no class can be peeled first, "
            f"each of {', '.join(names)} meets the convex hull of the other classes and the "
            "barycenter (exact overlap certificates attached)"
        )
    else:
        msg = (
            f"no SLS order found after {nodes} search nodes; classes that could not be peeled: "
            + "; ".join(
                f"after {[data.classes[k] for k in p]}: {[data.classes[k] for k in b]}"
                for p, b in blocked.items()
            )
        )
    raise HypothesisError(msg, cert)
