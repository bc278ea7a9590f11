"""BLAS thread limits for the float paths (tall, skinny products are fastest on one thread).

The limit uses ``threadpoolctl`` (optional extra ``symtrunc[blas]``), imported on first use;
without it every limit is a no-op. Its library scan (~20 ms) sees only the libraries already
loaded, so it runs once before and once after SciPy's BLAS is loaded (with ``scipy.linalg``):
the limit covers every BLAS that can run, without importing SciPy for it (0.5 s).

Examples
--------
>>> import numpy as np
>>> with blas_threads(1):
...     float((np.ones((4, 3)) @ np.ones(3)).sum())
12.0
>>> check_threads(0)
Traceback (most recent call last):
...
symtrunc.errors.DataError: threads must be a positive integer or None, got 0
"""

from __future__ import annotations

import os
import sys
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np

from symtrunc.errors import DataError

__all__ = ["blas_threads", "check_threads", "usable_cores"]

#: the process's ``ThreadpoolController`` (``None`` without threadpoolctl), created on first use,
#: keyed by whether SciPy's BLAS was loaded then (the scan only sees the libraries already loaded)
_CONTROLLER: dict[bool, Any] = {}


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one, e.g. under
    ``taskset``), at least 1.

    >>> usable_cores() == (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def check_threads(threads: int | None, name: str = "threads") -> int | None:
    """``threads`` unchanged if it is a positive integer or ``None`` (``name``: the option's
    name in the error).

    Raises
    ------
    DataError
        Anything else (booleans included).
    """
    if threads is not None and (not isinstance(threads, int | np.integer) or isinstance(threads, bool) or threads < 1):
        raise DataError(f"{name} must be a positive integer or None, got {threads!r}")
    return threads


def blas_threads(threads: int | None) -> AbstractContextManager:
    """A context limiting BLAS to ``threads`` threads; a no-op for ``None`` or without threadpoolctl.

    Raises
    ------
    DataError
        If ``threads`` is not a positive integer or ``None``.
    """
    n = check_threads(threads)
    if n is None:
        return nullcontext()
    key = "scipy.linalg" in sys.modules  # SciPy's BLAS is loaded with scipy.linalg
    if key not in _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _CONTROLLER[key] = None
        else:
            _CONTROLLER[key] = ThreadpoolController()
    ctl = _CONTROLLER[key]
    return nullcontext() if ctl is None else ctl.limit(limits=int(n), user_api="blas")
