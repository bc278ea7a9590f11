"""Chunked point sources."""

import numpy as np
import pytest

import symtrunc
from symtrunc.data.stream import map_chunks, open_source, progress_bar
from symtrunc.errors import DataError


def _collect(src, size):
    chunks = list(src.chunks(size))
    X = np.concatenate([c.X for c in chunks])
    y = np.concatenate([c.labels for c in chunks])
    return chunks, X, y


def test_array_source_chunks_cover_everything():
    X = np.arange(30, dtype=np.int64).reshape(10, 3)
    src = open_source(X, labels=np.arange(10) % 2)
    for size in (1, 3, 10, 100):
        chunks, Xc, yc = _collect(src, size)
        assert [c.start for c in chunks] == list(range(0, 10, size))
        assert (Xc == X).all() and (yc == np.arange(10) % 2).all()


def test_npy_memmap_last_column_is_label(tmp_path):
    arr = np.hstack([np.arange(20, dtype=np.uint8).reshape(10, 2), (np.arange(10) % 3)[:, None].astype(np.uint8)])
    p = tmp_path / "d.npy"
    np.save(p, arr)
    src = open_source(p)
    assert isinstance(src.X, np.memmap) and src.n_points == 10 and src.dim == 2
    _, X, y = _collect(src, 4)
    assert (X == arr[:, :2]).all() and (y == arr[:, 2]).all()
    # labels given separately: every column is a feature
    np.save(tmp_path / "y.npy", np.arange(10))
    src = open_source(p, labels=tmp_path / "y.npy")
    assert src.dim == 3


def test_shards_and_npz_and_csv(tmp_path):
    for k in range(3):
        np.save(tmp_path / f"part-{k}.npy", np.full((4, 3), k, dtype=np.int16))
    src = open_source(str(tmp_path / "part-*.npy"))
    chunks, X, y = _collect(src, 3)
    assert src.n_points == 12 and [c.start for c in chunks] == [0, 3, 4, 7, 8, 11]
    assert (y == np.repeat([0, 1, 2], 4)).all()
    np.savez(tmp_path / "d.npz", X=np.eye(3), y=np.array([0, 1, 2]))
    assert open_source(tmp_path / "d.npz").n_points == 3
    (tmp_path / "d.csv").write_text("a,b,label\n0.1,0,x\n0,0.1,y\n")
    src = open_source(tmp_path / "d.csv")
    (chunk,) = src.chunks(10)
    assert (
        chunk.is_rational
        and chunk.X[0, 0] == symtrunc.LabeledData.from_arrays([["0.1", 0], [0, 1]], ["x", "y"]).X[0, 0]
    )
    assert list(chunk.labels) == ["x", "y"]


def test_labeled_data_source_is_exact():
    data = symtrunc.load_wine()
    src = open_source(data)
    _, X, y = _collect(src, 50)
    assert X[0, 0] == data.X[0, 0] and y[-1] == data.classes[data.y[-1]]


def test_map_chunks_local_order_and_progress_off():
    src = open_source(np.ones((10, 2)), labels=np.zeros(10))
    assert map_chunks(lambda c: (c.start, len(c)), src, chunk_size=4) == [(0, 4), (4, 4), (8, 2)]
    bar = progress_bar(3, "x", enabled=None)  # not a terminal under pytest: silent
    bar.update(3)
    bar.close()


def test_map_chunks_on_threads_keeps_source_order():
    """Chunks that finish out of order come back in source order; ``on_read`` sees them in
    order as they are read; an error in a chunk is raised."""
    import time

    src = open_source(np.arange(40.0).reshape(20, 2), labels=np.zeros(20))
    seen = []

    def slow_first(c):
        time.sleep(0.05 if c.start % 6 == 0 else 0.0)
        return c.start, float(c.X[0, 0])

    out = map_chunks(slow_first, src, chunk_size=3, threads=3, on_read=lambda c: seen.append(c.start))
    assert out == [(s, 2.0 * s) for s in range(0, 20, 3)] and seen == list(range(0, 20, 3))

    def broken(c):
        if c.start == 9:
            raise DataError("chunk at 9")
        return c.start

    with pytest.raises(DataError, match="chunk at 9"):
        map_chunks(broken, src, chunk_size=3, threads=2)


