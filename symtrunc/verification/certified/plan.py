"""What one certified run checks (:class:`ChunkPlan`, :class:`Tuning`) and what a chunk reports
(:class:`ChunkResult`).

Examples
--------
>>> Tuning.from_options({"shortcut": False}).shortcut
False
>>> Tuning.from_options({"speed": 11})
Traceback (most recent call last):
...
symtrunc.errors.DataError: unknown tuning option(s): speed
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from symtrunc.errors import DataError
from symtrunc.exact.threads import check_threads, usable_cores
from symtrunc.verification.certificate import Counterexample

__all__ = ["COMPOSED", "ChunkPlan", "ChunkResult", "Tuning"]

#: values of :attr:`Tuning.composed`
COMPOSED = ("auto", "always", "never")


@dataclass(frozen=True)
class Tuning:
    """Advanced knobs of the float filter (tests, benchmarks); none of them affects the verdict."""

    composed: str = "auto"  # "auto" | "always" | "never": use composed maps for prefix groups
    composed_min_group: int = 64  # in "auto", groups at least this large use the composed map
    composed_max_groups: int = 16  # ... and all groups when there are at most this many
    retry_max_groups: int = 256  # running-bound failures retried with composed maps up to this many groups
    shortcut: bool = True  # evaluate exactly in float64 when the whole integer plan fits 2^53
    batch_exact_groups: int = 32  # more non-constant pattern groups than this: evaluate those points exactly
    block: int = 4096  # rows per float block (cache-sized buffers)
    threads: int | None = 1  # BLAS threads inside a chunk (None: leave as is)
    structured: bool = True  # rank-one kernel for composed maps A = αI + 1gᵀ (rational cones)
    kernel: bool = True  # the structured kernel for all-positive prefixes (with structured, composed != "never")
    kernel_threads: int | None = 1  # threads running the structured kernel inside one chunk (None: one per core)
    chunk_threads: int | None = None  # chunks checked at once in this process (None: one per core)
    class_order: bool = True  # the kernel visits a chunk's points class by class (else in file order)
    compiled: bool | None = (
        None  # the kernel compiled by numba (None: once loaded, or from kernel.COMPILED_FROM points)
    )

    @property
    def uses_kernel(self) -> bool:
        """Whether the structured kernel runs (when the network has a rank-one chain).

        >>> Tuning().uses_kernel, Tuning(composed="never").uses_kernel
        (True, False)
        """
        return self.kernel and self.structured and self.composed != "never"

    @classmethod
    def from_options(cls, options: dict[str, Any] | None) -> Tuning:
        """The defaults updated with ``options``.

        Raises
        ------
        DataError
            An unknown option, an unknown ``composed`` mode or a bad ``threads`` value.
        """
        options = dict(options or {})
        unknown = set(options) - {f.name for f in fields(cls)}
        if unknown:
            raise DataError(f"unknown tuning option(s): {', '.join(sorted(unknown))}")
        tuning = cls(**options)
        if tuning.composed not in COMPOSED:
            raise DataError(f"unknown tuning composed={tuning.composed!r}; use one of {', '.join(COMPOSED)}")
        check_threads(tuning.threads)
        check_threads(tuning.kernel_threads, "kernel_threads")
        check_threads(tuning.chunk_threads, "chunk_threads")
        if tuning.compiled is not None and not isinstance(tuning.compiled, bool):
            raise DataError(f"tuning compiled must be True, False or None, got {tuning.compiled!r}")
        return tuning

    @property
    def kernel_parts(self) -> int:
        """Threads for the structured kernel inside one chunk (``kernel_threads``; ``None``: one
        per core).

        >>> Tuning(kernel_threads=3).kernel_parts, Tuning().kernel_parts
        (3, 1)
        """
        return int(self.kernel_threads) if self.kernel_threads is not None else usable_cores()

    @property
    def chunk_workers(self) -> int:
        """Chunks checked at once by a local run (``chunk_threads``; ``None``: one per core). The
        kernel, hashing and most NumPy work release the GIL, so the chunks fill both cores while
        the data digest runs beside them.

        >>> Tuning(chunk_threads=3).chunk_workers, Tuning().chunk_workers >= 1
        (3, True)
        """
        return int(self.chunk_threads) if self.chunk_threads is not None else usable_cores()


@dataclass(frozen=True)
class ChunkPlan:
    """What every chunk is checked against (picklable; the network travels separately)."""

    label_index: dict[Any, int]  # label -> class id (classes in sorted label order)
    targets: tuple[tuple[str, ...], ...]  # exact target of each class, as strings (picklable)
    collapse: tuple[int, ...]  # class id -> collapse layer (0-based) or -1; () without invariants
    n_plan: int  # number of collapse layers whose invariants are checked
    tuning: Tuning


@dataclass
class ChunkResult:
    """What one chunk reports back (filled in by the worker)."""

    start: int
    n_points: int
    n_float: int = 0
    n_exact: int = 0
    patterns: dict[bytes, int] = field(default_factory=dict)
    class_counts: list[int] = field(default_factory=list)
    class_first: list[int] = field(default_factory=list)
    failure: Counterexample | None = None
    composed_evaluations: int = 0
    structured_evaluations: int = 0
    running_rows: int = 0
