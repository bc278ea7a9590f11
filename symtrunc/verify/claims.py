"""Exact claims tester: one :class:`Claim` record per tested statement of a paper.

Examples
--------
>>> c = Claim("C_N = 0 (A, Thm 2.3)", "", "0", "0", "holds")
>>> c.to_json()["verdict"]
'holds'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Claim", "VERDICTS"]

#: The two verdicts a tested claim can get.
VERDICTS = ("holds", "fails")


@dataclass(frozen=True)
class Claim:
    """The outcome of testing one claim of a paper exactly.

    Parameters
    ----------
    claim : str
        What is claimed, with the paper and equation (e.g. ``"(2.71) is the minimum"``).
    configuration : str
        The configuration it was tested on (e.g. the bits ``"101"`` of ``s``), or ``""``.
    paper_value : str or None
        The value the paper states, exactly (``"p/q"`` or a sympy string), if it states one.
    exact_value : str or None
        The value computed exactly by symtrunc.
    verdict : str
        ``"holds"`` or ``"fails"``.
    witness : object, optional
        JSON-serializable exact evidence (e.g. a descent direction); numbers as strings.
    """

    claim: str
    configuration: str
    paper_value: str | None
    exact_value: str | None
    verdict: str
    witness: Any = None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    def to_json(self) -> dict[str, Any]:
        """The record as the ``symtrunc claims --json`` dictionary."""
        return {"claim": self.claim, "configuration": self.configuration,
                "paper_value": self.paper_value, "exact_value": self.exact_value,
                "verdict": self.verdict, "witness": self.witness}
