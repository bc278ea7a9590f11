"""Execute every notebook in ``notebooks/`` and check that each jupytext pair is in sync.

Notebooks are kept as jupytext ``py:percent`` files paired with ``.ipynb`` files (stored without
outputs). Every ``notebooks/*.py`` (and any ``.ipynb`` without a ``.py`` twin) is executed from
top to bottom in a fresh ``python3`` kernel, in a temporary working directory, with nbclient;
a cell that raises fails the test (marked ``slow``; the pair-sync check is cheap and always runs).
No network access is needed.

To (re)create or update a pair after editing the ``.py`` file::

    jupytext --sync notebooks/01_quickstart.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("*.py"))
LONE_IPYNB = sorted(p for p in NOTEBOOKS.glob("*.ipynb") if not p.with_suffix(".py").exists())
#: Notebooks whose point is (also) a picture: executing them must display at least one figure.
DRAWS = {"01_quickstart", "02_sls_step_by_step", "03_clustered", "05_l2_claims", "06_landscape", "07_convex"}

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


@pytest.mark.slow
@pytest.mark.parametrize("path", SOURCES + LONE_IPYNB, ids=lambda p: p.name)
def test_notebook_executes(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's path-migration warning
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    nb = jupytext.read(path)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env=dict(os.environ))
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert not errors
    if path.stem in DRAWS:
        assert any(
            "image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
        ), f"{path.name} displays no figure"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_notebook_pair_in_sync(path: Path) -> None:
    twin = path.with_suffix(".ipynb")
    assert twin.exists(), f"{twin.name} is missing: run `jupytext --sync notebooks/{path.name}`"
    text, ipynb = jupytext.read(path), jupytext.read(twin)
    assert "ipynb" in text.metadata.get("jupytext", {}).get("formats", ""), (
        f"{path.name} must be paired: its header needs `formats: ipynb,py:percent`"
    )
    assert _cells(text) == _cells(ipynb), (
        f"{path.name} and {twin.name} differ: run `jupytext --sync notebooks/{path.name}`"
    )


def test_there_are_notebooks() -> None:
    names = {p.name for p in SOURCES}
    assert {"01_quickstart.py", "02_sls_step_by_step.py", "03_clustered.py", "04_export.py"} <= names