@pytest.mark.parametrize(
    "bad, match",
    [
        (lambda p: open_source(p / "missing.npy"), "no such file"),
        (lambda p: open_source(str(p / "none-*.npy")), "no files match"),
        (lambda p: open_source(np.ones((3, 2))), "labels are required"),
        (lambda p: open_source(np.ones(3), labels=[0, 1, 2]), "2-dimensional"),
        (lambda p: open_source(np.ones((3, 2)), labels=[0, 1]), "labels of shape"),
        (lambda p: open_source(np.array([["a", "b"]]), labels=[0]), "numeric"),
    ],
)
def test_bad_sources(tmp_path, bad, match):
    with pytest.raises(DataError, match=match):
        bad(tmp_path)


def test_nan_in_chunk_is_reported_with_global_index():
    X = np.zeros((10, 2))
    X[7, 1] = np.nan
    src = open_source(X, labels=np.zeros(10))
    with pytest.raises(DataError, match="point 7"):
        list(src.chunks(3))


def test_npy_1d_without_labels_is_refused(tmp_path):
    np.save(tmp_path / "v.npy", np.arange(5))
    with pytest.raises(DataError, match="last column"):
        open_source(tmp_path / "v.npy")


def test_npz_members_are_streamed(tmp_path):
    from symtrunc.data.stream import _CompressedSource

    X = np.arange(60, dtype=np.float64).reshape(20, 3) / 4
    y = np.arange(20) % 3
    np.savez(tmp_path / "s.npz", X=X, y=y)
    np.savez_compressed(tmp_path / "c.npz", X=X, y=y)
    stored, compressed = open_source(tmp_path / "s.npz"), open_source(tmp_path / "c.npz")
    assert isinstance(stored.X, np.memmap)  # read in place, like a .npy file
    assert isinstance(compressed, _CompressedSource) and (compressed.n_points, compressed.dim) == (20, 3)
    for src in (stored, compressed):
        for size in (1, 7, 20, 50):
            chunks, Xc, yc = _collect(src, size)
            assert [c.start for c in chunks] == list(range(0, 20, size))
            assert (Xc == X).all() and (yc == y).all() and Xc.dtype == X.dtype


def test_npz_nan_and_damage_are_data_errors(tmp_path):
    X = np.zeros((10, 2))
    X[8, 0] = np.nan
    np.savez_compressed(tmp_path / "nan.npz", X=X, y=np.zeros(10))
    with pytest.raises(DataError, match="point 8"):
        list(open_source(tmp_path / "nan.npz").chunks(3))
    np.savez_compressed(tmp_path / "c.npz", X=np.ones((200, 4)), y=np.zeros(200))
    raw = bytearray((tmp_path / "c.npz").read_bytes())
    raw[60:70] = bytes(10)  # inside the compressed data of the first member
    (tmp_path / "bad.npz").write_bytes(bytes(raw))
    with pytest.raises(DataError, match="cannot read"):
        list(open_source(tmp_path / "bad.npz").chunks(50))
    np.savez(tmp_path / "no_y.npz", X=np.ones((2, 2)))
    with pytest.raises(DataError, match="'X' and 'y'"):
        open_source(tmp_path / "no_y.npz")


def test_released_memmap_pages_read_back_the_same(tmp_path):
    arr = np.random.default_rng(0).integers(0, 255, size=(5000, 9), dtype=np.uint8)
    np.save(tmp_path / "d.npy", arr)
    src = open_source(tmp_path / "d.npy")
    for _ in range(2):  # the second pass reads pages the first released
        _, X, y = _collect(src, 700)
        assert (X == arr[:, :8]).all() and (y == arr[:, 8]).all()
