"""Exact zero-loss certificates and counterexamples."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["LayerCheck", "Certificate", "Counterexample"]


@dataclass(frozen=True)
class Counterexample:
    """The first failing check: which point, layer and neuron, and the exact value found.

    Attributes
    ----------
    check : str
        ``"zero loss"``, ``"collapse sign"``, ``"identity sign"``, ``"collapse point"``, ...
    point : int
        Row index of the point in the data.
    label : Any
        Its class label.
    layer : int
        1-based layer index (``L`` is the output layer).
    neuron : int
        0-based neuron (row) index.
    value : str
        Exact value found (``"p/q"``).
    expected : str
        What the theorem requires.
    """

    check: str
    point: int
    label: Any
    layer: int
    neuron: int
    value: str
    expected: str

    def __str__(self) -> str:
        return (
            f"{self.check} fails at point {self.point} (class {self.label!r}), layer {self.layer}, "
            f"neuron {self.neuron}: value {self.value}, expected {self.expected}"
        )


@dataclass(frozen=True)
class LayerCheck:
    """What was proved about one layer.

    Attributes
    ----------
    layer : int
        1-based layer index.
    kind : str
        ``"truncation"`` (hidden) or ``"output"``.
    collapses : Any
        Label of the class collapsed by this layer (``None`` if none is expected).
    collapsed_points : int
        Points whose pre-activations were checked ``≤ 0`` (collapsed to the base point).
    identity_points : int
        Points whose pre-activations were checked ``≥ 0`` (ReLU acts as the identity).
    fixed_base_points : tuple
        Labels of earlier classes whose truncated representative was checked to equal their
        base point after this layer.
    """

    layer: int
    kind: str
    collapses: Any = None
    collapsed_points: int = 0
    identity_points: int = 0
    fixed_base_points: tuple = ()


@dataclass(frozen=True)
class Certificate:
    """An exact proof that a network interpolates labeled data.

    Attributes
    ----------
    zero_loss : bool
        Always ``True`` (a failed check raises instead).
    n_points, input_dim, n_classes : int
    widths : tuple of int
    invariants_checked : bool
        Whether the layer invariants of the construction (order, base points) were checked.
    layers : tuple of LayerCheck
    costs : dict
        Exact costs (strings ``"p/q"``): ``half_squared`` (½‖X^(L) − Y^ext‖²),
        ``class_weighted`` (C_N), ``class_weighted_sqrt`` (√C_N), ``mean_squared``.
    theorem : str
        The theorem the network was built by (from its metadata), if any.
    method : str
        ``"exact"``.
    """

    zero_loss: bool
    n_points: int
    input_dim: int
    n_classes: int
    widths: tuple[int, ...]
    invariants_checked: bool
    layers: tuple[LayerCheck, ...]
    costs: dict[str, str]
    theorem: str = ""
    method: str = "exact"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (format ``symtrunc.certificate``, version 1)."""
        d = asdict(self)
        d["layers"] = [asdict(layer) for layer in self.layers]
        d["widths"] = list(self.widths)
        for layer in d["layers"]:
            layer["fixed_base_points"] = list(layer["fixed_base_points"])
        return {"format": "symtrunc.certificate", "version": 1, **d}

    def table(self) -> str:
        """A plain-text per-layer table.

        >>> c = Certificate(True, 8, 2, 2, (2, 2, 2, 2), True,
        ...                 (LayerCheck(1, "truncation", "a", 4, 4),), {"half_squared": "0"})
        >>> print(c.table())
        layer  kind        collapses  collapsed  identity  base points fixed
            1  truncation  a                  4         4  -
        """
        lines = ["layer  kind        collapses  collapsed  identity  base points fixed"]
        for r in self.layers:
            fixed = ", ".join(map(str, r.fixed_base_points)) or "-"
            coll = "-" if r.collapses is None else str(r.collapses)
            lines.append(
                f"{r.layer:5d}  {r.kind:<10}  {coll:<9}  {r.collapsed_points:9d}  "
                f"{r.identity_points:8d}  {fixed}"
            )
        return "\n".join(lines)
