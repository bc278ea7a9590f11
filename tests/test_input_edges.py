"""Input edge cases of certified verification and network files (found by a fresh-eyes review)."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import clustered_sls_arrays

import symtrunc
from symtrunc.errors import DataError
from symtrunc.verification.certified import kernel


@pytest.fixture(scope="module")
def small():
    X, y = clustered_sls_arrays(150, 6, 3, seed=1)
    data = symtrunc.LabeledData.from_arrays(X, y.tolist())
    return X, y, symtrunc.construct(data)


def _plain(cert):
    d = cert.to_dict()
    del d["extra"]["seconds"]
    return d


@pytest.mark.parametrize("dtype", [">f8", ">i8", ">i2", ">f4"])
@pytest.mark.parametrize("compiled", [False, True])
def test_big_endian_points_give_the_same_certificate(small, tmp_path, dtype, compiled):
    if compiled:
        pytest.importorskip("numba")
    X, y, net = small
    path = tmp_path / "be.npy"
    np.save(path, np.column_stack([X, y]).astype(dtype))
    got = symtrunc.verify(net, path, method="certified", tuning={"compiled": compiled})
    want = symtrunc.verify(net, X, labels=y, method="certified", tuning={"compiled": False})
    assert _plain(got) == _plain(want)


def test_empty_points_are_refused(small, tmp_path):
    X, y, net = small
    path = tmp_path / "empty.npy"
    np.save(path, np.zeros((0, X.shape[1] + 1)))
    with pytest.raises(DataError, match="no points"):
        symtrunc.verify(net, path, method="certified")


def test_labels_are_refused_where_the_data_hold_their_own(small, tmp_path):
    X, y, net = small
    csv = tmp_path / "d.csv"
    csv.write_text("\n".join(",".join(map(str, [*row, lab])) for row, lab in zip(X.tolist(), y.tolist())) + "\n")
    npz = tmp_path / "d.npz"
    np.savez(npz, X=X, y=y)
    np.save(tmp_path / "s0.npy", np.column_stack([X, y]))
    for path in (csv, npz, str(tmp_path / "*.npz"), str(tmp_path / "s*.npy")):
        with pytest.raises(DataError, match="holds its own labels"):
            symtrunc.verify(net, path, method="certified", labels=(y + 1) % 3)


@pytest.mark.parametrize("bad", [0, 1, "no", 2.0])
def test_tuning_compiled_must_be_a_boolean(small, bad):
    X, y, net = small
    loaded = list(kernel._COMPILED)
    with pytest.raises(DataError, match="compiled must be"):
        symtrunc.verify(net, X, labels=y, method="certified", tuning={"compiled": bad})
    assert kernel._COMPILED == loaded


def test_a_network_with_boolean_classes_round_trips(tmp_path):
    d = symtrunc.LabeledData.from_arrays([[0, 1], [1, 0], [0, 2], [2, 0]], [True, False, True, False])
    net = symtrunc.construct(d)
    symtrunc.save_network(net, tmp_path / "n.json")
    back = symtrunc.load_network(tmp_path / "n.json")
    assert back.classes == net.classes and all(type(c) is bool for c in back.classes)
    assert symtrunc.verify(back, d).zero_loss
