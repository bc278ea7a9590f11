"""Tests of :mod:`symtrunc.data.labeled`: exact reading, derived quantities and input validation."""

from __future__ import annotations

import dataclasses
import math
import tempfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import flint
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.errors import DataError, SymtruncError

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- helpers
def q(num: int, den: int = 1) -> flint.fmpq:
    return flint.fmpq(num, den)


def as_fractions(A: flint.fmpq_mat) -> list[list[Fraction]]:
    return [[Fraction(int(v.p), int(v.q)) for v in row] for row in A.tolist()]


def write(tmp_path: Path, text: str, name: str = "d.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def raises_data_error(phrase: str):
    """``pytest.raises`` for a DataError whose message contains ``phrase`` (regex-escaped)."""
    import re

    return pytest.raises(DataError, match=re.escape(phrase))


SIMPLE = dict(X=[[2, 0], [3, 0], [0, 2], [0, 3]], y=["a", "a", "b", "b"])


# =================================================================== exact reading
class TestCsvReading:
    def test_decimal_strings_are_exact(self, tmp_path):
        p = write(tmp_path, "0.1,1e-3,a\n7/4,-2.50,b\n 0.5 ,1E+2,c\n3,-1/3,c\n")
        d = LabeledData.from_csv(p, check=False)
        assert d.X[0, 0] == q(1, 10)
        assert d.X[0, 1] == q(1, 1000)
        assert d.X[1, 0] == q(7, 4)
        assert d.X[1, 1] == q(-5, 2)
        assert d.X[2, 0] == q(1, 2)
        assert d.X[2, 1] == q(100)
        assert d.X[3, 1] == q(-1, 3)
        assert d.X[0, 0] != flint.fmpq(*(0.1).as_integer_ratio())

    def test_header_row_is_detected(self, tmp_path):
        p = write(tmp_path, "u, v ,label\n1,0,x\n0,1,y\n")
        d = LabeledData.from_csv(p)
        assert d.feature_names == ("u", "v")
        assert d.N == 2
        assert d.classes == ("x", "y")

    def test_no_header_keeps_first_row(self, tmp_path):
        p = write(tmp_path, "1,0,x\n0,1,y\n")
        d = LabeledData.from_csv(p)
        assert d.feature_names is None
        assert d.N == 2
        assert d.X.tolist()[0] == [1, 0]

    def test_header_with_empty_index_name(self, tmp_path):
        # pandas' to_csv writes an empty name for the index column
        p = write(tmp_path, ",u,v,label\n0,1,0,x\n1,0,1,y\n")
        d = LabeledData.from_csv(p)
        assert d.feature_names == ("", "u", "v")
        assert d.M == 3

    def test_feature_names_keyword_overrides_header(self, tmp_path):
        p = write(tmp_path, "u,v,label\n1,0,x\n0,1,y\n")
        assert LabeledData.from_csv(p, feature_names=["a", "b"]).feature_names == ("a", "b")

    def test_string_labels(self, tmp_path):
        p = write(tmp_path, "1,0,cat\n0,1,dog\n2,0, cat \n")
        d = LabeledData.from_csv(p)
        assert d.classes == ("cat", "dog")
        assert d.y == (0, 1, 0)

    def test_integer_labels(self, tmp_path):
        p = write(tmp_path, "1,0,2\n0,1,10\n2,0,2\n")
        d = LabeledData.from_csv(p)
        assert d.classes == (2, 10)  # ints, sorted numerically (not "10" < "2")
        assert all(isinstance(c, int) for c in d.classes)
        assert d.y == (0, 1, 0)

    def test_blank_lines_bom_and_quotes(self, tmp_path):
        p = tmp_path / "bom.csv"
        p.write_bytes('\ufeffu,v,label\n\n"0.25",1,"x"\n   \n0,1/8,y\n\n'.encode("utf-8"))
        d = LabeledData.from_csv(p)
        assert d.feature_names == ("u", "v")
        assert d.X.tolist() == [[q(1, 4), 1], [0, q(1, 8)]]

    def test_classes_keyword_passes_through(self, tmp_path):
        p = write(tmp_path, "1,0,x\n0,1,y\n")
        d = LabeledData.from_csv(p, classes=["y", "x"])
        assert d.classes == ("y", "x")
        assert d.y == (1, 0)

    def test_txt_and_no_suffix_are_csv(self, tmp_path):
        for name in ("d.txt", "data"):
            p = write(tmp_path, "1,0,x\n0,1,y\n", name)
            assert load_data(p).N == 2
            assert load_data(str(p)).N == 2


class TestArrayReading:
    def test_float_array_is_its_binary_fraction(self):
        d = LabeledData.from_arrays(np.array([[0.1, 0.0], [0.0, 1.5]]), ["a", "b"])
        assert d.X[0, 0] == q(3602879701896397, 36028797018963968)
        assert d.X[0, 0] != q(1, 10)
        assert d.X[1, 1] == q(3, 2)

    def test_python_float_list_is_exact(self):
        d = LabeledData.from_arrays([[0.1, 0], [0, 1]], ["a", "b"])
        assert d.X[0, 0] == q(3602879701896397, 36028797018963968)

    def test_float32_array_is_exact(self):
        x = np.float32(0.1)
        d = LabeledData.from_arrays(np.array([[x, 0], [0, 1]], dtype=np.float32), ["a", "b"])
        assert Fraction(int(d.X[0, 0].p), int(d.X[0, 0].q)) == Fraction(float(x))

    def test_int_lists_and_int_arrays(self):
        d1 = LabeledData.from_arrays([[1, 0], [0, 7]], ["a", "b"])
        d2 = LabeledData.from_arrays(np.array([[1, 0], [0, 7]], dtype=np.int64), ["a", "b"])
        d3 = LabeledData.from_arrays(np.array([[1, 0], [0, 7]], dtype=np.uint8), ["a", "b"])
        assert d1.X == d2.X == d3.X
        assert d1 == d2

    def test_fractions_sympy_and_strings(self):
        X = [
            [Fraction(7, 4), sympy.Rational(-1, 3)],
            ["0.2", sympy.Integer(5)],
            [Decimal("0.125"), flint.fmpq(2, 9)],
        ]
        d = LabeledData.from_arrays(X, ["a", "b", "b"], check=False)
        assert d.X.tolist() == [[q(7, 4), q(-1, 3)], [q(1, 5), 5], [q(1, 8), q(2, 9)]]

    def test_object_array_of_fractions(self):
        X = np.array([[Fraction(1, 3), 0], [0, Fraction(2, 3)]], dtype=object)
        d = LabeledData.from_arrays(X, ["a", "b"])
        assert d.X[0, 0] == q(1, 3)

    def test_flint_matrices(self):
        Xz = flint.fmpz_mat([[1, 0], [0, 1]])
        Xq = flint.fmpq_mat([[q(1, 2), 0], [0, 1]])
        assert LabeledData.from_arrays(Xz, ["a", "b"]).X == flint.fmpq_mat(Xz)
        assert LabeledData.from_arrays(Xq, ["a", "b"]).X == Xq

    def test_numpy_labels(self):
        d = LabeledData.from_arrays([[1, 0], [0, 1]], np.array([3, 1]))
        assert d.classes == (1, 3)
        assert d.y == (1, 0)
        assert all(type(c) is int for c in d.classes)

    def test_mixed_label_types_sort_without_error(self):
        d = LabeledData.from_arrays([[1, 0], [0, 1]], [1, "b"])
        assert set(d.classes) == {1, "b"}

    def test_load_data_from_arrays_and_passthrough(self):
        d = load_data(SIMPLE["X"], SIMPLE["y"])
        assert load_data(d) is d
        assert load_data(SIMPLE["X"], SIMPLE["y"], classes=["b", "a"]).classes == ("b", "a")


class TestNpzReading:
    def test_int_and_string_arrays(self, tmp_path):
        p = tmp_path / "d.npz"
        np.savez(p, X=np.array([[1, 0], [0, 2]]), y=np.array(["x", "y"]))
        d = load_data(p)
        assert d.classes == ("x", "y")
        assert d.X.tolist() == [[1, 0], [0, 2]]
        assert d.feature_names is None

    def test_float_array_is_exact(self, tmp_path):
        p = tmp_path / "d.npz"
        np.savez(p, X=np.array([[0.1, 0.0], [0.0, 0.75]]), y=np.array([0, 1]))
        d = LabeledData.from_npz(p)
        assert d.X[0, 0] == q(3602879701896397, 36028797018963968)
        assert d.X[1, 1] == q(3, 4)
        assert d.classes == (0, 1)

    def test_kwargs_pass_through(self, tmp_path):
        p = tmp_path / "d.NPZ"  # suffix is case-insensitive
        with open(p, "wb") as f:  # np.savez would append ".npz" to a path
            np.savez(f, X=np.array([[1, 0], [0, 2]]), y=np.array([0, 1]))
        d = load_data(p, classes=[1, 0], Y=[[2, 0], [0, 3]])
        assert d.classes == (1, 0)
        assert d.Y == flint.fmpq_mat([[2, 0], [0, 3]])


# ================================================================ derived quantities
class TestGeometry:
    # unequal class sizes: 3 points in "a", 1 point in "b"
    X = [[0, 0, 1], [3, 0, 1], [0, 6, 1], [4, 4, 4]]
    y = ["a", "a", "a", "b"]

    @pytest.fixture
    def d(self):
        return LabeledData.from_arrays(self.X, self.y)

    def test_shapes_and_counts(self, d):
        assert (d.N, d.M, d.Q) == (4, 3, 2)
        assert d.counts == (3, 1)
        assert d.class_indices == ((0, 1, 2), (3,))
        assert d.points(0).tolist() == [[0, 0, 1], [3, 0, 1], [0, 6, 1]]
        assert d.points(1).tolist() == [[4, 4, 4]]

    def test_means(self, d):
        assert (d.means.nrows(), d.means.ncols()) == (3, 2)
        assert d.mean(0).tolist() == [[1], [2], [1]]
        assert d.mean(1).tolist() == [[4], [4], [4]]
        assert d.means.tolist() == [[1, 4], [2, 4], [1, 4]]

    def test_barycenter_is_mean_of_class_means(self, d):
        assert d.barycenter.tolist() == [[q(5, 2)], [3], [q(5, 2)]]
        overall = [sum(Fraction(r[k]) for r in self.X) / len(self.X) for k in range(3)]
        assert overall == [Fraction(7, 4), Fraction(5, 2), Fraction(7, 4)]
        assert as_fractions(d.barycenter) != [[v] for v in overall]

    def test_delta_squared(self, d):
        # distances² from the mean (1, 2, 1): (0,0,1) -> 5, (3,0,1) -> 8, (0,6,1) -> 17
        assert d.delta_squared == 17
        assert isinstance(d.delta_squared, flint.fmpq)
        assert d.delta == sympy.sqrt(17)

    def test_delta_rational(self):
        d = LabeledData.from_arrays(**SIMPLE)
        assert d.delta_squared == q(1, 4)
        assert d.delta == sympy.Rational(1, 2)

    def test_deviations(self, d):
        dev = d.deviations(0)
        assert dev.tolist() == [[-1, -2, 0], [2, -2, 0], [-1, 4, 0]]
        sums = [sum(r[k] for r in dev.tolist()) for k in range(3)]
        assert sums == [0, 0, 0]
        assert d.deviations(1).tolist() == [[0, 0, 0]]

    def test_Y_ext_one_hot(self, d):
        assert d.Y == flint.fmpq_mat([[1, 0], [0, 1]])
        assert d.Y_ext.tolist() == [[1, 1, 1, 0], [0, 0, 0, 1]]

    def test_integer_points(self):
        d = LabeledData.from_arrays([["1/2", "1/3", 0], [2, "3/4", 1]], ["a", "b"])
        A, s = d.integer_points
        assert isinstance(A, flint.fmpz_mat) and isinstance(s, int)
        assert (A.nrows(), A.ncols()) == (3, 2)
        assert flint.fmpq_mat(A) / s == d.X.transpose()
        assert s == 12  # the least common denominator
        assert A.tolist() == [[6, 24], [4, 9], [0, 12]]

    def test_custom_class_order(self):
        d = LabeledData.from_arrays(**SIMPLE, classes=["b", "a"])
        assert d.classes == ("b", "a")
        assert d.y == (1, 1, 0, 0)
        assert d.counts == (2, 2)
        assert d.mean(0).tolist() == [[0], [q(5, 2)]]
        assert d.mean(1).tolist() == [[q(5, 2)], [0]]
        assert d.Y_ext.tolist() == [[0, 0, 1, 1], [1, 1, 0, 0]]

    def test_custom_invertible_Y(self):
        Y = [[1, "1/2"], [-1, 2]]
        d = LabeledData.from_arrays(**SIMPLE, Y=Y)
        assert d.Y.tolist() == [[1, q(1, 2)], [-1, 2]]
        # column j of Y_ext is the column of Y of the point's class
        assert d.Y_ext.tolist() == [[1, 1, q(1, 2), q(1, 2)], [-1, -1, 2, 2]]

    def test_Y_from_numpy_and_sympy(self):
        d1 = LabeledData.from_arrays(**SIMPLE, Y=np.array([[2, 1], [1, 1]]))
        d2 = LabeledData.from_arrays(**SIMPLE, Y=sympy.Matrix([[2, 1], [1, 1]]))
        assert d1.Y == d2.Y == flint.fmpq_mat([[2, 1], [1, 1]])

    def test_summary_and_frozen(self, d):
        assert d.summary() == "4 points in R^3, 2 classes (a: 3, b: 1)"
        with pytest.raises(dataclasses.FrozenInstanceError):
            d.y = (0, 0, 0, 0)

    def test_equality_ignores_feature_names(self):
        d1 = LabeledData.from_arrays(**SIMPLE, feature_names=["u", "v"])
        d2 = LabeledData.from_arrays(**SIMPLE)
        assert d1 == d2

    def test_check_false_skips_validation(self):
        d = LabeledData.from_arrays([[1, 0], [2, 0]], ["a", "b"], check=False)
        assert d.Q == 2
        with raises_data_error("linearly dependent"):
            d.validate()


# ===================================================================== bad input
def _assert_data_error(excinfo):
    assert isinstance(excinfo.value, ValueError)
    assert isinstance(excinfo.value, SymtruncError)


class TestCsvErrors:
    @pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-inf", "Infinity", "-Infinity"])
    def test_non_finite_cells(self, tmp_path, cell):
        p = write(tmp_path, f"u,v,label\n1,0,a\n0,{cell},b\n")
        with raises_data_error("line 3, column 2: not a finite number") as e:
            LabeledData.from_csv(p)
        _assert_data_error(e)
        assert "NaN and infinity are not allowed" in str(e.value)

    @pytest.mark.parametrize("cell", ["nan", "inf", "", "1/0"])
    def test_bad_number_in_first_row_is_not_a_header(self, tmp_path, cell):
        # a headerless file whose first row has a bad number must not lose that row
        p = write(tmp_path, f"{cell},1,a\n1,0,b\n0,1,a\n")
        with raises_data_error("line 1, column 1") as e:
            load_data(p)
        _assert_data_error(e)

    def test_non_numeric_cell_reports_line_and_column(self, tmp_path):
        p = write(tmp_path, "u,v,label\n1,0,a\n0,abc,b\n")
        with raises_data_error("line 3, column 2: not a number: 'abc'") as e:
            LabeledData.from_csv(p)
        _assert_data_error(e)
        assert "d.csv" in str(e.value)

    def test_line_numbers_count_blank_lines(self, tmp_path):
        p = write(tmp_path, "u,v,label\n\n1,0,a\n\n\n0,x1,b\n")
        with raises_data_error("line 6, column 2"):
            LabeledData.from_csv(p)

    def test_empty_cell(self, tmp_path):
        p = write(tmp_path, "u,v,label\n1,0,a\n0,,b\n")
        with raises_data_error("line 3, column 2: not a number: ''"):
            LabeledData.from_csv(p)

    def test_ragged_rows(self, tmp_path):
        p = write(tmp_path, "u,v,label\n1,0,a\n0,1,b,extra\n")
        with raises_data_error("line 3: 4 columns, expected 3 (ragged rows)") as e:
            LabeledData.from_csv(p)
        _assert_data_error(e)

    def test_ragged_short_row(self, tmp_path):
        p = write(tmp_path, "1,0,a\n\n0,b\n")
        with raises_data_error("line 3: 2 columns, expected 3"):
            LabeledData.from_csv(p)

    def test_empty_file(self, tmp_path):
        with raises_data_error("has no data rows"):
            LabeledData.from_csv(write(tmp_path, "\n  \n"))

    def test_header_only(self, tmp_path):
        with raises_data_error("has a header but no data rows"):
            LabeledData.from_csv(write(tmp_path, "u,v,label\n"))

    def test_single_column(self, tmp_path):
        with raises_data_error("need at least one feature column and a label column"):
            LabeledData.from_csv(write(tmp_path, "1\n2\n"))

    def test_not_utf8(self, tmp_path):
        p = tmp_path / "bin.csv"
        p.write_bytes(b"\xff\xfe\x00\x81,1,a\n")
        with raises_data_error("is not a UTF-8 text CSV file"):
            LabeledData.from_csv(p)

    def test_missing_file(self, tmp_path):
        with raises_data_error("no such file") as e:
            load_data(tmp_path / "nope.csv")
        _assert_data_error(e)
        with raises_data_error("cannot read"):
            LabeledData.from_csv(tmp_path / "nope.csv")

    def test_directory(self, tmp_path):
        d = tmp_path / "dir.csv"
        d.mkdir()
        with raises_data_error("cannot read"):
            load_data(d)

    @pytest.mark.parametrize("name", ["d.json", "d.xlsx"])
    def test_unknown_suffix(self, tmp_path, name):
        p = write(tmp_path, "1,0,a\n0,1,b\n", name)
        with raises_data_error("unknown data format") as e:
            load_data(p)
        _assert_data_error(e)
        assert "use a .csv, .tsv, .npz or .npy file" in str(e.value)

    def test_npy_last_column_label(self, tmp_path):
        p = tmp_path / "d.npy"
        np.save(p, np.array([[0.5, 0, 1], [0, 2, 2]]))
        d = load_data(p)
        assert d.X[0, 0] == flint.fmpq(1, 2) and d.classes == (1, 2) and type(d.classes[0]) is int
        bad = write(tmp_path, "not npy", "e.npy")
        with raises_data_error("cannot read"):
            load_data(bad)
        np.save(tmp_path / "v.npy", np.arange(3))
        with raises_data_error("last column"):
            load_data(tmp_path / "v.npy")


class TestNpzErrors:
    def test_missing_arrays(self, tmp_path):
        p = tmp_path / "d.npz"
        np.savez(p, A=np.eye(2), y=np.array([0, 1]))
        with raises_data_error("must contain arrays 'X' and 'y' (found ['A', 'y'])") as e:
            load_data(p)
        _assert_data_error(e)

    def test_X_not_2d(self, tmp_path):
        p = tmp_path / "d.npz"
        np.savez(p, X=np.array([1.0, 2.0]), y=np.array([0, 1]))
        with raises_data_error("X must be 2-dimensional"):
            load_data(p)

    def test_y_not_1d(self, tmp_path):
        p = tmp_path / "d.npz"
        np.savez(p, X=np.eye(2), y=np.array([[0], [1]]))
        with raises_data_error("y must be 1-dimensional"):
            load_data(p)

    def test_nan_in_float_array(self, tmp_path):
        p = tmp_path / "d.npz"
        np.savez(p, X=np.array([[1.0, 0.0], [0.0, np.nan]]), y=np.array([0, 1]))
        with raises_data_error("point 1 has a NaN or infinite coordinate"):
            load_data(p)

    def test_object_array_refused(self, tmp_path):
        p = tmp_path / "d.npz"
        np.savez(p, X=np.array([[1, 0], [0, 1]], dtype=object), y=np.array([0, 1]))
        with raises_data_error("cannot read"):
            load_data(p)

    def test_not_an_npz_file(self, tmp_path):
        p = write(tmp_path, "1,0,a\n", "d.npz")
        with raises_data_error("as .npz"):
            load_data(p)

    def test_missing_file(self, tmp_path):
        with raises_data_error("cannot read"):
            LabeledData.from_npz(tmp_path / "nope.npz")


class TestArrayErrors:
    @pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
    def test_non_finite_numpy(self, bad):
        X = np.array([[1.0, 0.0], [0.0, 1.0], [bad, 2.0]])
        with raises_data_error("point 2 has a NaN or infinite coordinate") as e:
            LabeledData.from_arrays(X, ["a", "b", "a"])
        _assert_data_error(e)

    @pytest.mark.parametrize("bad", [float("nan"), float("inf"), "nan", "-inf"])
    def test_non_finite_list(self, bad):
        with raises_data_error("not a finite number"):
            LabeledData.from_arrays([[1, 0], [0, bad]], ["a", "b"])

    def test_ragged_list(self):
        with raises_data_error("row 1 has 1 entries, expected 2 (ragged rows)") as e:
            LabeledData.from_arrays([[1, 0], [1]], ["a", "b"])
        _assert_data_error(e)

    @pytest.mark.parametrize(
        "X, phrase",
        [
            ([[1, "x"], [0, 1]], "not a number: 'x'"),
            ([[1, None], [0, 1]], "not a number: None"),
            ([[True, 0], [0, 1]], "boolean"),
            ([[sympy.sqrt(2), 0], [0, 1]], "not a rational number"),
            ([[1, "1/0"], [0, 1]], "zero denominator"),
        ],
    )
    def test_bad_entries(self, X, phrase):
        with raises_data_error(phrase):
            LabeledData.from_arrays(X, ["a", "b"])

    def test_non_numeric_dtype(self):
        with raises_data_error("points must be numeric"):
            LabeledData.from_arrays(np.eye(2, dtype=complex), ["a", "b"])

    def test_not_two_dimensional(self):
        with raises_data_error("2-dimensional"):
            LabeledData.from_arrays(np.zeros((2, 2, 2)), ["a", "b"])
        with raises_data_error("2-dimensional"):
            LabeledData.from_arrays([1, 2], ["a", "b"])
        with raises_data_error("2-dimensional"):
            LabeledData.from_arrays(5, ["a"])

    def test_no_points_or_coordinates(self):
        with raises_data_error("no points given"):
            LabeledData.from_arrays([], [])
        with raises_data_error("no coordinates"):
            LabeledData.from_arrays([[], []], ["a", "b"])

    def test_labels_length_mismatch(self):
        with raises_data_error("3 points but 2 labels") as e:
            LabeledData.from_arrays([[1, 0], [0, 1], [1, 1]], ["a", "b"])
        _assert_data_error(e)

    def test_unhashable_labels(self):
        with raises_data_error("hashable labels"):
            LabeledData.from_arrays([[1, 0], [0, 1]], [["a"], ["b"]])

    def test_labels_required_for_arrays(self):
        with raises_data_error("labels y are required"):
            load_data([[1, 0], [0, 1]])


class TestAssumptionErrors:
    def test_fewer_than_two_classes(self):
        with raises_data_error("at least 2 classes are needed") as e:
            LabeledData.from_arrays([[1, 0], [0, 1]], ["a", "a"])
        _assert_data_error(e)

    def test_empty_class(self):
        with raises_data_error("class 'c' has no points (empty class)") as e:
            LabeledData.from_arrays([[1, 0, 0], [0, 1, 0]], ["a", "b"], classes=["a", "b", "c"])
        _assert_data_error(e)

    def test_label_not_in_classes(self):
        with raises_data_error("label 'b' is not in the list of classes"):
            LabeledData.from_arrays([[1, 0], [0, 1]], ["a", "b"], classes=["a"])

    def test_repeated_classes(self):
        with raises_data_error("repeated labels"):
            LabeledData.from_arrays([[1, 0], [0, 1]], ["a", "b"], classes=["a", "b", "a"])

    def test_same_point_two_labels(self):
        X = [[1, 0], [0, 1], ["1.0", "0/3"]]
        with raises_data_error("appears under two labels: 'a' and 'b'") as e:
            LabeledData.from_arrays(X, ["a", "b", "b"])
        _assert_data_error(e)
        assert "point 2" in str(e.value)

    def test_repeated_point_same_label_is_fine(self):
        d = LabeledData.from_arrays([[1, 0], [1, 0], [0, 1]], ["a", "a", "b"])
        assert d.counts == (2, 1)

    def test_more_classes_than_dimensions(self):
        with raises_data_error("the theorems need Q <= M") as e:
            LabeledData.from_arrays([[1], [2], [3]], ["a", "b", "c"])
        _assert_data_error(e)
        assert "3 classes in dimension 1" in str(e.value)

    def test_linearly_dependent_means(self):
        # means (1, 1), (2, 2): distinct but linearly dependent
        X = [[0, 2], [2, 0], [2, 2]]
        with raises_data_error("linearly dependent") as e:
            LabeledData.from_arrays(X, ["a", "a", "b"])
        _assert_data_error(e)
        assert "constant feature 1" in str(e.value)

    def test_singular_Y(self):
        with raises_data_error("label matrix Y is singular") as e:
            LabeledData.from_arrays(**SIMPLE, Y=[[1, 2], [2, 4]])
        _assert_data_error(e)

    def test_Y_wrong_shape(self):
        with raises_data_error("label matrix Y must be 2 x 2, got 3 x 3"):
            LabeledData.from_arrays(**SIMPLE, Y=np.eye(3))

    def test_Y_bad_entry(self):
        with raises_data_error("not a number"):
            LabeledData.from_arrays(**SIMPLE, Y=[[1, "x"], [0, 1]])


# ====================================================================== properties
small_ints = st.integers(min_value=-20, max_value=20)
small_rationals = st.fractions(min_value=-10, max_value=10, max_denominator=12)


@st.composite
def labeled_points(draw, elements=small_ints):
    M = draw(st.integers(min_value=1, max_value=4))
    N = draw(st.integers(min_value=2, max_value=10))
    Q = draw(st.integers(min_value=2, max_value=min(N, 4)))
    X = draw(st.lists(st.lists(elements, min_size=M, max_size=M), min_size=N, max_size=N))
    # every class gets at least one point
    y = list(range(Q)) + draw(st.lists(st.integers(0, Q - 1), min_size=N - Q, max_size=N - Q))
    y = draw(st.permutations(y))
    return X, y


@FAST
@given(labeled_points(elements=st.one_of(small_ints, small_rationals)))
def test_mean_times_count_is_column_sum(data):
    X, y = data
    d = LabeledData.from_arrays(X, y, check=False)
    for j in range(d.Q):
        members = [X[i] for i in range(len(X)) if y[i] == j]
        assert d.counts[j] == len(members)
        for k in range(d.M):
            total = sum((Fraction(r[k]) for r in members), Fraction(0))
            mean = d.means[k, j]
            assert Fraction(int(mean.p), int(mean.q)) * len(members) == total
        # the deviations of a class sum to zero exactly
        dev = d.deviations(j).tolist()
        assert all(sum(r[k] for r in dev) == 0 for k in range(d.M))
    bary = [sum(as_fractions(d.means)[k]) / d.Q for k in range(d.M)]
    assert as_fractions(d.barycenter) == [[b] for b in bary]


@pytest.mark.slow
@FAST
@given(labeled_points(elements=small_rationals))
def test_csv_of_fractions_round_trips(data):
    X, y = data
    text = "".join(",".join(f"{v.numerator}/{v.denominator}" for v in row) + f",class_{j}\n" for row, j in zip(X, y))
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "d.csv"
        p.write_text(text)
        d = load_data(p, check=False)
    assert d.feature_names is None
    assert as_fractions(d.X) == X
    assert [d.classes[j] for j in d.y] == [f"class_{j}" for j in y]


@FAST
@given(labeled_points(elements=small_ints))
def test_integer_points_scale_back(data):
    X, y = data
    d = LabeledData.from_arrays([[Fraction(v, 7) for v in r] for r in X], y, check=False)
    A, s = d.integer_points
    assert flint.fmpq_mat(A) / s == d.X.transpose()
    assert s in (1, 7)


@FAST
@given(
    st.lists(
        st.floats(allow_nan=False, allow_infinity=False, width=64),
        min_size=2,
        max_size=6,
    )
)
def test_floats_are_read_as_their_binary_value(values):
    X = np.array([values, [0.0] * len(values)])
    d = LabeledData.from_arrays(X, ["a", "b"], check=False)
    for k, v in enumerate(values):
        e = d.X[0, k]
        assert Fraction(int(e.p), int(e.q)) == Fraction(v)


@FAST
@given(st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-1000, max_value=1000))
def test_decimal_strings_are_read_exactly(value):
    s = str(value)
    d = LabeledData.from_arrays([[s, 0], [0, 1]], ["a", "b"], check=False)
    e = d.X[0, 0]
    assert Fraction(int(e.p), int(e.q)) == Fraction(value)
    assert not math.isnan(float(value))


