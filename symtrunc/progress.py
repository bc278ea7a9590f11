"""Progress of long computations: a context-local reporter that algorithms tick and the CLI installs.

Long steps (the collapse steps of a construction, the layers of an exact verification) run
inside :func:`task` and call :meth:`Task.step` once per step. Nothing is shown unless a caller
installed a reporter with :func:`reporting`; the library itself stays silent. The command line
installs one: a tqdm bar on standard error when it is a terminal (optional extra
``progress``; without tqdm no bar is drawn), nothing with ``-q`` or when standard error is not
a terminal, and with ``-v`` one line per step with its time instead of the bar.

Examples
--------
>>> import io
>>> out = io.StringIO()
>>> with reporting(bar=False, verbose=True, stream=out):
...     with task("demo", total=2) as t:
...         t.step("first")
...         t.step("second")
>>> [line.split(" (")[0] for line in out.getvalue().splitlines()]
['symtrunc: demo 1/2: first', 'symtrunc: demo 2/2: second']
>>> with task("silent", total=1) as t:      # no reporter installed: nothing happens
...     t.step("nothing printed")

A reporter can also collect the time spent in named parts (:func:`timed`), e.g. the exact
verification inside a construction:

>>> times = {}
>>> with reporting(bar=False, timings=times):
...     with timed("verify"):
...         pass
>>> sorted(times)
['verify']
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = ["Reporter", "Task", "reporting", "task", "timed"]


@dataclass(frozen=True)
class Reporter:
    """How progress is shown.

    Attributes
    ----------
    bar : bool
        Draw a tqdm bar per task (when tqdm is installed).
    verbose : bool
        One line per step with the time it took (replaces the bar).
    stream : TextIO or None
        Where to write (``None``: :data:`sys.stderr` at the time of writing).
    timings : dict or None
        Where :func:`timed` adds the seconds spent in each named part (``None``: not recorded).
    """

    bar: bool = False
    verbose: bool = False
    stream: TextIO | None = None
    timings: dict[str, float] | None = field(default=None, compare=False)

    @property
    def out(self) -> TextIO:
        """The stream written to."""
        return self.stream if self.stream is not None else sys.stderr


_CURRENT: ContextVar[Reporter | None] = ContextVar("symtrunc_progress", default=None)


@contextmanager
def reporting(
    bar: bool | None = None,
    verbose: bool = False,
    stream: TextIO | None = None,
    timings: dict[str, float] | None = None,
) -> Iterator[Reporter]:
    """Show the progress of every :func:`task` run inside the ``with`` block.

    Parameters
    ----------
    bar : bool or None
        ``None`` (default): a bar only when the stream is a terminal.
    verbose : bool
        One line per step with its time.
    stream : TextIO, optional
        Default: standard error.
    timings : dict, optional
        Collects the seconds of every :func:`timed` part run inside the block.
    """
    rep = Reporter(False, verbose, stream, timings)
    if bar is None:
        isatty = getattr(rep.out, "isatty", None)
        bar = bool(isatty()) if callable(isatty) else False
    rep = Reporter(bool(bar) and not verbose, verbose, stream, timings)
    token = _CURRENT.set(rep)
    try:
        yield rep
    finally:
        _CURRENT.reset(token)


class Task:
    """One long computation with ``total`` steps; :meth:`step` after each (see :func:`task`)."""

    def __init__(self, desc: str, total: int | None, reporter: Reporter | None) -> None:
        self.desc, self.total, self.reporter = desc, total, reporter
        self.done = 0
        self._last = time.perf_counter()
        self._bar: Any = None
        if reporter is not None and reporter.bar:
            try:
                from tqdm import tqdm  # lazy: optional package (extra "progress")
            except ImportError:
                pass
            else:
                self._bar = tqdm(total=total, desc=desc, unit="step", file=reporter.out, leave=False)

    def step(self, what: str = "") -> None:
        """One step is done; ``what`` says which (for ``-v``)."""
        self.done += 1
        rep = self.reporter
        if rep is None:
            return
        now = time.perf_counter()
        if rep.verbose:
            of = f"/{self.total}" if self.total is not None else ""
            text = f": {what}" if what else ""
            print(f"symtrunc: {self.desc} {self.done}{of}{text} ({now - self._last:.2f} s)", file=rep.out, flush=True)
        if self._bar is not None:
            self._bar.update(1)
        self._last = now

    def close(self) -> None:
        """Remove the bar (if any)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


@contextmanager
def task(desc: str, total: int | None = None) -> Iterator[Task]:
    """A :class:`Task` reported by the installed reporter (a silent one when none is installed)."""
    t = Task(desc, total, _CURRENT.get())
    try:
        yield t
    finally:
        t.close()


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Add the seconds spent in the block to ``timings[name]`` of the installed reporter (if any)."""
    rep = _CURRENT.get()
    t0 = time.perf_counter()
    try:
        yield
    finally:
        if rep is not None and rep.timings is not None:
            rep.timings[name] = rep.timings.get(name, 0.0) + time.perf_counter() - t0
