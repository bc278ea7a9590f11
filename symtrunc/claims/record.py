"""The record of one tested claim (:class:`Claim`), its verdicts and the claim families."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from symtrunc.errors import DataError

__all__ = ["Claim", "VERDICTS", "TooManyConfigurations", "MAX_CONFIGURATIONS", "FAMILIES"]


#: Verdicts: a tested claim ``"holds"`` or ``"fails"`` (with an exact witness); ``"undecided"``
#: when the exact test neither proves nor refutes it (e.g. a critical point whose second-order
#: behaviour is not decided); ``"not applicable"`` when the data do not meet the hypotheses of
#: the family (the witness says why).
VERDICTS = ("holds", "fails", "undecided", "not applicable")

#: Claim families gathered by :func:`check_claims`.
FAMILIES = ("deep", "shallow", "nonseparable", "two_layer")

#: Default limit on the number of configurations ``s`` the deep family enumerates (``2^Q``; each
#: one is a network built and tested exactly, about a second each for small ``N``).
MAX_CONFIGURATIONS = 64


class TooManyConfigurations(DataError):
    """The deep family would enumerate more than ``max_configurations`` configurations ``s``."""


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
        One of :data:`VERDICTS`.
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
        return {
            "claim": self.claim,
            "configuration": self.configuration,
            "paper_value": self.paper_value,
            "exact_value": self.exact_value,
            "verdict": self.verdict,
            "witness": self.witness,
        }


def _not_applicable(family: str, reason: str) -> Claim:
    return Claim(f"{family}: hypotheses", "", None, None, "not applicable", {"summary": reason})
