"""Tests of :class:`symtrunc.classifier.TruncationClassifier` (scikit-learn conventions, exact answers)."""

from __future__ import annotations

import copy
import inspect
import pickle
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from exact_reference import assert_interpolates, fraction_forward
from synthetic import clustered_sls_arrays

import symtrunc
from symtrunc.classifier import DataConversionWarning, NotFittedError, TruncationClassifier
from symtrunc.errors import DataError, HypothesisError


def test_fit_predict_score_and_learned_attributes(worked_points, worked_labels, worked_data):
    X2, Y2 = worked_points, worked_labels
    clf = TruncationClassifier()
    assert clf.fit(X2, Y2) is clf
    assert clf.classes_.tolist() == [1, 2] and clf.order_ == [1, 2] and clf.n_features_in_ == 2
    assert_interpolates(clf.network_, worked_data)
    assert clf.score(X2, Y2) == 1.0
    assert clf.predict(X2).tolist() == Y2
    # the network is the library's construction, and predictions are the exact argmax of its outputs
    assert clf.network_.layers == symtrunc.construct(worked_data).layers
    new = [["0.1", "2.5"], [4, "0.25"]]
    out = fraction_forward(clf.network_, new)
    expected = [1 if o[0] >= o[1] else 2 for o in out]
    assert clf.predict(new).tolist() == expected
    d = clf.decision_function(new)
    assert d.shape == (2,) and [(2 if v > 0 else 1) for v in d] == expected
    # decimal strings are read exactly, as everywhere in symtrunc
    strings = TruncationClassifier().fit([["0.1", "0"], ["0", "0.1"], ["0.2", "0"], ["0", "0.2"]], [0, 1, 0, 1])
    assert (
        strings.network_.construction["steps"][0]["base_point"]
        == symtrunc.construct(
            symtrunc.LabeledData.from_arrays([["1/10", 0], [0, "1/10"], ["1/5", 0], [0, "1/5"]], [0, 1, 0, 1])
        ).construction["steps"][0]["base_point"]
    )


def test_three_classes_wine_and_clustered():
    wine = symtrunc.load_wine()
    X = np.array([[float(v) for v in r] for r in wine.X.tolist()])
    y = np.array([wine.classes[j] for j in wine.y])
    clf = TruncationClassifier(cone="paper").fit(X, y)
    assert clf.score(X, y) == 1.0 and clf.decision_function(X[:5]).shape == (5, 3)
    Xc = [[10, 0], [11, 0], [0, 10], [0, 11]]
    clu = TruncationClassifier(method="clustered", options={"mu": None}).fit(Xc, [0, 0, 1, 1])
    assert clu.network_.construction["method"] == "clustered" and clu.score(Xc, [0, 0, 1, 1]) == 1.0


def test_parameters_follow_sklearn_conventions(worked_points, worked_labels):
    clf = TruncationClassifier(method="clustered", order=[2, 1])
    assert clf.get_params() == {"method": "clustered", "cone": "rational", "order": [2, 1], "options": None}
    assert clf.set_params(method="sls", cone="paper") is clf and clf.cone == "paper"
    assert repr(clf) == "TruncationClassifier(cone='paper', order=[2, 1])"
    clf.fit(worked_points, worked_labels)
    assert clf.order_ == [2, 1]
    with pytest.raises(DataError, match="invalid parameter 'depth'"):
        clf.set_params(depth=3)


def test_errors(worked_points, worked_labels):
    X2, Y2 = worked_points, worked_labels
    with pytest.raises(NotFittedError, match="not fitted"):
        TruncationClassifier().predict(X2)
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    # not SLS (class b sits between the points of class a): the error carries the exact certificate
    with pytest.raises(HypothesisError) as e:
        TruncationClassifier().fit([[0, 1], [2, 1], [1, 1], [1, 2]], ["a", "a", "b", "b"])
    assert e.value.certificate is not None
    clf = TruncationClassifier().fit(X2, Y2)
    with pytest.raises(DataError, match="X has 3 features"):
        clf.predict([[1, 2, 3]])
    for X, y, msg in [
        ([1, 2], [0, 1], "2-dimensional"),
        ([[np.nan, 1], [1, 0]], [0, 1], "NaN"),
        (X2, Y2[:3], "8 samples but y has 3"),
        (X2, None, "target y is None"),
        (np.array([[1 + 1j, 0], [0, 1]]), [0, 1], "Complex"),
        (X2, [0.5] * 8, "continuous"),
        ([[1], [2]], [0, 1], "n_features = 1"),
    ]:
        with pytest.raises(DataError, match=msg):
            TruncationClassifier().fit(X, y)
    with pytest.raises(DataError, match="unknown method 'magic'"):
        TruncationClassifier(method="magic").fit(X2, Y2)
    with pytest.raises(DataError, match="unknown option.s. bogus for method 'sls'"):
        TruncationClassifier(options={"bogus": 1}).fit(X2, Y2)
    with pytest.raises(DataError, match="unknown option.s. order for method 'clustered'"):
        TruncationClassifier(method="clustered", order=[1, 2]).fit(X2, Y2)
    with pytest.raises(HypothesisError, match="unknown cone"):
        TruncationClassifier(cone="papr").fit(X2, Y2)


