r"""Typed construction records: what a network remembers about the theorem that built it.

Every construction stores one frozen record in :attr:`ReLUNetwork.construction
<symtrunc.network.ReLUNetwork>`: the theorem, the label matrix and the theorem's own parameters
(collapse order and cone steps, hypotheses, ``β``, ``c``, ...), with exact numbers as ``fmpq``.
The record is the one place that knows

* the JSON form (:meth:`ConstructionRecord.to_json` / :func:`record_from_json`, the
  ``"construction"`` object of a network file, field names unchanged since the first format, so
  older files load),
* the parameter counts the papers state for the construction
  (:meth:`ConstructionRecord.parameter_counts`),
* the recipe of each cone layer (:meth:`RationalRecipe.matrix`, :meth:`PaperRecipe.matrix`),
* and a short description (:meth:`ConstructionRecord.describe`, used by ``symtrunc info`` and
  the derivation report).

Examples
--------
>>> rec = record_from_json({
...     "theorem": "Theorem 5.2", "method": "sls", "cone": "rational", "hyperplanes": "search",
...     "order": ["a", "b"], "label_matrix": [["1", "0"], ["0", "1"]],
...     "steps": [{"class": "a", "base_point": ["7/4", "5/4"], "normal": ["-1", "1"], "cone": "rational",
...                "epsilon": "1", "scale": "1", "t": "3/4", "offset": "-1/2"},
...               {"class": "b", "base_point": ["5/4", "7/4"], "normal": ["1", "-1"], "cone": "rational",
...                "epsilon": "1", "scale": "1", "t": "3/4", "offset": "-1/2"}]})
>>> type(rec).__name__, rec.order, rec.steps[0].t
('SLSRecord', ('a', 'b'), 3/4)
>>> rec.steps[0].recipe.matrix(rec.steps[0].normal)
[ 0, 1]
[-1, 2]
>>> [(c.formula, c.value) for c in rec.parameter_counts()]
[('Q(M+2)', 8), ('Q(M+1)^2', 18)]
>>> record_from_json(rec.to_json()) == rec
True
>>> rec["order"]                 # read-only mapping view of the JSON form, for older code
['a', 'b']
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

import flint

from symtrunc.errors import DataError, FormatError
from symtrunc.exact.matrix import identity
from symtrunc.exact.rational import to_q

__all__ = [
    "ConeRecipe",
    "ConeStep",
    "ClusteredRecord",
    "CollapseRecord",
    "ConfigurationRecord",
    "ConstructionRecord",
    "DeepL2Record",
    "ImportedRecord",
    "NonseparableRecord",
    "PaperCount",
    "PaperRecipe",
    "RationalRecipe",
    "SLSRecord",
    "ShallowLocalRecord",
    "ShallowUpperRecord",
    "TwoLayerRecord",
    "is_label",
    "UnrecognizedRecord",
    "as_rows",
    "as_vector",
    "cone_recipe_from_json",
    "record_from_json",
]

#: A vector of exact rationals (immutable).
Vector = tuple[flint.fmpq, ...]
#: A matrix of exact rationals as a tuple of rows (immutable).
Matrix = tuple[Vector, ...]


def as_vector(A: flint.fmpq_mat) -> Vector:
    """The entries of ``A`` (row-major) as an immutable :data:`Vector`."""
    return tuple(A.entries())


def as_rows(A: flint.fmpq_mat) -> Matrix:
    """The rows of ``A`` as an immutable :data:`Matrix`.

    >>> as_rows(flint.fmpq_mat(2, 2, [1, 2, 3, flint.fmpq(1, 2)]))
    ((1, 2), (3, 1/2))
    """
    n = A.ncols()
    values = A.entries()
    return tuple(tuple(values[i * n : (i + 1) * n]) for i in range(A.nrows()))


# ----------------------------------------------------------------------------- reading JSON values
def _q(value: Any, where: str) -> flint.fmpq:
    if value is None:
        raise FormatError(f"construction metadata, {where}: missing")
    try:
        return to_q(value)
    except (DataError, TypeError) as e:
        raise FormatError(f"construction metadata, {where}: {e}") from None


def _opt_q(d: Mapping[str, Any], key: str, where: str) -> flint.fmpq | None:
    return None if d.get(key) is None else _q(d[key], f"{where}{key}")


def _vector(value: Any, where: str) -> Vector:
    if not isinstance(value, (list, tuple)):
        raise FormatError(f"construction metadata, {where}: expected a list of numbers")
    return tuple(_q(v, where) for v in value)


def _matrix(value: Any, where: str) -> Matrix:
    if not isinstance(value, (list, tuple)) or not all(isinstance(r, (list, tuple)) for r in value):
        raise FormatError(f"construction metadata, {where}: expected a list of rows")
    rows = tuple(_vector(r, where) for r in value)
    if len({len(r) for r in rows}) > 1:
        raise FormatError(f"construction metadata, {where}: the rows have different lengths")
    return rows


def is_label(value: Any) -> bool:
    """Whether a JSON value is a class label: a string, an integer (booleans are integers too)
    or a finite float.

    >>> is_label("a"), is_label(True), is_label(0.5), is_label(float("nan")), is_label([1])
    (True, True, True, False, False)
    """
    return isinstance(value, (str, int)) or (isinstance(value, float) and math.isfinite(value))


def _label(value: Any, where: str) -> Any:
    if not is_label(value):
        raise FormatError(f"construction metadata, {where}: a class label is a string, a number or a boolean")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise FormatError(f"construction metadata, {where}: expected a string")
    return value


def _opt_text(d: Mapping[str, Any], key: str, where: str = "") -> str | None:
    return None if d.get(key) is None else _text(d[key], f"{where}{key}")


def _annotation(value: Any) -> str | None:
    """A float annotation (angles of the paper cone): kept as its text."""
    return None if value is None else str(value)


def _freeze(value: Any) -> Any:
    """A JSON value made immutable: objects become read-only mappings, lists tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    """The inverse of :func:`_freeze`: plain ``dict`` and ``list`` again."""
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


