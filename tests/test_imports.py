"""``import symtrunc`` loads only the core dependencies; optional packages are imported lazily."""

from __future__ import annotations

import subprocess
import sys

OPTIONAL = (
    "matplotlib",
    "numba",
    "cvxpy",
    "clarabel",
    "sklearn",
    "torch",
    "onnx",
    "onnxruntime",
    "safetensors",
    "dask",
    "tqdm",
    "jupytext",
    "sphinx",
)


def test_import_symtrunc_loads_no_optional_package():
    code = (
        "import sys, symtrunc, symtrunc.landscape, symtrunc.convex, symtrunc.cli; "
        f"print(','.join(m for m in {OPTIONAL!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
