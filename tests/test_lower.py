"""Float lowering (symtrunc.lower): agreement with the exact network, chunking, rounding bounds
and exact structure detection."""

import importlib
import importlib.util
import subprocess
import sys
from fractions import Fraction

import flint
import numpy as np
import pytest
from exact_reference import assert_interpolates
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import clustered_data
from synthetic import clustered_sls_data

import symtrunc
from symtrunc.errors import DataError, FormatError, MissingDependencyError
from symtrunc.exact.matrix import identity, qmatrix, to_float
from symtrunc.lowering import FloatNetwork, LayerStructure, detect_structure, lower
from symtrunc.network import ReLUNetwork

structure_mod = importlib.import_module("symtrunc.lowering.structure")
threads_mod = importlib.import_module("symtrunc.exact.threads")
HAVE_NUMBA = importlib.util.find_spec("numba") is not None
ENGINES = ("numpy", "numba") if HAVE_NUMBA else ("numpy",)

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------------------ helpers
@st.composite
def exact_networks(draw, max_width=5, max_layers=4):
    """Random exact networks: widths 1..5, 1..4 layers, rationals in [-4, 4] with denominators ≤ 12."""
    widths = draw(st.lists(st.integers(1, max_width), min_size=2, max_size=max_layers + 1))
    q = st.fractions(min_value=-4, max_value=4, max_denominator=12)
    spec = []
    for k in range(len(widths) - 1):
        W = [[draw(q) for _ in range(widths[k])] for _ in range(widths[k + 1])]
        b = [draw(q) for _ in range(widths[k + 1])]
        spec.append((W, b, "identity" if k == len(widths) - 2 else "relu"))
    return ReLUNetwork.from_rows(spec)


def dyadic_points(d0, n_max=8):
    """Points exactly representable in float32 and float64 (multiples of 1/8 in [-8, 8])."""
    coord = st.integers(-64, 64).map(lambda v: Fraction(v, 8))
    return st.lists(st.lists(coord, min_size=d0, max_size=d0), min_size=1, max_size=n_max)