def _strs(values: Sequence[flint.fmpq]) -> list[str]:
    return [str(v) for v in values]


def _str_rows(rows: Matrix) -> list[list[str]]:
    return [_strs(r) for r in rows]


def _column(values: Vector) -> flint.fmpq_mat:
    return flint.fmpq_mat(len(values), 1, list(values))


# ----------------------------------------------------------------------------- parameter counts
@dataclass(frozen=True)
class PaperCount:
    """A parameter count that a paper states (or the reference notes derive) for a construction.

    Attributes
    ----------
    formula : str
        The formula in the paper's letters (ASCII), e.g. ``"Q(M+2)"``.
    value : int
        Its value for this network's ``M``, ``Q`` and ``L``.
    counts : str
        What is counted.
    source : str
        Where the count comes from.
    kind : {"description", "weights", "total"}
        ``"weights"`` and ``"total"`` compare with :meth:`ReLUNetwork.parameter_count
        <symtrunc.network.ReLUNetwork.parameter_count>` (weights, weights plus biases);
        ``"description"`` counts the numbers that parametrize the construction.
    """

    formula: str
    value: int
    counts: str
    source: str
    kind: str


# ----------------------------------------------------------------------------- cone recipes
@dataclass(frozen=True)
class RationalRecipe:
    """The rational cone ``W^(l) = s (ε I + u hᵀ)`` (:func:`symtrunc.geometry.cones.rational_cone`),
    or ``W^(l) = s (ε diag(d) + u hᵀ)`` with a recorded positive ``diagonal`` ``d``.

    With ``d`` the cone is the rational cone of the data in the coordinates ``x'_j = d_j x_j``
    (``ε I + u h'ᵀ`` there, ``h'_j = h_j / d_j``), written in the original coordinates, where the
    normal ``h``, the base point and the offset are recorded
    (:mod:`symtrunc.constructions.float_robust`). ``None`` marks a parameter missing from an older
    file; files without ``d`` (all files before it) read ``d = (1, …, 1)``.
    """

    epsilon: flint.fmpq | None
    scale: flint.fmpq | None
    diagonal: Vector | None = None
    name: ClassVar[str] = "rational"

    def matrix(self, normal: Vector) -> flint.fmpq_mat | None:
        """``W^(l)`` recomputed from the recorded parameters (``None`` if one is missing).

        >>> RationalRecipe(flint.fmpq(1, 2), flint.fmpq(2)).matrix((flint.fmpq(1), flint.fmpq(-1)))
        [3, -2]
        [2, -1]
        >>> RationalRecipe(flint.fmpq(1, 2), flint.fmpq(2), (flint.fmpq(1, 4), flint.fmpq(2))).matrix(
        ...     (flint.fmpq(1), flint.fmpq(-1)))
        [9/4, -2]
        [  2,  0]
        """
        if self.epsilon is None or self.scale is None:
            return None
        M, c = len(normal), self.scale
        d = self.diagonal if self.diagonal is not None else (flint.fmpq(1),) * M
        if len(d) != M:
            return None
        W = flint.fmpq_mat(M, M, [c * v for _ in range(M) for v in normal])
        for i in range(M):
            W[i, i] += c * self.epsilon * d[i]
        return W

    def to_json(self) -> dict[str, Any]:
        """The step keys of this recipe."""
        out: dict[str, Any] = {
            k: str(v) for k, v in (("epsilon", self.epsilon), ("scale", self.scale)) if v is not None
        }
        if self.diagonal is not None:
            out["diagonal"] = _strs(self.diagonal)
        return out

    def describe(self) -> str:
        """``"rational cone, epsilon = 1, scale = 1"`` (and ``d`` when recorded).

        >>> RationalRecipe(flint.fmpq(1, 2), flint.fmpq(2), (flint.fmpq(1, 4), flint.fmpq(2))).describe()
        "rational cone s (epsilon diag(d) + u h^T), epsilon = 1/2, scale = 2, d_j in [1/4, 2] (the rational cone in the coordinates x'_j = d_j x_j)"
        """
        if not self.diagonal:
            return f"rational cone, epsilon = {self.epsilon}, scale = {self.scale}"
        lo, hi = min(self.diagonal), max(self.diagonal)
        return (
            f"rational cone s (epsilon diag(d) + u h^T), epsilon = {self.epsilon}, scale = {self.scale}, "
            f"d_j in [{lo}, {hi}] (the rational cone in the coordinates x'_j = d_j x_j)"
        )


