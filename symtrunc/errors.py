"""The symtrunc exception family.

Every error the library raises on purpose derives from :class:`SymtruncError`.
Errors about values a user supplied also derive from :class:`ValueError`, so
``except ValueError`` keeps working in generic code.

Examples
--------
>>> from symtrunc.errors import DataError, SymtruncError
>>> issubclass(DataError, SymtruncError) and issubclass(DataError, ValueError)
True
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "SymtruncError",
    "DataError",
    "FormatError",
    "HypothesisError",
    "VerificationError",
    "UncertifiedError",
    "MissingDependencyError",
]


class SymtruncError(Exception):
    """Base class of every error raised by symtrunc."""


class DataError(SymtruncError, ValueError):
    """Input data or options are malformed, or violate a standing assumption (e.g. NaN, ragged rows)."""


class FormatError(SymtruncError, ValueError):
    """A file or JSON document does not have the expected format or version."""


class HypothesisError(SymtruncError, ValueError):
    """The data do not satisfy the hypotheses of the requested theorem.

    Parameters
    ----------
    message : str
        One-line explanation.
    certificate : object, optional
        The exact evidence (for example convex weights proving that a class
        cannot be strictly separated), re-checkable without floats.
    """

    def __init__(self, message: str, certificate: Any = None) -> None:
        super().__init__(message)
        self.certificate = certificate


class VerificationError(SymtruncError):
    """A network failed an exact check.

    Parameters
    ----------
    message : str
        One-line explanation.
    counterexample : object, optional
        The first failing point, layer, neuron and exact value.
    """

    def __init__(self, message: str, counterexample: Any = None) -> None:
        super().__init__(message)
        self.counterexample = counterexample


class UncertifiedError(SymtruncError):
    """A float computation could not be certified and no exact fallback was allowed."""


class MissingDependencyError(SymtruncError, ImportError):
    """An optional package a feature needs is not installed (the message says which extra to install)."""
