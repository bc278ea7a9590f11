"""Shared fixtures: the worked example of the reference dossier (§5.2).

Eight points of ``R^2`` in two classes, ``1 = {(2,0), (3,0), (2,1), (3,1)}`` and
``2 = {(0,2), (0,3), (1,2), (1,3)}``, and the network the dossier builds from them with its own
choices (normals ``h_1 ∝ (-1, 1)``, ``h_2 ∝ (1, -1)`` and ``t_1 = t_2 = 3/4``).
``tests/test_worked_example.py`` checks that network layer by layer against the dossier's
numbers; the other tests use these fixtures instead of copies of the data.

The data and the network are immutable, so the session-scoped fixtures can be shared.
(The hypothesis profile lives in the repository root ``conftest.py``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

import symtrunc
from symtrunc.data.labeled import LabeledData
from symtrunc.network import ReLUNetwork

_POINTS = ((2, 0), (3, 0), (2, 1), (3, 1), (0, 2), (0, 3), (1, 2), (1, 3))
_LABELS = (1, 1, 1, 1, 2, 2, 2, 2)


def _choices() -> dict[str, list]:
    return {"normals": [[-1, 1], [1, -1]], "t": ["3/4", "3/4"]}


@pytest.fixture
def worked_points() -> list[list[int]]:
    """The eight points, class 1 first (a fresh list per test)."""
    return [list(p) for p in _POINTS]


@pytest.fixture
def worked_labels() -> list[int]:
    """Their labels: ``[1, 1, 1, 1, 2, 2, 2, 2]`` (a fresh list per test)."""
    return list(_LABELS)


@pytest.fixture
def worked_choices() -> dict[str, list]:
    """The dossier's choices, as keyword arguments of :func:`symtrunc.construct`."""
    return _choices()


@pytest.fixture(scope="session")
def worked_data() -> LabeledData:
    """The worked example as :class:`~symtrunc.data.labeled.LabeledData` (classes ``(1, 2)``)."""
    return LabeledData.from_arrays(_POINTS, _LABELS)


@pytest.fixture(scope="session")
def worked_net(worked_data: LabeledData) -> ReLUNetwork:
    """The dossier's network: ``symtrunc.construct(worked_data, **worked_choices)`` (rational cones)."""
    return symtrunc.construct(worked_data, **_choices())


@pytest.fixture
def worked_csv(tmp_path: Path) -> Path:
    """The worked example as a header-less CSV file ``x1,x2,label`` in the test's ``tmp_path``."""
    path = tmp_path / "worked.csv"
    path.write_text("".join(f"{x},{y},{label}\n" for (x, y), label in zip(_POINTS, _LABELS)), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def wine_data() -> LabeledData:
    """The bundled Wine data (178 × 13, three cultivars)."""
    return symtrunc.load_wine()


@pytest.fixture(scope="session")
def robust_wine(wine_data: LabeledData) -> ReLUNetwork:
    """Theorem 5.2 on Wine with parameters chosen for float32 (``robust="float32"``)."""
    return symtrunc.construct(wine_data, robust="float32")