@dataclass(frozen=True)
class PaperRecipe:
    """The paper's cone ``W^(l) = W_θ R`` with ``W_θ = λ I + (1 - λ) u uᵀ / M`` and the Householder
    reflection ``R = I - 2 v vᵀ / vᵀv``, ``v = h - s u`` (:func:`symtrunc.geometry.cones.paper_cone`).

    ``lam`` and ``householder_s`` are exact; ``theta`` and ``theta_min`` are float annotations
    (text). ``None`` marks a parameter missing from an older file.
    """

    lam: flint.fmpq | None
    householder_s: flint.fmpq | None
    theta: str | None = None
    theta_min: str | None = None
    lambda_halvings: int | None = None
    note: str | None = None
    name: ClassVar[str] = "paper"

    def matrix(self, normal: Vector) -> flint.fmpq_mat | None:
        """``W^(l)`` recomputed from ``λ``, ``s`` and ``h`` (``None`` if one is missing).

        >>> PaperRecipe(flint.fmpq(1, 2), flint.fmpq(0)).matrix((flint.fmpq(0), flint.fmpq(0)))
        [3/4, 1/4]
        [1/4, 3/4]
        """
        if self.lam is None or self.householder_s is None:
            return None
        M, lam = len(normal), self.lam
        v = _column(normal) - self.householder_s * _column((flint.fmpq(1),) * M)
        vv = (v.transpose() * v)[0, 0]
        R = identity(M) if vv == 0 else identity(M) - (2 / vv) * (v * v.transpose())
        average = flint.fmpq_mat(M, M, [flint.fmpq(1, M)] * (M * M))
        return (lam * identity(M) + (1 - lam) * average) * R

    def to_json(self) -> dict[str, Any]:
        """The step keys of this recipe, in the order the constructions write them."""
        out: dict[str, Any] = {}
        for key, value in (
            ("theta", self.theta),
            ("theta_min", self.theta_min),
            ("lambda", None if self.lam is None else str(self.lam)),
            ("lambda_halvings", self.lambda_halvings),
            ("householder_s", None if self.householder_s is None else str(self.householder_s)),
            ("note", self.note),
        ):
            if value is not None:
                out[key] = value
        return out

    def describe(self) -> str:
        """``"paper cone W_theta R, lambda = 1/2, theta ~ 2.214"``."""
        try:
            theta = f"{float(self.theta):.4g}" if self.theta is not None else "?"
        except ValueError:
            theta = self.theta or "?"
        return f"paper cone W_theta R, lambda = {self.lam}, theta ~ {theta}"


ConeRecipe = RationalRecipe | PaperRecipe


def cone_recipe_from_json(name: Any, parameters: Mapping[str, Any], where: str = "") -> ConeRecipe:
    """The recipe ``name`` (``"rational"`` or ``"paper"``) with its parameters from JSON.

    >>> cone_recipe_from_json("rational", {"epsilon": "1/2", "scale": "2"})
    RationalRecipe(epsilon=1/2, scale=2, diagonal=None)
    >>> cone_recipe_from_json("round", {})
    Traceback (most recent call last):
    ...
    symtrunc.errors.FormatError: construction metadata, cone: unknown cone recipe 'round'
    """
    if name == "rational":
        diagonal = parameters.get("diagonal")
        d = None if diagonal is None else _vector(diagonal, where + "diagonal")
        if d is not None and not all(v > 0 for v in d):
            raise FormatError(f"construction metadata, {where}diagonal: the entries must be positive")
        return RationalRecipe(_opt_q(parameters, "epsilon", where), _opt_q(parameters, "scale", where), d)
    if name == "paper":
        halvings = parameters.get("lambda_halvings")
        if halvings is not None and (isinstance(halvings, bool) or not isinstance(halvings, int)):
            raise FormatError(f"construction metadata, {where}lambda_halvings: expected an integer")
        return PaperRecipe(
            _opt_q(parameters, "lambda", where),
            _opt_q(parameters, "householder_s", where),
            _annotation(parameters.get("theta")),
            _annotation(parameters.get("theta_min")),
            halvings,
            _opt_text(parameters, "note", where),
        )
    raise FormatError(f"construction metadata, {where}cone: unknown cone recipe {name!r}")


