r"""Matrix symbols of symbolic size: the free algebra of matrix words modulo relations.

A proof that uses only the ring axioms (associativity, distributivity), transposition and the
stated relations (``X X^{-1} = I``, ``u^\top u = n``, ``\tilde R e_1 = u/\sqrt n``, ...) holds
for matrices of *every* size. :class:`FreeAlgebra` checks such identities: its elements are
linear combinations of *words* in matrix symbols whose sizes are sympy symbols (``n``,
``M``, ``Q``, or ``1``), with commutative sympy coefficients. :meth:`Elt.normal` rewrites
every word with the relations until none applies:

* ``X X^{-1} → I`` and ``X^{-1} X → I`` for a square matrix symbol declared invertible, and
  ``w (w)^{-1} → I``, ``(w)^{-1} w → I`` for the inverse of a square word ``w`` (such as
  ``(P^\top P)^{-1}``, so ``P^+ P = I`` for ``P^+ = (P^\top P)^{-1}P^\top``);
* the relations given with :meth:`FreeAlgebra.relation` (a word → an element), together with
  their transposes;
* a ``1 x 1`` subword (``u^\top y``) is a scalar: it commutes with everything and equals its
  transpose, so it becomes a commutative symbol ``⟨u^\top y⟩`` of the coefficient ring;
* a trace is invariant under cyclic rotation and transposition of its word.

Every rewriting step replaces a subword by an equal element in every ring of matrices
satisfying the relations, so equal normal forms *prove* an identity for all sizes. Different
normal forms prove nothing (the rewriting is not claimed to be complete): a failed check is
followed by a search for an exact counterexample with concrete matrices
(:meth:`FreeAlgebra.evaluate`).

Examples
--------
>>> n = sympy.Symbol("n", positive=True, integer=True)
>>> A = FreeAlgebra()
>>> W, V = A.matrix("W", n, n, invertible=True), A.matrix("V", n, n, invertible=True)
>>> p = A.matrix("p", n, 1)
>>> ((W * V).inv() * W * V * p - p).normal().is_zero
True
>>> u = A.matrix("u", n, 1)
>>> A.relation(u.T * u, n * A.eye(1))
>>> print((u * u.T * u).normal().latex())
n\, u
>>> print(((W * V).T).normal().latex())
V^{\top} W^{\top}
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy

__all__ = ["Atom", "Elt", "FreeAlgebra", "Letter", "block_product"]

_MAX_STEPS = 20000


@dataclass(frozen=True)
class Atom:
    """A matrix symbol: LaTeX name, symbolic shape, and whether it is symmetric / invertible."""

    name: str
    rows: Any
    cols: Any
    symmetric: bool = False
    invertible: bool = False


@dataclass(frozen=True)
class Letter:
    """One factor of a word: an atom (possibly transposed and/or inverted) or the inverse
    ``(w)^{-1}`` of a square word ``w`` (``body``)."""

    atom: Atom | None = None
    transposed: bool = False
    inverse: bool = False
    body: tuple[Letter, ...] = ()

    @property
    def shape(self) -> tuple[Any, Any]:
        """``(rows, cols)``."""
        if self.atom is None:
            r, _ = self.body[0].shape
            return r, r
        a = self.atom
        return (a.cols, a.rows) if self.transposed else (a.rows, a.cols)

    @property
    def key(self) -> str:
        """A sort key (and identity) of the letter."""
        if self.atom is None:
            return "(" + " ".join(x.key for x in self.body) + ")^-1"
        return self.atom.name + ("'" if self.transposed else "") + ("^-1" if self.inverse else "")

    def transpose(self) -> Letter:
        """The transposed letter (``(X^{-1})^\\top = (X^\\top)^{-1}``, ``((w)^{-1})^\\top = (w^\\top)^{-1}``)."""
        if self.atom is None:
            return Letter(body=_transpose_word(self.body), inverse=True)
        if self.atom.symmetric:
            return self
        return Letter(self.atom, not self.transposed, self.inverse)

    def latex(self) -> str:
        """LaTeX of the letter."""
        if self.atom is None:
            return r"\left(" + _word_latex(self.body) + r"\right)^{-1}"
        base = self.atom.name
        if len(base) > 1 and not base.startswith("\\") and "_" not in base and "{" not in base:
            base = "{" + base + "}"
        sup = ([r"\top"] if self.transposed else []) + (["-1"] if self.inverse else [])
        if not sup:
            return base
        if "^" in base or "_" in base:
            base = "{" + base + "}"
        return base + "^{" + " ".join(sup) + "}"


def _transpose_word(word: Sequence[Letter]) -> tuple[Letter, ...]:
    return tuple(x.transpose() for x in reversed(word))


def _word_key(word: Sequence[Letter]) -> tuple[str, ...]:
    return tuple(x.key for x in word)


def _word_latex(word: Sequence[Letter]) -> str:
    return " ".join(x.latex() for x in word)


def _same(a: Any, b: Any) -> bool:
    return sympy.sympify(a) == sympy.sympify(b)


class FreeAlgebra:
    """Matrix symbols of symbolic size and the relations between them (see the module docstring).

    Attributes
    ----------
    atoms : list of Atom
    relations : list of (word, Elt)
        Oriented rewriting rules ``word → element`` (their transposes included).
    scalars : dict
        The commutative symbols standing for ``1 x 1`` words and traces: ``{symbol: (kind, word)}``.
    """

    def __init__(self) -> None:
        self.atoms: list[Atom] = []
        self.relations: list[tuple[tuple[Letter, ...], Elt]] = []
        self.scalars: dict[sympy.Symbol, tuple[str, tuple[Letter, ...]]] = {}
        self._by_key: dict[tuple[str, tuple[str, ...]], sympy.Symbol] = {}
        self._nf_cache: dict[tuple[Letter, ...], dict[tuple[Letter, ...], Any]] = {}

    # ------------------------------------------------------------------ building elements
    def matrix(self, name: str, rows: Any, cols: Any, *, symmetric: bool = False, invertible: bool = False) -> Elt:
        """A new matrix symbol (``name`` is its LaTeX)."""
        rows, cols = sympy.sympify(rows), sympy.sympify(cols)
        if (symmetric or invertible) and not _same(rows, cols):
            raise ValueError(f"{name}: a symmetric or invertible matrix must be square")
        if any(a.name == name for a in self.atoms):
            raise ValueError(f"matrix symbol {name!r} already exists")
        atom = Atom(name, rows, cols, symmetric, invertible)
        self.atoms.append(atom)
        return self._word((Letter(atom),), rows, cols)

    def eye(self, n: Any) -> Elt:
        """The ``n x n`` identity (the empty word)."""
        n = sympy.sympify(n)
        return Elt(self, n, n, {(): sympy.Integer(1)})

    def zero(self, rows: Any, cols: Any) -> Elt:
        """The zero matrix."""
        return Elt(self, sympy.sympify(rows), sympy.sympify(cols), {})

    def _word(self, word: tuple[Letter, ...], rows: Any, cols: Any, coeff: Any = 1) -> Elt:
        return Elt(self, rows, cols, {word: sympy.sympify(coeff)})

    def relation(self, lhs: Elt, rhs: Elt) -> None:
        """Add the relation ``lhs = rhs`` (``lhs`` one word with coefficient 1), oriented
        ``lhs → rhs``; its transpose is added too, unless it would rewrite back (``KH → HK`` for
        symmetric ``H, K``)."""
        if len(lhs.terms) != 1 or next(iter(lhs.terms.values())) != 1 or not next(iter(lhs.terms)):
            raise ValueError("the left side of a relation must be a single non-empty word")
        if not (_same(lhs.rows, rhs.rows) and _same(lhs.cols, rhs.cols)):
            raise ValueError("the two sides of a relation have different shapes")
        word = next(iter(lhs.terms))
        self.relations.append((word, rhs))
        tw, rt = _transpose_word(word), rhs.T
        if tw != word and word not in rt.terms:  # (a commutation rule's transpose would undo it)
            self.relations.append((tw, rt))
        self._nf_cache.clear()

    # ------------------------------------------------------------------ normal forms
    def _rewrite_once(self, word: tuple[Letter, ...]) -> list[tuple[tuple[Letter, ...], Any]] | None:
        """One rewriting step on ``word``: ``[(word', coeff), ...]`` or ``None`` if none applies."""
        n = len(word)
        for i in range(n):
            x = word[i]
            # X X^{-1} and X^{-1} X
            if i + 1 < n and x.atom is not None and x.atom.invertible:
                y = word[i + 1]
                if y.atom == x.atom and y.transposed == x.transposed and y.inverse != x.inverse:
                    return [(word[:i] + word[i + 2 :], sympy.Integer(1))]
            # (w)^{-1} w and w (w)^{-1}
            if x.atom is None:
                b = x.body
                if word[i + 1 : i + 1 + len(b)] == b:
                    return [(word[:i] + word[i + 1 + len(b) :], sympy.Integer(1))]
                if i >= len(b) and word[i - len(b) : i] == b:
                    return [(word[: i - len(b)] + word[i + 1 :], sympy.Integer(1))]
            for lhs, rhs in self.relations:
                if word[i : i + len(lhs)] == lhs:
                    pre, post = word[:i], word[i + len(lhs) :]
                    return [(pre + w + post, c) for w, c in rhs.terms.items()]
        return None

    def _scalar_symbol(self, kind: str, word: tuple[Letter, ...]) -> sympy.Symbol:
        key = (kind, _word_key(word))
        sym = self._by_key.get(key)
        if sym is None:
            inner = " ".join(key[1])
            sym = sympy.Symbol(f"tr({inner})" if kind == "trace" else f"<{inner}>")
            self._by_key[key] = sym
            self.scalars[sym] = (kind, word)
        return sym

    def _block(self, word: tuple[Letter, ...]) -> sympy.Symbol:
        """The commutative symbol of a ``1 x 1`` word (equal to its transpose)."""
        tw = _transpose_word(word)
        return self._scalar_symbol("block", min(word, tw, key=_word_key))

    def _extract(self, word: tuple[Letter, ...]) -> tuple[tuple[Letter, ...], Any, bool]:
        """Pull the leftmost minimal ``1 x 1`` subword out as a scalar: ``(rest, scalar, found)``."""
        for i, x in enumerate(word):
            if not _same(x.shape[0], 1):
                continue
            for j in range(i, len(word)):
                if _same(word[j].shape[1], 1):
                    return word[:i] + word[j + 1 :], self._block(word[i : j + 1]), True
        return word, sympy.Integer(1), False

    def normal_word(self, word: tuple[Letter, ...]) -> dict[tuple[Letter, ...], Any]:
        """Normal form of one word: ``{word: coefficient}``."""
        cached = self._nf_cache.get(word)
        if cached is not None:
            return cached
        out: dict[tuple[Letter, ...], Any] = {}
        work: list[tuple[tuple[Letter, ...], Any]] = [(word, sympy.Integer(1))]
        steps = 0
        while work:
            w, c = work.pop()
            steps += 1
            if steps > _MAX_STEPS:
                raise RecursionError("the relations do not terminate on this word")
            step = self._rewrite_once(w)
            if step is not None:
                work.extend((w2, c * c2) for w2, c2 in step)
                continue
            rest, s, found = self._extract(w)
            if found:
                work.append((rest, c * s))
                continue
            out[w] = out.get(w, sympy.Integer(0)) + c
        self._nf_cache[word] = out
        return out

    def _trace_word(self, word: tuple[Letter, ...], rows: Any, depth: int = 0) -> Any:
        if not word:
            return rows
        cands = []
        for variant in (word, _transpose_word(word)):
            for k in range(len(variant)):
                r = variant[k:] + variant[:k]
                nf = self.normal_word(r)
                if depth < 30 and (len(nf) != 1 or next(iter(nf)) != r or next(iter(nf.values())) != 1):
                    size = r[0].shape[0]
                    return sum((c * self._trace_word(w, size, depth + 1) for w, c in nf.items()), sympy.Integer(0))
                cands.append(r)
        return self._scalar_symbol("trace", min(cands, key=_word_key))

    # ------------------------------------------------------------------ concrete matrices
    def evaluate(self, elt: Elt, values: Mapping[Any, Any]) -> sympy.Matrix:
        """``elt`` for concrete values: ``{Atom or atom name: sympy Matrix, scalar symbol: number}``.

        Size symbols must be among the keys (as sympy symbols) when the shapes use them.
        Raises ``ValueError`` for a singular inverse or a shape mismatch.
        """
        vals = {(k.name if isinstance(k, Atom) else k): v for k, v in values.items()}
        scal = {k: sympy.sympify(v) for k, v in vals.items() if isinstance(k, sympy.Symbol)}
        rows, cols = (int(sympy.sympify(d).xreplace(scal)) for d in (elt.rows, elt.cols))
        total = sympy.zeros(rows, cols)
        for word, c in elt.terms.items():
            m = self._eval_word(word, vals, scal, rows)
            total += self._eval_scalar(c, vals, scal) * m
        return total

    def _eval_letter(self, x: Letter, vals: Mapping[Any, Any], scal: Mapping[Any, Any]) -> sympy.Matrix:
        if x.atom is None:
            size = int(sympy.sympify(x.shape[0]).xreplace(scal))
            m = self._eval_word(x.body, vals, scal, size)
            if m.det() == 0:
                raise ValueError("singular inverse")
            return m.inv()
        m = sympy.Matrix(vals[x.atom.name])
        want = tuple(int(sympy.sympify(d).xreplace(scal)) for d in (x.atom.rows, x.atom.cols))
        if m.shape != want:
            raise ValueError(f"{x.atom.name} has shape {m.shape}, expected {want}")
        if x.transposed:
            m = m.T
        if x.inverse:
            if m.det() == 0:
                raise ValueError("singular inverse")
            m = m.inv()
        return m

    def _eval_word(
        self, word: Sequence[Letter], vals: Mapping[Any, Any], scal: Mapping[Any, Any], size: int
    ) -> sympy.Matrix:
        m = sympy.eye(size) if not word else None
        for x in word:
            lm = self._eval_letter(x, vals, scal)
            if m is not None and m.shape[1] != lm.shape[0]:
                raise ValueError("shape mismatch")
            m = lm if m is None else m * lm
        return m

    def _eval_scalar(self, c: Any, vals: Mapping[Any, Any], scal: Mapping[Any, Any]) -> Any:
        sub = dict(scal)
        for sym in sympy.sympify(c).free_symbols:
            if sym in self.scalars:
                kind, word = self.scalars[sym]
                size = int(sympy.sympify(word[0].shape[0]).xreplace(scal))
                m = self._eval_word(word, vals, scal, size)
                sub[sym] = m.trace() if kind == "trace" else m[0, 0]
        return sympy.sympify(c).xreplace(sub)

    def relations_hold(self, values: Mapping[Any, Any], atoms: Iterable[Atom] | None = None) -> bool:
        """Whether every relation (among those using only ``atoms``, default all) holds exactly."""
        allowed = set(self.atoms if atoms is None else atoms)
        for word, rhs in self.relations:
            used = _atoms_of_word(word) | rhs.atoms()
            if not used <= allowed:
                continue
            lhs = Elt(self, rhs.rows, rhs.cols, {word: sympy.Integer(1)})
            try:
                if self.evaluate(lhs, values) != self.evaluate(rhs, values):
                    return False
            except (ValueError, KeyError):
                return False
        return True

    def random_values(
        self, rng: random.Random, sizes: Mapping[Any, int], fixed: Mapping[str, Any] | None = None
    ) -> dict[Any, Any]:
        """Random small rational matrices for every atom (symmetric ones symmetrized), with ``sizes``
        and the ``fixed`` ones (``{name: Matrix}``) as given."""
        pool = [0, 1, -1, 2, -2, sympy.Rational(1, 2), 3, sympy.Rational(-1, 3)]
        out: dict[Any, Any] = {sympy.sympify(k): v for k, v in sizes.items()}
        scal = {sympy.sympify(k): v for k, v in sizes.items()}
        for a in self.atoms:
            if fixed and a.name in fixed:
                out[a.name] = sympy.Matrix(fixed[a.name])
                continue
            r, c = (int(sympy.sympify(d).xreplace(scal)) for d in (a.rows, a.cols))
            m = sympy.Matrix(r, c, lambda i, j: sympy.sympify(rng.choice(pool)))
            if a.symmetric:
                m = (m + m.T) / 2
            out[a.name] = m
        return out


def _atoms_of_word(word: Sequence[Letter]) -> set[Atom]:
    out: set[Atom] = set()
    for x in word:
        if x.atom is None:
            out |= _atoms_of_word(x.body)
        else:
            out.add(x.atom)
    return out


class Elt:
    """An element of a :class:`FreeAlgebra`: ``{word: coefficient}`` with a symbolic shape."""

    __slots__ = ("alg", "cols", "rows", "terms")

    def __init__(self, alg: FreeAlgebra, rows: Any, cols: Any, terms: Mapping[tuple[Letter, ...], Any]) -> None:
        self.alg, self.rows, self.cols = alg, sympy.sympify(rows), sympy.sympify(cols)
        self.terms = {w: c for w, c in terms.items() if c != 0}

    @property
    def shape(self) -> tuple[Any, Any]:
        """``(rows, cols)`` (sympy expressions)."""
        return self.rows, self.cols

    def _is_scalar_shape(self) -> bool:
        return _same(self.rows, 1) and _same(self.cols, 1)

    # ------------------------------------------------------------------ arithmetic
    def _check_same_shape(self, other: Elt) -> None:
        if not (_same(self.rows, other.rows) and _same(self.cols, other.cols)):
            raise ValueError(f"shapes differ: {self.shape} and {other.shape}")

    def __add__(self, other: Any) -> Elt:
        if not isinstance(other, Elt):
            return NotImplemented
        self._check_same_shape(other)
        out = dict(self.terms)
        for w, c in other.terms.items():
            out[w] = out.get(w, sympy.Integer(0)) + c
        return Elt(self.alg, self.rows, self.cols, out)

    def __neg__(self) -> Elt:
        return Elt(self.alg, self.rows, self.cols, {w: -c for w, c in self.terms.items()})

    def __sub__(self, other: Any) -> Elt:
        if not isinstance(other, Elt):
            return NotImplemented
        return self + (-other)

    def __mul__(self, other: Any) -> Elt:
        if not isinstance(other, Elt):
            c = sympy.sympify(other)
            return Elt(self.alg, self.rows, self.cols, {w: k * c for w, k in self.terms.items()})
        if not _same(self.cols, other.rows):
            if self._is_scalar_shape():
                return other * self.scalar()
            if other._is_scalar_shape():
                return self * other.scalar()
            raise ValueError(f"shapes do not match for a product: {self.shape} times {other.shape}")
        out: dict[tuple[Letter, ...], Any] = {}
        for w1, c1 in self.terms.items():
            for w2, c2 in other.terms.items():
                w = w1 + w2
                out[w] = out.get(w, sympy.Integer(0)) + c1 * c2
        return Elt(self.alg, self.rows, other.cols, out)

    def __rmul__(self, other: Any) -> Elt:
        return self * other

    def __truediv__(self, other: Any) -> Elt:
        return self * (1 / sympy.sympify(other))

    @property
    def T(self) -> Elt:
        """The transpose."""
        return Elt(self.alg, self.cols, self.rows, {_transpose_word(w): c for w, c in self.terms.items()})

    def inv(self) -> Elt:
        """The inverse of a single word (invertible atoms: reversed inverses; any other square
        word ``w``: the letter ``(w)^{-1}``) or of a nonzero multiple of the identity."""
        if not _same(self.rows, self.cols) or len(self.terms) != 1:
            raise ValueError("only a single square word has an inverse here; name a sum as a new symbol")
        ((word, c),) = self.terms.items()
        if not word:
            return Elt(self.alg, self.rows, self.cols, {(): 1 / c})
        if all(x.atom is not None and x.atom.invertible for x in word):
            inv = tuple(Letter(x.atom, x.transposed, not x.inverse) for x in reversed(word))
        elif len(word) == 1 and word[0].atom is None:
            inv = word[0].body
        else:
            inv = (Letter(body=word, inverse=True),)
        return Elt(self.alg, self.rows, self.cols, {inv: 1 / c})

    def trace(self) -> Elt:
        """The trace, a ``1 x 1`` element (cyclic and transposition invariance are used)."""
        if not _same(self.rows, self.cols):
            raise ValueError("trace of a non-square element")
        total = sympy.Integer(0)
        for w, c in self.normal().terms.items():
            total += c * self.alg._trace_word(w, self.rows)
        return Elt(self.alg, 1, 1, {(): total})

    # ------------------------------------------------------------------ normal form
    def normal(self) -> Elt:
        """The normal form (every relation applied, ``1 x 1`` subwords as scalars)."""
        out: dict[tuple[Letter, ...], Any] = {}
        for w, c in self.terms.items():
            for w2, c2 in self.alg.normal_word(w).items():
                out[w2] = out.get(w2, sympy.Integer(0)) + c * c2
        out = {w: sympy.cancel(sympy.expand(c)) for w, c in out.items()}
        return Elt(self.alg, self.rows, self.cols, {w: out[w] for w in sorted(out, key=_word_key)})

    @property
    def is_zero(self) -> bool:
        """Whether the normal form has no terms (coefficients as canonical rational functions)."""
        return not self.normal().terms

    def scalar(self) -> Any:
        """A ``1 x 1`` element as a commutative sympy expression."""
        if not self._is_scalar_shape():
            raise ValueError(f"not a 1 x 1 element: shape {self.shape}")
        nf = self.normal()
        if any(w for w in nf.terms):
            raise ValueError("a 1 x 1 element did not reduce to a scalar")  # pragma: no cover
        return nf.terms.get((), sympy.Integer(0))

    def atoms(self) -> set[Atom]:
        """The matrix symbols occurring in the element."""
        out: set[Atom] = set()
        for w in self.terms:
            out |= _atoms_of_word(w)
        return out

    def latex(self) -> str:
        """LaTeX of the element (scalars named by their words)."""
        if not self.terms:
            return "0"
        names = {
            s: (r"\operatorname{tr}\left(" + _word_latex(w) + r"\right)" if k == "trace" else _word_latex(w))
            for s, (k, w) in self.alg.scalars.items()
        }
        one = "1" if self._is_scalar_shape() else "I"
        parts = []
        for w, c in self.terms.items():
            word = _word_latex(w) if w else one
            if c in (1, -1):
                parts.append(("+" if c == 1 else "-", word))
                continue
            if isinstance(c, sympy.Add) and (w or one == "I"):
                cl, sign = r"\left(" + sympy.latex(c, symbol_names=names) + r"\right)", "+"
            else:
                cl, sign = sympy.latex(c, symbol_names=names), "+"
                if cl.startswith("-"):  # textually: "- a + b" is "-" followed by "a + b"
                    cl, sign = cl[1:].lstrip(), "-"
            parts.append((sign, cl if (not w and one == "1") else f"{cl}\\, {word}"))
        out = ("-" if parts[0][0] == "-" else "") + parts[0][1]
        for sign, p in parts[1:]:
            out += f" {sign} {p}"
        return out

    def __repr__(self) -> str:
        return self.latex()


def block_product(X: Sequence[Sequence[Elt]], Y: Sequence[Sequence[Elt]]) -> list[list[Elt]]:
    """The product of two block matrices of :class:`Elt` (lists of rows of blocks).

    >>> n = sympy.Symbol("n")
    >>> A = FreeAlgebra(); c = A.matrix("c", n, 1)
    >>> Z = block_product([[A.eye(n), c], [A.zero(1, n), A.eye(1)]], [[A.eye(n), -c], [A.zero(1, n), A.eye(1)]])
    >>> [[b.normal().latex() for b in row] for row in Z]
    [['I', '0'], ['0', '1']]
    """
    out = []
    for row in X:
        new = []
        for j in range(len(Y[0])):
            acc = row[0] * Y[0][j]
            for k in range(1, len(row)):
                acc = acc + row[k] * Y[k][j]
            new.append(acc)
        out.append(new)
    return out
