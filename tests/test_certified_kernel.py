"""The structured kernel of certified verification gives the exact verdicts and counterexamples.

Every test runs with the compiled kernel (when numba is installed) and with its NumPy version
(numba hidden), and compares with the general filter (``tuning={"kernel": False}``), the exact
path and an independent ``Fraction`` forward pass.
"""

from fractions import Fraction

import flint
import numpy as np
import pytest
from exact_reference import fraction_forward, fractions_of
from synthetic import clustered_sls_arrays

import symtrunc
from symtrunc.errors import DataError, VerificationError
from symtrunc.exact.evaluate import integer_layers
from symtrunc.network import Layer
from symtrunc.verification.certified import float_filter, kernel
from symtrunc.verification.certified.driver import verify_certified
from symtrunc.verification.certified.maps import prepared_local


@pytest.fixture(scope="module")
def sls():
    X, y = clustered_sls_arrays(120, 12, 4, seed=3)
    data = symtrunc.LabeledData.from_arrays(X, y.tolist())
    return X, y, data, symtrunc.construct(data, cone="rational")


@pytest.fixture(params=["numba", "numpy"])
def engine(request, monkeypatch):
    """The kernel engine: compiled (skipped without numba) or the NumPy fallback (numba hidden)."""
    if request.param == "numba":
        pytest.importorskip("numba")
        monkeypatch.setattr(kernel, "_COMPILED", [])
        monkeypatch.setattr(kernel, "COMPILED_FROM", 0)  # small runs would take the NumPy version
    else:
        monkeypatch.setattr(kernel, "_COMPILED", [None])
    return request.param


@pytest.fixture
def kernel_codes(monkeypatch):
    """The codes the kernel returned in the filter (one array per call)."""
    calls = []
    real = float_filter.structured_codes

    def spy(*args, **kwargs):
        calls.append(real(*args, **kwargs))
        return calls[-1]

    monkeypatch.setattr(float_filter, "structured_codes", spy)
    return calls


def _first_failure(net, X, labels, classes, outputs=None):
    """``(point, neuron, exact value)`` of the first point whose exact output is not its one-hot
    target (``outputs``: the exact outputs, when already computed)."""
    for p, out in enumerate(fraction_forward(net, X) if outputs is None else outputs):
        target = [Fraction(int(c == labels[p])) for c in classes]
        for i, (v, t) in enumerate(zip(out, target)):
            if v != t:
                return p, i, v
    return None


def _same_certificate(a, b) -> None:
    assert (a.n_points, a.n_classes, a.layers, a.invariants_checked) == (
        b.n_points,
        b.n_classes,
        b.layers,
        b.invariants_checked,
    )
    assert a.data_sha256 == b.data_sha256 and a.network_sha256 == b.network_sha256


def test_kernel_settles_every_point_and_agrees(sls, engine, kernel_codes):
    X, y, data, net = sls
    exact = symtrunc.verify(net, data)
    cert = verify_certified(net, X, labels=y, chunk_size=50)
    assert len(kernel_codes) == 3 and all((c >= 0).all() for c in kernel_codes)  # all settled by the kernel
    assert cert.extra["points_exact"] == 0 and cert.extra["patterns"] == data.Q
    general = verify_certified(net, X, labels=y, chunk_size=50, tuning={"kernel": False})
    assert len(kernel_codes) == 3  # not called with kernel=False
    as_read = verify_certified(net, X, labels=y, chunk_size=50, tuning={"class_order": False, "chunk_threads": 1})
    for other in (exact, general, as_read):
        _same_certificate(cert, other)
    assert cert.layers == general.layers and cert.extra["patterns"] == general.extra["patterns"]