# ----------------------------------------------------------------------------- cone steps
@dataclass(frozen=True)
class ConeStep:
    """One collapse step: hidden layer ``l`` collapses class ``label`` onto its base point ``p_l``.

    Attributes
    ----------
    label
        The class collapsed at this layer (JSON key ``"class"``).
    base_point, normal : tuple of fmpq
        ``p_l`` and the normal ``h_l`` of the separating hyperplane (pointing forward).
    recipe : RationalRecipe or PaperRecipe
        The cone ``W^(l)`` and its parameters (JSON key ``"cone"`` and the parameter keys).
    t : fmpq or None
        ``p_l = t_l x̄ + (1 - t_l) x̄_{0,l}``.
    offset : fmpq or None
        ``⟨h_l, p_l⟩`` (Theorem 5.2).
    mu_over_delta_squared : fmpq or None
        The realised ``(μ_l / δ)²`` of Proposition 4.1, exact (``μ_l / δ`` itself is in general
        irrational; JSON key ``"mu_over_delta_squared"``).
    mu_over_delta_target : fmpq or None
        The ``μ_l / δ`` that was asked for; ``t_l`` is its rational approximation, so the
        realised value differs from it (files written before symtrunc 0.2 stored only this,
        under the key ``"mu_over_delta"``).
    mu : str or None
        ``μ_l``, an exact symbolic number (Theorem 2.3).
    """

    label: Any
    base_point: Vector
    normal: Vector
    recipe: ConeRecipe
    t: flint.fmpq | None = None
    offset: flint.fmpq | None = None
    mu_over_delta_squared: flint.fmpq | None = None
    mu_over_delta_target: flint.fmpq | None = None
    mu: str | None = None

    @property
    def p(self) -> flint.fmpq_mat:
        """``p_l`` as an ``(M, 1)`` column."""
        return _column(self.base_point)

    @property
    def h(self) -> flint.fmpq_mat:
        """``h_l`` as an ``(M, 1)`` column."""
        return _column(self.normal)

    @property
    def hyperplane_offset(self) -> flint.fmpq:
        """``c`` with ``H_l = {x : ⟨h_l, x⟩ = c}``: the recorded offset, else ``⟨h_l, p_l⟩``."""
        if self.offset is not None:
            return self.offset
        return sum((a * b for a, b in zip(self.normal, self.base_point)), flint.fmpq(0))

    def to_json(self) -> dict[str, Any]:
        """The step object of the network file."""
        out: dict[str, Any] = {
            "class": self.label,
            "base_point": _strs(self.base_point),
            "normal": _strs(self.normal),
            "cone": self.recipe.name,
            **self.recipe.to_json(),
        }
        for key, value in (
            ("t", self.t),
            ("offset", self.offset),
            ("mu_over_delta_squared", self.mu_over_delta_squared),
            ("mu_over_delta_target", self.mu_over_delta_target),
        ):
            if value is not None:
                out[key] = str(value)
        if self.mu is not None:
            out["mu"] = self.mu
        return out

    @classmethod
    def from_json(cls, d: Any, k: int, cone: Any = None) -> ConeStep:
        """Read step ``k`` (1-based); ``cone`` is the record's recipe when the step names none."""
        where = f"step {k}: "
        if not isinstance(d, Mapping):
            raise FormatError(f"construction metadata, step {k}: expected an object")
        for key in ("class", "base_point", "normal"):
            if key not in d:
                raise FormatError(f"construction metadata, step {k}: no {key!r}")
        p, h = _vector(d["base_point"], where + "base_point"), _vector(d["normal"], where + "normal")
        if len(p) != len(h):
            raise FormatError(f"construction metadata, step {k}: base point and normal have different lengths")
        recipe = cone_recipe_from_json(d.get("cone", cone), d, where)
        if isinstance(recipe, RationalRecipe) and recipe.diagonal is not None and len(recipe.diagonal) != len(h):
            raise FormatError(f"construction metadata, step {k}: diagonal and normal have different lengths")
        return cls(
            _label(d["class"], where + "class"),
            p,
            h,
            recipe,
            _opt_q(d, "t", where),
            _opt_q(d, "offset", where),
            _opt_q(d, "mu_over_delta_squared", where),
            _opt_q(d, "mu_over_delta_target", where)
            if "mu_over_delta_target" in d
            else _opt_q(d, "mu_over_delta", where),  # the key of files before 0.2: the target
            None if d.get("mu") is None else str(d["mu"]),
        )

    def describe(self, k: int) -> str:
        """One line: what step (hidden layer) ``k`` does and with which cone."""
        extra = "".join(
            f", {name} = {v}"
            for name, v in (("t", self.t), ("(mu/delta)^2", self.mu_over_delta_squared), ("mu", self.mu))
            if v is not None
        )
        return f"collapses class {self.label} onto p_{k}{extra}; {self.recipe.describe()}"


# ----------------------------------------------------------------------------- records
@dataclass(frozen=True, kw_only=True)
class ConstructionRecord(ABC):
    """Base of the records: the theorem and the label matrix (column ``j``: target of class ``j``).

    Compatibility: ``record[key]``, ``record.get(key)``, ``key in record`` and ``record.keys()``
    read the JSON form (:meth:`to_json`), for code written when the construction was a dict
    (e.g. ``net.construction["order"]``); new code uses the typed fields.
    """

    theorem: str = ""
    label_matrix: Matrix | None = None
    METHOD: ClassVar[str] = ""

    @property
    def method(self) -> str:
        """The construction's name (the JSON key ``"method"``)."""
        return self.METHOD

    @abstractmethod
    def to_json(self) -> dict[str, Any]:
        """The ``"construction"`` object of a network file."""

    def check_fits(self, input_dim: int, output_dim: int) -> None:
        """Raise :class:`~symtrunc.errors.FormatError` unless the record fits a network with these
        input and output dimensions (the label matrix is ``d_L x d_L``).

        >>> ShallowUpperRecord(beta=flint.fmpq(1), label_matrix=((flint.fmpq(1),),)).check_fits(2, 2)
        Traceback (most recent call last):
        ...
        symtrunc.errors.FormatError: construction metadata: the label matrix is 1 x 1 but the network has 2 outputs
        """
        n = len(self.label_matrix) if self.label_matrix is not None else output_dim
        if n != output_dim:
            raise FormatError(
                f"construction metadata: the label matrix is {n} x {n} but the network has {output_dim} outputs"
            )

    def parameter_counts(self) -> tuple[PaperCount, ...]:
        """The parameter counts the paper states for this construction (none by default)."""
        return ()

    def describe(self) -> tuple[tuple[str, str], ...]:
        """``(key, text)`` lines describing the recorded recipe (plain text without Greek letters, for
        the terminal and LaTeX alike; the theorem is :attr:`theorem`)."""
        return (("method", self.method),) if self.method else ()

    def _head(self) -> dict[str, Any]:
        return {**({"theorem": self.theorem} if self.theorem else {}), "method": self.method}

    def _labels_json(self) -> dict[str, Any]:
        return {} if self.label_matrix is None else {"label_matrix": _str_rows(self.label_matrix)}

    # read-only mapping view of to_json(), for compatibility with dict-era code
    def __getitem__(self, key: str) -> Any:
        return self.to_json()[key]

    def get(self, key: str, default: Any = None) -> Any:
        """``to_json().get(key, default)`` (compatibility)."""
        return self.to_json().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.to_json()

    def keys(self) -> Iterator[str]:
        """The JSON keys (compatibility; ``dict(record)`` is ``record.to_json()``)."""
        return iter(self.to_json())


