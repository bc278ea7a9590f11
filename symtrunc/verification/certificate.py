"""Exact zero-loss certificates and counterexamples.

A :class:`Certificate` is returned only when every check passed (a failed check raises
:class:`~symtrunc.errors.VerificationError` with a :class:`Counterexample`), and it names what it
speaks about: the SHA-256 of the network's function and of the exact data
(:mod:`symtrunc.verification.digest`) and the target of every class. Its JSON form
(:meth:`Certificate.to_dict`, format ``symtrunc.certificate``) reads back with
:meth:`Certificate.from_dict`, so a saved certificate can be re-checked against files
(:func:`symtrunc.verification.recheck.recheck_certificate`, ``symtrunc verify-certificate``).

>>> c = Certificate(True, 8, 2, 2, (2, 2, 2, 2), True,
...                 (LayerCheck(1, "truncation", "a", 4, 4),), {"half_squared": "0"},
...                 network_sha256="ab" * 32, data_sha256="cd" * 32, targets=(("a", ("1", "0")),))
>>> Certificate.from_dict(c.to_dict()) == c
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from symtrunc.errors import FormatError
from symtrunc.verification.digest import DATA_DIGEST_VERSION, digest_version

__all__ = ["LayerCheck", "Certificate", "Counterexample", "CERTIFICATE_FORMAT", "CERTIFICATE_VERSION", "ZERO_COSTS"]

CERTIFICATE_FORMAT = "symtrunc.certificate"
CERTIFICATE_VERSION = 2  # 2: names its data digest format (version 1 certificates use data digest 1)


#: :func:`symtrunc.loss.cost_table` of a network with zero loss: every output equals its target exactly
ZERO_COSTS = {"half_squared": "0", "class_weighted": "0", "class_weighted_sqrt": "0", "mean_squared": "0"}


@dataclass(frozen=True)
class Counterexample:
    """The first failing check: which point, layer and neuron, and the exact value found.

    Attributes
    ----------
    check : str
        ``"zero loss"``, ``"collapse sign"`` or ``"identity sign"``.
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
        ``"truncation"`` (hidden ReLU layer), ``"affine"`` (hidden identity layer) or ``"output"``.
    collapses : Any
        Label of the class collapsed by this layer (``None`` if none).
    collapsed_points : int
        Points whose pre-activations were checked ``≤ 0`` (collapsed to the base point).
    identity_points : int
        Points whose pre-activations were checked ``≥ 0`` (ReLU acts as the identity).
    fixed_base_points : tuple
        Labels of earlier classes whose truncated representative was checked to equal their
        base point after this layer (:func:`~symtrunc.verification.collapse.fixed_base_points`).
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

    A returned certificate *is* the success: every check it lists passed in exact arithmetic
    (failures raise :class:`~symtrunc.errors.VerificationError` instead of returning).

    Attributes
    ----------
    zero_loss : bool
        Always ``True``; kept for API compatibility. Asserting it tests nothing: that a
        certificate was returned at all is the statement.
    n_points, input_dim, n_classes : int
    widths : tuple of int
    invariants_checked : bool
        Whether the collapse structure was proved: the layers collapse one class per hidden
        layer (read off the layers, :mod:`symtrunc.verification.collapse`), every point of that
        class has pre-activations ``≤ 0`` there and every remaining point ``≥ 0``.
    layers : tuple of LayerCheck
    costs : dict
        Exact costs (strings ``"p/q"``): ``half_squared`` (½‖X^(L) − Y^ext‖²),
        ``class_weighted`` (C_N), ``class_weighted_sqrt`` (√C_N), ``mean_squared``.
    theorem : str
        Informational label a caller may set (how the network was built); verification never
        sets it, and it is no part of the proof.
    method : str
        ``"exact"`` or ``"certified"``.
    extra : dict
        Statistics of the method (certified: points certified by floats, patterns, chunks, ...).
    network_sha256 : str
        SHA-256 of the network's layers and classes (:func:`~symtrunc.verification.digest.network_sha256`).
    data_sha256 : str
        SHA-256 of the exact points and labels (:func:`~symtrunc.verification.digest.data_sha256`).
    targets : tuple of (label, tuple of str)
        The target vector each class was checked against (exact strings), in class order.
    data_digest_version : int
        The format of ``data_sha256`` (:data:`~symtrunc.verification.digest.DATA_DIGEST_VERSION`;
        1 in certificates of version 1, which are re-checked with that format).
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
    network_sha256: str = ""
    data_sha256: str = ""
    targets: tuple[tuple[Any, tuple[str, ...]], ...] = ()
    data_digest_version: int = DATA_DIGEST_VERSION

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (format ``symtrunc.certificate``, version 2)."""
        d = asdict(self)
        d["layers"] = [asdict(layer) for layer in self.layers]
        d["widths"] = list(self.widths)
        for layer in d["layers"]:
            layer["fixed_base_points"] = list(layer["fixed_base_points"])
        d["targets"] = [[label, list(t)] for label, t in self.targets]
        return {"format": CERTIFICATE_FORMAT, "version": CERTIFICATE_VERSION, **d}

    @classmethod
    def from_dict(cls, d: Any) -> Certificate:
        """Read :meth:`to_dict` output back (JSON lists become tuples).

        Raises
        ------
        FormatError
            If ``d`` is not a symtrunc certificate of a known version, or a field is malformed.
        """
        if not isinstance(d, Mapping) or d.get("format") != CERTIFICATE_FORMAT:
            got = d.get("format") if isinstance(d, Mapping) else type(d).__name__
            raise FormatError(f"not a symtrunc certificate (format is {got!r}, expected {CERTIFICATE_FORMAT!r})")
        if d.get("version") not in (1, CERTIFICATE_VERSION):
            raise FormatError(
                f"unsupported certificate version {d.get('version')!r} (this symtrunc reads "
                f"versions 1 and {CERTIFICATE_VERSION})"
            )
        if d.get("version") == CERTIFICATE_VERSION and "data_digest_version" not in d:
            raise FormatError("malformed certificate: version 2 names its data_digest_version")
        data_digest = digest_version(d)
        if d.get("version") == 1 and data_digest != 1:
            raise FormatError("malformed certificate: version 1 has data digest format 1")
        if d.get("zero_loss") is not True:
            raise FormatError(
                f"malformed certificate: a certificate states zero loss (zero_loss is {d.get('zero_loss')!r})"
            )
        try:
            layers = tuple(
                LayerCheck(
                    **dict(
                        r,
                        collapses=_hashable(r.get("collapses")),
                        fixed_base_points=tuple(map(_hashable, r.get("fixed_base_points", ()))),
                    )
                )
                for r in d["layers"]
            )
            return cls(
                zero_loss=True,
                n_points=int(d["n_points"]),
                input_dim=int(d["input_dim"]),
                n_classes=int(d["n_classes"]),
                widths=tuple(int(w) for w in d["widths"]),
                invariants_checked=bool(d["invariants_checked"]),
                layers=layers,
                costs=dict(d["costs"]),
                theorem=str(d.get("theorem", "")),
                method=str(d.get("method", "exact")),
                extra=dict(d.get("extra", {})),
                network_sha256=str(d.get("network_sha256", "")),
                data_sha256=str(d.get("data_sha256", "")),
                targets=tuple((_hashable(label), tuple(str(v) for v in t)) for label, t in d.get("targets", ())),
                data_digest_version=data_digest,
            )
        except (KeyError, TypeError, ValueError) as e:
            raise FormatError(f"malformed certificate: {type(e).__name__} {e}") from None

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
                f"{r.layer:5d}  {r.kind:<10}  {coll:<9}  {r.collapsed_points:9d}  {r.identity_points:8d}  {fixed}"
            )
        return "\n".join(lines)


def _hashable(label: Any) -> Any:
    """JSON lists back to tuples (labels must be hashable)."""
    return tuple(_hashable(v) for v in label) if isinstance(label, list) else label
