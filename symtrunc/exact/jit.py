"""Functions compiled by numba on first use (numba is optional: ``pip install "symtrunc[fast]"``).

Each compiled function is kept in a one-element list owned by its module (``[compiled]``, or
``[None]`` without numba), so that the import and the compilation (or the load from numba's
disk cache) happen once, and only where a compiled kernel is wanted.

>>> lazy_njit([None], len) is None  # a filled slot is returned as it is (here: numba missing)
True
>>> lazy_njit([max], len) is max  # (here: a kernel loaded before)
True
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_njit"]


def lazy_njit(slot: list, fn: Callable[..., Any]) -> Callable[..., Any] | None:
    """``fn`` compiled by numba (cached on disk, no GIL, no fast-math), or ``None`` without numba.

    ``slot`` keeps the result: it is filled on the first call and read afterwards.
    """
    if not slot:
        try:
            numba = importlib.import_module("numba")  # lazy: numba is optional (symtrunc[fast])
        except ImportError:
            slot.append(None)
        else:
            slot.append(numba.njit(cache=True, nogil=True)(fn))
    return slot[0]