def _common(d: Mapping[str, Any]) -> dict[str, Any]:
    """``theorem`` and ``label_matrix`` from a JSON object."""
    theorem = d.get("theorem", "")
    label_matrix = None if d.get("label_matrix") is None else _matrix(d["label_matrix"], "label_matrix")
    if label_matrix is not None and any(len(r) != len(label_matrix) for r in label_matrix):
        raise FormatError("construction metadata, label_matrix: not a square matrix")
    return {"theorem": str(theorem), "label_matrix": label_matrix}


@dataclass(frozen=True, kw_only=True)
class CollapseRecord(ConstructionRecord):
    """A network of cone layers, one per class in ``order`` (then an affine output layer).

    Attributes
    ----------
    cone : str
        The cone recipe of the construction (``"rational"`` or ``"paper"``).
    steps : tuple of ConeStep
        One per hidden layer that collapses a class, in collapse order.
    """

    cone: str = "rational"
    steps: tuple[ConeStep, ...] = ()

    @property
    def order(self) -> tuple[Any, ...]:
        """Class labels in collapse order (JSON key ``"order"``)."""
        return tuple(s.label for s in self.steps)

    @property
    def input_dim(self) -> int | None:
        """``M``, the length of the base points (``None`` without steps)."""
        return len(self.steps[0].base_point) if self.steps else None

    def check_fits(self, input_dim: int, output_dim: int) -> None:
        """Also: the base points lie in the input space."""
        super().check_fits(input_dim, output_dim)
        if self.input_dim not in (None, input_dim):
            raise FormatError(
                f"construction metadata: the base points have {self.input_dim} coordinates but "
                f"the network takes {input_dim} inputs"
            )

    def to_json(self) -> dict[str, Any]:
        return {
            **self._head(),
            "cone": self.cone,
            **self._extra_head(),
            "order": list(self.order),
            **self._labels_json(),
            "steps": [s.to_json() for s in self.steps],
            **self._extra_tail(),
        }

    def _extra_head(self) -> dict[str, Any]:
        return {}

    def _extra_tail(self) -> dict[str, Any]:
        return {}

    @classmethod
    def _collapse_fields(cls, d: Mapping[str, Any]) -> dict[str, Any]:
        order, steps = d.get("order", []), d.get("steps", [])
        if not isinstance(order, list) or not isinstance(steps, list):
            raise FormatError("construction metadata: 'order' and 'steps' must be lists")
        if len(order) != len(steps):
            raise FormatError(f"construction metadata: {len(order)} classes in 'order' but {len(steps)} steps")
        cone = d.get("cone", "rational")
        parsed = tuple(ConeStep.from_json(s, k, cone) for k, s in enumerate(steps, 1))
        if [s.label for s in parsed] != order:
            raise FormatError("construction metadata: the steps do not collapse the classes in 'order'")
        if len({len(s.base_point) for s in parsed}) > 1:
            raise FormatError("construction metadata: the base points have different lengths")
        return {**_common(d), "cone": _text(cone, "cone"), "steps": parsed}

    def describe(self) -> tuple[tuple[str, str], ...]:
        lines = [("method", f"{self.method} (cone recipe: {self.cone})")]
        if self.order:
            lines.append(("order", f"{' -> '.join(map(str, self.order))} (one hidden layer each)"))
        lines += self._describe_extra()
        lines += [(f"step {k}", s.describe(k)) for k, s in enumerate(self.steps, 1)]
        return tuple(lines)

    def _describe_extra(self) -> list[tuple[str, str]]:
        return []


@dataclass(frozen=True, kw_only=True)
class SLSRecord(CollapseRecord):
    """Theorem 5.2 of arXiv 2405.07098 (sequentially linearly separable data).

    ``hyperplanes`` says where the normals came from: ``"search"``, ``"imposed order"``,
    ``"user"`` or ``"robust float32"`` / ``"robust float64"``
    (:mod:`symtrunc.constructions.float_robust`).
    """

    hyperplanes: str | None = None
    METHOD: ClassVar[str] = "sls"

    def _extra_head(self) -> dict[str, Any]:
        return {} if self.hyperplanes is None else {"hyperplanes": self.hyperplanes}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> SLSRecord:
        """Read the JSON form."""
        return cls(**cls._collapse_fields(d), hyperplanes=_opt_text(d, "hyperplanes"))

    def parameter_counts(self) -> tuple[PaperCount, ...]:
        """``Q(M+2)`` numbers ``(θ_l, h_l, t_l)`` (Theorem 5.2) and ``Q(M+1)²`` weights and biases
        of the dense network (reference notes §3.6, derived)."""
        M, Q = self.input_dim, len(self.order)
        if M is None:
            return ()
        return (
            PaperCount(
                "Q(M+2)",
                Q * (M + 2),
                "numbers (theta_l, h_l, t_l) parametrize the minimizer",
                "Theorem 5.2",
                "description",
            ),
            PaperCount(
                "Q(M+1)^2",
                Q * (M + 1) ** 2,
                "weights and biases of the dense network",
                "Theorem 5.2's widths, derived in the reference notes",
                "total",
            ),
        )

    def _describe_extra(self) -> list[tuple[str, str]]:
        where = {
            "search": "found by the exact LP search",
            "imposed order": "found by the exact LP search in the imposed order",
            "user": "given by the user, checked exactly against Definition 5.1",
        }
        for dtype in ("float32", "float64"):
            where[f"robust {dtype}"] = (
                f"chosen for {dtype} evaluation (max-margin normals in the float-error norm, short "
                "integers, in power-of-two coordinates), checked exactly against Definition 5.1"
            )
        return [] if self.hyperplanes is None else [("hyperplanes", where.get(self.hyperplanes, self.hyperplanes))]


