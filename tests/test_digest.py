"""The data digest follows its documented formats, whatever the input type and chunking.

The expected digests are computed here from the formats in ``symtrunc.verification.digest``'s
docstring with ``struct`` and ``fractions`` alone, not by the code under test. Certificates
written by an older symtrunc (certificate version 1, data digest format 1, in
``tests/data/certificates_v1``) are still re-checked.
"""

from __future__ import annotations

import hashlib
import json
import struct
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import symtrunc
from symtrunc.cli import main
from symtrunc.data.labeled import LabeledData
from symtrunc.errors import FormatError
from symtrunc.verification.certificate import Certificate
from symtrunc.verification.digest import DataDigest


def _is_float(v: Fraction) -> bool:
    try:
        return Fraction(float(v)) == v
    except OverflowError:
        return False


def _record(v: Fraction) -> bytes:
    """Format 1's record of one coordinate."""
    if _is_float(v):
        return b"F" + struct.pack("<d", float(v) + 0.0)
    text = f"{v.numerator}/{v.denominator}".encode("ascii")
    return b"R" + struct.pack("<I", len(text)) + text


def _block(values: list[Fraction]) -> bytes:
    """Format 2's encoding of one block: the first class that holds every value."""
    ints = all(v.denominator == 1 for v in values)
    for tag, fmt, lo, hi in ((b"1", "B", 0, 255), (b"2", "h", -(2**15), 2**15 - 1), (b"4", "i", -(2**31), 2**31 - 1)):
        if ints and all(lo <= v <= hi for v in values):
            return tag + struct.pack(f"<{len(values)}{fmt}", *map(int, values))
    if all(_is_float(v) for v in values):
        return b"8" + struct.pack(f"<{len(values)}d", *(float(v) + 0.0 for v in values))
    return b"R" + b"".join(map(_record, values))


def _reference(rows: list[list[Fraction]], labels: list[object], version: int = 1) -> str:
    R, T = hashlib.sha256(), hashlib.sha256()
    values = [v for row in rows for v in row]
    if version == 1:
        R.update(b"".join(map(_record, values)))
    else:
        for lo in range(0, len(values), 65536):
            R.update(_block(values[lo : lo + 65536]))
    for y in labels:
        text = json.dumps(y, separators=(",", ":")).encode("ascii")
        T.update(struct.pack("<I", len(text)) + text)
    head = f"symtrunc.data/{version} {len(rows)} {len(rows[0]) if rows else 0}\n".encode("ascii")
    return hashlib.sha256(head + R.digest() + T.digest()).hexdigest()


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int64, np.float32, np.float64])
@pytest.mark.parametrize("chunk", [1, 7, 40_000])
def test_digest_matches_the_documented_format(dtype, chunk, version):
    rng = np.random.default_rng(3)
    n, m = 700, 64  # 44 800 coordinates: more than one encoding block
    X = rng.integers(0, 256, (n, m)).astype(dtype)
    if X.dtype.kind == "f":
        X[::2] = (rng.standard_normal((350, m)) * 1000).astype(dtype)
        X[0, :3] = [-0.0, 0.0, -1.5]
    labels = rng.integers(0, 3, n)
    dig = DataDigest(version)
    for lo in range(0, n, chunk):
        dig.update(X[lo : lo + chunk], labels[lo : lo + chunk])
    expected = _reference([[Fraction(float(v)) for v in row] for row in X.tolist()], labels.tolist(), version)
    assert dig.hexdigest() == expected


@pytest.mark.parametrize("version", [1, 2])
def test_digest_of_rationals_and_huge_integers(version):
    X = np.array([[Fraction(1, 3), 2**60 + 1], [Fraction(-1, 2), 0]], dtype=object)
    dig = DataDigest(version)
    dig.update(X, np.array(["a", "bb"]))  # label records of two lengths
    assert dig.hexdigest() == _reference([[Fraction(v) for v in row] for row in X.tolist()], ["a", "bb"], version)
    for huge in ([10**400, 1], [2**1023, 2**53 + 2]):  # beyond the float range; floats both
        dig = DataDigest(version)
        dig.update(np.array([huge], dtype=object), np.array([0]))
        assert dig.hexdigest() == _reference([[Fraction(v) for v in huge]], [0], version)
    for big in (2**60 + 1, 2**60):  # a float represents 2^60, not 2^60 + 1
        Y = np.array([[big, 5]], dtype=np.int64)
        dig = DataDigest(version)
        dig.update(Y, np.array([1]))
        assert dig.hexdigest() == _reference([[Fraction(big), Fraction(5)]], [1], version)
        dig = DataDigest(version)
        dig.update(np.array([[big, 5]], dtype=object), np.array([1]))
        assert dig.hexdigest() == _reference([[Fraction(big), Fraction(5)]], [1], version)


