r"""Machine-checked proofs of the lemmas and theorems behind the constructions.

One module per lemma or theorem. Each states its claim, proves it with sympy for *symbolic*
parameters (polynomial and rational-function identities, sign arguments on explicit
polyhedral pieces, exact sum-of-squares certificates; see :mod:`symtrunc.proofs._core`)
and writes a LaTeX proof sketch. Each also has deliberately false *variants*, which must come
out ``"failed"`` with an exact counterexample. A claim that cannot be settled symbolically is
reported ``"not settled"``; nothing falls back to floating point.

Run them with ``symtrunc prove`` (all), ``symtrunc prove NAME`` or from Python:

>>> from symtrunc import proofs
>>> list(proofs.available())
['truncation_map', 'proposition_3_2', 'cone_lemma', 'rational_cone', 'theorem_5_2', 'base_points', 'l2_identities']
>>> r = proofs.run("base_points")
>>> r.status
'proved'
>>> proofs.run("base_points", variant="closed_interval").status
'failed'
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Sequence
from types import ModuleType

from symtrunc.errors import DataError
from symtrunc.proofs._core import Domain, ProofResult, Prover, Step
from symtrunc.latex.printer import Fragment
from symtrunc.latex.report import document
from symtrunc.latex.printer import tex_escape

__all__ = [
    "Domain",
    "ProofResult",
    "Prover",
    "Step",
    "available",
    "proofs_document",
    "results_table",
    "run",
    "run_all",
]


def available() -> dict[str, ModuleType]:
    """The proof scripts of this package, ``{name: module}``, in logical order.

    A proof script is any module of :mod:`symtrunc.proofs` whose name does not start with
    ``_`` and that defines ``NAME``, ``TITLE``, ``CLAIM``, ``VARIANTS`` and ``prove``.
    """
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if all(hasattr(mod, a) for a in ("NAME", "TITLE", "CLAIM", "VARIANTS", "prove")):
            found.append(mod)
    found.sort(key=lambda m: (getattr(m, "ORDER", 100), m.NAME))
    return {m.NAME: m for m in found}


def _module(name: str) -> ModuleType:
    scripts = available()
    if name not in scripts:
        raise DataError(f"unknown proof {name!r}; available: {', '.join(scripts)}")
    return scripts[name]


def run(name: str, variant: str | None = None) -> ProofResult:
    """Run one proof script (or one of its deliberately false variants).

    Raises
    ------
    DataError
        For an unknown script or variant name.
    """
    mod = _module(name)
    if variant is not None and variant not in mod.VARIANTS:
        raise DataError(f"proof {name!r} has no variant {variant!r}; variants: {', '.join(mod.VARIANTS)}")
    result = mod.prove(variant)
    if variant is not None:
        from dataclasses import replace


        result = replace(result, claim=r"\emph{Deliberately false variant:} " + tex_escape(mod.VARIANTS[variant])
                         + ". (The true claim: " + result.claim + ")")
    return result


def run_all(names: Iterable[str] | None = None, *, variants: bool = False) -> list[ProofResult]:
    """Run the given scripts (default: all); with ``variants=True`` also every false variant."""
    out = []
    for name in (list(names) if names is not None else list(available())):
        out.append(run(name))
        if variants:
            out.extend(run(name, v) for v in _module(name).VARIANTS)
    return out


def results_table(results: Sequence[ProofResult]) -> str:
    """A plain-text pass/fail table.

    >>> from symtrunc.proofs import ProofResult
    >>> print(results_table([ProofResult("x", "An example", "", "proved", "", seconds=0.5)]))
    proof  status  obligations  time    title
    x      proved            0  0.50 s  An example
    """
    names = [r.name + (f" [{r.variant}]" if r.variant else "") for r in results]
    w = max([len("proof")] + [len(n) for n in names])
    sw = max([len("status")] + [len(r.status) for r in results])
    lines = [f"{'proof':<{w}}  {'status':<{sw}}  obligations  time    title"]
    for n, r in zip(names, results):
        lines.append(f"{n:<{w}}  {r.status:<{sw}}  {len(r.steps):11d}  {r.seconds:4.2f} s  {r.title}")
    return "\n".join(lines)


def proofs_document(results: Sequence[ProofResult], fmt: str = "latex") -> str:
    """A standalone LaTeX document (or Markdown) with every proof sketch."""

    frag = Fragment()
    claims = [r for r in results if r.variant is None]
    variants = [r for r in results if r.variant is not None]
    ok = sum(r.status == "proved" for r in claims)
    refuted = sum(r.status == "failed" for r in variants)
    extra = f" {refuted} of {len(variants)} deliberately false variants refuted." if variants else ""
    frag.text(f"{ok} of {len(claims)} claims proved symbolically with sympy (exact arithmetic).{extra} "
              r"Obligations are polynomial or rational-function identities (settled by expanding the "
              r"numerator over a common denominator), sign arguments on explicit pieces, and exact "
              r"sum-of-squares certificates. A failed claim carries an exact counterexample.")
    for r in results:
        frag.extend(r.fragment())
    return document("symtrunc: machine-checked proofs", frag, fmt)
