"""The data digest follows its documented format, whatever the input type and chunking.

The expected digest is computed here from the format in ``symtrunc.verification.digest``'s
docstring with ``struct`` and ``fractions`` alone, not by the code under test.
"""

from __future__ import annotations

import hashlib
import json
import struct
from fractions import Fraction

import numpy as np
import pytest

from symtrunc.verification.digest import DataDigest


def _reference(rows: list[list[Fraction]], labels: list[object]) -> str:
    R, T = hashlib.sha256(), hashlib.sha256()
    for row in rows:
        for v in row:
            f = float(v)
            if Fraction(f) == v:
                R.update(b"F" + struct.pack("<d", f + 0.0))
            else:
                text = f"{v.numerator}/{v.denominator}".encode("ascii")
                R.update(b"R" + struct.pack("<I", len(text)) + text)
    for y in labels:
        text = json.dumps(y, separators=(",", ":")).encode("ascii")
        T.update(struct.pack("<I", len(text)) + text)
    head = f"symtrunc.data/1 {len(rows)} {len(rows[0]) if rows else 0}\n".encode("ascii")
    return hashlib.sha256(head + R.digest() + T.digest()).hexdigest()


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int64, np.float32, np.float64])
@pytest.mark.parametrize("chunk", [1, 7, 40_000])
def test_digest_matches_the_documented_format(dtype, chunk):
    rng = np.random.default_rng(3)
    n, m = 700, 64  # 44 800 coordinates: more than one encoding block
    X = rng.integers(0, 256, (n, m)).astype(dtype)
    if X.dtype.kind == "f":
        X[::2] = (rng.standard_normal((350, m)) * 1000).astype(dtype)
        X[0, :3] = [-0.0, 0.0, -1.5]
    labels = rng.integers(0, 3, n)
    dig = DataDigest()
    for lo in range(0, n, chunk):
        dig.update(X[lo : lo + chunk], labels[lo : lo + chunk])
    expected = _reference([[Fraction(float(v)) for v in row] for row in X.tolist()], labels.tolist())
    assert dig.hexdigest() == expected


def test_digest_of_rationals_and_huge_integers():
    X = np.array([[Fraction(1, 3), 2**60 + 1], [Fraction(-1, 2), 0]], dtype=object)
    dig = DataDigest()
    dig.update(X, np.array(["a", "bb"]))  # label records of two lengths
    assert dig.hexdigest() == _reference([[Fraction(v) for v in row] for row in X.tolist()], ["a", "bb"])
    Y = np.array([[2**60 + 1, 5]], dtype=np.int64)
    dig = DataDigest()
    dig.update(Y, np.array([1]))
    assert dig.hexdigest() == _reference([[Fraction(2**60 + 1), Fraction(5)]], [1])