@FAST
@given(
    st.lists(
        st.lists(st.integers(min_value=-(10**19), max_value=10**19), min_size=2, max_size=2),
        min_size=2,
        max_size=8,
    ),
    st.sampled_from(["{}", " {} ", "+{}", "0{}"]),
)
def test_csv_of_integers_reads_exact_values(rows, style):
    """Integer cells take a fast path (one NumPy conversion); the values are the exact integers
    however they are written, and integers beyond 18 digits (outside int64) fall back to the
    general reader: compared with Python's ``int`` of each cell."""
    cells = [[style.format(v) if v >= 0 or style == "{}" or style == " {} " else str(v) for v in r] for r in rows]
    text = "".join(",".join(r) + f",{i % 2}\n" for i, r in enumerate(cells))
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "d.csv"
        p.write_text(text)
        d = load_data(p, check=False)
    assert as_fractions(d.X) == [[Fraction(int(c)) for c in r] for r in cells]


def test_csv_bad_integer_cell_is_named():
    """A cell that is not a number still gets its line and column, though the other cells are
    plain integers (the fast path declines, the general reader names the cell)."""
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "d.csv"
        p.write_text("1,2,a\n3,4x,b\n")
        with pytest.raises(DataError, match=r"line 2, column 2"):
            load_data(p)