def _narrowest(rows: list[list[Fraction]]) -> np.ndarray:
    """The rows as the narrowest NumPy array that holds them exactly (object Fractions if none)."""
    flat = [v for r in rows for v in r]
    if all(v.denominator == 1 for v in flat):
        for dtype in (np.uint8, np.int16, np.int32, np.int64):
            info = np.iinfo(dtype)
            if all(info.min <= v <= info.max for v in flat):
                return np.array([[int(v) for v in r] for r in rows], dtype=dtype)
    if all(_is_float(v) for v in flat):
        return np.array([[float(v) for v in r] for r in rows])
    return np.array(rows, dtype=object)


@pytest.mark.slow
def test_format_2_blocks_of_every_class_in_any_representation():
    """Six blocks of 65536 coordinates, one per class (and a float block holding 2^60), fed as
    chunks that straddle the blocks in whatever dtype holds each chunk: the digest depends on
    the exact values only."""
    rng = np.random.default_rng(7)
    m, n = 64, 6 * 1024 + 10
    A = rng.integers(0, 256, (n, m)).tolist()
    rows = [[Fraction(v) for v in r] for r in A]
    specials = [None, Fraction(-5), Fraction(70_000), Fraction(1, 2), Fraction(1, 3), Fraction(2**60)]
    for block, v in enumerate(specials):
        if v is not None:
            rows[block * 1024 + 3][5] = v
    labels = rng.integers(0, 3, n).tolist()
    expected = _reference(rows, labels, 2)
    for chunk in (1000, 1024, 4096):
        dig = DataDigest(2)
        for lo in range(0, n, chunk):
            dig.update(_narrowest(rows[lo : lo + chunk]), np.array(labels[lo : lo + chunk]))
        assert dig.hexdigest() == expected, chunk
    dig = DataDigest(2)  # every value a float64: integers found again
    dig.update(np.array([[float(v) for v in r] for r in rows[:2048]]), np.array(labels[:2048]))
    assert dig.hexdigest() == _reference(rows[:2048], labels[:2048], 2)
    assert expected != _reference(rows, labels, 1)


def test_digest_state_stays_open_after_hexdigest():
    X = np.arange(3 * 50_000, dtype=np.int64).reshape(-1, 3) % 300
    rows = [[Fraction(v) for v in r] for r in X.tolist()]
    dig = DataDigest()
    dig.update(X[:30_000], np.zeros(30_000, dtype=int))
    assert dig.hexdigest() == _reference(rows[:30_000], [0] * 30_000, 2)
    dig.update(X[30_000:], np.zeros(20_000, dtype=int))
    assert dig.hexdigest() == _reference(rows, [0] * 50_000, 2)


def test_a_reused_chunk_buffer_does_not_change_the_digest():
    buf = np.empty((1000, 7), dtype=np.uint8)  # 7000 coordinates: blocks end inside chunks
    dig, rows = DataDigest(), []
    for i in range(20):
        buf[:] = (np.arange(7000).reshape(1000, 7) * (i + 1)) % 256
        rows += [[Fraction(int(v)) for v in r] for r in buf.tolist()]
        dig.update(buf, np.zeros(1000, dtype=int))
    assert dig.hexdigest() == _reference(rows, [0] * 20_000, 2)


def test_unknown_digest_version_is_refused():
    with pytest.raises(FormatError, match="unknown data digest version 3"):
        DataDigest(3)


OLD = Path(__file__).parent / "data" / "certificates_v1"


def test_version_1_certificates_are_re_checked(capsys, tmp_path):
    """Certificates written before data digest format 2 keep their meaning: their digest is
    recomputed in format 1, and other data still fail."""
    cert = Certificate.from_dict(json.loads((OLD / "exact_cert.json").read_text()))
    assert cert.data_digest_version == 1 and Certificate.from_dict(cert.to_dict()) == cert
    assert cert.to_dict()["version"] == 2 and cert.to_dict()["data_digest_version"] == 1
    net, pts = OLD / "net.json", OLD / "pts.csv"
    capsys.readouterr()
    assert main(["verify-certificate", str(OLD / "exact_cert.json"), str(net), str(pts)]) == 0
    out = capsys.readouterr().out  # the digest the certificate names, in its format
    assert f"SHA-256 {cert.data_sha256}, data digest format 1, 80 points (as the certificate names)" in out
    assert main(["verify-certificate", str(OLD / "cert_certified.json"), str(net), str(pts), "-q"]) == 0
    assert main(["verify-certificate", str(OLD / "notsls_cert.json"), str(OLD / "notsls.csv")]) == 0
    lines = pts.read_text().splitlines()
    moved = tmp_path / "moved.csv"
    moved.write_text("\n".join([lines[0], lines[1].replace("33,40,", "33,41,", 1), *lines[2:]]) + "\n")
    assert lines[1] != moved.read_text().splitlines()[1]
    capsys.readouterr()
    assert main(["verify-certificate", str(OLD / "exact_cert.json"), str(net), str(moved)]) == 1
    assert "the data are not the ones" in capsys.readouterr().err
    assert main(["verify-certificate", str(OLD / "cert_certified.json"), str(net), str(moved)]) == 1
    assert "the data are not the ones" in capsys.readouterr().err


