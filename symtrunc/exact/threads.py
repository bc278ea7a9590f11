"""BLAS thread limits for the float paths (tall, skinny products are fastest on one thread).

The limit uses ``threadpoolctl`` (optional extra ``symtrunc[blas]``), imported on first use;
without it every limit is a no-op. Its library scan (~20 ms) runs once per process, after
SciPy's BLAS is loaded, so that one limit covers the BLAS of NumPy and of SciPy.

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

from contextlib import AbstractContextManager, nullcontext

import numpy as np

from symtrunc.errors import DataError

__all__ = ["blas_threads", "check_threads"]

#: the process's ``ThreadpoolController`` (``[None]`` without threadpoolctl), created on first use
_CONTROLLER: list = []


def check_threads(threads: int | None) -> int | None:
    """``threads`` unchanged if it is a positive integer or ``None``.

    Raises
    ------
    DataError
        Anything else (booleans included).
    """
    if threads is not None and (not isinstance(threads, int | np.integer) or isinstance(threads, bool) or threads < 1):
        raise DataError(f"threads must be a positive integer or None, got {threads!r}")
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
    if not _CONTROLLER:
        try:
            import scipy.linalg.blas  # noqa: F401  (load SciPy's BLAS before the library scan)
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _CONTROLLER.append(None)
        else:
            _CONTROLLER.append(ThreadpoolController())
    ctl = _CONTROLLER[0]
    return nullcontext() if ctl is None else ctl.limit(limits=int(n), user_api="blas")