def a_priori_bound(f: FloatNetwork, X: np.ndarray, x_err: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Componentwise forward error bound (doubled for safety) and magnitude bound of the outputs.

    Per layer with float matrix ``A`` (dense ``|Ŵ|``, structured ``|α| I + |U||V|ᵀ``), exact-vs-float
    weight error ``E`` (from ``max_weight_error`` δ) and ``γ = t u / (1 - t u)`` for ``t`` terms:
    ``e' = A e + E (m + e) + δ + γ (A m + |b|)``, ``m' = A m + |b|``; ReLU is 1-Lipschitz.
    """
    u = np.finfo(f.dtype).eps / 2
    d = f.max_weight_error
    m = np.abs(X).astype(np.float64)
    e = x_err.astype(np.float64)
    for W, b, s in zip(f.weights, f.biases, f.layer_structures):
        n_out, n_in = W.shape
        b = np.abs(b.astype(np.float64))
        if s is None:
            A = np.abs(W.astype(np.float64))
            E = np.full(W.shape, d)
            t = n_in + 1
        else:
            aU, aV = np.abs(s.U.astype(np.float64)), np.abs(s.V.astype(np.float64))
            A = abs(float(s.alpha)) * np.eye(n_in) + aU @ aV.T
            E = d * np.eye(n_in) + d * (aV.sum(1)[None, :] + aU.sum(1)[:, None]) + d * d * s.rank
            t = n_in + s.rank + 2
        g = t * u / (1 - t * u)
        e = e @ A.T + (m + e) @ E.T + d + g * (m @ A.T + b)
        m = m @ A.T + b
    return 2 * e + 1e-300, m


def check_against_exact(net: ReLUNetwork, points, *, rel: float | None = 1e-9, dtypes=("float64",)):
    """Dense and structured outputs vs the exact ones: within the a-priori bound (and ``rel``)."""
    exact = to_float(net.forward(points))
    Xq = qmatrix(points)
    X64 = to_float(Xq)
    x_err64 = np.abs(X64) * 2.0**-53  # the points may not be floats (e.g. wine decimals)
    outs = {}
    for dtype in dtypes:
        for structure in ("dense", "auto"):
            f = lower(net, dtype, structure=structure)
            x_err = x_err64 + np.abs(X64) * np.finfo(dtype).eps
            bound, mag = a_priori_bound(f, X64, x_err)
            for engine in ENGINES:
                out = f.forward(X64, engine=engine)
                assert out.shape == (Xq.nrows(), net.output_dim) and out.dtype == np.dtype(dtype)
                err = np.abs(out.astype(np.float64) - exact)
                assert np.all(err <= bound), (dtype, structure, engine, err.max(), bound.min())
                if rel is not None and dtype == "float64":
                    scale = max(1.0, np.abs(exact).max())
                    assert err.max() <= rel * scale, (structure, engine, err.max())
                outs[dtype, structure, engine] = out
    if rel is not None:  # the float64 paths agree with each other as tightly
        ref = outs["float64", "dense", "numpy"]
        for key, out in outs.items():
            if key[0] == "float64":
                assert np.abs(out - ref).max() <= 2 * rel * max(1.0, np.abs(exact).max()), key
    return outs


# ------------------------------------------------------------------------------ agreement
@pytest.mark.slow
@SETTINGS
@given(st.data())
def test_random_networks_match_exact(data):
    net = data.draw(exact_networks())
    points = data.draw(dyadic_points(net.input_dim))
    outs = check_against_exact(net, points, dtypes=("float64", "float32"))
    d = outs["float64", "dense", "numpy"]
    scale = max(1.0, np.abs(d).max())
    for key, out in outs.items():
        if key[0] == "float64":
            assert np.abs(d - out).max() <= 1e-12 * scale, key


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clustered_data(), st.sampled_from(["rational", "paper"]))
def test_constructed_networks_match_exact_and_predict(data, cone):
    net = symtrunc.construct(data, cone=cone)
    check_against_exact(net, data.X, rel=1e-9 if cone == "rational" else None)
    labels = [data.classes[j] for j in data.y]
    for structure in ("dense", "auto"):
        f = lower(net, structure=structure)
        assert f.predict(to_float(data.X)).tolist() == labels
    if cone == "rational":  # paper-cone layers are α I + (rank ≤ 3): structure only when M > 3 or so
        assert lower(net).structured


@pytest.mark.parametrize("cone", ["rational", "paper"])
def test_wine(cone):
    wine = symtrunc.load_wine()
    net = symtrunc.construct(wine, cone=cone)
    # the paper cone's layers are badly conditioned (cond(W_l) ~ 1e9 on wine): no tight relative check
    check_against_exact(net, wine.X, rel=1e-9 if cone == "rational" else None)
    labels = [wine.classes[j] for j in wine.y]
    X = to_float(wine.X)
    f = lower(net)
    assert f.structured and f.predict(X).tolist() == labels
    assert lower(net, structure="dense").predict(X).tolist() == labels
    if cone == "rational":
        assert lower(net, "float32").predict(X).tolist() == labels


def test_sls_rational_tight_and_float32():
    data = clustered_sls_data(120, 16, 4, seed=3)
    net = symtrunc.construct(data)
    outs = check_against_exact(net, data.X, dtypes=("float64", "float32"))
    for key, out in outs.items():
        if key[0] == "float64":
            assert np.abs(out - outs["float64", "dense", "numpy"]).max() < 1e-9, key
    X = to_float(data.X)
    assert lower(net, "float32").predict(X).tolist() == [data.classes[j] for j in data.y]


# ------------------------------------------------------------------------------ chunking, dtypes, threads
@pytest.fixture(scope="module")
def small_net():
    data = clustered_sls_data(90, 8, 3, seed=2)
    return symtrunc.construct(data), data


@pytest.mark.parametrize("structure", ["dense", "auto"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_chunk_sizes_agree(small_net, structure, dtype):
    net, data = small_net
    f = lower(net, dtype, structure=structure)
    X = np.random.default_rng(0).integers(0, 17, size=(53, 8))
    ref = f.forward(X, chunk=len(X))
    # BLAS picks kernels by shape (a 1-row product is a gemv), so sums may be ordered differently:
    # agreement to rounding level, not bit for bit
    tol = 1e-12 if dtype == "float64" else 1e-4
    for chunk in (1, 7, 52, 53, 1000, None):
        out = f.forward(X, chunk=chunk)
        assert np.abs(out - ref).max() <= tol * max(1.0, np.abs(ref).max())
    np.testing.assert_array_equal(f.forward(X, chunk=7), f.forward(X.astype(np.float64), chunk=7))


def test_memmap_in_and_out(small_net, tmp_path):
    net, data = small_net
    f = lower(net)
    X = np.random.default_rng(1).integers(0, 17, size=(40, 8)).astype(np.int16)
    Xm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.int16, shape=X.shape)
    Xm[:] = X
    Xm.flush()
    Xr = np.load(tmp_path / "x.npy", mmap_mode="r")
    out = np.lib.format.open_memmap(tmp_path / "y.npy", mode="w+", dtype=np.float64, shape=(40, 3))
    res = f.forward(Xr, chunk=16, out=out)
    assert res is out
    np.testing.assert_array_equal(np.asarray(out), f.forward(X, chunk=16))
    out32 = np.empty((40, 3), dtype=np.float32)  # another dtype: written through a buffer
    f.forward(X, chunk=16, out=out32)
    np.testing.assert_allclose(out32, f.forward(X, chunk=16), rtol=1e-6)


def test_training_points_and_threads(small_net):
    net, data = small_net
    X = to_float(data.X)
    labels = [data.classes[j] for j in data.y]
    for dtype in ("float64", np.float32, np.dtype("float64")):
        f = lower(net, dtype)
        for threads in (1, 2, None):
            assert f.predict(X, threads=threads, chunk=32).tolist() == labels


def test_without_threadpoolctl(small_net, monkeypatch):
    net, data = small_net
    monkeypatch.setattr(threads_mod, "_CONTROLLER", {False: None, True: None})
    f = lower(net)
    assert f.predict(to_float(data.X)).tolist() == [data.classes[j] for j in data.y]


def test_array_likes_and_empty(small_net):
    net, data = small_net
    f = lower(net)
    rows = [[Fraction(1, 2)] * 8, [3] * 8]
    np.testing.assert_allclose(f.forward(rows), f.forward(np.array(rows, dtype=float)))
    assert f.forward(np.zeros((0, 8))).shape == (0, 3)
    assert f.predict(np.zeros((0, 8))).shape == (0,)


def test_errors(small_net):
    net, _ = small_net
    f = lower(net)
    with pytest.raises(DataError):
        f.forward(np.zeros((3, 7)))
    with pytest.raises(DataError):
        f.forward(np.zeros(8))
    with pytest.raises(DataError):
        f.forward([["a"] * 8])
    with pytest.raises(DataError):
        f.forward(np.zeros((3, 8)), out=np.zeros((2, 3)))
    for engine in ENGINES:  # an integer out would truncate the outputs silently
        with pytest.raises(DataError, match="floating dtype"):
            f.forward(np.zeros((3, 8)), out=np.zeros((3, 3), dtype=np.int64), engine=engine)
    with pytest.raises(DataError):
        f.forward(np.zeros((3, 8)), chunk=0)
    with pytest.raises(DataError):
        f.forward(np.zeros((3, 8)), threads=0)
    with pytest.raises(DataError):
        lower(net, "int32")
    with pytest.raises(DataError):
        lower(net, structure="sparse")
    huge = ReLUNetwork.from_rows([([[10**400]], [0], "identity")])
    with pytest.raises(DataError, match="too large"):
        lower(huge)
    with pytest.raises(DataError, match="too large"):
        lower(ReLUNetwork.from_rows([([[10**39]], [0], "identity")]), "float32")
    assert f.weights[0].flags.writeable is False


def test_predict_without_classes_and_with_label_matrix(worked_points):
    net = ReLUNetwork.from_rows([([[1, 0], [0, 1], [1, 1]], [0, 0, 0], "identity")])
    assert lower(net).predict([[1, 0], [0, 5], [3, 3]]).tolist() == [0, 1, 2]
    X = worked_points
    data = symtrunc.LabeledData.from_arrays(X, [7] * 4 + [9] * 4, Y=[[1, 1], [0, 2]])
    net = symtrunc.construct(data)
    assert_interpolates(net, data)
    f = lower(net)
    assert f.targets is not None
    assert f.predict(X).tolist() == [7] * 4 + [9] * 4
    assert f.predict(np.array(X)).dtype.kind == "i"


# ------------------------------------------------------------------------------ rounding bound
def _true_max_error(net: ReLUNetwork, f: FloatNetwork) -> flint.fmpq:
    worst = flint.fmpq(0)

    def upd(exact, arr):
        nonlocal worst
        for q, v in zip(exact.entries(), np.asarray(arr, dtype=np.float64).ravel().tolist()):
            worst = max(worst, abs(q - flint.fmpq(*v.as_integer_ratio())))

    for layer, W, b, s in zip(net.layers, f.weights, f.biases, f.layer_structures):
        upd(layer.W, W)
        upd(layer.b, b)
        if s is not None:
            ex = detect_structure(layer.W)
            upd(flint.fmpq_mat(1, 1, [ex.alpha]), [s.alpha])
            upd(ex.U, s.U)
            upd(ex.V, s.V)
    return worst


@pytest.mark.slow
@SETTINGS
@given(exact_networks(), st.sampled_from(["float64", "float32"]), st.sampled_from(["dense", "auto"]))
def test_max_weight_error_is_a_tight_upper_bound(net, dtype, structure):
    f = lower(net, dtype, structure=structure)
    true = _true_max_error(net, f)
    bound = f.max_weight_error
    assert isinstance(bound, float)
    assert flint.fmpq(*bound.as_integer_ratio()) >= true
    if bound > 0:  # rounded up by at most one ulp
        assert flint.fmpq(*np.nextafter(bound, 0.0).item().as_integer_ratio()) < true


@SETTINGS
@given(exact_networks(), st.sampled_from(["float64", "float32"]))
def test_dyadic_weights_are_exact(net, dtype):
    def dyadic(M):
        return flint.fmpq_mat(M.nrows(), M.ncols(), [flint.fmpq(round(float(v) * 64), 64) for v in M.entries()])

    dnet = ReLUNetwork(tuple(type(L)(dyadic(L.W), dyadic(L.b), L.activation) for L in net.layers))
    assert lower(dnet, dtype, structure="dense").max_weight_error == 0.0


def test_correct_rounding_float32():
    # 1 + 2^-24 + 2^-60 rounds (in float64) to the float32 midpoint 1 + 2^-24: rounding that
    # float64 again to float32 would give 1.0, the correctly rounded float32 is 1 + 2^-23
    q = flint.fmpq(1) + flint.fmpq(1, 2**24) + flint.fmpq(1, 2**60)
    tie = flint.fmpq(2**24 + 1)  # an exact tie: to even
    net = ReLUNetwork((symtrunc.Layer(flint.fmpq_mat(1, 2, [q, tie]), flint.fmpq_mat(1, 1, [-q]), "identity"),))
    f = lower(net, "float32", structure="dense")
    assert f.weights[0].tolist() == [[1 + 2.0**-23, 2.0**24]]
    assert f.biases[0].tolist() == [-(1 + 2.0**-23)]
    assert f.max_weight_error == float(flint.fmpq(1, 1))  # the tie errs by 1
    assert lower(net, structure="dense").weights[0].tolist() == [[1 + 2.0**-24, 2.0**24 + 1]]


# ------------------------------------------------------------------------------ structure
@pytest.mark.parametrize("source", ["clustered", "wine", "sls"])
def test_rational_cone_layers_are_identity_plus_u_g(source):
    if source == "wine":
        data = symtrunc.load_wine()
    elif source == "sls":
        data = clustered_sls_data(100, 12, 4, seed=1)
    else:
        data = symtrunc.LabeledData.from_arrays(
            [[12, 0, 0, 1], [11, 1, 0, 0], [0, 12, 1, 0], [1, 11, 0, 0], [0, 0, 12, 1], [0, 1, 11, 0]],
            ["a", "a", "b", "b", "c", "c"],
        )
    net = symtrunc.construct(data, cone="rational")
    ones = flint.fmpq_mat(data.M, 1, [1] * data.M)
    for layer in net.layers[:-1]:
        s = detect_structure(layer.W)
        assert s is not None and s.rank <= 1
        assert s.rank == 0 or s.U == ones
        assert s.matrix() == layer.W
        n = data.M
        for i in range(n):  # off-diagonal W_ij = g_j, diagonal W_jj = α + g_j
            for j in range(n):
                g = s.V[j, 0] if s.rank else 0
                assert layer.W[i, j] == (s.alpha + g if i == j else g)
    f = lower(net, structure="structured")
    assert all(fs is not None and fs.rank <= 1 for fs in f.layer_structures[:-1])
    assert f.layer_structures[-1] is None or data.M == data.Q


def test_paper_cone_layers_have_low_rank_structure():
    data = clustered_sls_data(100, 12, 4, seed=1)
    net = symtrunc.construct(data, cone="paper")
    for layer in net.layers[:-1]:
        s = detect_structure(layer.W)
        assert s is not None and s.rank <= 3
        assert s.matrix() == layer.W
        assert (layer.W - s.alpha * identity(data.M)).rank() == s.rank
    check_against_exact(net, data.X, rel=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_random_dense_has_no_structure(seed):
    rng = np.random.default_rng(seed)
    n = 6 + seed
    W = qmatrix(rng.integers(-50, 51, size=(n, n)).tolist())
    assert detect_structure(W) is None
    net = ReLUNetwork.from_rows(
        [
            (rng.integers(-5, 6, size=(n, n)).tolist(), [0] * n, "relu"),
            (rng.integers(-5, 6, size=(2, n)).tolist(), [0, 0], "identity"),
        ]
    )
    assert not lower(net).structured
    with pytest.raises(FormatError):
        lower(net, structure="structured")


@SETTINGS
@given(
    st.integers(6, 12),
    st.integers(0, 4),
    st.fractions(min_value=-3, max_value=3, max_denominator=7),
    st.data(),
)
@pytest.mark.slow
def test_detector_recovers_planted_structure(n, k, alpha, data):
    q = st.fractions(min_value=-5, max_value=5, max_denominator=5)
    U = qmatrix([[data.draw(q) for _ in range(k)] for _ in range(n)]) if k else flint.fmpq_mat(n, 0)
    V = qmatrix([[data.draw(q) for _ in range(k)] for _ in range(n)]) if k else flint.fmpq_mat(n, 0)
    a = flint.fmpq(alpha.numerator, alpha.denominator)
    W = LayerStructure(a, U, V).matrix()
    s = detect_structure(W)
    assert s is not None
    assert s.matrix() == W  # exact factorization
    assert s.rank == (W - s.alpha * identity(n)).rank() <= k
    B = U * V.transpose() if k else flint.fmpq_mat(n, n)
    if B.rank() < n // 2:  # α is then the unique eigenvalue of multiplicity > n/2
        assert s.alpha == a


def test_detector_small_and_rectangular():
    assert detect_structure(qmatrix([[1, 2, 3]])) is None
    assert detect_structure(qmatrix([[5]])) is None
    s = detect_structure(qmatrix([[3, 0], [0, 3]]))
    assert s.alpha == 3 and s.rank == 0
    assert detect_structure(qmatrix([[1, 2, 3], [4, 5, 6], [7, 8, 10]])) is None


def test_exact_fallback_agrees_with_guided_path():
    """The float-guided detector and the pure exact elimination find the same structures."""
    from unittest import mock

    rng = np.random.default_rng(7)
    cases = []
    for n, k in ((6, 0), (8, 1), (9, 2), (12, 3), (10, 4)):
        U = qmatrix(rng.integers(-4, 5, size=(n, k)).tolist()) if k else flint.fmpq_mat(n, 0)
        V = qmatrix(rng.integers(-4, 5, size=(n, k)).tolist()) if k else flint.fmpq_mat(n, 0)
        cases.append(LayerStructure(flint.fmpq(int(rng.integers(-3, 4)), 3), U, V).matrix())
    cases.append(qmatrix(rng.integers(-9, 10, size=(9, 9)).tolist()))  # no structure
    guided = [detect_structure(W) for W in cases]
    with mock.patch.object(structure_mod, "_guided_structure", lambda *args: None):
        exact = [detect_structure(W) for W in cases]
    for W, g, x in zip(cases, guided, exact):
        assert (g is None) == (x is None)
        if g is not None:
            assert g.matrix() == W == x.matrix() and g.alpha == x.alpha and g.rank == x.rank
    assert guided[-1] is None


# ------------------------------------------------------------------------------ engines (numba kernel, NumPy)
@st.composite
def structured_networks(draw, max_width=7):
    """Exact networks whose square layers are ``α I + U Vᵀ`` (rank 0..3) with ReLU, then a dense
    or (square, identity) structured output layer: every branch of the compiled kernel."""
    n = draw(st.integers(2, max_width))
    q = st.fractions(min_value=-3, max_value=3, max_denominator=6)
    spec = []
    for _ in range(draw(st.integers(1, 3))):
        k = draw(st.integers(0, min(3, n - 1)))
        U = qmatrix([[draw(q) for _ in range(k)] for _ in range(n)]) if k else flint.fmpq_mat(n, 0)
        V = qmatrix([[draw(q) for _ in range(k)] for _ in range(n)]) if k else flint.fmpq_mat(n, 0)
        alpha = draw(st.fractions(min_value=-2, max_value=2, max_denominator=4))
        W = LayerStructure(flint.fmpq(alpha.numerator, alpha.denominator), U, V).matrix()
        spec.append((W.tolist(), [draw(q) for _ in range(n)], "relu"))
    if draw(st.booleans()):  # a dense hidden layer in between
        spec.append(([[draw(q) for _ in range(n)] for _ in range(n)], [draw(q) for _ in range(n)], "relu"))
    if draw(st.booleans()):
        d_out = draw(st.integers(1, 4))
        spec.append(([[draw(q) for _ in range(n)] for _ in range(d_out)], [draw(q) for _ in range(d_out)], "identity"))
    else:
        spec.append(((2 * identity(n)).tolist(), [draw(q) for _ in range(n)], "identity"))
    return ReLUNetwork.from_rows(spec)


@pytest.mark.slow
@SETTINGS
@given(st.data())
def test_structured_networks_both_engines_match_exact(data):
    net = data.draw(structured_networks())
    points = data.draw(dyadic_points(net.input_dim, n_max=40))  # > 32: more than one kernel block
    outs = check_against_exact(net, points, dtypes=("float64", "float32"))
    assert lower(net).structured
    d = outs["float64", "dense", "numpy"]
    for key, out in outs.items():
        if key[0] == "float64":
            assert np.abs(out - d).max() <= 1e-12 * max(1.0, np.abs(d).max()), key


needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")


@needs_numba
def test_numba_engine_inputs_chunks_threads(small_net):
    net, data = small_net
    f = lower(net)
    X = np.random.default_rng(3).integers(0, 17, size=(101, 8))
    ref = f.forward(X, engine="numpy")
    out = f.forward(X, engine="numba")
    assert np.abs(out - ref).max() <= 1e-12 * max(1.0, np.abs(ref).max())
    # every point is computed on its own: bit for bit the same whatever the chunking, threads or input dtype
    for kw in ({"chunk": 1}, {"chunk": 7, "threads": 2}, {"threads": None}):
        np.testing.assert_array_equal(f.forward(X, engine="numba", **kw), out)
    for Xc in (
        X.astype(np.uint8),
        X.astype(np.float32),
        X.astype(np.int64),
        np.asfortranarray(X.astype(float)),
        X.astype(float)[::-1][::-1],
    ):
        np.testing.assert_array_equal(f.forward(Xc, engine="numba"), out)
    buf = np.empty((3, 101)).T  # not C-contiguous: written through a buffer
    np.testing.assert_array_equal(f.forward(X, engine="numba", out=buf), out)
    f32 = lower(net, "float32")
    o32 = f32.forward(X, engine="numba")
    assert o32.dtype == np.float32 and np.abs(o32 - ref).max() <= 1e-4 * max(1.0, np.abs(ref).max())
    assert f.predict(X).tolist() == f.predict(X, engine="numpy").tolist()


@needs_numba
def test_compiled_kernel_matches_its_python_source():
    from symtrunc.lowering.kernels import compiled_forward, forward_blocks, pack

    rng = np.random.default_rng(5)
    n, k = 6, 2
    U, V = rng.normal(size=(n, k)), rng.normal(size=(n, k))
    ops = [
        ("structured", True, 0.5, U[:, :1], V[:, :1], rng.normal(size=n)),
        ("structured", True, 1.5, U, V, rng.normal(size=n)),
        ("dense", True, rng.normal(size=(5, n)), rng.normal(size=5)),
        ("dense", False, rng.normal(size=(3, 5)), rng.normal(size=3)),
    ]
    meta, alphas, params = pack(ops, np.float64)
    X = rng.normal(size=(70, n))
    compiled, python = np.empty((70, 3)), np.empty((70, 3))
    compiled_forward()(X, compiled, meta, alphas, params, np.zeros(1))
    forward_blocks.py_func(X, python, meta, alphas, params, np.zeros(1))
    np.testing.assert_allclose(compiled, python, rtol=1e-12, atol=1e-12)
    H = X  # and both are the network
    for op in ops:
        Z = H @ op[2].T + op[3] if op[0] == "dense" else op[2] * H + (H @ op[4]) @ op[3].T + op[5]
        H = np.maximum(Z, 0) if op[1] else Z
    np.testing.assert_allclose(compiled, H, rtol=1e-12, atol=1e-12)


def test_numpy_fallback_without_numba(small_net, monkeypatch):
    net, data = small_net
    X = to_float(data.X)
    labels = [data.classes[j] for j in data.y]
    ref = lower(net).forward(X, engine="numpy")
    monkeypatch.setitem(sys.modules, "symtrunc.lowering.kernels", None)  # as if numba were not installed
    f = lower(net)
    np.testing.assert_array_equal(f.forward(X), ref)  # "auto" falls back to the NumPy path
    assert f.predict(X).tolist() == labels
    with pytest.raises(MissingDependencyError, match=r"pip install \"symtrunc\[fast\]\""):
        f.forward(X, engine="numba")
    monkeypatch.undo()
    kernels = importlib.import_module("symtrunc.lowering.kernels")
    monkeypatch.setattr(kernels, "numba", None)  # the module itself without numba
    assert kernels.compiled_forward() is None
    with pytest.raises(MissingDependencyError, match="numba"):
        lower(net).forward(X, engine="numba")


def test_engine_errors_and_lazy_import(small_net):
    net, _ = small_net
    f = lower(net)
    for n in (3, 0):
        with pytest.raises(DataError, match="engine"):
            f.forward(np.zeros((n, 8)), engine="cuda")
    for engine in ENGINES:
        with pytest.raises(DataError, match="threads"):
            f.forward(np.zeros((3, 8)), engine=engine, threads=0)
    code = "import sys, symtrunc; print('numba' in sys.modules, 'symtrunc.lowering.kernels' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.split() == ["False", "False"]


def test_auto_engine_uses_the_kernel_only_for_enough_rows(small_net):
    from symtrunc.lowering.float_network import AUTO_NUMBA_MIN_ROWS

    net, _ = small_net
    f = lower(net)
    rng = np.random.default_rng(1)
    small = rng.integers(0, 17, size=(AUTO_NUMBA_MIN_ROWS - 1, 8)).astype(np.float64)
    np.testing.assert_array_equal(f.forward(small), f.forward(small, engine="numpy"))
    large = rng.integers(0, 17, size=(AUTO_NUMBA_MIN_ROWS, 8)).astype(np.float64)
    np.testing.assert_array_equal(f.forward(large), f.forward(large, engine=ENGINES[-1]))
