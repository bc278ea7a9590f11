"""Files named on the command line: label matrices (read by several commands) and the check
of the output files a command will write.

A command checks its outputs with :func:`check_outputs` before any work, and writes them only
after everything succeeded (:func:`symtrunc.files.write_files`): a failing command
leaves every file as it was.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp(), "Y.csv")
>>> _ = path.write_text("2,1\\n1,1\\n")
>>> read_label_matrix(path)
[2, 1]
[1, 1]
>>> check_outputs({"-o": path}, [path])  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
symtrunc.errors.DataError: -o would overwrite the input file .../Y.csv; choose another output file
"""

from __future__ import annotations

import csv
import glob
from collections.abc import Mapping, Sequence
from pathlib import Path

import flint

from symtrunc.errors import DataError
from symtrunc.exact.matrix import qmatrix
from symtrunc.files import check_writable, same_file

__all__ = ["check_outputs", "read_label_matrix"]

_GLOB = "*?["


def read_label_matrix(path: str) -> flint.fmpq_mat:
    """The exact matrix in the CSV file ``path`` (column ``j``: the target of class ``j``)."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"no such file: {p}")
    try:
        with p.open(encoding="utf-8", newline="") as f:
            rows = [r for r in csv.reader(f) if r]
    except UnicodeDecodeError:
        raise DataError(f"label matrix {p} is not a UTF-8 text CSV file") from None
    except csv.Error as e:
        raise DataError(f"label matrix {p}: not a valid CSV file ({e})") from None
    except OSError as e:
        raise DataError(f"cannot read the label matrix {p}: {e.strerror or e}") from None
    if not rows:
        raise DataError(f"label matrix {p} is empty")
    return qmatrix(rows, name=f"label matrix {p.name}")


def _input_files(inputs: Sequence[str | Path | None]) -> list[Path]:
    """The files behind the inputs (a shard pattern stands for every file it matches)."""
    files: list[Path] = []
    for name in inputs:
        if name is None:
            continue
        text = str(name)
        if any(c in text for c in _GLOB):
            files.extend(Path(p) for p in sorted(glob.glob(text)))
        files.append(Path(text))
    return files


def check_outputs(outputs: Mapping[str, str | Path | None], inputs: Sequence[str | Path | None]) -> None:
    """Refuse outputs that cannot be written, that name an input file, or that name the same file.

    Parameters
    ----------
    outputs : mapping
        ``{option: path}`` of the files the command will write (``None`` or ``"-"``: not written).
    inputs : sequence
        The files the command reads (``None`` skipped; shard patterns are expanded).

    Raises
    ------
    DataError
        An output is also an input, or two options name the same output file.
    FormatError, PermissionError
        An output's directory does not exist or is not writable, or the output is a directory.
    """
    given = {opt: Path(p) for opt, p in outputs.items() if p is not None and str(p) != "-"}
    files = _input_files(inputs)
    seen: list[tuple[str, Path]] = []
    for option, path in given.items():
        for f in files:
            if same_file(path, f):
                raise DataError(f"{option} would overwrite the input file {f}; choose another output file")
        for other, q in seen:
            if same_file(path, q):
                raise DataError(f"{other} and {option} name the same file {path}; choose two files")
        check_writable(path)
        seen.append((option, path))