@dataclass(frozen=True, kw_only=True)
class ClusteredRecord(CollapseRecord):
    """Proposition 4.1 of arXiv 2405.07098 (clustered data).

    ``hypotheses`` is the exact evaluation of (4.2) and (4.6) (read-only JSON);
    ``widths_shrink`` the hidden widths ``d_1..d_Q`` when they shrink below ``M``.
    """

    hypotheses: Mapping[str, Any] = field(default_factory=dict)
    widths_shrink: tuple[int, ...] | None = None
    METHOD: ClassVar[str] = "clustered"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hypotheses", _freeze(self.hypotheses))

    def _extra_head(self) -> dict[str, Any]:
        out: dict[str, Any] = {"hypotheses": _thaw(self.hypotheses)}
        if self.widths_shrink is not None:
            out["widths_shrink"] = list(self.widths_shrink)
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ClusteredRecord:
        """Read the JSON form."""
        widths = d.get("widths_shrink")
        if widths is not None and (
            not isinstance(widths, list) or not all(isinstance(w, int) and not isinstance(w, bool) for w in widths)
        ):
            raise FormatError("construction metadata, widths_shrink: expected a list of integers")
        return cls(
            **cls._collapse_fields(d),
            hypotheses=d.get("hypotheses") or {},
            widths_shrink=None if widths is None else tuple(widths),
        )

    def parameter_counts(self) -> tuple[PaperCount, ...]:
        """Corollary 4.2: ``Q(M+Q²)`` weights when the widths go straight down to ``Q``, and
        ``Q(M+Q²+Q+1)`` with biases (reference notes §3.5)."""
        M, Q = self.input_dim, len(self.order)
        if M is None:
            return ()
        return (
            PaperCount(
                "Q(M+Q^2)", Q * (M + Q * Q), "weights with widths straight down to Q", "Corollary 4.2", "weights"
            ),
            PaperCount(
                "Q(M+Q^2+Q+1)",
                Q * (M + Q * Q + Q + 1),
                "weights and biases with widths straight down to Q",
                "Corollary 4.2 with biases, derived in the reference notes",
                "total",
            ),
        )

    def _describe_extra(self) -> list[tuple[str, str]]:
        lines = []
        if self.hypotheses:
            held = [
                f"({name}) {'holds' if self.hypotheses.get(key) else 'fails'}"
                for name, key in (("4.2", "condition_4_2"), ("4.6", "condition_4_6"))
                if key in self.hypotheses
            ]
            lines.append(("hypotheses", ", ".join(held) + f", delta^2 = {self.hypotheses.get('delta_squared')}"))
        if self.widths_shrink is not None:
            lines.append(
                (
                    "widths",
                    f"d_1..d_Q = {', '.join(map(str, self.widths_shrink))} (shrinking; accepted "
                    "after the exact run-time check)",
                )
            )
        return lines


@dataclass(frozen=True, kw_only=True)
class DeepL2Record(CollapseRecord):
    """Theorem 2.3 of arXiv 2309.10639 (deep global L² minimizers, ``M = Q``).

    ``hypotheses`` is the evaluation of (2.12), (2.14), (2.52) (read-only JSON);
    ``extra_identity_layers`` counts the hidden layers ``(1, 0)`` after the ``Q`` cone layers.
    """

    hypotheses: Mapping[str, Any] = field(default_factory=dict)
    extra_identity_layers: int = 0
    METHOD: ClassVar[str] = "deep_l2"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hypotheses", _freeze(self.hypotheses))

    def _extra_head(self) -> dict[str, Any]:
        return {"hypotheses": _thaw(self.hypotheses)}

    def _extra_tail(self) -> dict[str, Any]:
        return {"extra_identity_layers": self.extra_identity_layers} if self.extra_identity_layers else {}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> DeepL2Record:
        """Read the JSON form."""
        extra = d.get("extra_identity_layers", 0)
        if isinstance(extra, bool) or not isinstance(extra, int) or extra < 0:
            raise FormatError("construction metadata, extra_identity_layers: expected an integer >= 0")
        return cls(**cls._collapse_fields(d), hypotheses=d.get("hypotheses") or {}, extra_identity_layers=extra)

    @property
    def hidden_layers(self) -> int:
        """``L``: the ``Q`` cone layers and the extra identity layers."""
        return len(self.order) + self.extra_identity_layers

    def parameter_counts(self) -> tuple[PaperCount, ...]:
        """``K = (L+1)Q(Q+1)`` weights and biases (not stated in the paper; derived in the reference
        notes)."""
        Q, L = len(self.order), self.hidden_layers
        return (
            PaperCount(
                "(L+1)Q(Q+1)",
                (L + 1) * Q * (Q + 1),
                "weights and biases, L hidden layers of width Q",
                "Theorem 2.3's widths, derived in the reference notes",
                "total",
            ),
        )

    def _describe_extra(self) -> list[tuple[str, str]]:
        if not self.extra_identity_layers:
            return []
        return [
            (
                "identity",
                f"{self.extra_identity_layers} more hidden layer(s) (1, 0) after the cone layers, "
                f"L = {self.hidden_layers}",
            )
        ]


