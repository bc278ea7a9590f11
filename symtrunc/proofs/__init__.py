r"""Machine-checked proofs of the lemmas and theorems behind the constructions.

One module per lemma or theorem. Each states its claim, proves it with sympy (identities of
matrix symbols of symbolic size in :mod:`~symtrunc.proofs.free_algebra`, rational-function
identities, sign arguments on explicit pieces, exact certificates; see
:mod:`symtrunc.proofs._core`) and writes a LaTeX proof sketch. Every result carries its
*scope*: ``"all dimensions"`` when every obligation holds for symbolic sizes (or for a generic
component), else ``"verified at sizes …"``; and the hypotheses it *assumes* without proof. A
claim is ``"proved"`` only for all dimensions and ``"verified"`` when some obligation was
checked at fixed sizes only. Each script also has deliberately false *variants*, which must
come out ``"failed"`` with an exact counterexample. A claim that cannot be settled
symbolically is ``"not settled"``; nothing falls back to floating point.

Run them with ``symtrunc prove`` (all), ``symtrunc prove NAME`` or from Python; write the
documents of ``proofs/`` with ``python -m symtrunc.proofs --write proofs/``:

>>> from symtrunc import proofs
>>> list(proofs.available())
['truncation_map', 'proposition_3_2', 'cone_lemma', 'rational_cone', 'theorem_5_2', 'base_points', 'l2_identities']
>>> r = proofs.run("base_points")
>>> r.status, str(r.scope)
('proved', 'all dimensions')
>>> proofs.run("base_points", variant="closed_interval").status
'failed'
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from types import ModuleType

from symtrunc.errors import DataError
from symtrunc.files import write_files
from symtrunc.latex.document import Fragment, tex_escape
from symtrunc.latex.report import document
from symtrunc.proofs._core import Domain, ProofResult, Prover, Scope, Step

__all__ = [
    "Domain",
    "ProofResult",
    "Prover",
    "Scope",
    "Step",
    "available",
    "claim_documents",
    "notes",
    "proofs_document",
    "results_table",
    "run",
    "run_all",
    "summary",
    "write_documents",
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
        result = replace(
            result,
            claim=r"\emph{Deliberately false variant:} "
            + tex_escape(mod.VARIANTS[variant])
            + ". (The true claim: "
            + result.claim
            + ")",
        )
    return result


def run_all(names: Iterable[str] | None = None, *, variants: bool = False) -> list[ProofResult]:
    """Run the given scripts (default: all); with ``variants=True`` also every false variant."""
    out = []
    for name in list(names) if names is not None else list(available()):
        out.append(run(name))
        if variants:
            out.extend(run(name, v) for v in _module(name).VARIANTS)
    return out


def _scope_cell(r: ProofResult) -> str:
    if r.variant is not None:
        return "false variant"
    return str(r.scope) + (f" (+{len(r.scope.assumes)} assumed)" if r.scope.assumes else "")


def results_table(results: Sequence[ProofResult]) -> str:
    """A plain-text table: status, scope, obligations, time, title.

    >>> from symtrunc.proofs import ProofResult, Scope
    >>> print(results_table([ProofResult("x", "An example", "", "proved", "", seconds=0.5),
    ...                      ProofResult("y", "Another", "", "verified", "", scope=Scope(("n = 2",)))]))
    proof  status    scope                    obligations  time    title
    x      proved    all dimensions                     0  0.50 s  An example
    y      verified  verified at sizes n = 2            0  0.00 s  Another
    """
    names = [r.name + (f" [{r.variant}]" if r.variant else "") for r in results]
    scopes = [_scope_cell(r) for r in results]
    w = max([len("proof")] + [len(n) for n in names])
    sw = max([len("status")] + [len(r.status) for r in results])
    cw = max([len("scope")] + [len(s) for s in scopes])
    lines = [f"{'proof':<{w}}  {'status':<{sw}}  {'scope':<{cw}}  obligations  time    title"]
    for n, r, s in zip(names, results, scopes):
        lines.append(f"{n:<{w}}  {r.status:<{sw}}  {s:<{cw}}  {len(r.steps):11d}  {r.seconds:4.2f} s  {r.title}")
    return "\n".join(lines)


def summary(results: Sequence[ProofResult], *, self_test: bool = False) -> tuple[str, bool]:
    """The summary line (claims proved for all dimensions and verified at fixed sizes counted
    separately) and whether the run succeeded: every claim proved or verified, and with
    ``self_test`` every false variant refuted (without it, a variant run succeeds only if it holds).

    >>> from symtrunc.proofs import ProofResult, Scope
    >>> summary([ProofResult("x", "X", "", "proved", ""),
    ...          ProofResult("y", "Y", "", "verified", "", scope=Scope(("n = 2",)))])
    ('2 claims: 1 proved for all dimensions, 1 verified at fixed sizes only, 0 not proved (0.00 s)', True)
    """
    claims = [r for r in results if r.variant is None]
    variants = [r for r in results if r.variant is not None]
    proved = sum(r.status == "proved" for r in claims)
    verified = sum(r.status == "verified" for r in claims)
    parts = []
    if claims:
        parts.append(
            f"{len(claims)} claim{'s' if len(claims) != 1 else ''}: {proved} proved for all dimensions, "
            f"{verified} verified at fixed sizes only, {len(claims) - proved - verified} not proved"
        )
    if variants:
        refuted = sum(r.status == "failed" for r in variants)
        parts.append(f"{refuted} of {len(variants)} false variants refuted")
    ok = all(r.holds for r in claims) and all((r.status == "failed") if self_test else r.holds for r in variants)
    return "; ".join(parts) + f" ({sum(r.seconds for r in results):.2f} s)", ok


def notes(results: Sequence[ProofResult]) -> list[str]:
    """One line per assumption of a claim and per counterexample to a claim (plain text).

    >>> from symtrunc.proofs import ProofResult, Scope
    >>> notes([ProofResult("x", "X", "", "proved", "", scope=Scope(assumes=("det(AB) = det A det B",)))])
    ['x assumes: det(AB) = det A det B']
    """
    out: list[str] = []
    for r in results:
        if r.variant is not None:
            continue
        out.extend(f"{r.name} assumes: {a}" for a in r.scope.assumes)
        if r.counterexample:
            out.append(f"{r.name}: counterexample to '{r.counterexample['obligation']}': {r.counterexample['values']}")
    return out


def _overview(results: Sequence[ProofResult]) -> Fragment:
    frag = Fragment()
    claims = [r for r in results if r.variant is None]
    variants = [r for r in results if r.variant is not None]
    proved = sum(r.status == "proved" for r in claims)
    verified = sum(r.status == "verified" for r in claims)
    refuted = sum(r.status == "failed" for r in variants)
    extra = f" {refuted} of {len(variants)} deliberately false variants refuted." if variants else ""
    frag.text(
        f"{proved} of {len(claims)} claims proved for all dimensions, {verified} verified at fixed sizes only "
        f"(sympy, exact arithmetic).{extra} Obligations are identities of matrix symbols of symbolic size "
        r"(normal forms modulo the stated relations), rational-function identities (settled by expanding the "
        r"numerator over a common denominator), sign arguments on explicit pieces, and exact certificates. "
        r"A failed claim carries an exact counterexample."
    )
    return frag


def proofs_document(results: Sequence[ProofResult], fmt: str = "latex", *, timing: bool = True) -> str:
    """A standalone LaTeX document (or Markdown) with every proof sketch (``timing=False``:
    without running times, reproducible)."""
    frag = _overview(results)
    for r in results:
        frag.extend(r.fragment(timing=timing))
    return document("symtrunc: machine-checked proofs", frag, fmt)


_REGENERATE = "python -m symtrunc.proofs --write proofs/"


def _index(results: Sequence[ProofResult]) -> str:
    """``proofs/README.md``: what each claim covers and where its proof document is."""
    rows = []
    for r in results:
        assumes = "; ".join(r.scope.assumes) or "nothing"
        rows.append(
            f"| [`{r.name}`]({r.name}.md) ([LaTeX]({r.name}.tex)) | {r.title} | {r.status} | "
            f"{r.scope} | {assumes} | {len(r.steps)} |"
        )
    proved = sum(r.status == "proved" for r in results)
    verified = sum(r.status == "verified" for r in results)
    return "\n".join(
        [
            "# proofs/",
            "",
            "The proof documents of `symtrunc prove`, one per claim: Markdown for reading on GitHub, LaTeX "
            "(`pdflatex NAME.tex`) for print. They are generated, not written by hand; regenerate them with",
            "",
            "```",
            _REGENERATE,
            "```",
            "",
            "(or `symtrunc prove --write proofs/`). A test regenerates them and compares with these files.",
            "The proof scripts themselves live in [`symtrunc/proofs/`](../symtrunc/proofs/), so that `symtrunc prove` "
            "works from an installed package.",
            "",
            f"{proved} of {len(results)} claims are proved for all dimensions, {verified} verified at fixed sizes only.",
            "",
            "| claim | statement | status | scope | assumes | obligations |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            "**Scope.** *all dimensions*: every obligation is an identity of matrix symbols of symbolic size "
            "(`n`, `M`, `Q`, `N`), or a scalar statement about a generic component, so the proof covers every size. "
            "*verified at sizes …*: some obligation was checked only at the sizes listed. *Assumes*: hypotheses taken "
            "as given, not proved here.",
            "",
            "Each script also has deliberately false variants (`symtrunc prove --list`); `symtrunc prove --variants` "
            "checks that every claim holds and every false variant fails with an exact counterexample.",
            "",
        ]
    )


def claim_documents(results: Sequence[ProofResult]) -> dict[str, str]:
    """``{file name: text}``: for each claim ``NAME.tex`` and ``NAME.md``, and, when ``results``
    cover every claim of :func:`available`, ``README.md`` (the index).

    The documents contain no running times, so they are reproducible.
    """
    claims = [r for r in results if r.variant is None]
    out: dict[str, str] = {}
    for r in claims:
        for fmt, ext in (("latex", "tex"), ("markdown", "md")):
            out[f"{r.name}.{ext}"] = document(r.title, r.fragment(timing=False, heading=False), fmt)
    if [r.name for r in claims] == list(available()):
        out["README.md"] = _index(claims)
    return out


def write_documents(results: Sequence[ProofResult], directory: str | Path) -> list[Path]:
    """Write :func:`claim_documents` into ``directory`` (created if needed); returns the paths.

    Every text is rendered before the first file is written, and the files are written
    atomically, all or none (:func:`symtrunc.files.write_files`).
    """
    texts = claim_documents(results)
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder}: not a directory")
    folder.mkdir(parents=True, exist_ok=True)
    return write_files({folder / name: text for name, text in texts.items()})
