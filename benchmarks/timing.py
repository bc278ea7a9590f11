"""The one timer the benchmarks share: best wall time of several runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_of(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    """Best wall time (seconds) of ``reps`` runs of ``fn`` and the result of the last run."""
    best, out = float("inf"), None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out