# ----------------------------------------------------------------- scikit-learn's own checks
# scikit-learn's common checks fit on their own seeded data. Where those data violate the
# hypotheses of the constructions, the classifier must refuse them, and the check cannot get past
# `fit`. Such a check is reported as xfail only after the test has seen it fail with exactly the
# refusal named below (a pass, or any other failure, fails the test). What these checks test after
# `fit` is tested on data the theorem accepts in the "conventions" tests further down. Every other
# check (parameters, cloning, repr, tags, unfitted errors, ...) must pass.
_NOT_SLS = (
    "sequentially linearly separable|no SLS order",
    "the check's seeded random training data are not sequentially linearly separable, so Theorem 5.2 "
    "does not apply and fit raises HypothesisError",
)
_Q_GT_M = (
    "3 classes but n_features = 2",
    "3 classes in R^2: the constructions need at most as many classes as features (Q <= M)",
)
REFUSED = {
    name: _NOT_SLS
    for name in (
        "check_fit_score_takes_y",
        "check_dont_overwrite_parameters",
        "check_n_features_in_after_fitting",
        "check_estimators_dtypes",
        "check_dtype_object",
        "check_estimators_nan_inf",
        "check_f_contiguous_array_estimator",
        "check_classifiers_train",
        "check_supervised_y_2d",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_dict_unchanged",
        "check_fit_idempotent",
        "check_fit_check_is_fitted",
        "check_n_features_in",
        "check_fit2d_predict1d",
    )
}
REFUSED.update(
    {
        name: _Q_GT_M
        for name in (
            "check_estimators_overwrite_params",
            "check_estimators_fit_returns_self",
            "check_readonly_memmap_input",
            "check_classifiers_classes",
        )
    }
)
REFUSED["check_positive_only_tag_during_fit"] = (
    "sequentially linearly separable|no SLS order",
    "the iris data: versicolor and virginica are not linearly separable, so Theorem 5.2 does not apply",
)
REFUSED["check_classifier_data_not_an_array"] = (
    "class means are linearly dependent",
    "its two class means (1, 1) and (13/6, 13/6) are linearly dependent, against the standing assumption",
)


def _refusal(e: BaseException | None) -> BaseException | None:
    """The classifier's refusal behind a failed check (checks may wrap it in an AssertionError)."""
    while e is not None and not isinstance(e, (HypothesisError, DataError)):
        e = e.__cause__ or e.__context__
    return e


try:
    import sklearn  # noqa: F401
    from sklearn.utils.estimator_checks import parametrize_with_checks
except ImportError:  # scikit-learn is optional (test extra)
    parametrize_with_checks = None

if parametrize_with_checks is not None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "does not inherit from BaseEstimator": on purpose
        _checks = parametrize_with_checks([TruncationClassifier()])

    @_checks
    @pytest.mark.filterwarnings("ignore::UserWarning")
    @pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
    def test_sklearn_estimator_checks(estimator, check):
        name = getattr(check, "func", check).__name__
        if name not in REFUSED:
            check(estimator)
            return
        pattern, reason = REFUSED[name]
        with pytest.raises(Exception) as e:
            check(estimator)
        refusal = _refusal(e.value)
        assert refusal is not None and re.search(pattern, str(refusal)), f"{name} failed otherwise: {e.value!r}"
        pytest.xfail(f"refused by the theorem: {reason}")

    def test_sklearn_clone_and_cross_validation(worked_points, worked_labels):
        from sklearn.base import clone
        from sklearn.model_selection import cross_val_score

        clf = TruncationClassifier(cone="paper")
        twin = clone(clf)
        assert twin is not clf and twin.get_params() == clf.get_params()
        X = np.array(worked_points * 2) + np.repeat([[0, 0], [5, 5]], 8, axis=0)
        y = np.array(worked_labels * 2)
        scores = cross_val_score(TruncationClassifier(), X, y, cv=2)
        assert scores.shape == (2,) and all(0 <= s <= 1 for s in scores)

    def test_sklearn_exceptions_catch_the_classifiers():
        from sklearn.exceptions import DataConversionWarning as SkDataConversionWarning
        from sklearn.exceptions import NotFittedError as SkNotFittedError
        from sklearn.utils.validation import check_is_fitted

        with pytest.raises(SkNotFittedError) as e:
            TruncationClassifier().decision_function([[1, 2]])
        assert isinstance(e.value, NotFittedError)
        back = pickle.loads(pickle.dumps(e.value))  # e.g. from a joblib worker
        assert isinstance(back, SkNotFittedError) and isinstance(back, NotFittedError) and back.args == e.value.args
        X, y = clustered_sls_arrays(12, 3, 3)
        clf = TruncationClassifier()
        with pytest.raises(SkNotFittedError):
            check_is_fitted(clf)
        check_is_fitted(clf.fit(X, y))
        with pytest.warns(SkDataConversionWarning, match="A column-vector y was passed"):
            TruncationClassifier().fit(X, y[:, None])