@dataclass(frozen=True, kw_only=True)
class NonseparableRecord(ConstructionRecord):
    """Theorem 3.3 of arXiv 2504.18710 (binary data, one class inside a simplex).

    Attributes
    ----------
    cone : str
        The recipe of the cone layers after the lift.
    finish : {"cone", "sls"}
        The second cone of Theorem 3.3, or Theorem 5.2 of arXiv 2405.07098 on the lifted data.
    inner_class
        The class inside the simplex.
    simplex : tuple of rows
        Its vertices.
    apex : tuple of fmpq
        The apex of the lifted cone.
    separating_height, second_apex, second_cone
        ``finish="cone"``: the height separating the truncated classes, the second apex and its
        rational cone.
    sls_on_lifted_data : SLSRecord or None
        ``finish="sls"``: the record of the Theorem 5.2 network on the lifted truncated data.
    """

    cone: str = "rational"
    finish: str = "cone"
    inner_class: Any = None
    simplex: Matrix = ()
    apex: Vector = ()
    separating_height: flint.fmpq | None = None
    second_apex: Vector | None = None
    second_cone: ConeRecipe | None = None
    sls_on_lifted_data: SLSRecord | None = None
    METHOD: ClassVar[str] = "nonseparable"

    def to_json(self) -> dict[str, Any]:
        out = {**self._head(), "cone": self.cone}
        if self.finish == "sls":
            out["finish"] = self.finish
        out.update({"inner_class": self.inner_class, "simplex": _str_rows(self.simplex), "apex": _strs(self.apex)})
        if self.separating_height is not None:
            out["separating_height"] = str(self.separating_height)
        if self.second_apex is not None:
            out["second_apex"] = _strs(self.second_apex)
        if self.second_cone is not None:
            out["second_cone"] = self.second_cone.to_json()
        if self.sls_on_lifted_data is not None:
            out["sls_on_lifted_data"] = self.sls_on_lifted_data.to_json()
        if self.finish != "sls":
            out["finish"] = self.finish
        return {**out, **self._labels_json()}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> NonseparableRecord:
        """Read the JSON form."""
        second = d.get("second_cone")
        if second is not None and not isinstance(second, Mapping):
            raise FormatError("construction metadata, second_cone: expected an object")
        lifted = d.get("sls_on_lifted_data")
        if lifted is not None and not isinstance(lifted, Mapping):
            raise FormatError("construction metadata, sls_on_lifted_data: expected an object")
        finish = d.get("finish", "cone")
        if finish not in ("cone", "sls"):
            raise FormatError(f"construction metadata, finish: {finish!r} is not 'cone' or 'sls'")
        return cls(
            **_common(d),
            cone=_text(d.get("cone", "rational"), "cone"),
            finish=finish,
            inner_class=_label(d.get("inner_class"), "inner_class"),
            simplex=_matrix(d.get("simplex", []), "simplex"),
            apex=_vector(d.get("apex", []), "apex"),
            separating_height=_opt_q(d, "separating_height", ""),
            second_apex=None if d.get("second_apex") is None else _vector(d["second_apex"], "second_apex"),
            second_cone=None if second is None else cone_recipe_from_json("rational", second, "second_cone "),
            sls_on_lifted_data=None if lifted is None else SLSRecord.from_json(lifted),
        )

    def describe(self) -> tuple[tuple[str, str], ...]:
        simplex = "; ".join("(" + ", ".join(map(str, v)) + ")" for v in self.simplex)
        lines = [
            ("method", f"nonseparable (finish: {self.finish}, cone recipe: {self.cone})"),
            ("inner", f"class {self.inner_class!r} inside the simplex {simplex}"),
        ]
        if self.second_cone is not None:
            lines.append(("second cone", f"{self.second_cone.describe()}, separating height {self.separating_height}"))
        if self.sls_on_lifted_data is not None:
            lifted = self.sls_on_lifted_data
            lines.append(("lifted data", f"Theorem 5.2 in the order {' -> '.join(map(str, lifted.order))}"))
        return tuple(lines)


@dataclass(frozen=True, kw_only=True)
class ShallowUpperRecord(ConstructionRecord):
    """The shallow network attaining the upper bound of arXiv 2309.10370 (``b_1 = β u``)."""

    beta: flint.fmpq
    METHOD: ClassVar[str] = "shallow_upper"

    def to_json(self) -> dict[str, Any]:
        return {**self._head(), "beta": str(self.beta), **self._labels_json()}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ShallowUpperRecord:
        """Read the JSON form."""
        return cls(**_common(d), beta=_q(d.get("beta"), "beta"))

    def describe(self) -> tuple[tuple[str, str], ...]:
        return super().describe() + (("recipe", f"W_1 = R P, b_1 = beta u with beta = {self.beta}"),)