def test_new_certificates_name_digest_format_2(tmp_path):
    data = LabeledData.from_arrays([[2, 0], [3, 0], [0, 2], [0, 3]], ["a", "a", "b", "b"])
    doc = symtrunc.verify(symtrunc.construct(data), data).to_dict()
    assert doc["version"] == 2 and doc["data_digest_version"] == 2
    rows = [[Fraction(v) for v in r] for r in ([2, 0], [3, 0], [0, 2], [0, 3])]
    assert doc["data_sha256"] == _reference(rows, ["a", "a", "b", "b"], 2)


@pytest.mark.parametrize(
    "labels",
    [[-12, 3, 7, -12, 100_000], [5, 5, 0], [True, False, True], ["b", "a", "ccc"], [2**63 + 1, 2**63, 2**63 + 1]],
)
def test_label_records(labels):
    X = np.zeros((len(labels), 2), dtype=np.uint8)
    for version in (1, 2):
        dig = DataDigest(version)
        dig.update(X[:2], np.array(labels[:2]))
        dig.update(X[2:], np.array(labels[2:]))
        assert dig.hexdigest() == _reference([[Fraction(0)] * 2] * len(labels), labels, version)


def test_whole_float_labels_are_recorded_as_integers():
    X = np.zeros((3, 2), dtype=np.uint8)
    for version in (1, 2):
        dig = DataDigest(version)
        dig.update(X, np.array([2.0, -1.0, 2.0]))
        assert dig.hexdigest() == _reference([[Fraction(0)] * 2] * 3, [2, -1, 2], version)
        dig = DataDigest(version)
        dig.update(X, np.array([2.0, -1.5, 2.0]))
        assert dig.hexdigest() == _reference([[Fraction(0)] * 2] * 3, [2, -1.5, 2], version)


def test_float_labels_make_networks_that_load(tmp_path, capsys):
    """Whole float labels are the integer classes (as the digest records them), other float
    labels are kept: either way the network file written by construct reads back."""
    X = np.array([[2, 0, 1], [3, 0, 1], [0, 2, 1], [0, 3, 1], [5, 5, 1], [6, 5, 1]], dtype=np.int64)
    for y, classes in (([-1.0, -1.0, 0.0, 0.0, 2.0, 2.0], (-1, 0, 2)), ([0.5, 0.5, 1.5, 1.5, 2.0, 2.0], (0.5, 1.5, 2))):
        data = tmp_path / "d.npz"
        np.savez(data, X=X, y=np.array(y))
        net = tmp_path / "n.json"
        assert main(["construct", str(data), "-o", str(net), "-q"]) == 0
        loaded = symtrunc.load_network(net)
        assert loaded.classes == classes
        assert main(["verify", str(net), str(data), "-q"]) == 0
        assert main(["verify", str(net), str(data), "--certified", "-q"]) == 0


def _cli_error(capsys, argv: list[str]) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return code, err[0]


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.pop("data_digest_version"), "version 2 names its data_digest_version"),
        (lambda d: d.update(data_digest_version="2"), "data_digest_version must be 1 or 2 (an integer), got '2'"),
        (lambda d: d.update(data_digest_version=True), "data_digest_version must be 1 or 2"),
        (lambda d: d.update(data_digest_version=3), "data_digest_version must be 1 or 2"),
        (lambda d: d.update(version=1), "version 1 has data digest format 1"),
        (lambda d: d.update(zero_loss=False), "a certificate states zero loss"),
    ],
)
def test_malformed_certificates_are_refused_with_one_line(tmp_path, capsys, edit, message):
    net, pts = OLD / "net.json", OLD / "pts.csv"
    good = tmp_path / "c.json"
    assert main(["verify", str(net), str(pts), "--certificate", str(good), "-q"]) == 0
    doc = json.loads(good.read_text())
    edit(doc)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    code, line = _cli_error(capsys, ["verify-certificate", str(bad), str(net), str(pts)])
    assert code == 2 and message in line and str(bad) in line


@pytest.mark.parametrize(
    "field, value", [("data_digest_version", "abc"), ("data_digest_version", None), ("version", 99)]
)
def test_malformed_not_sls_certificates_are_refused_with_one_line(tmp_path, capsys, field, value):
    doc = json.loads((OLD / "notsls_cert.json").read_text())
    doc[field] = value
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    code, line = _cli_error(capsys, ["verify-certificate", str(bad), str(OLD / "notsls.csv")])
    assert code == 2 and str(bad) in line


@pytest.mark.parametrize("size", ["0", "-5"])
def test_re_checking_with_a_bad_chunk_size_is_refused(capsys, size):
    argv = ["verify-certificate", str(OLD / "cert_certified.json"), str(OLD / "net.json"), str(OLD / "pts.csv")]
    code, line = _cli_error(capsys, [*argv, "--chunk-size", size])
    assert code == 2 and "chunk_size must be a positive integer" in line