def test_kernel_codes_are_the_exact_signs(sls, engine):
    """Code ``c``: exact pre-activations > 0 on every layer before ``c`` and < 0 on layer ``c``."""
    X, y, data, net = sls
    rng = np.random.default_rng(0)
    Xf = np.vstack([X, X + rng.normal(scale=3.0, size=X.shape), rng.uniform(-20, 20, size=(40, X.shape[1]))])
    chain = prepared_local(net).structured_chain()
    assert chain is not None and chain.layers == net.depth - 1
    codes = kernel.structured_codes(chain, Xf, None)
    assert (kernel.numpy_codes(chain, Xf, None) == codes).all()
    assert (codes >= 0).sum() > len(X) and (codes < 0).any()  # both kinds occur
    signs = [Z.signs() for _, Z in list(integer_layers(net, Xf))[: chain.layers]]
    for p in np.flatnonzero(codes >= 0).tolist():
        c = int(codes[p])
        assert all((signs[k][p] > 0).all() for k in range(c))
        assert c == chain.layers or (signs[c][p] < 0).all()


def test_kernel_codes_odd_width_and_partial_block(engine):
    """An odd number of coordinates (the kernel takes two per step) and a last block with
    unused lanes: the codes are still the exact signs."""
    X, y = clustered_sls_arrays(90, 7, 3, seed=5)
    net = symtrunc.construct(symtrunc.LabeledData.from_arrays(X, y.tolist()), cone="rational")
    rng = np.random.default_rng(2)
    noise = rng.uniform(-20, 20, size=(30, X.shape[1]))
    Xf = np.vstack([noise, X])[: kernel.BLOCK + 13]
    chain = prepared_local(net).structured_chain()
    codes = kernel.structured_codes(chain, Xf, None)
    assert (codes >= 0).any() and (codes < 0).any()
    signs = [Z.signs() for _, Z in list(integer_layers(net, Xf))[: chain.layers]]
    for p, c in enumerate(codes.tolist()):
        positive = [bool((signs[k][p] > 0).all()) for k in range(chain.layers)]
        if c >= 0:  # (a point the kernel leaves to the general filter, -1, may be anything)
            assert all(positive[:c]) and (c == chain.layers or (signs[c][p] < 0).all())