@dataclass(frozen=True, kw_only=True)
class ShallowLocalRecord(ConstructionRecord):
    """The ``M = Q`` identity-regime network with the exact optimal output layer (arXiv 2309.10370)."""

    output_bias: bool
    min_preactivation: flint.fmpq
    METHOD: ClassVar[str] = "shallow_local"

    def to_json(self) -> dict[str, Any]:
        return {
            **self._head(),
            "output_bias": self.output_bias,
            "min_preactivation": str(self.min_preactivation),
            **self._labels_json(),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ShallowLocalRecord:
        """Read the JSON form."""
        bias = d.get("output_bias")
        if not isinstance(bias, bool):
            raise FormatError("construction metadata, output_bias: expected true or false")
        return cls(
            **_common(d), output_bias=bias, min_preactivation=_q(d.get("min_preactivation"), "min_preactivation")
        )

    def describe(self) -> tuple[tuple[str, str], ...]:
        bias = (
            "with a fitted bias (the true minimum V_aff)"
            if self.output_bias
            else "with the cumulative output bias fixed to 0 (the paper's V_paper)"
        )
        return super().describe() + (
            ("output", f"the exact optimal output layer {bias}; smallest pre-activation {self.min_preactivation}"),
        )


@dataclass(frozen=True, kw_only=True)
class TwoLayerRecord(ConstructionRecord):
    """Two hidden layers for clustered data (reference notes §4): ``x̄_{0,j} ↦ s e_j - θ u``,
    ``W_2 = -c(u uᵀ - 1)``, ``b_2 = β u``, ``min_z = min_j z_j``."""

    s: flint.fmpq
    theta: flint.fmpq
    beta: flint.fmpq
    c: flint.fmpq
    min_z: flint.fmpq
    METHOD: ClassVar[str] = "two_layer"
    _KEYS: ClassVar[tuple[str, ...]] = ("s", "theta", "beta", "c", "min_z")

    def to_json(self) -> dict[str, Any]:
        return {**self._head(), **{k: str(getattr(self, k)) for k in self._KEYS}, **self._labels_json()}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> TwoLayerRecord:
        """Read the JSON form."""
        s, theta, beta, c, min_z = (_q(d.get(k), k) for k in cls._KEYS)
        return cls(**_common(d), s=s, theta=theta, beta=beta, c=c, min_z=min_z)

    def describe(self) -> tuple[tuple[str, str], ...]:
        return super().describe() + (
            ("recipe", f"s = {self.s}, theta = {self.theta}, beta = {self.beta}, c = {self.c}, min z_j = {self.min_z}"),
        )


@dataclass(frozen=True, kw_only=True)
class ConfigurationRecord(ConstructionRecord):
    """Configuration ``s`` of Theorems 2.4–2.5 of arXiv 2309.10639 (``t_l`` per layer)."""

    s: str
    t: Vector
    METHOD: ClassVar[str] = "configuration"

    def to_json(self) -> dict[str, Any]:
        return {**self._head(), "s": self.s, "t": _strs(self.t), **self._labels_json()}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ConfigurationRecord:
        """Read the JSON form."""
        return cls(**_common(d), s=_text(d.get("s"), "s"), t=_vector(d.get("t"), "t"))

    def describe(self) -> tuple[tuple[str, str], ...]:
        return super().describe() + (("recipe", f"configuration s = {self.s}, t = {', '.join(map(str, self.t))}"),)


@dataclass(frozen=True, kw_only=True)
class ImportedRecord(ConstructionRecord):
    """A network read from another format: file name, format, float type and how it was read."""

    imported_from: str
    format: str
    dtype: str
    rationalized: str

    def to_json(self) -> dict[str, Any]:
        return {
            "imported_from": self.imported_from,
            "format": self.format,
            "dtype": self.dtype,
            "rationalized": self.rationalized,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ImportedRecord:
        """Read the JSON form."""
        return cls(
            **_common(d),
            imported_from=_text(d.get("imported_from"), "imported_from"),
            format=_text(d.get("format"), "format"),
            dtype=_text(d.get("dtype"), "dtype"),
            rationalized=_text(d.get("rationalized"), "rationalized"),
        )

    def describe(self) -> tuple[tuple[str, str], ...]:
        return (("imported", f"from {self.imported_from} ({self.format}); {self.rationalized}"),)


@dataclass(frozen=True, kw_only=True)
class UnrecognizedRecord(ConstructionRecord):
    """Metadata of a construction this version does not know, kept as read-only JSON."""

    raw: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "raw", _freeze(self.raw))

    @property
    def method(self) -> str:
        """The recorded ``"method"``, if any."""
        method = self.raw.get("method")
        return "" if method is None else str(method)

    def to_json(self) -> dict[str, Any]:
        return _thaw(self.raw)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> UnrecognizedRecord:
        """Keep ``d`` (its ``theorem`` and ``label_matrix`` are read and checked)."""
        return cls(**_common(d), raw=d)

    def describe(self) -> tuple[tuple[str, str], ...]:
        return (("method", f"{self.method} (not a construction this symtrunc knows)"),) if self.method else ()


_BY_METHOD: dict[str, Any] = {
    cls.METHOD: cls
    for cls in (
        SLSRecord,
        ClusteredRecord,
        DeepL2Record,
        NonseparableRecord,
        ShallowUpperRecord,
        ShallowLocalRecord,
        TwoLayerRecord,
        ConfigurationRecord,
    )
}


def record_from_json(d: Any) -> ConstructionRecord | None:
    """The record of a ``"construction"`` JSON object (``None`` for an empty one).

    Raises
    ------
    FormatError
        If ``d`` is not an object or a field of a known construction is malformed.

    Examples
    --------
    >>> record_from_json({}) is None
    True
    >>> record_from_json({"theorem": "my own"}).theorem
    'my own'
    >>> record_from_json({"method": "two_layer", "s": "2"})
    Traceback (most recent call last):
    ...
    symtrunc.errors.FormatError: construction metadata, theta: missing
    >>> record_from_json([1])
    Traceback (most recent call last):
    ...
    symtrunc.errors.FormatError: 'construction' must be a JSON object
    """
    if not isinstance(d, Mapping):
        raise FormatError("'construction' must be a JSON object")
    if not d:
        return None
    if "theorem" in d and not isinstance(d["theorem"], str):
        raise FormatError("construction metadata, theorem: expected a string")
    method = d.get("method")
    cls = _BY_METHOD.get(method) if isinstance(method, str) else None
    if cls is not None:
        return cls.from_json(d)
    if "imported_from" in d and "method" not in d:
        return ImportedRecord.from_json(d)
    return UnrecognizedRecord.from_json(d)
