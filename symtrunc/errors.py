"""The symtrunc exception family.

Every error the library raises on purpose derives from :class:`SymtruncError`.
Errors about values a user supplied also derive from :class:`ValueError`, so
``except ValueError`` keeps working in generic code.

Examples
--------
>>> from symtrunc.errors import DataError, SymtruncError
>>> issubclass(DataError, SymtruncError) and issubclass(DataError, ValueError)
True

A feature that needs an optional package imports it with :func:`require`, so a missing
package always gives the same one-line :class:`MissingDependencyError` naming the pip extra.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = [
    "SymtruncError",
    "DataError",
    "FormatError",
    "HypothesisError",
    "VerificationError",
    "UncertifiedError",
    "MissingDependencyError",
    "require",
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
    """An optional package a feature needs is not installed; the message names the pip extra.

    Raised by :func:`require`. It is also an :class:`ImportError`, with ``name`` the package.

    Parameters
    ----------
    package : str
        The missing package (``"onnx"``).
    extra : str
        The symtrunc extra that installs it: ``pip install "symtrunc[extra]"``.
    feature : str
        What needs the package (``"ONNX export and import"``).

    Examples
    --------
    >>> e = MissingDependencyError("onnx", "onnx", "ONNX export and import")
    >>> print(e)
    ONNX export and import needs the 'onnx' package: pip install "symtrunc[onnx]"
    >>> isinstance(e, ImportError), e.name, e.extra
    (True, 'onnx', 'onnx')
    """

    def __init__(self, package: str, extra: str, feature: str) -> None:
        super().__init__(f'{feature} needs the {package!r} package: pip install "symtrunc[{extra}]"', name=package)
        self.extra = extra
        self.feature = feature

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.name, self.extra, self.feature)


def require(module: str, extra: str, feature: str, *, package: str | None = None) -> ModuleType:
    """Import the optional ``module``, or raise :class:`MissingDependencyError` naming ``extra``.

    Parameters
    ----------
    module : str
        Module to import (``"safetensors.numpy"``).
    extra : str
        The symtrunc extra that installs it.
    feature : str
        What needs it, for the message.
    package : str, optional
        The package named in the message (default: the top-level name of ``module``).

    Examples
    --------
    >>> require("json", "none", "JSON").__name__
    'json'
    >>> require("matplotlib_is_not_called_this.figure", "plot", "plotting")
    Traceback (most recent call last):
    ...
    symtrunc.errors.MissingDependencyError: plotting needs the 'matplotlib_is_not_called_this' package: pip install "symtrunc[plot]"
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(package or module.partition(".")[0], extra, feature) from None
