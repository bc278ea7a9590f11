"""Verification trusts nothing in a network file but the layers it computes with (issue 14 §1).

* A hidden ReLU turned into the identity in the file is no longer taken for a collapse: it
  fails with the true counterexample in every mode (exact, without invariants, certified).
* The targets come from the data or the user (one-hot by default) and must be invertible; a
  label matrix stored in the file is never used (an all-zero network with an all-zero stored
  label matrix fails on any labels).
* Certificates name the SHA-256 of the network and of the data, and re-checking a certificate
  against another network or other data fails with a one-line reason.

Every verdict is checked against an independent exact forward pass (tests/exact_reference.py).
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from exact_reference import assert_interpolates, fraction_forward  # tests/ is on sys.path

import symtrunc
from symtrunc.cli import main
from symtrunc.errors import DataError, FormatError, VerificationError
from symtrunc.io.json import load_network, loads_network, network_to_dict, save_certificate, save_network
from symtrunc.network import Layer, ReLUNetwork
from symtrunc.verification import Certificate, read_certificate, recheck_certificate
from symtrunc.verification.collapse import collapse_order
from symtrunc.verification.digest import DataDigest, data_sha256, network_sha256

MODES = ("exact", "no-invariants", "certified")

#: Wine in the default mode in the quick run; the two other modes under ``-m slow`` (CI runs all)
WINE_MODES = [MODES[0], *(pytest.param(m, marks=pytest.mark.slow) for m in MODES[1:])]


def _verify(net, data, mode, **kw):
    if mode == "certified":
        return symtrunc.verify(net, data, method="certified", **kw)
    return symtrunc.verify(net, data, invariants=mode == "exact", **kw)


def _edited(net: ReLUNetwork, edit) -> ReLUNetwork:
    """The network read back from its JSON file after ``edit(document)``."""
    doc = network_to_dict(net)
    edit(doc)
    return loads_network(json.dumps(doc))


def _is_true_counterexample(net, data, c, target) -> None:
    """The counterexample is the exact output at its point and neuron, and misses its target."""
    assert c.check == "zero loss" and c.layer == net.depth
    assert data.classes[data.y[c.point]] == c.label
    value = fraction_forward(net, data.X)[c.point][c.neuron]
    assert str(value) == c.value and value != Fraction(c.expected) and Fraction(c.expected) == target


@pytest.fixture(scope="module")
def wine():
    data = symtrunc.load_wine()
    return data, symtrunc.construct(data)


# --------------------------------------------------------------- repro 1: relu -> identity in the file
@pytest.mark.parametrize("mode", MODES)
def test_hidden_identity_in_the_file_fails_worked_example(worked_net, worked_data, mode):
    for k in range(worked_net.depth - 1):
        bad = _edited(worked_net, lambda d, k=k: d["layers"][k].__setitem__("activation", "identity"))
        with pytest.raises(VerificationError) as info:
            _verify(bad, worked_data, mode)
        c = info.value.counterexample
        _is_true_counterexample(bad, worked_data, c, int(c.neuron == worked_data.classes.index(c.label)))


@pytest.mark.parametrize("mode", WINE_MODES)
def test_hidden_identity_in_the_file_fails_wine(wine, mode):
    data, net = wine
    for k in range(net.depth - 1):
        bad = _edited(net, lambda d, k=k: d["layers"][k].__setitem__("activation", "identity"))
        assert collapse_order(bad, [(1, 0, 0), (0, 1, 0), (0, 0, 1)]) is None  # no shortcut for it
        with pytest.raises(VerificationError) as info:
            _verify(bad, data, mode)
        c = info.value.counterexample
        _is_true_counterexample(bad, data, c, int(c.neuron == data.classes.index(c.label)))


def test_hidden_identity_fails_on_the_command_line(tmp_path, worked_net, worked_csv, capsys):
    path = tmp_path / "bad.json"
    save_network(_edited(worked_net, lambda d: d["layers"][0].__setitem__("activation", "identity")), path)
    for extra in ([], ["--no-invariants"], ["--certified"]):
        assert main(["verify", str(path), str(worked_csv), *extra]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "zero loss fails at point 0 (class 1), layer 3, neuron 0: value 7/3" in err[0]


# ------------------------------------------------- repro 2: zero output layer + zero stored label matrix
def _zeroed(net: ReLUNetwork) -> ReLUNetwork:
    def edit(d):
        last = d["layers"][-1]
        last["W"] = [["0"] * len(row) for row in last["W"]]
        last["b"] = ["0"] * len(last["b"])
        d["construction"]["label_matrix"] = [["0"] * len(last["b"]) for _ in last["b"]]

    return _edited(net, edit)


@pytest.mark.parametrize("mode", WINE_MODES)
def test_stored_zero_label_matrix_is_not_used(wine, mode):
    data, net = wine
    labels = [data.classes[j] for j in data.y]
    np.random.default_rng(14).shuffle(labels)
    shuffled = symtrunc.LabeledData.from_arrays(data.X, labels)
    bad = _zeroed(net)
    with pytest.raises(VerificationError) as info:
        _verify(bad, shuffled, mode)
    c = info.value.counterexample
    assert (c.neuron, c.value, c.expected) == (shuffled.classes.index(c.label), "0", "1")
    _is_true_counterexample(bad, shuffled, c, 1)


def test_a_non_one_hot_stored_label_matrix_needs_the_user(tmp_path, worked_csv, capsys):
    y_csv = tmp_path / "Y.csv"
    y_csv.write_text("2,1\n1,1\n", encoding="utf-8")
    net = tmp_path / "net.json"
    assert main(["construct", str(worked_csv), "-o", str(net), "--label-matrix", str(y_csv), "-q"]) == 0
    # the file records Y, but verification checks one-hot targets unless the user gives Y
    assert main(["verify", str(net), str(worked_csv), "-q"]) == 1
    assert "expected 1" in capsys.readouterr().err
    assert main(["verify", str(net), str(worked_csv), "-q", "--label-matrix", str(y_csv)]) == 0
    data = symtrunc.load_data(str(worked_csv))
    assert_interpolates(load_network(net), data, label_matrix=[[2, 1], [1, 1]])


@pytest.mark.parametrize("mode", MODES)
def test_singular_label_matrices_are_refused(worked_net, worked_data, mode):
    for Y in ([[0, 0], [0, 0]], [[1, 1], [1, 1]], {1: [1, 0], 2: [1, 0]}):
        with pytest.raises(DataError, match="singular"):
            _verify(worked_net, worked_data, mode, label_matrix=Y)
    singular_data = symtrunc.LabeledData.from_arrays(worked_data.X, [1] * 4 + [2] * 4, Y=[[1, 1], [1, 1]], check=False)
    with pytest.raises(DataError, match="singular"):
        symtrunc.verify(worked_net, singular_data)


def test_singular_label_matrix_on_the_command_line(tmp_path, worked_net, worked_csv, capsys):
    y_csv = tmp_path / "Y.csv"
    y_csv.write_text("1,1\n1,1\n", encoding="utf-8")
    net = tmp_path / "net.json"
    save_network(worked_net, net)
    for extra in ([], ["--certified"]):
        assert main(["verify", str(net), str(worked_csv), "--label-matrix", str(y_csv), *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "singular" in err[0]


def test_the_class_list_names_the_outputs(worked_net, worked_data):
    swapped = _edited(worked_net, lambda d: d["classes"].reverse())
    with pytest.raises(VerificationError, match="zero loss"):
        symtrunc.verify(swapped, worked_data)
    twice = ReLUNetwork(worked_net.layers, (1, 1))
    with pytest.raises(FormatError, match="twice"):
        symtrunc.verify(twice, worked_data)
    # without a class list the outputs follow the data's classes, as here
    assert symtrunc.verify(ReLUNetwork(worked_net.layers), worked_data).invariants_checked


# ------------------------------------------------------------------ the structure comes from the layers
def test_collapse_structure_without_any_metadata(wine):
    data, net = wine
    bare = ReLUNetwork(net.layers, net.classes)  # no construction record at all
    cert = symtrunc.verify(bare, data)
    assert cert.invariants_checked and cert.layers == symtrunc.verify(net, data).layers
    assert [r.collapses for r in cert.layers[:3]] == list(net.construction.order)


@pytest.mark.parametrize("k", [0, 1])
def test_harmless_perturbations_verify(wine, k):
    # a weight of hidden layer 1 or 2 moved by 1e-9: every class still collapses at its layer and
    # the zero vectors' outputs do not involve that weight, so the network still interpolates
    data, net = wine
    W = [[str(v) for v in row] for row in net.layers[k].W.tolist()]
    W[0][0] = str(Fraction(W[0][0]) + Fraction(1, 10**9))
    moved = _edited(net, lambda d: d["layers"][k].__setitem__("W", W))
    assert_interpolates(moved, data)
    for mode in MODES:
        cert = _verify(moved, data, mode)
        assert cert.invariants_checked == (mode != "no-invariants")


@pytest.mark.parametrize("mode", ["exact", "certified"])
def test_data_off_the_layers_order_fall_back_to_zero_loss(worked_net, mode):
    # (0, 1) in class 2: layer 1 clips its first coordinate (pre-activation -1/4), yet it collapses
    # at layer 2 like its class: zero loss holds, the layer invariants do not
    X = [[2, 0], [3, 0], [2, 1], [3, 1], [0, 1], [0, 3], [1, 2], [1, 3]]
    data = symtrunc.LabeledData.from_arrays(X, [1] * 4 + [2] * 4)
    assert_interpolates(worked_net, data)
    cert = _verify(worked_net, data, mode)
    assert not cert.invariants_checked and all(r.collapses is None for r in cert.layers)
    assert cert.extra["invariants_failed"] == (
        "identity sign fails at point 4 (class 2), layer 1, neuron 0: value -1/4, expected >= 0"
    )
    moved = symtrunc.LabeledData.from_arrays([[0, "1/2"] if i == 4 else x for i, x in enumerate(X)], [1] * 4 + [2] * 4)
    with pytest.raises(VerificationError) as info:  # (0, 1/2) does not collapse: zero loss fails
        _verify(worked_net, moved, mode)
    _is_true_counterexample(worked_net, moved, info.value.counterexample, info.value.counterexample.neuron)


# ------------------------------------------------------------------------- certificates and re-checks
def test_certificate_names_what_it_speaks_about(worked_net, worked_data, tmp_path):
    exact = symtrunc.verify(worked_net, worked_data)
    certified = symtrunc.verify(
        worked_net,
        np.array(worked_data.X.tolist(), dtype=np.int16).astype(np.float32),
        method="certified",
        labels=np.array([1] * 4 + [2] * 4),
        chunk_size=3,
    )
    assert exact.network_sha256 == certified.network_sha256 == network_sha256(worked_net)
    assert exact.data_sha256 == certified.data_sha256 == data_sha256(worked_data)
    assert exact.targets == certified.targets == ((1, ("1", "0")), (2, ("0", "1")))
    save_certificate(exact, tmp_path / "c.json")
    assert read_certificate(tmp_path / "c.json") == exact == Certificate.from_dict(exact.to_dict())
    # the digest reads exact values: any chunking, any dtype holding them
    dig = DataDigest()
    dig.update(np.array([[2, 0], [3, 0]], dtype=np.int16), np.array([1, 1]))
    dig.update(np.array([[Fraction(2), Fraction(1)], [3, 1]], dtype=object), np.array([1.0, 1.0]))
    dig.update(np.array([[0, 2], [0, 3], [1, 2], [1, 3]], dtype=np.float64), np.array([2, 2, 2, 2]))
    assert dig.hexdigest() == exact.data_sha256
    moved = [[Fraction(str(v)) for v in row] for row in worked_data.X.tolist()]
    moved[0][0] += Fraction(1, 10**12)
    assert data_sha256(symtrunc.LabeledData.from_arrays(moved, [1] * 4 + [2] * 4)) != exact.data_sha256
    relabeled = symtrunc.LabeledData.from_arrays(worked_data.X, [1] * 3 + [2] * 5)
    assert data_sha256(relabeled) != exact.data_sha256
    # metadata are no part of the network's digest; every number and activation is
    assert network_sha256(ReLUNetwork(worked_net.layers, worked_net.classes)) == exact.network_sha256
    L = worked_net.layers[0]
    assert network_sha256(worked_net.with_layer(0, Layer(L.W, L.b, "identity"))) != exact.network_sha256


@pytest.mark.parametrize("mode", MODES)
def test_recheck_catches_another_network_and_other_data(worked_net, worked_data, mode):
    cert = _verify(worked_net, worked_data, mode)
    again = recheck_certificate(cert.to_dict(), worked_net, worked_data)
    assert again.to_dict().keys() == cert.to_dict().keys() and again.layers == cert.layers
    L = worked_net.layers[-1]
    other_net = worked_net.with_layer(worked_net.depth - 1, Layer(L.W, L.b, "relu"))  # same outputs here
    assert_interpolates(other_net, worked_data)
    with pytest.raises(VerificationError, match="the network is not the one"):
        recheck_certificate(cert, other_net, worked_data)
    relabeled = symtrunc.LabeledData.from_arrays(worked_data.X, [2] + [1] * 3 + [2] * 4)
    with pytest.raises(VerificationError, match="the data are not the ones"):
        recheck_certificate(cert, worked_net, relabeled)
    # a certificate stating something else than the proof gives
    inflated = dict(cert.to_dict(), invariants_checked=mode == "no-invariants")
    with pytest.raises(VerificationError, match="re-verification proves (invariants_checked|layers) = "):
        recheck_certificate(inflated, worked_net, worked_data)
    old = {k: v for k, v in cert.to_dict().items() if k not in ("network_sha256", "data_sha256")}
    with pytest.raises(FormatError, match="names no network and data SHA-256"):
        recheck_certificate(old, worked_net, worked_data)


def test_verify_certificate_on_the_command_line(tmp_path, worked_net, worked_csv, capsys):
    net, cert = tmp_path / "net.json", tmp_path / "cert.json"
    save_network(worked_net, net)
    assert main(["verify", str(net), str(worked_csv), "-q", "--certificate", str(cert)]) == 0
    assert main(["verify-certificate", str(cert), str(net), str(worked_csv)]) == 0
    assert "the certificate holds" in capsys.readouterr().out
    # another network: one line, exit 1
    L = worked_net.layers[0]
    other = tmp_path / "other.json"
    save_network(worked_net.with_layer(0, Layer(L.W, L.b * 2, "relu")), other)
    assert main(["verify-certificate", str(cert), str(other), str(worked_csv)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the network is not the one the certificate speaks about" in err[0]
    # other data (one coordinate changed): one line, exit 1
    moved = tmp_path / "moved.csv"
    moved.write_text(worked_csv.read_text(encoding="utf-8").replace("3,1,1", "3,1.000001,1"), encoding="utf-8")
    assert main(["verify-certificate", str(cert), str(net), str(moved)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the data are not" in err[0]
    # not a certificate: exit 2
    assert main(["verify-certificate", str(net), str(net), str(worked_csv)]) == 2


def test_verify_certificate_of_a_certified_run(tmp_path, worked_net, worked_data, capsys):
    X = np.array(worked_data.X.tolist(), dtype=np.int64)
    y = np.array([worked_data.classes[j] for j in worked_data.y])
    points = tmp_path / "points.npy"
    np.save(points, np.column_stack([X, y]).astype(np.uint8))
    net, cert = tmp_path / "net.json", tmp_path / "cert.json"
    save_network(worked_net, net)
    assert (
        main(["verify", str(net), str(points), "--certified", "--chunk-size", "3", "-q", "--certificate", str(cert)])
        == 0
    )
    doc = json.loads(cert.read_text(encoding="utf-8"))
    assert doc["method"] == "certified" and doc["data_sha256"] == data_sha256(worked_data)
    assert main(["verify-certificate", str(cert), str(net), str(points), "--chunk-size", "5", "-q"]) == 0
    flipped = np.column_stack([X, y]).astype(np.uint8)
    flipped[7, -1] = 1
    np.save(tmp_path / "flipped.npy", flipped)
    assert main(["verify-certificate", str(cert), str(net), str(tmp_path / "flipped.npy")]) == 1
    assert "the data are not" in capsys.readouterr().err