def test_kernel_codes_do_not_depend_on_the_order_of_visit(sls, engine):
    """The kernel may visit the points class by class (the worker's order) or in any other
    order, on any number of threads: every point gets the code it gets alone."""
    X, y, data, net = sls
    rng = np.random.default_rng(1)
    copies = -(-2 * 8 * kernel.BLOCK // len(X))  # enough rows for two threads
    Xf = np.vstack([X] + [X + rng.normal(scale=1.0 + s % 5, size=X.shape) for s in range(copies - 1)])
    chain = prepared_local(net).structured_chain()
    alone = np.array([kernel.structured_codes(chain, Xf[p : p + 1], None)[0] for p in range(len(Xf))])
    assert len(set(alone.tolist())) > 2
    for order in (np.argsort(np.tile(y, copies), kind="stable"), rng.permutation(len(Xf))):
        for threads in (1, 3):
            got = kernel.structured_codes(chain, Xf, None, threads=threads, order=order)
            assert (got == alone).all()


def test_kernel_refuses_what_it_cannot_bound(sls, engine):
    X, y, data, net = sls
    chain = prepared_local(net).structured_chain()
    assert chain is not None
    big = X.astype(np.int64)[:4].copy()
    big[1, 0] = 2**60  # a 64-bit integer float64 may round
    assert kernel.structured_codes(chain, big, None)[1] == -1
    Xf = X[:4].astype(np.float64)
    Xf[0, 0], Xf[2, 3] = np.nan, 2.0**401  # NaN, and beyond the range of the bounds
    codes = kernel.structured_codes(chain, Xf, None)
    assert codes[0] == codes[2] == -1 and (codes[[1, 3]] >= 0).all()


# (perturbing layer 1 keeps the function on these points; layers 2 and 3 leave rank-one
# prefix maps up to them only, so the kernel settles the first layers and the filter the rest)
@pytest.mark.parametrize("k, row", [(2, 0), (3, 0), (4, 2)])
def test_wrong_network_is_caught_with_the_exact_counterexample(sls, engine, kernel_codes, k, row):
    X, y, data, net = sls
    layer = net.layers[k]
    W = flint.fmpq_mat(layer.W)
    W[row, 0] = W[row, 0] + flint.fmpq(1, 10**9)
    bad = net.with_layer(k, Layer(W, layer.b, layer.activation))
    first = _first_failure(bad, X, y, bad.classes)
    assert first is not None
    with pytest.raises(VerificationError) as info:
        verify_certified(bad, X, labels=y, chunk_size=50)
    assert kernel_codes  # the kernel ran
    with pytest.raises(VerificationError) as general:
        verify_certified(bad, X, labels=y, chunk_size=50, tuning={"kernel": False})
    c = info.value.counterexample
    assert c == general.value.counterexample
    assert (c.check, c.point, c.neuron, c.layer, c.label) == ("zero loss", first[0], first[1], bad.depth, y[first[0]])
    assert Fraction(c.value) == first[2]


@pytest.mark.parametrize("chunk_threads", [1, 3])
def test_wrong_label_is_caught_at_that_point(sls, engine, tmp_path, chunk_threads):
    X, y, data, net = sls
    wrong = y.copy()
    wrong[37] = (y[37] + 1) % data.Q
    first = _first_failure(net, X, wrong, net.classes)
    assert first is not None and first[0] == 37
    np.save(tmp_path / "d.npy", np.column_stack([X, wrong]).astype(np.uint8))
    for src, kw in ((X, {"labels": wrong}), (str(tmp_path / "d.npy"), {})):
        with pytest.raises(VerificationError) as info:
            verify_certified(net, src, chunk_size=32, tuning={"chunk_threads": chunk_threads}, **kw)
        c = info.value.counterexample
        assert (c.check, c.point, c.neuron, c.label) == ("zero loss", 37, first[1], wrong[37])
        assert Fraction(c.value) == first[2]


def test_file_inputs_give_the_same_certificate(sls, engine, kernel_codes, tmp_path):
    X, y, data, net = sls
    exact = symtrunc.verify(net, data)
    np.save(tmp_path / "u8.npy", np.column_stack([X, y]).astype(np.uint8))
    np.save(tmp_path / "f64.npy", np.column_stack([X, y]).astype(np.float64))
    np.savez(tmp_path / "f64.npz", X=X.astype(np.float64), y=y)
    np.savez_compressed(tmp_path / "c.npz", X=X.astype(np.float64), y=y)
    sources = [
        (str(tmp_path / "u8.npy"), {}),
        (str(tmp_path / "f64.npy"), {}),
        (str(tmp_path / "f64.npz"), {}),
        (str(tmp_path / "c.npz"), {}),
        (X.astype(np.float32), {"labels": y}),
        (X.astype(np.float16), {"labels": y}),
        (X.astype(np.uint16), {"labels": y}),
        (X.astype(np.int64), {"labels": y}),
    ]
    for src, kw in sources:
        kernel_codes.clear()
        cert = verify_certified(net, src, chunk_size=45, **kw)
        _same_certificate(cert, exact)
        assert len(kernel_codes) == 3 and cert.extra["points_exact"] == 0


def test_points_on_a_boundary_go_to_the_exact_path(sls, engine, kernel_codes):
    """A point with a first-layer pre-activation exactly 0 (given as exact rationals, rounded with
    bounded errors) is not settled by the kernel; the verdict is still the exact one."""
    X, y, data, net = sls
    W0 = fractions_of(net.layers[0].W)
    b0 = [v[0] for v in fractions_of(net.layers[0].b)]
    for p in range(len(X)):  # a point with every first-layer sign positive, scaled towards 0
        z = [sum(w * int(x) for w, x in zip(row, X[p])) for row in W0]
        if all(zi + bi > 0 for zi, bi in zip(z, b0)) and any(bi < 0 for bi in b0):
            break
    t = max(-bi / zi for zi, bi in zip(z, b0) if bi < 0)  # the first root met from t = 1 downwards
    on = [t * int(x) for x in X[p]]
    assert min(sum(w * v for w, v in zip(row, on)) + bi for row, bi in zip(W0, b0)) == 0
    beyond = (np.array(X[p], dtype=np.float64) * float(t) * (1 - 2.0**-30)).tolist()
    keep = np.arange(0, len(X), 6)  # a few points of every class
    pts = np.array([list(map(Fraction, X[q].tolist())) for q in keep] + [on, list(map(Fraction, beyond))], dtype=object)
    outputs = fraction_forward(net, pts)
    n, passed = len(keep), 0
    for label in range(data.Q):
        labels = np.concatenate([y[keep], [label, label]])
        kernel_codes.clear()
        first = _first_failure(net, pts, labels, net.classes, outputs)
        if first is None:
            cert = verify_certified(net, pts, labels=labels)
            assert cert.n_points == len(pts) and cert.extra["points_exact"] >= 1  # z = 0: no float certifies it
            passed += 1
        else:
            with pytest.raises(VerificationError) as info:
                verify_certified(net, pts, labels=labels)
            c = info.value.counterexample
            assert (c.point, c.neuron, Fraction(c.value)) == first and c.point >= n
        codes = kernel_codes[0]  # (a failing run may make a second pass)
        assert codes[n] == -1 and (codes[:n] >= 0).all()
    assert 1 <= passed < data.Q  # the point on the boundary has a label; the others fail


def test_float_labels_are_looked_up_exactly(sls):
    X, y, data, net = sls
    cert = verify_certified(net, X, labels=y.astype(np.float64), chunk_size=50)
    assert cert.n_points == len(X)
    for bad, shown in ((np.nan, "nan"), (1.5, "1.5"), (2.0**70, "1.1805916207174113e+21")):
        labels = y.astype(np.float64)
        labels[61] = bad
        with pytest.raises(DataError, match="point 61") as info:
            verify_certified(net, X, labels=labels, chunk_size=50)
        assert shown in str(info.value)


def test_small_runs_do_not_load_numba_but_give_the_same_certificate(sls, monkeypatch):
    # below COMPILED_FROM points the NumPy version runs unless the compiled kernel is loaded
    pytest.importorskip("numba")
    X, y, data, net = sls
    monkeypatch.setattr(kernel, "_COMPILED", [])
    loads = []
    real = kernel.compiled_codes
    monkeypatch.setattr(kernel, "compiled_codes", lambda: loads.append(1) or real())
    small = symtrunc.verify(net, X, method="certified", labels=y)
    assert loads == [] and not kernel.compiled_loaded()
    forced = symtrunc.verify(net, X, method="certified", labels=y, tuning={"compiled": True})
    assert loads and kernel.compiled_loaded()
    same = [c.to_dict() for c in (small, forced)]
    for d in same:
        del d["extra"]["seconds"]
    assert same[0] == same[1]
    monkeypatch.setattr(kernel, "COMPILED_FROM", len(X))  # from this many points: compiled
    loads.clear()
    monkeypatch.setattr(kernel, "_COMPILED", [])
    symtrunc.verify(net, X, method="certified", labels=y)
    assert loads


def test_a_certificate_nobody_keeps_skips_the_digests(sls):
    X, y, data, net = sls
    full = verify_certified(net, X, labels=y, chunk_size=50)
    bare = verify_certified(net, X, labels=y, chunk_size=50, digests=False)
    assert len(full.data_sha256) == len(full.network_sha256) == 64
    assert bare.data_sha256 == bare.network_sha256 == ""
    assert (bare.layers, bare.n_points, bare.invariants_checked) == (
        full.layers,
        full.n_points,
        full.invariants_checked,
    )
    out = net.layers[-1]
    bad = net.with_layer(net.depth - 1, Layer(out.W, out.b * 2 - out.b * 3, out.activation))  # biases negated
    with pytest.raises(VerificationError):
        verify_certified(bad, X, labels=y, chunk_size=50, digests=False)