def test_without_sklearn_the_classifier_has_its_own_exceptions():
    # scikit-learn is imported only when an error or warning happens (importing it takes seconds);
    # without it, the classifier's NotFittedError and DataConversionWarning stand alone.
    code = """
import sys, warnings
import numpy as np
from symtrunc.classifier import DataConversionWarning, NotFittedError, TruncationClassifier
clf = TruncationClassifier().fit([[2, 0], [0, 2], [3, 0], [0, 3]], ["a", "b", "a", "b"])
assert clf.predict([[5, 1]]).tolist() == ["a"]
assert "sklearn" not in sys.modules and "pandas" not in sys.modules, "imported an optional package"
sys.modules["sklearn"] = None   # as if scikit-learn were not installed
try:
    TruncationClassifier().predict([[1, 2]])
except NotFittedError as e:
    assert type(e) is NotFittedError and isinstance(e, ValueError) and isinstance(e, AttributeError)
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    TruncationClassifier().fit([[2, 0], [0, 2]], np.array([["a"], ["b"]]))
assert [type(x.message) for x in w] == [DataConversionWarning], w
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# ------------------------------------------- the conventions of the refused checks, on accepted data
# 30 integer points of R^4 in 3 classes, each class strictly separated from the others (SLS).
def _accepted() -> tuple[np.ndarray, np.ndarray]:
    return clustered_sls_arrays(30, 4, 3, seed=0)


@pytest.fixture(scope="module")
def fitted() -> TruncationClassifier:
    X, y = _accepted()
    return TruncationClassifier().fit(X, y)


def test_convention_fit_keeps_parameters_and_adds_only_fitted_attributes():
    # check_estimators_overwrite_params, check_dont_overwrite_parameters, check_estimators_fit_returns_self,
    # check_dict_unchanged, check_fit_score_takes_y
    X, y = _accepted()
    order = [2, 0, 1]
    clf = TruncationClassifier(cone="paper", order=order, options={"t": None})
    before = copy.deepcopy(clf.get_params())
    attributes = set(vars(clf))
    assert clf.fit(X, y) is clf
    assert clf.get_params() == before and clf.order is order
    added = set(vars(clf)) - attributes
    assert added and all(a.endswith("_") for a in added if not a.startswith("_"))
    state = dict(vars(clf))
    clf.predict(X), clf.decision_function(X), clf.score(X, y)
    assert vars(clf).keys() == state.keys() and all(vars(clf)[k] is v for k, v in state.items())
    for method in (clf.fit, clf.score):
        assert list(inspect.signature(method).parameters)[:2] == ["X", "y"]


@pytest.mark.parametrize(
    "convert",
    [
        lambda X: X.astype(np.float32),
        lambda X: X.astype(np.float64),
        lambda X: X.astype(np.int32),
        lambda X: X.astype(object),
        lambda X: X.tolist(),
        lambda X: [[str(v) for v in r] for r in X.tolist()],
        np.asfortranarray,
        lambda X: _read_only(X),
    ],
    ids=["float32", "float64", "int32", "object", "list", "decimal strings", "fortran", "read-only"],
)
def test_convention_input_types_give_the_same_network(convert, fitted):
    # check_estimators_dtypes, check_dtype_object, check_f_contiguous_array_estimator,
    # check_readonly_memmap_input, check_classifier_data_not_an_array: the points are integers, so every
    # representation holds the same exact values and must give the same network and predictions
    X, y = _accepted()
    clf = TruncationClassifier().fit(convert(X), y)
    assert clf.network_ == fitted.network_
    assert clf.predict(convert(X)).tolist() == fitted.predict(X).tolist() == y.tolist()


def _read_only(X: np.ndarray) -> np.ndarray:
    X = X.copy()
    X.setflags(write=False)
    return X


def test_convention_memmap_and_negative_values(tmp_path, fitted):
    # check_readonly_memmap_input, check_positive_only_tag_during_fit (negative values are accepted)
    X, y = _accepted()
    mm = np.memmap(tmp_path / "X.dat", dtype=np.int64, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    ro = np.memmap(tmp_path / "X.dat", dtype=np.int64, mode="r", shape=X.shape)
    assert TruncationClassifier().fit(ro, y).network_ == fitted.network_
    shifted = TruncationClassifier().fit(X - 100, y)
    assert shifted.score(X - 100, y) == 1.0


def test_convention_predictions(fitted):
    # check_classifiers_train, check_classifiers_classes, check_methods_sample_order_invariance,
    # check_methods_subset_invariance, check_fit_idempotent, check_n_features_in
    X, y = _accepted()
    pred, dec = fitted.predict(X), fitted.decision_function(X)
    assert pred.shape == (30,) and dec.shape == (30, 3) and fitted.n_features_in_ == 4
    assert fitted.classes_.tolist() == [0, 1, 2] and (pred == y).all()
    assert (fitted.classes_[np.argmax(dec, axis=1)] == pred).all()
    perm = np.random.default_rng(1).permutation(30)
    assert (fitted.predict(X[perm]) == pred[perm]).all() and np.array_equal(
        fitted.decision_function(X[perm]), dec[perm]
    )
    for part in np.array_split(np.arange(30), 4):
        assert (fitted.predict(X[part]) == pred[part]).all()
        assert np.array_equal(fitted.decision_function(X[part]), dec[part])
    again = TruncationClassifier().fit(X, y).fit(X, y)
    assert again.network_ == fitted.network_ and np.array_equal(again.decision_function(X), dec)
    # labels of any type come back as given; two classes give one decision value per point
    names = np.array(["setosa", "versicolor", "virginica"])
    named = TruncationClassifier().fit(X, names[y])
    assert named.classes_.tolist() == names.tolist() and named.predict(X).tolist() == names[y].tolist()
    two = y < 2
    binary = TruncationClassifier().fit(X[two], names[y[two]])
    d = binary.decision_function(X[two])
    assert d.shape == (20,) and (binary.classes_[(d > 0).astype(int)] == binary.predict(X[two])).all()


def test_convention_errors_after_fit(fitted):
    # check_n_features_in_after_fitting, check_fit2d_predict1d, check_estimators_nan_inf
    X, y = _accepted()
    for method in (fitted.predict, fitted.decision_function):
        with pytest.raises(ValueError, match="X has 3 features, but TruncationClassifier is expecting 4 features"):
            method(X[:, :3])
        with pytest.raises(ValueError, match="2-dimensional"):
            method(X[0])
        for bad in (np.nan, np.inf):
            Xb = X.astype(float)
            Xb[3, 1] = bad
            with pytest.raises(ValueError, match="NaN or infinity"):
                method(Xb)
    Xb = X.astype(float)
    Xb[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        TruncationClassifier().fit(Xb, y)


def test_convention_column_vector_y_warns(fitted):
    # check_supervised_y_2d: the warning and message of scikit-learn's column_or_1d(warn=True)
    X, y = _accepted()
    with pytest.warns(
        DataConversionWarning,
        match=re.escape(
            "A column-vector y was passed when a 1d array was expected. Please change the shape of y to "
            "(n_samples, ), for example using ravel()."
        ),
    ):
        clf = TruncationClassifier().fit(X, y[:, None])
    assert clf.network_ == fitted.network_
    with pytest.raises(DataError, match="1-dimensional"):
        TruncationClassifier().fit(X, np.stack([y, y], axis=1))


def test_feature_names_from_dataframes(fitted):
    # check_dataframe_column_names_consistency (scikit-learn's rules, on accepted data)
    pd = pytest.importorskip("pandas")
    X, y = _accepted()
    names = ["alpha", "beta", "gamma", "delta"]
    frame = pd.DataFrame(X, columns=names)
    clf = TruncationClassifier().fit(frame, pd.Series(y))
    assert clf.feature_names_in_.dtype == object and clf.feature_names_in_.tolist() == names
    assert clf.network_ == fitted.network_ and clf.n_features_in_ == 4
    assert clf.predict(frame).tolist() == y.tolist()
    with pytest.warns(
        UserWarning, match="X does not have valid feature names, but TruncationClassifier was fitted with feature names"
    ):
        clf.predict(X)
    for columns, msg in [
        (names[::-1], ".*same order as they were in fit"),
        (["alpha", "beta", "gamma", "epsilon"], "unseen at fit time: epsilon; .*missing: delta"),
    ]:
        with pytest.raises(
            ValueError, match="The feature names should match those that were passed during fit: " + msg
        ):
            clf.predict(pd.DataFrame(X, columns=columns))
    # a refit without names forgets them; integer column names are no feature names
    assert not hasattr(clf.fit(X, y), "feature_names_in_")
    assert not hasattr(TruncationClassifier().fit(pd.DataFrame(X), y), "feature_names_in_")
    with pytest.warns(UserWarning, match="X has feature names, but TruncationClassifier was fitted without"):
        clf.predict(frame)
