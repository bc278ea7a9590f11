"""The package layout: one-way data flow, no module shadowed by a function, few lazy imports.

The layers and their order are declared once, as import-linter contracts in ``pyproject.toml``;
these tests run them and check what import-linter does not: that ``import symtrunc.X as m``
always gives the module ``X``, and that the function-level imports of symtrunc modules are few
and each says why it is lazy.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import symtrunc

PACKAGE = Path(symtrunc.__file__).parent
ROOT = PACKAGE.parent
#: function-level imports of symtrunc modules are allowed only with a reason, and only this many
MAX_LAZY_IMPORTS = 15


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(symtrunc.__path__, "symtrunc."))


@pytest.mark.parametrize("name", _modules())
def test_import_gives_the_module(name: str) -> None:
    """``import symtrunc.X as m`` is the module X, never a function re-exported over it."""
    module = importlib.import_module(name)
    parent, _, last = name.rpartition(".")
    assert getattr(importlib.import_module(parent), last) is module, (
        f"{parent}.{last} is shadowed by {getattr(importlib.import_module(parent), last)!r}"
    )


def _function_level_imports() -> list[tuple[str, int, str]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source)
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("symtrunc"):
                    out.append((str(path.relative_to(ROOT)), node.lineno, lines[node.lineno - 1]))
                elif isinstance(node, ast.Import) and any(a.name.startswith("symtrunc") for a in node.names):
                    out.append((str(path.relative_to(ROOT)), node.lineno, lines[node.lineno - 1]))
    return out


def test_few_lazy_imports_each_with_a_reason() -> None:
    found = _function_level_imports()
    without_reason = [f"{p}:{n}" for p, n, line in found if "# lazy:" not in line]
    assert not without_reason, f"function-level imports without a '# lazy: <reason>' comment: {without_reason}"
    assert len(found) <= MAX_LAZY_IMPORTS, [f"{p}:{n}" for p, n, _ in found]


def test_no_module_imports_the_package_root() -> None:
    """``symtrunc/__init__`` re-exports every stage, so importing it from inside is a cycle."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            if "symtrunc" in names:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


def test_import_contracts() -> None:
    """The layers of ``pyproject.toml`` hold (import-linter, which also sees function-level imports)."""
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed (it is in the test extra)")
    run = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_dir_of_the_package_is_its_public_surface():
    import symtrunc

    assert dir(symtrunc) == sorted([*symtrunc.__all__, "__version__"])
    assert all(hasattr(symtrunc, name) for name in symtrunc.__all__)
